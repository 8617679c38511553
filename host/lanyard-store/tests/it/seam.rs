//! The trait suite: one set of scenarios written against `DataStore`, run on
//! every backend (sled's `Store` and the in-memory `MemoryStore`). A backend
//! serves the daemon unchanged only if it passes all of them; a scenario that
//! needs a backend's internals belongs in that backend's own tests.

use crate::support::{event, run, run_for_event, step, t0};
use chrono::Duration as ChronoDuration;
use lanyard_core::caps::TableQuery;
use lanyard_core::history::{ErrorInfo, RunStatus};
use lanyard_core::{Clock, ErrorKind, Grant, Grants, ManualClock, WriteOutcome};
use lanyard_store::memory::{MemoryOptions, MemoryStore};
use lanyard_store::{
    AuditEntry, BrokenMark, CardEntry, CardSelector, FlowVersion, ImportMode, PageQuery, RetentionPolicy, RunFilter,
    RunEnd, ScheduleState, SharedStore, SortBy, Store, StoreErrorKind, StoreHealth, StoreOptions,
    MAX_FLOW_VERSIONS, new_run_id,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy)]
enum Backend {
    Sled,
    Memory,
}

impl Backend {
    fn store(self) -> SharedStore {
        self.store_with(Arc::new(lanyard_core::SystemClock), StoreOptions::default().dedupe_window)
    }

    fn store_with(self, clock: Arc<dyn Clock>, dedupe_window: Duration) -> SharedStore {
        match self {
            Backend::Sled => Arc::new(
                Store::temporary_with(StoreOptions {
                    clock,
                    dedupe_window,
                    ..StoreOptions::default()
                })
                .unwrap(),
            ),
            Backend::Memory => MemoryStore::with_options(MemoryOptions { dedupe_window, clock }).shared(),
        }
    }
}

/// Each scenario as one test per backend.
macro_rules! on_every_backend {
    ($($scenario:ident),* $(,)?) => {
        mod sled {
            $(#[tokio::test] async fn $scenario() { super::$scenario(super::Backend::Sled).await })*
        }
        mod memory {
            $(#[tokio::test] async fn $scenario() { super::$scenario(super::Backend::Memory).await })*
        }
    };
}

on_every_backend!(
    the_inbox_dedupes_per_org_and_refuses_what_breaks_a_limit,
    undispatched_events_come_in_published_order_and_dispatch_creates_their_runs,
    dedupe_memory_lasts_the_window_and_goes_at_a_prune,
    runs_change_status_and_finish_keeping_their_input,
    a_wait_ends_once_and_queues_its_run_with_the_steps_record,
    listing_filters_pages_and_searches_steps,
    steps_come_in_start_order_and_can_be_withheld,
    prune_deletes_only_finished_runs_by_age_and_per_flow,
    schedule_states_and_cursors,
    cards_are_found_by_every_selector,
    cards_conflict_break_and_take_grants,
    flow_versions_and_audit_keep_their_limits,
    tables_write_read_find_and_page,
    tables_go_through_csv_and_refuse_a_bad_file,
    the_store_is_writable_and_says_where_it_is,
);

/// A run id made at `t` exactly (`new_run_id` never goes back in time, and
/// other tests of this process may have made ids later than `t`).
fn id_at(t: chrono::DateTime<chrono::Utc>, n: u64) -> String {
    const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let v = ((t.timestamp_millis() as u128) << 80) | u128::from(n);
    (0..26).rev().map(|i| CROCKFORD[((v >> (i * 5)) & 31) as usize] as char).collect()
}

fn published(ev: lanyard_core::LogEvent, second: i64) -> lanyard_core::LogEvent {
    lanyard_core::LogEvent {
        published: t0() + ChronoDuration::seconds(second),
        ..ev
    }
}

async fn the_inbox_dedupes_per_org_and_refuses_what_breaks_a_limit(b: Backend) {
    let s = b.store();
    let first = s.accept(vec![event("e1", "00u1"), event("e1", "00u1")], "hook").await.unwrap();
    assert_eq!(first.iter().map(|a| a.new).collect::<Vec<_>>(), [true, false]);
    // Another org may send the same uuid; the same org again is a duplicate.
    assert!(s.accept_from(vec![event("e1", "00u1")], "poll", Some("preview")).await.unwrap()[0].new);
    assert!(!s.accept_from(vec![event("e1", "00u1")], "hook", Some("preview")).await.unwrap()[0].new);
    // A bad uuid or a huge event is refused alone.
    let mut huge = event("huge", "00u1");
    huge.display_message = Some("x".repeat(300 * 1024));
    let mixed = s.accept(vec![event("", "00u1"), huge, event("e2", "00u1")], "hook").await.unwrap();
    assert_eq!(
        mixed[0].refused.as_deref(),
        Some("unusable uuid `` (1 to 128 bytes, no control characters)")
    );
    assert!(mixed[1].refused.as_deref().unwrap().ends_with("bytes stored; at most 262144"), "{:?}", mixed[1]);
    assert!(mixed[2].new && mixed[2].refused.is_none());
    // A bad delivery fails whole.
    let e = s.accept(vec![event("e3", "00u1")], "").await.unwrap_err();
    assert_eq!((e.kind(), e.to_string()), (StoreErrorKind::Invalid, "event source must be 1 to 64 bytes".to_string()));
    let e = s.accept_from(vec![event("e3", "00u1")], "hook", Some("bad\norg")).await.unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Invalid);
    let waiting: Vec<(String, Option<String>)> =
        s.undispatched(None, 10).await.unwrap().into_iter().map(|e| (e.uuid, e.org)).collect();
    assert_eq!(
        waiting,
        [("e1".into(), None), ("e1".into(), Some("preview".into())), ("e2".into(), None)]
    );
}

async fn undispatched_events_come_in_published_order_and_dispatch_creates_their_runs(b: Backend) {
    let s = b.store();
    // Two deliveries, the later one holding the earlier-published event.
    s.accept(vec![published(event("late", "00u1"), 5), published(event("tie-a", "00u2"), 3)], "hook").await.unwrap();
    s.accept(vec![published(event("early", "00u3"), 1), published(event("tie-b", "00u4"), 3)], "hook").await.unwrap();
    let all = s.undispatched(None, 10).await.unwrap();
    let uuids: Vec<&str> = all.iter().map(|e| e.uuid.as_str()).collect();
    assert_eq!(uuids, ["early", "tie-a", "tie-b", "late"]);
    assert_eq!(s.inbox_depth().await.unwrap(), 4);
    let rest = s.undispatched(Some(all[1].position()), 2).await.unwrap();
    assert_eq!(rest.iter().map(|e| e.uuid.as_str()).collect::<Vec<_>>(), ["tie-b", "late"]);

    let ev = &all[0].event;
    let mut a = run_for_event(ev, "offboard", t0());
    a.input = json!("not kept: the run's input is the event");
    let b_run = run_for_event(ev, "notify", t0());
    s.dispatch("early", &[a.clone(), b_run.clone()]).await.unwrap();
    let stored = s.get_run(&a.id).await.unwrap().unwrap();
    assert_eq!(stored.input, ev.to_value());
    assert_eq!((stored.flow.as_str(), stored.status), ("offboard", RunStatus::Queued));
    assert_eq!(s.get_run(&b_run.id).await.unwrap().unwrap().input, ev.to_value());
    assert_eq!(s.undispatched(None, 10).await.unwrap().len(), 3);
    assert_eq!(s.inbox_depth().await.unwrap(), 3);
    // An event no flow wants leaves the inbox too.
    s.dispatch("late", &[]).await.unwrap();
    assert_eq!(s.undispatched(None, 10).await.unwrap().len(), 2);

    let again = s.dispatch("early", &[]).await.unwrap_err();
    assert_eq!((again.kind(), again.to_string()), (StoreErrorKind::Conflict, "event early is already dispatched".to_string()));
    let unknown = s.dispatch("nobody", &[]).await.unwrap_err();
    assert_eq!((unknown.kind(), unknown.to_string()), (StoreErrorKind::NotFound, "event nobody in the inbox not found".to_string()));
    let taken = s.dispatch("tie-a", std::slice::from_ref(&a)).await.unwrap_err();
    assert_eq!(taken.kind(), StoreErrorKind::Conflict);
    let twice = run_for_event(ev, "x", t0());
    let e = s.dispatch("tie-a", &[twice.clone(), twice]).await.unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Invalid);
    assert_eq!(s.undispatched(None, 10).await.unwrap().len(), 2, "a refused dispatch leaves the event waiting");
    assert_eq!(s.inbox_depth().await.unwrap(), 2);
}

