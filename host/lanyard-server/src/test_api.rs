//! Testing from the builder: the admin routes that run what an admin is
//! editing before it is saved.
//!
//! - `POST /api/v1/flows/test` `{"source", "file"?, "event", "dry_run"}`: the
//!   given flow text, validated like a reload would with it in place of its
//!   file, run once against the loaded cards and helper flows. A dry run (the
//!   default) keeps its step records in memory, scrubbed as the journal
//!   scrubs, and hands them back: nothing reaches the history or the org. A
//!   real run is only ever of the saved flow (the text must be the file as
//!   loaded), so the history never names a version that does not exist.
//! - `POST /api/v1/flows/{name}/replay` `{"source", "count"}`: the events of
//!   the flow's last real runs, each dry-run through the given text, compared
//!   with what happened.
//! - `POST /api/v1/cards/{name}/test` `{"input", "version"?, "dry_run"}`: one
//!   call of one card.
//! - `GET /api/v1/okta/event-types/{type}/sample`: an event of that type to
//!   prefill a test form: the org's own latest one when its System Log has
//!   one, else a generated one about a real user of the org.
//!
//! This module must not write flow files (that is `crate::flow_api`'s job).
//! Everything it answers comes from a card call or the history and goes
//! through the engine's `Redactor` first.

use crate::engine::{Engine, StartOptions};
use lanyard_core::TokioSleeper;
use crate::flows::FlowSet;
use lanyard_core::admin_api as wire;
use crate::server::{allow, bad_request, decode_segment, internal, json_response, parse_json, read_body, require_admin, require_json, ApiError, Resp};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use http::{Method, Request, StatusCode};
use hyper::body::Incoming;
use lanyard_core::history::{RunRecord, RunStatus, StepRecord, TriggerInfo};
use lanyard_core::{CallContext, Redactor};
use lanyard_flow::interp::{CardCall, FlowLookup, Journal, JournalError, MemoryJournal};
use lanyard_flow::model::{CardRef, Flow, LimitOverrides};
use lanyard_flow::{run_flow, Diagnostic, Env, RunLimits, RunStart, SourceFile};
use lanyard_store::RunFilter;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest one test run may take before the answer gives up on it.
const TEST_RUN_LIMIT: Duration = Duration::from_secs(120);
/// The most runs one replay goes through.
pub const MAX_REPLAY: usize = 50;
/// The whole replay's time.
const REPLAY_LIMIT: Duration = Duration::from_secs(300);
/// How long a sample may wait on the Okta org.
const SAMPLE_WAIT: Duration = Duration::from_secs(5);
/// The differences listed per replayed run.
const MAX_DIFFERENCES: usize = 20;
/// The file name a new flow's text is validated under.
const DRAFT_FILE: &str = "(unsaved flow).yaml";

/// Whether `rest` (the path after `/api/v1/`) is one of this module's routes.
/// Checked before the registry's `cards/{name}/{version}`.
pub fn is_test_route(method: &Method, rest: &[&str]) -> bool {
    match rest {
        ["flows", "test"] | ["cards", _, "test"] => method == Method::POST,
        ["flows", _, "replay"] | ["okta", "event-types", _, "sample"] => true,
        _ => false,
    }
}

/// Serve one route of this module.
pub async fn handle(engine: &Engine, req: Request<Incoming>, rest: &[&str]) -> Result<Resp, ApiError> {
    let methods = match rest {
        ["okta", ..] => "GET",
        _ => "POST",
    };
    if req.method().as_str() != methods {
        return Err(allow(methods));
    }
    require_admin(engine, &req)?;
    match rest {
        ["flows", "test"] => {
            let body: TestBody = read_json(engine, req).await?;
            test_flow(engine, body).await
        }
        ["flows", name, "replay"] => {
            let name = decode_segment(name)?;
            let body: ReplayBody = read_json(engine, req).await?;
            replay(engine, &name, body).await
        }
        ["cards", name, "test"] => {
            let name = decode_segment(name)?;
            let body: CardTestBody = read_json(engine, req).await?;
            test_card(engine, &name, body).await
        }
        ["okta", "event-types", ty, "sample"] => sample(engine, &decode_segment(ty)?).await,
        _ => Err(internal("a test route without a handler")),
    }
}

