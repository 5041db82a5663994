//! The shipped rule directory (`rules/`): it loads against its taxonomy, every rule carries at
//! least two positive and two negative examples and they all pass, and the rules stay quiet on
//! ordinary chat (tg-spam ham samples, ≤ 1% flagged).

use std::path::PathBuf;

use classifier::{Doc, RuleSet};

fn rules_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../rules")
}

fn load() -> RuleSet {
    RuleSet::load_dir(&rules_dir()).unwrap_or_else(|e| panic!("default rules do not load:\n{e}"))
}

#[test]
fn default_rules_load_with_all_seven_categories() {
    let rules = load();
    let tax = rules.taxonomy().expect("rules/taxonomy.toml is present");
    assert_eq!(tax.categories.len(), 7);
    let infos = rules.rules();
    for id in tax.categories.keys() {
        assert!(
            infos.iter().any(|r| &r.category == id),
            "no rule for category {id}"
        );
    }
}

#[test]
fn every_example_passes() {
    let failures = load().test_examples();
    let report: Vec<String> = failures.iter().map(ToString::to_string).collect();
    assert!(
        failures.is_empty(),
        "{} failing examples:\n{}",
        failures.len(),
        report.join("\n")
    );
}

#[test]
fn every_rule_has_two_examples_each_way() {
    let dir = rules_dir();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("rules dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if !name.ends_with(".toml") || name == classifier::TAXONOMY_FILE {
            continue;
        }
        let src = std::fs::read_to_string(&path).expect("readable");
        let v: toml::Value = toml::from_str(&src).expect("valid toml");
        for rule in v["rule"].as_array().expect("[[rule]] tables") {
            let id = rule["id"].as_str().unwrap_or("?");
            let ex = &rule["examples"];
            let count = |k: &str| ex.get(k).and_then(|a| a.as_array()).map_or(0, Vec::len);
            assert!(
                count("match") >= 2,
                "{name}: rule {id} has fewer than 2 examples.match"
            );
            assert!(
                count("no_match") >= 2,
                "{name}: rule {id} has fewer than 2 examples.no_match"
            );
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} rules checked");
}

#[test]
fn ham_false_positive_rate_at_most_one_percent() {
    let rules = load();
    let ham = include_str!("data/ham-samples.txt");
    let lines: Vec<&str> = ham.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(
        lines.len() >= 400,
        "ham sample truncated: {} lines",
        lines.len()
    );
    let flagged: Vec<String> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let hits = rules.scan(&Doc {
                id: "ham",
                text: l,
                ..Doc::default()
            });
            (!hits.is_empty())
                .then(|| format!("line {}: {} — {}", i + 1, hits[0].rule, hits[0].matched))
        })
        .collect();
    let rate = flagged.len() as f64 / lines.len() as f64;
    assert!(
        rate <= 0.01,
        "ham FP rate {:.2}% ({} of {}):\n{}",
        rate * 100.0,
        flagged.len(),
        lines.len(),
        flagged.join("\n")
    );
}

#[test]
fn malformed_rule_file_reports_file_line_col() {
    let dir = std::env::temp_dir().join(format!("classifier-bad-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("casino.toml"),
        "[[rule]]\nid = \"g\"\nversion = 1\ncategory = \"illegal_gambling\"\nexpr = '''\n  казино NEAR/3\n    бонус*)\n'''\n",
    )
    .expect("write");
    let err = RuleSet::load_dir(&dir)
        .expect_err("malformed rule must be rejected")
        .to_string();
    std::fs::remove_dir_all(&dir).ok();
    let want = format!(
        "{}:7:11: rule `g`: unexpected `)`",
        dir.join("casino.toml").display()
    );
    assert!(err.starts_with(&want), "want {want:?}\ngot  {err:?}");
    assert!(err.contains("hint:"), "{err}");
}

#[test]
fn rule_set_is_send_and_sync() {
    fn check<T: Send + Sync>(_: &T) {}
    check(&load());
}
