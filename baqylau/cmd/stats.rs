//! `baqylau stats`: what a data directory holds — crawl counters and cases by status — or, with
//! `--broker`/`--db`, what a distributed deployment holds: every queue's depth and its parked
//! (dead-lettered) messages, the shared frontier, and the cases in PostgreSQL.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use model::{CaseFilter, CaseStore};
use serde::Serialize;

use crate::data_dir::DataDir;

/// Arguments of `baqylau stats`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
    pub data: PathBuf,
    /// One JSON object.
    #[arg(long)]
    pub json: bool,
    /// RabbitMQ URL of a distributed deployment: report its queues (instead of `--data`).
    #[arg(long)]
    pub broker: Option<String>,
    /// PostgreSQL URL of a distributed deployment: report its frontier and cases.
    #[arg(long)]
    pub db: Option<String>,
    #[command(flatten)]
    pub names: super::worker::topology::Names,
}

#[derive(Serialize)]
struct Stats {
    crawl: crawler::CrawlStats,
    /// Telegram posts seen, edited and deleted (the crawler's `telegram_posts` table).
    telegram: crawler::watch::PostCounts,
    cases: usize,
    cases_by_status: BTreeMap<String, usize>,
}

/// Runs `baqylau stats`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    if args.broker.is_some() || args.db.is_some() {
        return distributed(&args);
    }
    let data = DataDir::existing(&args.data)?;
    let crawl = crawler::stats_from_dir(data.root())?;
    let store = reporter::SqliteCaseStore::open(&data.cases_db())?;
    let cases = super::runtime()?.block_on(store.list_cases(&CaseFilter::default()))?;
    let mut by_status = BTreeMap::new();
    for c in &cases {
        *by_status.entry(c.status.as_str().to_string()).or_insert(0) += 1;
    }
    let stats = Stats {
        crawl,
        telegram: crawler::watch::post_counts(data.root())?,
        cases: cases.len(),
        cases_by_status: by_status,
    };
    if args.json {
        println!("{}", serde_json::to_string(&stats)?);
    } else {
        println!("{}", serde_json::to_string_pretty(&stats)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// One work queue of a distributed deployment.
#[derive(Serialize)]
struct QueueStats {
    queue: String,
    /// Messages ready (`null`: the queue was never declared).
    ready: Option<u32>,
    /// Consumers attached.
    consumers: Option<u32>,
    /// Messages parked in `<queue>.dead`.
    dead: Option<u32>,
}

#[derive(Serialize)]
struct DistributedStats {
    #[serde(skip_serializing_if = "Option::is_none")]
    queues: Option<Vec<QueueStats>>,
    /// Parked messages over every queue.
    #[serde(skip_serializing_if = "Option::is_none")]
    dead_letters: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frontier: Option<crawler::FrontierStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    crawl: Option<crawler::CrawlStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cases: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cases_by_status: Option<BTreeMap<String, usize>>,
}

/// `stats --broker URL --db URL`: reads only (passive queue declarations, SELECTs; the
/// frontier's and case store's migrations are applied on connect, as every worker does).
fn distributed(args: &Args) -> anyhow::Result<ExitCode> {
    let stats = super::runtime()?.block_on(async {
        let mut out = DistributedStats {
            queues: None,
            dead_letters: None,
            frontier: None,
            crawl: None,
            cases: None,
            cases_by_status: None,
        };
        if let Some(url) = &args.broker {
            let probe = broker::QueueProbe::connect(url)
                .await
                .map_err(|e| anyhow::anyhow!("broker: {e}"))?;
            let all = args.names.all_queues();
            let depths = probe
                .depths(&all)
                .await
                .map_err(|e| anyhow::anyhow!("broker: {e}"))?;
            let queues: Vec<QueueStats> = depths
                .chunks(2)
                .map(|pair| QueueStats {
                    queue: pair[0].name.clone(),
                    ready: pair[0].ready,
                    consumers: pair[0].consumers,
                    dead: pair.get(1).and_then(|d| d.ready),
                })
                .collect();
            out.dead_letters = Some(queues.iter().map(|q| u64::from(q.dead.unwrap_or(0))).sum());
            out.queues = Some(queues);
        }
        if let Some(url) = &args.db {
            let mut opts = crawler::PgOptions::new(url.clone());
            opts.schema = args.names.db_schema.clone();
            opts.max_connections = 2;
            let frontier = crawler::PgFrontier::connect(&opts).await?;
            out.crawl = Some(frontier.totals().await?);
            out.frontier = Some(frontier.stats().await?);
            let store = match &args.names.db_schema {
                Some(s) => reporter::PgCaseStore::connect_in_schema(url, s).await,
                None => reporter::PgCaseStore::connect(url).await,
            }
            .map_err(|e| anyhow::anyhow!("case store: {e}"))?;
            let cases = store.list_cases(&CaseFilter::default()).await?;
            let mut by_status = BTreeMap::new();
            for c in &cases {
                *by_status.entry(c.status.as_str().to_string()).or_insert(0) += 1;
            }
            out.cases = Some(cases.len());
            out.cases_by_status = Some(by_status);
        }
        anyhow::Ok(out)
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&stats)?);
    } else {
        println!("{}", serde_json::to_string_pretty(&stats)?);
    }
    Ok(ExitCode::SUCCESS)
}