async fn read_json<T: serde::de::DeserializeOwned>(engine: &Engine, req: Request<Incoming>) -> Result<T, ApiError> {
    require_json(&req, true)?;
    let body = read_body(req, engine.config().server.max_body_bytes).await?;
    let value = parse_json(&body)?;
    serde_json::from_value(value).map_err(|e| bad_request(format!("the body: {e}")))
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestBody {
    source: String,
    /// The file the text stands for (as `GET /api/v1/flows` names it); none
    /// for a flow that has no file yet.
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    event: Value,
    #[serde(default = "yes")]
    dry_run: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayBody {
    source: String,
    #[serde(default)]
    count: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CardTestBody {
    #[serde(default)]
    input: Value,
    #[serde(default)]
    version: Option<String>,
    #[serde(default = "yes")]
    dry_run: bool,
    /// The Okta org its Okta calls go to (default: the default org).
    #[serde(default)]
    org: Option<String>,
}

// -- a draft ----------------------------------------------------------------

/// The flow a text compiles to and the set it would load in (its helpers and
/// cards), checked exactly as a reload would check it with the text in place
/// of its file; or a 422 answer with the diagnostics.
async fn compile_draft(engine: &Engine, source: String, file: Option<String>) -> Result<Result<(Arc<Flow>, Arc<FlowSet>), Resp>, ApiError> {
    if source.len() as u64 > crate::flows::MAX_FLOW_FILE_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the flow is {} bytes; a flow file is at most {}", source.len(), crate::flows::MAX_FLOW_FILE_BYTES),
        ));
    }
    let dir = &engine.config().server.flows_dir;
    // Files are named as the admin API names them (relative to the flows
    // directory) or as loading reads them (the whole path).
    let path = match file {
        Some(f) => {
            let p = if std::path::Path::new(&f).starts_with(dir) { std::path::PathBuf::from(&f) } else { dir.join(&f) };
            if !crate::flows::is_flow_file(&p) || !p.is_file() || f.split(['/', '\\']).any(|c| c == "..") {
                return Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_file", format!("no flow file `{f}` is in the flows directory")));
            }
            p.display().to_string()
        }
        None => dir.join(DRAFT_FILE).display().to_string(),
    };
    let check = engine.check_flows_with(SourceFile::new(path.clone(), source)).await;
    if let (Some(flow), Some(set)) = (check.flow, check.set) {
        return Ok(Ok((flow, set)));
    }
    let errors: Vec<&Diagnostic> = check.diagnostics.iter().filter(|d| d.is_error() && d.file == path).collect();
    let message = match errors.len() {
        0 => match &check.refused {
            Some(e) => format!("the flow cannot run: {}", e.message),
            None => "the flow cannot run: it conflicts with another flow file (see the diagnostics)".to_string(),
        },
        1 => "the flow has an error; fix it to test".to_string(),
        n => format!("the flow has {n} errors; fix them to test"),
    };
    let shown: Vec<&Diagnostic> = if errors.is_empty() {
        check.diagnostics.iter().filter(|d| d.is_error()).collect()
    } else {
        errors
    };
    let invalid = wire::InvalidDraft { error: wire::ErrorBody::new("invalid", message), diagnostics: shown.into_iter().map(crate::admin_wire::diagnostic).collect() };
    Ok(Err(json_response(StatusCode::UNPROCESSABLE_ENTITY, &invalid)))
}

/// A journal kept in memory for a dry run, scrubbed as the store's is.
struct TestJournal {
    records: MemoryJournal,
    redactor: Arc<Redactor>,
}

#[async_trait]
impl Journal for TestJournal {
    fn completed(&self, path: &str) -> Option<StepRecord> {
        self.records.completed(path)
    }

    async fn record(&self, mut step: StepRecord) -> Result<(), JournalError> {
        self.redactor.scrub_step(&mut step);
        self.records.record(step).await
    }
}

/// One run of `flow` held only in memory, as dry as `dry_run` says.
struct TestRun {
    run: RunRecord,
    steps: Vec<StepRecord>,
}

