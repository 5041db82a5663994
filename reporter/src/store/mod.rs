//! Case storage backends.
//!
//! The reporter owns its tables (cases, hits, evidence, decisions, and the desk's users, sessions,
//! audit chain, comments and notifications). SQLite is the embedded backend; [`PgCaseStore`]
//! (PostgreSQL) is the distributed one. Both implement [`model::CaseStore`] and follow the same
//! [`crate::workflow`] and [`crate::evidence`] rules, which one storage test suite
//! (`conformance`) checks against both. The desk operations (users, audit, notifications) are
//! inherent methods of each store, one module per concept, reached through the [`Desk`] trait
//! when the backend is chosen at run time.

pub mod audit;
#[cfg(test)]
pub(crate) mod conformance;
mod desk;
mod listing;
mod migrate;
pub mod notifications;
pub mod postgres;
pub mod rechecks;
mod sqlite;
pub mod triage;
pub mod users;

pub use desk::Desk;
pub use postgres::PgCaseStore;
pub use sqlite::SqliteCaseStore;
