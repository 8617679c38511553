//! What an expression calls, read from minijinja's own parser, so validation
//! can refuse an unknown function, filter, test or method where it is
//! written, with a suggestion, instead of failing when a run gets there.
//!
//! The tree is minijinja's `unstable_machinery` AST: the parser that compiles
//! the expression also names its calls, so nothing here re-parses Jinja by
//! hand. That API has no semver promise; a minijinja update that changes it
//! fails to compile here, the one place to adapt.
//!
//! Whether a name is known is asked of the environment itself (`'x' is
//! filter`, `'x' is test`, its globals), so what validation accepts is what a
//! run can call. The names suggestions come from are minijinja's built-ins
//! and this module's, kept only where the environment has them.

use super::methods;
use crate::diag::did_you_mean;
use crate::expr::{ENV, is_function};
use minijinja::machinery::ast::{CallArg, CallType, Expr};
use minijinja::machinery::parse_expr;
use minijinja::value::Value;
use std::sync::LazyLock;

/// What kind of name a call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// `name(...)`
    Function,
    /// `x | name`, and the filter named in `map('name')`
    Filter,
    /// `x is name`, and the test named in `select('name')`,
    /// `selectattr('a', 'name')`
    Test,
    /// `x.name(...)`
    Method,
}

impl CallKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Function => "function",
            CallKind::Filter => "filter",
            CallKind::Test => "test",
            CallKind::Method => "method",
        }
    }
}

/// One call in an expression: its kind, its name and where the name is
/// (a byte offset in the expression's text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub kind: CallKind,
    pub name: String,
    pub offset: usize,
    /// What to write instead, when a known name is close.
    pub suggestion: Option<&'static str>,
    /// A function call's positional arguments, each when it is written as
    /// literal text (`None` when it is anything else); empty for other kinds.
    pub texts: Vec<Option<String>>,
}

/// Every call in `src`, in the order they are written. Nothing for text that
/// does not parse (compiling it reports that).
pub fn calls(src: &str) -> Vec<Call> {
    let mut out = Vec::new();
    if let Ok(e) = parse_expr(src) {
        walk(&e, &mut out);
    }
    out.sort_by_key(|c| c.offset);
    out
}

/// The calls in `src` the expression environment does not have, each with
/// a suggestion when a known name is close.
pub fn unknown_calls(src: &str) -> Vec<Call> {
    calls(src)
        .into_iter()
        .filter(|c| !is_known(c.kind, &c.name))
        .map(|mut c| {
            c.suggestion = did_you_mean(&c.name, candidates(c.kind).iter().copied());
            c
        })
        .collect()
}

pub(crate) fn is_known(kind: CallKind, name: &str) -> bool {
    let probe = |test: &str| {
        ENV.empty_state()
            .perform_test(test, &[Value::from(name)])
            .unwrap_or(false)
    };
    match kind {
        CallKind::Function => is_function(name),
        CallKind::Filter => probe("filter"),
        CallKind::Test => probe("test"),
        CallKind::Method => methods::is_method(name),
    }
}

/// minijinja's built-in filters (with `builtins` and `json`).
const BUILTIN_FILTERS: [&str; 48] = [
    "abs",
    "attr",
    "batch",
    "bool",
    "capitalize",
    "chain",
    "count",
    "d",
    "default",
    "dictsort",
    "e",
    "escape",
    "first",
    "float",
    "format",
    "groupby",
    "indent",
    "int",
    "items",
    "join",
    "last",
    "length",
    "lines",
    "list",
    "lower",
    "map",
    "max",
    "min",
    "pprint",
    "reject",
    "rejectattr",
    "replace",
    "reverse",
    "round",
    "safe",
    "select",
    "selectattr",
    "slice",
    "sort",
    "split",
    "string",
    "sum",
    "title",
    "tojson",
    "trim",
    "unique",
    "upper",
    "zip",
];

/// minijinja's built-in tests with a word for a name.
const BUILTIN_TESTS: [&str; 36] = [
    "boolean",
    "defined",
    "divisibleby",
    "endingwith",
    "eq",
    "equalto",
    "escaped",
    "even",
    "false",
    "filter",
    "float",
    "ge",
    "greaterthan",
    "gt",
    "in",
    "int",
    "integer",
    "iterable",
    "le",
    "lessthan",
    "lower",
    "lt",
    "mapping",
    "ne",
    "none",
    "number",
    "odd",
    "safe",
    "sameas",
    "sequence",
    "startingwith",
    "string",
    "test",
    "true",
    "undefined",
    "upper",
];

