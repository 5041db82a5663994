//! The matcher: one lookup of every token in the literal index (every literal word and prefix
//! of every rule, see [`crate::literals`]) and one `RegexSet` over each normalized field, then
//! exact boolean and proximity evaluation for the rules whose literals actually occurred.
//!
//! This is the globset/ripgrep shape: presearch once for all rules, then check only candidates.
//! Every literal is a single token (phrases are split into pieces), so a token is looked up as
//! a whole word and by the prefixes some literal has — instead of an unanchored overlapping
//! search that would report every literal inside every longer word.
//! A rule that needs an indicator (`@card`) is always a candidate; its indicator extractors run
//! lazily, once per scan, only if such a rule is evaluated. Positions are token indices (for
//! `NEAR/n`) plus normalized byte ranges (for spans), per field.

use std::collections::HashMap;

use regex::{Regex, RegexSet};

use crate::indicators::Indicator;
use crate::literals::{LitPieces, Literals};
use crate::normalize::{self, Normalized};
use crate::rules::compile::{Atoms, FieldMask, Node, Positive, positive_atoms, required_clauses};
use crate::translit;

/// At most this many occurrences are kept per atom and node: enough evidence, bounded work on
/// pages that repeat a word ten thousand times.
const MAX_OCCS: usize = 256;

/// Hasher for small integer ids (piece and term indices): one multiply instead of SipHash,
/// which showed up in profiles — the keys are our own indices, not attacker-chosen.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by an id, with [`IdHasher`].
type IdMap<V> = HashMap<usize, V, std::hash::BuildHasherDefault<IdHasher>>;

/// One occurrence of an atom or sub-expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Occ {
    /// Field index: 0 title, 1 text, 2 url.
    pub(crate) field: u8,
    /// First token index.
    pub(crate) t0: u32,
    /// Last token index.
    pub(crate) t1: u32,
    /// Normalized byte range.
    pub(crate) s: u32,
    pub(crate) e: u32,
}

/// A field prepared for matching.
#[derive(Debug)]
pub(crate) struct FieldText<'a> {
    pub(crate) norm: Normalized,
    pub(crate) tokens: Vec<(usize, usize)>,
    /// The text as published (checksums that depend on letter case read it), borrowed from
    /// the document: a copy per field was a memcpy and an allocation of the whole page.
    pub(crate) original: &'a str,
}

