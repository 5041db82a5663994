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
    #[command(flatten)]
    pub outbox: OutboxArgs,
    /// Re-check sent URLs this many hours after sending and after each re-check (0: off).
    #[arg(long, default_value_t = 24)]
    pub recheck_hours: i64,
}

/// Re-checks due sent cases every ten minutes, forever.
async fn recheck_loop(store: Arc<reporter::SqliteCaseStore>, hours: i64) {
    let every = chrono::Duration::hours(hours);
    loop {
        if let Err(e) = super::notify::recheck_pass(&store, every, &[]).await {
            tracing::error!(error = %e, "re-check pass failed");
        }
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    }
}

/// Where approved notifications go and how Form 2 PDFs are printed.
#[derive(Debug, Clone, clap::Args)]
pub struct OutboxArgs {
    /// RabbitMQ URL for approved notifications (exchange `baqylau.notifications`); without it
    /// they are written to DATA/outbox/ as JSON + PDF.
    #[arg(long, env = "BAQYLAU_AMQP")]
    pub amqp: Option<String>,
    /// Chromium binary printing Form 2 PDFs.
    #[arg(long = "pdf-chromium", default_value = "/usr/bin/chromium")]
    pub pdf_chromium: PathBuf,
    /// Do not print PDFs (no Chromium needed; PDF links answer 503).
    #[arg(long)]
    pub no_pdf: bool,
}

/// Gives `state` its PDF printer and starts the outbox relay (RabbitMQ or the outbox
/// directory) in the background; a pass runs at once, re-sending what a crash left pending.
pub async fn start_outbox(
    state: &mut reporter::web::AppState,
    data: &DataDir,
    args: &OutboxArgs,
) -> anyhow::Result<()> {
    let printer: Option<Arc<dyn reporter::outbox::PdfPrinter>> = (!args.no_pdf).then(|| {
        Arc::new(super::notify::ChromePdfPrinter::new(&args.pdf_chromium))
            as Arc<dyn reporter::outbox::PdfPrinter>
    });
    state.pdf = printer.clone();
    let sink = super::notify::sink(data, args.amqp.as_deref(), printer).await?;
    tracing::info!(sink = %sink.describe(), "notification outbox relay started");
    let relay = reporter::outbox::Relay::new(
        Arc::clone(&state.desk),
        sink,
        Arc::clone(&state.outbox_wake),
    );
    tokio::spawn(relay.run(std::time::Duration::from_secs(2)));
    Ok(())
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
    state.search = super::search::IndexSearch::open(&data, state.store.clone())
        .map(|s| Arc::new(s) as Arc<dyn model::SearchBackend>);
    state.settings = reporter::web::Settings {
        secure_cookies: args.secure_cookies,
        session_hours: args.session_hours,
        overdue_hours: args.overdue_hours,
    };
    super::runtime()?.block_on(async move {
        start_outbox(&mut state, &data, &args.outbox).await?;
        if args.recheck_hours > 0 {
            tokio::spawn(recheck_loop(Arc::clone(&state.desk), args.recheck_hours));
        }
        let listener = tokio::net::TcpListener::bind((args.bind, args.port)).await?;
        println!("analyst UI: http://{}/", listener.local_addr()?);
        reporter::web::serve(listener, state).await?;
        Ok(ExitCode::SUCCESS)
    })
}
