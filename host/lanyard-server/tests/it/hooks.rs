//! Okta Event Hooks: verification, durable intake, dedupe, per-subject order,
//! and the daemon's own events.

use crate::support::*;
use lanyard_core::history::{RunStatus, TriggerInfo};
use lanyard_core::okta::{LifecycleOp, OktaApi};
use serde_json::Value;

const SUSPEND_FLOW: &str = r#"
name: on-suspend
description: Look the suspended user up.
trigger:
  okta: user.lifecycle.suspend
steps:
  - id: user
    card: okta.get-user
    with: { user: "{{ event.target[0].id }}" }
  - return: { login: "{{ user.profile.login }}" }
"#;

#[tokio::test]
async fn verification_echoes_the_challenge_with_the_secret_only() {
    let d = daemon().start().await;
    let ok = d
        .http
        .get(d.url("/hooks/okta"))
        .header("authorization", HOOK)
        .header("x-okta-verification-challenge", "abc123")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap(), serde_json::json!({ "verification": "abc123" }));
    let wrong = d
        .http
        .get(d.url("/hooks/okta"))
        .header("authorization", "Bearer nope")
        .header("x-okta-verification-challenge", "abc123")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    d.stop().await;
}

#[tokio::test]
async fn a_sandbox_event_is_delivered_accepted_run_and_kept_in_history() {
    let d = daemon().flow("suspend.yaml", SUSPEND_FLOW).start().await;
    d.engine.register_sandbox_hook(&d.url("/hooks/okta")).await.unwrap();
    let sandbox = d.engine.sandbox().unwrap();
    let user = sandbox.org.users().into_iter().find(|u| u.status == "ACTIVE").unwrap();
    // The human admin suspends the user in Okta (not lanyard's own identity).
    let admin = lanyard_okta::OktaCapability::new(
        lanyard_okta::OktaClient::new(
            lanyard_okta::OktaConfig::new(&sandbox.base_url, lanyard_okta::Auth::Ssws(sandbox.org.admin_token().into())).unwrap(),
        )
        .unwrap(),
    );
    admin.lifecycle(&user.id, LifecycleOp::Suspend).await.unwrap();
    let runs = d.wait_for_runs("on-suspend", 1).await;
    let run = &runs[0];
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(run.output.as_ref().unwrap()["login"], user.login());
    assert!(matches!(&run.trigger, TriggerInfo::Okta { event_type, source, .. } if event_type == "user.lifecycle.suspend" && source == "hook"));
    assert_eq!(run.subject.as_deref(), Some(user.id.as_str()));
    // The history, through the admin API: the run and its steps.
    let (status, body) = d.admin_get(&format!("/api/v1/runs/{}", run.id)).await;
    assert_eq!(status, 200);
    assert_eq!(body["run"]["status"], "succeeded");
    let steps = body["steps"].as_array().unwrap();
    assert_eq!(steps[0]["path"], "user");
    assert_eq!(steps[0]["card"].as_str().unwrap().split('@').next(), Some("okta.get-user"));
    assert!(body["trace"].as_str().unwrap().contains("okta.get-user"));
    d.stop().await;
}

#[tokio::test]
async fn the_same_event_twice_makes_one_run() {
    let d = daemon().flow("suspend.yaml", SUSPEND_FLOW).start().await;
    let user = d.engine.sandbox().unwrap().org.users()[3].id.clone();
    let ev = event("dup-1", "user.lifecycle.suspend", &user, "00uhuman", "2026-01-05T10:00:00Z");
    let (s1, b1) = d.deliver(std::slice::from_ref(&ev)).await;
    assert_eq!((s1, b1["accepted"].as_u64(), b1["duplicates"].as_u64()), (200, Some(1), Some(0)));
    let (s2, b2) = d.deliver(&[ev.clone(), ev]).await;
    assert_eq!((s2, b2["accepted"].as_u64(), b2["duplicates"].as_u64()), (200, Some(0), Some(2)));
    // A later event shows the dispatcher has passed both deliveries.
    let later = event("dup-2", "user.lifecycle.suspend", &user, "00uhuman", "2026-01-05T10:00:01Z");
    d.deliver(&[later]).await;
    let runs = d.wait_for_runs("on-suspend", 2).await;
    let uuids: Vec<&str> = runs
        .iter()
        .map(|r| match &r.trigger {
            TriggerInfo::Okta { event_uuid, .. } => event_uuid.as_str(),
            _ => "",
        })
        .collect();
    assert_eq!(uuids, ["dup-1", "dup-2"]);
    d.stop().await;
}

