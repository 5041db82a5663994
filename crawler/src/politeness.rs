//! Per-host politeness: how many requests may run at once and how soon the next may start.
//!
//! The scheduler asks [`Politeness::ready`] before claiming a URL of a host and reports starts
//! and completions. A host's delay is the configured minimum, raised by its robots.txt
//! `Crawl-delay` (already capped by [`crate::robots`]). State is in memory and owned by the
//! scheduling loop alone, so it needs no lock. A `Retry-After` or an error backoff pushes the
//! host's next start further out ([`Politeness::defer`]).

use std::collections::HashMap;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
struct HostState {
    in_flight: usize,
    next_start: Instant,
    delay: Duration,
    /// A request to the host has completed in this run. Until then one connection at a time:
    /// the first request fetches robots.txt, whose `Crawl-delay` must govern the second.
    warmed: bool,
    /// The last answer asked us to back off (Retry-After, error backoff): one connection at a
    /// time until an answer comes without such a request, so parallel slots cannot fire a burst
    /// the moment the hold expires.
    throttled: bool,
}

/// Per-host connection and delay bookkeeping.
#[derive(Debug)]
pub(crate) struct Politeness {
    per_host_connections: usize,
    default_delay: Duration,
    hosts: HashMap<String, HostState>,
}

impl Politeness {
    pub(crate) fn new(per_host_connections: usize, default_delay: Duration) -> Self {
        Politeness {
            per_host_connections: per_host_connections.max(1),
            default_delay,
            hosts: HashMap::new(),
        }
    }

    /// The host's state, created on first sight with the default delay, free to start at `at`.
    fn state(&mut self, host: &str, at: Instant) -> &mut HostState {
        let delay = self.default_delay;
        self.hosts.entry(host.to_string()).or_insert(HostState {
            in_flight: 0,
            next_start: at,
            delay,
            warmed: false,
            throttled: false,
        })
    }

    /// When the host may start its next request (`None` when at its connection limit).
    pub(crate) fn ready_at(&self, host: &str) -> Option<Option<Instant>> {
        match self.hosts.get(host) {
            None => Some(None),
            Some(s) if s.in_flight >= self.per_host_connections => None,
            Some(s) if (!s.warmed || s.throttled) && s.in_flight > 0 => None,
            Some(s) => Some(Some(s.next_start)),
        }
    }

    /// True when a request to `host` may start at `now`.
    pub(crate) fn ready(&self, host: &str, now: Instant) -> bool {
        match self.ready_at(host) {
            None => false,
            Some(None) => true,
            Some(Some(t)) => t <= now,
        }
    }

    /// How many requests to `host` may start at `now`, one after the other (at most `max`): what
    /// [`Politeness::ready`] and [`Politeness::start`] would allow if asked in turn, worked out
    /// on a copy of the host's state. The scheduler claims that many URLs of the host at once
    /// instead of one per pass — with no delay and several connections per host, one per pass
    /// kept a single-host crawl at one request in flight.
    pub(crate) fn startable(&self, host: &str, now: Instant, max: usize) -> usize {
        let mut probe = Politeness {
            per_host_connections: self.per_host_connections,
            default_delay: self.default_delay,
            hosts: self
                .hosts
                .get(host)
                .map(|s| (host.to_string(), s.clone()))
                .into_iter()
                .collect(),
        };
        let mut n = 0;
        while n < max && probe.ready(host, now) {
            probe.start(host, now);
            n += 1;
        }
        n
    }

    /// Records the start of a request.
    pub(crate) fn start(&mut self, host: &str, now: Instant) {
        let s = self.state(host, now);
        s.in_flight += 1;
        s.next_start = now + s.delay;
    }

    /// Records the end of a request.
    pub(crate) fn finish(&mut self, host: &str) {
        if let Some(s) = self.hosts.get_mut(host) {
            s.in_flight = s.in_flight.saturating_sub(1);
            s.warmed = true;
            s.throttled = false;
        }
    }

    /// Sets the host's delay to its robots.txt `crawl_delay` (never below the configured minimum),
    /// called as each answer of the host arrives (`now`). The next request waits `delay` from this
    /// answer, not only from when the previous request was scheduled: a scheduled start precedes
    /// the request on the wire (the first one waits for robots.txt), and a site that asks for a
    /// Crawl-delay gets at least that much time between one request and the next.
    pub(crate) fn set_crawl_delay(&mut self, host: &str, crawl_delay: Duration, now: Instant) {
        let delay = crawl_delay.max(self.default_delay);
        let s = self.state(host, now);
        s.delay = delay;
        s.next_start = s.next_start.max(now + delay);
    }

    /// Holds the host back until `until` (Retry-After, backoff, or all its URLs not yet due).
    pub(crate) fn defer(&mut self, host: &str, until: Instant) {
        let s = self.state(host, until);
        s.next_start = s.next_start.max(until);
        s.throttled = true;
    }

    /// Requests to `host` running now.
    pub(crate) fn in_flight(&self, host: &str) -> usize {
        self.hosts.get(host).map_or(0, |s| s.in_flight)
    }

    /// When the host may start its next request, if it has been seen.
    pub(crate) fn next_start(&self, host: &str) -> Option<Instant> {
        self.hosts.get(host).map(|s| s.next_start)
    }

    /// Drops the host's state (its lease went to another worker, which gets the next allowed
    /// start through the shared frontier).
    pub(crate) fn forget(&mut self, host: &str) {
        self.hosts.remove(host);
    }

