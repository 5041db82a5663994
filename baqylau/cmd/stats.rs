//! `baqylau stats`: what a data directory holds — crawl counters and cases by status.

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
