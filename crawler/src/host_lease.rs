//! The worker side of distributed crawling: which hosts this worker may fetch, kept in step with
//! the shared frontier's host leases (see [`crate::frontier::postgres`]).
//!
//! Every tick (a fraction of the lease TTL) the scheduling loop calls `Leases::tick`, which
//! heartbeats, renews the leases it holds (a lease missing from the renewal was lost: its host
//! left this worker), releases hosts it no longer needs — drained, parked, or above its share
//! once nothing of theirs is in flight — and acquires unowned or expired hosts up to its fair
//! share, `ceil(hosts with work / live workers)`. That share shrinks when a worker joins, so the
//! others hand hosts over (the rebalance), and grows when one dies, so its hosts are taken once
//! their leases expire. The scheduler's host book then holds the owned hosts only, with queued
//! counts reloaded from the database (other workers add URLs to our hosts through their links).
//!
//! A host handed over carries its politeness state in its row: the next allowed start (the
//! delay, a `Retry-After` or backoff hold) and its run of consecutive errors; parked hosts are
//! never acquired until their park ends.

use std::collections::BTreeSet;
use std::time::Duration;

use tokio::time::Instant;

use crate::error::{CrawlError, Result};
use crate::frontier::now_ms;
use crate::frontier::postgres::{PgFrontier, PgOptions};
use crate::host_book::HostBook;
use crate::politeness::Politeness;

/// Settings of a distributed crawler worker ([`crate::Crawler::new_distributed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributedConfig {
    /// The shared frontier's database.
    pub pg: PgOptions,
    /// This worker's id: unique among live workers, stable across restarts if its leases should
    /// be recognised after a quick restart (a new id simply waits for the old leases to expire).
    pub worker_id: String,
    /// How long a lease (and a heartbeat) holds without renewal: a killed worker's hosts are
    /// taken over after at most this long.
    pub lease_ttl: Duration,
    /// How often leases are renewed and rebalanced (well under `lease_ttl`).
    pub lease_tick: Duration,
}

impl DistributedConfig {
    /// A worker `worker_id` on the database at `url`: 10 s leases renewed every 2 s.
    pub fn new(url: impl Into<String>, worker_id: impl Into<String>) -> DistributedConfig {
        DistributedConfig {
            pg: PgOptions::new(url),
            worker_id: worker_id.into(),
            lease_ttl: Duration::from_secs(10),
            lease_tick: Duration::from_secs(2),
        }
    }

    /// Checks the worker id and the timings.
    pub fn validate(&self) -> Result<()> {
        if self.worker_id.trim().is_empty() {
            return Err(CrawlError::Config("worker_id must not be empty".into()));
        }
        if self.lease_tick.is_zero() || self.lease_tick * 2 > self.lease_ttl {
            return Err(CrawlError::Config(
                "lease_tick must be positive and at most half of lease_ttl".into(),
            ));
        }
        Ok(())
    }
}

/// A worker's fair share of hosts: `ceil(hosts / workers)` (all of them when alone).
pub(crate) fn fair_share(hosts: u64, workers: u64) -> u64 {
    hosts.div_ceil(workers.max(1))
}

/// The hosts this worker holds, and when to look again.
#[derive(Debug)]
pub(crate) struct Leases {
    pg: PgFrontier,
    worker: String,
    ttl: Duration,
    every: Duration,
    owned: BTreeSet<String>,
    /// Owned hosts being handed over: no new claims, released once nothing is in flight.
    releasing: BTreeSet<String>,
    /// When [`Leases::tick`] is due.
    pub(crate) next_tick: Instant,
}

impl Leases {
    pub(crate) fn new(pg: PgFrontier, cfg: &DistributedConfig) -> Leases {
        Leases {
            pg,
            worker: cfg.worker_id.clone(),
            ttl: cfg.lease_ttl,
            every: cfg.lease_tick,
            owned: BTreeSet::new(),
            releasing: BTreeSet::new(),
            next_tick: Instant::now(),
        }
    }

    /// True when this worker holds `host` and keeps it (new URLs of it go to the book).
    pub(crate) fn keeps(&self, host: &str) -> bool {
        self.owned.contains(host) && !self.releasing.contains(host)
    }

    /// Registers the worker and requeues what a previous run under the same id left in flight
    /// (a worker killed and restarted with its id keeps its still-live leases).
    pub(crate) async fn join(&mut self) -> Result<()> {
        self.pg.heartbeat(&self.worker, self.ttl).await?;
        let n = self.pg.requeue_own_claims(&self.worker).await?;
        if n > 0 {
            tracing::info!(requeued = n, worker = %self.worker, "resuming: urls left in flight by this worker's previous run requeued");
        }
        Ok(())
    }

