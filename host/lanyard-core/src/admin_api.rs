//! The admin API's wire types: what `/api/v1/...` answers, as JSON.
//!
//! The daemon (`lanyard-server`) serializes these and the CLI's admin client
//! deserializes them; neither sends its internal types (history records, store
//! rows, the card set) straight onto the wire, so renaming a field inside the
//! daemon cannot change the API. A change here is a change to the API: the
//! console (`console/assets/api.js`) and the e2e tests read the same JSON, and
//! the tests below pin each shape.
//!
//! This module is serde only: no HTTP, no store, no server. The vocabulary
//! enums that already have one spelling everywhere (`RunStatus`, `ErrorKind`,
//! `WriteOutcome`, `Grants`) are used as they are; the tests pin their JSON
//! here too. Conversions from core's own records are here (the orphan rule
//! keeps them out of the crates that use both); those from the store's, the
//! flow model's and the daemon's types are the server's (`admin_wire.rs`).

use crate::history::{self, RunStatus};
use crate::{ErrorKind, Grants, WriteOutcome};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

// -- errors -----------------------------------------------------------------------

/// Every refusal: `{"error": {...}}` with a 4xx or 5xx status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorAnswer {
    pub error: ErrorBody,
}

/// What went wrong: a code for programs, a message for people, and what a
/// route adds (the registry: `detail`, `problems`, `flows`; a refused flow
/// write or reload: `diagnostics`, `rendered`, `current`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<String>>,
    /// The flows that use a card that cannot be removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flows: Option<Vec<String>>,
    /// Why flows were refused (`POST /api/v1/admin/reload`, a flow write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Vec<Diagnostic>>,
    /// Those diagnostics rendered for people, with source lines (a reload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rendered: Option<String>,
    /// The file as it is now, when it changed since the writer read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<FlowText>,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> ErrorBody {
        ErrorBody {
            code: code.into(),
            message: message.into(),
            detail: None,
            problems: None,
            flows: None,
            diagnostics: None,
            rendered: None,
            current: None,
        }
    }
}

// -- runs ---------------------------------------------------------------------------

/// `GET /api/v1/runs`: a page of runs, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunList {
    pub runs: Vec<ListedRun>,
    /// Where the next page starts (`cursor`), when there may be more.
    pub next_cursor: Option<String>,
}

/// A run in a listing: its `input` left out (null; `GET /api/v1/runs/{id}`
/// has it), and whom it is about in people's words when the event says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedRun {
    #[serde(flatten)]
    pub run: Run,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<Who>,
}

/// The user an Okta event targets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Who {
    pub login: Option<String>,
    pub name: Option<String>,
}

/// `GET /api/v1/runs/{id}`: the run, its steps and its trace as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetail {
    pub run: Run,
    pub steps: Vec<Step>,
    pub trace: String,
}

impl RunDetail {
    /// The wire form of a run and its steps, with its trace.
    pub fn new(run: history::RunRecord, steps: Vec<history::StepRecord>, trace: String) -> RunDetail {
        RunDetail { run: run.into(), steps: steps.into_iter().map(Into::into).collect(), trace }
    }
}

/// `POST /api/v1/test/flow`: a draft's run, and whether the history has it
/// (a dry run is kept in memory only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestRun {
    #[serde(flatten)]
    pub detail: RunDetail,
    pub recorded: bool,
}

/// `POST /api/v1/flows/{name}/run`: the run started, and with `wait` how
/// it ended (202 and no `run` while it is still going).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStarted {
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<Run>,
}

/// `POST /api/v1/runs/{id}/rerun`: the new run, queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rerun {
    pub run_id: String,
    pub dry_run: bool,
}

/// `POST /api/v1/runs/{id}/cancel`: what cancelling did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancelled {
    pub run_id: String,
    pub cancelled: CancelOutcome,
}

/// What cancelling a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelOutcome {
    /// It was waiting and will not run.
    Dequeued,
    /// It was running and has been stopped.
    Stopped,
}

/// One run of a flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    pub flow: String,
    pub flow_digest: String,
    pub trigger: Trigger,
    pub input: Value,
    pub status: RunStatus,
    pub created: DateTime<Utc>,
    #[serde(default)]
    pub started: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ended: Option<DateTime<Utc>>,
    #[serde(default)]
    pub output: Option<Value>,
    #[serde(default)]
    pub error: Option<Failure>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
}

/// What started a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Trigger {
    Okta { event_type: String, event_uuid: String, source: String },
    Schedule { cron: String, timezone: String, fire_time: DateTime<Utc> },
    Api,
    Flow { parent_run: String, parent_step: String },
    Manual,
    Rerun { of: String },
}

/// A failure, and where it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
    #[serde(default)]
    pub step: Option<String>,
    #[serde(default)]
    pub card: Option<String>,
    #[serde(default)]
    pub retryable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One executed step (one iteration of a step inside `for_each`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub run_id: String,
    pub path: String,
    pub kind: String,
    #[serde(default)]
    pub card: Option<String>,
    #[serde(default)]
    pub input: Option<Value>,
    #[serde(default)]
    pub output: Option<Value>,
    #[serde(default)]
    pub error: Option<Failure>,
    pub attempts: u32,
    pub started: DateTime<Utc>,
    pub duration_ms: u64,
    #[serde(default)]
    pub fuel_used: u64,
    #[serde(default)]
    pub logs: Vec<LogLine>,
    #[serde(default)]
    pub effects: Vec<Effect>,
    #[serde(default)]
    pub seq: u64,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withheld: bool,
}

/// A log line a card wrote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    pub level: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Value>,
}

/// A write a dry run recorded instead of doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    pub capability: String,
    pub operation: String,
    pub args: Value,
}

impl From<history::TriggerInfo> for Trigger {
    fn from(t: history::TriggerInfo) -> Trigger {
        use history::TriggerInfo as T;
        match t {
            T::Okta { event_type, event_uuid, source } => Trigger::Okta { event_type, event_uuid, source },
            T::Schedule { cron, timezone, fire_time } => Trigger::Schedule { cron, timezone, fire_time },
            T::Api => Trigger::Api,
            T::Flow { parent_run, parent_step } => Trigger::Flow { parent_run, parent_step },
            T::Manual => Trigger::Manual,
            T::Rerun { of } => Trigger::Rerun { of },
        }
    }
}

impl From<Trigger> for history::TriggerInfo {
    fn from(t: Trigger) -> history::TriggerInfo {
        use history::TriggerInfo as T;
        match t {
            Trigger::Okta { event_type, event_uuid, source } => T::Okta { event_type, event_uuid, source },
            Trigger::Schedule { cron, timezone, fire_time } => T::Schedule { cron, timezone, fire_time },
            Trigger::Api => T::Api,
            Trigger::Flow { parent_run, parent_step } => T::Flow { parent_run, parent_step },
            Trigger::Manual => T::Manual,
            Trigger::Rerun { of } => T::Rerun { of },
        }
    }
}

impl From<history::ErrorInfo> for Failure {
    fn from(e: history::ErrorInfo) -> Failure {
        let history::ErrorInfo { kind, message, step, card, retryable, detail } = e;
        Failure { kind, message, step, card, retryable, detail }
    }
}

