//! Prints the hits of a rule directory on text files or lines — a tool for rule authors.
//!
//! ```text
//! cargo run -p classifier --example scan -- RULES_DIR FILE...        # one document per file
//! cargo run -p classifier --example scan -- RULES_DIR --lines FILE   # one document per line
//! ```

use std::path::Path;
use std::process::ExitCode;

use classifier::{Doc, RuleSet};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((dir, rest)) = args.split_first() else {
        eprintln!("usage: scan RULES_DIR [--lines] FILE...");
        return ExitCode::from(2);
    };
    let rules = match RuleSet::load_dir(Path::new(dir)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let (by_line, files) = match rest.split_first() {
        Some((flag, files)) if flag == "--lines" => (true, files),
        _ => (false, rest),
    };
    let mut flagged = 0usize;
    let mut total = 0usize;
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{file}: {e}");
                return ExitCode::from(2);
            }
        };
        let docs: Vec<(String, &str)> = if by_line {
            text.lines()
                .enumerate()
                .map(|(i, l)| (format!("{file}:{}", i + 1), l))
                .collect()
        } else {
            vec![(file.clone(), text.as_str())]
        };
        for (id, body) in docs {
            total += 1;
            let hits = rules.scan(&Doc {
                id: &id,
                text: body,
                ..Doc::default()
            });
            if hits.is_empty() {
                continue;
            }
            flagged += 1;
            for h in hits {
                println!(
                    "{id}\t{}\t{}\t{:.2}\t{}",
                    h.rule, h.category, h.score, h.matched
                );
            }
        }
    }
    println!("flagged {flagged} of {total}");
    ExitCode::SUCCESS
}