    /// Heartbeat, renewal, release and (unless `stopping`) acquisition; then reloads the book's
    /// queued counts for the hosts held.
    pub(crate) async fn tick(
        &mut self,
        book: &mut HostBook,
        politeness: &mut Politeness,
        stopping: bool,
    ) -> Result<()> {
        let (pg, worker) = (&self.pg, self.worker.as_str());
        pg.heartbeat(worker, self.ttl).await?;
        let held: BTreeSet<String> = pg.renew(worker, self.ttl).await?.into_iter().collect();
        for host in self.owned.difference(&held) {
            tracing::warn!(host = %host, "host lease lost (expired and taken over)");
            book.forget(host);
            politeness.forget(host);
        }
        self.owned = held;
        self.releasing.retain(|h| self.owned.contains(h));

        let now = now_ms();
        let idle: Vec<String> = self
            .owned
            .iter()
            .filter(|h| politeness.in_flight(h) == 0)
            .filter(|h| self.releasing.contains(*h) || book.is_parked(h) || book.queued(h) == 0)
            .cloned()
            .collect();
        for host in idle {
            self.release(&host, book, politeness).await?;
        }

        let (hosts, workers) = self.pg.balance_inputs(now).await?;
        let share = fair_share(hosts, workers);
        let kept: Vec<String> = self
            .owned
            .iter()
            .filter(|h| !self.releasing.contains(*h) && !book.is_parked(h))
            .cloned()
            .collect();
        let mine = kept.len() as u64;
        if mine > share {
            // Hand over the surplus: idle hosts now, busy ones once their fetches are done.
            let mut surplus: Vec<String> = kept;
            surplus.sort_by_key(|h| politeness.in_flight(h));
            for host in surplus.into_iter().take((mine - share) as usize) {
                if politeness.in_flight(&host) == 0 {
                    self.release(&host, book, politeness).await?;
                } else {
                    book.park(&host);
                    self.releasing.insert(host);
                }
            }
            tracing::debug!(
                share,
                mine,
                hosts,
                workers,
                "rebalancing: hosts handed over"
            );
        } else if mine < share && !stopping {
            let got = self
                .pg
                .acquire(&self.worker, share - mine, self.ttl, now)
                .await?;
            for a in got {
                tracing::debug!(host = %a.host, "host lease acquired");
                if a.hold_until > now {
                    let wait = Duration::from_millis((a.hold_until - now) as u64);
                    politeness.defer(&a.host, (Instant::now() + wait).into_std());
                }
                book.set_errors(&a.host, a.errors);
                self.owned.insert(a.host);
            }
        }

        let kept: Vec<String> = self
            .owned
            .iter()
            .filter(|h| !self.releasing.contains(*h))
            .cloned()
            .collect();
        let counts = self.pg.queued_by_host(&kept).await?;
        for host in &kept {
            let n = counts.iter().find(|(h, _)| h == host).map_or(0, |c| c.1);
            book.set_queued(host, n);
        }
        let due = self.pg.requeue_due_revisits(now_ms()).await?;
        if due > 0 {
            tracing::debug!(due, "revisits due");
        }
        self.next_tick = Instant::now() + self.every;
        Ok(())
    }

    /// Gives `host` up, leaving its next allowed start for the next owner.
    async fn release(
        &mut self,
        host: &str,
        book: &mut HostBook,
        politeness: &mut Politeness,
    ) -> Result<()> {
        let hold = politeness.next_start(host).map_or(0, |t| {
            let ahead = t.saturating_duration_since(std::time::Instant::now());
            if ahead.is_zero() {
                0
            } else {
                now_ms() + ahead.as_millis() as i64
            }
        });
        self.pg.release(&self.worker, host, hold).await?;
        tracing::debug!(host = %host, "host lease released");
        self.owned.remove(host);
        self.releasing.remove(host);
        book.forget(host);
        politeness.forget(host);
        Ok(())
    }

    /// Releases everything and unregisters (a clean stop).
    pub(crate) async fn leave(&mut self) -> Result<()> {
        self.pg.leave(&self.worker).await?;
        self.owned.clear();
        self.releasing.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fair_share_rounds_up() {
        assert_eq!(fair_share(0, 3), 0);
        assert_eq!(fair_share(7, 1), 7);
        assert_eq!(fair_share(7, 2), 4);
        assert_eq!(fair_share(6, 3), 2);
        assert_eq!(fair_share(5, 0), 5, "no live worker counted yet: take all");
    }

    #[test]
    fn tick_must_be_well_under_the_ttl() {
        let mut c = DistributedConfig::new("postgres://x@127.0.0.1/db", "w1");
        c.validate().unwrap();
        c.lease_tick = c.lease_ttl;
        assert!(c.validate().unwrap_err().to_string().contains("lease_tick"));
        c.lease_tick = Duration::from_secs(1);
        c.worker_id = " ".into();
        assert!(c.validate().unwrap_err().to_string().contains("worker_id"));
    }
}
