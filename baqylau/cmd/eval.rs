//! `baqylau eval`: scores a rule set against a labelled corpus — per-category precision, recall
//! and F1, macro-F1, false positives on hard negatives, recall on obfuscated items and Kazakh vs
//! Russian recall — so a rule change is judged by numbers before it goes live.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use classifier::eval::{self, LabelledItem, Report, Targets};

/// Arguments of `baqylau eval`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rules directory.
    #[arg(long)]
    pub rules: PathBuf,
    /// Labelled corpus, JSONL: `{"id","text","lang","labels":[…],"hard_negative","obfuscated"}`.
    #[arg(long)]
    pub corpus: PathBuf,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// List every item the rules got wrong (missed or spurious categories).
    #[arg(long)]
    pub errors: bool,
    /// Exit 1 when a quality target (macro-F1 ≥ 0.90, hard-negative FPR ≤ 5 %, obfuscated
    /// recall ≥ 0.90, Kazakh recall within 5 points of Russian) is missed.
    #[arg(long)]
    pub check: bool,
}

fn read_corpus(path: &PathBuf) -> anyhow::Result<Vec<LabelledItem>> {
    let src =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let items = eval::parse_corpus(&src).with_context(|| path.display().to_string())?;
    anyhow::ensure!(!items.is_empty(), "{}: no items", path.display());
    Ok(items)
}

/// Runs `baqylau eval`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rules = crate::embedded::load_rules(Some(&args.rules))?;
    let items = read_corpus(&args.corpus)?;
    let report = eval::evaluate(&rules, &items);
    let targets = Targets::default();
    let missed = report.missed_targets(&targets);
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        if !args.errors {
            v.as_object_mut().map(|o| o.remove("mistakes"));
        }
        v["missed_targets"] = serde_json::to_value(&missed)?;
        println!("{}", serde_json::to_string(&v)?);
    } else {
        print_table(&report, &missed, args.errors);
    }
    Ok(if args.check && !missed.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_table(r: &Report, missed: &[String], errors: bool) {
    println!(
        "{:<26} {:>4} {:>4} {:>4} {:>9} {:>7} {:>6}",
        "category", "tp", "fp", "fn", "precision", "recall", "F1"
    );
    for (name, c) in &r.categories {
        println!(
            "{:<26} {:>4} {:>4} {:>4} {:>9.3} {:>7.3} {:>6.3}",
            name, c.tp, c.fp, c.fn_, c.precision, c.recall, c.f1
        );
    }
    println!();
    let rate = |name: &str, x: &eval::Rate| {
        println!("{:<34} {:>6.3}  ({}/{})", name, x.rate, x.hits, x.total);
    };
    println!(
        "{:<34} {:>6.3}  ({} items)",
        "macro-F1", r.macro_f1, r.items
    );
    rate("hard-negative false-positive rate", &r.hard_negative_fpr);
    rate("benign false-positive rate", &r.benign_fpr);
    rate("obfuscated recall", &r.obfuscated_recall);
    for (lang, x) in &r.recall_by_lang {
        rate(&format!("recall ({lang})"), x);
    }
    if errors {
        println!();
        for m in &r.mistakes {
            println!(
                "{}  labels={:?} predicted={:?} rules={:?}\n    {}",
                m.id, m.labels, m.predicted, m.rules, m.text
            );
        }
    }
    println!();
    if missed.is_empty() {
        println!("quality targets: all met");
    } else {
        for m in missed {
            println!("quality target missed: {m}");
        }
    }
}
