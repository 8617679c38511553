//! The compiled flow: what the interpreter and the daemon use.
//!
//! A [`Flow`] only comes out of [`crate::compile`], so everything in it has been
//! checked: card references parse, step ids are unique, every expression compiles
//! and reads only names that exist where it runs, cron and time zone are valid.
//! Nothing here parses or reports; it only describes.

use crate::diag::Span;
use crate::expr::{Expr, ExprError, Template};
pub use lanyard_core::LimitOverrides;
pub(crate) use lanyard_core::units::format_duration;
use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// One validated flow.
#[derive(Debug, Serialize)]
pub struct Flow {
    pub name: String,
    pub description: String,
    /// `enabled:` (absent is `true`). An off flow keeps its file and stays
    /// loaded (Run now, `lanyard run`, tests and `call` still reach it), but
    /// no trigger starts it: the daemon checks this where events, schedule
    /// fires and invokes would start a run. Serialized only when off, as written.
    #[serde(skip_serializing_if = "is_on")]
    pub enabled: bool,
    /// `keep_step_data:` (absent is `true`). When `false`, a run's step
    /// inputs and outputs (personal data, often) are dropped from the history
    /// when the run ends; the steps, their errors and logs stay, marked as
    /// withheld. The event stays (it is what a re-run runs again).
    #[serde(skip_serializing_if = "is_on")]
    pub keep_step_data: bool,
    /// The file it came from, as given to the compiler.
    pub file: String,
    /// sha256 (hex) of the file's text: `RunRecord::flow_digest`.
    #[serde(skip)]
    pub digest: String,
    pub trigger: Trigger,
    pub steps: Vec<Step>,
    /// Steps run after the flow failed, with `error` in scope.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub on_failure: Vec<Step>,
    #[serde(skip)]
    pub(crate) slots: Arc<Slots>,
    #[serde(skip)]
    pub(crate) call_sites: Vec<CallSite>,
    /// Where the name is written, for "name already used" across files.
    #[serde(skip)]
    pub(crate) name_span: Span,
    /// Where `trigger:` is written (the builder's trigger box).
    #[serde(skip)]
    pub(crate) trigger_span: Span,
}

fn is_on(enabled: &bool) -> bool {
    *enabled
}

impl Flow {
    /// The names of the helper flows this flow calls (directly).
    pub fn calls(&self) -> impl Iterator<Item = &str> {
        self.call_sites.iter().map(|c| c.flow.as_str())
    }

    /// Whether this is a helper flow (`trigger: flow`).
    pub fn is_helper(&self) -> bool {
        matches!(self.trigger, Trigger::Flow(_))
    }

    /// The inputs the flow declares, checked and read as `inputs` when it
    /// runs: a helper's, or a manual flow's typed inputs (its form in the
    /// console). None for every other flow, whose input is its event.
    pub fn declared_inputs(&self) -> Option<&HelperTrigger> {
        match &self.trigger {
            Trigger::Flow(h) => Some(h),
            Trigger::Manual(h) if !h.inputs.is_empty() => Some(h),
            _ => None,
        }
    }

    /// Every step, depth first in document order (bodies and handlers included).
    pub fn walk(&self) -> Vec<&Step> {
        fn go<'a>(steps: &'a [Step], out: &mut Vec<&'a Step>) {
            for s in steps {
                out.push(s);
                for child in s.children() {
                    go(child, out);
                }
            }
        }
        let mut out = Vec::new();
        go(&self.steps, &mut out);
        go(&self.on_failure, &mut out);
        out
    }
}

/// Step id → scope slot. Built by the compiler; the run's scope is a vector.
#[derive(Debug, Default)]
pub(crate) struct Slots {
    pub(crate) by_name: HashMap<Arc<str>, usize>,
}

impl Slots {
    pub(crate) fn len(&self) -> usize {
        self.by_name.len()
    }
}

