//! The reporter stage's error: what stops [`crate::Reporter::run`].
//!
//! A malformed message is counted and skipped (it would fail again on every re-delivery); only
//! failures of the queues or the case store — where going on would lose work — end the stage.

use model::{QueueError, StoreError};

/// Why the reporter stage stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReporterError {
    /// Reading flagged captures or publishing screenshot requests failed.
    #[error("reporter queue: {0}")]
    Queue(#[from] QueueError),
    /// The case store failed; the message was not acknowledged and will be delivered again.
    #[error("reporter case store: {0}")]
    Store(#[from] StoreError),
}
