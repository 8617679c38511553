//! Regular expressions: `regex_match`, `regex_find`, `regex_findall`,
//! `regex_replace` and `regex_split`.
//!
//! The `regex` crate runs in time linear in the text whatever the pattern
//! (no backtracking, no look-around or back-references), so a pattern from a
//! flow cannot stall a run. What it may cost is bounded too: a pattern is at
//! most [`MAX_PATTERN_BYTES`], compiles to at most [`MAX_COMPILED_BYTES`], and
//! its lazy DFA's cache is capped the same. Patterns are compiled once and
//! kept in a small cache, as flows use the same few again and again.

use super::{bounded, check_items, invalid, too_big};
use minijinja::value::Value;
use minijinja::{Environment, Error};
use regex::{Regex, RegexBuilder};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// The longest pattern accepted.
pub const MAX_PATTERN_BYTES: usize = 1_000;
/// The most memory one compiled pattern, and its match cache, may take.
pub const MAX_COMPILED_BYTES: usize = 1 << 20;
/// Compiled patterns kept; the cache is emptied when it is full.
const CACHED: usize = 128;

static CACHE: LazyLock<Mutex<HashMap<String, Regex>>> = LazyLock::new(Mutex::default);

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("regex_match", |s: &str, p: &str| -> Result<bool, Error> {
        Ok(compile(p)?.is_match(s))
    });
    env.add_filter("regex_find", |s: &str, p: &str| -> Result<Value, Error> {
        let re = compile(p)?;
        Ok(re
            .captures(s)
            .map(|c| found(&re, &c))
            .unwrap_or(Value::from(())))
    });
    env.add_filter("regex_findall", findall);
    env.add_filter("regex_replace", replace);
    env.add_filter("regex_split", |s: &str, p: &str| -> Result<Value, Error> {
        let re = compile(p)?;
        let mut out = Vec::new();
        for part in re.split(s) {
            check_items("regex_split", out.len() + 1)?;
            out.push(Value::from(part));
        }
        Ok(Value::from(out))
    });
}

/// The compiled pattern, from the cache when it was seen before.
fn compile(pattern: &str) -> Result<Regex, Error> {
    if pattern.len() > MAX_PATTERN_BYTES {
        return Err(invalid(format!(
            "the regular expression is longer than {MAX_PATTERN_BYTES} bytes"
        )));
    }
    let mut cache = CACHE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(re) = cache.get(pattern) {
        return Ok(re.clone());
    }
    let re = RegexBuilder::new(pattern)
        .size_limit(MAX_COMPILED_BYTES)
        .dfa_size_limit(MAX_COMPILED_BYTES)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => invalid(format!(
                "the regular expression `{pattern}` is too complex (over {MAX_COMPILED_BYTES} bytes compiled)"
            )),
            // The parser's message shows the pattern with a caret under the
            // problem; its last line says what the problem is.
            e => {
                let text = e.to_string();
                let why = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
                invalid(format!(
                    "invalid regular expression `{pattern}`: {}",
                    why.trim().trim_start_matches("error: ")
                ))
            }
        })?;
    if cache.len() >= CACHED {
        cache.clear();
    }
    cache.insert(pattern.to_string(), re.clone());
    Ok(re)
}

/// What one match yields: the whole match when the pattern has no groups,
/// the group's text with one group, a list of them with several (a group
/// that took no part is none).
fn found(re: &Regex, caps: &regex::Captures<'_>) -> Value {
    let text = |i: usize| {
        caps.get(i)
            .map(|m| Value::from(m.as_str()))
            .unwrap_or(Value::from(()))
    };
    match re.captures_len() {
        1 => text(0),
        2 => text(1),
        n => Value::from((1..n).map(text).collect::<Vec<_>>()),
    }
}

/// `s | regex_findall(p)`: every match, as [`found`] reads them.
fn findall(s: &str, p: &str) -> Result<Value, Error> {
    let re = compile(p)?;
    let mut out = Vec::new();
    for caps in re.captures_iter(s) {
        check_items("regex_findall", out.len() + 1)?;
        out.push(found(&re, &caps));
    }
    Ok(Value::from(out))
}