/// A `call` in this flow, kept for checks across flows (does the helper exist,
/// are its inputs given, is there a cycle).
#[derive(Debug, Clone)]
pub(crate) struct CallSite {
    pub(crate) flow: String,
    pub(crate) span: Span,
    /// The keys of `with`, if it is a mapping written out in the file.
    pub(crate) keys: Option<Vec<(String, Span)>>,
    pub(crate) with_span: Span,
    pub(crate) step: String,
}

/// One step.
#[derive(Debug)]
pub struct Step {
    /// The explicit `id:`, or a generated `<kind>-<n>`.
    pub id: Arc<str>,
    /// Whether the file gives the id (`id:`) rather than the compiler.
    pub id_given: bool,
    pub description: Option<String>,
    pub kind: StepKind,
    pub on_error: Option<Vec<Step>>,
    /// Where the step starts in the file.
    pub span: Span,
    pub(crate) slot: usize,
    /// What an expression at the start of this step may read, as the compiler
    /// worked it out (for the builder's field picker).
    pub(crate) known: Arc<Known>,
}

/// The names in scope where a step starts, beyond `event`, `flow` and `vars`.
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// Step ids that have completed on every path to here, in document order.
    pub(crate) steps: Vec<Arc<str>>,
    pub(crate) loop_vars: Vec<Arc<str>>,
    pub(crate) in_loop: bool,
    /// In `on_error` or `on_failure`.
    pub(crate) error: bool,
}

/// Serialized the way it is written: `{ id, card, with, retry, on_error }`,
/// `{ id, if, then, else }`, ... (for snapshots and the admin API).
impl Serialize for Step {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Pairs<'a>(&'a [(Arc<str>, Template)]);
        impl Serialize for Pairs<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter().map(|(k, v)| (&**k, v)))
            }
        }
        struct Cases<'a>(&'a [Case]);
        impl Serialize for Cases<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter().map(|c| (&c.value, &c.steps)))
            }
        }
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &*self.id)?;
        if let Some(d) = &self.description {
            m.serialize_entry("description", d)?;
        }
        match &self.kind {
            StepKind::Card(c) => {
                m.serialize_entry("card", &c.card)?;
                m.serialize_entry("with", &c.with)?;
                if let Some(r) = &c.retry {
                    m.serialize_entry("retry", r)?;
                }
                if let Some(t) = c.limits.deadline {
                    m.serialize_entry("timeout", &format_duration(t))?;
                }
                if let Some(f) = c.limits.fuel {
                    m.serialize_entry("fuel", &f)?;
                }
                if let Some(b) = c.limits.memory_bytes {
                    m.serialize_entry("memory", &b)?;
                }
            }
            StepKind::If(i) => {
                m.serialize_entry("if", &i.cond)?;
                m.serialize_entry("then", &i.then)?;
                if !i.otherwise.is_empty() {
                    m.serialize_entry("else", &i.otherwise)?;
                }
            }
            StepKind::Switch(sw) => {
                m.serialize_entry("switch", &sw.subject)?;
                m.serialize_entry("cases", &Cases(&sw.cases))?;
                if !sw.default.is_empty() {
                    m.serialize_entry("default", &sw.default)?;
                }
            }
            StepKind::ForEach(f) => {
                match &f.items {
                    Items::List(t) => m.serialize_entry("for_each", t)?,
                    Items::Pages(c) => {
                        #[derive(Serialize)]
                        struct Pages<'a> {
                            card: &'a CardRef,
                            with: &'a Template,
                            #[serde(skip_serializing_if = "Option::is_none")]
                            retry: Option<Retry>,
                        }
                        m.serialize_entry("for_each", &Pages { card: &c.card, with: &c.with, retry: c.retry })?
                    }
                }
                m.serialize_entry("as", &*f.var)?;
                m.serialize_entry("concurrency", &f.concurrency)?;
                m.serialize_entry("steps", &f.steps)?;
            }
            StepKind::Assign(values) => m.serialize_entry("assign", &Pairs(values))?,
            StepKind::Return(t) => m.serialize_entry("return", t)?,
            StepKind::Stop(t) => m.serialize_entry("stop", t)?,
            StepKind::Fail(t) => m.serialize_entry("fail", t)?,
            StepKind::Call(c) => {
                m.serialize_entry("call", &c.flow)?;
                m.serialize_entry("with", &c.with)?;
            }
            StepKind::Wait(w) => m.serialize_entry("wait", w)?,
        }
        if let Some(h) = &self.on_error {
            m.serialize_entry("on_error", h)?;
        }
        m.end()
    }
}

