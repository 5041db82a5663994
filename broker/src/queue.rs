//! [`AmqpQueue`]: one typed, durable RabbitMQ queue behind the [`model::Queue`] trait.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicPublishOptions, BasicQosOptions,
    BasicRejectOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, Consumer};
use model::{Ack, Delivery, Queue, QueueError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

/// Direct exchange that receives every parked (dead-lettered) message, routed by queue name.
pub const DEAD_LETTER_EXCHANGE: &str = "baqylau.dlx";

/// Connection and delivery settings.
#[derive(Debug, Clone)]
pub struct AmqpConfig {
    /// Broker URL, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    pub url: String,
    /// Unacknowledged deliveries a consumer may hold (back-pressure).
    pub prefetch: u16,
    /// Deliveries of one message before it is parked in `<queue>.dead`.
    pub delivery_limit: u32,
    /// How long to keep retrying a lost connection before a call fails.
    pub reconnect_for: Duration,
}

impl AmqpConfig {
    /// Defaults for `url`: prefetch 32, parked after 5 deliveries, reconnect for 60 s.
    pub fn new(url: impl Into<String>) -> Self {
        AmqpConfig {
            url: url.into(),
            prefetch: 32,
            delivery_limit: 5,
            reconnect_for: Duration::from_secs(60),
        }
    }
}

struct Link {
    // Kept so the connection lives as long as its channel.
    _connection: Connection,
    channel: Channel,
    consumer: Option<Consumer>,
    /// Which connection of this handle this is (counts reconnects), so a publisher whose confirm
    /// failed drops only the link it published on, not one another publisher already reopened.
    generation: u64,
}

/// A typed queue on RabbitMQ. Messages are JSON.
///
/// Publishes are pipelined: the handle's lock is held only to pick the current channel, and each
/// publisher then sends its message and awaits the broker's confirm of that message, so tasks
/// sharing a handle have many messages in flight on one channel (the broker confirms them in
/// batches) instead of one round trip each.
pub struct AmqpQueue<T> {
    name: String,
    cfg: AmqpConfig,
    link: Mutex<Option<Link>>,
    /// Connections opened so far ([`Link::generation`]).
    opened: AtomicU64,
    _message: PhantomData<fn(T) -> T>,
}

impl<T> AmqpQueue<T> {
    /// Connects and declares the queue, its dead-letter exchange and dead-letter queue.
    /// Fails (does not retry) when the broker is unreachable, so a misconfiguration is loud.
    pub async fn connect(cfg: AmqpConfig, name: impl Into<String>) -> Result<Self, QueueError> {
        let name = name.into();
        let link = open_link(&cfg, &name, 0).await?;
        Ok(AmqpQueue {
            name,
            cfg,
            link: Mutex::new(Some(link)),
            opened: AtomicU64::new(1),
            _message: PhantomData,
        })
    }

    /// Queue name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Name of the queue holding this queue's parked messages.
    pub fn dead_letter_queue(&self) -> String {
        format!("{}.dead", self.name)
    }

    /// Messages ready in the queue and in its dead-letter queue, as the broker reports them.
    pub async fn depth(&self) -> Result<(u32, u32), QueueError> {
        let mut guard = self.ensure_link().await?;
        let link = guard.as_mut().ok_or_else(|| self.closed())?;
        let passive = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        let main = link
            .channel
            .queue_declare(self.name.as_str().into(), passive, FieldTable::default())
            .await
            .map_err(|e| self.transport(e))?;
        let dead = link
            .channel
            .queue_declare(
                self.dead_letter_queue().as_str().into(),
                passive,
                FieldTable::default(),
            )
            .await
            .map_err(|e| self.transport(e))?;
        Ok((main.message_count(), dead.message_count()))
    }

    /// Deletes the queue and its dead-letter queue (tests, decommissioning a stage).
    pub async fn delete(&self) -> Result<(), QueueError> {
        let mut guard = self.ensure_link().await?;
        let link = guard.as_mut().ok_or_else(|| self.closed())?;
        for q in [self.name.clone(), self.dead_letter_queue()] {
            link.channel
                .queue_delete(q.as_str().into(), QueueDeleteOptions::default())
                .await
                .map_err(|e| self.transport(e))?;
        }
        *guard = None;
        Ok(())
    }

    fn transport(&self, e: impl std::fmt::Display) -> QueueError {
        QueueError::Transport {
            name: self.name.clone(),
            message: e.to_string(),
        }
    }

    fn closed(&self) -> QueueError {
        QueueError::Closed(self.name.clone())
    }

    /// The current link, reopened with backoff if the connection was lost.
    async fn ensure_link(&self) -> Result<tokio::sync::MutexGuard<'_, Option<Link>>, QueueError> {
        let mut guard = self.link.lock().await;
        let healthy = guard
            .as_ref()
            .is_some_and(|l| l.channel.status().connected());
        if !healthy {
            *guard = None;
            let started = tokio::time::Instant::now();
            let mut wait = Duration::from_millis(100);
            loop {
                let generation = self.opened.fetch_add(1, Ordering::Relaxed);
                match open_link(&self.cfg, &self.name, generation).await {
                    Ok(link) => {
                        tracing::info!(queue = %self.name, "reconnected to broker");
                        *guard = Some(link);
                        break;
                    }
                    Err(e) if started.elapsed() < self.cfg.reconnect_for => {
                        tracing::warn!(queue = %self.name, error = %e, "broker unreachable; retrying");
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_secs(5));
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(guard)
    }
}

async fn open_link(cfg: &AmqpConfig, name: &str, generation: u64) -> Result<Link, QueueError> {
    let err = |e: lapin::Error| QueueError::Transport {
        name: name.to_string(),
        message: format!("{}: {e}", redact(&cfg.url)),
    };
    let connection = Connection::connect(
        &cfg.url,
        ConnectionProperties::default().with_connection_name(format!("baqylau:{name}").into()),
    )
    .await
    .map_err(err)?;
    let channel = connection.create_channel().await.map_err(err)?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(err)?;
    let durable = QueueDeclareOptions::durable();
    channel
        .exchange_declare(
            DEAD_LETTER_EXCHANGE.into(),
            lapin::ExchangeKind::Direct,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(err)?;
    let dead = format!("{name}.dead");
    channel
        .queue_declare(dead.as_str().into(), durable, FieldTable::default())
        .await
        .map_err(err)?;
    channel
        .queue_bind(
            dead.as_str().into(),
            DEAD_LETTER_EXCHANGE.into(),
            name.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(err)?;
    channel
        .queue_declare(
            name.into(),
            durable,
            queue_arguments(name, cfg.delivery_limit),
        )
        .await
        .map_err(err)?;
    Ok(Link {
        _connection: connection,
        channel,
        consumer: None,
        generation,
    })
}

/// Quorum queue (replicated, counts redeliveries) that parks a message after `limit` deliveries.
fn queue_arguments(name: &str, limit: u32) -> FieldTable {
    let mut args = FieldTable::default();
    args.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    args.insert(
        "x-delivery-limit".into(),
        AMQPValue::LongInt(i32::try_from(limit).unwrap_or(i32::MAX)),
    );
    args.insert(
        "x-dead-letter-exchange".into(),
        AMQPValue::LongString(DEAD_LETTER_EXCHANGE.into()),
    );
    args.insert(
        "x-dead-letter-routing-key".into(),
        AMQPValue::LongString(name.into()),
    );
    args
}

/// `amqp://user:secret@host` → `amqp://user:***@host`, for error messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s + 3 => {
            let userinfo = &url[s + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Stable id of a payload: consumers deduplicate re-sent messages by it.
fn message_id(payload: &[u8]) -> String {
    model::sha256_hex(payload)[..32].to_string()
}

/// Acknowledgement handle of one delivery. Dropped without an answer (the consumer failed or
/// was cancelled mid-way), it hands the message back to the broker at once — counted against the
/// delivery limit — instead of holding a prefetch slot until the connection closes.
struct AmqpAck(Option<lapin::Acker>);

impl AmqpAck {
    fn take(&mut self, verb: &str) -> Result<lapin::Acker, QueueError> {
        self.0.take().ok_or_else(|| QueueError::Transport {
            name: verb.into(),
            message: "delivery already answered".into(),
        })
    }
}

impl Drop for AmqpAck {
    fn drop(&mut self) {
        let Some(acker) = self.0.take() else { return };
        // Without a runtime (process exiting) the closing connection returns the message anyway.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let requeue = BasicNackOptions {
                    requeue: true,
                    ..BasicNackOptions::default()
                };
                if let Err(e) = acker.nack(requeue).await {
                    tracing::debug!(error = %e, "unanswered delivery not returned (connection gone; the broker returns it)");
                }
            });
        }
    }
}

#[async_trait]
impl Ack for AmqpAck {
    async fn ack(mut self: Box<Self>) -> Result<(), QueueError> {
        self.take("ack")?
            .ack(BasicAckOptions::default())
            .await
            .map(|_| ())
            .map_err(|e| QueueError::Transport {
                name: "ack".into(),
                message: e.to_string(),
            })
    }

    async fn nack(mut self: Box<Self>, requeue: bool) -> Result<(), QueueError> {
        self.take("nack")?
            .nack(BasicNackOptions {
                requeue,
                ..BasicNackOptions::default()
            })
            .await
            .map(|_| ())
            .map_err(|e| QueueError::Transport {
                name: "nack".into(),
                message: e.to_string(),
            })
    }
}

#[async_trait]
impl<T> Queue<T> for AmqpQueue<T>
where
    T: Serialize + DeserializeOwned + Send + 'static,
{
    async fn publish(&self, message: T) -> Result<(), QueueError> {
        let payload = serde_json::to_vec(&message).map_err(|e| self.transport(e))?;
        let props = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_delivery_mode(2)
            .with_message_id(ShortString::from(message_id(&payload)));
        // One retry after a reconnect: the first failure is usually a connection that died
        // while idle, or one lost with this message unconfirmed. A message published twice is
        // harmless (stable id, idempotent consumers).
        for attempt in 0..2 {
            // The lock is held only to pick the link: the channel numbers concurrent publishes
            // for confirms itself, and each publisher awaits its own message's confirm.
            let (channel, generation) = {
                let guard = self.ensure_link().await?;
                let link = guard.as_ref().ok_or_else(|| self.closed())?;
                (link.channel.clone(), link.generation)
            };
            let sent = async {
                channel
                    .basic_publish(
                        "".into(),
                        self.name.as_str().into(),
                        BasicPublishOptions::default(),
                        &payload,
                        props.clone(),
                    )
                    .await?
                    .await
            }
            .await;
            match sent {
                Ok(Confirmation::Ack(_)) => return Ok(()),
                Ok(other) => {
                    return Err(self.transport(format!("broker did not confirm: {other:?}")));
                }
                Err(e) => {
                    // Unconfirmed: the connection (or channel) this message went out on is gone.
                    let mut guard = self.link.lock().await;
                    if guard.as_ref().is_some_and(|l| l.generation == generation) {
                        *guard = None;
                    }
                    drop(guard);
                    if attempt > 0 {
                        return Err(self.transport(e));
                    }
                    tracing::warn!(queue = %self.name, error = %e, "publish not confirmed; reconnecting");
                }
            }
        }
        Err(self.closed())
    }

    async fn consume(&self) -> Result<Option<Delivery<T>>, QueueError> {
        loop {
            let mut guard = self.ensure_link().await?;
            let link = guard.as_mut().ok_or_else(|| self.closed())?;
            if link.consumer.is_none() {
                link.channel
                    .basic_qos(self.cfg.prefetch, BasicQosOptions::default())
                    .await
                    .map_err(|e| self.transport(e))?;
                let consumer = link
                    .channel
                    .basic_consume(
                        self.name.as_str().into(),
                        "".into(),
                        BasicConsumeOptions::default(),
                        FieldTable::default(),
                    )
                    .await
                    .map_err(|e| self.transport(e))?;
                link.consumer = Some(consumer);
            }
            let Some(consumer) = link.consumer.as_mut() else {
                continue;
            };
            match consumer.next().await {
                Some(Ok(delivery)) => match serde_json::from_slice::<T>(&delivery.data) {
                    Ok(message) => {
                        return Ok(Some(Delivery::with_ack(
                            message,
                            Box::new(AmqpAck(Some(delivery.acker))),
                        )));
                    }
                    Err(e) => {
                        tracing::error!(queue = %self.name, error = %e, "undecodable message parked");
                        delivery
                            .acker
                            .reject(BasicRejectOptions { requeue: false })
                            .await
                            .map_err(|e| self.transport(e))?;
                    }
                },
                Some(Err(e)) => {
                    tracing::warn!(queue = %self.name, error = %e, "consumer failed; reconnecting");
                    *guard = None;
                }
                None => {
                    // The broker cancelled the consumer (queue deleted, connection closed).
                    *guard = None;
                }
            }
        }
    }

    /// A broker queue outlives its producers: closing is a no-op, consumers keep waiting.
    async fn close(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_redacted_in_messages() {
        assert_eq!(
            redact("amqp://guest:guest@127.0.0.1:5672/%2f"),
            "amqp://guest:***@127.0.0.1:5672/%2f"
        );
        assert_eq!(redact("amqp://127.0.0.1"), "amqp://127.0.0.1");
    }

    #[test]
    fn message_ids_are_content_derived() {
        assert_eq!(message_id(b"{\"a\":1}"), message_id(b"{\"a\":1}"));
        assert_ne!(message_id(b"{\"a\":1}"), message_id(b"{\"a\":2}"));
        assert_eq!(message_id(b"x").len(), 32);
    }

    #[test]
    fn queues_are_quorum_with_a_delivery_limit_and_dead_lettering() {
        let args = queue_arguments("captures", 5);
        let inner = args.inner();
        assert!(matches!(
            inner.get("x-delivery-limit"),
            Some(AMQPValue::LongInt(5))
        ));
        assert!(inner.contains_key("x-dead-letter-exchange"));
        assert!(inner.contains_key("x-queue-type"));
    }
}
