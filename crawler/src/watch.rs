//! Continuous monitoring: the crawl that keeps running, and what it remembers of Telegram posts.
//!
//! A one-shot crawl stops when its frontier is exhausted; a *watching* crawl instead sleeps
//! until the next URL is due for a revisit (the frontier's adaptive schedule for pages, a fixed
//! short interval for Telegram channel previews, where new posts appear by the minute) and goes
//! on until it is told to stop. [`Watch`] carries those settings and the stop signal into
//! [`crate::Crawler::set_watch`].
//!
//! Revisiting a channel page every few seconds would republish the same twenty posts each time,
//! and each republished post would add evidence and screenshots to its case. So the crawler keeps
//! a `telegram_posts` table (one row per post it has seen, with the SHA-256 of its text) and
//! publishes a post only when it is **new** or **edited** (same id, different text: a new capture
//! version, the old capture stays in the case). A known post that is missing from a page whose
//! id range covers it was **deleted** by the channel; it is marked with the time it was noticed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use model::{Capture, Source};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::frontier::RevisitPolicy;

/// Settings of a watching crawl.
#[derive(Debug, Clone)]
pub struct Watch {
    /// Revisit interval of Telegram channel previews (first page of `/s/<channel>`).
    pub channel_revisit: Duration,
    /// Becomes `true` when the crawl must stop (SIGINT/SIGTERM): no new fetches are started,
    /// fetches in flight finish and are published, then [`crate::Crawler::run`] returns.
    pub stop: tokio::sync::watch::Receiver<bool>,
}

impl Watch {
    /// True once a stop was requested.
    pub fn stopping(&self) -> bool {
        *self.stop.borrow()
    }

    /// The fixed revisit policy of a channel preview's first page, `None` for other URLs (they
    /// follow [`crate::CrawlerConfig::revisit`]).
    pub(crate) fn policy_for(&self, url: &str, telegram_hosts: &[String]) -> Option<RevisitPolicy> {
        let u = url::Url::parse(url).ok()?;
        crate::telegram::channel_of(&u, telegram_hosts)?;
        if u.query().is_some() {
            return None; // `?before=` history pages change rarely.
        }
        let ms = self.channel_revisit.as_millis().max(1) as i64;
        Some(RevisitPolicy {
            initial_ms: ms,
            min_ms: ms,
            max_ms: ms,
        })
    }

    /// Waits until `deadline` or a stop request, whichever comes first.
    pub(crate) async fn sleep_until(&mut self, deadline: tokio::time::Instant) {
        if self.stopping() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {}
            _ = self.stop.changed() => {}
        }
    }
}

/// Creates the `telegram_posts` table (idempotent).
pub(crate) fn create(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS telegram_posts (
            channel      TEXT NOT NULL,
            post_id      INTEGER NOT NULL,
            url          TEXT NOT NULL,
            text_sha256  TEXT NOT NULL,
            versions     INTEGER NOT NULL DEFAULT 1,
            capture_id   TEXT NOT NULL,
            first_seen   TEXT NOT NULL,
            last_seen    TEXT NOT NULL,
            edited_at    TEXT,
            deleted_at   TEXT,
            PRIMARY KEY (channel, post_id)
        );",
    )
}

/// What became of one post on a fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostChange {
    /// Never seen before.
    New,
    /// Seen with a different text: a new version.
    Edited,
    /// Seen with the same text: not republished.
    Unchanged,
}

/// One post of a fetched channel page (post id 0: the channel header, title + description),
/// with the hash its text is compared by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PagePost {
    pub(crate) channel: String,
    pub(crate) post_id: u64,
    pub(crate) url: String,
    pub(crate) text_sha256: String,
    pub(crate) capture_id: String,
    pub(crate) fetched_at: DateTime<Utc>,
}

/// The comparison of one fetched channel page with what the crawler knew of its posts; built
/// before the captures are published ([`PostDiff::compute`] here, the shared frontier's
/// `telegram_diff` in distributed mode), stored after ([`PostDiff::record`], or within the
/// shared frontier's completion).
#[derive(Debug, Default)]
pub(crate) struct PostDiff {
    /// Every post of the page, with what became of it.
    pub(crate) seen: Vec<(PagePost, PostChange)>,
    /// Known posts missing from the page's id range: `(channel, post id)`.
    pub(crate) deleted: Vec<(String, u64)>,
}

