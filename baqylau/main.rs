//! `baqylau` — glue that wires the pipeline stages into one command-line program.
//!
//! Every subcommand lives in `cmd/`; `pipeline.rs` runs the stages in process (embedded mode:
//! SQLite, tokio channels, a local tantivy directory) and `demo_web.rs` serves the bundled fixture
//! web. Exit codes follow ripgrep: 0 success (or "allowed"), 1 a negative answer (disallowed,
//! failing examples), 2 an error.

mod cmd;
mod data_dir;
mod demo_web;
mod embedded;
mod metrics;
mod pipeline;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Monitoring of public web pages and channels for financial-crime content.
#[derive(Debug, Parser)]
#[command(name = "baqylau", version, about, long_about = None)]
struct Cli {
    /// Log format on stderr.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "text",
        env = "BAQYLAU_LOG_FORMAT"
    )]
    log_format: LogFormat,
    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `crawler=debug`.
    #[arg(long, global = true, default_value = "warn", env = "BAQYLAU_LOG")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the bundled fixture web on loopback, crawl, index and classify it, then serve the UI.
    Demo(cmd::demo::Args),
    /// Crawl seeds into a data directory: fetch, index, classify, open cases, take screenshots.
    Crawl(cmd::crawl::Args),
    /// Classify JSONL documents with a rule set (one JSON object per line in and out).
    Classify(cmd::classify::Args),
    /// Score a rule set against a labelled corpus (precision, recall, F1 per category).
    Eval(cmd::eval::Args),
    /// Full-text search over the captures of a data directory.
    Search(cmd::search::Args),
    /// Serve the analyst web UI and JSON API over a data directory.
    Serve(cmd::serve::Args),
    /// Decide whether a robots.txt allows a URL (exit 0 allowed, 1 disallowed, 2 error).
    RobotsCheck(cmd::robots::Args),
    /// Check, test or backtest rule files.
    #[command(subcommand)]
    Rules(cmd::rules::Command),
    /// Crawl statistics of a data directory.
    Stats(cmd::stats::Args),
    /// Manage desk users (add, list).
    #[command(subcommand)]
    User(cmd::user::Command),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(cmd::token::Command),
    /// Verify the hash-chained audit log.
    #[command(subcommand)]
    Audit(cmd::audit::Command),
    /// Write the evidence bundle (zip) of a case.
    Export(cmd::export::Args),
    /// Verify an evidence bundle (exit 0 verified, 1 not).
    Verify(cmd::verify::Args),
    /// Notification outbox relay and reference consumer.
    #[command(subcommand)]
    Notify(cmd::notify::Command),
    /// Run one stage of the distributed deployment over RabbitMQ and PostgreSQL.
    Worker(cmd::worker::Args),
    /// Queue seed URLs for the crawler workers of a distributed deployment.
    Seed(cmd::seed::Args),
    /// Serve only the bundled fixture web on loopback (a site for trying out workers).
    DemoWeb(cmd::demo_web::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if matches!(
        cli.command,
        Command::Demo(_) | Command::Crawl(_) | Command::Worker(_) | Command::Serve(_)
    ) {
        cap_malloc_arenas();
    }
    init_logging(cli.log_format, &cli.log);
    let result = match cli.command {
        Command::Demo(a) => cmd::demo::run(a),
        Command::Crawl(a) => cmd::crawl::run(a),
        Command::Classify(a) => cmd::classify::run(a),
        Command::Eval(a) => cmd::eval::run(a),
        Command::Search(a) => cmd::search::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::RobotsCheck(a) => cmd::robots::run(a),
        Command::Rules(c) => cmd::rules::run(c),
        Command::Stats(a) => cmd::stats::run(a),
        Command::User(c) => cmd::user::run(c),
        Command::Token(c) => cmd::token::run(c),
        Command::Audit(c) => cmd::audit::run(c),
        Command::Export(a) => cmd::export::run(a),
        Command::Verify(a) => cmd::verify::run(a),
        Command::Notify(c) => cmd::notify::run(c),
        Command::Worker(a) => cmd::worker::run(a),
        Command::Seed(a) => cmd::seed::run(a),
        Command::DemoWeb(a) => cmd::demo_web::run(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Environment variable read by glibc's malloc at start-up: how many heaps (arenas) threads share.
const MALLOC_ARENA_MAX: &str = "MALLOC_ARENA_MAX";

/// Re-executes this process with `MALLOC_ARENA_MAX=2` unless the variable is already set (any
/// value, so an operator can choose another).
///
/// Why: the pipeline allocates page text on the crawler's blocking threads and frees it on the
/// indexer's and classifier's. glibc gives each thread its own arena (up to 8 per core), and
/// each arena keeps its own high-water mark of fragments, so at 3,000+ pages/s the heap held
/// ~290 MB where ~90 MB is live: a 20,000-page crawl peaked at 384 MB RSS, 188 MB with two arenas
/// (215 MB with four, 291 MB with eight), at the same pages/s. glibc reads the variable only
/// when the process starts, and setting it through `mallopt` would need `unsafe`, hence
/// `execve` of the same binary (same PID, arguments and open descriptors). mimalloc as the
/// global allocator was tried: 327 MB (blocking threads that go idle keep what others freed).
fn cap_malloc_arenas() {
    use std::os::unix::process::CommandExt;
    if std::env::var_os(MALLOC_ARENA_MAX).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(MALLOC_ARENA_MAX, "2")
        .exec();
    // `exec` returns only when it failed: run on with glibc's default arenas.
    eprintln!("warning: could not re-execute with {MALLOC_ARENA_MAX}=2: {err}");
}

fn init_logging(format: LogFormat, filter: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn robots_check_takes_three_positionals() {
        let cli =
            Cli::try_parse_from(["baqylau", "robots-check", "r.txt", "http://a/", "Bot"]).unwrap();
        assert!(matches!(cli.command, Command::RobotsCheck(_)));
    }

    #[test]
    fn crawl_parses_repeated_resolve() {
        let cli = Cli::try_parse_from([
            "baqylau",
            "crawl",
            "--data",
            "d",
            "--seed",
            "http://a.kz/",
            "--resolve",
            "a.kz=127.0.0.1:8080",
            "--resolve",
            "b.kz=127.0.0.1:8081",
        ])
        .unwrap();
        let Command::Crawl(a) = cli.command else {
            panic!("not crawl")
        };
        assert_eq!(a.resolve.len(), 2);
    }
}
