//! The flow builder's reference routes (`crate::builder_api`) and the card
//! listing's schemas and groups, against a real daemon on a real socket.

use crate::support::*;
use lanyard_core::ManualClock;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;

const HELLO: &str = r#"
name: hello
description: Say hello every weekday.
trigger:
  schedule: { cron: "0 9 * * 1-5", timezone: America/New_York }
steps:
  - id: echo
    card: lanyard.echo
    with: { message: "hi" }
    retry: 2
"#;

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
}

/// Friday 4 December 2026, 15:00 UTC (10:00 in New York, on EST).
fn friday() -> Arc<ManualClock> {
    Arc::new(ManualClock::new("2026-12-04T15:00:00Z".parse().unwrap()))
}

#[tokio::test]
async fn event_types_list_every_hook_type_in_words() {
    let d = daemon().flow("hello.yaml", HELLO).start().await;
    let none = d.http.get(d.url("/api/v1/okta/event-types")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let post = d.http.post(d.url("/api/v1/okta/event-types")).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(post.status(), 405);

    let (status, body) = d.admin_get("/api/v1/okta/event-types").await;
    assert_eq!(status, 200);
    let list = body["event_types"].as_array().unwrap();
    // Okta's own list of hook-eligible types, as shipped beside the spec.
    let okta: Value = serde_json::from_str(&std::fs::read_to_string(repo("host/lanyard-core/data/okta-hook-event-types.json")).unwrap()).unwrap();
    let expected: HashSet<&str> = okta["hook_eligible"].as_array().unwrap().iter().map(|t| t.as_str().unwrap()).collect();
    assert_eq!(expected.len(), 314);
    let got: HashSet<&str> = list.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(got, expected);
    let names: HashSet<&str> = list.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), list.len(), "names are unique");
    let deactivate = list.iter().find(|e| e["type"] == "user.lifecycle.deactivate").unwrap();
    assert_eq!(deactivate["name"], "User Deactivated");
    assert_eq!(deactivate["category"], "User lifecycle");
    assert_eq!(deactivate["words"], "When a user is deactivated in Okta");
    assert!(deactivate["description"].as_str().unwrap().len() > 10);
    for (t, name) in [
        ("user.account.lock", "User Account Locked"),
        ("group.user_membership.add", "User Added to Group"),
        ("application.user_membership.add", "User Assigned to Application"),
        ("user.mfa.factor.activate", "User MFA Factor Activated"),
    ] {
        assert_eq!(list.iter().find(|e| e["type"] == t).unwrap()["name"], name);
    }
    d.stop().await;
}

#[tokio::test]
async fn the_event_schema_is_a_schema_the_samples_satisfy() {
    let d = daemon().flow("hello.yaml", HELLO).start().await;
    let (status, schema) = d.admin_get("/api/v1/okta/event-schema").await;
    assert_eq!(status, 200);
    jsonschema::meta::validate(&schema).unwrap_or_else(|e| panic!("not a JSON Schema: {e}"));
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(repo("flows/samples")).unwrap() {
        let path = entry.unwrap().path();
        let hook: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for event in hook["data"]["events"].as_array().unwrap() {
            if let Err(e) = validator.validate(event) {
                panic!("{}: {e}", path.display());
            }
            checked += 1;
        }
    }
    assert!(checked >= 4);
    assert!(!validator.is_valid(&json!({ "uuid": 1 })));
    for key in ["eventType", "actor", "target", "outcome", "client", "debugContext"] {
        assert!(schema["properties"][key]["title"].is_string(), "{key}");
    }
    d.stop().await;
}

