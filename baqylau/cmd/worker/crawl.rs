//! The crawler role: seeds from `P.seeds` into the shared PostgreSQL frontier; captures of the
//! hosts this worker leases to `P.captures.index` and `P.captures.classify`.
//!
//! Work is partitioned by host through the frontier's host leases (`crawler::host_lease`): only
//! a host's lease holder fetches it, so politeness holds across any number of crawler workers,
//! and a joining or dying worker shifts hosts. The crawl loop is `Crawler::run`, as in the
//! embedded mode; it publishes a capture (both queues, broker-confirmed) before it records the
//! URL as done, so a crash refetches rather than loses. A seed is acknowledged after it is in
//! the frontier (inserting a known URL changes nothing); a seed that is not a crawlable URL is
//! parked in `P.seeds.dead` at once.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use crawler::{Crawler, CrawlerConfig, DistributedConfig};
use model::{Capture, Delivery, Queue, QueueError};

use super::Ctx;
use super::topology::{SeedMessage, Stage};
use super::work_queue::WorkQueue;
use crate::cmd::crawl::parse_duration;
use crate::metrics::{Collector, Counter, Exposition, Registry};
use crate::pipeline::FanOut;

/// Crawler settings of `baqylau worker --role crawler` (defaults as in the embedded crawl).
#[derive(Debug, Clone, clap::Args)]
pub struct CrawlArgs {
    /// This crawler's id among live workers (default: host name and process id). A restarted
    /// worker that keeps its id gets its host leases back at once.
    #[arg(long, env = "BAQYLAU_WORKER_ID")]
    pub worker_id: Option<String>,
    /// User-Agent header (robots.txt is matched on the token `baqylau`).
    #[arg(long)]
    pub user_agent: Option<String>,
    /// Stop fetching after this many pages (default: no limit; the worker runs until stopped).
    #[arg(long)]
    pub max_pages: Option<usize>,
    /// Follow links at most this deep from a seed.
    #[arg(long, default_value_t = CrawlerConfig::default().max_depth)]
    pub max_depth: u32,
    /// Most fetches running at once in this worker.
    #[arg(long, default_value_t = CrawlerConfig::default().concurrency)]
    pub concurrency: usize,
    /// Most concurrent connections to one host.
    #[arg(long, default_value_t = CrawlerConfig::default().per_host_connections)]
    pub per_host_connections: usize,
    /// Minimum delay between requests to one host (`250ms`, `1s`).
    #[arg(long, value_parser = parse_duration, default_value = "250ms")]
    pub host_delay: Duration,
    /// Total deadline of one request (`30s`).
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    pub request_timeout: Duration,
    /// Most URLs admitted per host.
    #[arg(long, default_value_t = CrawlerConfig::default().max_pages_per_host)]
    pub max_pages_per_host: usize,
    /// Render pages in Chromium before extraction: `auto` (SPA shells), `always`, `never`.
    #[arg(long, default_value = "auto", value_parser = |s: &str| s.parse::<crawler::RenderMode>())]
    pub render: crawler::RenderMode,
    /// Revisit interval of Telegram channel previews.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub revisit: Duration,
    /// How long a host lease holds without renewal: a killed crawler's hosts move to the others
    /// after at most this long (`10s`).
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub lease_ttl: Duration,
    /// PEM file of extra trusted root certificates; repeatable.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Vec<std::path::PathBuf>,
}

/// Seeds taken from the queue and inserted in one frontier transaction.
const SEED_BATCH: usize = 256;

