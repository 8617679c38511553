//! Waiting runs in the daemon: a `wait` frees its worker, ends on time or by
//! a signal (once), can be cancelled, and survives a restart.

use crate::support::*;
use lanyard_core::history::RunStatus;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const APPROVAL: &str = r#"
name: approval
description: asks for an approval, then says what came
trigger: manual
steps:
  - id: ask
    wait: { signal: approval, choices: [approve, reject], timeout: 1h }
  - return: "{{ ask.choice }} by {{ ask.by }}: {{ ask.data.note | default('') }}"
"#;

const PAUSE: &str = r#"
name: pause
description: waits a moment
trigger: manual
steps:
  - id: before
    assign: { n: 1 }
  - id: nap
    wait: { for: 2s }
  - return: "{{ nap.resumed }}"
"#;

async fn start(d: &Daemon, flow: &str) -> String {
    let (status, body) = d.admin_post(&format!("/api/v1/flows/{flow}/run"), Some(json!({}))).await;
    assert_eq!(status, 202, "{body}");
    body["run_id"].as_str().unwrap().to_string()
}


#[tokio::test]
async fn a_signal_resumes_a_waiting_run_once_with_its_choice() {
    let d = daemon().flow("approval.yaml", APPROVAL).start().await;
    let id = start(&d, "approval").await;
    let waiting = d.until_status(&id, "waiting").await;
    let wait = &waiting["run"]["wait"];
    assert_eq!((wait["step"].as_str(), wait["signal"].as_str()), (Some("ask"), Some("approval")));
    assert_eq!(wait["choices"], json!(["approve", "reject"]));
    assert!(wait["until"].is_string(), "the timeout is shown: {wait}");
    // The worker lets go of it once the wait is recorded.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while d.engine.runs_in_flight() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "a waiting run holds no worker");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let path = format!("/api/v1/runs/{id}/signal");
    let (code, body) = d.admin_post(&path, Some(json!({"signal": "aproval", "choice": "approve"}))).await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["error"]["message"], format!("run {id} waits for the `approval` signal, not for the `aproval` signal"));
    let (code, body) = d.admin_post(&path, Some(json!({"signal": "approval"}))).await;
    assert_eq!((code, body["error"]["message"].as_str()), (400, Some("the `approval` signal needs a choice: approve, reject")));
    let (code, body) = d.admin_post(&path, Some(json!({"signal": "approval", "choice": "maybe"}))).await;
    assert_eq!(code, 400, "{body}");
    let (code, body) = d
        .admin_post(&path, Some(json!({"signal": "approval", "choice": "approve", "data": {"note": "ok for a week"}})))
        .await;
    assert_eq!(code, 202, "{body}");
    assert_eq!(body, json!({"run_id": id, "signal": "approval", "choice": "approve"}));
    let (code, body) = d.admin_post(&path, Some(json!({"signal": "approval", "choice": "reject"}))).await;
    assert_eq!(code, 409, "a signal resumes a run once: {body}");

    let done = d.until_status(&id, "succeeded").await;
    assert_eq!(done["run"]["output"], "approve by api: ok for a week");
    assert!(done["run"].get("wait").is_none(), "{done}");
    let step = done["steps"].as_array().unwrap().iter().find(|s| s["path"] == "ask").unwrap().clone();
    assert_eq!((step["kind"].as_str(), step["output"]["choice"].as_str()), (Some("wait"), Some("approve")));
    let (code, _) = d.admin_post("/api/v1/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV/signal", Some(json!({"signal": "approval"}))).await;
    assert_eq!(code, 404);
    d.stop().await;
}

#[tokio::test]
async fn a_wait_ends_on_time_and_a_waiting_run_can_be_cancelled() {
    let d = daemon().flow("pause.yaml", PAUSE).flow("approval.yaml", APPROVAL).start().await;
    let id = start(&d, "pause").await;
    d.until_status(&id, "waiting").await;
    let waited = std::time::Instant::now();
    let done = d.until_status(&id, "succeeded").await;
    assert!(waited.elapsed() >= Duration::from_millis(1500), "it waited its time");
    assert_eq!(done["run"]["output"], "time");

    let other = start(&d, "approval").await;
    d.until_status(&other, "waiting").await;
    let (code, body) = d.admin_post(&format!("/api/v1/runs/{other}/cancel"), None).await;
    assert_eq!(code, 200, "{body}");
    let cancelled = d.until_status(&other, "cancelled").await;
    assert_eq!(cancelled["run"]["reason"], "cancelled by an operator while it waited");
    let (code, _) = d.admin_post(&format!("/api/v1/runs/{other}/signal"), Some(json!({"signal": "approval", "choice": "approve"}))).await;
    assert_eq!(code, 409, "a cancelled run takes no signal");
    d.stop().await;
}

#[tokio::test]
async fn a_wait_that_ended_while_the_daemon_was_down_resumes_at_the_next_start() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let d = daemon().dir(dir.clone()).flow("pause.yaml", PAUSE).start().await;
    let id = start(&d, "pause").await;
    d.until_status(&id, "waiting").await;
    d.stop().await;
    // Down past the end of the wait.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let d = daemon().dir(dir).flow("pause.yaml", PAUSE).start().await;
    let done = d.until_status(&id, "succeeded").await;
    assert_eq!(done["run"]["output"], "time");
    let paths: Vec<&str> = done["steps"].as_array().unwrap().iter().map(|s| s["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["before", "nap", "return-1"], "each step once");
    let run = d.engine.store().get_run(&id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    d.stop().await;
}
