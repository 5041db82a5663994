//! The queue seam between stages.
//!
//! Delivery is at-least-once in every implementation: a consumer acknowledges a message only after
//! its effects are durable, and must tolerate seeing a message twice (ids are content-derived).
//! [`MemoryQueue`] is the embedded implementation (tokio channel); the RabbitMQ one lives with the
//! distributed deployment.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{Mutex, mpsc};

/// Queue failure.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Every consumer is gone; nothing can be delivered any more.
    #[error("queue {0} is closed")]
    Closed(String),
    /// Transport error (broker connection, serialization).
    #[error("queue {name}: {message}")]
    Transport {
        /// Queue name.
        name: String,
        /// Detail.
        message: String,
    },
}

/// Acknowledgement handle of a delivery.
#[async_trait]
pub trait Ack: Send {
    /// The message was processed; the queue may forget it.
    async fn ack(self: Box<Self>) -> Result<(), QueueError>;
    /// The message could not be processed. With `requeue` it is delivered again (brokers count
    /// redeliveries and park a poison message after a limit); without, it is parked at once.
    async fn nack(self: Box<Self>, requeue: bool) -> Result<(), QueueError>;
}

/// A message taken from a queue, to be acknowledged once processed.
pub struct Delivery<T> {
    /// The message.
    pub message: T,
    ack: Option<Box<dyn Ack>>,
}

impl<T> Delivery<T> {
    /// A delivery that needs no acknowledgement (in-process channels).
    pub fn unacked(message: T) -> Self {
        Delivery { message, ack: None }
    }

    /// A delivery with an acknowledgement handle.
    pub fn with_ack(message: T, ack: Box<dyn Ack>) -> Self {
        Delivery {
            message,
            ack: Some(ack),
        }
    }

    /// Acknowledge the delivery.
    pub async fn ack(self) -> Result<(), QueueError> {
        match self.ack {
            Some(a) => a.ack().await,
            None => Ok(()),
        }
    }

    /// Refuse the delivery (see [`Ack::nack`]); a no-op for in-process channels, where a failed
    /// message has nowhere else to go and the consumer reports it.
    pub async fn nack(self, requeue: bool) -> Result<(), QueueError> {
        match self.ack {
            Some(a) => a.nack(requeue).await,
            None => Ok(()),
        }
    }
}

/// A typed work queue between two stages.
#[async_trait]
pub trait Queue<T: Send + 'static>: Send + Sync {
    /// Enqueue a message. Waits when the queue is full (back-pressure).
    async fn publish(&self, message: T) -> Result<(), QueueError>;
    /// Next message, or `None` once the queue is closed and drained.
    async fn consume(&self) -> Result<Option<Delivery<T>>, QueueError>;
    /// Signal that no more messages will be published by this producer.
    async fn close(&self);
}

/// In-process bounded queue on a tokio channel. Cloning shares the same queue.
pub struct MemoryQueue<T> {
    name: String,
    tx: Mutex<Option<mpsc::Sender<T>>>,
    rx: Arc<Mutex<mpsc::Receiver<T>>>,
}

impl<T> MemoryQueue<T> {
    /// A queue holding at most `capacity` messages in flight.
    pub fn new(name: impl Into<String>, capacity: usize) -> Self {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        MemoryQueue {
            name: name.into(),
            tx: Mutex::new(Some(tx)),
            rx: Arc::new(Mutex::new(rx)),
        }
    }
}

#[async_trait]
impl<T: Send + 'static> Queue<T> for MemoryQueue<T> {
    async fn publish(&self, message: T) -> Result<(), QueueError> {
        let tx = self.tx.lock().await.clone();
        match tx {
            Some(tx) => tx
                .send(message)
                .await
                .map_err(|_| QueueError::Closed(self.name.clone())),
            None => Err(QueueError::Closed(self.name.clone())),
        }
    }

    async fn consume(&self) -> Result<Option<Delivery<T>>, QueueError> {
        Ok(self.rx.lock().await.recv().await.map(Delivery::unacked))
    }

    async fn close(&self) {
        self.tx.lock().await.take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn memory_queue_delivers_in_order_and_drains_after_close() {
        let q = MemoryQueue::new("t", 4);
        q.publish(1).await.unwrap();
        q.publish(2).await.unwrap();
        q.close().await;
        assert!(q.publish(3).await.is_err());
        let a = q.consume().await.unwrap().unwrap();
        assert_eq!(a.message, 1);
        a.ack().await.unwrap();
        assert_eq!(q.consume().await.unwrap().unwrap().message, 2);
        assert!(q.consume().await.unwrap().is_none());
    }
}
