//! Backtesting a rule set against past captures (`baqylau rules backtest`).
//!
//! Before a rule change goes live, its author wants three answers over everything already
//! crawled: how often does each rule fire, what does the change add or drop compared with the
//! live rules, and how often were this rule's hits confirmed by analysts? [`Backtest`] runs a
//! candidate and a baseline rule set over each document once and accumulates per rule:
//! documents hit, documents newly hit (the baseline rule of the same id did not fire, or did
//! not exist), documents no longer hit, and the analysts' verdicts on the hit documents — a
//! document counts as confirmed (dismissed) for a rule when it is evidence of a confirmed
//! (dismissed) case of the rule's category.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::{Doc, RuleSet};

/// An analyst's decision on a case, as far as precision is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The violation was confirmed (whatever happened to the notification afterwards).
    Confirmed,
    /// The case was dismissed as a false positive.
    Dismissed,
}

/// Verdicts per capture id: `(category, verdict)` of every decided case the capture is evidence
/// of.
pub type Verdicts = HashMap<String, Vec<(String, Verdict)>>;

/// At most this many example capture ids are kept per rule for new and lost hits.
const MAX_EXAMPLES: usize = 5;

/// Backtest figures of one rule id.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RuleBacktest {
    /// Rule id.
    pub rule: String,
    /// Category (of the candidate rule; of the baseline rule when the candidate dropped it).
    pub category: String,
    /// Version in the candidate set (`None`: the rule was removed).
    pub version: Option<u32>,
    /// Version in the baseline set (`None`: the rule is new).
    pub baseline_version: Option<u32>,
    /// Documents the candidate rule fires on.
    pub hits: u64,
    /// Documents the baseline rule fires on.
    pub baseline_hits: u64,
    /// Documents hit by the candidate and not by the baseline.
    pub new: u64,
    /// Documents hit by the baseline and not by the candidate.
    pub lost: u64,
    /// Candidate hits on evidence of confirmed cases of the category.
    pub confirmed: u64,
    /// Candidate hits on evidence of dismissed cases of the category.
    pub dismissed: u64,
    /// confirmed / (confirmed + dismissed); `None` without decided cases.
    pub precision: Option<f64>,
    /// A few capture ids of new hits.
    pub new_examples: Vec<String>,
    /// A few capture ids of lost hits.
    pub lost_examples: Vec<String>,
}

/// The result of a backtest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BacktestReport {
    /// Documents scanned.
    pub documents: u64,
    /// Documents with at least one candidate hit.
    pub flagged: u64,
    /// Documents with at least one baseline hit.
    pub baseline_flagged: u64,
    /// Per rule id, sorted by id.
    pub rules: Vec<RuleBacktest>,
}

/// Runs two rule sets over documents one by one (see the module docs).
pub struct Backtest<'a> {
    candidate: &'a RuleSet,
    baseline: &'a RuleSet,
    verdicts: &'a Verdicts,
    rows: BTreeMap<String, RuleBacktest>,
    documents: u64,
    flagged: u64,
    baseline_flagged: u64,
}

impl<'a> Backtest<'a> {
    /// A backtest of `candidate` against `baseline`, scoring precision with `verdicts`.
    pub fn new(candidate: &'a RuleSet, baseline: &'a RuleSet, verdicts: &'a Verdicts) -> Self {
        let mut rows = BTreeMap::new();
        for r in baseline.rules() {
            rows.insert(
                r.id.clone(),
                RuleBacktest {
                    rule: r.id,
                    category: r.category,
                    baseline_version: Some(r.version),
                    ..RuleBacktest::default()
                },
            );
        }
        for r in candidate.rules() {
            let row = rows.entry(r.id.clone()).or_insert_with(|| RuleBacktest {
                rule: r.id.clone(),
                ..RuleBacktest::default()
            });
            row.category = r.category;
            row.version = Some(r.version);
        }
        Backtest {
            candidate,
            baseline,
            verdicts,
            rows,
            documents: 0,
            flagged: 0,
            baseline_flagged: 0,
        }
    }

