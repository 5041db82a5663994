//! `baqylau serve`: the analyst web UI and JSON API over a data directory.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::data_dir::DataDir;

/// Arguments of `baqylau serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
    pub data: PathBuf,
    /// Port to listen on.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Address to bind (loopback by default: put a TLS proxy in front for other machines).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Rules directory used for explanations (default: the bundled rule set).
    #[arg(long)]
    pub rules: Option<PathBuf>,
}

/// Runs `baqylau serve`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let data = DataDir::existing(&args.data)?;
    let rules = crate::embedded::load_rules(args.rules.as_deref())?;
    let state = reporter::web::AppState {
        store: Arc::new(reporter::SqliteCaseStore::open(&data.cases_db())?),
        blobs_dir: data.blobs_dir(),
        taxonomy: Arc::new(rules.taxonomy().cloned().unwrap_or_default()),
        rules: super::rule_catalog(&rules),
    };
    super::runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.bind, args.port)).await?;
        println!("analyst UI: http://{}/", listener.local_addr()?);
        reporter::web::serve(listener, state).await?;
        Ok(ExitCode::SUCCESS)
    })
}
