//! `baqylau worker --role ROLE`: one stage of the distributed deployment, over RabbitMQ and
//! PostgreSQL.
//!
//! Each role runs the same stage function as the embedded pipeline (`pipeline.rs`,
//! `reporter::Reporter`, `indexer::Indexer::run`), fed by [`work_queue::WorkQueue`]s instead of
//! in-process channels; the queues are described in [`topology`]. A role:
//!
//! - declares every queue it consumes or publishes to, so start order does not matter;
//! - acknowledges a message only after its effects are durable (index committed, case row
//!   committed, `Flagged`/`ScreenshotRequest` confirmed by the broker), and is idempotent, so a
//!   redelivery after a crash changes nothing (content-derived capture ids, case dedup keys);
//! - survives broker and database outages: the queues reconnect with backoff and a failed stage
//!   is restarted ([`supervise`]); the message it held goes back to the broker, which parks it
//!   in `<queue>.dead` after the delivery limit;
//! - stops cleanly on SIGTERM/ctrl-c: no new messages are taken, messages in flight are finished
//!   and acknowledged, unfinished ones go back to the broker (a second signal exits at once);
//! - serves Prometheus metrics on `--metrics ADDR` (`GET /metrics`).
//!
//! When it is ready (queues declared, stores open) it prints one line on stdout:
//! `ready role=ROLE metrics=http://ADDR/metrics` (`metrics=-` without `--metrics`).

mod classify;
mod crawl;
mod index;
mod report;
mod shoot;
mod supervise;
pub mod topology;
mod work_queue;

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use crate::metrics::{Collector, Exposition, Registry};
use topology::{Cluster, Stage};
use work_queue::WorkQueue;

/// Which stage this worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Seeds in, captures out: fetches the hosts it leases from the shared frontier.
    Crawler,
    /// Captures in: the tantivy index under `--data`.
    Indexer,
    /// Captures in, flagged captures out.
    Classifier,
    /// Flagged captures in: cases in PostgreSQL, screenshot requests out; publishes approved
    /// notifications from the outbox to RabbitMQ.
    Reporter,
    /// Screenshot requests in: PNGs under `--data`, attached to their case in PostgreSQL.
    Screenshot,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::Crawler => "crawler",
            Role::Indexer => "indexer",
            Role::Classifier => "classifier",
            Role::Reporter => "reporter",
            Role::Screenshot => "screenshot",
        }
    }
}

/// Arguments of `baqylau worker`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stage to run.
    #[arg(long, value_enum)]
    pub role: Role,
    #[command(flatten)]
    pub cluster: Cluster,
    /// Local directory: the tantivy index (indexer), WARC files (crawler), screenshots
    /// (screenshot). Share `blobs/` with the UI server (same path or a shared mount).
    #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
    pub data: PathBuf,
    /// Serve Prometheus metrics at http://ADDR/metrics (`127.0.0.1:0` picks a free port).
    #[arg(long, env = "BAQYLAU_METRICS", value_name = "ADDR")]
    pub metrics: Option<SocketAddr>,
    /// Unacknowledged messages this worker may hold (default: per role).
    #[arg(long)]
    pub prefetch: Option<u16>,
    /// Rules directory (classifier; default: the bundled rule set).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Chromium binary (screenshot; crawler when rendering).
    #[arg(long, default_value = "/usr/bin/chromium")]
    pub chromium: PathBuf,
    /// Connect HOST to IP:PORT, keeping the host name (crawler fetches, screenshot browser);
    /// repeatable.
    #[arg(long, value_name = "HOST=IP:PORT")]
    pub resolve: Vec<crawler::ResolveRule>,
    /// How long the reporter's outbox relay holds the notifications it claimed: after a
    /// reporter dies mid-relay, the next relay publishes them once this has passed. Must outlast
    /// publishing one claimed batch (a broker confirm each).
    #[arg(long, env = "BAQYLAU_OUTBOX_LEASE", value_parser = crate::cmd::crawl::parse_duration, default_value = "300s")]
    pub outbox_lease: Duration,
    #[command(flatten)]
    pub crawl: crawl::CrawlArgs,
}

