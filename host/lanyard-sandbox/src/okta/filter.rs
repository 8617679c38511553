//! Okta's filter and search expressions (`profile.department eq "Sales" and
//! (status eq "ACTIVE" or created gt "2024-01-01T00:00:00.000Z")`), evaluated
//! against the JSON Okta would return for an object.
//!
//! Operators: `eq`, `ne`, `sw`, `co`, `gt`, `ge`, `lt`, `le`, `pr`; `and`, `or`,
//! `not`, parentheses. Attribute names are case-sensitive, operators are not;
//! string values are not either for a search ([`Case::Insensitive`]) and are
//! for a user filter ([`Case::Sensitive`]). An attribute on an array matches if
//! any element matches (SCIM). Dates compare as instants.
//!
//! The language parsed here is the general one; what each list operation of
//! Okta accepts of it is narrower, and is checked after parsing
//! ([`check_user_filter`], [`check_user_search`]).

use chrono::DateTime;
use serde_json::Value;
use std::borrow::Cow;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Cmp { attr: String, op: Op, value: Value },
    Present(String),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

/// Whether string values compare with their case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    Sensitive,
    Insensitive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Sw,
    Co,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    LParen,
    RParen,
}

// What one expression may cost: its length, its nesting, and how many
// comparisons each object is matched against.
const MAX_LEN: usize = 4096;
const MAX_DEPTH: usize = 32;
const MAX_CONDITIONS: usize = 100;

pub fn parse(input: &str) -> Result<Expr, String> {
    if input.len() > MAX_LEN {
        return Err(format!("expression is longer than {MAX_LEN} characters"));
    }
    let toks = lex(input)?;
    let mut p = Parser {
        toks,
        pos: 0,
        depth: 0,
        conditions: 0,
    };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return Err(format!("unexpected `{}`", p.show(p.pos)));
    }
    Ok(e)
}

fn lex(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            // Any Unicode whitespace separates words, as the word arm below
            // stops at it: were one left to that arm, it would consume nothing.
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' => {
                chars.next();
                out.push(Tok::LParen);
            }
            ')' => {
                chars.next();
                out.push(Tok::RParen);
            }
            '"' => {
                chars.next();
                let mut v = String::new();
                loop {
                    match chars.next() {
                        None => return Err("unterminated string".into()),
                        Some('\\') => match chars.next() {
                            Some(e) => v.push(e),
                            None => return Err("unterminated string".into()),
                        },
                        Some('"') => break,
                        Some(ch) => v.push(ch),
                    }
                }
                out.push(Tok::Str(v));
            }
            _ => {
                // The first character is taken unconditionally, so every word
                // is at least one character long and the lexer always advances.
                chars.next();
                let mut w = String::from(c);
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() || ch == '(' || ch == ')' || ch == '"' {
                        break;
                    }
                    w.push(ch);
                    chars.next();
                }
                out.push(Tok::Word(w));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    conditions: usize,
}

impl Parser {
    fn show(&self, i: usize) -> String {
        match self.toks.get(i) {
            Some(Tok::Word(w)) => w.clone(),
            Some(Tok::Str(s)) => format!("\"{s}\""),
            Some(Tok::LParen) => "(".into(),
            Some(Tok::RParen) => ")".into(),
            None => "end of expression".into(),
        }
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err("expression nests too deeply".into());
        }
        let e = if self.keyword("not") {
            self.pos += 1;
            Expr::Not(Box::new(self.unary()?))
        } else {
            self.primary()?
        };
        self.depth -= 1;
        Ok(e)
    }

    fn primary(&mut self) -> Result<Expr, String> {
        match self.toks.get(self.pos).cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                let e = self.or()?;
                if self.toks.get(self.pos) != Some(&Tok::RParen) {
                    return Err(format!("expected `)`, found `{}`", self.show(self.pos)));
                }
                self.pos += 1;
                Ok(e)
            }
            Some(Tok::Word(attr)) => {
                self.conditions += 1;
                if self.conditions > MAX_CONDITIONS {
                    return Err(format!(
                        "expression has more than {MAX_CONDITIONS} conditions"
                    ));
                }
                self.pos += 1;
                let op = match self.toks.get(self.pos) {
                    Some(Tok::Word(w)) => w.to_ascii_lowercase(),
                    _ => {
                        return Err(format!(
                            "expected an operator after `{attr}`, found `{}`",
                            self.show(self.pos)
                        ));
                    }
                };
                self.pos += 1;
                let op = match op.as_str() {
                    "pr" => return Ok(Expr::Present(attr)),
                    "eq" => Op::Eq,
                    "ne" => Op::Ne,
                    "sw" => Op::Sw,
                    "co" => Op::Co,
                    "gt" => Op::Gt,
                    "ge" => Op::Ge,
                    "lt" => Op::Lt,
                    "le" => Op::Le,
                    other => return Err(format!("unknown operator `{other}`")),
                };
                let value = match self.toks.get(self.pos).cloned() {
                    Some(Tok::Str(s)) => Value::String(s),
                    Some(Tok::Word(w)) => match w.to_ascii_lowercase().as_str() {
                        "true" => Value::Bool(true),
                        "false" => Value::Bool(false),
                        "null" => Value::Null,
                        _ => match w.parse::<f64>() {
                            Ok(n) => serde_json::Number::from_f64(n)
                                .map(Value::Number)
                                .unwrap_or(Value::Null),
                            Err(_) => {
                                return Err(format!(
                                    "`{w}` is not a value (strings need double quotes)"
                                ));
                            }
                        },
                    },
                    _ => return Err(format!("expected a value after `{attr} {op:?}`")),
                };
                self.pos += 1;
                Ok(Expr::Cmp { attr, op, value })
            }
            _ => Err(format!(
                "expected an attribute or `(`, found `{}`",
                self.show(self.pos)
            )),
        }
    }
}

