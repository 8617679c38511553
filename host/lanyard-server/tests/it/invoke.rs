//! `POST /api/v1/flows/{name}/invoke`: synchronous and asynchronous.

use crate::support::*;
use lanyard_core::history::RunStatus;
use serde_json::{json, Value};

const CHECK: &str = r#"
name: check
description: The benchmark shape - check the input, call one card, answer.
trigger:
  api: { sync_timeout: 10s }
steps:
  - if: "event.name is defined"
    then:
      - id: echo
        card: lanyard.echo
        with: { message: "hello {{ event.name }}" }
      - return: { greeting: "{{ echo.message }}", length: "{{ echo.length }}" }
    else:
      - fail: "missing `name`"
"#;

#[tokio::test]
async fn sync_invoke_answers_with_the_return_value() {
    let d = daemon().flow("check.yaml", CHECK).start().await;
    let r = d
        .http
        .post(d.url("/api/v1/flows/check/invoke"))
        .bearer_auth(INVOKE)
        .json(&json!({ "name": "jo" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = r.headers()["x-lanyard-run-id"].to_str().unwrap().to_string();
    assert_eq!(r.json::<Value>().await.unwrap(), json!({ "greeting": "hello jo", "length": 8 }));
    let (_, run) = d.admin_get(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(run["run"]["status"], "succeeded");
    assert_eq!(run["run"]["trigger"]["kind"], "api");

    // A failed run says why, with its id.
    let r = d.http.post(d.url("/api/v1/flows/check/invoke")).bearer_auth(INVOKE).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), 500);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "run_failed");
    assert_eq!(body["error"]["message"], "missing `name`");
    d.stop().await;
}

#[tokio::test]
async fn async_invoke_answers_202_with_the_run_id() {
    let d = daemon().flow("check.yaml", CHECK).start().await;
    let r = d
        .http
        .post(d.url("/api/v1/flows/check/invoke?mode=async"))
        .bearer_auth(INVOKE)
        .json(&json!({ "name": "async" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    let id = body["run_id"].as_str().unwrap().to_string();
    let run = d.engine.wait_for_run(&id).await.unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(run.output.unwrap()["greeting"], "hello async");
    // The admin token may invoke too; no token may not.
    let r = d.http.post(d.url("/api/v1/flows/check/invoke")).bearer_auth(ADMIN).json(&json!({ "name": "a" })).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let r = d.http.post(d.url("/api/v1/flows/check/invoke")).json(&json!({ "name": "a" })).send().await.unwrap();
    assert_eq!(r.status(), 401);
    d.stop().await;
}
