//! Compiles parsed expressions into match programs over shared atoms.
//!
//! Atoms are what the matcher can look for in one pass: *pieces* (a whole word or a word prefix,
//! the literals of the Aho-Corasick automaton), *terms* (a sequence of pieces on consecutive
//! tokens — a word is a one-piece term, a phrase a longer one — restricted to some fields),
//! regexes (one `RegexSet`) and indicators. Atoms are interned across all rules, so ten thousand
//! rules that all say `казино*` share one automaton pattern.

use std::collections::HashMap;

use super::lexer::ExprError;
use super::parser::Ast;
use crate::indicators::{self, Indicator};
use crate::normalize;

/// Bit set of [`model::Field`]s.
pub(crate) type FieldMask = u8;
/// The title.
pub(crate) const TITLE: FieldMask = 1;
/// The text.
pub(crate) const TEXT: FieldMask = 2;
/// The URL.
pub(crate) const URL: FieldMask = 4;
/// Fields searched when a rule does not scope a term.
pub(crate) const DEFAULT_FIELDS: FieldMask = TITLE | TEXT;

/// Shortest prefix allowed before `*`, in chars: shorter ones match half the dictionary.
const MIN_PREFIX_CHARS: usize = 3;

/// A literal the automaton looks for: a whole token, or a token prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Piece {
    pub(crate) lit: String,
    pub(crate) prefix: bool,
}

/// Consecutive pieces in the given fields.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Term {
    pub(crate) pieces: Vec<usize>,
    pub(crate) fields: FieldMask,
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Term(usize),
    Regex(usize, FieldMask),
    Indicator(Indicator, FieldMask),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Near(Box<Node>, Box<Node>, u32),
}

/// Interned atoms of all rules.
#[derive(Debug, Default)]
pub(crate) struct Atoms {
    pub(crate) pieces: Vec<Piece>,
    piece_ids: HashMap<Piece, usize>,
    pub(crate) terms: Vec<Term>,
    term_ids: HashMap<Term, usize>,
    pub(crate) regexes: Vec<String>,
    regex_ids: HashMap<String, usize>,
}

/// A list term: words with an optional `*` each, already split.
pub(crate) type ListTerm = Vec<Piece>;

/// Splits a word (which may end in `*`) into pieces using the document tokenizer, so a rule word
/// and a text word are cut the same way.
pub(crate) fn word_pieces(word: &str) -> Result<Vec<Piece>, String> {
    let (body, prefix) = match word.strip_suffix('*') {
        Some(b) => (b, true),
        None => (word, false),
    };
    if body.contains('*') {
        return Err(format!(
            "`*` is only allowed at the end of a word, in `{word}`"
        ));
    }
    let norm = normalize::normalize(body).text;
    let toks = normalize::tokens(&norm);
    if toks.is_empty() {
        return Err(format!("`{word}` has no letters or digits"));
    }
    let n = toks.len();
    let pieces: Vec<Piece> = toks
        .into_iter()
        .enumerate()
        .map(|(i, (s, e))| Piece {
            lit: norm[s..e].to_string(),
            prefix: prefix && i + 1 == n,
        })
        .collect();
    Ok(pieces)
}

/// Rejects a lone prefix that is too short; inside a phrase, the other words anchor it.
fn check_prefix(pieces: Vec<Piece>, written: &str) -> Result<Vec<Piece>, String> {
    if let [p] = pieces.as_slice()
        && p.prefix
        && p.lit.chars().count() < MIN_PREFIX_CHARS
    {
        return Err(format!(
            "prefix `{written}` is too short (at least {MIN_PREFIX_CHARS} letters before `*`)"
        ));
    }
    Ok(pieces)
}

/// Splits a phrase or list line into pieces.
pub(crate) fn phrase_pieces(phrase: &str) -> Result<Vec<Piece>, String> {
    let mut out = Vec::new();
    for w in phrase.split_whitespace() {
        out.extend(word_pieces(w)?);
    }
    if out.is_empty() {
        return Err("empty phrase".into());
    }
    check_prefix(out, phrase)
}

impl Atoms {
    fn piece(&mut self, p: Piece) -> usize {
        if let Some(&id) = self.piece_ids.get(&p) {
            return id;
        }
        self.pieces.push(p.clone());
        self.piece_ids.insert(p, self.pieces.len() - 1);
        self.pieces.len() - 1
    }

    fn term(&mut self, pieces: Vec<Piece>, fields: FieldMask) -> usize {
        let ids = pieces.into_iter().map(|p| self.piece(p)).collect();
        let t = Term {
            pieces: ids,
            fields,
        };
        if let Some(&id) = self.term_ids.get(&t) {
            return id;
        }
        self.terms.push(t.clone());
        self.term_ids.insert(t, self.terms.len() - 1);
        self.terms.len() - 1
    }

    fn regex(&mut self, r: &str) -> usize {
        if let Some(&id) = self.regex_ids.get(r) {
            return id;
        }
        self.regexes.push(r.to_string());
        self.regex_ids.insert(r.to_string(), self.regexes.len() - 1);
        self.regexes.len() - 1
    }

