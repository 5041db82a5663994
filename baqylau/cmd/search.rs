//! `baqylau search`: full-text search over the captures of a data directory.

use std::path::PathBuf;
use std::process::ExitCode;

use indexer::{Indexer, IndexerConfig, SearchQuery};

use crate::data_dir::DataDir;

/// Arguments of `baqylau search`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Data directory.
    #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
    pub data: PathBuf,
    /// Query (tantivy syntax: words, "phrases", AND/OR/NOT, title:word).
    pub query: String,
    /// Maximum results.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
    /// Only this host.
    #[arg(long)]
    pub host: Option<String>,
    /// Only this source (`web`, `telegram`).
    #[arg(long)]
    pub source: Option<String>,
    /// Only this language (`kk`, `ru`, `en`, `mixed`).
    #[arg(long)]
    pub lang: Option<String>,
    /// One JSON array instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `baqylau search`; exit 1 when nothing matches.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let data = DataDir::existing(&args.data)?;
    let index = Indexer::open(&IndexerConfig::new(data.index_dir()))?;
    let hits = index.search(&SearchQuery {
        text: args.query.clone(),
        limit: args.limit,
        host: args.host.clone(),
        source: args.source.clone(),
        lang: args.lang.clone(),
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&hits)?);
    } else {
        for h in &hits {
            println!(
                "{:>6.2}  {}  {}",
                h.score,
                h.fetched_at.format("%Y-%m-%d %H:%M"),
                h.url
            );
            if !h.title.is_empty() {
                println!("        {}", h.title);
            }
            let plain = h.snippet_html.replace("<b>", "[").replace("</b>", "]");
            println!("        {}", plain.replace('\n', " "));
        }
        println!("{} result(s)", hits.len());
    }
    Ok(if hits.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
