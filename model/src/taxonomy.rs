//! The legal taxonomy: categories, the norms they violate and their default routes.
//!
//! It is data (`rules/taxonomy.toml`), not code, so that lawyers can correct a norm without a
//! release. Both the classifier (to validate rule categories) and the reporter (case labels,
//! Form 2) read it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Route, Severity};

/// A text in the three UI languages. Kazakh is the first language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    /// Kazakh.
    #[serde(default)]
    pub kk: String,
    /// Russian.
    #[serde(default)]
    pub ru: String,
    /// English.
    #[serde(default)]
    pub en: String,
}

impl Localized {
    /// The text in `lang` (`kk`, `ru`, `en`), falling back to Russian, then Kazakh, then English.
    pub fn get(&self, lang: &str) -> &str {
        let pick = match lang {
            "kk" => &self.kk,
            "en" => &self.en,
            _ => &self.ru,
        };
        [pick, &self.ru, &self.kk, &self.en]
            .into_iter()
            .find(|s| !s.is_empty())
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// One category of unlawful content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Stable id rules refer to, e.g. `financial_pyramid`.
    pub id: String,
    /// Display name (also the "violation type" of Form 2).
    pub title: Localized,
    /// Norm of the legislative act of RK, as written in Form 2.
    pub norm: Localized,
    /// Route proposed to the analyst when confirming.
    pub route: Route,
    /// What the category covers.
    #[serde(default)]
    pub description: Localized,
}

/// All categories, keyed by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Taxonomy {
    /// Categories by id.
    pub categories: BTreeMap<String, Category>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxonomyFile {
    category: Vec<Category>,
}

/// Error parsing the taxonomy file.
#[derive(Debug, thiserror::Error)]
pub enum TaxonomyError {
    /// Not valid TOML or not the expected shape.
    #[error("taxonomy: {0}")]
    Parse(String),
    /// Two categories with one id.
    #[error("taxonomy: duplicate category id {0:?}")]
    Duplicate(String),
}

impl Taxonomy {
    /// Parses `taxonomy.toml` (a list of `[[category]]` tables).
    pub fn from_toml(src: &str) -> Result<Taxonomy, TaxonomyError> {
        let file: TaxonomyFile =
            toml::from_str(src).map_err(|e| TaxonomyError::Parse(e.to_string()))?;
        let mut categories = BTreeMap::new();
        for c in file.category {
            if categories.contains_key(&c.id) {
                return Err(TaxonomyError::Duplicate(c.id));
            }
            categories.insert(c.id.clone(), c);
        }
        Ok(Taxonomy { categories })
    }

    /// Category by id.
    pub fn get(&self, id: &str) -> Option<&Category> {
        self.categories.get(id)
    }
}

/// What the reporter and UI need to know about a rule to explain a hit — without depending on
/// the classifier crate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInfo {
    /// Rule id.
    pub id: String,
    /// Current version.
    pub version: u32,
    /// Category id.
    pub category: String,
    /// Severity.
    pub severity: Severity,
    /// Title in three languages.
    pub title: Localized,
    /// The rule expression as written by its author.
    pub expr: String,
    /// File the rule was loaded from (relative to the rules directory).
    pub file: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_categories_and_rejects_duplicates() {
        let src = r#"
[[category]]
id = "illegal_gambling"
title = { kk = "Заңсыз ойын бизнесі", ru = "Незаконный игорный бизнес", en = "Illegal gambling" }
norm = { kk = "ҚР ҚК 307-бабы", ru = "ст. 307 УК РК" }
route = "blocking"
"#;
        let t = Taxonomy::from_toml(src).unwrap();
        let c = t.get("illegal_gambling").unwrap();
        assert_eq!(c.route, Route::Blocking);
        assert_eq!(c.norm.get("en"), "ст. 307 УК РК");
        let dup = format!("{src}\n{}", &src[1..]);
        assert!(matches!(
            Taxonomy::from_toml(&dup),
            Err(TaxonomyError::Duplicate(_))
        ));
    }
}