#[tokio::test]
async fn schedule_preview_says_it_in_words_or_says_why_not() {
    let d = daemon().flow("hello.yaml", HELLO).clock(friday()).start().await;
    let (status, body) = d.admin_get("/api/v1/schedule/preview?cron=0%209%20*%20*%201-5&timezone=America/New_York").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["words"], "Every weekday at 09:00 (America/New_York)");
    // 09:00 EST is 14:00 UTC; Saturday and Sunday are skipped.
    assert_eq!(body["next"], json!(["2026-12-07T14:00:00Z", "2026-12-08T14:00:00Z", "2026-12-09T14:00:00Z"]));

    let (status, body) = d.admin_get("/api/v1/schedule/preview?cron=0%208%20*%20*%20*&timezone=UTC").await;
    assert_eq!((status, body["words"].as_str()), (200, Some("Every day at 08:00 (UTC)")));
    assert_eq!(body["next"][0], "2026-12-05T08:00:00Z");

    let (status, body) = d.admin_get("/api/v1/schedule/preview?cron=0%209%20*%20*&timezone=UTC").await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["code"], "invalid_schedule");
    assert!(body["error"]["message"].as_str().unwrap().starts_with("invalid cron `0 9 * *`"), "{body}");
    let (status, body) = d.admin_get("/api/v1/schedule/preview?cron=0%209%20*%20*%20*&timezone=Mars/Olympus").await;
    assert_eq!(status, 422);
    assert!(body["error"]["message"].as_str().unwrap().contains("unknown time zone `Mars/Olympus`"));
    let (status, body) = d.admin_get("/api/v1/schedule/preview?timezone=UTC").await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("`cron` is required"));
    let long = "1".repeat(300);
    let (status, _) = d.admin_get(&format!("/api/v1/schedule/preview?cron={long}&timezone=UTC")).await;
    assert_eq!(status, 400);
    d.stop().await;
}

#[tokio::test]
async fn cards_carry_their_schemas_and_palette_group() {
    let d = daemon().flow("hello.yaml", HELLO).start().await;
    let (_, cards) = d.admin_get("/api/v1/cards").await;
    let card = |name: &str| cards["cards"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap().clone();
    let get_user = card("okta.get-user");
    assert_eq!(get_user["group"], "Okta");
    assert!(get_user["input_schema"]["properties"]["user"].is_object(), "{}", get_user["input_schema"]);
    assert!(get_user["output_schema"]["properties"]["profile"].is_object(), "{}", get_user["output_schema"]);
    assert_eq!(card("slack.post")["group"], "Slack");
    assert_eq!(card("tables.put")["group"], "Tables");
    assert_eq!(card("lanyard.echo")["group"], "Custom");
    for c in cards["cards"].as_array().unwrap() {
        for which in ["input_schema", "output_schema"] {
            jsonschema::meta::validate(&c[which]).unwrap_or_else(|e| panic!("{} {which}: {e}", c["name"]));
        }
    }
    d.stop().await;
}

#[tokio::test]
async fn a_loaded_flow_outlines_with_its_schedule_from_the_daemon_clock() {
    let d = daemon().flow("hello.yaml", HELLO).clock(friday()).start().await;
    let set = d.engine.flows();
    let flow = set.get("hello").unwrap();
    let o = lanyard_server::builder_api::outline_of(&d.engine, flow);
    let v = serde_json::to_value(&o).unwrap();
    assert_eq!(v["file"], "hello.yaml");
    assert_eq!(v["trigger"]["kind"], "schedule");
    assert_eq!(v["trigger"]["words"], "Every weekday at 09:00 (America/New_York)");
    assert_eq!(v["trigger"]["schedule"]["next"][0], "2026-12-07T14:00:00Z");
    assert_eq!(v["trigger"]["line"], 4);
    let echo = &v["steps"][0];
    assert_eq!(echo["path"], "echo");
    assert_eq!(echo["yaml"], json!(["steps", 0]));
    assert_eq!(echo["summary"], "Lanyard: Echo");
    assert_eq!(echo["inputs"], json!([{ "key": "message", "text": "hi" }]));
    assert_eq!(echo["retry"], "2 attempts, 1s backoff");
    assert_eq!((echo["line"].as_u64(), echo["col"].as_u64()), (Some(7), Some(5)));
    d.stop().await;
}
