//! Flows: the list with its numbers, and the flow files the builder writes.

use super::*;

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
