//! The admin API: token auth, runs, flows, cards, tables, run-now.

use crate::support::*;
use serde_json::{json, Value};

const HELLO: &str = r#"
name: hello
description: Say hello.
trigger: manual
steps:
  - id: echo
    card: lanyard.echo
    with: { message: "hi {{ event.who }}" }
  - return: "{{ echo.message }}"
"#;

#[tokio::test]
async fn the_admin_api_needs_the_admin_token() {
    let d = daemon().flow("hello.yaml", HELLO).start().await;
    let none = d.http.get(d.url("/api/v1/runs")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let body: Value = none.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    let wrong = d.http.get(d.url("/api/v1/runs")).bearer_auth("admin-secret-2").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    // The invoke token is not an admin token.
    let invoke = d.http.get(d.url("/api/v1/runs")).bearer_auth(INVOKE).send().await.unwrap();
    assert_eq!(invoke.status(), 401);
    let (status, body) = d.admin_get("/api/v1/runs").await;
    assert_eq!(status, 200);
    assert!(body["runs"].as_array().unwrap().is_empty());
    d.stop().await;
}

/// A manual flow with typed inputs: the run-now form's answers are checked
/// before a run exists (422 with the reason, no run), defaults are filled,
/// and the flows listing carries the inputs for the console's form.
#[tokio::test]
async fn run_now_checks_a_manual_flows_typed_inputs() {
    const FORM: &str = "name: form\ndescription: A delegated flow.\ntrigger:\n  manual:\n    inputs:\n      who: { type: string, description: Whom to greet }\n      times: { type: integer, default: 2 }\nsteps:\n  - return: \"{{ inputs.who }} x{{ inputs.times }}\"\n";
    let d = daemon().flow("form.yaml", FORM).start().await;
    let (status, body) = d.admin_post("/api/v1/flows/form/run?wait=true", Some(json!({ "times": "two" }))).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_input");
    assert!(body["error"]["message"].as_str().unwrap().contains("missing input `who`"), "{body}");
    let (status, body) = d.admin_post("/api/v1/flows/form/run?wait=true", Some(json!({ "who": "ops", "times": "two" }))).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("input `times` must be of type integer"), "{body}");
    let (_, runs) = d.admin_get("/api/v1/runs?flow=form").await;
    assert!(runs["runs"].as_array().unwrap().is_empty(), "a refused form leaves no run: {runs}");
    let (status, body) = d.admin_post("/api/v1/flows/form/run?wait=true", Some(json!({ "who": "ops" }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["run"]["output"], "ops x2");
    let (_, flows) = d.admin_get("/api/v1/flows").await;
    let inputs = &flows["flows"][0]["trigger"]["manual"]["inputs"];
    assert_eq!(inputs[0]["name"], "who");
    assert_eq!(inputs[0]["description"], "Whom to greet");
    assert_eq!(inputs[1]["default"], 2);
    d.stop().await;
}

#[tokio::test]
async fn run_now_flows_cards_and_tables() {
    let d = daemon().flow("hello.yaml", HELLO).start().await;
    let (status, body) = d.admin_post("/api/v1/flows/hello/run?wait=true", Some(json!({ "who": "ops" }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["run"]["output"], "hi ops");
    assert_eq!(body["run"]["trigger"]["kind"], "manual");
    let (_, list) = d.admin_get("/api/v1/runs?flow=hello&status=succeeded").await;
    assert_eq!(list["runs"].as_array().unwrap().len(), 1);
    let (status, _) = d.admin_get("/api/v1/runs?status=bogus").await;
    assert_eq!(status, 400);

    let (_, flows) = d.admin_get("/api/v1/flows").await;
    assert_eq!(flows["flows"][0]["name"], "hello");
    assert!(flows["status"]["last_error"].is_null());

    let (_, cards) = d.admin_get("/api/v1/cards").await;
    let names: Vec<&str> = cards["cards"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"okta.get-user") && names.contains(&"lanyard.echo"), "{names:?}");
    let get_user = cards["cards"].as_array().unwrap().iter().find(|c| c["name"] == "okta.get-user").unwrap();
    assert_eq!(get_user["granted"]["okta"], json!(["okta.users.read"]));
    let put = cards["cards"].as_array().unwrap().iter().find(|c| c["name"] == "tables.put").unwrap();
    assert_eq!(put["granted"]["tables"], json!([]), "tables are denied unless granted");

    let r = d
        .http
        .put(d.url("/api/v1/tables/audit/rows/u1"))
        .bearer_auth(ADMIN)
        .json(&json!({ "login": "jo" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, row) = d.admin_get("/api/v1/tables/audit/rows/u1").await;
    assert_eq!((status, &row["value"]["login"]), (200, &json!("jo")));
    let (_, rows) = d.admin_get("/api/v1/tables/audit/rows?prefix=u").await;
    assert_eq!(rows["rows"].as_array().unwrap().len(), 1);
    let (_, tables) = d.admin_get("/api/v1/tables").await;
    assert_eq!(tables["tables"][0]["name"], "audit");
    let r = d.http.delete(d.url("/api/v1/tables/audit/rows/u1")).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let (status, _) = d.admin_get("/api/v1/tables/audit/rows/u1").await;
    assert_eq!(status, 404);
    d.stop().await;
}
