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