impl Expr {
    /// Whether `obj` matches, string values compared without case.
    pub fn matches(&self, obj: &Value) -> bool {
        self.matches_case(obj, Case::Insensitive)
    }

    pub fn matches_case(&self, obj: &Value, case: Case) -> bool {
        match self {
            Expr::And(a, b) => a.matches_case(obj, case) && b.matches_case(obj, case),
            Expr::Or(a, b) => a.matches_case(obj, case) || b.matches_case(obj, case),
            Expr::Not(a) => !a.matches_case(obj, case),
            Expr::Present(attr) => lookup(obj, attr).iter().any(|v| !v.is_null()),
            Expr::Cmp { attr, op, value } => {
                let found = lookup(obj, attr);
                if *op == Op::Ne {
                    return !found.iter().any(|v| compare(v, Op::Eq, value, case));
                }
                found.iter().any(|v| compare(v, *op, value, case))
            }
        }
    }

    /// Every node, depth first, until `f` refuses one.
    fn visit(&self, f: &mut impl FnMut(&Expr) -> Result<(), String>) -> Result<(), String> {
        f(self)?;
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.visit(f)?;
                b.visit(f)
            }
            Expr::Not(a) => a.visit(f),
            Expr::Present(_) | Expr::Cmp { .. } => Ok(()),
        }
    }
}

fn op_name(op: Op) -> &'static str {
    match op {
        Op::Eq => "eq",
        Op::Ne => "ne",
        Op::Sw => "sw",
        Op::Co => "co",
        Op::Gt => "gt",
        Op::Ge => "ge",
        Op::Lt => "lt",
        Op::Le => "le",
    }
}

/// What `GET /api/v1/users?filter=` accepts. Okta's spec (listUsers, `filter`):
/// "Filtering supports the following limited number of properties: `status`,
/// `lastUpdated`, `id`, `profile.login`, `profile.email`, `profile.firstName`,
/// and `profile.lastName`. Additionally, filtering supports only the equal
/// `eq` operator from the standard Okta API filtering semantics, except in the
/// case of the `lastUpdated` property. This property can also use the
/// inequality operators (`gt`, `ge`, `lt`, and `le`). For logical operators,
/// only the logical operators `and` and `or` are supported. The `not` operator
/// isn't supported." And: "Filtering is case-sensitive for property names and
/// query values, while operators are case-insensitive" (match with
/// [`Case::Sensitive`]).
pub fn check_user_filter(e: &Expr) -> Result<(), String> {
    const PROPERTIES: &[&str] = &[
        "status",
        "lastUpdated",
        "id",
        "profile.login",
        "profile.email",
        "profile.firstName",
        "profile.lastName",
    ];
    e.visit(&mut |node| match node {
        Expr::Not(_) => Err("the `not` operator is not supported in a filter".into()),
        Expr::Present(attr) => Err(format!(
            "`{attr} pr`: a filter supports only `eq` (and `gt`, `ge`, `lt`, `le` on `lastUpdated`)"
        )),
        Expr::Cmp { attr, op, .. } => {
            if !PROPERTIES.contains(&attr.as_str()) {
                return Err(format!(
                    "`{attr}` cannot be filtered on: a filter supports only {}",
                    PROPERTIES.join(", ")
                ));
            }
            let inequality = matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le);
            if *op == Op::Eq || (inequality && attr == "lastUpdated") {
                Ok(())
            } else {
                Err(format!(
                    "`{attr} {}`: a filter supports only `eq` (and `gt`, `ge`, `lt`, `le` on `lastUpdated`)",
                    op_name(*op)
                ))
            }
        }
        Expr::And(..) | Expr::Or(..) => Ok(()),
    })
}