const ORDER_FLOW: &str = r#"
name: profile-order
description: Record each profile change; runs about one user must not overlap.
trigger:
  okta: user.account.update_profile
steps:
  - id: seen
    card: lanyard.echo
    with: { message: "{{ event.uuid }}" }
  - return: "{{ event.published }}"
"#;

#[tokio::test]
async fn runs_about_one_user_go_one_at_a_time_in_published_order() {
    let d = daemon().flow("order.yaml", ORDER_FLOW).start().await;
    // One delivery, out of order, interleaving two users.
    let events = vec![
        event("e3", "user.account.update_profile", "00ua", "00uhuman", "2026-01-05T10:00:03Z"),
        event("f2", "user.account.update_profile", "00ub", "00uhuman", "2026-01-05T10:00:02Z"),
        event("e1", "user.account.update_profile", "00ua", "00uhuman", "2026-01-05T10:00:01Z"),
        event("e2", "user.account.update_profile", "00ua", "00uhuman", "2026-01-05T10:00:02Z"),
        event("f1", "user.account.update_profile", "00ub", "00uhuman", "2026-01-05T10:00:01Z"),
    ];
    assert_eq!(d.deliver(&events).await.0, 200);
    let runs = d.wait_for_runs("profile-order", 5).await;
    for subject in ["00ua", "00ub"] {
        let mut mine: Vec<_> = runs.iter().filter(|r| r.subject.as_deref() == Some(subject)).collect();
        mine.sort_by_key(|r| r.started.unwrap());
        let published: Vec<&str> = mine.iter().map(|r| r.output.as_ref().unwrap().as_str().unwrap()).collect();
        let mut sorted = published.clone();
        sorted.sort();
        assert_eq!(published, sorted, "runs of {subject} in start order");
        for pair in mine.windows(2) {
            assert!(pair[0].ended.unwrap() <= pair[1].started.unwrap(), "runs of {subject} overlapped");
        }
    }
    d.stop().await;
}

const OWN_A: &str = r#"
name: ignores-own
description: Does not opt in to lanyard's own events.
trigger:
  okta: user.account.update_profile
steps:
  - return: "ran"
"#;

const OWN_B: &str = r#"
name: wants-own
description: Opts in to lanyard's own events.
trigger:
  okta: user.account.update_profile
  include_own_events: true
steps:
  - return: "ran"
"#;

#[tokio::test]
async fn events_of_lanyards_own_identity_start_only_flows_that_opt_in() {
    let d = daemon().flow("a.yaml", OWN_A).flow("b.yaml", OWN_B).start().await;
    let me = d.engine.sandbox().unwrap().org.service_user_id().to_string();
    assert!(d.engine.self_actor_ids().contains(&me));
    d.deliver(&[event("own-1", "user.account.update_profile", "00uz", &me, "2026-01-05T10:00:00Z")]).await;
    // Both decisions are made in the same dispatch, so once `wants-own` ran,
    // `ignores-own` has been decided too.
    d.wait_for_runs("wants-own", 1).await;
    assert!(d.runs_of("ignores-own").await.is_empty());
    // Someone else's event starts both.
    d.deliver(&[event("other-1", "user.account.update_profile", "00uz", "00uhuman", "2026-01-05T10:00:01Z")]).await;
    d.wait_for_runs("wants-own", 2).await;
    d.wait_for_runs("ignores-own", 1).await;
    d.stop().await;
}
