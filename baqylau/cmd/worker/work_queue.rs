//! [`WorkQueue`]: a stage's RabbitMQ queue as the stage code sees it — metered, and closed by
//! the stop signal.
//!
//! The stage functions (the same ones the embedded pipeline runs) consume until their input
//! queue says it is closed, then finish what they hold and return. A broker queue never closes,
//! so on SIGTERM/ctrl-c this wrapper reports "closed": the stage stops taking messages, finishes
//! and acknowledges the ones in flight, and returns; deliveries the broker had already pushed to
//! this worker but the stage never took are returned when the connection closes.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use broker::AmqpQueue;
use model::{Delivery, Queue, QueueError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use crate::metrics::{Counter, Registry};

/// A metered broker queue that closes when the worker is told to stop.
pub struct WorkQueue<T> {
    inner: AmqpQueue<T>,
    stop: watch::Receiver<bool>,
    metrics: Arc<Registry>,
    // Registered on first use, so a worker shows series only for what it does with a queue.
    consumed: OnceLock<Arc<Counter>>,
    published: OnceLock<Arc<Counter>>,
    publish_errors: OnceLock<Arc<Counter>>,
}

impl<T> WorkQueue<T> {
    /// Wraps `inner`; its counters go to `metrics`.
    pub fn new(inner: AmqpQueue<T>, stop: watch::Receiver<bool>, metrics: &Arc<Registry>) -> Self {
        WorkQueue {
            inner,
            stop,
            metrics: Arc::clone(metrics),
            consumed: OnceLock::new(),
            published: OnceLock::new(),
            publish_errors: OnceLock::new(),
        }
    }

    fn count(
        &self,
        cell: &OnceLock<Arc<Counter>>,
        name: &'static str,
        help: &'static str,
    ) -> Arc<Counter> {
        Arc::clone(cell.get_or_init(|| {
            self.metrics
                .counter(name, help, vec![("queue", self.inner.name().to_string())])
        }))
    }

    fn consumed(&self) -> Arc<Counter> {
        self.count(
            &self.consumed,
            "baqylau_messages_consumed_total",
            "Messages taken from a queue by this worker.",
        )
    }
}

#[async_trait]
impl<T> Queue<T> for WorkQueue<T>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    async fn publish(&self, message: T) -> Result<(), QueueError> {
        match self.inner.publish(message).await {
            Ok(()) => {
                self.count(
                    &self.published,
                    "baqylau_messages_published_total",
                    "Messages published to a queue by this worker (broker-confirmed).",
                )
                .inc();
                Ok(())
            }
            Err(e) => {
                self.count(
                    &self.publish_errors,
                    "baqylau_publish_errors_total",
                    "Publishes that failed (not confirmed by the broker).",
                )
                .inc();
                Err(e)
            }
        }
    }

    async fn consume(&self) -> Result<Option<Delivery<T>>, QueueError> {
        let consumed = self.consumed();
        let mut stop = self.stop.clone();
        if *stop.borrow_and_update() {
            return Ok(None);
        }
        tokio::select! {
            biased;
            // A dropped sender also means "stop": nobody can tell this worker to go on.
            _ = stop.wait_for(|s| *s) => Ok(None),
            next = self.inner.consume() => {
                let next = next?;
                if next.is_some() {
                    consumed.inc();
                }
                Ok(next)
            }
        }
    }

    /// The broker queue outlives this worker; nothing to close.
    async fn close(&self) {}
}