/// Runs `baqylau worker`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    super::runtime()?.block_on(async move {
        let (stop_tx, stop) = watch::channel(false);
        tokio::spawn(async move {
            stop_signal().await;
            tracing::info!("stop requested: finishing messages in flight");
            let _ = stop_tx.send(true);
            stop_signal().await;
            tracing::warn!(
                "second stop signal: exiting now (unacknowledged messages are redelivered)"
            );
            std::process::exit(130);
        });
        let metrics = Registry::new();
        metrics
            .gauge(
                "baqylau_worker_info",
                "Always 1; labels say which stage this worker runs.",
                vec![
                    ("role", args.role.as_str().to_string()),
                    ("version", env!("CARGO_PKG_VERSION").to_string()),
                ],
            )
            .set(1.0);
        let probe = broker::QueueProbe::connect(&args.cluster.broker)
            .await
            .map_err(|e| anyhow::anyhow!("broker: {e}"))?;
        metrics.add_collector(Arc::new(QueueDepths {
            probe,
            queues: args.cluster.names.all_queues(),
        }));
        let metrics_url = match args.metrics {
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(addr).await?;
                let url = format!("http://{}/metrics", listener.local_addr()?);
                let registry = Arc::clone(&metrics);
                tokio::spawn(async move {
                    if let Err(e) = crate::metrics::serve(listener, registry).await {
                        tracing::error!(error = %e, "metrics endpoint stopped");
                    }
                });
                url
            }
            None => "-".into(),
        };
        let ctx = Ctx {
            args: &args,
            metrics,
            stop,
            metrics_url,
        };
        match args.role {
            Role::Crawler => crawl::run(&ctx).await?,
            Role::Indexer => index::run(&ctx).await?,
            Role::Classifier => classify::run(&ctx).await?,
            Role::Reporter => report::run(&ctx).await?,
            Role::Screenshot => shoot::run(&ctx).await?,
        }
        tracing::info!(role = args.role.as_str(), "worker stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// Resolves on SIGINT (ctrl-c) or SIGTERM.
async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

/// What every role gets.
pub struct Ctx<'a> {
    args: &'a Args,
    metrics: Arc<Registry>,
    stop: watch::Receiver<bool>,
    metrics_url: String,
}

impl Ctx<'_> {
    /// A stage's queue, declared, metered and closed by the stop signal.
    async fn queue<T>(&self, stage: Stage, prefetch: u16) -> anyhow::Result<Arc<WorkQueue<T>>>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
    {
        let c = &self.args.cluster;
        let q = c
            .names
            .connect(&c.broker, stage, self.args.prefetch.unwrap_or(prefetch))
            .await?;
        Ok(Arc::new(WorkQueue::new(
            q,
            self.stop.clone(),
            &self.metrics,
        )))
    }

    /// The PostgreSQL URL; roles with state there require it.
    fn db(&self) -> anyhow::Result<&str> {
        self.args.cluster.db.as_deref().ok_or_else(|| {
            anyhow::anyhow!(
                "--db (or BAQYLAU_DB) is required for the {} role",
                self.args.role.as_str()
            )
        })
    }

    /// The case store in PostgreSQL (migrations applied on connect).
    async fn case_store(&self) -> anyhow::Result<Arc<reporter::PgCaseStore>> {
        let url = self.db()?;
        let store = match &self.args.cluster.names.db_schema {
            Some(schema) => reporter::PgCaseStore::connect_in_schema(url, schema).await,
            None => reporter::PgCaseStore::connect(url).await,
        }
        .map_err(|e| anyhow::anyhow!("case store: {e}"))?;
        Ok(Arc::new(store))
    }

    /// Announces readiness on stdout (tests and scripts wait for this line).
    fn ready(&self) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "ready role={} metrics={}",
            self.args.role.as_str(),
            self.metrics_url
        );
        let _ = out.flush();
    }

    /// Runs `stage` under [`supervise::supervise`] for this worker's role; after a failure it
    /// starts again once `health` (the database the stage writes to) answers.
    async fn supervise<F, Fut>(
        &self,
        health: Option<&dyn supervise::Health>,
        stage: F,
    ) -> anyhow::Result<()>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<()>>,
    {
        supervise::supervise(
            self.args.role.as_str(),
            &self.metrics,
            &self.stop,
            health,
            stage,
        )
        .await
    }
}

