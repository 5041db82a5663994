//! Shared vocabulary of the baqylau pipeline.
//!
//! Every stage (crawler → indexer / classifier → reporter) talks to the others only through the
//! typed messages defined here, carried by a [`Queue`]. The crate is deliberately small and does no
//! I/O of its own: it holds the data model ([`Capture`], [`Hit`], [`Flagged`], [`Case`],
//! [`Evidence`]), the legal vocabulary ([`Route`], [`CaseStatus`]) and the two seams that have
//! several implementations — [`Queue`] (in-process channels here, RabbitMQ elsewhere) and
//! [`CaseStore`] (SQLite, PostgreSQL).
//!
//! ```
//! use model::{Capture, Source};
//! let c = Capture::failed("http://casino.kz/", "casino.kz", model::FailureKind::Connect, "refused");
//! assert!(c.is_failed());
//! assert_eq!(c.source, Source::Web);
//! ```
#![warn(missing_docs)]

mod capture;
mod case;
mod hit;
mod ids;
mod indicator;
mod queue;
mod script;
mod search;
mod store;
mod taxonomy;

pub use capture::{Capture, FailureKind, FetchFailure, Source, WarcRef};
pub use case::{
    Case, CaseFilter, CaseHit, CaseSort, CaseStatus, CaseSummary, Decision, Evidence, Route,
    Screenshot, Viewport,
};
pub use hit::{Field, Flagged, Hit, Severity, Span};
pub use ids::{capture_id, sha256_hex};
pub use indicator::Indicator;
pub use queue::{Ack, Delivery, MemoryQueue, Queue, QueueError};
pub use script::is_kazakh_letter;
pub use search::{SearchBackend, SearchError, SearchRequest, SearchResult};
pub use store::{CaseStore, CaseUpsert, ScreenshotRequest, StoreError};
pub use taxonomy::{Category, Localized, RuleInfo, Taxonomy, TaxonomyError};
