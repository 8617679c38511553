use crate::support::{run, step, t0};
use chrono::Duration as ChronoDuration;
use lanyard_core::ErrorKind;
use lanyard_core::ManualClock;
use lanyard_core::history::{ErrorInfo, RunStatus, StepRecord};
use lanyard_store::{
    RetentionPolicy, RunFilter, RunEnd, RunStore, Store, StoreError, StoreOptions, new_run_id,
};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn a_run_lives_through_its_statuses() {
    let store = Store::temporary().unwrap();
    let r = run(new_run_id(t0()), "offboarding", RunStatus::Queued, t0());
    store.create_run(&r).await.unwrap();
    assert_eq!(store.get_run(&r.id).await.unwrap().as_ref(), Some(&r));
    let dup = store.create_run(&r).await.unwrap_err();
    assert!(matches!(dup, StoreError::Conflict(_)), "{dup}");

    let started = t0() + ChronoDuration::seconds(1);
    store
        .set_status(&r.id, RunStatus::Running, started)
        .await
        .unwrap();
    let got = store.get_run(&r.id).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.started),
        (RunStatus::Running, Some(started))
    );
    assert_eq!(got.input, r.input, "the input is kept through head updates");
    assert_eq!(store.unfinished_runs().await.unwrap().len(), 1);

    let ended = t0() + ChronoDuration::seconds(2);
    let error = ErrorInfo {
        kind: ErrorKind::Unavailable,
        message: "okta answered 503".into(),
        step: Some("sessions".into()),
        card: Some("okta.clear-sessions@0.1.0".into()),
        retryable: true,
        detail: None,
    };
    store
        .finish_run(
            &r.id,
            RunEnd {
                status: RunStatus::Failed,
                output: None,
                error: Some(error.clone()),
                reason: None,
            },
            ended,
        )
        .await
        .unwrap();
    let got = store.get_run(&r.id).await.unwrap().unwrap();
    assert_eq!(
        (got.status, got.ended, got.error.clone()),
        (RunStatus::Failed, Some(ended), Some(error))
    );
    assert!(store.unfinished_runs().await.unwrap().is_empty());
    let failed = store
        .list_runs(&RunFilter {
            status: Some(RunStatus::Failed),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(failed.runs.len(), 1);
    assert!(
        store
            .list_runs(&RunFilter {
                status: Some(RunStatus::Running),
                ..Default::default()
            })
            .await
            .unwrap()
            .runs
            .is_empty()
    );

    let not_final = RunEnd {
        status: RunStatus::Running,
        output: None,
        error: None,
        reason: None,
    };
    assert!(store.finish_run(&r.id, not_final, ended).await.is_err());
    let missing = store
        .set_status(&new_run_id(t0()), RunStatus::Running, ended)
        .await
        .unwrap_err();
    assert!(matches!(missing, StoreError::NotFound(_)), "{missing}");

    // update_run replaces the head wholesale but keeps the input.
    let mut changed = got.clone();
    changed.reason = Some("looked at by an operator".into());
    changed.input = json!("ignored");
    store.update_run(&changed).await.unwrap();
    let got = store.get_run(&r.id).await.unwrap().unwrap();
    assert_eq!(got.reason.as_deref(), Some("looked at by an operator"));
    assert_eq!(got.input, r.input);
    changed.flow = "other".into();
    assert!(
        store
            .update_run(&changed)
            .await
            .unwrap_err()
            .to_string()
            .contains("cannot change")
    );
}

#[tokio::test]
async fn unfinished_runs_come_oldest_first() {
    let store = Store::temporary().unwrap();
    let mut ids = vec![];
    for i in 0..5 {
        let created = t0() + ChronoDuration::seconds(i);
        let r = run(new_run_id(created), "f", RunStatus::Queued, created);
        store.create_run(&r).await.unwrap();
        ids.push(r.id);
    }
    store
        .set_status(&ids[1], RunStatus::Running, t0())
        .await
        .unwrap();
    store
        .set_status(&ids[3], RunStatus::Succeeded, t0())
        .await
        .unwrap();
    let got: Vec<_> = store
        .unfinished_runs()
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        got,
        [
            ids[0].clone(),
            ids[1].clone(),
            ids[2].clone(),
            ids[4].clone()
        ]
    );
}

