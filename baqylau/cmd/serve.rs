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
    /// Mark session cookies `Secure` (set when the UI is reached over TLS).
    #[arg(long, env = "BAQYLAU_SECURE_COOKIES")]
    pub secure_cookies: bool,
    /// Session lifetime in hours.
    #[arg(long, default_value_t = 8)]
    pub session_hours: i64,
    /// Open cases older than this many hours (since detection) are flagged overdue.
    #[arg(long, default_value_t = 24)]
    pub overdue_hours: i64,
}

/// Runs `baqylau serve`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let data = DataDir::existing(&args.data)?;
    let rules = crate::embedded::load_rules(args.rules.as_deref())?;
    let mut state = reporter::web::AppState::new(
        Arc::new(reporter::SqliteCaseStore::open(&data.cases_db())?),
        data.blobs_dir(),
        Arc::new(rules.taxonomy().cloned().unwrap_or_default()),
        super::rule_catalog(&rules),
    );
    state.settings = reporter::web::Settings {
        secure_cookies: args.secure_cookies,
        session_hours: args.session_hours,
        overdue_hours: args.overdue_hours,
    };
    super::runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind((args.bind, args.port)).await?;
        println!("analyst UI: http://{}/", listener.local_addr()?);
        reporter::web::serve(listener, state).await?;
        Ok(ExitCode::SUCCESS)
    })
}
