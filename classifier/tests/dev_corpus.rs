//! The default rules against the labelled development corpus (`tests/data/dev-corpus.jsonl`):
//! the quality targets of the detection issue must hold. `baqylau eval` prints the same figures.

use std::path::Path;

use classifier::RuleSet;
use classifier::eval::{Targets, evaluate, parse_corpus};

#[test]
fn default_rules_meet_quality_targets_on_dev_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let rules = RuleSet::load_dir(&root.join("rules")).expect("default rules load");
    let src = std::fs::read_to_string(root.join("tests/data/dev-corpus.jsonl")).unwrap();
    let items = parse_corpus(&src).unwrap();
    assert!(items.len() >= 300, "corpus has {} items", items.len());
    let report = evaluate(&rules, &items);
    for m in &report.mistakes {
        eprintln!(
            "{} labels={:?} predicted={:?} rules={:?}\n    {}",
            m.id, m.labels, m.predicted, m.rules, m.text
        );
    }
    for (c, s) in &report.categories {
        eprintln!(
            "{c:<26} P={:.3} R={:.3} F1={:.3}",
            s.precision, s.recall, s.f1
        );
    }
    eprintln!(
        "macro-F1={:.3} hardFPR={:.3} obf={:.3} langs={:?}",
        report.macro_f1,
        report.hard_negative_fpr.rate,
        report.obfuscated_recall.rate,
        report
            .recall_by_lang
            .iter()
            .map(|(l, r)| (l.as_str(), r.rate))
            .collect::<Vec<_>>()
    );
    let missed = report.missed_targets(&Targets::default());
    assert!(missed.is_empty(), "missed: {missed:?}");
}

/// The held-out rounds (`tests/data/holdout*.jsonl`) were each written before the rules were
/// run on them and measured once (the figures are in `tests/data/README.md`); the rules were
/// then broadened on their phrasing classes, so they now guard against regressions like the
/// development corpus does.
#[test]
fn default_rules_meet_quality_targets_on_held_out_rounds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let rules = RuleSet::load_dir(&root.join("rules")).expect("default rules load");
    for name in [
        "holdout.jsonl",
        "holdout-2.jsonl",
        "holdout-3.jsonl",
        "holdout-4.jsonl",
    ] {
        let src = std::fs::read_to_string(root.join("tests/data").join(name)).unwrap();
        let items = parse_corpus(&src).unwrap();
        assert!(items.len() >= 50, "{name} has {} items", items.len());
        let report = evaluate(&rules, &items);
        for m in &report.mistakes {
            eprintln!(
                "{name}: {} labels={:?} predicted={:?} rules={:?}\n    {}",
                m.id, m.labels, m.predicted, m.rules, m.text
            );
        }
        let missed = report.missed_targets(&Targets::default());
        assert!(missed.is_empty(), "{name} missed: {missed:?}");
    }
}
