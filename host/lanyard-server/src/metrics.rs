//! Prometheus metrics: the names, and the one process-wide recorder that
//! `/metrics` renders.
//!
//! The `metrics` crate's recorder is global, so every engine in a process (the
//! tests run several) shares one; metric labels (flow, card) keep them apart.
//! This module defines names and installs the recorder; the code that counts
//! lives where the thing happens.

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

/// Events a hook or the poller handed in, by `source` and `result` (`new`, `duplicate`).
pub const EVENTS_RECEIVED: &str = "lanyard_events_received_total";
/// Events refused on their own at intake (not an event, or over a store
/// limit), by `source`: not stored, never run (`GET /api/v1/events/rejected`).
pub const EVENTS_REJECTED: &str = "lanyard_events_rejected_total";
/// Events the dispatcher matched to no flow for a reason worth counting
/// (`reason`: `own_actor`, `filter_error`).
pub const EVENTS_IGNORED: &str = "lanyard_events_ignored_total";
/// Events dispatched (each may start several runs, or none).
pub const EVENTS_DISPATCHED: &str = "lanyard_events_dispatched_total";
/// Runs that ended, by `flow` and `status`.
pub const RUNS_FINISHED: &str = "lanyard_runs_total";
/// Run durations in seconds, by `flow`.
pub const RUN_SECONDS: &str = "lanyard_run_duration_seconds";
/// Runs held by the runaway breaker, by `flow`.
pub const RUNS_SUPPRESSED: &str = "lanyard_runs_suppressed_total";
/// Card calls, by `card` and `outcome` (`ok`, `error`).
pub const CARD_CALLS: &str = "lanyard_card_calls_total";
/// Card call durations in seconds, by `card`.
pub const CARD_SECONDS: &str = "lanyard_card_call_duration_seconds";
/// Wasm fuel burned by cards, by `card`.
pub const CARD_FUEL: &str = "lanyard_card_fuel_total";
/// Runs waiting for a worker.
pub const QUEUE_DEPTH: &str = "lanyard_queue_depth";
/// Runs executing now.
pub const RUNS_IN_FLIGHT: &str = "lanyard_runs_in_flight";
/// Client connections open now (`[server] max_connections`).
pub const HTTP_CONNECTIONS: &str = "lanyard_http_connections";
/// Idle client connections closed to make room for new ones.
pub const HTTP_CONNECTIONS_SHED: &str = "lanyard_http_connections_shed_total";
/// Flow reloads, by `result` (`ok`, `error`).
pub const RELOADS: &str = "lanyard_flow_reloads_total";
/// Flows loaded now.
pub const FLOWS_LOADED: &str = "lanyard_flows_loaded";
/// Flows loaded now, by `state` (`on`, `off`: `enabled: false`).
pub const FLOWS_BY_STATE: &str = "lanyard_flows";
/// 1 once flows are loaded and hooks are accepted, 0 before and while stopping.
pub const READY: &str = "lanyard_ready";
/// 1 while the store can write, 0 after a failed write until it has reopened
/// (`/readyz` says since when and why).
pub const STORE_WRITABLE: &str = "lanyard_store_writable";
/// When the store stopped writing (unix seconds), 0 while it writes.
pub const STORE_FAILING_SINCE: &str = "lanyard_store_failing_since_seconds";
/// Times the store reopened its database after a failed write (a full disk).
pub const STORE_REOPENS: &str = "lanyard_store_reopens_total";
/// Waiting runs whose wait ends at a time (a `for`/`until` wait, or a signal
/// wait's timeout), watched by the wait timer.
pub const RUNS_WAITING_TIMED: &str = "lanyard_runs_waiting_timed";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Install the Prometheus recorder (once per process) and return its handle.
/// `None` if another recorder was installed first by someone else.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ])
                .expect("bucket list is not empty")
                .build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => {
                    describe();
                    Some(handle)
                }
                Err(_) => None,
            }
        })
        .clone()
}

/// Set the store's gauges from its health now. Called as `/metrics` is
/// scraped, so they always agree with `/readyz`, which reads the same health.
pub fn store_health(health: &lanyard_store::StoreHealth) {
    let (writable, since) = match health {
        lanyard_store::StoreHealth::Writable => (1.0, 0.0),
        lanyard_store::StoreHealth::Failing { since, .. } => (0.0, since.timestamp() as f64),
    };
    metrics::gauge!(STORE_WRITABLE).set(writable);
    metrics::gauge!(STORE_FAILING_SINCE).set(since);
}

/// The text `/metrics` serves.
pub fn render() -> String {
    match install() {
        Some(h) => {
            h.run_upkeep();
            h.render()
        }
        None => String::from("# the metrics recorder is owned by another component\n"),
    }
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(EVENTS_RECEIVED, "Okta events received, by source and result (new or duplicate)");
    describe_counter!(EVENTS_REJECTED, "Okta events refused on their own at intake, by source: not stored, never run");
    describe_counter!(EVENTS_IGNORED, "Okta events that started no flow for a reason (own_actor, filter_error)");
    describe_counter!(EVENTS_DISPATCHED, "Okta events dispatched to flows");
    describe_counter!(RUNS_FINISHED, "Runs that ended, by flow and status");
    describe_histogram!(RUN_SECONDS, Unit::Seconds, "Run durations, by flow");
    describe_counter!(RUNS_SUPPRESSED, "Runs held by the runaway breaker, by flow");
    describe_counter!(CARD_CALLS, "Card calls, by card and outcome");
    describe_histogram!(CARD_SECONDS, Unit::Seconds, "Card call durations, by card");
    describe_counter!(CARD_FUEL, "Wasm fuel used by card calls, by card");
    describe_gauge!(QUEUE_DEPTH, "Runs waiting for a worker");
    describe_gauge!(RUNS_IN_FLIGHT, "Runs executing now");
    describe_gauge!(HTTP_CONNECTIONS, "Client connections open now");
    describe_counter!(HTTP_CONNECTIONS_SHED, "Idle client connections closed to make room for new ones");
    describe_counter!(RELOADS, "Flow reloads, by result");
    describe_gauge!(FLOWS_LOADED, "Flows loaded now");
    describe_gauge!(FLOWS_BY_STATE, "Flows loaded now, by state: on, or off (enabled: false)");
    describe_gauge!(READY, "1 when the daemon is ready");
    describe_gauge!(STORE_WRITABLE, "1 while the store can write, 0 after a failed write (a full disk) until it reopens");
    describe_gauge!(STORE_FAILING_SINCE, Unit::Seconds, "When the store stopped writing (unix time), 0 while it writes");
    describe_counter!(STORE_REOPENS, "Times the store reopened its database after a failed write");
    describe_gauge!(RUNS_WAITING_TIMED, "Waiting runs whose wait ends at a time, watched by the wait timer");
}