async fn dedupe_memory_lasts_the_window_and_goes_at_a_prune(b: Backend) {
    let clock = Arc::new(ManualClock::new(t0()));
    let s = b.store_with(clock.clone(), Duration::from_secs(7 * 3600));
    s.accept(vec![event("e1", "00u1")], "hook").await.unwrap();
    s.dispatch("e1", &[]).await.unwrap();
    clock.advance(Duration::from_secs(6 * 3600));
    assert!(!s.accept(vec![event("e1", "00u1")], "hook").await.unwrap()[0].new);
    assert_eq!(s.prune(&RetentionPolicy::default()).await.unwrap().dedupe_generations, 0);
    // Past its generation's end plus the window, a prune forgets it.
    clock.advance(Duration::from_secs(3 * 3600));
    let stats = s.prune(&RetentionPolicy::default()).await.unwrap();
    assert_eq!(stats.dedupe_generations, 1);
    assert!(s.accept(vec![event("e1", "00u1")], "hook").await.unwrap()[0].new);
}

async fn a_wait_ends_once_and_queues_its_run_with_the_steps_record(b: Backend) {
    use lanyard_core::history::WaitState;
    let s = b.store();
    let mut r = run(new_run_id(t0()), "approve", RunStatus::Running, t0());
    s.create_run(&r).await.unwrap();
    let wait = WaitState {
        step: "ask/approval".into(),
        seq: 3,
        since: t0(),
        until: Some(t0() + ChronoDuration::days(2)),
        signal: Some("approval".into()),
        choices: vec!["approve".into(), "reject".into()],
        ended: None,
    };
    r.status = RunStatus::Waiting;
    r.wait = Some(wait.clone());
    s.update_run(&r).await.unwrap();
    let waiting = s.waiting_runs().await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!((waiting[0].status, waiting[0].wait.as_ref(), waiting[0].ended), (RunStatus::Waiting, Some(&wait), None));
    assert!(s.unfinished_runs().await.unwrap().is_empty(), "a waiting run is not work for a worker");
    let listed = s.list_runs(&RunFilter { status: Some(RunStatus::Waiting), ..RunFilter::default() }).await.unwrap();
    assert_eq!(listed.runs.iter().map(|r| &r.id).collect::<Vec<_>>(), [&r.id]);

    let mut record = step(&r.id, "ask/approval");
    record.kind = "wait".into();
    record.output = Some(json!({"resumed": "signal", "choice": "approve"}));
    let elsewhere = s.end_wait(&r.id, "other", &record).await.unwrap_err();
    assert_eq!(
        (elsewhere.kind(), elsewhere.to_string()),
        (StoreErrorKind::Conflict, format!("run {} is not waiting at `other` (it is waiting)", r.id))
    );
    s.end_wait(&r.id, "ask/approval", &record).await.unwrap();
    let again = s.end_wait(&r.id, "ask/approval", &record).await.unwrap_err();
    assert_eq!(again.kind(), StoreErrorKind::Conflict, "a wait ends once: {again}");
    assert!(s.waiting_runs().await.unwrap().is_empty());
    let queued = s.unfinished_runs().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].status, RunStatus::Queued);
    let kept = queued[0].wait.as_ref().and_then(|w| w.ended.as_deref());
    assert_eq!(kept, Some(&record), "the record stays with the run until its journal has it");

    // Cancelling a waiting run ends it and forgets the wait.
    let mut other = run(new_run_id(t0()), "approve", RunStatus::Waiting, t0());
    other.wait = Some(wait);
    s.create_run(&other).await.unwrap();
    let cancelled = RunEnd { status: RunStatus::Cancelled, output: None, error: None, reason: Some("no longer needed".into()) };
    s.finish_run(&other.id, cancelled, t0()).await.unwrap();
    let done = s.get_run(&other.id).await.unwrap().unwrap();
    assert_eq!((done.status, done.wait), (RunStatus::Cancelled, None));
    assert!(s.waiting_runs().await.unwrap().is_empty());
    assert_eq!(s.end_wait(&other.id, "ask/approval", &record).await.unwrap_err().kind(), StoreErrorKind::Conflict);
}

