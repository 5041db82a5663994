//! The durable frontier: every URL the crawl knows, with its state, in SQLite.
//!
//! A URL is inserted once (the normalized URL is unique) as `queued`, claimed as `in_flight`, and
//! ends `done`, `failed` or `denied` (robots.txt). Because the state lives on disk, a crawl
//! killed mid-flight resumes: [`Frontier::open`] puts `in_flight` rows back to `queued`, and
//! `done` rows are never claimed again. A transient failure (429, 503, timeout…) puts the URL back
//! to `queued` with a `next_fetch_at` in the future (exponential backoff, see the crawler's `retry` module);
//! claims skip URLs not yet due. Host state that must survive a restart — a host parked after
//! exhausting its error budget, and until when — lives in the `hosts` table. The same database
//! holds the capture log (the `captures` table, see [`crate::FetchRecord`]) so `baqylau stats`
//! reads one file.
//!
//! The scheduler keeps per-host counts in memory ([`Frontier::queued_by_host`] and
//! [`Frontier::known_by_host`] load them once), so no query here scans a host's rows per page.
//!
//! This is the embedded frontier. Distributed mode keeps the same URL lifecycle in PostgreSQL,
//! shared by several crawler workers that lease hosts: [`postgres`].

use std::path::{Path, PathBuf};

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{CrawlError, Result};

pub mod postgres;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS urls (
    id            INTEGER PRIMARY KEY,
    url           TEXT NOT NULL UNIQUE,
    host          TEXT NOT NULL,
    depth         INTEGER NOT NULL,
    page_seq      INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL DEFAULT 'queued',
    attempts      INTEGER NOT NULL DEFAULT 0,
    discovered_at TEXT NOT NULL,
    updated_at    TEXT,
    last_error    TEXT,
    next_fetch_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS urls_state_host ON urls(state, host, id);
CREATE INDEX IF NOT EXISTS urls_host ON urls(host);
CREATE TABLE IF NOT EXISTS hosts (
    host               TEXT PRIMARY KEY,
    parked_until       INTEGER NOT NULL DEFAULT 0,
    consecutive_errors INTEGER NOT NULL DEFAULT 0,
    reason             TEXT
);
";

/// Columns added after the first schema, with their definitions (added on open when missing).
const MIGRATIONS: &[(&str, &str, &str)] = &[
    ("urls", "next_fetch_at", "INTEGER NOT NULL DEFAULT 0"),
    ("urls", "etag", "TEXT"),
    ("urls", "last_modified", "TEXT"),
    ("urls", "simhash", "INTEGER"),
    ("urls", "revisit_ms", "INTEGER"),
    ("urls", "next_visit_at", "INTEGER"),
];

/// Milliseconds since the Unix epoch, the unit of `next_fetch_at` and `parked_until`.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Lifecycle of a frontier URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlState {
    /// Waiting to be fetched.
    Queued,
    /// Claimed by a worker.
    InFlight,
    /// Fetched (a response was received, whatever its status handling).
    Done,
    /// Fetch failed.
    Failed,
    /// robots.txt forbids it.
    Denied,
}

impl UrlState {
    /// Name stored in the `state` column.
    pub fn as_str(self) -> &'static str {
        match self {
            UrlState::Queued => "queued",
            UrlState::InFlight => "in_flight",
            UrlState::Done => "done",
            UrlState::Failed => "failed",
            UrlState::Denied => "denied",
        }
    }
}

/// A claimed URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontierEntry {
    /// Row id.
    pub id: i64,
    /// Normalized URL.
    pub url: String,
    /// Politeness key (host, plus port when not default).
    pub host: String,
    /// Link depth from a seed.
    pub depth: u32,
    /// Pagination distance (Telegram `?before=` pages) from the first listing page.
    pub page_seq: u32,
    /// Fetch attempts so far, this claim included.
    pub attempts: u32,
    /// `ETag` of the previous successful fetch (sent as `If-None-Match`).
    pub etag: Option<String>,
    /// `Last-Modified` of the previous successful fetch (sent as `If-Modified-Since`).
    pub last_modified: Option<String>,
}

