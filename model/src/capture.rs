//! What the crawler hands to the rest of the pipeline: one fetched (or failed) resource.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a capture came from. A Telegram post is its own capture with a stable post URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// An ordinary web page.
    #[default]
    Web,
    /// One post of a public Telegram channel, taken from its `t.me/s/<channel>` preview.
    Telegram {
        /// Channel username, without `@`.
        channel: String,
        /// Post number inside the channel.
        post_id: u64,
        /// View counter as displayed ("1.2K"), if shown.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        views: Option<String>,
    },
}

impl Source {
    /// Short name used in filters and the UI: `web` or `telegram`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Web => "web",
            Source::Telegram { .. } => "telegram",
        }
    }
}

/// Where the raw HTTP exchange of a capture is kept (WARC/1.1 file under the blobs directory).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarcRef {
    /// File path relative to the blobs directory.
    pub file: String,
    /// Byte offset of the record's gzip member in that file.
    pub offset: u64,
    /// `WARC-Record-ID` of the response record (`<urn:uuid:…>`).
    pub record_id: String,
}

/// Why a fetch failed. Drives counters, retries and the "failed captures" list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Host name did not resolve.
    Dns,
    /// TCP/TLS connection could not be made.
    Connect,
    /// The request did not complete within its deadline.
    Timeout,
    /// Body exceeded the size cap after decompression.
    TooLarge,
    /// The server answered with an error status.
    Status,
    /// Refused by policy: SSRF guard, robots.txt, scheme.
    Blocked,
    /// Too many redirects or a redirect loop.
    Redirect,
    /// The body could not be decoded or parsed.
    Parse,
    /// Anything else.
    Other,
}

impl FailureKind {
    /// Stable snake_case name, as serialized.
    pub fn as_str(&self) -> &'static str {
        match self {
            FailureKind::Dns => "dns",
            FailureKind::Connect => "connect",
            FailureKind::Timeout => "timeout",
            FailureKind::TooLarge => "too_large",
            FailureKind::Status => "status",
            FailureKind::Blocked => "blocked",
            FailureKind::Redirect => "redirect",
            FailureKind::Parse => "parse",
            FailureKind::Other => "other",
        }
    }
}

/// A fetch that produced no usable content. Kept as a capture so nothing is lost silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchFailure {
    /// Category of the failure.
    pub kind: FailureKind,
    /// Human-readable detail (error chain, status line).
    pub message: String,
}

/// One fetched resource, with everything later stages and the evidence record need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capture {
    /// Content-derived id, see [`crate::capture_id`].
    pub id: String,
    /// URL of the resource: the requested URL, or the stable post URL for Telegram.
    pub url: String,
    /// URL after redirects (what the browser would show).
    pub final_url: String,
    /// Host name of `url` (kept even when the connection went to a mapped address).
    pub host: String,
    /// Web page or messenger post.
    #[serde(default)]
    pub source: Source,
    /// When the response was received (UTC).
    pub fetched_at: DateTime<Utc>,
    /// When the content was published, where the source says so (Telegram post time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<DateTime<Utc>>,
    /// Link depth from the seed.
    #[serde(default)]
    pub depth: u32,
    /// HTTP status of the final response.
    #[serde(default)]
    pub status: Option<u16>,
    /// IP address actually connected to.
    #[serde(default)]
    pub ip: Option<String>,
    /// Protocol of the exchange, e.g. `HTTP/1.1`.
    #[serde(default)]
    pub protocol: String,
    /// `Content-Type` of the response.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Character encoding the body was decoded from.
    #[serde(default)]
    pub charset: Option<String>,
    /// Document title.
    #[serde(default)]
    pub title: String,
    /// Visible text, decoded to UTF-8. Spans of hits are byte offsets into this string.
    #[serde(default)]
    pub text: String,
    /// Detected language (`kk`, `ru`, `en`, `mixed`), if known.
    #[serde(default)]
    pub lang: Option<String>,
    /// SHA-256 of the raw (decompressed) body.
    #[serde(default)]
    pub body_sha256: Option<String>,
    /// Size of the raw body in bytes.
    #[serde(default)]
    pub body_len: u64,
    /// Where the raw exchange is archived.
    #[serde(default)]
    pub warc: Option<WarcRef>,
    /// Set when the fetch failed; the other content fields are then empty.
    #[serde(default)]
    pub error: Option<FetchFailure>,
    /// Validated indicators found in the capture (phones, IBANs, cards, wallets, handles), set by
    /// the classifier stage; they link cases that share them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<crate::Indicator>,
}

impl Capture {
    /// A failed capture: recorded so that a broken page or an unreachable seed is visible, not lost.
    pub fn failed(url: &str, host: &str, kind: FailureKind, message: impl Into<String>) -> Self {
        let fetched_at = Utc::now();
        Capture {
            id: crate::capture_id(url, fetched_at),
            url: url.to_string(),
            final_url: url.to_string(),
            host: host.to_string(),
            source: Source::Web,
            fetched_at,
            published_at: None,
            depth: 0,
            status: None,
            ip: None,
            protocol: String::new(),
            content_type: None,
            charset: None,
            title: String::new(),
            text: String::new(),
            lang: None,
            body_sha256: None,
            body_len: 0,
            warc: None,
            error: Some(FetchFailure {
                kind,
                message: message.into(),
            }),
            indicators: Vec::new(),
        }
    }

    /// True when the fetch produced no content.
    pub fn is_failed(&self) -> bool {
        self.error.is_some()
    }
}
