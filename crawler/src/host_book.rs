//! The scheduler's in-memory view of hosts: how many URLs each has queued and known, its run of
//! consecutive failures, and whether it is parked.
//!
//! The frontier on disk is the truth; this book is loaded from it once per run
//! ([`HostBook::load`]) and kept in step by the scheduling loop, so that choosing the next host
//! and enforcing the per-host budget cost a hash lookup instead of a `SELECT DISTINCT host` or a
//! `COUNT(*)` per page — the difference between O(pages) and O(pages²) on a 100,000-URL crawl.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::error::Result;
use crate::frontier::Frontier;

#[derive(Debug, Default, Clone)]
struct HostCounts {
    queued: u64,
    known: u64,
    errors: u32,
}

/// Per-host counts and the set of hosts with work.
#[derive(Debug, Default)]
pub(crate) struct HostBook {
    hosts: HashMap<String, HostCounts>,
    /// Hosts with queued URLs that are not parked, in a stable (sorted) order.
    active: BTreeSet<String>,
    parked: BTreeSet<String>,
    queued_total: u64,
    /// Hosts with a completed fetch in this run.
    completed: HashSet<String>,
}

impl HostBook {
    /// Loads counts and parked hosts from the frontier.
    pub(crate) fn load(f: &Frontier, now_ms: i64) -> Result<HostBook> {
        let mut book = HostBook::default();
        for p in f.parked_hosts(now_ms)? {
            tracing::info!(host = %p.host, reason = %p.reason, "host still parked; its urls stay queued");
            book.parked.insert(p.host);
        }
        for (host, n) in f.known_by_host()? {
            book.hosts.entry(host).or_default().known = n;
        }
        for (host, n) in f.queued_by_host()? {
            book.queued_total += n;
            if !book.parked.contains(&host) {
                book.active.insert(host.clone());
            }
            book.hosts.entry(host).or_default().queued = n;
        }
        Ok(book)
    }

    /// Hosts with queued URLs, not parked.
    pub(crate) fn active(&self) -> impl Iterator<Item = &String> {
        self.active.iter()
    }

    /// URLs queued over all hosts (parked ones included).
    pub(crate) fn queued_total(&self) -> u64 {
        self.queued_total
    }

    /// URLs known for `host` (the per-host budget).
    pub(crate) fn known(&self, host: &str) -> u64 {
        self.hosts.get(host).map_or(0, |c| c.known)
    }

    /// A new URL entered the frontier.
    pub(crate) fn added(&mut self, host: &str) {
        let c = self.hosts.entry(host.to_string()).or_default();
        c.known += 1;
        c.queued += 1;
        self.queued_total += 1;
        if !self.parked.contains(host) {
            self.active.insert(host.to_string());
        }
    }

    /// A URL of `host` was claimed.
    pub(crate) fn claimed(&mut self, host: &str) {
        if let Some(c) = self.hosts.get_mut(host) {
            c.queued = c.queued.saturating_sub(1);
            self.queued_total = self.queued_total.saturating_sub(1);
            if c.queued == 0 {
                self.active.remove(host);
            }
        }
    }

    /// A claimed URL went back to the queue (retry).
    pub(crate) fn requeued(&mut self, host: &str) {
        let c = self.hosts.entry(host.to_string()).or_default();
        c.queued += 1;
        self.queued_total += 1;
        if !self.parked.contains(host) {
            self.active.insert(host.to_string());
        }
    }

    /// The frontier has nothing claimable for `host` although the book thought so.
    pub(crate) fn drained(&mut self, host: &str) {
        if let Some(c) = self.hosts.get_mut(host) {
            self.queued_total = self.queued_total.saturating_sub(c.queued);
            c.queued = 0;
        }
        self.active.remove(host);
    }

    /// Records a transient failure of `host`; returns its consecutive failure count.
    pub(crate) fn failure(&mut self, host: &str) -> u32 {
        let c = self.hosts.entry(host.to_string()).or_default();
        c.errors += 1;
        c.errors
    }

    /// Records a success of `host` (ends its run of failures).
    pub(crate) fn success(&mut self, host: &str) {
        if let Some(c) = self.hosts.get_mut(host) {
            c.errors = 0;
        }
    }

