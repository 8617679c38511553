//! Lists, mappings and text as collections: `contains`, `startswith`,
//! `endswith`, `flatten`, `index_of`, `pick`, `omit`, `merge`, `from_items`,
//! `average`, and the test `empty`.
//!
//! Mappings made here are [`JsonMap`]s, the mappings card outputs become, so
//! they keep their keys' order and print, compare and convert like any other.

use super::{check_items, invalid};
use crate::expr::JsonMap;
use minijinja::value::{Rest, Value, ValueKind};
use minijinja::{Environment, Error};

pub(super) fn register(env: &mut Environment<'static>) {
    env.add_filter("contains", |c: Value, item: Value| contains(&c, &item));
    env.add_filter("startswith", |s: &str, p: &str| s.starts_with(p));
    env.add_filter("endswith", |s: &str, p: &str| s.ends_with(p));
    env.add_filter("flatten", flatten);
    env.add_filter("index_of", index_of);
    env.add_filter("pick", |m: Value, keys: Rest<Value>| {
        select_keys(&m, &keys, true)
    });
    env.add_filter("omit", |m: Value, keys: Rest<Value>| {
        select_keys(&m, &keys, false)
    });
    env.add_filter("merge", merge);
    env.add_filter("from_items", from_items);
    env.add_filter("average", average);
    env.add_test("empty", |v: Value| -> bool {
        match v.kind() {
            ValueKind::Undefined | ValueKind::None => true,
            ValueKind::String | ValueKind::Seq | ValueKind::Map => v.len() == Some(0),
            _ => false,
        }
    });
}

