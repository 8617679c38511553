//! The part of the Okta Expression Language the sandbox's group rules
//! evaluate, and nothing more: what it does not implement it refuses, as Okta
//! refuses an invalid expression, rather than evaluate it wrongly.
//!
//! - `user.<attribute>`: an attribute of the user profile schema (another
//!   name is refused, as Okta refuses an unknown property);
//! - string literals in double or single quotes, `true`, `false`, `null`;
//! - `==` and `!=` (strings compare with their case);
//! - `&&` / `AND`, `||` / `OR`, `!`, parentheses;
//! - `String.stringContains(a, b)`, `String.startsWith(a, b)`: `false` when `a`
//!   is null.
//!
//! Bounded like the filters: length, nesting, and number of terms.

use serde_json::{Map, Value};

use super::profile;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Attr(String),
    Lit(Value),
    Eq(Box<Expr>, Box<Expr>),
    Ne(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Contains(Box<Expr>, Box<Expr>),
    StartsWith(Box<Expr>, Box<Expr>),
}

const MAX_LEN: usize = 4096;
const MAX_DEPTH: usize = 32;
const MAX_TERMS: usize = 200;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
}

/// Parse a group rule expression; the error says what is wrong or not
/// supported.
pub fn parse(input: &str) -> Result<Expr, String> {
    if input.len() > MAX_LEN {
        return Err(format!(
            "the expression is longer than {MAX_LEN} characters"
        ));
    }
    let toks = lex(input)?;
    if toks.is_empty() {
        return Err("the expression is empty".into());
    }
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        terms: 0,
    };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected `{}`", p.show(p.pos)));
    }
    if matches!(
        e,
        Expr::Attr(_) | Expr::Lit(Value::String(_)) | Expr::Lit(Value::Null)
    ) {
        return Err("the expression must evaluate to true or false".into());
    }
    Ok(e)
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '=' if next == Some('=') => {
                out.push(Tok::Op("=="));
                i += 2;
            }
            '!' if next == Some('=') => {
                out.push(Tok::Op("!="));
                i += 2;
            }
            '!' => {
                out.push(Tok::Op("!"));
                i += 1;
            }
            '&' if next == Some('&') => {
                out.push(Tok::Op("&&"));
                i += 2;
            }
            '|' if next == Some('|') => {
                out.push(Tok::Op("||"));
                i += 2;
            }
            '"' | '\'' => {
                let quote = c;
                let mut v = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string".into()),
                        Some('\\') => {
                            match chars.get(i + 1) {
                                Some(e) => v.push(*e),
                                None => return Err("unterminated string".into()),
                            }
                            i += 2;
                        }
                        Some(ch) if *ch == quote => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            v.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(v));
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let mut w = String::new();
                while let Some(&ch) = chars.get(i) {
                    if ch.is_alphanumeric() || matches!(ch, '_' | '$' | '.') {
                        w.push(ch);
                        i += 1;
                    } else {
                        break;
                    }
                }
                out.push(Tok::Ident(w));
            }
            other => {
                return Err(format!(
                    "`{other}` is not supported in a group rule expression"
                ));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    terms: usize,
}

impl Parser {
    fn show(&self, i: usize) -> String {
        match self.toks.get(i) {
            Some(Tok::Ident(w)) => w.clone(),
            Some(Tok::Str(s)) => format!("\"{s}\""),
            Some(Tok::Op(o)) => (*o).to_string(),
            Some(Tok::LParen) => "(".into(),
            Some(Tok::RParen) => ")".into(),
            Some(Tok::Comma) => ",".into(),
            None => "end of expression".into(),
        }
    }