/// Runs the crawler role until stopped.
pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let a = &ctx.args.crawl;
    let names = &ctx.args.cluster.names;
    let mut cfg = CrawlerConfig {
        data_dir: ctx.args.data.clone(),
        resolve: ctx.args.resolve.clone(),
        max_pages: a.max_pages.unwrap_or(usize::MAX),
        max_depth: a.max_depth,
        concurrency: a.concurrency,
        per_host_connections: a.per_host_connections,
        host_delay: a.host_delay,
        request_timeout: a.request_timeout,
        max_pages_per_host: a.max_pages_per_host,
        render: a.render,
        ca_certs: a.ca_cert.clone(),
        ..CrawlerConfig::default()
    };
    if let Some(f) = std::env::var_os("SSL_CERT_FILE") {
        cfg.ca_certs.push(f.into());
    }
    if let Some(ua) = &a.user_agent {
        cfg.user_agent = ua.clone();
    }
    let worker_id = a.worker_id.clone().unwrap_or_else(default_worker_id);
    let mut dist = DistributedConfig::new(ctx.db()?, worker_id.clone());
    dist.pg.schema = names.db_schema.clone();
    dist.lease_ttl = a.lease_ttl;
    dist.lease_tick = (a.lease_ttl / 5).max(Duration::from_millis(100));
    let render = a.render != crawler::RenderMode::Never;
    let mut crawler = Crawler::new_distributed(cfg, dist).await?;
    let renderer = if render {
        let r = crawler::render::Renderer::start(crawler::render::RendererConfig {
            chrome_path: ctx.args.chromium.clone(),
            host_map: ctx
                .args
                .resolve
                .iter()
                .map(|r| (r.host.clone(), r.addr))
                .collect(),
            ..Default::default()
        })
        .map_err(|e| anyhow::anyhow!("--render {} needs Chromium: {e}", a.render))?;
        let r = Arc::new(r);
        crawler.set_renderer(Arc::clone(&r));
        Some(r)
    } else {
        None
    };
    crawler.set_watch(crawler::watch::Watch {
        channel_revisit: a.revisit,
        stop: ctx.stop.clone(),
    });
    let crawler = Arc::new(crawler);

    let seeds = ctx
        .queue::<SeedMessage>(Stage::Seeds, SEED_BATCH as u16)
        .await?;
    let out = FailureTap::new(
        FanOut {
            outputs: vec![
                ctx.queue::<Capture>(Stage::CapturesIndex, 1).await? as Arc<dyn Queue<Capture>>,
                ctx.queue::<Capture>(Stage::CapturesClassify, 1).await? as Arc<dyn Queue<Capture>>,
            ],
        },
        &ctx.metrics,
    );
    ctx.metrics.add_collector(Arc::new(CrawlMetrics {
        crawler: Arc::clone(&crawler),
    }));
    let seeds_added = ctx.metrics.counter(
        "baqylau_seeds_added_total",
        "Seed URLs new to the frontier, inserted by this worker.",
        vec![],
    );
    tracing::info!(worker = %worker_id, "crawler worker starting");
    ctx.ready();

    let health = FrontierHealth(Arc::clone(&crawler));
    let seeding = ctx.supervise(Some(&health), || {
        let (crawler, seeds, added) = (
            Arc::clone(&crawler),
            Arc::clone(&seeds),
            Arc::clone(&seeds_added),
        );
        async move { take_seeds(&crawler, &seeds, &added).await }
    });
    let crawling = ctx.supervise(Some(&health), || {
        let crawler = Arc::clone(&crawler);
        let out = &out;
        async move {
            let stats = crawler.run(out).await?;
            tracing::info!(
                fetched = stats.pages_fetched,
                captures = stats.captures,
                "crawl loop finished"
            );
            Ok(())
        }
    });
    let (seeded, crawled) = tokio::join!(seeding, crawling);
    drop(renderer);
    seeded.and(crawled)
}

/// The shared frontier answers a one-row query.
struct FrontierHealth(Arc<Crawler>);

#[async_trait]
impl super::supervise::Health for FrontierHealth {
    async fn check(&self) -> Result<(), String> {
        match self.0.shared_frontier() {
            Some(pg) => pg.state_of("").await.map(|_| ()).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }
}

/// `hostname-pid`: unique among live workers on a cluster of named machines.
fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "crawler".into());
    format!("{host}-{}", std::process::id())
}

