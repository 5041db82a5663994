//! The search seam: the analyst UI asks for captures by words and filters without knowing the
//! index. The binary implements [`SearchBackend`] over the tantivy index (and the case store for
//! the category filter) and hands it to the reporter, which does not depend on the indexer.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A search as the UI asks it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchRequest {
    /// Query text (words, `"phrases"`, `AND`/`OR`/`-`); empty lists everything.
    #[serde(default)]
    pub text: String,
    /// Maximum results.
    #[serde(default)]
    pub limit: usize,
    /// Only captures flagged with this category (evidence of a case of it).
    #[serde(default)]
    pub category: Option<String>,
    /// Only this source kind: `web` or `telegram`.
    #[serde(default)]
    pub source: Option<String>,
    /// Only this language: `kk`, `ru`, `en`, `mixed`.
    #[serde(default)]
    pub lang: Option<String>,
    /// Only this host.
    #[serde(default)]
    pub host: Option<String>,
    /// Fetched at or after.
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Fetched before.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

/// One result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResult {
    /// Capture id.
    pub capture_id: String,
    /// URL.
    pub url: String,
    /// Title.
    pub title: String,
    /// Host.
    pub host: String,
    /// `web` or `telegram`.
    pub source: String,
    /// Language tag, when known.
    pub lang: Option<String>,
    /// Fetch time.
    pub fetched_at: DateTime<Utc>,
    /// Relevance.
    pub score: f32,
    /// Text fragment with matched words in `<b>…</b>`, everything else HTML-escaped.
    pub snippet_html: String,
}

/// Search failure, as text for the user (a malformed query, an unreadable index).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SearchError(pub String);

/// Full-text search over captures.
#[async_trait]
pub trait SearchBackend: Send + Sync {
    /// Results, best first.
    async fn search(&self, request: &SearchRequest) -> Result<Vec<SearchResult>, SearchError>;
}
