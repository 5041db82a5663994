//! Full-text search over indexed captures.
//!
//! The analyst types a query in tantivy's query language (words, `"phrases"`, `AND`/`OR`/`-`,
//! `title:…`); it is parsed against `title` and `text` with the same [`crate::analyzers::RU_KK`]
//! analyzer used at indexing time, so «пирамиды» finds «пирамида» and Kazakh endings are stripped
//! on both sides. Words are combined with AND by default: monitoring queries are narrowing
//! ("казино промокод"), not exploratory. Host, source and language filters are exact term matches
//! that do not affect the score; so are the fetch-date range and a set of capture ids (how the
//! binary applies a *category* filter: the categories of a capture are known to the classifier
//! and the case store, not to the index, so the caller resolves them to capture ids first). Each
//! hit carries an HTML snippet with the matched words in `<b>`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::ops::Bound;
use tantivy::collector::TopDocs;

use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, EmptyQuery, Occur, Query, QueryParser, RangeQuery,
    TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{Index, Searcher, TantivyDocument, Term};

use crate::error::{IndexError, Result};
use crate::schema::Fields;

/// Upper bound on [`SearchQuery::limit`], so a typo cannot ask for a million documents.
pub const MAX_LIMIT: usize = 1_000;

/// Default number of hits returned by [`SearchQuery::new`].
pub const DEFAULT_LIMIT: usize = 20;

/// Dates beyond ±this many seconds from 1970 (≈ year 2255) are clamped in date filters.
const MAX_DATE_SECS: i64 = 9_000_000_000;

/// Maximum length of a snippet, in characters.
const SNIPPET_CHARS: usize = 200;

/// Boost of title matches over body matches.
const TITLE_BOOST: f32 = 2.0;

/// A search request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    /// Query text in tantivy syntax; empty or blank matches every document (filters still apply).
    pub text: String,
    /// Maximum number of hits (capped at [`MAX_LIMIT`]; 0 returns nothing).
    pub limit: usize,
    /// Only captures of this host (case-insensitive).
    #[serde(default)]
    pub host: Option<String>,
    /// Only captures from this source kind: `web` or `telegram`.
    #[serde(default)]
    pub source: Option<String>,
    /// Only captures in this language (`kk`, `ru`, `en`, `mixed`).
    #[serde(default)]
    pub lang: Option<String>,
    /// Only captures fetched at or after this time.
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Only captures fetched before this time.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// Only these captures (e.g. the captures flagged with a category); `Some(empty)` matches
    /// nothing.
    #[serde(default)]
    pub capture_ids: Option<Vec<String>>,
}

impl SearchQuery {
    /// A query for `text` with [`DEFAULT_LIMIT`] hits and no filters.
    pub fn new(text: impl Into<String>) -> Self {
        SearchQuery {
            text: text.into(),
            limit: DEFAULT_LIMIT,
            ..SearchQuery::default()
        }
    }
}

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    /// Id of the capture.
    pub capture_id: String,
    /// URL of the capture.
    pub url: String,
    /// Page title.
    pub title: String,
    /// Host name.
    pub host: String,
    /// Source kind: `web` or `telegram`.
    pub source: String,
    /// Language tag, when known.
    pub lang: Option<String>,
    /// When the capture was fetched (UTC, second precision).
    pub fetched_at: DateTime<Utc>,
    /// Relevance score (BM25).
    pub score: f32,
    /// Fragment of the text with matched words in `<b>…</b>`; everything else HTML-escaped.
    pub snippet_html: String,
}

