//! The reporter role: flagged captures from `P.flagged` become cases in PostgreSQL; every capture
//! newly added as evidence asks for a screenshot on `P.screenshots`.
//!
//! `reporter::Reporter::run` acknowledges a message after its case rows are committed and its
//! screenshot requests confirmed; the store deduplicates by case key and capture id, so a
//! redelivery adds nothing. Any number of reporters may run (the store serializes on rows).
//!
//! The role also runs the notification outbox relay: approved notifications (written to the
//! outbox by the approval transaction, in the analysts' desk) are published to the RabbitMQ
//! exchange `baqylau.notifications` with publisher confirms, then marked published. Relays in
//! several reporters claim outbox rows with a lease (`--outbox-lease`), so one message is not
//! published by two at once; a relay that dies mid-publish leaves its rows to the next claim once
//! the lease has run out (consumers deduplicate by `message_id`).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use model::{CaseStore, Flagged, ScreenshotRequest};
use reporter::outbox::{NotificationSink, Relay};
use reporter::store::notifications::{OutboxMessage, Payload};

use super::Ctx;
use super::topology::Stage;
use crate::metrics::Counter;

/// How often the relay looks for approved notifications.
const RELAY_EVERY: Duration = Duration::from_secs(2);

/// Runs the reporter role until stopped.
pub async fn run(ctx: &Ctx<'_>) -> anyhow::Result<()> {
    let store = ctx.case_store().await?;
    let input = ctx.queue::<Flagged>(Stage::Flagged, 16).await?;
    let shots = ctx
        .queue::<ScreenshotRequest>(Stage::Screenshots, 1)
        .await?;
    let sink = CountingSink {
        inner: crate::cmd::notify::AmqpSink::connect(&ctx.args.cluster.broker).await?,
        published: ctx.metrics.counter(
            "baqylau_notifications_published_total",
            "Approved notifications published to the exchange (broker-confirmed).",
            vec![],
        ),
        failed: ctx.metrics.counter(
            "baqylau_notification_publish_errors_total",
            "Notification publishes that failed (retried on the next pass).",
            vec![],
        ),
    };
    let relay = Relay::new(
        Arc::clone(&store),
        Arc::new(sink),
        Arc::new(tokio::sync::Notify::new()),
    )
    .with_lease(ctx.args.outbox_lease);
    // Publishes are idempotent: stopping mid-pass only leaves a message to the next claim.
    let relay = tokio::spawn(relay.run(RELAY_EVERY));
    ctx.ready();
    let cases: Arc<dyn CaseStore> = store;
    let health = super::CaseStoreHealth(Arc::clone(&cases));
    let result = ctx
        .supervise(Some(&health), || {
            let reporter = reporter::Reporter::new(Arc::clone(&cases));
            let (input, shots) = (Arc::clone(&input), Arc::clone(&shots));
            async move {
                let stats = reporter.run(input.as_ref(), shots.as_ref()).await?;
                tracing::info!(
                    cases_opened = stats.cases_opened,
                    evidence_added = stats.evidence_added,
                    "reporter stage finished"
                );
                Ok(())
            }
        })
        .await;
    relay.abort();
    result
}

/// The RabbitMQ sink, counted.
struct CountingSink<S> {
    inner: S,
    published: Arc<Counter>,
    failed: Arc<Counter>,
}

#[async_trait]
impl<S: NotificationSink> NotificationSink for CountingSink<S> {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    async fn publish(&self, msg: &OutboxMessage, payload: &Payload) -> Result<(), String> {
        let r = self.inner.publish(msg, payload).await;
        match &r {
            Ok(()) => self.published.inc(),
            Err(_) => self.failed.inc(),
        }
        r
    }
}
