//! `baqylau rules check|test|backtest`: tools for rule authors.
//!
//! `backtest` runs a candidate rule set and the live one (the bundled rules, or `--baseline`)
//! over every capture stored in a data directory's index, and reads the analysts' verdicts
//! (confirmed / dismissed cases) through the reporter's case store to give each rule a
//! precision. Verdicts are read with `list_cases`/`get_case`, the same API the UI uses.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use classifier::backtest::{Backtest, BacktestReport, Verdict, Verdicts};
use classifier::{Doc, RuleSet};
use model::{CaseFilter, CaseStatus, CaseStore};

use crate::data_dir::DataDir;

/// Rule-author subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Parse and compile every rule file; report errors with file:line:column.
    Check {
        /// Rules directory.
        dir: PathBuf,
    },
    /// Run every rule's embedded examples (examples.match / examples.no_match).
    Test {
        /// Rules directory.
        dir: PathBuf,
    },
    /// Run a rule set over the indexed captures: hits per rule, new and lost hits against the
    /// live rules, precision per rule from analyst verdicts.
    Backtest {
        /// Candidate rules directory.
        dir: PathBuf,
        /// Data directory (index and cases).
        #[arg(long, env = "BAQYLAU_DATA", default_value = "baqylau-data")]
        data: PathBuf,
        /// Rules to compare with (default: the bundled, live rules).
        #[arg(long)]
        baseline: Option<PathBuf>,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Runs a `rules` subcommand: exit 0 fine, 1 failing examples, 2 broken rules.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Check { dir } => {
            let rules = crate::embedded::load_rules(Some(&dir))?;
            println!("{} rules OK in {}", rules.rules().len(), dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Test { dir } => {
            let rules = crate::embedded::load_rules(Some(&dir))?;
            let failures = rules.test_examples();
            for f in &failures {
                println!("FAIL {f}");
            }
            println!(
                "{} rules, {} failing example(s)",
                rules.rules().len(),
                failures.len()
            );
            Ok(if failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Command::Backtest {
            dir,
            data,
            baseline,
            json,
        } => backtest(&dir, &data, baseline.as_deref(), json),
    }
}

/// Verdicts of every decided case, keyed by the capture ids of its evidence.
async fn verdicts(store: &dyn CaseStore) -> anyhow::Result<Verdicts> {
    let mut out = Verdicts::new();
    for summary in store.list_cases(&CaseFilter::default()).await? {
        let verdict = match summary.status {
            CaseStatus::New | CaseStatus::InReview => continue,
            CaseStatus::Dismissed => Verdict::Dismissed,
            _ => Verdict::Confirmed,
        };
        let Some(case) = store.get_case(summary.id).await? else {
            continue;
        };
        for e in case.evidence {
            out.entry(e.capture_id)
                .or_default()
                .push((case.category.clone(), verdict));
        }
    }
    Ok(out)
}

fn backtest(
    dir: &std::path::Path,
    data: &std::path::Path,
    baseline: Option<&std::path::Path>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let candidate = crate::embedded::load_rules(Some(dir))?;
    let live: RuleSet = crate::embedded::load_rules(baseline)?;
    let data = DataDir::existing(data)?;
    let index = indexer::Indexer::open_read_only(&data.index_dir())
        .with_context(|| format!("cannot open the index in {}", data.index_dir().display()))?;
    let store = reporter::SqliteCaseStore::open(&data.cases_db())?;
    let verdicts = super::runtime()?.block_on(verdicts(&store))?;
    let mut bt = Backtest::new(&candidate, &live, &verdicts);
    index.for_each_stored(|d| {
        // the classifier's own language detector, as in `eval`: it knows Kazakh
        let lang = classifier::lang::detect(&d.text);
        bt.add(&Doc {
            id: &d.capture_id,
            title: &d.title,
            text: &d.text,
            url: &d.url,
            lang: Some(lang.code()),
        });
    })?;
    let report = bt.finish();
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_backtest(&report, baseline.is_some());
    }
    Ok(ExitCode::SUCCESS)
}

fn print_backtest(r: &BacktestReport, custom_baseline: bool) {
    let base = if custom_baseline { "baseline" } else { "live" };
    println!(
        "{:<34} {:>7} {:>6} {:>5} {:>5} {:>5} {:>5} {:>9}",
        "rule", "version", "hits", base, "new", "lost", "conf", "precision"
    );
    for row in &r.rules {
        let version = match (row.baseline_version, row.version) {
            (Some(a), Some(b)) if a != b => format!("{a}→{b}"),
            (_, Some(b)) => b.to_string(),
            (Some(a), None) => format!("{a}→✗"),
            (None, None) => "-".into(),
        };
        let precision = row
            .precision
            .map(|p| {
                format!(
                    "{p:.2} ({}/{})",
                    row.confirmed,
                    row.confirmed + row.dismissed
                )
            })
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<34} {:>7} {:>6} {:>5} {:>5} {:>5} {:>5} {:>9}",
            row.rule,
            version,
            row.hits,
            row.baseline_hits,
            format!("+{}", row.new),
            format!("-{}", row.lost),
            row.confirmed,
            precision
        );
    }
    println!(
        "{} captures: {} flagged by the candidate, {} by the {base} rules",
        r.documents, r.flagged, r.baseline_flagged
    );
    for row in r.rules.iter().filter(|x| x.new + x.lost > 0) {
        if !row.new_examples.is_empty() {
            println!("new  {}: {}", row.rule, row.new_examples.join(", "));
        }
        if !row.lost_examples.is_empty() {
            println!("lost {}: {}", row.rule, row.lost_examples.join(", "));
        }
    }
}