/// What `GET /api/v1/users?search=` accepts of the language. Okta's spec
/// (listUsers, `search`): "The `ne` (not equal) operator isn't supported, but
/// you can obtain the same result by using `lt ... or ... gt`." and "Searches
/// for users can be filtered by the following operators: `sw`, `eq`, and `co`.
/// You can only use `co` with these select user profile attributes:
/// `profile.firstName`, `profile.lastName`, `profile.email`, and
/// `profile.login`." ("Property names in the search parameter are case
/// sensitive, whereas operators (`eq`, `sw`, and so on) and string values are
/// case insensitive": match with [`Case::Insensitive`].)
pub fn check_user_search(e: &Expr) -> Result<(), String> {
    const CONTAINS: &[&str] = &[
        "profile.firstName",
        "profile.lastName",
        "profile.email",
        "profile.login",
    ];
    e.visit(&mut |node| match node {
        Expr::Cmp {
            op: Op::Ne, attr, ..
        } => Err(format!(
            "`{attr} ne`: the `ne` operator is not supported; use `lt ... or ... gt`"
        )),
        Expr::Cmp {
            op: Op::Co, attr, ..
        } if !CONTAINS.contains(&attr.as_str()) => Err(format!(
            "`{attr} co`: `co` works only with {}",
            CONTAINS.join(", ")
        )),
        _ => Ok(()),
    })
}

/// Every value at the dotted path, descending into arrays.
fn lookup<'a>(obj: &'a Value, path: &str) -> Vec<&'a Value> {
    let mut current = vec![obj];
    for part in path.split('.') {
        let mut next = Vec::new();
        for v in current {
            match v {
                Value::Object(m) => {
                    if let Some(x) = m.get(part) {
                        match x {
                            Value::Array(items) => next.extend(items.iter()),
                            other => next.push(other),
                        }
                    }
                }
                Value::Array(items) => {
                    for item in items {
                        if let Some(x) = item.get(part) {
                            next.push(x);
                        }
                    }
                }
                _ => {}
            }
        }
        current = next;
    }
    current
}

fn compare(found: &Value, op: Op, want: &Value, case: Case) -> bool {
    match (found, want) {
        (Value::String(a), Value::String(b)) => {
            if let (Ok(x), Ok(y)) = (
                DateTime::parse_from_rfc3339(a),
                DateTime::parse_from_rfc3339(b),
            ) {
                return ordered(x.cmp(&y), op);
            }
            let (a, b): (Cow<str>, Cow<str>) = match case {
                Case::Insensitive => (a.to_lowercase().into(), b.to_lowercase().into()),
                Case::Sensitive => (a.as_str().into(), b.as_str().into()),
            };
            match op {
                Op::Sw => a.starts_with(b.as_ref()),
                Op::Co => a.contains(b.as_ref()),
                _ => ordered(a.cmp(&b), op),
            }
        }
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).is_some_and(|o| ordered(o, op)),
            _ => false,
        },
        (Value::Bool(a), Value::Bool(b)) => matches!(op, Op::Eq) && a == b,
        (Value::Null, Value::Null) => matches!(op, Op::Eq),
        _ => false,
    }
}

