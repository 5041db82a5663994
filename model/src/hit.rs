//! What the classifier says about a capture: which rule fired, which version, on which bytes.

use serde::{Deserialize, Serialize};

use crate::Capture;

/// Which part of a capture a span points into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// [`Capture::title`].
    Title,
    /// [`Capture::text`].
    #[default]
    Text,
    /// [`Capture::url`].
    Url,
}

/// A byte range `[start, end)` in the *original* (not normalized) field text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    /// Field the offsets refer to.
    #[serde(default)]
    pub field: Field,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// Rule severity, set by the rule author.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Weak signal, review when convenient.
    Low,
    /// Default.
    #[default]
    Medium,
    /// Strong signal.
    High,
}

/// One rule firing on one capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hit {
    /// Capture the rule fired on.
    pub capture_id: String,
    /// Rule id, e.g. `pyramid.guaranteed_returns`.
    pub rule: String,
    /// Rule version at the time of the hit (rules evolve; hits stay explainable).
    pub rule_version: u32,
    /// Taxonomy category id, e.g. `financial_pyramid`.
    pub category: String,
    /// Severity of the rule.
    #[serde(default)]
    pub severity: Severity,
    /// Score in `0..=1` (severity and number of matched terms).
    pub score: f32,
    /// Matched byte spans in the original text.
    pub spans: Vec<Span>,
    /// The matched text fragments joined with ` … `, for display and logs.
    pub matched: String,
}

/// Message from the classifier to the reporter: a capture and every hit on it.
///
/// The capture travels with its hits so the reporter can keep the evidence (text, hashes, WARC
/// reference) without reading the crawler's tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flagged {
    /// The capture that was classified.
    pub capture: Capture,
    /// Hits, at least one.
    pub hits: Vec<Hit>,
}
