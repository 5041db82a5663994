//! Case storage backends.
//!
//! The reporter owns its tables (cases, hits, evidence, decisions). SQLite is the embedded backend;
//! a PostgreSQL one for the distributed deployment implements the same [`model::CaseStore`] trait
//! and must follow the same [`crate::workflow`] and [`crate::evidence`] rules.

mod migrate;
mod sqlite;

pub use sqlite::SqliteCaseStore;
