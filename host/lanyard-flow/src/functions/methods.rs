//! The Python string and dict methods authors coming from Okta Workflows'
//! Jinja or from Python reach for: `s.startswith('x')`, `s.rjust(6, '0')`,
//! `m.get('k', d)`. minijinja calls [`python_methods`] for any method a value
//! does not have itself; [`METHODS`] is every name it answers, which
//! validation checks method calls against.

use super::{bounded, invalid, too_big};
use minijinja::value::{Value, ValueKind};
use minijinja::{Error, ErrorKind, State};

/// Every method [`python_methods`] knows, on text or on mappings.
pub(crate) const METHODS: [&str; 30] = [
    "startswith",
    "endswith",
    "lower",
    "upper",
    "title",
    "capitalize",
    "strip",
    "lstrip",
    "rstrip",
    "replace",
    "split",
    "join",
    "find",
    "rfind",
    "count",
    "ljust",
    "rjust",
    "center",
    "zfill",
    "removeprefix",
    "removesuffix",
    "isdigit",
    "isalpha",
    "isalnum",
    "isspace",
    "islower",
    "isupper",
    "get",
    "keys",
    "values",
];

/// Also a method, of mappings; kept apart so [`METHODS`] lists text first.
pub(crate) const MAP_ITEMS: &str = "items";

pub(crate) fn is_method(name: &str) -> bool {
    name == MAP_ITEMS || METHODS.contains(&name)
}

pub(super) fn python_methods(
    _state: &mut State,
    value: &Value,
    method: &str,
    args: &[Value],
) -> Result<Value, Error> {
    match value.kind() {
        ValueKind::String => text_method(value.as_str().unwrap_or_default(), method, args),
        ValueKind::Map => map_method(value, method, args),
        _ => Err(unknown(value, method)),
    }
}

fn unknown(value: &Value, method: &str) -> Error {
    Error::new(
        ErrorKind::UnknownMethod,
        format!("{} has no method named {method}", value.kind()),
    )
}

fn text_method(s: &str, method: &str, args: &[Value]) -> Result<Value, Error> {
    let str_arg = |i: usize| -> Result<&str, Error> {
        args.get(i)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("{method}() expects text arguments")))
    };
    let chars_arg = |i: usize| -> Result<Option<Vec<char>>, Error> {
        match args.get(i) {
            None => Ok(None),
            Some(_) => Ok(Some(str_arg(i)?.chars().collect())),
        }
    };
    let all = |f: fn(char) -> bool| Value::from(!s.is_empty() && s.chars().all(f));
    Ok(match method {
        "startswith" => Value::from(s.starts_with(str_arg(0)?)),
        "endswith" => Value::from(s.ends_with(str_arg(0)?)),
        "lower" => Value::from(s.to_lowercase()),
        "upper" => Value::from(s.to_uppercase()),
        "title" => Value::from(title(s)),
        "capitalize" => {
            let mut c = s.chars();
            Value::from(match c.next() {
                Some(first) => first
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            })
        }
        "strip" | "lstrip" | "rstrip" => {
            let set = chars_arg(0)?;
            let strip = |c: char| match &set {
                Some(set) => set.contains(&c),
                None => c.is_whitespace(),
            };
            Value::from(match method {
                "strip" => s.trim_matches(strip),
                "lstrip" => s.trim_start_matches(strip),
                _ => s.trim_end_matches(strip),
            })
        }
        "replace" => Value::from(bounded(
            "replace()'s result",
            s.replace(str_arg(0)?, str_arg(1)?),
        )?),
        "split" => match args.first() {
            None => s.split_whitespace().map(Value::from).collect(),
            Some(_) => {
                let sep = str_arg(0)?;
                if sep.is_empty() {
                    return Err(invalid("empty separator"));
                }
                s.split(sep).map(Value::from).collect()
            }
        },
        "join" => {
            let list = args.first().ok_or_else(|| invalid("join() needs a list"))?;
            let mut parts = Vec::new();
            for item in list.try_iter()? {
                parts.push(match item.as_str() {
                    Some(t) => t.to_string(),
                    None => item.to_string(),
                });
            }
            Value::from(bounded("join()'s result", parts.join(s))?)
        }
        "find" | "rfind" => {
            let needle = str_arg(0)?;
            let at = if method == "find" {
                s.find(needle)
            } else {
                s.rfind(needle)
            };
            Value::from(at.map(|at| s[..at].chars().count() as i64).unwrap_or(-1))
        }
        "count" => {
            let needle = str_arg(0)?;
            Value::from(if needle.is_empty() {
                s.chars().count() + 1
            } else {
                s.matches(needle).count()
            })
        }
        "ljust" | "rjust" | "center" | "zfill" => Value::from(pad(s, method, args)?),
        "removeprefix" => Value::from(s.strip_prefix(str_arg(0)?).unwrap_or(s)),
        "removesuffix" => Value::from(s.strip_suffix(str_arg(0)?).unwrap_or(s)),
        "isdigit" => all(|c| c.is_ascii_digit()),
        "isalpha" => all(char::is_alphabetic),
        "isalnum" => all(char::is_alphanumeric),
        "isspace" => all(char::is_whitespace),
        "islower" => {
            Value::from(s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase))
        }
        "isupper" => {
            Value::from(s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase))
        }
        _ => return Err(unknown(&Value::from(s), method)),
    })
}

/// Python's `title()`: each run of letters starts upper case, the rest lower.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_word = false;
    for c in s.chars() {
        if c.is_alphabetic() {
            if in_word {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            in_word = true;
        } else {
            out.push(c);
            in_word = false;
        }
    }
    out
}