impl From<Failure> for history::ErrorInfo {
    fn from(e: Failure) -> history::ErrorInfo {
        let Failure { kind, message, step, card, retryable, detail } = e;
        history::ErrorInfo { kind, message, step, card, retryable, detail }
    }
}

impl From<history::RunRecord> for Run {
    fn from(r: history::RunRecord) -> Run {
        let history::RunRecord { id, flow, flow_digest, trigger, input, status, created, started, ended, output, error, reason, subject, dry_run } = r;
        Run { id, flow, flow_digest, trigger: trigger.into(), input, status, created, started, ended, output, error: error.map(Into::into), reason, subject, dry_run }
    }
}

impl From<Run> for history::RunRecord {
    fn from(r: Run) -> history::RunRecord {
        let Run { id, flow, flow_digest, trigger, input, status, created, started, ended, output, error, reason, subject, dry_run } = r;
        history::RunRecord { id, flow, flow_digest, trigger: trigger.into(), input, status, created, started, ended, output, error: error.map(Into::into), reason, subject, dry_run }
    }
}

impl From<history::StepRecord> for Step {
    fn from(s: history::StepRecord) -> Step {
        let history::StepRecord { run_id, path, kind, card, input, output, error, attempts, started, duration_ms, fuel_used, logs, effects, seq, withheld } = s;
        Step {
            run_id,
            path,
            kind,
            card,
            input,
            output,
            error: error.map(Into::into),
            attempts,
            started,
            duration_ms,
            fuel_used,
            logs: logs.into_iter().map(Into::into).collect(),
            effects: effects.into_iter().map(Into::into).collect(),
            seq,
            withheld,
        }
    }
}

impl From<history::LogLine> for LogLine {
    fn from(l: history::LogLine) -> LogLine {
        LogLine { level: l.level, message: l.message, fields: l.fields }
    }
}

impl From<history::Effect> for Effect {
    fn from(e: history::Effect) -> Effect {
        Effect { capability: e.capability, operation: e.operation, args: e.args }
    }
}

impl From<Step> for history::StepRecord {
    fn from(s: Step) -> history::StepRecord {
        let Step { run_id, path, kind, card, input, output, error, attempts, started, duration_ms, fuel_used, logs, effects, seq, withheld } = s;
        history::StepRecord {
            run_id,
            path,
            kind,
            card,
            input,
            output,
            error: error.map(Into::into),
            attempts,
            started,
            duration_ms,
            fuel_used,
            logs: logs.into_iter().map(|l| history::LogLine { level: l.level, message: l.message, fields: l.fields }).collect(),
            effects: effects.into_iter().map(|e| history::Effect { capability: e.capability, operation: e.operation, args: e.args }).collect(),
            seq,
            withheld,
        }
    }
}

// -- flows --------------------------------------------------------------------------

/// `GET /api/v1/flows`: the loaded flows, the last reload, and why the
/// numbers are missing when the store could not say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowList {
    pub flows: Vec<ListedFlow>,
    pub status: ReloadStatus,
    pub stats_error: Option<String>,
}

/// The last reload (`GET /api/v1/flows`, `status`; `POST /api/v1/admin/reload`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReloadStatus {
    pub generation: u64,
    pub loaded_at: DateTime<Utc>,
    /// Flows loaded.
    pub flows: u64,
    /// The last reload that failed, if it is more recent than the last success.
    pub last_error: Option<LoadError>,
}

/// A reload that failed; the flows loaded before stayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadError {
    pub at: DateTime<Utc>,
    /// One line.
    pub message: String,
    pub diagnostics: Vec<Diagnostic>,
    /// The diagnostics rendered for people (with source lines).
    pub rendered: String,
}

/// A loaded flow in `GET /api/v1/flows` (`flows`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListedFlow {
    pub name: String,
    pub description: String,
    /// Its file, relative to the flows folder.
    pub file: String,
    pub digest: String,
    pub enabled: bool,
    pub trigger: FlowTrigger,
    /// A run of it is going now.
    pub running: bool,
    /// Its numbers; `null` when the store could not say (`stats_error`).
    pub stats: Option<FlowStats>,
    /// It is `[error_flow]`: the daemon calls it for every failed run.
    pub error_flow: bool,
}

/// What starts a flow: `"manual"` for a manual flow without inputs (as it
/// is written), else `{ kind: value }`.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowTrigger {
    Okta(OktaTrigger),
    Schedule(ScheduleTrigger),
    Api(ApiTrigger),
    /// A helper flow, run by `call` from another flow.
    Flow(HelperTrigger),
    Manual(HelperTrigger),
}

impl Serialize for FlowTrigger {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "snake_case")]
        enum Tagged<'a> {
            Okta(&'a OktaTrigger),
            Schedule(&'a ScheduleTrigger),
            Api(&'a ApiTrigger),
            Flow(&'a HelperTrigger),
            Manual(&'a HelperTrigger),
        }
        match self {
            FlowTrigger::Manual(h) if h.inputs.is_empty() => s.serialize_str("manual"),
            FlowTrigger::Manual(h) => Tagged::Manual(h).serialize(s),
            FlowTrigger::Okta(t) => Tagged::Okta(t).serialize(s),
            FlowTrigger::Schedule(t) => Tagged::Schedule(t).serialize(s),
            FlowTrigger::Api(t) => Tagged::Api(t).serialize(s),
            FlowTrigger::Flow(t) => Tagged::Flow(t).serialize(s),
        }
    }
}

/// `okta:` Event Hook event types, and what else decides.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OktaTrigger {
    pub event_types: Vec<String>,
    /// The filter expression, as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    pub include_own_events: bool,
    /// The org whose events start the flow.
    pub org: String,
}

/// `schedule: { cron, timezone, catch_up, overlap }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScheduleTrigger {
    pub cron: String,
    /// An IANA name (`Europe/Paris`).
    pub timezone: String,
    /// `skip` or `once`.
    pub catch_up: String,
    pub overlap: bool,
}

/// `api:`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiTrigger {
    /// How long an invoke waits for the run (`30s`), in the units grammar.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_timeout: Option<String>,
}

/// A helper or manual flow's declared inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HelperTrigger {
    pub inputs: Vec<FlowInput>,
}

/// One declared input.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowInput {
    pub name: String,
    /// string, number, integer, boolean, object or array.
    #[serde(rename = "type")]
    pub ty: String,
    pub required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A flow's numbers for the Flows page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowStats {
    /// The newest run that ended.
    pub last_run: Option<LastRun>,
    /// Runs created in the last 24 hours, by how they ended.
    pub last_24h: std::collections::BTreeMap<RunStatus, u64>,
    /// There were more runs than the daemon counted at start.
    pub more: bool,
}

/// The newest run of a flow that ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastRun {
    pub id: String,
    pub status: RunStatus,
    pub created: DateTime<Utc>,
    pub ended: Option<DateTime<Utc>>,
}

// -- flow files (the builder) ------------------------------------------------------

/// A save, a revert: the file as written now, and the flow set it is in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowSaved {
    pub name: String,
    pub etag: String,
    pub version: u64,
    /// The flow set's generation after the reload the write made.
    pub generation: u64,
}

/// `POST /api/v1/flows`: a new file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowCreated {
    pub name: String,
    pub file: String,
    pub etag: String,
    pub version: u64,
}

