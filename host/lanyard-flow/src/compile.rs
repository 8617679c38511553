//! The flow compiler: YAML text → a validated [`Flow`], or every problem in it.
//!
//! One pass over the positioned YAML tree builds the compiled steps and, at the
//! same time, tracks which step ids have run on every path to the current
//! point (a definite-assignment analysis over branches, loops, handlers and
//! steps that end the flow). Every expression is compiled here, once, and each
//! name it reads is checked against that set, so "reference to a step that has
//! not run yet" is a compile error with a place, not a run-time surprise.
//!
//! Checks that need more than one file (helper flows exist, their inputs,
//! cycles, unique names) live in [`crate::library`]. This module reads no files.

use crate::catalog::{CardCatalog, OktaOrgs};
use crate::diag::{Diagnostic, Pos, Span, did_you_mean, suggestion};
use crate::expr::{self, Expr, Part, RawPart, Template, split_text};
use crate::functions::{self, Call, CallKind};
use crate::model::*;
use crate::yaml::{self, Key, Node, NodeKind};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// Most iterations one `for_each` may run at once.
pub const MAX_CONCURRENCY: u64 = 64;
/// Most tries a `retry` may ask for.
pub const MAX_ATTEMPTS: u64 = 20;
/// The function that makes a link answering a signal wait.
const LINK_FN: &str = "signal_link";

/// Most answers a signal wait may list.
pub const MAX_CHOICES: usize = 16;

const STEP_KINDS: [&str; 10] = [
    "card", "if", "switch", "for_each", "assign", "return", "stop", "fail", "call", "wait",
];

/// Names with a meaning of their own in expressions; no step id, loop variable
/// or `vars` key may take them.
/// The name `reduce:`'s `each` reads the value so far by.
pub(crate) const ACC: &str = "acc";

const RESERVED: [&str; 22] = [
    "event",
    "flow",
    "vars",
    "inputs",
    "error",
    "loop",
    "steps",
    "true",
    "false",
    "none",
    "True",
    "False",
    "None",
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "on_error",
    "on_failure",
];

/// The result of compiling one file.
#[derive(Debug)]
pub struct Compiled {
    /// The flow, when the file has no errors (warnings allowed).
    pub flow: Option<Flow>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Compile one flow file. `file` is the name diagnostics use.
pub fn compile(file: &str, source: &str, catalog: &dyn CardCatalog) -> Compiled {
    let (root, mut diagnostics) = yaml::parse(file, source);
    let Some(root) = root else {
        return Compiled {
            flow: None,
            diagnostics,
        };
    };
    let mut cx = Cx {
        file,
        lines: source.lines().collect(),
        catalog,
        diags: Vec::new(),
        explicit_ids: HashMap::new(),
        seen_ids: HashSet::new(),
        counters: HashMap::new(),
        slots: HashMap::new(),
        helper_inputs: None,
        call_sites: Vec::new(),
        card_names: None,
        orgs: catalog.okta_orgs(),
        trigger_org: None,
        trigger_org_failed: false,
        signal_waits: Vec::new(),
        link_calls: Vec::new(),
    };
    let flow = cx.flow(&root, source);
    cx.check_links(flow.as_ref().is_some_and(|f| matches!(f.trigger, Trigger::Flow(_))));
    diagnostics.append(&mut cx.diags);
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    Compiled {
        flow: if has_errors { None } else { flow },
        diagnostics,
    }
}

/// What is known at one point of the flow.
#[derive(Debug, Clone, Default)]
struct Scope {
    /// Step ids that have completed on every path to here.
    steps: BTreeSet<Arc<str>>,
    /// `vars` keys assigned on every path to here.
    vars: BTreeSet<Arc<str>>,
    loop_vars: Vec<Arc<str>>,
    in_loop: bool,
    /// Inside `on_error` / `on_failure`: `error` is defined.
    error: bool,
    /// Why a `wait` may not stand here (a concurrent loop, `on_failure`).
    no_wait: Option<&'static str>,
    /// `on_failure`: any step may or may not have run; references are allowed
    /// and fail at run time if the step did not run.
    permissive: bool,
    /// A trigger filter: only `event` and functions.
    filter: bool,
    /// Every path to here has ended the flow (return, stop, fail).
    terminated: bool,
}

impl Scope {
    fn with_step(mut self, id: &Arc<str>) -> Scope {
        if !self.terminated {
            self.steps.insert(id.clone());
        }
        self
    }
}

/// Where control may arrive after two alternatives.
fn join(a: Scope, b: Scope) -> Scope {
    if a.terminated {
        return b;
    }
    if b.terminated {
        return a;
    }
    Scope {
        steps: a.steps.intersection(&b.steps).cloned().collect(),
        vars: a.vars.intersection(&b.vars).cloned().collect(),
        ..a
    }
}

struct Cx<'a> {
    file: &'a str,
    lines: Vec<&'a str>,
    catalog: &'a dyn CardCatalog,
    diags: Vec<Diagnostic>,
    /// Explicit ids, where each is first written.
    explicit_ids: HashMap<String, Span>,
    /// Ids compiled so far, in document order.
    seen_ids: HashSet<String>,
    counters: HashMap<&'static str, usize>,
    slots: HashMap<Arc<str>, usize>,
    helper_inputs: Option<Vec<String>>,
    call_sites: Vec<CallSite>,
    card_names: Option<Vec<String>>,
    /// The configured Okta orgs (from the catalog).
    orgs: OktaOrgs,
    /// The org of an `okta` trigger: card steps use it unless they name one.
    trigger_org: Option<String>,
    /// An `okta` trigger whose org is wrong or missing (reported there, not
    /// again on every card step).
    trigger_org_failed: bool,
    /// Every signal wait: its signal and its choices.
    signal_waits: Vec<(String, Vec<String>)>,
    /// Every `signal_link(...)` call, checked against `signal_waits` once the
    /// whole flow is read (a link is made before the wait it answers).
    link_calls: Vec<LinkCall>,
}

/// A `signal_link(signal, choice)` as written: where, and its arguments when
/// they are literal text.
struct LinkCall {
    span: Span,
    path: Vec<String>,
    texts: Vec<Option<String>>,
}

type Entries = [(Key, Node)];

fn get<'n>(entries: &'n Entries, key: &str) -> Option<(&'n Key, &'n Node)> {
    entries
        .iter()
        .find(|(k, _)| k.text == key)
        .map(|(k, v)| (k, v))
}

