//! The reporter stage task: flagged captures in, cases and screenshot requests out.
//!
//! It reads [`Flagged`] messages until the queue closes, records them in the [`CaseStore`] and,
//! for every capture that became new evidence of a case, asks the crawler's renderer for a
//! screenshot. A message is acknowledged only after its cases are stored and its screenshot
//! requests are published, so a crash re-delivers it — and the store's idempotence turns the
//! re-delivery into no new rows. A crash between the commit and the publish would lose the
//! request, so the store also reports the capture's evidence that has no screenshot yet and the
//! re-delivery asks for those again (attaching a screenshot twice replaces the first).

use std::sync::Arc;

use model::{CaseStore, Flagged, Queue, ScreenshotRequest, StoreError};

use crate::{ReporterError, evidence};

/// What one run of the stage did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReporterStats {
    /// Flagged messages consumed.
    pub flagged: u64,
    /// Hits carried by those messages.
    pub hits: u64,
    /// Cases opened.
    pub cases_opened: u64,
    /// Captures newly added as evidence to a case (new or existing).
    pub evidence_added: u64,
    /// Screenshot requests published: one per new evidence, plus one per evidence of a
    /// re-delivered capture that still has no screenshot.
    pub screenshots_requested: u64,
    /// Messages refused as malformed (no hits, failed capture) and skipped.
    pub rejected: u64,
}

/// The reporter stage.
pub struct Reporter {
    store: Arc<dyn CaseStore>,
}

impl Reporter {
    /// A stage writing cases into `store`.
    pub fn new(store: Arc<dyn CaseStore>) -> Self {
        Reporter { store }
    }