/// `PUT /api/v1/flows/{name}/enabled`: `changed: false` when it already was
/// so (nothing written, no generation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowToggled {
    pub etag: String,
    pub version: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
    pub changed: bool,
}

/// `GET /api/v1/flows/{name}/versions`: the kept versions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowVersions {
    pub file: String,
    pub versions: Vec<FlowVersionSummary>,
}

/// A kept version, without its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowVersionSummary {
    pub version: u64,
    pub at: DateTime<Utc>,
    pub etag: String,
    pub note: Option<String>,
    /// `create`, `save`, `enable`, `disable`, `revert` or `found`.
    pub action: String,
}

/// `GET /api/v1/flows/{name}/versions/{n}`: a kept version and its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowVersion {
    pub version: u64,
    pub at: DateTime<Utc>,
    pub file: String,
    pub etag: String,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub source: String,
}

/// `GET /api/v1/audit`, `GET /api/v1/flows/{name}/audit`: writes, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditList {
    pub entries: Vec<AuditEntry>,
}

/// One write to a flow file, in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub flow: String,
    pub file: String,
    pub action: String,
    pub version: Option<u64>,
    pub note: Option<String>,
    /// What changed ("added step notify; turned off").
    pub summary: String,
}

/// `GET /api/v1/flows/{name}`: a flow's file as it is on disk, what
/// validation says of it, and its outline (`ETag` header too).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowFile {
    pub name: String,
    /// Relative to the flows folder.
    pub file: String,
    pub source: String,
    pub etag: String,
    pub enabled: bool,
    pub diagnostics: Vec<Diagnostic>,
    /// `null` when the file does not compile. See [`Outline`].
    pub outline: Option<Outline>,
}

/// `POST /api/v1/flows/check`: a draft checked as a reload would check it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlowCheck {
    pub ok: bool,
    pub diagnostics: Vec<Diagnostic>,
    /// `null` when the draft does not compile. See [`Outline`].
    pub outline: Option<Outline>,
}

/// The builder's diagram model of a flow (`lanyard_flow::outline::Outline`),
/// carried as that crate serializes it: it is the flow crate's own document,
/// which the console draws as a whole, so it is not restated field by field
/// here (and `lanyard-core` does not depend on the flow crate).
pub type Outline = Value;

/// A flow file's text and its etag (`current` in a `changed` refusal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowText {
    pub etag: String,
    pub source: String,
}

/// One problem in one flow file, as validation reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable kebab-case name of the kind of problem (`unknown-card`);
    /// `flow-set` for a refusal of the whole set that names no file.
    pub code: String,
    pub file: String,
    /// Where it is (0:0 for the whole file); none for `flow-set`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<Span>,
    pub message: String,
    /// The step it concerns: `steps[2] (id: sessions) > on_error[0]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// How to fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A range in a file; `end` is exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

/// A place in a file: 1-based line, 1-based column in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

// -- tables -------------------------------------------------------------------------

/// `GET /api/v1/tables`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableList {
    pub tables: Vec<TableSummary>,
}

/// A table and its size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableSummary {
    pub name: String,
    pub rows: u64,
    /// Keys and rows as stored, in bytes.
    #[serde(default)]
    pub bytes: u64,
}

/// `GET /api/v1/tables/{table}/rows/{key}`, and a row of a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub key: String,
    pub value: Value,
}

impl From<crate::caps::TableRow> for Row {
    fn from(r: crate::caps::TableRow) -> Row {
        Row { key: r.key, value: r.value }
    }
}

/// `GET /api/v1/tables/{table}/rows`: a page of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowPage {
    pub table: String,
    pub rows: Vec<Row>,
    /// Where the next page starts (`after`), when there may be more.
    pub next: Option<String>,
    /// Rows looked at for this page.
    pub examined: u64,
}

/// `PUT` and `DELETE /api/v1/tables/{table}/rows/{key}`: whether it changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowWritten {
    pub key: String,
    pub outcome: WriteOutcome,
}

/// `PUT /api/v1/tables/{table}/csv`: what the import did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Imported {
    pub table: String,
    pub imported: ImportCounts,
}

/// Rows an import inserted, updated, left as they were, and deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub deleted: u64,
}

/// `DELETE /api/v1/tables/{table}`: every row gone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cleared {
    pub table: String,
    pub deleted: u64,
}

// -- cards ------------------------------------------------------------------------

/// `GET /api/v1/cards`: every version of every card flows can name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardList {
    pub cards: Vec<ListedCard>,
}

/// One version of one card, as the daemon has it loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedCard {
    pub name: String,
    pub version: String,
    pub digest: String,
    pub source: CardSource,
    pub description: String,
    /// The palette group: Okta, Slack, Mail, HTTP, Tables or Custom.
    pub group: String,
    pub input_schema: Value,
    pub output_schema: Value,
    pub requested: Grants,
    pub granted: Grants,
    /// Bytes of wasm.
    pub size: u64,
    /// The loaded flows whose steps resolve to this version.
    pub used_by: Vec<String>,
    pub usage: CardUsage,
    pub loaded: bool,
    /// Waiting for an operator to decide on its grants.
    pub held: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken: Option<CardBroken>,
}

/// Where a card came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardSource {
    Builtin,
    Registry,
}

/// A card's calls since the daemon started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardUsage {
    pub calls: u64,
    pub errors: u64,
    /// Wasm fuel burned by those calls.
    pub fuel: u64,
}

/// Why a card version is broken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardBroken {
    pub message: String,
    pub kind: ErrorKind,
    pub since: DateTime<Utc>,
}

/// `GET /api/v1/cards/{name}`: the registry's versions of a card.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardVersions {
    pub name: String,
    pub versions: Vec<CardView>,
}

/// `POST /api/v1/cards`, `PUT /api/v1/cards/{name}`: what publishing did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Publication {
    pub published: Published,
    pub reload: RegistryReload,
}

/// `POST /api/v1/cards/{name}/{version}/grants`: the version as granted now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantAnswer {
    pub card: CardView,
    pub reload: RegistryReload,
}

/// `DELETE /api/v1/cards/{name}/{version}`: the version removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Removal {
    pub removed: CardView,
    pub reload: RegistryReload,
}

/// Whether the flows reloaded after a registry change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryReload {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<u64>,
    /// Why the flows did not reload (the ones loaded before stay in use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where a version's grants stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantState {
    /// It asks for nothing.
    NoneNeeded,
    /// It asks for capabilities and nobody has decided: held.
    Pending,
    /// Everything it asks for is granted (a `*` by at least one concrete name).
    Granted,
    /// An operator decided, and left some of what it asks for out.
    Partial,
}

impl std::fmt::Display for GrantState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GrantState::NoneNeeded => "none needed",
            GrantState::Pending => "pending",
            GrantState::Granted => "granted",
            GrantState::Partial => "partial",
        })
    }
}

