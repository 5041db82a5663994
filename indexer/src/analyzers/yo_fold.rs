//! Folding of `ё` into `е`.
//!
//! Russian text writes `ё` and `е` interchangeably (most sites and Telegram posts omit the dots),
//! so «приём» and «прием» must be the same term. The filter runs after lowercasing, so only the
//! lowercase letter needs folding; the Russian stemmer then sees one spelling.

use tantivy::tokenizer::{TokenFilter, Tokenizer};

use super::rewrite::{Rewrite, RewriteTokenizer};

/// Token filter replacing `ё` with `е` in (already lowercased) tokens.
#[derive(Clone, Copy, Debug, Default)]
pub struct YoFold;

impl Rewrite for YoFold {
    fn rewrite(&self, text: &mut String) {
        if text.contains('ё') {
            *text = text.replace('ё', "е");
        }
    }
}

impl TokenFilter for YoFold {
    type Tokenizer<T: Tokenizer> = RewriteTokenizer<T, YoFold>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> RewriteTokenizer<T, YoFold> {
        RewriteTokenizer::new(tokenizer, self)
    }
}

#[cfg(test)]
mod tests {
    use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};

    use super::*;

    fn fold(text: &str) -> Vec<String> {
        let mut analyzer = TextAnalyzer::builder(WhitespaceTokenizer::default())
            .filter(YoFold)
            .build();
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while let Some(t) = stream.next() {
            out.push(t.text.clone());
        }
        out
    }

    #[test]
    fn folds_yo_and_leaves_other_letters() {
        let cases: &[(&str, &[&str])] = &[
            ("приём", &["прием"]),
            ("ёлка ещё", &["елка", "еще"]),
            ("прием", &["прием"]),
            ("қазақ", &["қазақ"]),
            ("Ёж", &["Ёж"]), // runs after the lowercaser: uppercase is not its job
        ];
        for (input, want) in cases {
            assert_eq!(fold(input), *want, "input {input:?}");
        }
    }
}
