//! Reading the stored captures back, every one of them, in index order.
//!
//! Search returns the best matches of a query; a rule author backtesting a new rule set needs
//! the opposite — every capture the crawler has seen, to run the rules over them
//! (`baqylau rules backtest`). The index already stores title and text for snippets, so the
//! captures are read straight from tantivy's document store, segment by segment, skipping
//! deleted (replaced) documents.

use chrono::{DateTime, Utc};
use tantivy::schema::{Field, Value};
use tantivy::{Searcher, TantivyDocument};

use crate::error::{IndexError, Result};
use crate::schema::Fields;

/// A capture as stored in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDoc {
    /// Capture id.
    pub capture_id: String,
    /// URL of the capture.
    pub url: String,
    /// Host name.
    pub host: String,
    /// `web` or `telegram`.
    pub source: String,
    /// Language tag, when the crawler set one.
    pub lang: Option<String>,
    /// When it was fetched (UTC, second precision).
    pub fetched_at: DateTime<Utc>,
    /// Title.
    pub title: String,
    /// Visible text.
    pub text: String,
}

/// Number of compressed store blocks each segment reader caches while iterating.
const STORE_CACHE_BLOCKS: usize = 4;

/// Calls `f` for every live document; returns how many there were.
pub(crate) fn for_each(
    searcher: &Searcher,
    fields: &Fields,
    mut f: impl FnMut(StoredDoc),
) -> Result<u64> {
    let mut n = 0;
    for segment in searcher.segment_readers() {
        let store = segment
            .get_store_reader(STORE_CACHE_BLOCKS)
            .map_err(|e| IndexError::Search(e.into()))?;
        for doc in store.iter::<TantivyDocument>(segment.alive_bitset()) {
            let doc = doc.map_err(IndexError::Search)?;
            f(stored_doc(&doc, fields));
            n += 1;
        }
    }
    Ok(n)
}

fn stored_doc(doc: &TantivyDocument, fields: &Fields) -> StoredDoc {
    let s = |field: Field| {
        doc.get_first(field)
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let lang = s(fields.lang);
    StoredDoc {
        capture_id: s(fields.id),
        url: s(fields.url),
        host: s(fields.host),
        source: s(fields.source),
        lang: (!lang.is_empty()).then_some(lang),
        fetched_at: doc
            .get_first(fields.fetched_at)
            .and_then(|v| v.as_datetime())
            .and_then(|d| DateTime::from_timestamp(d.into_timestamp_secs(), 0))
            .unwrap_or_default(),
        title: s(fields.title),
        text: s(fields.text),
    }
}