/// Builds the tantivy query for `q`: parsed text AND every filter.
pub(crate) fn build_query(
    index: &Index,
    fields: &Fields,
    q: &SearchQuery,
) -> Result<Box<dyn Query>> {
    let text = q.text.trim();
    let main: Box<dyn Query> = if text.is_empty() {
        Box::new(AllQuery)
    } else {
        let mut parser = QueryParser::for_index(index, vec![fields.title, fields.text]);
        parser.set_conjunction_by_default();
        parser.set_field_boost(fields.title, TITLE_BOOST);
        parser.parse_query(text).map_err(|e| IndexError::Query {
            query: q.text.clone(),
            message: e.to_string(),
        })?
    };

    let host = q.host.as_deref().map(str::to_lowercase);
    let filters = [
        (fields.host, host.as_deref()),
        (fields.source, q.source.as_deref()),
        (fields.lang, q.lang.as_deref()),
    ];
    let mut clauses = vec![(Occur::Must, main)];
    for (field, value) in filters {
        if let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) {
            clauses.push((Occur::Must, exact(field, value)));
        }
    }
    let date = |t: Option<DateTime<Utc>>, incl: bool| match t {
        None => Bound::Unbounded,
        Some(t) => {
            let term = Term::from_field_date_for_search(
                fields.fetched_at,
                // tantivy counts nanoseconds in an i64: clamp to its years (1678..2262)
                tantivy::DateTime::from_timestamp_secs(
                    t.timestamp().clamp(-MAX_DATE_SECS, MAX_DATE_SECS),
                ),
            );
            if incl {
                Bound::Included(term)
            } else {
                Bound::Excluded(term)
            }
        }
    };
    if q.since.is_some() || q.until.is_some() {
        let range = RangeQuery::new(date(q.since, true), date(q.until, false));
        clauses.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(Box::new(range), 0.0)),
        ));
    }
    if let Some(ids) = &q.capture_ids {
        let set: Box<dyn Query> = if ids.is_empty() {
            Box::new(EmptyQuery)
        } else {
            let terms = ids.iter().map(|id| Term::from_field_text(fields.id, id));
            Box::new(ConstScoreQuery::new(
                Box::new(TermSetQuery::new(terms)),
                0.0,
            ))
        };
        clauses.push((Occur::Must, set));
    }
    if clauses.len() == 1 {
        return Ok(clauses.remove(0).1);
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

/// A score-neutral exact match on an untokenized field.
fn exact(field: Field, value: &str) -> Box<dyn Query> {
    let term = TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    );
    Box::new(ConstScoreQuery::new(Box::new(term), 0.0))
}

/// Runs `query` and turns the top documents into hits with snippets.
pub(crate) fn execute(
    searcher: &Searcher,
    fields: &Fields,
    query: &dyn Query,
    limit: usize,
) -> Result<Vec<SearchHit>> {
    let limit = limit.min(MAX_LIMIT);
    if limit == 0 {
        return Ok(Vec::new());
    }
    let top = searcher
        .search(query, &TopDocs::with_limit(limit).order_by_score())
        .map_err(IndexError::Search)?;
    let mut snippets =
        SnippetGenerator::create(searcher, query, fields.text).map_err(IndexError::Search)?;
    snippets.set_max_num_chars(SNIPPET_CHARS);

    let mut hits = Vec::with_capacity(top.len());
    for (score, address) in top {
        let doc: TantivyDocument = searcher.doc(address).map_err(IndexError::Search)?;
        let text = stored_str(&doc, fields.text);
        let snippet = snippets.snippet(&text);
        let snippet_html = if snippet.is_empty() {
            // The match was in the title only (or the query had no text): show the opening.
            escape_html(&text.chars().take(SNIPPET_CHARS).collect::<String>())
        } else {
            snippet.to_html()
        };
        let fetched_at = doc
            .get_first(fields.fetched_at)
            .and_then(|v| v.as_datetime())
            .and_then(|d| DateTime::from_timestamp(d.into_timestamp_secs(), 0))
            .unwrap_or_default();
        hits.push(SearchHit {
            capture_id: stored_str(&doc, fields.id),
            url: stored_str(&doc, fields.url),
            title: stored_str(&doc, fields.title),
            host: stored_str(&doc, fields.host),
            source: stored_str(&doc, fields.source),
            lang: Some(stored_str(&doc, fields.lang)).filter(|l| !l.is_empty()),
            fetched_at,
            score,
            snippet_html,
        });
    }
    Ok(hits)
}

/// First stored string value of `field`, or empty.
fn stored_str(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Minimal HTML escaping, matching what tantivy applies to snippet fragments.
fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        let cases = [
            ("<script>", "&lt;script&gt;"),
            ("a & b", "a &amp; b"),
            ("\"q\" 'x'", "&quot;q&quot; &#x27;x&#x27;"),
            ("қазақ", "қазақ"),
        ];
        for (input, want) in cases {
            assert_eq!(escape_html(input), want);
        }
    }

    #[test]
    fn new_query_has_default_limit_and_no_filters() {
        let q = SearchQuery::new("казино");
        assert_eq!(q.limit, DEFAULT_LIMIT);
        assert!(q.host.is_none() && q.source.is_none() && q.lang.is_none());
    }

    #[test]
    fn malformed_queries_are_reported_with_their_text() {
        let (schema, fields) = crate::schema::build();
        let index = Index::create_in_ram(schema);
        crate::analyzers::register(&index);
        for bad in ["nosuchfield:казино", "title:[а TO"] {
            match build_query(&index, &fields, &SearchQuery::new(bad)) {
                Err(IndexError::Query { query, message }) => {
                    assert_eq!(query, bad);
                    assert!(!message.is_empty());
                }
                Err(other) => panic!("{bad:?}: unexpected error {other}"),
                Ok(q) => panic!("{bad:?}: parsed as {q:?}"),
            }
        }
    }
}
