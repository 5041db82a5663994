//! The crawl loop: claim URLs politely, fetch them on worker tasks, record and publish results.
//!
//! One scheduling loop owns the frontier and the per-host politeness state; fetches run as tokio
//! tasks (extraction and WARC writing on the blocking pool). Results come back to the loop, which
//! publishes captures *before* marking the URL done — a crash in between refetches the URL,
//! which idempotent consumers tolerate, while the opposite order could lose a capture. The loop
//! claims as many URLs of a host at once as its politeness allows, and completes every page that
//! finished by the time it wakes as one group: in embedded mode one SQLite transaction per group,
//! committed after all of the group's captures are published.
//!
//! The frontier is one of two stores ([`Store`]): the embedded SQLite frontier, or the shared
//! PostgreSQL frontier of distributed mode, where the loop also keeps this worker's host leases
//! ([`crate::host_lease`]) and fetches only the hosts it holds.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::Utc;
use model::{Capture, FailureKind, Queue};
use tokio::task::JoinSet;
use tokio::time::Instant;
use url::Url;

use crate::config::CrawlerConfig;
use crate::error::{CrawlError, Result};
use crate::fetch::{Conditional, FetchError, FetchSettings, Fetcher, Overflow};
use crate::frontier::postgres::{Completion, PgFrontier, Retry};
use crate::frontier::{Frontier, FrontierEntry, UrlState, now_ms};
use crate::host_book::HostBook;
use crate::host_lease::{DistributedConfig, Leases};
use crate::page::{self, Outcome, PageResult};
use crate::politeness::Politeness;
use crate::resolve::TargetGuard;
use crate::retry::{self, Disposition};
use crate::robots::{RobotsCache, Verdict};
use crate::stats::{CrawlCounters, CrawlStats, DB_FILE};
use crate::url_norm;
use crate::warc::{self, WarcEncoder, WarcWriter};

/// Directory under the data directory holding archived blobs (WARC files).
pub const BLOBS_DIR: &str = "blobs";

/// What worker tasks share.
struct Shared {
    cfg: CrawlerConfig,
    fetcher: Fetcher,
    robots: RobotsCache,
    warc: Mutex<Option<WarcWriter>>,
    /// Idle compressors for WARC records: each worker thread takes one, compresses its fetch
    /// outside the `warc` lock, then appends under it — one per page in flight at most.
    warc_encoders: Mutex<Vec<WarcEncoder>>,
    /// Browser for pages that need rendering (`CrawlerConfig::render`); `None` = static only.
    renderer: Option<Arc<crate::render::Renderer>>,
    /// Channels taken from `t.me` links (`CrawlerConfig::telegram_discover`), capped per crawl.
    channels: crate::telegram::ChannelDiscovery,
}

/// Where the frontier lives.
///
/// An enum over the two backends rather than a `dyn` trait: there are exactly two, their
/// transactions differ in shape (the embedded one also holds the capture log and Telegram post
/// table in the same SQLite file), and the embedded hot path stays what it was — a synchronous
/// call under an uncontended lock, no boxed future per claim.
enum Store {
    /// Embedded mode: `crawler.sqlite` in the data directory. Only the scheduling loop locks it,
    /// never across an await.
    Local(Mutex<Frontier>),
    /// Distributed mode: the shared PostgreSQL frontier, and this worker's identity and leases.
    Shared(PgFrontier, DistributedConfig),
}

/// Locks the embedded frontier (only the scheduling loop locks it, never across an await) or the
/// WARC writer and its compressors. A poisoned lock means a panic inside a SQLite call, after
/// which the data is still consistent (transactions), or inside a WARC write, after which the
/// file still holds whole members up to the last append.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A crawler over one data directory (embedded) or one worker of a distributed crawl. See the
/// crate docs for an example.
pub struct Crawler {
    shared: Arc<Shared>,
    store: Store,
    counters: Arc<CrawlCounters>,
    blobs_dir: PathBuf,
    /// Keep running and revisit (see [`crate::watch`]); `None` = stop when the frontier is done.
    watch: Option<crate::watch::Watch>,
}

impl std::fmt::Debug for Crawler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crawler")
            .field("data_dir", &self.shared.cfg.data_dir)
            .finish_non_exhaustive()
    }
}

