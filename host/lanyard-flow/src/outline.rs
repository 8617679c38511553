//! The builder's diagram model of a compiled flow: the trigger in words, and
//! every step as a box with its journal path, its place in the YAML document,
//! a short summary, its key inputs as written and the names an expression at
//! that point may read, with branches, loops and error paths nested.
//!
//! Built from a [`Flow`] alone (everything it needs the compiler kept), so the
//! loaded flow and a draft just checked are outlined the same way. It only
//! describes: it never changes a flow and knows nothing of where the text is
//! stored or how the browser draws it. Time comes in as an argument (the next
//! fire times of a schedule), as everywhere in this crate.

use crate::expr::Template;
use crate::model::{
    CardVersion, Flow, InputSpec, Items, Retry, Schedule, Step, StepKind, Trigger, WaitStep, WaitUntil, format_duration,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::time::Duration;

/// How many `with` entries a box shows.
pub const MAX_INPUTS: usize = 4;
/// The longest input text a box shows, in characters.
pub const MAX_INPUT_CHARS: usize = 80;
/// The longest summary, in characters.
const MAX_SUMMARY_CHARS: usize = 60;
/// How many next fire times a schedule shows.
pub const NEXT_FIRES: usize = 3;

/// One flow as the builder draws it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outline {
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub file: String,
    pub trigger: TriggerBox,
    pub steps: Vec<Node>,
    pub on_failure: Vec<Node>,
}

/// The trigger, in words and in parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TriggerBox {
    /// okta, schedule, api, flow or manual.
    pub kind: &'static str,
    /// `When a user is deactivated in Okta`.
    pub words: String,
    pub event_types: Vec<String>,
    /// The filter's expression text.
    pub filter: Option<String>,
    pub schedule: Option<SchedulePreview>,
    /// A helper flow's declared inputs.
    pub inputs: Option<Vec<InputBox>>,
    pub line: u32,
}

/// A schedule in words with its next fire times.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchedulePreview {
    pub cron: String,
    pub timezone: String,
    /// `Every weekday at 09:00 (America/New_York)`.
    pub words: String,
    /// RFC 3339, UTC.
    pub next: Vec<String>,
}

/// One declared input of a helper flow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputBox {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: &'static str,
    pub required: bool,
    pub description: Option<String>,
    pub default: Option<serde_json::Value>,
}

/// A key or an index on the way from the document root to a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum YamlKey {
    Key(String),
    Index(usize),
}

impl From<&str> for YamlKey {
    fn from(s: &str) -> Self {
        YamlKey::Key(s.to_string())
    }
}

impl From<usize> for YamlKey {
    fn from(i: usize) -> Self {
        YamlKey::Index(i)
    }
}

/// One step's box.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    /// The journal path with loop indices (`[i]`) removed.
    pub path: String,
    /// Keys and indices from the document root to the step's mapping.
    pub yaml: Vec<YamlKey>,
    pub id: String,
    pub id_given: bool,
    /// card, if, switch, for_each, assign, return, stop, fail or call.
    pub kind: &'static str,
    pub description: Option<String>,
    /// Short words for the box: `Okta: Clear sessions`, `If manager.found`.
    pub summary: String,
    pub card: Option<String>,
    /// The version the step asks for (a range or a digest), if any.
    pub card_version: Option<String>,
    /// The helper flow a `call` step runs.
    pub call: Option<String>,
    pub inputs: Vec<InputText>,
    pub retry: Option<String>,
    pub line: u32,
    pub col: u32,
    /// return, stop and fail end the flow.
    pub ends: bool,
    /// The names an expression in this step may read.
    pub scope: Vec<String>,
    pub branches: Vec<Branch>,
}

/// One `with` entry as written (cut to [`MAX_INPUT_CHARS`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputText {
    pub key: String,
    pub text: String,
}

/// A nested list of steps: then/else, a case, the default, a loop body, an
/// error handler.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Branch {
    pub label: String,
    /// then, else, case, default, loop or on_error.
    pub role: &'static str,
    /// Keys and indices from the document root to the branch's list (which may
    /// not be written yet: an `if` without `else`).
    pub yaml: Vec<YamlKey>,
    pub steps: Vec<Node>,
}

