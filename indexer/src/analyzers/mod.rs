//! Text analysis for Russian and Kazakh pages.
//!
//! One analyzer, [`RU_KK`], serves both languages because the pages we watch mix them freely
//! (a Kazakh Telegram post quoting a Russian ad). The chain is:
//!
//! 1. split on anything that is not a letter or digit (Kazakh letters are letters, so «қазақ»
//!    stays one token);
//! 2. drop only tokens longer than [`MAX_TOKEN_BYTES`] bytes — tantivy's default drops tokens over
//!    40 bytes, i.e. any Cyrillic word over 20 letters, and scam texts love glued words;
//! 3. lowercase; 4. fold `ё` into `е` ([`yo_fold`]);
//! 5. strip Kazakh endings from recognisably Kazakh words ([`kk_stem`]);
//! 6. the Snowball Russian stemmer.
//!
//! The chain above is written with tantivy filters in [`reference_chain`], the specification;
//! indexing and queries run [`fused::RuKkTokenizer`], which does the same in one pass per token
//! with a term cache (a third of the CPU per page on `bench/index.sh`; see [`fused`]), and is
//! tested token for token against the chain.
//!
//! tantivy does not persist tokenizers: every time an index is opened, [`register`] must run
//! again, or indexing and query parsing fail with an unknown-tokenizer error.

pub mod fused;
pub mod kk_stem;
pub mod rewrite;
pub mod yo_fold;

use tantivy::Index;
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};

pub use fused::RuKkTokenizer;
pub use kk_stem::KazakhStemmer;
pub use yo_fold::YoFold;

/// Name under which the Russian/Kazakh analyzer is registered and referenced by the schema.
pub const RU_KK: &str = "ru_kk";

/// Tokens of this many bytes or more are dropped (255 bytes kept: 127 Cyrillic letters).
pub const MAX_TOKEN_BYTES: usize = 256;

/// Builds the Russian/Kazakh analyzer described in the module documentation.
pub fn ru_kk() -> TextAnalyzer {
    TextAnalyzer::from(RuKkTokenizer::default())
}

/// The analyzer as a chain of tantivy filters: what [`ru_kk`] must produce, step by step. Not
/// used for indexing (it is several times slower), but the yardstick of the fused tokenizer.
pub fn reference_chain() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_TOKEN_BYTES))
        .filter(LowerCaser)
        .filter(YoFold)
        .filter(KazakhStemmer)
        .filter(Stemmer::new(Language::Russian))
        .build()
}

/// Registers every analyzer the schema refers to on `index`. Call after each open.
pub fn register(index: &Index) {
    index.tokenizers().register(RU_KK, ru_kk());
}

/// Terms `text` produces under `analyzer` — what the index stores and the query parser looks up.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyze(text: &str) -> Vec<String> {
        terms(&mut ru_kk(), text)
    }

    #[test]
    fn inflected_forms_share_a_term() {
        let groups: &[&[&str]] = &[
            &["пирамида", "пирамиды", "пирамиду", "пирамидой"],
            &["доход", "дохода", "доходы", "доходов"],
            &["приём", "прием", "ПРИЁМ"],
            &["ақша", "ақшаны", "ақшаға"],
            &["қазақстан", "қазақстанда", "Қазақстанның"],
            &["ұйым", "ұйымдар", "ұйымдарға"],
        ];
        for group in groups {
            let first = analyze(group[0]);
            assert_eq!(first.len(), 1, "{:?}", group[0]);
            for form in &group[1..] {
                assert_eq!(analyze(form), first, "{form:?} vs {:?}", group[0]);
            }
        }
    }

    /// Every token field tantivy indexes: text, offsets (highlighting), position (phrases).
    fn tokens(
        analyzer: &mut TextAnalyzer,
        text: &str,
    ) -> Vec<(String, usize, usize, usize, usize)> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(t) = stream.next() {
            out.push((
                t.text.clone(),
                t.offset_from,
                t.offset_to,
                t.position,
                t.position_length,
            ));
        }
        out
    }

    #[test]
    fn fused_tokenizer_equals_the_reference_chain() {
        let chat = include_str!("../../../classifier/tests/data/ham-samples.txt");
        let at_limit = format!(
            "{} {} {}",
            "я".repeat(127),
            "я".repeat(128),
            "z".repeat(256)
        );
        let edge_cases = [
            "",
            "   ,,, !!!",
            "Ёлка ЁЖ приём ПРИЁМ",
            "ҚАЗАҚСТАНДАҒЫ Ұйымдарымыздың ӘЛЕМ Өмір Үй Һ І ҒАЛАМ ҢҢ",
            "ΣΊΣΥΦΟΣ İstanbul Straße ǅemal ﬁnance",
            "x²+y³ ١٢٣ 42kg №5 café naïve Ѐѐ Ѡѡ Ӂӂ Ӏӏ Ԛԛ ҂҃҄",
            "emoji😀word tab\tnew\nline under_score hy-phen",
            at_limit.as_str(),
        ];
        // Every code point, alone between spaces and glued to its neighbours and to letters.
        let every_char: String = (0..=u32::from(char::MAX))
            .filter_map(char::from_u32)
            .flat_map(|c| [c, ' ', c, 'ж', c, 'z'])
            .collect();
        let mut fused = ru_kk();
        let mut reference = reference_chain();
        for text in edge_cases
            .into_iter()
            .chain(chat.lines())
            .chain(every_char.as_str().split_inclusive('\n'))
        {
            assert_eq!(
                tokens(&mut fused, text),
                tokens(&mut reference, text),
                "{text:?}"
            );
        }
        // Whole documents, twice through one instance: the second pass is served by the cache.
        for _ in 0..2 {
            assert_eq!(tokens(&mut fused, chat), tokens(&mut reference, chat));
        }
    }

    #[test]
    fn long_cyrillic_words_are_kept_and_absurd_ones_dropped() {
        let long = "человеконенавистничество"; // 24 letters, 48 bytes
        assert_eq!(analyze(long).len(), 1);
        let glued = "высокодоходныеинвестиционныепроектысгарантией"; // 45 letters
        assert_eq!(analyze(glued).len(), 1);
        let absurd = "а".repeat(200); // 400 bytes: base64 blobs and the like
        assert!(analyze(&absurd).is_empty());
    }

    #[test]
    fn splits_on_punctuation_and_keeps_kazakh_letters_inside_words() {
        let terms = analyze("Қазақ-тілі, 100% табыс!");
        assert_eq!(terms.len(), 4, "{terms:?}");
        assert!(terms.iter().all(|t| !t.contains(['-', ',', '%', '!'])));
        assert!(terms[0].starts_with("қазақ"));
    }
}
