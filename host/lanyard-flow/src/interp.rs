//! The interpreter: runs a compiled [`Flow`] against an input.
//!
//! Pure: it does no I/O of its own. Cards are called through [`CardInvoker`],
//! history is written through [`Journal`], time comes from a
//! [`lanyard_core::Clock`], helper flows from [`FlowLookup`], waits between
//! retries go through [`Sleeper`]. So it is tested with fakes, and it knows
//! nothing of wasmtime, sled or HTTP.
//!
//! Error model: a step that fails (a card error after its retries, an
//! expression error, a `fail` step, a failure inside a branch, loop or helper)
//! goes to the nearest enclosing `on_error`, which sees `error` and then the
//! flow continues after the failed step (its output is `none`) unless the
//! handler ends the flow. A failure with no handler fails the run, and the
//! flow's `on_failure` steps run. Nothing fails silently: every failed step is
//! recorded with its error.
//!
//! Paths: each step's path is the ids from the top joined by `/`; loop
//! iterations add `[i]`, handlers add `on_error`, a helper's steps sit under the
//! `call` step's path. Paths are the journal key: on resume
//! ([`RunStart::resume`]), a card step whose path is already in the journal is
//! not called again; its recorded output (or error) is used instead.

use crate::expr::{ExprError, Template, from_json};
use crate::model::*;
use crate::scope::{Frame, LoopState, RunShared, context, set_error, set_slot, set_var};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use lanyard_core::history::{Effect, ErrorInfo, LogLine, RunRecord, RunStatus, StepRecord, WaitState};
use lanyard_core::{CallContext, CardError, Clock, ErrorKind};
/// Waits between retries: the daemon sleeps on its timer; tests record.
pub use lanyard_core::sleep::{RecordingSleeper, Sleeper};
use minijinja::value::{Value, ValueKind};
use serde_json::{Value as Json, json};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

// ---------------------------------------------------------------------------
// The world, as the interpreter sees it

/// One card call the interpreter asks for.
#[derive(Debug, Clone)]
pub struct CardCall {
    pub card: CardRef,
    /// The evaluated `with`.
    pub input: Json,
    pub ctx: CallContext,
    pub limits: LimitOverrides,
    /// The Okta org the card's Okta calls go to (the step's resolved `org`);
    /// `None`: the default org, if there is one.
    pub org: Option<String>,
}

/// What came back from one card call.
#[derive(Debug, Clone)]
pub struct CardResult {
    /// The card that ran, `name@version`.
    pub card: String,
    pub result: Result<Json, CardError>,
    pub fuel_used: u64,
    pub logs: Vec<LogLine>,
    /// Writes a dry run recorded instead of doing.
    pub effects: Vec<Effect>,
}

impl CardResult {
    pub fn ok(card: &str, output: Json) -> Self {
        CardResult {
            card: card.to_string(),
            result: Ok(output),
            fuel_used: 0,
            logs: Vec::new(),
            effects: Vec::new(),
        }
    }

    pub fn err(card: &str, error: CardError) -> Self {
        CardResult {
            result: Err(error),
            ..Self::ok(card, Json::Null)
        }
    }
}

/// Runs cards (the card runtime, or a fake in tests).
#[async_trait]
pub trait CardInvoker: Send + Sync {
    async fn invoke(&self, call: CardCall) -> CardResult;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot record step history: {0}")]
pub struct JournalError(pub String);

/// Where step records go (the store), and where a resumed run finds the steps
/// it already did.
#[async_trait]
pub trait Journal: Send + Sync {
    /// The record of the step at `path` of this run, if it finished before.
    fn completed(&self, path: &str) -> Option<StepRecord>;
    async fn record(&self, step: StepRecord) -> Result<(), JournalError>;
}

/// Helper flows by name, and starting one as a run of its own.
pub trait FlowLookup: Send + Sync {
    fn helper(&self, name: &str) -> Option<Arc<Flow>>;

    /// Start a helper as a run of its own (`call` with `wait: false`); its
    /// run id. Starting the same step of the same run again must find the
    /// run it started, not start another. Only the daemon starts runs: by
    /// default this says so.
    fn start(&self, req: StartHelper) -> BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            Err(format!("helper `{}` cannot be started as a run of its own here: only the daemon starts runs", req.flow))
        })
    }
}

/// A helper flow to start as a run of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct StartHelper {
    pub flow: String,
    /// Its inputs, checked against what it declares.
    pub inputs: Json,
    /// The run and the step starting it: they name the new run, and the
    /// history links the two.
    pub parent_run: String,
    pub parent_step: String,
}

/// What one `signal_link(signal, choice)` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkRequest<'a> {
    pub run_id: &'a str,
    /// The signal the link answers (a `wait` step's `signal`).
    pub signal: &'a str,
    /// The choice it carries; `None` for a wait with no `choices`.
    pub choice: Option<&'a str>,
    /// The `seq` of the step that makes the link: it answers only the first
    /// wait for `signal` after that step (one with a greater `seq`).
    pub after_seq: u64,
}

/// Makes the links that answer a waiting run (`signal_link()`): the daemon
/// signs them; tests use a fake. The interpreter only hands the request on.
pub trait SignalLinks: Send + Sync {
    /// An absolute URL, or why none can be made (the message a run sees).
    fn link(&self, req: LinkRequest<'_>) -> Result<String, String>;
}

/// No links: where nothing can answer them (tools that run a flow without a
/// daemon). `signal_link()` fails with a message saying so.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoSignalLinks;

impl SignalLinks for NoSignalLinks {
    fn link(&self, _req: LinkRequest<'_>) -> Result<String, String> {
        Err("signal_link() needs the daemon: links are made only by runs it runs".into())
    }
}

/// Bounds on one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimits {
    /// Most items one `for_each` may loop over (a list, or one page).
    pub max_items: usize,
    /// Most pages one `for_each` over pages may fetch.
    pub max_pages: usize,
    /// Deepest nesting of helper `call`s.
    pub max_call_depth: u32,
    /// Most steps (loop iterations counted) one run may execute.
    pub max_steps: u64,
    /// Longest single wait before a retry; a rate limit that resets later than
    /// this fails the step instead of holding the run.
    pub max_retry_wait: Duration,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            max_items: 10_000,
            max_pages: 10_000,
            max_call_depth: 8,
            max_steps: 200_000,
            max_retry_wait: Duration::from_secs(15 * 60),
        }
    }
}

/// What the interpreter works with.
#[derive(Clone)]
pub struct Env {
    pub cards: Arc<dyn CardInvoker>,
    pub journal: Arc<dyn Journal>,
    pub clock: Arc<dyn Clock>,
    pub flows: Arc<dyn FlowLookup>,
    pub sleeper: Arc<dyn Sleeper>,
    /// What `signal_link()` asks for links.
    pub links: Arc<dyn SignalLinks>,
    pub limits: RunLimits,
}

/// How to start one run.
#[derive(Debug, Clone)]
pub struct RunStart {
    pub run_id: String,
    /// What the flow sees as `event` (and as `inputs` in a helper flow).
    pub input: Json,
    /// Test Flow: cards record writes instead of doing them.
    pub dry_run: bool,
    /// Continue a run that was interrupted: consult the journal before each
    /// card call. Off for fresh runs (saves a lookup per step).
    pub resume: bool,
}

