//! `baqylau search`: full-text search over the captures of a data directory, with the filters
//! an analyst narrows by — category, source, language, fetch date, host.
//!
//! The index knows neither rules nor cases, so `--category` is resolved here: the capture ids of
//! every case of that category (its evidence) come from the case store, and the search is
//! restricted to them. A category therefore means "flagged with it", which is what an analyst
//! filtering by category wants.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use indexer::{Indexer, IndexerConfig, SearchQuery};
use model::{CaseFilter, CaseStore, SearchBackend, SearchError, SearchRequest, SearchResult};

use crate::data_dir::DataDir;

/// Arguments of `baqylau search`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
    pub data: PathBuf,
    /// Query (tantivy syntax: words, "phrases", AND/OR/NOT, title:word); "" lists everything.
    pub query: String,
    /// Maximum results.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Only this host.
    #[arg(long)]
    pub host: Option<String>,
    /// Only this source (`web`, `telegram`).
    #[arg(long)]
    pub source: Option<String>,
    /// Only this language (`kk`, `ru`, `en`, `mixed`).
    #[arg(long)]
    pub lang: Option<String>,
    /// Only captures flagged with this category (taxonomy id, e.g. `illegal_gambling`).
    #[arg(long)]
    pub category: Option<String>,
    /// Only captures fetched on or after this date (`YYYY-MM-DD` or RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub since: Option<DateTime<Utc>>,
    /// Only captures fetched before this date (`YYYY-MM-DD` or RFC 3339).
    #[arg(long, value_parser = parse_time)]
    pub until: Option<DateTime<Utc>>,
    /// One JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Parses `YYYY-MM-DD` (midnight UTC) or an RFC 3339 timestamp.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("expected YYYY-MM-DD or RFC 3339: {e}"))
}

/// Capture ids of the evidence of every case of `category`.
pub async fn category_capture_ids(
    store: &dyn CaseStore,
    category: &str,
) -> anyhow::Result<Vec<String>> {
    let filter = CaseFilter {
        category: Some(category.to_string()),
        ..CaseFilter::default()
    };
    let mut ids = Vec::new();
    for summary in store.list_cases(&filter).await? {
        if let Some(case) = store.get_case(summary.id).await? {
            ids.extend(case.evidence.into_iter().map(|e| e.capture_id));
        }
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// [`SearchBackend`] of the analyst UI (`GET /search`): the data directory's index, read-only
/// (it follows the crawler's commits), and the case store for the category filter.
pub struct IndexSearch {
    index: Arc<Indexer>,
    store: Arc<dyn CaseStore>,
}

impl IndexSearch {
    /// Opens the index of `data` read-only; `None` when there is no index yet.
    pub fn open(data: &DataDir, store: Arc<dyn CaseStore>) -> Option<IndexSearch> {
        match Indexer::open_read_only(&data.index_dir()) {
            Ok(index) => Some(IndexSearch {
                index: Arc::new(index),
                store,
            }),
            Err(e) => {
                tracing::warn!(error = %e, "no search index: /search is unavailable");
                None
            }
        }
    }
}

#[async_trait::async_trait]
impl SearchBackend for IndexSearch {
    async fn search(&self, r: &SearchRequest) -> Result<Vec<SearchResult>, SearchError> {
        let capture_ids = match &r.category {
            None => None,
            Some(c) => Some(
                category_capture_ids(self.store.as_ref(), c)
                    .await
                    .map_err(|e| SearchError(e.to_string()))?,
            ),
        };
        let q = SearchQuery {
            text: r.text.clone(),
            limit: r.limit,
            host: r.host.clone(),
            source: r.source.clone(),
            lang: r.lang.clone(),
            since: r.since,
            until: r.until,
            capture_ids,
        };
        let index = Arc::clone(&self.index);
        let hits = tokio::task::spawn_blocking(move || index.search(&q))
            .await
            .map_err(|e| SearchError(e.to_string()))?
            .map_err(|e| SearchError(e.to_string()))?;
        Ok(hits
            .into_iter()
            .map(|h| SearchResult {
                capture_id: h.capture_id,
                url: h.url,
                title: h.title,
                host: h.host,
                source: h.source,
                lang: h.lang,
                fetched_at: h.fetched_at,
                score: h.score,
                snippet_html: h.snippet_html,
            })
            .collect())
    }
}

/// Runs `baqylau search`; exit 1 when nothing matches.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let data = DataDir::existing(&args.data)?;
    let index = Indexer::open_read_only(&data.index_dir())
        .or_else(|_| Indexer::open(&IndexerConfig::new(data.index_dir())))
        .with_context(|| format!("cannot open the index in {}", data.index_dir().display()))?;
    let capture_ids = match &args.category {
        None => None,
        Some(category) => {
            let store = reporter::SqliteCaseStore::open(&data.cases_db())?;
            let ids = super::runtime()?.block_on(category_capture_ids(&store, category))?;
            Some(ids)
        }
    };
    let hits = index.search(&SearchQuery {
        text: args.query.clone(),
        limit: args.limit,
        host: args.host.clone(),
        source: args.source.clone(),
        lang: args.lang.clone(),
        since: args.since,
        until: args.until,
        capture_ids,
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&hits)?);
    } else {
        for h in &hits {
            println!(
                "{:>6.2}  {}  {}  {}",
                h.score,
                h.fetched_at.format("%Y-%m-%d %H:%M"),
                h.lang.as_deref().unwrap_or("-"),
                h.url
            );
            if !h.title.is_empty() {
                println!("        {}", h.title);
            }
            let plain = h.snippet_html.replace("<b>", "[").replace("</b>", "]");
            println!("        {}", plain.replace('\n', " "));
        }
        println!("{} result(s)", hits.len());
    }
    Ok(if hits.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_as_day_or_timestamp() {
        assert_eq!(
            parse_time("2026-03-01").unwrap().to_rfc3339(),
            "2026-03-01T00:00:00+00:00"
        );
        assert_eq!(
            parse_time("2026-03-01T10:00:00+05:00")
                .unwrap()
                .to_rfc3339(),
            "2026-03-01T05:00:00+00:00"
        );
        assert!(parse_time("01.03.2026").is_err());
    }
}
