//! The [`super::RU_KK`] analyzer as one tokenizer: split, length check, lowercase, `ё` fold and
//! both stemmers in a single pass per token, with a cache of terms.
//!
//! The chain of tantivy filters in [`super::reference_chain`] is the specification; this is how
//! it runs in production, because profiling `bench/index.sh` (perf, 10,000 pages of ~20 KB)
//! showed the chain — not tantivy's postings or doc store — taking most of the indexing CPU:
//! `char::is_alphanumeric` falls to a slow Unicode table search for every non-ASCII character
//! (20% of all samples on Cyrillic text), per-character Unicode lowercasing another 15%, the
//! Snowball Russian stemmer 20%, and the copies and reallocations between filters 8%. Hence:
//!
//! * the letter test and lowercasing take a table-free path for ASCII and the Cyrillic blocks
//!   (U+0400–U+052F) and defer to `char` for everything else; tests check both against `char` for
//!   every code point, so the split and the case folding cannot drift from the chain's;
//! * terms are memoised per word as written: text follows Zipf's law, so most tokens of a page
//!   are words seen shortly before, whose lowercasing and two stemmers need not run again (only
//!   the split and one hash lookup do). On `bench/index.sh`'s chat text the fused tokenizer
//!   alone saves a third of the indexing CPU, with the cache two thirds; on text with a
//!   realistic vocabulary (`BENCH_TEXT=zipf`, ~150,000 distinct forms per 500 pages) the cache
//!   neither gains nor costs measurably (0.70–0.75 CPU ms per page either way), so it is kept for
//!   the repetitive pages (boilerplate, channel posts) where it pays. The cache is bounded
//!   ([`STEM_CACHE_WORDS`]) and belongs to one tokenizer instance — tantivy clones the analyzer
//!   for each segment writer and field — so it needs no lock and dies with the segment.
//!
//! Hand-written rather than a crate because no crate offers this fusion for tantivy; the pieces
//! that carry linguistic knowledge (Snowball via `frostem`, [`super::kk_stem`]) are reused as is.

use rustc_hash::FxHashMap;
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

use super::{MAX_TOKEN_BYTES, kk_stem};

/// Distinct words whose stems one tokenizer instance remembers; when full, the cache is emptied
/// and refilled. At ~40 bytes per entry plus the table, that is ~3 MB per instance at most —
/// two fields × the writer threads — and a few thousand Russian word forms already cover most
/// of the running text of a page.
pub const STEM_CACHE_WORDS: usize = 32_768;

/// The tokenizer behind [`super::ru_kk`]. Clones start with an empty stem cache.
pub struct RuKkTokenizer {
    token: Token,
    stems: StemCache,
}

impl Default for RuKkTokenizer {
    fn default() -> Self {
        RuKkTokenizer {
            token: Token::default(),
            stems: StemCache::new(),
        }
    }
}

impl Clone for RuKkTokenizer {
    /// A fresh tokenizer: the cache is only a memo, not worth copying into every segment writer.
    fn clone(&self) -> Self {
        RuKkTokenizer::default()
    }
}

impl Tokenizer for RuKkTokenizer {
    type TokenStream<'a> = RuKkStream<'a>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> RuKkStream<'a> {
        self.token.reset();
        RuKkStream {
            text,
            cursor: 0,
            tokenizer: self,
        }
    }
}

/// Token stream of [`RuKkTokenizer`].
pub struct RuKkStream<'a> {
    text: &'a str,
    /// Byte offset where the search for the next word starts.
    cursor: usize,
    tokenizer: &'a mut RuKkTokenizer,
}

impl TokenStream for RuKkStream<'_> {
    fn advance(&mut self) -> bool {
        let RuKkTokenizer { token, stems } = &mut *self.tokenizer;
        token.text.clear();
        let text = self.text;
        loop {
            let from = scan::<false>(text, self.cursor);
            if from == text.len() {
                self.cursor = from;
                return false;
            }
            let to = scan::<true>(text, from);
            self.cursor = to;
            // Dropped words still take a position, as with `RemoveLongFilter`: phrase queries
            // must not match across them.
            token.position = token.position.wrapping_add(1);
            if to - from >= MAX_TOKEN_BYTES {
                continue;
            }
            token.offset_from = from;
            token.offset_to = to;
            stems.stem_into(&text[from..to], &mut token.text);
            return true;
        }
    }

    fn token(&self) -> &Token {
        &self.tokenizer.token
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokenizer.token
    }
}

/// Word as written → term (lowercased, `ё` folded, Kazakh endings stripped, then Snowball
/// Russian), memoised. Keyed by the word as written, so a hit skips the lowercasing too; the few
/// capitalised variants of a word simply take an entry each.
struct StemCache {
    russian: frostem::Stemmer,
    terms: FxHashMap<Box<str>, Box<str>>,
    /// Scratch buffer for the lowercased word.
    lower: String,
}

impl StemCache {
    fn new() -> Self {
        StemCache {
            russian: frostem::Stemmer::new(frostem::Algorithm::Russian),
            terms: FxHashMap::default(),
            lower: String::new(),
        }
    }