/// The case store answers a one-row query.
struct CaseStoreHealth(Arc<dyn model::CaseStore>);

#[async_trait]
impl supervise::Health for CaseStoreHealth {
    async fn check(&self) -> Result<(), String> {
        let one = model::CaseFilter {
            limit: Some(1),
            ..model::CaseFilter::default()
        };
        self.0
            .list_cases(&one)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Queue depths read from the broker at scrape time.
struct QueueDepths {
    probe: broker::QueueProbe,
    /// Every queue of the topology, each followed by its dead-letter queue.
    queues: Vec<String>,
}

#[async_trait]
impl Collector for QueueDepths {
    async fn collect(&self, out: &mut Exposition) {
        let read =
            tokio::time::timeout(Duration::from_secs(2), self.probe.depths(&self.queues)).await;
        let depths = match read {
            Ok(Ok(d)) => Some(d),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "queue depths unavailable");
                None
            }
            Err(_) => {
                tracing::warn!("queue depths: broker did not answer within 2 s");
                None
            }
        };
        out.gauge_family(
            "baqylau_broker_up",
            "1 when the broker answered the depth probe of this scrape.",
        );
        out.sample(
            "baqylau_broker_up",
            &[],
            if depths.is_some() { 1.0 } else { 0.0 },
        );
        let Some(depths) = depths else { return };
        let (work, dead): (Vec<_>, Vec<_>) =
            depths.iter().partition(|d| !d.name.ends_with(".dead"));
        out.gauge_family(
            "baqylau_queue_ready_messages",
            "Messages waiting in a work queue (not counting unacknowledged ones).",
        );
        for d in &work {
            if let Some(n) = d.ready {
                out.sample(
                    "baqylau_queue_ready_messages",
                    &[("queue", d.name.clone())],
                    f64::from(n),
                );
            }
        }
        out.gauge_family(
            "baqylau_queue_consumers",
            "Consumers attached to a work queue.",
        );
        for d in &work {
            if let Some(n) = d.consumers {
                out.sample(
                    "baqylau_queue_consumers",
                    &[("queue", d.name.clone())],
                    f64::from(n),
                );
            }
        }
        out.gauge_family(
            "baqylau_queue_dead_letter_messages",
            "Messages parked in a work queue's dead-letter queue `<queue>.dead` (poison messages).",
        );
        for d in &dead {
            if let Some(n) = d.ready {
                let queue = d.name.trim_end_matches(".dead").to_string();
                out.sample(
                    "baqylau_queue_dead_letter_messages",
                    &[("queue", queue)],
                    f64::from(n),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        worker: super::Args,
    }

    #[test]
    fn outbox_lease_defaults_to_the_relays_and_can_be_shortened() {
        let base = [
            "worker",
            "--role",
            "reporter",
            "--broker",
            "amqp://127.0.0.1/",
        ];
        let default = Cli::try_parse_from(base).unwrap().worker;
        assert_eq!(default.outbox_lease, reporter::outbox::DEFAULT_LEASE);
        let short = Cli::try_parse_from(base.into_iter().chain(["--outbox-lease", "8s"]))
            .unwrap()
            .worker;
        assert_eq!(short.outbox_lease, std::time::Duration::from_secs(8));
    }
}