/// The names a suggestion may come from, for each kind.
fn candidates(kind: CallKind) -> &'static [&'static str] {
    static FILTERS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        known(
            CallKind::Filter,
            BUILTIN_FILTERS.iter().chain(&super::FILTERS),
        )
    });
    static TESTS: LazyLock<Vec<&'static str>> =
        LazyLock::new(|| known(CallKind::Test, BUILTIN_TESTS.iter().chain(&super::TESTS)));
    static FUNCTIONS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
        let builtin = ["range", "dict"];
        known(
            CallKind::Function,
            super::FUNCTIONS
                .iter()
                .chain(&super::CONTEXT_FUNCTIONS)
                .chain(&builtin),
        )
    });
    match kind {
        CallKind::Filter => &FILTERS,
        CallKind::Test => &TESTS,
        CallKind::Function => &FUNCTIONS,
        CallKind::Method => {
            static METHODS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
                methods::METHODS
                    .iter()
                    .copied()
                    .chain([methods::MAP_ITEMS])
                    .collect()
            });
            &METHODS
        }
    }
}

fn known<'a>(kind: CallKind, names: impl Iterator<Item = &'a &'static str>) -> Vec<&'static str> {
    names.copied().filter(|n| is_known(kind, n)).collect()
}

fn push(out: &mut Vec<Call>, kind: CallKind, name: &str, offset: usize) {
    out.push(Call {
        kind,
        name: name.to_string(),
        offset,
        suggestion: None,
        texts: Vec::new(),
    });
}

fn walk(e: &Expr<'_>, out: &mut Vec<Call>) {
    match e {
        Expr::Var(_) | Expr::Const(_) => {}
        Expr::Slice(s) => {
            walk(&s.expr, out);
            for part in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                walk(part, out);
            }
        }
        Expr::UnaryOp(u) => walk(&u.expr, out),
        Expr::BinOp(b) => {
            walk(&b.left, out);
            walk(&b.right, out);
        }
        Expr::Compare(c) => {
            walk(&c.expr, out);
            c.ops.iter().for_each(|op| walk(&op.expr, out));
        }
        Expr::IfExpr(i) => {
            walk(&i.test_expr, out);
            walk(&i.true_expr, out);
            if let Some(f) = &i.false_expr {
                walk(f, out);
            }
        }
        Expr::Filter(f) => {
            push(
                out,
                CallKind::Filter,
                f.name,
                f.span().start_offset as usize,
            );
            named_in_args(f.name, &f.args, out);
            if let Some(inner) = &f.expr {
                walk(inner, out);
            }
            walk_args(&f.args, out);
        }
        Expr::Test(t) => {
            push(out, CallKind::Test, t.name, t.span().start_offset as usize);
            walk(&t.expr, out);
            walk_args(&t.args, out);
        }
        Expr::GetAttr(g) => walk(&g.expr, out),
        Expr::GetItem(g) => {
            walk(&g.expr, out);
            walk(&g.subscript_expr, out);
        }
        Expr::Call(c) => {
            match c.identify_call() {
                CallType::Function(name) => {
                    push(
                        out,
                        CallKind::Function,
                        name,
                        c.expr.span().start_offset as usize,
                    );
                    if let Some(call) = out.last_mut() {
                        call.texts = c
                            .args
                            .iter()
                            .filter_map(|a| match a {
                                CallArg::Pos(Expr::Const(k)) => Some(k.value.as_str().map(str::to_string)),
                                CallArg::Pos(_) => Some(None),
                                _ => None,
                            })
                            .collect();
                    }
                }
                CallType::Method(obj, name) => {
                    // The attribute's name ends the callee's text.
                    let end = c.expr.span().end_offset as usize;
                    push(out, CallKind::Method, name, end.saturating_sub(name.len()));
                    walk(obj, out);
                }
                CallType::Object(callee) => walk(callee, out),
                #[allow(unreachable_patterns)]
                _ => walk(&c.expr, out),
            }
            walk_args(&c.args, out);
        }
        Expr::List(l) => l.items.iter().for_each(|x| walk(x, out)),
        Expr::Tuple(t) => t.items.iter().for_each(|x| walk(x, out)),
        Expr::Map(m) => {
            m.keys.iter().for_each(|x| walk(x, out));
            m.values.iter().for_each(|x| walk(x, out));
        }
    }
}