    /// Compiles one expression.
    pub(crate) fn compile(
        &mut self,
        ast: &Ast,
        lists: &HashMap<String, Vec<ListTerm>>,
    ) -> Result<Node, ExprError> {
        let node = self.node(ast, DEFAULT_FIELDS, lists)?;
        if !has_positive(&node) {
            return Err(ExprError {
                at: 0,
                msg: "the expression can only match by the absence of terms".into(),
                hint: Some("add at least one term outside NOT".into()),
            });
        }
        Ok(node)
    }

    fn node(
        &mut self,
        ast: &Ast,
        fields: FieldMask,
        lists: &HashMap<String, Vec<ListTerm>>,
    ) -> Result<Node, ExprError> {
        let err = |at: usize, msg: String, hint: Option<String>| ExprError { at, msg, hint };
        Ok(match ast {
            Ast::Word(w, at) => {
                let pieces = word_pieces(w)
                    .and_then(|p| check_prefix(p, w))
                    .map_err(|m| err(*at, m, None))?;
                Node::Term(self.term(pieces, fields))
            }
            Ast::Phrase(p, at) => {
                let pieces = phrase_pieces(p).map_err(|m| err(*at, m, None))?;
                Node::Term(self.term(pieces, fields))
            }
            Ast::Regex(r, at) => {
                if let Err(e) = regex::Regex::new(r) {
                    let first = e
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or("")
                        .trim()
                        .to_string();
                    return Err(err(
                        *at,
                        format!("invalid regex: {first}"),
                        Some("regexes run on the lowercased, normalized text".into()),
                    ));
                }
                Node::Regex(self.regex(r), fields)
            }
            Ast::Indicator(name, at) => match Indicator::by_name(name) {
                Some(k) => Node::Indicator(k, fields),
                None => {
                    let known: Vec<&str> = indicators::NAMES.iter().map(|(n, _)| *n).collect();
                    return Err(err(
                        *at,
                        format!("unknown indicator `@{name}`"),
                        Some(format!("known: {}", known.join(", "))),
                    ));
                }
            },
            Ast::List(name, at) => {
                let Some(terms) = lists.get(name) else {
                    let mut known: Vec<&String> = lists.keys().collect();
                    known.sort();
                    let known: Vec<&str> = known.into_iter().map(String::as_str).collect();
                    return Err(err(
                        *at,
                        format!("unknown list `${name}`"),
                        Some(format!(
                            "lists are rules/lists/<name>.txt; known: {}",
                            known.join(", ")
                        )),
                    ));
                };
                let items = terms
                    .iter()
                    .map(|t| Node::Term(self.term(t.clone(), fields)))
                    .collect();
                Node::Or(items)
            }
            Ast::And(items) => Node::And(
                items
                    .iter()
                    .map(|a| self.node(a, fields, lists))
                    .collect::<Result<_, _>>()?,
            ),
            Ast::Or(items) => Node::Or(
                items
                    .iter()
                    .map(|a| self.node(a, fields, lists))
                    .collect::<Result<_, _>>()?,
            ),
            Ast::Not(inner, _) => Node::Not(Box::new(self.node(inner, fields, lists)?)),
            Ast::Near(a, b, n, _) => Node::Near(
                Box::new(self.node(a, fields, lists)?),
                Box::new(self.node(b, fields, lists)?),
                *n,
            ),
            Ast::Field(f, inner, _) => {
                let mask = match f.as_str() {
                    "title" => TITLE,
                    "text" => TEXT,
                    _ => URL,
                };
                self.node(inner, mask, lists)?
            }
        })
    }
}

/// True when the node can match through the presence of something (not only through NOT).
fn has_positive(n: &Node) -> bool {
    match n {
        Node::Term(_) | Node::Regex(..) | Node::Indicator(..) | Node::Near(..) => true,
        Node::And(items) => items.iter().any(has_positive),
        Node::Or(items) => !items.is_empty() && items.iter().all(has_positive),
        Node::Not(_) => false,
    }
}

/// Atoms a rule needs present (outside NOT), for candidate selection.
#[derive(Debug, Default, Clone)]
pub(crate) struct Positive {
    pub(crate) pieces: Vec<usize>,
    pub(crate) regexes: Vec<usize>,
    pub(crate) indicators: Vec<Indicator>,
}

/// Collects the positive atoms of a node (those not under NOT).
pub(crate) fn positive_atoms(n: &Node, atoms: &Atoms, out: &mut Positive) {
    match n {
        Node::Term(t) => out.pieces.extend(atoms.terms[*t].pieces.first().copied()),
        Node::Regex(r, _) => out.regexes.push(*r),
        Node::Indicator(k, _) => out.indicators.push(*k),
        Node::And(items) | Node::Or(items) => {
            items.iter().for_each(|i| positive_atoms(i, atoms, out))
        }
        Node::Near(a, b, _) => {
            positive_atoms(a, atoms, out);
            positive_atoms(b, atoms, out);
        }
        Node::Not(_) => {}
    }
}