/// The outline of a compiled flow; `now` is when the next schedule fires are
/// counted from.
pub fn outline(flow: &Flow, now: DateTime<Utc>) -> Outline {
    let helper = flow.declared_inputs().is_some();
    let steps = nodes(&flow.steps, "", &[YamlKey::from("steps")], helper);
    let on_failure = nodes(
        &flow.on_failure,
        "on_failure",
        &[YamlKey::from("on_failure")],
        helper,
    );
    Outline {
        name: flow.name.clone(),
        description: flow.description.clone(),
        enabled: flow.enabled,
        file: flow.file.clone(),
        trigger: trigger_box(flow, now),
        steps,
        on_failure,
    }
}

fn trigger_box(flow: &Flow, now: DateTime<Utc>) -> TriggerBox {
    let mut b = TriggerBox {
        kind: flow.trigger.kind(),
        words: String::new(),
        event_types: Vec::new(),
        filter: None,
        schedule: None,
        inputs: None,
        line: flow.trigger_span.start.line,
    };
    match &flow.trigger {
        Trigger::Okta(t) => {
            b.words =
                lanyard_core::event_catalog::trigger_words(&t.event_types, t.filter.is_some());
            b.event_types = t.event_types.clone();
            b.filter = t.filter.as_ref().map(|f| f.source().to_string());
        }
        Trigger::Schedule(s) => {
            let p = preview(s, now);
            b.words = p.words.clone();
            b.schedule = Some(p);
        }
        Trigger::Api(a) => {
            b.words = match a.sync_timeout {
                Some(t) => format!(
                    "When an API client invokes it (answering with its output within {})",
                    format_duration(t)
                ),
                None => "When an API client invokes it".into(),
            };
        }
        Trigger::Flow(h) => {
            b.words = "When another flow calls it".into();
            b.inputs = Some(h.inputs.iter().map(input_box).collect());
        }
        Trigger::Manual(h) => {
            b.words = if h.inputs.is_empty() {
                "When someone runs it by hand (Run now, or `lanyard run`)".into()
            } else {
                "When someone runs it by hand, filling in its form (Run now, or `lanyard run`)".into()
            };
            if !h.inputs.is_empty() {
                b.inputs = Some(h.inputs.iter().map(input_box).collect());
            }
        }
    }
    b
}

fn input_box(i: &InputSpec) -> InputBox {
    InputBox {
        name: i.name.clone(),
        ty: i.ty.as_str(),
        required: i.required,
        description: i.description.clone(),
        default: i.default.clone(),
    }
}

fn nodes(steps: &[Step], parent: &str, yaml: &[YamlKey], helper: bool) -> Vec<Node> {
    steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut at = yaml.to_vec();
            at.push(YamlKey::Index(i));
            node(s, parent, at, helper)
        })
        .collect()
}

fn join(parent: &str, id: &str) -> String {
    if parent.is_empty() {
        id.to_string()
    } else {
        format!("{parent}/{id}")
    }
}

fn under(yaml: &[YamlKey], keys: &[&str]) -> Vec<YamlKey> {
    let mut v = yaml.to_vec();
    v.extend(keys.iter().map(|k| YamlKey::from(*k)));
    v
}

