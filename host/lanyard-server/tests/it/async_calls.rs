//! `call` with `wait: false` in the daemon: each helper is a run of its own,
//! linked both ways in the history, and the caller does not wait for it; a
//! start asked again (a caller resumed after a crash) finds the run it
//! started.

use crate::support::*;
use lanyard_core::history::{RunStatus, TriggerInfo};
use lanyard_server::StartOptions;
use serde_json::json;

const GREET: &str = r#"
name: greet
description: waits for a go-ahead, then greets
trigger:
  flow:
    inputs:
      login: { type: string, required: true }
steps:
  - id: go
    wait: { signal: go, timeout: 1h }
  - return: "hello {{ inputs.login }}"
"#;

const FAN: &str = r#"
name: fan
description: starts a greeting per login and goes on
trigger: manual
steps:
  - id: each
    for_each: "{{ event.logins }}"
    as: login
    concurrency: 2
    steps:
      - id: greet
        call: greet
        wait: false
        with: { login: "{{ login }}" }
    collect: "{{ greet.run_id }}"
  - return: "{{ each }}"
"#;


#[tokio::test]
async fn a_caller_starts_its_helpers_as_runs_of_their_own_and_goes_on() {
    let d = daemon().flow("greet.yaml", GREET).flow("fan.yaml", FAN).start().await;
    let (status, body) = d.admin_post("/api/v1/flows/fan/run", Some(json!({ "logins": ["a@x", "b@x", "c@x"] }))).await;
    assert_eq!(status, 202, "{body}");
    let caller = body["run_id"].as_str().unwrap().to_string();
    // The caller ends while every helper still waits for its go-ahead.
    let done = d.until_status(&caller, "succeeded").await;
    let children: Vec<String> = done["run"]["output"].as_array().expect("the children's ids").iter().map(|v| v.as_str().unwrap().to_string()).collect();
    assert_eq!(children.len(), 3, "{done}");
    for (i, child) in children.iter().enumerate() {
        let run = d.until_status(child, "waiting").await;
        // Linked both ways: the child names its caller and the step, the caller's step the child.
        assert_eq!(run["run"]["trigger"], json!({ "kind": "flow", "parent_run": caller, "parent_step": format!("each[{i}]/greet") }));
        assert_eq!(run["run"]["flow"], "greet");
        let step = done["steps"].as_array().unwrap().iter().find(|s| s["path"] == format!("each[{i}]/greet")).expect("the start's record");
        assert_eq!(step["output"], json!({ "flow": "greet", "run_id": child }));
        assert_eq!(step["kind"], "call");
    }
    for child in &children {
        let (code, body) = d.admin_post(&format!("/api/v1/runs/{child}/signal"), Some(json!({ "signal": "go" }))).await;
        assert_eq!(code, 202, "{body}");
    }
    let mut greeted = Vec::new();
    for child in &children {
        greeted.push(d.until_status(child, "succeeded").await["run"]["output"].clone());
    }
    assert_eq!(greeted, [json!("hello a@x"), json!("hello b@x"), json!("hello c@x")]);
}

#[tokio::test]
async fn a_start_asked_again_finds_the_run_it_started() {
    let d = daemon().flow("greet.yaml", GREET).start().await;
    let parent = lanyard_store::new_run_id(chrono::Utc::now());
    let id = lanyard_store::child_run_id(&parent, "each[0]/greet").unwrap();
    let start = || {
        let trigger = TriggerInfo::Flow { parent_run: parent.clone(), parent_step: "each[0]/greet".into() };
        let opts = StartOptions { force: true, allow_helper: true, id: Some(id.clone()), ..StartOptions::default() };
        d.engine.start_run("greet", trigger, json!({ "login": "a@x" }), opts)
    };
    assert_eq!(start().await.unwrap().run_id, id);
    d.until_status(&id, "waiting").await;
    // Asked again (the caller resumed after a crash): the same run, still waiting, and no other.
    assert_eq!(start().await.unwrap().run_id, id);
    let run = d.engine.store().get_run(&id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Waiting);
    let (_, list) = d.admin_get("/api/v1/runs?flow=greet").await;
    assert_eq!(list["runs"].as_array().unwrap().len(), 1, "{list}");
}