#[tokio::test]
async fn listing_filters_by_flow_status_and_time_newest_first_in_pages() {
    let store = Store::temporary().unwrap();
    let statuses = [RunStatus::Succeeded, RunStatus::Failed, RunStatus::Running];
    let mut all = vec![];
    for i in 0..60i64 {
        let created = t0() + ChronoDuration::minutes(i);
        let flow = if i % 2 == 0 {
            "onboarding"
        } else {
            "offboarding"
        };
        let r = run(new_run_id(created), flow, statuses[i as usize % 3], created);
        store.create_run(&r).await.unwrap();
        all.push(r);
    }
    let newest_first = |pred: &dyn Fn(&lanyard_core::history::RunRecord) -> bool| -> Vec<String> {
        all.iter()
            .rev()
            .filter(|r| pred(r))
            .map(|r| r.id.clone())
            .collect()
    };
    let ids =
        |page: &lanyard_store::RunPage| page.runs.iter().map(|r| r.id.clone()).collect::<Vec<_>>();

    let page = store.list_runs(&RunFilter::default()).await.unwrap();
    assert_eq!(ids(&page), newest_first(&|_| true)[..50]);

    // Page through one flow, 7 at a time: every run once, in order.
    let mut seen = vec![];
    let mut cursor = None;
    loop {
        let page = store
            .list_runs(&RunFilter {
                flow: Some("offboarding".into()),
                limit: Some(7),
                cursor: cursor.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(ids(&page));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, newest_first(&|r| r.flow == "offboarding"));

    let failed_off = store
        .list_runs(&RunFilter {
            flow: Some("offboarding".into()),
            status: Some(RunStatus::Failed),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        ids(&failed_off),
        newest_first(&|r| r.flow == "offboarding" && r.status == RunStatus::Failed)
    );
    let running = store
        .list_runs(&RunFilter {
            status: Some(RunStatus::Running),
            limit: Some(1000),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        ids(&running),
        newest_first(&|r| r.status == RunStatus::Running)
    );

    let (since, until) = (
        t0() + ChronoDuration::minutes(10),
        t0() + ChronoDuration::minutes(19),
    );
    let window = store
        .list_runs(&RunFilter {
            since: Some(since),
            until: Some(until),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        ids(&window),
        newest_first(&|r| r.created >= since && r.created <= until)
    );
    assert_eq!(window.runs.len(), 10);

    let err = store
        .list_runs(&RunFilter {
            limit: Some(5000),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("1 to 1000"), "{err}");
    assert!(
        store
            .list_runs(&RunFilter {
                cursor: Some("x".into()),
                ..Default::default()
            })
            .await
            .is_err()
    );
}

#[tokio::test]
async fn the_journal_keeps_steps_in_start_order() {
    let store = Store::temporary().unwrap();
    let r = run(new_run_id(t0()), "f", RunStatus::Running, t0());
    store.create_run(&r).await.unwrap();
    let other = run(new_run_id(t0()), "f", RunStatus::Running, t0());
    store.create_run(&other).await.unwrap();
    // Paths that sort differently from execution order; equal seqs keep record order.
    let paths = [
        "user",
        "sessions",
        "groups/remove[10]",
        "groups/remove[2]",
        "audit",
    ];
    for p in paths {
        store.record_step(&step(&r.id, p)).await.unwrap();
        store
            .record_step_durable(&step(&other.id, "x"))
            .await
            .unwrap();
    }
    let got = store.steps(&r.id).await.unwrap();
    assert_eq!(
        got.iter().map(|s| s.path.as_str()).collect::<Vec<_>>(),
        paths
    );
    assert_eq!(got[0], step(&r.id, "user"));
    assert_eq!(store.steps(&other.id).await.unwrap().len(), 5);

    // A loop is recorded after its children; steps() puts it back where it started.
    let looped = run(new_run_id(t0()), "f", RunStatus::Running, t0());
    store.create_run(&looped).await.unwrap();
    for (path, seq) in [
        ("user", 0),
        ("groups/remove[0]", 2),
        ("groups/remove[1]", 3),
        ("groups", 1),
        ("notify", 4),
    ] {
        store
            .record_step(&StepRecord {
                seq,
                ..step(&looped.id, path)
            })
            .await
            .unwrap();
    }
    let got: Vec<String> = store
        .steps(&looped.id)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.path)
        .collect();
    assert_eq!(
        got,
        [
            "user",
            "groups",
            "groups/remove[0]",
            "groups/remove[1]",
            "notify"
        ]
    );

    let orphan = store
        .record_step(&step(&new_run_id(t0()), "x"))
        .await
        .unwrap_err();
    assert!(matches!(orphan, StoreError::NotFound(_)), "{orphan}");
}

#[tokio::test]
async fn retention_deletes_old_finished_runs_with_their_steps_and_index_entries() {
    let clock = Arc::new(ManualClock::new(t0()));
    let store = Store::temporary_with(StoreOptions {
        clock: clock.clone(),
        ..Default::default()
    })
    .unwrap();
    let day = ChronoDuration::days(1);
    let mut old_done = vec![];
    let mut kept = vec![];
    for i in 0..4 {
        let created = t0() + ChronoDuration::minutes(i);
        let status = if i == 3 {
            RunStatus::Running
        } else {
            RunStatus::Succeeded
        };
        let r = run(new_run_id(created), "f", status, created);
        store.create_run(&r).await.unwrap();
        store.record_step(&step(&r.id, "a")).await.unwrap();
        store.record_step(&step(&r.id, "b")).await.unwrap();
        if i == 3 {
            kept.push(r.id)
        } else {
            old_done.push(r.id)
        }
    }
    let recent = t0() + day * 20;
    let r = run(new_run_id(recent), "f", RunStatus::Failed, recent);
    store.create_run(&r).await.unwrap();
    kept.push(r.id);

    clock.set(t0() + day * 31);
    let stats = store
        .prune(&RetentionPolicy {
            max_age: Some(Duration::from_secs(30 * 86_400)),
            max_runs_per_flow: None,
        })
        .await
        .unwrap();
    assert_eq!((stats.runs, stats.steps), (3, 6));
    for id in &old_done {
        assert_eq!(store.get_run(id).await.unwrap(), None);
        assert!(store.steps(id).await.unwrap().is_empty());
    }
    let listed: HashSet<String> = store
        .list_runs(&RunFilter {
            flow: Some("f".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .runs
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(
        listed,
        kept.iter().cloned().collect(),
        "the running one is never pruned"
    );
    let by_status = store
        .list_runs(&RunFilter {
            status: Some(RunStatus::Succeeded),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(by_status.runs.is_empty());
    assert_eq!(store.steps(&kept[0]).await.unwrap().len(), 2);
}

#[tokio::test]
async fn retention_keeps_the_newest_runs_of_each_flow() {
    let store = Store::temporary().unwrap();
    let mut a = vec![];
    for i in 0..10 {
        let created = t0() + ChronoDuration::seconds(i);
        let status = if i == 0 {
            RunStatus::Queued
        } else {
            RunStatus::Succeeded
        };
        let r = run(new_run_id(created), "a", status, created);
        store.create_run(&r).await.unwrap();
        a.push(r.id);
    }
    for i in 0..3 {
        let created = t0() + ChronoDuration::seconds(i);
        store
            .create_run(&run(new_run_id(created), "b", RunStatus::Failed, created))
            .await
            .unwrap();
    }
    let stats = store
        .prune(&RetentionPolicy {
            max_age: None,
            max_runs_per_flow: Some(4),
        })
        .await
        .unwrap();
    assert_eq!(stats.runs, 5, "a's 6 oldest, less the queued one");
    let left: Vec<String> = store
        .list_runs(&RunFilter {
            flow: Some("a".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .runs
        .into_iter()
        .map(|r| r.id)
        .collect();
    let mut want: Vec<String> = a[6..].iter().rev().cloned().collect();
    want.push(a[0].clone());
    assert_eq!(left, want);
    let b = store
        .list_runs(&RunFilter {
            flow: Some("b".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(b.runs.len(), 3);
}

#[tokio::test]
async fn a_search_reads_the_event_the_steps_their_cards_and_errors() {
    let store = Store::temporary().unwrap();
    let mut ada = run(new_run_id(t0()), "off", RunStatus::Succeeded, t0());
    ada.input = json!({"target": [{"alternateId": "ada@acme.com", "displayName": "Ada Lovelace"}]});
    store.create_run(&ada).await.unwrap();
    let mut jamf = step(&ada.id, "devices");
    jamf.card = Some("acme.jamf-offboard@1.0.0".into());
    jamf.error = Some(ErrorInfo { kind: ErrorKind::Denied, message: "held".into(), step: Some("devices".into()), card: None, retryable: false, detail: None });
    store.record_step(&jamf).await.unwrap();
    let grace = run(new_run_id(t0() + ChronoDuration::seconds(1)), "off", RunStatus::Succeeded, t0() + ChronoDuration::seconds(1));
    store.create_run(&grace).await.unwrap();
    let mut found = step(&grace.id, "user");
    found.output = Some(json!({"profile": {"login": "grace@acme.com", "firstName": "Grace"}}));
    store.record_step_durable(&found).await.unwrap();

    let ids = |f: RunFilter| {
        let store = store.clone();
        async move { store.list_runs(&f).await.unwrap().runs.into_iter().map(|r| r.id).collect::<Vec<_>>() }
    };
    let text = |t: &str| RunFilter { text: Some(t.into()), ..RunFilter::default() };
    // The event (any case), a step's output.
    assert_eq!(ids(text("ADA LOVELACE")).await, [ada.id.clone()]);
    assert_eq!(ids(text("grace@acme")).await, [grace.id.clone()]);
    assert_eq!(ids(text("jo@acme.com")).await, [grace.id.clone(), ada.id.clone()], "steps' inputs and outputs count");
    assert!(ids(text("nobody")).await.is_empty());
    // A card by name, with or without its version; an error kind of a step.
    assert_eq!(ids(RunFilter { card: Some("acme.jamf-offboard".into()), ..RunFilter::default() }).await, [ada.id.clone()]);
    assert_eq!(ids(RunFilter { card: Some("okta.get-user@0.1.0".into()), ..RunFilter::default() }).await, [grace.id.clone()]);
    assert_eq!(ids(RunFilter { error_kind: Some("denied".into()), ..RunFilter::default() }).await, [ada.id.clone()]);
    assert!(ids(RunFilter { error_kind: Some("timeout".into()), ..RunFilter::default() }).await.is_empty());
}