impl Crawler {
    /// Opens (or creates) the frontier in `cfg.data_dir`, requeues URLs left in flight by an
    /// interrupted crawl, and inserts the seeds (idempotently).
    pub fn new(cfg: CrawlerConfig) -> Result<Crawler> {
        let blobs_dir = prepare_dirs(&cfg)?;
        let frontier = Frontier::open(&cfg.data_dir.join(DB_FILE))?;
        crate::watch::create(frontier.conn()).map_err(|e| frontier.err(e))?;
        for seed in &cfg.seeds {
            let url = normalize_seed(seed, cfg.max_url_len)?;
            frontier.add(url.as_str(), &url_norm::host_key(&url), 0, 0)?;
        }
        let due = frontier.requeue_due_revisits(now_ms())?;
        if due > 0 {
            tracing::info!(due, "pages due for a revisit requeued");
        }
        Crawler::assemble(cfg, Store::Local(Mutex::new(frontier)), blobs_dir)
    }

    /// A worker of a distributed crawl: connects to the shared PostgreSQL frontier (applying its
    /// migrations), and inserts `cfg.seeds` there (idempotently). WARC files still go to
    /// `cfg.data_dir`. [`Crawler::run`] then fetches only the hosts this worker leases and runs
    /// until the stop signal of [`Crawler::set_watch`] (required in this mode) or `max_pages`
    /// fetches; see [`crate::host_lease`]. Telegram posts are published on every fetch (the
    /// edit/deletion tracking of watch mode is embedded-only).
    pub async fn new_distributed(cfg: CrawlerConfig, dist: DistributedConfig) -> Result<Crawler> {
        dist.validate()?;
        let blobs_dir = prepare_dirs(&cfg)?;
        let pg = PgFrontier::connect(&dist.pg).await?;
        pg.add_seeds(&cfg.seeds, cfg.max_url_len).await?;
        Crawler::assemble(cfg, Store::Shared(pg, dist), blobs_dir)
    }

    fn assemble(cfg: CrawlerConfig, store: Store, blobs_dir: PathBuf) -> Result<Crawler> {
        let counters = Arc::new(CrawlCounters::default());
        let guard = Arc::new(TargetGuard::new(&cfg.resolve));
        let settings = FetchSettings {
            user_agent: cfg.user_agent.clone(),
            connect_timeout: cfg.connect_timeout,
            request_timeout: cfg.request_timeout,
            max_redirects: cfg.max_redirects,
            ca_certs: cfg.ca_certs.clone(),
        };
        let fetcher = Fetcher::new(&settings, guard).map_err(CrawlError::Client)?;
        let robots = RobotsCache::new(&cfg.robots_token, cfg.retry_base);
        Ok(Crawler {
            shared: Arc::new(Shared {
                channels: crate::telegram::ChannelDiscovery::new(cfg.telegram_discover_max),
                cfg,
                fetcher,
                robots,
                warc: Mutex::new(None),
                warc_encoders: Mutex::new(Vec::new()),
                renderer: None,
            }),
            store,
            counters,
            blobs_dir,
            watch: None,
        })
    }

    /// Makes [`Crawler::run`] keep running: when nothing is left to fetch it waits for the next
    /// due revisit instead of returning, until `watch.stop` turns `true`.
    pub fn set_watch(&mut self, watch: crate::watch::Watch) {
        self.watch = Some(watch);
    }

    /// Renders SPA shells and JS-only hosts with `renderer` before extraction (see
    /// [`crate::spa`]). Call before [`Crawler::run`].
    pub fn set_renderer(&mut self, renderer: Arc<crate::render::Renderer>) {
        match Arc::get_mut(&mut self.shared) {
            Some(shared) => shared.renderer = Some(renderer),
            None => tracing::warn!("renderer set while a crawl runs; ignored"),
        }
    }

    /// Live counters, for a progress bar or metrics.
    pub fn counters(&self) -> Arc<CrawlCounters> {
        self.counters.clone()
    }

    /// The shared frontier of a distributed worker (stats, seeds), `None` in embedded mode.
    pub fn shared_frontier(&self) -> Option<&PgFrontier> {
        match &self.store {
            Store::Local(_) => None,
            Store::Shared(pg, _) => Some(pg),
        }
    }

    /// Adds seed URLs (depth 0) to the frontier, idempotently; returns how many were new.
    pub async fn add_seeds(&self, seeds: &[String]) -> Result<u64> {
        let max_len = self.shared.cfg.max_url_len;
        match &self.store {
            Store::Local(m) => {
                let f = lock(m);
                let mut added = 0;
                for seed in seeds {
                    let url = normalize_seed(seed, max_len)?;
                    added += u64::from(f.add(url.as_str(), &url_norm::host_key(&url), 0, 0)?);
                }
                Ok(added)
            }
            Store::Shared(pg, _) => pg.add_seeds(seeds, max_len).await,
        }
    }