/// The `(channel, post id)` key of a capture from a channel page, if it is one: a post, or the
/// channel header (id 0).
fn post_key(c: &Capture, telegram_hosts: &[String]) -> Option<(String, u64)> {
    match &c.source {
        Source::Telegram {
            channel, post_id, ..
        } => Some((channel.clone(), *post_id)),
        Source::Web if c.error.is_none() => {
            let u = url::Url::parse(&c.url).ok()?;
            let channel = crate::telegram::channel_of(&u, telegram_hosts)?;
            u.query().is_none().then_some((channel, 0))
        }
        _ => None,
    }
}

/// The channel-page posts among `captures` (captures of other pages are left alone).
pub(crate) fn page_posts(captures: &[Capture], telegram_hosts: &[String]) -> Vec<PagePost> {
    captures
        .iter()
        .filter_map(|c| {
            let (channel, post_id) = post_key(c, telegram_hosts)?;
            Some(PagePost {
                channel,
                post_id,
                url: c.url.clone(),
                text_sha256: model::sha256_hex(format!("{}\n{}", c.title, c.text).as_bytes()),
                capture_id: c.id.clone(),
                fetched_at: c.fetched_at,
            })
        })
        .collect()
}

/// Per channel, the lowest and highest post id on the page (the header, id 0, not counted):
/// a known post inside that range that is missing from the page was deleted.
pub(crate) fn id_ranges(posts: &[PagePost]) -> BTreeMap<String, (u64, u64)> {
    let mut ranges: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for p in posts.iter().filter(|p| p.post_id > 0) {
        let r = ranges.entry(p.channel.clone()).or_insert((u64::MAX, 0));
        r.0 = r.0.min(p.post_id);
        r.1 = r.1.max(p.post_id);
    }
    ranges
}

impl PostDiff {
    /// The diff of a page's `posts` given the stored text hash of each known post (`known`) and
    /// the posts not marked deleted inside each channel's [`id_ranges`] (`live`). The same for
    /// both backends; only the lookups differ.
    pub(crate) fn build(
        posts: Vec<PagePost>,
        known: &HashMap<(String, u64), String>,
        live: &[(String, u64)],
    ) -> PostDiff {
        let present: HashSet<(&str, u64)> = posts
            .iter()
            .map(|p| (p.channel.as_str(), p.post_id))
            .collect();
        let deleted = live
            .iter()
            .filter(|(channel, id)| *id > 0 && !present.contains(&(channel.as_str(), *id)))
            .cloned()
            .collect();
        let seen = posts
            .into_iter()
            .map(|p| {
                let change = match known.get(&(p.channel.clone(), p.post_id)) {
                    None => PostChange::New,
                    Some(k) if *k == p.text_sha256 => PostChange::Unchanged,
                    Some(_) => PostChange::Edited,
                };
                (p, change)
            })
            .collect();
        PostDiff { seen, deleted }
    }

    /// Compares the channel-page captures among `captures` with the `telegram_posts` table
    /// (read-only). Captures of other pages are left alone.
    pub(crate) fn compute(
        conn: &Connection,
        captures: &[Capture],
        telegram_hosts: &[String],
    ) -> rusqlite::Result<PostDiff> {
        let posts = page_posts(captures, telegram_hosts);
        let mut known = HashMap::new();
        for p in &posts {
            let sha: Option<String> = conn
                .prepare_cached(
                    "SELECT text_sha256 FROM telegram_posts WHERE channel = ?1 AND post_id = ?2",
                )?
                .query_row(params![p.channel, p.post_id as i64], |r| r.get(0))
                .optional()?;
            if let Some(sha) = sha {
                known.insert((p.channel.clone(), p.post_id), sha);
            }
        }
        let mut live = Vec::new();
        for (channel, (lo, hi)) in id_ranges(&posts) {
            let mut st = conn.prepare_cached(
                "SELECT post_id FROM telegram_posts WHERE channel = ?1 AND post_id BETWEEN ?2 AND ?3
                 AND post_id > 0 AND deleted_at IS NULL ORDER BY post_id",
            )?;
            let ids = st.query_map(params![channel, lo as i64, hi as i64], |r| {
                r.get::<_, i64>(0)
            })?;
            for id in ids {
                live.push((channel.clone(), id? as u64));
            }
        }
        Ok(PostDiff::build(posts, &known, &live))
    }