impl RunStart {
    pub fn new(run_id: impl Into<String>, input: Json) -> Self {
        RunStart {
            run_id: run_id.into(),
            input,
            dry_run: false,
            resume: false,
        }
    }
}

/// Counts over one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StepSummary {
    /// Steps executed (each loop iteration's steps counted).
    pub executed: u32,
    /// Card steps taken from the journal on resume instead of called.
    pub replayed: u32,
    /// Steps that failed (handled or not).
    pub failed: u32,
    /// Card calls retried.
    pub retries: u32,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// Succeeded, Failed or Stopped.
    pub status: RunStatus,
    /// The `return` value.
    pub output: Option<Json>,
    /// Why it failed; the daemon hands failed outcomes to the global error flow.
    pub error: Option<ErrorInfo>,
    /// The `stop` reason.
    pub reason: Option<String>,
    /// The flow's `on_failure` steps themselves failed.
    pub on_failure_error: Option<ErrorInfo>,
    pub steps: StepSummary,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    /// With status `waiting`: the `wait` step the run paused at. The engine
    /// keeps it in the run's record, writes the step's record (see
    /// [`wait_record`]) when the time or the signal comes, and resumes the
    /// run ([`RunStart::resume`]).
    pub wait: Option<WaitState>,
}

impl RunOutcome {
    /// Copy the result into the run's history record.
    pub fn apply_to(&self, run: &mut RunRecord) {
        run.status = self.status;
        run.output = self.output.clone();
        run.error = self.error.clone();
        if self.reason.is_some() {
            run.reason = self.reason.clone();
        }
        run.started = Some(run.started.unwrap_or(self.started));
        run.wait = self.wait.clone();
        run.ended = (self.status != RunStatus::Waiting).then_some(self.ended);
    }
}

// ---------------------------------------------------------------------------
// Ready-made parts

/// A journal that keeps records in memory (Test Flow without a store, tests).
#[derive(Debug, Default)]
pub struct MemoryJournal {
    records: Mutex<Vec<StepRecord>>,
}

impl MemoryJournal {
    pub fn new() -> Self {
        Self::default()
    }

    /// A journal holding earlier records (to test resume).
    pub fn with_records(records: Vec<StepRecord>) -> Self {
        MemoryJournal {
            records: Mutex::new(records),
        }
    }

    /// Every record so far, in the order written.
    pub fn records(&self) -> Vec<StepRecord> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

#[async_trait]
impl Journal for MemoryJournal {
    fn completed(&self, path: &str) -> Option<StepRecord> {
        let records = self.records.lock().ok()?;
        records.iter().rev().find(|r| r.path == path).cloned()
    }

    async fn record(&self, step: StepRecord) -> Result<(), JournalError> {
        self.records
            .lock()
            .map_err(|_| JournalError("journal lock poisoned".into()))?
            .push(step);
        Ok(())
    }
}

/// A journal that keeps nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullJournal;

#[async_trait]
impl Journal for NullJournal {
    fn completed(&self, _path: &str) -> Option<StepRecord> {
        None
    }

    async fn record(&self, _step: StepRecord) -> Result<(), JournalError> {
        Ok(())
    }
}

/// No helper flows.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoHelpers;

impl FlowLookup for NoHelpers {
    fn helper(&self, _name: &str) -> Option<Arc<Flow>> {
        None
    }
}

// ---------------------------------------------------------------------------
// Running

/// Run `flow` once. Never panics on any flow or input: every failure ends up
/// in the outcome and in the journal.
pub async fn run_flow(flow: &Flow, start: RunStart, env: &Env) -> RunOutcome {
    let started = env.clock.now();
    let run = Run {
        env,
        run_id: start.run_id.as_str().into(),
        flow_name: flow.name.as_str().into(),
        dry_run: start.dry_run,
        resume: start.resume,
        seq: AtomicU64::new(0),
        executed: AtomicU32::new(0),
        replayed: AtomicU32::new(0),
        failed: AtomicU32::new(0),
        retries: AtomicU32::new(0),
        steps_left: AtomicU64::new(env.limits.max_steps),
    };
    let mut input = start.input;
    let mut ctl = Ctl::Next;
    if let Some(h) = flow.declared_inputs() {
        match prepare_inputs(h, input) {
            Ok(i) => input = i,
            Err(m) => {
                input = Json::Null;
                ctl = Ctl::Fail(ErrorInfo {
                    kind: ErrorKind::InvalidInput,
                    message: format!("flow `{}`: {m}", flow.name),
                    step: None,
                    card: None,
                    retryable: false,
                    detail: None,
                });
            }
        }
    }
    let event = from_json(&input);
    let shared = Arc::new(RunShared {
        slots: flow.slots.clone(),
        inputs: flow.declared_inputs().is_some().then(|| event.clone()),
        event,
        flow_name: flow.name.as_str().into(),
        run_id: run.run_id.clone(),
        dry_run: run.dry_run,
        clock: env.clock.clone(),
        links: env.links.clone(),
    });
    let inv = Invocation {
        run: &run,
        flow,
        shared,
        depth: 0,
    };
    let mut frame = Arc::new(Frame::root(flow.slots.len()));
    if matches!(ctl, Ctl::Next) {
        ctl = inv.exec_block(&flow.steps, &mut frame, "").await;
    }
    let mut outcome = RunOutcome {
        status: RunStatus::Succeeded,
        output: None,
        error: None,
        reason: None,
        on_failure_error: None,
        steps: StepSummary::default(),
        started,
        ended: started,
        wait: None,
    };
    match ctl {
        Ctl::Next => {}
        Ctl::Return(v) => outcome.output = Some(v),
        Ctl::Stop(reason) => {
            outcome.status = RunStatus::Stopped;
            outcome.reason = Some(reason.unwrap_or_else(|| "stopped by a `stop` step".into()));
        }
        Ctl::Suspend(w) => {
            outcome.status = RunStatus::Waiting;
            outcome.wait = Some(w);
        }
        Ctl::Fail(e) => {
            tracing::debug!(flow = %flow.name, run = %run.run_id, error = ?e.message, "run failed");
            outcome.status = RunStatus::Failed;
            outcome.on_failure_error = inv.on_failure(&e, &mut frame, "").await;
            outcome.error = Some(e);
        }
    }
    outcome.steps = run.summary();
    outcome.ended = env.clock.now();
    outcome
}

/// Check a helper's (or a manual flow's) inputs, fill defaults. Unknown keys
/// are refused so a typo in a `call` or a form does not silently drop a value.
pub fn prepare_inputs(h: &HelperTrigger, input: Json) -> Result<Json, String> {
    let mut map = match input {
        Json::Object(m) => m,
        Json::Null => serde_json::Map::new(),
        other => {
            return Err(format!(
                "inputs must be an object, not {}",
                json_kind(&other)
            ));
        }
    };
    if !h.inputs.is_empty()
        && let Some(k) = map.keys().find(|k| !h.inputs.iter().any(|i| &i.name == *k))
    {
        return Err(format!("unknown input `{k}`"));
    }
    for spec in &h.inputs {
        match map.get(&spec.name) {
            // An optional input left empty (null) is as if not given.
            Some(Json::Null) if !spec.required => {
                let d = spec.default.clone().unwrap_or(Json::Null);
                map.insert(spec.name.clone(), d);
            }
            Some(v) => {
                if !spec.ty.accepts(v) {
                    return Err(format!(
                        "input `{}` must be of type {}, not {}",
                        spec.name,
                        spec.ty.as_str(),
                        json_kind(v)
                    ));
                }
            }
            None => match &spec.default {
                Some(d) => {
                    map.insert(spec.name.clone(), d.clone());
                }
                None if spec.required => return Err(format!("missing input `{}`", spec.name)),
                None => {
                    map.insert(spec.name.clone(), Json::Null);
                }
            },
        }
    }
    Ok(Json::Object(map))
}

fn json_kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "boolean",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

fn join_path(parent: &str, id: &str) -> String {
    if parent.is_empty() {
        id.to_string()
    } else {
        let mut p = String::with_capacity(parent.len() + 1 + id.len());
        p.push_str(parent);
        p.push('/');
        p.push_str(id);
        p
    }
}

/// How a block ended.
#[derive(Debug)]
enum Ctl {
    Next,
    Return(Json),
    Stop(Option<String>),
    Fail(ErrorInfo),
    /// A `wait` step paused the run: unwind to the top, writing no records
    /// but the decisions of the `if`s and `switch`es on the way.
    Suspend(WaitState),
}

/// How one step ended.
enum StepEnd {
    Ok(Value),
    /// `return` / `stop` from the step or inside it.
    Ctl(Ctl),
    Err(ErrorInfo),
}

/// What to write in the step's record besides its status.
#[derive(Default)]
struct Rec {
    input: Option<Json>,
    output: Option<Json>,
    card: Option<String>,
    attempts: u32,
    fuel: u64,
    logs: Vec<LogLine>,
    effects: Vec<Effect>,
    /// The journal already has this step (resume).
    replayed: bool,
}

struct Run<'e> {
    env: &'e Env,
    run_id: Arc<str>,
    flow_name: Arc<str>,
    dry_run: bool,
    resume: bool,
    seq: AtomicU64,
    executed: AtomicU32,
    replayed: AtomicU32,
    failed: AtomicU32,
    retries: AtomicU32,
    steps_left: AtomicU64,
}