    /// Claims up to `max` (≥ 1) due URLs of `host`, oldest first, or says when its earliest
    /// queued URL is due (`None`: nothing claimable left for this worker).
    async fn claim(
        &self,
        host: &str,
        now_ms: i64,
        max: usize,
    ) -> Result<std::result::Result<Vec<FrontierEntry>, Option<i64>>> {
        match &self.store {
            Store::Local(m) => {
                let f = lock(m);
                let entries = f.claim_many(host, now_ms, max)?;
                if entries.is_empty() {
                    Ok(Err(f.next_due(host)?))
                } else {
                    Ok(Ok(entries))
                }
            }
            Store::Shared(pg, dist) => {
                let mut entries = Vec::new();
                while entries.len() < max.max(1) {
                    match pg.claim(host, now_ms, &dist.worker_id).await? {
                        Some(entry) => entries.push(entry),
                        None => break,
                    }
                }
                if entries.is_empty() {
                    // A due URL that could not be claimed: the lease is gone; the next tick
                    // decides.
                    Ok(Err(pg.next_due(host).await?.filter(|&due| due > now_ms)))
                } else {
                    Ok(Ok(entries))
                }
            }
        }
    }

    /// Crawls until the frontier is exhausted (or `max_pages` fetches were made). Every fetch —
    /// successful or failed — is published as a [`model::Capture`] to `out` (a Telegram preview
    /// page as one capture per post) and logged in the crawler's capture table.
    pub async fn run(&self, out: &dyn Queue<Capture>) -> Result<CrawlStats> {
        let cfg = &self.shared.cfg;
        let writer =
            WarcWriter::create(&self.blobs_dir, Utc::now()).map_err(|source| CrawlError::Io {
                path: self.blobs_dir.join(warc::WARC_DIR),
                source,
            })?;
        *self
            .shared
            .warc
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(writer);

        let mut politeness = Politeness::new(cfg.per_host_connections, cfg.host_delay);
        let mut leases = match &self.store {
            Store::Local(_) => None,
            Store::Shared(pg, dist) => {
                if self.watch.is_none() {
                    return Err(CrawlError::Config(
                        "a distributed crawler runs until stopped: call Crawler::set_watch first"
                            .into(),
                    ));
                }
                let mut l = Leases::new(pg.clone(), dist);
                l.join().await?;
                Some(l)
            }
        };
        let mut book = match &self.store {
            Store::Local(m) => HostBook::load(&lock(m), now_ms())?,
            // Filled by the first lease tick with the hosts this worker holds.
            Store::Shared(..) => HostBook::default(),
        };
        CrawlCounters::set(&self.counters.queued, book.queued_total());
        let mut tasks: JoinSet<PageResult> = JoinSet::new();
        let mut claimed: HashMap<tokio::task::Id, FrontierEntry> = HashMap::new();
        let mut stats = CrawlStats::default();
        let mut started = 0usize;
        let mut denied = 0usize;
        let mut drained: Vec<String> = Vec::new();
        let mut watch = self.watch.clone();

        loop {
            let stopping = watch.as_ref().is_some_and(crate::watch::Watch::stopping);
            if let Some(l) = leases.as_mut()
                && Instant::now() >= l.next_tick
            {
                l.tick(&mut book, &mut politeness, stopping).await?;
                CrawlCounters::set(&self.counters.queued, book.queued_total());
            }
            let now = Instant::now();
            let mut wake: Option<Instant> = leases.as_ref().map(|l| l.next_tick);
            if !stopping && tasks.len() < cfg.concurrency && started - denied < cfg.max_pages {
                let mut claims: Vec<FrontierEntry> = Vec::new();
                let now_ms = now_ms();
                for host in book.active() {
                    if tasks.len() + claims.len() >= cfg.concurrency
                        || started + claims.len() - denied >= cfg.max_pages
                    {
                        break;
                    }
                    match politeness.ready_at(host) {
                        None => continue,
                        Some(Some(t)) if t > now.into_std() => {
                            let t = Instant::from_std(t);
                            wake = Some(wake.map_or(t, |w| w.min(t)));
                            continue;
                        }
                        Some(_) => {}
                    }
                    // As many as the host's politeness lets start now, within the crawl's
                    // concurrency and page budget (pages counted as the check above counts them;
                    // `max_pages` may be `usize::MAX`, so nothing is added to it).
                    let room = (cfg.concurrency - tasks.len() - claims.len())
                        .min(cfg.max_pages - (started + claims.len() - denied));
                    let max = politeness.startable(host, now.into_std(), room).max(1);
                    match self.claim(host, now_ms, max).await? {
                        Ok(entries) => {
                            for entry in entries {
                                politeness.start(host, now.into_std());
                                claims.push(entry);
                            }
                        }
                        // Every queued URL of the host waits for a retry time.
                        Err(Some(due)) => {
                            let t = now + Duration::from_millis((due - now_ms).max(1) as u64);
                            politeness.defer(host, t.into_std());
                            wake = Some(wake.map_or(t, |w| w.min(t)));
                        }
                        Err(None) => drained.push(host.clone()),
                    }
                }
                for host in drained.drain(..) {
                    book.drained(&host);
                }
                for entry in claims {
                    book.claimed(&entry.host);
                    CrawlCounters::add(&self.counters.in_flight, 1);
                    started += 1;
                    let handle = tasks.spawn(process(self.shared.clone(), entry.clone()));
                    claimed.insert(handle.id(), entry);
                }
                CrawlCounters::set(&self.counters.queued, book.queued_total());
            }
            if tasks.is_empty() {
                if leases.is_some() && started - denied >= cfg.max_pages {
                    break;
                }
                match (wake, watch.as_mut()) {
                    (_, Some(w)) if w.stopping() => break,
                    (Some(t), Some(w)) => {
                        w.sleep_until(t).await;
                        continue;
                    }
                    (Some(t), None) => {
                        tokio::time::sleep_until(t).await;
                        continue;
                    }
                    // Watching: wait for the next revisit; `max_pages` then counts afresh.
                    (None, Some(w)) => {
                        self.await_revisits(w, &mut book).await?;
                        (started, denied) = (0, 0);
                        continue;
                    }
                    (None, None) => break,
                }
            }
            let joined = match wake {
                Some(t) => tokio::select! {
                    j = tasks.join_next_with_id() => j,
                    () = tokio::time::sleep_until(t) => continue,
                },
                None => tasks.join_next_with_id().await,
            };
            let Some(joined) = joined else { continue };
            // Every other page that finished meanwhile is completed in the same pass: one wake of
            // this loop and, in embedded mode, one SQLite transaction for the group (each page
            // a savepoint in it, see `Crawler::complete`). Captures are still all published
            // before the commit that marks their URLs done.
            let mut group = vec![joined];
            while let Some(more) = tasks.try_join_next_with_id() {
                group.push(more);
            }
            let grouped = match &self.store {
                Store::Local(m) if group.len() > 1 => {
                    let f = lock(m);
                    f.conn().execute_batch("BEGIN").map_err(|e| f.err(e))?;
                    true
                }
                _ => false,
            };
            let processed: Result<()> = async {
                for joined in group {
                    let (entry, result) = match joined {
                        Ok((id, result)) => (claimed.remove(&id), result),
                        Err(e) => {
                            let entry = claimed.remove(&e.id());
                            tracing::error!(error = %e, "crawl worker panicked");
                            let result = entry.as_ref().map(|en| {
                                PageResult::failed(
                                    en,
                                    &FetchError::new(
                                        FailureKind::Other,
                                        format!("worker panicked: {e}"),
                                    ),
                                )
                            });
                            match result {
                                Some(r) => (entry, r),
                                None => continue,
                            }
                        }
                    };
                    let Some(entry) = entry else { continue };
                    politeness.finish(&entry.host);
                    if let Some(delay) = self.shared.robots_delay(&entry) {
                        politeness.set_crawl_delay(&entry.host, delay, Instant::now().into_std());
                    }
                    CrawlCounters::sub(&self.counters.in_flight, 1);
                    if result.outcome == Outcome::Denied {
                        denied += 1;
                    }
                    let errors_before = book.errors(&entry.host);
                    let verdict = self.retry_verdict(&entry, &result, &mut book);
                    // A server's Retry-After holds the host back even when this URL is given up.
                    let host_wait = verdict.host_wait().or_else(|| {
                        result
                            .retry_after
                            .map(|w| w.min(self.shared.cfg.max_retry_after))
                    });
                    if let Some(wait) = host_wait {
                        politeness.defer(&entry.host, (Instant::now() + wait).into_std());
                    }
                    if let Store::Shared(pg, _) = &self.store {
                        // What the host's next owner must honour.
                        if let Some(wait) = host_wait {
                            pg.hold_host(&entry.host, now_ms() + wait.as_millis() as i64)
                                .await?;
                        }
                        let errors = book.errors(&entry.host);
                        if errors != errors_before {
                            pg.set_host_errors(&entry.host, errors).await?;
                        }
                    }
                    let added = self
                        .complete(&entry, result, verdict, out, &mut stats, &mut book)
                        .await?;
                    // Distributed: new URLs of hosts this worker keeps go to its book now;
                    // others are found by their owners' next lease tick.
                    if let Some(l) = &leases {
                        for host in added.iter().filter(|h| l.keeps(h)) {
                            book.added(host);
                        }
                        CrawlCounters::set(&self.counters.queued, book.queued_total());
                    }
                }
                Ok(())
            }
            .await;
            if grouped && let Store::Local(m) = &self.store {
                let f = lock(m);
                let end = if processed.is_ok() {
                    "COMMIT"
                } else {
                    "ROLLBACK"
                };
                f.conn().execute_batch(end).map_err(|e| f.err(e))?;
            }
            processed?;
        }

        match (&self.store, leases.as_mut()) {
            (Store::Shared(pg, _), Some(l)) => {
                l.leave().await?;
                let f = pg.stats().await?;
                (stats.hosts, stats.queued, stats.parked_hosts) =
                    (f.hosts, f.queued, f.parked_hosts);
            }
            (Store::Local(m), _) => {
                let f = lock(m);
                stats.hosts = f.host_total()?;
                stats.queued = f.count(UrlState::Queued)?;
                stats.parked_hosts = book.parked() as u64;
            }
            (Store::Shared(..), None) => {}
        }
        tracing::info!(
            pages = stats.pages_fetched,
            captures = stats.captures,
            failed = stats.failed,
            robots_denied = stats.robots_denied,
            queued = stats.queued,
            parked_hosts = stats.parked_hosts,
            "crawl finished"
        );
        Ok(stats)
    }