/// Revisit intervals: a page that changed since the last visit is revisited twice as soon, one
/// that did not (same SimHash, or `304 Not Modified`) twice as late, within `[min, max]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevisitPolicy {
    /// Interval after a first visit.
    pub initial_ms: i64,
    /// Shortest interval.
    pub min_ms: i64,
    /// Longest interval.
    pub max_ms: i64,
}

impl Default for RevisitPolicy {
    fn default() -> Self {
        RevisitPolicy {
            initial_ms: 24 * 3600 * 1000,
            min_ms: 3600 * 1000,
            max_ms: 30 * 24 * 3600 * 1000,
        }
    }
}

/// What a successful visit found, for [`Frontier::record_visit`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visit {
    /// `ETag` response header.
    pub etag: Option<String>,
    /// `Last-Modified` response header.
    pub last_modified: Option<String>,
    /// SimHash of the text.
    pub simhash: Option<u64>,
    /// The server answered `304 Not Modified`.
    pub not_modified: bool,
}

/// A host taken out of the crawl after too many consecutive failures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedHost {
    /// Politeness key.
    pub host: String,
    /// Until when (ms since the epoch) it stays parked.
    pub until_ms: i64,
    /// Why.
    pub reason: String,
}

/// The frontier database.
#[derive(Debug)]
pub struct Frontier {
    conn: Connection,
    path: PathBuf,
}

impl Frontier {
    /// Opens or creates the database at `path`, and requeues rows left `in_flight` by a crash.
    pub fn open(path: &Path) -> Result<Self> {
        let conn = Connection::open(path).map_err(|e| db_err(path, e))?;
        let f = Frontier {
            conn,
            path: path.to_path_buf(),
        };
        f.conn
            .execute_batch(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
            )
            .map_err(|e| f.err(e))?;
        f.conn.execute_batch(SCHEMA).map_err(|e| f.err(e))?;
        for (table, column, def) in MIGRATIONS {
            let exists: bool = f
                .conn
                .query_row(
                    &format!(
                        "SELECT COUNT(*) > 0 FROM pragma_table_info('{table}') WHERE name = ?1"
                    ),
                    [column],
                    |r| r.get(0),
                )
                .map_err(|e| f.err(e))?;
            if !exists {
                f.conn
                    .execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {def}"))
                    .map_err(|e| f.err(e))?;
            }
        }
        crate::capture_log::create(&f.conn).map_err(|e| f.err(e))?;
        let requeued = f
            .conn
            .execute(
                "UPDATE urls SET state = 'queued' WHERE state = 'in_flight'",
                [],
            )
            .map_err(|e| f.err(e))?;
        if requeued > 0 {
            tracing::info!(
                requeued,
                "resuming: in-flight urls of an interrupted crawl requeued"
            );
        }
        Ok(f)
    }