async fn runs_change_status_and_finish_keeping_their_input(b: Backend) {
    let s = b.store();
    let r = run(new_run_id(t0()), "offboard", RunStatus::Queued, t0());
    s.create_run(&r).await.unwrap();
    let e = s.create_run(&r).await.unwrap_err();
    assert_eq!((e.kind(), e.to_string()), (StoreErrorKind::Conflict, format!("run {} already exists", r.id)));
    let bad = run("not-a-ulid".into(), "offboard", RunStatus::Queued, t0());
    let e = s.create_run(&bad).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.to_string()),
        (StoreErrorKind::Invalid, "run id `not-a-ulid` is not a ULID (make ids with lanyard_store::new_run_id)".to_string())
    );
    assert_eq!(s.get_run("not-a-ulid").await.unwrap_err().kind(), StoreErrorKind::Invalid);
    let nameless = run(new_run_id(t0()), "", RunStatus::Queued, t0());
    assert_eq!(s.create_run(&nameless).await.unwrap_err().kind(), StoreErrorKind::Invalid);

    let t1 = t0() + ChronoDuration::seconds(1);
    s.set_status(&r.id, RunStatus::Running, t1).await.unwrap();
    s.set_status(&r.id, RunStatus::Running, t1 + ChronoDuration::seconds(5)).await.unwrap();
    let running = s.get_run(&r.id).await.unwrap().unwrap();
    assert_eq!((running.status, running.started, running.ended), (RunStatus::Running, Some(t1), None));
    assert_eq!(s.unfinished_runs().await.unwrap().iter().map(|r| &r.id).collect::<Vec<_>>(), [&r.id]);

    // An update keeps the input as created, and cannot rename the flow.
    let mut changed = running.clone();
    changed.input = json!({"other": true});
    changed.reason = Some("why".into());
    s.update_run(&changed).await.unwrap();
    let updated = s.get_run(&r.id).await.unwrap().unwrap();
    assert_eq!((updated.input, updated.reason.as_deref()), (r.input.clone(), Some("why")));
    let renamed = lanyard_core::history::RunRecord { flow: "other".into(), ..running.clone() };
    assert_eq!(s.update_run(&renamed).await.unwrap_err().kind(), StoreErrorKind::Invalid);

    let not_final = RunEnd { status: RunStatus::Running, output: None, error: None, reason: None };
    assert_eq!(s.finish_run(&r.id, not_final, t1).await.unwrap_err().kind(), StoreErrorKind::Invalid);
    let error = ErrorInfo {
        kind: ErrorKind::Timeout,
        message: "okta took too long".into(),
        step: Some("user".into()),
        card: Some("okta.get-user@0.1.0".into()),
        retryable: true,
        detail: None,
    };
    let t2 = t1 + ChronoDuration::seconds(9);
    let outcome = RunEnd { status: RunStatus::Failed, output: None, error: Some(error.clone()), reason: None };
    s.finish_run(&r.id, outcome, t2).await.unwrap();
    let done = s.get_run(&r.id).await.unwrap().unwrap();
    assert_eq!((done.status, done.ended, done.error), (RunStatus::Failed, Some(t2), Some(error)));
    assert!(s.unfinished_runs().await.unwrap().is_empty());

    let missing = new_run_id(t0());
    let e = s.set_status(&missing, RunStatus::Running, t1).await.unwrap_err();
    assert_eq!((e.kind(), e.to_string()), (StoreErrorKind::NotFound, format!("run {missing} not found")));
    assert_eq!(s.get_run(&missing).await.unwrap(), None);
}