/// One published version, as `card show`, `card list` and the API present it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardView {
    pub name: String,
    pub version: String,
    pub digest: String,
    pub size: u64,
    pub published_at: DateTime<Utc>,
    pub description: String,
    /// The `lanyard:card` version it was built against.
    pub world: Option<String>,
    pub input_schema: Value,
    pub output_schema: Value,
    /// What it asks for.
    pub requested: Vec<String>,
    /// What `lanyard card grant` stored; `None`: nobody has decided.
    pub granted: Option<Vec<String>>,
    /// What `[cards."name"] grants` in lanyard.toml gives every version of it.
    pub configured: Option<Vec<String>>,
    /// What its calls get: (granted ∪ configured) ∩ requested.
    pub effective: Vec<String>,
    pub state: GrantState,
    /// What it asks for and does not get.
    pub missing: Vec<String>,
    /// The command that grants what it asks for (with `<name>` where the
    /// operator chooses a connection or table), while something is missing.
    pub approve: Option<String>,
    /// Loaded flows whose steps resolve to this version (when known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_by: Option<Vec<String>>,
    /// The daemon could not load it (its describe() ran past its deadline, or
    /// failed): why. Its steps fail at once until it is published again.
    /// Known only to a running daemon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broken: Option<String>,
}

/// What publishing a card did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Published {
    pub card: CardView,
    /// `false`: exactly these bytes were already published under this name
    /// and version; nothing changed.
    pub new: bool,
    /// The component's imports.
    pub imports: Vec<String>,
    /// How long validation, compiling and `describe()` took.
    pub load_ms: u64,
    /// Whether the compiled code was already in the cache.
    pub compiled_before: bool,
}

// -- testing from the builder ------------------------------------------------------

/// `POST /api/v1/flows/test`, `POST /api/v1/flows/{name}/replay`: 422, a
/// draft that cannot run. Its diagnostics are beside the error object, not
/// in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvalidDraft {
    pub error: ErrorBody,
    pub diagnostics: Vec<Diagnostic>,
}

/// `POST /api/v1/flows/test`: 202, a real run still going when the test
/// stopped waiting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestRunGoing {
    pub run_id: String,
    pub recorded: bool,
    /// Where to follow it, in words.
    pub message: String,
}

/// `POST /api/v1/flows/{name}/replay`: the flow's last real runs, each
/// dry-run through the edited text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replay {
    pub flow: String,
    pub runs: Vec<Replayed>,
}

/// One past run, how it went, and how the edited flow would go on its event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replayed {
    pub run_id: String,
    pub created: DateTime<Utc>,
    /// Whom or what its event is about, in a line.
    pub event_summary: String,
    pub before: ReplayOutcome,
    /// `null` when the edited flow was not run on it (out of time, or it
    /// could not run: `differences` says).
    pub after: Option<ReplayOutcome>,
    /// What the dry run would have written.
    pub effects: Vec<Effect>,
    pub differs: bool,
    /// What differs, in words.
    pub differences: Vec<String>,
}

/// How one run went: its status and each step's (by path, iterations apart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayOutcome {
    pub status: RunStatus,
    /// `succeeded` or `failed`, by step path.
    pub steps: std::collections::BTreeMap<String, String>,
}

/// `POST /api/v1/cards/{name}/test`: one call of one card, scrubbed as the
/// history is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CardTest {
    /// `name@version`, as resolved.
    pub card: Option<String>,
    pub ok: bool,
    pub output: Option<Value>,
    pub error: Option<Failure>,
    pub logs: Vec<LogLine>,
    pub effects: Vec<Effect>,
    pub fuel_used: u64,
    pub duration_ms: u64,
    pub dry_run: bool,
}

/// `GET /api/v1/okta/event-types/{type}/sample`: an event to prefill a test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventSample {
    pub event_type: String,
    /// `org` (the org's latest) or `generated`.
    pub source: String,
    pub event: Value,
}

// -- the builder's reference -------------------------------------------------------

/// `GET /api/v1/okta/event-types`: every type Event Hooks deliver.
/// (`GET /api/v1/okta/event-schema` answers the LogEvent JSON Schema itself,
/// `crate::event_catalog::log_event_schema`: the document is the content.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventTypes {
    pub event_types: Vec<EventType>,
}

/// One Okta event type in people's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventType {
    #[serde(rename = "type")]
    pub event_type: String,
    pub name: String,
    pub description: String,
    pub category: String,
    /// `When a user is deactivated in Okta`.
    pub words: String,
}

impl From<&crate::event_catalog::EventTypeInfo> for EventType {
    fn from(e: &crate::event_catalog::EventTypeInfo) -> EventType {
        EventType {
            event_type: e.event_type.clone(),
            name: e.name.clone(),
            description: e.description.clone(),
            category: e.category.clone(),
            words: e.words.clone(),
        }
    }
}

/// `GET /api/v1/schedule/preview`: a schedule in words and its next fire times.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchedulePreview {
    /// `Every weekday at 09:00 (America/New_York)`.
    pub words: String,
    /// The next three, RFC 3339, UTC.
    pub next: Vec<String>,
}

// -- the flow library --------------------------------------------------------------

/// `GET /api/v1/library`: the ready-made flows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LibraryList {
    pub flows: Vec<LibraryFlow>,
}

/// `GET /api/v1/library/{id}`: a library flow with its text and outline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LibraryFlowDetail {
    #[serde(flatten)]
    pub flow: LibraryFlow,
    /// The file's text (`enabled: false` in it).
    pub source: String,
    /// `null` when it does not compile here. See [`Outline`].
    pub outline: Option<Outline>,
}

/// What the console shows of one library flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LibraryFlow {
    /// Its file name without `.yaml`.
    pub id: String,
    pub file: String,
    pub name: String,
    pub description: String,
    /// The description's first paragraph.
    pub summary: String,
    pub trigger: LibraryTrigger,
    /// The cards its steps call, sorted.
    pub cards: Vec<String>,
    pub needs: Needs,
    /// The `[cards."…"] grants` lines of `lanyard.toml` it needs.
    pub grants: String,
    /// A loaded flow has its name: importing again is refused.
    pub imported: bool,
    /// Why this daemon could not load it; empty when it can.
    pub problems: Vec<String>,
}

/// What starts a library flow, in words.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LibraryTrigger {
    /// okta, schedule, api, flow or manual.
    pub kind: String,
    /// `Every day at 07:00 (America/New_York)`.
    pub words: String,
    pub event_types: Vec<String>,
}

/// What has to be configured before a flow can run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Needs {
    pub tables: Vec<TableNeed>,
    pub connections: Vec<String>,
    pub mail: bool,
}

/// A table a flow reads or writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableNeed {
    pub name: String,
    pub read: bool,
    pub write: bool,
}

// -- events and orgs ---------------------------------------------------------------

/// `GET /api/v1/events/rejected`: the events refused at intake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejections {
    /// Refused since the daemon started.
    pub total: u64,
    /// The newest first.
    pub recent: Vec<RejectedEvent>,
}

/// An event refused at intake; it is not stored and will not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedEvent {
    pub received: DateTime<Utc>,
    /// `hook`, `poll`, ...
    pub source: String,
    /// Its `uuid` and `eventType`, if it has them (cut short).
    pub uuid: Option<String>,
    pub event_type: Option<String>,
    /// Why it was refused (cut short).
    pub reason: String,
}

/// `GET /api/v1/okta/orgs`: the Okta orgs, in name order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgList {
    pub orgs: Vec<Org>,
}

