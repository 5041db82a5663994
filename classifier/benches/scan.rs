//! Throughput of `RuleSet::scan` with the default rules on ordinary Russian chat text.
//!
//! `cargo bench -p classifier --bench scan` — prints a table: document size, documents, MB/s.
//! The corpus is the committed tg-spam ham sample, cut into ~20 KB documents (the page size of
//! DESIGN §9); most documents fire no rule, which is the common case the presearch optimizes.

use std::path::PathBuf;
use std::time::Instant;

use classifier::{Doc, RuleSet};

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rules");
    let rules = RuleSet::load_dir(&dir).expect("default rules load");
    let corpus = include_str!("../tests/data/ham-samples.txt");
    println!(
        "{:>10} {:>8} {:>10} {:>8} {:>14}",
        "doc bytes", "docs", "MB", "MB/s", "normalize MB/s"
    );
    for target in [2_000usize, 20_000, 200_000] {
        let mut docs = Vec::new();
        let mut cur = String::new();
        for line in corpus.lines().cycle() {
            cur.push_str(line);
            cur.push('\n');
            if cur.len() >= target {
                docs.push(std::mem::take(&mut cur));
                if docs.len() * target >= 8_000_000 {
                    break;
                }
            }
        }
        let bytes: usize = docs.iter().map(String::len).sum();
        let start = Instant::now();
        let mut hits = 0usize;
        for d in &docs {
            hits += rules
                .scan(&Doc {
                    id: "b",
                    text: d,
                    ..Doc::default()
                })
                .len();
        }
        let secs = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let norm_len: usize = docs
            .iter()
            .map(|d| classifier::normalize::normalize(d).text.len())
            .sum();
        let norm_secs = start.elapsed().as_secs_f64();
        let mb = bytes as f64 / 1e6;
        println!(
            "{:>10} {:>8} {:>10.1} {:>8.1} {:>14.1}   ({hits} hits, {norm_len} normalized bytes)",
            target,
            docs.len(),
            mb,
            mb / secs,
            mb / norm_secs
        );
    }
}
