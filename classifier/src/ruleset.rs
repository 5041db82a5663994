//! [`RuleSet`]: the compiled rules of a directory, the classifier's entry type.
//!
//! Loading gathers every problem of every file before failing (a rule author fixes them all in
//! one round); scanning is a pure function of a [`Doc`], safe to share across threads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use model::{Field, Hit, RuleInfo, Taxonomy};

use crate::error::LoadError;
use crate::explain::{self, ExampleFailure, ExampleFailureKind};
use crate::matcher::{FieldText, Matcher, RuleProgram};
use crate::rules::{self, Rule, compile::Atoms};

/// A document to classify. Spans of hits are byte offsets into these strings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Doc<'a> {
    /// Id copied into [`Hit::capture_id`].
    pub id: &'a str,
    /// Title.
    pub title: &'a str,
    /// Visible text.
    pub text: &'a str,
    /// URL.
    pub url: &'a str,
    /// Detected language (`kk`, `ru`, `en`, `mixed`), if known: rules with `langs` skip
    /// documents detected as another of kk/ru/en.
    pub lang: Option<&'a str>,
}

/// The compiled rules. `Send + Sync`: build once, scan from many threads.
#[derive(Debug)]
pub struct RuleSet {
    rules: Vec<Rule>,
    matcher: Matcher,
    taxonomy: Option<Taxonomy>,
}

/// Name of the taxonomy file inside a rules directory.
pub const TAXONOMY_FILE: &str = "taxonomy.toml";

fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Sorted `(file name, contents)` of the files in `dir` ending in `ext`.
fn read_dir_files(dir: &Path, ext: &str, skip: &str) -> Result<Vec<(String, String)>, LoadError> {
    let io = |source| LoadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut names: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(ext) && name != skip && entry.path().is_file() {
            names.push(name);
        }
    }
    names.sort();
    names
        .into_iter()
        .map(|n| Ok((n.clone(), read(&dir.join(&n))?)))
        .collect()
}

/// Prefixes file names in errors with the directory, so messages read `rules/casino.toml:3:1`.
fn with_dir(e: LoadError, dir: &Path) -> LoadError {
    let join = |f: String| dir.join(f).display().to_string();
    match e {
        LoadError::Syntax {
            file,
            line,
            col,
            msg,
            hint,
        } => LoadError::Syntax {
            file: join(file),
            line,
            col,
            msg,
            hint,
        },
        LoadError::Invalid {
            file,
            line,
            col,
            msg,
            hint,
        } => LoadError::Invalid {
            file: join(file),
            line,
            col,
            msg,
            hint,
        },
        LoadError::Taxonomy { file, source } => LoadError::Taxonomy {
            file: join(file),
            source,
        },
        LoadError::Partial(v) => {
            LoadError::Partial(v.into_iter().map(|e| with_dir(e, dir)).collect())
        }
        other => other,
    }
}

impl RuleSet {
    /// Loads `dir/*.toml` (rules), `dir/lists/*.txt` (lists) and, if present,
    /// `dir/taxonomy.toml` (then every rule's category must be in it).
    pub fn load_dir(dir: &Path) -> Result<RuleSet, LoadError> {
        let files = read_dir_files(dir, ".toml", TAXONOMY_FILE)?;
        if files.is_empty() {
            return Err(LoadError::Empty {
                dir: dir.to_path_buf(),
            });
        }
        let lists_dir = dir.join("lists");
        let lists = if lists_dir.is_dir() {
            read_dir_files(&lists_dir, ".txt", "")?
                .into_iter()
                .map(|(n, s)| (format!("lists/{n}"), s))
                .collect()
        } else {
            Vec::new()
        };
        let tax_path: PathBuf = dir.join(TAXONOMY_FILE);
        let taxonomy = if tax_path.is_file() {
            let src = read(&tax_path)?;
            Some(
                Taxonomy::from_toml(&src).map_err(|source| LoadError::Taxonomy {
                    file: tax_path.display().to_string(),
                    source,
                })?,
            )
        } else {
            None
        };
        let set = RuleSet::from_sources(&files, &lists, taxonomy.as_ref())
            .map_err(|e| with_dir(e, dir))?;
        tracing::info!(dir = %dir.display(), rules = set.rules.len(), "rules loaded");
        Ok(set)
    }

