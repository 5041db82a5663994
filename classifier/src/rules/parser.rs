//! Parser of rule expressions into an abstract syntax tree.
//!
//! Precedence, from tightest to loosest: `NOT` (unary), `field:` scope, `NEAR/n`, `AND` (also
//! implicit between adjacent operands), `OR` / `|`. So `a b | c NOT d` reads `(a AND b) OR (c
//! AND NOT d)`: binary `a NOT b` is simply `a` followed by the operand `NOT b`. Every node keeps
//! the byte offset of its first token so later stages (unknown list, bad regex) can point at it.

use super::lexer::{ExprError, Tok, Token, lex};

/// An expression node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ast {
    /// A bare word, `*` suffix kept.
    Word(String, usize),
    /// A quoted phrase.
    Phrase(String, usize),
    /// A regex over the normalized text.
    Regex(String, usize),
    /// `@name`
    Indicator(String, usize),
    /// `$name`
    List(String, usize),
    /// All must hold.
    And(Vec<Ast>),
    /// One must hold.
    Or(Vec<Ast>),
    /// Must not hold.
    Not(Box<Ast>, usize),
    /// Both within `n` words.
    Near(Box<Ast>, Box<Ast>, u32, usize),
    /// Terms below match only in this field.
    Field(String, Box<Ast>, usize),
}

