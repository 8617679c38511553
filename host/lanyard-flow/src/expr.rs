//! Expressions: the one language flows use for values and conditions.
//!
//! It is minijinja's expression language, run in one process-wide, locked-down
//! [`Environment`]: no templates, no includes, no loader, no filesystem; every
//! evaluation is bounded by fuel ([`FUEL_PER_EVAL`]) and minijinja's recursion
//! limit. Expressions are compiled once, when a flow is compiled, never per run.
//!
//! A value in a flow is a [`Template`]: a literal, exactly one `{{ expr }}` (which
//! evaluates to the typed value: a list stays a list), text with `{{ }}` holes
//! (which renders to a string), or a list or mapping of those. Conditions are
//! bare expressions ([`Expr`]).
//!
//! Undefined values follow minijinja's semi-strict rule: a missing attribute is
//! false in a condition, but comparing, printing or passing it on is an error
//! that names the missing path, so a flow never sends "Hello " to Slack because a
//! profile field was empty. `| default(...)` and `is defined` handle optional
//! values.
//!
//! This module must not reach the clock, the network or the disk itself: time
//! functions that need "now" read it from the run's context object.

use minijinja::value::{Object, ObjectRepr, Value};
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior};
use serde::Serialize;
use std::fmt;
use std::sync::{Arc, LazyLock};

pub use crate::functions::CONTEXT_FUNCTIONS;

/// Instructions one evaluation may execute before it is stopped.
pub const FUEL_PER_EVAL: u64 = 100_000;
/// Deepest JSON a value may be converted to.
pub const MAX_VALUE_DEPTH: usize = 64;
/// Largest text one value may render to (bytes).
pub const MAX_TEXT_BYTES: usize = 1024 * 1024;

/// The process-wide, locked-down expression environment.
pub(crate) static ENV: LazyLock<Environment<'static>> = LazyLock::new(build_env);

fn build_env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.set_fuel(Some(FUEL_PER_EVAL));
    // `debug()` would print the whole context; `namespace()` invites state.
    env.remove_global("debug");
    env.remove_global("namespace");
    crate::functions::register(&mut env);
    env
}

/// The names an expression may use as functions, besides values in scope.
pub fn is_function(name: &str) -> bool {
    CONTEXT_FUNCTIONS.contains(&name) || ENV.globals().any(|(n, _)| n == name)
}

// ---------------------------------------------------------------------------
// Compiled expressions

/// One compiled expression, with where it came from (for error messages).
#[derive(Clone)]
pub struct Expr {
    src: Arc<str>,
    field: Arc<str>,
    compiled: Arc<minijinja::Expression<'static, 'static>>,
    /// Most expressions in flows are plain paths (`user.profile.login`,
    /// `event.target[0].id`); those are looked up directly instead of through
    /// minijinja's VM, which costs about a microsecond per evaluation.
    path: Option<Arc<[Seg]>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Attr(Arc<str>),
    Index(i64),
}

/// `name(.attr | [digits] | ['key'])*`, or `None` for anything else.
fn parse_path(src: &str) -> Option<Vec<Seg>> {
    const KEYWORDS: [&str; 12] = [
        "true", "false", "none", "True", "False", "None", "not", "and", "or", "in", "is", "if",
    ];
    fn ident(s: &str) -> Option<(&str, &str)> {
        let end = s
            .char_indices()
            .find(|(i, c)| {
                !(c.is_ascii_alphabetic() || *c == '_' || (*i > 0 && c.is_ascii_digit()))
            })
            .map(|(i, _)| i)
            .unwrap_or(s.len());
        (end > 0).then(|| s.split_at(end))
    }
    let (root, mut rest) = ident(src)?;
    if KEYWORDS.contains(&root) || ENV.globals().any(|(n, _)| n == root) {
        return None;
    }
    let mut segs = vec![Seg::Attr(root.into())];
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let (name, r) = ident(r)?;
            segs.push(Seg::Attr(name.into()));
            rest = r;
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            let inner = &r[..close];
            if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
                segs.push(Seg::Index(inner.parse().ok()?));
            } else {
                let q = inner.chars().next()?;
                let key = inner.strip_prefix(q)?.strip_suffix(q)?;
                if !matches!(q, '\'' | '"') || key.contains(['\\', '\'', '"']) {
                    return None;
                }
                segs.push(Seg::Attr(key.into()));
            }
            rest = &r[close + 1..];
        } else {
            return None;
        }
    }
    Some(segs)
}

/// A plain path looked up directly. `None` when the VM must decide (an
/// undefined or none value part way, which is an error it words).
fn eval_path(path: &[Seg], ctx: &Value) -> Option<Value> {
    let mut v = ctx.clone();
    for seg in path {
        if v.is_undefined() || v.is_none() {
            return None;
        }
        v = match seg {
            Seg::Attr(a) => v.get_attr(a).ok()?,
            Seg::Index(i) => v.get_item(&Value::from(*i)).ok()?,
        };
    }
    Some(v)
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expr({:?})", &*self.src)
    }
}

impl Serialize for Expr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.src)
    }
}

/// A syntax error in an expression: the message and the byte offset in the
/// expression text where it was found, if known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub message: String,
}

impl Expr {
    /// Compile `src` (the text inside `{{ }}`, or a bare condition). `field` names
    /// where it sits in the step (`with.user`, `if`), for runtime errors.
    pub fn compile(src: &str, field: &str) -> Result<Expr, SyntaxError> {
        let trimmed = src.trim();
        if trimmed.is_empty() {
            return Err(SyntaxError {
                message: "empty expression".into(),
            });
        }
        let compiled = ENV
            .compile_expression_owned(trimmed.to_string())
            .map_err(|e| SyntaxError {
                message: e.detail().unwrap_or("syntax error").to_string(),
            })?;
        Ok(Expr {
            src: trimmed.into(),
            field: field.into(),
            compiled: Arc::new(compiled),
            path: parse_path(trimmed).map(Arc::from),
        })
    }

    pub fn source(&self) -> &str {
        &self.src
    }

    pub fn field(&self) -> &str {
        &self.field
    }

    /// Every name the expression reads, as dotted paths where attribute access
    /// is static (`user.profile.login`, `event`, `now`).
    pub fn names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .compiled
            .undeclared_variables(true)
            .into_iter()
            .collect();
        v.sort();
        v
    }

    /// Evaluate against a context value (the run's scope object).
    pub fn eval(&self, ctx: &Value) -> Result<Value, ExprError> {
        if let Some(v) = self.path.as_deref().and_then(|p| eval_path(p, ctx)) {
            return Ok(v);
        }
        match self.compiled.eval(ctx.clone()) {
            Ok(v) => Ok(v),
            Err(e) => Err(self.error_from(e, ctx)),
        }
    }

    /// Evaluate to a value that must be defined (a whole value, a `for_each` list).
    pub fn eval_defined(&self, ctx: &Value) -> Result<Value, ExprError> {
        let v = self.eval(ctx)?;
        if v.is_undefined() {
            return Err(self.undefined_error(ctx));
        }
        Ok(v)
    }

    /// Evaluate as a condition: Jinja truthiness (a missing attribute is false).
    pub fn eval_bool(&self, ctx: &Value) -> Result<bool, ExprError> {
        Ok(self.eval(ctx)?.is_true())
    }

    fn error_from(&self, e: Error, ctx: &Value) -> ExprError {
        if e.kind() == ErrorKind::UndefinedError {
            return self.undefined_error(ctx);
        }
        let message = match (e.kind(), e.detail()) {
            (ErrorKind::OutOfFuel, _) => {
                format!("took more than {FUEL_PER_EVAL} steps to evaluate; simplify it")
            }
            (kind, Some(detail)) => format!("{kind}: {detail}"),
            (kind, None) => kind.to_string(),
        };
        ExprError::new(&self.field, &self.src, message)
    }

    /// Find which path the expression read was undefined, for the message. Only
    /// runs on the error path: it evaluates each prefix of each name read.
    fn undefined_error(&self, ctx: &Value) -> ExprError {
        for name in self.names() {
            let parts: Vec<&str> = name.split('.').collect();
            for n in 1..=parts.len() {
                let prefix = parts[..n].join(".");
                let Ok(e) = ENV.compile_expression_owned(prefix.clone()) else {
                    break;
                };
                match e.eval(ctx.clone()) {
                    Ok(v) if v.is_undefined() => {
                        let message = if n == 1 {
                            format!("`{prefix}` is not defined here")
                        } else {
                            format!(
                                "`{prefix}` is undefined: `{}` has no `{}` (use `| default(...)` if it is optional)",
                                parts[..n - 1].join("."),
                                parts[n - 1]
                            )
                        };
                        return ExprError::new(&self.field, &self.src, message);
                    }
                    Ok(_) => continue,
                    Err(_) => break,
                }
            }
        }
        ExprError::new(
            &self.field,
            &self.src,
            "an undefined value was used (use `| default(...)` or `is defined`)".to_string(),
        )
    }
}

