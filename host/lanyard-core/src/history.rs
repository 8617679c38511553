//! Execution history records: one [`RunRecord`] per run, one [`StepRecord`] per
//! executed step (and per loop iteration of a step).
//!
//! The interpreter produces them, the store keeps them, the CLI and admin API
//! show them. Configured secrets never appear here: capabilities inject them
//! below the card boundary, and what an upstream echoes back, or a card came by
//! some other way, is scrubbed by a [`crate::Redactor`] before a record is
//! written (the daemon's journal does it).

use crate::error::{CardError, ErrorKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// Created, waiting for a worker.
    Queued,
    Running,
    Succeeded,
    /// A step failed with no `on_error` to handle it, or a `fail` step ran.
    Failed,
    /// A `stop` step ended the run early, by design.
    Stopped,
    /// Held by loop protection (the runaway breaker); see `reason`.
    Suppressed,
    /// Cancelled by an operator.
    Cancelled,
    /// Paused at a `wait` step until a time or a signal ([`RunRecord::wait`]);
    /// holds no worker. Resumes as `queued`.
    Waiting,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Stopped => "stopped",
            RunStatus::Suppressed => "suppressed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Waiting => "waiting",
        }
    }

    /// Every status, in the order a run can pass through them.
    pub const ALL: [RunStatus; 8] = [
        RunStatus::Queued,
        RunStatus::Running,
        RunStatus::Waiting,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Stopped,
        RunStatus::Suppressed,
        RunStatus::Cancelled,
    ];

    pub fn parse(s: &str) -> Option<RunStatus> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the run will not change any more.
    pub fn is_final(self) -> bool {
        !matches!(self, RunStatus::Queued | RunStatus::Running | RunStatus::Waiting)
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What started a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum TriggerInfo {
    /// An Okta event, by Event Hook or System Log polling.
    Okta { event_type: String, event_uuid: String, source: String },
    /// A schedule fire at this (scheduled) time.
    Schedule { cron: String, timezone: String, fire_time: DateTime<Utc> },
    /// `POST /api/v1/flows/{name}/invoke`.
    Api,
    /// Called as a helper by another run.
    Flow { parent_run: String, parent_step: String },
    /// `lanyard run`, or "run now" from the CLI or admin API.
    Manual,
    /// An admin ran a past run's event again (the flow as it is now).
    Rerun { of: String },
}

impl TriggerInfo {
    /// The `parent_step` of the global error flow's runs (a helper run of
    /// the failed run that it is told of).
    pub const ERROR_FLOW_STEP: &'static str = "error_flow";

    /// In a word or two, for a list of runs: `okta user.lifecycle.deactivate`,
    /// `schedule`, `api`, `flow`, `error flow`, `manual`, `re-run of <run>`.
    /// [`Display`](fmt::Display) says it in full.
    pub fn summary(&self) -> String {
        match self {
            TriggerInfo::Okta { event_type, .. } => format!("okta {event_type}"),
            TriggerInfo::Schedule { .. } => "schedule".into(),
            TriggerInfo::Flow { parent_step, .. } if parent_step == Self::ERROR_FLOW_STEP => "error flow".into(),
            TriggerInfo::Flow { .. } => "flow".into(),
            other => other.to_string(),
        }
    }
}

/// What started a run, in full: the event and how it came, the schedule and
/// the time it fired for, the run that called it.
impl fmt::Display for TriggerInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TriggerInfo::Okta { event_type, event_uuid, source } => {
                write!(f, "okta {event_type} (event {event_uuid}, via {source})")
            }
            TriggerInfo::Schedule { cron, timezone, fire_time } => {
                write!(f, "schedule \"{cron}\" {timezone}, fired for {}", fire_time.to_rfc3339())
            }
            TriggerInfo::Api => f.write_str("api"),
            TriggerInfo::Flow { parent_run, parent_step } => write!(f, "called by run {parent_run} at {parent_step}"),
            TriggerInfo::Manual => f.write_str("manual"),
            TriggerInfo::Rerun { of } => write!(f, "re-run of {of}"),
        }
    }
}