async fn run_in_memory(engine: &Engine, set: &Arc<FlowSet>, flow: &Flow, input: Value, dry_run: bool) -> Result<TestRun, ApiError> {
    let redactor = engine.redactor().clone();
    let now = engine.clock().now();
    let mut input = input;
    crate::journal::scrub_run_input(&redactor, &mut input);
    let mut run = crate::runs::new_run(flow, TriggerInfo::Manual, input.clone(), None, dry_run, now);
    run.status = RunStatus::Running;
    run.started = Some(now);
    let journal = Arc::new(TestJournal {
        records: MemoryJournal::new(),
        redactor: redactor.clone(),
    });
    let env = Env {
        cards: set.invoker.clone(),
        journal: journal.clone(),
        clock: engine.clock().clone(),
        flows: set.clone() as Arc<dyn FlowLookup>,
        sleeper: Arc::new(TokioSleeper),
        // A draft's links are signed like a run's; they name no stored run,
        // so they answer nothing.
        links: engine.signal_links().clone(),
        limits: RunLimits::default(),
    };
    let start = RunStart {
        run_id: run.id.clone(),
        input,
        dry_run,
        resume: false,
    };
    let mut outcome = tokio::time::timeout(TEST_RUN_LIMIT, run_flow(flow, start, &env)).await.map_err(|_| {
        ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "test_timeout",
            format!("the test run took longer than {} s and was stopped", TEST_RUN_LIMIT.as_secs()),
        )
    })?;
    crate::journal::scrub_outcome(&redactor, &mut outcome);
    outcome.apply_to(&mut run);
    run.ended.get_or_insert_with(|| engine.clock().now());
    let mut steps = journal.records.records();
    steps.sort_by_key(|s| s.seq);
    Ok(TestRun { run, steps })
}

async fn test_flow(engine: &Engine, body: TestBody) -> Result<Resp, ApiError> {
    let (flow, draft_set) = match compile_draft(engine, body.source, body.file).await? {
        Ok(f) => f,
        Err(invalid) => return Ok(invalid),
    };
    let (input, subject) = crate::testflow::event_input(body.event).map_err(|e| bad_request(e.to_string()))?;
    if body.dry_run {
        let t = run_in_memory(engine, &draft_set, &flow, input, true).await?;
        let trace = lanyard_flow::render_trace(&t.run, &t.steps, &lanyard_flow::TraceOptions::default());
        let detail = wire::RunDetail::new(t.run, t.steps, trace);
        return Ok(json_response(StatusCode::OK, &wire::TestRun { detail, recorded: false }));
    }
    // A real run changes the org: it is of the saved flow and in the history.
    let set = engine.flows();
    let saved = set.get(&flow.name);
    if saved.map(|f| f.digest.as_str()) != Some(flow.digest.as_str()) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "unsaved",
            "a real run is only of the saved flow, so the history names a version that exists: save first, or test with a dry run",
        ));
    }
    let opts = StartOptions {
        dry_run: false,
        wait: true,
        timeout: Some(TEST_RUN_LIMIT),
        subject,
        force: true,
        observer: None,
        allow_helper: true,
        id: None,
    };
    let started = engine
        .start_run(&flow.name, TriggerInfo::Manual, input, opts)
        .await
        .map_err(|e| ApiError::new(StatusCode::CONFLICT, "not_started", e.to_string()))?;
    let Some(run) = started.outcome else {
        return Ok(json_response(
            StatusCode::ACCEPTED,
            &wire::TestRunGoing { run_id: started.run_id, recorded: true, message: "the run is still going; follow it on the Runs page".into() },
        ));
    };
    let steps = engine.store().steps(&run.id).await.map_err(|e| internal(e.to_string()))?;
    let trace = lanyard_flow::render_trace(&run, &steps, &lanyard_flow::TraceOptions::default());
    Ok(json_response(StatusCode::OK, &wire::TestRun { detail: wire::RunDetail::new(run, steps, trace), recorded: true }))
}

// -- replay -----------------------------------------------------------------