impl Step {
    /// The kind's name as history records it: card, if, switch, for_each,
    /// assign, return, stop, fail, call, wait.
    pub fn kind_name(&self) -> &'static str {
        self.kind.name()
    }

    /// The card this step itself calls: a card step's, or the page card of a
    /// `for_each` over pages.
    pub fn card_step(&self) -> Option<&CardStep> {
        match &self.kind {
            StepKind::Card(c) => Some(c),
            StepKind::ForEach(ForEachStep { items: Items::Pages(c), .. }) => Some(c),
            _ => None,
        }
    }

    /// Nested step lists: branches, bodies, cases, the error handler.
    pub fn children(&self) -> Vec<&[Step]> {
        let mut out: Vec<&[Step]> = match &self.kind {
            StepKind::If(s) => vec![&s.then, &s.otherwise],
            StepKind::Switch(s) => {
                let mut v: Vec<&[Step]> = s.cases.iter().map(|c| c.steps.as_slice()).collect();
                v.push(&s.default);
                v
            }
            StepKind::ForEach(f) => vec![&f.steps],
            _ => vec![],
        };
        if let Some(h) = &self.on_error {
            out.push(h);
        }
        out
    }
}

#[derive(Debug)]
pub enum StepKind {
    Card(CardStep),
    If(IfStep),
    Switch(SwitchStep),
    ForEach(ForEachStep),
    /// `vars.<name>` = value, in order.
    Assign(Vec<(Arc<str>, Template)>),
    /// End the flow (or helper) with this output.
    Return(Template),
    /// End the run early, by design; optional reason.
    Stop(Option<Template>),
    /// Fail with this message (error kind `failed`).
    Fail(Template),
    Call(CallStep),
    /// Pause the run until a time or a signal; the engine resumes it.
    Wait(WaitStep),
}

impl StepKind {
    pub fn name(&self) -> &'static str {
        match self {
            StepKind::Card(_) => "card",
            StepKind::If(_) => "if",
            StepKind::Switch(_) => "switch",
            StepKind::ForEach(_) => "for_each",
            StepKind::Assign(_) => "assign",
            StepKind::Return(_) => "return",
            StepKind::Stop(_) => "stop",
            StepKind::Fail(_) => "fail",
            StepKind::Call(_) => "call",
            StepKind::Wait(_) => "wait",
        }
    }
}

#[derive(Debug)]
pub struct CardStep {
    pub card: CardRef,
    /// The Okta org the card's Okta calls go to: the step's `org:`, else the
    /// trigger's org, else the default org; `None` when there is none of
    /// those (several orgs, no `default`, and a card that calls no Okta).
    pub org: Option<String>,
    pub with: Template,
    pub retry: Option<Retry>,
    pub limits: LimitOverrides,
}

#[derive(Debug)]
pub struct IfStep {
    pub cond: Expr,
    pub then: Vec<Step>,
    pub otherwise: Vec<Step>,
}

#[derive(Debug)]
pub struct SwitchStep {
    pub subject: Expr,
    pub cases: Vec<Case>,
    pub default: Vec<Step>,
}

#[derive(Debug)]
pub struct Case {
    /// Compared with the subject's text form.
    pub value: String,
    pub steps: Vec<Step>,
}