impl<'a> FieldText<'a> {
    pub(crate) fn new(original: &'a str) -> FieldText<'a> {
        let (norm, tokens) = normalize::normalize_with_tokens(original);
        FieldText {
            norm,
            tokens,
            original,
        }
    }

    /// Token range covering normalized bytes `[s, e)`.
    fn token_range(&self, s: usize, e: usize) -> (u32, u32) {
        let t0 = self.tokens.partition_point(|t| t.1 <= s);
        let t1 = self
            .tokens
            .partition_point(|t| t.0 < e)
            .saturating_sub(1)
            .max(t0);
        (t0 as u32, t1 as u32)
    }
}

/// What the matcher needs to know about each rule.
#[derive(Debug)]
pub(crate) struct RuleProgram {
    pub(crate) node: Node,
    positive: Positive,
    /// Clauses of pieces the rule needs (see [`required_clauses`]): a candidate missing one is
    /// dropped before evaluation.
    required: Vec<Vec<usize>>,
}

impl RuleProgram {
    pub(crate) fn new(node: Node, atoms: &Atoms) -> RuleProgram {
        let mut positive = Positive::default();
        positive_atoms(&node, atoms, &mut positive);
        let mut required = required_clauses(&node, atoms);
        required.sort();
        required.dedup();
        RuleProgram {
            node,
            positive,
            required,
        }
    }
}

/// The compiled presearch and the rule programs.
#[derive(Debug)]
pub(crate) struct Matcher {
    atoms: Atoms,
    /// Every literal (and its Latin skeleton), looked up per token.
    literals: Literals,
    regex_set: RegexSet,
    regexes: Vec<Regex>,
    programs: Vec<RuleProgram>,
    /// Rules marked a candidate by each piece: the rules with a required clause whose key
    /// clause (see [`Gate`]) has the piece, and the rules without one that use the piece as a
    /// positive atom.
    piece_rules: Postings,
    /// Rules without a required clause that use each regex.
    regex_rules: Postings,
    /// Rules without a required clause that use an indicator.
    indicator_rules: Vec<u32>,
    /// Each rule's required clauses (as clause ids) and each clause's pieces: the programs'
    /// `required`, flattened — the test runs for every candidate of a page, and the nested
    /// vectors were a cache miss or two per candidate.
    rule_clauses: Postings,
    clause_pieces: Postings,
    /// Each rule's positive atoms, for the rules marked by their key clause (see
    /// [`Matcher::piece_rules`]); empty for the others.
    gates: Vec<Gate>,
}

/// The positive atoms of a rule with required clauses. Such a rule is marked a candidate by
/// the pieces of one of its clauses (its key clause: it cannot fire without one of them), not
/// by every positive atom — a page marked hundreds of rules by common words, and testing each
/// one's clauses was a tenth of a scan. A rule is evaluated when one of its positive atoms
/// occurs and its clauses hold, as before: the gate is that first condition, tested for the
/// few rules whose clauses hold.
#[derive(Debug, Default)]
struct Gate {
    pieces: Box<[u32]>,
    regexes: Box<[u32]>,
    indicator: bool,
}

impl Matcher {
    /// Builds the literal index and regex set. Regexes were validated at compile time.
    pub(crate) fn new(atoms: Atoms, programs: Vec<RuleProgram>) -> Matcher {
        // Every literal, plus the Latin transliteration skeleton of every Cyrillic literal
        // (Kazakh typed in Latin letters meets the same rule words; see `translit`).
        let mut lit_ids: HashMap<String, usize> = HashMap::new();
        let mut lits: Vec<(String, LitPieces)> = Vec::new();
        for (id, p) in atoms.pieces.iter().enumerate() {
            let skeleton = translit::cyrillic_skeleton(&p.lit);
            for lit in std::iter::once(p.lit.clone()).chain(skeleton) {
                if lit.is_empty() {
                    // no token is empty
                    continue;
                }
                let pat = *lit_ids.entry(lit.clone()).or_insert_with(|| {
                    lits.push((lit, LitPieces::default()));
                    lits.len() - 1
                });
                if p.prefix {
                    lits[pat].1.prefix = Some(id);
                } else {
                    lits[pat].1.word = Some(id);
                }
            }
        }
        let literals = Literals::new(&lits);
        let regex_set = RegexSet::new(&atoms.regexes).expect("regexes validated at compile time");
        let regexes = atoms
            .regexes
            .iter()
            .map(|r| Regex::new(r).expect("regexes validated at compile time"))
            .collect();
        let mut piece_rules = vec![Vec::new(); atoms.pieces.len()];
        let mut regex_rules = vec![Vec::new(); atoms.regexes.len()];
        let mut indicator_rules = Vec::new();
        let mut gates = Vec::with_capacity(programs.len());
        for (r, prog) in programs.iter().enumerate() {
            // the key clause: the fewest pieces, then the longest shortest literal (rarer)
            let key = prog.required.iter().min_by_key(|c| {
                let shortest = c.iter().map(|&p| atoms.pieces[p].lit.len()).min();
                (c.len(), std::cmp::Reverse(shortest))
            });
            if let Some(key) = key {
                for &p in key {
                    piece_rules[p].push(r);
                }
                gates.push(Gate {
                    pieces: prog.positive.pieces.iter().map(|&p| p as u32).collect(),
                    regexes: prog.positive.regexes.iter().map(|&x| x as u32).collect(),
                    indicator: !prog.positive.indicators.is_empty(),
                });
                continue;
            }
            gates.push(Gate::default());
            for &p in &prog.positive.pieces {
                piece_rules[p].push(r);
            }
            for &x in &prog.positive.regexes {
                regex_rules[x].push(r);
            }
            if !prog.positive.indicators.is_empty() {
                indicator_rules.push(r as u32);
            }
        }
        for v in piece_rules.iter_mut().chain(regex_rules.iter_mut()) {
            v.dedup();
        }
        let (piece_rules, regex_rules) = (Postings::new(piece_rules), Postings::new(regex_rules));
        let mut clauses = Vec::new();
        let rule_clauses = Postings::new(
            programs
                .iter()
                .map(|prog| {
                    let ids = (clauses.len()..clauses.len() + prog.required.len()).collect();
                    clauses.extend(prog.required.iter().cloned());
                    ids
                })
                .collect(),
        );
        let clause_pieces = Postings::new(clauses);
        Matcher {
            atoms,
            literals,
            regex_set,
            regexes,
            programs,
            piece_rules,
            regex_rules,
            indicator_rules,
            rule_clauses,
            clause_pieces,
            gates,
        }
    }

