//! The shared frontier of distributed mode: URL states, host politeness state and host leases in
//! PostgreSQL, so any number of crawler workers crawl one frontier politely.
//!
//! The unit of work distribution is the **host** (the politeness key), not the URL: a worker
//! fetches a host's URLs only while it holds the host's lease (`crawl_hosts.owner`,
//! `lease_until`). Only the lease holder fetches a host, so the per-host connection cap,
//! crawl-delay, `Retry-After` holds and backoff — kept in the holder's memory — hold across
//! workers, exactly as in a single process. What must outlive a holder (parked-until, the next
//! allowed fetch time, the run of consecutive errors) is written to the host row, and a new owner
//! starts from it. This is StormCrawler's SQL spout with host-level partitioning made dynamic:
//! instead of a fixed `hash(host) mod N`, workers heartbeat and each takes a fair share
//! (`ceil(hosts with work / live workers)`), so adding a worker rebalances and a dead worker's
//! hosts are taken over once its leases expire (see the crawler's `host_lease` module for the
//! worker side).
//!
//! Claims are fenced: a URL is claimed only by the current lease holder
//! (`FOR UPDATE SKIP LOCKED` on the URL, a live lease on its host), and a claimed URL is recorded
//! only by the worker that claimed it (`claimed_by`). When a host changes hands after its owner
//! died, the new owner puts the dead owner's in-flight URLs back in the queue: delivery is
//! at-least-once, and capture ids are content-derived so consumers deduplicate.
//!
//! Deadlocks: several workers insert overlapping link sets. A completion inserts its host rows
//! and links first, each sorted by key, before it touches its own URL row, so concurrent
//! completions always lock in one order; a transaction that still loses a deadlock or
//! serialization check is retried.
//!
//! Migrations are SQL files embedded in the binary (no `sqlx` macros, no files needed at run
//! time), applied by a [`Migrator`] on [`PgFrontier::connect`]. They share the database's
//! `_sqlx_migrations` table with other components (the reporter), so versions are in the
//! crawler's own range (8_000_000+) and migrations applied by others are ignored.

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx_core::executor::Executor;
use sqlx_core::migrate::{Migration, MigrationType, Migrator};
use sqlx_core::query::query;
use sqlx_core::query_as::query_as;
use sqlx_core::query_scalar::query_scalar;
use sqlx_postgres::{PgConnectOptions, PgPool, PgPoolOptions, Postgres};

use super::{FrontierEntry, RevisitPolicy, UrlState, Visit, revisit_interval};
use crate::capture_log::FetchRecord;
use crate::error::{CrawlError, Result};
use crate::stats::CrawlStats;
use crate::watch::{PostCounts, PostDiff, id_ranges, page_posts};

/// Migrations of the shared frontier, in order.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        8_000_001,
        "crawl frontier",
        include_str!("../../migrations/8000001_crawl_frontier.sql"),
    ),
    (
        8_000_002,
        "crawl telegram posts",
        include_str!("../../migrations/8000002_crawl_telegram_posts.sql"),
    ),
];

/// How to reach the shared frontier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// `postgres://user@host:port/db` connection URL.
    pub url: String,
    /// Schema holding the `crawl_*` tables (created when missing; `None` = the server's default
    /// `search_path`). Every pooled connection sets `search_path` to it.
    pub schema: Option<String>,
    /// Most pooled connections.
    pub max_connections: u32,
}

impl PgOptions {
    /// Options for `url` with the default schema and a pool of 8 connections.
    pub fn new(url: impl Into<String>) -> PgOptions {
        PgOptions {
            url: url.into(),
            schema: None,
            max_connections: 8,
        }
    }
}

/// A claimed host lease, as acquired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AcquiredHost {
    pub(crate) host: String,
    /// Earliest start of the next request (ms since the epoch) left by the previous owner.
    pub(crate) hold_until: i64,
    /// The host's run of consecutive transient failures.
    pub(crate) errors: u32,
}

/// Counts of the shared frontier, for `baqylau stats` and metrics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontierStats {
    /// URLs waiting to be fetched.
    pub queued: u64,
    /// URLs claimed by a worker.
    pub in_flight: u64,
    /// URLs fetched.
    pub done: u64,
    /// URLs whose fetch failed for good.
    pub failed: u64,
    /// URLs refused by robots.txt.
    pub denied: u64,
    /// Hosts known.
    pub hosts: u64,
    /// Hosts parked now.
    pub parked_hosts: u64,
    /// Hosts under a live lease.
    pub leased_hosts: u64,
    /// Every worker that registered, with its leases.
    pub workers: Vec<WorkerLeases>,
}

/// One worker's liveness and leases.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerLeases {
    /// Worker id.
    pub worker: String,
    /// Its heartbeat is younger than its lease TTL.
    pub alive: bool,
    /// Milliseconds since its last heartbeat.
    pub heartbeat_age_ms: i64,
    /// Hosts it holds a live lease on.
    pub hosts: u64,
}

/// A URL to insert: normalized URL, host key, depth, pagination distance.
pub(crate) type NewLink<'a> = (&'a str, &'a str, u32, u32);

/// Everything a final (non-retry) result writes, in one transaction.
pub(crate) struct Completion<'a> {
    pub(crate) entry: &'a FrontierEntry,
    pub(crate) state: UrlState,
    pub(crate) error: Option<&'a str>,
    pub(crate) record: Option<&'a FetchRecord>,
    pub(crate) visit: Option<(&'a Visit, RevisitPolicy)>,
    pub(crate) links: Vec<NewLink<'a>>,
    /// Per-host budget ([`crate::CrawlerConfig::max_pages_per_host`]).
    pub(crate) cap: u64,
    /// What a channel page showed of its Telegram posts ([`PgFrontier::telegram_diff`]).
    pub(crate) posts: Option<&'a PostDiff>,
}

/// A result to retry: logged, and its URL requeued (optionally with its host parked).
pub(crate) struct Retry<'a> {
    pub(crate) entry: &'a FrontierEntry,
    pub(crate) record: Option<&'a FetchRecord>,
    pub(crate) due_ms: i64,
    pub(crate) error: &'a str,
    /// `(until_ms, reason)` when the host is parked.
    pub(crate) park: Option<(i64, &'a str)>,
}

/// The shared frontier: a connection pool over the `crawl_*` tables.
#[derive(Debug, Clone)]
pub struct PgFrontier {
    pool: PgPool,
}

