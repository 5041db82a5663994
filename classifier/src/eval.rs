//! Evaluation of a rule set against a labelled corpus (`baqylau eval`).
//!
//! A rule author changes a rule and needs one honest number before it goes live: did the change
//! find more of what it should, and flag more of what it should not? The corpus is JSONL, one
//! [`LabelledItem`] per line, hand-labelled with the categories the text belongs to (none for a
//! benign text). Benign texts that use the vocabulary of a category — news about arrests, AFM
//! warnings, licensed banks — are marked `hard_negative`: they are where rules go wrong.
//!
//! Metrics are item-level and multi-label: for each category, an item is a true positive when
//! the category is both labelled and predicted. Obfuscated-item recall and per-language recall
//! count (item, label) pairs, so a two-label item counts twice.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Doc, RuleSet};

/// One corpus line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelledItem {
    /// Stable item id (shown in error listings).
    pub id: String,
    /// The text, as published.
    pub text: String,
    /// Language as labelled: `kk`, `ru`, `en` or `mixed`.
    #[serde(default)]
    pub lang: String,
    /// Categories the text belongs to; empty for a benign text.
    #[serde(default)]
    pub labels: Vec<String>,
    /// A benign text that talks about the same things as an offending one.
    #[serde(default)]
    pub hard_negative: bool,
    /// The text dodges filters: look-alikes, spacing, zero-width, emoji, Kazakh in Latin.
    #[serde(default)]
    pub obfuscated: bool,
}

/// Quality targets of the detection issue; [`Report::missed_targets`] checks them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    /// Minimum macro-F1 over categories.
    pub macro_f1: f64,
    /// Maximum false-positive rate on hard negatives.
    pub hard_negative_fpr: f64,
    /// Minimum recall on obfuscated items.
    pub obfuscated_recall: f64,
    /// Maximum gap, in recall points (0..1), by which Kazakh may trail Russian.
    pub kk_ru_recall_gap: f64,
}

impl Default for Targets {
    fn default() -> Self {
        Targets {
            macro_f1: 0.90,
            hard_negative_fpr: 0.05,
            obfuscated_recall: 0.90,
            kk_ru_recall_gap: 0.05,
        }
    }
}

/// Counts and scores of one category.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CategoryScore {
    /// Labelled and predicted.
    pub tp: usize,
    /// Predicted, not labelled.
    pub fp: usize,
    /// Labelled, not predicted.
    pub fn_: usize,
    /// tp / (tp + fp); 1 when nothing was predicted.
    pub precision: f64,
    /// tp / (tp + fn); 1 when nothing is labelled.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

/// A recall figure with its counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    /// Numerator.
    pub hits: usize,
    /// Denominator.
    pub total: usize,
    /// hits / total (0 when total is 0).
    pub rate: f64,
}

impl Rate {
    fn new(hits: usize, total: usize) -> Rate {
        Rate {
            hits,
            total,
            rate: if total == 0 {
                0.0
            } else {
                hits as f64 / total as f64
            },
        }
    }
}

/// An item the rules got wrong.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mistake {
    /// Item id.
    pub id: String,
    /// Labelled categories.
    pub labels: Vec<String>,
    /// Predicted categories.
    pub predicted: Vec<String>,
    /// Rules that fired.
    pub rules: Vec<String>,
    /// The item text.
    pub text: String,
}

/// The evaluation of a rule set on a corpus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Number of items.
    pub items: usize,
    /// Per category (labelled or predicted anywhere in the corpus).
    pub categories: BTreeMap<String, CategoryScore>,
    /// Mean F1 over the categories that are labelled in the corpus.
    pub macro_f1: f64,
    /// Hard negatives with any predicted category.
    pub hard_negative_fpr: Rate,
    /// All benign items with any predicted category.
    pub benign_fpr: Rate,
    /// Labels of obfuscated items found.
    pub obfuscated_recall: Rate,
    /// Labels found, per labelled language.
    pub recall_by_lang: BTreeMap<String, Rate>,
    /// Items with a missed or a spurious category.
    pub mistakes: Vec<Mistake>,
}

