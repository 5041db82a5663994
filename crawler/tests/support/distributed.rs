//! What the crawler's distributed tests share: the real PostgreSQL they run against
//! (`BAQYLAU_TEST_PG`, default `postgres://postgres@127.0.0.1:5432/test`; a test fails when it is
//! absent), a fresh schema per test, and a distributed worker started and stopped in-process.

use std::sync::Arc;
use std::time::Duration;

use crawler::watch::Watch;
use crawler::{Crawler, CrawlerConfig, DistributedConfig, PgFrontier, PgOptions};
use model::{Capture, MemoryQueue};
use sqlx_core::executor::Executor;

pub fn pg_url() -> String {
    std::env::var("BAQYLAU_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// A fresh schema for one test (a leftover of a failed run is dropped first).
pub async fn fresh_schema(name: &str) -> String {
    let schema = format!("crawl_it_{name}_{}", std::process::id());
    let url = pg_url();
    let mut conn =
        <sqlx_postgres::PgConnection as sqlx_core::connection::Connection>::connect(&url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {url} (BAQYLAU_TEST_PG) is required: {e}"));
    conn.execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
        .await
        .unwrap();
    schema
}

/// Drops a test's schema at its end.
pub async fn drop_schema(pg: &PgFrontier, schema: &str) {
    pg.pool()
        .execute(format!("DROP SCHEMA {schema} CASCADE").as_str())
        .await
        .unwrap();
}

/// One running distributed worker.
pub struct Worker {
    pub crawler: Arc<Crawler>,
    pub stop: tokio::sync::watch::Sender<bool>,
    pub task: tokio::task::JoinHandle<crawler::Result<crawler::CrawlStats>>,
}

impl Worker {
    /// Starts worker `id` on `schema` with `cfg` (leases of one second renewed every
    /// `lease_tick`, channels revisited every `channel_revisit`); its captures land in `out`.
    pub async fn start(
        id: &str,
        schema: &str,
        cfg: CrawlerConfig,
        lease_tick: Duration,
        channel_revisit: Duration,
        out: Arc<MemoryQueue<Capture>>,
    ) -> Worker {
        let dist = DistributedConfig {
            pg: PgOptions {
                schema: Some(schema.to_string()),
                max_connections: 4,
                ..PgOptions::new(pg_url())
            },
            worker_id: id.to_string(),
            lease_ttl: Duration::from_millis(1000),
            lease_tick,
        };
        let mut crawler = Crawler::new_distributed(cfg, dist).await.unwrap();
        let (stop, rx) = tokio::sync::watch::channel(false);
        crawler.set_watch(Watch {
            channel_revisit,
            stop: rx,
        });
        let crawler = Arc::new(crawler);
        let c = Arc::clone(&crawler);
        let task = tokio::spawn(async move { c.run(out.as_ref()).await });
        Worker {
            crawler,
            stop,
            task,
        }
    }

    /// Asks the worker to stop and waits for it to finish cleanly.
    pub async fn stop(self) {
        self.stop.send(true).unwrap();
        self.task.await.unwrap().unwrap();
    }
}