    /// Compiles rules from `(file name, contents)` pairs and lists (`lists/name.txt` →
    /// `$name`). With a taxonomy, unknown categories are errors.
    pub fn from_sources(
        files: &[(String, String)],
        lists: &[(String, String)],
        taxonomy: Option<&Taxonomy>,
    ) -> Result<RuleSet, LoadError> {
        let mut errors = Vec::new();
        let lists = rules::parse_lists(lists, &mut errors);
        let mut atoms = Atoms::default();
        let mut seen = HashMap::new();
        let mut loaded = Vec::new();
        for (name, src) in files {
            rules::load_file(
                name,
                src,
                &lists,
                taxonomy,
                &mut seen,
                &mut atoms,
                &mut loaded,
                &mut errors,
            );
        }
        if let Some(e) = LoadError::collect(errors) {
            return Err(e);
        }
        let (rules, nodes): (Vec<Rule>, Vec<_>) = loaded.into_iter().unzip();
        let programs = nodes
            .into_iter()
            .map(|n| RuleProgram::new(n, &atoms))
            .collect();
        Ok(RuleSet {
            rules,
            matcher: Matcher::new(atoms, programs),
            taxonomy: taxonomy.cloned(),
        })
    }

    /// Every hit of every rule on `doc`.
    pub fn scan(&self, doc: &Doc) -> Vec<Hit> {
        fn prep(s: &str) -> Option<FieldText<'_>> {
            (!s.is_empty()).then(|| FieldText::new(s))
        }
        let fields = [prep(doc.title), prep(doc.text), prep(doc.url)];
        let originals = [doc.title, doc.text, doc.url];
        let lang = doc.lang.filter(|l| matches!(*l, "kk" | "ru" | "en"));
        let allowed = |r: usize| {
            let langs = &self.rules[r].langs;
            lang.is_none_or(|l| langs.is_empty() || langs.iter().any(|x| x == l))
        };
        let mut hits = Vec::new();
        for (r, occs) in self.matcher.scan(&fields, allowed) {
            let rule = &self.rules[r];
            let mut spans: Vec<model::Span> = Vec::new();
            let mut terms: Vec<&str> = Vec::new();
            for o in &occs {
                let f = fields[o.field as usize]
                    .as_ref()
                    .expect("occurrences come from present fields");
                terms.push(&f.norm.text[o.s as usize..o.e as usize]);
                let (start, end) = f.norm.span(o.s as usize, o.e as usize);
                let field = [Field::Title, Field::Text, Field::Url][o.field as usize];
                spans.push(model::Span { field, start, end });
            }
            spans.sort_by_key(|s| (s.field as u8, s.start, s.end));
            spans.dedup();
            terms.sort_unstable();
            terms.dedup();
            let matched = explain::matched_text(
                spans
                    .iter()
                    .filter_map(|s| originals[s.field as usize].get(s.start..s.end)),
            );
            hits.push(Hit {
                capture_id: doc.id.to_string(),
                rule: rule.id.clone(),
                rule_version: rule.version,
                category: rule.category.clone(),
                severity: rule.severity,
                score: explain::score(rule.severity, terms.len()),
                spans,
                matched,
            });
        }
        hits
    }

    /// Every indicator in `doc` (title, text, URL), validated (Luhn, MOD-97, base58check,
    /// bech32) and with a canonical value, whether or not a rule uses it: indicators link cases
    /// (the same card or handle in two channels), so they are kept for every flagged capture.
    pub fn indicators(&self, doc: &Doc) -> Vec<model::Indicator> {
        let mut out = Vec::new();
        for (field, original) in [
            (Field::Title, doc.title),
            (Field::Text, doc.text),
            (Field::Url, doc.url),
        ] {
            if original.is_empty() {
                continue;
            }
            let norm = crate::normalize::normalize(original);
            let orig = |s: usize, e: usize| {
                let (a, b) = norm.span(s, e);
                original[a..b].to_string()
            };
            for &(name, kind) in crate::indicators::NAMES {
                for (s, e) in kind.find(&norm.text, &orig) {
                    let (start, end) = norm.span(s, e);
                    out.push(model::Indicator {
                        kind: name.to_string(),
                        value: kind.canonical(&norm.text[s..e], &original[start..end]),
                        field,
                        start,
                        end,
                    });
                }
            }
        }
        out
    }

    /// [`RuleSet::scan`] over a capture's title, text and final URL.
    pub fn scan_capture(&self, c: &model::Capture) -> Vec<Hit> {
        self.scan(&Doc {
            id: &c.id,
            title: &c.title,
            text: &c.text,
            url: if c.final_url.is_empty() {
                &c.url
            } else {
                &c.final_url
            },
            lang: c.lang.as_deref(),
        })
    }

    /// Rule metadata for explanations.
    pub fn rules(&self) -> Vec<RuleInfo> {
        self.rules
            .iter()
            .map(|r| RuleInfo {
                id: r.id.clone(),
                version: r.version,
                category: r.category.clone(),
                severity: r.severity,
                title: r.title.clone(),
                expr: r.expr.clone(),
                file: r.file.clone(),
            })
            .collect()
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there is no rule (never, for a loaded set).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The taxonomy the rules were validated against.
    pub fn taxonomy(&self) -> Option<&Taxonomy> {
        self.taxonomy.as_ref()
    }

    /// Runs every rule's `examples.match` and `examples.no_match` through the whole rule set and
    /// returns what failed (empty: all pass).
    pub fn test_examples(&self) -> Vec<ExampleFailure> {
        let mut out = Vec::new();
        for r in &self.rules {
            let location = format!("{}:{}", r.file, r.line);
            let fail = |kind, example: &str| ExampleFailure {
                rule: r.id.clone(),
                location: location.clone(),
                kind,
                example: example.to_string(),
            };
            if r.examples.matches.is_empty() {
                out.push(fail(ExampleFailureKind::Missing, ""));
            }
            let fires = |text: &str| {
                self.scan(&Doc {
                    id: "example",
                    text,
                    ..Doc::default()
                })
                .iter()
                .any(|h| h.rule == r.id)
            };
            for ex in &r.examples.matches {
                if !fires(ex) {
                    out.push(fail(ExampleFailureKind::ShouldMatch, ex));
                }
            }
            for ex in &r.examples.no_match {
                if fires(ex) {
                    out.push(fail(ExampleFailureKind::ShouldNotMatch, ex));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(src: &str) -> RuleSet {
        RuleSet::from_sources(&[("t.toml".into(), src.into())], &[], None).unwrap()
    }

    #[test]
    fn hits_carry_original_spans() {
        let rs = set(
            "[[rule]]\nid = \"g\"\nversion = 3\ncategory = \"illegal_gambling\"\nseverity = \"high\"\nexpr = 'казино NEAR/3 бонус*'\nexamples.match = ['казино бонус']\n",
        );
        let text = "Лучшее ка\u{200B}зино — бонус 100%!";
        let hits = rs.scan(&Doc {
            id: "c1",
            text,
            ..Doc::default()
        });
        assert_eq!(hits.len(), 1);
        let h = &hits[0];
        assert_eq!(
            (h.rule.as_str(), h.rule_version, h.capture_id.as_str()),
            ("g", 3, "c1")
        );
        let frags: Vec<&str> = h.spans.iter().map(|s| &text[s.start..s.end]).collect();
        assert_eq!(frags, vec!["ка\u{200B}зино", "бонус"]);
        assert_eq!(h.matched, "ка\u{200B}зино … бонус");
        assert!(h.score > 0.8);
        assert!(rs.test_examples().is_empty());
    }

    #[test]
    fn indicators_are_validated_and_canonical() {
        let rs = set("[[rule]]\nid = \"x\"\nversion = 1\ncategory = \"c\"\nexpr = 'x'\n");
        let text = "Пиши @Karta_Rent или 8 (701) 123-45-67, карта 4111 1111 1111 1111, \
                    не 4111 1111 1111 1112; USDT TRC20: TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
        let found = rs.indicators(&Doc {
            id: "i",
            text,
            url: "https://t.me/karta_rent",
            ..Doc::default()
        });
        let got: Vec<(&str, &str)> = found
            .iter()
            .map(|i| (i.kind.as_str(), i.value.as_str()))
            .collect();
        for want in [
            ("telegram", "karta_rent"),
            ("phone_kz", "77011234567"),
            ("card", "4111111111111111"),
            ("tron", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
        ] {
            assert!(got.contains(&want), "{want:?} not in {got:?}");
        }
        // the handle in the text and the link in the URL name one account: one linking value
        let telegram: Vec<(Field, &str)> = found
            .iter()
            .filter(|i| i.kind == "telegram")
            .map(|i| (i.field, i.value.as_str()))
            .collect();
        assert_eq!(
            telegram,
            [(Field::Text, "karta_rent"), (Field::Url, "karta_rent")]
        );
        assert!(!got.contains(&("card", "4111111111111112")));
        for i in found.iter().filter(|i| i.field == Field::Text) {
            assert!(text.is_char_boundary(i.start) && text.is_char_boundary(i.end));
        }
        let tron = found.iter().find(|i| i.kind == "tron").unwrap();
        assert_eq!(
            &text[tron.start..tron.end],
            "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
        );
    }

    /// The values cases are linked on (the reporter joins on them): one form per account or
    /// number however it was written, nothing from e-mails, service links or placeholders.
    #[test]
    fn linking_values() {
        let rs = set("[[rule]]\nid = \"x\"\nversion = 1\ncategory = \"c\"\nexpr = 'x'\n");
        let text = "Пишите @drop_master или t.me/s/kazino_kz, тел. +7 (701) 234-56-78, \
                    8 777 123 45 67; карта 4111 1111 1111 1111, неверная 4111 1111 1111 1112; \
                    IBAN KZ86 125K ZT50 0410 0100 (невалидный KZ00125KZT5004100100); \
                    USDT TRC20 TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE, \
                    ETH 0x52908400098527886E0F7030069857D2E4169EE7, почта info@example.kz, \
                    https://t.me/share/url, t.me/joinchat/AbCdEf12, ИИН 900101300123 и \
                    0000 0000 0000 0000";
        let found = rs.indicators(&Doc {
            id: "l",
            text,
            ..Doc::default()
        });
        let mut got: Vec<(&str, &str)> = found
            .iter()
            .filter(|i| !matches!(i.kind.as_str(), "url" | "percent_per_period"))
            .map(|i| (i.kind.as_str(), i.value.as_str()))
            .collect();
        got.sort_unstable();
        assert_eq!(
            got,
            [
                ("card", "4111111111111111"),
                ("eth", "0x52908400098527886e0f7030069857d2e4169ee7"),
                ("iban_kz", "KZ86125KZT5004100100"),
                ("phone_kz", "77012345678"),
                ("phone_kz", "77771234567"),
                ("telegram", "+AbCdEf12"),
                ("telegram", "drop_master"),
                ("telegram", "kazino_kz"),
                ("tron", "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE"),
            ]
        );
    }

    #[test]
    fn title_and_url_fields() {
        let rs = set(
            "[[rule]]\nid = \"u\"\nversion = 1\ncategory = \"c\"\nexpr = 'url:casino title:казино'\n",
        );
        let doc = Doc {
            id: "x",
            title: "Казино",
            text: "",
            url: "https://casino.kz/",
            lang: None,
        };
        let hits = rs.scan(&doc);
        assert_eq!(hits.len(), 1);
        let fields: Vec<Field> = hits[0].spans.iter().map(|s| s.field).collect();
        assert_eq!(fields, vec![Field::Title, Field::Url]);
    }

    #[test]
    fn langs_filter() {
        let rs = set(
            "[[rule]]\nid = \"k\"\nversion = 1\ncategory = \"c\"\nlangs = [\"kk\"]\nexpr = 'казино'\n",
        );
        let mut doc = Doc {
            id: "x",
            text: "казино",
            ..Doc::default()
        };
        assert_eq!(rs.scan(&doc).len(), 1);
        doc.lang = Some("ru");
        assert!(rs.scan(&doc).is_empty());
        doc.lang = Some("mixed");
        assert_eq!(rs.scan(&doc).len(), 1);
    }

    #[test]
    fn example_failures_are_reported() {
        let rs = set(
            "[[rule]]\nid = \"k\"\nversion = 1\ncategory = \"c\"\nexpr = 'казино'\nexamples.match = ['слоты']\nexamples.no_match = ['казино']\n[[rule]]\nid = \"m\"\nversion = 1\ncategory = \"c\"\nexpr = 'x'\n",
        );
        let kinds: Vec<ExampleFailureKind> =
            rs.test_examples().into_iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ExampleFailureKind::ShouldMatch,
                ExampleFailureKind::ShouldNotMatch,
                ExampleFailureKind::Missing
            ]
        );
    }
}