#[derive(Debug)]
pub struct ForEachStep {
    pub items: Items,
    pub var: Arc<str>,
    pub concurrency: usize,
    pub steps: Vec<Step>,
    /// `collect:` one value per iteration, read in its scope once it has
    /// ended; the loop's output is their list, `none`s left out (list loops
    /// only: a loop over pages holds no list).
    pub collect: Option<Template>,
    /// `reduce:` the `vars` the loop sets, each folded over the iterations
    /// in the list's order, whatever the concurrency.
    pub reduce: Vec<Reduce>,
}

/// One of a loop's `reduce:` values: `vars.<name>` after the loop.
#[derive(Debug)]
pub struct Reduce {
    pub name: Arc<str>,
    /// Its value before the first iteration, read as the loop starts.
    pub start: Template,
    /// Its next value, read in each iteration's scope, with `acc` the value so far.
    pub each: Template,
}

/// What a `for_each` walks.
#[derive(Debug)]
pub enum Items {
    /// A list, evaluated once (at most `max_items` long); the step's output
    /// is the list of the iterations' outputs.
    List(Template),
    /// The pages a card answers, one at a time: the card is called with its
    /// `with` (plus `after`: the `next` of the page before) and answers
    /// `items` and `next` (none on the last page). Any number of items; only
    /// one page is held at a time, and the step's output is `{ count, pages }`.
    Pages(CardStep),
}

#[derive(Debug)]
pub struct CallStep {
    pub flow: String,
    pub with: Template,
    /// `wait: false`: start the helper as a run of its own and go on; the
    /// step's output is that run's id.
    pub wait: bool,
}

/// `wait: { for: 3d }`, `wait: { until: "{{ ... }}" }` or
/// `wait: { signal: approval, choices: [approve, reject], timeout: 2d }`.
#[derive(Debug)]
pub struct WaitStep {
    pub until: WaitUntil,
    /// For a signal: how long to wait for it before the step fails with
    /// kind `timeout` (its `on_error` may handle that).
    pub timeout: Option<Duration>,
}

#[derive(Debug)]
pub enum WaitUntil {
    /// A fixed time from when the step is reached.
    For(Duration),
    /// A time an expression gives (RFC 3339, a date, or seconds since 1970).
    Time(Template),
    /// A signal (an API call, the console, a signed link) with this name.
    Signal {
        name: Arc<str>,
        /// The answers it may carry; empty: any data.
        choices: Vec<String>,
    },
}

impl Serialize for WaitStep {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        match &self.until {
            WaitUntil::For(d) => m.serialize_entry("for", &format_duration(*d))?,
            WaitUntil::Time(t) => m.serialize_entry("until", t)?,
            WaitUntil::Signal { name, choices } => {
                m.serialize_entry("signal", &**name)?;
                if !choices.is_empty() {
                    m.serialize_entry("choices", choices)?;
                }
            }
        }
        if let Some(t) = self.timeout {
            m.serialize_entry("timeout", &format_duration(t))?;
        }
        m.end()
    }
}

/// `card: okta.get-user`, `acme.jamf-wipe@1.2`, `acme.jamf-wipe@sha256:<hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRef {
    pub name: String,
    pub version: CardVersion,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardVersion {
    /// The newest published version.
    Latest,
    /// A semver requirement (`1.2` means `^1.2`).
    Req(semver::VersionReq),
    /// Exactly the component with this sha256 (lowercase hex).
    Digest(String),
}

impl CardRef {
    /// Parse a reference; the error says what is wrong.
    pub fn parse(s: &str) -> Result<CardRef, String> {
        let s = s.trim();
        let (name, version) = match s.split_once('@') {
            Some((n, v)) => (n, Some(v)),
            None => (s, None),
        };
        if !is_card_name(name) {
            return Err(format!(
                "`{name}` is not a card name (lowercase dotted words such as `okta.get-user`)"
            ));
        }
        let version = match version {
            None => CardVersion::Latest,
            Some(v) => {
                if let Some(hex) = v.strip_prefix("sha256:") {
                    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(format!("`{v}` is not a sha256 digest (64 hex digits)"));
                    }
                    CardVersion::Digest(hex.to_ascii_lowercase())
                } else {
                    let req = semver::VersionReq::parse(v)
                        .map_err(|e| format!("`{v}` is not a version requirement: {e}"))?;
                    CardVersion::Req(req)
                }
            }
        };
        Ok(CardRef {
            name: name.to_string(),
            version,
        })
    }
}

