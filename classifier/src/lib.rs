//! The classifier stage: text rules over normalized Russian and Kazakh text.
//!
//! Captures arrive from the crawler; the classifier runs every rule of a [`RuleSet`] over the
//! capture's title, text and URL and emits [`model::Hit`]s — rule id and version, category,
//! severity, score, and byte spans into the *original* text, so the reporter can highlight the
//! evidence exactly as published.
//!
//! - [`RuleSet`] — compiled rules (`rules/*.toml`, lists, taxonomy); `scan` is the hot path.
//! - [`Doc`] — what is scanned.
//! - [`LoadError`] — why rules were rejected, at `file:line:col`.
//! - [`ExampleFailure`] — a rule example that does not behave (`baqylau rules test`).
//! - [`lang::detect`] — kk / ru / en / mixed language detection that knows Kazakh.
//! - [`backtest::Backtest`] — a candidate vs the live rule set over past captures.
//! - [`eval::evaluate`] — precision, recall and F1 of a rule set on a labelled corpus.
//!
//! Internals: text is normalized (NFKC, lowercase, look-alike folding, zero-width removal,
//! letter-spacing joins) with an offset map back to the original; all rule literals go into one
//! hashed literal index looked up per token and all regexes into one `RegexSet`; only rules
//! whose literals occur are evaluated exactly (boolean logic, `NEAR/n`, indicators with
//! checksums).
//!
//! Matcher internals (normalization passes, the literal index, candidates, evaluation)
//! are described in `classifier/DESIGN.md`.
//!
//! Expression precedence, tightest first: `NOT`, `field:`, `NEAR/n`, `AND` (or juxtaposition),
//! `OR` / `|`.
//!
//! ```
//! use classifier::{Doc, RuleSet};
//! let rule = r#"
//! [[rule]]
//! id = "lending.no_checks"
//! version = 1
//! category = "illegal_lending"
//! expr = '("займ*" | "несие*") NEAR/3 ("без проверок" | тексерусіз)'
//! "#;
//! let rules = RuleSet::from_sources(&[("lending.toml".into(), rule.into())], &[], None).unwrap();
//! let text = "Жедел несие тексерусіз, бүгін!";
//! let hits = rules.scan(&Doc { id: "1", text, ..Doc::default() });
//! let s = &hits[0].spans[0];
//! assert_eq!(&text[s.start..s.end], "несие");
//! assert_eq!(hits[0].matched, "несие … тексерусіз");
//! ```
#![warn(missing_docs)]

pub mod backtest;
mod error;
pub mod eval;
mod explain;
mod indicators;
pub mod lang;
mod literals;
mod matcher;
pub mod normalize;
mod rules;
mod ruleset;
mod translit;

pub use error::LoadError;
pub use explain::{ExampleFailure, ExampleFailureKind};
pub use ruleset::{Doc, RuleSet, TAXONOMY_FILE};

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn public_types_are_send_sync() {
        assert_send_sync::<RuleSet>();
        assert_send_sync::<LoadError>();
        assert_send_sync::<ExampleFailure>();
        assert_send_sync::<Doc<'static>>();
    }
}
