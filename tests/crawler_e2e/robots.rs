//! Every case of `tests/data/robots/cases.json` (a copy of the shared robots.txt conformance suite,
//! Apache-2.0 Google-derived cases + RFC 9309 cases; see its README) through `baqylau robots-check`: all
//! standard (RFC 9309) cases must pass; the Google-specific pass rate is printed.

use std::path::PathBuf;
use std::sync::Mutex;

use serde::Deserialize;

use crate::util::{Dir, baqylau, run};

#[derive(Deserialize)]
struct Suite {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    google_specific: bool,
    robots: String,
    #[serde(default)]
    robots_encoding: Option<String>,
    user_agent: String,
    url: String,
    allowed: bool,
}

/// RFC 4648 base64 (standard alphabet), for the three bodies that are not UTF-8.
fn base64(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("bad base64 digit {c}"),
    };
    let digits: Vec<u8> = s.bytes().filter(|c| *c != b'=').map(val).collect();
    let mut out = Vec::new();
    for chunk in digits.chunks(4) {
        let n =
            chunk.iter().fold(0u32, |acc, d| (acc << 6) | u32::from(*d)) << (6 * (4 - chunk.len()));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

#[test]
fn robots_check_passes_every_standard_case_of_the_suite() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/robots/cases.json");
    let text = std::fs::read_to_string(&path).expect("shared robots cases.json");
    let suite: Suite = serde_json::from_str(&text).expect("cases.json format");
    assert_eq!(suite.cases.len(), 544, "the suite changed size");
    let dir = Dir::new("robots-suite");
    // (id, google_specific, expected, exit code)
    let results = Mutex::new(Vec::with_capacity(suite.cases.len()));
    let chunks: Vec<&[Case]> = suite.cases.chunks(suite.cases.len().div_ceil(4)).collect();
    std::thread::scope(|s| {
        for chunk in chunks {
            let (dir, results) = (&dir, &results);
            s.spawn(move || {
                for c in chunk {
                    let body = match c.robots_encoding.as_deref() {
                        Some("base64") => base64(&c.robots),
                        _ => c.robots.clone().into_bytes(),
                    };
                    let file = dir.path().join(format!("{}.txt", c.id));
                    std::fs::write(&file, body).expect("write robots file");
                    let out = run(baqylau()
                        .arg("robots-check")
                        .arg(&file)
                        .arg(&c.url)
                        .arg(&c.user_agent));
                    let code = out.status.code();
                    results.lock().unwrap().push((c, code));
                }
            });
        }
    });
    let results = results.into_inner().unwrap();
    let (mut std_total, mut g_total, mut g_pass) = (0, 0, 0);
    let mut failures = Vec::new();
    for (c, code) in &results {
        let want = if c.allowed { Some(0) } else { Some(1) };
        let pass = *code == want;
        if c.google_specific {
            g_total += 1;
            g_pass += usize::from(pass);
        } else {
            std_total += 1;
            if !pass {
                failures.push(format!(
                    "{} url={:?} ua={:?} want={want:?} got={code:?}",
                    c.id, c.url, c.user_agent
                ));
            }
        }
    }
    println!(
        "robots-check: standard {}/{std_total}, google-specific {g_pass}/{g_total} ({:.0}%)",
        std_total - failures.len(),
        100.0 * g_pass as f64 / g_total as f64
    );
    assert_eq!(std_total, 468);
    assert!(
        failures.is_empty(),
        "{} standard cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