    /// Rules (indices) that fire on the prepared fields, with the occurrences that made them
    /// fire. `allowed(rule)` filters rules out before evaluation (language).
    pub(crate) fn scan(
        &self,
        fields: &[Option<FieldText<'_>>; 3],
        allowed: impl Fn(usize) -> bool,
    ) -> Vec<(usize, Vec<Occ>)> {
        // (piece, occurrence) in text order, grouped by piece below: one push per hit instead
        // of a hash-map entry and a vector per piece (their upkeep and freeing were a tenth
        // of a scan on a page with a thousand distinct words of a large rule set)
        // sized for about three hits a token (a word and a few of its prefixes are rule
        // pieces on pages in the rules' language), so the vector rarely grows and copies
        let n_tokens: usize = fields.iter().flatten().map(|f| f.tokens.len()).sum();
        let mut hits: Vec<(usize, Occ)> = Vec::with_capacity(n_tokens * 3);
        let mut regex_fields: Vec<FieldMask> = vec![0; self.regexes.len()];
        for (fi, f) in fields.iter().enumerate() {
            let Some(f) = f else { continue };
            let text = &f.norm.text;
            let bytes = text.as_bytes();
            for (ti, &(t0, t1)) in f.tokens.iter().enumerate() {
                let occ = Occ {
                    field: fi as u8,
                    t0: ti as u32,
                    t1: ti as u32,
                    s: t0 as u32,
                    e: t1 as u32,
                };
                self.literals.find(bytes, t0, t1, |p, whole| {
                    if whole && let Some(w) = p.word {
                        hits.push((w, occ));
                    }
                    if let Some(p) = p.prefix {
                        hits.push((p, occ));
                    }
                });
            }
            if !self.regexes.is_empty() {
                for r in self.regex_set.matches(text).iter() {
                    regex_fields[r] |= 1 << fi;
                }
            }
        }
        let piece_hits = PieceHits::new(hits, self.atoms.pieces.len());
        // candidate rules as a bit set: read in ascending order, as a sorted and deduplicated
        // list would be, without sorting thousands of ids on pages full of rule words
        let mut candidates = vec![0u64; self.programs.len().div_ceil(64)];
        let mut mark = |rules: &[u32]| {
            for &r in rules {
                candidates[r as usize / 64] |= 1 << (r % 64);
            }
        };
        for &(p, _, _) in &piece_hits.index {
            mark(self.piece_rules.get(p as usize));
        }
        for (x, mask) in regex_fields.iter().enumerate() {
            if *mask != 0 {
                mark(self.regex_rules.get(x));
            }
        }
        mark(&self.indicator_rules);
        // set bits only, lowest first (a bit test of each of the ten thousand rules was a
        // per-page cost of its own)
        let candidates = candidates.iter().enumerate().flat_map(|(w, &bits)| {
            std::iter::successors((bits != 0).then_some(bits), |b| {
                let rest = b & (b - 1);
                (rest != 0).then_some(rest)
            })
            .map(move |b| w * 64 + b.trailing_zeros() as usize)
        });

        let mut ctx = Ctx {
            m: self,
            fields,
            piece_hits,
            regex_fields,
            terms: IdMap::default(),
            regex_occs: HashMap::new(),
            indicator_occs: HashMap::new(),
        };
        let mut fired = Vec::new();
        for r in candidates {
            if !allowed(r) {
                continue;
            }
            let any_occurred = |pieces: &[u32]| {
                pieces
                    .iter()
                    .any(|&p| ctx.piece_hits.contains_key(&(p as usize)))
            };
            let clauses = self.rule_clauses.get(r);
            if !clauses
                .iter()
                .all(|&c| any_occurred(self.clause_pieces.get(c as usize)))
            {
                continue;
            }
            if !clauses.is_empty() {
                let g = &self.gates[r];
                let marked = g.indicator
                    || any_occurred(&g.pieces)
                    || g.regexes.iter().any(|&x| ctx.regex_fields[x as usize] != 0);
                if !marked {
                    continue;
                }
            }
            if let Some(mut occs) = ctx.eval(&self.programs[r].node) {
                occs.sort();
                occs.dedup();
                if !occs.is_empty() {
                    fired.push((r, occs));
                }
            }
        }
        fired
    }
}

/// A list of rule ids per key (piece or regex), all in one vector: a page marks the rules
/// of hundreds of pieces, and a vector per piece cost a cache miss for its header and another
/// for its ids.
#[derive(Debug)]
struct Postings {
    /// Key `k`'s ids are `ids[starts[k]..starts[k + 1]]`.
    starts: Vec<u32>,
    ids: Vec<u32>,
}

impl Postings {
    fn new(lists: Vec<Vec<usize>>) -> Postings {
        let mut starts = Vec::with_capacity(lists.len() + 1);
        let mut ids = Vec::new();
        starts.push(0);
        for l in lists {
            ids.extend(l.into_iter().map(|r| r as u32));
            starts.push(ids.len() as u32);
        }
        Postings { starts, ids }
    }

