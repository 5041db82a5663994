//! `baqylau robots-check ROBOTS_FILE URL USER_AGENT`: the crawler's own robots.txt decision, for
//! conformance suites and for operators answering "why was this page not fetched".

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use crawler::robots::{RobotsEntry, Verdict};

/// Arguments of `baqylau robots-check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// robots.txt file (raw bytes; a UTF-8 BOM is skipped).
    pub robots_file: PathBuf,
    /// URL to check.
    pub url: String,
    /// Product token of the crawler, e.g. `baqylau`.
    pub user_agent: String,
}

/// Exit 0 allowed, 1 disallowed, 2 error.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let body = std::fs::read(&args.robots_file)
        .with_context(|| format!("cannot read {}", args.robots_file.display()))?;
    let url = url::Url::parse(&args.url).with_context(|| format!("invalid URL {:?}", args.url))?;
    let entry = RobotsEntry::from_fetch(&args.user_agent, Ok((200, body)), Instant::now());
    Ok(match entry.verdict(&url) {
        Verdict::Allowed => ExitCode::SUCCESS,
        Verdict::Denied => ExitCode::from(1),
        Verdict::Unreachable(e) => anyhow::bail!("{}", e.message),
    })
}
