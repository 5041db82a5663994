//! Case storage backends.
//!
//! The reporter owns its tables (cases, hits, evidence, decisions, and the desk's users, sessions,
//! audit chain, comments and notifications). SQLite is the embedded backend; a PostgreSQL one for
//! the distributed deployment implements the same [`model::CaseStore`] trait and must follow the
//! same [`crate::workflow`] and [`crate::evidence`] rules. The desk operations (users, audit,
//! notifications) are inherent methods of [`SqliteCaseStore`], one module per concept.

pub mod audit;
mod migrate;
pub mod notifications;
pub mod rechecks;
mod sqlite;
pub mod triage;
pub mod users;

pub use sqlite::SqliteCaseStore;
