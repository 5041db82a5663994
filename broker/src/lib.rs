//! RabbitMQ transport for the distributed deployment.
//!
//! The embedded deployment connects stages with in-process channels ([`model::MemoryQueue`]);
//! when one machine is not enough, the same stage code runs in separate worker processes and
//! talks through RabbitMQ. [`AmqpQueue`] implements [`model::Queue`] over one durable queue:
//!
//! - **at-least-once**: messages are persistent, every publish waits for the broker's publisher
//!   confirm of its message, and consumers acknowledge manually after their effects are durable;
//!   tasks sharing a handle publish concurrently (pipelined confirms on one channel), so
//!   throughput grows with the publishes a caller keeps in flight (`examples/publish_rate.rs`);
//! - **poison messages are parked, never lost**: queues are quorum queues with a delivery limit
//!   and a dead-letter queue `<name>.dead`; a message that cannot be decoded is parked at once;
//! - **back-pressure**: a prefetch limit bounds unacknowledged deliveries per consumer;
//! - **stable message ids**: the id is derived from the payload, so consumers can deduplicate
//!   re-sent messages.
//!
//! A lost connection is re-established on the next call, with backoff; in-flight unacknowledged
//! deliveries are redelivered by the broker.
#![warn(missing_docs)]

mod probe;
mod queue;

pub use probe::{QueueDepth, QueueProbe};
pub use queue::{AmqpConfig, AmqpQueue, DEAD_LETTER_EXCHANGE};