impl Run<'_> {
    fn summary(&self) -> StepSummary {
        StepSummary {
            executed: self.executed.load(Ordering::Relaxed),
            replayed: self.replayed.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }
}

/// One flow being run: the top flow, or a helper inside a `call`.
struct Invocation<'r, 'e> {
    run: &'r Run<'e>,
    flow: &'r Flow,
    shared: Arc<RunShared>,
    depth: u32,
}

fn error_value(e: &ErrorInfo) -> Value {
    let mut m = std::collections::BTreeMap::new();
    m.insert("kind", Value::from(e.kind.as_str()));
    m.insert("message", Value::from(e.message.as_str()));
    m.insert("step", Value::from(e.step.clone()));
    m.insert("card", Value::from(e.card.clone()));
    m.insert("retryable", Value::from(e.retryable));
    m.insert("detail", Value::from(e.detail.clone()));
    Value::from(m)
}

impl<'r, 'e> Invocation<'r, 'e> {
    fn fail(&self, kind: ErrorKind, path: &str, message: String) -> ErrorInfo {
        ErrorInfo {
            kind,
            message,
            step: Some(path.to_string()),
            card: None,
            retryable: false,
            detail: None,
        }
    }

    fn expr_error(&self, path: &str, e: ExprError) -> ErrorInfo {
        self.fail(
            ErrorKind::Expression,
            path,
            format!(
                "expression error in flow `{}`, step `{path}`, {e}",
                self.flow.name
            ),
        )
    }