impl Report {
    /// Quality targets this report misses, as human-readable lines (empty: all met).
    pub fn missed_targets(&self, t: &Targets) -> Vec<String> {
        let mut out = Vec::new();
        if self.macro_f1 < t.macro_f1 {
            out.push(format!("macro-F1 {:.3} < {:.2}", self.macro_f1, t.macro_f1));
        }
        if self.hard_negative_fpr.rate > t.hard_negative_fpr {
            out.push(format!(
                "hard-negative FPR {:.3} > {:.2}",
                self.hard_negative_fpr.rate, t.hard_negative_fpr
            ));
        }
        if self.obfuscated_recall.rate < t.obfuscated_recall {
            out.push(format!(
                "obfuscated recall {:.3} < {:.2}",
                self.obfuscated_recall.rate, t.obfuscated_recall
            ));
        }
        let rate = |l: &str| self.recall_by_lang.get(l).map(|r| r.rate);
        if let (Some(kk), Some(ru)) = (rate("kk"), rate("ru"))
            && ru - kk > t.kk_ru_recall_gap
        {
            out.push(format!(
                "Kazakh recall {kk:.3} trails Russian {ru:.3} by more than {:.0} points",
                t.kk_ru_recall_gap * 100.0
            ));
        }
        out
    }
}

/// A corpus line that is not a [`LabelledItem`].
#[derive(Debug, thiserror::Error)]
#[error("line {line}: not a corpus item: {source}")]
pub struct CorpusError {
    /// 1-based line number.
    pub line: usize,
    /// The JSON error.
    #[source]
    pub source: serde_json::Error,
}

/// Parses a JSONL corpus (blank lines allowed). A malformed line is an error, not skipped: a
/// corpus is curated data, and a silently dropped item would skew every figure.
pub fn parse_corpus(src: &str) -> Result<Vec<LabelledItem>, CorpusError> {
    src.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).map_err(|source| CorpusError {
                line: n + 1,
                source,
            })
        })
        .collect()
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        1.0
    } else {
        num as f64 / den as f64
    }
}