    /// The retry policy's decision for a result (always `GiveUp` for successes).
    fn retry_verdict(
        &self,
        entry: &FrontierEntry,
        result: &PageResult,
        book: &mut HostBook,
    ) -> Disposition {
        let cfg = &self.shared.cfg;
        let Some(err) = result
            .error
            .as_ref()
            .filter(|_| result.outcome == Outcome::Failed)
        else {
            if result.outcome == Outcome::Fetched {
                book.success(&entry.host);
            }
            return Disposition::GiveUp;
        };
        if !retry::is_transient(err.kind, result.status) {
            return Disposition::GiveUp;
        }
        let host_errors = book.failure(&entry.host);
        retry::decide(
            cfg,
            err.kind,
            result.status,
            result.retry_after,
            entry.attempts,
            host_errors,
        )
    }

    /// Publishes a final result, then records it in the frontier and capture log; a result to
    /// retry is only logged, and its URL requeued. Returns the hosts of URLs the shared
    /// frontier gained (always empty in embedded mode, where the book is updated directly).
    /// Embedded, each page's writes are one savepoint: its own transaction, or a part of the
    /// group's when the loop completes several pages at once.
    async fn complete(
        &self,
        entry: &FrontierEntry,
        result: PageResult,
        verdict: Disposition,
        out: &dyn Queue<Capture>,
        stats: &mut CrawlStats,
        book: &mut HostBook,
    ) -> Result<Vec<String>> {
        let c = &self.counters;
        if result.outcome == Outcome::Denied {
            tracing::debug!(url = %entry.url, "denied by robots.txt");
            match &self.store {
                Store::Local(m) => lock(m).finish(entry.id, UrlState::Denied, None)?,
                Store::Shared(pg, dist) => {
                    pg.finish(&dist.worker_id, entry.id, UrlState::Denied)
                        .await?;
                }
            }
            CrawlCounters::add(&c.robots_denied, 1);
            stats.robots_denied += 1;
            return Ok(Vec::new());
        }
        let mut result = result;
        let bytes = result.record.as_ref().map_or(0, |r| r.bytes);
        CrawlCounters::add(&c.bytes, bytes);
        stats.bytes += bytes;
        if verdict != Disposition::GiveUp {
            let message = result.error.as_ref().map_or("", |e| e.message.as_str());
            let (due, note) = match &verdict {
                Disposition::Retry { wait } => {
                    tracing::debug!(url = %entry.url, attempt = entry.attempts, wait_ms = wait.as_millis() as u64, error = %message, "retrying later");
                    (
                        now_ms() + wait.as_millis() as i64,
                        format!("retry in {} ms", wait.as_millis()),
                    )
                }
                Disposition::ParkHost { for_, reason } => {
                    tracing::warn!(host = %entry.host, reason = %reason, park_s = for_.as_secs(), "host parked; its urls stay queued");
                    let until = now_ms() + for_.as_millis() as i64;
                    if let Store::Local(m) = &self.store {
                        lock(m).park_host(&entry.host, until, entry.attempts, reason)?;
                    }
                    book.park(&entry.host);
                    (until, format!("host parked: {reason}"))
                }
                Disposition::GiveUp => unreachable!("checked above"),
            };
            if let Some(record) = &mut result.record {
                record.retried = true;
                record.captures = 0;
                if let Some(m) = &mut record.error_message {
                    m.push_str(&format!(" ({note})"));
                }
            }
            let error = format!("{message} ({note})");
            match &self.store {
                Store::Local(m) => {
                    let f = lock(m);
                    f.conn()
                        .execute_batch("SAVEPOINT page")
                        .map_err(|e| f.err(e))?;
                    let applied = (|| {
                        if let Some(record) = &result.record {
                            crate::capture_log::insert(f.conn(), record).map_err(|e| f.err(e))?;
                        }
                        f.requeue(entry.id, due, &error)
                    })();
                    let end = if applied.is_ok() {
                        "RELEASE page"
                    } else {
                        "ROLLBACK TO page; RELEASE page"
                    };
                    f.conn().execute_batch(end).map_err(|e| f.err(e))?;
                    applied?;
                }
                Store::Shared(pg, dist) => {
                    let park = match &verdict {
                        Disposition::ParkHost { reason, .. } => Some((due, reason.as_str())),
                        _ => None,
                    };
                    let retry = Retry {
                        entry,
                        record: result.record.as_ref(),
                        due_ms: due,
                        error: &error,
                        park,
                    };
                    if !pg.retry(&dist.worker_id, &retry).await? {
                        tracing::warn!(url = %entry.url, "claim lost to another worker; retry not recorded");
                    }
                }
            }
            CrawlCounters::add(&c.retries, 1);
            stats.retries += 1;
            book.requeued(&entry.host);
            CrawlCounters::set(&c.queued, book.queued_total());
            return Ok(Vec::new());
        }

        // Telegram posts already published unchanged are not published again (the shared
        // frontier remembers them for every worker).
        let posts = match &self.store {
            Store::Local(m) => {
                let f = lock(m);
                crate::watch::PostDiff::compute(
                    f.conn(),
                    &result.captures,
                    &self.shared.cfg.telegram_hosts,
                )
                .map_err(|e| f.err(e))?
            }
            Store::Shared(pg, _) => {
                pg.telegram_diff(&result.captures, &self.shared.cfg.telegram_hosts)
                    .await?
            }
        };
        posts.retain_changed(&mut result.captures);
        let n_captures = result.captures.len() as u64;
        for capture in std::mem::take(&mut result.captures) {
            out.publish(capture).await?;
        }
        CrawlCounters::add(&c.captures, n_captures);
        stats.captures += n_captures;
        match (&result.outcome, &result.error) {
            (Outcome::Failed, Some(err)) => {
                tracing::debug!(url = %entry.url, kind = err.kind.as_str(), error = %err.message, "fetch failed");
                CrawlCounters::add(&c.failed, 1);
                stats.failed += 1;
                *stats
                    .failures_by_kind
                    .entry(err.kind.as_str().to_string())
                    .or_default() += 1;
            }
            _ => {
                tracing::debug!(url = %entry.url, "fetched");
                CrawlCounters::add(&c.fetched, 1);
                stats.pages_fetched += 1;
            }
        }

        let added = match &self.store {
            Store::Local(m) => {
                let f = lock(m);
                f.conn()
                    .execute_batch("SAVEPOINT page")
                    .map_err(|e| f.err(e))?;
                let applied = self
                    .apply(&f, entry, &result, book)
                    .and_then(|()| posts.record(f.conn()).map_err(|e| f.err(e)));
                let end = if applied.is_ok() {
                    "RELEASE page"
                } else {
                    "ROLLBACK TO page; RELEASE page"
                };
                f.conn().execute_batch(end).map_err(|e| f.err(e))?;
                applied?;
                Vec::new()
            }
            Store::Shared(pg, dist) => {
                self.apply_shared(pg, &dist.worker_id, entry, &result, &posts, book)
                    .await?
            }
        };
        CrawlCounters::set(&c.queued, book.queued_total());
        Ok(added)
    }