    fn exec_block<'a>(
        &'a self,
        steps: &'a [Step],
        frame: &'a mut Arc<Frame>,
        parent: &'a str,
    ) -> BoxFuture<'a, Ctl> {
        Box::pin(async move {
            for step in steps {
                match self.exec_step(step, frame, parent).await {
                    Ctl::Next => {}
                    other => return other,
                }
            }
            Ctl::Next
        })
    }

    /// Run the flow's `on_failure` steps for a failure; returns their own failure.
    async fn on_failure(
        &self,
        e: &ErrorInfo,
        frame: &mut Arc<Frame>,
        parent: &str,
    ) -> Option<ErrorInfo> {
        if self.flow.on_failure.is_empty() {
            return None;
        }
        set_error(frame, Some(error_value(e)));
        let path = join_path(parent, "on_failure");
        match self.exec_block(&self.flow.on_failure, frame, &path).await {
            Ctl::Fail(e2) => Some(e2),
            Ctl::Suspend(w) => Some(self.fail(
                ErrorKind::Failed,
                &w.step,
                "a `wait` cannot run in `on_failure` (the run has already failed)".into(),
            )),
            _ => None,
        }
    }

    /// Count one more step against the run's bound.
    fn take_step(&self, path: &str) -> Result<(), ErrorInfo> {
        let run = self.run;
        if run
            .steps_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_err()
        {
            return Err(self.fail(
                ErrorKind::Failed,
                path,
                format!(
                    "the run executed more than {} steps; it was stopped",
                    run.env.limits.max_steps
                ),
            ));
        }
        Ok(())
    }

    /// Write a step's record to the journal.
    async fn journal(
        &self,
        path: &str,
        kind: &str,
        rec: Rec,
        error: Option<ErrorInfo>,
        started: DateTime<Utc>,
        seq: u64,
    ) -> Result<(), ErrorInfo> {
        let run = self.run;
        let record = StepRecord {
            run_id: run.run_id.to_string(),
            path: path.to_string(),
            kind: kind.to_string(),
            card: rec.card,
            input: rec.input,
            output: rec.output,
            error,
            attempts: rec.attempts,
            started,
            duration_ms: (run.env.clock.now() - started).num_milliseconds().max(0) as u64,
            fuel_used: rec.fuel,
            logs: rec.logs,
            effects: rec.effects,
            seq,
            withheld: false,
        };
        run.env
            .journal
            .record(record)
            .await
            .map_err(|e| self.fail(ErrorKind::Internal, path, e.to_string()))
    }

    async fn exec_step(&self, step: &Step, frame: &mut Arc<Frame>, parent: &str) -> Ctl {
        let path = join_path(parent, &step.id);
        let run = self.run;
        if let Err(e) = self.take_step(&path) {
            return Ctl::Fail(e);
        }
        let seq = run.seq.fetch_add(1, Ordering::Relaxed);
        let started = run.env.clock.now();
        let replay = if run.resume {
            run.env.journal.completed(&path)
        } else {
            None
        };
        if let Some(r) = &replay {
            run.seq.fetch_max(r.seq + 1, Ordering::Relaxed);
        }
        let (end, mut rec) = self.exec_kind(step, frame, &path, replay.as_ref(), seq).await;
        rec.replayed |= replay.is_some();
        run.executed.fetch_add(1, Ordering::Relaxed);

        let error = match &end {
            StepEnd::Err(e) => Some(e.clone()),
            _ => None,
        };
        // A step the run paused inside is not done: only a branch's decision
        // is written, so that the resumed run takes the same branch.
        let paused = matches!(end, StepEnd::Ctl(Ctl::Suspend(_)));
        let decides = matches!(step.kind, StepKind::If(_) | StepKind::Switch(_));
        if !rec.replayed
            && (!paused || decides)
            && let Err(e) = self.journal(&path, step.kind_name(), rec, error, started, seq).await
        {
            return Ctl::Fail(e);
        }
        match end {
            StepEnd::Ok(v) => {
                set_slot(frame, step.slot, v);
                Ctl::Next
            }
            StepEnd::Ctl(c) => c,
            StepEnd::Err(e) => {
                run.failed.fetch_add(1, Ordering::Relaxed);
                match &step.on_error {
                    None => Ctl::Fail(e),
                    Some(handler) => {
                        set_slot(frame, step.slot, Value::from(()));
                        let saved = set_error(frame, Some(error_value(&e)));
                        let hpath = join_path(&path, "on_error");
                        let ctl = self.exec_block(handler, frame, &hpath).await;
                        set_error(frame, saved);
                        ctl
                    }
                }
            }
        }
    }

    async fn exec_kind(
        &self,
        step: &Step,
        frame: &mut Arc<Frame>,
        path: &str,
        replay: Option<&StepRecord>,
        seq: u64,
    ) -> (StepEnd, Rec) {
        match &step.kind {
            StepKind::Card(c) => self.card(c, frame, path, replay, seq).await,
            StepKind::If(s) => {
                let cond = match replay
                    .and_then(|r| r.output.as_ref())
                    .and_then(Json::as_bool)
                {
                    Some(b) => b,
                    None => {
                        let ctx = context(frame, &self.shared, path, seq);
                        match s.cond.eval_bool(&ctx) {
                            Ok(b) => b,
                            Err(e) => {
                                return (StepEnd::Err(self.expr_error(path, e)), Rec::default());
                            }
                        }
                    }
                };
                let body = if cond { &s.then } else { &s.otherwise };
                let rec = Rec {
                    output: Some(Json::Bool(cond)),
                    ..Rec::default()
                };
                (
                    self.body_end(self.exec_block(body, frame, path).await, Value::from(cond)),
                    rec,
                )
            }
            StepKind::Switch(s) => {
                let matched: Option<String> = match replay.and_then(|r| r.output.as_ref()) {
                    Some(out) => out
                        .get("matched")
                        .and_then(Json::as_str)
                        .map(str::to_string),
                    None => {
                        let ctx = context(frame, &self.shared, path, seq);
                        let subject = match s.subject.eval(&ctx) {
                            Ok(v) => v,
                            Err(e) => {
                                return (StepEnd::Err(self.expr_error(path, e)), Rec::default());
                            }
                        };
                        let key = subject_text(&subject);
                        key.and_then(|k| {
                            s.cases
                                .iter()
                                .find(|c| c.value == k)
                                .map(|c| c.value.clone())
                        })
                    }
                };
                let body = match &matched {
                    Some(m) => s
                        .cases
                        .iter()
                        .find(|c| &c.value == m)
                        .map(|c| c.steps.as_slice())
                        .unwrap_or(&[]),
                    None => &s.default,
                };
                let rec = Rec {
                    output: Some(json!({ "matched": matched })),
                    ..Rec::default()
                };
                let value = Value::from(matched);
                (
                    self.body_end(self.exec_block(body, frame, path).await, value),
                    rec,
                )
            }
            // Boxed: these futures are large, and a flow that does not loop or
            // call helpers should not move them around on every step.
            StepKind::ForEach(f) => Box::pin(self.for_each(f, frame, path, seq)).await,
            StepKind::Assign(values) => {
                let replayed = replay
                    .and_then(|r| r.output.as_ref())
                    .and_then(Json::as_object)
                    .cloned();
                let mut out = serde_json::Map::new();
                let ctx = context(frame, &self.shared, path, seq);
                let mut evaluated = Vec::with_capacity(values.len());
                for (name, t) in values {
                    let v = match replayed.as_ref().and_then(|r| r.get(&**name)) {
                        Some(j) => from_json(j),
                        None => match t.eval_value(&ctx) {
                            Ok(v) => v,
                            Err(e) => {
                                return (StepEnd::Err(self.expr_error(path, e)), Rec::default());
                            }
                        },
                    };
                    match crate::expr::to_json(&v) {
                        Ok(j) => {
                            out.insert(name.to_string(), j);
                        }
                        Err(m) => {
                            let e = ExprError::new(&format!("assign.{name}"), "", m);
                            return (StepEnd::Err(self.expr_error(path, e)), Rec::default());
                        }
                    }
                    evaluated.push((name.clone(), v));
                }
                drop(ctx);
                for (name, v) in evaluated {
                    set_var(frame, name, v);
                }
                let output = Json::Object(out);
                let value = from_json(&output);
                (
                    StepEnd::Ok(value),
                    Rec {
                        output: Some(output),
                        ..Rec::default()
                    },
                )
            }
            StepKind::Return(t) => {
                let ctx = context(frame, &self.shared, path, seq);
                match t.eval_json(&ctx) {
                    Ok(v) => (
                        StepEnd::Ctl(Ctl::Return(v.clone())),
                        Rec {
                            output: Some(v),
                            ..Rec::default()
                        },
                    ),
                    Err(e) => (StepEnd::Err(self.expr_error(path, e)), Rec::default()),
                }
            }
            StepKind::Stop(t) => {
                let reason = match t {
                    None => None,
                    Some(t) => {
                        let ctx = context(frame, &self.shared, path, seq);
                        match t.eval_json(&ctx) {
                            Ok(Json::String(s)) => Some(s),
                            Ok(other) => Some(other.to_string()),
                            Err(e) => {
                                return (StepEnd::Err(self.expr_error(path, e)), Rec::default());
                            }
                        }
                    }
                };
                let rec = Rec {
                    output: Some(json!({ "reason": reason })),
                    ..Rec::default()
                };
                (StepEnd::Ctl(Ctl::Stop(reason)), rec)
            }
            StepKind::Fail(t) => {
                let ctx = context(frame, &self.shared, path, seq);
                let message = match t.eval_json(&ctx) {
                    Ok(Json::String(s)) => s,
                    Ok(other) => other.to_string(),
                    Err(e) => return (StepEnd::Err(self.expr_error(path, e)), Rec::default()),
                };
                (
                    StepEnd::Err(self.fail(ErrorKind::Failed, path, message)),
                    Rec::default(),
                )
            }
            StepKind::Call(c) => Box::pin(self.call(c, frame, path, replay, seq)).await,
            StepKind::Wait(w) => self.wait(w, frame, path, replay, seq),
        }
    }

    /// A `wait` step: its record, once the engine has written it, says how
    /// it ended; before that, work out what it waits for and pause. A time
    /// already past does not pause.
    fn wait(&self, w: &WaitStep, frame: &Arc<Frame>, path: &str, replay: Option<&StepRecord>, seq: u64) -> (StepEnd, Rec) {
        if let Some(r) = replay {
            self.run.replayed.fetch_add(1, Ordering::Relaxed);
            let rec = Rec { replayed: true, ..Rec::default() };
            return match &r.error {
                Some(e) => (StepEnd::Err(e.clone()), rec),
                None => (StepEnd::Ok(r.output.as_ref().map(from_json).unwrap_or(Value::from(()))), rec),
            };
        }
        let now = self.run.env.clock.now();
        let after = |d: Duration| chrono::Duration::from_std(d).ok().and_then(|d| now.checked_add_signed(d));
        let (until, signal) = match &w.until {
            WaitUntil::For(d) => (after(*d), None),
            WaitUntil::Time(t) => {
                let ctx = context(frame, &self.shared, path, seq);
                let v = match t.eval_value(&ctx) {
                    Ok(v) => v,
                    Err(e) => return (StepEnd::Err(self.expr_error(path, e)), Rec::default()),
                };
                match crate::functions::time::parse_time(&v) {
                    Ok(t) => (Some(t), None),
                    Err(e) => {
                        let msg = format!("`wait.until` is not a time: {e}");
                        return (StepEnd::Err(self.fail(ErrorKind::InvalidInput, path, msg)), Rec::default());
                    }
                }
            }
            WaitUntil::Signal { name, choices } => (w.timeout.and_then(after), Some((name.to_string(), choices.clone()))),
        };
        if signal.is_none() {
            let Some(until) = until else {
                let msg = "`wait.for` reaches past the year 262143".to_string();
                return (StepEnd::Err(self.fail(ErrorKind::InvalidInput, path, msg)), Rec::default());
            };
            if until <= now {
                let output = wait_output(WaitEnd::Time { until });
                return (StepEnd::Ok(from_json(&output)), Rec { output: Some(output), ..Rec::default() });
            }
        }
        let (signal, choices) = signal.unzip();
        let state = WaitState {
            step: path.to_string(),
            seq,
            since: now,
            until,
            signal,
            choices: choices.unwrap_or_default(),
            ended: None,
        };
        (StepEnd::Ctl(Ctl::Suspend(state)), Rec::default())
    }

    /// The end of a step whose body is a block: failures in the body become
    /// the step's failure (so its `on_error` can catch them).
    fn body_end(&self, ctl: Ctl, value: Value) -> StepEnd {
        match ctl {
            Ctl::Next => StepEnd::Ok(value),
            Ctl::Fail(e) => StepEnd::Err(e),
            other => StepEnd::Ctl(other),
        }
    }

    async fn card(
        &self,
        c: &CardStep,
        frame: &Arc<Frame>,
        path: &str,
        replay: Option<&StepRecord>,
        seq: u64,
    ) -> (StepEnd, Rec) {
        let run = self.run;
        if let Some(r) = replay {
            run.replayed.fetch_add(1, Ordering::Relaxed);
            let rec = Rec {
                replayed: true,
                ..Rec::default()
            };
            return match &r.error {
                Some(e) => (StepEnd::Err(e.clone()), rec),
                None => (
                    StepEnd::Ok(r.output.as_ref().map(from_json).unwrap_or(Value::from(()))),
                    rec,
                ),
            };
        }
        let input = {
            let ctx = context(frame, &self.shared, path, seq);
            match c.with.eval_json(&ctx) {
                Ok(j) => j,
                Err(e) => return (StepEnd::Err(self.expr_error(path, e)), Rec::default()),
            }
        };
        self.call_card(c, input, path).await
    }

    /// Call a card with this input, retrying as the step says.
    async fn call_card(&self, c: &CardStep, input: Json, path: &str) -> (StepEnd, Rec) {
        let run = self.run;
        let mut rec = Rec {
            input: Some(input),
            ..Rec::default()
        };
        let max_attempts = c.retry.map(|r| r.attempts).unwrap_or(1).max(1);
        let mut attempt = 1u32;
        loop {
            let call = CardCall {
                card: c.card.clone(),
                input: rec.input.clone().unwrap_or(Json::Null),
                ctx: CallContext::new(&run.run_id, &run.flow_name, path, attempt, run.dry_run),
                limits: c.limits,
                org: c.org.clone(),
            };
            let result = run.env.cards.invoke(call).await;
            rec.attempts = attempt;
            rec.fuel = rec.fuel.saturating_add(result.fuel_used);
            rec.logs.extend(result.logs);
            rec.effects.extend(result.effects);
            rec.card = Some(result.card);
            match result.result {
                Ok(out) => {
                    let value = from_json(&out);
                    rec.output = Some(out);
                    return (StepEnd::Ok(value), rec);
                }
                Err(e) => {
                    let wait = match (&c.retry, e.retryable && attempt < max_attempts) {
                        (Some(r), true) => match e.retry_after_ms {
                            Some(ms) => Some(Duration::from_millis(ms)),
                            None => Some(r.delay(attempt)),
                        },
                        _ => None,
                    };
                    match wait {
                        Some(w) if w <= run.env.limits.max_retry_wait => {
                            rec.logs.push(LogLine {
                                level: "warn".into(),
                                message: format!(
                                    "attempt {attempt} failed ({}: {}); retrying in {}",
                                    e.kind,
                                    e.message,
                                    format_duration(w)
                                ),
                                fields: Some(json!({
                                    "engine": "retry",
                                    "attempt": attempt,
                                    "kind": e.kind,
                                    "wait_ms": w.as_millis() as u64,
                                })),
                            });
                            run.retries.fetch_add(1, Ordering::Relaxed);
                            run.env.sleeper.sleep(w).await;
                            attempt += 1;
                        }
                        Some(w) => {
                            let mut info =
                                ErrorInfo::from_card_error(&e, Some(path), rec.card.as_deref());
                            info.message = format!(
                                "{} (not retried: the remote asked to wait {}, more than the {} limit)",
                                e.message,
                                format_duration(w),
                                format_duration(run.env.limits.max_retry_wait)
                            );
                            return (StepEnd::Err(info), rec);
                        }
                        None => {
                            let info =
                                ErrorInfo::from_card_error(&e, Some(path), rec.card.as_deref());
                            return (StepEnd::Err(info), rec);
                        }
                    }
                }
            }
        }
    }

    async fn for_each(
        &self,
        f: &ForEachStep,
        frame: &mut Arc<Frame>,
        path: &str,
        seq: u64,
    ) -> (StepEnd, Rec) {
        match &f.items {
            Items::List(t) => self.for_each_list(f, t, frame, path, seq).await,
            Items::Pages(c) => self.for_each_page(f, c, frame, path, seq).await,
        }
    }

    async fn for_each_list(
        &self,
        f: &ForEachStep,
        items: &Template,
        frame: &mut Arc<Frame>,
        path: &str,
        seq: u64,
    ) -> (StepEnd, Rec) {
        let limit = self.run.env.limits.max_items;
        let items: Vec<Value> = {
            let ctx = context(frame, &self.shared, path, seq);
            let list = match items.eval_value(&ctx) {
                Ok(v) => v,
                Err(e) => return (StepEnd::Err(self.expr_error(path, e)), Rec::default()),
            };
            if !matches!(list.kind(), ValueKind::Seq | ValueKind::Iterable) {
                let e =
                    ExprError::new("for_each", "", format!("needs a list, not {}", list.kind()));
                return (StepEnd::Err(self.expr_error(path, e)), Rec::default());
            }
            match list.try_iter() {
                Ok(it) => it.take(limit + 1).collect(),
                Err(e) => {
                    let e = ExprError::new("for_each", "", e.to_string());
                    return (StepEnd::Err(self.expr_error(path, e)), Rec::default());
                }
            }
        };
        if items.len() > limit {
            let e = self.fail(
                ErrorKind::TooLarge,
                path,
                format!("for_each over more than {limit} items; split the work or raise the limit"),
            );
            return (StepEnd::Err(e), Rec::default());
        }
        let n = items.len();
        let rec = Rec {
            input: Some(json!({ "items": n, "concurrency": f.concurrency })),
            ..Rec::default()
        };
        let mut accs = match self.reduce_start(f, frame, path, seq) {
            Ok(a) => a,
            Err(e) => return (StepEnd::Err(e), rec),
        };
        let done = match self.iterations(f, frame, path, items, 0, Some(n)).await {
            Ok(done) => done,
            Err(Ctl::Fail(e)) => return (StepEnd::Err(e), rec),
            Err(ctl) => return (StepEnd::Ctl(ctl), rec),
        };
        let mut summary = json!({ "iterations": done.len() });
        let output = match &f.collect {
            None => Value::from(done.iter().map(|d| d.output.clone()).collect::<Vec<_>>()),
            Some(c) => match self.collect(c, &done) {
                Ok(list) => {
                    summary["collected"] = json!(list.len());
                    Value::from(list)
                }
                Err(e) => return (StepEnd::Err(e), rec),
            },
        };
        if let Err(e) = self.fold(f, &mut accs, &done, path) {
            return (StepEnd::Err(e), rec);
        }
        match self.reduce_end(f, accs, frame, path) {
            Ok(Some(vars)) => summary["vars"] = vars,
            Ok(None) => {}
            Err(e) => return (StepEnd::Err(e), rec),
        }
        (StepEnd::Ok(output), Rec { output: Some(summary), ..rec })
    }

    /// The `reduce:` values before the first iteration, read where the loop stands.
    fn reduce_start(&self, f: &ForEachStep, frame: &Arc<Frame>, path: &str, seq: u64) -> Result<Vec<Value>, ErrorInfo> {
        if f.reduce.is_empty() {
            return Ok(Vec::new());
        }
        let ctx = context(frame, &self.shared, path, seq);
        f.reduce
            .iter()
            .map(|r| r.start.eval_value(&ctx).map_err(|e| self.expr_error(path, e)))
            .collect()
    }

    /// Fold `done` (iterations in the list's order) into `accs`: each
    /// `each` read in its iteration's scope, with `acc` the value so far.
    fn fold(&self, f: &ForEachStep, accs: &mut [Value], done: &[Iteration], path: &str) -> Result<(), ErrorInfo> {
        for d in done {
            let looping = d.frame.looping.as_ref();
            for (r, acc) in f.reduce.iter().zip(accs.iter_mut()) {
                let with_acc = Arc::new(Frame::child(
                    &d.frame,
                    LoopState {
                        var: crate::compile::ACC.into(),
                        item: acc.clone(),
                        index0: looping.map_or(0, |l| l.index0),
                        length: looping.and_then(|l| l.length),
                    },
                ));
                // Read once the iterations ended: a link made here answers a later wait.
                let ctx = context(&with_acc, &self.shared, &d.path, self.run.seq.load(Ordering::Relaxed));
                *acc = r.each.eval_value(&ctx).map_err(|e| self.expr_error(&d.path, e))?;
            }
        }
        for (r, acc) in f.reduce.iter().zip(accs.iter()) {
            let size = crate::expr::to_json(acc).map(|j| j.to_string().len()).map_err(|m| {
                self.expr_error(path, ExprError::new(&format!("reduce.{}", r.name), "", m))
            })?;
            if size > MAX_REDUCE_BYTES {
                return Err(self.fail(
                    ErrorKind::TooLarge,
                    path,
                    format!("`reduce.{}` grew past {} KiB; keep a count or a short list, or collect into a table", r.name, MAX_REDUCE_BYTES / 1024),
                ));
            }
        }
        Ok(())
    }

    /// Set the loop's `reduce:` values as `vars`; what the history shows of them.
    fn reduce_end(&self, f: &ForEachStep, accs: Vec<Value>, frame: &mut Arc<Frame>, path: &str) -> Result<Option<Json>, ErrorInfo> {
        if f.reduce.is_empty() {
            return Ok(None);
        }
        let mut shown = serde_json::Map::new();
        for (r, acc) in f.reduce.iter().zip(accs) {
            let j = crate::expr::to_json(&acc).map_err(|m| self.expr_error(path, ExprError::new(&format!("reduce.{}", r.name), "", m)))?;
            shown.insert(r.name.to_string(), j);
            set_var(frame, r.name.clone(), acc);
        }
        Ok(Some(Json::Object(shown)))
    }

    /// `collect:` read in each iteration's scope, in the list's order; `none`s left out.
    fn collect(&self, c: &Template, done: &[Iteration]) -> Result<Vec<Value>, ErrorInfo> {
        let mut out = Vec::with_capacity(done.len());
        for d in done {
            let ctx = context(&d.frame, &self.shared, &d.path, self.run.seq.load(Ordering::Relaxed));
            let v = c.eval_value(&ctx).map_err(|e| self.expr_error(&d.path, e))?;
            if !v.is_none() && !v.is_undefined() {
                out.push(v);
            }
        }
        Ok(out)
    }

    /// `for_each` over the pages a card answers: one page held at a time,
    /// each page's call recorded as `<path>/pages[k]`, iterations numbered
    /// across pages. The output counts what was done instead of listing it.
    async fn for_each_page(
        &self,
        f: &ForEachStep,
        c: &CardStep,
        frame: &mut Arc<Frame>,
        path: &str,
        seq: u64,
    ) -> (StepEnd, Rec) {
        let max_pages = self.run.env.limits.max_pages;
        let per_page = self.run.env.limits.max_items;
        let mut after: Option<Json> = None;
        let mut count = 0usize;
        let mut pages = 0usize;
        let mut accs = match self.reduce_start(f, frame, path, seq) {
            Ok(a) => a,
            Err(e) => return (StepEnd::Err(e), Rec::default()),
        };
        let summary = |count: usize, pages: usize| json!({ "count": count, "pages": pages });
        loop {
            if pages == max_pages {
                let e = self.fail(
                    ErrorKind::TooLarge,
                    path,
                    format!("for_each over more than {max_pages} pages of `{}`; ask for larger pages or raise the limit", c.card.name),
                );
                return (StepEnd::Err(e), Rec { output: Some(summary(count, pages)), ..Rec::default() });
            }
            let page_path = format!("{}[{pages}]", join_path(path, "pages"));
            let (items, next) = match self.page(c, frame, &page_path, after.take()).await {
                Ok(page) => page,
                Err(Ctl::Fail(e)) => return (StepEnd::Err(e), Rec { output: Some(summary(count, pages)), ..Rec::default() }),
                Err(ctl) => return (StepEnd::Ctl(ctl), Rec::default()),
            };
            pages += 1;
            if items.len() > per_page {
                let e = self.fail(
                    ErrorKind::TooLarge,
                    &page_path,
                    format!("a page of more than {per_page} items; ask `{}` for smaller pages", c.card.name),
                );
                return (StepEnd::Err(e), Rec { output: Some(summary(count, pages)), ..Rec::default() });
            }
            let n = items.len();
            // Results are not kept: the loop's output counts them, and
            // `reduce:` folds each page's iterations in.
            match self.iterations(f, frame, path, items, count, None).await {
                Ok(done) => {
                    if let Err(e) = self.fold(f, &mut accs, &done, path) {
                        return (StepEnd::Err(e), Rec { output: Some(summary(count, pages)), ..Rec::default() });
                    }
                    count += n
                }
                Err(Ctl::Fail(e)) => return (StepEnd::Err(e), Rec { output: Some(summary(count, pages)), ..Rec::default() }),
                Err(ctl) => return (StepEnd::Ctl(ctl), Rec::default()),
            }
            match next {
                Some(cursor) => after = Some(cursor),
                None => break,
            }
        }
        let mut out = summary(count, pages);
        match self.reduce_end(f, accs, frame, path) {
            Ok(Some(vars)) => out["vars"] = vars,
            Ok(None) => {}
            Err(e) => return (StepEnd::Err(e), Rec { output: Some(out), ..Rec::default() }),
        }
        (
            StepEnd::Ok(from_json(&out)),
            Rec {
                input: Some(json!({ "card": c.card.to_string(), "concurrency": f.concurrency })),
                output: Some(out),
                ..Rec::default()
            },
        )
    }

    /// One page: the card called with `after` (none for the first), recorded
    /// like a card step. Its `items` and its `next` (none when it is null or
    /// missing, or when the page is empty).
    async fn page(
        &self,
        c: &CardStep,
        frame: &Arc<Frame>,
        path: &str,
        after: Option<Json>,
    ) -> Result<(Vec<Value>, Option<Json>), Ctl> {
        let run = self.run;
        self.take_step(path).map_err(Ctl::Fail)?;
        let seq = run.seq.fetch_add(1, Ordering::Relaxed);
        let started = run.env.clock.now();
        let replay = if run.resume { run.env.journal.completed(path) } else { None };
        let (end, rec) = match &replay {
            Some(r) => {
                run.seq.fetch_max(r.seq + 1, Ordering::Relaxed);
                self.card(c, frame, path, Some(r), seq).await
            }
            None => {
                let mut input = {
                    let ctx = context(frame, &self.shared, path, seq);
                    match c.with.eval_json(&ctx) {
                        Ok(j) => j,
                        Err(e) => return Err(Ctl::Fail(self.expr_error(path, e))),
                    }
                };
                if let (Some(cursor), Some(map)) = (after, input.as_object_mut()) {
                    map.insert("after".into(), cursor);
                }
                self.call_card(c, input, path).await
            }
        };
        run.executed.fetch_add(1, Ordering::Relaxed);
        let error = match &end {
            StepEnd::Err(e) => Some(e.clone()),
            _ => None,
        };
        if replay.is_none() {
            self.journal(path, "card", rec, error, started, seq).await.map_err(Ctl::Fail)?;
        }
        let out = match end {
            StepEnd::Ok(v) => v,
            StepEnd::Ctl(c) => return Err(c),
            StepEnd::Err(e) => {
                run.failed.fetch_add(1, Ordering::Relaxed);
                return Err(Ctl::Fail(e));
            }
        };
        let json = crate::expr::to_json(&out).unwrap_or(Json::Null);
        let Some(items) = json.get("items").and_then(Json::as_array) else {
            return Err(Ctl::Fail(self.fail(
                ErrorKind::BadOutput,
                path,
                format!("card `{}` answered no `items` list, so it cannot be walked in pages", c.card.name),
            )));
        };
        let next = json.get("next").filter(|n| !n.is_null() && !items.is_empty()).cloned();
        Ok((items.iter().map(from_json).collect(), next))
    }

    /// Run the loop body once per item, `first` being the first item's index
    /// in the whole loop; at most `f.concurrency` at once. The iterations in
    /// order, or the first (by index) iteration that did not go on.
    async fn iterations(
        &self,
        f: &ForEachStep,
        frame: &Arc<Frame>,
        path: &str,
        items: Vec<Value>,
        first: usize,
        length: Option<usize>,
    ) -> Result<Vec<Iteration>, Ctl> {
        let n = items.len();
        let parent = frame.clone();
        let iteration = |i: usize, item: Value| {
            let mut child = Arc::new(Frame::child(
                &parent,
                LoopState {
                    var: f.var.clone(),
                    item,
                    index0: first + i,
                    length,
                },
            ));
            let p = format!("{path}[{}]", first + i);
            async move {
                let ctl = self.exec_block(&f.steps, &mut child, &p).await;
                let mut out = Vec::new();
                for s in &f.steps {
                    if let Some(Some(v)) = child.slots.get(s.slot) {
                        out.push((Value::from(&*s.id), v.clone()));
                    }
                }
                (i, ctl, Iteration { output: crate::expr::JsonMap::value(out), frame: child, path: p })
            }
        };
        let mut results: Vec<Option<Iteration>> = (0..n).map(|_| None).collect();
        let mut first_stop: Option<(usize, Ctl)> = None;
        if f.concurrency <= 1 {
            for (i, item) in items.into_iter().enumerate() {
                let (i, ctl, out) = iteration(i, item).await;
                match ctl {
                    Ctl::Next => results[i] = Some(out),
                    other => {
                        first_stop = Some((i, other));
                        break;
                    }
                }
            }
        } else {
            let mut pending = items.into_iter().enumerate();
            let mut running = FuturesUnordered::new();
            for (i, item) in pending.by_ref().take(f.concurrency) {
                running.push(iteration(i, item));
            }
            while let Some((i, ctl, out)) = running.next().await {
                let ctl = match ctl {
                    Ctl::Suspend(w) => Ctl::Fail(self.fail(
                        ErrorKind::Failed,
                        &w.step,
                        format!("a `wait` cannot run inside a `for_each` whose `concurrency` is {} (its iterations run at once); call the helper from a loop with concurrency 1", f.concurrency),
                    )),
                    other => other,
                };
                match ctl {
                    Ctl::Next => results[i] = Some(out),
                    // The first failure (by index) wins; iterations already
                    // running finish, no new ones start.
                    other => {
                        if first_stop.as_ref().is_none_or(|(j, _)| i < *j) {
                            first_stop = Some((i, other));
                        }
                    }
                }
                if first_stop.is_none()
                    && let Some((i, item)) = pending.next()
                {
                    running.push(iteration(i, item));
                }
            }
        }
        drop(parent);
        match first_stop {
            None => Ok(results.into_iter().flatten().collect()),
            Some((_, ctl)) => Err(ctl),
        }
    }

    async fn call(&self, c: &CallStep, frame: &Arc<Frame>, path: &str, replay: Option<&StepRecord>, seq: u64) -> (StepEnd, Rec) {
        let run = self.run;
        // A helper started on its own: its record says which run it is.
        if let (false, Some(r)) = (c.wait, replay) {
            let out = r.output.clone().unwrap_or(Json::Null);
            return (StepEnd::Ok(from_json(&out)), Rec { replayed: true, ..Rec::default() });
        }
        let Some(helper) = run.env.flows.helper(&c.flow) else {
            let e = self.fail(
                ErrorKind::Failed,
                path,
                format!("helper flow `{}` is not loaded", c.flow),
            );
            return (StepEnd::Err(e), Rec::default());
        };
        let Trigger::Flow(h) = &helper.trigger else {
            let e = self.fail(
                ErrorKind::Failed,
                path,
                format!(
                    "flow `{}` is not a helper flow (its trigger is {})",
                    c.flow,
                    helper.trigger.kind()
                ),
            );
            return (StepEnd::Err(e), Rec::default());
        };
        if self.depth + 1 > run.env.limits.max_call_depth {
            let e = self.fail(
                ErrorKind::Failed,
                path,
                format!(
                    "helper calls nested deeper than {}",
                    run.env.limits.max_call_depth
                ),
            );
            return (StepEnd::Err(e), Rec::default());
        }
        let input = {
            let ctx = context(frame, &self.shared, path, seq);
            match c.with.eval_json(&ctx) {
                Ok(j) => j,
                Err(e) => return (StepEnd::Err(self.expr_error(path, e)), Rec::default()),
            }
        };
        let input = match prepare_inputs(h, input) {
            Ok(i) => i,
            Err(m) => {
                let e = self.fail(
                    ErrorKind::InvalidInput,
                    path,
                    format!("call `{}`: {m}", c.flow),
                );
                return (StepEnd::Err(e), Rec::default());
            }
        };
        if !c.wait {
            return self.start_helper(c, input, path).await;
        }
        let event = from_json(&input);
        let sub = Invocation {
            run,
            flow: &helper,
            shared: Arc::new(RunShared {
                slots: helper.slots.clone(),
                inputs: Some(event.clone()),
                event,
                flow_name: helper.name.as_str().into(),
                run_id: run.run_id.clone(),
                dry_run: run.dry_run,
                clock: run.env.clock.clone(),
                links: run.env.links.clone(),
            }),
            depth: self.depth + 1,
        };
        let mut sub_frame = Arc::new(Frame::root(helper.slots.len()));
        let ctl = sub.exec_block(&helper.steps, &mut sub_frame, path).await;
        let mut rec = Rec {
            input: Some(input),
            ..Rec::default()
        };
        match ctl {
            Ctl::Next | Ctl::Stop(_) => {
                rec.output = Some(Json::Null);
                (StepEnd::Ok(Value::from(())), rec)
            }
            Ctl::Return(v) => {
                let value = from_json(&v);
                rec.output = Some(v);
                (StepEnd::Ok(value), rec)
            }
            Ctl::Suspend(w) => (StepEnd::Ctl(Ctl::Suspend(w)), rec),
            Ctl::Fail(e) => {
                if let Some(e2) = sub.on_failure(&e, &mut sub_frame, path).await {
                    tracing::warn!(flow = %helper.name, error = ?e2.message, "helper on_failure failed");
                }
                (StepEnd::Err(e), rec)
            }
        }
    }

    /// `call` with `wait: false`: the helper starts as a run of its own and
    /// this run goes on; the output is `{ flow, run_id }`. A dry run starts
    /// nothing: it records that it would (`run_id` none).
    async fn start_helper(&self, c: &CallStep, inputs: Json, path: &str) -> (StepEnd, Rec) {
        let run = self.run;
        let mut rec = Rec { input: Some(inputs.clone()), ..Rec::default() };
        let run_id = if run.dry_run {
            rec.effects.push(Effect { capability: "flow".into(), operation: format!("start {}", c.flow), args: inputs });
            Json::Null
        } else {
            let req = StartHelper { flow: c.flow.clone(), inputs, parent_run: run.run_id.to_string(), parent_step: path.to_string() };
            match run.env.flows.start(req).await {
                Ok(id) => Json::String(id),
                Err(m) => return (StepEnd::Err(self.fail(ErrorKind::Unavailable, path, format!("cannot start `{}`: {m}", c.flow))), rec),
            }
        };
        let out = json!({ "flow": c.flow, "run_id": run_id });
        rec.output = Some(out.clone());
        (StepEnd::Ok(from_json(&out)), rec)
    }
}

