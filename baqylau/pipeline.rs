//! The embedded deployment: every stage in one process, connected by in-process queues.
//!
//! ```text
//! crawler ─Capture─► fan-out ─► indexer (tantivy)
//!                           └─► classifier ─Flagged─► reporter ─ScreenshotRequest─► screenshots
//! ```
//! Shutdown follows the data: when the crawler's frontier is exhausted its output queue closes,
//! each stage drains its input and then closes its output, so nothing in flight is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use chrono::Utc;
use classifier::RuleSet;
use crawler::render::{Renderer, RendererConfig, Shot, ShotRequest};
use crawler::{CrawlStats, Crawler, CrawlerConfig};
use indexer::{Indexer, IndexerConfig};
use model::{
    Capture, CaseFilter, CaseStore, Delivery, Flagged, MemoryQueue, Queue, QueueError, Screenshot,
    ScreenshotRequest, Viewport,
};
use reporter::{Reporter, SqliteCaseStore};
use serde::Serialize;

use crate::data_dir::DataDir;

/// What one pipeline run did — printed by `demo --json` and `crawl --json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Pages fetched successfully (HTTP responses with content).
    pub pages_fetched: u64,
    /// Captures produced (pages and Telegram posts, failed ones included).
    pub captures: u64,
    /// Captures that failed (unreachable, blocked, errors).
    pub failed_captures: u64,
    /// Captures indexed.
    pub indexed: u64,
    /// Rule hits.
    pub hits: u64,
    /// Cases in the store after the run.
    pub cases: u64,
    /// Cases opened by this run.
    pub cases_opened: u64,
    /// Evidence screenshots taken.
    pub screenshots: u64,
    /// Screenshots that failed.
    pub screenshot_failures: u64,
    /// Wall time of the run.
    pub seconds: f64,
    /// Crawler statistics.
    pub crawl: CrawlStats,
}

/// Everything a run needs.
pub struct PipelineConfig {
    /// Where the stages keep their state.
    pub data: DataDir,
    /// Crawler settings (seeds, mappings, caps).
    pub crawler: CrawlerConfig,
    /// Compiled rules.
    pub rules: Arc<RuleSet>,
    /// Browser settings; `None` disables screenshots.
    pub renderer: Option<RendererConfig>,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// Publishes every message to several queues: the crawler's output feeds both the indexer and
/// the classifier (in the distributed mode, two RabbitMQ queues, each publish confirmed).
pub(crate) struct FanOut<T> {
    pub(crate) outputs: Vec<Arc<dyn Queue<T>>>,
}

#[async_trait]
impl<T: Clone + Send + Sync + 'static> Queue<T> for FanOut<T> {
    /// Publishes to every output at once (over RabbitMQ the confirms overlap instead of adding
    /// up); done when all have the message.
    async fn publish(&self, message: T) -> Result<(), QueueError> {
        futures_util::future::try_join_all(self.outputs.iter().map(|q| q.publish(message.clone())))
            .await?;
        Ok(())
    }

    async fn consume(&self) -> Result<Option<Delivery<T>>, QueueError> {
        Err(QueueError::Transport {
            name: "fan-out".into(),
            message: "a fan-out is publish-only".into(),
        })
    }

    async fn close(&self) {
        for q in &self.outputs {
            q.close().await;
        }
    }
}

/// Runs crawl → index → classify → cases → screenshots to completion.
pub async fn run(cfg: PipelineConfig) -> anyhow::Result<Summary> {
    run_with(cfg, None).await
}