/// `ljust(width, fill)`, `rjust`, `center` and `zfill(width)`, in characters.
fn pad(s: &str, method: &str, args: &[Value]) -> Result<String, Error> {
    let width = args
        .first()
        .and_then(Value::as_usize)
        .ok_or_else(|| invalid(format!("{method}() needs a width")))?;
    let fill = match args
        .get(1)
        .map(|f| f.as_str().map(|t| t.chars().collect::<Vec<_>>()))
    {
        None => ' ',
        Some(Some(f)) if f.len() == 1 => f[0],
        Some(_) => return Err(invalid(format!("{method}()'s fill is one character"))),
    };
    let len = s.chars().count();
    if width <= len {
        return Ok(s.to_string());
    }
    let missing = width - len;
    if missing.saturating_mul(fill.len_utf8()) > crate::expr::MAX_TEXT_BYTES {
        return Err(too_big(&format!("{method}()'s result")));
    }
    let fills = |n: usize| std::iter::repeat_n(fill, n).collect::<String>();
    Ok(match method {
        "ljust" => format!("{s}{}", fills(missing)),
        "rjust" => format!("{}{s}", fills(missing)),
        "center" => {
            // As CPython places the odd fill character.
            let left = missing / 2 + (missing & width & 1);
            format!("{}{s}{}", fills(left), fills(missing - left))
        }
        _ => match s.strip_prefix(['-', '+']) {
            Some(rest) => format!("{}{}{rest}", &s[..1], "0".repeat(missing)),
            None => format!("{}{s}", "0".repeat(missing)),
        },
    })
}

fn map_method(value: &Value, method: &str, args: &[Value]) -> Result<Value, Error> {
    match method {
        "get" => {
            let key = args
                .first()
                .ok_or_else(|| Error::new(ErrorKind::MissingArgument, "get() needs a key"))?;
            let v = value.get_item(key)?;
            Ok(if v.is_undefined() {
                args.get(1).cloned().unwrap_or(Value::from(()))
            } else {
                v
            })
        }
        "keys" => Ok(value.try_iter()?.collect()),
        "values" => {
            let mut out = Vec::new();
            for k in value.try_iter()? {
                out.push(value.get_item(&k)?);
            }
            Ok(Value::from(out))
        }
        "items" => {
            let mut out = Vec::new();
            for k in value.try_iter()? {
                let v = value.get_item(&k)?;
                out.push(Value::from(vec![k, v]));
            }
            Ok(Value::from(out))
        }
        _ => Err(unknown(value, method)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{fails, ok};
    use serde_json::json;

    #[test]
    fn text_methods() {
        assert_eq!(ok("'42'.rjust(6, '0')"), json!("000042"));
        assert_eq!(ok("'-42'.zfill(5)"), json!("-0042"));
        assert_eq!(ok("'ab'.ljust(4, '.') ~ '|'"), json!("ab..|"));
        assert_eq!(ok("'ab'.center(5, '*')"), json!("**ab*"));
        assert_eq!(ok("'abc'.center(6, '*')"), json!("*abc**"));
        assert_eq!(ok("'toolong'.rjust(3)"), json!("toolong"));
        assert_eq!(ok("'jo@acme.com'.find('@')"), json!(2));
        assert_eq!(ok("'a.b.c'.rfind('.')"), json!(3));
        assert_eq!(ok("'x'.find('y')"), json!(-1));
        assert_eq!(ok("'banana'.count('an')"), json!(2));
        assert_eq!(ok("'jo doe-smith'.title()"), json!("Jo Doe-Smith"));
        assert_eq!(ok("'hELLO'.capitalize()"), json!("Hello"));
        assert_eq!(ok("'--x--'.strip('-')"), json!("x"));
        assert_eq!(ok("'  x '.lstrip()"), json!("x "));
        assert_eq!(ok("'ACME-jo'.removeprefix('ACME-')"), json!("jo"));
        assert_eq!(ok("'jo@acme.com'.removesuffix('@acme.com')"), json!("jo"));
        assert_eq!(ok("', '.join(['a', 1, 'b'])"), json!("a, 1, b"));
        assert_eq!(
            ok(
                "['0042'.isdigit(), ''.isdigit(), 'ab'.isalpha(), 'a1'.isalnum(), ' '.isspace(), 'ab1'.islower(), 'AB'.isupper()]"
            ),
            json!([true, false, true, true, true, true, true])
        );
        assert!(fails("'x'.rjust(3, 'ab')").contains("one character"));
        assert!(fails("'x'.rjust('3')").contains("needs a width"));
        assert!(fails("'x'.rjust(100000000)").contains("more than"));
        assert!(fails("'x'.frobnicate()").contains("no method named frobnicate"));
    }

    #[test]
    fn mapping_methods() {
        assert_eq!(ok("{'a': 1}.get('b', 7)"), json!(7));
        assert_eq!(ok("{'a': 1, 'b': 2}.keys() | list"), json!(["a", "b"]));
        assert_eq!(ok("{'a': 1}.items()"), json!([["a", 1]]));
    }

    #[test]
    fn every_listed_method_is_answered() {
        use minijinja::{ErrorKind, Value};
        let map = Value::from(std::collections::BTreeMap::<String, Value>::new());
        let unknown = |r: Result<Value, minijinja::Error>| matches!(r, Err(e) if e.kind() == ErrorKind::UnknownMethod);
        for name in super::METHODS.iter().chain([&super::MAP_ITEMS]) {
            let on_text = unknown(super::text_method("x", name, &[]));
            let on_map = unknown(super::map_method(&map, name, &[]));
            assert!(
                !(on_text && on_map),
                "`{name}` is listed but no value has it"
            );
        }
        assert!(unknown(super::text_method("x", "frobnicate", &[])));
    }
}