async fn replay(engine: &Engine, name: &str, body: ReplayBody) -> Result<Resp, ApiError> {
    let count = body.count.unwrap_or(10);
    if count == 0 || count > MAX_REPLAY {
        return Err(bad_request(format!("`count` is 1 to {MAX_REPLAY}, not {count}")));
    }
    let set = engine.flows();
    let loaded = set
        .get(name)
        .cloned()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "unknown_flow", format!("no flow named `{name}` is loaded")))?;
    let (draft, draft_set) = match compile_draft(engine, body.source, Some(loaded.file.clone())).await? {
        Ok(f) => f,
        Err(invalid) => return Ok(invalid),
    };
    let store = engine.store();
    // Real runs only: a test or a run by hand says nothing of what happens.
    let mut picked = Vec::new();
    let mut cursor = None;
    while picked.len() < count {
        let page = store
            .list_runs(&RunFilter {
                flow: Some(name.to_string()),
                limit: Some(200),
                cursor: cursor.take(),
                ..RunFilter::default()
            })
            .await
            .map_err(|e| internal(e.to_string()))?;
        picked.extend(
            page.runs
                .into_iter()
                .filter(|r| !r.dry_run && r.status.is_final() && !matches!(r.trigger, TriggerInfo::Manual | TriggerInfo::Rerun { .. } | TriggerInfo::Flow { .. }))
                .map(|r| r.id),
        );
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    picked.truncate(count);
    let deadline = Instant::now() + REPLAY_LIMIT;
    let mut runs = Vec::with_capacity(picked.len());
    for id in picked {
        let Some(run) = store.get_run(&id).await.map_err(|e| internal(e.to_string()))? else { continue };
        let before_steps = store.steps(&id).await.map_err(|e| internal(e.to_string()))?;
        let before = outcome_of(&run, &before_steps);
        let mut r = wire::Replayed {
            run_id: run.id.clone(),
            created: run.created,
            event_summary: event_summary(&run),
            before,
            after: None,
            effects: Vec::new(),
            differs: false,
            differences: Vec::new(),
        };
        if Instant::now() >= deadline {
            r.differences.push(format!("not replayed: the replay ran out of its {} s", REPLAY_LIMIT.as_secs()));
            runs.push(r);
            continue;
        }
        match run_in_memory(engine, &draft_set, &draft, run.input.clone(), true).await {
            Ok(t) => {
                r.effects = t.steps.iter().flat_map(|s| s.effects.iter().cloned()).map(Into::into).collect();
                r.differences = differences(&run, &before_steps, &t.run, &t.steps);
                r.differs = !r.differences.is_empty();
                r.after = Some(outcome_of(&t.run, &t.steps));
            }
            Err(e) => {
                r.differs = true;
                r.differences.push(format!("the edited flow could not run on this event: {}", e.message));
            }
        }
        runs.push(r);
    }
    Ok(json_response(StatusCode::OK, &wire::Replay { flow: name.to_string(), runs }))
}

fn step_status(s: &StepRecord) -> &'static str {
    if s.error.is_some() {
        "failed"
    } else {
        "succeeded"
    }
}

/// How one run went, step by step (by path, iterations apart).
fn outcome_of(run: &RunRecord, steps: &[StepRecord]) -> wire::ReplayOutcome {
    wire::ReplayOutcome {
        status: run.status,
        steps: latest_by_path(steps).into_iter().map(|(p, s)| (p, step_status(s).to_string())).collect(),
    }
}

/// A retried container is recorded again; the later record is how it ended.
fn latest_by_path(steps: &[StepRecord]) -> BTreeMap<String, &StepRecord> {
    let mut by_path = BTreeMap::new();
    for s in steps {
        by_path.insert(s.path.clone(), s);
    }
    by_path
}

/// What the edited flow would do differently, in words, the run's own end
/// first, then step by step in the order the steps began.
fn differences(before: &RunRecord, before_steps: &[StepRecord], after: &RunRecord, after_steps: &[StepRecord]) -> Vec<String> {
    let mut out = Vec::new();
    if before.status != after.status {
        let why = after.error.as_ref().map(|e| format!(" ({}: {})", e.kind, cut(&e.message, 160))).unwrap_or_default();
        out.push(format!("the run would end {} instead of {}{why}", after.status, before.status));
    }
    let b = latest_by_path(before_steps);
    let a = latest_by_path(after_steps);
    let mut paths: Vec<(&String, u64)> = a.iter().map(|(p, s)| (p, s.seq)).collect();
    paths.extend(b.iter().filter(|(p, _)| !a.contains_key(*p)).map(|(p, s)| (p, s.seq)));
    paths.sort_by_key(|(_, seq)| *seq);
    for (path, _) in paths {
        let line = match (b.get(path), a.get(path)) {
            (Some(_), None) => Some(format!("step `{path}` would not run")),
            (None, Some(s)) => Some(format!("step `{path}` would run{}", what_it_is(s))),
            (Some(x), Some(y)) => step_difference(path, x, y),
            (None, None) => None,
        };
        if let Some(l) = line {
            out.push(l);
        }
    }
    if out.len() > MAX_DIFFERENCES {
        let more = out.len() - MAX_DIFFERENCES;
        out.truncate(MAX_DIFFERENCES);
        out.push(format!("and {more} more"));
    }
    out
}