/// Like [`run`], but with `watch` the crawl keeps revisiting (channels every
/// `watch.channel_revisit`, pages on the frontier's schedule) until `watch.stop` turns `true`;
/// then every stage drains as in a one-shot run and the browser is closed.
pub async fn run_with(
    cfg: PipelineConfig,
    watch: Option<crawler::watch::Watch>,
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let PipelineConfig {
        data,
        crawler: crawler_cfg,
        rules,
        renderer,
        progress,
    } = cfg;

    let renderer = match renderer {
        Some(rc) => Some(Arc::new(
            Renderer::start(rc).context("evidence screenshots need Chromium")?,
        )),
        None => None,
    };
    let store: Arc<dyn CaseStore> = Arc::new(
        SqliteCaseStore::open(&data.cases_db())
            .with_context(|| format!("cannot open {}", data.cases_db().display()))?,
    );
    let indexer = Arc::new(Indexer::open(&IndexerConfig::new(data.index_dir()))?);
    let telegram_hosts = crawler_cfg.telegram_hosts.clone();
    let mut crawler = Crawler::new(crawler_cfg)?;
    if let Some(r) = &renderer {
        // One browser serves both: SPA shells rendered for the crawl, evidence screenshots.
        crawler.set_renderer(Arc::clone(r));
    }
    if let Some(w) = watch {
        crawler.set_watch(w);
    }

    // Room for a second of crawling: the indexer stops consuming while it commits (every 500
    // documents), and a full queue would hold up the crawl's publishing for that long.
    let to_index = Arc::new(MemoryQueue::<Capture>::new("captures.index", 1024));
    let to_classify = Arc::new(MemoryQueue::<Capture>::new("captures.classify", 256));
    let flagged = Arc::new(MemoryQueue::<Flagged>::new("flagged", 256));
    let shots = Arc::new(MemoryQueue::<ScreenshotRequest>::new("screenshots", 1024));
    let fan_out = FanOut {
        outputs: vec![
            Arc::clone(&to_index) as Arc<dyn Queue<Capture>>,
            Arc::clone(&to_classify) as Arc<dyn Queue<Capture>>,
        ],
    };

    // The indexer and the classifier are CPU-bound loops that only await their input queue:
    // each gets a thread of its own (`on_own_thread`) instead of a runtime worker, where they
    // held the worker for a whole coop budget of captures and starved the crawl's fetches.
    let index_task = {
        let (indexer, q) = (Arc::clone(&indexer), Arc::clone(&to_index));
        on_own_thread(async move { indexer.run(q.as_ref()).await })
    };
    let hits = Arc::new(AtomicU64::new(0));
    let classify_task = {
        let (rules, input, output, hits) = (
            Arc::clone(&rules),
            Arc::clone(&to_classify),
            Arc::clone(&flagged),
            Arc::clone(&hits),
        );
        on_own_thread(async move {
            classify_stage(&rules, input.as_ref(), output.as_ref(), &hits).await
        })
    };
    let report_task = {
        let (store, input, output) = (Arc::clone(&store), Arc::clone(&flagged), Arc::clone(&shots));
        tokio::spawn(async move {
            let r = Reporter::new(store)
                .run(input.as_ref(), output.as_ref())
                .await;
            output.close().await;
            r
        })
    };
    let shot_counts = Arc::new(ShotCounters::standalone());
    let shot_task = {
        let (store, input, counts, blobs) = (
            Arc::clone(&store),
            Arc::clone(&shots),
            Arc::clone(&shot_counts),
            data.blobs_dir(),
        );
        let renderer = renderer.clone();
        tokio::spawn(async move {
            screenshot_stage(
                renderer,
                store,
                input.as_ref(),
                blobs,
                telegram_hosts,
                counts,
            )
            .await
        })
    };

    // A stage that fails leaves its input queue without a consumer: the crawl (forever, with
    // --watch) would only fill queues nobody reads. The first failure stops the crawl instead.
    let (failed_tx, mut failed) = tokio::sync::mpsc::unbounded_channel::<anyhow::Error>();
    let index_task = supervise("indexer", index_task, &failed_tx);
    let classify_task = supervise("classifier", classify_task, &failed_tx);
    let report_task = supervise("reporter", report_task, &failed_tx);
    let shot_task = supervise("screenshot", shot_task, &failed_tx);

    let bar = progress.then(|| spawn_progress(crawler.counters()));
    let crawl_result = tokio::select! {
        r = crawler.run(&fan_out) => Ok(r),
        Some(e) = failed.recv() => Err(e),
    };
    fan_out.close().await;
    if let Some((bar, task)) = bar {
        task.abort();
        bar.finish_and_clear();
    }
    let crawl = match crawl_result {
        Ok(r) => r?,
        Err(stage_error) => {
            tracing::error!(error = %format!("{stage_error:#}"), "a pipeline stage failed; crawl stopped");
            // The healthy stages get a bounded moment to drain what they hold (cases already
            // opened get their screenshots); one blocked behind the failed stage is abandoned.
            flagged.close().await;
            shots.close().await;
            let drain = async {
                let _ = index_task.await;
                let _ = classify_task.await;
                let _ = report_task.await;
                let _ = shot_task.await;
            };
            let _ = tokio::time::timeout(STAGE_DRAIN, drain).await;
            return Err(stage_error.context("crawl stopped"));
        }
    };

    let index_stats = index_task.await??;
    classify_task.await??;
    let report_stats = report_task.await??;
    shot_task.await??;
    drop(renderer);

    let cases = store.list_cases(&CaseFilter::default()).await?.len() as u64;
    Ok(Summary {
        pages_fetched: crawl.pages_fetched,
        captures: crawl.captures,
        failed_captures: crawl.failed,
        indexed: index_stats.indexed,
        hits: hits.load(Ordering::Relaxed),
        cases,
        cases_opened: report_stats.cases_opened,
        screenshots: shot_counts.taken.get(),
        screenshot_failures: shot_counts.failed.get(),
        seconds: (started.elapsed().as_secs_f64() * 100.0).round() / 100.0,
        crawl,
    })
}

