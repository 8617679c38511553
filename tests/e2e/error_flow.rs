//! The seed's first tip, applied everywhere: with `[error_flow]` set as
//! `lanyard.example.toml` and `lanyard demo` set it, a run that fails is
//! posted to IT's Slack channel by `flows/failures-to-it.yaml`, naming the
//! flow, the run, the step and the error; a run that succeeds posts nothing.

use crate::harness::{Options, World, ADMIN_TOKEN, ERROR_FLOW, LOCKOUT};
use lanyard_core::history::{RunStatus, TriggerInfo};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_is_posted_to_it_by_the_error_flow() {
    let w = World::start(Options { error_flow: true, ..Options::default() }).await;
    // The Flows page says which flow the daemon calls for failures.
    let listing = w.admin_get("flows").await;
    let marked: Vec<&str> =
        listing["flows"].as_array().unwrap().iter().filter(|f| f["error_flow"] == true).map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(marked, [ERROR_FLOW]);

    // A lockout run by hand for a user Okta does not have: it fails at `user`.
    crate::console::fail_a_lockout(&w).await;
    let failed = w.ended_runs(LOCKOUT, 1).await.remove(0);
    assert_eq!(failed.status, RunStatus::Failed, "{}", w.trace(&failed).await);
    let error = failed.error.clone().expect("the failed run's error");

    // The error flow ran once, as the daemon's own helper run of that run.
    let told = w.ended_runs(ERROR_FLOW, 1).await.remove(0);
    w.assert_succeeded(&told).await;
    assert_eq!(told.trigger, TriggerInfo::Flow { parent_run: failed.id.clone(), parent_step: "error_flow".into() });
    let posted = w.slack.requests();
    assert_eq!(posted.len(), 1, "{posted:#?}");
    let body = posted[0].json.clone().expect("a JSON body");
    assert_eq!(body["channel"], "#it-ops");
    let text = body["text"].as_str().unwrap();
    let kind = serde_json::to_value(error.kind).unwrap();
    for part in [
        format!(":rotating_light: A flow failed: *{LOCKOUT}*"),
        format!("Run {}", failed.id),
        format!("{} at step `user`: {}", kind.as_str().unwrap(), error.message),
        "Open it in lanyard's History".to_string(),
    ] {
        assert!(text.contains(&part), "`{part}` is not in:\n{text}");
    }

    // The error flow's own run is not reported again, and a run that
    // succeeds reports nothing.
    let r = w
        .http
        .post(format!("{}/api/v1/flows/{}/run?wait=true", w.base, crate::console::urlencoding(LOCKOUT)))
        .bearer_auth(ADMIN_TOKEN)
        .json(&json!({
            "eventType": "user.account.lock",
            "published": "2026-03-02T14:00:00.000Z",
            "client": { "ipAddress": "198.51.100.7" },
            "target": [{ "id": w.seeded_users(|u| u.status == "ACTIVE")[0].id, "type": "User" }]
        }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let runs = w.ended_runs(LOCKOUT, 2).await;
    w.assert_succeeded(&runs[1]).await;
    w.settle().await;
    assert_eq!(w.runs(ERROR_FLOW).await.len(), 1);
    assert_eq!(
        w.slack.requests().iter().filter(|p| p.json.as_ref().is_some_and(|j| j["text"].as_str().unwrap_or("").contains("rotating_light"))).count(),
        1
    );
    w.stop().await;
}
