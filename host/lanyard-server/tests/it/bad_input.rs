//! Bad input: each gets the right status and a clear message, and nothing is
//! written; a bad event in a delivery costs only itself, and operators see it.

use crate::support::*;
use serde_json::{json, Value};

async fn error_of(r: reqwest::Response) -> (u16, String, String) {
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap();
    (
        status,
        body["error"]["code"].as_str().unwrap_or_default().to_string(),
        body["error"]["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn bad_requests_are_refused_clearly_and_write_nothing() {
    let d = daemon().flow("flow.yaml", ANY_SUSPEND).start().await;
    let hook = |body: Vec<u8>, ct: &str, auth: &str| {
        d.http
            .post(d.url("/hooks/okta"))
            .header("authorization", auth.to_string())
            .header("content-type", ct.to_string())
            .body(body)
            .send()
    };
    let good = serde_json::to_vec(&envelope(&[event("bad-0", "user.lifecycle.suspend", "00u1", "00uh", "2026-01-05T10:00:00Z")])).unwrap();

    // Malformed JSON: 400 with the parser's place.
    let (s, code, msg) = error_of(hook(b"{\"eventType\": ".to_vec(), "application/json", HOOK).await.unwrap()).await;
    assert_eq!((s, code.as_str()), (400, "malformed_json"));
    assert!(msg.contains("line 1 column"), "{msg}");
    // JSON, but not a delivery.
    let (s, code, msg) = error_of(hook(b"{\"eventType\": \"x\"}".to_vec(), "application/json", HOOK).await.unwrap()).await;
    assert_eq!((s, code.as_str()), (400, "bad_delivery"));
    assert!(msg.contains("com.okta.event_hook"), "{msg}");
    // Wrong content type.
    let (s, code, _) = error_of(hook(good.clone(), "text/plain", HOOK).await.unwrap()).await;
    assert_eq!((s, code.as_str()), (415, "unsupported_media_type"));
    // Wrong and missing Authorization.
    let (s, code, _) = error_of(hook(good.clone(), "application/json", "Bearer wrong").await.unwrap()).await;
    assert_eq!((s, code.as_str()), (401, "unauthorized"));
    let r = d.http.post(d.url("/hooks/okta")).json(&envelope(&[])).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // Too large (the test config caps bodies at 64 KiB).
    let big = vec![b' '; 70 * 1024];
    let (s, code, msg) = error_of(hook(big, "application/json", HOOK).await.unwrap()).await;
    assert_eq!((s, code.as_str()), (413, "too_large"));
    assert!(msg.contains("65536"), "{msg}");
    // Unknown flow, unknown route, wrong method.
    let (s, code, msg) = error_of(d.http.post(d.url("/api/v1/flows/nope/invoke")).bearer_auth(INVOKE).json(&serde_json::json!({})).send().await.unwrap()).await;
    assert_eq!((s, code.as_str()), (404, "unknown_flow"));
    assert!(msg.contains("`nope`"));
    let (s, code, _) = error_of(d.http.post(d.url("/api/v1/flows/any-suspend/invoke")).bearer_auth(INVOKE).json(&serde_json::json!({})).send().await.unwrap()).await;
    assert_eq!((s, code.as_str()), (409, "not_invocable"));
    let (s, code, _) = error_of(d.http.get(d.url("/nowhere")).send().await.unwrap()).await;
    assert_eq!((s, code.as_str()), (404, "not_found"));
    let (s, code, _) = error_of(d.http.get(d.url("/api/v1/nowhere")).bearer_auth(ADMIN).send().await.unwrap()).await;
    assert_eq!((s, code.as_str()), (404, "not_found"));
    let r = d.http.delete(d.url("/hooks/okta")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, POST");
    let (s, code, _) = error_of(d.http.get(d.url("/api/v1/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV")).bearer_auth(ADMIN).send().await.unwrap()).await;
    assert_eq!((s, code.as_str()), (404, "not_found"));
    let (s, _, _) = error_of(d.http.put(d.url("/api/v1/tables/t/rows/k")).bearer_auth(ADMIN).header("content-type", "application/json").body("{oops").send().await.unwrap()).await;
    assert_eq!(s, 400);

    // Nothing was written: the one good delivery is the only run, and no
    // table was created.
    assert_eq!(hook(good, "application/json", HOOK).await.unwrap().status(), 200);
    let runs = d.wait_for_runs("any-suspend", 1).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].output.as_ref().unwrap(), "bad-0");
    assert!(d.engine.store().list_tables().await.unwrap().is_empty());
    d.stop().await;
}

#[tokio::test]
async fn one_bad_event_costs_only_itself_and_is_shown_to_operators() {
    let d = daemon().flow("flow.yaml", ANY_SUSPEND).start().await;
    let suspend = |uuid: &str| event(uuid, "user.lifecycle.suspend", "00u1", "00uh", "2026-01-05T10:00:00Z");
    let mut no_uuid = event("x", "user.lifecycle.suspend\nforged line", "00u2", "00uh", "2026-01-05T10:00:01Z");
    no_uuid.as_object_mut().unwrap().remove("uuid");
    // Parses as an event, but the store refuses its uuid.
    let empty_uuid = suspend("");
    let (status, body) = d.deliver(&[suspend("good-1"), no_uuid, suspend("good-2"), empty_uuid]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["accepted"].as_u64(), body["rejected"].as_u64()), (Some(2), Some(2)), "{body}");
    let mut ran: Vec<String> = d
        .wait_for_runs("any-suspend", 2)
        .await
        .iter()
        .map(|r| r.output.as_ref().unwrap().as_str().unwrap().to_string())
        .collect();
    ran.sort();
    assert_eq!(ran, ["good-1", "good-2"]);

    // The admin API lists them, newest first, with why.
    let (status, rejected) = d.admin_get("/api/v1/events/rejected").await;
    assert_eq!(status, 200);
    assert_eq!(rejected["total"], 2, "{rejected}");
    let recent = rejected["recent"].as_array().unwrap();
    let unreadable = &recent[0];
    assert_eq!(unreadable["source"], "hook");
    assert!(unreadable["uuid"].is_null());
    assert_eq!(unreadable["event_type"], "user.lifecycle.suspend\nforged line");
    let reason = unreadable["reason"].as_str().unwrap();
    assert!(reason.starts_with("event 1 of the delivery is not a system log event: missing field `uuid`"), "{reason}");
    assert!(unreadable["received"].as_str().is_some());
    assert_eq!((&recent[1]["uuid"], &recent[1]["event_type"]), (&json!(""), &json!("user.lifecycle.suspend")));
    assert!(recent[1]["reason"].as_str().unwrap().starts_with("unusable uuid"), "{}", recent[1]);
    let anonymous = d.http.get(d.url("/api/v1/events/rejected")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401, "the list is behind the admin token");

    // And the metric counts them.
    let metrics = d.http.get(d.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let count: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("lanyard_events_rejected_total{source=\"hook\"} "))
        .unwrap_or_else(|| panic!("no rejected-events counter in:\n{metrics}"))
        .parse()
        .unwrap();
    assert!(count >= 2.0, "{count}");
    d.stop().await;
}