/// Runs a stage future on a blocking-pool thread of its own (driving the runtime's I/O and
/// timers through its handle), so that its CPU work competes with the crawl in the OS scheduler
/// rather than occupying one of the few runtime workers the fetches need.
fn on_own_thread<F>(stage: F) -> tokio::task::JoinHandle<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || runtime.block_on(stage))
}

/// How long the other stages may drain after one failed.
const STAGE_DRAIN: Duration = Duration::from_secs(10);

/// Awaits a stage task in a task of its own and reports its failure (error or panic), named
/// after the stage, on `failed` as soon as it happens; the returned handle yields the same
/// result.
fn supervise<T, E>(
    stage: &'static str,
    task: tokio::task::JoinHandle<Result<T, E>>,
    failed: &tokio::sync::mpsc::UnboundedSender<anyhow::Error>,
) -> tokio::task::JoinHandle<anyhow::Result<T>>
where
    T: Send + 'static,
    E: Into<anyhow::Error> + Send + 'static,
{
    let failed = failed.clone();
    tokio::spawn(async move {
        let result = match task.await {
            Ok(r) => r.map_err(Into::into),
            Err(e) => Err(anyhow::Error::new(e)),
        }
        .with_context(|| format!("{stage} stage failed"));
        if let Err(e) = &result {
            let _ = failed.send(anyhow::anyhow!("{e:#}"));
        }
        result
    })
}