    fn get(&self, k: usize) -> &[u32] {
        &self.ids[self.starts[k] as usize..self.starts[k + 1] as usize]
    }
}

/// Occurrences of the pieces found in a document, at most `MAX_OCCS * 4` per piece, in text
/// order: one vector, grouped by piece.
struct PieceHits {
    /// (piece, range of `occs`), ascending by piece: built as the sorted hits are grouped, a
    /// push per piece where a hash map cost an insert (hundreds a page); looked up (by binary
    /// search) only when a term is evaluated, occurrence tests go to `present`.
    index: Vec<(u32, u32, u32)>,
    /// The pieces of `index` as a bit set: the required-clause test of every candidate rule
    /// asks whether a piece occurred (thousands of times a page), a bit test instead of a hash
    /// lookup (a few kilobytes to clear per page for tens of thousands of pieces).
    present: Vec<u64>,
    occs: Vec<Occ>,
}

impl PieceHits {
    /// Groups `(piece, occurrence)` pairs given in text order.
    fn new(hits: Vec<(usize, Occ)>, n_pieces: usize) -> PieceHits {
        // sorted as (piece, position in `hits`) in a u64: each piece's occurrences stay in
        // text order (so the cap keeps the first), and sorting integers is several times
        // cheaper than a stable sort of the pairs
        let mut keys: Vec<u64> = hits
            .iter()
            .enumerate()
            .map(|(k, h)| ((h.0 as u64) << 32) | k as u64)
            .collect();
        sort_by_piece(&mut keys, n_pieces);
        let mut index = Vec::new();
        let mut present = vec![0u64; n_pieces.div_ceil(64)];
        let mut occs = Vec::with_capacity(hits.len());
        let mut k = 0;
        while k < keys.len() {
            let piece = keys[k] >> 32;
            let start = occs.len();
            let mut j = k;
            while j < keys.len() && keys[j] >> 32 == piece {
                if j - k < MAX_OCCS * 4 {
                    occs.push(hits[(keys[j] & 0xFFFF_FFFF) as usize].1);
                }
                j += 1;
            }
            index.push((piece as u32, start as u32, occs.len() as u32));
            present[piece as usize / 64] |= 1 << (piece % 64);
            k = j;
        }
        PieceHits {
            index,
            present,
            occs,
        }
    }

    fn get(&self, piece: &usize) -> Option<&[Occ]> {
        let k = self
            .index
            .binary_search_by_key(piece, |e| e.0 as usize)
            .ok()?;
        let (_, s, e) = self.index[k];
        Some(&self.occs[s as usize..e as usize])
    }