impl PgFrontier {
    /// Connects, creates the schema when asked for one, and applies pending migrations.
    pub async fn connect(opts: &PgOptions) -> Result<PgFrontier> {
        let connect: PgConnectOptions = opts.url.parse()?;
        let mut pool = PgPoolOptions::new()
            .max_connections(opts.max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10));
        if let Some(schema) = &opts.schema {
            if schema.is_empty()
                || !schema
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                return Err(CrawlError::Config(format!(
                    "schema {schema:?}: use lowercase letters, digits and '_'"
                )));
            }
            let mut conn =
                <sqlx_postgres::PgConnection as sqlx_core::connection::Connection>::connect_with(
                    &connect,
                )
                .await?;
            conn.execute(format!("CREATE SCHEMA IF NOT EXISTS {schema}").as_str())
                .await?;
            sqlx_core::connection::Connection::close(conn).await?;
            let set = format!("SET search_path TO {schema}");
            pool = pool.after_connect(move |conn, _meta| {
                let set = set.clone();
                Box::pin(async move {
                    conn.execute(set.as_str()).await?;
                    Ok(())
                })
            });
        }
        let pool = pool.connect_with(connect).await?;
        let migrator = Migrator {
            migrations: Cow::Owned(
                MIGRATIONS
                    .iter()
                    .map(|(version, name, sql)| {
                        Migration::new(
                            *version,
                            Cow::Borrowed(*name),
                            MigrationType::Simple,
                            Cow::Borrowed(*sql),
                            false,
                        )
                    })
                    .collect(),
            ),
            ignore_missing: true,
            locking: true,
            no_tx: false,
        };
        migrator.run(&pool).await?;
        Ok(PgFrontier { pool })
    }

    /// The connection pool (for tests and for components sharing the database).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Inserts normalized URLs as `queued` at depth 0 unless already known; returns how many
    /// were new. Idempotent: the URL is the key.
    pub(crate) async fn add_urls(&self, urls: &[(String, String)]) -> Result<u64> {
        let links: Vec<NewLink<'_>> = urls
            .iter()
            .map(|(u, h)| (u.as_str(), h.as_str(), 0, 0))
            .collect();
        let mut tx = self.pool.begin().await?;
        let hosts = insert_links(&mut tx, &links, u64::MAX).await?;
        tx.commit().await?;
        Ok(hosts.len() as u64)
    }

    /// Normalizes seed URLs and inserts them at depth 0 unless already known; returns how many
    /// were new. A seed that is not a crawlable http(s) URL is an error (nothing is inserted).
    pub async fn add_seeds(&self, seeds: &[String], max_url_len: usize) -> Result<u64> {
        let mut urls = Vec::with_capacity(seeds.len());
        for seed in seeds {
            let url = crate::crawl::normalize_seed(seed, max_url_len)?;
            urls.push((url.to_string(), crate::url_norm::host_key(&url)));
        }
        self.add_urls(&urls).await
    }

    /// Claims the oldest due queued URL of `host` for `worker` — only while `worker` holds a
    /// live lease on the host.
    pub(crate) async fn claim(
        &self,
        host: &str,
        now_ms: i64,
        worker: &str,
    ) -> Result<Option<FrontierEntry>> {
        let row: Option<ClaimRow> = query_as(
            "UPDATE crawl_urls SET state = 'in_flight', attempts = attempts + 1,
                    claimed_by = $3, updated_at = now()
             WHERE state = 'queued' AND id = (
                 SELECT u.id FROM crawl_urls u
                 WHERE u.host = $1 AND u.state = 'queued' AND u.next_fetch_at <= $2
                   AND EXISTS (SELECT 1 FROM crawl_hosts h
                               WHERE h.host = $1 AND h.owner = $3 AND h.lease_until > now())
                 ORDER BY u.id LIMIT 1 FOR UPDATE SKIP LOCKED)
             RETURNING id, url, host, depth, page_seq, attempts, etag, last_modified",
        )
        .bind(host)
        .bind(now_ms)
        .bind(worker)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(entry_of))
    }

    /// When the earliest queued URL of `host` becomes due (ms since the epoch).
    pub(crate) async fn next_due(&self, host: &str) -> Result<Option<i64>> {
        Ok(query_scalar(
            "SELECT MIN(next_fetch_at) FROM crawl_urls WHERE state = 'queued' AND host = $1",
        )
        .bind(host)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Records a final result: fetch log row, links (within the per-host budget), URL state,
    /// revisit schedule and the Telegram posts the page showed. Returns the hosts of newly
    /// inserted URLs (one entry per URL), or `None` when `worker` no longer holds the claim (its
    /// lease was lost; nothing is written, so the next owner publishes the page's posts again).
    pub(crate) async fn complete(
        &self,
        worker: &str,
        c: &Completion<'_>,
    ) -> Result<Option<Vec<String>>> {
        retrying(|| async {
            let mut tx = self.pool.begin().await?;
            let added = insert_links(&mut tx, &c.links, c.cap).await?;
            if let Some(record) = c.record {
                insert_fetch(&mut tx, record, worker).await?;
            }
            let old: Option<(Option<i64>, Option<i64>)> = query_as(
                "SELECT simhash, revisit_ms FROM crawl_urls
                 WHERE id = $1 AND claimed_by = $2 AND state = 'in_flight' FOR UPDATE",
            )
            .bind(c.entry.id)
            .bind(worker)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((old_hash, old_interval)) = old else {
                tx.rollback().await?;
                return Ok(None);
            };
            query(
                "UPDATE crawl_urls SET state = $2, last_error = $3, updated_at = now(),
                        claimed_by = NULL WHERE id = $1",
            )
            .bind(c.entry.id)
            .bind(c.state.as_str())
            .bind(c.error)
            .execute(&mut *tx)
            .await?;
            if let Some((visit, policy)) = &c.visit {
                let (interval, simhash) = revisit_interval(visit, policy, old_hash, old_interval);
                query(
                    "UPDATE crawl_urls SET etag = COALESCE($2, etag),
                            last_modified = COALESCE($3, last_modified), simhash = $4,
                            revisit_ms = $5, next_visit_at = $6 WHERE id = $1",
                )
                .bind(c.entry.id)
                .bind(visit.etag.as_deref())
                .bind(visit.last_modified.as_deref())
                .bind(simhash)
                .bind(interval)
                .bind(super::now_ms() + interval)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(posts) = c.posts {
                record_posts(&mut tx, posts).await?;
            }
            tx.commit().await?;
            Ok(Some(added))
        })
        .await
    }

    /// Records a result to retry: logs it, requeues its URL due at `due_ms`, and parks the
    /// host when asked. Returns false when `worker` no longer holds the claim.
    pub(crate) async fn retry(&self, worker: &str, r: &Retry<'_>) -> Result<bool> {
        retrying(|| async {
            let mut tx = self.pool.begin().await?;
            let n = query(
                "UPDATE crawl_urls SET state = 'queued', next_fetch_at = $3, last_error = $4,
                        updated_at = now(), claimed_by = NULL
                 WHERE id = $1 AND claimed_by = $2 AND state = 'in_flight'",
            )
            .bind(r.entry.id)
            .bind(worker)
            .bind(r.due_ms)
            .bind(r.error)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                tx.rollback().await?;
                return Ok(false);
            }
            if let Some(record) = r.record {
                insert_fetch(&mut tx, record, worker).await?;
            }
            if let Some((until, reason)) = r.park {
                query(
                    "UPDATE crawl_hosts SET parked_until = $2, consecutive_errors = $3,
                            reason = $4 WHERE host = $1",
                )
                .bind(&r.entry.host)
                .bind(until)
                .bind(r.entry.attempts as i32)
                .bind(reason)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(true)
        })
        .await
    }

    /// Marks a claimed URL as `state` (robots denial), fenced by the claim.
    pub(crate) async fn finish(&self, worker: &str, id: i64, state: UrlState) -> Result<()> {
        query(
            "UPDATE crawl_urls SET state = $3, updated_at = now(), claimed_by = NULL
             WHERE id = $1 AND claimed_by = $2 AND state = 'in_flight'",
        )
        .bind(id)
        .bind(worker)
        .bind(state.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Stores the host's run of consecutive transient failures (it follows the host to its
    /// next owner).
    pub(crate) async fn set_host_errors(&self, host: &str, errors: u32) -> Result<()> {
        query("UPDATE crawl_hosts SET consecutive_errors = $2 WHERE host = $1")
            .bind(host)
            .bind(errors as i32)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Holds the host back until `until_ms` for whoever owns it next (Retry-After, backoff).
    pub(crate) async fn hold_host(&self, host: &str, until_ms: i64) -> Result<()> {
        query("UPDATE crawl_hosts SET hold_until = GREATEST(hold_until, $2) WHERE host = $1")
            .bind(host)
            .bind(until_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Registers or refreshes `worker`'s heartbeat.
    pub(crate) async fn heartbeat(&self, worker: &str, ttl: Duration) -> Result<()> {
        query(
            "INSERT INTO crawl_workers (id, ttl_ms) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), ttl_ms = $2",
        )
        .bind(worker)
        .bind(ttl.as_millis() as i64)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Extends every lease `worker` still holds; returns those hosts.
    pub(crate) async fn renew(&self, worker: &str, ttl: Duration) -> Result<Vec<String>> {
        Ok(query_scalar(
            "UPDATE crawl_hosts SET lease_until = now() + $2 * interval '1 millisecond'
             WHERE owner = $1 RETURNING host",
        )
        .bind(worker)
        .bind(ttl.as_millis() as i64)
        .fetch_all(&self.pool)
        .await?)
    }

    /// `(hosts with work, live workers)`: hosts not parked at `now_ms` with a queued or
    /// in-flight URL, and workers whose heartbeat is within their TTL.
    pub(crate) async fn balance_inputs(&self, now_ms: i64) -> Result<(u64, u64)> {
        let (hosts, workers): (i64, i64) = query_as(
            "SELECT
               (SELECT COUNT(*) FROM crawl_hosts h WHERE h.parked_until <= $1 AND EXISTS (
                   SELECT 1 FROM crawl_urls u
                   WHERE u.host = h.host AND u.state IN ('queued', 'in_flight'))),
               (SELECT COUNT(*) FROM crawl_workers
                WHERE heartbeat_at + ttl_ms * interval '1 millisecond' > now())",
        )
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok((hosts as u64, workers as u64))
    }

    /// Leases up to `n` hosts with work that nobody holds (or whose lease expired) to `worker`,
    /// and puts the URLs a previous owner left in flight back in the queue. A host whose park
    /// has ended starts a fresh run of errors (as an embedded crawl does on its next run).
    pub(crate) async fn acquire(
        &self,
        worker: &str,
        n: u64,
        ttl: Duration,
        now_ms: i64,
    ) -> Result<Vec<AcquiredHost>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        retrying(|| async {
            let mut tx = self.pool.begin().await?;
            let rows: Vec<(String, i64, i32)> = query_as(
                "WITH cand AS (
                    SELECT h.host FROM crawl_hosts h
                    WHERE (h.owner IS NULL OR h.lease_until IS NULL OR h.lease_until < now())
                      AND h.parked_until <= $3
                      AND EXISTS (SELECT 1 FROM crawl_urls u
                                  WHERE u.host = h.host AND u.state IN ('queued', 'in_flight'))
                    ORDER BY h.host LIMIT $2 FOR UPDATE OF h SKIP LOCKED)
                 UPDATE crawl_hosts h SET owner = $1,
                        lease_until = now() + $4 * interval '1 millisecond',
                        consecutive_errors = CASE WHEN h.parked_until > 0 THEN 0
                                             ELSE h.consecutive_errors END,
                        parked_until = 0
                 FROM cand WHERE h.host = cand.host
                 RETURNING h.host, h.hold_until, h.consecutive_errors",
            )
            .bind(worker)
            .bind(n as i64)
            .bind(now_ms)
            .bind(ttl.as_millis() as i64)
            .fetch_all(&mut *tx)
            .await?;
            let hosts: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
            if !hosts.is_empty() {
                let orphans = query(
                    "UPDATE crawl_urls SET state = 'queued', claimed_by = NULL
                     WHERE host = ANY($1) AND state = 'in_flight'",
                )
                .bind(&hosts)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if orphans > 0 {
                    tracing::info!(
                        orphans,
                        "urls left in flight by a previous lease holder requeued"
                    );
                }
            }
            tx.commit().await?;
            Ok(rows
                .into_iter()
                .map(|(host, hold_until, errors)| AcquiredHost {
                    host,
                    hold_until,
                    errors: errors.max(0) as u32,
                })
                .collect())
        })
        .await
    }

    /// Puts back in the queue the URLs a previous run of `worker` (same id, e.g. a process
    /// killed and restarted) left in flight; its leases, if still live, are simply renewed.
    pub(crate) async fn requeue_own_claims(&self, worker: &str) -> Result<u64> {
        Ok(query(
            "UPDATE crawl_urls SET state = 'queued', claimed_by = NULL
             WHERE claimed_by = $1 AND state = 'in_flight'",
        )
        .bind(worker)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Gives up `worker`'s lease on `host`, leaving `hold_until_ms` for the next owner.
    pub(crate) async fn release(&self, worker: &str, host: &str, hold_until_ms: i64) -> Result<()> {
        query(
            "UPDATE crawl_hosts SET owner = NULL, lease_until = NULL,
                    hold_until = GREATEST(hold_until, $3)
             WHERE host = $2 AND owner = $1",
        )
        .bind(worker)
        .bind(host)
        .bind(hold_until_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Releases every lease of `worker` and removes it from the live workers (a clean stop).
    pub(crate) async fn leave(&self, worker: &str) -> Result<()> {
        query("UPDATE crawl_hosts SET owner = NULL, lease_until = NULL WHERE owner = $1")
            .bind(worker)
            .execute(&self.pool)
            .await?;
        query("DELETE FROM crawl_workers WHERE id = $1")
            .bind(worker)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Queued URLs per host, for the hosts given.
    pub(crate) async fn queued_by_host(&self, hosts: &[String]) -> Result<Vec<(String, u64)>> {
        let rows: Vec<(String, i64)> = query_as(
            "SELECT host, COUNT(*) FROM crawl_urls
             WHERE state = 'queued' AND host = ANY($1) GROUP BY host",
        )
        .bind(hosts)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(h, n)| (h, n as u64)).collect())
    }

    /// Puts every fetched URL whose revisit time has come back in the queue; returns how many.
    pub async fn requeue_due_revisits(&self, now_ms: i64) -> Result<u64> {
        Ok(query(
            "UPDATE crawl_urls SET state = 'queued', attempts = 0, next_fetch_at = 0
             WHERE state = 'done' AND next_visit_at IS NOT NULL AND next_visit_at <= $1",
        )
        .bind(now_ms)
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Hosts and URLs known, parked hosts, and the queue.
    pub async fn stats(&self) -> Result<FrontierStats> {
        let mut s = FrontierStats::default();
        let states: Vec<(String, i64)> =
            query_as("SELECT state, COUNT(*) FROM crawl_urls GROUP BY state")
                .fetch_all(&self.pool)
                .await?;
        for (state, n) in states {
            let n = n as u64;
            match state.as_str() {
                "queued" => s.queued = n,
                "in_flight" => s.in_flight = n,
                "done" => s.done = n,
                "failed" => s.failed = n,
                "denied" => s.denied = n,
                _ => {}
            }
        }
        let (hosts, parked, leased): (i64, i64, i64) = query_as(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE parked_until > $1),
                    COUNT(*) FILTER (WHERE owner IS NOT NULL AND lease_until > now())
             FROM crawl_hosts",
        )
        .bind(super::now_ms())
        .fetch_one(&self.pool)
        .await?;
        (s.hosts, s.parked_hosts, s.leased_hosts) = (hosts as u64, parked as u64, leased as u64);
        let workers: Vec<(String, bool, f64, i64)> = query_as(
            "SELECT w.id, w.heartbeat_at + w.ttl_ms * interval '1 millisecond' > now(),
                    (EXTRACT(EPOCH FROM now() - w.heartbeat_at) * 1000)::float8,
                    (SELECT COUNT(*) FROM crawl_hosts h
                     WHERE h.owner = w.id AND h.lease_until > now())
             FROM crawl_workers w ORDER BY w.id",
        )
        .fetch_all(&self.pool)
        .await?;
        s.workers = workers
            .into_iter()
            .map(|(worker, alive, age, hosts)| WorkerLeases {
                worker,
                alive,
                heartbeat_age_ms: age as i64,
                hosts: hosts as u64,
            })
            .collect();
        Ok(s)
    }

    /// Totals of the fetch log and frontier, as [`crate::stats_from_dir`] computes them for an
    /// embedded data directory.
    pub async fn totals(&self) -> Result<CrawlStats> {
        let (pages, failed, captures, bytes, retries): (i64, i64, i64, i64, i64) = query_as(
            "SELECT COUNT(*) FILTER (WHERE error_kind IS NULL),
                    COUNT(*) FILTER (WHERE error_kind IS NOT NULL AND NOT retried),
                    COALESCE(SUM(captures), 0)::bigint, COALESCE(SUM(bytes), 0)::bigint,
                    COUNT(*) FILTER (WHERE retried)
             FROM crawl_fetches",
        )
        .fetch_one(&self.pool)
        .await?;
        let kinds: Vec<(String, i64)> = query_as(
            "SELECT error_kind, COUNT(*) FROM crawl_fetches
             WHERE error_kind IS NOT NULL AND NOT retried GROUP BY error_kind",
        )
        .fetch_all(&self.pool)
        .await?;
        let f = self.stats().await?;
        Ok(CrawlStats {
            pages_fetched: pages as u64,
            captures: captures as u64,
            failed: failed as u64,
            failures_by_kind: kinds.into_iter().map(|(k, n)| (k, n as u64)).collect(),
            robots_denied: f.denied,
            bytes: bytes as u64,
            hosts: f.hosts,
            queued: f.queued,
            retries: retries as u64,
            parked_hosts: f.parked_hosts,
        })
    }

    /// Compares the channel-page captures among `captures` with the Telegram posts the workers
    /// have seen (read-only; recorded by [`PgFrontier::complete`] once the captures are
    /// published): the same diff as the embedded crawler's, so a revisit publishes only new and
    /// edited posts. No query for a page that is not a channel page.
    pub(crate) async fn telegram_diff(
        &self,
        captures: &[model::Capture],
        telegram_hosts: &[String],
    ) -> Result<PostDiff> {
        let posts = page_posts(captures, telegram_hosts);
        if posts.is_empty() {
            return Ok(PostDiff::default());
        }
        let channels: Vec<&str> = posts.iter().map(|p| p.channel.as_str()).collect();
        let ids: Vec<i64> = posts.iter().map(|p| p.post_id as i64).collect();
        let known: Vec<(String, i64, String)> = query_as(
            "SELECT p.channel, p.post_id, p.text_sha256 FROM crawl_telegram_posts p
             JOIN UNNEST($1::text[], $2::bigint[]) AS k(channel, post_id)
               ON p.channel = k.channel AND p.post_id = k.post_id",
        )
        .bind(&channels)
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        let known = known
            .into_iter()
            .map(|(c, id, sha)| ((c, id as u64), sha))
            .collect();
        let ranges = id_ranges(&posts);
        let live: Vec<(String, i64)> = if ranges.is_empty() {
            Vec::new()
        } else {
            let channels: Vec<&str> = ranges.keys().map(String::as_str).collect();
            let lo: Vec<i64> = ranges.values().map(|r| r.0 as i64).collect();
            let hi: Vec<i64> = ranges.values().map(|r| r.1 as i64).collect();
            query_as(
                "SELECT p.channel, p.post_id FROM crawl_telegram_posts p
                 JOIN UNNEST($1::text[], $2::bigint[], $3::bigint[]) AS r(channel, lo, hi)
                   ON p.channel = r.channel AND p.post_id BETWEEN r.lo AND r.hi
                 WHERE p.post_id > 0 AND p.deleted_at IS NULL
                 ORDER BY p.channel, p.post_id",
            )
            .bind(&channels)
            .bind(&lo)
            .bind(&hi)
            .fetch_all(&self.pool)
            .await?
        };
        let live: Vec<(String, u64)> = live.into_iter().map(|(c, id)| (c, id as u64)).collect();
        Ok(PostDiff::build(posts, &known, &live))
    }

    /// Telegram posts seen, edited and deleted, over all workers (`baqylau stats --db`).
    pub async fn post_counts(&self) -> Result<PostCounts> {
        let (channels, posts, edited, deleted): (i64, i64, i64, i64) = query_as(
            "SELECT COUNT(DISTINCT channel), COUNT(*), COUNT(*) FILTER (WHERE versions > 1),
                    COUNT(*) FILTER (WHERE deleted_at IS NOT NULL)
             FROM crawl_telegram_posts WHERE post_id > 0",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(PostCounts {
            channels: channels as u64,
            posts: posts as u64,
            edited: edited as u64,
            deleted: deleted as u64,
        })
    }

    /// State of one URL, if known.
    pub async fn state_of(&self, url: &str) -> Result<Option<String>> {
        Ok(query_scalar("SELECT state FROM crawl_urls WHERE url = $1")
            .bind(url)
            .fetch_optional(&self.pool)
            .await?)
    }
}

/// `id, url, host, depth, page_seq, attempts, etag, last_modified` of a claimed URL.
type ClaimRow = (
    i64,
    String,
    String,
    i32,
    i32,
    i32,
    Option<String>,
    Option<String>,
);

fn entry_of(r: ClaimRow) -> FrontierEntry {
    FrontierEntry {
        id: r.0,
        url: r.1,
        host: r.2,
        depth: r.3.max(0) as u32,
        page_seq: r.4.max(0) as u32,
        attempts: r.5.max(0) as u32,
        etag: r.6,
        last_modified: r.7,
    }
}

type Tx<'c> = sqlx_core::transaction::Transaction<'c, Postgres>;

/// Inserts host rows and then URLs (both sorted, see the module docs on deadlocks), keeping each
/// host under `cap` known URLs. Returns the host of every URL inserted.
async fn insert_links(tx: &mut Tx<'_>, links: &[NewLink<'_>], cap: u64) -> Result<Vec<String>> {
    if links.is_empty() {
        return Ok(Vec::new());
    }
    let mut sorted: Vec<&NewLink<'_>> = links.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    sorted.dedup_by(|a, b| a.0 == b.0);
    let mut hosts: Vec<&str> = sorted.iter().map(|l| l.1).collect();
    hosts.sort_unstable();
    hosts.dedup();
    query(
        "INSERT INTO crawl_hosts (host) SELECT h FROM UNNEST($1::text[]) AS t(h) ORDER BY h
         ON CONFLICT (host) DO NOTHING",
    )
    .bind(&hosts)
    .execute(&mut **tx)
    .await?;
    let urls: Vec<&str> = sorted.iter().map(|l| l.0).collect();
    let url_hosts: Vec<&str> = sorted.iter().map(|l| l.1).collect();
    let depths: Vec<i32> = sorted.iter().map(|l| l.2 as i32).collect();
    let seqs: Vec<i32> = sorted.iter().map(|l| l.3 as i32).collect();
    let cap = cap.min(i64::MAX as u64) as i64;
    let added: Vec<String> = query_scalar(
        "WITH input AS (
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::int[], $4::int[])
                 WITH ORDINALITY AS t(url, host, depth, page_seq, ord)),
         fresh AS (
             SELECT i.*, row_number() OVER (PARTITION BY i.host ORDER BY i.ord) AS rn
             FROM input i
             WHERE NOT EXISTS (SELECT 1 FROM crawl_urls u WHERE u.url = i.url)),
         room AS (
             SELECT u.host, COUNT(*) AS known FROM crawl_urls u
             WHERE u.host IN (SELECT DISTINCT host FROM fresh) GROUP BY u.host)
         INSERT INTO crawl_urls (url, host, depth, page_seq)
         SELECT f.url, f.host, f.depth, f.page_seq FROM fresh f
         LEFT JOIN room r ON r.host = f.host
         WHERE COALESCE(r.known, 0) + f.rn <= $5
         ORDER BY f.ord
         ON CONFLICT (url) DO NOTHING
         RETURNING host",
    )
    .bind(&urls)
    .bind(&url_hosts)
    .bind(&depths)
    .bind(&seqs)
    .bind(cap)
    .fetch_all(&mut **tx)
    .await?;
    Ok(added)
}

/// Stores what a channel page showed (see [`crate::watch::PostDiff::record`] for the embedded
/// table): a new post gets a row, an edited one a new version, every one seen its last-seen
/// time, and the missing ones their deletion time. The upsert compares the text hash itself
/// rather than trusting the diff's verdict, so a worker whose diff was overtaken by another's
/// (a lease changing hands mid-fetch) still counts each text once. Rows are written in key
/// order, as concurrent completions lock them.
async fn record_posts(tx: &mut Tx<'_>, diff: &PostDiff) -> Result<()> {
    let mut seen: Vec<&crate::watch::PagePost> = diff.seen.iter().map(|(p, _)| p).collect();
    seen.sort_by(|a, b| (&a.channel, a.post_id).cmp(&(&b.channel, b.post_id)));
    // One row per post: a page listing a post twice keeps its last sighting.
    seen.reverse();
    seen.dedup_by(|a, b| a.channel == b.channel && a.post_id == b.post_id);
    seen.reverse();
    if !seen.is_empty() {
        let channels: Vec<&str> = seen.iter().map(|p| p.channel.as_str()).collect();
        let ids: Vec<i64> = seen.iter().map(|p| p.post_id as i64).collect();
        let urls: Vec<&str> = seen.iter().map(|p| p.url.as_str()).collect();
        let shas: Vec<&str> = seen.iter().map(|p| p.text_sha256.as_str()).collect();
        let captures: Vec<&str> = seen.iter().map(|p| p.capture_id.as_str()).collect();
        let at: Vec<String> = seen.iter().map(|p| p.fetched_at.to_rfc3339()).collect();
        query(
            "INSERT INTO crawl_telegram_posts AS p (channel, post_id, url, text_sha256,
                    capture_id, first_seen, last_seen)
             SELECT t.channel, t.post_id, t.url, t.sha, t.capture_id, t.at::timestamptz,
                    t.at::timestamptz
             FROM UNNEST($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[],
                         $6::text[]) AS t(channel, post_id, url, sha, capture_id, at)
             ORDER BY t.channel, t.post_id
             ON CONFLICT (channel, post_id) DO UPDATE SET
                url = EXCLUDED.url,
                last_seen = GREATEST(p.last_seen, EXCLUDED.last_seen),
                deleted_at = NULL,
                versions = p.versions
                    + CASE WHEN p.text_sha256 <> EXCLUDED.text_sha256 THEN 1 ELSE 0 END,
                edited_at = CASE WHEN p.text_sha256 <> EXCLUDED.text_sha256
                                 THEN EXCLUDED.last_seen ELSE p.edited_at END,
                capture_id = CASE WHEN p.text_sha256 <> EXCLUDED.text_sha256
                                  THEN EXCLUDED.capture_id ELSE p.capture_id END,
                text_sha256 = EXCLUDED.text_sha256",
        )
        .bind(&channels)
        .bind(&ids)
        .bind(&urls)
        .bind(&shas)
        .bind(&captures)
        .bind(&at)
        .execute(&mut **tx)
        .await?;
    }
    if !diff.deleted.is_empty() {
        let mut gone: Vec<(&str, i64)> = diff
            .deleted
            .iter()
            .map(|(c, id)| (c.as_str(), *id as i64))
            .collect();
        gone.sort_unstable();
        let channels: Vec<&str> = gone.iter().map(|g| g.0).collect();
        let ids: Vec<i64> = gone.iter().map(|g| g.1).collect();
        query(
            "UPDATE crawl_telegram_posts p SET deleted_at = now()
             FROM UNNEST($1::text[], $2::bigint[]) AS g(channel, post_id)
             WHERE p.channel = g.channel AND p.post_id = g.post_id AND p.deleted_at IS NULL",
        )
        .bind(&channels)
        .bind(&ids)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn insert_fetch(tx: &mut Tx<'_>, r: &FetchRecord, worker: &str) -> Result<()> {
    query(
        "INSERT INTO crawl_fetches (url, final_url, host, status, error_kind, error_message,
                                    bytes, captures, fetched_at, retried, simhash, worker)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&r.url)
    .bind(&r.final_url)
    .bind(&r.host)
    .bind(r.status.map(i32::from))
    .bind(r.error_kind.as_deref())
    .bind(r.error_message.as_deref())
    .bind(r.bytes as i64)
    .bind(r.captures as i64)
    .bind(&r.fetched_at)
    .bind(r.retried)
    .bind(r.simhash.map(|h| h as i64))
    .bind(worker)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Runs a transaction body again (up to 3 times) when PostgreSQL aborts it for a deadlock or a
/// serialization failure.
async fn retrying<T, F, Fut>(mut body: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match body().await {
            Err(CrawlError::Postgres(e)) if attempt < 3 && is_transient(&e) => {
                tracing::debug!(error = %e, attempt, "shared frontier transaction retried");
            }
            other => return other,
        }
    }
}

fn is_transient(e: &sqlx_core::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .is_some_and(|c| c == "40P01" || c == "40001")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::frontier::now_ms;

    /// `BAQYLAU_TEST_PG`, or the local test server.
    pub(crate) fn test_url() -> String {
        std::env::var("BAQYLAU_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
    }

    /// A frontier in a fresh schema of its own (dropped first if a failed run left it).
    pub(crate) async fn fresh(name: &str) -> (PgFrontier, String) {
        let schema = format!("crawl_unit_{name}_{}", std::process::id());
        let url = test_url();
        let mut conn =
            <sqlx_postgres::PgConnection as sqlx_core::connection::Connection>::connect(&url)
                .await
                .unwrap_or_else(|e| {
                    panic!("PostgreSQL at {url} (BAQYLAU_TEST_PG) is required: {e}")
                });
        conn.execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
            .await
            .unwrap();
        let opts = PgOptions {
            schema: Some(schema.clone()),
            ..PgOptions::new(url)
        };
        (PgFrontier::connect(&opts).await.unwrap(), schema)
    }

    pub(crate) async fn drop_schema(pg: &PgFrontier, schema: &str) {
        pg.pool()
            .execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
            .await
            .unwrap();
        pg.pool().close().await;
    }

    const TTL: Duration = Duration::from_secs(30);

    fn seeds(urls: &[&str]) -> Vec<String> {
        urls.iter().map(|s| s.to_string()).collect()
    }

    fn done(entry: &FrontierEntry) -> Completion<'_> {
        Completion {
            entry,
            state: UrlState::Done,
            error: None,
            record: None,
            visit: None,
            links: Vec::new(),
            cap: 100,
            posts: None,
        }
    }

    #[tokio::test]
    async fn add_is_idempotent_and_only_the_lease_holder_claims_in_order() {
        let (pg, schema) = fresh("order").await;
        let s = seeds(&["http://a.kz/1", "http://a.kz/2", "http://b.kz/"]);
        assert_eq!(pg.add_seeds(&s, 2048).await.unwrap(), 3);
        assert_eq!(pg.add_seeds(&s, 2048).await.unwrap(), 0, "idempotent");
        assert!(pg.add_seeds(&seeds(&["ftp://x.kz/"]), 2048).await.is_err());
        let now = now_ms();
        assert_eq!(pg.claim("a.kz", now, "w1").await.unwrap(), None, "no lease");
        let got = pg.acquire("w1", 1, TTL, now).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].host, "a.kz");
        let e = pg.claim("a.kz", now, "w1").await.unwrap().unwrap();
        assert_eq!((e.url.as_str(), e.attempts), ("http://a.kz/1", 1));
        assert_eq!(pg.claim("a.kz", now, "w2").await.unwrap(), None, "not w2's");
        assert!(
            pg.acquire("w2", 5, TTL, now)
                .await
                .unwrap()
                .iter()
                .all(|a| a.host == "b.kz"),
            "a held host is not leased twice"
        );
        let e2 = pg.claim("a.kz", now, "w1").await.unwrap().unwrap();
        assert_eq!(e2.url, "http://a.kz/2");
        assert_eq!(pg.claim("a.kz", now, "w1").await.unwrap(), None);
        assert_eq!(
            pg.complete("w2", &done(&e)).await.unwrap(),
            None,
            "only the claimer records"
        );
        assert!(pg.complete("w1", &done(&e)).await.unwrap().is_some());
        assert_eq!(
            pg.state_of("http://a.kz/1").await.unwrap().as_deref(),
            Some("done")
        );
        let st = pg.stats().await.unwrap();
        assert_eq!((st.done, st.in_flight, st.queued, st.hosts), (1, 1, 1, 2));
        assert_eq!(st.leased_hosts, 2);
        drop_schema(&pg, &schema).await;
    }

    #[tokio::test]
    async fn requeued_url_waits_until_due_and_parked_host_is_not_leased() {
        let (pg, schema) = fresh("retry").await;
        pg.add_seeds(&seeds(&["http://a.kz/1"]), 2048)
            .await
            .unwrap();
        let t0 = now_ms();
        pg.acquire("w1", 1, TTL, t0).await.unwrap();
        let e = pg.claim("a.kz", t0, "w1").await.unwrap().unwrap();
        let r = Retry {
            entry: &e,
            record: None,
            due_ms: t0 + 60_000,
            error: "HTTP 429",
            park: None,
        };
        assert!(pg.retry("w1", &r).await.unwrap());
        assert_eq!(pg.claim("a.kz", t0, "w1").await.unwrap(), None, "not due");
        assert_eq!(pg.next_due("a.kz").await.unwrap(), Some(t0 + 60_000));
        let again = pg.claim("a.kz", t0 + 60_000, "w1").await.unwrap().unwrap();
        assert_eq!(again.attempts, 2);
        let parked = Retry {
            entry: &again,
            record: None,
            due_ms: t0 + 3_600_000,
            error: "budget",
            park: Some((t0 + 3_600_000, "5 consecutive failures")),
        };
        assert!(pg.retry("w1", &parked).await.unwrap());
        pg.set_host_errors("a.kz", 5).await.unwrap();
        pg.hold_host("a.kz", t0 + 5_000).await.unwrap();
        pg.release("w1", "a.kz", t0 + 1_000).await.unwrap();
        assert!(pg.acquire("w2", 5, TTL, t0).await.unwrap().is_empty());
        assert_eq!(pg.stats().await.unwrap().parked_hosts, 1);
        let got = pg.acquire("w2", 5, TTL, t0 + 3_600_000).await.unwrap();
        assert_eq!(
            got,
            [AcquiredHost {
                host: "a.kz".into(),
                hold_until: t0 + 5_000,
                errors: 0
            }],
            "politeness state follows the host; the ended park resets the errors"
        );
        pg.set_host_errors("a.kz", 2).await.unwrap();
        pg.release("w2", "a.kz", 0).await.unwrap();
        let got = pg.acquire("w3", 5, TTL, t0).await.unwrap();
        assert_eq!(got[0].errors, 2, "the run of errors follows the host");
        drop_schema(&pg, &schema).await;
    }

    #[tokio::test]
    async fn expired_lease_is_taken_over_and_orphans_requeued() {
        let (pg, schema) = fresh("takeover").await;
        pg.add_seeds(&seeds(&["http://a.kz/1", "http://a.kz/2"]), 2048)
            .await
            .unwrap();
        let now = now_ms();
        let short = Duration::from_millis(300);
        pg.heartbeat("w1", short).await.unwrap();
        pg.acquire("w1", 1, short, now).await.unwrap();
        let e = pg.claim("a.kz", now, "w1").await.unwrap().unwrap();
        assert!(pg.acquire("w2", 1, TTL, now).await.unwrap().is_empty());
        tokio::time::sleep(Duration::from_millis(400)).await;
        pg.heartbeat("w2", TTL).await.unwrap();
        assert_eq!(pg.balance_inputs(now).await.unwrap(), (1, 1), "w1 is dead");
        let got = pg.acquire("w2", 1, TTL, now).await.unwrap();
        assert_eq!(got.len(), 1);
        assert!(
            pg.renew("w1", short).await.unwrap().is_empty(),
            "w1 lost it"
        );
        let e2 = pg.claim("a.kz", now, "w2").await.unwrap().unwrap();
        assert_eq!(e2.url, "http://a.kz/1");
        assert_eq!(
            pg.requeue_own_claims("w2").await.unwrap(),
            1,
            "a restarted w2 takes back what its previous run left in flight"
        );
        assert_eq!(pg.complete("w1", &done(&e)).await.unwrap(), None, "fenced");
        let mut urls = Vec::new();
        while let Some(e) = pg.claim("a.kz", now, "w2").await.unwrap() {
            urls.push(e.url);
        }
        assert_eq!(urls, ["http://a.kz/1", "http://a.kz/2"], "orphan requeued");
        let st = pg.stats().await.unwrap();
        let w: Vec<(&str, bool, u64)> = st
            .workers
            .iter()
            .map(|w| (w.worker.as_str(), w.alive, w.hosts))
            .collect();
        assert_eq!(w, [("w1", false, 0), ("w2", true, 1)]);
        pg.leave("w2").await.unwrap();
        assert_eq!(pg.stats().await.unwrap().leased_hosts, 0);
        drop_schema(&pg, &schema).await;
    }

    #[tokio::test]
    async fn completion_adds_links_within_the_host_budget_and_adapts_revisits() {
        let (pg, schema) = fresh("links").await;
        pg.add_seeds(&seeds(&["http://a.kz/"]), 2048).await.unwrap();
        let t0 = now_ms();
        pg.acquire("w1", 1, TTL, t0).await.unwrap();
        let e = pg.claim("a.kz", t0, "w1").await.unwrap().unwrap();
        let urls: Vec<String> = (0..5).map(|i| format!("http://a.kz/p{i}")).collect();
        let mut links: Vec<NewLink<'_>> = urls.iter().map(|u| (u.as_str(), "a.kz", 1, 0)).collect();
        links.push(("http://b.kz/", "b.kz", 1, 0));
        links.push(("http://a.kz/", "a.kz", 1, 0));
        let visit = Visit {
            etag: Some("\"v1\"".into()),
            simhash: Some(0),
            ..Visit::default()
        };
        let policy = RevisitPolicy {
            initial_ms: 8_000,
            min_ms: 1_000,
            max_ms: 64_000,
        };
        let record = FetchRecord {
            url: e.url.clone(),
            final_url: e.url.clone(),
            host: "a.kz".into(),
            status: Some(200),
            error_kind: None,
            error_message: None,
            bytes: 10,
            captures: 1,
            fetched_at: "2025-01-01T00:00:00Z".into(),
            retried: false,
            simhash: Some(0),
        };
        let c = Completion {
            visit: Some((&visit, policy)),
            links,
            cap: 4,
            record: Some(&record),
            ..done(&e)
        };
        let mut added = pg.complete("w1", &c).await.unwrap().unwrap();
        added.sort();
        assert_eq!(added, ["a.kz", "a.kz", "a.kz", "b.kz"], "a.kz budget is 4");
        assert_eq!(pg.requeue_due_revisits(t0 + 7_000).await.unwrap(), 0);
        assert_eq!(pg.requeue_due_revisits(t0 + 60_000).await.unwrap(), 1);
        let again = pg.claim("a.kz", t0, "w1").await.unwrap().unwrap();
        assert_eq!(
            (again.url.as_str(), again.etag.as_deref()),
            ("http://a.kz/", Some("\"v1\"")),
            "revisited first (lowest id), with validators"
        );
        let totals = pg.totals().await.unwrap();
        assert_eq!(
            (totals.pages_fetched, totals.bytes, totals.hosts),
            (1, 10, 2)
        );
        drop_schema(&pg, &schema).await;
    }

    /// One revisit of a channel page by `worker`: claims `url`, diffs the page's posts against
    /// the shared table, keeps the captures to publish and records the page. Returns the post
    /// ids published and the diff.
    async fn revisit(
        pg: &PgFrontier,
        worker: &str,
        url: &str,
        page: Vec<model::Capture>,
    ) -> (Vec<u64>, PostDiff) {
        let hosts = vec!["t.me".to_string()];
        pg.add_seeds(&seeds(&[url]), 2048).await.unwrap();
        let t = now_ms();
        pg.heartbeat(worker, TTL).await.unwrap();
        pg.acquire(worker, 1, TTL, t).await.unwrap();
        let e = pg.claim("t.me", t, worker).await.unwrap().unwrap();
        assert_eq!(e.url, url);
        let diff = pg.telegram_diff(&page, &hosts).await.unwrap();
        let mut kept = page;
        diff.retain_changed(&mut kept);
        let c = Completion {
            posts: Some(&diff),
            ..done(&e)
        };
        assert!(pg.complete(worker, &c).await.unwrap().is_some());
        pg.release(worker, "t.me", 0).await.unwrap();
        let ids = kept
            .iter()
            .map(|c| match c.source {
                model::Source::Telegram { post_id, .. } => post_id,
                model::Source::Web => 0,
            })
            .collect();
        (ids, diff)
    }

    /// The embedded crawler's post tracking (`watch::tests`), on the shared table and across
    /// workers: unchanged posts are not republished, an edit is a new version, a post missing
    /// from the page's id range is marked deleted, one that rolled off below it is not.
    #[tokio::test]
    async fn telegram_posts_are_published_when_new_or_edited_by_any_worker() {
        use crate::watch::tests::post;
        let (pg, schema) = fresh("telegram").await;
        let other = PgFrontier::connect(&PgOptions {
            schema: Some(schema.clone()),
            ..PgOptions::new(test_url())
        })
        .await
        .unwrap();
        let (ids, _) = revisit(
            &pg,
            "w1",
            "http://t.me/s/c?v=1",
            vec![
                post("c", 1, "a", 0),
                post("c", 2, "b", 0),
                post("c", 3, "x", 0),
            ],
        )
        .await;
        assert_eq!(ids, [1, 2, 3], "first sight publishes every post");
        // Another worker revisits: post 2 edited, 1 unchanged, 3 gone while 4 is new.
        let (ids, diff) = revisit(
            &other,
            "w2",
            "http://t.me/s/c?v=2",
            vec![
                post("c", 1, "a", 5),
                post("c", 2, "b2", 5),
                post("c", 4, "d", 5),
            ],
        )
        .await;
        assert_eq!(ids, [2, 4]);
        assert_eq!(diff.deleted, [("c".to_string(), 3)]);
        // Post 1 rolled off the page (below its id range): not deleted; nothing republished.
        let (ids, diff) = revisit(
            &pg,
            "w1",
            "http://t.me/s/c?v=3",
            vec![post("c", 2, "b2", 9), post("c", 4, "d", 9)],
        )
        .await;
        assert!(
            ids.is_empty() && diff.deleted.is_empty(),
            "{ids:?} {diff:?}"
        );
        // Another channel with the same post ids is its own.
        let (ids, _) = revisit(&other, "w2", "http://t.me/s/d", vec![post("d", 2, "b2", 9)]).await;
        assert_eq!(ids, [2]);
        // A deleted post that comes back is live again (and published only if its text changed).
        let (ids, _) = revisit(
            &pg,
            "w1",
            "http://t.me/s/c?v=4",
            vec![post("c", 3, "x", 12), post("c", 4, "d", 12)],
        )
        .await;
        assert!(ids.is_empty(), "{ids:?}");

        assert_eq!(
            pg.post_counts().await.unwrap(),
            PostCounts {
                channels: 2,
                posts: 5,
                edited: 1,
                deleted: 0
            }
        );
        let rows: Vec<(i64, i32, bool, bool, String)> = query_as(
            "SELECT post_id, versions, edited_at IS NOT NULL, deleted_at IS NOT NULL, capture_id
             FROM crawl_telegram_posts WHERE channel = 'c' ORDER BY post_id",
        )
        .fetch_all(pg.pool())
        .await
        .unwrap();
        let edited = post("c", 2, "b2", 5);
        assert_eq!(
            rows,
            [
                (1, 1, false, false, post("c", 1, "a", 0).id),
                (2, 2, true, false, edited.id),
                (3, 1, false, false, post("c", 3, "x", 0).id),
                (4, 1, false, false, post("c", 4, "d", 5).id),
            ],
            "an edit points the row at the new version's capture"
        );
        other.pool().close().await;
        drop_schema(&pg, &schema).await;
    }

    /// A worker that lost its claim records nothing of the page (the next owner publishes its
    /// posts again), and pages that are not channel pages cost no query.
    #[tokio::test]
    async fn a_fenced_out_completion_records_no_posts() {
        use crate::watch::tests::post;
        let (pg, schema) = fresh("tgfence").await;
        let hosts = vec!["t.me".to_string()];
        pg.add_seeds(&seeds(&["http://t.me/s/c"]), 2048)
            .await
            .unwrap();
        let t = now_ms();
        pg.acquire("w1", 1, TTL, t).await.unwrap();
        let e = pg.claim("t.me", t, "w1").await.unwrap().unwrap();
        let page = vec![post("c", 1, "a", 0)];
        let diff = pg.telegram_diff(&page, &hosts).await.unwrap();
        let c = Completion {
            posts: Some(&diff),
            ..done(&e)
        };
        assert_eq!(pg.complete("w2", &c).await.unwrap(), None);
        assert_eq!(pg.post_counts().await.unwrap(), PostCounts::default());
        let again = pg.telegram_diff(&page, &hosts).await.unwrap();
        assert_eq!(again.seen[0].1, crate::watch::PostChange::New);
        let web = crate::watch::tests::post("c", 1, "a", 0);
        let web = model::Capture {
            source: model::Source::Web,
            url: "http://casino.kz/".into(),
            ..web
        };
        let none = pg.telegram_diff(&[web], &hosts).await.unwrap();
        assert!(none.seen.is_empty() && none.deleted.is_empty());
        drop_schema(&pg, &schema).await;
    }

    #[tokio::test]
    async fn migrations_apply_once_and_bad_schema_names_are_refused() {
        let (pg, schema) = fresh("migrate").await;
        let opts = PgOptions {
            schema: Some(schema.clone()),
            ..PgOptions::new(test_url())
        };
        PgFrontier::connect(&opts).await.unwrap();
        let applied: i64 =
            query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE version >= 8000000")
                .fetch_one(pg.pool())
                .await
                .unwrap();
        assert_eq!(applied, MIGRATIONS.len() as i64);
        let bad = PgOptions {
            schema: Some("x; DROP TABLE y".into()),
            ..PgOptions::new(test_url())
        };
        assert!(matches!(
            PgFrontier::connect(&bad).await,
            Err(CrawlError::Config(_))
        ));
        drop_schema(&pg, &schema).await;
    }
}