    /// Consumes `Flagged` messages until the queue closes; records cases; for every evidence of
    /// the capture without a screenshot (newly added, or left without one by an earlier delivery),
    /// publishes a [`ScreenshotRequest`] (url = the capture's final URL, or for a Telegram post
    /// its post URL; highlight = the fragments its hits matched).
    pub async fn run(
        &self,
        input: &dyn Queue<Flagged>,
        screenshots: &dyn Queue<ScreenshotRequest>,
    ) -> Result<ReporterStats, ReporterError> {
        let mut stats = ReporterStats::default();
        while let Some(delivery) = input.consume().await? {
            let flagged = &delivery.message;
            stats.flagged += 1;
            stats.hits += flagged.hits.len() as u64;
            if flagged.capture.is_failed() {
                tracing::warn!(capture = %flagged.capture.id, "flagged capture is a failed fetch, skipped");
                stats.rejected += 1;
                delivery.ack().await?;
                continue;
            }
            let upserts = match self.store.record_flagged(flagged).await {
                Ok(u) => u,
                Err(StoreError::Invalid(msg)) => {
                    tracing::warn!(capture = %flagged.capture.id, error = %msg, "flagged capture refused");
                    stats.rejected += 1;
                    delivery.ack().await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            for up in &upserts {
                if up.created {
                    stats.cases_opened += 1;
                    tracing::info!(case = up.case_id, category = %up.category, url = %flagged.capture.url, "case opened");
                }
                if up.evidence_added {
                    stats.evidence_added += 1;
                }
                if !up.needs_screenshot {
                    continue;
                }
                if !up.evidence_added {
                    tracing::info!(case = up.case_id, capture = %flagged.capture.id, "re-delivered capture has no screenshot yet, asking again");
                }
                let hits = flagged.hits.iter().filter(|h| h.category == up.category);
                let request = evidence::screenshot_request(up.case_id, &flagged.capture, hits);
                screenshots.publish(request).await?;
                stats.screenshots_requested += 1;
            }
            delivery.ack().await?;
        }
        tracing::info!(
            flagged = stats.flagged,
            hits = stats.hits,
            cases_opened = stats.cases_opened,
            evidence_added = stats.evidence_added,
            screenshots_requested = stats.screenshots_requested,
            rejected = stats.rejected,
            "reporter input closed"
        );
        Ok(stats)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SqliteCaseStore;
    use crate::evidence::tests::{capture, hit};
    use model::{CaseFilter, FailureKind, MemoryQueue, Severity, Source};

    fn flagged(url: &str, secs: i64) -> Flagged {
        let c = capture(url, secs);
        let hits = vec![
            hit(
                &c,
                "gambling.casino",
                "illegal_gambling",
                "Онлайн казино",
                Severity::High,
            ),
            hit(
                &c,
                "fraud.guarantee",
                "fraud_investment",
                "выигрыш гарантирован",
                Severity::Medium,
            ),
        ];
        Flagged { capture: c, hits }
    }

    #[tokio::test]
    async fn run_records_cases_and_requests_screenshots() {
        let store = Arc::new(SqliteCaseStore::open_in_memory().unwrap());
        let input = MemoryQueue::new("flagged", 16);
        let shots = MemoryQueue::new("screenshots", 16);
        let web = flagged("http://casino.kz/", 1_700_000_000);
        let mut tg = flagged("http://t.me/drop_kz/42", 1_700_000_100);
        tg.hits.truncate(1);
        tg.capture.final_url = "http://t.me/s/drop_kz".into();
        tg.capture.source = Source::Telegram {
            channel: "drop_kz".into(),
            post_id: 42,
            views: None,
        };
        let failed = Flagged {
            capture: model::Capture::failed("http://x.kz/", "x.kz", FailureKind::Timeout, "slow"),
            hits: web.hits.clone(),
        };
        let empty = Flagged {
            capture: capture("http://y.kz/", 1),
            hits: vec![],
        };
        for f in [web.clone(), web.clone(), tg, failed, empty] {
            input.publish(f).await.unwrap();
        }
        input.close().await;

        let stats = Reporter::new(store.clone())
            .run(&input, &shots)
            .await
            .unwrap();
        assert_eq!(
            stats,
            ReporterStats {
                flagged: 5,
                hits: 7,
                cases_opened: 3,
                evidence_added: 3,
                // The second delivery of `web` finds its evidence still without screenshots.
                screenshots_requested: 5,
                rejected: 2
            }
        );
        let requests = drain(&shots).await;
        assert_eq!(requests.len(), 5);
        assert_eq!(requests[0..2], requests[2..4], "the re-delivery asks again");
        let gambling = requests
            .iter()
            .find(|r| r.highlight == ["Онлайн казино"] && r.url.contains("casino"))
            .unwrap();
        assert_eq!(gambling.url, "http://casino.kz/?r=1");
        assert_eq!(gambling.capture_id, web.capture.id);
        let fraud = requests
            .iter()
            .find(|r| r.highlight == ["выигрыш гарантирован"])
            .unwrap();
        assert_ne!(fraud.case_id, gambling.case_id);
        assert!(requests.iter().any(|r| r.url == "http://t.me/drop_kz/42"));
        assert_eq!(
            store
                .list_cases(&CaseFilter::default())
                .await
                .unwrap()
                .len(),
            3
        );
    }

    async fn drain(q: &MemoryQueue<ScreenshotRequest>) -> Vec<ScreenshotRequest> {
        q.close().await;
        let mut out = Vec::new();
        while let Some(d) = q.consume().await.unwrap() {
            out.push(d.message.clone());
            d.ack().await.unwrap();
        }
        out
    }

    async fn deliver(
        store: &Arc<SqliteCaseStore>,
        f: &Flagged,
    ) -> (ReporterStats, Vec<ScreenshotRequest>) {
        let input = MemoryQueue::new("flagged", 4);
        let shots = MemoryQueue::new("screenshots", 4);
        input.publish(f.clone()).await.unwrap();
        input.close().await;
        let stats = Reporter::new(store.clone())
            .run(&input, &shots)
            .await
            .unwrap();
        (stats, drain(&shots).await)
    }

    /// A worker dies after the case rows commit and before its screenshot requests are confirmed:
    /// the re-delivered message adds no evidence but still asks for the missing screenshots, and
    /// once they are attached a further re-delivery asks for nothing.
    #[tokio::test]
    async fn redelivery_after_a_crash_before_publishing_requests_the_screenshots() {
        let store = Arc::new(SqliteCaseStore::open_in_memory().unwrap());
        let f = flagged("http://casino.kz/", 1_700_000_000);
        // The crashed run: rows committed, nothing published, message not acknowledged.
        let recorded = store.record_flagged(&f).await.unwrap();
        assert_eq!(recorded.len(), 2);

        let (stats, requests) = deliver(&store, &f).await;
        assert_eq!(
            (
                stats.cases_opened,
                stats.evidence_added,
                stats.screenshots_requested
            ),
            (0, 0, 2)
        );
        let mut got: Vec<(i64, &str)> = requests
            .iter()
            .map(|r| (r.case_id, r.capture_id.as_str()))
            .collect();
        got.sort();
        let mut want: Vec<(i64, &str)> = recorded
            .iter()
            .map(|u| (u.case_id, f.capture.id.as_str()))
            .collect();
        want.sort();
        assert_eq!(got, want);
        let gambling = requests
            .iter()
            .find(|r| r.highlight == ["Онлайн казино"])
            .unwrap();
        assert_eq!(gambling.url, "http://casino.kz/?r=1");

        // The screenshot stage attaches one of them; a re-delivery asks only for the other.
        let shot = model::Screenshot {
            path: "screenshots/a.png".into(),
            sha256: model::sha256_hex(b"png"),
            width: 1280,
            height: 800,
            taken_at: f.capture.fetched_at,
        };
        store
            .attach_screenshot(gambling.case_id, &f.capture.id, &shot)
            .await
            .unwrap();
        let (stats, again) = deliver(&store, &f).await;
        assert_eq!(stats.screenshots_requested, 1);
        assert_eq!(again.len(), 1);
        assert_ne!(again[0].case_id, gambling.case_id);
        let other = again[0].case_id;
        store
            .attach_screenshot(other, &f.capture.id, &shot)
            .await
            .unwrap();
        let (stats, none) = deliver(&store, &f).await;
        assert_eq!((stats.flagged, stats.screenshots_requested), (1, 0));
        assert!(none.is_empty(), "{none:?}");
    }

    #[tokio::test]
    async fn closed_screenshot_queue_stops_the_stage() {
        let store = Arc::new(SqliteCaseStore::open_in_memory().unwrap());
        let input = MemoryQueue::new("flagged", 4);
        let shots = MemoryQueue::new("screenshots", 4);
        shots.close().await;
        input
            .publish(flagged("http://casino.kz/", 1_700_000_000))
            .await
            .unwrap();
        input.close().await;
        let err = Reporter::new(store).run(&input, &shots).await.unwrap_err();
        assert!(matches!(err, ReporterError::Queue(_)), "{err}");
    }
}
