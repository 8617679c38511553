//! The dispatcher: from the inbox to runs.
//!
//! Reads undispatched events in dispatch order (earliest `published` first,
//! then arrival: the store's `v1/inbox-order`), always from the first one, a
//! page at a time, while no delivery is half-written (intake's gate). So an
//! event is dispatched after every earlier-published event that was waiting
//! when its page was read, however deliveries and pages cut the stream, and
//! runs about one subject are created, and queued, in `published` order. It
//! matches every event to the flows that want it (the org it came from, event
//! type, the daemon's own actor in that org unless the flow opts in, the
//! trigger's filter), asks the runaway
//! breaker, and creates the event's runs atomically with its dispatch. One
//! flush per page makes the page's runs durable before any of them can call a
//! card; then they are queued. When the queue is full it stops reading: events
//! wait on disk, not in memory.
//!
//! An event the store cannot dispatch because of the event itself (a record
//! that does not decode, a conflict) is left in the inbox and passed over
//! until the next start; any other failure (the disk) stops the page, so
//! nothing is dispatched ahead of it, and the page is read again after a pause.

use crate::breaker::{Breaker, Verdict};
use crate::flows::FlowSet;
use crate::intake::Intake;
use crate::metrics as m;
use crate::orgs::Orgs;
use crate::queue::RunTask;
use crate::runner::Runner;
use crate::shutdown::Shutdown;
use lanyard_core::history::{RunRecord, RunStatus, TriggerInfo};
use lanyard_flow::model::Flow;
use lanyard_store::{InboxEvent, InboxPosition, SharedStore, StoreError};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// Events read per page.
const PAGE: usize = 256;

/// What the dispatcher works with; the engine builds it when flows are loaded.
pub(crate) struct Dispatcher {
    pub intake: Intake,
    pub store: SharedStore,
    /// Makes, queues and runs the runs (and starts the error flow).
    pub runner: Runner,
    /// Which org an event is of, and the daemon's own identity there.
    pub orgs: Arc<Orgs>,
    /// The runaway breaker (`[loop_protection]`).
    pub breaker: Breaker,
}

/// Dispatch until `stop` fires.
pub(crate) async fn run(d: Dispatcher, stop: Shutdown) {
    let (intake, store) = (&d.intake, &d.store);
    // Events passed over until the next start (see the module docs).
    let mut passed_over: HashSet<u64> = HashSet::new();
    let mut failures = 0u32;
    loop {
        if stop.is_triggered() {
            return;
        }
        d.runner.wait_for_room(&stop).await;
        let notified = intake.wake().notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        // Runs of this page count as durable only if the opening of the
        // database they were written to is still the one in use after their
        // flush (see `Store::epoch`).
        let page_epoch = store.epoch();
        let page = {
            let _whole_deliveries = intake.exclusive().await;
            first_page(&store, &passed_over).await
        };
        let page = match page {
            Ok(p) => p,
            Err(e) => {
                failures += 1;
                tracing::error!(error = %e, "cannot read the inbox; retrying");
                if pause(failures, &store, &stop).await {
                    continue;
                }
                return;
            }
        };
        if page.is_empty() {
            failures = 0;
            tokio::select! {
                _ = &mut notified => continue,
                _ = stop.wait() => return,
            }
        }
        let (queued, stalled) = dispatch_page(&d, page, &mut passed_over).await;
        if !queued.is_empty() {
            // Runs not known durable must not call cards, and nothing later
            // may be queued ahead of them: flush until it works. If the store
            // was reopened after a failed write meanwhile, the runs may be
            // gone with the opening they were written to: once the store
            // writes again, the engine queues those it has (see
            // `Engine::watch_store`) and the rest are dispatched again, as
            // their events are still waiting. If the daemon stops first, they
            // run after the next start, from the store.
            let Some(durable) = flush_runs(store, page_epoch, queued.len(), &stop).await else { return };
            if !durable {
                tracing::error!(runs = queued.len(), "the store was reopened after a failed write before new runs were flushed; they start once it writes again");
                continue;
            }
        }
        for task in queued {
            d.runner.enqueue(task);
        }
        if stalled {
            failures += 1;
            if !pause(failures, &store, &stop).await {
                return;
            }
        } else {
            failures = 0;
        }
    }
}

