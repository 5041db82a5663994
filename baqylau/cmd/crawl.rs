//! `baqylau crawl`: the monitoring run over real seeds, in the embedded deployment.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

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
    /// PEM file of extra trusted root certificates (on top of the built-in roots); repeatable.
    /// The `SSL_CERT_FILE` environment variable adds one more.
    #[arg(long, value_name = "FILE")]
    pub ca_cert: Vec<PathBuf>,
    /// Most fetches running at once over all hosts.
    #[arg(long, default_value_t = CrawlerConfig::default().concurrency)]
    pub concurrency: usize,
    /// Most concurrent connections to one host.
    #[arg(long, default_value_t = CrawlerConfig::default().per_host_connections)]
    pub per_host_connections: usize,
    /// Minimum delay between requests to one host (`250ms`, `1s`); robots.txt Crawl-delay
    /// raises it.
    #[arg(long, value_parser = parse_duration, default_value = "250ms")]
    pub host_delay: Duration,
    /// Total deadline of one request, body included (`30s`).
    #[arg(long, value_parser = parse_duration, default_value = "30s")]
    pub request_timeout: Duration,
    /// Deadline for connecting (`10s`).
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub connect_timeout: Duration,
    /// Largest body accepted after decompression, in bytes.
    #[arg(long, default_value_t = CrawlerConfig::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// Most URLs admitted per host.
    #[arg(long, default_value_t = CrawlerConfig::default().max_pages_per_host)]
    pub max_pages_per_host: usize,
    /// Retries of a URL after a transient failure (429, 5xx, timeout, connection error).
    #[arg(long, default_value_t = CrawlerConfig::default().max_retries)]
    pub max_retries: u32,
    /// First retry delay, doubled per attempt with jitter (`2s`).
    #[arg(long, value_parser = parse_duration, default_value = "2s")]
    pub retry_base: Duration,
    /// Consecutive transient failures after which a host is parked for this run.
    #[arg(long, default_value_t = CrawlerConfig::default().host_error_budget)]
    pub host_error_budget: u32,
    /// Render pages in Chromium before extraction: `auto` renders SPA shells (little text, heavy
    /// scripts) and `--js-only-host` hosts, `always` every HTML page, `never` none. Rendering
    /// shares the screenshot browser, so `--no-screenshots` turns it off.
    #[arg(long, default_value = "auto", value_parser = |s: &str| s.parse::<crawler::RenderMode>())]
    pub render: crawler::RenderMode,
    /// Host whose pages are always rendered in `auto` mode; repeatable.
    #[arg(long, value_name = "HOST")]
    pub js_only_host: Vec<String>,
    /// Keep running until SIGINT/SIGTERM: revisit Telegram channels every `--revisit` and pages
    /// on the frontier's adaptive schedule; new and edited posts become captures (and cases).
    #[arg(long)]
    pub watch: bool,
    /// Revisit interval of Telegram channel previews in `--watch` mode.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub revisit: Duration,
    /// File of Telegram channels to monitor, one per line: `@channel`, `t.me/channel` or a
    /// preview URL (`#` comments allowed).
    #[arg(long, value_name = "FILE")]
    pub channels: Option<PathBuf>,
    /// Also crawl the Telegram channels that crawled pages link to (`t.me/<channel>`, through
    /// its public preview `t.me/s/<channel>`); invite, bot, sticker and share links are skipped.
    /// With `--watch` the channels found are watched too.
    #[arg(long)]
    pub discover_channels: bool,
    /// Most channels `--discover-channels` adds in one run.
    #[arg(long, value_name = "N", default_value_t = CrawlerConfig::default().telegram_discover_max)]
    pub max_discovered_channels: usize,
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
}

/// Parses `250ms`, `2s`, `1.5s`, `5m`, `1h` (a bare number is seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (250ms, 2s, 5m, 1h)"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" | "min" => n * 60.0,
        "h" => n * 3600.0,
        other => return Err(format!("unknown duration unit {other:?} (ms, s, m, h)")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("{s:?} is not a duration"));
    }
    Ok(Duration::from_secs_f64(secs))
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
    if let Some(f) = &args.channels {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let url = crawler::telegram::preview_url_of(line)
                .with_context(|| format!("{}:{}: not a channel: {line:?}", f.display(), n + 1))?;
            seeds.push(url);
        }
    }
    anyhow::ensure!(
        !seeds.is_empty(),
        "no seeds: give --seed URL, --seeds-file FILE or --channels FILE"
    );
    let data = DataDir::create(&args.data)?;
    let rules = Arc::new(crate::embedded::load_rules(args.rules.as_deref())?);
    let mut ca_certs = args.ca_cert.clone();
    if let Some(f) = std::env::var_os("SSL_CERT_FILE") {
        ca_certs.push(PathBuf::from(f));
    }
    let mut crawler = CrawlerConfig {
        data_dir: data.root().to_path_buf(),
        seeds,
        resolve: args.resolve.clone(),
        max_pages: args.max_pages,
        max_depth: args.max_depth,
        concurrency: args.concurrency,
        per_host_connections: args.per_host_connections,
        host_delay: args.host_delay,
        request_timeout: args.request_timeout,
        connect_timeout: args.connect_timeout,
        max_body_bytes: args.max_body_bytes,
        max_pages_per_host: args.max_pages_per_host,
        max_retries: args.max_retries,
        retry_base: args.retry_base,
        host_error_budget: args.host_error_budget,
        ca_certs,
        render: args.render,
        js_only_hosts: args.js_only_host.clone(),
        telegram_discover: args.discover_channels,
        telegram_discover_max: args.max_discovered_channels,
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
    let runtime = super::runtime()?;
    let watch = args.watch.then(|| {
        let (tx, stop) = tokio::sync::watch::channel(false);
        runtime.spawn(async move {
            stop_signal().await;
            tracing::info!("stop requested: finishing fetches in flight, then draining");
            let _ = tx.send(true);
        });
        crawler::watch::Watch {
            channel_revisit: args.revisit,
            stop,
        }
    });
    let summary = runtime.block_on(pipeline::run_with(
        PipelineConfig {
            data,
            crawler,
            rules,
            renderer,
            progress: !args.json && !args.watch,
        },
        watch,
    ))?;
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else {
        super::print_summary_table(&summary);
    }
    Ok(ExitCode::SUCCESS)
}
