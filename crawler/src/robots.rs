//! robots.txt: fetch once per host, cache, answer "may we fetch this URL".
//!
//! RFC 9309 semantics for availability: a 2xx body is parsed (first 500 KiB), a 4xx means no
//! restrictions, a 5xx or network failure means *disallow all*; redirects are followed (up to the
//! fetcher's redirect cap, ≥ 5 as the RFC asks). Parsing and matching (longest match, Allow wins
//! ties, `*` and `$`, percent-encoding normalisation) live in [`rules`].
//! `Crawl-delay` is honoured up to a cap. One fetch per host even under concurrency: the cache
//! holds a `OnceCell` per host, so concurrent workers wait for the first fetch.

pub mod rules;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use model::FailureKind;
use tokio::sync::OnceCell;
use url::Url;

use crate::fetch::{FetchError, Fetcher, Overflow};
use rules::RobotsRules;

/// RFC 9309 asks crawlers to parse at least 500 KiB.
pub const MAX_ROBOTS_BYTES: usize = 500 * 1024;
/// Longest `Crawl-delay` honoured.
pub const MAX_CRAWL_DELAY: Duration = Duration::from_secs(30);
/// How long a robots.txt answer is reused (RFC 9309: should not exceed 24 hours).
pub const ROBOTS_TTL: Duration = Duration::from_secs(24 * 3600);

/// What a host's robots.txt allows.
#[derive(Debug)]
pub enum RobotsPolicy {
    /// Parsed rules for our product token (with the file's sitemap lines).
    Rules(RobotsRules),
    /// No usable robots.txt (4xx, unparsable): everything allowed.
    AllowAll,
    /// Server error (5xx, 429): nothing allowed until a later success. Cached only briefly
    /// (see the cache's error TTL), so the file is asked for again when the URLs are retried.
    DisallowAll {
        /// Status of the robots.txt response.
        status: u16,
        /// Why, for the log.
        reason: String,
    },
    /// The host itself could not be reached (DNS, connect, SSRF guard, timeout): there is no
    /// point fetching pages; they fail with this error.
    Unreachable(FetchError),
}

/// A cached robots.txt answer.
#[derive(Debug)]
pub struct RobotsEntry {
    /// The policy.
    pub policy: RobotsPolicy,
    /// When it was fetched.
    pub fetched_at: Instant,
}

/// The robots decision for one URL.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Fetch it.
    Allowed,
    /// robots.txt forbids it.
    Denied,
    /// robots.txt answered a server error: nothing may be fetched now, but the URL is not
    /// forbidden — it is retried later like a page that answered `status`.
    Unavailable {
        /// Status of the robots.txt response.
        status: u16,
        /// Why, for the capture and the log.
        message: String,
    },
    /// The host is unreachable; fail the page with this error.
    Unreachable(FetchError),
}

impl RobotsEntry {
    /// Builds the entry from a robots.txt fetch result.
    pub fn from_fetch(
        token: &str,
        result: Result<(u16, Vec<u8>), FetchError>,
        now: Instant,
    ) -> Self {
        let policy = match result {
            Ok((status, body)) if (200..300).contains(&status) => {
                RobotsPolicy::Rules(RobotsRules::parse(&body, token))
            }
            // 429 is a server asking us to slow down, not "no robots.txt".
            Ok((429, _)) => RobotsPolicy::DisallowAll {
                status: 429,
                reason: "robots.txt answered 429".into(),
            },
            Ok((status, _)) if (400..500).contains(&status) => RobotsPolicy::AllowAll,
            Ok((status, _)) => RobotsPolicy::DisallowAll {
                status,
                reason: format!("robots.txt answered {status}"),
            },
            Err(e) if matches!(e.kind, FailureKind::Status | FailureKind::Parse) => {
                RobotsPolicy::DisallowAll {
                    status: 500,
                    reason: e.message,
                }
            }
            Err(e) => RobotsPolicy::Unreachable(e),
        };
        RobotsEntry {
            policy,
            fetched_at: now,
        }
    }

    /// May `url` be fetched?
    pub fn verdict(&self, url: &Url) -> Verdict {
        match &self.policy {
            RobotsPolicy::Rules(rules) => {
                if rules.allowed(url.as_str()) {
                    Verdict::Allowed
                } else {
                    Verdict::Denied
                }
            }
            RobotsPolicy::AllowAll => Verdict::Allowed,
            RobotsPolicy::DisallowAll { status, reason } => Verdict::Unavailable {
                status: *status,
                message: reason.clone(),
            },
            RobotsPolicy::Unreachable(e) => Verdict::Unreachable(FetchError::new(
                e.kind,
                format!("robots.txt: {}", e.message),
            )),
        }
    }

    /// `Sitemap:` URLs listed in the file (empty unless it was parsed).
    pub fn sitemaps(&self) -> &[String] {
        match &self.policy {
            RobotsPolicy::Rules(rules) => &rules.sitemaps,
            _ => &[],
        }
    }

    /// `Crawl-delay` for our token, capped at [`MAX_CRAWL_DELAY`].
    pub fn crawl_delay(&self) -> Option<Duration> {
        match &self.policy {
            RobotsPolicy::Rules(rules) => rules
                .crawl_delay
                .filter(|d| d.is_finite() && *d > 0.0)
                .map(|d| Duration::from_secs_f64(d.min(MAX_CRAWL_DELAY.as_secs_f64()))),
            _ => None,
        }
    }

