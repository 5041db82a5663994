//! The crawler's error type: what can stop a crawl as a whole.
//!
//! A single page that fails is *not* an error here — it becomes a failed [`model::Capture`] and a
//! count (see [`crate::CrawlCounters`]). `CrawlError` is reserved for what the operator must fix:
//! a bad configuration, an unusable data directory, a broken database, a closed output queue.

use std::path::PathBuf;

/// Crate-wide result type.
pub type Result<T> = std::result::Result<T, CrawlError>;

/// Why a crawl could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum CrawlError {
    /// The configuration is inconsistent (e.g. zero connections per host).
    #[error("invalid crawler config: {0}")]
    Config(String),
    /// A seed is not a crawlable http(s) URL.
    #[error("invalid seed url {url:?}: {reason}")]
    Seed {
        /// The seed as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The data directory (or a file under it) could not be created or written.
    #[error("{path}: {source}")]
    Io {
        /// File or directory concerned.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The crawler database (`crawler.sqlite`) failed.
    #[error("crawler database {path}: {source}")]
    Database {
        /// Path of the database file.
        path: PathBuf,
        /// Underlying error.
        source: rusqlite::Error,
    },
    /// The shared frontier (PostgreSQL, distributed mode) failed.
    #[error("shared frontier (PostgreSQL): {0}")]
    Postgres(#[from] sqlx_core::Error),
    /// The shared frontier's schema could not be migrated.
    #[error("shared frontier migration: {0}")]
    Migrate(#[from] sqlx_core::migrate::MigrateError),
    /// The HTTP client could not be built (TLS backend initialisation).
    #[error("cannot build http client: {0}")]
    Client(String),
    /// The output queue refused a capture (every consumer is gone).
    #[error("cannot publish capture: {0}")]
    Queue(#[from] model::QueueError),
}
