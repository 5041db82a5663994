//! The detection benchmark of DESIGN §9: 10,000 generated rules over ≥ 200 MB of generated
//! Cyrillic text, the compiled matcher against a naive loop that runs one regex per rule.
//!
//! Run by `bench/classify.sh` (`cargo bench -p classifier --bench matcher`); prints a table.
//! Environment: `BENCH_RULES` (default 10000), `BENCH_MB` (default 200), `BENCH_NAIVE_MB`
//! (default 4: the naive loop is ~two orders of magnitude slower, so it runs over the first
//! megabytes of the same input and its MB/s is compared).
//!
//! Rules come from a deterministic generator (xorshift, fixed seed): words of 3–5 Russian and
//! Kazakh syllables plus one word in ten taken from real Russian chat, in four expression
//! shapes (NEAR/n with prefixes, phrases with AND, NOT, alternatives). The text is real
//! Russian chat (the tg-spam ham sample) repeated to the wanted size, with a rule word wedged
//! into one sentence in twenty, so candidates occur and exact evaluation runs, as on real
//! pages.

use std::hash::{Hash, Hasher};
use std::time::Instant;

use classifier::{Doc, RuleSet};
use regex::Regex;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SYLLABLES: &[&str] = &[
    "ка", "ро", "ми", "ст", "ан", "ель", "ов", "ра", "ни", "то", "ле", "за", "бо", "гу", "ды",
    "ще", "па", "шу", "ві", "на", "ко", "ли", "де", "ме", "су", "ти", "жа", "қа", "ға", "ұл", "ың",
    "өр", "үн", "ің", "бе", "се", "ре", "вы", "пр", "ск", "мо", "ту", "ря", "лю", "чи", "фа", "хо",
    "цу", "ша", "ғы", "ле", "ны", "ве", "зо", "ди", "ку", "по", "сы", "та", "ыр",
];

fn word(rng: &mut Rng) -> String {
    let n = 3 + rng.below(3);
    (0..n)
        .map(|_| SYLLABLES[rng.below(SYLLABLES.len())])
        .collect()
}

/// CPU time of this thread (user and system) from `/proc/thread-self/stat`, in seconds, where
/// the platform has it.
fn thread_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // fields after the parenthesized command name; utime and stime are the 14th and 15th
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