    fn contains_key(&self, piece: &usize) -> bool {
        self.present
            .get(piece / 64)
            .is_some_and(|w| w & (1 << (piece % 64)) != 0)
    }
}

/// Sorts keys `piece << 32 | position` given in position order, as `sort_unstable` would:
/// a least-significant-digit radix sort on the piece bits, which is stable, so positions stay
/// in order within a piece. A page has hundreds of hits; comparison sorting them was a
/// twentieth of a scan, two or three counting passes cost a fraction of that.
fn sort_by_piece(keys: &mut Vec<u64>, n_pieces: usize) {
    if keys.len() < 64 {
        keys.sort_unstable();
        return;
    }
    let piece_bits = usize::BITS - n_pieces.saturating_sub(1).leading_zeros();
    let mut tmp = vec![0u64; keys.len()];
    let mut shift = 32;
    while shift < 32 + piece_bits {
        let digit = |k: u64| ((k >> shift) & 0xFF) as usize;
        let mut at = [0usize; 256];
        for &k in keys.iter() {
            at[digit(k)] += 1;
        }
        let mut sum = 0;
        for a in at.iter_mut() {
            (*a, sum) = (sum, sum + *a);
        }
        for &k in keys.iter() {
            let d = digit(k);
            tmp[at[d]] = k;
            at[d] += 1;
        }
        std::mem::swap(keys, &mut tmp);
        shift += 8;
    }
}

/// Per-scan caches.
struct Ctx<'a> {
    m: &'a Matcher,
    fields: &'a [Option<FieldText<'a>>; 3],
    piece_hits: PieceHits,
    regex_fields: Vec<FieldMask>,
    terms: IdMap<Vec<Occ>>,
    regex_occs: HashMap<(usize, FieldMask), Vec<Occ>>,
    indicator_occs: HashMap<(Indicator, FieldMask), Vec<Occ>>,
}

