//! Rule files: the TOML format of `rules/*.toml`, term lists of `rules/lists/*.txt`, and their
//! loading into compiled rules with errors at `file:line:col`.
//!
//! ```toml
//! [[rule]]
//! id = "gambling.casino_promo"
//! version = 1
//! category = "illegal_gambling"
//! severity = "high"          # low | medium | high
//! title = { ru = "…", kk = "…", en = "…" }
//! langs = ["ru", "kk"]       # optional: skip documents detected as another language
//! expr = '''казино* NEAR/5 (промокод* | бонус*) NOT (лицензи* | задержан*)'''
//! examples.match = ["…"]
//! examples.no_match = ["…"]
//! ```
//! The expression grammar is in [`parser`]; words are normalized like the text they match.

pub(crate) mod compile;
pub(crate) mod lexer;
pub(crate) mod parser;

use std::collections::HashMap;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{LineIndex, LoadError};
use compile::{Atoms, ListTerm, Node};

/// `examples` of a rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Examples {
    /// Texts the rule must flag.
    #[serde(rename = "match", default)]
    pub(crate) matches: Vec<String>,
    /// Texts the rule must not flag.
    #[serde(default)]
    pub(crate) no_match: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    id: Spanned<String>,
    version: u32,
    category: Spanned<String>,
    #[serde(default)]
    severity: model::Severity,
    #[serde(default)]
    title: model::Localized,
    /// Free text for rule authors; accepted so files can document themselves.
    #[serde(default)]
    #[allow(dead_code)]
    description: model::Localized,
    #[serde(default)]
    langs: Vec<String>,
    expr: Spanned<String>,
    #[serde(default)]
    examples: Examples,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<Spanned<RuleDef>>,
}

/// A loaded rule: metadata plus its compiled expression.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) id: String,
    pub(crate) version: u32,
    pub(crate) category: String,
    pub(crate) severity: model::Severity,
    pub(crate) title: model::Localized,
    pub(crate) langs: Vec<String>,
    pub(crate) expr: String,
    pub(crate) file: String,
    pub(crate) line: usize,
    pub(crate) examples: Examples,
}

/// Parses list files (`name.txt` → `$name`): one term per line, `#` starts a comment.
pub(crate) fn parse_lists(
    lists: &[(String, String)],
    errors: &mut Vec<LoadError>,
) -> HashMap<String, Vec<ListTerm>> {
    let mut out = HashMap::new();
    for (file, src) in lists {
        let stem = file.rsplit('/').next().unwrap_or(file);
        let name = stem.strip_suffix(".txt").unwrap_or(stem).to_string();
        let mut terms = Vec::new();
        for (i, raw) in src.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            match compile::phrase_pieces(line) {
                Ok(p) => terms.push(p),
                Err(msg) => errors.push(LoadError::Invalid {
                    file: file.clone(),
                    line: i + 1,
                    col: 1,
                    msg,
                    hint: Some("one word, `prefix*` or phrase per line".into()),
                }),
            }
        }
        if terms.is_empty() {
            errors.push(LoadError::Invalid {
                file: file.clone(),
                line: 1,
                col: 1,
                msg: format!("list `${name}` has no terms"),
                hint: None,
            });
        }
        out.insert(name, terms);
    }
    out
}

/// Byte offset in the file where the *content* of a string value spanning `span` starts.
fn string_content_start(src: &str, span: std::ops::Range<usize>) -> usize {
    let raw = src.get(span.clone()).unwrap_or("");
    let mut start = span.start;
    if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
        start += 3;
        let rest = &src[start..];
        if rest.starts_with("\r\n") {
            start += 2;
        } else if rest.starts_with('\n') {
            start += 1;
        }
    } else if raw.starts_with('\'') || raw.starts_with('"') {
        start += 1;
    }
    start
}