/// `s | regex_replace(p, replacement, count)`: every match replaced (the
/// first `count` when given); `$1`, `${name}` in the replacement stand for
/// groups and `$$` for a dollar sign.
fn replace(s: &str, p: &str, replacement: &str, count: Option<usize>) -> Result<String, Error> {
    let re = compile(p)?;
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for caps in re.captures_iter(s).take(count.unwrap_or(usize::MAX)) {
        let Some(m) = caps.get(0) else { continue };
        out.push_str(&s[last..m.start()]);
        caps.expand(replacement, &mut out);
        last = m.end();
        if out.len() > crate::expr::MAX_TEXT_BYTES {
            return Err(too_big("regex_replace's result"));
        }
    }
    out.push_str(&s[last..]);
    bounded("regex_replace's result", out)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{fails, ok};
    use serde_json::json;

    #[test]
    fn matching_finding_replacing_splitting() {
        assert_eq!(ok(r"'EMP-00042' | regex_match('^EMP-\\d+$')"), json!(true));
        assert_eq!(ok(r"'emp-42' | regex_match('^EMP-\\d+$')"), json!(false));
        assert_eq!(ok(r"'emp-42' | regex_match('(?i)^EMP-\\d+$')"), json!(true));
        assert_eq!(ok(r"'id 42, id 7' | regex_find('\\d+')"), json!("42"));
        assert_eq!(
            ok(r"'jo@acme.com' | regex_find('@(.+)$')"),
            json!("acme.com")
        );
        assert_eq!(
            ok(r"'jo@acme.com' | regex_find('(\\w+)@(\\w+)')"),
            json!(["jo", "acme"])
        );
        assert_eq!(ok(r"'none here' | regex_find('\\d+')"), json!(null));
        assert_eq!(
            ok(r"'a1b22c333' | regex_findall('\\d+')"),
            json!(["1", "22", "333"])
        );
        assert_eq!(
            ok(r"'k=v; x=y' | regex_findall('(\\w)=(\\w)')"),
            json!([["k", "v"], ["x", "y"]])
        );
        assert_eq!(
            ok(r"'Doe, Jo' | regex_replace('(\\w+), (\\w+)', '$2 $1')"),
            json!("Jo Doe")
        );
        assert_eq!(
            ok(r"'a  b   c' | regex_replace('\\s+', ' ')"),
            json!("a b c")
        );
        assert_eq!(ok(r"'aaa' | regex_replace('a', 'b', 2)"), json!("bba"));
        assert_eq!(
            ok(r"'price 5' | regex_replace('\\d', '$$$0')"),
            json!("price $5")
        );
        assert_eq!(
            ok(r"'a, b;c' | regex_split('[,;]\\s*')"),
            json!(["a", "b", "c"])
        );
        assert_eq!(
            ok(r"'héllo wörld' | regex_findall('\\w+')"),
            json!(["héllo", "wörld"])
        );
    }

    #[test]
    fn bad_and_oversized_patterns_are_refused_with_a_reason() {
        let e = fails("'x' | regex_match('(unclosed')");
        assert!(e.contains("invalid regular expression `(unclosed`"), "{e}");
        assert!(e.contains("unclosed group"), "{e}");
        // Look-around is not supported by a linear-time engine.
        assert!(fails("'x' | regex_match('(?=x)')").contains("invalid regular expression"));
        let long = "a".repeat(super::MAX_PATTERN_BYTES + 1);
        assert!(fails(&format!("'x' | regex_match('{long}')")).contains("longer than"));
        // Small to write, huge to compile.
        let e = fails(r"'x' | regex_match('(\\w{100}){100}')");
        assert!(e.contains("too complex"), "{e}");
    }

    #[test]
    fn results_are_bounded() {
        let e = super::replace(&"a".repeat(10_000), "", &"x".repeat(200), None).unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
        let e = super::findall(&"a".repeat(crate::functions::MAX_ITEMS + 1), "a").unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
    }
}