/// A failure as the history keeps it: the card error plus where it happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub kind: ErrorKind,
    pub message: String,
    /// The step path it happened at.
    #[serde(default)]
    pub step: Option<String>,
    /// The card, `name@version`, if a card raised it.
    #[serde(default)]
    pub card: Option<String>,
    #[serde(default)]
    pub retryable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ErrorInfo {
    pub fn from_card_error(e: &CardError, step: Option<&str>, card: Option<&str>) -> Self {
        ErrorInfo {
            kind: e.kind,
            message: e.message.clone(),
            step: step.map(str::to_string),
            card: card.map(str::to_string),
            retryable: e.retryable,
            detail: e.detail.clone(),
        }
    }
}

/// One run of a flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Sortable by creation time (a ULID).
    pub id: String,
    pub flow: String,
    /// sha256 of the flow file the run used.
    pub flow_digest: String,
    pub trigger: TriggerInfo,
    /// The input the flow saw as `event` (an Okta LogEvent, an API body, ...).
    pub input: Value,
    pub status: RunStatus,
    pub created: DateTime<Utc>,
    #[serde(default)]
    pub started: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ended: Option<DateTime<Utc>>,
    /// The flow's `return` value.
    #[serde(default)]
    pub output: Option<Value>,
    #[serde(default)]
    pub error: Option<ErrorInfo>,
    /// Why the run is suppressed, stopped or cancelled.
    #[serde(default)]
    pub reason: Option<String>,
    /// Whom the run concerns (the event's target user); runs about the same
    /// subject are processed in event order.
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    /// What a `waiting` run waits for; `None` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<WaitState>,
}

/// What a run paused at a `wait` step waits for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitState {
    /// The `wait` step's path (the journal key its resolution is written under).
    pub step: String,
    /// The step's place in the run's step order (its record's `seq`).
    pub seq: u64,
    /// When the run started waiting.
    pub since: DateTime<Utc>,
    /// When it resumes: the end of a `for`/`until` wait, or a signal's timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    /// The signal that resumes it, for a signal wait.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// The answers the signal may carry (`approve`, `reject`); empty: any data.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// Once the wait has ended (the run is `queued` again): the `wait` step's
    /// record, kept here until the run's journal has it, so that a crash in
    /// between loses neither the signal nor the resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<Box<StepRecord>>,
}

/// A log line a card wrote (through the `log` import, or stdout/stderr).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// trace, debug, info, warn, error; `stdout`/`stderr` for captured output.
    pub level: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Value>,
}

/// A write a dry run recorded instead of doing ("would do").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Effect {
    /// okta, http, tables, mail.
    pub capability: String,
    /// The operation, for example `remove-from-group` or `POST https://slack.com/api/chat.postMessage`.
    pub operation: String,
    pub args: Value,
}

/// One executed step (one iteration of a step inside `for_each`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    pub run_id: String,
    /// Unique within the run, for example `groups/remove[3]`; the journal key.
    pub path: String,
    /// card, if, switch, for_each, assign, return, stop, fail, call, wait.
    pub kind: String,
    /// `name@version` for card steps.
    #[serde(default)]
    pub card: Option<String>,
    /// The evaluated `with` (card steps) or arguments.
    #[serde(default)]
    pub input: Option<Value>,
    #[serde(default)]
    pub output: Option<Value>,
    #[serde(default)]
    pub error: Option<ErrorInfo>,
    pub attempts: u32,
    pub started: DateTime<Utc>,
    pub duration_ms: u64,
    #[serde(default)]
    pub fuel_used: u64,
    #[serde(default)]
    pub logs: Vec<LogLine>,
    #[serde(default)]
    pub effects: Vec<Effect>,
    /// The order in which the step started within its run (0 first). Records
    /// are written when a step ends, so a branch or loop is recorded after its
    /// children; traces sort by this to show steps in the order they began.
    #[serde(default)]
    pub seq: u64,
    /// The flow keeps no step inputs and outputs (`keep_step_data: false`):
    /// they were dropped when the run ended.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub withheld: bool,
}