    /// The shared-frontier counterpart of [`Crawler::apply`]: one transaction (see
    /// [`PgFrontier`]); the per-host budget is enforced by the database over all workers.
    async fn apply_shared(
        &self,
        pg: &PgFrontier,
        worker: &str,
        entry: &FrontierEntry,
        result: &PageResult,
        posts: &crate::watch::PostDiff,
        book: &mut HostBook,
    ) -> Result<Vec<String>> {
        let (state, error) = match (&result.outcome, &result.error) {
            (Outcome::Failed, Some(e)) => (UrlState::Failed, Some(e.message.as_str())),
            (Outcome::Failed, None) => (UrlState::Failed, None),
            _ => (UrlState::Done, None),
        };
        let visit = result
            .visit
            .as_ref()
            .map(|v| (v, self.revisit_policy(entry)));
        let mut links: Vec<(&str, &str, u32, u32)> = result
            .links
            .iter()
            .map(|l| (l.url.as_str(), l.host.as_str(), l.depth, l.page_seq))
            .collect();
        // The host's robots.txt `Sitemap:` lines (same host only), once per lease.
        let mut sitemaps = Vec::new();
        if book.first_completion(&entry.host)
            && let Ok(url) = Url::parse(&entry.url)
            && let Some(robots) = self.shared.robots.cached(&url)
        {
            for sitemap in robots.sitemaps() {
                let Ok(u) = url_norm::normalize(sitemap, None, self.shared.cfg.max_url_len) else {
                    continue;
                };
                if url_norm::host_key(&u) == entry.host {
                    sitemaps.push(u.to_string());
                }
            }
        }
        links.extend(
            sitemaps
                .iter()
                .map(|u| (u.as_str(), entry.host.as_str(), entry.depth, 0)),
        );
        let completion = Completion {
            entry,
            state,
            error,
            record: result.record.as_ref(),
            visit,
            links,
            cap: self.shared.cfg.max_pages_per_host as u64,
            posts: Some(posts),
        };
        match pg.complete(worker, &completion).await? {
            Some(added) => Ok(added),
            None => {
                tracing::warn!(url = %entry.url, "claim lost to another worker; result not recorded");
                Ok(Vec::new())
            }
        }
    }