    /// Appends the term of `word` to `out`.
    fn stem_into(&mut self, word: &str, out: &mut String) {
        if let Some(term) = self.terms.get(word) {
            out.push_str(term);
            return;
        }
        self.lower.clear();
        for c in word.chars() {
            push_lower_folded(c, &mut self.lower);
        }
        let term = self.russian.stem(kk_stem::stem(&self.lower));
        out.push_str(&term);
        if self.terms.len() >= STEM_CACHE_WORDS {
            self.terms.clear();
        }
        self.terms.insert(word.into(), term.into());
    }
}

/// The first byte offset from `at` whose character is (`WORD`) or is not (`!WORD`) a word
/// character, or the end of the text. Works on UTF-8 bytes: ASCII and two-byte Cyrillic
/// (U+0400–U+04FF, lead bytes 0xD0–0xD3) are classified without decoding — a third of the
/// indexing instructions went into `CharIndices` decoding and the letter test before.
#[inline]
fn scan<const WORD: bool>(text: &str, mut at: usize) -> usize {
    let bytes = text.as_bytes();
    while at < bytes.len() {
        let lead = bytes[at];
        let (is_word, len) = if lead < 0x80 {
            (lead.is_ascii_alphanumeric(), 1)
        } else if matches!(lead, 0xd0 | 0xd1 | 0xd3) {
            (true, 2)
        } else if lead == 0xd2 {
            // U+0482–U+0489 (0xD2 0x82–0x89) are the non-letters of the block; a lead byte is
            // always followed by its continuation byte in a `str`.
            (!matches!(bytes.get(at + 1), Some(0x82..=0x89)), 2)
        } else {
            let c = text[at..].chars().next().unwrap_or_default();
            (is_word_char(c), c.len_utf8())
        };
        if is_word != WORD {
            return at;
        }
        at += len;
    }
    bytes.len()
}

/// `c.is_alphanumeric()` — the letter test of tantivy's `SimpleTokenizer` — without the Unicode
/// table search for ASCII and Cyrillic (U+0400–U+052F, where only U+0482–U+0489, a sign and
/// combining marks, are not letters).
#[inline]
fn is_word_char(c: char) -> bool {
    match c {
        '\0'..='\u{7f}' => c.is_ascii_alphanumeric(),
        '\u{0482}'..='\u{0489}' => false,
        '\u{0400}'..='\u{052f}' => true,
        _ => c.is_alphanumeric(),
    }
}

/// Appends `c` lowercased (as `char::to_lowercase`, which tantivy's `LowerCaser` applies per
/// character) with `ё` folded into `е`, computing ASCII and Cyrillic case by arithmetic.
#[inline]
fn push_lower_folded(c: char, out: &mut String) {
    let lower = match c as u32 {
        0x41..=0x5a | 0x410..=0x42f => c as u32 + 0x20, // A–Z, А–Я
        0x400..=0x40f => c as u32 + 0x50,               // Ѐ–Џ (Ё, І, …)
        0..=0x7f | 0x430..=0x45f => c as u32,           // lowercase already
        // Historic, Kazakh (Ғ Қ Ң Ү Ұ Һ Ә Ө) and other extended letters: uppercase at even code
        // points, each followed by its lowercase.
        0x460..=0x481 | 0x48a..=0x4bf | 0x4d0..=0x52f => c as u32 | 1,
        _ => {
            out.extend(c.to_lowercase().map(fold_yo));
            return;
        }
    };
    // Every arm above maps a letter to a letter of the same block: always a valid char.
    out.push(fold_yo(char::from_u32(lower).unwrap_or(c)));
}

#[inline]
fn fold_yo(c: char) -> char {
    if c == 'ё' { 'е' } else { c }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_chars() -> impl Iterator<Item = char> {
        (0..=u32::from(char::MAX)).filter_map(char::from_u32)
    }

    #[test]
    fn letter_test_equals_is_alphanumeric_for_every_char() {
        for c in all_chars() {
            assert_eq!(is_word_char(c), c.is_alphanumeric(), "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn lowercasing_equals_char_to_lowercase_then_yo_fold_for_every_char() {
        let mut got = String::new();
        for c in all_chars() {
            got.clear();
            push_lower_folded(c, &mut got);
            let want: String = c.to_lowercase().collect::<String>().replace('ё', "е");
            assert_eq!(got, want, "U+{:04X}", c as u32);
        }
    }

    #[test]
    fn a_full_cache_is_emptied_and_keeps_stemming() {
        let mut cache = StemCache::new();
        let mut term = String::new();
        for i in 0..STEM_CACHE_WORDS + 10 {
            cache.stem_into(&format!("Слово{i}"), &mut term);
        }
        assert!(cache.terms.len() <= STEM_CACHE_WORDS);
        for (word, want) in [
            ("Пирамиды", "пирамид"),
            ("ақшаны", "ақш"),
            ("Пирамиды", "пирамид"),
        ] {
            term.clear();
            cache.stem_into(word, &mut term);
            assert_eq!(term, want, "{word}");
        }
    }
}
