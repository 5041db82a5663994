//! HTTP fetching: one hardened `reqwest` client and the capped, deadline-bound GET.
//!
//! Everything a hostile server can do to a crawler is bounded here: name resolution and every
//! redirect hop go through the SSRF guard ([`crate::resolve`]); redirects are capped and loops
//! detected; a total deadline wraps the request *and* the body (slowloris); the body is streamed
//! with a running cap on decompressed bytes (gzip/brotli bombs). Failures are mapped to
//! [`model::FailureKind`], which drives counters, the capture log and the retry policy.
//!
//! Redirects are followed here, one request per hop, rather than inside reqwest: each hop's
//! response is kept (it is archived to WARC like any other exchange), and a hop to another
//! origin is checked against *that* origin's robots.txt before it is requested.

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use model::FailureKind;
use reqwest::redirect;
use url::Url;

use crate::resolve::{GuardedResolver, ResolveError, TargetGuard};
use crate::robots::{RobotsCache, Verdict};

/// A fetch that produced no response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FetchError {
    /// Category, as recorded on the capture.
    pub kind: FailureKind,
    /// The error chain, for people.
    pub message: String,
}

impl FetchError {
    pub(crate) fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        FetchError {
            kind,
            message: message.into(),
        }
    }
}

/// Validators of a previous fetch, sent as a conditional GET (`304 Not Modified` if unchanged).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Conditional<'a> {
    /// Sent as `If-None-Match`.
    pub(crate) etag: Option<&'a str>,
    /// Sent as `If-Modified-Since`.
    pub(crate) last_modified: Option<&'a str>,
}

/// Largest body kept from a redirect response (for the WARC record).
const MAX_REDIRECT_BODY: usize = 64 * 1024;

/// One redirect answered on the way to the final response.
#[derive(Debug, Clone)]
pub struct RedirectHop {
    /// URL requested.
    pub url: Url,
    /// Status (301, 302, 303, 307, 308).
    pub status: u16,
    /// Peer IP address.
    pub ip: Option<String>,
    /// `HTTP/1.1`, `HTTP/2.0`…
    pub protocol: String,
    /// Response headers in received order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// Body (at most 64 KiB kept).
    pub body: Vec<u8>,
    /// When the response was complete.
    pub fetched_at: DateTime<Utc>,
}

/// A received response with its (decoded, capped) body.
#[derive(Debug, Clone)]
pub struct FetchedResponse {
    /// URL after redirects.
    pub final_url: Url,
    /// Status code.
    pub status: u16,
    /// Peer IP address actually connected to.
    pub ip: Option<String>,
    /// `HTTP/1.1`, `HTTP/2.0`…
    pub protocol: String,
    /// Response headers in received order (values as raw bytes).
    pub headers: Vec<(String, Vec<u8>)>,
    /// `Content-Type` header.
    pub content_type: Option<String>,
    /// Body after content decoding.
    pub body: Vec<u8>,
    /// When the body was complete.
    pub fetched_at: DateTime<Utc>,
    /// Redirects followed to get here, in order.
    pub redirects: Vec<RedirectHop>,
    /// SHA-256 of `body`, once computed ([`FetchedResponse::body_sha256`]).
    pub(crate) body_digest: std::sync::OnceLock<[u8; 32]>,
}

impl FetchedResponse {
    /// SHA-256 of the body, computed on first use: the WARC payload digest and the capture's
    /// body hash are the same hash of the same bytes, so a page is hashed once for both.
    pub fn body_sha256(&self) -> &[u8; 32] {
        self.body_digest.get_or_init(|| {
            let mut out = [0u8; 32];
            out.copy_from_slice(&<sha2::Sha256 as sha2::Digest>::digest(&self.body));
            out
        })
    }

    /// True for `text/html` and `application/xhtml+xml` (and a missing type: servers that omit
    /// it almost always send HTML).
    pub fn is_html(&self) -> bool {
        match &self.content_type {
            None => true,
            Some(ct) => {
                let mime = ct.split(';').next().unwrap_or_default().trim();
                mime.eq_ignore_ascii_case("text/html")
                    || mime.eq_ignore_ascii_case("application/xhtml+xml")
            }
        }
    }
}

/// What to do with a body over the cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overflow {
    /// Fail with [`FailureKind::TooLarge`].
    Fail,
    /// Keep the first `cap` bytes (robots.txt: RFC 9309 parses at least 500 KiB and ignores
    /// the rest).
    Truncate,
}

/// Settings of the fetcher.
#[derive(Debug, Clone)]
pub(crate) struct FetchSettings {
    pub(crate) user_agent: String,
    pub(crate) connect_timeout: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) max_redirects: usize,
    /// PEM files of extra root certificates.
    pub(crate) ca_certs: Vec<std::path::PathBuf>,
}

/// The shared HTTP client.
#[derive(Debug, Clone)]
pub(crate) struct Fetcher {
    client: reqwest::Client,
    guard: Arc<TargetGuard>,
    request_timeout: Duration,
    max_redirects: usize,
}

