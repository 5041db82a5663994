//! The crawler stage of baqylau: from seed URLs to [`model::Capture`]s on a queue.
//!
//! The crawler is the first stage of the pipeline (crawler → indexer / classifier → reporter).
//! It keeps a durable SQLite frontier, fetches politely (robots.txt, per-host connection and
//! delay limits) through a hardened HTTP client (SSRF guard, size and time limits, `--resolve`
//! mappings that keep host names), decodes Russian/Kazakh charsets, extracts title, text and
//! links, splits Telegram channel previews into one capture per post, archives every exchange as
//! WARC/1.1 evidence, and publishes every fetch — failed ones included — as a capture.
//!
//! In distributed mode ([`Crawler::new_distributed`]) the frontier lives in PostgreSQL instead
//! and several crawler workers share it, each fetching only the hosts it leases
//! ([`host_lease`], [`PgFrontier`]).
//!
//! Primary types: [`Crawler`] (the stage), [`CrawlerConfig`] (its settings, with safe defaults),
//! [`ResolveRule`] (`HOST=IP:PORT`), [`CrawlStats`] / [`CrawlCounters`] (what happened).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use crawler::{Crawler, CrawlerConfig, ResolveRule};
//! use model::{MemoryQueue, Queue};
//!
//! let cfg = CrawlerConfig {
//!     data_dir: "data".into(),
//!     seeds: vec!["http://example-fixture.kz/".into()],
//!     resolve: vec!["example-fixture.kz=127.0.0.1:8080".parse::<ResolveRule>()?],
//!     ..CrawlerConfig::default()
//! };
//! let crawler = Crawler::new(cfg)?;
//! let out = MemoryQueue::new("captures", 1024);
//! let stats = crawler.run(&out).await?;
//! out.close().await;
//! println!("{} pages, {} captures", stats.pages_fetched, stats.captures);
//! # Ok(()) }
//! ```
//!
//! Module map: [`url_norm`] → frontier (durable URL states) → politeness → robots → fetch
//! (resolve, redirects, limits) → charset → extract / telegram → warc → capture log.
#![warn(missing_docs)]

mod capture_log;
pub mod charset;
mod config;
mod crawl;
pub mod discovery;
mod error;
pub mod extract;
mod fetch;
pub mod frontier;
mod host_book;
pub mod host_lease;
pub mod lang;
mod page;
mod politeness;
pub mod render;
mod resolve;
mod retry;
pub mod robots;
pub mod simhash;
pub mod spa;
mod stats;
pub mod telegram;
pub mod trap;
pub mod url_norm;
pub mod warc;
pub mod watch;

pub use capture_log::FetchRecord;
pub use config::{CrawlerConfig, DEFAULT_USER_AGENT, ROBOTS_TOKEN};
pub use crawl::{BLOBS_DIR, Crawler};
pub use error::{CrawlError, Result};
pub use fetch::{FetchError, FetchedResponse};
pub use frontier::postgres::{FrontierStats, PgFrontier, PgOptions, WorkerLeases};
pub use host_lease::DistributedConfig;
pub use resolve::{ResolveError, ResolveRule, ResolveRuleError, is_non_public};
pub use spa::RenderMode;
pub use stats::{CrawlCounters, CrawlStats, DB_FILE, stats_from_dir};

#[cfg(test)]
mod send_sync {
    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_and_sync() {
        assert_send_sync::<crate::Crawler>();
        assert_send_sync::<crate::CrawlCounters>();
        assert_send_sync::<crate::CrawlerConfig>();
        assert_send_sync::<crate::PgFrontier>();
    }

    /// A crawl can be spawned on a multi-threaded runtime (distributed workers do).
    #[allow(dead_code)]
    fn run_future_is_send(c: &crate::Crawler, out: &dyn model::Queue<model::Capture>) {
        fn assert_send<T: Send>(_: T) {}
        assert_send(c.run(out));
    }
}