/// An expression that failed at run time: where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: `{expr}`: {message}")]
pub struct ExprError {
    /// Where the expression sits in its step: `with.user`, `if`, `for_each`.
    pub field: String,
    /// The expression's text.
    pub expr: String,
    pub message: String,
}

impl ExprError {
    pub fn new(field: &str, expr: &str, message: impl Into<String>) -> Self {
        ExprError {
            field: field.to_string(),
            expr: expr.to_string(),
            message: message.into(),
        }
    }
}

// ---------------------------------------------------------------------------
// Text with `{{ }}` holes

/// One piece of a text value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawPart<'a> {
    Text(String),
    /// The expression text and its byte offset in the whole string.
    Expr(&'a str, usize),
}

/// Split `s` into literal text and `{{ expr }}` holes. `{{-` / `-}}` trim the
/// whitespace next to them, `{# ... #}` is a comment. `{% ... %}` statements
/// are refused: a flow value is data, not a template program. Errors carry
/// the byte offset where the problem starts.
pub fn split_text(s: &str) -> Result<Vec<RawPart<'_>>, (String, usize)> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut trim_next = false;
    while i < bytes.len() {
        if bytes[i] == b'{' && i + 1 < bytes.len() && matches!(bytes[i + 1], b'{' | b'%' | b'#') {
            match bytes[i + 1] {
                b'%' => {
                    return Err((
                        "`{% %}` statements are not supported in flow values; use an expression such as `{{ a if cond else b }}`".into(),
                        i,
                    ));
                }
                b'#' => {
                    let Some(end) = s[i + 2..].find("#}") else {
                        return Err(("unclosed comment `{#`".into(), i));
                    };
                    i = i + 2 + end + 2;
                    continue;
                }
                _ => {}
            }
            let open = i;
            let mut start = i + 2;
            if bytes.get(start) == Some(&b'-') {
                start += 1;
                let trimmed = text.trim_end().len();
                text.truncate(trimmed);
            }
            let Some(close) = find_close(s, start) else {
                return Err(("unclosed `{{`: add `}}`".into(), open));
            };
            let mut end = close;
            trim_next = false;
            if end > start && bytes[end - 1] == b'-' {
                end -= 1;
                trim_next = true;
            }
            if !text.is_empty() {
                parts.push(RawPart::Text(std::mem::take(&mut text)));
            }
            parts.push(RawPart::Expr(&s[start..end], start));
            i = close + 2;
            continue;
        }
        let ch = s[i..].chars().next().unwrap_or(' ');
        if trim_next && ch.is_whitespace() {
            i += ch.len_utf8();
            continue;
        }
        trim_next = false;
        text.push(ch);
        i += ch.len_utf8();
    }
    if !text.is_empty() {
        parts.push(RawPart::Text(text));
    }
    Ok(parts)
}

/// The byte index of the `}}` that closes an expression starting at `from`,
/// skipping string literals (so `{{ "}}" }}` works).
fn find_close(s: &str, from: usize) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = from;
    let mut quote: Option<u8> = None;
    while i < b.len() {
        match quote {
            Some(q) => {
                if b[i] == b'\\' {
                    i += 2;
                    continue;
                }
                if b[i] == q {
                    quote = None;
                }
            }
            None => match b[i] {
                b'\'' | b'"' => quote = Some(b[i]),
                b'}' if b.get(i + 1) == Some(&b'}') => return Some(i),
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// One piece of compiled text.
#[derive(Debug, Clone)]
pub enum Part {
    Text(Arc<str>),
    Expr(Expr),
}

/// A value in a flow: literal, one typed expression, text, or a structure.
#[derive(Debug, Clone)]
pub enum Template {
    /// No expression anywhere inside: kept as JSON and as an expression value.
    Lit {
        json: serde_json::Value,
        value: Value,
    },
    /// Exactly `{{ expr }}`: the typed result.
    Expr(Expr),
    /// Text with holes: always a string.
    Text {
        src: Arc<str>,
        parts: Vec<Part>,
    },
    List(Vec<Template>),
    Map(Vec<(Arc<str>, Template)>),
}

impl Serialize for Template {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            Template::Lit { json, .. } => json.serialize(s),
            Template::Expr(e) => s.serialize_str(&format!("{{{{ {} }}}}", e.source())),
            Template::Text { src, .. } => s.serialize_str(src),
            Template::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Template::Map(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(&**k, v)?;
                }
                map.end()
            }
        }
    }
}

impl Template {
    pub fn literal(json: serde_json::Value) -> Template {
        let value = from_json(&json);
        Template::Lit { json, value }
    }

    /// Fold lists and maps with no expression inside into one literal.
    pub fn simplify(self) -> Template {
        match self {
            Template::List(items) if items.iter().all(|t| matches!(t, Template::Lit { .. })) => {
                let json = items
                    .into_iter()
                    .map(|t| match t {
                        Template::Lit { json, .. } => json,
                        _ => serde_json::Value::Null,
                    })
                    .collect();
                Template::literal(serde_json::Value::Array(json))
            }
            Template::Map(entries)
                if entries
                    .iter()
                    .all(|(_, t)| matches!(t, Template::Lit { .. })) =>
            {
                let json = entries
                    .into_iter()
                    .map(|(k, t)| match t {
                        Template::Lit { json, .. } => (k.to_string(), json),
                        _ => (k.to_string(), serde_json::Value::Null),
                    })
                    .collect();
                Template::literal(serde_json::Value::Object(json))
            }
            other => other,
        }
    }

    /// Every expression inside, in document order.
    pub fn exprs(&self) -> Vec<&Expr> {
        let mut out = Vec::new();
        self.collect_exprs(&mut out);
        out
    }

