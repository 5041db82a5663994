//! Re-checks after sending (what became of a resource a notification asked to block).
//!
//! A sent URL is fetched again on a schedule (the binary does the fetching — the reporter has no
//! network client — and reports an [`Observation`]); [`judge`] compares it with the evidence the
//! notification was built from and says whether the resource is still reachable unchanged,
//! changed, blocked (HTTP 451 or an operator's block page), unreachable, or moved to another host
//! — a mirror, proposed to the analyst as a new resource to crawl.

use serde::{Deserialize, Serialize};

/// What a re-check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Same host, same body as the evidence: the resource is still up.
    Reachable,
    /// Same host, different body.
    Changed,
    /// HTTP 451 or a known block page.
    Blocked,
    /// No answer (DNS, connection, timeout) — blocked at network level or gone.
    Unreachable,
    /// Redirects to another host: a mirror.
    Moved,
}

impl Outcome {
    /// Stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Reachable => "reachable",
            Outcome::Changed => "changed",
            Outcome::Blocked => "blocked",
            Outcome::Unreachable => "unreachable",
            Outcome::Moved => "moved",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Outcome> {
        [
            Outcome::Reachable,
            Outcome::Changed,
            Outcome::Blocked,
            Outcome::Unreachable,
            Outcome::Moved,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }
}

/// One fetch of a sent URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Observation {
    /// An HTTP answer (after following redirects).
    Answer {
        /// Final status.
        status: u16,
        /// URL after redirects.
        final_url: String,
        /// SHA-256 of the body.
        body_sha256: String,
        /// The beginning of the body as text (for block-page markers).
        body_start: String,
    },
    /// No HTTP answer.
    Failed {
        /// Why.
        error: String,
    },
}

/// Phrases of block pages shown by Kazakh operators and the authority (lowercase).
const BLOCK_MARKERS: &[&str] = &[
    "доступ к ресурсу ограничен",
    "доступ ограничен",
    "ресурс заблокирован",
    "қолжетімділік шектелген",
    "қолжетімділігі шектелген",
    "бұғатталған",
    "access to this resource is restricted",
];

fn host(url: &str) -> Option<String> {
    url::Url::parse(url).ok().and_then(|u| {
        u.host_str()
            .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
    })
}

/// The outcome of `obs` for a resource at `url` whose evidence body hash was `evidence_sha256`,
/// and the mirror URL when it moved.
pub fn judge(
    url: &str,
    evidence_sha256: Option<&str>,
    obs: &Observation,
) -> (Outcome, Option<String>) {
    match obs {
        Observation::Failed { .. } => (Outcome::Unreachable, None),
        Observation::Answer {
            status,
            final_url,
            body_sha256,
            body_start,
        } => {
            let lower = body_start.to_lowercase();
            if *status == 451 || BLOCK_MARKERS.iter().any(|m| lower.contains(m)) {
                return (Outcome::Blocked, None);
            }
            if host(final_url) != host(url) {
                return (Outcome::Moved, Some(final_url.clone()));
            }
            if *status >= 400 {
                return (Outcome::Unreachable, None);
            }
            if evidence_sha256 == Some(body_sha256.as_str()) {
                (Outcome::Reachable, None)
            } else {
                (Outcome::Changed, None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, final_url: &str, sha: &str, body: &str) -> Observation {
        Observation::Answer {
            status,
            final_url: final_url.into(),
            body_sha256: sha.into(),
            body_start: body.into(),
        }
    }

    #[test]
    fn outcomes() {
        let url = "http://casino.kz/bonus";
        let table = [
            (answer(200, url, "aa", "казино"), Outcome::Reachable, None),
            (
                answer(200, "http://www.casino.kz/bonus", "aa", ""),
                Outcome::Reachable,
                None,
            ),
            (answer(200, url, "bb", "казино"), Outcome::Changed, None),
            (answer(451, url, "cc", ""), Outcome::Blocked, None),
            (
                answer(
                    200,
                    "http://isp.kz/stop",
                    "dd",
                    "<h1>Доступ к ресурсу ограничен</h1>",
                ),
                Outcome::Blocked,
                None,
            ),
            (
                answer(200, "http://casino2.kz/bonus", "aa", "казино"),
                Outcome::Moved,
                Some("http://casino2.kz/bonus".to_string()),
            ),
            (answer(404, url, "ee", ""), Outcome::Unreachable, None),
            (
                Observation::Failed {
                    error: "dns".into(),
                },
                Outcome::Unreachable,
                None,
            ),
        ];
        for (obs, want, mirror) in table {
            assert_eq!(judge(url, Some("aa"), &obs), (want, mirror), "{obs:?}");
        }
        assert_eq!(Outcome::parse("moved"), Some(Outcome::Moved));
    }
}
