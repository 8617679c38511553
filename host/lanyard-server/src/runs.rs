//! What starting and cancelling a run take and answer, and the one place a
//! run record is made ([`new_run`]), whatever started it.

use chrono::{DateTime, Utc};
use lanyard_core::history::{RunRecord, RunStatus, StepRecord, TriggerInfo};
use lanyard_flow::model::Flow;
use lanyard_store::StoreError;
use serde_json::Value;
use std::time::Duration;

/// How to start a run that is not from an Okta event (API, schedule, run-now,
/// `lanyard run`).
#[derive(Debug, Default)]
pub struct StartOptions {
    /// Record writes instead of doing them (Test Flow).
    pub dry_run: bool,
    /// Wait for the run to end (up to `timeout`, if set).
    pub wait: bool,
    pub timeout: Option<Duration>,
    /// Whom the run concerns; runs about one subject run one at a time.
    pub subject: Option<String>,
    /// Queue it even when the queue is full (schedules, internal runs).
    pub force: bool,
    /// Every step record also goes here as it is written.
    pub observer: Option<tokio::sync::mpsc::UnboundedSender<StepRecord>>,
    /// Run a helper flow (`trigger: flow`) directly, with `input` as its
    /// inputs (Test Flow does; the API does not).
    pub allow_helper: bool,
    /// The run's id, chosen by the caller: a helper a run starts without
    /// waiting ([`lanyard_store::child_run_id`]). When a run of that id
    /// exists, it was started before and is what the start answers.
    pub id: Option<String>,
}

/// A run that was started.
#[derive(Debug, Clone)]
pub struct RunStarted {
    pub run_id: String,
    /// The finished run, when the caller waited and it ended in time.
    pub outcome: Option<RunRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("no flow named `{0}` is loaded")]
    UnknownFlow(String),
    #[error("flow `{flow}` cannot be started this way: {why}")]
    NotRunnable { flow: String, why: String },
    #[error("flow `{flow}` was not started: {why}")]
    BadInput { flow: String, why: String },
    #[error("the run queue is full ({0} runs waiting); try again shortly")]
    Busy(usize),
    #[error("lanyard is shutting down")]
    ShuttingDown,
    #[error("cannot record the run: {0}")]
    Store(#[from] StoreError),
}

/// What cancelling a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was waiting and will not run.
    Dequeued,
    /// It was running and has been stopped.
    Stopped,
}

#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("run `{0}` not found")]
    NotFound(String),
    #[error("run `{0}` has already ended ({1})")]
    Finished(String, RunStatus),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The one place a run record is made, for every kind of trigger (an Okta
/// event, a schedule, the API, run-now, a helper or error flow, a builder's
/// test run): queued, stamped with the flow's version and `now`.
pub(crate) fn new_run(flow: &Flow, trigger: TriggerInfo, input: Value, subject: Option<String>, dry_run: bool, now: DateTime<Utc>) -> RunRecord {
    RunRecord {
        id: lanyard_store::new_run_id(now),
        flow: flow.name.clone(),
        flow_digest: flow.digest.clone(),
        trigger,
        input,
        status: RunStatus::Queued,
        created: now,
        started: None,
        ended: None,
        output: None,
        error: None,
        reason: None,
        subject,
        dry_run,
        wait: None,
    }
}