fn is_card_name(name: &str) -> bool {
    let mut parts = 0;
    for part in name.split('.') {
        parts += 1;
        let ok = !part.is_empty()
            && part.len() <= 64
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
            && !part.starts_with('-');
        if !ok {
            return false;
        }
    }
    parts >= 2
}

impl fmt::Display for CardRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.version {
            CardVersion::Latest => f.write_str(&self.name),
            CardVersion::Req(r) => write!(f, "{}@{}", self.name, r),
            CardVersion::Digest(d) => write!(f, "{}@sha256:{}", self.name, d),
        }
    }
}

impl Serialize for CardRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `retry: { attempts: 3, backoff: 2s, max_backoff: 1m }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Retry {
    /// Tries in all, the first included.
    pub attempts: u32,
    /// Wait before the first retry; doubled for each next one.
    #[serde(serialize_with = "ser_duration")]
    pub backoff: Duration,
    /// The longest wait between tries.
    #[serde(serialize_with = "ser_duration")]
    pub max_backoff: Duration,
}

impl Retry {
    /// The wait after failed attempt `attempt` (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.backoff
            .checked_mul(factor)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// What starts a flow.
#[derive(Debug)]
pub enum Trigger {
    Okta(OktaTrigger),
    Schedule(Box<Schedule>),
    Api(ApiTrigger),
    /// A helper flow, run by `call` from another flow.
    Flow(HelperTrigger),
    /// Only run by hand (`lanyard run`, "run now"), with typed inputs when
    /// it declares them (`manual: { inputs: … }`, Okta's delegated flows).
    Manual(HelperTrigger),
}

/// `"manual"` for a manual flow without inputs (as it is written), else
/// `{ kind: value }`.
impl Serialize for Trigger {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "snake_case")]
        enum Wire<'a> {
            Okta(&'a OktaTrigger),
            Schedule(&'a Schedule),
            Api(&'a ApiTrigger),
            Flow(&'a HelperTrigger),
            Manual(&'a HelperTrigger),
        }
        match self {
            Trigger::Manual(h) if h.inputs.is_empty() => s.serialize_str("manual"),
            Trigger::Manual(h) => Wire::Manual(h).serialize(s),
            Trigger::Okta(t) => Wire::Okta(t).serialize(s),
            Trigger::Schedule(t) => Wire::Schedule(t).serialize(s),
            Trigger::Api(t) => Wire::Api(t).serialize(s),
            Trigger::Flow(t) => Wire::Flow(t).serialize(s),
        }
    }
}

impl Trigger {
    /// The Okta trigger, if this is one (the dispatcher's event routing).
    pub fn okta(&self) -> Option<&OktaTrigger> {
        match self {
            Trigger::Okta(t) => Some(t),
            _ => None,
        }
    }

    /// The schedule, if this is one (the scheduler's next fire times).
    pub fn schedule(&self) -> Option<&Schedule> {
        match self {
            Trigger::Schedule(s) => Some(s),
            _ => None,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Trigger::Okta(_) => "okta",
            Trigger::Schedule(_) => "schedule",
            Trigger::Api(_) => "api",
            Trigger::Flow(_) => "flow",
            Trigger::Manual(_) => "manual",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct OktaTrigger {
    /// Event Hook event types, each checked against Okta's list.
    pub event_types: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<Expr>,
    /// Whether events caused by lanyard's own Okta identity start this flow
    /// (off by default: the seed's loop warning).
    pub include_own_events: bool,
    /// The org whose events start the flow: `org:`, or the default org.
    pub org: String,
}

impl OktaTrigger {
    /// Whether an event (Okta LogEvent JSON) starts this flow: its type is one of
    /// ours and the filter, if any, holds. The filter sees the event as `event`.
    pub fn matches(&self, event: &serde_json::Value) -> Result<bool, ExprError> {
        let Some(t) = event.get("eventType").and_then(|t| t.as_str()) else {
            return Ok(false);
        };
        if !self.event_types.iter().any(|e| e == t) {
            return Ok(false);
        }
        self.filter_matches(event)
    }

    /// The filter alone (true when there is none).
    pub fn filter_matches(&self, event: &serde_json::Value) -> Result<bool, ExprError> {
        match &self.filter {
            None => Ok(true),
            Some(f) => f.eval_bool(&crate::scope::filter_context(event)),
        }
    }
}

/// `schedule: { cron, timezone, catch_up, overlap }`.
#[derive(Serialize)]
pub struct Schedule {
    pub cron: String,
    #[serde(serialize_with = "ser_tz")]
    pub timezone: chrono_tz::Tz,
    pub catch_up: CatchUp,
    /// Whether the flow says `catch_up:`; when it does not, the daemon's
    /// `[schedules] catch_up` default applies instead of `catch_up` above.
    #[serde(skip)]
    pub catch_up_explicit: bool,
    /// Whether a fire may start while the previous run is still going.
    pub overlap: bool,
    #[serde(skip)]
    pub(crate) compiled: croner::Cron,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schedule")
            .field("cron", &self.cron)
            .field("timezone", &self.timezone)
            .field("catch_up", &self.catch_up)
            .field("catch_up_explicit", &self.catch_up_explicit)
            .field("overlap", &self.overlap)
            .finish()
    }
}

/// Why a cron pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CronError {
    /// Not a cron pattern; the message says why.
    Invalid(String),
    /// A pattern such as `0 0 30 2 *`: valid, but no date matches it.
    NeverFires(String),
}

impl fmt::Display for CronError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CronError::Invalid(m) | CronError::NeverFires(m) => f.write_str(m),
        }
    }
}

/// What a cron pattern looks like, for messages.
pub const CRON_HELP: &str =
    "five fields (minute hour day-of-month month day-of-week), or six with seconds first";

/// Parse a schedule's cron pattern as the compiler does: five fields, or six
/// with seconds first; no year.
pub fn parse_cron(text: &str) -> Result<croner::Cron, CronError> {
    let parser = croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Optional)
        .year(croner::parser::Year::Disallowed)
        .build();
    match parser.parse(text) {
        Ok(c) => {
            let probe = DateTime::from_timestamp(946_684_800, 0).unwrap_or_default();
            if c.find_next_occurrence(&probe, false).is_err() {
                Err(CronError::NeverFires(format!("cron `{text}` never fires")))
            } else {
                Ok(c)
            }
        }
        Err(e) => {
            let why = e.to_string();
            let why = why
                .trim_start_matches("Component error: ")
                .trim_start_matches("Invalid pattern: ")
                .trim_end_matches('.')
                .to_lowercase();
            Err(CronError::Invalid(format!("invalid cron `{text}`: {why}")))
        }
    }
}

impl Schedule {
    /// A schedule from its two texts alone, as the new-flow form has them
    /// (the other settings at their defaults). The error is one line.
    pub fn parse(cron: &str, timezone: &str) -> Result<Schedule, String> {
        let compiled = parse_cron(cron).map_err(|e| e.to_string())?;
        let tz = timezone.trim().parse::<chrono_tz::Tz>().map_err(|_| {
            format!(
                "unknown time zone `{}`: use an IANA name such as America/New_York, Europe/Berlin or UTC",
                timezone.trim()
            )
        })?;
        Ok(Schedule {
            cron: cron.trim().to_string(),
            timezone: tz,
            catch_up: CatchUp::Skip,
            catch_up_explicit: false,
            overlap: false,
            compiled,
        })
    }

    /// The first fire time strictly after `t`, computed in the schedule's time
    /// zone (so `0 9 * * *` in America/New_York stays at 9:00 across DST).
    pub fn next_fire_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&self.timezone);
        self.compiled
            .find_next_occurrence(&local, false)
            .ok()
            .map(|d| d.with_timezone(&Utc))
    }

    /// The fire times in `(after, until]`, at most `limit` of them (for catch-up
    /// after downtime).
    pub fn fires_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut t = after;
        while out.len() < limit {
            match self.next_fire_after(t) {
                Some(n) if n <= until => {
                    out.push(n);
                    t = n;
                }
                _ => break,
            }
        }
        out
    }
}

/// What to do with fire times missed while the daemon was down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// Forget them; wait for the next one.
    Skip,
    /// Run once for all of them, at start.
    Once,
}

#[derive(Debug, Serialize)]
pub struct ApiTrigger {
    /// How long `POST /api/v1/flows/{name}/invoke` waits for the run to finish
    /// and answer with its output; without it the call answers 202 at once.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_duration"
    )]
    pub sync_timeout: Option<Duration>,
}

#[derive(Debug, Serialize)]
pub struct HelperTrigger {
    pub inputs: Vec<InputSpec>,
}

/// One declared input of a helper flow.
#[derive(Debug, Clone, Serialize)]
pub struct InputSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: InputType,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputType {
    String,
    Number,
    Integer,
    Boolean,
    Object,
    Array,
    Any,
}

impl InputType {
    pub fn parse(s: &str) -> Option<InputType> {
        Some(match s {
            "string" => InputType::String,
            "number" => InputType::Number,
            "integer" => InputType::Integer,
            "boolean" => InputType::Boolean,
            "object" => InputType::Object,
            "array" => InputType::Array,
            "any" => InputType::Any,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InputType::String => "string",
            InputType::Number => "number",
            InputType::Integer => "integer",
            InputType::Boolean => "boolean",
            InputType::Object => "object",
            InputType::Array => "array",
            InputType::Any => "any",
        }
    }

    pub fn accepts(self, v: &serde_json::Value) -> bool {
        use serde_json::Value as J;
        match self {
            InputType::Any => true,
            InputType::String => v.is_string(),
            InputType::Number => v.is_number(),
            InputType::Integer => v.is_i64() || v.is_u64(),
            InputType::Boolean => v.is_boolean(),
            InputType::Object => matches!(v, J::Object(_)),
            InputType::Array => matches!(v, J::Array(_)),
        }
    }
}

fn ser_duration<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_duration(*d))
}

fn ser_opt_duration<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&format_duration(*d)),
        None => s.serialize_none(),
    }
}

fn ser_tz<S: Serializer>(tz: &chrono_tz::Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_refs_parse() {
        let r = CardRef::parse("okta.get-user").unwrap();
        assert_eq!(r.version, CardVersion::Latest);
        let r = CardRef::parse("acme.jamf-wipe@1.2").unwrap();
        assert_eq!(r.to_string(), "acme.jamf-wipe@^1.2");
        let hex = "ab".repeat(32);
        let r = CardRef::parse(&format!("acme.jamf-wipe@sha256:{hex}")).unwrap();
        assert_eq!(r.version, CardVersion::Digest(hex));
        assert!(CardRef::parse("Okta.GetUser").is_err());
        assert!(CardRef::parse("okta").is_err());
        assert!(CardRef::parse("a.b@sha256:xyz").is_err());
        assert!(CardRef::parse("a.b@not-a-version").is_err());
    }

    #[test]
    fn retry_backoff_doubles_up_to_the_cap() {
        let r = Retry {
            attempts: 5,
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(5),
        };
        assert_eq!(r.delay(1), Duration::from_secs(2));
        assert_eq!(r.delay(2), Duration::from_secs(4));
        assert_eq!(r.delay(3), Duration::from_secs(5));
        assert_eq!(r.delay(60), Duration::from_secs(5));
    }
}