    /// Opens an existing database read-only (for `stats`).
    pub fn open_read_only(path: &Path) -> Result<Self> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| db_err(path, e))?;
        Ok(Frontier {
            conn,
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn err(&self, e: rusqlite::Error) -> CrawlError {
        db_err(&self.path, e)
    }

    /// Inserts a URL as `queued` unless already known; returns whether it was new.
    pub fn add(&self, url: &str, host: &str, depth: u32, page_seq: u32) -> Result<bool> {
        let n = self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO urls (url, host, depth, page_seq, discovered_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![url, host, depth, page_seq, Utc::now().to_rfc3339()])
            })
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// Number of URLs known for a host (any state): the per-host budget.
    pub fn host_count(&self, host: &str) -> Result<u64> {
        self.conn
            .query_row("SELECT COUNT(*) FROM urls WHERE host = ?1", [host], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Hosts that have queued URLs.
    pub fn queued_hosts(&self) -> Result<Vec<String>> {
        Ok(self.queued_by_host()?.into_iter().map(|(h, _)| h).collect())
    }

    /// Number of queued URLs per host (one grouped scan; the scheduler keeps it in memory).
    pub fn queued_by_host(&self) -> Result<Vec<(String, u64)>> {
        self.grouped("SELECT host, COUNT(*) FROM urls WHERE state = 'queued' GROUP BY host")
    }

    /// Number of known URLs (any state) per host: the per-host budget, kept in memory.
    pub fn known_by_host(&self) -> Result<Vec<(String, u64)>> {
        self.grouped("SELECT host, COUNT(*) FROM urls GROUP BY host")
    }

    fn grouped(&self, sql: &str) -> Result<Vec<(String, u64)>> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
            })
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>();
        rows.map_err(|e| self.err(e))
    }

    /// Claims the oldest queued URL of `host` that is due at `now_ms`, marking it `in_flight`.
    pub fn claim(&self, host: &str, now_ms: i64) -> Result<Option<FrontierEntry>> {
        Ok(self.claim_up_to(host, now_ms, 1)?.pop())
    }

    /// Claims up to `max` of the oldest queued URLs of `host` due at `now_ms`, in order, marking
    /// them `in_flight` — one transaction for the lot, where [`Frontier::claim`] commits each.
    pub fn claim_many(&self, host: &str, now_ms: i64, max: usize) -> Result<Vec<FrontierEntry>> {
        if max <= 1 {
            return self.claim_up_to(host, now_ms, 1);
        }
        self.conn.execute_batch("BEGIN").map_err(|e| self.err(e))?;
        let claimed = self.claim_up_to(host, now_ms, max);
        let end = if claimed.is_ok() {
            "COMMIT"
        } else {
            "ROLLBACK"
        };
        self.conn.execute_batch(end).map_err(|e| self.err(e))?;
        claimed
    }

    /// The claim itself: selects up to `max` due URLs of `host`, oldest first, and marks them
    /// `in_flight`. The caller decides the transaction around it.
    fn claim_up_to(&self, host: &str, now_ms: i64, max: usize) -> Result<Vec<FrontierEntry>> {
        let entries = self
            .conn
            .prepare_cached(
                "SELECT id, url, host, depth, page_seq, attempts, etag, last_modified FROM urls
                 WHERE state = 'queued' AND host = ?1 AND next_fetch_at <= ?2 ORDER BY id LIMIT ?3",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![host, now_ms, max as i64], claimed_entry)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(|e| self.err(e))?;
        let updated_at = Utc::now().to_rfc3339();
        let mut stmt = self
            .conn
            .prepare_cached(
                "UPDATE urls SET state = 'in_flight', attempts = attempts + 1, updated_at = ?2
                 WHERE id = ?1",
            )
            .map_err(|e| self.err(e))?;
        for e in &entries {
            stmt.execute(params![e.id, updated_at])
                .map_err(|e| self.err(e))?;
        }
        Ok(entries)
    }

    /// When the earliest queued URL of `host` becomes due (ms since the epoch).
    pub fn next_due(&self, host: &str) -> Result<Option<i64>> {
        self.conn
            .query_row(
                "SELECT MIN(next_fetch_at) FROM urls WHERE state = 'queued' AND host = ?1",
                [host],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Records a successful visit: validators for the next conditional GET, the SimHash, and the
    /// adapted revisit interval (returned, in ms).
    pub fn record_visit(
        &self,
        id: i64,
        visit: &Visit,
        policy: &RevisitPolicy,
        now_ms: i64,
    ) -> Result<i64> {
        let (old_hash, old_interval): (Option<i64>, Option<i64>) = self
            .conn
            .prepare_cached("SELECT simhash, revisit_ms FROM urls WHERE id = ?1")
            .and_then(|mut st| st.query_row([id], |r| Ok((r.get(0)?, r.get(1)?))))
            .map_err(|e| self.err(e))?;
        let (interval, simhash) = revisit_interval(visit, policy, old_hash, old_interval);
        self.conn
            .prepare_cached(
                "UPDATE urls SET etag = COALESCE(?2, etag), last_modified = COALESCE(?3, last_modified),
                 simhash = ?4, revisit_ms = ?5, next_visit_at = ?6 WHERE id = ?1",
            )
            .and_then(|mut st| {
                st.execute(params![
                    id,
                    visit.etag,
                    visit.last_modified,
                    simhash,
                    interval,
                    now_ms + interval
                ])
            })
            .map_err(|e| self.err(e))?;
        Ok(interval)
    }

    /// Puts every fetched URL whose revisit time has come back in the queue; returns how many.
    pub fn requeue_due_revisits(&self, now_ms: i64) -> Result<usize> {
        self.conn
            .execute(
                "UPDATE urls SET state = 'queued', attempts = 0, next_fetch_at = 0
                 WHERE state = 'done' AND next_visit_at IS NOT NULL AND next_visit_at <= ?1",
                [now_ms],
            )
            .map_err(|e| self.err(e))
    }

    /// Puts a claimed URL back in the queue, due at `due_ms` (a retry after a transient failure).
    pub fn requeue(&self, id: i64, due_ms: i64, error: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE urls SET state = 'queued', next_fetch_at = ?2, last_error = ?3,
                 updated_at = ?4 WHERE id = ?1",
                params![id, due_ms, error, Utc::now().to_rfc3339()],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Parks `host` until `until_ms`; its queued URLs stay queued for a later run.
    pub fn park_host(&self, host: &str, until_ms: i64, errors: u32, reason: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO hosts (host, parked_until, consecutive_errors, reason)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(host) DO UPDATE SET parked_until = ?2, consecutive_errors = ?3,
                 reason = ?4",
                params![host, until_ms, errors, reason],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Hosts parked beyond `now_ms`.
    pub fn parked_hosts(&self, now_ms: i64) -> Result<Vec<ParkedHost>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT host, parked_until, COALESCE(reason, '') FROM hosts
                 WHERE parked_until > ?1 ORDER BY host",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([now_ms], |r| {
                Ok(ParkedHost {
                    host: r.get(0)?,
                    until_ms: r.get(1)?,
                    reason: r.get(2)?,
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>();
        rows.map_err(|e| self.err(e))
    }

    /// Records the outcome of a claimed URL.
    pub fn finish(&self, id: i64, state: UrlState, error: Option<&str>) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE urls SET state = ?2, last_error = ?3, updated_at = ?4 WHERE id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![id, state.as_str(), error, Utc::now().to_rfc3339()])
            })
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Number of URLs in a state.
    pub fn count(&self, state: UrlState) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM urls WHERE state = ?1",
                [state.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// Number of distinct hosts known.
    pub fn host_total(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT COUNT(DISTINCT host) FROM urls", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(|e| self.err(e))
    }

    /// State of one URL, if known.
    pub fn state_of(&self, url: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT state FROM urls WHERE url = ?1", [url], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }
}

/// The next revisit interval (ms) and the SimHash to keep, from what the previous visit stored
/// (`old_hash`, `old_interval`) and what this one found. Shared by both frontier backends.
pub(crate) fn revisit_interval(
    visit: &Visit,
    policy: &RevisitPolicy,
    old_hash: Option<i64>,
    old_interval: Option<i64>,
) -> (i64, Option<i64>) {
    let changed = match (visit.not_modified, old_hash, visit.simhash) {
        (true, _, _) => false,
        (false, Some(old), Some(new)) => {
            crate::simhash::distance(old as u64, new) > crate::simhash::NEAR_DUPLICATE_BITS
        }
        _ => true,
    };
    let interval = match old_interval {
        None => policy.initial_ms,
        Some(i) if changed => i / 2,
        Some(i) => i.saturating_mul(2),
    }
    .clamp(policy.min_ms, policy.max_ms);
    let simhash = if visit.not_modified {
        old_hash
    } else {
        visit.simhash.map(|h| h as i64)
    };
    (interval, simhash)
}

fn db_err(path: &Path, source: rusqlite::Error) -> CrawlError {
    CrawlError::Database {
        path: path.to_path_buf(),
        source,
    }
}

/// A row of the claim queries (`id, url, host, depth, page_seq, attempts, etag, last_modified`)
/// as the entry it becomes once claimed: one attempt more than recorded.
fn claimed_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<FrontierEntry> {
    Ok(FrontierEntry {
        id: r.get(0)?,
        url: r.get(1)?,
        host: r.get(2)?,
        depth: r.get(3)?,
        page_seq: r.get(4)?,
        attempts: r.get::<_, u32>(5)? + 1,
        etag: r.get(6)?,
        last_modified: r.get(7)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("baqylau-frontier-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("crawler.sqlite")
    }

    #[test]
    fn add_is_idempotent_and_claim_follows_insertion_order() {
        let f = Frontier::open(&temp_db("order")).unwrap();
        assert!(f.add("http://a.kz/1", "a.kz", 0, 0).unwrap());
        assert!(!f.add("http://a.kz/1", "a.kz", 3, 0).unwrap());
        assert!(f.add("http://a.kz/2", "a.kz", 1, 0).unwrap());
        assert!(f.add("http://b.kz/", "b.kz", 0, 0).unwrap());
        assert_eq!(f.host_count("a.kz").unwrap(), 2);
        let mut hosts = f.queued_hosts().unwrap();
        hosts.sort();
        assert_eq!(hosts, ["a.kz", "b.kz"]);
        let mut known = f.known_by_host().unwrap();
        known.sort();
        assert_eq!(known, [("a.kz".to_string(), 2), ("b.kz".to_string(), 1)]);
        let e = f.claim("a.kz", now_ms()).unwrap().unwrap();
        assert_eq!(
            (e.url.as_str(), e.depth, e.attempts),
            ("http://a.kz/1", 0, 1)
        );
        assert_eq!(
            f.claim("a.kz", now_ms()).unwrap().unwrap().url,
            "http://a.kz/2"
        );
        assert_eq!(f.claim("a.kz", now_ms()).unwrap(), None);
        assert_eq!(f.count(UrlState::InFlight).unwrap(), 2);
        f.finish(e.id, UrlState::Done, None).unwrap();
        assert_eq!(
            f.state_of("http://a.kz/1").unwrap().as_deref(),
            Some("done")
        );
    }

    #[test]
    fn claim_many_takes_the_oldest_due_urls_in_order() {
        let f = Frontier::open(&temp_db("many")).unwrap();
        for i in 0..5 {
            f.add(&format!("http://a.kz/{i}"), "a.kz", 0, 0).unwrap();
        }
        f.add("http://b.kz/", "b.kz", 0, 0).unwrap();
        let t0 = now_ms();
        let first = f.claim("a.kz", t0).unwrap().unwrap();
        f.requeue(first.id, t0 + 60_000, "HTTP 503").unwrap();
        let got = f.claim_many("a.kz", t0, 3).unwrap();
        let urls: Vec<&str> = got.iter().map(|e| e.url.as_str()).collect();
        assert_eq!(urls, ["http://a.kz/1", "http://a.kz/2", "http://a.kz/3"]);
        assert!(got.iter().all(|e| e.attempts == 1));
        assert_eq!(f.count(UrlState::InFlight).unwrap(), 3);
        let rest = f.claim_many("a.kz", t0, 10).unwrap();
        assert_eq!(rest.len(), 1, "the retry is not due yet");
        assert_eq!(rest[0].url, "http://a.kz/4");
        assert!(f.claim_many("a.kz", t0, 10).unwrap().is_empty());
        let again = f.claim_many("a.kz", t0 + 60_000, 10).unwrap();
        assert_eq!(
            (again[0].url.as_str(), again[0].attempts),
            ("http://a.kz/0", 2)
        );
        assert_eq!(f.claim_many("b.kz", t0, 1).unwrap().len(), 1);
    }

    #[test]
    fn reopen_requeues_in_flight_and_keeps_done() {
        let path = temp_db("resume");
        {
            let f = Frontier::open(&path).unwrap();
            f.add("http://a.kz/1", "a.kz", 0, 0).unwrap();
            f.add("http://a.kz/2", "a.kz", 0, 0).unwrap();
            let done = f.claim("a.kz", now_ms()).unwrap().unwrap();
            f.finish(done.id, UrlState::Done, None).unwrap();
            f.claim("a.kz", now_ms()).unwrap().unwrap(); // "crash" while in flight
        }
        let f = Frontier::open(&path).unwrap();
        assert_eq!(f.count(UrlState::InFlight).unwrap(), 0);
        let again = f.claim("a.kz", now_ms()).unwrap().unwrap();
        assert_eq!(again.url, "http://a.kz/2");
        assert_eq!(
            f.claim("a.kz", now_ms()).unwrap(),
            None,
            "done url is not claimed again"
        );
    }

    #[test]
    fn requeued_url_waits_until_due_and_parked_hosts_persist() {
        let path = temp_db("retry");
        let f = Frontier::open(&path).unwrap();
        f.add("http://a.kz/1", "a.kz", 0, 0).unwrap();
        let t0 = now_ms();
        let e = f.claim("a.kz", t0).unwrap().unwrap();
        f.requeue(e.id, t0 + 60_000, "HTTP 429").unwrap();
        assert_eq!(f.claim("a.kz", t0).unwrap(), None, "not due yet");
        assert_eq!(f.next_due("a.kz").unwrap(), Some(t0 + 60_000));
        let again = f.claim("a.kz", t0 + 60_000).unwrap().unwrap();
        assert_eq!(again.attempts, 2);
        f.park_host("a.kz", t0 + 1000, 5, "5 consecutive failures")
            .unwrap();
        drop(f);
        let f = Frontier::open(&path).unwrap();
        let parked = f.parked_hosts(t0).unwrap();
        assert_eq!(parked.len(), 1);
        assert_eq!(parked[0].reason, "5 consecutive failures");
        assert!(f.parked_hosts(t0 + 1000).unwrap().is_empty());
    }

    #[test]
    fn old_database_gains_new_columns() {
        let path = temp_db("migrate");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE urls (id INTEGER PRIMARY KEY, url TEXT NOT NULL UNIQUE,
                 host TEXT NOT NULL, depth INTEGER NOT NULL, page_seq INTEGER NOT NULL DEFAULT 0,
                 state TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,
                 discovered_at TEXT NOT NULL, updated_at TEXT, last_error TEXT);
                 INSERT INTO urls (url, host, depth, discovered_at)
                 VALUES ('http://a.kz/', 'a.kz', 0, 'x');",
            )
            .unwrap();
        }
        let f = Frontier::open(&path).unwrap();
        assert_eq!(
            f.claim("a.kz", now_ms()).unwrap().unwrap().url,
            "http://a.kz/"
        );
    }

    #[test]
    fn revisit_interval_adapts_to_change() {
        let f = Frontier::open(&temp_db("revisit")).unwrap();
        f.add("http://a.kz/", "a.kz", 0, 0).unwrap();
        let p = RevisitPolicy {
            initial_ms: 8_000,
            min_ms: 1_000,
            max_ms: 64_000,
        };
        let t0 = now_ms();
        let e = f.claim("a.kz", t0).unwrap().unwrap();
        assert_eq!(
            (e.etag.as_deref(), e.last_modified.as_deref()),
            (None, None)
        );
        let first = Visit {
            etag: Some("\"v1\"".into()),
            last_modified: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
            simhash: Some(0),
            not_modified: false,
        };
        assert_eq!(f.record_visit(e.id, &first, &p, t0).unwrap(), 8_000);
        f.finish(e.id, UrlState::Done, None).unwrap();
        assert_eq!(f.requeue_due_revisits(t0 + 7_999).unwrap(), 0);
        assert_eq!(f.requeue_due_revisits(t0 + 8_000).unwrap(), 1);
        let e = f.claim("a.kz", t0).unwrap().unwrap();
        assert_eq!(
            e.etag.as_deref(),
            Some("\"v1\""),
            "validators for a conditional GET"
        );
        let unchanged = Visit {
            not_modified: true,
            ..Visit::default()
        };
        assert_eq!(f.record_visit(e.id, &unchanged, &p, t0).unwrap(), 16_000);
        let changed = Visit {
            simhash: Some(u64::MAX),
            ..Visit::default()
        };
        assert_eq!(f.record_visit(e.id, &changed, &p, t0).unwrap(), 8_000);
        let near_same = Visit {
            simhash: Some(u64::MAX ^ 1),
            ..Visit::default()
        };
        assert_eq!(f.record_visit(e.id, &near_same, &p, t0).unwrap(), 16_000);
        let etag: String = f
            .conn()
            .query_row("SELECT etag FROM urls WHERE id = ?1", [e.id], |r| r.get(0))
            .unwrap();
        assert_eq!(etag, "\"v1\"", "validators kept when a visit brings none");
    }
}