fn what_it_is(s: &StepRecord) -> String {
    match (&s.card, &s.error) {
        (_, Some(e)) => format!(" and fail ({}: {})", e.kind, cut(&e.message, 160)),
        (Some(card), None) => format!(" ({card})"),
        (None, None) => String::new(),
    }
}

fn step_difference(path: &str, before: &StepRecord, after: &StepRecord) -> Option<String> {
    match (&before.error, &after.error) {
        (None, Some(e)) => return Some(format!("step `{path}` would fail ({}: {}) where it succeeded", e.kind, cut(&e.message, 160))),
        (Some(_), None) => return Some(format!("step `{path}` would succeed where it failed")),
        _ => {}
    }
    match before.kind.as_str() {
        // Their decision is their output; the steps they chose show the rest.
        "if" | "switch" if before.output != after.output => Some(format!(
            "step `{path}` would decide {} instead of {}",
            short(after.output.as_ref()),
            short(before.output.as_ref())
        )),
        "card" | "call" if before.input != after.input => {
            let keys = changed_keys(before.input.as_ref(), after.input.as_ref());
            Some(if keys.is_empty() {
                format!("step `{path}` would be given different input")
            } else {
                format!("step `{path}` would be given different {}", keys.join("; "))
            })
        }
        _ => None,
    }
}

/// `text: "a" → "b"` for each top-level input key whose value changed.
fn changed_keys(before: Option<&Value>, after: Option<&Value>) -> Vec<String> {
    let (Some(Value::Object(b)), Some(Value::Object(a))) = (before, after) else {
        return Vec::new();
    };
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| b.get(*k) != a.get(*k))
        .take(4)
        .map(|k| format!("`{k}`: {} → {}", short(b.get(k)), short(a.get(k))))
        .collect()
}

fn short(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "none".into(),
        Some(Value::String(s)) => format!("\"{}\"", cut(s, 80)),
        Some(other) => cut(&other.to_string(), 80),
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max).collect();
    t.push('…');
    t
}

fn event_summary(run: &RunRecord) -> String {
    match &run.trigger {
        TriggerInfo::Okta { event_type, .. } => {
            let whom = run
                .input
                .get("target")
                .and_then(Value::as_array)
                .and_then(|t| t.first())
                .and_then(|t| t.get("alternateId").or_else(|| t.get("displayName")))
                .and_then(Value::as_str);
            match whom {
                Some(w) => format!("{event_type} · {w}"),
                None => event_type.clone(),
            }
        }
        TriggerInfo::Schedule { fire_time, .. } => format!("schedule fire at {}", fire_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        TriggerInfo::Api => "API call".into(),
        TriggerInfo::Flow { parent_run, .. } => format!("called by run {parent_run}"),
        TriggerInfo::Manual => "run by hand".into(),
        TriggerInfo::Rerun { of } => format!("re-run of run {of}"),
    }
}

// -- one card ---------------------------------------------------------------

async fn test_card(engine: &Engine, name: &str, body: CardTestBody) -> Result<Resp, ApiError> {
    let spec = match &body.version {
        Some(v) => format!("{name}@{v}"),
        None => name.to_string(),
    };
    let card = CardRef::parse(&spec).map_err(bad_request)?;
    let set = engine.flows();
    if set.cards().resolve(&card).is_none() {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_card", format!("no loaded card matches `{spec}`")));
    }
    if let Some(org) = &body.org
        && engine.orgs().get(org).is_none()
    {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "unknown_org", format!("no Okta org named `{org}` is configured")));
    }
    let now = engine.clock().now();
    let run_id = format!("card-test-{}", lanyard_store::new_run_id(now));
    let call = CardCall {
        card,
        input: body.input.clone(),
        ctx: CallContext::new(&run_id, "(card test)", name, 1, body.dry_run),
        limits: LimitOverrides::default(),
        org: body.org.clone(),
    };
    let began = Instant::now();
    let result = set.invoker.call(call).await;
    let duration_ms = began.elapsed().as_millis() as u64;
    // The same shape the history keeps, so it is scrubbed the same way.
    let mut step = StepRecord {
        run_id,
        path: name.to_string(),
        kind: "card".into(),
        card: Some(result.card.clone()),
        input: Some(body.input),
        output: result.result.as_ref().ok().cloned(),
        error: result.result.as_ref().err().map(|e| lanyard_core::history::ErrorInfo::from_card_error(e, Some(name), Some(&result.card))),
        attempts: 1,
        started: now,
        duration_ms,
        fuel_used: result.fuel_used,
        logs: result.logs,
        effects: result.effects,
        seq: 0,
        withheld: false,
    };
    engine.redactor().scrub_step(&mut step);
    Ok(json_response(
        StatusCode::OK,
        &wire::CardTest {
            ok: step.error.is_none(),
            card: step.card,
            output: step.output,
            error: step.error.map(Into::into),
            logs: step.logs.into_iter().map(Into::into).collect(),
            effects: step.effects.into_iter().map(Into::into).collect(),
            fuel_used: step.fuel_used,
            duration_ms: step.duration_ms,
            dry_run: body.dry_run,
        },
    ))
}

