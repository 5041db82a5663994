//! The crawler's own log of fetches (`captures` table), the source of `baqylau stats`.
//!
//! One row per fetch attempt, successful or failed, written by the scheduling loop after the
//! captures of that fetch were published. Telegram preview pages yield several captures per
//! fetch; the `captures` column counts them. A failed attempt that was requeued for a retry is
//! logged with `retried = 1` and publishes nothing; only the last attempt counts as a failure.

use std::collections::BTreeMap;

use rusqlite::{Connection, params};

use crate::stats::CrawlStats;

/// One fetch, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRecord {
    /// Requested URL.
    pub url: String,
    /// URL after redirects.
    pub final_url: String,
    /// Host name.
    pub host: String,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Failure kind (`model::FailureKind::as_str`), when failed.
    pub error_kind: Option<String>,
    /// Failure detail.
    pub error_message: Option<String>,
    /// Body bytes received.
    pub bytes: u64,
    /// Captures published from this fetch.
    pub captures: u64,
    /// RFC 3339 fetch time.
    pub fetched_at: String,
    /// The attempt failed transiently and the URL was requeued (nothing was published).
    pub retried: bool,
    /// SimHash of the extracted text ([`crate::simhash`]), for near-duplicate detection.
    pub simhash: Option<u64>,
}

pub(crate) fn create(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS captures (
            id            INTEGER PRIMARY KEY,
            url           TEXT NOT NULL,
            final_url     TEXT NOT NULL,
            host          TEXT NOT NULL,
            status        INTEGER,
            error_kind    TEXT,
            error_message TEXT,
            bytes         INTEGER NOT NULL DEFAULT 0,
            captures      INTEGER NOT NULL DEFAULT 0,
            fetched_at    TEXT NOT NULL,
            retried       INTEGER NOT NULL DEFAULT 0,
            simhash       INTEGER
        );",
    )?;
    for (column, def) in [
        ("retried", "INTEGER NOT NULL DEFAULT 0"),
        ("simhash", "INTEGER"),
    ] {
        let exists: bool = conn.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('captures') WHERE name = ?1",
            [column],
            |r| r.get(0),
        )?;
        if !exists {
            conn.execute_batch(&format!("ALTER TABLE captures ADD COLUMN {column} {def}"))?;
        }
    }
    Ok(())
}

pub(crate) fn insert(conn: &Connection, r: &FetchRecord) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO captures (url, final_url, host, status, error_kind, error_message, bytes,
                               captures, fetched_at, retried, simhash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        r.url,
        r.final_url,
        r.host,
        r.status,
        r.error_kind,
        r.error_message,
        r.bytes as i64,
        r.captures as i64,
        r.fetched_at,
        r.retried,
        r.simhash.map(|h| h as i64)
    ])?;
    Ok(())
}

/// Totals over the whole log and frontier.
pub(crate) fn totals(conn: &Connection) -> rusqlite::Result<CrawlStats> {
    let (pages_fetched, failed, captures, bytes, retries): (i64, i64, i64, i64, i64) = conn
        .query_row(
            "SELECT COALESCE(SUM(error_kind IS NULL), 0),
                    COALESCE(SUM(error_kind IS NOT NULL AND retried = 0), 0),
                    COALESCE(SUM(captures), 0), COALESCE(SUM(bytes), 0), COALESCE(SUM(retried), 0)
             FROM captures",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )?;
    let mut failures_by_kind = BTreeMap::new();
    let mut stmt = conn.prepare(
        "SELECT error_kind, COUNT(*) FROM captures WHERE error_kind IS NOT NULL AND retried = 0
         GROUP BY error_kind",
    )?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (k, n) = row?;
        failures_by_kind.insert(k, n as u64);
    }
    let count = |sql: &str| {
        conn.query_row(sql, [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
    };
    Ok(CrawlStats {
        pages_fetched: pages_fetched as u64,
        captures: captures as u64,
        failed: failed as u64,
        failures_by_kind,
        robots_denied: count("SELECT COUNT(*) FROM urls WHERE state = 'denied'")?,
        bytes: bytes as u64,
        hosts: count("SELECT COUNT(DISTINCT host) FROM urls")?,
        queued: count("SELECT COUNT(*) FROM urls WHERE state = 'queued'")?,
        retries: retries as u64,
        parked_hosts: count(
            "SELECT COUNT(*) FROM hosts
             WHERE parked_until > CAST(strftime('%s', 'now') AS INTEGER) * 1000",
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_over_log_and_frontier() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE urls (url TEXT, host TEXT, state TEXT);
             INSERT INTO urls VALUES ('http://a.kz/', 'a.kz', 'done'),
                                     ('http://a.kz/p', 'a.kz', 'denied'),
                                     ('http://b.kz/', 'b.kz', 'queued');
             CREATE TABLE hosts (host TEXT, parked_until INTEGER);
             INSERT INTO hosts VALUES ('c.kz', 9999999999999), ('d.kz', 0);",
        )
        .unwrap();
        create(&conn).unwrap();
        let rec = |status, kind: Option<&str>, bytes, captures| FetchRecord {
            url: "http://a.kz/".into(),
            final_url: "http://a.kz/".into(),
            host: "a.kz".into(),
            status,
            error_kind: kind.map(String::from),
            error_message: kind.map(|_| "x".to_string()),
            bytes,
            captures,
            fetched_at: "2025-01-01T00:00:00Z".into(),
            retried: false,
            simhash: None,
        };
        insert(&conn, &rec(Some(200), None, 100, 1)).unwrap();
        insert(&conn, &rec(Some(200), None, 50, 20)).unwrap();
        insert(&conn, &rec(Some(404), Some("status"), 10, 1)).unwrap();
        insert(&conn, &rec(None, Some("connect"), 0, 1)).unwrap();
        insert(&conn, &rec(None, Some("connect"), 0, 1)).unwrap();
        let retry = FetchRecord {
            retried: true,
            captures: 0,
            ..rec(Some(429), Some("status"), 0, 0)
        };
        insert(&conn, &retry).unwrap();
        let s = totals(&conn).unwrap();
        assert_eq!(
            (s.pages_fetched, s.failed, s.captures, s.bytes),
            (2, 3, 24, 160)
        );
        assert_eq!(s.failures_by_kind.get("connect"), Some(&2));
        assert_eq!(s.failures_by_kind.get("status"), Some(&1));
        assert_eq!((s.retries, s.parked_hosts), (1, 1));
        assert_eq!((s.robots_denied, s.hosts, s.queued), (1, 2, 1));
    }
}
