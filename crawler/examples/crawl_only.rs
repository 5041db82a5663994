//! Crawl-only run for `bench/crawl.sh`: the crawler stage alone (frontier, robots, politeness,
//! fetch, charset, extraction, WARC), its captures drained and dropped — the number to compare
//! with other crawlers, which do nothing else either.
//!
//! ```text
//! cargo run --release -p crawler --example crawl_only -- \
//!     --data DIR --seed http://bench.kz/ --resolve bench.kz=127.0.0.1:8080 \
//!     [--max-pages N] [--concurrency C] [--per-host-connections P]
//! ```
//! Prints one JSON object: pages fetched, failures, captures, seconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crawler::{Crawler, CrawlerConfig, ResolveRule};
use model::{MemoryQueue, Queue};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut cfg = CrawlerConfig {
        host_delay: Duration::ZERO,
        max_pages: 1_000_000,
        max_pages_per_host: 1_000_000,
        max_depth: 10,
        ..CrawlerConfig::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--data" => cfg.data_dir = value()?.into(),
            "--seed" => cfg.seeds.push(value()?),
            "--resolve" => cfg.resolve.push(value()?.parse::<ResolveRule>()?),
            "--max-pages" => cfg.max_pages = value()?.parse()?,
            "--concurrency" => cfg.concurrency = value()?.parse()?,
            "--per-host-connections" => cfg.per_host_connections = value()?.parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let crawler = Crawler::new(cfg)?;
        let queue = Arc::new(MemoryQueue::new("captures", 4096));
        let drain = {
            let q = queue.clone();
            tokio::spawn(async move {
                let mut n = 0u64;
                while let Ok(Some(d)) = q.consume().await {
                    n += 1;
                    drop(d);
                }
                n
            })
        };
        let t0 = Instant::now();
        let stats = crawler.run(queue.as_ref()).await?;
        queue.close().await;
        let drained = drain.await?;
        println!(
            "{{\"pages\":{},\"failed\":{},\"captures\":{},\"drained\":{},\"seconds\":{:.3}}}",
            stats.pages_fetched,
            stats.failed,
            stats.captures,
            drained,
            t0.elapsed().as_secs_f64()
        );
        Ok::<_, Box<dyn std::error::Error>>(())
    })
}
