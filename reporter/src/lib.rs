//! The reporter stage: flagged captures become cases an analyst can judge.
//!
//! It sits at the end of the pipeline (crawler → classifier → **reporter**). It groups the
//! classifier's hits into cases — one per category and resource, so a page seen again adds
//! evidence, not a new case — keeps the evidence of every capture (text, hashes, WARC record,
//! screenshot), asks for screenshots, and serves the analysts' web UI and JSON API where a person
//! confirms (with a legal route) or dismisses each case. No case is decided by a machine.
//!
//! Primary types:
//! - [`SqliteCaseStore`]: the embedded [`model::CaseStore`] (SQLite, WAL, numbered migrations);
//! - [`PgCaseStore`]: the distributed one (PostgreSQL, pooled, sqlx migrations);
//! - [`Desk`]: the desk operations (users, audit, triage, notifications) of either store, so
//!   the web UI runs on the backend chosen at run time (`Arc<dyn Desk>`);
//! - [`Reporter`]: the stage task reading `Queue<Flagged>`, writing `Queue<ScreenshotRequest>`;
//! - [`web::router`] / [`web::serve`]: the analyst UI (server-rendered HTML in kk/ru/en) and API.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use model::{CaseFilter, CaseStore, Decision, Route};
//! let store = Arc::new(reporter::SqliteCaseStore::open_in_memory()?);
//! assert!(store.list_cases(&CaseFilter::default()).await?.is_empty());
//! let refused = store
//!     .decide(1, &Decision::Confirm { route: Route::Blocking, justification: " ".into() }, "aigul")
//!     .await;
//! assert!(matches!(refused, Err(model::StoreError::Invalid(_))));
//! # Ok::<(), model::StoreError>(()) }).unwrap();
//! ```
#![warn(missing_docs)]

pub mod auth;
pub mod bundle;
mod error;
pub mod evidence;
pub mod forms;
pub mod indicators;
pub mod notification;
pub mod outbox;
pub mod recheck;
mod stage;
pub mod store;
pub mod web;
pub mod workflow;

pub use error::ReporterError;
pub use stage::{Reporter, ReporterStats};
pub use store::{Desk, PgCaseStore, SqliteCaseStore};

#[cfg(test)]
mod tests {
    /// The store and the stage are shared between tokio tasks (web handlers, the stage loop).
    #[test]
    fn public_types_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<crate::SqliteCaseStore>();
        assert_send_sync::<crate::PgCaseStore>();
        assert_send_sync::<crate::Reporter>();
        assert_send_sync::<crate::web::AppState>();
        assert_send_sync::<crate::ReporterError>();
    }
}