/// Parses an expression.
pub(crate) fn parse(src: &str) -> Result<Ast, ExprError> {
    let toks = lex(src)?;
    if toks.is_empty() {
        return Err(ExprError {
            at: 0,
            msg: "empty expression".into(),
            hint: Some("write at least one word, e.g. expr = 'казино'".into()),
        });
    }
    let mut p = Parser {
        toks,
        pos: 0,
        len: src.len(),
    };
    let ast = p.or()?;
    if let Some(t) = p.toks.get(p.pos) {
        let hint = if t.tok == Tok::RParen {
            Some("remove it or add a matching `(` before".to_string())
        } else {
            None
        };
        return Err(ExprError {
            at: t.start,
            msg: format!("unexpected {}", describe(&t.tok)),
            hint,
        });
    }
    Ok(ast)
}

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "`(`".into(),
        Tok::RParen => "`)`".into(),
        Tok::Or => "`OR`".into(),
        Tok::And => "`AND`".into(),
        Tok::Not => "`NOT`".into(),
        Tok::Near(n) => format!("`NEAR/{n}`"),
        Tok::Word(w) => format!("word `{w}`"),
        Tok::Phrase(w) => format!("phrase \"{w}\""),
        Tok::Regex(r) => format!("regex /{r}/"),
        Tok::Indicator(n) => format!("`@{n}`"),
        Tok::List(n) => format!("`${n}`"),
        Tok::Field(f) => format!("`{f}:`"),
    }
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.tok)
    }

    fn here(&self) -> usize {
        self.toks.get(self.pos).map(|t| t.start).unwrap_or(self.len)
    }

    fn or(&mut self) -> Result<Ast, ExprError> {
        let mut items = vec![self.and()?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Ast::Or(items)
        })
    }

    fn starts_operand(t: Option<&Tok>) -> bool {
        matches!(
            t,
            Some(
                Tok::LParen
                    | Tok::Not
                    | Tok::Word(_)
                    | Tok::Phrase(_)
                    | Tok::Regex(_)
                    | Tok::Indicator(_)
                    | Tok::List(_)
                    | Tok::Field(_)
            )
        )
    }

    fn and(&mut self) -> Result<Ast, ExprError> {
        let mut items = vec![self.near()?];
        loop {
            if self.peek() == Some(&Tok::And) {
                self.pos += 1;
                items.push(self.near()?);
            } else if Self::starts_operand(self.peek()) {
                items.push(self.near()?);
            } else {
                break;
            }
        }
        Ok(if items.len() == 1 {
            items.pop().expect("one item")
        } else {
            Ast::And(items)
        })
    }

    fn near(&mut self) -> Result<Ast, ExprError> {
        let mut left = self.unary()?;
        while let Some(&Tok::Near(n)) = self.peek() {
            let at = self.here();
            self.pos += 1;
            let right = self.unary()?;
            for side in [&left, &right] {
                if matches!(side, Ast::Not(..)) {
                    return Err(ExprError {
                        at,
                        msg: "`NOT` cannot be an operand of `NEAR`".into(),
                        hint: Some("put the NOT outside: (a NEAR/5 b) NOT c".into()),
                    });
                }
            }
            left = Ast::Near(Box::new(left), Box::new(right), n, at);
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Ast, ExprError> {
        let at = self.here();
        let Some(tok) = self.peek().cloned() else {
            return Err(ExprError {
                at,
                msg: "expression ends where an operand was expected".into(),
                hint: Some("an operator needs something after it".into()),
            });
        };
        self.pos += 1;
        match tok {
            Tok::Not => Ok(Ast::Not(Box::new(self.unary()?), at)),
            Tok::Field(f) => Ok(Ast::Field(f, Box::new(self.unary()?), at)),
            Tok::LParen => {
                let inner = self.or()?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(ExprError {
                        at: self.here(),
                        msg: match self.peek() {
                            Some(t) => format!("expected `)`, found {}", describe(t)),
                            None => "expected `)` before the end".into(),
                        },
                        hint: Some(format!("the `(` at offset {at} is not closed")),
                    });
                }
                self.pos += 1;
                Ok(inner)
            }
            Tok::Word(w) => Ok(Ast::Word(w, at)),
            Tok::Phrase(w) => Ok(Ast::Phrase(w, at)),
            Tok::Regex(r) => Ok(Ast::Regex(r, at)),
            Tok::Indicator(n) => Ok(Ast::Indicator(n, at)),
            Tok::List(n) => Ok(Ast::List(n, at)),
            other => {
                self.pos -= 1;
                Err(ExprError {
                    at,
                    msg: format!("unexpected {}", describe(&other)),
                    hint: Some("an operand (word, \"phrase\", /regex/, @indicator, $list or `(`) was expected".into()),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str, at: usize) -> Ast {
        Ast::Word(s.into(), at)
    }

    #[test]
    fn precedence() {
        // a b | c NOT d  ==  (a AND b) OR (c AND NOT d)
        let got = parse("a b | c NOT d").unwrap();
        let want = Ast::Or(vec![
            Ast::And(vec![w("a", 0), w("b", 2)]),
            Ast::And(vec![w("c", 6), Ast::Not(Box::new(w("d", 12)), 8)]),
        ]);
        assert_eq!(got, want);
        // NEAR binds tighter than AND
        let got = parse("a NEAR/2 b AND c").unwrap();
        let want = Ast::And(vec![
            Ast::Near(Box::new(w("a", 0)), Box::new(w("b", 9)), 2, 2),
            w("c", 15),
        ]);
        assert_eq!(got, want);
    }

    #[test]
    fn field_scope_and_parens() {
        let got = parse("title:(a OR b)").unwrap();
        assert_eq!(
            got,
            Ast::Field(
                "title".into(),
                Box::new(Ast::Or(vec![w("a", 7), w("b", 12)])),
                0
            )
        );
    }

    #[test]
    fn errors() {
        let cases: &[(&str, usize, &str)] = &[
            ("(a OR b", 7, "expected `)`"),
            ("a OR b)", 6, "unexpected `)`"),
            ("a AND", 5, "ends where"),
            ("OR a", 0, "unexpected `OR`"),
            ("a NEAR/3 NOT b", 2, "NEAR"),
            ("", 0, "empty"),
        ];
        for (src, at, msg) in cases {
            let e = parse(src).unwrap_err();
            assert_eq!(e.at, *at, "{src}: {}", e.msg);
            assert!(e.msg.contains(msg), "{src}: {}", e.msg);
        }
    }
}
