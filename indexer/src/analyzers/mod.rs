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
//! tantivy does not persist tokenizers: every time an index is opened, [`register`] must run
//! again, or indexing and query parsing fail with an unknown-tokenizer error.

pub mod kk_stem;
pub mod rewrite;
pub mod yo_fold;

use tantivy::Index;
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};

pub use kk_stem::KazakhStemmer;
pub use yo_fold::YoFold;

/// Name under which the Russian/Kazakh analyzer is registered and referenced by the schema.
pub const RU_KK: &str = "ru_kk";

/// Tokens of this many bytes or more are dropped (255 bytes kept: 127 Cyrillic letters).
pub const MAX_TOKEN_BYTES: usize = 256;

/// Builds the Russian/Kazakh analyzer described in the module documentation.
pub fn ru_kk() -> TextAnalyzer {
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