fn ordered(o: std::cmp::Ordering, op: Op) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::Eq => o == Equal,
        Op::Ne => o != Equal,
        Op::Gt => o == Greater,
        Op::Ge => o != Less,
        Op::Lt => o == Less,
        Op::Le => o != Greater,
        Op::Sw | Op::Co => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn okta_examples_evaluate() {
        let user = json!({
            "id": "00u1", "status": "ACTIVE", "created": "2013-06-01T00:00:00.000Z",
            "profile": {"department": "Engineering", "login": "Isaac.Brock@acme.example", "arr": ["a", "b"]}
        });
        let yes = [
            r#"profile.department eq "Engineering" and (created lt "2014-01-01T00:00:00.000Z" or status eq "ACTIVE")"#,
            r#"status eq "active""#,
            r#"profile.login sw "isaac.brock""#,
            r#"profile.login co "BROCK""#,
            r#"profile.arr eq "b""#,
            r#"profile.department pr"#,
            r#"(status lt "STAGED" or status gt "STAGED")"#,
            r#"not (status eq "SUSPENDED")"#,
        ];
        for e in yes {
            assert!(parse(e).unwrap().matches(&user), "{e}");
        }
        let no = [
            r#"profile.department eq "Sales""#,
            r#"created gt "2014-01-01T00:00:00.000Z""#,
            r#"profile.title pr"#,
            r#"status ne "ACTIVE""#,
        ];
        for e in no {
            assert!(!parse(e).unwrap().matches(&user), "{e}");
        }
        let log =
            json!({"eventType": "user.account.lock", "target": [{"id": "00u9", "type": "User"}]});
        assert!(
            parse(r#"eventType eq "user.account.lock" and target.id eq "00u9""#)
                .unwrap()
                .matches(&log)
        );
    }

    #[test]
    fn bad_expressions_are_refused_with_a_reason() {
        for e in [
            "status eq",
            "status foo \"x\"",
            "(status eq \"A\"",
            "status eq ACTIVE",
            "\"x\"",
        ] {
            assert!(parse(e).is_err(), "{e}");
        }
        let deep = "(".repeat(100) + "a eq \"b\"" + &")".repeat(100);
        assert!(parse(&deep).is_err());
        let long = vec!["a eq \"b\""; 101].join(" or ");
        assert!(parse(&long).unwrap_err().contains("conditions"));
        assert!(parse(&vec!["a eq \"b\""; 100].join(" or ")).is_ok());
    }

    #[test]
    fn a_user_filter_takes_only_what_okta_documents() {
        let ok = [
            r#"status eq "ACTIVE""#,
            r#"lastUpdated gt "2024-01-01T00:00:00.000Z" and lastUpdated le "2025-01-01T00:00:00.000Z""#,
            r#"profile.login eq "a@b.example" or (id eq "00u1" and profile.lastName eq "X")"#,
            r#"profile.firstName EQ "Ada""#,
        ];
        for e in ok {
            assert_eq!(check_user_filter(&parse(e).unwrap()), Ok(()), "{e}");
        }
        for (e, why) in [
            (r#"profile.department eq "Sales""#, "cannot be filtered"),
            (r#"status ne "ACTIVE""#, "only `eq`"),
            (r#"profile.login sw "a""#, "only `eq`"),
            (r#"status gt "A""#, "only `eq`"),
            (r#"not (status eq "ACTIVE")"#, "`not`"),
            (r#"profile.email pr"#, "only `eq`"),
            (r#"Status eq "ACTIVE""#, "cannot be filtered"),
        ] {
            let err = check_user_filter(&parse(e).unwrap()).unwrap_err();
            assert!(err.contains(why), "{e}: {err}");
        }
        // Values compare with their case in a filter, without it in a search.
        let user = json!({"status": "ACTIVE"});
        let e = parse(r#"status eq "active""#).unwrap();
        assert!(!e.matches_case(&user, Case::Sensitive));
        assert!(e.matches_case(&user, Case::Insensitive));
    }

    #[test]
    fn a_user_search_refuses_ne_and_co_where_okta_does() {
        for e in [
            r#"profile.department eq "Sales" and status eq "ACTIVE""#,
            r#"profile.login co "ada""#,
            r#"profile.lastName co "x" or profile.email co "y""#,
            r#"created lt "2024-01-01T00:00:00.000Z""#,
            r#"profile.department sw "Eng""#,
        ] {
            assert_eq!(check_user_search(&parse(e).unwrap()), Ok(()), "{e}");
        }
        for e in [
            r#"status ne "STAGED""#,
            r#"profile.department co "ales""#,
            r#"status eq "ACTIVE" and (id co "00u")"#,
        ] {
            assert!(check_user_search(&parse(e).unwrap()).is_err(), "{e}");
        }
    }

    /// Every Unicode whitespace separates words like a space: before, one
    /// outside space/tab/CR/LF made the lexer emit empty words forever.
    #[test]
    fn any_whitespace_separates_words() {
        let user = serde_json::json!({"status": "ACTIVE"});
        let spaces = (0..=0x10FFFFu32)
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace());
        for ws in spaces {
            let e = format!("status{ws}eq{ws}\"ACTIVE\"{ws}");
            let parsed = parse(&e).unwrap_or_else(|err| panic!("U+{:04X}: {err}", ws as u32));
            assert!(parsed.matches(&user), "U+{:04X}", ws as u32);
            assert!(parse(&format!("{ws}")).is_err(), "U+{:04X}", ws as u32);
        }
    }
}