/// Classifies each capture; flagged ones go to the reporter with their hits. A capture is
/// acknowledged after its `Flagged` message is published (confirmed, in the distributed mode).
pub(crate) async fn classify_stage(
    rules: &RuleSet,
    input: &dyn Queue<Capture>,
    output: &dyn Queue<Flagged>,
    hits: &AtomicU64,
) -> anyhow::Result<()> {
    while let Some(d) = input.consume().await? {
        if !d.message.is_failed() {
            let c = &d.message;
            // The crawler's language tag is a cheap letter heuristic; the classifier's detector
            // recognizes Kazakh (DESIGN §8), and rules restricted by `langs` rely on it.
            let lang = match classifier::lang::detect(&format!("{}\n{}", c.title, c.text)) {
                classifier::lang::Lang::Unknown => c.lang.clone(),
                l => Some(l.code().to_string()),
            };
            let doc = classifier::Doc {
                id: &c.id,
                title: &c.title,
                text: &c.text,
                url: if c.final_url.is_empty() {
                    &c.url
                } else {
                    &c.final_url
                },
                lang: lang.as_deref(),
            };
            let found = rules.scan(&doc);
            // Only flagged captures travel on, so only they pay for a copy and the indicator pass.
            if !found.is_empty() {
                hits.fetch_add(found.len() as u64, Ordering::Relaxed);
                let indicators = rules.indicators(&doc);
                let capture = Capture {
                    lang,
                    indicators,
                    ..c.clone()
                };
                output
                    .publish(Flagged {
                        capture,
                        hits: found,
                    })
                    .await?;
            }
        }
        d.ack().await?;
    }
    output.close().await;
    Ok(())
}

/// Screenshot requests worked on at once: enough to keep every pooled tab busy with the desktop
/// and mobile shot of each request.
const SHOTS_IN_FLIGHT: usize = 8;

/// What the screenshot stage counts: shots taken and failed, and how long each took.
pub(crate) struct ShotCounters {
    /// Desktop screenshots attached to their case.
    pub(crate) taken: Arc<crate::metrics::Counter>,
    /// Screenshots (desktop) that failed.
    pub(crate) failed: Arc<crate::metrics::Counter>,
    /// Seconds per screenshot (desktop and mobile alike).
    pub(crate) latency: Arc<crate::metrics::Histogram>,
}

impl ShotCounters {
    /// Counters not exposed anywhere (the embedded run reads them for its summary).
    pub(crate) fn standalone() -> ShotCounters {
        ShotCounters {
            taken: Arc::default(),
            failed: Arc::default(),
            latency: Arc::new(crate::metrics::Histogram::new(
                crate::metrics::SCREENSHOT_BUCKETS,
            )),
        }
    }
}