async fn listing_filters_pages_and_searches_steps(b: Backend) {
    let s = b.store();
    let at = |i: i64| t0() + ChronoDuration::seconds(i);
    let mut ids = Vec::new();
    for i in 0..6 {
        let (flow, status) = match i % 3 {
            0 => ("offboard", RunStatus::Succeeded),
            1 => ("offboard", RunStatus::Failed),
            _ => ("notify", RunStatus::Running),
        };
        let r = run(id_at(at(i), 7), flow, status, at(i));
        s.create_run(&r).await.unwrap();
        ids.push(r.id);
    }
    let list = |f: RunFilter| {
        let s = s.clone();
        async move {
            let page = s.list_runs(&f).await.unwrap();
            (page.runs.into_iter().map(|r| r.id).collect::<Vec<_>>(), page.next_cursor)
        }
    };
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(list(RunFilter::default()).await, (newest_first.clone(), None));
    let flow = |f: &str| RunFilter { flow: Some(f.into()), ..RunFilter::default() };
    assert_eq!(list(flow("notify")).await.0, [ids[5].clone(), ids[2].clone()]);
    let failed = RunFilter { status: Some(RunStatus::Failed), ..RunFilter::default() };
    assert_eq!(list(failed).await.0, [ids[4].clone(), ids[1].clone()]);
    let succeeded_offboard = RunFilter { status: Some(RunStatus::Succeeded), ..flow("offboard") };
    assert_eq!(list(succeeded_offboard).await.0, [ids[3].clone(), ids[0].clone()]);
    let window = RunFilter { since: Some(at(1)), until: Some(at(3)), ..RunFilter::default() };
    assert_eq!(list(window).await.0, [ids[3].clone(), ids[2].clone(), ids[1].clone()]);

    // Pages of two, each going on from the last one's cursor.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let (page, next) = list(RunFilter { limit: Some(2), cursor, ..RunFilter::default() }).await;
        assert!(page.len() <= 2);
        seen.extend(page);
        match next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, newest_first);
    for bad in [RunFilter { limit: Some(0), ..RunFilter::default() }, RunFilter { cursor: Some("nope".into()), ..RunFilter::default() }] {
        let e = s.list_runs(&bad).await.unwrap_err();
        assert_eq!(e.kind(), StoreErrorKind::Invalid, "{e}");
    }

    // Search: text in a step's output, a card by name, an error kind.
    let mut found = step(&ids[1], "user");
    found.output = Some(json!({"profile": {"login": "Grace@acme.com"}}));
    found.card = Some("acme.jamf-wipe@1.2.0".into());
    found.error = Some(ErrorInfo {
        kind: ErrorKind::Denied,
        message: "held".into(),
        step: Some("user".into()),
        card: None,
        retryable: false,
        detail: None,
    });
    s.record_step(&found).await.unwrap();
    s.record_step(&step(&ids[4], "user")).await.unwrap();
    let text = RunFilter { text: Some("grace@ACME".into()), ..RunFilter::default() };
    assert_eq!(list(text).await.0, [ids[1].clone()]);
    let card = RunFilter { card: Some("acme.jamf-wipe".into()), ..RunFilter::default() };
    assert_eq!(list(card).await.0, [ids[1].clone()]);
    let versioned = RunFilter { card: Some("okta.get-user@0.1.0".into()), ..RunFilter::default() };
    assert_eq!(list(versioned).await.0, [ids[4].clone()]);
    let kind = RunFilter { error_kind: Some("denied".into()), ..RunFilter::default() };
    assert_eq!(list(kind).await.0, [ids[1].clone()]);
    let none = RunFilter { text: Some("nobody@acme.com".into()), ..RunFilter::default() };
    assert_eq!(list(none).await, (vec![], None));
}

async fn steps_come_in_start_order_and_can_be_withheld(b: Backend) {
    let s = b.store();
    let r = run(new_run_id(t0()), "offboard", RunStatus::Running, t0());
    s.create_run(&r).await.unwrap();
    // A loop is recorded after its children, but started first.
    for (path, seq) in [("loop/0", 2), ("loop/1", 2), ("loop", 1), ("user", 0)] {
        let mut st = step(&r.id, path);
        st.seq = seq;
        s.record_step(&st).await.unwrap();
    }
    let paths: Vec<String> = s.steps(&r.id).await.unwrap().into_iter().map(|s| s.path).collect();
    assert_eq!(paths, ["user", "loop", "loop/0", "loop/1"]);

    let orphan = step(&new_run_id(t0()), "user");
    let e = s.record_step(&orphan).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.to_string()),
        (StoreErrorKind::NotFound, format!("run {} (recording step `user`) not found", orphan.run_id))
    );
    assert_eq!(s.record_step(&step(&r.id, "")).await.unwrap_err().kind(), StoreErrorKind::Invalid);
    assert_eq!(s.steps("bad id").await.unwrap_err().kind(), StoreErrorKind::Invalid);

    let mut bare = step(&r.id, "note");
    bare.input = None;
    bare.output = None;
    s.record_step_durable(&bare).await.unwrap();
    assert_eq!(s.withhold_step_data(&r.id).await.unwrap(), 4);
    let steps = s.steps(&r.id).await.unwrap();
    assert_eq!(steps.len(), 5);
    assert!(steps.iter().all(|s| s.withheld && s.input.is_none() && s.output.is_none()));
    assert_eq!(steps[0].card.as_deref(), Some("okta.get-user@0.1.0"), "the rest is kept");
    assert_eq!(s.withhold_step_data(&r.id).await.unwrap(), 0);
}

