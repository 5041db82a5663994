//! The screenshot role: requests from `P.screenshots`, PNGs under `--data/blobs/screenshots/`,
//! attached to their case in PostgreSQL.
//!
//! The embedded pipeline's `screenshot_stage`: a request is acknowledged once its desktop PNG is
//! written and attached (or the browser failed for good — counted as `result="failed"`, as in
//! the embedded run). PNGs are content-addressed and attaching is an update of the evidence row,
//! so a redelivered request writes the same file and row again. The UI server must see the same
//! `blobs/` directory (shared mount), since cases store paths relative to it.

use std::sync::Arc;

use crawler::render::{Renderer, RendererConfig};
use model::{CaseStore, ScreenshotRequest};

use super::Ctx;
use super::topology::Stage;
use crate::data_dir::DataDir;
use crate::metrics::SCREENSHOT_BUCKETS;
use crate::pipeline::ShotCounters;

/// Requests held at once: the stage works on eight concurrently (both viewports each).
const PREFETCH: u16 = 16;

/// Runs the screenshot role until stopped.
pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let data = DataDir::create(&ctx.args.data)?;
    let store: Arc<dyn CaseStore> = ctx.case_store().await?;
    let input = ctx
        .queue::<ScreenshotRequest>(Stage::Screenshots, PREFETCH)
        .await?;
    let renderer = Arc::new(
        Renderer::start(RendererConfig {
            chrome_path: ctx.args.chromium.clone(),
            host_map: ctx
                .args
                .resolve
                .iter()
                .map(|r| (r.host.clone(), r.addr))
                .collect(),
            ..Default::default()
        })
        .map_err(|e| anyhow::anyhow!("evidence screenshots need Chromium: {e}"))?,
    );
    let m = &ctx.metrics;
    let counters = Arc::new(ShotCounters {
        taken: m.counter(
            "baqylau_screenshots_total",
            "Evidence screenshots by result (desktop shots; `ok` ones are attached to their case).",
            vec![("result", "ok".into())],
        ),
        failed: m.counter(
            "baqylau_screenshots_total",
            "Evidence screenshots by result (desktop shots; `ok` ones are attached to their case).",
            vec![("result", "failed".into())],
        ),
        latency: m.histogram(
            "baqylau_screenshot_seconds",
            "Time to take one screenshot (desktop or mobile), queueing for a tab included.",
            vec![],
            SCREENSHOT_BUCKETS,
        ),
    });
    let telegram_hosts = crawler::CrawlerConfig::default().telegram_hosts;
    ctx.ready();
    let health = super::CaseStoreHealth(Arc::clone(&store));
    let result = ctx
        .supervise(Some(&health), || {
            crate::pipeline::screenshot_stage(
                Some(Arc::clone(&renderer)),
                Arc::clone(&store),
                input.as_ref(),
                data.blobs_dir(),
                telegram_hosts.clone(),
                Arc::clone(&counters),
            )
        })
        .await;
    drop(renderer);
    result
}