/// Pieces a rule cannot fire without, as clauses: every clause must have one of its pieces in
/// the document (a necessary condition, checked before the exact evaluation). `a AND b` needs the
/// clauses of both, a phrase needs each of its words, `a | b` needs one of `a`'s or one of `b`'s
/// pieces; regexes, indicators and `NOT` give no clause (they are not in the presearch).
pub(crate) fn required_clauses(n: &Node, atoms: &Atoms) -> Vec<Vec<usize>> {
    match n {
        Node::Term(t) => atoms.terms[*t].pieces.iter().map(|&p| vec![p]).collect(),
        Node::Regex(..) | Node::Indicator(..) | Node::Not(_) => Vec::new(),
        Node::And(items) => items
            .iter()
            .flat_map(|i| required_clauses(i, atoms))
            .collect(),
        Node::Near(a, b, _) => {
            let mut v = required_clauses(a, atoms);
            v.extend(required_clauses(b, atoms));
            v
        }
        Node::Or(items) => {
            let mut clause = Vec::new();
            for i in items {
                // one clause of each branch: the shortest keeps the check cheap
                match required_clauses(i, atoms).into_iter().min_by_key(Vec::len) {
                    Some(c) => clause.extend(c),
                    None => return Vec::new(),
                }
            }
            clause.sort_unstable();
            clause.dedup();
            vec![clause]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parser::parse;

    fn compile(src: &str) -> Result<(Node, Atoms), ExprError> {
        let mut lists = HashMap::new();
        lists.insert(
            "brands".to_string(),
            vec![
                phrase_pieces("1xbet").unwrap(),
                phrase_pieces("пин ап").unwrap(),
            ],
        );
        let mut atoms = Atoms::default();
        let node = atoms.compile(&parse(src)?, &lists)?;
        Ok((node, atoms))
    }

    #[test]
    fn words_are_normalized_and_split_like_text() {
        let cases: &[(&str, &[(&str, bool)])] = &[
            ("Казино*", &[("казино", true)]),
            ("1xbet", &[("1", false), ("xbet", false)]),
            ("кэш-бэк", &[("кэш", false), ("бэк", false)]),
            ("Ещё", &[("еще", false)]),
        ];
        for (w, want) in cases {
            let got: Vec<(String, bool)> = word_pieces(w)
                .unwrap()
                .into_iter()
                .map(|p| (p.lit, p.prefix))
                .collect();
            let want: Vec<(String, bool)> = want.iter().map(|(l, p)| (l.to_string(), *p)).collect();
            assert_eq!(got, want, "{w}");
        }
    }

    #[test]
    fn required_clauses_are_necessary_pieces() {
        let lits = |src: &str| -> Vec<Vec<String>> {
            let (node, atoms) = compile(src).unwrap();
            let mut v: Vec<Vec<String>> = required_clauses(&node, &atoms)
                .into_iter()
                .map(|c| c.into_iter().map(|p| atoms.pieces[p].lit.clone()).collect())
                .collect();
            v.sort();
            v
        };
        let s = |x: &[&[&str]]| -> Vec<Vec<String>> {
            x.iter()
                .map(|c| c.iter().map(|p| p.to_string()).collect())
                .collect()
        };
        assert_eq!(lits("займ AND залог NOT мфо"), s(&[&["займ"], &["залог"]]));
        assert_eq!(lits("\"пассивн* доход*\""), s(&[&["доход"], &["пассивн"]]));
        assert_eq!(
            lits("казино NEAR/5 (бонус | \"без депозит*\")"),
            s(&[&["бонус", "без"], &["казино"]])
        );
        // a branch without literals (a regex, an indicator) leaves the OR without a clause
        assert_eq!(lits("(казино | @card) займ"), s(&[&["займ"]]));
        assert!(lits("/\\d+%/ NOT x").is_empty());
    }

    #[test]
    fn atoms_are_shared() {
        let (_, atoms) = compile("казино | казино* | \"казино онлайн\" | title:казино").unwrap();
        assert_eq!(atoms.pieces.len(), 3); // казино, казино*, онлайн
        assert_eq!(atoms.terms.len(), 4);
    }

    #[test]
    fn compile_errors() {
        let cases: &[(&str, usize, &str)] = &[
            ("NOT казино", 0, "absence"),
            ("x @nope", 2, "unknown indicator"),
            ("x $nope", 2, "unknown list"),
            ("x /(/", 2, "invalid regex"),
            ("x ка*", 2, "too short"),
            ("x к*з", 2, "only allowed at the end"),
            ("x %", 2, "no letters"),
        ];
        for (src, at, msg) in cases {
            let e = compile(src).unwrap_err();
            assert_eq!(e.at, *at, "{src}: {}", e.msg);
            assert!(e.msg.contains(msg), "{src}: {}", e.msg);
        }
    }

    #[test]
    fn lists_expand_to_terms() {
        let (node, atoms) = compile("$brands").unwrap();
        assert!(matches!(node, Node::Or(ref v) if v.len() == 2));
        assert_eq!(atoms.terms.len(), 2);
    }
}