    /// Current delay of a host.
    #[cfg(test)]
    pub(crate) fn delay(&self, host: &str) -> Duration {
        self.hosts.get(host).map_or(self.default_delay, |s| s.delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deferred_host_uses_one_connection_until_an_answer_without_backoff() {
        let t0 = Instant::now();
        let mut p = Politeness::new(2, Duration::from_millis(10));
        p.start("h", t0);
        p.finish("h");
        p.defer("h", t0 + Duration::from_secs(1));
        let later = t0 + Duration::from_secs(2);
        assert!(p.ready("h", later));
        p.start("h", later);
        assert!(
            !p.ready("h", later + Duration::from_millis(50)),
            "no burst after a hold"
        );
        p.finish("h");
        p.start("h", later + Duration::from_millis(100));
        assert!(
            p.ready("h", later + Duration::from_millis(200)),
            "both slots again"
        );
    }

    #[test]
    fn limits_connections_and_spaces_starts() {
        let t0 = Instant::now();
        let mut p = Politeness::new(2, Duration::from_millis(100));
        assert!(p.ready("a.kz", t0));
        p.start("a.kz", t0);
        assert!(!p.ready("a.kz", t0), "delay not elapsed");
        assert!(p.ready("b.kz", t0), "hosts are independent");
        let t1 = t0 + Duration::from_millis(100);
        assert!(!p.ready("a.kz", t1), "one at a time until a first answer");
        p.finish("a.kz");
        p.start("a.kz", t0);
        assert!(p.ready("a.kz", t1));
        p.start("a.kz", t1);
        let t2 = t1 + Duration::from_millis(500);
        assert!(!p.ready("a.kz", t2), "two connections in flight");
        p.finish("a.kz");
        assert!(p.ready("a.kz", t2));
    }

    #[test]
    fn startable_counts_what_ready_and_start_allow_in_turn() {
        let t0 = Instant::now();
        let mut p = Politeness::new(3, Duration::ZERO);
        assert_eq!(p.startable("a.kz", t0, 10), 1, "one until a first answer");
        p.start("a.kz", t0);
        assert_eq!(p.startable("a.kz", t0, 10), 0);
        p.finish("a.kz");
        assert_eq!(p.startable("a.kz", t0, 10), 3, "no delay: every connection");
        assert_eq!(p.startable("a.kz", t0, 2), 2, "capped");
        p.start("a.kz", t0);
        assert_eq!(p.startable("a.kz", t0, 10), 2);
        assert_eq!(p.in_flight("a.kz"), 1, "the probe leaves the state alone");
        let mut slow = Politeness::new(3, Duration::from_millis(100));
        slow.start("b.kz", t0);
        slow.finish("b.kz");
        assert_eq!(slow.startable("b.kz", t0, 10), 0, "delay not elapsed");
        let t1 = t0 + Duration::from_millis(100);
        assert_eq!(slow.startable("b.kz", t1, 10), 1, "a delay spaces starts");
        slow.defer("b.kz", t1);
        assert_eq!(slow.startable("b.kz", t1, 10), 1);
    }

    #[test]
    fn defer_only_postpones() {
        let t0 = Instant::now();
        let mut p = Politeness::new(2, Duration::from_millis(100));
        p.defer("a.kz", t0 + Duration::from_secs(5));
        assert!(!p.ready("a.kz", t0 + Duration::from_secs(4)));
        p.defer("a.kz", t0);
        assert!(p.ready("a.kz", t0 + Duration::from_secs(5)));
    }

    #[test]
    fn crawl_delay_raises_but_never_lowers() {
        let t0 = Instant::now();
        let mut p = Politeness::new(2, Duration::from_millis(250));
        p.set_crawl_delay("a.kz", Duration::from_millis(10), t0);
        assert_eq!(p.delay("a.kz"), Duration::from_millis(250));
        p.start("a.kz", t0);
        p.finish("a.kz");
        p.set_crawl_delay("a.kz", Duration::from_secs(2), t0);
        assert_eq!(p.delay("a.kz"), Duration::from_secs(2));
        assert!(!p.ready("a.kz", t0 + Duration::from_secs(1)));
        assert!(p.ready("a.kz", t0 + Duration::from_secs(2)));
    }

    #[test]
    fn crawl_delay_counts_from_the_answer() {
        // Scheduled at t0, answered 300 ms later (it waited for robots.txt): the next request may
        // not start before the answer + Crawl-delay.
        let t0 = Instant::now();
        let mut p = Politeness::new(2, Duration::ZERO);
        p.start("a.kz", t0);
        p.finish("a.kz");
        let answered = t0 + Duration::from_millis(300);
        p.set_crawl_delay("a.kz", Duration::from_secs(1), answered);
        assert!(!p.ready("a.kz", t0 + Duration::from_millis(1200)));
        assert!(p.ready("a.kz", t0 + Duration::from_millis(1300)));
        // Every later answer keeps the gap.
        p.start("a.kz", t0 + Duration::from_millis(1300));
        p.finish("a.kz");
        p.set_crawl_delay(
            "a.kz",
            Duration::from_secs(1),
            t0 + Duration::from_millis(1500),
        );
        assert!(!p.ready("a.kz", t0 + Duration::from_millis(2400)));
        assert!(p.ready("a.kz", t0 + Duration::from_millis(2500)));
    }
}