    fn collect_exprs<'a>(&'a self, out: &mut Vec<&'a Expr>) {
        match self {
            Template::Lit { .. } => {}
            Template::Expr(e) => out.push(e),
            Template::Text { parts, .. } => {
                for p in parts {
                    if let Part::Expr(e) = p {
                        out.push(e);
                    }
                }
            }
            Template::List(items) => items.iter().for_each(|t| t.collect_exprs(out)),
            Template::Map(entries) => entries.iter().for_each(|(_, t)| t.collect_exprs(out)),
        }
    }

    /// Evaluate to an expression value (for the scope: `assign`, `for_each`).
    pub fn eval_value(&self, ctx: &Value) -> Result<Value, ExprError> {
        match self {
            Template::Lit { value, .. } => Ok(value.clone()),
            Template::Expr(e) => e.eval_defined(ctx),
            Template::Text { .. } => Ok(Value::from(self.render_text(ctx)?)),
            Template::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for t in items {
                    out.push(t.eval_value(ctx)?);
                }
                Ok(Value::from(out))
            }
            Template::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, t) in entries {
                    out.push((Value::from(&**k), t.eval_value(ctx)?));
                }
                Ok(JsonMap::value(out))
            }
        }
    }

    /// Evaluate to JSON (a card's input, a flow's output).
    pub fn eval_json(&self, ctx: &Value) -> Result<serde_json::Value, ExprError> {
        match self {
            Template::Lit { json, .. } => Ok(json.clone()),
            Template::Expr(e) => {
                let v = e.eval_defined(ctx)?;
                to_json(&v).map_err(|m| ExprError::new(e.field(), e.source(), m))
            }
            Template::Text { .. } => Ok(serde_json::Value::String(self.render_text(ctx)?)),
            Template::List(items) => items
                .iter()
                .map(|t| t.eval_json(ctx))
                .collect::<Result<Vec<_>, _>>()
                .map(serde_json::Value::Array),
            Template::Map(entries) => {
                let mut out = serde_json::Map::with_capacity(entries.len());
                for (k, t) in entries {
                    out.insert(k.to_string(), t.eval_json(ctx)?);
                }
                Ok(serde_json::Value::Object(out))
            }
        }
    }

    fn render_text(&self, ctx: &Value) -> Result<String, ExprError> {
        let Template::Text { parts, src } = self else {
            return Ok(String::new());
        };
        let mut out = String::new();
        for p in parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Expr(e) => {
                    let v = e.eval_defined(ctx)?;
                    append_text(&mut out, &v)
                        .map_err(|m| ExprError::new(e.field(), e.source(), m))?;
                }
            }
            if out.len() > MAX_TEXT_BYTES {
                let field = parts
                    .iter()
                    .find_map(|p| match p {
                        Part::Expr(e) => Some(e.field().to_string()),
                        Part::Text(_) => None,
                    })
                    .unwrap_or_default();
                return Err(ExprError::new(
                    &field,
                    src,
                    format!("renders to more than {MAX_TEXT_BYTES} bytes"),
                ));
            }
        }
        Ok(out)
    }
}

/// How a value prints inside text: strings as they are, none as nothing,
/// lists and mappings as JSON.
fn append_text(out: &mut String, v: &Value) -> Result<(), String> {
    use minijinja::value::ValueKind;
    match v.kind() {
        ValueKind::None => {}
        ValueKind::String => out.push_str(v.as_str().unwrap_or_default()),
        ValueKind::Seq | ValueKind::Map | ValueKind::Iterable => {
            let json = to_json(v)?;
            out.push_str(&json.to_string());
        }
        _ => {
            use std::fmt::Write;
            let _ = write!(out, "{v}");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// JSON <-> expression values

/// A mapping as expressions see it: keys in their order, looked up by a scan
/// (objects in card outputs are small) or, for large ones, by an index built
/// once. Cheaper to build than an `IndexMap`, which hashes every key with
/// SipHash on insert; converting card outputs is on every run's path.
#[derive(Debug)]
pub(crate) struct JsonMap {
    keys: Vec<Value>,
    values: Vec<Value>,
    index: Option<std::collections::HashMap<Arc<str>, usize>>,
}

/// Maps with more entries than this get a hash index.
const SCAN_LIMIT: usize = 16;

impl JsonMap {
    pub(crate) fn value(pairs: Vec<(Value, Value)>) -> Value {
        let (keys, values): (Vec<Value>, Vec<Value>) = pairs.into_iter().unzip();
        let index = (keys.len() > SCAN_LIMIT).then(|| {
            let mut index = std::collections::HashMap::with_capacity(keys.len());
            for (i, k) in keys.iter().enumerate() {
                if let Some(s) = k.as_str() {
                    // First wins, as with a JSON object's duplicate keys in serde_json.
                    index.entry(Arc::from(s)).or_insert(i);
                }
            }
            index
        });
        Value::from_object(JsonMap {
            keys,
            values,
            index,
        })
    }

    fn lookup(&self, key: &str) -> Option<Value> {
        let i = match &self.index {
            Some(index) => *index.get(key)?,
            None => self.keys.iter().position(|k| k.as_str() == Some(key))?,
        };
        self.values.get(i).cloned()
    }
}

impl Object for JsonMap {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Map
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        self.lookup(key.as_str()?)
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        self.lookup(key)
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        use minijinja::value::ObjectExt;
        self.mapped_enumerator(|this| Box::new(this.keys.iter().cloned()))
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.keys.len())
    }
}

/// JSON into an expression value (order of keys kept).
///
/// Lazy: a run converts a whole event or card output, and its expressions
/// read two or three fields of it. JSON is copied in one pass into a flat
/// [`JsonTape`] (a few allocations in all, instead of several per node; one
/// node for a bare number or boolean), and an array or object is seen through
/// a [`JsonNode`], which makes minijinja values only for what is read. To
/// expressions it is the same list or mapping as before: same kind, keys in
/// the document's order, same lookups, length, iteration, truthiness,
/// equality, printing and JSON. Numbers are `i64`, else `u64`, else `f64`.
pub fn from_json(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::String(s) => Value::from(s.as_str()),
        _ => Arc::new(JsonTape::build(json)).value(0),
    }
}

/// The eager conversion this module used before [`JsonTape`]: kept to check
/// that the lazy values behave the same.
#[cfg(test)]
fn from_json_eager(json: &serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Array(items) => Value::from(items.iter().map(from_json_eager).collect::<Vec<_>>()),
        J::Object(map) => JsonMap::value(
            map.iter()
                .map(|(k, v)| (Value::from(k.as_str()), from_json_eager(v)))
                .collect(),
        ),
        scalar => from_json(scalar),
    }
}

/// One JSON document, flattened: its nodes in document order, every key and
/// string in one text buffer, and each container's children located through
/// `offsets`, so a child is found without walking its siblings.
#[derive(Debug)]
struct JsonTape {
    nodes: Vec<TapeNode>,
    /// For a container at `first..first + len`: where each child's node is
    /// (an array's items; an object's keys, each value right after its key).
    offsets: Vec<usize>,
    text: String,
    /// For objects with more than [`TAPE_SCAN_LIMIT`] entries: their entry
    /// numbers sorted by key, built on the first lookup.
    sorted: Vec<std::sync::OnceLock<Box<[usize]>>>,
}

/// Objects with more entries than this are searched through keys sorted
/// once; smaller ones by a scan. Higher than [`SCAN_LIMIT`]: a document is
/// usually read a few times per conversion, and sorting costs more than
/// a few scans of a few dozen keys.
const TAPE_SCAN_LIMIT: usize = 64;

#[derive(Debug, Clone, Copy)]
enum TapeNode {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str {
        start: usize,
        end: usize,
    },
    Seq {
        first: usize,
        len: usize,
    },
    /// `sorted` indexes [`JsonTape::sorted`] when `len > TAPE_SCAN_LIMIT`.
    Map {
        first: usize,
        len: usize,
        sorted: usize,
    },
}

impl JsonTape {
    fn build(json: &serde_json::Value) -> JsonTape {
        // Sized first, so nothing is copied as it grows.
        let mut size = (0, 0, 0);
        Self::measure(json, &mut size);
        let mut tape = JsonTape {
            nodes: Vec::with_capacity(size.0),
            offsets: Vec::with_capacity(size.1),
            text: String::with_capacity(size.2),
            sorted: Vec::new(),
        };
        tape.push(json);
        tape
    }

    /// Adds the nodes, offsets and text bytes `json` needs to `size`.
    fn measure(json: &serde_json::Value, size: &mut (usize, usize, usize)) {
        use serde_json::Value as J;
        size.0 += 1;
        match json {
            J::String(s) => size.2 += s.len(),
            J::Array(items) => {
                size.1 += items.len();
                items.iter().for_each(|v| Self::measure(v, size));
            }
            J::Object(map) => {
                size.0 += map.len();
                size.1 += map.len();
                for (k, v) in map {
                    size.2 += k.len();
                    Self::measure(v, size);
                }
            }
            _ => {}
        }
    }

