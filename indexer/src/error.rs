//! Errors of the indexer stage.
//!
//! Each variant says which operation failed and on what (directory, capture id, query text), so a
//! log line or a CLI message is enough to act on without a debugger.

use std::path::PathBuf;

use tantivy::TantivyError;

/// Failure of an indexer operation.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The index directory could not be created or read.
    #[error("cannot use index directory {dir}: {source}")]
    Dir {
        /// The configured directory.
        dir: PathBuf,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The index could not be opened or created (corrupt files, or a schema from another version).
    #[error("cannot open index in {dir}: {source}")]
    Open {
        /// The configured directory (`<ram>` for in-memory indexes).
        dir: PathBuf,
        /// Underlying tantivy error.
        source: TantivyError,
    },
    /// Another process (or another `Indexer` in this one) holds the index writer lock.
    #[error("index in {dir} is locked by another writer; stop the other baqylau process first")]
    Locked {
        /// The configured directory.
        dir: PathBuf,
    },
    /// A write was attempted on an index opened with `Indexer::open_read_only`.
    #[error("index in {dir} was opened read-only")]
    ReadOnly {
        /// The index directory.
        dir: PathBuf,
    },
    /// Adding or deleting a document failed.
    #[error("cannot index capture {capture_id}: {source}")]
    Write {
        /// Id of the capture being indexed.
        capture_id: String,
        /// Underlying tantivy error.
        source: TantivyError,
    },
    /// Committing pending documents failed; they will be re-added on redelivery.
    #[error("index commit failed: {0}")]
    Commit(#[source] TantivyError),
    /// The search query text is malformed.
    #[error("invalid search query {query:?}: {message}")]
    Query {
        /// The query as typed.
        query: String,
        /// What is wrong with it.
        message: String,
    },
    /// Executing a search or reading a stored document failed.
    #[error("search failed: {0}")]
    Search(#[source] TantivyError),
    /// Consuming from or acknowledging on the input queue failed.
    #[error(transparent)]
    Queue(#[from] model::QueueError),
    /// A blocking index task (commit) panicked or was cancelled.
    #[error("index background task failed: {0}")]
    Task(String),
}

/// Result of indexer operations.
pub type Result<T, E = IndexError> = std::result::Result<T, E>;