fn walk_args(args: &[CallArg<'_>], out: &mut Vec<Call>) {
    for arg in args {
        match arg {
            CallArg::Pos(e)
            | CallArg::Kwarg(_, e)
            | CallArg::PosSplat(e)
            | CallArg::KwargSplat(e) => walk(e, out),
        }
    }
}

/// The filter `map('name')` applies, and the test `select('name')`,
/// `reject('name')`, `selectattr('attr', 'name')` and `rejectattr(...)` apply,
/// when written as text.
fn named_in_args(filter: &str, args: &[CallArg<'_>], out: &mut Vec<Call>) {
    let (kind, position) = match filter {
        "map" => (CallKind::Filter, 0),
        "select" | "reject" => (CallKind::Test, 0),
        "selectattr" | "rejectattr" => (CallKind::Test, 1),
        _ => return,
    };
    let positional: Vec<&Expr<'_>> = args
        .iter()
        .filter_map(|a| match a {
            CallArg::Pos(e) => Some(e),
            _ => None,
        })
        .collect();
    if let Some(Expr::Const(c)) = positional.get(position)
        && let Some(name) = c.value.as_str()
    {
        // After the opening quote.
        push(out, kind, name, c.span().start_offset as usize + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(src: &str) -> Vec<(CallKind, String, usize)> {
        calls(src)
            .into_iter()
            .map(|c| (c.kind, c.name, c.offset))
            .collect()
    }

    #[test]
    fn every_kind_of_call_is_found_where_it_is_written() {
        use CallKind::*;
        let src = "x | lower | regex_match('a') and x is defined and f(y | g) and s.lower() and not z is odd";
        let found = seen(src);
        let at = |name: &str| src.find(name).unwrap();
        assert_eq!(
            found,
            vec![
                (Filter, "lower".into(), at("lower")),
                (Filter, "regex_match".into(), at("regex_match")),
                (Test, "defined".into(), at("defined")),
                (Function, "f".into(), at("f(")),
                (Filter, "g".into(), at("g)")),
                (Method, "lower".into(), at(".lower()") + 1),
                (Test, "odd".into(), at("odd")),
            ]
        );
        // Names given as text to map, select and selectattr.
        let src = "l | map('lenght') | select('od') | selectattr('k', 'eqq', 1) | list";
        assert_eq!(
            seen(src),
            vec![
                (Filter, "map".into(), 4),
                (Filter, "lenght".into(), 9),
                (Filter, "select".into(), 20),
                (Test, "od".into(), 28),
                (Filter, "selectattr".into(), 35),
                (Test, "eqq".into(), 52),
                (Filter, "list".into(), 63),
            ]
        );
        // Inside lists, maps, slices, conditionals and arguments.
        let src = "[a | f1, {'k': b | f2}, c[d | f3:], e if g(1) else h.m(), i(j=k | f4)]";
        let names: Vec<String> = calls(src).into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["f1", "f2", "f3", "g", "m", "i", "f4"]);
        assert!(calls("x +").is_empty());
    }

    #[test]
    fn unknown_names_come_with_a_suggestion() {
        let found = unknown_calls(
            "x | lenght and foo() and x is definedd and x.strp() and y | length and now() and x is odd and z.get('k') | regex_mach('x')",
        );
        let got: Vec<(CallKind, &str, Option<&str>)> = found
            .iter()
            .map(|c| (c.kind, c.name.as_str(), c.suggestion))
            .collect();
        assert_eq!(
            got,
            vec![
                (CallKind::Filter, "lenght", Some("length")),
                (CallKind::Function, "foo", None),
                (CallKind::Test, "definedd", Some("defined")),
                (CallKind::Method, "strp", Some("strip")),
                (CallKind::Filter, "regex_mach", Some("regex_match")),
            ]
        );
    }

    #[test]
    fn the_name_lists_hold_only_known_names() {
        for kind in [
            CallKind::Filter,
            CallKind::Test,
            CallKind::Function,
            CallKind::Method,
        ] {
            for name in candidates(kind) {
                assert!(is_known(kind, name), "{} `{name}`", kind.as_str());
            }
        }
        // What this module adds is all there.
        for name in super::super::FILTERS {
            assert!(is_known(CallKind::Filter, name), "filter `{name}`");
        }
        for name in super::super::TESTS {
            assert!(is_known(CallKind::Test, name), "test `{name}`");
        }
        for name in super::super::FUNCTIONS
            .iter()
            .chain(&super::super::CONTEXT_FUNCTIONS)
        {
            assert!(is_known(CallKind::Function, name), "function `{name}`");
        }
        // And so is every built-in listed: a minijinja update that drops one fails here.
        assert_eq!(
            candidates(CallKind::Filter).len(),
            BUILTIN_FILTERS.len() + super::super::FILTERS.len()
        );
        assert_eq!(
            candidates(CallKind::Test).len(),
            BUILTIN_TESTS.len() + super::super::TESTS.len()
        );
        // `debug` and `namespace` are taken out of the environment.
        assert!(!is_known(CallKind::Function, "debug"));
        assert!(!is_known(CallKind::Function, "namespace"));
    }
}
