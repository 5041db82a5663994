//! `baqylau seed`: hand seed URLs to a distributed crawl.
//!
//! With `--broker` the seeds are published (confirmed, persistent) to the seeds queue, from
//! which any crawler worker moves them into the shared frontier; adding `--db` then waits until
//! every seed is in the frontier, so a script knows the crawl has them. With only `--db` they are
//! written straight into the frontier (no broker or crawler needed, e.g. a bulk load before the
//! workers start). Seeding a known URL again changes nothing.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use model::Queue;
use serde::Serialize;

use super::crawl::parse_duration;
use super::worker::topology::{Names, SeedMessage, Stage};

/// Arguments of `baqylau seed`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seed URLs.
    pub urls: Vec<String>,
    /// File with one seed URL per line (`#` comments allowed).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// RabbitMQ URL: publish the seeds to the seeds queue.
    #[arg(long, env = "BAQYLAU_BROKER")]
    pub broker: Option<String>,
    /// PostgreSQL URL of the shared frontier: without `--broker`, insert the seeds directly;
    /// with it, wait until the crawler workers have inserted them.
    #[arg(long, env = "BAQYLAU_DB")]
    pub db: Option<String>,
    #[command(flatten)]
    pub names: Names,
    /// How long to wait for the crawler workers (`--broker` with `--db`).
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub wait: Duration,
    /// Print the result as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Outcome {
    /// Seeds given.
    seeds: usize,
    /// Queue they were published to.
    #[serde(skip_serializing_if = "Option::is_none")]
    queued_on: Option<String>,
    /// Seeds new to the frontier (direct insert).
    #[serde(skip_serializing_if = "Option::is_none")]
    new_in_frontier: Option<u64>,
    /// Seeds confirmed present in the frontier.
    #[serde(skip_serializing_if = "Option::is_none")]
    in_frontier: Option<usize>,
}

/// Runs `baqylau seed`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut seeds: Vec<String> = args.urls.clone();
    if let Some(f) = &args.file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        seeds.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string),
        );
    }
    anyhow::ensure!(!seeds.is_empty(), "no seeds: give URLs or --file FILE");
    anyhow::ensure!(
        args.broker.is_some() || args.db.is_some(),
        "give --broker (queue the seeds) and/or --db (the shared frontier)"
    );
    // Refuse what no crawler would accept before anything is published.
    let max_len = crawler::CrawlerConfig::default().max_url_len;
    let mut normalized = Vec::with_capacity(seeds.len());
    for s in &seeds {
        let url = crawler::url_norm::normalize(s, None, max_len)
            .map_err(|e| anyhow::anyhow!("seed {s:?} is not a crawlable URL: {e}"))?;
        normalized.push(url.to_string());
    }
    let outcome = super::runtime()?.block_on(async {
        let mut outcome = Outcome {
            seeds: seeds.len(),
            queued_on: None,
            new_in_frontier: None,
            in_frontier: None,
        };
        let frontier = match &args.db {
            Some(url) => {
                let mut opts = crawler::PgOptions::new(url.clone());
                opts.schema = args.names.db_schema.clone();
                opts.max_connections = 2;
                Some(
                    crawler::PgFrontier::connect(&opts)
                        .await
                        .context("shared frontier")?,
                )
            }
            None => None,
        };
        match (&args.broker, &frontier) {
            (Some(broker), _) => {
                let q = args
                    .names
                    .connect::<SeedMessage>(broker, Stage::Seeds, 1)
                    .await?;
                for url in &seeds {
                    q.publish(SeedMessage { url: url.clone() }).await?;
                }
                outcome.queued_on = Some(q.name().to_string());
            }
            (None, Some(pg)) => {
                outcome.new_in_frontier = Some(pg.add_seeds(&seeds, max_len).await?);
            }
            (None, None) => unreachable!("checked above"),
        }
        if let Some(pg) = &frontier {
            outcome.in_frontier = Some(wait_in_frontier(pg, &normalized, args.wait).await?);
        }
        anyhow::Ok(outcome)
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&outcome)?);
    } else {
        if let Some(q) = &outcome.queued_on {
            println!("{} seeds queued on {q}", outcome.seeds);
        }
        if let Some(n) = outcome.new_in_frontier {
            println!("{n} of {} seeds new in the frontier", outcome.seeds);
        }
        if let Some(n) = outcome.in_frontier {
            println!("{n} of {} seeds in the frontier", outcome.seeds);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Waits until every URL is known to the frontier; fails after `limit`.
async fn wait_in_frontier(
    pg: &crawler::PgFrontier,
    urls: &[String],
    limit: Duration,
) -> anyhow::Result<usize> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut missing: Vec<&String> = urls.iter().collect();
    loop {
        let mut still = Vec::new();
        for u in missing {
            if pg.state_of(u).await?.is_none() {
                still.push(u);
            }
        }
        missing = still;
        if missing.is_empty() {
            return Ok(urls.len());
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "{} of {} seeds not in the frontier after {:?} (is a crawler worker running?), e.g. {}",
            missing.len(),
            urls.len(),
            limit,
            missing[0]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
