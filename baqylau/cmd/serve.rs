//! `baqylau serve`: the analyst web UI and JSON API.
//!
//! Embedded, the desk (cases, users, audit, notifications) lives in `DATA/cases.sqlite`. In a
//! distributed deployment `--db postgres://…` (and `--db-schema`, as given to the workers) puts
//! the whole desk on the workers' PostgreSQL instead; several `serve` processes may share it (the
//! outbox relays claim messages with a lease). Evidence files are still read from `DATA/blobs/`:
//! the UI host must see the blobs directory the crawler and screenshot workers write under their
//! own `--data` (a shared mount), and the search page needs `DATA/index/` of an indexer.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use reporter::Desk;

use crate::data_dir::DataDir;

/// Where the desk's tables are: PostgreSQL with `--db`, else `DATA/cases.sqlite`. Shared by
/// `serve`, `user`, `token` and `audit`, so an admin manages the same desk the UI serves.
#[derive(Debug, Clone, clap::Args)]
pub struct DeskDb {
    /// PostgreSQL URL of a distributed deployment, e.g. `postgres://postgres@127.0.0.1:5432/test`:
    /// cases, users, audit and notifications live there instead of DATA/cases.sqlite.
    #[arg(long, env = "BAQYLAU_DB")]
    pub db: Option<String>,
    /// PostgreSQL schema holding the tables (created when missing; use the workers' value);
    /// default: the server's `search_path`.
    #[arg(long, env = "BAQYLAU_DB_SCHEMA", requires = "db")]
    pub db_schema: Option<String>,
}

impl DeskDb {
    /// Opens the desk: the PostgreSQL store (migrated, at most `max_connections` pooled) with
    /// `--db`, else the SQLite store of the data directory `data` (created when `create_data`,
    /// else it must exist). Call inside the runtime.
    pub async fn open(
        &self,
        data: &Path,
        create_data: bool,
        max_connections: u32,
    ) -> anyhow::Result<Arc<dyn Desk>> {
        match &self.db {
            Some(url) => {
                let opts = reporter::store::postgres::PgOptions {
                    schema: self.db_schema.clone(),
                    max_connections,
                    ..reporter::store::postgres::PgOptions::new(url.clone())
                };
                let store = reporter::PgCaseStore::connect_with(&opts)
                    .await
                    .with_context(|| format!("case store on PostgreSQL {}", redact(url)))?;
                Ok(Arc::new(store))
            }
            None => {
                let data = if create_data {
                    DataDir::create(data)?
                } else {
                    DataDir::existing(data)?
                };
                Ok(Arc::new(reporter::SqliteCaseStore::open(&data.cases_db())?))
            }
        }
    }
}

/// `url` without its password, for messages and logs.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Arguments of `baqylau serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory: the desk's SQLite file (without `--db`), the blobs directory evidence is
    /// served from (with `--db`: the workers' blobs, e.g. a shared mount), the search index.
    #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
    pub data: PathBuf,
    #[command(flatten)]
    pub desk: DeskDb,
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
async fn recheck_loop(store: Arc<dyn Desk>, hours: i64) {
    let every = chrono::Duration::hours(hours);
    loop {
        if let Err(e) = super::notify::recheck_pass(store.as_ref(), every, &[]).await {
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
    let sink = super::notify::sink(data.root(), args.amqp.as_deref(), printer).await?;
    tracing::info!(sink = %sink.describe(), "notification outbox relay started");
    let relay = reporter::outbox::Relay::new(
        Arc::clone(&state.desk) as Arc<dyn reporter::outbox::OutboxStore>,
        sink,
        Arc::clone(&state.outbox_wake),
    );
    tokio::spawn(relay.run(std::time::Duration::from_secs(2)));
    Ok(())
}

/// Runs `baqylau serve`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let distributed = args.desk.db.is_some();
    let had_blobs = args.data.join("blobs").is_dir();
    // Embedded, the data directory holds the desk and must exist; distributed, it only holds
    // what the UI reads beside the database (blobs, index) and the outbox directory.
    let data = if distributed {
        DataDir::create(&args.data)?
    } else {
        DataDir::existing(&args.data)?
    };
    if distributed && !had_blobs {
        tracing::warn!(
            blobs = %data.blobs_dir().display(),
            "the blobs directory did not exist: screenshots and WARC records the workers write              under their --data are not visible here unless this is that directory (shared mount)"
        );
    }
    let rules = crate::embedded::load_rules(args.rules.as_deref())?;
    let settings = reporter::web::Settings {
        secure_cookies: args.secure_cookies,
        session_hours: args.session_hours,
        overdue_hours: args.overdue_hours,
    };
    super::runtime()?.block_on(async move {
        let desk = args.desk.open(&args.data, false, 8).await?;
        if distributed {
            tracing::info!(schema = ?args.desk.db_schema, "desk on PostgreSQL");
        }
        let mut state = reporter::web::AppState::new(
            desk,
            data.blobs_dir(),
            Arc::new(rules.taxonomy().cloned().unwrap_or_default()),
            super::rule_catalog(&rules),
        );
        state.search = super::search::IndexSearch::open(&data, state.store.clone())
            .map(|s| Arc::new(s) as Arc<dyn model::SearchBackend>);
        state.settings = settings;
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
