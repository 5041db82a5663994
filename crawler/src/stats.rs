//! What a crawl did: live counters for progress bars and metrics, and the summary of a run.
//!
//! [`CrawlCounters`] are atomics bumped by the scheduling loop as work happens (like quickwit's
//! `DocProcessorCounters`: bad input is counted, not fatal). [`CrawlStats`] is the summary a run
//! returns and that [`stats_from_dir`] recomputes from `crawler.sqlite` for `baqylau stats`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use crate::error::{CrawlError, Result};
use crate::frontier::Frontier;

/// File name of the crawler database inside the data directory.
pub const DB_FILE: &str = "crawler.sqlite";

/// Live counters of a crawler. Read with [`CrawlCounters::get`].
#[derive(Debug, Default)]
pub struct CrawlCounters {
    /// Fetches that produced content (status < 400).
    pub fetched: AtomicU64,
    /// Fetches that failed (network, policy, size, status ≥ 400).
    pub failed: AtomicU64,
    /// URLs not fetched because robots.txt forbids them.
    pub robots_denied: AtomicU64,
    /// Body bytes received (decoded).
    pub bytes: AtomicU64,
    /// URLs waiting in the frontier.
    pub queued: AtomicU64,
    /// Fetches running now.
    pub in_flight: AtomicU64,
    /// Captures published (Telegram pages publish one per post).
    pub captures: AtomicU64,
    /// Failed attempts put back in the queue for a retry.
    pub retries: AtomicU64,
}

impl CrawlCounters {
    /// Relaxed read of a counter.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn sub(counter: &AtomicU64, n: u64) {
        // Saturating: a counter must never wrap around on a miscount.
        let _ = counter.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| {
            Some(v.saturating_sub(n))
        });
    }

    pub(crate) fn set(counter: &AtomicU64, n: u64) {
        counter.store(n, Ordering::Relaxed);
    }
}

/// Summary of a crawl (one run, or the whole data directory for [`stats_from_dir`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrawlStats {
    /// Fetches that produced content.
    pub pages_fetched: u64,
    /// Captures published.
    pub captures: u64,
    /// Failed fetches.
    pub failed: u64,
    /// Failed fetches per `FailureKind` name (`connect`, `blocked`, …).
    pub failures_by_kind: BTreeMap<String, u64>,
    /// URLs refused by robots.txt.
    pub robots_denied: u64,
    /// Body bytes received.
    pub bytes: u64,
    /// Distinct hosts in the frontier.
    pub hosts: u64,
    /// URLs still queued (left for a later run by `max_pages`, or on a parked host).
    pub queued: u64,
    /// Failed attempts that were requeued for a retry (429, 5xx, timeouts…).
    #[serde(default)]
    pub retries: u64,
    /// Hosts parked (too many consecutive failures, or too long a `Retry-After`).
    #[serde(default)]
    pub parked_hosts: u64,
}

/// Totals of everything crawled into `data_dir`, read from its `crawler.sqlite`.
pub fn stats_from_dir(data_dir: &Path) -> Result<CrawlStats> {
    let path = data_dir.join(DB_FILE);
    if !path.exists() {
        return Err(CrawlError::Io {
            path,
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no crawler database here; run `baqylau crawl --data DIR` first",
            ),
        });
    }
    let f = Frontier::open_read_only(&path)?;
    crate::capture_log::totals(f.conn()).map_err(|e| f.err(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_database_is_a_clear_error() {
        let dir = std::env::temp_dir().join(format!("baqylau-nostats-{}", std::process::id()));
        let e = stats_from_dir(&dir).unwrap_err();
        assert!(e.to_string().contains("run `baqylau crawl"), "{e}");
    }

    #[test]
    fn counters_saturate() {
        let c = CrawlCounters::default();
        CrawlCounters::add(&c.queued, 2);
        CrawlCounters::sub(&c.queued, 5);
        assert_eq!(CrawlCounters::get(&c.queued), 0);
    }
}
