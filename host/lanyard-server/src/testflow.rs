//! Test Flow: one run of one flow against one event (`lanyard run`).
//!
//! Builds the same [`Engine`] as the daemon (same cards, grants, capabilities
//! and store), in [`Mode::OneShot`]: no dispatcher, no recovery of other runs,
//! and flow files with errors that the run does not need are reported instead
//! of stopping it. The run is recorded in the history like any other (trigger
//! `manual`). If the daemon holds the data directory, the run goes to a
//! temporary store instead, and the result says so.

use crate::config::Config;
use crate::engine::{Engine, EngineOptions, Mode, StartOptions};
use lanyard_core::history::{RunRecord, StepRecord, TriggerInfo};
use lanyard_core::LogEvent;
use lanyard_store::{Store, StoreError, StoreOptions};
use std::sync::Arc;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What to run.
pub struct TestFlow {
    pub config: Config,
    /// A flow name from the flows directory, or a path to a flow file.
    pub flow: String,
    /// The event: an Okta Event Hook delivery (its first event is used), one
    /// System Log event, or any JSON (the input of an api, manual or helper flow).
    pub event: Value,
    pub dry_run: bool,
    /// Steps as they are recorded (to print progress).
    pub observer: Option<tokio::sync::mpsc::UnboundedSender<StepRecord>>,
}