fn path_text(path: &[String]) -> Option<String> {
    if path.is_empty() {
        None
    } else {
        Some(path.join(" > "))
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_step_id(s: &str) -> bool {
    let mut chars = s.chars();
    s.len() <= 64
        && matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The part of an expression's span where `name` (a dotted path) is written,
/// when the span covers exactly the expression's text on one line.
fn narrow(span: Span, src: &str, name: &str) -> Span {
    let width = src.chars().count() as u32;
    if span.start.line != span.end.line || span.end.col.saturating_sub(span.start.col) != width {
        return span;
    }
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    for (i, _) in src.match_indices(name) {
        let before = src[..i].chars().next_back();
        let after = src[i + name.len()..].chars().next();
        if before.is_some_and(|c| is_ident(c) || c == '.') || after.is_some_and(is_ident) {
            continue;
        }
        let col = span.start.col + src[..i].chars().count() as u32;
        return Span {
            start: Pos {
                line: span.start.line,
                col,
            },
            end: Pos {
                line: span.start.line,
                col: col + name.chars().count() as u32,
            },
        };
    }
    span
}

/// If `s` is exactly one `{{ expr }}`, the expression inside.
fn sole_expression(s: &str) -> Option<&str> {
    match split_text(s).ok()?.as_slice() {
        [RawPart::Expr(e, _)] => Some(e),
        _ => None,
    }
}

impl<'a> Cx<'a> {
    // -- reporting ---------------------------------------------------------

    fn err(
        &mut self,
        code: &'static str,
        span: Span,
        path: &[String],
        msg: impl Into<String>,
    ) -> &mut Diagnostic {
        self.diags
            .push(Diagnostic::error(code, self.file, span, msg).with_step(path_text(path)));
        self.diags.last_mut().expect("just pushed")
    }

    fn warn(&mut self, code: &'static str, span: Span, path: &[String], msg: impl Into<String>) {
        self.diags
            .push(Diagnostic::warning(code, self.file, span, msg).with_step(path_text(path)));
    }

    /// Report keys not in `allowed`.
    fn check_keys(&mut self, entries: &Entries, allowed: &[&str], what: &str, path: &[String]) {
        for (k, _) in entries {
            if !allowed.contains(&k.text.as_str()) {
                let hint = suggestion(&k.text, allowed.iter().copied());
                let list = allowed.join(", ");
                self.err(
                    "unknown-key",
                    k.span,
                    path,
                    format!("unknown key `{}` in {what}{hint}", k.text),
                )
                .help = Some(format!("{what} takes: {list}"));
            }
        }
    }

    fn expect_map<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        path: &[String],
    ) -> Option<&'n Entries> {
        match &node.kind {
            NodeKind::Map(m) => Some(m),
            _ => {
                self.err(
                    "type",
                    node.span,
                    path,
                    format!("{what} must be a mapping, not {}", node.describe()),
                );
                None
            }
        }
    }

    fn expect_text<'n>(&mut self, node: &'n Node, what: &str, path: &[String]) -> Option<&'n str> {
        match &node.kind {
            NodeKind::Str { text, .. } if !text.trim().is_empty() => Some(text),
            NodeKind::Str { .. } => {
                self.err("type", node.span, path, format!("{what} must not be empty"));
                None
            }
            _ => {
                self.err(
                    "type",
                    node.span,
                    path,
                    format!("{what} must be text, not {}", node.describe()),
                );
                None
            }
        }
    }

    fn expect_bool(&mut self, node: &Node, what: &str, path: &[String]) -> Option<bool> {
        match node.kind {
            NodeKind::Bool(b) => Some(b),
            _ => {
                self.err(
                    "type",
                    node.span,
                    path,
                    format!("{what} must be true or false, not {}", node.describe()),
                );
                None
            }
        }
    }

    fn expect_int(
        &mut self,
        node: &Node,
        what: &str,
        min: u64,
        max: u64,
        path: &[String],
    ) -> Option<u64> {
        match node.kind {
            NodeKind::Int(i) if i >= min as i64 && (i as u64) <= max => Some(i as u64),
            NodeKind::Int(_) => {
                self.err(
                    "range",
                    node.span,
                    path,
                    format!("{what} must be between {min} and {max}"),
                );
                None
            }
            _ => {
                self.err(
                    "type",
                    node.span,
                    path,
                    format!("{what} must be a whole number, not {}", node.describe()),
                );
                None
            }
        }
    }

    fn expect_duration(&mut self, node: &Node, what: &str, path: &[String]) -> Option<Duration> {
        let text = match &node.kind {
            NodeKind::Str { text, .. } => text.clone(),
            NodeKind::Int(i) => i.to_string(),
            _ => {
                self.err(
                    "duration",
                    node.span,
                    path,
                    format!("{what} must be a duration like 2s, not {}", node.describe()),
                );
                return None;
            }
        };
        match lanyard_core::units::parse_duration_with_unit(&text) {
            Ok(d) if d > Duration::ZERO => Some(d),
            Ok(_) => {
                self.err(
                    "duration",
                    node.span,
                    path,
                    format!("{what} must be longer than zero"),
                );
                None
            }
            Err(e) => {
                self.err("duration", node.span, path, format!("{what}: {e}"));
                None
            }
        }
    }

    /// Bytes: a whole number, or a size (`lanyard_core::units`).
    fn expect_bytes(&mut self, node: &Node, what: &str, path: &[String]) -> Option<u64> {
        let parsed = match &node.kind {
            NodeKind::Int(i) if *i > 0 => Some(*i as u64),
            NodeKind::Str { text, .. } => lanyard_core::units::parse_size(text).ok().filter(|n| *n > 0),
            _ => None,
        };
        if parsed.is_none() {
            self.err(
                "type",
                node.span,
                path,
                format!("{what} must be a size like 64MiB or a number of bytes"),
            );
        }
        parsed
    }

    /// The span of the expression at byte `offset` of a scalar's value, when
    /// the scalar sits on one line and its text appears verbatim; otherwise
    /// the scalar's own span.
    fn span_in(&self, node: &Node, offset: usize, len: usize) -> Span {
        let (Some(value), true) = (node.as_str(), node.span.start.line == node.span.end.line)
        else {
            return node.span;
        };
        let Some(line) = self.lines.get(node.span.start.line as usize - 1) else {
            return node.span;
        };
        let from: String = line
            .chars()
            .skip(node.span.start.col as usize - 1)
            .collect();
        let quote = usize::from(from.starts_with('"') || from.starts_with('\''));
        let body: String = from.chars().skip(quote).collect();
        let Some(prefix) = value.get(..offset) else {
            return node.span;
        };
        if !body.starts_with(prefix) {
            return node.span;
        }
        let col = node.span.start.col + (quote + prefix.chars().count()) as u32;
        let width = value
            .get(offset..offset + len)
            .map(|s| s.chars().count())
            .unwrap_or(1) as u32;
        Span {
            start: Pos {
                line: node.span.start.line,
                col,
            },
            end: Pos {
                line: node.span.start.line,
                col: col + width.max(1),
            },
        }
    }

    // -- the flow ------------------------------------------------------------

    fn flow(&mut self, root: &Node, source: &str) -> Option<Flow> {
        let top = &[] as &[String];
        let entries = self.expect_map(root, "a flow", top)?;
        self.check_keys(
            entries,
            &["name", "description", "enabled", "keep_step_data", "trigger", "steps", "on_failure"],
            "a flow",
            top,
        );
        let start = Span::point(Pos { line: 1, col: 1 });
        let name_span = get(entries, "name").map(|(_, n)| n.span).unwrap_or(start);
        let name = match get(entries, "name") {
            Some((_, n)) => self
                .expect_text(n, "`name`", top)
                .map(str::trim)
                .map(str::to_string)
                .and_then(|s| {
                    if s.contains('\n') || s.chars().count() > 128 {
                        self.err(
                            "name",
                            n.span,
                            top,
                            "`name` must be one line of at most 128 characters",
                        );
                        None
                    } else {
                        Some(s)
                    }
                }),
            None => {
                self.err(
                    "missing-key",
                    start,
                    top,
                    "missing `name`: every flow has a unique name",
                );
                None
            }
        };
        let description = match get(entries, "description") {
            Some((_, n)) => self
                .expect_text(n, "`description`", top)
                .map(|s| s.trim().to_string()),
            None => {
                self.err(
                    "missing-key",
                    start,
                    top,
                    "missing `description`: say in a sentence or two what the flow does and why",
                )
                .help = Some("add `description: ...` under `name:`".into());
                None
            }
        };
        // Absent is on; anything but a boolean is an error (not "off").
        let enabled = match get(entries, "enabled") {
            Some((_, n)) => self.expect_bool(n, "`enabled`", top),
            None => Some(true),
        };
        let keep_step_data = match get(entries, "keep_step_data") {
            Some((_, n)) => self.expect_bool(n, "`keep_step_data`", top),
            None => Some(true),
        };
        let trigger = match get(entries, "trigger") {
            Some((_, n)) => self.trigger(n),
            None => {
                self.err(
                    "missing-key",
                    start,
                    top,
                    "missing `trigger`: okta, schedule, api, flow or manual",
                );
                None
            }
        };
        // Pre-pass: every explicit id, so a reference to a later step can be
        // told apart from a typo.
        for key in ["steps", "on_failure"] {
            if let Some((_, n)) = get(entries, key) {
                self.collect_ids(n);
            }
        }
        let mut path = Vec::new();
        let steps = match get(entries, "steps") {
            Some((_, n)) => self.block(n, "steps", &mut path, Scope::default()).0,
            None => {
                self.err("missing-key", start, top, "missing `steps`");
                Vec::new()
            }
        };
        let on_failure = match get(entries, "on_failure") {
            Some((_, n)) => {
                let scope = Scope {
                    error: true,
                    permissive: true,
                    no_wait: Some("in `on_failure` (the run has already failed)"),
                    ..Scope::default()
                };
                self.block(n, "on_failure", &mut path, scope).0
            }
            None => Vec::new(),
        };
        let digest = hex::encode(Sha256::digest(source.as_bytes()));
        Some(Flow {
            name: name?,
            description: description?,
            enabled: enabled?,
            keep_step_data: keep_step_data?,
            file: self.file.to_string(),
            digest,
            trigger: trigger?,
            steps,
            on_failure,
            slots: Arc::new(Slots {
                by_name: std::mem::take(&mut self.slots),
            }),
            call_sites: std::mem::take(&mut self.call_sites),
            name_span,
            trigger_span: get(entries, "trigger")
                .map(|(k, _)| k.span)
                .unwrap_or(start),
        })
    }

    fn collect_ids(&mut self, node: &Node) {
        let NodeKind::Seq(items) = &node.kind else {
            return;
        };
        for item in items {
            let Some(entries) = item.as_map() else {
                continue;
            };
            if let Some((_, idn)) = get(entries, "id")
                && let Some(id) = idn.as_str()
                && is_step_id(id)
                && !RESERVED.contains(&id)
                && !expr::is_function(id)
            {
                if let Some(first) = self.explicit_ids.get(id) {
                    let first = first.start;
                    self.err(
                        "duplicate-id",
                        idn.span,
                        &[],
                        format!(
                            "duplicate step id `{id}` (first at line {}, column {})",
                            first.line, first.col
                        ),
                    );
                } else {
                    self.explicit_ids.insert(id.to_string(), idn.span);
                }
            }
            for key in ["then", "else", "steps", "on_error", "default"] {
                if let Some((_, n)) = get(entries, key) {
                    self.collect_ids(n);
                }
            }
            if let Some((_, cases)) = get(entries, "cases")
                && let Some(m) = cases.as_map()
            {
                for (_, n) in m {
                    self.collect_ids(n);
                }
            }
        }
    }

    fn gen_id(&mut self, kind: &'static str) -> Arc<str> {
        let base = kind.replace('_', "-");
        loop {
            let n = self.counters.entry(kind).or_insert(0);
            *n += 1;
            let id = format!("{base}-{n}");
            if !self.explicit_ids.contains_key(&id) {
                return id.into();
            }
        }
    }

    // -- steps ---------------------------------------------------------------

    fn block(
        &mut self,
        node: &Node,
        name: &str,
        path: &mut Vec<String>,
        mut scope: Scope,
    ) -> (Vec<Step>, Scope) {
        let items = match &node.kind {
            NodeKind::Seq(items) => items.as_slice(),
            NodeKind::Null => &[],
            _ => {
                self.err(
                    "type",
                    node.span,
                    path,
                    format!("`{name}` must be a list of steps, not {}", node.describe()),
                );
                return (Vec::new(), scope);
            }
        };
        let mut steps = Vec::with_capacity(items.len());
        let mut warned = false;
        for (i, item) in items.iter().enumerate() {
            if scope.terminated && !warned {
                warned = true;
                path.push(format!("{name}[{i}]"));
                self.warn(
                    "unreachable",
                    item.span,
                    path,
                    "this step never runs: every path before it ends the flow",
                );
                path.pop();
            }
            let (step, out) = self.step(item, name, i, path, scope.clone());
            steps.extend(step);
            scope = out;
        }
        (steps, scope)
    }

    /// Compile one step. Returns the step (if it compiled) and the scope after
    /// it; a step that failed to compile still counts as run, so one mistake
    /// does not cascade into "has not run yet" errors further down.
    fn step(
        &mut self,
        node: &Node,
        list: &str,
        index: usize,
        path: &mut Vec<String>,
        scope: Scope,
    ) -> (Option<Step>, Scope) {
        let Some(entries) = node.as_map() else {
            path.push(format!("{list}[{index}]"));
            self.err(
                "type",
                node.span,
                path,
                format!(
                    "a step must be a mapping such as `card: okta.get-user`, not {}",
                    node.describe()
                ),
            );
            path.pop();
            return (None, scope);
        };
        let explicit = get(entries, "id")
            .and_then(|(_, n)| n.as_str())
            .map(str::to_string);
        path.push(match &explicit {
            Some(id) => format!("{list}[{index}] (id: {id})"),
            None => format!("{list}[{index}]"),
        });
        let result = self.step_inner(node, entries, explicit, path, scope);
        path.pop();
        result
    }

    fn step_inner(
        &mut self,
        node: &Node,
        entries: &Entries,
        explicit: Option<String>,
        path: &mut Vec<String>,
        scope: Scope,
    ) -> (Option<Step>, Scope) {
        // On a `call`, `wait: false` is the call's own option, not a wait step.
        let calls = get(entries, "call").is_some();
        let kinds: Vec<&Key> = entries
            .iter()
            .filter(|(k, _)| STEP_KINDS.contains(&k.text.as_str()) && !(calls && k.text == "wait"))
            .map(|(k, _)| k)
            .collect();
        let kind: &'static str = match kinds.as_slice() {
            [k] => match STEP_KINDS.iter().copied().find(|s| *s == k.text) {
                Some(k) => k,
                None => return (None, scope),
            },
            [] => {
                let typo = entries.iter().find_map(|(k, _)| {
                    did_you_mean(&k.text, STEP_KINDS).map(|s| {
                        (
                            k.span,
                            format!(" (did you mean `{s}` instead of `{}`?)", k.text),
                        )
                    })
                });
                let (span, hint) = typo.unwrap_or((node.span, String::new()));
                self.err(
                    "step-kind",
                    span,
                    path,
                    format!("a step needs one of: {}{hint}", STEP_KINDS.join(", ")),
                );
                return (None, scope);
            }
            [_, second, ..] => {
                self.err(
                    "step-kind",
                    second.span,
                    path,
                    format!(
                        "a step does one thing; it has both `{}` and `{}`",
                        kinds[0].text, second.text
                    ),
                )
                .help = Some("split it into two steps".into());
                return (None, scope);
            }
        };
        let mut allowed: Vec<&str> = vec![kind, "id", "description"];
        allowed.extend_from_slice(match kind {
            "card" => &["with", "org", "retry", "timeout", "fuel", "memory", "on_error"],
            "if" => &["then", "else", "on_error"],
            "switch" => &["cases", "default", "on_error"],
            "for_each" => &["as", "concurrency", "steps", "collect", "reduce", "on_error"],
            "assign" => &["on_error"],
            "call" => &["with", "wait", "on_error"],
            "wait" => &["on_error"],
            _ => &[],
        });
        self.check_keys(entries, &allowed, &format!("a `{kind}` step"), path);

        let id_given = explicit.is_some();
        let id: Arc<str> = match explicit {
            Some(id) => {
                let span = get(entries, "id").map(|(_, n)| n.span).unwrap_or(node.span);
                if !is_step_id(&id) {
                    self.err("bad-id", span, path, format!("step id `{id}` must start with a letter and hold only letters, digits, `_` and `-`"));
                } else if RESERVED.contains(&id.as_str()) || expr::is_function(&id) {
                    self.err(
                        "bad-id",
                        span,
                        path,
                        format!("step id `{id}` is a reserved name in expressions"),
                    );
                }
                id.into()
            }
            None => self.gen_id(kind),
        };
        let slot = {
            let n = self.slots.len();
            *self.slots.entry(id.clone()).or_insert(n)
        };
        let description = match get(entries, "description") {
            Some((_, n)) => self
                .expect_text(n, "`description`", path)
                .map(str::to_string),
            None => None,
        };
        let Some(kind_node) = get(entries, kind).map(|(_, n)| n) else {
            return (None, scope);
        };
        let before = scope.clone();
        let fallback = scope.clone().with_step(&id);
        let compiled: Option<(StepKind, Scope)> = match kind {
            "card" => self
                .card_step(kind_node, entries, path, &scope)
                .map(|k| (k, scope.with_step(&id))),
            "if" => self.if_step(kind_node, entries, path, scope, &id),
            "switch" => self.switch_step(kind_node, entries, path, scope, &id),
            "for_each" => self.for_each_step(node, kind_node, entries, path, scope, &id),
            "assign" => self.assign_step(kind_node, path, scope, &id),
            "return" => {
                let t = self.template(kind_node, "return", &scope, path);
                let mut out = scope;
                out.terminated = true;
                Some((StepKind::Return(t), out))
            }
            "stop" => {
                let t = match &kind_node.kind {
                    NodeKind::Null => None,
                    NodeKind::Str { .. } => Some(self.template(kind_node, "stop", &scope, path)),
                    _ => {
                        self.err(
                            "type",
                            kind_node.span,
                            path,
                            "`stop` takes a reason as text, or nothing",
                        );
                        None
                    }
                };
                let mut out = scope;
                out.terminated = true;
                Some((StepKind::Stop(t), out))
            }
            "fail" => {
                let t = match &kind_node.kind {
                    NodeKind::Str { .. } => self.template(kind_node, "fail", &scope, path),
                    _ => {
                        self.err(
                            "type",
                            kind_node.span,
                            path,
                            "`fail` takes a message as text",
                        );
                        Template::literal(serde_json::Value::String("the flow failed".into()))
                    }
                };
                let mut out = scope;
                out.terminated = true;
                Some((StepKind::Fail(t), out))
            }
            "call" => self
                .call_step(kind_node, entries, path, &scope)
                .map(|k| (k, scope.with_step(&id))),
            "wait" => self
                .wait_step(kind_node, path, &scope, &id)
                .map(|k| (k, scope.with_step(&id))),
            _ => None,
        };
        self.seen_ids.insert(id.to_string());
        let (kind, normal_out) = match compiled {
            Some((k, out)) => (Some(k), out),
            None => (None, fallback),
        };
        let (on_error, out) = match get(entries, "on_error") {
            None => (None, normal_out),
            Some((_, h)) => {
                let handler_in = Scope {
                    error: true,
                    ..before.clone()
                };
                let (steps, mut handler_out) = self.block(h, "on_error", path, handler_in);
                handler_out.error = before.error;
                let handler_out = handler_out.with_step(&id);
                (Some(steps), join(normal_out, handler_out))
            }
        };
        let known = Arc::new(self.known(&before));
        let step = kind.map(|kind| Step {
            id,
            id_given,
            description,
            kind,
            on_error,
            span: node.span,
            slot,
            known,
        });
        (step, out)
    }

    /// What the builder may offer at a step that starts with `scope`: the ids
    /// run on every path to it (in document order), loop variables, `error`.
    fn known(&self, scope: &Scope) -> Known {
        let mut steps: Vec<Arc<str>> = scope.steps.iter().cloned().collect();
        steps.sort_by_key(|id| self.slots.get(id).copied().unwrap_or(usize::MAX));
        Known {
            steps,
            loop_vars: scope.loop_vars.clone(),
            in_loop: scope.in_loop,
            error: scope.error,
        }
    }

    fn card_step(
        &mut self,
        card_node: &Node,
        entries: &Entries,
        path: &[String],
        scope: &Scope,
    ) -> Option<StepKind> {
        let text = self.expect_text(card_node, "`card`", path)?;
        let card = match CardRef::parse(text) {
            Ok(c) => c,
            Err(e) => {
                self.err("card-ref", card_node.span, path, e);
                return None;
            }
        };
        let summary = self.catalog.lookup(&card);
        if summary.is_none() {
            let names = self
                .card_names
                .get_or_insert_with(|| self.catalog.names())
                .clone();
            if names.contains(&card.name) {
                self.err(
                    "unknown-card",
                    card_node.span,
                    path,
                    format!("no version of card `{}` matches `{card}`", card.name),
                );
            } else {
                let hint = suggestion(&card.name, names.iter().map(String::as_str));
                self.err(
                    "unknown-card",
                    card_node.span,
                    path,
                    format!("unknown card `{}`{hint}", card.name),
                );
            }
        }
        let with = match get(entries, "with") {
            Some((_, w)) => {
                let t = self.template(w, "with", scope, path);
                match (&t, &w.kind) {
                    (Template::Expr(_), _) | (_, NodeKind::Map(_)) => {}
                    (Template::Lit { json, .. }, _) if json.is_object() => {}
                    _ => {
                        self.err(
                            "type",
                            w.span,
                            path,
                            format!(
                                "`with` must be a mapping of the card's inputs, not {}",
                                w.describe()
                            ),
                        );
                    }
                }
                if let (Some(schema), Some(map)) = (
                    summary.as_ref().and_then(|s| s.input_schema.as_ref()),
                    w.as_map(),
                ) {
                    self.check_inputs(&card.name, schema, map, w.span, path);
                }
                t
            }
            None => {
                if let Some(schema) = summary.as_ref().and_then(|s| s.input_schema.as_ref()) {
                    self.check_inputs(&card.name, schema, &[], card_node.span, path);
                }
                Template::literal(serde_json::json!({}))
            }
        };
        let org = match get(entries, "org") {
            Some((_, n)) => self.org_name(n, path),
            None => {
                let org = self
                    .trigger_org
                    .clone()
                    .or_else(|| self.orgs.default_org().map(str::to_string));
                if org.is_none() && !self.trigger_org_failed && summary.as_ref().is_some_and(|s| s.okta) {
                    self.err(
                        "org",
                        card_node.span,
                        path,
                        format!(
                            "card `{}` calls Okta and several orgs are configured ({}), none named `default`: say which with `org:`",
                            card.name,
                            self.orgs.listed()
                        ),
                    );
                }
                org
            }
        };
        let retry = get(entries, "retry").and_then(|(_, n)| self.retry(n, path));
        let limits = LimitOverrides {
            fuel: get(entries, "fuel")
                .and_then(|(_, n)| self.expect_int(n, "`fuel`", 1, u64::MAX >> 1, path)),
            deadline: get(entries, "timeout")
                .and_then(|(_, n)| self.expect_duration(n, "`timeout`", path)),
            memory_bytes: get(entries, "memory")
                .and_then(|(_, n)| self.expect_bytes(n, "`memory`", path)),
        };
        Some(StepKind::Card(CardStep {
            card,
            org,
            with,
            retry,
            limits,
        }))
    }

    /// `with` keys against the card's input schema: unknown and missing keys.
    fn check_inputs(
        &mut self,
        card: &str,
        schema: &serde_json::Value,
        with: &Entries,
        span: Span,
        path: &[String],
    ) {
        let props = schema.get("properties").and_then(|p| p.as_object());
        let open = matches!(schema.get("additionalProperties"), Some(v) if v != &serde_json::Value::Bool(false));
        if let (Some(props), false) = (props, open) {
            for (k, _) in with {
                if !props.contains_key(&k.text) {
                    let hint = suggestion(&k.text, props.keys().map(String::as_str));
                    let mut known: Vec<&str> = props.keys().map(String::as_str).collect();
                    known.sort();
                    self.err(
                        "unknown-input",
                        k.span,
                        path,
                        format!("card `{card}` has no input `{}`{hint}", k.text),
                    )
                    .help = Some(format!("its inputs: {}", known.join(", ")));
                }
            }
        }
        if let Some(required) = schema.get("required").and_then(|r| r.as_array()) {
            for r in required.iter().filter_map(|r| r.as_str()) {
                if !with.iter().any(|(k, _)| k.text == r) {
                    self.err(
                        "missing-input",
                        span,
                        path,
                        format!("card `{card}` needs input `{r}`"),
                    );
                }
            }
        }
    }

    fn retry(&mut self, node: &Node, path: &[String]) -> Option<Retry> {
        let mut r = Retry {
            attempts: 3,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        };
        match &node.kind {
            NodeKind::Int(_) => {
                r.attempts = self.expect_int(node, "`retry`", 1, MAX_ATTEMPTS, path)? as u32;
            }
            NodeKind::Map(m) => {
                self.check_keys(m, &["attempts", "backoff", "max_backoff"], "`retry`", path);
                let mut ok = true;
                if let Some((_, n)) = get(m, "attempts") {
                    match self.expect_int(n, "`retry.attempts`", 1, MAX_ATTEMPTS, path) {
                        Some(a) => r.attempts = a as u32,
                        None => ok = false,
                    }
                }
                if let Some((_, n)) = get(m, "backoff") {
                    match self.expect_duration(n, "`retry.backoff`", path) {
                        Some(d) => r.backoff = d,
                        None => ok = false,
                    }
                }
                if let Some((_, n)) = get(m, "max_backoff") {
                    match self.expect_duration(n, "`retry.max_backoff`", path) {
                        Some(d) if d < r.backoff => {
                            self.err(
                                "range",
                                n.span,
                                path,
                                "`retry.max_backoff` is shorter than `retry.backoff`",
                            );
                            ok = false;
                        }
                        Some(d) => r.max_backoff = d,
                        None => ok = false,
                    }
                } else {
                    r.max_backoff = r.max_backoff.max(r.backoff);
                }
                if !ok {
                    return None;
                }
            }
            _ => {
                self.err(
                    "type",
                    node.span,
                    path,
                    "`retry` must be a number of attempts or `{ attempts, backoff, max_backoff }`",
                );
                return None;
            }
        }
        Some(r)
    }

    fn if_step(
        &mut self,
        cond: &Node,
        entries: &Entries,
        path: &mut Vec<String>,
        scope: Scope,
        id: &Arc<str>,
    ) -> Option<(StepKind, Scope)> {
        let cond = self.condition(cond, "if", &scope, path);
        let (then, then_out) = match get(entries, "then") {
            Some((_, n)) => self.block(n, "then", path, scope.clone()),
            None => {
                let span = get(entries, "if").map(|(k, _)| k.span).unwrap_or_default();
                self.err(
                    "missing-key",
                    span,
                    path,
                    "an `if` step needs `then:` (and may have `else:`)",
                );
                (Vec::new(), scope.clone())
            }
        };
        let (otherwise, else_out) = match get(entries, "else") {
            Some((_, n)) => self.block(n, "else", path, scope.clone()),
            None => (Vec::new(), scope.clone()),
        };
        let out = join(then_out, else_out).with_step(id);
        Some((
            StepKind::If(IfStep {
                cond: cond?,
                then,
                otherwise,
            }),
            out,
        ))
    }

    fn switch_step(
        &mut self,
        subject: &Node,
        entries: &Entries,
        path: &mut Vec<String>,
        scope: Scope,
        id: &Arc<str>,
    ) -> Option<(StepKind, Scope)> {
        let subject = self.condition(subject, "switch", &scope, path);
        let mut cases = Vec::new();
        let mut out: Option<Scope> = None;
        match get(entries, "cases") {
            Some((_, n)) => {
                if let Some(m) = self.expect_map(n, "`cases`", path) {
                    if m.is_empty() {
                        self.err("missing-key", n.span, path, "`cases` is empty");
                    }
                    for (k, body) in m {
                        let (steps, o) =
                            self.block(body, &format!("cases.{}", k.text), path, scope.clone());
                        out = Some(match out {
                            None => o,
                            Some(prev) => join(prev, o),
                        });
                        cases.push(Case {
                            value: k.text.clone(),
                            steps,
                        });
                    }
                }
            }
            None => {
                let span = get(entries, "switch")
                    .map(|(k, _)| k.span)
                    .unwrap_or_default();
                self.err("missing-key", span, path, "a `switch` step needs `cases:`");
            }
        }
        let (default, default_out) = match get(entries, "default") {
            Some((_, n)) => self.block(n, "default", path, scope.clone()),
            None => (Vec::new(), scope.clone()),
        };
        let out = match out {
            None => default_out,
            Some(o) => join(o, default_out),
        }
        .with_step(id);
        Some((
            StepKind::Switch(SwitchStep {
                subject: subject?,
                cases,
                default,
            }),
            out,
        ))
    }

    fn for_each_step(
        &mut self,
        step_node: &Node,
        items: &Node,
        entries: &Entries,
        path: &mut Vec<String>,
        scope: Scope,
        id: &Arc<str>,
    ) -> Option<(StepKind, Scope)> {
        let source = match items.as_map() {
            Some(pages) if get(pages, "card").is_some() => Items::Pages(self.page_source(items, pages, path, &scope)?),
            _ => {
                let t = self.template(items, "for_each", &scope, path);
                match &t {
                    Template::Expr(_) | Template::List(_) => {}
                    Template::Lit { json, .. } if json.is_array() => {}
                    _ => {
                        let help = items.as_str().map(|s| {
                            format!(
                                "to loop over a value, write it as one expression: \"{{{{ {} }}}}\"",
                                s.trim()
                            )
                        });
                        self.err(
                            "type",
                            items.span,
                            path,
                            format!("`for_each` needs a list, or a card that answers in pages (`card:`), not {}", items.describe()),
                        )
                        .help = help;
                    }
                }
                Items::List(t)
            }
        };
        let var: Arc<str> = match get(entries, "as") {
            Some((_, n)) => match n.as_str() {
                Some(v) if is_identifier(v) && !RESERVED.contains(&v) && !expr::is_function(v) => {
                    if self.explicit_ids.contains_key(v) {
                        self.err(
                            "bad-id",
                            n.span,
                            path,
                            format!("loop variable `{v}` has the name of a step"),
                        );
                    }
                    v.into()
                }
                _ => {
                    self.err("bad-id", n.span, path, "`as` must be a name such as `group` (letters, digits, `_`; not a reserved word)");
                    "item".into()
                }
            },
            None => "item".into(),
        };
        let concurrency = match get(entries, "concurrency") {
            Some((_, n)) => self
                .expect_int(n, "`concurrency`", 1, MAX_CONCURRENCY, path)
                .unwrap_or(1) as usize,
            None => 1,
        };
        let mut body_scope = scope.clone();
        body_scope.loop_vars.push(var.clone());
        body_scope.in_loop = true;
        if concurrency > 1 {
            body_scope.no_wait = Some("inside a `for_each` whose `concurrency` is above 1 (its iterations run at once; a wait pauses the whole run)");
        }
        let (steps, body_end) = match get(entries, "steps") {
            Some((_, n)) => self.block(n, "steps", path, body_scope.clone()),
            None => {
                self.err(
                    "missing-key",
                    step_node.span,
                    path,
                    "a `for_each` step needs `steps:` to run for each item",
                );
                (Vec::new(), body_scope.clone())
            }
        };
        // `collect` and `reduce.*.each` read an iteration's scope as its steps left it.
        let body_end = Scope { terminated: false, ..body_end };
        let collect = match get(entries, "collect") {
            Some((k, _)) if matches!(source, Items::Pages(_)) => {
                self.err("type", k.span, path, "`collect` keeps a value per item, and a loop over pages holds no list")
                    .help = Some("use `reduce` for a count or a short list, or write each item to a table".into());
                None
            }
            Some((_, n)) => Some(self.template(n, "collect", &body_end, path)),
            None => None,
        };
        let mut after = scope.clone().with_step(id);
        let reduce = match get(entries, "reduce") {
            Some((_, n)) => self.reduce(n, &scope, &body_end, &var, path, &mut after),
            None => Vec::new(),
        };
        Some((
            StepKind::ForEach(ForEachStep {
                items: source,
                var,
                concurrency,
                steps,
                collect,
                reduce,
            }),
            after,
        ))
    }

    /// `reduce: { total: { start: 0, each: "{{ acc + 1 }}" }, ... }`: each
    /// name a variable the loop sets (`vars.total` after it), `start` read
    /// where the loop stands, `each` in an iteration's scope with `acc`.
    fn reduce(&mut self, node: &Node, before: &Scope, body_end: &Scope, var: &Arc<str>, path: &[String], after: &mut Scope) -> Vec<Reduce> {
        let Some(entries) = self.expect_map(node, "`reduce`", path) else { return Vec::new() };
        let mut each_scope = body_end.clone();
        each_scope.loop_vars.push(ACC.into());
        let mut out = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            if !is_identifier(&k.text) || RESERVED.contains(&k.text.as_str()) {
                self.err("bad-id", k.span, path, format!("`{}` cannot be a variable name (letters, digits and `_`, not a reserved word)", k.text));
                continue;
            }
            if &*k.text == ACC || k.text == **var {
                self.err("bad-id", k.span, path, format!("`{}` is read inside `each`; give the variable another name", k.text));
                continue;
            }
            let Some(m) = self.expect_map(v, &format!("`reduce.{}`", k.text), path) else { continue };
            self.check_keys(m, &["start", "each"], &format!("`reduce.{}`", k.text), path);
            let (Some((_, start)), Some((_, each))) = (get(m, "start"), get(m, "each")) else {
                self.err("missing-key", v.span, path, format!("`reduce.{}` needs `start` (its value before the loop) and `each` (its next value, from `acc`)", k.text))
                    .help = Some("for example `{ start: 0, each: \"{{ acc + 1 }}\" }`".into());
                continue;
            };
            let start = self.template(start, &format!("reduce.{}.start", k.text), before, path);
            let each = self.template(each, &format!("reduce.{}.each", k.text), &each_scope, path);
            let name: Arc<str> = k.text.as_str().into();
            after.vars.insert(name.clone());
            out.push(Reduce { name, start, each });
        }
        out
    }

    /// `for_each: { card: okta.find-users, with: {...}, retry: ... }`: the
    /// pages a card answers. The card must take `after` (the cursor the loop
    /// passes) when its input schema is known, and the flow may not set it.
    fn page_source(&mut self, node: &Node, entries: &Entries, path: &[String], scope: &Scope) -> Option<CardStep> {
        self.check_keys(entries, &["card", "with", "org", "retry", "timeout", "fuel", "memory"], "a `for_each` over pages", path);
        let card_node = get(entries, "card").map(|(_, n)| n)?;
        if let Some((k, _)) = entries.iter().find(|(k, _)| k.text == "with").and_then(|(_, w)| w.as_map()).and_then(|w| w.iter().find(|(k, _)| k.text == "after")) {
            self.err("unknown-key", k.span, path, "`after` is the page cursor, which the loop passes to the card itself");
        }
        let StepKind::Card(card) = self.card_step(card_node, entries, path, scope)? else {
            return None;
        };
        if let Some(schema) = self.catalog.lookup(&card.card).and_then(|s| s.input_schema)
            && schema.get("properties").and_then(|p| p.get("after")).is_none()
        {
            self.err(
                "type",
                node.span,
                path,
                format!("card `{}` does not answer in pages (it takes no `after`); loop over its list instead: `for_each: \"{{{{ step.items }}}}\"`", card.card.name),
            );
        }
        Some(card)
    }

    fn assign_step(
        &mut self,
        node: &Node,
        path: &[String],
        scope: Scope,
        id: &Arc<str>,
    ) -> Option<(StepKind, Scope)> {
        let entries = self.expect_map(node, "`assign`", path)?;
        let mut out = scope.clone();
        let mut values = Vec::with_capacity(entries.len());
        for (k, v) in entries {
            if !is_identifier(&k.text) || RESERVED.contains(&k.text.as_str()) {
                self.err("bad-id", k.span, path, format!("`{}` cannot be a variable name (letters, digits and `_`, not a reserved word)", k.text));
                continue;
            }
            // Values see the variables as they were before this step.
            let t = self.template(v, &format!("assign.{}", k.text), &scope, path);
            let name: Arc<str> = k.text.as_str().into();
            out.vars.insert(name.clone());
            values.push((name, t));
        }
        Some((StepKind::Assign(values), out.with_step(id)))
    }

    fn call_step(
        &mut self,
        node: &Node,
        entries: &Entries,
        path: &[String],
        scope: &Scope,
    ) -> Option<StepKind> {
        let flow = self.expect_text(node, "`call`", path)?.trim().to_string();
        let (with, keys, with_span) = match get(entries, "with") {
            Some((_, w)) => {
                let t = self.template(w, "with", scope, path);
                let keys = w
                    .as_map()
                    .map(|m| m.iter().map(|(k, _)| (k.text.clone(), k.span)).collect());
                if !matches!(t, Template::Expr(_)) && w.as_map().is_none() {
                    self.err(
                        "type",
                        w.span,
                        path,
                        format!(
                            "`with` must be a mapping of the helper's inputs, not {}",
                            w.describe()
                        ),
                    );
                }
                (t, keys, w.span)
            }
            None => (
                Template::literal(serde_json::json!({})),
                Some(Vec::new()),
                node.span,
            ),
        };
        self.call_sites.push(CallSite {
            flow: flow.clone(),
            span: node.span,
            keys,
            with_span,
            step: path.join(" > "),
        });
        let wait = match get(entries, "wait") {
            Some((_, n)) if !matches!(n.kind, NodeKind::Bool(_)) => {
                self.err("type", n.span, path, format!("on a `call`, `wait` is true (wait for the helper and use its result) or false (start it and go on), not {}", n.describe()))
                    .help = Some("to pause the flow, add a `wait` step of its own".into());
                true
            }
            Some((_, n)) => self.expect_bool(n, "`wait`", path).unwrap_or(true),
            None => true,
        };
        Some(StepKind::Call(CallStep { flow, with, wait }))
    }

    /// `wait: { for: 3d }`, `wait: { until: "{{ ... }}" }`, or
    /// `wait: { signal: approval, choices: [approve, reject], timeout: 2d }`.
    fn wait_step(&mut self, node: &Node, path: &[String], scope: &Scope, id: &Arc<str>) -> Option<StepKind> {
        if let Some(why) = scope.no_wait {
            self.err("wait-place", node.span, path, format!("a `wait` cannot stand {why}"));
            return None;
        }
        let entries = self.expect_map(node, "`wait`", path)?;
        self.check_keys(entries, &["for", "until", "signal", "choices", "timeout"], "`wait`", path);
        let given: Vec<&Key> = ["for", "until", "signal"]
            .iter()
            .filter_map(|k| get(entries, k).map(|(key, _)| key))
            .collect();
        let what = match given.as_slice() {
            [k] => k.text.as_str(),
            [] => {
                self.err("missing-key", node.span, path, "a `wait` needs one of `for` (a duration), `until` (a time) or `signal` (a name)")
                    .help = Some("wait: { for: 3d }, wait: { until: \"{{ vars.end_date }}\" }, wait: { signal: approval, timeout: 2d }".into());
                return None;
            }
            [first, second, ..] => {
                self.err(
                    "wait-kind",
                    second.span,
                    path,
                    format!("a `wait` waits for one thing; it has both `{}` and `{}`", first.text, second.text),
                );
                return None;
            }
        };
        let value = get(entries, what).map(|(_, n)| n)?;
        let until = match what {
            "for" => WaitUntil::For(self.expect_duration(value, "`wait.for`", path)?),
            "until" => WaitUntil::Time(self.template(value, "wait.until", scope, path)),
            _ => {
                let name = self.expect_text(value, "`wait.signal`", path)?.trim().to_string();
                if !is_step_id(&name) {
                    self.err("bad-signal", value.span, path, format!("signal name `{name}` must start with a letter and hold only letters, digits, `_` and `-`"));
                }
                let choices = self.wait_choices(entries, path);
                self.signal_waits.push((name.clone(), choices.clone()));
                WaitUntil::Signal { name: name.into(), choices }
            }
        };
        let timeout = match get(entries, "timeout") {
            Some((k, n)) => {
                if !matches!(until, WaitUntil::Signal { .. }) {
                    self.err("unknown-key", k.span, path, "`timeout` is for a signal wait; a `for` or `until` wait ends at its time");
                }
                self.expect_duration(n, "`wait.timeout`", path)
            }
            None => None,
        };
        if let (Some((k, _)), false) = (get(entries, "choices"), matches!(until, WaitUntil::Signal { .. })) {
            self.err("unknown-key", k.span, path, "`choices` is for a signal wait");
        }
        if matches!(until, WaitUntil::Signal { .. }) && timeout.is_none() {
            self.warn(
                "wait-forever",
                node.span,
                path,
                format!("step `{id}` waits for its signal with no `timeout`: a signal that never comes keeps the run waiting until it is cancelled"),
            );
        }
        Some(StepKind::Wait(WaitStep { until, timeout }))
    }

    /// A signal wait's `choices`: distinct names, at most 16.
    fn wait_choices(&mut self, entries: &Entries, path: &[String]) -> Vec<String> {
        let Some((_, n)) = get(entries, "choices") else {
            return Vec::new();
        };
        let NodeKind::Seq(items) = &n.kind else {
            self.err("type", n.span, path, format!("`choices` must be a list of names like [approve, reject], not {}", n.describe()));
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        for item in items {
            match self.expect_text(item, "a choice", path) {
                Some(c) if !is_step_id(c.trim()) => {
                    self.err("bad-signal", item.span, path, format!("choice `{c}` must start with a letter and hold only letters, digits, `_` and `-`"));
                }
                Some(c) if out.iter().any(|o| o == c.trim()) => {
                    self.err("duplicate", item.span, path, format!("choice `{c}` is listed twice"));
                }
                Some(c) => out.push(c.trim().to_string()),
                None => {}
            }
        }
        if out.len() > MAX_CHOICES {
            self.err("range", n.span, path, format!("a signal takes at most {MAX_CHOICES} choices"));
        }
        out
    }

    // -- values and expressions ----------------------------------------------

    fn template(&mut self, node: &Node, field: &str, scope: &Scope, path: &[String]) -> Template {
        match &node.kind {
            NodeKind::Str { text, .. } => self.text_template(node, text, field, scope, path),
            NodeKind::Seq(items) => Template::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, n)| self.template(n, &format!("{field}[{i}]"), scope, path))
                    .collect(),
            )
            .simplify(),
            NodeKind::Map(entries) => Template::Map(
                entries
                    .iter()
                    .map(|(k, n)| {
                        (
                            k.text.as_str().into(),
                            self.template(n, &format!("{field}.{}", k.text), scope, path),
                        )
                    })
                    .collect(),
            )
            .simplify(),
            _ => Template::literal(node.to_json()),
        }
    }

    fn text_template(
        &mut self,
        node: &Node,
        text: &str,
        field: &str,
        scope: &Scope,
        path: &[String],
    ) -> Template {
        let parts = match split_text(text) {
            Ok(p) => p,
            Err((msg, off)) => {
                let span = self.span_in(node, off, 2);
                self.err("expression", span, path, format!("in `{field}`: {msg}"));
                return Template::literal(serde_json::Value::String(text.to_string()));
            }
        };
        if !parts.iter().any(|p| matches!(p, RawPart::Expr(..))) {
            let joined: String = parts
                .into_iter()
                .map(|p| match p {
                    RawPart::Text(t) => t,
                    RawPart::Expr(..) => String::new(),
                })
                .collect();
            return Template::literal(serde_json::Value::String(joined));
        }
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            match p {
                RawPart::Text(t) => out.push(Part::Text(t.into())),
                RawPart::Expr(src, off) => {
                    if let Some(e) = self.expr(node, src, off, field, scope, path) {
                        out.push(Part::Expr(e));
                    }
                }
            }
        }
        match out.as_slice() {
            [Part::Expr(e)] => Template::Expr(e.clone()),
            _ => Template::Text {
                src: text.into(),
                parts: out,
            },
        }
    }

    /// A condition: one bare expression (a whole-value `{{ }}` is accepted too).
    fn condition(
        &mut self,
        node: &Node,
        field: &str,
        scope: &Scope,
        path: &[String],
    ) -> Option<Expr> {
        match &node.kind {
            NodeKind::Bool(b) => Expr::compile(if *b { "true" } else { "false" }, field).ok(),
            NodeKind::Str { text, .. } => {
                if let Some(inner) = sole_expression(text) {
                    let off = text.find(inner).unwrap_or(0);
                    return self.expr(node, inner, off, field, scope, path);
                }
                if text.contains("{{") {
                    self.err(
                        "expression",
                        node.span,
                        path,
                        format!(
                            "`{field}` is one expression; remove the `{{{{ }}}}` around parts of it"
                        ),
                    );
                    return None;
                }
                self.expr(node, text, 0, field, scope, path)
            }
            _ => {
                self.err(
                    "type",
                    node.span,
                    path,
                    format!("`{field}` needs an expression, not {}", node.describe()),
                );
                None
            }
        }
    }

    fn expr(
        &mut self,
        node: &Node,
        src: &str,
        offset: usize,
        field: &str,
        scope: &Scope,
        path: &[String],
    ) -> Option<Expr> {
        let lead = src.len() - src.trim_start().len();
        let span = self.span_in(node, offset + lead, src.trim().len());
        match Expr::compile(src, field) {
            Ok(e) => {
                let unknown = functions::unknown_calls(e.source());
                self.check_names(&e, span, scope, path, &unknown);
                for call in &unknown {
                    self.unknown_call(node, offset + lead, call, path);
                }
                if e.source().contains(LINK_FN) {
                    self.note_links(node, offset + lead, e.source(), scope, path);
                }
                Some(e)
            }
            Err(e) => {
                self.err(
                    "expression",
                    span,
                    path,
                    format!(
                        "invalid expression `{}` in `{field}`: {}",
                        src.trim(),
                        e.message
                    ),
                );
                None
            }
        }
    }

    /// Keep each `signal_link(...)` of an expression for [`Self::check_links`];
    /// one in a trigger filter is refused here (there is no run yet).
    fn note_links(&mut self, node: &Node, at: usize, src: &str, scope: &Scope, path: &[String]) {
        for call in functions::calls(src) {
            if call.kind != CallKind::Function || call.name != LINK_FN {
                continue;
            }
            let span = self.span_in(node, at + call.offset, LINK_FN.len());
            if scope.filter {
                self.err("signal-link", span, path, "signal_link() makes a link for a run's wait; a trigger filter has no run");
                continue;
            }
            self.link_calls.push(LinkCall { span, path: path.to_vec(), texts: call.texts });
        }
    }

    /// Each `signal_link(signal, choice)` names a signal some `wait` of this
    /// flow waits for, and one of its choices, when they are written as
    /// text (an expression is checked when the run makes the link). In a
    /// helper flow the wait may be its caller's: only a wait of its own is
    /// checked against.
    fn check_links(&mut self, helper: bool) {
        let calls = std::mem::take(&mut self.link_calls);
        for c in calls {
            let (signal, choice) = match c.texts.as_slice() {
                [s] => (s, None),
                [s, ch] => (s, Some(ch)),
                _ => {
                    self.err("signal-link", c.span, &c.path, "signal_link() takes a signal's name and one of its choices: signal_link(\"approval\", \"approve\")");
                    continue;
                }
            };
            let Some(signal) = signal else { continue };
            let waits: Vec<Vec<String>> = self.signal_waits.iter().filter(|(n, _)| n == signal).map(|(_, c)| c.clone()).collect();
            if waits.is_empty() && helper {
                continue;
            }
            if waits.is_empty() {
                let mut names: Vec<String> = self.signal_waits.iter().map(|(n, _)| n.clone()).collect();
                names.sort();
                names.dedup();
                let d = self.err("signal-link", c.span, &c.path, format!("no `wait` in this flow waits for the `{signal}` signal, so its link could answer nothing"));
                d.help = Some(match names.as_slice() {
                    [] => format!("add a step such as `wait: {{ signal: {signal}, choices: [approve, reject], timeout: 2d }}` after the one that sends the link"),
                    _ => format!("the signals this flow waits for: {}", names.join(", ")),
                });
                continue;
            }
            let any_choice = waits.iter().any(|w| w.is_empty());
            let choices: Vec<&str> = waits.iter().flat_map(|w| w.iter().map(String::as_str)).collect();
            let listed = choices.join(", ");
            match choice {
                None if !any_choice => {
                    self.err("signal-link", c.span, &c.path, format!("the `{signal}` signal needs a choice: signal_link(\"{signal}\", \"{}\")", choices[0]))
                        .help = Some(format!("its choices: {listed}"));
                }
                Some(Some(ch)) if !any_choice && !choices.contains(&ch.as_str()) => {
                    let help = match did_you_mean(ch, choices.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`? Its choices: {listed}"),
                        None => format!("its choices: {listed}"),
                    };
                    self.err("signal-link", c.span, &c.path, format!("`{ch}` is not a choice of the `{signal}` signal")).help = Some(help);
                }
                _ => {}
            }
        }
    }

    /// A function, filter, test or method the expression environment does
    /// not have, at its name; `at` is where the expression starts in the
    /// node's text.
    fn unknown_call(&mut self, node: &Node, at: usize, call: &Call, path: &[String]) {
        let span = self.span_in(node, at + call.offset, call.name.len());
        let kind = call.kind.as_str();
        let code = match call.kind {
            CallKind::Function => "unknown-function",
            CallKind::Filter => "unknown-filter",
            CallKind::Test => "unknown-test",
            CallKind::Method => "unknown-method",
        };
        let hint = call
            .suggestion
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        let d = self.err(
            code,
            span,
            path,
            format!("unknown {kind} `{}`{hint}", call.name),
        );
        if call.suggestion.is_none() {
            d.help = Some(format!(
                "the {kind}s expressions can use are listed in FORMAT.md, \"Functions and filters\""
            ));
        }
    }

    /// Every name the expression reads must exist here. A name called as a
    /// function that does not exist is `unknown_call`'s to report.
    fn check_names(
        &mut self,
        e: &Expr,
        whole: Span,
        scope: &Scope,
        path: &[String],
        unknown: &[Call],
    ) {
        for name in e.names() {
            let mut parts = name.split('.');
            let root = parts.next().unwrap_or_default();
            let second = parts.next();
            let span = narrow(whole, e.source(), &name);
            if expr::is_function(root)
                || unknown
                    .iter()
                    .any(|c| c.kind == CallKind::Function && c.name == root)
            {
                continue;
            }
            if scope.filter {
                if root != "event" {
                    self.err(
                        "unknown-name",
                        span,
                        path,
                        format!("a trigger filter can only read `event`, not `{root}`"),
                    );
                }
                continue;
            }
            match root {
                "event" | "flow" => {}
                "error" => {
                    if !scope.error {
                        self.err(
                            "unknown-name",
                            span,
                            path,
                            "`error` is only defined inside `on_error` and `on_failure` steps",
                        );
                    }
                }
                "loop" => {
                    if !scope.in_loop {
                        self.err(
                            "unknown-name",
                            span,
                            path,
                            "`loop` is only defined inside `for_each` steps",
                        );
                    }
                }
                "inputs" => match (&self.helper_inputs, second) {
                    (None, _) => {
                        self.err(
                            "unknown-name",
                            span,
                            path,
                            "`inputs` is only defined in helper flows (`trigger: flow`) and in manual flows that declare inputs",
                        );
                    }
                    (Some(decl), Some(k)) if !decl.iter().any(|d| d == k) => {
                        let hint = suggestion(k, decl.iter().map(String::as_str));
                        self.err(
                            "unknown-name",
                            span,
                            path,
                            format!("the flow declares no input `{k}`{hint}"),
                        );
                    }
                    _ => {}
                },
                "vars" => {
                    if let (Some(k), false) = (second, scope.permissive)
                        && !scope.vars.contains(k)
                    {
                        let hint = suggestion(k, scope.vars.iter().map(|v| &**v));
                        self.err(
                            "not-yet-run",
                            span,
                            path,
                            format!("`vars.{k}` is not assigned on every path to here{hint}"),
                        );
                    }
                }
                _ if scope.loop_vars.iter().any(|v| &**v == root) => {}
                _ if scope.steps.contains(root) => {}
                _ if scope.permissive && (self.explicit_ids.contains_key(root)) => {}
                _ if self.explicit_ids.contains_key(root) => {
                    let msg = if self.seen_ids.contains(root) {
                        format!(
                            "step `{root}` does not run on every path to here (it is in a branch, a loop body or an error handler)"
                        )
                    } else {
                        format!("reference to step `{root}` that has not run yet")
                    };
                    self.err("not-yet-run", span, path, msg);
                }
                _ => {
                    let mut candidates: Vec<&str> = vec!["event", "flow", "vars"];
                    candidates.extend(scope.steps.iter().map(|s| &**s));
                    candidates.extend(scope.loop_vars.iter().map(|s| &**s));
                    if scope.error {
                        candidates.push("error");
                    }
                    if scope.in_loop {
                        candidates.push("loop");
                    }
                    if self.helper_inputs.is_some() {
                        candidates.push("inputs");
                    }
                    let hint = suggestion(root, candidates.iter().copied());
                    let hyphenated = self
                        .explicit_ids
                        .keys()
                        .find(|id| id.starts_with(&format!("{root}-")))
                        .cloned();
                    let d = self.err(
                        "unknown-name",
                        span,
                        path,
                        format!("unknown name `{root}`{hint}"),
                    );
                    if let Some(id) = hyphenated {
                        d.help = Some(format!(
                            "step ids with `-` cannot be read in expressions (`{id}` reads as a subtraction); name the step `{}`",
                            id.replace('-', "_")
                        ));
                    }
                }
            }
        }
    }

    // -- triggers ------------------------------------------------------------

    fn trigger(&mut self, node: &Node) -> Option<Trigger> {
        let top = &[] as &[String];
        const KINDS: [&str; 5] = ["okta", "schedule", "api", "flow", "manual"];
        match &node.kind {
            NodeKind::Str { text, .. } => {
                return match text.trim() {
                    "manual" => Some(Trigger::Manual(HelperTrigger { inputs: Vec::new() })),
                    "api" => Some(Trigger::Api(ApiTrigger { sync_timeout: None })),
                    "flow" => {
                        self.helper_inputs = Some(Vec::new());
                        Some(Trigger::Flow(HelperTrigger { inputs: Vec::new() }))
                    }
                    other => {
                        let d = self.err(
                            "trigger",
                            node.span,
                            top,
                            format!(
                                "unknown trigger `{other}`: use okta, schedule, api, flow or manual"
                            ),
                        );
                        if other.contains('.') {
                            d.help = Some(format!(
                                "for an Okta event write `trigger: {{ okta: {other} }}`"
                            ));
                        }
                        None
                    }
                };
            }
            NodeKind::Map(_) => {}
            _ => {
                self.err(
                    "trigger",
                    node.span,
                    top,
                    format!(
                        "`trigger` must be a mapping such as `okta: user.lifecycle.create`, not {}",
                        node.describe()
                    ),
                );
                return None;
            }
        }
        let entries = node.as_map()?;
        let kinds: Vec<&Key> = entries
            .iter()
            .filter(|(k, _)| KINDS.contains(&k.text.as_str()))
            .map(|(k, _)| k)
            .collect();
        let kind = match kinds.as_slice() {
            [k] => k.text.clone(),
            [] => {
                self.check_keys(entries, &KINDS, "`trigger`", top);
                if entries.is_empty() {
                    self.err(
                        "trigger",
                        node.span,
                        top,
                        "`trigger` is empty: use okta, schedule, api, flow or manual",
                    );
                }
                return None;
            }
            [_, second, ..] => {
                self.err(
                    "trigger",
                    second.span,
                    top,
                    format!(
                        "a flow has one trigger; found both `{}` and `{}`",
                        kinds[0].text, second.text
                    ),
                );
                return None;
            }
        };
        let value = get(entries, &kind).map(|(_, n)| n)?;
        match kind.as_str() {
            "okta" => {
                self.check_keys(
                    entries,
                    &["okta", "org", "filter", "include_own_events"],
                    "an `okta` trigger",
                    top,
                );
                self.okta_trigger(value, entries)
            }
            other => {
                self.check_keys(entries, &[other], &format!("a `{other}` trigger"), top);
                match other {
                    "schedule" => self.schedule(value),
                    "api" => self.api_trigger(value),
                    "flow" => self.inputs_trigger(value, "flow").map(Trigger::Flow),
                    _ => self.inputs_trigger(value, "manual").map(Trigger::Manual),
                }
            }
        }
    }

    fn okta_trigger(&mut self, value: &Node, entries: &Entries) -> Option<Trigger> {
        let top = &[] as &[String];
        let nodes: Vec<&Node> = match &value.kind {
            NodeKind::Seq(items) => items.iter().collect(),
            _ => vec![value],
        };
        if nodes.is_empty() {
            self.err(
                "event-type",
                value.span,
                top,
                "list at least one Okta event type",
            );
        }
        let mut event_types = Vec::new();
        let mut ok = true;
        for n in nodes {
            let Some(t) = self.expect_text(n, "an Okta event type", top) else {
                ok = false;
                continue;
            };
            let t = t.trim();
            if !lanyard_core::event::is_hook_event_type(t) {
                ok = false;
                let all = lanyard_core::event::hook_event_types();
                let hint = suggestion(t, all.iter().map(String::as_str));
                self.err(
                    "event-type",
                    n.span,
                    top,
                    format!("`{t}` is not an event type Okta delivers through Event Hooks{hint}"),
                );
            } else if !event_types.iter().any(|e| e == t) {
                event_types.push(t.to_string());
            }
        }
        let filter = match get(entries, "filter") {
            Some((_, n)) => {
                let scope = Scope {
                    filter: true,
                    ..Scope::default()
                };
                let f = self.condition(n, "filter", &scope, top);
                if f.is_none() {
                    ok = false;
                }
                f
            }
            None => None,
        };
        let include_own_events = match get(entries, "include_own_events") {
            Some((_, n)) => self
                .expect_bool(n, "`include_own_events`", top)
                .unwrap_or(false),
            None => false,
        };
        let org = match get(entries, "org") {
            Some((_, n)) => self.org_name(n, top),
            None => match self.orgs.default_org() {
                Some(o) => Some(o.to_string()),
                None => {
                    self.err(
                        "org",
                        value.span,
                        top,
                        format!(
                            "several Okta orgs are configured ({}), none named `default`: say whose events start this flow with `org:`",
                            self.orgs.listed()
                        ),
                    );
                    None
                }
            },
        };
        self.trigger_org = org.clone();
        self.trigger_org_failed = org.is_none();
        let org = org?;
        ok.then_some(Trigger::Okta(OktaTrigger {
            event_types,
            filter,
            include_own_events,
            org,
        }))
    }

    /// An `org:` value: the name of a configured Okta org.
    fn org_name(&mut self, node: &Node, path: &[String]) -> Option<String> {
        let name = self.expect_text(node, "`org`", path)?.trim().to_string();
        if self.orgs.contains(&name) {
            return Some(name);
        }
        let hint = suggestion(&name, self.orgs.names().iter().map(String::as_str));
        let known = if self.orgs.names().len() == 1 {
            format!("the one configured is {}", self.orgs.listed())
        } else {
            format!("configured: {}", self.orgs.listed())
        };
        self.err(
            "unknown-org",
            node.span,
            path,
            format!("no Okta org named `{name}` is configured ({known}){hint}"),
        );
        None
    }

    fn schedule(&mut self, value: &Node) -> Option<Trigger> {
        let top = &[] as &[String];
        let entries = self.expect_map(value, "`schedule`", top)?;
        self.check_keys(
            entries,
            &["cron", "timezone", "catch_up", "overlap"],
            "`schedule`",
            top,
        );
        let cron = match get(entries, "cron") {
            Some((_, n)) => {
                self.expect_text(n, "`cron`", top)
                    .and_then(|text| match parse_cron(text) {
                        Ok(c) => Some((text.trim().to_string(), c)),
                        Err(CronError::NeverFires(why)) => {
                            self.err("cron", n.span, top, why);
                            None
                        }
                        Err(CronError::Invalid(why)) => {
                            self.err("cron", n.span, top, why).help = Some(CRON_HELP.into());
                            None
                        }
                    })
            }
            None => {
                self.err("missing-key", value.span, top, "`schedule` needs `cron:`, for example \"0 9 * * 1-5\"");
                None
            }
        };
        let timezone = match get(entries, "timezone") {
            Some((_, n)) => self.expect_text(n, "`timezone`", top).and_then(|text| {
                match text.trim().parse::<chrono_tz::Tz>() {
                    Ok(tz) => Some(tz),
                    Err(_) => {
                        let hint = suggestion(
                            text.trim(),
                            chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()),
                        );
                        self.err(
                            "timezone",
                            n.span,
                            top,
                            format!("unknown time zone `{}`{hint}", text.trim()),
                        )
                        .help = Some(
                            "use an IANA name such as America/New_York, Europe/Berlin or UTC"
                                .into(),
                        );
                        None
                    }
                }
            }),
            None => {
                self.err(
                    "missing-key",
                    value.span,
                    top,
                    "`schedule` needs `timezone:` (an IANA name such as America/New_York, or UTC)",
                );
                None
            }
        };
        let catch_up_explicit = get(entries, "catch_up").is_some();
        let catch_up = match get(entries, "catch_up") {
            Some((_, n)) => match n.as_str() {
                Some("skip") => CatchUp::Skip,
                Some("once") => CatchUp::Once,
                _ => {
                    self.err("type", n.span, top, "`catch_up` is `skip` or `once`");
                    CatchUp::Skip
                }
            },
            None => CatchUp::Skip,
        };
        let overlap = match get(entries, "overlap") {
            Some((_, n)) => self.expect_bool(n, "`overlap`", top).unwrap_or(false),
            None => false,
        };
        let (cron, compiled) = cron?;
        Some(Trigger::Schedule(Box::new(Schedule {
            cron,
            timezone: timezone?,
            catch_up,
            catch_up_explicit,
            overlap,
            compiled,
        })))
    }

    fn api_trigger(&mut self, value: &Node) -> Option<Trigger> {
        let top = &[] as &[String];
        if value.is_null() {
            return Some(Trigger::Api(ApiTrigger { sync_timeout: None }));
        }
        let entries = self.expect_map(value, "`api`", top)?;
        self.check_keys(entries, &["sync_timeout"], "`api`", top);
        let sync_timeout = match get(entries, "sync_timeout") {
            Some((_, n)) => {
                let d = self.expect_duration(n, "`sync_timeout`", top)?;
                if d > Duration::from_secs(60) {
                    self.err(
                        "range",
                        n.span,
                        top,
                        "`sync_timeout` is at most 60s; longer runs answer 202 and are polled",
                    );
                    return None;
                }
                Some(d)
            }
            None => None,
        };
        Some(Trigger::Api(ApiTrigger { sync_timeout }))
    }

    /// The declared inputs of a `flow` (helper) or `manual` trigger. A
    /// helper always reads `inputs`; a manual flow only when it declares some
    /// (else its input is its event, as before).
    fn inputs_trigger(&mut self, value: &Node, kind: &str) -> Option<HelperTrigger> {
        let top = &[] as &[String];
        let mut inputs = Vec::new();
        if kind == "flow" {
            self.helper_inputs = Some(Vec::new());
        }
        if value.is_null() {
            return Some(HelperTrigger { inputs });
        }
        let entries = self.expect_map(value, &format!("`{kind}`"), top)?;
        self.check_keys(entries, &["inputs"], &format!("a `{kind}` trigger"), top);
        if let Some((_, n)) = get(entries, "inputs") {
            let decl = self.expect_map(n, "`inputs`", top)?;
            for (k, spec) in decl {
                if !is_identifier(&k.text) {
                    self.err(
                        "bad-id",
                        k.span,
                        top,
                        format!("input name `{}` must be letters, digits and `_`", k.text),
                    );
                    continue;
                }
                let mut input = InputSpec {
                    name: k.text.clone(),
                    ty: InputType::Any,
                    required: true,
                    default: None,
                    description: None,
                };
                match &spec.kind {
                    NodeKind::Null => {}
                    NodeKind::Str { text, .. } => match InputType::parse(text) {
                        Some(t) => input.ty = t,
                        None => {
                            self.err("type", spec.span, top, format!("unknown input type `{text}` (string, number, integer, boolean, object, array or any)"));
                        }
                    },
                    NodeKind::Map(m) => {
                        self.check_keys(
                            m,
                            &["type", "required", "default", "description"],
                            "an input",
                            top,
                        );
                        if let Some((_, t)) = get(m, "type") {
                            match t.as_str().and_then(InputType::parse) {
                                Some(ty) => input.ty = ty,
                                None => {
                                    self.err("type", t.span, top, "input `type` is string, number, integer, boolean, object, array or any");
                                }
                            }
                        }
                        if let Some((_, d)) = get(m, "default") {
                            input.default = Some(d.to_json());
                            input.required = false;
                        }
                        if let Some((_, r)) = get(m, "required") {
                            input.required = self.expect_bool(r, "`required`", top).unwrap_or(true);
                        }
                        if let Some((_, d)) = get(m, "description") {
                            input.description = d.as_str().map(str::to_string);
                        }
                        if let Some(def) = &input.default
                            && !input.ty.accepts(def)
                        {
                            self.err(
                                "type",
                                spec.span,
                                top,
                                format!(
                                    "the default of `{}` is not of type {}",
                                    k.text,
                                    input.ty.as_str()
                                ),
                            );
                        }
                    }
                    _ => {
                        self.err(
                            "type",
                            spec.span,
                            top,
                            "an input is a type name or `{ type, required, default, description }`",
                        );
                    }
                }
                inputs.push(input);
            }
        }
        if kind == "flow" || !inputs.is_empty() {
            self.helper_inputs = Some(inputs.iter().map(|i| i.name.clone()).collect());
        }
        Some(HelperTrigger { inputs })
    }
}