/// Loads one rule file into `rules` / `nodes`, pushing every problem into `errors`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn load_file(
    file: &str,
    src: &str,
    lists: &HashMap<String, Vec<ListTerm>>,
    taxonomy: Option<&model::Taxonomy>,
    seen: &mut HashMap<String, (String, usize)>,
    atoms: &mut Atoms,
    out: &mut Vec<(Rule, Node)>,
    errors: &mut Vec<LoadError>,
) {
    let lines = LineIndex::new(src);
    let at = |offset: usize| lines.line_col(offset);
    let parsed: RuleFile = match toml::from_str(src) {
        Ok(f) => f,
        Err(e) => {
            let (line, col) = e.span().map(|s| at(s.start)).unwrap_or((1, 1));
            let msg = e.message().trim().to_string();
            let hint = if msg.contains("missing field") {
                Some("every rule needs id, version, category and expr".to_string())
            } else if msg.contains("unknown field") {
                Some("rule keys are id, version, category, severity, title, description, langs, expr, examples".to_string())
            } else {
                None
            };
            errors.push(LoadError::Syntax {
                file: file.to_string(),
                line,
                col,
                msg,
                hint,
            });
            return;
        }
    };
    if parsed.rule.is_empty() {
        errors.push(LoadError::Invalid {
            file: file.to_string(),
            line: 1,
            col: 1,
            msg: "no [[rule]] tables".into(),
            hint: None,
        });
    }
    for def in parsed.rule {
        let def = def.into_inner();
        let (id_line, id_col) = at(def.id.span().start);
        let invalid =
            |line: usize, col: usize, msg: String, hint: Option<String>| LoadError::Invalid {
                file: file.to_string(),
                line,
                col,
                msg,
                hint,
            };
        let id = def.id.get_ref().trim().to_string();
        if id.is_empty() {
            errors.push(invalid(id_line, id_col, "empty rule id".into(), None));
            continue;
        }
        if let Some((f, l)) = seen.get(&id) {
            errors.push(invalid(
                id_line,
                id_col,
                format!("duplicate rule id `{id}`"),
                Some(format!("first defined at {f}:{l}")),
            ));
            continue;
        }
        seen.insert(id.clone(), (file.to_string(), id_line));
        let category = def.category.get_ref().clone();
        if let Some(t) = taxonomy
            && t.get(&category).is_none()
        {
            let (l, c) = at(def.category.span().start);
            let known: Vec<&str> = t.categories.keys().map(String::as_str).collect();
            errors.push(invalid(
                l,
                c,
                format!("unknown category `{category}`"),
                Some(format!("taxonomy.toml has: {}", known.join(", "))),
            ));
            continue;
        }
        let expr = def.expr.get_ref().clone();
        let expr_start = string_content_start(src, def.expr.span());
        let compiled = parser::parse(&expr).and_then(|ast| atoms.compile(&ast, lists));
        let node = match compiled {
            Ok(n) => n,
            Err(e) => {
                let (line, col) = at(expr_start + e.at);
                errors.push(LoadError::Syntax {
                    file: file.to_string(),
                    line,
                    col,
                    msg: format!("rule `{id}`: {}", e.msg),
                    hint: e.hint,
                });
                continue;
            }
        };
        out.push((
            Rule {
                id,
                version: def.version,
                category,
                severity: def.severity,
                title: def.title,
                langs: def.langs,
                expr: expr.trim().to_string(),
                file: file.to_string(),
                line: id_line,
                examples: def.examples,
            },
            node,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(src: &str) -> (Vec<(Rule, Node)>, Vec<LoadError>) {
        let mut errors = Vec::new();
        let mut out = Vec::new();
        let lists = parse_lists(
            &[(
                "lists/brands.txt".into(),
                "# brands\n1xbet\nпин ап\n".into(),
            )],
            &mut errors,
        );
        let mut seen = HashMap::new();
        let mut atoms = Atoms::default();
        load_file(
            "t.toml",
            src,
            &lists,
            None,
            &mut seen,
            &mut atoms,
            &mut out,
            &mut errors,
        );
        (out, errors)
    }

    #[test]
    fn loads_a_rule() {
        let (rules, errors) = load(
            "[[rule]]\nid = \"a\"\nversion = 2\ncategory = \"c\"\nseverity = \"high\"\nexpr = 'казино | $brands'\nexamples.match = [\"казино\"]\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rules[0].0.version, 2);
        assert_eq!(rules[0].0.line, 2);
        assert_eq!(rules[0].0.examples.matches, vec!["казино".to_string()]);
    }

    #[test]
    fn error_positions_are_in_the_file() {
        let cases: &[(&str, &str)] = &[
            // expression error inside a multi-line literal
            (
                "[[rule]]\nid = \"a\"\nversion = 1\ncategory = \"c\"\nexpr = '''\n  казино\n  AND (бонус\n'''\n",
                "t.toml:8:1: rule `a`: expected `)` before the end",
            ),
            (
                "[[rule]]\nid = \"a\"\nversion = 1\ncategory = \"c\"\nexpr = 'казино )'\n",
                "t.toml:5:16: rule `a`: unexpected `)`",
            ),
            (
                "[[rule]]\nid = \"a\"\nversion = 1\ncategory = \"c\"\nexpr = \"a $nope\"\n",
                "t.toml:5:11: rule `a`: unknown list `$nope`",
            ),
            (
                "[[rule]]\nid = \"a\"\nversion = 1\ncategory = \"c\"\nexpr = 'a'\n[[rule]]\nid = \"a\"\nversion = 1\ncategory = \"c\"\nexpr = 'b'\n",
                "t.toml:7:6: duplicate rule id `a`",
            ),
            ("[[rule]]\nid = \"a\"\nexpr = 'a'\n", "t.toml:1:1:"),
            ("[[rule]]\nid = \"a\n", "t.toml:2:"),
        ];
        for (src, want) in cases {
            let (_, errors) = load(src);
            let got = errors.first().map(ToString::to_string).unwrap_or_default();
            assert!(got.starts_with(want), "want {want:?}, got {got:?}");
        }
    }

    #[test]
    fn unknown_category_with_taxonomy() {
        let tax = model::Taxonomy::from_toml(
            "[[category]]\nid = \"illegal_gambling\"\ntitle = { ru = \"x\" }\nnorm = { ru = \"y\" }\nroute = \"blocking\"\n",
        )
        .unwrap();
        let mut errors = Vec::new();
        let mut out = Vec::new();
        let mut atoms = Atoms::default();
        load_file(
            "t.toml",
            "[[rule]]\nid = \"a\"\nversion = 1\ncategory = \"casino\"\nexpr = 'a'\n",
            &HashMap::new(),
            Some(&tax),
            &mut HashMap::new(),
            &mut atoms,
            &mut out,
            &mut errors,
        );
        let msg = errors[0].to_string();
        assert!(
            msg.starts_with("t.toml:4:12: unknown category `casino`"),
            "{msg}"
        );
        assert!(msg.contains("illegal_gambling"), "{msg}");
    }

    #[test]
    fn bad_list_line() {
        let mut errors = Vec::new();
        parse_lists(&[("lists/x.txt".into(), "ok\n%%\n".into())], &mut errors);
        assert_eq!(
            errors[0].to_string().split(": ").next(),
            Some("lists/x.txt:2:1")
        );
    }
}