/// Takes the evidence screenshots of each flagged capture — desktop and mobile — and attaches
/// them to the case. PNGs are stored content-addressed (`screenshots/<sha256>.png`), so a file's
/// name is its integrity check. Requests run concurrently (the renderer's tab pool bounds the
/// browser work); a Telegram post is shot in its embed form, which shows that post alone. A
/// request is acknowledged once its screenshots are attached (or failed for good); one whose
/// storing fails is not, and the stage returns the error.
pub(crate) async fn screenshot_stage(
    renderer: Option<Arc<Renderer>>,
    store: Arc<dyn CaseStore>,
    input: &dyn Queue<ScreenshotRequest>,
    blobs: std::path::PathBuf,
    telegram_hosts: Vec<String>,
    counts: Arc<ShotCounters>,
) -> anyhow::Result<()> {
    let mut tasks: tokio::task::JoinSet<anyhow::Result<()>> = tokio::task::JoinSet::new();
    // A job that fails ends the stage at once, not when the next request arrives or the pool
    // fills. The pending `consume` is kept across those checks, never cancelled and restarted.
    let mut next = input.consume();
    loop {
        let d = tokio::select! {
            d = &mut next => d?,
            Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                done??;
                continue;
            }
        };
        let Some(d) = d else { break };
        next = input.consume();
        if let Some(renderer) = &renderer {
            while tasks.len() >= SHOTS_IN_FLIGHT {
                if let Some(done) = tasks.join_next().await {
                    done??;
                }
            }
            let job = ShotJob {
                renderer: Arc::clone(renderer),
                store: Arc::clone(&store),
                blobs: blobs.clone(),
                open_url: crawler::telegram::embed_url(&d.message.url, &telegram_hosts)
                    .unwrap_or_else(|| d.message.url.clone()),
                req: d.message.clone(),
                counts: Arc::clone(&counts),
            };
            tasks.spawn(async move {
                job.run().await?;
                d.ack().await?;
                Ok(())
            });
        } else {
            d.ack().await?;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// The screenshots of one request.
struct ShotJob {
    renderer: Arc<Renderer>,
    store: Arc<dyn CaseStore>,
    blobs: std::path::PathBuf,
    /// What the browser opens (the embed form of a Telegram post).
    open_url: String,
    req: ScreenshotRequest,
    counts: Arc<ShotCounters>,
}

impl ShotJob {
    async fn timed(&self, req: ShotRequest) -> Result<Shot, crawler::render::RenderError> {
        let started = Instant::now();
        let shot = self.renderer.screenshot(req).await;
        self.counts.latency.observe(started.elapsed().as_secs_f64());
        shot
    }

    async fn run(&self) -> anyhow::Result<()> {
        let req = &self.req;
        let taken_at = Utc::now();
        let shot = |viewport: Viewport| ShotRequest {
            url: self.open_url.clone(),
            highlight: req.highlight.clone(),
            footer: format!(
                "{} · {} UTC · baqylau case #{} · capture {} · {}",
                req.url,
                taken_at.format("%Y-%m-%d %H:%M:%S"),
                req.case_id,
                req.capture_id,
                viewport.as_str()
            ),
            viewport,
        };
        let (desktop, mobile) = tokio::join!(
            self.timed(shot(Viewport::Desktop)),
            self.timed(shot(Viewport::Mobile))
        );
        match desktop {
            Ok(s) => {
                let meta = self.save(&s, taken_at).await?;
                self.store
                    .attach_screenshot(req.case_id, &req.capture_id, &meta)
                    .await?;
                self.counts.taken.inc();
            }
            Err(e) => {
                tracing::warn!(url = %req.url, case = req.case_id, error = %e, "screenshot failed");
                self.counts.failed.inc();
            }
        }
        // The mobile shot is attached next to the desktop one. Storing the PNG must succeed (as
        // for desktop); a store that cannot record it (one keeping desktop shots only) costs the
        // mobile view, not the stage.
        match mobile {
            Ok(s) => {
                let meta = self.save(&s, taken_at).await?;
                if let Err(e) = self
                    .store
                    .attach_screenshot_on(req.case_id, &req.capture_id, Viewport::Mobile, &meta)
                    .await
                {
                    tracing::warn!(case = req.case_id, capture = %req.capture_id, path = %meta.path, error = %e, "mobile screenshot not attached");
                }
            }
            Err(e) => {
                tracing::warn!(url = %req.url, case = req.case_id, error = %e, "mobile screenshot failed");
            }
        }
        Ok(())
    }

    async fn save(
        &self,
        shot: &Shot,
        taken_at: chrono::DateTime<Utc>,
    ) -> anyhow::Result<Screenshot> {
        let sha256 = model::sha256_hex(&shot.png);
        let rel = format!("screenshots/{sha256}.png");
        tokio::fs::write(self.blobs.join(&rel), &shot.png)
            .await
            .with_context(|| format!("cannot write {rel}"))?;
        Ok(Screenshot {
            path: rel,
            sha256,
            width: shot.width,
            height: shot.height,
            taken_at,
        })
    }
}

fn spawn_progress(
    counters: Arc<crawler::CrawlCounters>,
) -> (indicatif::ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let b = bar.clone();
    let task = tokio::spawn(async move {
        loop {
            let get = crawler::CrawlCounters::get;
            b.set_message(format!(
                "fetched {} · captures {} · failed {} · robots-denied {} · queued {} · {} KiB",
                get(&counters.fetched),
                get(&counters.captures),
                get(&counters.failed),
                get(&counters.robots_denied),
                get(&counters.queued),
                get(&counters.bytes) / 1024
            ));
            b.tick();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    (bar, task)
}