async fn prune_deletes_only_finished_runs_by_age_and_per_flow(b: Backend) {
    let clock = Arc::new(ManualClock::new(t0() + ChronoDuration::days(30)));
    let s = b.store_with(clock, StoreOptions::default().dedupe_window);
    let at = |days: i64| t0() + ChronoDuration::days(days);
    let old_done = run(id_at(at(0), 1), "a", RunStatus::Succeeded, at(0));
    let old_running = run(id_at(at(1), 1), "a", RunStatus::Running, at(1));
    let mut ids = vec![old_done.id.clone(), old_running.id.clone()];
    s.create_run(&old_done).await.unwrap();
    s.create_run(&old_running).await.unwrap();
    s.record_step(&step(&old_done.id, "user")).await.unwrap();
    s.record_step(&step(&old_done.id, "mail")).await.unwrap();
    for day in 25..29 {
        let r = run(id_at(at(day), 1), "b", RunStatus::Failed, at(day));
        s.create_run(&r).await.unwrap();
        ids.push(r.id);
    }
    let by_age = RetentionPolicy { max_age: Some(Duration::from_secs(10 * 86_400)), max_runs_per_flow: None };
    let stats = s.prune(&by_age).await.unwrap();
    assert_eq!((stats.runs, stats.steps), (1, 2));
    assert_eq!(s.get_run(&old_done.id).await.unwrap(), None);
    assert!(s.steps(&old_done.id).await.unwrap().is_empty());
    assert!(s.get_run(&old_running.id).await.unwrap().is_some(), "an unfinished run stays");

    let keep_two = RetentionPolicy { max_age: None, max_runs_per_flow: Some(2) };
    assert_eq!(s.prune(&keep_two).await.unwrap().runs, 2);
    let left: Vec<String> = s.list_runs(&RunFilter::default()).await.unwrap().runs.into_iter().map(|r| r.id).collect();
    assert_eq!(left, [ids[5].clone(), ids[4].clone(), ids[1].clone()]);
    let keep_none = RetentionPolicy { max_age: None, max_runs_per_flow: Some(0) };
    assert_eq!(s.prune(&keep_none).await.unwrap().runs, 2);
    assert_eq!(s.unfinished_runs().await.unwrap().len(), 1);
}

async fn schedule_states_and_cursors(b: Backend) {
    let s = b.store();
    let state = ScheduleState { next_fire: t0(), last_fire: None, running_run: Some(new_run_id(t0())) };
    assert_eq!(s.schedule_state("nightly").await.unwrap(), None);
    s.set_schedule_state("nightly", &state).await.unwrap();
    s.set_schedule_state("hourly", &ScheduleState { running_run: None, ..state.clone() }).await.unwrap();
    assert_eq!(s.schedule_state("nightly").await.unwrap(), Some(state.clone()));
    let names: Vec<String> = s.schedule_states().await.unwrap().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["hourly", "nightly"]);
    s.remove_schedule_state("hourly").await.unwrap();
    assert_eq!(s.schedule_states().await.unwrap(), [("nightly".to_string(), state)]);
    assert_eq!(s.schedule_state("").await.unwrap_err().kind(), StoreErrorKind::Invalid);

    assert_eq!(s.cursor("syslog").await.unwrap(), None);
    s.set_cursor("syslog", "https://acme.okta.com/api/v1/logs?after=1").await.unwrap();
    s.set_cursor("syslog", "https://acme.okta.com/api/v1/logs?after=2").await.unwrap();
    assert_eq!(s.cursor("syslog").await.unwrap().as_deref(), Some("https://acme.okta.com/api/v1/logs?after=2"));
    let e = s.set_cursor("syslog", &"x".repeat(64 * 1024 + 1)).await.unwrap_err();
    assert_eq!((e.kind(), e.to_string()), (StoreErrorKind::Invalid, "cursor `syslog` value is 65537 bytes; at most 65536".to_string()));
}

fn card(name: &str, version: &str, wasm: &[u8]) -> CardEntry {
    CardEntry {
        name: name.into(),
        version: version.into(),
        digest: hex::encode(Sha256::digest(wasm)),
        size: wasm.len() as u64,
        info: serde_json::from_value(json!({"name": name, "version": version})).unwrap(),
        requested: Grants::from_list(&[Grant::Connection("jamf".into())]).unwrap(),
        granted: None,
        published_at: t0(),
        broken: None,
    }
}