    /// The change found for a capture, `None` when it is not from a channel page.
    fn change_of(&self, c: &Capture) -> Option<PostChange> {
        self.seen
            .iter()
            .find(|(p, _)| p.capture_id == c.id && p.url == c.url)
            .map(|(_, change)| *change)
    }

    /// Drops the captures of unchanged posts (they were published when first seen).
    pub(crate) fn retain_changed(&self, captures: &mut Vec<Capture>) {
        captures.retain(|c| self.change_of(c) != Some(PostChange::Unchanged));
        for (p, change) in &self.seen {
            if *change == PostChange::Edited {
                tracing::info!(channel = %p.channel, post = p.post_id, url = %p.url, "telegram post edited: new capture version");
            }
        }
        for (channel, id) in &self.deleted {
            tracing::info!(channel = %channel, post = id, "telegram post deleted from the channel");
        }
    }

    /// Stores what was seen: new rows, new versions, last-seen times and deletions. Runs inside
    /// the transaction that marks the page done, after its captures were published.
    pub(crate) fn record(&self, conn: &Connection) -> rusqlite::Result<()> {
        for (p, change) in &self.seen {
            let (channel, id, url, sha, capture_id) = (
                &p.channel,
                p.post_id as i64,
                &p.url,
                &p.text_sha256,
                &p.capture_id,
            );
            let at = p.fetched_at.to_rfc3339();
            match change {
                PostChange::New => {
                    conn.prepare_cached(
                        "INSERT OR REPLACE INTO telegram_posts (channel, post_id, url, text_sha256,
                         capture_id, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
                    )?
                    .execute(params![channel, id, url, sha, capture_id, at])?;
                }
                PostChange::Edited => {
                    conn.prepare_cached(
                        "UPDATE telegram_posts SET text_sha256 = ?3, capture_id = ?4,
                         versions = versions + 1, edited_at = ?5, last_seen = ?5, deleted_at = NULL
                         WHERE channel = ?1 AND post_id = ?2",
                    )?
                    .execute(params![channel, id, sha, capture_id, at])?;
                }
                PostChange::Unchanged => {
                    conn.prepare_cached(
                        "UPDATE telegram_posts SET last_seen = ?3, deleted_at = NULL
                         WHERE channel = ?1 AND post_id = ?2",
                    )?
                    .execute(params![channel, id, at])?;
                }
            }
        }
        let now = chrono::Utc::now().to_rfc3339();
        for (channel, id) in &self.deleted {
            conn.prepare_cached(
                "UPDATE telegram_posts SET deleted_at = ?3 WHERE channel = ?1 AND post_id = ?2",
            )?
            .execute(params![channel, *id as i64, now])?;
        }
        Ok(())
    }
}

/// Telegram post counters of a data directory, for `baqylau stats`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostCounts {
    /// Channels with at least one post seen.
    pub channels: u64,
    /// Posts seen (channel headers not counted).
    pub posts: u64,
    /// Posts seen in more than one version (edited after the first capture).
    pub edited: u64,
    /// Posts that disappeared from their channel.
    pub deleted: u64,
}