    fn push(&mut self, json: &serde_json::Value) {
        use serde_json::Value as J;
        let node = match json {
            J::Null => TapeNode::Null,
            J::Bool(b) => TapeNode::Bool(*b),
            J::Number(n) => {
                if let Some(i) = n.as_i64() {
                    TapeNode::I64(i)
                } else if let Some(u) = n.as_u64() {
                    TapeNode::U64(u)
                } else {
                    TapeNode::F64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            J::String(s) => self.str_node(s),
            J::Array(items) => {
                let first = self.offsets.len();
                self.offsets.resize(first + items.len(), 0);
                self.nodes.push(TapeNode::Seq {
                    first,
                    len: items.len(),
                });
                for (i, item) in items.iter().enumerate() {
                    self.offsets[first + i] = self.nodes.len();
                    self.push(item);
                }
                return;
            }
            J::Object(map) => {
                let first = self.offsets.len();
                self.offsets.resize(first + map.len(), 0);
                let sorted = if map.len() > TAPE_SCAN_LIMIT {
                    self.sorted.push(std::sync::OnceLock::new());
                    self.sorted.len() - 1
                } else {
                    usize::MAX
                };
                self.nodes.push(TapeNode::Map {
                    first,
                    len: map.len(),
                    sorted,
                });
                for (i, (k, v)) in map.iter().enumerate() {
                    self.offsets[first + i] = self.nodes.len();
                    let key = self.str_node(k);
                    self.nodes.push(key);
                    self.push(v);
                }
                return;
            }
        };
        self.nodes.push(node);
    }

    fn str_node(&mut self, s: &str) -> TapeNode {
        let start = self.text.len();
        self.text.push_str(s);
        TapeNode::Str {
            start,
            end: self.text.len(),
        }
    }

    /// The text of a string node (a key or a string value).
    fn str_at(&self, at: usize) -> &str {
        match self.nodes[at] {
            TapeNode::Str { start, end } => &self.text[start..end],
            _ => "",
        }
    }

    /// The node at `at` as an expression value.
    fn value(self: &Arc<Self>, at: usize) -> Value {
        match self.nodes[at] {
            TapeNode::Null => Value::from(()),
            TapeNode::Bool(b) => Value::from(b),
            TapeNode::I64(i) => Value::from(i),
            TapeNode::U64(u) => Value::from(u),
            TapeNode::F64(f) => Value::from(f),
            TapeNode::Str { start, end } => Value::from(&self.text[start..end]),
            TapeNode::Seq { .. } | TapeNode::Map { .. } => Value::from_object(JsonNode {
                tape: self.clone(),
                at,
            }),
        }
    }

    /// Entry `i` of the object whose children start at `first`: where its key
    /// node is (its value node is the next one).
    fn entry(&self, first: usize, i: usize) -> usize {
        self.offsets[first + i]
    }

    /// Where the value for `key` is in the object whose entries start at
    /// `first`. A scan for small objects (as `JsonMap`), a binary search over
    /// keys sorted once for large ones.
    fn lookup(&self, first: usize, len: usize, sorted: usize, key: &str) -> Option<usize> {
        let key_of = |i: usize| self.str_at(self.entry(first, i));
        let i = match self.sorted.get(sorted) {
            None => (0..len).find(|&i| key_of(i) == key)?,
            Some(cell) => {
                let order = cell.get_or_init(|| {
                    let mut order: Vec<usize> = (0..len).collect();
                    // Stable: of equal keys the first stays first, as in `JsonMap`.
                    order.sort_by(|&a, &b| key_of(a).cmp(key_of(b)));
                    order.into_boxed_slice()
                });
                let p = order.partition_point(|&i| key_of(i) < key);
                let i = *order.get(p)?;
                if key_of(i) != key {
                    return None;
                }
                i
            }
        };
        Some(self.entry(first, i) + 1)
    }
}

/// An array or object inside a [`JsonTape`], as a minijinja sequence or map.
struct JsonNode {
    tape: Arc<JsonTape>,
    at: usize,
}

impl fmt::Debug for JsonNode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonNode({})", self.at)
    }
}

impl JsonNode {
    fn node(&self) -> TapeNode {
        self.tape.nodes[self.at]
    }

    fn len(&self) -> usize {
        match self.node() {
            TapeNode::Seq { len, .. } | TapeNode::Map { len, .. } => len,
            _ => 0,
        }
    }

    fn lookup(&self, key: &str) -> Option<Value> {
        match self.node() {
            TapeNode::Map { first, len, sorted } => {
                let at = self.tape.lookup(first, len, sorted, key)?;
                Some(self.tape.value(at))
            }
            _ => None,
        }
    }
}

impl Object for JsonNode {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        match self.node() {
            TapeNode::Map { .. } => ObjectRepr::Map,
            _ => ObjectRepr::Seq,
        }
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        match self.node() {
            // As `Vec<Value>` does.
            TapeNode::Seq { first, len } => {
                let i = key.as_usize()?;
                (i < len).then(|| self.tape.value(self.tape.offsets[first + i]))
            }
            // As `JsonMap` does.
            _ => self.lookup(key.as_str()?),
        }
    }

    fn get_value_by_str(self: &Arc<Self>, key: &str) -> Option<Value> {
        match self.node() {
            TapeNode::Map { .. } => self.lookup(key),
            _ => self.get_value(&Value::from(key)),
        }
    }

    fn enumerate(self: &Arc<Self>) -> minijinja::value::Enumerator {
        use minijinja::value::Enumerator;
        match self.node() {
            TapeNode::Map { first, len, .. } => Enumerator::KeyValueIter(Box::new(JsonEntries {
                tape: self.tape.clone(),
                first,
                next: 0,
                len,
            })),
            _ => Enumerator::Seq(self.len()),
        }
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(self.len())
    }

    fn custom_cmp(
        self: &Arc<Self>,
        other: &minijinja::value::DynObject,
    ) -> Option<std::cmp::Ordering> {
        // The same node of the same document is equal to itself; anything else
        // is compared by content, as any list or map.
        let other = other.downcast_ref::<JsonNode>()?;
        (Arc::ptr_eq(&self.tape, &other.tape) && self.at == other.at)
            .then_some(std::cmp::Ordering::Equal)
    }
}

/// An object's keys and values, in the document's order.
struct JsonEntries {
    tape: Arc<JsonTape>,
    first: usize,
    next: usize,
    len: usize,
}

impl Iterator for JsonEntries {
    type Item = (Value, Value);

    fn next(&mut self) -> Option<(Value, Value)> {
        if self.next >= self.len {
            return None;
        }
        let key_at = self.tape.entry(self.first, self.next);
        self.next += 1;
        Some((
            Value::from(self.tape.str_at(key_at)),
            self.tape.value(key_at + 1),
        ))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.len - self.next;
        (n, Some(n))
    }
}

/// A [`JsonNode`] straight back into JSON, with [`to_json_depth`]'s checks.
fn tape_to_json(
    tape: &Arc<JsonTape>,
    at: usize,
    depth: usize,
) -> Result<serde_json::Value, String> {
    use serde_json::Value as J;
    if depth > MAX_VALUE_DEPTH {
        return Err(format!("value nested deeper than {MAX_VALUE_DEPTH} levels"));
    }
    Ok(match tape.nodes[at] {
        TapeNode::Seq { first, len } => {
            let mut out = Vec::with_capacity(len);
            for i in 0..len {
                out.push(tape_to_json(tape, tape.offsets[first + i], depth + 1)?);
            }
            J::Array(out)
        }
        TapeNode::Map { first, len, .. } => {
            let mut out = serde_json::Map::with_capacity(len);
            for i in 0..len {
                let key_at = tape.entry(first, i);
                let v = tape_to_json(tape, key_at + 1, depth + 1)?;
                out.insert(tape.str_at(key_at).to_string(), v);
            }
            J::Object(out)
        }
        // Scalars through the same path as any value (numbers keep their form).
        _ => return to_json_depth(&tape.value(at), depth),
    })
}