/// Dispatch a page's events in order: the runs to queue once they are
/// durable, and whether a failure stopped the page (it is read again; an
/// event at fault is passed over instead).
async fn dispatch_page(d: &Dispatcher, page: Vec<InboxEvent>, passed_over: &mut HashSet<u64>) -> (Vec<RunTask>, bool) {
    let mut queued: Vec<RunTask> = Vec::new();
    let mut dispatched = 0u64;
    let mut stalled = false;
    for ev in page {
        match dispatch_one(d, &ev, &mut queued).await {
            Ok(()) => dispatched += 1,
            Err(e) if about_the_event(&e) => {
                tracing::error!(event = %ev.uuid, error = %e, "cannot dispatch the event; it stays in the inbox and is retried at the next start");
                passed_over.insert(ev.seq);
            }
            Err(e) => {
                // Nothing later may go ahead of it: the page is read again.
                tracing::error!(event = %ev.uuid, error = %e, "cannot dispatch the event; retrying");
                stalled = true;
                break;
            }
        }
    }
    metrics::counter!(m::EVENTS_DISPATCHED).increment(dispatched);
    (queued, stalled)
}

/// Flush the runs of a page until it works: `Some(true)` when they are
/// durable, `Some(false)` when the store was reopened (after a failed write)
/// since the page's runs were written, `None` when the daemon is stopping.
async fn flush_runs(store: &SharedStore, page_epoch: u64, runs: usize, stop: &Shutdown) -> Option<bool> {
    let mut tries = 0u32;
    loop {
        match store.sync().await {
            Ok(()) => return Some(store.epoch() == page_epoch),
            Err(_) if store.epoch() != page_epoch => return Some(false),
            Err(e) => {
                tries += 1;
                tracing::error!(error = %e, runs, "cannot flush new runs; retrying before they are queued");
                if !pause(tries, store, stop).await {
                    return None;
                }
            }
        }
    }
}

/// The first page of events in dispatch order, leaving out the ones passed
/// over (paging past them, so that they cannot fill the page).
async fn first_page(store: &SharedStore, passed_over: &HashSet<u64>) -> Result<Vec<InboxEvent>, StoreError> {
    let mut after: Option<InboxPosition> = None;
    loop {
        let page = store.undispatched(after, PAGE).await?;
        let full = page.len() == PAGE;
        after = page.last().map(InboxEvent::position);
        let page: Vec<InboxEvent> = page.into_iter().filter(|e| !passed_over.contains(&e.seq)).collect();
        if !page.is_empty() || !full {
            return Ok(page);
        }
    }
}

/// Whether a dispatch failed because of the event itself, so that trying it
/// again cannot help until something changes (a restart, an operator).
fn about_the_event(e: &StoreError) -> bool {
    matches!(e, StoreError::Corrupt { .. } | StoreError::Conflict(_) | StoreError::Invalid(_) | StoreError::NotFound(_))
}

/// Wait longer after each failure in a row (0.2 s doubling up to 12.8 s), or
/// until the store has been reopened after a failed write, which is the
/// moment to try again. `false` if the daemon is stopping.
async fn pause(failures: u32, store: &SharedStore, stop: &crate::shutdown::Shutdown) -> bool {
    let wait = Duration::from_millis(100u64 << failures.clamp(1, 7));
    let mut status = store.subscribe();
    let epoch = store.epoch();
    let reopened = async move {
        while status.changed().await.is_ok() {
            if status.borrow().epoch != epoch {
                return;
            }
        }
        std::future::pending::<()>().await
    };
    tokio::select! {
        _ = tokio::time::sleep(wait) => true,
        _ = reopened => true,
        _ = stop.wait() => false,
    }
}