fn node(step: &Step, parent: &str, yaml: Vec<YamlKey>, helper: bool) -> Node {
    let path = join(parent, &step.id);
    let mut n = Node {
        path: path.clone(),
        yaml: yaml.clone(),
        id: step.id.to_string(),
        id_given: step.id_given,
        kind: step.kind_name(),
        description: step.description.clone(),
        summary: String::new(),
        card: None,
        card_version: None,
        call: None,
        inputs: Vec::new(),
        retry: None,
        line: step.span.start.line,
        col: step.span.start.col,
        ends: matches!(
            step.kind,
            StepKind::Return(_) | StepKind::Stop(_) | StepKind::Fail(_)
        ),
        scope: scope(step, helper),
        branches: Vec::new(),
    };
    // Branch bodies run under the step's own path (the interpreter passes it
    // down), loop bodies under `path[i]`, whose index the outline drops.
    let body = |label: String, role: &'static str, keys: &[&str], steps: &[Step]| {
        let at = under(&yaml, keys);
        Branch {
            label,
            role,
            steps: nodes(steps, &path, &at, helper),
            yaml: at,
        }
    };
    match &step.kind {
        StepKind::Card(c) => {
            n.summary = card_summary(&c.card.name);
            n.card = Some(c.card.name.clone());
            n.card_version = match &c.card.version {
                CardVersion::Latest => None,
                CardVersion::Req(r) => Some(r.to_string()),
                CardVersion::Digest(d) => Some(format!("sha256:{d}")),
            };
            n.inputs = inputs(&c.with);
            n.retry = c.retry.as_ref().map(retry_words);
        }
        StepKind::If(i) => {
            n.summary = cut(&format!("If {}", i.cond.source()), MAX_SUMMARY_CHARS);
            n.branches
                .push(body("Then".into(), "then", &["then"], &i.then));
            n.branches
                .push(body("Else".into(), "else", &["else"], &i.otherwise));
        }
        StepKind::Switch(sw) => {
            n.summary = cut(
                &format!("Switch on {}", sw.subject.source()),
                MAX_SUMMARY_CHARS,
            );
            for c in &sw.cases {
                n.branches.push(body(
                    format!("Case “{}”", c.value),
                    "case",
                    &["cases", &c.value],
                    &c.steps,
                ));
            }
            n.branches.push(body(
                "Otherwise".into(),
                "default",
                &["default"],
                &sw.default,
            ));
        }
        StepKind::ForEach(f) => {
            let over = match &f.items {
                Items::List(t) => template_text(t),
                Items::Pages(c) => format!("the pages of {}", c.card.name),
            };
            n.summary = cut(&format!("For each {} in {over}", f.var), MAX_SUMMARY_CHARS);
            n.branches.push(body(
                format!("For each {}", f.var),
                "loop",
                &["steps"],
                &f.steps,
            ));
        }
        StepKind::Assign(values) => {
            let names: Vec<String> = values.iter().map(|(k, _)| format!("vars.{k}")).collect();
            n.summary = cut(&format!("Set {}", names.join(", ")), MAX_SUMMARY_CHARS);
            n.inputs = values
                .iter()
                .take(MAX_INPUTS)
                .map(|(k, t)| InputText {
                    key: k.to_string(),
                    text: cut(&template_text(t), MAX_INPUT_CHARS),
                })
                .collect();
        }
        StepKind::Return(t) => {
            n.summary = "Return".into();
            n.inputs = inputs(t);
        }
        StepKind::Stop(reason) => {
            n.summary = match reason {
                Some(r) => cut(&format!("Stop: {}", template_text(r)), MAX_SUMMARY_CHARS),
                None => "Stop".into(),
            };
        }
        StepKind::Fail(t) => {
            n.summary = cut(&format!("Fail: {}", template_text(t)), MAX_SUMMARY_CHARS);
        }
        StepKind::Call(c) => {
            let how = if c.wait { "" } else { ", without waiting" };
            n.summary = cut(&format!("Call flow “{}”{how}", c.flow), MAX_SUMMARY_CHARS);
            n.call = Some(c.flow.clone());
            n.inputs = inputs(&c.with);
        }
        StepKind::Wait(w) => n.summary = cut(&wait_words(w), MAX_SUMMARY_CHARS),
    }
    if let Some(h) = &step.on_error {
        let at = under(&yaml, &["on_error"]);
        n.branches.push(Branch {
            label: "On error".into(),
            role: "on_error",
            steps: nodes(h, &join(&path, "on_error"), &at, helper),
            yaml: at,
        });
    }
    n
}

/// A `wait` step in words: `Wait 3d`, `Wait until …`, `Wait for the
/// “approval” signal (approve or reject), at most 2d`.
fn wait_words(w: &WaitStep) -> String {
    match &w.until {
        WaitUntil::For(d) => format!("Wait {}", format_duration(*d)),
        WaitUntil::Time(t) => format!("Wait until {}", template_text(t)),
        WaitUntil::Signal { name, choices } => {
            let mut text = format!("Wait for the “{name}” signal");
            if !choices.is_empty() {
                text.push_str(&format!(" ({})", choices.join(" or ")));
            }
            if let Some(t) = w.timeout {
                text.push_str(&format!(", at most {}", format_duration(t)));
            }
            text
        }
    }
}