/// How a `wait` step ended.
#[derive(Debug, Clone, PartialEq)]
pub enum WaitEnd {
    /// Its time came (`for`, `until`).
    Time { until: DateTime<Utc> },
    /// Its signal came, with a choice (one of the step's `choices`) and/or data.
    Signal {
        name: String,
        choice: Option<String>,
        data: Json,
        /// Who or what sent it: `api`, `console`, `link`.
        by: String,
        at: DateTime<Utc>,
    },
}

/// What a `wait` step's output is, for how it ended.
pub fn wait_output(end: WaitEnd) -> Json {
    match end {
        WaitEnd::Time { until } => json!({ "resumed": "time", "until": crate::functions::time::fmt_time(until) }),
        WaitEnd::Signal { name, choice, data, by, at } => json!({
            "resumed": "signal",
            "signal": name,
            "choice": choice,
            "data": data,
            "by": by,
            "at": crate::functions::time::fmt_time(at),
        }),
    }
}

/// The record of a `wait` step that ended, for the engine to write before it
/// resumes the run: `end` is what came, or `None` for a signal's timeout
/// (the step fails with kind `timeout`, which its `on_error` may handle).
pub fn wait_record(run_id: &str, w: &WaitState, end: Option<WaitEnd>, now: DateTime<Utc>) -> StepRecord {
    let (output, error) = match end {
        Some(end) => (Some(wait_output(end)), None),
        None => (
            None,
            Some(ErrorInfo {
                kind: ErrorKind::Timeout,
                message: format!(
                    "no `{}` signal came before {}",
                    w.signal.as_deref().unwrap_or("?"),
                    w.until.map(crate::functions::time::fmt_time).unwrap_or_default()
                ),
                step: Some(w.step.clone()),
                card: None,
                retryable: false,
                detail: None,
            }),
        ),
    };
    StepRecord {
        run_id: run_id.to_string(),
        path: w.step.clone(),
        kind: "wait".into(),
        card: None,
        input: Some(json!({ "until": w.until.map(crate::functions::time::fmt_time), "signal": w.signal, "choices": w.choices })),
        output,
        error,
        attempts: 0,
        started: w.since,
        duration_ms: (now - w.since).num_milliseconds().max(0) as u64,
        fuel_used: 0,
        logs: Vec::new(),
        effects: Vec::new(),
        seq: w.seq,
        withheld: false,
    }
}

/// The text a `switch` subject is compared by.
fn subject_text(v: &Value) -> Option<String> {
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => None,
        ValueKind::String => v.as_str().map(str::to_string),
        ValueKind::Bool | ValueKind::Number => Some(v.to_string()),
        _ => None,
    }
}

/// The largest a `reduce:` value may grow (as JSON), as a card's output.
const MAX_REDUCE_BYTES: usize = 1024 * 1024;

/// One loop iteration that went on to its end: its output (its top-level
/// steps' outputs by id), its scope and its path.
struct Iteration {
    output: Value,
    frame: Arc<Frame>,
    path: String,
}
