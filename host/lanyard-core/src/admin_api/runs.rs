//! Runs: the list, one run with its steps, a run started.

use super::*;

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

/// `POST /api/v1/runs/{id}/signal`: the signal a waiting run waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalRequest {
    /// The name the `wait` step gives (`wait: { signal: approval }`).
    pub signal: String,
    /// One of the step's `choices`, when it lists some.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<String>,
    /// Anything else the flow should see (`<step>.data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// `POST /api/v1/runs/{id}/signal`: the run took the signal and is queued
/// to go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signalled {
    pub run_id: String,
    pub signal: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choice: Option<String>,
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
    /// What a `waiting` run waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<Wait>,
}

/// What a run paused at a `wait` step waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wait {
    /// The `wait` step's path.
    pub step: String,
    pub seq: u64,
    /// Since when it waits.
    pub since: DateTime<Utc>,
    /// When it resumes (a time wait), or gives up (a signal's timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// The signal that resumes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// The answers the signal may carry; empty: any data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

impl From<history::WaitState> for Wait {
    fn from(w: history::WaitState) -> Wait {
        let history::WaitState { step, seq, since, until, signal, choices, ended: _ } = w;
        Wait { step, seq, since, until, signal, choices }
    }
}

impl From<Wait> for history::WaitState {
    fn from(w: Wait) -> history::WaitState {
        let Wait { step, seq, since, until, signal, choices } = w;
        history::WaitState { step, seq, since, until, signal, choices, ended: None }
    }
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
        let history::RunRecord { id, flow, flow_digest, trigger, input, status, created, started, ended, output, error, reason, subject, dry_run, wait } = r;
        Run { id, flow, flow_digest, trigger: trigger.into(), input, status, created, started, ended, output, error: error.map(Into::into), reason, subject, dry_run, wait: wait.map(Into::into) }
    }
}

impl From<Run> for history::RunRecord {
    fn from(r: Run) -> history::RunRecord {
        let Run { id, flow, flow_digest, trigger, input, status, created, started, ended, output, error, reason, subject, dry_run, wait } = r;
        history::RunRecord { id, flow, flow_digest, trigger: trigger.into(), input, status, created, started, ended, output, error: error.map(Into::into), reason, subject, dry_run, wait: wait.map(Into::into) }
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