    /// Revisit intervals of a fetched URL: fixed for a watched channel's first page, else the
    /// configured adaptive policy.
    fn revisit_policy(&self, entry: &FrontierEntry) -> crate::frontier::RevisitPolicy {
        self.watch
            .as_ref()
            .and_then(|w| w.policy_for(&entry.url, &self.shared.cfg.telegram_hosts))
            .unwrap_or(self.shared.cfg.revisit)
    }

    fn apply(
        &self,
        f: &Frontier,
        entry: &FrontierEntry,
        result: &PageResult,
        book: &mut HostBook,
    ) -> Result<()> {
        if let Some(record) = &result.record {
            crate::capture_log::insert(f.conn(), record).map_err(|e| f.err(e))?;
        }
        let (state, error) = match (&result.outcome, &result.error) {
            (Outcome::Failed, Some(e)) => (UrlState::Failed, Some(e.message.as_str())),
            (Outcome::Failed, None) => (UrlState::Failed, None),
            _ => (UrlState::Done, None),
        };
        f.finish(entry.id, state, error)?;
        if let Some(visit) = &result.visit {
            let policy = self.revisit_policy(entry);
            f.record_visit(entry.id, visit, &policy, now_ms())?;
        }
        let cap = self.shared.cfg.max_pages_per_host as u64;
        for link in &result.links {
            if book.known(&link.host) >= cap {
                continue;
            }
            if f.add(&link.url, &link.host, link.depth, link.page_seq)? {
                book.added(&link.host);
            }
        }
        // The host's robots.txt `Sitemap:` lines (same host only), once per run.
        if book.first_completion(&entry.host)
            && let Ok(url) = Url::parse(&entry.url)
            && let Some(robots) = self.shared.robots.cached(&url)
        {
            for sitemap in robots.sitemaps() {
                let Ok(u) = url_norm::normalize(sitemap, None, self.shared.cfg.max_url_len) else {
                    continue;
                };
                if url_norm::host_key(&u) == entry.host
                    && book.known(&entry.host) < cap
                    && f.add(u.as_str(), &entry.host, entry.depth, 0)?
                {
                    book.added(&entry.host);
                }
            }
        }
        Ok(())
    }
}