    /// Scans one document with both rule sets.
    pub fn add(&mut self, doc: &Doc) {
        let fired = |set: &RuleSet| -> BTreeSet<String> {
            set.scan(doc).into_iter().map(|h| h.rule).collect()
        };
        let now = fired(self.candidate);
        let before = fired(self.baseline);
        self.documents += 1;
        self.flagged += u64::from(!now.is_empty());
        self.baseline_flagged += u64::from(!before.is_empty());
        let verdicts = self.verdicts.get(doc.id).map(Vec::as_slice).unwrap_or(&[]);
        for id in now.union(&before) {
            let Some(row) = self.rows.get_mut(id) else {
                continue;
            };
            let (is_now, was) = (now.contains(id), before.contains(id));
            if is_now {
                row.hits += 1;
                for (category, v) in verdicts {
                    if *category == row.category {
                        match v {
                            Verdict::Confirmed => row.confirmed += 1,
                            Verdict::Dismissed => row.dismissed += 1,
                        }
                    }
                }
            }
            if was {
                row.baseline_hits += 1;
            }
            if is_now && !was {
                row.new += 1;
                if row.new_examples.len() < MAX_EXAMPLES {
                    row.new_examples.push(doc.id.to_string());
                }
            }
            if was && !is_now {
                row.lost += 1;
                if row.lost_examples.len() < MAX_EXAMPLES {
                    row.lost_examples.push(doc.id.to_string());
                }
            }
        }
    }

    /// The figures so far.
    pub fn finish(self) -> BacktestReport {
        let rules = self
            .rows
            .into_values()
            .map(|mut r| {
                let decided = r.confirmed + r.dismissed;
                r.precision = (decided > 0).then(|| r.confirmed as f64 / decided as f64);
                r
            })
            .collect();
        BacktestReport {
            documents: self.documents,
            flagged: self.flagged,
            baseline_flagged: self.baseline_flagged,
            rules,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(src: &str) -> RuleSet {
        RuleSet::from_sources(&[("t.toml".into(), src.into())], &[], None).unwrap()
    }

    #[test]
    fn new_lost_hits_and_precision_per_rule() {
        let baseline = set(
            "[[rule]]\nid = \"g\"\nversion = 1\ncategory = \"illegal_gambling\"\nexpr = 'казино'\n\
             [[rule]]\nid = \"old\"\nversion = 1\ncategory = \"illegal_gambling\"\nexpr = 'слоты'\n",
        );
        let candidate = set(
            "[[rule]]\nid = \"g\"\nversion = 2\ncategory = \"illegal_gambling\"\nexpr = 'казино | казик'\n\
             [[rule]]\nid = \"new\"\nversion = 1\ncategory = \"money_mule\"\nexpr = 'дроп*'\n",
        );
        let verdicts: Verdicts = HashMap::from([
            (
                "a".to_string(),
                vec![("illegal_gambling".to_string(), Verdict::Confirmed)],
            ),
            (
                "b".to_string(),
                vec![
                    ("illegal_gambling".to_string(), Verdict::Dismissed),
                    ("money_mule".to_string(), Verdict::Confirmed),
                ],
            ),
        ]);
        let mut bt = Backtest::new(&candidate, &baseline, &verdicts);
        for (id, text) in [
            ("a", "лучшее казино"),
            ("b", "казик и дропы"),
            ("c", "слоты онлайн"),
            ("d", "погода"),
        ] {
            bt.add(&Doc {
                id,
                text,
                ..Doc::default()
            });
        }
        let r = bt.finish();
        assert_eq!((r.documents, r.flagged, r.baseline_flagged), (4, 2, 2));
        let row = |id: &str| r.rules.iter().find(|x| x.rule == id).unwrap().clone();
        let g = row("g");
        assert_eq!((g.version, g.baseline_version), (Some(2), Some(1)));
        assert_eq!((g.hits, g.baseline_hits, g.new, g.lost), (2, 1, 1, 0));
        assert_eq!((g.confirmed, g.dismissed, g.precision), (1, 1, Some(0.5)));
        assert_eq!(g.new_examples, ["b"]);
        let old = row("old");
        assert_eq!((old.version, old.hits, old.lost), (None, 0, 1));
        assert_eq!(old.lost_examples, ["c"]);
        let new = row("new");
        assert_eq!((new.baseline_version, new.hits, new.new), (None, 1, 1));
        assert_eq!(new.precision, Some(1.0));
    }
}
