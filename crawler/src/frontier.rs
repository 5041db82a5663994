//! The durable frontier: every URL the crawl knows, with its state, in SQLite.
//!
//! A URL is inserted once (the normalized URL is unique) as `queued`, claimed as `in_flight`, and
//! ends `done`, `failed` or `denied` (robots.txt). Because the state lives on disk, a crawl
//! killed mid-flight resumes: [`Frontier::open`] puts `in_flight` rows back to `queued`, and
//! `done` rows are never claimed again. The same database holds the capture log
//! (the `captures` table, see [`crate::FetchRecord`]) so `baqylau stats` reads one file.

use std::path::{Path, PathBuf};

use chrono::Utc;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{CrawlError, Result};

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
    last_error    TEXT
);
CREATE INDEX IF NOT EXISTS urls_state_host ON urls(state, host, id);
CREATE INDEX IF NOT EXISTS urls_host ON urls(host);
";

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
            .execute(
                "INSERT OR IGNORE INTO urls (url, host, depth, page_seq, discovered_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![url, host, depth, page_seq, Utc::now().to_rfc3339()],
            )
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
        let mut stmt = self
            .conn
            .prepare_cached("SELECT DISTINCT host FROM urls WHERE state = 'queued'")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get(0))
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<String>>>();
        rows.map_err(|e| self.err(e))
    }

    /// Claims the oldest queued URL of `host`, marking it `in_flight`.
    pub fn claim(&self, host: &str) -> Result<Option<FrontierEntry>> {
        let entry = self
            .conn
            .query_row(
                "SELECT id, url, host, depth, page_seq FROM urls
                 WHERE state = 'queued' AND host = ?1 ORDER BY id LIMIT 1",
                [host],
                |r| {
                    Ok(FrontierEntry {
                        id: r.get(0)?,
                        url: r.get(1)?,
                        host: r.get(2)?,
                        depth: r.get(3)?,
                        page_seq: r.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        if let Some(e) = &entry {
            self.conn
                .execute(
                    "UPDATE urls SET state = 'in_flight', attempts = attempts + 1, updated_at = ?2
                     WHERE id = ?1",
                    params![e.id, Utc::now().to_rfc3339()],
                )
                .map_err(|e| self.err(e))?;
        }
        Ok(entry)
    }

    /// Records the outcome of a claimed URL.
    pub fn finish(&self, id: i64, state: UrlState, error: Option<&str>) -> Result<()> {
        self.conn
            .execute(
                "UPDATE urls SET state = ?2, last_error = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, state.as_str(), error, Utc::now().to_rfc3339()],
            )
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

fn db_err(path: &Path, source: rusqlite::Error) -> CrawlError {
    CrawlError::Database {
        path: path.to_path_buf(),
        source,
    }
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
        let e = f.claim("a.kz").unwrap().unwrap();
        assert_eq!((e.url.as_str(), e.depth), ("http://a.kz/1", 0));
        assert_eq!(f.claim("a.kz").unwrap().unwrap().url, "http://a.kz/2");
        assert_eq!(f.claim("a.kz").unwrap(), None);
        assert_eq!(f.count(UrlState::InFlight).unwrap(), 2);
        f.finish(e.id, UrlState::Done, None).unwrap();
        assert_eq!(
            f.state_of("http://a.kz/1").unwrap().as_deref(),
            Some("done")
        );
    }

    #[test]
    fn reopen_requeues_in_flight_and_keeps_done() {
        let path = temp_db("resume");
        {
            let f = Frontier::open(&path).unwrap();
            f.add("http://a.kz/1", "a.kz", 0, 0).unwrap();
            f.add("http://a.kz/2", "a.kz", 0, 0).unwrap();
            let done = f.claim("a.kz").unwrap().unwrap();
            f.finish(done.id, UrlState::Done, None).unwrap();
            f.claim("a.kz").unwrap().unwrap(); // "crash" while in flight
        }
        let f = Frontier::open(&path).unwrap();
        assert_eq!(f.count(UrlState::InFlight).unwrap(), 0);
        let again = f.claim("a.kz").unwrap().unwrap();
        assert_eq!(again.url, "http://a.kz/2");
        assert_eq!(
            f.claim("a.kz").unwrap(),
            None,
            "done url is not claimed again"
        );
    }
}