impl Crawler {
    /// Watching and idle: sleeps until the earliest revisit is due (or a stop request), then
    /// puts the due URLs back in the queue and reloads the host book.
    async fn await_revisits(
        &self,
        watch: &mut crate::watch::Watch,
        book: &mut HostBook,
    ) -> Result<()> {
        // Distributed workers requeue revisits on their lease ticks instead.
        let Store::Local(m) = &self.store else {
            return Ok(());
        };
        let next = {
            let f = lock(m);
            f.conn()
                .query_row(
                    "SELECT MIN(next_visit_at) FROM urls WHERE state = 'done'
                     AND next_visit_at IS NOT NULL",
                    [],
                    |r| r.get::<_, Option<i64>>(0),
                )
                .map_err(|e| f.err(e))?
        };
        // Nothing scheduled: look again in a minute.
        let wait_ms = next.map_or(60_000, |t| (t - now_ms()).clamp(0, 60_000));
        watch
            .sleep_until(Instant::now() + Duration::from_millis(wait_ms as u64))
            .await;
        if watch.stopping() {
            return Ok(());
        }
        let f = lock(m);
        let due = f.requeue_due_revisits(now_ms())?;
        if due > 0 {
            tracing::debug!(due, "revisits due");
            *book = HostBook::load(&f, now_ms())?;
            CrawlCounters::set(&self.counters.queued, book.queued_total());
        }
        Ok(())
    }
}

