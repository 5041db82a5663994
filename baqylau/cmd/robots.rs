//! `baqylau robots-check ROBOTS_FILE URL USER_AGENT`: the crawler's own robots.txt decision, for
//! conformance suites and for operators answering "why was this page not fetched".
//!
//! The URL is matched exactly as given (only its path and query count), through the same RFC 9309
//! matcher the crawler uses ([`crawler::robots::rules`]).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use crawler::robots::rules::RobotsRules;

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

/// Exit 0 allowed, 1 disallowed, 2 error (unreadable file).
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let body = std::fs::read(&args.robots_file)
        .with_context(|| format!("cannot read {}", args.robots_file.display()))?;
    let rules = RobotsRules::parse(&body, &args.user_agent);
    Ok(if rules.allowed(&args.url) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