async fn cards_are_found_by_every_selector(b: Backend) {
    let s = b.store();
    let versions = ["1.2.0", "1.10.0", "2.0.0-rc.1", "0.9.0"];
    for v in versions {
        let wasm = format!("wasm of {v}").into_bytes();
        assert_eq!(s.put_card(&card("acme.wipe", v, &wasm), &wasm).await.unwrap(), WriteOutcome::Changed);
    }
    let pre = b"only a pre-release".to_vec();
    s.put_card(&card("acme.beta", "0.1.0-alpha", &pre), &pre).await.unwrap();
    let version_of = |e: Option<CardEntry>| e.map(|e| e.version);
    let get = |sel: CardSelector| {
        let s = s.clone();
        async move { version_of(s.get_card("acme.wipe", &sel).await.unwrap()) }
    };
    assert_eq!(get(CardSelector::Latest).await.as_deref(), Some("1.10.0"), "semver precedence, releases first");
    assert_eq!(version_of(s.get_card("acme.beta", &CardSelector::Latest).await.unwrap()).as_deref(), Some("0.1.0-alpha"));
    assert_eq!(get(CardSelector::Version("1.2.0".into())).await.as_deref(), Some("1.2.0"));
    assert_eq!(get(CardSelector::Version("3.0.0".into())).await, None);
    assert_eq!(get(CardSelector::Req("^1".into())).await.as_deref(), Some("1.10.0"));
    assert_eq!(get(CardSelector::Req(">=0.9, <1.5".into())).await.as_deref(), Some("1.2.0"));
    let digest = hex::encode(Sha256::digest(b"wasm of 0.9.0"));
    assert_eq!(get(CardSelector::Digest(digest.clone())).await.as_deref(), Some("0.9.0"));
    assert_eq!(s.card_wasm(&digest).await.unwrap(), Some(b"wasm of 0.9.0".to_vec()));
    assert_eq!(s.get_card("nobody", &CardSelector::Latest).await.unwrap(), None);
    for bad in [CardSelector::Req("not a req".into()), CardSelector::Digest("ABC".into())] {
        assert_eq!(s.get_card("acme.wipe", &bad).await.unwrap_err().kind(), StoreErrorKind::Invalid);
    }
    let listed: Vec<String> = s.list_cards().await.unwrap().into_iter().map(|e| format!("{}@{}", e.name, e.version)).collect();
    assert_eq!(listed, ["acme.beta@0.1.0-alpha", "acme.wipe@0.9.0", "acme.wipe@1.2.0", "acme.wipe@1.10.0", "acme.wipe@2.0.0-rc.1"]);
}

async fn cards_conflict_break_and_take_grants(b: Backend) {
    let s = b.store();
    let wasm = b"\0asm one".to_vec();
    let one = card("acme.wipe", "1.0.0", &wasm);
    s.put_card(&one, &wasm).await.unwrap();
    // The same bytes again change nothing; other bytes under the version are refused.
    assert_eq!(s.put_card(&one, &wasm).await.unwrap(), WriteOutcome::Unchanged);
    let other = b"\0asm two".to_vec();
    let e = s.put_card(&card("acme.wipe", "1.0.0", &other), &other).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.to_string()),
        (StoreErrorKind::Conflict, format!("card acme.wipe@1.0.0 is already published with sha256 {}; publish a new version", one.digest))
    );
    let lying = CardEntry { size: 3, ..card("acme.wipe", "1.0.1", &other) };
    assert_eq!(s.put_card(&lying, &other).await.unwrap_err().kind(), StoreErrorKind::Invalid);

    let mark = BrokenMark { message: "describe() trapped".into(), kind: ErrorKind::Internal, since: t0() };
    let broken = s.set_broken("acme.wipe", "1.0.0", Some(mark.clone())).await.unwrap();
    assert_eq!(broken.broken, Some(mark));
    // Publishing the same bytes again clears the mark.
    assert_eq!(s.put_card(&one, &wasm).await.unwrap(), WriteOutcome::Unchanged);
    assert_eq!(s.get_card("acme.wipe", &CardSelector::Latest).await.unwrap().unwrap().broken, None);

    let grants = Grants::from_list(&[Grant::Connection("jamf".into())]).unwrap();
    let granted = s.set_grants("acme.wipe", "1.0.0", Some(grants.clone())).await.unwrap();
    assert_eq!(granted.granted, Some(grants.clone()));
    assert_eq!(s.get_card("acme.wipe", &CardSelector::Version("1.0.0".into())).await.unwrap().unwrap().granted, Some(grants));
    let e = s.set_grants("acme.wipe", "9.9.9", None).await.unwrap_err();
    assert_eq!((e.kind(), e.to_string()), (StoreErrorKind::NotFound, "card acme.wipe@9.9.9 not found".to_string()));

    // Wasm shared by two versions goes with the last of them.
    s.put_card(&card("acme.wipe", "1.0.2", &wasm), &wasm).await.unwrap();
    assert_eq!(s.remove_card("acme.wipe", "1.0.0").await.unwrap().map(|e| e.version).as_deref(), Some("1.0.0"));
    assert!(s.card_wasm(&one.digest).await.unwrap().is_some());
    s.remove_card("acme.wipe", "1.0.2").await.unwrap();
    assert_eq!(s.card_wasm(&one.digest).await.unwrap(), None);
    assert_eq!(s.remove_card("acme.wipe", "1.0.2").await.unwrap(), None);
}