/// One Okta org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Org {
    pub name: String,
    /// `org` (a real org), `sandbox` (embedded), `events-only`, `injected`.
    pub kind: String,
    /// Where its API is, when it has one.
    pub url: Option<String>,
    /// The org triggers and steps use when they name none.
    pub default: bool,
    /// The path its Event Hook delivers to, when a hook secret is set.
    pub hook_path: Option<String>,
    pub self_actor_ids: Vec<String>,
}

#[cfg(test)]
mod tests {
    //! Each family's JSON, written out: a change here is a change to the API
    //! (the console and the e2e tests read these shapes).

    use super::*;
    use serde_json::json;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// Serializes to `expected`, and reads back as itself.
    fn pinned<T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T, expected: Value) {
        assert_eq!(serde_json::to_value(value).unwrap(), expected);
        assert_eq!(&serde_json::from_value::<T>(expected).unwrap(), value);
    }

    fn run() -> Run {
        Run {
            id: "01J".into(),
            flow: "offboard".into(),
            flow_digest: "abc".into(),
            trigger: Trigger::Okta { event_type: "user.lifecycle.deactivate".into(), event_uuid: "u-1".into(), source: "hook".into() },
            input: Value::Null,
            status: RunStatus::Failed,
            created: at("2026-12-01T09:00:00Z"),
            started: Some(at("2026-12-01T09:00:01Z")),
            ended: None,
            output: None,
            error: Some(Failure { kind: ErrorKind::NotFound, message: "gone".into(), step: Some("a".into()), card: None, retryable: false, detail: None }),
            reason: None,
            subject: Some("00u1".into()),
            dry_run: true,
        }
    }

    fn run_json() -> Value {
        json!({
            "id": "01J", "flow": "offboard", "flow_digest": "abc",
            "trigger": { "kind": "okta", "event_type": "user.lifecycle.deactivate", "event_uuid": "u-1", "source": "hook" },
            "input": null, "status": "failed",
            "created": "2026-12-01T09:00:00Z", "started": "2026-12-01T09:00:01Z", "ended": null,
            "output": null,
            "error": { "kind": "not-found", "message": "gone", "step": "a", "card": null, "retryable": false },
            "reason": null, "subject": "00u1", "dry_run": true
        })
    }

    #[test]
    fn runs() {
        let listed = ListedRun { run: run(), who: Some(Who { login: Some("jo@acme.com".into()), name: None }) };
        let mut with_who = run_json();
        with_who["who"] = json!({ "login": "jo@acme.com", "name": null });
        pinned(&RunList { runs: vec![listed], next_cursor: Some("c".into()) }, json!({ "runs": [with_who], "next_cursor": "c" }));
        // No one to name: no `who` key at all.
        pinned(&ListedRun { run: run(), who: None }, run_json());

        let step = Step {
            run_id: "01J".into(),
            path: "notify".into(),
            kind: "card".into(),
            card: Some("slack.post@1.0.0".into()),
            input: Some(json!({ "text": "hi" })),
            output: None,
            error: None,
            attempts: 1,
            started: at("2026-12-01T09:00:02Z"),
            duration_ms: 12,
            fuel_used: 99,
            logs: vec![LogLine { level: "info".into(), message: "sent".into(), fields: None }],
            effects: vec![Effect { capability: "http".into(), operation: "POST https://slack.com".into(), args: json!({}) }],
            seq: 3,
            withheld: false,
        };
        pinned(
            &RunDetail { run: run(), steps: vec![step], trace: "t".into() },
            json!({
                "run": run_json(),
                "steps": [{
                    "run_id": "01J", "path": "notify", "kind": "card", "card": "slack.post@1.0.0",
                    "input": { "text": "hi" }, "output": null, "error": null, "attempts": 1,
                    "started": "2026-12-01T09:00:02Z", "duration_ms": 12, "fuel_used": 99,
                    "logs": [{ "level": "info", "message": "sent" }],
                    "effects": [{ "capability": "http", "operation": "POST https://slack.com", "args": {} }],
                    "seq": 3
                }],
                "trace": "t"
            }),
        );
        for (trigger, expected) in [
            (
                Trigger::Schedule { cron: "0 9 * * *".into(), timezone: "UTC".into(), fire_time: at("2026-12-01T09:00:00Z") },
                json!({ "kind": "schedule", "cron": "0 9 * * *", "timezone": "UTC", "fire_time": "2026-12-01T09:00:00Z" }),
            ),
            (Trigger::Api, json!({ "kind": "api" })),
            (Trigger::Flow { parent_run: "p".into(), parent_step: "s".into() }, json!({ "kind": "flow", "parent_run": "p", "parent_step": "s" })),
            (Trigger::Manual, json!({ "kind": "manual" })),
            (Trigger::Rerun { of: "r".into() }, json!({ "kind": "rerun", "of": "r" })),
        ] {
            pinned(&trigger, expected);
        }
    }

    #[test]
    fn started_runs() {
        pinned(&RunStarted { run_id: "01J".into(), run: None }, json!({ "run_id": "01J" }));
        pinned(&RunStarted { run_id: "01J".into(), run: Some(run()) }, json!({ "run_id": "01J", "run": run_json() }));
    }

    #[test]
    fn test_runs() {
        let detail = RunDetail { run: run(), steps: vec![], trace: "t".into() };
        pinned(&TestRun { detail, recorded: false }, json!({ "run": run_json(), "steps": [], "trace": "t", "recorded": false }));
    }

    #[test]
    fn runs_convert_to_and_from_the_history_records_unchanged() {
        let record: history::RunRecord = run().into();
        assert_eq!(serde_json::to_value(&record).unwrap(), run_json(), "the history record and the wire agree today");
        assert_eq!(Run::from(record), run());
    }

    #[test]
    fn flows() {
        let flow = |trigger| ListedFlow {
            name: "offboard".into(),
            description: "Offboards.".into(),
            file: "offboard.yaml".into(),
            digest: "d".into(),
            enabled: true,
            trigger,
            running: false,
            stats: None,
            error_flow: false,
        };
        let okta = FlowTrigger::Okta(OktaTrigger {
            event_types: vec!["user.lifecycle.deactivate".into()],
            filter: Some("event.outcome.result == 'SUCCESS'".into()),
            include_own_events: false,
            org: "default".into(),
        });
        assert_eq!(
            serde_json::to_value(flow(okta)).unwrap(),
            json!({
                "name": "offboard", "description": "Offboards.", "file": "offboard.yaml", "digest": "d", "enabled": true,
                "trigger": { "okta": {
                    "event_types": ["user.lifecycle.deactivate"], "filter": "event.outcome.result == 'SUCCESS'",
                    "include_own_events": false, "org": "default"
                } },
                "running": false, "stats": null, "error_flow": false
            })
        );
        let input = FlowInput { name: "who".into(), ty: "string".into(), required: true, default: None, description: Some("a login".into()) };
        for (trigger, expected) in [
            (
                FlowTrigger::Schedule(ScheduleTrigger { cron: "0 9 * * 1".into(), timezone: "Europe/Paris".into(), catch_up: "skip".into(), overlap: false }),
                json!({ "schedule": { "cron": "0 9 * * 1", "timezone": "Europe/Paris", "catch_up": "skip", "overlap": false } }),
            ),
            (FlowTrigger::Api(ApiTrigger { sync_timeout: Some("30s".into()) }), json!({ "api": { "sync_timeout": "30s" } })),
            (FlowTrigger::Api(ApiTrigger { sync_timeout: None }), json!({ "api": {} })),
            (FlowTrigger::Flow(HelperTrigger { inputs: vec![] }), json!({ "flow": { "inputs": [] } })),
            (FlowTrigger::Manual(HelperTrigger { inputs: vec![] }), json!("manual")),
            (
                FlowTrigger::Manual(HelperTrigger { inputs: vec![input] }),
                json!({ "manual": { "inputs": [{ "name": "who", "type": "string", "required": true, "description": "a login" }] } }),
            ),
        ] {
            assert_eq!(serde_json::to_value(&trigger).unwrap(), expected);
        }
        let stats = FlowStats {
            last_run: Some(LastRun { id: "01J".into(), status: RunStatus::Succeeded, created: at("2026-12-01T09:00:00Z"), ended: None }),
            last_24h: [(RunStatus::Succeeded, 2), (RunStatus::Failed, 1)].into(),
            more: false,
        };
        assert_eq!(
            serde_json::to_value(stats).unwrap(),
            json!({
                "last_run": { "id": "01J", "status": "succeeded", "created": "2026-12-01T09:00:00Z", "ended": null },
                "last_24h": { "succeeded": 2, "failed": 1 },
                "more": false
            })
        );
    }

    #[test]
    fn flow_files() {
        let t = at("2026-12-01T09:00:00Z");
        pinned(
            &FlowSaved { name: "f".into(), etag: "sha256:e".into(), version: 3, generation: 7 },
            json!({ "name": "f", "etag": "sha256:e", "version": 3, "generation": 7 }),
        );
        pinned(
            &FlowCreated { name: "f".into(), file: "f.yaml".into(), etag: "sha256:e".into(), version: 1 },
            json!({ "name": "f", "file": "f.yaml", "etag": "sha256:e", "version": 1 }),
        );
        pinned(
            &FlowToggled { etag: "sha256:e".into(), version: None, generation: None, changed: false },
            json!({ "etag": "sha256:e", "version": null, "changed": false }),
        );
        pinned(
            &FlowToggled { etag: "sha256:e".into(), version: Some(2), generation: Some(8), changed: true },
            json!({ "etag": "sha256:e", "version": 2, "generation": 8, "changed": true }),
        );
        pinned(
            &FlowVersions { file: "f.yaml".into(), versions: vec![FlowVersionSummary { version: 2, at: t, etag: "sha256:e".into(), note: None, action: "save".into() }] },
            json!({ "file": "f.yaml", "versions": [{ "version": 2, "at": "2026-12-01T09:00:00Z", "etag": "sha256:e", "note": null, "action": "save" }] }),
        );
        pinned(
            &FlowVersion { version: 2, at: t, file: "f.yaml".into(), etag: "sha256:e".into(), action: "save".into(), note: None, source: "name: f".into() },
            json!({ "version": 2, "at": "2026-12-01T09:00:00Z", "file": "f.yaml", "etag": "sha256:e", "action": "save", "source": "name: f" }),
        );
        pinned(
            &AuditList {
                entries: vec![AuditEntry {
                    at: t,
                    flow: "f".into(),
                    file: "f.yaml".into(),
                    action: "disable".into(),
                    version: Some(2),
                    note: Some("quiet".into()),
                    summary: "turned off".into(),
                }],
            },
            json!({ "entries": [{
                "at": "2026-12-01T09:00:00Z", "flow": "f", "file": "f.yaml", "action": "disable",
                "version": 2, "note": "quiet", "summary": "turned off"
            }] }),
        );
    }

    #[test]
    fn tables() {
        pinned(&TableList { tables: vec![TableSummary { name: "people".into(), rows: 3, bytes: 120 }] }, json!({ "tables": [{ "name": "people", "rows": 3, "bytes": 120 }] }));
        pinned(&Row { key: "u1".into(), value: json!({ "n": 1 }) }, json!({ "key": "u1", "value": { "n": 1 } }));
        pinned(
            &RowPage { table: "people".into(), rows: vec![Row { key: "u1".into(), value: json!(1) }], next: None, examined: 1 },
            json!({ "table": "people", "rows": [{ "key": "u1", "value": 1 }], "next": null, "examined": 1 }),
        );
        pinned(&RowWritten { key: "u1".into(), outcome: WriteOutcome::Changed }, json!({ "key": "u1", "outcome": "changed" }));
        pinned(&RowWritten { key: "u1".into(), outcome: WriteOutcome::Unchanged }, json!({ "key": "u1", "outcome": "unchanged" }));
        pinned(
            &Imported { table: "people".into(), imported: ImportCounts { inserted: 1, updated: 2, unchanged: 3, deleted: 4 } },
            json!({ "table": "people", "imported": { "inserted": 1, "updated": 2, "unchanged": 3, "deleted": 4 } }),
        );
        pinned(&Cleared { table: "people".into(), deleted: 2 }, json!({ "table": "people", "deleted": 2 }));
    }

    fn view() -> CardView {
        CardView {
            name: "acme.sync".into(),
            version: "1.0.0".into(),
            digest: "d".into(),
            size: 10,
            published_at: at("2026-12-01T09:00:00Z"),
            description: "Syncs.".into(),
            world: Some("0.1.0".into()),
            input_schema: json!({}),
            output_schema: json!({}),
            requested: vec!["mail".into()],
            granted: None,
            configured: None,
            effective: vec![],
            state: GrantState::Pending,
            missing: vec!["mail".into()],
            approve: Some("lanyard card grant acme.sync@1.0.0 mail".into()),
            used_by: None,
            broken: None,
        }
    }

    fn view_json() -> Value {
        json!({
            "name": "acme.sync", "version": "1.0.0", "digest": "d", "size": 10,
            "published_at": "2026-12-01T09:00:00Z", "description": "Syncs.", "world": "0.1.0",
            "input_schema": {}, "output_schema": {}, "requested": ["mail"], "granted": null, "configured": null,
            "effective": [], "state": "pending", "missing": ["mail"],
            "approve": "lanyard card grant acme.sync@1.0.0 mail"
        })
    }

    #[test]
    fn cards() {
        pinned(&CardVersions { name: "acme.sync".into(), versions: vec![view()] }, json!({ "name": "acme.sync", "versions": [view_json()] }));
        let mut used = view();
        used.used_by = Some(vec!["f".into()]);
        used.broken = Some("stalled".into());
        used.state = GrantState::NoneNeeded;
        let mut used_json = view_json();
        used_json["used_by"] = json!(["f"]);
        used_json["broken"] = json!("stalled");
        used_json["state"] = json!("none-needed");
        pinned(&used, used_json);

        let reloaded = RegistryReload { ok: true, generation: Some(4), error: None };
        pinned(
            &Publication {
                published: Published { card: view(), new: true, imports: vec!["lanyard:card/log".into()], load_ms: 5, compiled_before: false },
                reload: reloaded.clone(),
            },
            json!({
                "published": { "card": view_json(), "new": true, "imports": ["lanyard:card/log"], "load_ms": 5, "compiled_before": false },
                "reload": { "ok": true, "generation": 4 }
            }),
        );
        let failed = RegistryReload { ok: false, generation: None, error: Some("bad flow".into()) };
        pinned(&GrantAnswer { card: view(), reload: failed }, json!({ "card": view_json(), "reload": { "ok": false, "error": "bad flow" } }));
        pinned(&Removal { removed: view(), reload: RegistryReload { ok: true, generation: None, error: None } }, json!({ "removed": view_json(), "reload": { "ok": true } }));

        let listed = ListedCard {
            name: "lanyard.echo".into(),
            version: "0.1.0".into(),
            digest: "e".into(),
            source: CardSource::Builtin,
            description: "Echoes.".into(),
            group: "Custom".into(),
            input_schema: json!({}),
            output_schema: json!({}),
            requested: Grants::default(),
            granted: Grants::default(),
            size: 7,
            used_by: vec!["f".into()],
            usage: CardUsage { calls: 1, errors: 0, fuel: 9 },
            loaded: true,
            held: false,
            broken: Some(CardBroken { message: "stalled".into(), kind: ErrorKind::Deadline, since: at("2026-12-01T09:00:00Z") }),
        };
        let grants = serde_json::to_value(Grants::default()).unwrap();
        pinned(
            &CardList { cards: vec![listed] },
            json!({ "cards": [{
                "name": "lanyard.echo", "version": "0.1.0", "digest": "e", "source": "builtin", "description": "Echoes.",
                "group": "Custom", "input_schema": {}, "output_schema": {}, "requested": grants, "granted": grants,
                "size": 7, "used_by": ["f"], "usage": { "calls": 1, "errors": 0, "fuel": 9 }, "loaded": true, "held": false,
                "broken": { "message": "stalled", "kind": "deadline", "since": "2026-12-01T09:00:00Z" }
            }] }),
        );
        assert_eq!(serde_json::to_value(CardSource::Registry).unwrap(), json!("registry"));
    }

    fn diagnostic() -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            code: "unknown-card".into(),
            file: "f.yaml".into(),
            span: Some(Span { start: Pos { line: 3, col: 5 }, end: Pos { line: 3, col: 9 } }),
            message: "no card `x`".into(),
            step: Some("steps[0]".into()),
            help: None,
        }
    }

    fn diagnostic_json() -> Value {
        json!({
            "severity": "error", "code": "unknown-card", "file": "f.yaml",
            "span": { "start": { "line": 3, "col": 5 }, "end": { "line": 3, "col": 9 } },
            "message": "no card `x`", "step": "steps[0]"
        })
    }

    #[test]
    fn flow_list_and_reloads() {
        let t = at("2026-12-01T09:00:00Z");
        let failed = LoadError { at: t, message: "1 error".into(), diagnostics: vec![diagnostic()], rendered: "f.yaml:3:5: error".into() };
        let failed_json = json!({ "at": "2026-12-01T09:00:00Z", "message": "1 error", "diagnostics": [diagnostic_json()], "rendered": "f.yaml:3:5: error" });
        let status = ReloadStatus { generation: 4, loaded_at: t, flows: 2, last_error: None };
        pinned(&status, json!({ "generation": 4, "loaded_at": "2026-12-01T09:00:00Z", "flows": 2, "last_error": null }));
        pinned(
            &ReloadStatus { last_error: Some(failed.clone()), ..status.clone() },
            json!({ "generation": 4, "loaded_at": "2026-12-01T09:00:00Z", "flows": 2, "last_error": failed_json }),
        );
        assert_eq!(
            serde_json::to_value(FlowList { flows: vec![], status, stats_error: Some("store busy".into()) }).unwrap(),
            json!({
                "flows": [],
                "status": { "generation": 4, "loaded_at": "2026-12-01T09:00:00Z", "flows": 2, "last_error": null },
                "stats_error": "store busy"
            })
        );
        // `POST /api/v1/admin/reload`, refused: 422.
        let error = ErrorBody { diagnostics: Some(failed.diagnostics), rendered: Some(failed.rendered), ..ErrorBody::new("invalid_flows", failed.message) };
        pinned(
            &ErrorAnswer { error },
            json!({ "error": { "code": "invalid_flows", "message": "1 error", "diagnostics": [diagnostic_json()], "rendered": "f.yaml:3:5: error" } }),
        );
    }

    #[test]
    fn run_actions() {
        pinned(&Rerun { run_id: "01K".into(), dry_run: true }, json!({ "run_id": "01K", "dry_run": true }));
        pinned(&Cancelled { run_id: "01J".into(), cancelled: CancelOutcome::Dequeued }, json!({ "run_id": "01J", "cancelled": "dequeued" }));
        pinned(&Cancelled { run_id: "01J".into(), cancelled: CancelOutcome::Stopped }, json!({ "run_id": "01J", "cancelled": "stopped" }));
    }

    #[test]
    fn flow_checks() {
        let outline = json!({ "name": "f", "file": "f.yaml", "steps": [] });
        pinned(
            &FlowFile {
                name: "f".into(),
                file: "f.yaml".into(),
                source: "name: f".into(),
                etag: "sha256:e".into(),
                enabled: false,
                diagnostics: vec![diagnostic()],
                outline: Some(outline.clone()),
            },
            json!({
                "name": "f", "file": "f.yaml", "source": "name: f", "etag": "sha256:e", "enabled": false,
                "diagnostics": [diagnostic_json()], "outline": outline
            }),
        );
        // A refusal of the whole set names no place.
        let set_wide = Diagnostic { severity: Severity::Error, code: "flow-set".into(), file: String::new(), span: None, message: "two error flows".into(), step: None, help: None };
        pinned(
            &FlowCheck { ok: false, diagnostics: vec![set_wide], outline: None },
            json!({ "ok": false, "diagnostics": [{ "severity": "error", "code": "flow-set", "file": "", "message": "two error flows" }], "outline": null }),
        );
        let warning = Diagnostic { severity: Severity::Warning, help: Some("add `id`".into()), step: None, ..diagnostic() };
        assert_eq!(serde_json::to_value(&warning).unwrap()["severity"], json!("warning"));
        assert_eq!(serde_json::to_value(&warning).unwrap()["help"], json!("add `id`"));

        let changed = ErrorBody { current: Some(FlowText { etag: "sha256:e".into(), source: "name: f".into() }), ..ErrorBody::new("changed", "the file changed") };
        pinned(
            &ErrorAnswer { error: changed },
            json!({ "error": { "code": "changed", "message": "the file changed", "current": { "etag": "sha256:e", "source": "name: f" } } }),
        );
        let invalid = ErrorBody { diagnostics: Some(vec![diagnostic()]), ..ErrorBody::new("invalid", "1 error") };
        pinned(&ErrorAnswer { error: invalid }, json!({ "error": { "code": "invalid", "message": "1 error", "diagnostics": [diagnostic_json()] } }));
    }

    #[test]
    fn builder_tests() {
        pinned(
            &InvalidDraft { error: ErrorBody::new("invalid", "the flow has an error; fix it to test"), diagnostics: vec![diagnostic()] },
            json!({ "error": { "code": "invalid", "message": "the flow has an error; fix it to test" }, "diagnostics": [diagnostic_json()] }),
        );
        pinned(
            &TestRunGoing { run_id: "01J".into(), recorded: true, message: "still going".into() },
            json!({ "run_id": "01J", "recorded": true, "message": "still going" }),
        );
        let before = ReplayOutcome { status: RunStatus::Succeeded, steps: [("notify".to_string(), "succeeded".to_string())].into() };
        let replayed = |after| Replayed {
            run_id: "01J".into(),
            created: at("2026-12-01T09:00:00Z"),
            event_summary: "jo@acme.com deactivated".into(),
            before: before.clone(),
            after,
            effects: vec![Effect { capability: "http".into(), operation: "POST https://slack.com".into(), args: json!({}) }],
            differs: false,
            differences: vec![],
        };
        let replayed_json = |after| {
            json!({
                "run_id": "01J", "created": "2026-12-01T09:00:00Z", "event_summary": "jo@acme.com deactivated",
                "before": { "status": "succeeded", "steps": { "notify": "succeeded" } }, "after": after,
                "effects": [{ "capability": "http", "operation": "POST https://slack.com", "args": {} }],
                "differs": false, "differences": []
            })
        };
        pinned(
            &Replay { flow: "offboard".into(), runs: vec![replayed(Some(before.clone())), replayed(None)] },
            json!({ "flow": "offboard", "runs": [
                replayed_json(json!({ "status": "succeeded", "steps": { "notify": "succeeded" } })),
                replayed_json(Value::Null)
            ] }),
        );
        pinned(
            &CardTest {
                card: Some("slack.post@1.0.0".into()),
                ok: false,
                output: None,
                error: Some(Failure { kind: ErrorKind::NotFound, message: "gone".into(), step: Some("slack.post".into()), card: None, retryable: false, detail: None }),
                logs: vec![LogLine { level: "info".into(), message: "sent".into(), fields: None }],
                effects: vec![],
                fuel_used: 9,
                duration_ms: 3,
                dry_run: true,
            },
            json!({
                "card": "slack.post@1.0.0", "ok": false, "output": null,
                "error": { "kind": "not-found", "message": "gone", "step": "slack.post", "card": null, "retryable": false },
                "logs": [{ "level": "info", "message": "sent" }], "effects": [], "fuel_used": 9, "duration_ms": 3, "dry_run": true
            }),
        );
        pinned(
            &EventSample { event_type: "user.lifecycle.deactivate".into(), source: "generated".into(), event: json!({ "uuid": "u" }) },
            json!({ "event_type": "user.lifecycle.deactivate", "source": "generated", "event": { "uuid": "u" } }),
        );
    }

    #[test]
    fn builder_reference() {
        let info = &crate::event_catalog::event_types()[0];
        let listed = EventTypes { event_types: vec![info.into()] };
        // The catalog's own serialization and the wire agree on every type.
        assert_eq!(serde_json::to_value(&listed).unwrap(), json!({ "event_types": [info] }));
        let all: Vec<EventType> = crate::event_catalog::event_types().iter().map(Into::into).collect();
        assert_eq!(serde_json::to_value(all).unwrap(), serde_json::to_value(crate::event_catalog::event_types()).unwrap());
        pinned(
            &EventType {
                event_type: "user.lifecycle.deactivate".into(),
                name: "User deactivated".into(),
                description: "d".into(),
                category: "Users".into(),
                words: "When a user is deactivated in Okta".into(),
            },
            json!({ "type": "user.lifecycle.deactivate", "name": "User deactivated", "description": "d", "category": "Users", "words": "When a user is deactivated in Okta" }),
        );
        pinned(
            &SchedulePreview { words: "Every day at 09:00 (UTC)".into(), next: vec!["2026-12-01T09:00:00Z".into()] },
            json!({ "words": "Every day at 09:00 (UTC)", "next": ["2026-12-01T09:00:00Z"] }),
        );
    }

    #[test]
    fn library() {
        let flow = LibraryFlow {
            id: "offboard".into(),
            file: "offboard.yaml".into(),
            name: "Offboard".into(),
            description: "Offboards.\n\nNeeds: a table.".into(),
            summary: "Offboards.".into(),
            trigger: LibraryTrigger { kind: "okta".into(), words: "When a user is deactivated in Okta".into(), event_types: vec!["user.lifecycle.deactivate".into()] },
            cards: vec!["lanyard.tables@1".into()],
            needs: Needs { tables: vec![TableNeed { name: "people".into(), read: true, write: false }], connections: vec![], mail: true },
            grants: "[cards.\"lanyard.tables@1\"]".into(),
            imported: false,
            problems: vec![],
        };
        let flow_json = json!({
            "id": "offboard", "file": "offboard.yaml", "name": "Offboard", "description": "Offboards.\n\nNeeds: a table.",
            "summary": "Offboards.",
            "trigger": { "kind": "okta", "words": "When a user is deactivated in Okta", "event_types": ["user.lifecycle.deactivate"] },
            "cards": ["lanyard.tables@1"],
            "needs": { "tables": [{ "name": "people", "read": true, "write": false }], "connections": [], "mail": true },
            "grants": "[cards.\"lanyard.tables@1\"]", "imported": false, "problems": []
        });
        pinned(&LibraryList { flows: vec![flow.clone()] }, json!({ "flows": [flow_json.clone()] }));
        let mut detail_json = flow_json;
        detail_json["source"] = json!("name: Offboard");
        detail_json["outline"] = Value::Null;
        pinned(&LibraryFlowDetail { flow, source: "name: Offboard".into(), outline: None }, detail_json);
    }

    #[test]
    fn events_and_orgs() {
        pinned(
            &Rejections {
                total: 3,
                recent: vec![RejectedEvent {
                    received: at("2026-12-01T09:00:00Z"),
                    source: "hook".into(),
                    uuid: Some("u-1".into()),
                    event_type: None,
                    reason: "too large".into(),
                }],
            },
            json!({ "total": 3, "recent": [{ "received": "2026-12-01T09:00:00Z", "source": "hook", "uuid": "u-1", "event_type": null, "reason": "too large" }] }),
        );
        pinned(
            &OrgList {
                orgs: vec![Org {
                    name: "prod".into(),
                    kind: "org".into(),
                    url: Some("https://acme.okta.com".into()),
                    default: true,
                    hook_path: None,
                    self_actor_ids: vec!["00u1".into()],
                }],
            },
            json!({ "orgs": [{ "name": "prod", "kind": "org", "url": "https://acme.okta.com", "default": true, "hook_path": null, "self_actor_ids": ["00u1"] }] }),
        );
    }

    #[test]
    fn errors() {
        pinned(&ErrorAnswer { error: ErrorBody::new("not_found", "no run") }, json!({ "error": { "code": "not_found", "message": "no run" } }));
        let mut body = ErrorBody::new("bad_describe", "refused");
        body.detail = Some("d".into());
        body.problems = Some(vec!["p".into()]);
        body.flows = Some(vec!["f".into()]);
        pinned(&ErrorAnswer { error: body }, json!({ "error": { "code": "bad_describe", "message": "refused", "detail": "d", "problems": ["p"], "flows": ["f"] } }));
    }
}