    fn eat_op(&mut self, ops: &[&str]) -> bool {
        let hit = match self.toks.get(self.pos) {
            Some(Tok::Op(o)) => ops.contains(o),
            Some(Tok::Ident(w)) => ops.iter().any(|o| w == o),
            _ => false,
        };
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn expect(&mut self, tok: Tok) -> Result<(), String> {
        if self.toks.get(self.pos) == Some(&tok) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!(
                "expected `{}`, found `{}`",
                show_tok(&tok),
                self.show(self.pos)
            ))
        }
    }

    fn nest(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("the expression nests too deeply".into());
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.eat_op(&["||", "OR"]) {
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.eat_op(&["&&", "AND"]) {
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.nest()?;
        let e = if self.eat_op(&["!"]) {
            Expr::Not(Box::new(self.unary()?))
        } else {
            self.comparison()?
        };
        self.depth -= 1;
        Ok(e)
    }

    fn comparison(&mut self) -> Result<Expr, String> {
        let left = self.term()?;
        if self.eat_op(&["=="]) {
            let right = self.term()?;
            return Ok(Expr::Eq(Box::new(left), Box::new(right)));
        }
        if self.eat_op(&["!="]) {
            let right = self.term()?;
            return Ok(Expr::Ne(Box::new(left), Box::new(right)));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, String> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(format!("the expression has more than {MAX_TERMS} terms"));
        }
        match self.toks.get(self.pos).cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                self.nest()?;
                let e = self.or()?;
                self.depth -= 1;
                self.expect(Tok::RParen)?;
                Ok(e)
            }
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Expr::Lit(Value::String(s)))
            }
            Some(Tok::Ident(w)) => {
                self.pos += 1;
                match w.as_str() {
                    "true" => Ok(Expr::Lit(Value::Bool(true))),
                    "false" => Ok(Expr::Lit(Value::Bool(false))),
                    "null" => Ok(Expr::Lit(Value::Null)),
                    "String.stringContains" | "String.startsWith" => {
                        self.expect(Tok::LParen)?;
                        let a = self.or()?;
                        self.expect(Tok::Comma)?;
                        let b = self.or()?;
                        self.expect(Tok::RParen)?;
                        Ok(if w == "String.stringContains" {
                            Expr::Contains(Box::new(a), Box::new(b))
                        } else {
                            Expr::StartsWith(Box::new(a), Box::new(b))
                        })
                    }
                    _ => match w.strip_prefix("user.") {
                        Some(attr) if profile::attribute(attr).is_some() => {
                            Ok(Expr::Attr(attr.to_string()))
                        }
                        Some(attr) => {
                            Err(format!("Invalid property {attr} in expression user.{attr}"))
                        }
                        None if self.toks.get(self.pos) == Some(&Tok::LParen) => Err(format!(
                            "the function `{w}` is not supported by the sandbox"
                        )),
                        None => Err(format!("`{w}` is not supported in a group rule expression")),
                    },
                }
            }
            _ => Err(format!("expected a value, found `{}`", self.show(self.pos))),
        }
    }
}

fn show_tok(t: &Tok) -> String {
    match t {
        Tok::Ident(w) => w.clone(),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Op(o) => (*o).to_string(),
        Tok::LParen => "(".into(),
        Tok::RParen => ")".into(),
        Tok::Comma => ",".into(),
    }
}

impl Expr {
    /// Whether a user with `profile` matches.
    pub fn matches(&self, profile: &Map<String, Value>) -> bool {
        self.value(profile) == Value::Bool(true)
    }

    fn value(&self, p: &Map<String, Value>) -> Value {
        let truth = |b: bool| Value::Bool(b);
        match self {
            Expr::Attr(a) => p.get(a).cloned().unwrap_or(Value::Null),
            Expr::Lit(v) => v.clone(),
            Expr::Eq(a, b) => truth(a.value(p) == b.value(p)),
            Expr::Ne(a, b) => truth(a.value(p) != b.value(p)),
            Expr::And(a, b) => truth(a.matches(p) && b.matches(p)),
            Expr::Or(a, b) => truth(a.matches(p) || b.matches(p)),
            Expr::Not(a) => truth(!a.matches(p)),
            Expr::Contains(a, b) | Expr::StartsWith(a, b) => match (a.value(p), b.value(p)) {
                (Value::String(x), Value::String(y)) => {
                    truth(if matches!(self, Expr::Contains(..)) {
                        x.contains(&y)
                    } else {
                        x.starts_with(&y)
                    })
                }
                _ => truth(false),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn the_documented_subset_evaluates() {
        let u =
            user(json!({"department": "Engineering", "title": "Staff Engineer", "city": "London"}));
        for yes in [
            r#"user.department == "Engineering""#,
            r#"user.department=="Engineering" && user.city != "Paris""#,
            r#"user.department == 'Sales' || (user.title == "Staff Engineer" AND user.city == "London")"#,
            r#"String.stringContains(user.title, "Engineer")"#,
            r#"String.startsWith(user.title, "Staff") OR false"#,
            r#"!(user.department == "Sales")"#,
            r#"user.costCenter == null"#,
        ] {
            assert!(parse(yes).unwrap().matches(&u), "{yes}");
        }
        for no in [
            r#"user.department == "engineering""#,
            r#"String.stringContains(user.costCenter, "CC")"#,
            r#"String.startsWith(user.title, "Engineer")"#,
            r#"user.department != "Engineering""#,
        ] {
            assert!(!parse(no).unwrap().matches(&u), "{no}");
        }
    }

    #[test]
    fn what_is_not_implemented_is_refused() {
        for (e, why) in [
            (r#"isMemberOfAnyGroup("00g1")"#, "not supported"),
            (
                r#"user.favouriteColour == "green""#,
                "Invalid property favouriteColour",
            ),
            (r#"user.department > "A""#, "not supported"),
            (r#"user.department == "A" &&"#, "expected a value"),
            (
                r#"String.toUpperCase(user.department) == "A""#,
                "not supported",
            ),
            (r#"user.department"#, "true or false"),
            ("", "empty"),
            (r#"(user.department == "A""#, "expected `)`"),
            (r#"user.department == "A"#, "unterminated"),
            (r#"group.name == "A""#, "not supported"),
        ] {
            let err = parse(e).unwrap_err();
            assert!(err.contains(why), "{e}: {err}");
        }
        let deep = "(".repeat(100) + r#"user.city == "A""# + &")".repeat(100);
        assert!(parse(&deep).unwrap_err().contains("deeply"));
    }
}