async fn flow_versions_and_audit_keep_their_limits(b: Backend) {
    let s = b.store();
    let version = |file: &str, text: String| FlowVersion {
        version: 0,
        at: t0(),
        file: file.into(),
        etag: format!("sha256:{}", hex::encode(Sha256::digest(text.as_bytes()))),
        action: "save".into(),
        note: None,
        source: text,
    };
    for i in 1..=(MAX_FLOW_VERSIONS as u64 + 3) {
        assert_eq!(s.add_flow_version(&version("a.yaml", format!("text {i}"))).await.unwrap().version, i);
    }
    assert_eq!(s.add_flow_version(&version("a.yam", "other".into())).await.unwrap().version, 1);
    let kept = s.flow_versions("a.yaml").await.unwrap();
    assert_eq!((kept.len(), kept[0].version, kept[99].version), (MAX_FLOW_VERSIONS, 103, 4));
    assert_eq!(s.flow_version("a.yaml", 3).await.unwrap(), None);
    assert_eq!(s.flow_version("a.yaml", 4).await.unwrap().unwrap().source, "text 4");
    assert_eq!(s.flow_versions("").await.unwrap_err().kind(), StoreErrorKind::Invalid);
    let big = version("a.yaml", "x".repeat((1 << 20) + 1));
    assert_eq!(s.add_flow_version(&big).await.unwrap_err().kind(), StoreErrorKind::Invalid);

    let entry = |file: &str, summary: &str| AuditEntry {
        at: t0(),
        flow: "f".into(),
        file: file.into(),
        action: "save".into(),
        version: Some(1),
        note: None,
        summary: summary.into(),
    };
    for (file, summary) in [("a.yaml", "one"), ("b.yaml", "two"), ("a.yaml", "three")] {
        s.add_audit(&entry(file, summary)).await.unwrap();
    }
    let summaries = |entries: Vec<AuditEntry>| entries.into_iter().map(|e| e.summary).collect::<Vec<_>>();
    assert_eq!(summaries(s.audit(None, 10).await.unwrap()), ["three", "two", "one"]);
    assert_eq!(summaries(s.audit(Some("a.yaml"), 10).await.unwrap()), ["three", "one"]);
    assert_eq!(summaries(s.audit(None, 1).await.unwrap()), ["three"]);
    // The oldest go past the limit.
    for i in 0..lanyard_store::MAX_AUDIT_ENTRIES {
        s.add_audit(&entry("c.yaml", &format!("c{i}"))).await.unwrap();
    }
    let all = s.audit(None, usize::MAX).await.unwrap();
    assert_eq!(all.len(), lanyard_store::MAX_AUDIT_ENTRIES);
    assert!(s.audit(Some("a.yaml"), 10).await.unwrap().is_empty());
}

async fn tables_write_read_find_and_page(b: Backend) {
    let s = b.store();
    let people = [("u1", "Ada", 36), ("u2", "grace", 85), ("u3", "Alan", 41), ("x9", "Linus", 54)];
    for (key, name, age) in people {
        let row = json!({"name": name, "age": age, "team": if age > 50 { "old" } else { "new" }});
        assert_eq!(s.table_put("people", key, &row).await.unwrap(), WriteOutcome::Changed);
    }
    let ada = json!({"name": "Ada", "age": 36, "team": "new"});
    assert_eq!(s.table_put("people", "u1", &ada).await.unwrap(), WriteOutcome::Unchanged);
    assert_eq!(s.table_get("people", "u1").await.unwrap(), Some(ada));
    assert_eq!(s.table_get("nobody", "u1").await.unwrap(), None);
    assert_eq!(s.table_delete("people", "x9").await.unwrap(), WriteOutcome::Changed);
    assert_eq!(s.table_delete("people", "x9").await.unwrap(), WriteOutcome::Unchanged);
    s.table_put("people", "x9", &json!({"name": "Linus", "age": 54, "team": "old"})).await.unwrap();

    let keys = |rows: Vec<lanyard_core::caps::TableRow>| rows.into_iter().map(|r| r.key).collect::<Vec<_>>();
    let find = TableQuery { key_prefix: Some("u".into()), equals: vec![("team".into(), json!("new"))], limit: None };
    assert_eq!(keys(s.table_find("people", &find).await.unwrap()), ["u1", "u3"]);
    let one = TableQuery { limit: Some(1), ..TableQuery::default() };
    assert_eq!(keys(s.table_find("people", &one).await.unwrap()), ["u1"]);
    // Cards see the same rows through TablesApi.
    assert_eq!(keys(s.find("people", &find).await.unwrap()), ["u1", "u3"]);
    assert_eq!(s.get("people", "u2").await.unwrap().unwrap()["name"], "grace");

    let q = |prefix, after, contains, column, limit| PageQuery { prefix, after, contains, column, limit };
    let page = s.table_page("people", &q("u", None, None, None, 2)).await.unwrap();
    assert_eq!((keys(page.rows), page.next.as_deref()), (vec!["u1".to_string(), "u2".to_string()], Some("u2")));
    let page = s.table_page("people", &q("u", Some("u2"), None, None, 2)).await.unwrap();
    assert_eq!((keys(page.rows), page.next), (vec!["u3".to_string()], None));
    let page = s.table_page("people", &q("", None, Some("GRACE"), None, 10)).await.unwrap();
    assert_eq!((keys(page.rows), page.examined), (vec!["u2".to_string()], 4));
    let page = s.table_page("people", &q("", None, Some("a"), Some("name"), 10)).await.unwrap();
    assert_eq!(keys(page.rows), ["u1", "u2", "u3"]);
    let page = s.table_page("people", &q("", None, Some("x"), Some("key"), 10)).await.unwrap();
    assert_eq!(keys(page.rows), ["x9"]);

    let sorted = |field: &'static str, desc, offset| {
        let s = s.clone();
        async move {
            let page = s
                .table_page_sorted("people", &q("", None, None, None, 2), &SortBy { field, desc, offset })
                .await
                .unwrap();
            (keys(page.rows), page.next)
        }
    };
    assert_eq!(sorted("age", true, 0).await, (vec!["u2".to_string(), "x9".to_string()], Some("2".to_string())));
    assert_eq!(sorted("age", true, 2).await, (vec!["u3".to_string(), "u1".to_string()], None));
    assert_eq!(sorted("name", false, 0).await.0, ["u1", "u3"], "text without case: Ada, Alan, grace, Linus");

    let tables = s.list_tables().await.unwrap();
    assert_eq!(tables.iter().map(|t| (t.name.as_str(), t.rows)).collect::<Vec<_>>(), [("people", 4)]);
    assert!(tables[0].bytes > 100, "{tables:?}");

    let e = s.table_put("bad name", "k", &json!(1)).await.unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Invalid);
    assert_eq!(s.table_get("people", "").await.unwrap_err().kind(), StoreErrorKind::Invalid);
    let e = s.table_put("people", "big", &json!("x".repeat(64 * 1024))).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.to_string()),
        (StoreErrorKind::Invalid, "table `people`: row `big` is 65538 bytes as JSON; at most 65536".to_string())
    );
    assert_eq!(s.table_page("people", &q("", None, None, None, 0)).await.unwrap_err().kind(), StoreErrorKind::Invalid);
    let card_error = s.put("people", "", json!(1)).await.unwrap_err();
    assert_eq!(card_error.kind, ErrorKind::InvalidInput);
}