/// Reads [`PostCounts`] from the crawler database of `data_dir` (zeros before the first crawl).
pub fn post_counts(data_dir: &Path) -> crate::Result<PostCounts> {
    let path = data_dir.join(crate::DB_FILE);
    if !path.exists() {
        return Ok(PostCounts::default());
    }
    let err = |source| crate::CrawlError::Database {
        path: path.clone(),
        source,
    };
    let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(err)?;
    let exists: bool = conn
        .query_row(
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'telegram_posts'",
            [],
            |r| r.get(0),
        )
        .map_err(err)?;
    if !exists {
        return Ok(PostCounts::default());
    }
    conn.query_row(
        "SELECT COUNT(DISTINCT channel), COUNT(*), COALESCE(SUM(versions > 1), 0),
                COALESCE(SUM(deleted_at IS NOT NULL), 0)
         FROM telegram_posts WHERE post_id > 0",
        [],
        |r| {
            Ok(PostCounts {
                channels: r.get::<_, i64>(0)? as u64,
                posts: r.get::<_, i64>(1)? as u64,
                edited: r.get::<_, i64>(2)? as u64,
                deleted: r.get::<_, i64>(3)? as u64,
            })
        },
    )
    .map_err(err)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    /// A capture of post `id` of `channel`, fetched `secs` after a fixed instant.
    pub(crate) fn post(channel: &str, id: u64, text: &str, secs: i64) -> Capture {
        let at = Utc.timestamp_opt(1_700_000_000 + secs, 0).unwrap();
        let url = format!("https://t.me/{channel}/{id}");
        Capture {
            id: model::capture_id(&url, at),
            final_url: url.clone(),
            url,
            host: "t.me".into(),
            source: Source::Telegram {
                channel: channel.into(),
                post_id: id,
                views: None,
            },
            fetched_at: at,
            published_at: None,
            depth: 0,
            status: Some(200),
            ip: None,
            protocol: "HTTP/1.1".into(),
            content_type: None,
            charset: None,
            title: "chan".into(),
            text: text.into(),
            lang: None,
            body_sha256: None,
            body_len: 0,
            warc: None,
            error: None,
            indicators: Vec::new(),
        }
    }

    fn pass(conn: &Connection, page: Vec<Capture>) -> (Vec<Capture>, PostDiff) {
        let hosts = vec!["t.me".to_string()];
        let diff = PostDiff::compute(conn, &page, &hosts).unwrap();
        let mut kept = page;
        diff.retain_changed(&mut kept);
        diff.record(conn).unwrap();
        (kept, diff)
    }

    #[test]
    fn new_edited_unchanged_and_deleted_posts() {
        let dir = std::env::temp_dir().join(format!("baqylau-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let conn = Connection::open(dir.join(crate::DB_FILE)).unwrap();
        create(&conn).unwrap();
        conn.execute("DELETE FROM telegram_posts", []).unwrap();

        let (kept, _) = pass(
            &conn,
            vec![
                post("c", 1, "a", 0),
                post("c", 2, "b", 0),
                post("c", 3, "x", 0),
            ],
        );
        assert_eq!(kept.len(), 3, "first sight publishes every post");

        // Post 2 edited, post 1 unchanged, post 3 gone while post 4 is new.
        let (kept, diff) = pass(
            &conn,
            vec![
                post("c", 1, "a", 5),
                post("c", 2, "b2", 5),
                post("c", 4, "d", 5),
            ],
        );
        let ids: Vec<u64> = kept
            .iter()
            .map(|c| match c.source {
                Source::Telegram { post_id, .. } => post_id,
                Source::Web => 0,
            })
            .collect();
        assert_eq!(ids, [2, 4]);
        assert_eq!(diff.deleted, [("c".to_string(), 3)]);

        // Post 1 rolled off the page (below its id range): not deleted.
        let (kept, diff) = pass(&conn, vec![post("c", 2, "b2", 9), post("c", 4, "d", 9)]);
        assert!(kept.is_empty() && diff.deleted.is_empty());

        let counts = post_counts(&dir).unwrap();
        assert_eq!(
            counts,
            PostCounts {
                channels: 1,
                posts: 4,
                edited: 1,
                deleted: 1
            }
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn channel_previews_get_the_fixed_interval() {
        let (_tx, rx) = tokio::sync::watch::channel(false);
        let w = Watch {
            channel_revisit: Duration::from_secs(5),
            stop: rx,
        };
        let hosts = vec!["t.me".to_string()];
        let p = w.policy_for("http://t.me/s/chan", &hosts).unwrap();
        assert_eq!((p.initial_ms, p.min_ms, p.max_ms), (5000, 5000, 5000));
        assert!(
            w.policy_for("http://t.me/s/chan?before=9", &hosts)
                .is_none()
        );
        assert!(w.policy_for("http://casino.kz/", &hosts).is_none());
    }
}
