//! Keeping a stage running: a stage function that fails is started again after a backoff, until
//! the worker is told to stop.
//!
//! A stage returns an error when a queue or the database fails (broker restarting, connection
//! dropped, PostgreSQL unreachable). The message it was working on was not acknowledged; the
//! broker gets it back (counted against its delivery limit, so a message that fails every time
//! is parked in its dead-letter queue). Restarting the stage — rather than the process — keeps
//! the worker's connections, browser and index writer, and makes a broker outage of any length
//! survivable: the queues reconnect with their own backoff, and this loop outlasts their limit.
//!
//! Every redelivery counts against the delivery limit, so an outage must not burn through it: a
//! role whose stage depends on the database gives a [`Health`] check, and after a failure the
//! stage is started again only once the check passes. A message then loses one delivery per
//! outage, not one per retry — and one that fails while everything is healthy is the message's
//! own fault, and is parked after the limit.

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::metrics::Registry;

/// A stage that ran this long before failing starts again without waiting.
const HEALTHY_RUN: Duration = Duration::from_secs(30);
/// Longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A dependency a stage needs (the database): checked before a failed stage starts again.
#[async_trait]
pub trait Health: Send + Sync {
    /// `Ok` when the dependency answers.
    async fn check(&self) -> Result<(), String>;
}

/// Runs `stage` until it returns `Ok` or `stop` turns true; failures are logged, counted in
/// `baqylau_stage_errors_total{role,kind}` and retried after a backoff and, with `health`, once
/// the dependency answers again.
pub async fn supervise<F, Fut>(
    role: &str,
    metrics: &Registry,
    stop: &watch::Receiver<bool>,
    health: Option<&dyn Health>,
    mut stage: F,
) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let restarts = metrics.counter(
        "baqylau_stage_restarts_total",
        "Times a failed stage was started again.",
        vec![("role", role.to_string())],
    );
    let mut backoff = Duration::from_millis(200);
    loop {
        let started = Instant::now();
        let result = stage().await;
        let stopping = *stop.borrow();
        match result {
            Ok(()) => return Ok(()),
            Err(e) if stopping => {
                tracing::warn!(role, error = %format!("{e:#}"), "stage failed while stopping");
                return Ok(());
            }
            Err(e) => {
                let kind = error_kind(&e);
                metrics
                    .counter(
                        "baqylau_stage_errors_total",
                        "Stage failures by kind (queue, store, index, crawl, render, io, other).",
                        vec![("role", role.to_string()), ("kind", kind.to_string())],
                    )
                    .inc();
                if started.elapsed() >= HEALTHY_RUN {
                    backoff = Duration::from_millis(200);
                }
                tracing::error!(role, kind, error = %format!("{e:#}"), retry_in_ms = backoff.as_millis() as u64, "stage failed; restarting it");
                let mut stop = stop.clone();
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return Ok(()),
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                if let Some(h) = health
                    && !wait_healthy(role, h, &mut stop).await
                {
                    return Ok(());
                }
                restarts.inc();
            }
        }
    }
}

/// Waits until `health` passes (`true`) or a stop is requested (`false`).
async fn wait_healthy(role: &str, health: &dyn Health, stop: &mut watch::Receiver<bool>) -> bool {
    let mut wait = Duration::from_millis(500);
    let mut logged = false;
    loop {
        match health.check().await {
            Ok(()) => {
                if logged {
                    tracing::info!(role, "dependency answers again; restarting the stage");
                }
                return true;
            }
            Err(e) => {
                if !logged {
                    tracing::warn!(role, error = %e, "dependency unavailable; waiting for it before taking messages");
                    logged = true;
                }
            }
        }
        tokio::select! {
            _ = stop.wait_for(|s| *s) => return false,
            () = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(MAX_BACKOFF);
    }
}

/// What failed, for the error counter: the first recognised error in the chain.
pub fn error_kind(e: &anyhow::Error) -> &'static str {
    for cause in e.chain() {
        if cause.is::<model::QueueError>() {
            return "queue";
        }
        if cause.is::<model::StoreError>() {
            return "store";
        }
        if let Some(r) = cause.downcast_ref::<reporter::ReporterError>() {
            return match r {
                reporter::ReporterError::Queue(_) => "queue",
                reporter::ReporterError::Store(_) => "store",
            };
        }
        if cause.is::<indexer::IndexError>() {
            return "index";
        }
        if let Some(c) = cause.downcast_ref::<crawler::CrawlError>() {
            return match c {
                crawler::CrawlError::Queue(_) => "queue",
                _ => "crawl",
            };
        }
        if cause.is::<crawler::render::RenderError>() {
            return "render";
        }
        if cause.is::<std::io::Error>() {
            return "io";
        }
    }
    "other"
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn errors_are_classified_through_context() {
        let q = anyhow::Error::new(model::QueueError::Closed("x".into())).context("reporter");
        assert_eq!(error_kind(&q), "queue");
        let r = anyhow::Error::new(reporter::ReporterError::Store(model::StoreError::Backend(
            "down".into(),
        )));
        assert_eq!(error_kind(&r), "store");
        assert_eq!(error_kind(&anyhow::anyhow!("what")), "other");
    }

    #[tokio::test]
    async fn a_failing_stage_is_restarted_until_it_succeeds() {
        let metrics = Registry::new();
        let (_tx, stop) = watch::channel(false);
        let runs = AtomicU32::new(0);
        supervise("test", &metrics, &stop, None, || async {
            if runs.fetch_add(1, Ordering::SeqCst) < 3 {
                Err(anyhow::Error::new(model::QueueError::Closed("q".into())))
            } else {
                Ok(())
            }
        })
        .await
        .unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 4);
        let text = metrics.render().await;
        assert!(
            text.contains("baqylau_stage_errors_total{role=\"test\",kind=\"queue\"} 3"),
            "{text}"
        );
        assert!(text.contains("baqylau_stage_restarts_total{role=\"test\"} 3"));
    }

    #[tokio::test]
    async fn stop_ends_the_backoff() {
        let metrics = Registry::new();
        let (tx, stop) = watch::channel(false);
        let stage = supervise("test", &metrics, &stop, None, || async {
            Err::<(), _>(anyhow::anyhow!("always"))
        });
        let stopper = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            tx.send(true).unwrap();
        };
        let started = Instant::now();
        let (r, ()) = tokio::join!(stage, stopper);
        r.unwrap();
        // The third backoff (800 ms) was cut short by the stop.
        assert!(started.elapsed() < Duration::from_millis(1000));
    }

    /// Down for its first three checks.
    struct Flaky(AtomicU32);

    #[async_trait]
    impl Health for Flaky {
        async fn check(&self) -> Result<(), String> {
            if self.0.fetch_add(1, Ordering::SeqCst) < 3 {
                Err("database down".into())
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test]
    async fn a_stage_is_restarted_only_once_its_dependency_answers() {
        let metrics = Registry::new();
        let (_tx, stop) = watch::channel(false);
        let health = Flaky(AtomicU32::new(0));
        let runs = AtomicU32::new(0);
        supervise("test", &metrics, &stop, Some(&health), || async {
            match runs.fetch_add(1, Ordering::SeqCst) {
                0 => Err(anyhow::Error::new(model::StoreError::Backend(
                    "down".into(),
                ))),
                _ => Ok(()),
            }
        })
        .await
        .unwrap();
        assert_eq!(
            runs.load(Ordering::SeqCst),
            2,
            "one retry, after the outage"
        );
        assert_eq!(
            health.0.load(Ordering::SeqCst),
            4,
            "checked until it answered"
        );
    }
}