/// `okta.clear-sessions` → `Okta: Clear sessions`.
fn card_summary(card: &str) -> String {
    let (group, rest) = card.split_once('.').unwrap_or(("", card));
    let group = card_group_name(group);
    let rest = capitalise(&rest.replace(['-', '_', '.'], " "));
    cut(&format!("{group}: {rest}"), MAX_SUMMARY_CHARS)
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(f) => f.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The palette group of a card by its name's first part: Okta, Slack, Mail,
/// HTTP, Tables, or Custom for everything else.
pub fn card_group(card: &str) -> &'static str {
    match card.split('.').next().unwrap_or("") {
        "okta" => "Okta",
        "slack" => "Slack",
        "mail" => "Mail",
        "http" => "HTTP",
        "tables" => "Tables",
        _ => "Custom",
    }
}

fn card_group_name(prefix: &str) -> String {
    match card_group(&format!("{prefix}.")) {
        "Custom" => capitalise(prefix),
        g => g.to_string(),
    }
}

fn inputs(with: &Template) -> Vec<InputText> {
    let entries: Vec<(String, String)> = match with {
        Template::Map(entries) => entries
            .iter()
            .map(|(k, t)| (k.to_string(), template_text(t)))
            .collect(),
        Template::Lit {
            json: serde_json::Value::Object(m),
            ..
        } => m.iter().map(|(k, v)| (k.clone(), json_text(v))).collect(),
        Template::Lit {
            json: serde_json::Value::Null,
            ..
        } => Vec::new(),
        other => vec![(String::new(), template_text(other))],
    };
    entries
        .into_iter()
        .take(MAX_INPUTS)
        .map(|(key, text)| InputText {
            key,
            text: cut(&text, MAX_INPUT_CHARS),
        })
        .collect()
}