async fn tables_go_through_csv_and_refuse_a_bad_file(b: Backend) {
    let s = b.store();
    s.table_put("people", "u1", &json!({"name": "Ada", "age": 36, "tags": ["a"]})).await.unwrap();
    s.table_put("people", "u2", &json!({"name": "42", "admin": true})).await.unwrap();
    let mut csv = Vec::new();
    assert_eq!(s.export_csv("people", &mut csv).unwrap(), 2);
    let text = String::from_utf8(csv.clone()).unwrap();
    // Columns in first-seen order; a string that reads as JSON is written as JSON.
    assert_eq!(text, "key,name,age,tags,admin\nu1,Ada,36,\"[\"\"a\"\"]\",\nu2,\"\"\"42\"\"\",,,true\n");
    let stats = s.import_csv("copy", &mut csv.as_slice(), ImportMode::Merge).unwrap();
    assert_eq!((stats.inserted, stats.updated, stats.unchanged), (2, 0, 0));
    for key in ["u1", "u2"] {
        assert_eq!(s.table_get("copy", key).await.unwrap(), s.table_get("people", key).await.unwrap());
    }

    let update = "key,name\nu1,Ada\nu3,Alan\n";
    let stats = s.import_csv("copy", &mut update.as_bytes(), ImportMode::Replace).unwrap();
    assert_eq!((stats.inserted, stats.updated, stats.unchanged, stats.deleted), (1, 1, 0, 1));
    assert_eq!(s.table_get("copy", "u1").await.unwrap(), Some(json!({"name": "Ada"})));
    assert_eq!(s.table_get("copy", "u2").await.unwrap(), None);
    let again = s.import_csv("copy", &mut update.as_bytes(), ImportMode::Merge).unwrap();
    assert_eq!(again.unchanged, 2);

    let bad = "key,name,name\nu1,a,b\n";
    let e = s.import_csv("copy", &mut bad.as_bytes(), ImportMode::Merge).unwrap_err();
    assert_eq!(e.kind(), StoreErrorKind::Invalid);
    assert_eq!(e.to_string(), "cannot import into table `copy`: 1 problem, nothing written\n  line 1: column `name` appears twice");
    let bad = "key,name\nu9,Zed\n,empty\nu9,again\nu8,a,b\n";
    let e = s.import_csv("copy", &mut bad.as_bytes(), ImportMode::Merge).unwrap_err();
    let lanyard_store::StoreError::Import { errors, .. } = &e else { panic!("{e}") };
    assert_eq!(errors.iter().map(|l| l.line).collect::<Vec<_>>(), [3, 4, 5], "{e}");
    assert_eq!(errors[1].message, "key `u9` again (first on line 2)");
    assert_eq!(s.table_get("copy", "u9").await.unwrap(), None, "nothing written");

    let e = s.export_csv("nobody", &mut Vec::new()).unwrap_err();
    assert_eq!((e.kind(), e.to_string()), (StoreErrorKind::NotFound, "table `nobody` not found".to_string()));
    s.table_put("scalars", "k", &json!(1)).await.unwrap();
    assert_eq!(s.export_csv("scalars", &mut Vec::new()).unwrap_err().kind(), StoreErrorKind::Invalid);
}

async fn the_store_is_writable_and_says_where_it_is(b: Backend) {
    let s = b.store();
    assert_eq!(s.health(), StoreHealth::Writable);
    assert_eq!(s.epoch(), 0);
    s.sync_blocking().unwrap();
    s.sync().await.unwrap();
    lanyard_store::wait_writable(s.as_ref()).await;
    let rx = s.subscribe();
    assert_eq!((rx.borrow().epoch, &rx.borrow().health), (0, &StoreHealth::Writable));
    let location = s.location();
    match b {
        Backend::Sled => assert!(std::path::Path::new(&location).is_absolute(), "{location}"),
        Backend::Memory => assert_eq!(location, "memory"),
    }
}