    /// True the first time a fetch of `host` completes in this run (robots.txt is then cached,
    /// and its sitemaps can be queued).
    pub(crate) fn first_completion(&mut self, host: &str) -> bool {
        !self.completed.contains(host) && self.completed.insert(host.to_string())
    }

    /// Takes `host` out of this run.
    pub(crate) fn park(&mut self, host: &str) {
        self.parked.insert(host.to_string());
        self.active.remove(host);
    }

    /// Hosts parked during or before this run.
    pub(crate) fn parked(&self) -> usize {
        self.parked.len()
    }

    /// URLs queued for `host`, as far as the book knows.
    pub(crate) fn queued(&self, host: &str) -> u64 {
        self.hosts.get(host).map_or(0, |c| c.queued)
    }

    /// True when `host` is out of this run (parked, or being handed to another worker).
    pub(crate) fn is_parked(&self, host: &str) -> bool {
        self.parked.contains(host)
    }

    /// The host's current run of consecutive transient failures.
    pub(crate) fn errors(&self, host: &str) -> u32 {
        self.hosts.get(host).map_or(0, |c| c.errors)
    }

    /// Sets the host's run of failures (as left by a previous lease holder).
    pub(crate) fn set_errors(&mut self, host: &str, errors: u32) {
        self.hosts.entry(host.to_string()).or_default().errors = errors;
    }

    /// Sets the queued count of `host` from the shared frontier (distributed mode, where other
    /// workers add URLs to this worker's hosts).
    pub(crate) fn set_queued(&mut self, host: &str, n: u64) {
        let c = self.hosts.entry(host.to_string()).or_default();
        self.queued_total = self.queued_total.saturating_sub(c.queued) + n;
        c.queued = n;
        if n > 0 && !self.parked.contains(host) {
            self.active.insert(host.to_string());
        } else if n == 0 {
            self.active.remove(host);
        }
    }

    /// Drops `host` from the book (its lease went to another worker).
    pub(crate) fn forget(&mut self, host: &str) {
        if let Some(c) = self.hosts.remove(host) {
            self.queued_total = self.queued_total.saturating_sub(c.queued);
        }
        self.active.remove(host);
        self.parked.remove(host);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_url_lifecycle() {
        let mut b = HostBook::default();
        b.added("a.kz");
        b.added("a.kz");
        b.added("b.kz");
        assert_eq!(b.queued_total(), 3);
        assert_eq!(b.known("a.kz"), 2);
        b.claimed("b.kz");
        assert_eq!(b.active().collect::<Vec<_>>(), ["a.kz"]);
        b.requeued("b.kz");
        assert_eq!(b.active().count(), 2);
        assert_eq!((b.failure("b.kz"), b.failure("b.kz")), (1, 2));
        b.success("b.kz");
        assert_eq!(b.failure("b.kz"), 1);
        b.park("b.kz");
        b.added("b.kz");
        assert_eq!(b.active().collect::<Vec<_>>(), ["a.kz"], "parked stays out");
        assert_eq!(b.queued_total(), 4);
        b.drained("a.kz");
        assert_eq!(b.active().count(), 0);
        assert_eq!(b.parked(), 1);
        assert!(b.first_completion("a.kz"));
        assert!(!b.first_completion("a.kz"));
    }

    #[test]
    fn shared_counts_replace_local_ones_and_forgotten_hosts_leave() {
        let mut b = HostBook::default();
        b.added("a.kz");
        b.set_queued("a.kz", 5);
        b.set_queued("b.kz", 2);
        assert_eq!((b.queued_total(), b.queued("a.kz")), (7, 5));
        b.set_queued("b.kz", 0);
        assert_eq!(b.active().collect::<Vec<_>>(), ["a.kz"]);
        b.set_errors("a.kz", 3);
        assert_eq!(b.failure("a.kz"), 4);
        b.park("a.kz");
        assert!(b.is_parked("a.kz"));
        b.forget("a.kz");
        assert!(!b.is_parked("a.kz"));
        assert_eq!((b.queued_total(), b.errors("a.kz")), (0, 0));
        assert_eq!(b.active().count(), 0);
    }
}