// -- samples ----------------------------------------------------------------

async fn sample(engine: &Engine, event_type: &str) -> Result<Resp, ApiError> {
    if !lanyard_core::event::is_hook_event_type(event_type) {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_event_type",
            format!("`{event_type}` is not an event type Okta delivers through Event Hooks"),
        ));
    }
    let mut event = None;
    let mut user = None;
    if let Some(client) = engine.okta_client() {
        let query = lanyard_core::okta::LogQuery {
            filter: Some(format!("eventType eq \"{}\"", lanyard_okta::client::escape_filter_value(event_type))),
            limit: Some(20),
            ..Default::default()
        };
        if let Ok(Ok(found)) = tokio::time::timeout(SAMPLE_WAIT, client.query_logs(&query)).await {
            event = found.into_iter().last();
        }
        if event.is_none() {
            let q = lanyard_core::okta::UserQuery {
                limit: Some(1),
                ..Default::default()
            };
            if let Ok(Ok(users)) = tokio::time::timeout(SAMPLE_WAIT, client.list_users(&q)).await {
                user = users.into_iter().next();
            }
        }
    }
    let (source, mut event) = match event {
        Some(e) => ("org", e),
        None => ("generated", generated_event(event_type, user.as_ref(), engine.clock().now())),
    };
    engine.redactor().scrub_json(&mut event);
    Ok(json_response(StatusCode::OK, &wire::EventSample { event_type: event_type.to_string(), source: source.to_string(), event }))
}

/// A LogEvent of `event_type` as Okta would write it, about `user` when the
/// org has one, with targets of the types such an event carries.
fn generated_event(event_type: &str, user: Option<&lanyard_core::okta::User>, now: DateTime<Utc>) -> Value {
    let target_user = match user {
        Some(u) => json!({
            "id": u.id,
            "type": "User",
            "alternateId": u.profile.get("login").cloned().unwrap_or(Value::Null),
            "displayName": format!(
                "{} {}",
                u.profile.get("firstName").and_then(Value::as_str).unwrap_or(""),
                u.profile.get("lastName").and_then(Value::as_str).unwrap_or("")
            ).trim(),
        }),
        None => json!({ "id": "00u1sample0000000000", "type": "User", "alternateId": "sample.user@example.com", "displayName": "Sample User" }),
    };
    let mut targets = vec![target_user];
    if event_type.starts_with("group.user_membership.") || event_type.starts_with("group.") {
        targets.push(json!({ "id": "00g1sample0000000000", "type": "UserGroup", "alternateId": "unknown", "displayName": "Sample Group" }));
    } else if event_type.starts_with("application.user_membership.") || event_type.starts_with("app.") || event_type.starts_with("application.") {
        targets.push(json!({ "id": "0oa1sample0000000000", "type": "AppInstance", "alternateId": "Sample App", "displayName": "Sample App" }));
    }
    let uuid = lanyard_store::new_run_id(now).to_lowercase();
    json!({
        "uuid": uuid,
        "published": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "eventType": event_type,
        "version": "0",
        "severity": "INFO",
        "displayMessage": format!("Sample event {event_type}"),
        "actor": { "id": "00u1sampleadmin00000", "type": "User", "alternateId": "it-admin@example.com", "displayName": "IT Admin" },
        "client": { "userAgent": { "rawUserAgent": "lanyard sample" }, "zone": "null", "device": "Computer", "ipAddress": "192.0.2.10" },
        "outcome": { "result": "SUCCESS", "reason": null },
        "target": targets,
        "transaction": { "type": "WEB", "id": format!("sample-{uuid}"), "detail": {} },
        "debugContext": { "debugData": {} },
        "legacyEventType": null,
        "authenticationContext": { "externalSessionId": "sample" },
        "securityContext": {},
    })
}
