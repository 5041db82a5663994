//! The tantivy plumbing shared by our token filters that rewrite a token's text in place.
//!
//! A tantivy filter needs three types (the filter, the tokenizer it wraps, the token stream it
//! yields) whose only difference between filters is one line: how the text changes. [`Rewrite`]
//! is that line; [`RewriteTokenizer`] and [`RewriteStream`] are the plumbing, written once.

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};

/// An in-place change of a token's text (folding, stemming).
pub trait Rewrite: Clone + Send + Sync + 'static {
    /// Rewrites `text`; it must stay valid UTF-8 (it is a `String`).
    fn rewrite(&self, text: &mut String);
}

/// The tokenizer a rewriting filter produces around an inner tokenizer.
#[derive(Clone)]
pub struct RewriteTokenizer<T, R> {
    inner: T,
    rewrite: R,
}

impl<T, R> RewriteTokenizer<T, R> {
    /// Wraps `inner` so every token it yields goes through `rewrite`.
    pub fn new(inner: T, rewrite: R) -> Self {
        RewriteTokenizer { inner, rewrite }
    }
}

impl<T: Tokenizer, R: Rewrite> Tokenizer for RewriteTokenizer<T, R> {
    type TokenStream<'a> = RewriteStream<T::TokenStream<'a>, R>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        RewriteStream {
            tail: self.inner.token_stream(text),
            rewrite: self.rewrite.clone(),
        }
    }
}

/// Token stream of [`RewriteTokenizer`].
pub struct RewriteStream<S, R> {
    tail: S,
    rewrite: R,
}

impl<S: TokenStream, R: Rewrite> TokenStream for RewriteStream<S, R> {
    fn advance(&mut self) -> bool {
        if !self.tail.advance() {
            return false;
        }
        self.rewrite.rewrite(&mut self.tail.token_mut().text);
        true
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}