/// Runs `rules` over every item and scores the predictions against the labels.
///
/// The language the rules see is the one [`crate::lang::detect`] finds — what the pipeline
/// would see — not the label, so a misdetected Kazakh text costs recall here as it would live.
pub fn evaluate(rules: &RuleSet, items: &[LabelledItem]) -> Report {
    let mut categories: BTreeMap<String, CategoryScore> = BTreeMap::new();
    let mut hard = (0, 0);
    let mut benign = (0, 0);
    let mut obf = (0, 0);
    let mut by_lang: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut mistakes = Vec::new();
    for item in items {
        let lang = crate::lang::detect(&item.text);
        let hits = rules.scan(&Doc {
            id: &item.id,
            text: &item.text,
            lang: Some(lang.code()),
            ..Doc::default()
        });
        let mut predicted: Vec<String> = hits.iter().map(|h| h.category.clone()).collect();
        predicted.sort();
        predicted.dedup();
        for l in &item.labels {
            let found = predicted.contains(l);
            let c = categories.entry(l.clone()).or_default();
            if found {
                c.tp += 1;
            } else {
                c.fn_ += 1;
            }
            let lang_count = by_lang.entry(item.lang.clone()).or_default();
            lang_count.1 += 1;
            if found {
                lang_count.0 += 1;
            }
            if item.obfuscated {
                obf.1 += 1;
                if found {
                    obf.0 += 1;
                }
            }
        }
        for p in &predicted {
            if !item.labels.contains(p) {
                categories.entry(p.clone()).or_default().fp += 1;
            }
        }
        if item.labels.is_empty() {
            benign.1 += 1;
            benign.0 += usize::from(!predicted.is_empty());
            if item.hard_negative {
                hard.1 += 1;
                hard.0 += usize::from(!predicted.is_empty());
            }
        }
        let mut labels = item.labels.clone();
        labels.sort();
        if labels != predicted {
            let mut rules: Vec<String> = hits.into_iter().map(|h| h.rule).collect();
            rules.dedup();
            mistakes.push(Mistake {
                id: item.id.clone(),
                labels,
                predicted,
                rules,
                text: item.text.clone(),
            });
        }
    }
    for c in categories.values_mut() {
        c.precision = ratio(c.tp, c.tp + c.fp);
        c.recall = ratio(c.tp, c.tp + c.fn_);
        c.f1 = if c.precision + c.recall == 0.0 {
            0.0
        } else {
            2.0 * c.precision * c.recall / (c.precision + c.recall)
        };
    }
    let labelled: Vec<f64> = categories
        .values()
        .filter(|c| c.tp + c.fn_ > 0)
        .map(|c| c.f1)
        .collect();
    let macro_f1 = if labelled.is_empty() {
        0.0
    } else {
        labelled.iter().sum::<f64>() / labelled.len() as f64
    };
    Report {
        items: items.len(),
        categories,
        macro_f1,
        hard_negative_fpr: Rate::new(hard.0, hard.1),
        benign_fpr: Rate::new(benign.0, benign.1),
        obfuscated_recall: Rate::new(obf.0, obf.1),
        recall_by_lang: by_lang
            .into_iter()
            .map(|(l, (h, t))| (l, Rate::new(h, t)))
            .collect(),
        mistakes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, text: &str, lang: &str, labels: &[&str], hard: bool) -> LabelledItem {
        LabelledItem {
            id: id.into(),
            text: text.into(),
            lang: lang.into(),
            labels: labels.iter().map(|s| s.to_string()).collect(),
            hard_negative: hard,
            obfuscated: false,
        }
    }

    #[test]
    fn scores_count_items_per_category() {
        let src = "[[rule]]\nid = \"g\"\nversion = 1\ncategory = \"illegal_gambling\"\nexpr = 'казино NOT задержан*'\n";
        let rules = RuleSet::from_sources(&[("g.toml".into(), src.into())], &[], None).unwrap();
        let mut obf = item("o", "к а з и н о тут", "ru", &["illegal_gambling"], false);
        obf.obfuscated = true;
        let items = vec![
            item("1", "лучшее казино", "ru", &["illegal_gambling"], false),
            item("2", "слоты онлайн", "ru", &["illegal_gambling"], false),
            item("3", "казино дерегі", "kk", &[], true),
            item("4", "задержан владелец казино", "ru", &[], true),
            obf,
        ];
        let r = evaluate(&rules, &items);
        let g = &r.categories["illegal_gambling"];
        assert_eq!((g.tp, g.fp, g.fn_), (2, 1, 1));
        assert!((g.precision - 2.0 / 3.0).abs() < 1e-9);
        assert!((g.recall - 2.0 / 3.0).abs() < 1e-9);
        assert!((r.macro_f1 - g.f1).abs() < 1e-9);
        assert_eq!(
            (r.hard_negative_fpr.hits, r.hard_negative_fpr.total),
            (1, 2)
        );
        assert_eq!(
            (r.obfuscated_recall.hits, r.obfuscated_recall.total),
            (1, 1)
        );
        assert_eq!(r.recall_by_lang["ru"].total, 3);
        assert_eq!(
            r.mistakes.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            vec!["2", "3"]
        );
        let missed = r.missed_targets(&Targets::default());
        assert!(
            missed.iter().any(|m| m.starts_with("macro-F1")),
            "{missed:?}"
        );
        assert!(missed.iter().any(|m| m.starts_with("hard-negative")));
    }

    #[test]
    fn corpus_lines_parse_with_defaults() {
        let items = parse_corpus("{\"id\":\"x\",\"text\":\"t\"}\n\n").unwrap();
        assert!(items[0].labels.is_empty() && !items[0].hard_negative && !items[0].obfuscated);
        let err = parse_corpus("{\"id\":\"x\",\"text\":\"t\"}\n{oops").unwrap_err();
        assert_eq!(err.line, 2);
    }
}