impl Fetcher {
    pub(crate) fn new(settings: &FetchSettings, guard: Arc<TargetGuard>) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder();
        for path in &settings.ca_certs {
            let pem = std::fs::read(path)
                .map_err(|e| format!("cannot read CA file {}: {e}", path.display()))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| format!("{}: not a PEM certificate bundle: {e}", path.display()))?;
            if certs.is_empty() {
                return Err(format!("{}: no certificate found", path.display()));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .use_rustls_tls()
            .user_agent(settings.user_agent.clone())
            .dns_resolver(Arc::new(GuardedResolver::new(guard.clone())))
            .redirect(redirect::Policy::none())
            .no_proxy()
            .connect_timeout(settings.connect_timeout)
            .pool_max_idle_per_host(4)
            .gzip(true)
            .brotli(true)
            .deflate(true)
            .build()
            .map_err(|e| error_chain(&e))?;
        Ok(Fetcher {
            client,
            guard,
            request_timeout: settings.request_timeout,
            max_redirects: settings.max_redirects,
        })
    }

    /// The SSRF check for IP-literal URLs, exposed so callers can refuse before robots.txt.
    pub(crate) fn check_target(&self, url: &Url) -> Result<(), FetchError> {
        self.guard
            .check(url)
            .map_err(|e| FetchError::new(FailureKind::Blocked, e.to_string()))
    }

    /// GETs `url` within the total deadline, reading at most `cap` decoded body bytes.
    /// Redirects are followed without any robots.txt check (used for robots.txt itself).
    pub(crate) async fn get(
        &self,
        url: &Url,
        cap: usize,
        overflow: Overflow,
    ) -> Result<FetchedResponse, FetchError> {
        self.get_checked(url, cap, overflow, None, Conditional::default())
            .await
    }

    /// Like [`Fetcher::get`], and a redirect to another origin is only followed when that
    /// origin's robots.txt (through `robots`) allows the target. `cond` makes the first request
    /// conditional.
    pub(crate) async fn get_checked(
        &self,
        url: &Url,
        cap: usize,
        overflow: Overflow,
        robots: Option<&RobotsCache>,
        cond: Conditional<'_>,
    ) -> Result<FetchedResponse, FetchError> {
        let work = async {
            let mut current = url.clone();
            let mut redirects: Vec<RedirectHop> = Vec::new();
            loop {
                self.check_target(&current)?;
                let mut request = self.client.get(current.clone());
                if redirects.is_empty() {
                    if let Some(etag) = cond.etag {
                        request = request.header(reqwest::header::IF_NONE_MATCH, etag);
                    }
                    if let Some(lm) = cond.last_modified {
                        request = request.header(reqwest::header::IF_MODIFIED_SINCE, lm);
                    }
                }
                let mut resp = request.send().await.map_err(|e| classify(&e))?;
                let status = resp.status().as_u16();
                let protocol = format!("{:?}", resp.version());
                let ip = resp.remote_addr().map(|a| a.ip().to_string());
                let headers: Vec<(String, Vec<u8>)> = resp
                    .headers()
                    .iter()
                    .map(|(k, v)| (k.as_str().to_string(), v.as_bytes().to_vec()))
                    .collect();
                let location = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                if let (true, Some(location)) = (resp.status().is_redirection(), location) {
                    let body = read_body(&mut resp, MAX_REDIRECT_BODY, Overflow::Truncate).await?;
                    let next = self.next_hop(&current, &location, &redirects)?;
                    redirects.push(RedirectHop {
                        url: current.clone(),
                        status,
                        ip,
                        protocol,
                        headers,
                        body,
                        fetched_at: Utc::now(),
                    });
                    if let Some(robots) = robots
                        && next.origin() != current.origin()
                    {
                        robots_allows(robots, self, &next).await?;
                    }
                    current = next;
                    continue;
                }
                let content_type = resp
                    .headers()
                    .get(reqwest::header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                let body = read_body(&mut resp, cap, overflow).await?;
                return Ok(FetchedResponse {
                    final_url: current,
                    status,
                    ip,
                    protocol,
                    headers,
                    content_type,
                    body,
                    fetched_at: Utc::now(),
                    redirects,
                    body_digest: Default::default(),
                });
            }
        };
        match tokio::time::timeout(self.request_timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::new(
                FailureKind::Timeout,
                format!(
                    "no complete response within {} ms",
                    self.request_timeout.as_millis()
                ),
            )),
        }
    }

    /// Validates a redirect: hop cap, scheme, loop, SSRF guard.
    fn next_hop(
        &self,
        current: &Url,
        location: &str,
        previous: &[RedirectHop],
    ) -> Result<Url, FetchError> {
        let redirect_err = |m: String| FetchError::new(FailureKind::Redirect, m);
        if previous.len() >= self.max_redirects {
            return Err(redirect_err(format!(
                "more than {} redirects",
                self.max_redirects
            )));
        }
        let mut next = current
            .join(location)
            .map_err(|e| redirect_err(format!("bad redirect location {location:?}: {e}")))?;
        next.set_fragment(None);
        if !matches!(next.scheme(), "http" | "https") {
            return Err(redirect_err(format!(
                "redirect to unsupported scheme {:?}",
                next.scheme()
            )));
        }
        if next == *current || previous.iter().any(|h| h.url == next) {
            return Err(redirect_err(format!("redirect loop at {next}")));
        }
        self.check_target(&next)?;
        Ok(next)
    }
}