/// How the run went.
#[derive(Debug)]
pub struct TestFlowResult {
    pub run: RunRecord,
    pub steps: Vec<StepRecord>,
    /// The readable step-by-step trace.
    pub trace: String,
    /// Said when the run could not go to the configured data directory.
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TestFlowError {
    #[error("{0}")]
    Flow(String),
    #[error("the event file: {0}")]
    Event(String),
    #[error("cannot start lanyard: {0}")]
    Engine(#[from] crate::engine::EngineError),
    #[error("cannot start the run: {0}")]
    Start(#[from] crate::engine::StartError),
    #[error("the store: {0}")]
    Store(#[from] StoreError),
}

/// The input a flow sees for an event file, and whom it concerns.
pub fn event_input(event: Value) -> Result<(Value, Option<String>), TestFlowError> {
    let is_delivery = event.get("eventType").and_then(Value::as_str) == Some(lanyard_okta::hooks::ENVELOPE_EVENT_TYPE);
    let event = if is_delivery {
        let body = serde_json::to_vec(&event).map_err(|e| TestFlowError::Event(e.to_string()))?;
        let events = lanyard_okta::hooks::parse_delivery(&body).map_err(|e| TestFlowError::Event(e.to_string()))?;
        let first = events
            .into_iter()
            .next()
            .ok_or_else(|| TestFlowError::Event("the Event Hook delivery carries no events".into()))?;
        return Ok((first.to_value(), Some(first.subject_key())));
    } else {
        event
    };
    let looks_like_log_event = ["uuid", "published", "eventType", "actor"].iter().all(|k| event.get(k).is_some());
    if looks_like_log_event {
        let parsed: LogEvent = serde_json::from_value(event.clone())
            .map_err(|e| TestFlowError::Event(format!("it looks like an Okta System Log event but is not one: {e}")))?;
        return Ok((parsed.to_value(), Some(parsed.subject_key())));
    }
    Ok((event, None))
}

fn is_path(flow: &str) -> bool {
    let p = Path::new(flow);
    p.is_file() || crate::flows::is_flow_file(p) || flow.contains(std::path::MAIN_SEPARATOR)
}

/// Run the flow once and wait for it to end.
pub async fn run_once(t: TestFlow) -> Result<TestFlowResult, TestFlowError> {
    let (input, subject) = event_input(t.event)?;
    let mut notes = Vec::new();
    let extra = is_path(&t.flow).then(|| PathBuf::from(&t.flow));
    if let Some(p) = &extra {
        if !p.is_file() {
            return Err(TestFlowError::Flow(format!("there is no flow file {}", p.display())));
        }
    }
    let dir = t.config.server.data_dir.clone();
    let opened = tokio::task::spawn_blocking(move || Store::open_with(&dir, StoreOptions::default()))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
    let store: lanyard_store::SharedStore = match opened {
        Ok(s) => Arc::new(s),
        Err(e) if e.kind() == lanyard_store::StoreErrorKind::InUse => {
            notes.push(format!(
                "the data directory {} is in use by a running daemon; this run is kept in a temporary store and not in the daemon's history",
                t.config.server.data_dir.display()
            ));
            Arc::new(Store::temporary()?)
        }
        Err(e) => return Err(e.into()),
    };
    let mut options = EngineOptions::new(t.config);
    options.store = Some(store);
    options.mode = Mode::OneShot;
    options.extra_flow = extra.clone();
    let engine = Engine::new(options).await?;
    engine.start();
    engine.wait_ready().await;
    if !engine.is_ready() {
        let why = engine
            .reload_status()
            .last_error
            .map(|e| e.rendered)
            .unwrap_or_else(|| "the engine stopped before the flows loaded".into());
        engine.shutdown(Duration::ZERO).await;
        return Err(TestFlowError::Flow(why));
    }
    let result = run_in(&engine, &t.flow, extra.as_deref(), input, subject, t.dry_run, t.observer).await;
    engine.shutdown(Duration::ZERO).await;
    let mut r = result?;
    r.notes.extend(notes);
    Ok(r)
}

async fn run_in(
    engine: &Engine,
    flow: &str,
    path: Option<&Path>,
    input: Value,
    subject: Option<String>,
    dry_run: bool,
    observer: Option<tokio::sync::mpsc::UnboundedSender<StepRecord>>,
) -> Result<TestFlowResult, TestFlowError> {
    let set = engine.flows();
    let name = match path {
        Some(p) => {
            let shown = p.display().to_string();
            match set.flows().find(|f| f.file == shown) {
                Some(f) => f.name.clone(),
                None => return Err(TestFlowError::Flow(broken(&set, &shown))),
            }
        }
        None => match set.get(flow) {
            Some(f) => f.name.clone(),
            None => {
                let mut msg = format!("no valid flow named `{flow}` in {}", engine.config().server.flows_dir.display());
                let errors: Vec<String> = set.warnings.iter().filter(|d| d.is_error()).map(|d| d.render(None)).collect();
                if !errors.is_empty() {
                    msg.push_str("; flow files with errors:\n");
                    msg.push_str(&errors.join(""));
                } else {
                    let names: Vec<&str> = set.flows().map(|f| f.name.as_str()).collect();
                    if !names.is_empty() {
                        msg.push_str(&format!(" (loaded: {})", names.join(", ")));
                    }
                }
                return Err(TestFlowError::Flow(msg));
            }
        },
    };
    let opts = StartOptions {
        dry_run,
        wait: true,
        timeout: None,
        subject,
        force: true,
        observer,
        allow_helper: true,
        id: None,
    };
    let started = engine.start_run(&name, TriggerInfo::Manual, input, opts).await?;
    let run = match started.outcome {
        Some(r) => r,
        None => engine.wait_for_run(&started.run_id).await?,
    };
    let steps = engine.store().steps(&run.id).await?;
    // The store's copy has the input the worker took out of its own.
    let run = engine.store().get_run(&run.id).await?.unwrap_or(run);
    let trace = lanyard_flow::render_trace(&run, &steps, &lanyard_flow::TraceOptions::default());
    Ok(TestFlowResult {
        run,
        steps,
        trace,
        notes: Vec::new(),
    })
}

fn broken(set: &crate::flows::FlowSet, file: &str) -> String {
    let errors: Vec<String> = set
        .warnings
        .iter()
        .filter(|d| d.is_error() && d.file == file)
        .map(|d| d.render(std::fs::read_to_string(file).ok().as_deref()))
        .collect();
    if errors.is_empty() {
        format!("{file} holds no valid flow")
    } else {
        format!("{file} is not a valid flow:\n{}", errors.join(""))
    }
}
