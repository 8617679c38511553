use crate::support::{event, run_for_event, t0};
use lanyard_core::ManualClock;
use lanyard_store::{Accepted, EventInbox, RunFilter, RunStore, Store, StoreError, StoreOptions};
use std::sync::Arc;
use std::time::Duration;

fn accepted(uuid: &str, new: bool) -> Accepted {
    Accepted {
        uuid: uuid.into(),
        new,
        refused: None,
    }
}

fn published_at(mut ev: lanyard_core::LogEvent, second: i64) -> lanyard_core::LogEvent {
    ev.published = t0() + chrono::TimeDelta::seconds(second);
    ev
}

fn uuids(events: &[lanyard_store::InboxEvent]) -> Vec<&str> {
    events.iter().map(|e| e.uuid.as_str()).collect()
}

#[tokio::test]
async fn an_event_is_stored_once_however_often_it_arrives() {
    let store = Store::temporary().unwrap();
    let got = store
        .accept(
            vec![event("a", "00u1"), event("b", "00u2"), event("a", "00u1")],
            "hook",
        )
        .await
        .unwrap();
    assert_eq!(
        got,
        vec![
            accepted("a", true),
            accepted("b", true),
            accepted("a", false)
        ]
    );
    let got = store
        .accept(vec![event("b", "00u2"), event("c", "00u3")], "poll")
        .await
        .unwrap();
    assert_eq!(got, vec![accepted("b", false), accepted("c", true)]);

    let pending = store.undispatched(None, 100).await.unwrap();
    assert_eq!(
        uuids(&pending),
        ["a", "b", "c"],
        "published at the same time: arrival order, each once"
    );
    assert_eq!(pending[2].source, "poll");
    assert_eq!(
        pending[0].event,
        event("a", "00u1"),
        "the event round-trips"
    );
    assert!(pending.windows(2).all(|w| w[0].seq < w[1].seq));

    // Paging on from a position.
    let rest = store
        .undispatched(Some(pending[0].position()), 1)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].uuid, "b");
}