    /// True when the entry records a failure (server error, unreachable host).
    pub fn is_failure(&self) -> bool {
        matches!(
            self.policy,
            RobotsPolicy::DisallowAll { .. } | RobotsPolicy::Unreachable(_)
        )
    }
}

/// Per-host robots.txt cache. Answers are kept [`ROBOTS_TTL`]; failures only `error_ttl`, so a
/// host whose robots.txt failed is asked again when its URLs come up for retry.
#[derive(Debug)]
pub(crate) struct RobotsCache {
    token: String,
    ttl: Duration,
    error_ttl: Duration,
    entries: Mutex<HashMap<String, Arc<OnceCell<Arc<RobotsEntry>>>>>,
}

impl RobotsCache {
    pub(crate) fn new(token: &str, error_ttl: Duration) -> Self {
        RobotsCache {
            token: token.to_string(),
            ttl: ROBOTS_TTL,
            error_ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The cached entry for the origin of `url`, if already fetched.
    pub(crate) fn cached(&self, url: &Url) -> Option<Arc<RobotsEntry>> {
        let origin = url.origin().ascii_serialization();
        let entries = self.entries.lock().expect("robots cache lock");
        entries.get(&origin)?.get().cloned()
    }

    /// The robots entry for the origin of `url`, fetching it through `fetcher` when missing or
    /// stale.
    pub(crate) async fn entry(&self, url: &Url, fetcher: &Fetcher) -> Arc<RobotsEntry> {
        let origin = url.origin().ascii_serialization();
        let cell = {
            let mut entries = self.entries.lock().expect("robots cache lock");
            let stale = entries.get(&origin).and_then(|c| c.get()).is_some_and(|e| {
                let ttl = if e.is_failure() {
                    self.error_ttl
                } else {
                    self.ttl
                };
                e.fetched_at.elapsed() > ttl
            });
            if stale {
                entries.remove(&origin);
            }
            entries.entry(origin.clone()).or_default().clone()
        };
        cell.get_or_init(|| async {
            let robots_url = Url::parse(&format!("{origin}/robots.txt"));
            let result = match robots_url {
                // Boxed: page fetches call back into this cache on cross-origin redirects.
                Ok(u) => Box::pin(fetcher.get(&u, MAX_ROBOTS_BYTES, Overflow::Truncate))
                    .await
                    .map(|r| (r.status, r.body)),
                Err(e) => Err(FetchError::new(FailureKind::Other, e.to_string())),
            };
            let entry = RobotsEntry::from_fetch(&self.token, result, Instant::now());
            tracing::debug!(origin = %origin, policy = ?entry.policy, "robots.txt loaded");
            Arc::new(entry)
        })
        .await
        .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(result: Result<(u16, &str), FailureKind>) -> RobotsEntry {
        RobotsEntry::from_fetch(
            "baqylau",
            result
                .map(|(s, b)| (s, b.as_bytes().to_vec()))
                .map_err(|k| FetchError::new(k, "boom")),
            Instant::now(),
        )
    }

    fn url(p: &str) -> Url {
        Url::parse(&format!("http://example.kz{p}")).unwrap()
    }

    #[test]
    fn rules_table() {
        let txt = "User-agent: *\nDisallow: /\n\nUser-agent: BaqyLau\nDisallow: /private\n\
                   Allow: /private/open\nDisallow: /*.pdf$\nCrawl-delay: 2\n";
        let e = entry(Ok((200, txt)));
        let table = [
            ("/", Verdict::Allowed),
            ("/news?id=1", Verdict::Allowed),
            ("/private", Verdict::Denied),
            ("/private/x", Verdict::Denied),
            ("/private/open/1", Verdict::Allowed),
            ("/doc.pdf", Verdict::Denied),
            ("/doc.pdf?x", Verdict::Allowed),
            ("/robots.txt", Verdict::Allowed),
        ];
        for (path, want) in table {
            assert_eq!(e.verdict(&url(path)), want, "{path}");
        }
        assert_eq!(e.crawl_delay(), Some(Duration::from_secs(2)));
    }

    #[test]
    fn availability_table() {
        assert_eq!(entry(Ok((404, ""))).verdict(&url("/x")), Verdict::Allowed);
        assert_eq!(entry(Ok((403, ""))).verdict(&url("/x")), Verdict::Allowed);
        for status in [500, 503, 429] {
            let e = entry(Ok((status, "")));
            assert!(e.is_failure());
            assert_eq!(
                e.verdict(&url("/x")),
                Verdict::Unavailable {
                    status,
                    message: format!("robots.txt answered {status}")
                }
            );
        }
        assert!(matches!(
            entry(Err(FailureKind::Connect)).verdict(&url("/x")),
            Verdict::Unreachable(FetchError {
                kind: FailureKind::Connect,
                ..
            })
        ));
        assert!(matches!(
            entry(Err(FailureKind::Blocked)).verdict(&url("/x")),
            Verdict::Unreachable(FetchError {
                kind: FailureKind::Blocked,
                ..
            })
        ));
    }

    #[test]
    fn crawl_delay_is_capped() {
        let e = entry(Ok((200, "User-agent: *\nCrawl-delay: 3600\n")));
        assert_eq!(e.crawl_delay(), Some(MAX_CRAWL_DELAY));
        assert_eq!(entry(Ok((404, ""))).crawl_delay(), None);
    }
}
