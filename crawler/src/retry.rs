//! What to do after a failed fetch: give up, retry the URL later, or park its host.
//!
//! A crawler that retries at once turns a struggling server's 503 into a storm, and one that
//! never retries loses pages to a blip. The policy here is Heritrix's and Nutch's: only transient
//! failures are retried (429, 500/502/503/504, timeouts, refused or reset connections), at most
//! `max_retries` times, after an exponential backoff with jitter (`base · 2^(attempt-1)`, the
//! upper half randomised so that many URLs of one host do not return in lock-step), or after the
//! server's own `Retry-After` when it gives one. The whole host waits too — a 429 speaks for the
//! site, not for one URL. A host that fails `host_error_budget` times in a row, or asks for a
//! longer wait than `max_retry_after`, is *parked*: its queued URLs stay queued for a later run.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use chrono::Utc;
use model::FailureKind;

use crate::config::CrawlerConfig;

/// The decision for one failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// Record the failure as final.
    GiveUp,
    /// Requeue the URL; nothing may be sent to the host before `wait` has passed.
    Retry {
        /// Delay before the URL (and the host) may be tried again.
        wait: Duration,
    },
    /// Park the host for `for_`; the URL is requeued for the run after that.
    ParkHost {
        /// How long.
        for_: Duration,
        /// Why, for the log and the `hosts` table.
        reason: String,
    },
}

impl Disposition {
    /// How long the whole host must wait before its next request, if at all.
    pub(crate) fn host_wait(&self) -> Option<Duration> {
        match self {
            Disposition::GiveUp => None,
            Disposition::Retry { wait } => Some(*wait),
            Disposition::ParkHost { for_, .. } => Some(*for_),
        }
    }
}

/// Whether a failure (no response: `kind`; a response: `status`) may go away by itself.
pub(crate) fn is_transient(kind: FailureKind, status: Option<u16>) -> bool {
    match status {
        Some(s) => matches!(s, 408 | 429 | 500 | 502 | 503 | 504),
        None => matches!(kind, FailureKind::Timeout | FailureKind::Connect),
    }
}

/// `base · 2^(attempt-1)`, capped at `max`, with the upper half jittered.
pub(crate) fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    let full = base.saturating_mul(1 << exp).min(max);
    let half = full / 2;
    let jitter = (random_u64() % 1_000_000) as f64 / 1_000_000.0;
    half + half.mul_f64(jitter)
}

/// A random number from the standard library's per-instance hash keys (no `rand` dependency).
fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_i64(Utc::now().timestamp_nanos_opt().unwrap_or_default());
    h.finish()
}

/// Parses `Retry-After` (delay-seconds or an HTTP date) into a wait from now.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let ms = (at.with_timezone(&Utc) - Utc::now()).num_milliseconds();
    Some(Duration::from_millis(ms.max(0) as u64))
}

/// Decides after attempt number `attempt` (1 = first) of a URL failed; `host_errors` counts the
/// host's consecutive transient failures, this one included.
pub(crate) fn decide(
    cfg: &CrawlerConfig,
    kind: FailureKind,
    status: Option<u16>,
    retry_after: Option<Duration>,
    attempt: u32,
    host_errors: u32,
) -> Disposition {
    if !is_transient(kind, status) {
        return Disposition::GiveUp;
    }
    if let Some(wait) = retry_after
        && wait > cfg.max_retry_after
    {
        return Disposition::ParkHost {
            for_: wait.min(cfg.host_park.max(cfg.max_retry_after)),
            reason: format!("Retry-After of {} s", wait.as_secs()),
        };
    }
    if host_errors >= cfg.host_error_budget {
        return Disposition::ParkHost {
            for_: cfg.host_park,
            reason: format!("{host_errors} consecutive failures"),
        };
    }
    if attempt > cfg.max_retries {
        return Disposition::GiveUp;
    }
    let wait = retry_after.unwrap_or_else(|| backoff(cfg.retry_base, cfg.retry_max, attempt));
    Disposition::Retry { wait }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_table() {
        assert!(is_transient(FailureKind::Status, Some(429)));
        assert!(is_transient(FailureKind::Status, Some(503)));
        assert!(!is_transient(FailureKind::Status, Some(404)));
        assert!(!is_transient(FailureKind::Status, Some(501)));
        assert!(is_transient(FailureKind::Timeout, None));
        assert!(is_transient(FailureKind::Connect, None));
        assert!(!is_transient(FailureKind::TooLarge, None));
        assert!(!is_transient(FailureKind::Blocked, None));
    }

    #[test]
    fn backoff_doubles_within_jitter_and_caps() {
        let base = Duration::from_secs(2);
        let max = Duration::from_secs(60);
        for attempt in 1..=4u32 {
            let full = base * (1 << (attempt - 1));
            let d = backoff(base, max, attempt);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
        assert!(backoff(base, max, 30) <= max);
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn decisions() {
        let cfg = CrawlerConfig::default();
        let d = |kind, status, ra, attempt, errs| decide(&cfg, kind, status, ra, attempt, errs);
        assert_eq!(
            d(FailureKind::Status, Some(404), None, 1, 1),
            Disposition::GiveUp
        );
        assert_eq!(
            d(
                FailureKind::Status,
                Some(429),
                Some(Duration::from_secs(3)),
                1,
                1
            ),
            Disposition::Retry {
                wait: Duration::from_secs(3)
            }
        );
        assert!(matches!(
            d(FailureKind::Timeout, None, None, 1, 1),
            Disposition::Retry { .. }
        ));
        assert_eq!(
            d(FailureKind::Timeout, None, None, cfg.max_retries + 1, 1),
            Disposition::GiveUp
        );
        assert!(matches!(
            d(
                FailureKind::Status,
                Some(503),
                None,
                1,
                cfg.host_error_budget
            ),
            Disposition::ParkHost { .. }
        ));
        assert!(matches!(
            d(
                FailureKind::Status,
                Some(429),
                Some(Duration::from_secs(86_400)),
                1,
                1
            ),
            Disposition::ParkHost { .. }
        ));
    }
}