#[tokio::test]
async fn concurrent_deliveries_of_one_event_store_it_once() {
    let store = Store::temporary().unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.accept(vec![event("same", "00u1")], "hook").await })
        })
        .collect();
    let mut new = 0;
    for t in tasks {
        new += t.await.unwrap().unwrap().iter().filter(|a| a.new).count();
    }
    assert_eq!(new, 1);
    assert_eq!(store.undispatched(None, 100).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_bad_event_is_refused_alone_and_not_remembered() {
    let store = Store::temporary().unwrap();
    let mut huge = event("huge", "00u1");
    huge.rest
        .insert("padding".into(), "x".repeat(300 * 1024).into());
    let got = store
        .accept(
            vec![
                event("good", "00u1"),
                event("", "00u2"),
                huge,
                event(&"\n".repeat(200), "00u3"),
            ],
            "hook",
        )
        .await
        .unwrap();
    assert_eq!(got[0], accepted("good", true));
    let refused: Vec<&str> = got[1..]
        .iter()
        .map(|a| {
            assert!(!a.new);
            a.refused.as_deref().unwrap()
        })
        .collect();
    assert!(refused[0].starts_with("unusable uuid ``"), "{}", refused[0]);
    assert!(refused[1].starts_with("the event is "), "{}", refused[1]);
    assert!(
        refused[2].contains(&format!("`{}…`", "\\n".repeat(64))),
        "a long uuid is escaped and cut short: {}",
        refused[2]
    );
    assert_eq!(uuids(&store.undispatched(None, 10).await.unwrap()), ["good"]);

    // The batch itself breaking a limit stores nothing.
    let err = store
        .accept(vec![event("other", "00u1")], "")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert_eq!(store.undispatched(None, 10).await.unwrap().len(), 1);
    // A refused event is not remembered as seen.
    let mut fixed = event("huge", "00u1");
    fixed.rest.insert("padding".into(), "x".into());
    assert!(store.accept(vec![fixed], "hook").await.unwrap()[0].new);
}

#[tokio::test]
async fn events_are_read_in_published_order_whatever_delivery_they_came_in() {
    let store = Store::temporary().unwrap();
    // Three deliveries, each later one published earlier.
    for (delivery, base) in [(0, 20), (1, 10), (2, 0)] {
        let events = (0..3)
            .map(|i| published_at(event(&format!("d{delivery}-{i}"), "00u1"), base + 2 - i))
            .collect();
        store.accept(events, "hook").await.unwrap();
    }
    let all = store.undispatched(None, 100).await.unwrap();
    let expected = [
        "d2-2", "d2-1", "d2-0", "d1-2", "d1-1", "d1-0", "d0-2", "d0-1", "d0-0",
    ];
    assert_eq!(uuids(&all), expected);
    // Pages of two follow the same order.
    let mut paged = Vec::new();
    let mut after = None;
    loop {
        let page = store.undispatched(after, 2).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some(last.position());
        paged.extend(page.iter().map(|e| e.uuid.clone()));
    }
    assert_eq!(paged, expected);

    // Dispatch the first page; an event published before everything still
    // waiting, accepted now, is read first.
    for ev in &all[..2] {
        store.dispatch(&ev.uuid, &[]).await.unwrap();
    }
    store
        .accept(vec![published_at(event("late", "00u1"), 5)], "poll")
        .await
        .unwrap();
    let page = store.undispatched(None, 3).await.unwrap();
    assert_eq!(uuids(&page), ["d2-0", "late", "d1-2"]);
    // Equal times go in arrival order.
    store
        .accept(vec![published_at(event("tie", "00u1"), 5)], "poll")
        .await
        .unwrap();
    let page = store.undispatched(None, 3).await.unwrap();
    assert_eq!(uuids(&page), ["d2-0", "late", "tie"]);
}

#[tokio::test]
async fn dispatch_creates_the_runs_and_takes_the_event_out_of_the_inbox() {
    let store = Store::temporary().unwrap();
    let (a, b) = (event("a", "00u1"), event("b", "00u2"));
    store
        .accept(vec![a.clone(), b.clone()], "hook")
        .await
        .unwrap();

    let runs = vec![
        run_for_event(&a, "offboarding", t0()),
        run_for_event(&a, "audit", t0()),
    ];
    store.dispatch("a", &runs).await.unwrap();
    for r in &runs {
        assert_eq!(store.get_run(&r.id).await.unwrap().as_ref(), Some(r));
    }
    let pending = store.undispatched(None, 10).await.unwrap();
    assert_eq!(
        pending.iter().map(|e| e.uuid.as_str()).collect::<Vec<_>>(),
        ["b"]
    );

    // No flow wanted b: dispatched with no runs.
    store.dispatch("b", &[]).await.unwrap();
    assert!(store.undispatched(None, 10).await.unwrap().is_empty());

    let again = store
        .dispatch("a", &[run_for_event(&a, "offboarding", t0())])
        .await
        .unwrap_err();
    assert!(matches!(again, StoreError::Conflict(_)), "{again}");
    assert_eq!(again.to_string(), "event a is already dispatched");
    let unknown = store.dispatch("nope", &[]).await.unwrap_err();
    assert!(matches!(unknown, StoreError::NotFound(_)), "{unknown}");

    // Still deduplicated after dispatch.
    assert!(!store.accept(vec![a.clone()], "hook").await.unwrap()[0].new);
    let all = store.list_runs(&RunFilter::default()).await.unwrap();
    assert_eq!(all.runs.len(), 2);
}

#[tokio::test]
async fn a_dispatch_that_would_clash_writes_nothing() {
    let store = Store::temporary().unwrap();
    let a = event("a", "00u1");
    store
        .accept(vec![a.clone(), event("b", "00u2")], "hook")
        .await
        .unwrap();
    let existing = run_for_event(&a, "offboarding", t0());
    store
        .dispatch("a", std::slice::from_ref(&existing))
        .await
        .unwrap();

    let fresh = run_for_event(&a, "audit", t0());
    let err = store
        .dispatch("b", &[fresh.clone(), existing.clone()])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
    assert_eq!(store.get_run(&fresh.id).await.unwrap(), None);
    assert_eq!(
        store.undispatched(None, 10).await.unwrap().len(),
        1,
        "b is still waiting"
    );

    let mut bad = run_for_event(&a, "audit", t0());
    bad.id = "not-a-ulid".into();
    let err = store.dispatch("b", &[bad]).await.unwrap_err();
    assert!(err.to_string().contains("is not a ULID"), "{err}");
}

#[tokio::test]
async fn dedupe_memory_lasts_the_window_and_is_then_pruned() {
    let clock = Arc::new(ManualClock::new(t0()));
    let store = Store::temporary_with(StoreOptions {
        dedupe_window: Duration::from_secs(7 * 24 * 3600),
        clock: clock.clone(),
        ..StoreOptions::default()
    })
    .unwrap();
    store
        .accept(vec![event("a", "00u1")], "hook")
        .await
        .unwrap();
    store.dispatch("a", &[]).await.unwrap();

    clock.advance(Duration::from_secs(6 * 24 * 3600));
    assert!(
        !store
            .accept(vec![event("a", "00u1")], "hook")
            .await
            .unwrap()[0]
            .new
    );
    let stats = store.prune(&Default::default()).await.unwrap();
    assert_eq!(stats.dedupe_generations, 0, "still inside the window");
    assert!(
        !store
            .accept(vec![event("a", "00u1")], "hook")
            .await
            .unwrap()[0]
            .new
    );

    clock.advance(Duration::from_secs(2 * 24 * 3600 + 1));
    let stats = store.prune(&Default::default()).await.unwrap();
    assert_eq!(
        stats.dedupe_generations, 1,
        "the day a arrived is past the window"
    );
    assert!(
        store
            .accept(vec![event("a", "00u1")], "hook")
            .await
            .unwrap()[0]
            .new
    );
}

#[tokio::test]
async fn the_inbox_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .accept(vec![event("a", "00u1"), event("b", "00u2")], "hook")
            .await
            .unwrap();
        store.dispatch("a", &[]).await.unwrap();
        store.sync().await.unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let pending = store.undispatched(None, 10).await.unwrap();
    assert_eq!(
        pending.iter().map(|e| e.uuid.as_str()).collect::<Vec<_>>(),
        ["b"]
    );
    let again = store
        .accept(vec![event("a", "00u1"), event("b", "00u2")], "hook")
        .await
        .unwrap();
    assert!(again.iter().all(|a| !a.new));
}