/// An expression value into JSON. Undefined anywhere inside is an error (it
/// would otherwise become a silent `null`); so are callables and bytes.
pub fn to_json(v: &Value) -> Result<serde_json::Value, String> {
    to_json_depth(v, 0)
}

fn to_json_depth(v: &Value, depth: usize) -> Result<serde_json::Value, String> {
    use minijinja::value::ValueKind;
    use serde_json::Value as J;
    if depth > MAX_VALUE_DEPTH {
        return Err(format!("value nested deeper than {MAX_VALUE_DEPTH} levels"));
    }
    if let Some(node) = v.downcast_object_ref::<JsonNode>() {
        return tape_to_json(&node.tape, node.at, depth);
    }
    Ok(match v.kind() {
        ValueKind::Undefined => return Err("the value contains an undefined part".into()),
        ValueKind::None => J::Null,
        ValueKind::Bool => J::Bool(v.is_true()),
        ValueKind::Number => {
            if let Some(i) = v.as_i64() {
                J::from(i)
            } else if let Ok(u) = u64::try_from(v.clone()) {
                J::from(u)
            } else {
                let f = f64::try_from(v.clone()).map_err(|e| e.to_string())?;
                serde_json::Number::from_f64(f)
                    .map(J::Number)
                    .ok_or_else(|| format!("the number {f} has no JSON form"))?
            }
        }
        ValueKind::String => J::String(v.as_str().unwrap_or_default().to_string()),
        ValueKind::Bytes => return Err("bytes cannot be turned into JSON".into()),
        ValueKind::Seq | ValueKind::Iterable => {
            let iter = v.try_iter().map_err(|e| e.to_string())?;
            let mut out = Vec::with_capacity(v.len().unwrap_or(0));
            for item in iter {
                out.push(to_json_depth(&item, depth + 1)?);
            }
            J::Array(out)
        }
        ValueKind::Map => {
            let iter = v.try_iter().map_err(|e| e.to_string())?;
            let mut out = serde_json::Map::new();
            for key in iter {
                let item = v.get_item(&key).map_err(|e| e.to_string())?;
                let k = match key.as_str() {
                    Some(s) => s.to_string(),
                    None => key.to_string(),
                };
                out.insert(k, to_json_depth(&item, depth + 1)?);
            }
            J::Object(out)
        }
        ValueKind::Plain | ValueKind::Invalid => {
            return Err(format!("`{v}` is not a value that can be passed on"));
        }
        // ValueKind is non-exhaustive.
        #[allow(unreachable_patterns)]
        _ => return Err(format!("`{v}` is not a value that can be passed on")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(v: serde_json::Value) -> Value {
        from_json(&v)
    }

    #[test]
    fn one_expression_keeps_its_type_and_text_renders() {
        let c = ctx(json!({"groups": [{"id": "g1"}, {"id": "g2"}], "user": {"login": "jo"}}));
        let e = Expr::compile("groups | map(attribute='id') | list", "for_each").unwrap();
        let t = Template::Expr(e);
        assert_eq!(t.eval_json(&c).unwrap(), json!(["g1", "g2"]));
        let parts = split_text("Hi {{ user.login }}, {{ groups | length }} groups").unwrap();
        assert_eq!(parts.len(), 5);
        assert_eq!(parts[1], RawPart::Expr(" user.login ", 5));
    }

    #[test]
    fn a_list_of_a_failed_step_can_fall_back() {
        // What the builder writes for "each Name (a list)" with a fallback.
        let e = Expr::compile("devices.devices | map(attribute='name') | list if devices.devices is defined else none", "value").unwrap();
        let t = Template::Expr(e);
        assert_eq!(t.eval_json(&ctx(json!({"devices": null}))).unwrap(), json!(null));
        let ran = ctx(json!({"devices": {"devices": [{"name": "Mac"}, {"name": "mini"}]}}));
        assert_eq!(t.eval_json(&ran).unwrap(), json!(["Mac", "mini"]));
    }

    #[test]
    fn text_splitting_handles_quotes_trim_and_comments() {
        assert_eq!(
            split_text("a {{ \"}}\" }} b").unwrap(),
            vec![
                RawPart::Text("a ".into()),
                RawPart::Expr(" \"}}\" ", 4),
                RawPart::Text(" b".into())
            ]
        );
        assert_eq!(
            split_text("a  {{- x -}}  b{# note #}").unwrap(),
            vec![
                RawPart::Text("a".into()),
                RawPart::Expr(" x ", 6),
                RawPart::Text("b".into())
            ]
        );
        assert!(
            split_text("{% if x %}y{% endif %}")
                .unwrap_err()
                .0
                .contains("not supported")
        );
        assert_eq!(split_text("x {{ y").unwrap_err().1, 2);
    }

    #[test]
    fn undefined_paths_are_named() {
        let c = ctx(json!({"user": {"profile": {"login": "jo"}}}));
        let e = Expr::compile("user.profile.managerId ~ 'x'", "with.id").unwrap();
        let err = e.eval(&c).unwrap_err();
        assert_eq!(err.field, "with.id");
        assert!(
            err.message
                .contains("`user.profile.managerId` is undefined"),
            "{}",
            err.message
        );
        let e = Expr::compile("user.profile.managerId", "with.id").unwrap();
        let err = e.eval_defined(&c).unwrap_err();
        assert!(
            err.message.contains("`user.profile` has no `managerId`"),
            "{}",
            err.message
        );
        // A missing attribute in a condition is false, not an error.
        let e = Expr::compile("user.profile.title", "if").unwrap();
        assert!(!e.eval_bool(&c).unwrap());
    }

    #[test]
    fn plain_paths_take_the_short_way_and_agree_with_the_vm() {
        assert_eq!(
            parse_path("event.target[0]['alternate-id']"),
            Some(vec![
                Seg::Attr("event".into()),
                Seg::Attr("target".into()),
                Seg::Index(0),
                Seg::Attr("alternate-id".into())
            ])
        );
        for not_a_path in [
            "a + b",
            "a.b()",
            "range",
            "none",
            "a[-1]",
            "a[b]",
            "a.",
            "1a",
            "a['x\\'y']",
        ] {
            assert_eq!(parse_path(not_a_path), None, "{not_a_path}");
        }
        let c = ctx(json!({"u": {"p": {"login": "jo"}, "l": [1, {"k": "v"}], "n": null}}));
        for src in [
            "u.p.login",
            "u.l[1].k",
            "u.l[0]",
            "u.p.missing",
            "u.l[5]",
            "u['p']",
        ] {
            let e = Expr::compile(src, "x").unwrap();
            assert!(e.path.is_some(), "{src}");
            let fast = e.eval(&c).unwrap();
            let vm = e.compiled.eval(c.clone()).unwrap();
            assert_eq!(fast, vm, "{src}");
            assert_eq!(fast.is_undefined(), vm.is_undefined(), "{src}");
        }
        // Undefined or none part way: the VM decides, and a value that is
        // needed is an error naming the culprit.
        for src in ["u.missing.x", "u.n.x"] {
            let e = Expr::compile(src, "x").unwrap();
            let err = e.eval_defined(&c).unwrap_err();
            assert!(err.message.contains("undefined"), "{src}: {}", err.message);
        }
    }

    #[test]
    fn mappings_behave_like_maps_small_and_large() {
        let mut big = serde_json::Map::new();
        for i in 0..40 {
            big.insert(format!("k{i}"), json!(i));
        }
        let c = ctx(json!({"small": {"b": 1, "a": 2}, "big": big}));
        let eval = |src: &str| {
            Template::Expr(Expr::compile(src, "x").unwrap())
                .eval_json(&c)
                .unwrap()
        };
        assert_eq!(eval("small.a + big.k39"), json!(41));
        assert_eq!(
            eval("small | list"),
            json!(["b", "a"]),
            "keys keep their order"
        );
        assert_eq!(eval("big | length"), json!(40));
        assert_eq!(eval("small == {'a': 2, 'b': 1}"), json!(true));
        assert_eq!(eval("'a' in small and 'zz' not in big"), json!(true));
        assert_eq!(eval("small | tojson"), json!("{\"b\": 1, \"a\": 2}"));
        assert_eq!(eval("small.items() | list | length"), json!(2));
        assert_eq!(eval("big | dictsort | first"), json!(["k0", 0]));
    }

    #[test]
    fn evaluation_is_bounded_by_fuel() {
        let e = Expr::compile("range(100000) | map('string') | join(',') | length", "x").unwrap();
        let err = e.eval(&Value::from(())).unwrap_err();
        assert!(err.message.contains("steps to evaluate"), "{}", err.message);
    }

    #[test]
    fn json_round_trips_and_undefined_inside_is_refused() {
        let j = json!({"b": 1, "a": [true, null, 1.5, "x", {"z": -3}]});
        assert_eq!(to_json(&from_json(&j)).unwrap(), j);
        let c = ctx(json!({"u": {}}));
        let e = Expr::compile("[u.missing]", "with.x").unwrap();
        assert!(Template::Expr(e).eval_json(&c).is_err());
    }

    #[test]
    fn helpers_for_text_lists_and_time() {
        let c = ctx(json!({"s": "Jo.Doe@acme.com", "l": ["a", "b"], "m": {"k": 1}}));
        let eval = |src: &str| {
            Template::Expr(Expr::compile(src, "x").unwrap())
                .eval_json(&c)
                .unwrap()
        };
        assert_eq!(eval("s.lower().endswith('@acme.com')"), json!(true));
        assert_eq!(eval("s | startswith('Jo')"), json!(true));
        assert_eq!(eval("l | contains('b')"), json!(true));
        assert_eq!(eval("m.get('nope', 7)"), json!(7));
        assert_eq!(
            eval("parse_time('2026-01-31')"),
            json!("2026-01-31T00:00:00.000Z")
        );
        assert_eq!(
            eval("add_days('2026-01-31T00:00:00Z', 1)"),
            json!("2026-02-01T00:00:00.000Z")
        );
        assert_eq!(eval("timestamp('1970-01-02T00:00:00Z')"), json!(86400));
        assert_eq!(
            eval("format_time('2026-01-31T14:00:00Z', '%H:%M', tz='America/New_York')"),
            json!("09:00")
        );
        let e = Expr::compile("format_time('2026-01-31', '%Q')", "x").unwrap();
        assert!(e.eval(&c).is_err());
    }

    #[test]
    fn the_filters_format_md_promises_exist() {
        let c = ctx(json!({"l": [3, 1, 3], "s": " a,b ", "m": {"b": 2, "a": 1},
                           "u": [{"status": "ACTIVE", "id": 1}, {"status": "X", "id": 2}]}));
        let eval = |src: &str| {
            Template::Expr(Expr::compile(src, "x").unwrap())
                .eval_json(&c)
                .unwrap_or_else(|e| panic!("{src}: {e}"))
        };
        assert_eq!(eval("l | length"), json!(3));
        assert_eq!(eval("[l | first, l | last]"), json!([3, 3]));
        assert_eq!(eval("l | join(', ')"), json!("3, 1, 3"));
        assert_eq!(eval("u | map(attribute='id') | list"), json!([1, 2]));
        assert_eq!(eval("l | select('odd') | list | length"), json!(3));
        assert_eq!(eval("l | reject('odd') | list"), json!([]));
        assert_eq!(
            eval("u | selectattr('status', 'eq', 'ACTIVE') | map(attribute='id') | list"),
            json!([1])
        );
        assert_eq!(eval("l | unique | list"), json!([3, 1]));
        assert_eq!(eval("l | sort | list"), json!([1, 3, 3]));
        assert_eq!(eval("s | trim | upper"), json!("A,B"));
        assert_eq!(eval("'x y' | title"), json!("X Y"));
        assert_eq!(eval("s | replace(',', ';') | lower | trim"), json!("a;b"));
        assert_eq!(eval("s | trim | split(',') | list"), json!(["a", "b"]));
        assert_eq!(eval("m.nope | default(7)"), json!(7));
        assert_eq!(eval("m | tojson | fromjson"), json!({"b": 2, "a": 1}));
        assert_eq!(
            eval("['1' | int, '1.5' | float, 2 | string]"),
            json!([1, 1.5, "2"])
        );
        assert_eq!(
            eval("[2.567 | round(1), l | sum, l | min, l | max]"),
            json!([2.6, 7, 1, 3])
        );
        assert_eq!(eval("m | items | list | length"), json!(2));
        assert_eq!(eval("m | dictsort | first"), json!(["a", 1]));
        assert_eq!(eval("range(3) | list"), json!([0, 1, 2]));
        assert_eq!(
            eval("[s.startswith(' a'), s.strip().split(',')]"),
            json!([true, ["a", "b"]])
        );
        assert_eq!(
            eval("[m.keys() | list, m.get('a')]"),
            json!([["b", "a"], 1])
        );
    }

    #[test]
    fn function_names_are_known() {
        assert!(is_function("now"));
        assert!(is_function("range"));
        assert!(is_function("parse_time"));
        assert!(!is_function("user"));
        assert!(!is_function("debug"));
    }

    // -----------------------------------------------------------------------
    // Lazy JSON values against the eager conversion they replace

    /// A System Log event as Okta sends it, with a few extra fields for the
    /// corners: a large object, empty containers, numbers of every kind.
    fn okta_event() -> serde_json::Value {
        let mut big = serde_json::Map::new();
        for i in (0..100).rev() {
            big.insert(format!("k{i}"), json!(i));
        }
        big.insert("k".into(), json!("short key"));
        json!({
            "uuid": "8a2a1b3c-0000-11ef-9e0d-8f1b2c3d4e5f",
            "published": "2026-03-02T13:59:58.123Z",
            "eventType": "group.user_membership.add",
            "version": "0",
            "severity": "INFO",
            "legacyEventType": "core.user_group_member.user_add",
            "displayMessage": "Add user to group membership",
            "actor": {"id": "00uadmin1234567890", "type": "User", "alternateId": "admin@acme.com",
                      "displayName": "Ada Admin", "detailEntry": null},
            "client": {
                "userAgent": {"rawUserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36",
                              "os": "Mac OS X", "browser": "CHROME"},
                "zone": "null", "device": "Computer", "id": null, "ipAddress": "203.0.113.42",
                "geographicalContext": {"city": "Paris", "state": "Ile-de-France", "country": "France",
                                        "postalCode": "75001", "geolocation": {"lat": 48.8566, "lon": 2.3522}}
            },
            "device": null,
            "authenticationContext": {"authenticationProvider": null, "credentialProvider": null,
                                      "credentialType": null, "issuer": null, "interface": null,
                                      "authenticationStep": 0, "externalSessionId": "102abcDEFghiJKLmnoPQR"},
            "outcome": {"result": "SUCCESS", "reason": null},
            "securityContext": {"asNumber": 64496, "asOrg": "example transit", "isp": "example isp",
                                "domain": "example.net", "isProxy": false},
            "debugContext": {"debugData": {"requestId": "ZfN2aQ8xLm9kYtq3Vv7bWgAAAAA",
                                           "requestUri": "/api/v1/groups/00g1abcd/users/00u1abcd"}},
            "transaction": {"type": "WEB", "id": "ZfN2aQ8xLm9kYtq3Vv7bWgAAAAA", "detail": {}},
            "request": {"ipChain": [{"ip": "203.0.113.42", "geographicalContext": {"city": "Paris",
                            "country": "France", "geolocation": {"lat": 48.8566, "lon": 2.3522}},
                            "version": "V4", "source": null}]},
            "target": [
                {"id": "00u1abcd", "type": "User", "alternateId": "jo@acme.com", "displayName": "Jo Doe",
                 "detailEntry": null},
                {"id": "00g1abcd", "type": "UserGroup", "alternateId": "unknown", "displayName": "Engineering",
                 "detailEntry": {"groupType": "OKTA_GROUP"}}
            ],
            "nums": [3, 1, 2, 3],
            "numbers": {"neg": -7, "big_u64": 18446744073709551615u64, "i64_min": i64::MIN,
                        "float": 1.5, "float_whole": 2.0, "tiny": 1e-300, "zero": 0},
            "empty_list": [],
            "empty_map": {},
            "nested_lists": [[], [[1, [2]], {}], [{"a": []}]],
            "unicode": "Zoë 🦀 ünïcödé",
            "deep": {"a": {"b": {"c": {"d": [1, {"e": true}]}}}},
            "big": big
        })
    }

    const CORPUS: &[&str] = &[
        "event",
        "event.actor",
        "event.target",
        "event.target[0].alternateId",
        "event.target[1]['displayName']",
        "event['target'][0]['id']",
        "event.target[-1].id",
        "event.target[-3]",
        "event.target[2]",
        "event.target.0",
        "event.target['0']",
        "event.target[0].missing",
        "event.missing",
        "event.missing.deeper",
        "event.device.id",
        "event.missing is defined",
        "event.actor is defined",
        "event.target[0].missing is undefined",
        "event.actor.detailEntry is none",
        "event.device is none",
        "event.actor.nope | default('d')",
        "event.target[0] is mapping",
        "event.target is sequence",
        "event.actor is sequence",
        "event.actor is mapping",
        "event.target is iterable",
        "event.actor is iterable",
        "'id' in event.actor",
        "'nope' in event.actor",
        "'nope' not in event.actor",
        "'jo@acme.com' in event.target | map(attribute='alternateId')",
        "event.target[0] in event.target",
        "event.actor in event.target",
        "3 in event.nums",
        "event.target | length",
        "event.actor | length",
        "event | length",
        "event.empty_list | length",
        "event.empty_map | length",
        "event.transaction.detail | length",
        "event.actor | list",
        "event | list",
        "event.target | list",
        "event.actor | items | list",
        "event.actor.items() | list",
        "event.actor.keys() | list",
        "event.actor.values() | list",
        "event.actor | dictsort",
        "event.big | dictsort | first",
        "event.big | dictsort | last",
        "event.big | list",
        "event.big.k57 + event.big.k3",
        "event.big['k99']",
        "event.big.k",
        "event.big.k100",
        "event.big.k1",
        "'k42' in event.big",
        "'k420' in event.big",
        "event.big | length",
        "event.big.get('k0')",
        "event.big.get('kk', 'none')",
        "event.actor | reverse | list",
        "event.target | reverse | list",
        "event.target | first",
        "event.target | last",
        "event.target[0:1]",
        "event.target[::-1] | map(attribute='id') | list",
        "event.target | map(attribute='id') | list",
        "event.target | selectattr('type', 'eq', 'User') | map(attribute='alternateId') | first",
        "event.target | rejectattr('type', 'eq', 'User') | list",
        "event.target | sort(attribute='displayName') | map(attribute='id') | list",
        "event.target | selectattr('detailEntry', 'none') | list | length",
        "event.target | map(attribute='detailEntry') | list",
        "event.target | map(attribute='detailEntry.groupType', default='-') | list",
        "event.target | map('length') | list",
        "event.target | batch(1) | list | length",
        "event.target | groupby('type') | map(attribute='grouper') | list",
        "event.target | unique | list | length",
        "event.target | sort | map(attribute='id') | list",
        "event.nums | sort | list",
        "event.nums | sum",
        "event.nums | min",
        "event.nums | max",
        "event.nums | unique | list",
        "event.nums | join(',')",
        "event.nums | select('odd') | list",
        "(event.nums | list)[1]",
        "event.target | tojson",
        "event.actor | tojson",
        "event | tojson",
        "event.numbers | tojson",
        "event.actor | tojson | fromjson",
        "(event | tojson | fromjson) == event",
        "event.actor | string",
        "event.target | string",
        "event.numbers | string",
        "event.actor ~ ''",
        "event.target ~ '!'",
        "event.empty_list",
        "event.empty_map",
        "not event.empty_list",
        "not event.empty_map",
        "not event.transaction.detail",
        "event.nested_lists and event.nested_lists[0]",
        "event.nested_lists[1][0]",
        "event.nested_lists[1][1] or 'empty'",
        "event.nested_lists | tojson",
        "event.empty_list == []",
        "event.empty_map == {}",
        "event.transaction.detail == event.empty_map",
        "event.empty_list == event.empty_map",
        "event.actor == event.actor",
        "event.target == event.target",
        "event.actor == event.target[0]",
        "event.target[0] == {'id': '00u1abcd', 'type': 'User', 'alternateId': 'jo@acme.com', 'displayName': 'Jo Doe', 'detailEntry': none}",
        "event.target[0] == {'detailEntry': none, 'displayName': 'Jo Doe', 'alternateId': 'jo@acme.com', 'type': 'User', 'id': '00u1abcd'}",
        "event.target[0] == {'id': '00u1abcd'}",
        "event.target[0] != {'id': '00u1abcd', 'type': 'User', 'alternateId': 'jo@acme.com', 'displayName': 'Jo Doe', 'detailEntry': 1}",
        "event.nums == [3, 1, 2, 3]",
        "event.nums != [3, 1, 2]",
        "event.nums < [4]",
        "event.nums > [3, 1]",
        "event.nums < event.nums",
        "[event.actor, event.target] | tojson",
        "{'a': event.actor} | tojson",
        "[event.actor, event.target]",
        "{'a': event.actor}",
        "event.target + [1]",
        "(event.target + event.nums) | length",
        "event.numbers.big_u64",
        "event.numbers.big_u64 + 1",
        "event.numbers.i64_min",
        "event.numbers.neg",
        "event.numbers.float_whole",
        "event.numbers.float_whole | tojson",
        "event.numbers.float",
        "event.numbers.tiny",
        "event.numbers.zero",
        "event.numbers.float_whole == 2",
        "event.client.userAgent.rawUserAgent",
        "event.client.userAgent.rawUserAgent | length",
        "event.client.geographicalContext.geolocation.lat > 48",
        "event.request.ipChain[0].geographicalContext.city | upper",
        "event.unicode",
        "event.unicode | length",
        "event.unicode[2]",
        "event.actor.get('id')",
        "event.actor.get('nope', 7)",
        "event.actor | items | map('first') | list",
        "event.target | contains(event.target[0])",
        "event.target | contains({'id': 'x'})",
        "event.actor | contains('id')",
        "event.actor['id'] ~ '/' ~ event.actor.type",
        "event.deep",
        "event.deep.a.b.c.d[1].e",
        "event.deep.a.b.c.d[1]['e']",
        "event | items | list | length",
        "event | dictsort | map('first') | list",
        "event.actor | dictsort(by='value') | map('first') | list",
        "event.outcome.result == 'SUCCESS' and event.eventType.startswith('group.')",
        "event.target | selectattr('type', 'eq', 'User') | list | length > 0",
        "event.authenticationContext.authenticationStep",
        "event.securityContext.isProxy",
        "event.actor.alternateId.split('@')[1]",
    ];

    /// Everything one can see of an expression's result.
    fn observe(src: &str, ctx: &Value) -> String {
        use std::hash::{Hash, Hasher};
        let e = Expr::compile(src, "x").unwrap();
        let value = match e.eval(ctx) {
            Ok(v) => {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                v.hash(&mut h);
                format!(
                    "kind {:?} | display {v} | debug {v:?} | json {:?} | true {} | len {:?} | hash {}",
                    v.kind(),
                    to_json(&v),
                    v.is_true(),
                    v.len(),
                    h.finish()
                )
            }
            Err(err) => format!("error {err}"),
        };
        let vm = match e.compiled.eval(ctx.clone()) {
            Ok(v) => format!("{v:?}"),
            Err(err) => format!("error {err}"),
        };
        let text = Template::Text {
            src: format!("<{{{{ {src} }}}}>").into(),
            parts: vec![
                Part::Text("<".into()),
                Part::Expr(e.clone()),
                Part::Text(">".into()),
            ],
        };
        let exp = Template::Expr(e.clone());
        format!(
            "{value}\n  vm {vm}\n  text {:?}\n  json {:?}\n  value {:?}\n  bool {:?}",
            text.eval_json(ctx),
            exp.eval_json(ctx),
            exp.eval_value(ctx).map(|v| format!("{v:?}")),
            e.eval_bool(ctx),
        )
    }

    #[test]
    fn lazy_json_values_behave_as_the_eager_ones() {
        let doc = json!({"event": okta_event()});
        let eager = from_json_eager(&doc);
        let lazy = from_json(&doc);
        assert!(
            lazy.get_attr("event")
                .unwrap()
                .downcast_object_ref::<JsonNode>()
                .is_some()
        );
        assert!(
            eager
                .get_attr("event")
                .unwrap()
                .downcast_object_ref::<JsonMap>()
                .is_some()
        );
        for src in CORPUS {
            let (a, b) = (observe(src, &eager), observe(src, &lazy));
            assert_eq!(a, b, "{src}");
            // The results equal each other across the two forms, both ways.
            let e = Expr::compile(src, "x").unwrap();
            if let (Ok(x), Ok(y)) = (e.eval(&eager), e.eval(&lazy)) {
                // Both ways: minijinja compares maps by walking the left one.
                assert_eq!(x, y, "{src}");
                assert_eq!(y, x, "{src}");
                assert_eq!(x.cmp(&y), std::cmp::Ordering::Equal, "{src}");
            }
        }
        // Whole documents, eager against lazy.
        assert_eq!(eager, lazy);
        assert_eq!(lazy, eager);
        assert_eq!(format!("{eager}"), format!("{lazy}"));
    }

    #[test]
    fn lazy_json_compares_with_plain_lists_and_maps() {
        let lazy =
            from_json(&json!({"m": {"b": 1, "a": [1, 2]}, "l": [1, "x", {"k": null}], "e": []}));
        let m = lazy.get_attr("m").unwrap();
        let l = lazy.get_attr("l").unwrap();
        // The same content as the plain forms minijinja and this module make.
        let plain_map = JsonMap::value(vec![
            (Value::from("b"), Value::from(1)),
            (
                Value::from("a"),
                Value::from(vec![Value::from(1), Value::from(2)]),
            ),
        ]);
        let other_order = JsonMap::value(vec![
            (
                Value::from("a"),
                Value::from(vec![Value::from(1), Value::from(2)]),
            ),
            (Value::from("b"), Value::from(1)),
        ]);
        let mut btree = std::collections::BTreeMap::new();
        btree.insert("a", Value::from(vec![1, 2]));
        btree.insert("b", Value::from(1));
        let plain_list = Value::from(vec![
            Value::from(1),
            Value::from("x"),
            JsonMap::value(vec![(Value::from("k"), Value::from(()))]),
        ]);
        for (x, y) in [
            (&m, &plain_map),
            (&m, &other_order),
            (&m, &Value::from(btree)),
            (&l, &plain_list),
        ] {
            assert_eq!(x, y);
            assert_eq!(y, x);
        }
        assert_ne!(m, JsonMap::value(vec![(Value::from("b"), Value::from(1))]));
        assert_ne!(l, Value::from(vec![Value::from(1), Value::from("x")]));
        assert_ne!(m, l);
        assert_eq!(
            lazy.get_attr("e").unwrap(),
            Value::from(Vec::<Value>::new())
        );
        assert_ne!(lazy.get_attr("e").unwrap(), JsonMap::value(vec![]));
        // A node is equal to itself read twice, and to an equal node of another document.
        assert_eq!(m, lazy.get_attr("m").unwrap());
        assert_eq!(m, from_json(&json!({"b": 1, "a": [1, 2]})));
        assert_ne!(m, from_json(&json!({"b": 1, "a": [1, 3]})));
        // Sorting and unique work on them (ordering and hashing).
        let c = from_json(&json!({"ls": [[2], [1, 5], [1]], "ms": [{"a": 1}, {"a": 1}, {"a": 0}]}));
        let eval = |src: &str| {
            Template::Expr(Expr::compile(src, "x").unwrap())
                .eval_json(&c)
                .unwrap()
        };
        assert_eq!(eval("ls | sort | list"), json!([[1], [1, 5], [2]]));
        assert_eq!(eval("ms | unique | list"), json!([{"a": 1}, {"a": 0}]));
        assert_eq!(eval("ls[0] == [2] and ms[0] == {'a': 1}"), json!(true));
    }

    #[test]
    fn lazy_json_round_trips_with_key_order_and_numbers() {
        // Whole-number floats (`2.0`) come back as integers: `to_json` has
        // always done that, and still does; everything else comes back as it was.
        let mut ev_ints = okta_event();
        ev_ints["numbers"]["float_whole"] = json!(2);
        let docs = [
            (okta_event(), false),
            (ev_ints, true),
            (
                json!({"z": 1, "a": {"y": [], "b": {}, "x": [1.0, -0.0, 1e300, 18446744073709551615u64]}}),
                false,
            ),
            (
                json!({"z": 1, "a": {"y": [], "b": {}, "x": [1.5, -1, 1e300, 18446744073709551615u64]}}),
                true,
            ),
            (json!([{"b": null, "a": "é"}, [], [[]], true]), true),
            (json!([]), true),
            (json!({}), true),
            (json!("text"), true),
            (json!(null), true),
            (json!(1.0), false),
        ];
        for (j, exact) in docs {
            let lazy = to_json(&from_json(&j)).unwrap();
            let eager = to_json(&from_json_eager(&j)).unwrap();
            // Text, so key order counts.
            assert_eq!(lazy.to_string(), eager.to_string());
            if exact {
                assert_eq!(lazy.to_string(), j.to_string());
            }
        }
        // Parts of a document, and documents inside plain values, too.
        let ev = okta_event();
        let lazy = from_json(&ev);
        for key in ["actor", "target", "big", "nested_lists", "empty_map"] {
            let part = lazy.get_attr(key).unwrap();
            assert_eq!(to_json(&part).unwrap().to_string(), ev[key].to_string());
        }
        let wrapped = Value::from(vec![lazy.get_attr("target").unwrap(), Value::from(1)]);
        assert_eq!(
            to_json(&wrapped).unwrap().to_string(),
            json!([ev["target"], 1]).to_string()
        );
        // `fromjson` makes lazy values too.
        let c = ctx(json!({"s": "{\"b\": [1, {\"c\": 2}], \"a\": 1}"}));
        let e = Template::Expr(Expr::compile("s | fromjson", "x").unwrap());
        assert_eq!(
            e.eval_json(&c).unwrap().to_string(),
            "{\"b\":[1,{\"c\":2}],\"a\":1}"
        );
    }

    #[test]
    fn lazy_json_keeps_the_depth_limit() {
        fn nested(levels: usize) -> serde_json::Value {
            let mut j = json!(1);
            for i in 0..levels {
                j = if i % 2 == 0 {
                    json!([j])
                } else {
                    json!({"k": j})
                };
            }
            j
        }
        for levels in 60..70 {
            let j = nested(levels);
            let (lazy, eager) = (from_json(&j), from_json_eager(&j));
            assert_eq!(to_json(&lazy), to_json(&eager), "{levels}");
            // Below the top of a plain value: the depth carries on.
            let (lazy, eager) = (
                Value::from(vec![Value::from(vec![lazy])]),
                Value::from(vec![Value::from(vec![eager])]),
            );
            assert_eq!(to_json(&lazy), to_json(&eager), "{levels}");
            assert_eq!(
                to_json(&lazy).is_ok(),
                levels + 2 <= MAX_VALUE_DEPTH,
                "{levels}"
            );
        }
    }
}