fn main() {
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let n_rules = env("BENCH_RULES", 10_000);
    let total_mb = env("BENCH_MB", 200);
    let naive_mb = env("BENCH_NAIVE_MB", 4).min(total_mb);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    let chat = include_str!("../tests/data/ham-samples.txt");
    let chat_words: Vec<String> = chat
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| w.chars().count() >= 4)
        .map(str::to_lowercase)
        .collect();
    // rule vocabulary: generated words, and one in ten a real chat word
    let rule_vocab: Vec<String> = (0..n_rules * 3)
        .map(|i| {
            if i % 10 == 0 {
                chat_words[rng.below(chat_words.len())].clone()
            } else {
                word(&mut rng)
            }
        })
        .collect();

    let mut toml = String::new();
    let mut naive_patterns = Vec::with_capacity(n_rules);
    for i in 0..n_rules {
        let w: Vec<&str> = (0..4)
            .map(|_| rule_vocab[rng.below(rule_vocab.len())].as_str())
            .collect();
        let expr = match i % 4 {
            0 => format!("{} NEAR/5 ({} | {}*)", w[0], w[1], w[2]),
            1 => format!("\"{} {}\" AND ({} | {})", w[0], w[1], w[2], w[3]),
            2 => format!("{}* AND {} NOT {}", w[0], w[1], w[2]),
            _ => format!("({} | {} | {}) NEAR/3 {}*", w[0], w[1], w[2], w[3]),
        };
        toml.push_str(&format!(
            "[[rule]]\nid = \"gen.{i}\"\nversion = 1\ncategory = \"c{}\"\nexpr = '{expr}'\n\n",
            i % 7
        ));
        naive_patterns.push(format!("{}|{}|{}|{}", w[0], w[1], w[2], w[3]));
    }
    let t = Instant::now();
    let rules = RuleSet::from_sources(&[("gen.toml".into(), toml)], &[], None)
        .expect("generated rules compile");
    let compile_secs = t.elapsed().as_secs_f64();

    // ~20 KB documents of chat lines; one line in twenty gets a rule word
    let lines: Vec<&str> = chat.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut docs: Vec<String> = Vec::new();
    let mut bytes = 0usize;
    let mut li = 0usize;
    while bytes < total_mb * 1_000_000 {
        let mut d = String::with_capacity(21_000);
        while d.len() < 20_000 {
            d.push_str(lines[li % lines.len()]);
            li += 1;
            if rng.below(20) == 0 {
                d.push(' ');
                d.push_str(&rule_vocab[rng.below(rule_vocab.len())]);
            }
            d.push('\n');
        }
        bytes += d.len();
        docs.push(d);
    }

    let t = Instant::now();
    let cpu = thread_cpu_secs();
    let mut hits = 0usize;
    // a digest of every hit's rule and spans: an optimization must not move evidence
    let mut digest = std::hash::DefaultHasher::new();
    for (i, d) in docs.iter().enumerate() {
        let found = rules.scan(&Doc {
            id: "b",
            text: d,
            ..Doc::default()
        });
        hits += found.len();
        for h in &found {
            (
                i,
                &h.rule,
                h.spans.iter().map(|s| (s.start, s.end)).collect::<Vec<_>>(),
            )
                .hash(&mut digest);
        }
    }
    let compiled_secs = t.elapsed().as_secs_f64();
    let compiled_cpu = thread_cpu_secs().zip(cpu).map(|(b, a)| b - a);
    let compiled_mbps = bytes as f64 / 1e6 / compiled_secs;

    let t = Instant::now();
    let norm_bytes: usize = docs
        .iter()
        .map(|d| classifier::normalize::normalize(d).text.len())
        .sum();
    let norm_mbps = bytes as f64 / 1e6 / t.elapsed().as_secs_f64();

    let t = Instant::now();
    let naive: Vec<Regex> = naive_patterns
        .iter()
        .map(|p| Regex::new(p).expect("naive pattern"))
        .collect();
    let naive_compile_secs = t.elapsed().as_secs_f64();
    let mut naive_bytes = 0usize;
    let mut naive_hits = 0usize;
    let t = Instant::now();
    for d in &docs {
        if naive_bytes >= naive_mb * 1_000_000 {
            break;
        }
        let lower = d.to_lowercase();
        naive_hits += naive.iter().filter(|re| re.is_match(&lower)).count();
        naive_bytes += d.len();
    }
    let naive_secs = t.elapsed().as_secs_f64();
    let naive_mbps = naive_bytes as f64 / 1e6 / naive_secs;

    println!("| matcher | rules | input MB | compile s | scan s | MB/s per core | rule hits |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| compiled (literal index + RegexSet presearch, exact evaluation) | {n_rules} | {:.1} | {compile_secs:.2} | {compiled_secs:.2} | **{compiled_mbps:.1}** | {hits} |",
        bytes as f64 / 1e6
    );
    println!(
        "| naive (one regex per rule, literal alternation, lowercased text) | {n_rules} | {:.1} | {naive_compile_secs:.2} | {naive_secs:.2} | {naive_mbps:.2} | {naive_hits} |",
        naive_bytes as f64 / 1e6
    );
    println!(
        "| (normalization alone, included above) | - | {:.1} | - | - | {norm_mbps:.1} | {norm_bytes} bytes out |",
        bytes as f64 / 1e6
    );
    println!(
        "\nspeed-up: {:.0}× ({} documents of ~20 KB, one thread)",
        compiled_mbps / naive_mbps,
        docs.len()
    );
    println!("hits digest (rule and spans): {:016x}", digest.finish());
    if let Some(c) = compiled_cpu {
        // wall time includes waiting for a core on a busy machine; CPU time does not
        println!(
            "compiled scan CPU time {c:.2} s: {:.1} MB/s per CPU second",
            bytes as f64 / 1e6 / c
        );
    }
}
