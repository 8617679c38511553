//! The dispatcher: from the inbox to runs.
//!
//! Reads undispatched events in arrival order, a page at a time (a page holds
//! whole deliveries: intake's gate), orders each page by `published`, matches
//! every event to the flows that want it (event type, the daemon's own actor
//! unless the flow opts in, the trigger's filter), asks the runaway breaker,
//! and creates the event's runs atomically with its dispatch. One flush per
//! page makes the page's runs durable before any of them can call a card;
//! then they are queued. When the queue is full it stops reading: events wait
//! on disk, not in memory.

use crate::breaker::Verdict;
use crate::engine::Engine;
use crate::metrics as m;
use crate::queue::RunTask;
use lanyard_core::history::{RunRecord, RunStatus, TriggerInfo};
use lanyard_store::{EventInbox, InboxEvent, RunStore};
use std::time::Duration;

/// Events read per page.
const PAGE: usize = 256;

pub(crate) async fn run(engine: Engine) {
    let stop = engine.shutdown_signal();
    let intake = engine.intake().clone();
    let store = engine.store().clone();
    let mut after: Option<u64> = None;
    let mut epoch = store.epoch();
    let mut failures = 0u32;
    loop {
        if stop.is_triggered() {
            return;
        }
        engine.inner_queue().wait_for_room(&stop).await;
        let notified = intake.wake().notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        // A store reopened after a failed write may hold events this loop has
        // passed (their dispatch did not reach the disk): read from the start.
        let page_epoch = store.epoch();
        if page_epoch != epoch {
            after = None;
            epoch = page_epoch;
        }
        let page = {
            let _whole_deliveries = intake.exclusive().await;
            store.undispatched(after, PAGE).await
        };
        let mut page = match page {
            Ok(p) => {
                failures = 0;
                p
            }
            Err(e) => {
                failures += 1;
                tracing::error!(error = %e, "cannot read the inbox; retrying");
                let wait = Duration::from_millis(100u64 << failures.min(6));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => continue,
                    _ = stop.wait() => return,
                }
            }
        };
        if page.is_empty() {
            tokio::select! {
                _ = &mut notified => continue,
                _ = stop.wait() => return,
            }
        }
        after = page.iter().map(|e| e.seq).max().or(after);
        page.sort_by(|a, b| (a.event.published, a.seq).cmp(&(b.event.published, b.seq)));
        let mut queued: Vec<RunTask> = Vec::new();
        let mut dispatched = 0u64;
        for ev in page {
            match dispatch_one(&engine, &ev, &mut queued).await {
                Ok(()) => dispatched += 1,
                Err(e) => {
                    // Left in the inbox: retried at the next start.
                    tracing::error!(event = %ev.uuid, error = %e, "cannot dispatch the event; it stays in the inbox");
                }
            }
        }
        metrics::counter!(m::EVENTS_DISPATCHED).increment(dispatched);
        if !queued.is_empty() {
            let synced = match store.sync().await {
                Ok(()) if store.epoch() != page_epoch => Err("the store was reopened after a failed write".to_string()),
                other => other.map_err(|e| e.to_string()),
            };
            if let Err(e) = synced {
                // Runs not known durable must not call cards: once the store
                // writes again, the engine queues those it has (see
                // `Engine::watch_store`) and the rest are dispatched again.
                tracing::error!(error = %e, runs = queued.len(), "cannot flush new runs; they start once the store writes again");
                continue;
            }
        }
        for task in queued {
            engine.enqueue(task);
        }
    }
}

async fn dispatch_one(engine: &Engine, ev: &InboxEvent, queued: &mut Vec<RunTask>) -> Result<(), lanyard_store::StoreError> {
    let snapshot = engine.flows();
    let event = &ev.event;
    let own = engine.is_self_actor(&event.actor.id);
    let mut json: Option<serde_json::Value> = None;
    // The flows that want the event, first: the last one takes the event's
    // JSON as its run's input rather than a copy.
    let mut wanted = Vec::new();
    for (flow, trigger) in snapshot.okta_flows(&event.event_type) {
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
    // Runs in creation order; the ones that run are also queued (by index),
    // and move into their tasks once the store has them.
    let mut runs: Vec<RunRecord> = Vec::with_capacity(wanted.len());
    let mut tasks = Vec::new();
    let mut alerts: Vec<(usize, String)> = Vec::new();
    let subject = event.subject_key();
    let last = wanted.len().saturating_sub(1);
    for (i, flow) in wanted.into_iter().enumerate() {
        let input = if i == last { json.take().unwrap_or_default() } else { json.clone().unwrap_or_default() };
        let now = engine.clock().now();
        let mut run = RunRecord {
            id: lanyard_store::new_run_id(now),
            flow: flow.name.clone(),
            flow_digest: flow.digest.clone(),
            trigger: TriggerInfo::Okta {
                event_type: event.event_type.clone(),
                event_uuid: event.uuid.clone(),
                source: ev.source.clone(),
            },
            input,
            status: RunStatus::Queued,
            created: now,
            started: None,
            ended: None,
            output: None,
            error: None,
            reason: None,
            subject: Some(subject.clone()),
            dry_run: false,
        };
        match engine.inner_breaker().check(&flow.name, &subject, now) {
            Verdict::Run => {
                tasks.push((runs.len(), flow.clone(), engine.next_order()));
                runs.push(run);
            }
            Verdict::Suppress { runs_in_window, alert } => {
                let reason = format!(
                    "runaway breaker: {runs_in_window} runs of `{}` about {subject} within {}s (limit {}); held as suppressed",
                    flow.name,
                    engine.inner_breaker().window().num_seconds(),
                    engine.inner_breaker().max_runs()
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
    engine.store().dispatch(&ev.uuid, &runs).await?;
    for (i, reason) in alerts {
        engine.tell_error_flow(&runs[i], Some(reason));
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
