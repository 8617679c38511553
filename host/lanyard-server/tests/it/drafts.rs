//! Testing from the builder (`lanyard_server::test_api`): a draft run without
//! saving, replaying real events against a draft, one card, sample events.

use crate::support::*;
use serde_json::{json, Value};

const OFFBOARD: &str = r#"
name: offboard
description: Look the user up, suspend them, tell IT.
trigger:
  okta: user.lifecycle.deactivate
steps:
  - id: user
    card: okta.get-user
    with: { user: "{{ event.target[0].id }}" }
  - id: suspend
    card: okta.suspend
    with: { user: "{{ user.id }}" }
  - id: tell
    card: lanyard.echo
    with: { message: "offboarded {{ user.profile.login }}" }
"#;

/// The first active user of the sandbox org (seeded from a fixed seed).
fn active_user() -> lanyard_core::okta::User {
    let org = lanyard_sandbox::okta::SandboxOrg::with_defaults();
    org.users().into_iter().find(|u| u.status == "ACTIVE").unwrap()
}

async fn post(d: &Daemon, path: &str, body: Value) -> (u16, Value) {
    d.admin_post(path, Some(body)).await
}

async fn file_of(d: &Daemon, name: &str) -> String {
    let (_, flows) = d.admin_get("/api/v1/flows").await;
    flows["flows"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap()["file"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_draft_is_dry_run_without_saving_and_a_real_run_is_only_of_the_saved_flow() {
    let d = daemon().flow("offboard.yaml", OFFBOARD).start().await;
    let user = active_user();
    let file = file_of(&d, "offboard").await;
    let draft = OFFBOARD.replace("offboarded {{", "gone: {{");
    let ev = event("d-1", "user.lifecycle.deactivate", &user.id, "00uhuman", "2026-01-05T10:00:00Z");

    let (status, body) = post(&d, "/api/v1/flows/test", json!({ "source": draft, "file": file, "event": ev })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["run"]["status"], "succeeded", "{}", body["trace"]);
    assert_eq!(body["run"]["dry_run"], true);
    assert_eq!(body["recorded"], false);
    let steps = body["steps"].as_array().unwrap();
    let paths: Vec<&str> = steps.iter().map(|s| s["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["user", "suspend", "tell"]);
    assert_eq!(steps[2]["output"]["message"], format!("gone: {}", user.login()));
    assert!(!steps[1]["effects"].as_array().unwrap().is_empty(), "the suspension is recorded, not done: {}", steps[1]);
    // Nothing reached the history, the org or the file.
    let (_, runs) = d.admin_get("/api/v1/runs").await;
    assert!(runs["runs"].as_array().unwrap().is_empty(), "{runs}");
    let client = d.engine.okta_client().unwrap();
    assert_eq!(client.get_user(&user.id).await.unwrap().status, "ACTIVE");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), OFFBOARD);
    // The file may be named relative to the flows directory, as the outline names it.
    let (status, body) = post(&d, "/api/v1/flows/test", json!({ "source": draft, "file": "offboard.yaml", "event": ev })).await;
    assert_eq!((status, body["run"]["status"].as_str()), (200, Some("succeeded")), "{body}");
    let (status, _) = post(&d, "/api/v1/flows/test", json!({ "source": draft, "file": "nope.yaml", "event": ev })).await;
    assert_eq!(status, 404);

    // A draft with an error is answered with its diagnostics, in place.
    let broken = OFFBOARD.replace("okta.suspend", "okta.suspendd");
    let (status, body) = post(&d, "/api/v1/flows/test", json!({ "source": broken, "file": file, "event": ev })).await;
    assert_eq!(status, 422, "{body}");
    let diag = &body["diagnostics"][0];
    assert_eq!(diag["code"], "unknown-card", "{body}");
    assert_eq!(diag["span"]["start"]["line"], 11, "{body}");

    // A real run of unsaved text is refused; of the saved text it is kept.
    let (status, body) = post(&d, "/api/v1/flows/test", json!({ "source": draft, "file": file, "event": ev, "dry_run": false })).await;
    assert_eq!((status, body["error"]["code"].as_str()), (409, Some("unsaved")), "{body}");
    let (status, body) = post(&d, "/api/v1/flows/test", json!({ "source": OFFBOARD, "file": file, "event": ev, "dry_run": false })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["recorded"].as_bool(), body["run"]["status"].as_str()), (Some(true), Some("succeeded")));
    assert_eq!(client.get_user(&user.id).await.unwrap().status, "SUSPENDED");
    assert_eq!(d.runs_of("offboard").await.len(), 1);

    // A new flow (no file yet) is checked against the others: same name, refused.
    let (status, body) = post(&d, "/api/v1/flows/test", json!({ "source": OFFBOARD, "event": ev })).await;
    assert_eq!(status, 422, "{body}");
    d.stop().await;
}

const LOCKED: &str = r#"
name: locked
description: Say who was locked out.
trigger:
  okta: user.account.lock
steps:
  - id: say
    card: lanyard.echo
    with: { message: "{{ event.target[0].alternateId }} locked" }
"#;

#[tokio::test]
async fn a_replay_dry_runs_real_events_through_the_edit_and_says_what_would_differ() {
    let d = daemon().flow("locked.yaml", LOCKED).start().await;
    let events: Vec<Value> = ["ann", "bob", "cy"]
        .iter()
        .enumerate()
        .map(|(i, who)| event(&format!("lock-{i}"), "user.account.lock", who, "00uhuman", &format!("2026-01-05T10:00:0{i}Z")))
        .collect();
    let (status, _) = d.deliver(&events).await;
    assert_eq!(status, 200);
    d.wait_for_runs("locked", 3).await;
    // A run by hand is not a real event: it is not replayed.
    let (status, _) = d.admin_post("/api/v1/flows/locked/run?wait=true", Some(json!({ "target": [{ "alternateId": "manual" }] }))).await;
    assert_eq!(status, 200);

    let (status, same) = post(&d, "/api/v1/flows/locked/replay", json!({ "source": LOCKED })).await;
    assert_eq!(status, 200, "{same}");
    let runs = same["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 3, "{same}");
    assert!(runs.iter().all(|r| r["differs"] == false), "{same}");

    let edit = LOCKED.replace(" locked\"", " was locked out\"").replace(
        "steps:\n",
        "steps:\n  - if: event.target[0].id == 'bob'\n    then:\n      - fail: bob is special\n",
    );
    let (status, diff) = post(&d, "/api/v1/flows/locked/replay", json!({ "source": edit, "count": 2 })).await;
    assert_eq!(status, 200, "{diff}");
    let runs = diff["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2, "{diff}");
    // The newest two, bob's and cy's, whichever began first.
    let of = |who: &str| runs.iter().find(|r| r["event_summary"] == format!("user.account.lock · {who}@acme.example")).unwrap_or_else(|| panic!("{who}: {diff}"));
    let cy: Vec<&str> = of("cy")["differences"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
    assert!(cy.iter().any(|l| l.starts_with("step `if-") && l.ends_with("would run")), "{cy:?}");
    assert!(
        cy.iter().any(|l| l.contains("step `say` would be given different `message`: \"cy@acme.example locked\" → \"cy@acme.example was locked out\"")),
        "{cy:?}"
    );
    assert_eq!(of("cy")["after"]["status"], "succeeded");
    let bob: Vec<&str> = of("bob")["differences"].as_array().unwrap().iter().map(|x| x.as_str().unwrap()).collect();
    assert!(bob[0].starts_with("the run would end failed instead of succeeded"), "{bob:?}");
    assert!(bob.iter().any(|l| l == &"step `say` would not run"), "{bob:?}");
    // The replay wrote nothing.
    assert_eq!(d.runs_of("locked").await.len(), 4);

    let (status, _) = post(&d, "/api/v1/flows/locked/replay", json!({ "source": LOCKED, "count": 500 })).await;
    assert_eq!(status, 400);
    let (status, _) = post(&d, "/api/v1/flows/nope/replay", json!({ "source": LOCKED })).await;
    assert_eq!(status, 404);
    d.stop().await;
}

#[tokio::test]
async fn one_card_is_tested_with_given_input_dry_unless_asked() {
    let d = daemon().start().await;
    let (status, body) = post(&d, "/api/v1/cards/lanyard.echo/test", json!({ "input": { "message": "hi" } })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["ok"].as_bool(), &body["output"]["message"]), (Some(true), &json!("hi")));
    assert!(body["card"].as_str().unwrap().starts_with("lanyard.echo@"));

    let user = active_user();
    let (status, body) = post(&d, "/api/v1/cards/okta.suspend/test", json!({ "input": { "user": user.id } })).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body["effects"].as_array().unwrap().is_empty(), "{body}");
    let client = d.engine.okta_client().unwrap();
    assert_eq!(client.get_user(&user.id).await.unwrap().status, "ACTIVE", "a dry run changes nothing");

    // Bad input is the card's own answer, with its kind.
    let (status, body) = post(&d, "/api/v1/cards/okta.get-user/test", json!({ "input": { "nobody": 1 } })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["ok"].as_bool(), body["error"]["kind"].as_str()), (Some(false), Some("invalid-input")), "{body}");
    let (status, _) = post(&d, "/api/v1/cards/acme.nothing/test", json!({ "input": {} })).await;
    assert_eq!(status, 404);
    // The admin token only.
    let r = d.http.post(d.url("/api/v1/cards/lanyard.echo/test")).json(&json!({ "input": {} })).send().await.unwrap();
    assert_eq!(r.status(), 401);
    d.stop().await;
}

#[tokio::test]
async fn a_sample_event_is_the_orgs_own_or_one_about_a_real_user() {
    let d = daemon().start().await;
    let user = active_user();
    let (status, body) = d.admin_get("/api/v1/okta/event-types/user.account.lock/sample").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "generated");
    let ev = &body["event"];
    assert_eq!(ev["eventType"], "user.account.lock");
    assert!(ev["target"][0]["id"].as_str().unwrap().starts_with("00u"), "{ev}");
    // It parses as an Okta LogEvent and the org knows its user.
    let parsed: lanyard_core::LogEvent = serde_json::from_value(ev.clone()).unwrap();
    let client = d.engine.okta_client().unwrap();
    client.get_user(&parsed.target[0].id).await.unwrap();

    // Once the org has such an event, that is the sample.
    client.lifecycle(&user.id, lanyard_core::okta::LifecycleOp::Suspend).await.unwrap();
    let (status, body) = d.admin_get("/api/v1/okta/event-types/user.lifecycle.suspend/sample").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["source"], "org", "{body}");
    assert_eq!(body["event"]["target"][0]["id"], user.id.as_str());
    // Only an event of the type asked for.
    let (_, body) = d.admin_get("/api/v1/okta/event-types/user.account.lock/sample").await;
    assert_eq!((body["source"].as_str(), body["event"]["eventType"].as_str()), (Some("generated"), Some("user.account.lock")), "{body}");

    let (status, _) = d.admin_get("/api/v1/okta/event-types/user.made.up/sample").await;
    assert_eq!(status, 404);
    d.stop().await;
}
