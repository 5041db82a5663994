//! `baqylau audit verify --data DIR` (or `--db postgres://…` for a distributed desk): walks the
//! hash-chained audit log and reports the first entry that was edited, deleted or reordered.
//! Exit 0 intact, 1 tampered.

use std::path::PathBuf;
use std::process::ExitCode;

use super::serve::DeskDb;

/// `baqylau audit …`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Verify the audit chain (exit 0 intact, 1 broken).
    Verify(VerifyArgs),
}

/// Arguments of `baqylau audit verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Data directory (its cases.sqlite holds the chain unless `--db` is given).
    #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
    pub data: PathBuf,
    #[command(flatten)]
    pub desk: DeskDb,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `baqylau audit …`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Verify(a) = cmd;
    let report = super::runtime()?.block_on(async {
        let store = a.desk.open(&a.data, false, 2).await?;
        anyhow::Ok(store.verify_audit().await?)
    })?;
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        match &report.broken {
            None => println!(
                "audit chain intact: {} entries, head {}",
                report.entries, report.head
            ),
            Some((seq, why)) => println!(
                "audit chain BROKEN at entry {seq}: {why} ({} entries verified before it)",
                report.entries
            ),
        }
    }
    Ok(if report.broken.is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
