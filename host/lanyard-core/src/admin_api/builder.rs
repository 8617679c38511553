//! The builder: test runs and replays, its reference (event types, schedules), the flow library.

use super::*;

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