fn contains(container: &Value, item: &Value) -> Result<bool, Error> {
    if let (Some(s), Some(needle)) = (container.as_str(), item.as_str()) {
        return Ok(s.contains(needle));
    }
    if container.is_undefined() || container.is_none() {
        return Ok(false);
    }
    for x in container.try_iter()? {
        if &x == item {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The items of a list (a sequence or anything iterable but text and mappings).
fn items(v: &Value, what: &str) -> Result<Vec<Value>, Error> {
    match v.kind() {
        ValueKind::Seq | ValueKind::Iterable => {
            let mut out = Vec::with_capacity(v.len().unwrap_or(0));
            for x in v.try_iter()? {
                check_items(what, out.len() + 1)?;
                out.push(x);
            }
            Ok(out)
        }
        other => Err(invalid(format!("{what} takes a list, not {other}"))),
    }
}

/// `[[1, 2], [3], 4] | flatten` is `[1, 2, 3, 4]`: one level.
fn flatten(v: Value) -> Result<Value, Error> {
    let mut out = Vec::new();
    for x in items(&v, "flatten")? {
        if matches!(x.kind(), ValueKind::Seq | ValueKind::Iterable) {
            for y in x.try_iter()? {
                check_items("flatten", out.len() + 1)?;
                out.push(y);
            }
        } else {
            check_items("flatten", out.len() + 1)?;
            out.push(x);
        }
    }
    Ok(Value::from(out))
}

/// Where `x` first is in a list, or a text in a text (counted in characters,
/// as slicing counts); -1 when it is not there.
fn index_of(v: Value, x: Value) -> Result<i64, Error> {
    if let (Some(s), Some(needle)) = (v.as_str(), x.as_str()) {
        return Ok(s
            .find(needle)
            .map(|at| s[..at].chars().count() as i64)
            .unwrap_or(-1));
    }
    let position = items(&v, "index_of")?.iter().position(|y| *y == x);
    Ok(position.map(|p| p as i64).unwrap_or(-1))
}

fn pairs(m: &Value, what: &str) -> Result<Vec<(Value, Value)>, Error> {
    if m.kind() != ValueKind::Map {
        return Err(invalid(format!("{what} takes a mapping, not {}", m.kind())));
    }
    let mut out = Vec::with_capacity(m.len().unwrap_or(0));
    for k in m.try_iter()? {
        let v = m.get_item(&k)?;
        out.push((k, v));
    }
    Ok(out)
}

/// `m | pick('a', 'b')` keeps those keys, `m | omit('a', 'b')` drops them;
/// the keys may also be given as one list.
fn select_keys(m: &Value, keys: &[Value], keep: bool) -> Result<Value, Error> {
    let what = if keep { "pick" } else { "omit" };
    let mut wanted: Vec<Value> = Vec::new();
    for k in keys {
        match k.kind() {
            ValueKind::Seq | ValueKind::Iterable => wanted.extend(k.try_iter()?),
            _ => wanted.push(k.clone()),
        }
    }
    let kept = pairs(m, what)?
        .into_iter()
        .filter(|(k, _)| wanted.contains(k) == keep)
        .collect();
    Ok(JsonMap::value(kept))
}

/// `a | merge(b, c)`: the keys of all, later values winning; keys keep the
/// place they first had.
fn merge(m: Value, others: Rest<Value>) -> Result<Value, Error> {
    let mut out = pairs(&m, "merge")?;
    for other in others.iter() {
        for (k, v) in pairs(other, "merge")? {
            match out.iter_mut().find(|(have, _)| *have == k) {
                Some(entry) => entry.1 = v,
                None => out.push((k, v)),
            }
            check_items("merge", out.len())?;
        }
    }
    Ok(JsonMap::value(out))
}

/// `[['a', 1], ['b', 2]] | from_items` is `{'a': 1, 'b': 2}` (what `items`
/// takes apart); a key given twice keeps its last value.
fn from_items(v: Value) -> Result<Value, Error> {
    let mut out: Vec<(Value, Value)> = Vec::new();
    for pair in items(&v, "from_items")? {
        let kv = items(&pair, "from_items")
            .ok()
            .filter(|kv| kv.len() == 2)
            .ok_or_else(|| invalid(format!("from_items takes [key, value] pairs, not `{pair}`")))?;
        let (k, v) = (kv[0].clone(), kv[1].clone());
        if k.as_str().is_none() {
            return Err(invalid(format!(
                "from_items: a key must be text, not `{k}`"
            )));
        }
        match out.iter_mut().find(|(have, _)| *have == k) {
            Some(entry) => entry.1 = v,
            None => out.push((k, v)),
        }
    }
    Ok(JsonMap::value(out))
}

/// The mean of a list of numbers; none for an empty list.
fn average(v: Value) -> Result<Value, Error> {
    let xs = items(&v, "average")?;
    if xs.is_empty() {
        return Ok(Value::from(()));
    }
    let mut sum = 0.0;
    for x in &xs {
        sum += f64::try_from(x.clone())
            .map_err(|_| invalid(format!("average takes numbers, not `{x}`")))?;
    }
    Ok(Value::from(sum / xs.len() as f64))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{fails, ok};
    use serde_json::json;

    #[test]
    fn lists() {
        assert_eq!(ok("[[1, 2], [3], 4, []] | flatten"), json!([1, 2, 3, 4]));
        assert_eq!(ok("[[1, [2]]] | flatten"), json!([1, [2]]));
        assert_eq!(ok("['a', 'b', 'c'] | index_of('c')"), json!(2));
        assert_eq!(ok("['a'] | index_of('z')"), json!(-1));
        assert_eq!(ok("'zoë@acme' | index_of('@')"), json!(3));
        assert_eq!(ok("[1, 2, 3, 4] | average"), json!(2.5));
        assert_eq!(ok("[] | average"), json!(null));
        assert_eq!(ok("[1, 2] | contains(2)"), json!(true));
        assert!(fails("3 | flatten").contains("takes a list"));
        assert!(fails("['x'] | average").contains("takes numbers"));
    }

    #[test]
    fn mappings() {
        let m = "{'a': 1, 'b': 2, 'c': 3}";
        assert_eq!(
            ok(&format!("{m} | pick('c', 'a')")),
            json!({"a": 1, "c": 3})
        );
        assert_eq!(ok(&format!("{m} | pick(['b'])")), json!({"b": 2}));
        assert_eq!(ok(&format!("{m} | omit('b')")), json!({"a": 1, "c": 3}));
        assert_eq!(
            ok(&format!("{m} | merge({{'b': 20, 'd': 4}}, {{'a': 10}})")),
            json!({"a": 10, "b": 20, "c": 3, "d": 4})
        );
        assert_eq!(
            ok(&format!("{m} | items | from_items")),
            json!({"a": 1, "b": 2, "c": 3})
        );
        assert_eq!(ok("[['k', 1], ['k', 2]] | from_items"), json!({"k": 2}));
        assert!(fails("[['k']] | from_items").contains("[key, value] pairs"));
        assert!(fails("[[1, 2]] | from_items").contains("must be text"));
        assert!(fails("[1] | merge({})").contains("takes a mapping"));
    }

    #[test]
    fn the_empty_test() {
        assert_eq!(
            ok(
                "[none is empty, '' is empty, [] is empty, {} is empty, 0 is empty, 'x' is empty, [0] is empty]"
            ),
            json!([true, true, true, true, false, false, false])
        );
    }
}
