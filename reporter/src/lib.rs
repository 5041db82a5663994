//! reporter
