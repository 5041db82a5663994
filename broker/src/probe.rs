//! [`QueueProbe`]: reads queue depths without declaring anything, for `stats` and `/metrics`.
//!
//! An [`crate::AmqpQueue`] declares its queue (creating it if missing) and its consumer holds the
//! link while it waits for a message, so depth reads for monitoring go through a probe of their
//! own: one connection, passive declarations only, a missing queue reported as absent rather
//! than created.

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties};
use model::QueueError;
use tokio::sync::Mutex;

/// Depth of one queue as the broker reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepth {
    /// Queue name.
    pub name: String,
    /// Messages ready for delivery (not counting unacknowledged ones); `None` if the queue
    /// does not exist.
    pub ready: Option<u32>,
    /// Consumers attached; `None` if the queue does not exist.
    pub consumers: Option<u32>,
}

/// Passive depth reads over one lazily (re)opened connection.
pub struct QueueProbe {
    url: String,
    link: Mutex<Option<(Connection, Channel)>>,
}

impl QueueProbe {
    /// Connects to `url` (fails loudly when the broker is unreachable).
    pub async fn connect(url: &str) -> Result<QueueProbe, QueueError> {
        let probe = QueueProbe {
            url: url.to_string(),
            link: Mutex::new(None),
        };
        probe.channel(&mut *probe.link.lock().await).await?;
        Ok(probe)
    }

    async fn channel<'a>(
        &self,
        link: &'a mut Option<(Connection, Channel)>,
    ) -> Result<&'a Channel, QueueError> {
        let healthy = link
            .as_ref()
            .is_some_and(|(c, ch)| c.status().connected() && ch.status().connected());
        if !healthy {
            let err = |e: lapin::Error| QueueError::Transport {
                name: "probe".into(),
                message: format!("{}: {e}", crate::queue::redact(&self.url)),
            };
            // Reuse a live connection whose channel a missing queue closed.
            let conn = match link.take() {
                Some((c, _)) if c.status().connected() => c,
                _ => Connection::connect(
                    &self.url,
                    ConnectionProperties::default().with_connection_name("baqylau:probe".into()),
                )
                .await
                .map_err(err)?,
            };
            let ch = conn.create_channel().await.map_err(err)?;
            *link = Some((conn, ch));
        }
        match link.as_ref() {
            Some((_, ch)) => Ok(ch),
            None => Err(QueueError::Closed("probe".into())),
        }
    }

    /// Depths of `names`, in order. A missing queue is reported with `None` counts.
    pub async fn depths(&self, names: &[String]) -> Result<Vec<QueueDepth>, QueueError> {
        let mut link = self.link.lock().await;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let ch = self.channel(&mut link).await?;
            let passive = QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            };
            match ch
                .queue_declare(name.as_str().into(), passive, FieldTable::default())
                .await
            {
                Ok(q) => out.push(QueueDepth {
                    name: name.clone(),
                    ready: Some(q.message_count()),
                    consumers: Some(q.consumer_count()),
                }),
                // 404 NOT_FOUND closes the channel; the next name gets a fresh one.
                Err(e) if is_not_found(&e) => out.push(QueueDepth {
                    name: name.clone(),
                    ready: None,
                    consumers: None,
                }),
                Err(e) => {
                    *link = None;
                    return Err(QueueError::Transport {
                        name: name.clone(),
                        message: e.to_string(),
                    });
                }
            }
        }
        Ok(out)
    }
}

fn is_not_found(e: &lapin::Error) -> bool {
    matches!(e.kind(), lapin::ErrorKind::ProtocolError(amqp) if amqp.get_id() == 404)
}