impl Ctx<'_> {
    /// `None`: the node does not hold. `Some(occs)`: it holds, with this evidence (empty for
    /// a satisfied NOT).
    fn eval(&mut self, n: &Node) -> Option<Vec<Occ>> {
        let occs = match n {
            Node::Term(t) => self.term(*t),
            Node::Regex(r, mask) => self.regex(*r, *mask),
            Node::Indicator(k, mask) => self.indicator(*k, *mask),
            Node::And(items) => {
                let mut all = Vec::new();
                for i in items {
                    all.extend(self.eval(i)?);
                }
                all.truncate(MAX_OCCS);
                return Some(all);
            }
            Node::Or(items) => {
                let mut any = false;
                let mut all = Vec::new();
                for i in items {
                    if let Some(o) = self.eval(i) {
                        any = true;
                        all.extend(o);
                    }
                }
                all.truncate(MAX_OCCS);
                return any.then_some(all);
            }
            Node::Not(inner) => return self.eval(inner).is_none().then(Vec::new),
            Node::Near(a, b, dist) => {
                let left = self.eval(a)?;
                let right = self.eval(b)?;
                near(&left, &right, *dist)
            }
        };
        (!occs.is_empty()).then_some(occs)
    }

    fn term(&mut self, t: usize) -> Vec<Occ> {
        if let Some(o) = self.terms.get(&t) {
            return o.clone();
        }
        let term = &self.m.atoms.terms[t];
        let Some(first) = self.piece_hits.get(&term.pieces[0]) else {
            self.terms.insert(t, Vec::new());
            return Vec::new();
        };
        let mut out = Vec::new();
        for o in first {
            if term.fields & (1 << o.field) == 0 {
                continue;
            }
            let mut end = *o;
            let mut ok = true;
            for (k, &p) in term.pieces.iter().enumerate().skip(1) {
                let want = o.t0 + k as u32;
                match self
                    .piece_hits
                    .get(&p)
                    .and_then(|v| v.iter().find(|h| h.field == o.field && h.t0 == want))
                {
                    Some(h) => end = *h,
                    None => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok {
                out.push(Occ {
                    t1: end.t1,
                    e: end.e,
                    ..*o
                });
                if out.len() >= MAX_OCCS {
                    break;
                }
            }
        }
        self.terms.insert(t, out.clone());
        out
    }

    fn regex(&mut self, r: usize, mask: FieldMask) -> Vec<Occ> {
        if self.regex_fields[r] & mask == 0 {
            return Vec::new();
        }
        if let Some(o) = self.regex_occs.get(&(r, mask)) {
            return o.clone();
        }
        let re = &self.m.regexes[r];
        let out = self.spans_to_occs(mask, |f| {
            re.find_iter(&f.norm.text)
                .map(|m| (m.start(), m.end()))
                .collect()
        });
        self.regex_occs.insert((r, mask), out.clone());
        out
    }

    fn indicator(&mut self, k: Indicator, mask: FieldMask) -> Vec<Occ> {
        if let Some(o) = self.indicator_occs.get(&(k, mask)) {
            return o.clone();
        }
        let out = self.spans_to_occs(mask, |f| {
            let original = |a: usize, b: usize| {
                let (x, y) = f.norm.span(a, b);
                f.original.get(x..y).unwrap_or_default().to_string()
            };
            k.find(&f.norm.text, &original)
        });
        self.indicator_occs.insert((k, mask), out.clone());
        out
    }

    fn spans_to_occs(
        &self,
        mask: FieldMask,
        find: impl Fn(&FieldText<'_>) -> Vec<(usize, usize)>,
    ) -> Vec<Occ> {
        let mut out = Vec::new();
        for (fi, f) in self.fields.iter().enumerate() {
            let Some(f) = f else { continue };
            if mask & (1 << fi) == 0 {
                continue;
            }
            for (s, e) in find(f).into_iter().take(MAX_OCCS) {
                let (t0, t1) = f.token_range(s, e);
                out.push(Occ {
                    field: fi as u8,
                    t0,
                    t1,
                    s: s as u32,
                    e: e as u32,
                });
            }
        }
        out
    }
}

/// Occurrences of `a` and `b` in the same field with at most `dist` tokens between them.
fn near(a: &[Occ], b: &[Occ], dist: u32) -> Vec<Occ> {
    let mut out = Vec::new();
    for x in a {
        for y in b {
            if x.field != y.field {
                continue;
            }
            let gap = if x.t1 < y.t0 {
                y.t0 - x.t1 - 1
            } else if y.t1 < x.t0 {
                x.t0 - y.t1 - 1
            } else {
                0
            };
            if gap <= dist {
                out.push(*x);
                out.push(*y);
            }
        }
        if out.len() >= MAX_OCCS {
            break;
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::parser::parse;

    /// (name, expression, text, expected matched fragments of the normalized text or None)
    type Case = (
        &'static str,
        &'static str,
        &'static str,
        Option<&'static [&'static str]>,
    );

    fn run(expr: &str, text: &str) -> Option<Vec<String>> {
        let mut atoms = Atoms::default();
        let node = atoms
            .compile(&parse(expr).unwrap(), &HashMap::new())
            .unwrap();
        let prog = RuleProgram::new(node, &atoms);
        let m = Matcher::new(atoms, vec![prog]);
        let fields = [None, Some(FieldText::new(text)), None];
        let fired = m.scan(&fields, |_| true);
        let f = fields[1].as_ref().unwrap();
        fired.first().map(|(_, occs)| {
            occs.iter()
                .map(|o| f.norm.text[o.s as usize..o.e as usize].to_string())
                .collect()
        })
    }

    #[test]
    fn matcher_table() {
        let cases: &[Case] = &[
            ("word", "казино", "Лучшее КАЗИНО онлайн", Some(&["казино"])),
            ("whole word only", "казино", "казинолэнд", None),
            ("prefix", "казин*", "казиношка тут", Some(&["казиношка"])),
            ("prefix not mid-word", "зино*", "казино", None),
            (
                "phrase",
                "\"без залога\"",
                "займ без залога",
                Some(&["без залога"]),
            ),
            ("phrase order", "\"без залога\"", "залога без", None),
            (
                "phrase prefix",
                "\"пассивн* доход*\"",
                "пассивного дохода",
                Some(&["пассивного дохода"]),
            ),
            (
                "and",
                "займ AND залог*",
                "займ быстро без залога",
                Some(&["займ", "залога"]),
            ),
            ("implicit and", "займ залог*", "только займ", None),
            ("or", "займ | кредит", "дам кредит", Some(&["кредит"])),
            ("not", "займ NOT мфо", "займ в мфо", None),
            (
                "not passes",
                "займ NOT мфо",
                "займ у частника",
                Some(&["займ"]),
            ),
            (
                "near hit",
                "гарант* NEAR/2 доход*",
                "гарантируем вам доход",
                Some(&["гарантируем", "доход"]),
            ),
            (
                "near miss",
                "гарант* NEAR/1 доход*",
                "гарантируем очень большой доход",
                None,
            ),
            (
                "near either order",
                "доход* NEAR/0 гарант*",
                "гарантированный доход",
                Some(&["гарантированный", "доход"]),
            ),
            (
                "regex",
                "/\\d+ ?usdt/ обмен",
                "обмен 100 usdt",
                Some(&["обмен", "100 usdt"]),
            ),
            (
                "indicator",
                "@card NEAR/3 карт*",
                "карта 4111 1111 1111 1111",
                Some(&["карта", "4111 1111 1111 1111"]),
            ),
            ("lookalike text", "казино", "kaзинo", Some(&["казино"])),
            ("kazakh", "несие*", "Несиеге кепілсіз", Some(&["несиеге"])),
            ("title scope misses text", "title:казино", "казино", None),
            ("digits split", "1xbet", "играй в 1xbet!", Some(&["1xbet"])),
            (
                "kazakh latin",
                "тексерусіз NEAR/1 несие*",
                "Tekserusiz nesie bar",
                Some(&["tekserusiz", "nesie"]),
            ),
            (
                "kazakh latin phrase",
                "\"қаржы пирамида*\"",
                "Bul qarjy piramidasy emes",
                Some(&["karjy piramidasy"]),
            ),
        ];
        for (name, expr, text, want) in cases {
            let got = run(expr, text);
            let want = want.map(|w| w.iter().map(|s| s.to_string()).collect::<Vec<_>>());
            assert_eq!(got, want, "case {name}");
        }
    }

    /// DESIGN §6 lists `NOT` among the operators without a window: `x NOT y` fires when `y`
    /// occurs nowhere in the document (within `y`'s field scope), however far from `x`.
    #[test]
    fn not_is_document_wide_within_its_field_scope() {
        let scan = |expr: &str, title: &str, text: &str| {
            let mut atoms = Atoms::default();
            let node = atoms
                .compile(&parse(expr).unwrap(), &HashMap::new())
                .unwrap();
            let prog = RuleProgram::new(node, &atoms);
            let m = Matcher::new(atoms, vec![prog]);
            let fields = [
                (!title.is_empty()).then(|| FieldText::new(title)),
                Some(FieldText::new(text)),
                None,
            ];
            !m.scan(&fields, |_| true).is_empty()
        };
        let far = format!(
            "Займ без проверок. {} Источник: АФМ предупреждает.",
            "Обычное предложение. ".repeat(200)
        );
        assert!(!scan("займ NOT (предупрежда* | осторожно)", "", &far));
        // in the title too: the default scope of a word is title and text
        assert!(!scan(
            "займ NOT предупрежда*",
            "АФМ предупреждает",
            "Займ без проверок"
        ));
        // a field-scoped NOT looks only at its field
        assert!(scan(
            "займ NOT title:предупрежда*",
            "",
            "Займ без проверок, предупреждаем"
        ));
        assert!(!scan(
            "займ NOT title:предупрежда*",
            "АФМ предупреждает",
            "Займ без проверок"
        ));
        // NOT applies to its operand only: `(a NOT b) | c` still fires on c
        assert!(scan("(займ NOT мфо) | ломбард*", "", "мфо и ломбарды"));
    }

    #[test]
    fn radix_sort_by_piece_equals_sort() {
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for (n, n_pieces) in [(10, 5), (100, 3), (1000, 70_000), (5000, 1 << 24), (300, 1)] {
            let mut keys: Vec<u64> = (0..n as u64)
                .map(|k| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    ((seed % n_pieces as u64) << 32) | k
                })
                .collect();
            let mut want = keys.clone();
            want.sort_unstable();
            sort_by_piece(&mut keys, n_pieces);
            assert_eq!(keys, want, "{n} keys over {n_pieces} pieces");
        }
    }

    #[test]
    fn url_scope() {
        let mut atoms = Atoms::default();
        let node = atoms
            .compile(&parse("url:casino").unwrap(), &HashMap::new())
            .unwrap();
        let prog = RuleProgram::new(node, &atoms);
        let m = Matcher::new(atoms, vec![prog]);
        let in_text = [None, Some(FieldText::new("casino")), None];
        assert!(m.scan(&in_text, |_| true).is_empty());
        let in_url = [None, None, Some(FieldText::new("https://best-casino.kz/"))];
        assert_eq!(m.scan(&in_url, |_| true).len(), 1);
    }
}
