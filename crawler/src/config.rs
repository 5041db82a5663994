//! Configuration of a crawl: where to keep state, what to crawl, and every limit.
//!
//! Defaults are the politeness and safety limits of DESIGN §5 (2 connections per host, 10 MB
//! bodies, 10 redirects…); [`CrawlerConfig::validate`] refuses settings that would make the
//! crawler stall or run unbounded, with a message naming the field.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{CrawlError, Result};
use crate::resolve::ResolveRule;

/// Default `User-Agent`.
pub const DEFAULT_USER_AGENT: &str = "baqylau/0.1 (+https://github.com/baqylau/baqylau)";
/// Product token matched against robots.txt `User-agent` lines.
pub const ROBOTS_TOKEN: &str = "baqylau";

/// Settings of a [`crate::Crawler`].
#[derive(Debug, Clone)]
pub struct CrawlerConfig {
    /// Directory holding `crawler.sqlite` (frontier, capture log) and `blobs/warc/*.warc.gz`.
    pub data_dir: PathBuf,
    /// Start URLs; inserted into the frontier idempotently at depth 0.
    pub seeds: Vec<String>,
    /// `--resolve HOST=IP:PORT` mappings; mapped hosts bypass DNS and the SSRF guard.
    pub resolve: Vec<ResolveRule>,
    /// `User-Agent` header sent with every request.
    pub user_agent: String,
    /// Product token matched against robots.txt groups (case-insensitive).
    pub robots_token: String,
    /// Most page fetches in one run (robots-denied URLs do not count); the rest stays queued.
    pub max_pages: usize,
    /// Deepest link level followed from a seed (seed = 0).
    pub max_depth: u32,
    /// Most URLs admitted to the frontier per host (budget against crawler traps).
    pub max_pages_per_host: usize,
    /// Most fetches running at once over all hosts.
    pub concurrency: usize,
    /// Most concurrent requests to one host.
    pub per_host_connections: usize,
    /// Minimum delay between request starts to one host; robots.txt `Crawl-delay` raises it
    /// (capped at 30 s).
    pub host_delay: Duration,
    /// Deadline for establishing a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Total deadline of a request, including redirects and the whole body (slowloris guard).
    pub request_timeout: Duration,
    /// Largest body accepted, counted after decompression (gzip/brotli bomb guard).
    pub max_body_bytes: usize,
    /// Most redirects followed per request.
    pub max_redirects: usize,
    /// Most links taken from one page.
    pub max_links_per_page: usize,
    /// Longest URL admitted to the frontier, in bytes.
    pub max_url_len: usize,
    /// Hosts whose `/s/<channel>` pages go through the Telegram adapter.
    pub telegram_hosts: Vec<String>,
    /// How many older (`?before=`) preview pages are followed back from a channel page.
    pub telegram_max_pages: usize,
    /// Follow `t.me/<channel>` links found in crawled pages to the channel's public preview
    /// (opt-in: it widens the crawl beyond the seeds' hosts). Invite, bot, sticker and share
    /// links are never followed ([`crate::telegram::discovered_channel`]).
    pub telegram_discover: bool,
    /// Most channels one crawl takes from links (`telegram_discover`); later ones are ignored.
    pub telegram_discover_max: usize,
    /// When fetched HTML is rendered in Chromium before extraction ([`crate::RenderMode`]).
    pub render: crate::spa::RenderMode,
    /// Hosts whose pages are always rendered in `auto` mode (known JavaScript-only sites).
    pub js_only_hosts: Vec<String>,
    /// Retries of a URL after a transient failure (429, 5xx, timeout, connection error).
    pub max_retries: u32,
    /// First retry delay; doubled per attempt, with jitter.
    pub retry_base: Duration,
    /// Longest backoff delay.
    pub retry_max: Duration,
    /// Longest `Retry-After` waited for; a host asking for more is parked instead.
    pub max_retry_after: Duration,
    /// Consecutive transient failures of a host after which it is parked (its URLs stay
    /// queued for a later run).
    pub host_error_budget: u32,
    /// How long a parked host is left alone.
    pub host_park: Duration,
    /// PEM files of extra trusted root certificates (`--ca-cert`, `SSL_CERT_FILE`), added to
    /// the built-in webpki roots.
    pub ca_certs: Vec<PathBuf>,
    /// Revisit intervals of fetched pages (adaptive: changed pages sooner, unchanged later).
    pub revisit: crate::frontier::RevisitPolicy,
}

impl Default for CrawlerConfig {
    fn default() -> Self {
        CrawlerConfig {
            data_dir: PathBuf::from("data"),
            seeds: Vec::new(),
            resolve: Vec::new(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            robots_token: ROBOTS_TOKEN.to_string(),
            max_pages: 10_000,
            max_depth: 5,
            max_pages_per_host: 2_000,
            concurrency: 16,
            per_host_connections: 2,
            host_delay: Duration::from_millis(250),
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 10 * 1024 * 1024,
            max_redirects: 10,
            max_links_per_page: 500,
            max_url_len: 2048,
            telegram_hosts: vec!["t.me".to_string()],
            telegram_max_pages: 3,
            telegram_discover: false,
            telegram_discover_max: 100,
            render: crate::spa::RenderMode::Auto,
            js_only_hosts: Vec::new(),
            max_retries: 3,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(600),
            max_retry_after: Duration::from_secs(120),
            host_error_budget: 8,
            host_park: Duration::from_secs(3600),
            ca_certs: Vec::new(),
            revisit: crate::frontier::RevisitPolicy::default(),
        }
    }
}

impl CrawlerConfig {
    /// Checks the settings; the error names the offending field.
    pub fn validate(&self) -> Result<()> {
        let positive = [
            ("concurrency", self.concurrency),
            ("per_host_connections", self.per_host_connections),
            ("max_body_bytes", self.max_body_bytes),
            ("max_url_len", self.max_url_len),
            ("host_error_budget", self.host_error_budget as usize),
        ];
        for (name, v) in positive {
            if v == 0 {
                return Err(CrawlError::Config(format!("{name} must be at least 1")));
            }
        }
        for (name, d) in [
            ("connect_timeout", self.connect_timeout),
            ("request_timeout", self.request_timeout),
        ] {
            if d.is_zero() {
                return Err(CrawlError::Config(format!("{name} must be positive")));
            }
        }
        if self.user_agent.trim().is_empty() || self.robots_token.trim().is_empty() {
            return Err(CrawlError::Config(
                "user_agent and robots_token must not be empty".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_zero_limits_are_not() {
        CrawlerConfig::default().validate().unwrap();
        let cfg = CrawlerConfig {
            per_host_connections: 0,
            ..CrawlerConfig::default()
        };
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains("per_host_connections"), "{e}");
        let cfg = CrawlerConfig {
            request_timeout: Duration::ZERO,
            ..CrawlerConfig::default()
        };
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("request_timeout")
        );
    }
}