/// Streams a body, counting decoded bytes against `cap`.
async fn read_body(
    resp: &mut reqwest::Response,
    cap: usize,
    overflow: Overflow,
) -> Result<Vec<u8>, FetchError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e))? {
        if body.len() + chunk.len() > cap {
            match overflow {
                Overflow::Fail => {
                    return Err(FetchError::new(
                        FailureKind::TooLarge,
                        format!("body exceeds {cap} bytes after decompression"),
                    ));
                }
                Overflow::Truncate => {
                    let room = cap - body.len();
                    body.extend_from_slice(&chunk[..room]);
                    break;
                }
            }
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Fails unless the robots.txt of `target`'s origin allows it.
async fn robots_allows(
    robots: &RobotsCache,
    fetcher: &Fetcher,
    target: &Url,
) -> Result<(), FetchError> {
    match Box::pin(robots.entry(target, fetcher))
        .await
        .verdict(target)
    {
        Verdict::Allowed => Ok(()),
        Verdict::Denied => Err(FetchError::new(
            FailureKind::Blocked,
            format!("redirect target {target} is disallowed by its robots.txt"),
        )),
        Verdict::Unavailable { status, message } => Err(FetchError::new(
            FailureKind::Status,
            format!("redirect target {target}: {message} ({status})"),
        )),
        Verdict::Unreachable(e) => Err(e),
    }
}

/// Maps a reqwest error to a failure kind by looking through its source chain.
fn classify(e: &reqwest::Error) -> FetchError {
    let message = error_chain(e);
    let mut source: Option<&(dyn StdError + 'static)> = e.source();
    while let Some(s) = source {
        if let Some(r) = s.downcast_ref::<ResolveError>() {
            let kind = match r {
                ResolveError::Blocked { .. } | ResolveError::PortNotMapped { .. } => {
                    FailureKind::Blocked
                }
                ResolveError::NotFound { .. } | ResolveError::Lookup { .. } => FailureKind::Dns,
            };
            return FetchError::new(kind, message);
        }
        source = s.source();
    }
    let kind = if e.is_timeout() {
        FailureKind::Timeout
    } else if e.is_redirect() {
        FailureKind::Redirect
    } else if e.is_connect() {
        FailureKind::Connect
    } else if e.is_decode() || e.is_body() {
        FailureKind::Parse
    } else {
        FailureKind::Other
    };
    FetchError::new(kind, message)
}

/// `outer: inner: innermost`, skipping repeated messages.
fn error_chain(e: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let m = s.to_string();
        if !parts.iter().any(|p| p.contains(&m)) {
            parts.push(m);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetcher(rules: &[&str]) -> Fetcher {
        let rules: Vec<_> = rules.iter().map(|r| r.parse().unwrap()).collect();
        let settings = FetchSettings {
            user_agent: "baqylau-test".into(),
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(5),
            max_redirects: 3,
            ca_certs: Vec::new(),
        };
        Fetcher::new(&settings, Arc::new(TargetGuard::new(&rules))).unwrap()
    }

    #[test]
    fn html_content_types() {
        let mut r = FetchedResponse {
            final_url: Url::parse("http://a.kz/").unwrap(),
            status: 200,
            ip: None,
            protocol: "HTTP/1.1".into(),
            headers: vec![],
            content_type: None,
            body: vec![],
            fetched_at: Utc::now(),
            redirects: vec![],
            body_digest: Default::default(),
        };
        for (ct, want) in [
            (None, true),
            (Some("text/html; charset=utf-8"), true),
            (Some("application/xhtml+xml"), true),
            (Some("TEXT/HTML"), true),
            (Some("application/pdf"), false),
            (Some("image/png"), false),
        ] {
            r.content_type = ct.map(String::from);
            assert_eq!(r.is_html(), want, "{ct:?}");
        }
    }

    #[tokio::test]
    async fn refuses_loopback_literal_and_name() {
        let f = fetcher(&[]);
        let e = f
            .get(
                &Url::parse("http://127.0.0.1:9/").unwrap(),
                10,
                Overflow::Fail,
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind, FailureKind::Blocked);
        let e = f
            .get(
                &Url::parse("http://localhost:9/").unwrap(),
                10,
                Overflow::Fail,
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind, FailureKind::Blocked, "{}", e.message);
        assert!(e.message.contains("SSRF"), "{}", e.message);
    }

    #[tokio::test]
    async fn connection_refused_is_connect() {
        // Bind then drop to get a port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let f = fetcher(&[&format!("closed.kz=127.0.0.1:{port}")]);
        let e = f
            .get(
                &Url::parse("http://closed.kz/").unwrap(),
                10,
                Overflow::Fail,
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind, FailureKind::Connect, "{}", e.message);
    }
}
