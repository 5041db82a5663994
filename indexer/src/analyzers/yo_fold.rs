//! Folding of `ё` into `е`.
//!
//! Russian text writes `ё` and `е` interchangeably (most sites and Telegram posts omit the dots),
//! so «приём» and «прием» must be the same term. The filter runs after lowercasing, so only the
//! lowercase letter needs folding; the Russian stemmer then sees one spelling.

use tantivy::tokenizer::{Token, TokenFilter, TokenStream, Tokenizer};

/// Token filter replacing `ё` with `е` in (already lowercased) tokens.
#[derive(Clone, Copy, Debug, Default)]
pub struct YoFold;

impl TokenFilter for YoFold {
    type Tokenizer<T: Tokenizer> = YoFoldFilter<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> YoFoldFilter<T> {
        YoFoldFilter { inner: tokenizer }
    }
}

/// The tokenizer produced by [`YoFold`] wrapping an inner tokenizer.
#[derive(Clone)]
pub struct YoFoldFilter<T> {
    inner: T,
}

impl<T: Tokenizer> Tokenizer for YoFoldFilter<T> {
    type TokenStream<'a> = YoFoldStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        YoFoldStream {
            tail: self.inner.token_stream(text),
        }
    }
}

/// Token stream of [`YoFoldFilter`].
pub struct YoFoldStream<T> {
    tail: T,
}

impl<T: TokenStream> TokenStream for YoFoldStream<T> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        let token = self.tail.token_mut();
        if token.text.contains('ё') {
            token.text = token.text.replace('ё', "е");
        }
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
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
