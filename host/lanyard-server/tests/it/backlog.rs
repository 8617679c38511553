//! Event order with a backlog: runs about one user are created, and run, in
//! `published` order, however the events were split into deliveries, however
//! concurrently they arrived, and however the dispatcher pages the inbox.

use crate::support::*;
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::HashMap;

const FLOW: &str = r#"
name: in-order
description: Runs on every profile change.
trigger:
  okta: user.account.update_profile
steps:
  - return: "{{ event.uuid }}"
"#;

const SENDERS: usize = 8;
const DELIVERIES: usize = 5;
const USERS: usize = 8;

#[tokio::test]
async fn a_backlog_is_dispatched_in_published_order_across_deliveries_and_pages() {
    // Served but not booted: deliveries go to the inbox and wait there, a
    // backlog of 320 events (more than the dispatcher's page of 256).
    let d = daemon()
        .flow("order.yaml", FLOW)
        .config("[loop_protection]\nmax_runs = 1000")
        .serve()
        .await;
    // Each sender delivers one event per user per delivery, every delivery
    // published before the one it sent just before: in each user's events,
    // arrival order runs against published order, and the senders interleave.
    let base: DateTime<Utc> = "2026-01-05T10:00:00Z".parse().unwrap();
    let mut published: HashMap<String, DateTime<Utc>> = HashMap::new();
    let mut senders = Vec::new();
    for s in 0..SENDERS {
        let mut deliveries = Vec::new();
        for j in 0..DELIVERIES {
            let at = base + TimeDelta::seconds(((DELIVERIES - j) * 100 + s) as i64);
            let events: Vec<_> = (0..USERS)
                .map(|u| {
                    let uuid = format!("s{s}-d{j}-u{u}");
                    published.insert(uuid.clone(), at);
                    event(&uuid, "user.account.update_profile", &format!("00u{u}"), "00uhuman", &at.to_rfc3339())
                })
                .collect();
            deliveries.push(events);
        }
        let http = d.http.clone();
        let url = d.url("/hooks/okta");
        senders.push(tokio::spawn(async move {
            for events in deliveries {
                let r = http.post(&url).header("authorization", HOOK).json(&envelope(&events)).send().await.unwrap();
                assert_eq!(r.status(), 200);
            }
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
    let total = SENDERS * DELIVERIES * USERS;
    assert!(d.runs_of("in-order").await.is_empty(), "nothing is dispatched before the flows load");

    // Counted as they end (listing the history after each would slow the
    // daemon down more than the runs do).
    let mut finished = d.engine.subscribe_finished();
    d.boot().await;
    let all_ended = async {
        for _ in 0..total {
            finished.recv().await.expect("no run end missed");
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(120), all_ended).await.expect("every run ended");
    let runs = d.runs_of("in-order").await;
    assert_eq!(runs.len(), total);
    for u in 0..USERS {
        let subject = format!("00u{u}");
        let mut mine: Vec<_> = runs.iter().filter(|r| r.subject.as_deref() == Some(subject.as_str())).collect();
        let at = |r: &&lanyard_core::history::RunRecord| published[r.output.as_ref().unwrap().as_str().unwrap()];
        // Run ids are ULIDs made in creation order.
        mine.sort_by(|a, b| a.id.cmp(&b.id));
        let created: Vec<_> = mine.iter().map(at).collect();
        assert!(created.is_sorted(), "runs of {subject} created out of published order: {created:?}");
        mine.sort_by_key(|r| r.started.unwrap());
        let started: Vec<_> = mine.iter().map(at).collect();
        assert!(started.is_sorted(), "runs of {subject} started out of published order: {started:?}");
        for pair in mine.windows(2) {
            assert!(pair[0].ended.unwrap() <= pair[1].started.unwrap(), "runs of {subject} overlapped");
        }
    }
    d.stop().await;
}
