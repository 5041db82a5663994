//! `baqylau crawl`: the monitoring run over real seeds, in the embedded deployment.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use crawler::{CrawlerConfig, ResolveRule};

use crate::data_dir::DataDir;
use crate::pipeline::{self, PipelineConfig};

/// Arguments of `baqylau crawl`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory (frontier, index, cases, blobs).
    #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
    pub data: PathBuf,
    /// Seed URL; repeatable.
    #[arg(long = "seed")]
    pub seeds: Vec<String>,
    /// File with one seed URL per line (`#` comments allowed).
    #[arg(long)]
    pub seeds_file: Option<PathBuf>,
    /// Connect HOST to IP:PORT, keeping the host name (like curl --connect-to); repeatable.
    /// Also the only way past the SSRF guard for loopback and private addresses.
    #[arg(long, value_name = "HOST=IP:PORT")]
    pub resolve: Vec<ResolveRule>,
    /// Stop after this many pages.
    #[arg(long, default_value_t = 10_000)]
    pub max_pages: usize,
    /// Follow links at most this deep from a seed.
    #[arg(long, default_value_t = 3)]
    pub max_depth: u32,
    /// User-Agent header (robots.txt is matched on the token `baqylau`).
    #[arg(long)]
    pub user_agent: Option<String>,
    /// Rules directory (default: the bundled rule set).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Do not take evidence screenshots (no Chromium needed).
    #[arg(long)]
    pub no_screenshots: bool,
    /// Chromium binary for screenshots.
    #[arg(long, default_value = "/usr/bin/chromium")]
    pub chromium: PathBuf,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Runs `baqylau crawl`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut seeds = args.seeds.clone();
    if let Some(f) = &args.seeds_file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        seeds.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string),
        );
    }
    anyhow::ensure!(
        !seeds.is_empty(),
        "no seeds: give --seed URL or --seeds-file FILE"
    );
    let data = DataDir::create(&args.data)?;
    let rules = Arc::new(crate::embedded::load_rules(args.rules.as_deref())?);
    let mut crawler = CrawlerConfig {
        data_dir: data.root().to_path_buf(),
        seeds,
        resolve: args.resolve.clone(),
        max_pages: args.max_pages,
        max_depth: args.max_depth,
        ..CrawlerConfig::default()
    };
    if let Some(ua) = &args.user_agent {
        crawler.user_agent = ua.clone();
    }
    let renderer = (!args.no_screenshots).then(|| crawler::render::RendererConfig {
        chrome_path: args.chromium.clone(),
        host_map: args
            .resolve
            .iter()
            .map(|r| (r.host.clone(), r.addr))
            .collect(),
        ..Default::default()
    });
    let summary = super::runtime()?.block_on(pipeline::run(PipelineConfig {
        data,
        crawler,
        rules,
        renderer,
        progress: !args.json,
    }))?;
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        super::print_summary_table(&summary);
    }
    Ok(ExitCode::SUCCESS)
}