/// A value as the file says it: text as it is, `{{ expr }}`, structures as
/// compact JSON with their expressions in braces.
fn template_text(t: &Template) -> String {
    match t {
        Template::Lit { json, .. } => json_text(json),
        Template::Expr(e) => format!("{{{{ {} }}}}", e.source()),
        Template::Text { src, .. } => src.to_string(),
        Template::List(_) | Template::Map(_) => serde_json::to_string(t).unwrap_or_default(),
    }
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn cut(s: &str, max: usize) -> String {
    // A box shows one line: line breaks and runs of spaces read as one space.
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let mut out: String = one_line.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

/// `3 attempts, 2s backoff` (and the cap, when it is not the default).
fn retry_words(r: &Retry) -> String {
    let mut s = format!(
        "{} attempts, {} backoff",
        r.attempts,
        format_duration(r.backoff)
    );
    let default_cap = r.backoff.max(Duration::from_secs(60));
    if r.max_backoff != default_cap {
        s.push_str(&format!(
            ", at most {} apart",
            format_duration(r.max_backoff)
        ));
    }
    s
}

fn scope(step: &Step, helper: bool) -> Vec<String> {
    let k = &step.known;
    let mut out: Vec<String> = vec!["event".into(), "flow".into(), "vars".into()];
    if helper {
        out.push("inputs".into());
    }
    if k.error {
        out.push("error".into());
    }
    // A hyphenated id reads as a subtraction in an expression: not offered.
    out.extend(
        k.steps
            .iter()
            .filter(|id| !id.contains('-'))
            .map(|id| id.to_string()),
    );
    out.extend(k.loop_vars.iter().map(|v| v.to_string()));
    if k.in_loop {
        out.push("loop".into());
    }
    out
}

// ---------------------------------------------------------------------------
// Schedules in words

/// The words and next fire times of a cron pattern in a time zone, as the
/// new-flow form shows them while the admin types. The error is one line.
pub fn schedule_preview(
    cron: &str,
    timezone: &str,
    now: DateTime<Utc>,
) -> Result<SchedulePreview, String> {
    Ok(preview(&Schedule::parse(cron, timezone)?, now))
}

fn preview(s: &Schedule, now: DateTime<Utc>) -> SchedulePreview {
    let mut next = Vec::new();
    let mut t = now;
    while next.len() < NEXT_FIRES {
        match s.next_fire_after(t) {
            Some(n) => {
                next.push(n.to_rfc3339_opts(SecondsFormat::Secs, true));
                t = n;
            }
            None => break,
        }
    }
    SchedulePreview {
        cron: s.cron.clone(),
        timezone: s.timezone.name().to_string(),
        words: schedule_words(&s.cron, s.timezone.name()),
        next,
    }
}

/// `Every weekday at 09:00 (America/New_York)`; patterns without plain words
/// read `On cron `…` (zone)`.
pub fn schedule_words(cron: &str, timezone: &str) -> String {
    let phrase = cron_phrase(cron).unwrap_or_else(|| format!("On cron `{}`", cron.trim()));
    format!("{phrase} ({timezone})")
}

const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn cron_phrase(cron: &str) -> Option<String> {
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let fields = match fields.as_slice() {
        [sec, rest @ ..] if rest.len() == 5 => {
            if *sec != "0" {
                return None;
            }
            rest.to_vec()
        }
        f if f.len() == 5 => f.to_vec(),
        _ => return None,
    };
    let [min, hour, dom, month, dow] = [fields[0], fields[1], fields[2], fields[3], fields[4]];
    let any = |f: &str| f == "*" || f == "?";
    // Sub-daily patterns, every day.
    if any(dom) && any(month) && any(dow) {
        if any(min) && any(hour) {
            return Some("Every minute".into());
        }
        if let Some(n) = step_of(min)
            && any(hour)
        {
            return Some(if n == 1 {
                "Every minute".into()
            } else {
                format!("Every {n} minutes")
            });
        }
        if let Some(m) = single(min, 59) {
            if any(hour) {
                return Some(format!("Every hour at :{m:02}"));
            }
            if let Some(n) = step_of(hour) {
                return Some(if n == 1 {
                    format!("Every hour at :{m:02}")
                } else {
                    format!("Every {n} hours at :{m:02}")
                });
            }
        }
    }
    let m = single(min, 59)?;
    let hours = numbers(hour, 23)?;
    let times: Vec<String> = hours.iter().map(|h| format!("{h:02}:{m:02}")).collect();
    let at = and_list(&times);
    if any(dom) && any(month) {
        let days = weekdays(dow)?;
        return Some(match days.as_slice() {
            d if d.len() == 7 => format!("Every day at {at}"),
            [1, 2, 3, 4, 5] => format!("Every weekday at {at}"),
            [6, 0] => format!("Every weekend day at {at}"),
            d => {
                let names: Vec<String> = d.iter().map(|i| DAYS[*i].to_string()).collect();
                format!("Every {} at {at}", and_list(&names))
            }
        });
    }
    if !any(dow) {
        return None;
    }
    let days = numbers(dom, 31)?;
    if days.contains(&0) {
        return None;
    }
    let ordinals: Vec<String> = days.iter().map(|d| ordinal(*d)).collect();
    if any(month) {
        return Some(format!(
            "On the {} of every month at {at}",
            and_list(&ordinals)
        ));
    }
    let months = numbers(month, 12)?;
    if months.contains(&0) || days.len() != 1 {
        return None;
    }
    let names: Vec<String> = months
        .iter()
        .map(|mo| format!("{} {}", MONTHS[*mo as usize - 1], days[0]))
        .collect();
    Some(format!("Every year on {} at {at}", and_list(&names)))
}

/// `*/n` or `0/n`.
fn step_of(f: &str) -> Option<u32> {
    let (base, n) = f.split_once('/')?;
    if base != "*" && base != "0" {
        return None;
    }
    n.parse().ok().filter(|n| *n > 0)
}

fn single(f: &str, max: u32) -> Option<u32> {
    f.parse().ok().filter(|n| *n <= max)
}

/// `9` or `9,17`: plain numbers only.
fn numbers(f: &str, max: u32) -> Option<Vec<u32>> {
    let mut v: Vec<u32> = f
        .split(',')
        .map(|p| single(p, max))
        .collect::<Option<_>>()?;
    v.sort_unstable();
    v.dedup();
    Some(v)
}

/// Days of the week (0 = Sunday) from `*`, numbers, names and ranges.
fn weekdays(f: &str) -> Option<Vec<usize>> {
    if f == "*" || f == "?" {
        return Some((0..7).collect());
    }
    let day = |s: &str| -> Option<usize> {
        let names = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
        let s = s.trim();
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Some(i);
        }
        match s.parse::<usize>().ok()? {
            7 => Some(0),
            n if n < 7 => Some(n),
            _ => None,
        }
    };
    let mut out = Vec::new();
    for part in f.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                // `5-7` is Friday to Sunday: 7 parsed as 0.
                let b = if b == 0 && a > 0 { 7 } else { b };
                if a > b {
                    return None;
                }
                out.extend((a..=b).map(|d| d % 7));
            }
            None => out.push(day(part)?),
        }
    }
    // Monday first, as people list them.
    out.sort_unstable_by_key(|d| (d + 6) % 7);
    out.dedup();
    Some(out)
}

fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn schedules_read_in_words() {
        let cases = [
            (
                "0 9 * * 1-5",
                "America/New_York",
                "Every weekday at 09:00 (America/New_York)",
            ),
            ("0 8 * * *", "UTC", "Every day at 08:00 (UTC)"),
            (
                "30 7 * * 1",
                "Europe/Berlin",
                "Every Monday at 07:30 (Europe/Berlin)",
            ),
            (
                "0 9 * * MON,THU",
                "UTC",
                "Every Monday and Thursday at 09:00 (UTC)",
            ),
            ("0 10 * * 0,6", "UTC", "Every weekend day at 10:00 (UTC)"),
            ("0 9,17 * * *", "UTC", "Every day at 09:00 and 17:00 (UTC)"),
            ("0 0 9 * * *", "UTC", "Every day at 09:00 (UTC)"),
            ("*/15 * * * *", "UTC", "Every 15 minutes (UTC)"),
            ("5 * * * *", "UTC", "Every hour at :05 (UTC)"),
            ("0 */6 * * *", "UTC", "Every 6 hours at :00 (UTC)"),
            (
                "0 6 1 * *",
                "UTC",
                "On the 1st of every month at 06:00 (UTC)",
            ),
            (
                "0 6 1,15 * *",
                "UTC",
                "On the 1st and 15th of every month at 06:00 (UTC)",
            ),
            (
                "0 12 25 12 *",
                "UTC",
                "Every year on December 25 at 12:00 (UTC)",
            ),
            (
                "0 9 * * 5-7",
                "UTC",
                "Every Friday, Saturday and Sunday at 09:00 (UTC)",
            ),
            ("0 9 1-7 * 1", "UTC", "On cron `0 9 1-7 * 1` (UTC)"),
            ("15 9 * * 1#2", "UTC", "On cron `15 9 * * 1#2` (UTC)"),
            ("30 0 9 * * *", "UTC", "On cron `30 0 9 * * *` (UTC)"),
        ];
        for (cron, tz, words) in cases {
            assert_eq!(schedule_words(cron, tz), words, "{cron}");
        }
    }

    #[test]
    fn next_fires_keep_local_time_across_zones() {
        // Friday 4 December 2026, 15:00 UTC. New York is on EST (UTC-5) in
        // December, so 09:00 there is 14:00 UTC; the weekend is skipped.
        let p = schedule_preview(
            "0 9 * * 1-5",
            "America/New_York",
            at("2026-12-04T15:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            p.next,
            [
                "2026-12-07T14:00:00Z",
                "2026-12-08T14:00:00Z",
                "2026-12-09T14:00:00Z"
            ]
        );
        assert_eq!(p.words, "Every weekday at 09:00 (America/New_York)");
        // Across the spring change (8 March 2026): 09:00 EDT is 13:00 UTC.
        let p =
            schedule_preview("0 9 * * *", "America/New_York", at("2026-03-07T15:00:00Z")).unwrap();
        assert_eq!(p.next[0], "2026-03-08T13:00:00Z");
    }

    #[test]
    fn a_bad_schedule_is_one_line_with_the_reason() {
        let e = schedule_preview("0 9 * *", "UTC", Utc::now()).unwrap_err();
        assert!(e.starts_with("invalid cron `0 9 * *`"), "{e}");
        let e = schedule_preview("0 0 30 2 *", "UTC", Utc::now()).unwrap_err();
        assert_eq!(e, "cron `0 0 30 2 *` never fires");
        let e = schedule_preview("0 9 * * *", "Mars/Olympus", Utc::now()).unwrap_err();
        assert!(e.starts_with("unknown time zone `Mars/Olympus`"), "{e}");
    }

    #[test]
    fn cards_summarise_and_group() {
        assert_eq!(card_summary("okta.clear-sessions"), "Okta: Clear sessions");
        assert_eq!(card_summary("acme.jamf-offboard"), "Acme: Jamf offboard");
        assert_eq!(card_group("http.request"), "HTTP");
        assert_eq!(card_group("acme.jamf-offboard"), "Custom");
        assert_eq!(cut("abcdef", 4), "abc…");
    }
}
