//! Explanations: how a hit is scored, how its evidence is shown, what a rule is (for the UI),
//! and which rule examples fail (for `rules test`).

use std::fmt;

use model::Severity;

/// Score of a hit in `0..=1`: the severity sets the base, each further distinct matched term
/// closes a fifth of the remaining gap to 1. A high-severity rule matching four distinct terms
/// scores ≈ 0.90; a low one matching a single term 0.40.
pub(crate) fn score(severity: Severity, distinct_terms: usize) -> f32 {
    let base: f32 = match severity {
        Severity::Low => 0.4,
        Severity::Medium => 0.6,
        Severity::High => 0.8,
    };
    let extra = distinct_terms.saturating_sub(1).min(20) as i32;
    let s = 1.0 - (1.0 - base) * 0.8f32.powi(extra);
    (s * 1000.0).round() / 1000.0
}

/// At most this many fragments are joined into [`model::Hit::matched`].
const MAX_FRAGMENTS: usize = 8;

/// Joins distinct fragments with ` … `, in order of appearance.
pub(crate) fn matched_text<'a>(fragments: impl IntoIterator<Item = &'a str>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for f in fragments {
        if !f.is_empty() && !seen.contains(&f) && seen.len() < MAX_FRAGMENTS {
            seen.push(f);
        }
    }
    seen.join(" … ")
}

/// What went wrong with a rule's example.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExampleFailureKind {
    /// An `examples.match` text was not flagged.
    ShouldMatch,
    /// An `examples.no_match` text was flagged.
    ShouldNotMatch,
    /// The rule has no `examples.match` at all.
    Missing,
}

/// A failing example of a rule (see [`crate::RuleSet::test_examples`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    /// Rule id.
    pub rule: String,
    /// File and line of the rule (`casino.toml:12`).
    pub location: String,
    /// What failed.
    pub kind: ExampleFailureKind,
    /// The example text (empty for [`ExampleFailureKind::Missing`]).
    pub example: String,
}

impl fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ExampleFailureKind::ShouldMatch => "example should match but does not",
            ExampleFailureKind::ShouldNotMatch => "example should not match but does",
            ExampleFailureKind::Missing => "rule has no examples.match",
        };
        write!(f, "{}: rule `{}`: {what}", self.location, self.rule)?;
        if !self.example.is_empty() {
            write!(f, ": {:?}", self.example)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_grows_with_terms_and_severity() {
        assert_eq!(score(Severity::Low, 1), 0.4);
        assert_eq!(score(Severity::High, 1), 0.8);
        assert!(score(Severity::High, 4) > score(Severity::High, 2));
        assert!(score(Severity::Medium, 3) > score(Severity::Low, 3));
        assert!(score(Severity::High, 1000) <= 1.0);
        assert_eq!(score(Severity::Medium, 0), 0.6);
    }

    #[test]
    fn matched_text_dedups_and_caps() {
        assert_eq!(
            matched_text(["казино", "бонус", "казино", ""]),
            "казино … бонус"
        );
        let many: Vec<String> = (0..20).map(|i| i.to_string()).collect();
        assert_eq!(
            matched_text(many.iter().map(String::as_str))
                .matches(" … ")
                .count(),
            MAX_FRAGMENTS - 1
        );
    }

    #[test]
    fn failure_display() {
        let f = ExampleFailure {
            rule: "a".into(),
            location: "x.toml:3".into(),
            kind: ExampleFailureKind::ShouldMatch,
            example: "текст".into(),
        };
        assert_eq!(
            f.to_string(),
            "x.toml:3: rule `a`: example should match but does not: \"текст\""
        );
    }
}