/// The flows that want `ev`: of its org, on, not the daemon's own doing
/// unless they opt in, and passing their filter. `json` is the event as JSON
/// once a filter needed it.
fn wanted_by<'a>(d: &Dispatcher, ev: &InboxEvent, snapshot: &'a FlowSet, json: &mut Option<serde_json::Value>) -> Vec<&'a Arc<Flow>> {
    let event = &ev.event;
    // An event stored without an org is the default org's; one of an org
    // no longer configured starts nothing.
    let org = d.orgs.event_org(ev.org.as_deref());
    let own = org.and_then(|o| d.orgs.get(o)).is_some_and(|o| o.is_self_actor(&event.actor.id));
    let mut wanted = Vec::new();
    for (flow, trigger) in snapshot.okta_flows(&event.event_type) {
        if org != Some(trigger.org.as_str()) {
            continue;
        }
        if !flow.enabled {
            tracing::debug!(event = %ev.uuid, flow = %flow.name, "the flow is off (`enabled: false`); the event does not start it");
            continue;
        }
        if own && !trigger.include_own_events {
            metrics::counter!(m::EVENTS_IGNORED, "reason" => "own_actor").increment(1);
            tracing::debug!(event = %ev.uuid, flow = %flow.name, "event caused by lanyard's own Okta identity; the flow does not opt in");
            continue;
        }
        let value = json.get_or_insert_with(|| event.to_value());
        match trigger.filter_matches(value) {
            Ok(true) => wanted.push(flow),
            Ok(false) => continue,
            Err(e) => {
                metrics::counter!(m::EVENTS_IGNORED, "reason" => "filter_error").increment(1);
                tracing::warn!(event = %ev.uuid, flow = %flow.name, error = %e, "the trigger filter failed; the event does not start the flow");
                continue;
            }
        }
    }
    wanted
}

async fn dispatch_one(d: &Dispatcher, ev: &InboxEvent, queued: &mut Vec<RunTask>) -> Result<(), lanyard_store::StoreError> {
    let snapshot = d.runner.flows();
    let event = &ev.event;
    // The flows that want the event, first: the last one takes the event's
    // JSON as its run's input rather than a copy.
    let mut json: Option<serde_json::Value> = None;
    let wanted = wanted_by(d, ev, &snapshot, &mut json);
    // Runs in creation order; the ones that run are also queued (by index),
    // and move into their tasks once the store has them.
    let mut runs: Vec<RunRecord> = Vec::with_capacity(wanted.len());
    let mut tasks = Vec::new();
    let mut alerts: Vec<(usize, String)> = Vec::new();
    let subject = event.subject_key();
    let last = wanted.len().saturating_sub(1);
    for (i, flow) in wanted.into_iter().enumerate() {
        let input = if i == last { json.take().unwrap_or_default() } else { json.clone().unwrap_or_default() };
        let trigger = TriggerInfo::Okta {
            event_type: event.event_type.clone(),
            event_uuid: event.uuid.clone(),
            source: ev.source.clone(),
        };
        let mut run = d.runner.new_run(flow, trigger, input, Some(subject.clone()), false);
        let now = run.created;
        match d.breaker.check(&flow.name, &subject, now) {
            Verdict::Run => {
                tasks.push((runs.len(), flow.clone(), d.runner.next_order()));
                runs.push(run);
            }
            Verdict::Suppress { runs_in_window, alert } => {
                let reason = format!(
                    "runaway breaker: {runs_in_window} runs of `{}` about {subject} within {}s (limit {}); held as suppressed",
                    flow.name,
                    d.breaker.window().num_seconds(),
                    d.breaker.max_runs()
                );
                run.status = RunStatus::Suppressed;
                run.ended = Some(now);
                run.reason = Some(reason.clone());
                metrics::counter!(m::RUNS_SUPPRESSED, "flow" => flow.name.clone()).increment(1);
                metrics::counter!(m::RUNS_FINISHED, "flow" => flow.name.clone(), "status" => "suppressed").increment(1);
                if alert {
                    tracing::warn!(flow = %flow.name, %subject, runs_in_window, event = %ev.uuid, "runaway breaker tripped: further runs are suppressed until the window has room");
                    alerts.push((runs.len(), reason));
                } else {
                    tracing::debug!(flow = %flow.name, %subject, event = %ev.uuid, "run suppressed by the runaway breaker");
                }
                runs.push(run);
            }
        }
    }
    d.store.dispatch_from(ev.org.as_deref(), &ev.uuid, &runs).await?;
    for (i, reason) in alerts {
        d.runner.tell_error_flow(&runs[i], Some(reason));
    }
    let mut runs: Vec<Option<RunRecord>> = runs.into_iter().map(Some).collect();
    queued.extend(tasks.into_iter().filter_map(|(i, flow, order)| {
        Some(RunTask {
            run: runs[i].take()?,
            flow: Some((flow, snapshot.clone())),
            resume: false,
            published: event.published,
            order,
            done: None,
            observer: None,
        })
    }));
    Ok(())
}
