//! Tokens of the rule expression language.
//!
//! The lexer keeps the byte offset of every token inside the expression string, so that a parse
//! error can be reported at `file:line:col` of the rule file (see [`crate::LoadError`]).

/// Kind of an expression token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `OR` or `|`
    Or,
    /// `AND`
    And,
    /// `NOT`
    Not,
    /// `NEAR/n`
    Near(u32),
    /// A bare word, possibly ending in `*` (prefix).
    Word(String),
    /// `"a phrase"`, words inside may end in `*`.
    Phrase(String),
    /// `/regex/`
    Regex(String),
    /// `@indicator`
    Indicator(String),
    /// `$list`
    List(String),
    /// `title:`, `text:` or `url:`
    Field(String),
}

/// A token and its byte range in the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// An error at a byte offset of the expression (lexing, parsing or compiling).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExprError {
    pub(crate) at: usize,
    pub(crate) msg: String,
    pub(crate) hint: Option<String>,
}

/// Field names accepted before `:`.
pub(crate) const FIELDS: &[&str] = &["title", "text", "url"];

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '(' | ')' | '|' | '"' | ':')
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits an expression into tokens.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, ExprError> {
    let mut out = Vec::new();
    let mut it = src.char_indices().peekable();
    while let Some(&(i, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
            continue;
        }
        let simple = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '|' => Some(Tok::Or),
            _ => None,
        };
        if let Some(tok) = simple {
            it.next();
            out.push(Token {
                tok,
                start: i,
                end: i + 1,
            });
            continue;
        }
        match c {
            '"' => {
                it.next();
                let body_start = i + 1;
                let mut end = None;
                for (j, d) in it.by_ref() {
                    if d == '"' {
                        end = Some(j);
                        break;
                    }
                }
                let Some(j) = end else {
                    return Err(ExprError {
                        at: i,
                        msg: "unterminated phrase".into(),
                        hint: Some("close the phrase with a double quote".into()),
                    });
                };
                out.push(Token {
                    tok: Tok::Phrase(src[body_start..j].to_string()),
                    start: i,
                    end: j + 1,
                });
            }
            '/' => {
                it.next();
                let mut body = String::new();
                let mut end = None;
                while let Some((j, d)) = it.next() {
                    match d {
                        '\\' => {
                            body.push('\\');
                            if let Some((_, e)) = it.next() {
                                if e != '/' {
                                    // keep the escape for the regex engine, `\/` becomes `/`
                                } else {
                                    body.pop();
                                }
                                body.push(e);
                            }
                        }
                        '/' => {
                            end = Some(j);
                            break;
                        }
                        _ => body.push(d),
                    }
                }
                let Some(j) = end else {
                    return Err(ExprError {
                        at: i,
                        msg: "unterminated regex".into(),
                        hint: Some(
                            "close the regex with `/` (write `\\/` for a slash inside)".into(),
                        ),
                    });
                };
                out.push(Token {
                    tok: Tok::Regex(body),
                    start: i,
                    end: j + 1,
                });
            }
            '@' | '$' => {
                it.next();
                let mut end = i + 1;
                while let Some(&(j, d)) = it.peek() {
                    if !is_name_char(d) {
                        break;
                    }
                    end = j + d.len_utf8();
                    it.next();
                }
                let name = src[i + 1..end].to_string();
                if name.is_empty() {
                    return Err(ExprError {
                        at: i,
                        msg: format!("`{c}` must be followed by a name"),
                        hint: Some(if c == '@' {
                            "indicators look like @phone_kz".into()
                        } else {
                            "lists look like $casino_brands".into()
                        }),
                    });
                }
                let tok = if c == '@' {
                    Tok::Indicator(name)
                } else {
                    Tok::List(name)
                };
                out.push(Token { tok, start: i, end });
            }
            ':' => {
                return Err(ExprError {
                    at: i,
                    msg: "unexpected `:`".into(),
                    hint: Some(format!("field scopes are {}", FIELDS.join(":, ") + ":")),
                });
            }
            _ => {
                let mut end = i;
                while let Some(&(j, d)) = it.peek() {
                    if !is_word_char(d) {
                        break;
                    }
                    end = j + d.len_utf8();
                    it.next();
                }
                let word = &src[i..end];
                if let Some(&(j, ':')) = it.peek() {
                    if FIELDS.contains(&word) {
                        it.next();
                        out.push(Token {
                            tok: Tok::Field(word.to_string()),
                            start: i,
                            end: j + 1,
                        });
                        continue;
                    }
                    return Err(ExprError {
                        at: i,
                        msg: format!("unknown field `{word}:`"),
                        hint: Some(format!("field scopes are {}", FIELDS.join(":, ") + ":")),
                    });
                }
                let tok = match word {
                    "AND" => Tok::And,
                    "OR" => Tok::Or,
                    "NOT" => Tok::Not,
                    w if w.starts_with("NEAR/") => {
                        let n = w["NEAR/".len()..].parse::<u32>().map_err(|_| ExprError {
                            at: i,
                            msg: format!("bad proximity operator `{w}`"),
                            hint: Some("write NEAR/n with a word distance, e.g. NEAR/5".into()),
                        })?;
                        Tok::Near(n)
                    }
                    "NEAR" => {
                        return Err(ExprError {
                            at: i,
                            msg: "`NEAR` needs a distance".into(),
                            hint: Some("write NEAR/n, e.g. NEAR/5".into()),
                        });
                    }
                    w => Tok::Word(w.to_string()),
                };
                out.push(Token { tok, start: i, end });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok> {
        lex(src).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn lexes_every_token_kind() {
        let got = kinds(r#"title:(казино* | "бонус за*") AND NOT /x\/y/ NEAR/3 @card OR $brands"#);
        assert_eq!(
            got,
            vec![
                Tok::Field("title".into()),
                Tok::LParen,
                Tok::Word("казино*".into()),
                Tok::Or,
                Tok::Phrase("бонус за*".into()),
                Tok::RParen,
                Tok::And,
                Tok::Not,
                Tok::Regex("x/y".into()),
                Tok::Near(3),
                Tok::Indicator("card".into()),
                Tok::Or,
                Tok::List("brands".into()),
            ]
        );
    }

    #[test]
    fn offsets_are_bytes_in_the_expression() {
        let toks = lex("займ  OR кредит").unwrap();
        assert_eq!(
            (toks[1].start, toks[1].end),
            ("займ  ".len(), "займ  OR".len())
        );
        assert_eq!(toks[2].start, "займ  OR ".len());
    }

    #[test]
    fn errors_point_at_the_culprit() {
        let cases: &[(&str, usize)] = &[
            ("a \"open", 2),
            ("a /re", 2),
            ("a NEAR/x b", 2),
            ("a NEAR b", 2),
            ("a foo:b", 2),
            ("a @ b", 2),
        ];
        for (src, at) in cases {
            let e = lex(src).unwrap_err();
            assert_eq!(e.at, *at, "{src}: {}", e.msg);
        }
    }
}
