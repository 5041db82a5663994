//! One module per subcommand (group); each has `Args` and `run(args) -> anyhow::Result<ExitCode>`.

pub mod audit;
pub mod classify;
pub mod crawl;
pub mod demo;
pub mod demo_web;
pub mod eval;
pub mod export;
pub mod notify;
pub mod robots;
pub mod rules;
pub mod search;
pub mod seed;
pub mod serve;
pub mod stats;
pub mod token;
pub mod user;
pub mod verify;
pub mod worker;

use std::collections::HashMap;
use std::sync::Arc;

use crate::pipeline::Summary;

/// Builds the async runtime; the binary uses one multi-threaded runtime per command.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// Rule explanations for the UI, keyed by rule id.
pub fn rule_catalog(rules: &classifier::RuleSet) -> Arc<HashMap<String, model::RuleInfo>> {
    Arc::new(
        rules
            .rules()
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect(),
    )
}

/// The human-readable end-of-run table.
pub fn print_summary_table(s: &Summary) {
    let rows: [(&str, String); 9] = [
        ("pages fetched", s.pages_fetched.to_string()),
        ("captures", s.captures.to_string()),
        ("failed captures", s.failed_captures.to_string()),
        ("robots-denied", s.crawl.robots_denied.to_string()),
        ("indexed", s.indexed.to_string()),
        ("rule hits", s.hits.to_string()),
        (
            "cases (opened now)",
            format!("{} ({})", s.cases, s.cases_opened),
        ),
        (
            "screenshots (failed)",
            format!("{} ({})", s.screenshots, s.screenshot_failures),
        ),
        ("seconds", format!("{:.2}", s.seconds)),
    ];
    println!("┌──────────────────────┬──────────────┐");
    for (k, v) in rows {
        println!("│ {k:<20} │ {v:>12} │");
    }
    println!("└──────────────────────┴──────────────┘");
    if !s.crawl.failures_by_kind.is_empty() {
        let kinds: Vec<String> = s
            .crawl
            .failures_by_kind
            .iter()
            .map(|(k, n)| format!("{k}={n}"))
            .collect();
        println!("failures by kind: {}", kinds.join(", "));
    }
}
