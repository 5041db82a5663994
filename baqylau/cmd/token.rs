//! `baqylau token create --user NAME`: an API token for scripts and the downstream pipeline
//! (`Authorization: Bearer TOKEN`). Printed once; only its SHA-256 is stored. `--db` creates it
//! in a distributed deployment's PostgreSQL desk.

use std::path::PathBuf;
use std::process::ExitCode;

use super::serve::DeskDb;

/// `baqylau token …`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create an API token for a user; prints it on stdout.
    Create(CreateArgs),
}

/// Arguments of `baqylau token create`.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The user the token acts as (its role decides what the token may do).
    #[arg(long)]
    pub user: String,
    /// Data directory (its cases.sqlite holds the users unless `--db` is given).
    #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
    pub data: PathBuf,
    #[command(flatten)]
    pub desk: DeskDb,
}

/// Runs `baqylau token …`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Create(a) = cmd;
    let token = super::runtime()?.block_on(async {
        let store = a.desk.open(&a.data, false, 2).await?;
        let t = store.create_token(&a.user).await?;
        store
            .audit("cli", "token.create", &format!("user:{}", a.user), "")
            .await?;
        anyhow::Ok(t)
    })?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