/// Moves seeds from the queue into the frontier until the queue closes (stop), a batch at a time.
async fn take_seeds(
    crawler: &Crawler,
    seeds: &WorkQueue<SeedMessage>,
    added: &Counter,
) -> anyhow::Result<()> {
    while let Some(first) = seeds.consume().await? {
        let mut batch = vec![first];
        // Whatever else is already here joins the batch: one transaction instead of many.
        while batch.len() < SEED_BATCH {
            match tokio::time::timeout(Duration::from_millis(20), seeds.consume()).await {
                Ok(Ok(Some(d))) => batch.push(d),
                Ok(Ok(None)) | Err(_) => break,
                Ok(Err(e)) => return Err(e.into()),
            }
        }
        let urls: Vec<String> = batch.iter().map(|d| d.message.url.clone()).collect();
        match crawler.add_seeds(&urls).await {
            Ok(n) => {
                added.add(n);
                for d in batch {
                    d.ack().await?;
                }
            }
            // One bad URL refuses the whole batch: insert one by one to park only it.
            Err(crawler::CrawlError::Seed { .. }) => {
                for d in batch {
                    add_one(crawler, d, added).await?;
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

async fn add_one(
    crawler: &Crawler,
    d: Delivery<SeedMessage>,
    added: &Counter,
) -> anyhow::Result<()> {
    match crawler
        .add_seeds(std::slice::from_ref(&d.message.url))
        .await
    {
        Ok(n) => {
            added.add(n);
            d.ack().await?;
        }
        Err(crawler::CrawlError::Seed { url, reason }) => {
            tracing::error!(%url, %reason, "seed is not a crawlable URL; parked in the dead-letter queue");
            d.nack(false).await?;
        }
        Err(e) => return Err(e.into()),
    }
    Ok(())
}

/// The crawler's output: counts failed fetches by kind, then publishes to both capture queues.
struct FailureTap {
    inner: FanOut<Capture>,
    registry: Arc<Registry>,
}

impl FailureTap {
    fn new(inner: FanOut<Capture>, registry: &Arc<Registry>) -> Self {
        FailureTap {
            inner,
            registry: Arc::clone(registry),
        }
    }
}

#[async_trait]
impl Queue<Capture> for FailureTap {
    async fn publish(&self, message: Capture) -> Result<(), QueueError> {
        if let Some(err) = &message.error {
            self.registry
                .counter(
                    "baqylau_fetch_errors_total",
                    "Failed fetches by kind (connect, timeout, http_status, blocked, …).",
                    vec![("kind", err.kind.as_str().to_string())],
                )
                .inc();
        }
        self.inner.publish(message).await
    }

    async fn consume(&self) -> Result<Option<Delivery<Capture>>, QueueError> {
        self.inner.consume().await
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}

/// The crawler's live counters and the shared frontier's counts, sampled at scrape time.
struct CrawlMetrics {
    crawler: Arc<Crawler>,
}

#[async_trait]
impl Collector for CrawlMetrics {
    async fn collect(&self, out: &mut Exposition) {
        let c = self.crawler.counters();
        let get = crawler::CrawlCounters::get;
        let counters: [(&str, &str, u64); 5] = [
            (
                "baqylau_fetches_total",
                "Fetches that produced content (status < 400) by this worker.",
                get(&c.fetched),
            ),
            (
                "baqylau_fetch_failures_total",
                "Fetches that failed for good (see baqylau_fetch_errors_total for kinds).",
                get(&c.failed),
            ),
            (
                "baqylau_robots_denied_total",
                "URLs not fetched because robots.txt forbids them.",
                get(&c.robots_denied),
            ),
            (
                "baqylau_fetch_retries_total",
                "Failed attempts put back in the frontier for a retry.",
                get(&c.retries),
            ),
            (
                "baqylau_fetched_bytes_total",
                "Body bytes received (decoded).",
                get(&c.bytes),
            ),
        ];
        for (name, help, v) in counters {
            out.counter_family(name, help);
            out.sample(name, &[], v as f64);
        }
        out.counter_family(
            "baqylau_captures_total",
            "Captures published by this worker (a Telegram page publishes one per post).",
        );
        out.sample("baqylau_captures_total", &[], get(&c.captures) as f64);
        out.gauge_family("baqylau_fetches_in_flight", "Fetches running now.");
        out.sample("baqylau_fetches_in_flight", &[], get(&c.in_flight) as f64);
        let Some(pg) = self.crawler.shared_frontier() else {
            return;
        };
        match tokio::time::timeout(Duration::from_secs(2), pg.stats()).await {
            Ok(Ok(s)) => {
                out.gauge_family(
                    "baqylau_frontier_urls",
                    "URLs in the shared frontier by state.",
                );
                for (state, n) in [
                    ("queued", s.queued),
                    ("in_flight", s.in_flight),
                    ("done", s.done),
                    ("failed", s.failed),
                    ("denied", s.denied),
                ] {
                    out.sample(
                        "baqylau_frontier_urls",
                        &[("state", state.into())],
                        n as f64,
                    );
                }
                out.gauge_family(
                    "baqylau_frontier_hosts",
                    "Hosts in the shared frontier by state.",
                );
                for (state, n) in [
                    ("known", s.hosts),
                    ("leased", s.leased_hosts),
                    ("parked", s.parked_hosts),
                ] {
                    out.sample(
                        "baqylau_frontier_hosts",
                        &[("state", state.into())],
                        n as f64,
                    );
                }
                out.gauge_family(
                    "baqylau_crawler_workers_alive",
                    "Crawler workers with a live heartbeat.",
                );
                let alive = s.workers.iter().filter(|w| w.alive).count();
                out.sample("baqylau_crawler_workers_alive", &[], alive as f64);
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "frontier counts unavailable"),
            Err(_) => tracing::warn!("frontier counts: database did not answer within 2 s"),
        }
    }
}