/// Creates the data directory and its WARC directory; returns the blobs directory.
fn prepare_dirs(cfg: &CrawlerConfig) -> Result<PathBuf> {
    cfg.validate()?;
    let io = |path: &PathBuf| {
        let path = path.clone();
        move |source| CrawlError::Io { path, source }
    };
    std::fs::create_dir_all(&cfg.data_dir).map_err(io(&cfg.data_dir))?;
    let blobs_dir = cfg.data_dir.join(BLOBS_DIR);
    let warc_dir = blobs_dir.join(warc::WARC_DIR);
    std::fs::create_dir_all(&warc_dir).map_err(io(&warc_dir))?;
    Ok(blobs_dir)
}

/// A seed as a normalized frontier URL, or the reason it is not one.
pub(crate) fn normalize_seed(seed: &str, max_url_len: usize) -> Result<Url> {
    url_norm::normalize(seed, None, max_url_len).map_err(|e| CrawlError::Seed {
        url: seed.to_string(),
        reason: e.to_string(),
    })
}

impl Shared {
    /// Archives a fetch to the run's WARC file (`None` when the crawl writes none): compressed
    /// on the calling thread, appended under the lock.
    fn archive(
        &self,
        resp: &crate::fetch::FetchedResponse,
        depth: u32,
    ) -> Option<std::io::Result<model::WarcRef>> {
        if lock(&self.warc).is_none() {
            return None;
        }
        let mut encoder = lock(&self.warc_encoders).pop().unwrap_or_default();
        let encoded = encoder.fetch(resp, &self.cfg.user_agent, depth);
        lock(&self.warc_encoders).push(encoder);
        match encoded {
            Ok(e) => lock(&self.warc).as_mut().map(|w| w.append_fetch(e)),
            Err(e) => Some(Err(e)),
        }
    }

    /// The host's robots.txt crawl delay, if its entry is cached.
    fn robots_delay(&self, entry: &FrontierEntry) -> Option<Duration> {
        let url = Url::parse(&entry.url).ok()?;
        self.robots.cached(&url)?.crawl_delay()
    }
}

/// Fetches and processes one URL (runs on a worker task).
async fn process(shared: Arc<Shared>, entry: FrontierEntry) -> PageResult {
    let url = match Url::parse(&entry.url) {
        Ok(u) => u,
        Err(e) => {
            return PageResult::failed(&entry, &FetchError::new(FailureKind::Parse, e.to_string()));
        }
    };
    if let Err(e) = shared.fetcher.check_target(&url) {
        return PageResult::failed(&entry, &e);
    }
    let robots = shared.robots.entry(&url, &shared.fetcher).await;
    match robots.verdict(&url) {
        Verdict::Allowed => {}
        Verdict::Denied => return PageResult::denied(),
        Verdict::Unavailable { status, message } => {
            let mut failed =
                PageResult::failed(&entry, &FetchError::new(FailureKind::Status, message));
            failed.status = Some(status);
            return failed;
        }
        Verdict::Unreachable(e) => return PageResult::failed(&entry, &e),
    }
    let resp = match shared
        .fetcher
        .get_checked(
            &url,
            shared.cfg.max_body_bytes,
            Overflow::Fail,
            Some(&shared.robots),
            Conditional {
                etag: entry.etag.as_deref(),
                last_modified: entry.last_modified.as_deref(),
            },
        )
        .await
    {
        Ok(r) => r,
        Err(e) => return PageResult::failed(&entry, &e),
    };
    let worker_entry = entry.clone();
    let render_shared = Arc::clone(&shared);
    let joined = tokio::task::spawn_blocking(move || {
        let warc_ref = shared.archive(&resp, worker_entry.depth);
        let warc_ref = match warc_ref {
            Some(Ok(r)) => Some(r),
            Some(Err(e)) => {
                tracing::warn!(url = %worker_entry.url, error = %e, "warc write failed");
                None
            }
            None => None,
        };
        let result = page::process_response(
            &shared.cfg,
            &shared.channels,
            &worker_entry,
            &url,
            &resp,
            warc_ref,
        );
        // Without a browser nothing is rendered: skip the decision (it re-reads the body).
        let render = shared
            .renderer
            .as_ref()
            .and_then(|_| crate::spa::render_target(&shared.cfg, &resp, &result));
        (result, render)
    })
    .await;
    match joined {
        Ok((mut result, Some(target))) => {
            if let Some(renderer) = &render_shared.renderer {
                crate::spa::render_into(&render_shared.cfg, renderer, &entry, &target, &mut result)
                    .await;
            }
            result
        }
        Ok((result, None)) => result,
        Err(e) => PageResult::failed(
            &entry,
            &FetchError::new(FailureKind::Parse, format!("extraction panicked: {e}")),
        ),
    }
}
