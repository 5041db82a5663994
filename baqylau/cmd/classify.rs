//! `baqylau classify`: JSONL in, JSONL out (DESIGN §4) — for rule authors, evaluations and
//! scripts. A malformed line is reported with its line number and skipped; the rest is classified.

use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use classifier::Doc;
use model::Field;
use serde::{Deserialize, Serialize};

/// Arguments of `baqylau classify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Rules directory.
    #[arg(long)]
    pub rules: PathBuf,
    /// Input JSONL: `{"id","text",("title","url","lang","source")}` per line; `-` for stdin.
    #[arg(long)]
    pub input: PathBuf,
    /// Output JSONL (default: stdout).
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
struct InputDoc {
    id: serde_json::Value,
    text: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
}

#[derive(Debug, Serialize)]
struct OutputDoc {
    id: serde_json::Value,
    categories: Vec<String>,
    hits: Vec<OutputHit>,
    /// Validated indicators (phones, cards, IBANs, wallets, handles, URLs, rates) of the text.
    indicators: Vec<OutputIndicator>,
}

#[derive(Debug, Serialize)]
struct OutputIndicator {
    kind: String,
    value: String,
    /// Byte offsets in `text`.
    span: [usize; 2],
}

#[derive(Debug, Serialize)]
struct OutputHit {
    rule: String,
    rule_version: u32,
    category: String,
    score: f32,
    /// Byte offsets in `text`.
    spans: Vec<[usize; 2]>,
    matched: String,
}

/// Runs `baqylau classify`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let rules = crate::embedded::load_rules(Some(&args.rules))?;
    let reader: Box<dyn BufRead> = if args.input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(&args.input)
            .with_context(|| format!("cannot open {}", args.input.display()))?;
        Box::new(std::io::BufReader::new(f))
    };
    let writer: Box<dyn Write> = match &args.output {
        Some(p) => Box::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::new(writer);
    let mut bad = 0usize;
    for (n, line) in reader.lines().enumerate() {
        let line =
            line.with_context(|| format!("{}:{}: read error", args.input.display(), n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let doc: InputDoc = match serde_json::from_str(&line) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{}:{}: skipped: {e}", args.input.display(), n + 1);
                bad += 1;
                continue;
            }
        };
        let id = match &doc.id {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let d = Doc {
            id: &id,
            title: &doc.title,
            text: &doc.text,
            url: &doc.url,
            lang: doc.lang.as_deref(),
        };
        let hits = rules.scan(&d);
        let indicators = rules
            .indicators(&d)
            .into_iter()
            .filter(|i| i.field == Field::Text)
            .map(|i| OutputIndicator {
                kind: i.kind,
                value: i.value,
                span: [i.start, i.end],
            })
            .collect();
        let mut categories: Vec<String> = hits.iter().map(|h| h.category.clone()).collect();
        categories.sort();
        categories.dedup();
        let record = OutputDoc {
            id: doc.id,
            indicators,
            categories,
            hits: hits
                .into_iter()
                .map(|h| OutputHit {
                    spans: h
                        .spans
                        .iter()
                        .filter(|s| s.field == Field::Text)
                        .map(|s| [s.start, s.end])
                        .collect(),
                    rule: h.rule,
                    rule_version: h.rule_version,
                    category: h.category,
                    score: h.score,
                    matched: h.matched,
                })
                .collect(),
        };
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(if bad > 0 {
        eprintln!("{bad} malformed line(s) skipped");
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
