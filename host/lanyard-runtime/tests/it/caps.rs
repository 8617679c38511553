//! Capabilities through the caps test card: grants, unconfigured capabilities,
//! dry runs, logs, the clock, and the card's own errors.

use crate::support::*;
use chrono::TimeZone;
use lanyard_core::{CallContext, ErrorKind, ManualClock};
use lanyard_runtime::{CallRequest, Capabilities};
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn a_call_outside_the_grants_is_denied_not_trapped() {
    let fakes = Fakes::new();
    let out = rt()
        .call(&caps_card(), caps_call(json!({ "op": "get-user", "id": "00u1" }), grants(&[]), fakes.caps()))
        .await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::Denied, "{e:?}");
    assert!(e.message.contains("okta:okta.users.read"), "{e:?}");
    assert!(!e.retryable);
    assert_eq!(out.denied.len(), 1, "{:?}", out.denied);
    assert!(out.denied[0].contains("okta:okta.users.read"));

    // Each capability names the grant it misses.
    for (input, grant) in [
        (json!({ "op": "deactivate", "user": "00u1" }), "okta:okta.users.lifecycle"),
        (json!({ "op": "add-to-group", "group": "00g1", "user": "00u1" }), "okta:okta.groups.manage"),
        (json!({ "op": "clear-sessions", "user": "00u1" }), "okta:okta.sessions.manage"),
        (json!({ "op": "list-factors", "user": "00u1" }), "okta:okta.factors.read"),
        (json!({ "op": "query-logs" }), "okta:okta.logs.read"),
        (json!({ "op": "http-get", "url": "https://api.example.com/x" }), "http-host:api.example.com"),
        (json!({ "op": "http-get", "url": "/x", "connection": "it-slack" }), "connection:it-slack"),
        (json!({ "op": "table-get", "table": "audit", "key": "k" }), "table:audit"),
        (json!({ "op": "mail", "to": "it@example.com", "subject": "hi" }), "mail"),
    ] {
        let out = rt()
            .call(&caps_card(), caps_call(input.clone(), grants(&["okta:okta.users.read", "table:other"]), fakes.caps()))
            .await;
        let e = err(&out);
        assert_eq!(e.kind, ErrorKind::Denied, "{input}: {e:?}");
        assert!(e.message.contains(&format!("`{grant}`")), "{input}: {e:?}");
    }
    assert!(fakes.okta.writes().is_empty());
    assert!(fakes.http.requests.lock().unwrap().is_empty());
    assert!(fakes.mail.sent.lock().unwrap().is_empty());
}

#[tokio::test]
async fn granted_capabilities_work() {
    let fakes = Fakes::new();
    let all = grants(&[
        "okta:okta.users.read",
        "okta:okta.groups.manage",
        "http-host:*.example.com",
        "connection:it-slack",
        "table:audit",
        "mail",
    ]);
    let card = caps_card();
    let call = |input| rt().call(&card, caps_call(input, all.clone(), fakes.caps()));

    let user = call(json!({ "op": "get-user", "id": "ada@example.com" })).await.result.unwrap();
    assert_eq!(user["id"], "00u1");
    assert_eq!(user["profile"]["firstName"], "Ada");

    let missing = call(json!({ "op": "get-user", "id": "nobody" })).await;
    assert_eq!(err(&missing).kind, ErrorKind::NotFound);

    let out = call(json!({ "op": "add-to-group", "group": "00g1", "user": "00u1" })).await;
    assert_eq!(out.result.unwrap(), "changed");
    assert_eq!(fakes.okta.writes(), vec!["add-to-group 00g1 00u1".to_string()]);

    let out = call(json!({ "op": "http-get", "url": "https://api.example.com/v1/x" })).await;
    assert_eq!(out.result.unwrap(), json!({ "status": 200, "body": "GET https://api.example.com/v1/x" }));
    let out = call(json!({ "op": "http-post", "url": "/api/chat.postMessage", "connection": "it-slack", "body": { "text": "hi" } })).await;
    assert_eq!(out.result.unwrap()["status"], 200);
    {
        let requests = fakes.http.requests.lock().unwrap();
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[1].connection.as_deref(), Some("it-slack"));
        assert_eq!(requests[1].body.as_deref(), Some(&br#"{"text":"hi"}"#[..]));
        // No request outlives its call.
        assert!(requests[0].timeout_ms.is_some_and(|t| t <= 10_000));
    }
    // Direct requests are https only.
    let out = call(json!({ "op": "http-get", "url": "http://api.example.com/x" })).await;
    assert_eq!(err(&out).kind, ErrorKind::InvalidInput);

    let out = call(json!({ "op": "table-put", "table": "audit", "key": "00u1", "value": { "login": "ada" } })).await;
    assert_eq!(out.result.unwrap(), "changed");
    let out = call(json!({ "op": "table-get", "table": "audit", "key": "00u1" })).await;
    assert_eq!(out.result.unwrap(), json!({ "login": "ada" }));
    let out = call(json!({ "op": "table-find", "table": "audit", "prefix": "00u" })).await;
    assert_eq!(out.result.unwrap(), json!([{ "key": "00u1", "value": { "login": "ada" } }]));

    let out = call(json!({ "op": "mail", "to": "it@example.com", "subject": "offboarded" })).await;
    assert_eq!(out.result.unwrap(), "<1@relay.example>");
    assert_eq!(fakes.mail.sent.lock().unwrap()[0].subject, "offboarded");
}

#[tokio::test]
async fn a_capability_that_is_not_configured_is_unavailable() {
    let out = rt()
        .call(
            &caps_card(),
            caps_call(json!({ "op": "get-user", "id": "00u1" }), grants(&["okta:okta.users.read"]), Capabilities::none()),
        )
        .await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::Unavailable, "{e:?}");
    assert!(e.message.contains("okta is not configured"), "{e:?}");
    assert!(out.denied.is_empty());
}

#[tokio::test]
async fn a_cards_own_error_passes_through_unchanged() {
    let input = json!({ "op": "fail", "kind": "conflict", "message": "login taken", "retryable": true, "retry_after_ms": 1500 });
    let out = rt().call(&caps_card(), CallRequest::new(ctx(), input)).await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert_eq!(e.message, "login taken");
    assert!(e.retryable);
    assert_eq!(e.retry_after_ms, Some(1500));
    assert_eq!(e.detail, None);

    // Input that does not match the card's types is the SDK's invalid-input.
    let out = rt().call(&caps_card(), CallRequest::new(ctx(), json!({ "op": "no-such-op" }))).await;
    assert_eq!(err(&out).kind, ErrorKind::InvalidInput);
}

#[tokio::test]
async fn a_dry_run_records_writes_and_still_reads() {
    let fakes = Fakes::new();
    let all = grants(&[
        "okta:okta.users.read",
        "okta:okta.users.manage",
        "okta:okta.users.lifecycle",
        "okta:okta.groups.manage",
        "okta:okta.sessions.manage",
        "connection:it-slack",
        "table:audit",
        "mail",
    ]);
    let ops = json!({ "op": "seq", "ops": [
        { "op": "get-user", "id": "00u1" },
        { "op": "update-profile", "user": "00u1", "changes": { "title": "Manager" } },
        { "op": "update-profile", "user": "00u1", "changes": { "title": "Engineer" } },
        { "op": "create-user", "profile": { "login": "new@example.com" }, "activate": true },
        { "op": "deactivate", "user": "00u1" },
        { "op": "add-to-group", "group": "00g1", "user": "00u1" },
        { "op": "remove-from-group", "group": "00g2", "user": "00u1" },
        { "op": "clear-sessions", "user": "00u1" },
        { "op": "http-get", "url": "/api/users.info", "connection": "it-slack" },
        { "op": "http-post", "url": "/api/chat.postMessage", "connection": "it-slack", "body": { "text": "bye" } },
        { "op": "table-put", "table": "audit", "key": "00u1", "value": { "done": true } },
        { "op": "table-delete", "table": "audit", "key": "old" },
        { "op": "mail", "to": "it@example.com", "subject": "offboarded" }
    ]});
    let mut req = caps_call(ops, all, fakes.caps());
    req.ctx = CallContext::new("run-dry", "test-flow", "step", 1, true);
    let out = rt().call(&caps_card(), req).await;
    let results = out.result.unwrap();

    // Reads went through; plausible answers for the writes.
    assert_eq!(results[0]["profile"]["title"], "Engineer");
    assert_eq!(results[1]["outcome"], "changed");
    assert_eq!(results[1]["user"]["profile"]["title"], "Manager");
    assert_eq!(results[2]["outcome"], "unchanged");
    assert_eq!(results[3]["status"], "ACTIVE");
    assert_eq!(results[3]["profile"]["login"], "new@example.com");
    assert_eq!(results[4], "changed");
    assert_eq!(results[8]["body"], "GET /api/users.info");
    assert_eq!(results[9], json!({ "status": 200, "body": "" }));
    assert_eq!(results[10], "changed");
    assert_eq!(results[11], "unchanged", "there is no row `old` to delete");
    let id = results[12].as_str().unwrap();
    assert!(id.starts_with("<dry-run-") && id.ends_with("@lanyard>"), "{id}");

    // Nothing was written anywhere...
    assert!(fakes.okta.writes().is_empty());
    assert_eq!(fakes.http.requests.lock().unwrap().len(), 1, "only the GET was sent");
    assert!(fakes.tables.rows.lock().unwrap().is_empty());
    assert!(fakes.mail.sent.lock().unwrap().is_empty());

    // ...and every write was recorded, in order.
    let ops: Vec<(&str, &str)> = out.effects.iter().map(|e| (e.capability.as_str(), e.operation.as_str())).collect();
    assert_eq!(
        ops,
        vec![
            ("okta", "update-profile"),
            ("okta", "create-user"),
            ("okta", "lifecycle/deactivate"),
            ("okta", "add-to-group"),
            ("okta", "remove-from-group"),
            ("okta", "clear-sessions"),
            ("http", "POST it-slack:/api/chat.postMessage"),
            ("tables", "put audit"),
            ("mail", "send"),
        ]
    );
    assert_eq!(out.effects[0].args, json!({ "userId": "00u1", "changes": { "title": "Manager" } }));
    assert_eq!(out.effects[6].args["body"], json!({ "text": "bye" }));

    // A dry run does not widen the grants.
    let mut req = caps_call(json!({ "op": "deactivate", "user": "00u1" }), grants(&[]), fakes.caps());
    req.ctx.dry_run = true;
    let out = rt().call(&caps_card(), req).await;
    assert_eq!(err(&out).kind, ErrorKind::Denied);
    assert!(out.effects.is_empty());
}

#[tokio::test]
async fn a_dry_run_says_unchanged_where_the_real_write_would() {
    let fakes = Fakes::new();
    let mut gone = fakes.okta.find_user("00u1").unwrap();
    gone.id = "00u2".into();
    gone.status = "DEPROVISIONED".into();
    fakes.okta.org.lock().unwrap().users.insert("00u2".into(), gone);
    fakes.tables.rows.lock().unwrap().insert(("audit".into(), "00u1".into()), json!({ "done": true }));
    let all = grants(&["okta:okta.users.lifecycle", "okta:okta.apps.manage", "okta:api:okta.users.manage", "table:audit"]);
    let ops = json!({ "op": "seq", "ops": [
        { "op": "deactivate", "user": "00u2" },
        { "op": "deactivate", "user": "00u1" },
        { "op": "table-put", "table": "audit", "key": "00u1", "value": { "done": true } },
        { "op": "table-put", "table": "audit", "key": "00u1", "value": { "done": false } },
        { "op": "delete-user", "user": "00u1" },
        { "op": "assign-app", "app": "0oa1", "user": "00u1" },
        { "op": "api-call", "method": "POST", "path": "/api/v1/users/00u1/lifecycle/suspend" }
    ]});
    let mut req = caps_call(ops, all, fakes.caps());
    req.ctx = CallContext::new("run-dry", "test-flow", "step", 1, true);
    let out = rt().call(&caps_card(), req).await;
    let results = out.result.unwrap();
    assert_eq!(results[0], "unchanged", "00u2 is deactivated already");
    assert_eq!(results[1], "changed");
    assert_eq!(results[2], "unchanged", "the row holds this value");
    assert_eq!(results[3], "changed");
    assert_eq!(results[4], "changed");
    assert_eq!(results[5], "changed");
    assert_eq!(results[6], json!({ "status": 200, "body": null, "next": null }));
    let ops: Vec<(&str, &str)> = out.effects.iter().map(|e| (e.capability.as_str(), e.operation.as_str())).collect();
    assert_eq!(
        ops,
        vec![
            ("okta", "lifecycle/deactivate"),
            ("tables", "put audit"),
            ("okta", "delete-user"),
            ("okta", "assign-app"),
            ("okta", "api-call POST /api/v1/users/00u1/lifecycle/suspend"),
        ],
        "only what would change is recorded"
    );
    assert_eq!(out.effects[0].args, json!({ "userId": "00u1", "op": "deactivate" }));
    assert_eq!(out.effects[3].args, json!({ "appId": "0oa1", "to": { "user": "00u1" }, "profile": null }));
    assert!(fakes.okta.writes().is_empty(), "nothing was written");
    assert_eq!(fakes.tables.rows.lock().unwrap()[&("audit".to_string(), "00u1".to_string())], json!({ "done": true }));
}

#[tokio::test]
async fn the_custom_api_action_is_allowed_only_for_the_okta_scopes_granted() {
    let fakes = Fakes::new();
    let call = |method: &str, path: &str, granted: &[&str]| {
        let input = json!({ "op": "api-call", "method": method, "path": path });
        caps_call(input, grants(granted), fakes.caps())
    };
    // A read the grant covers goes through.
    let out = rt().call(&caps_card(), call("GET", "/api/v1/users/00u1", &["okta:api:okta.users.read"])).await;
    let answer = out.result.unwrap();
    assert_eq!((answer["status"].clone(), answer["body"]["id"].clone(), answer["next"].clone()), (json!(200), json!("00u1"), json!(null)));
    // A write it does not: denied, naming the scope that would allow it.
    let out = rt().call(&caps_card(), call("POST", "/api/v1/users/00u1/lifecycle/suspend", &["okta:api:okta.users.read"])).await;
    assert_eq!(err(&out).kind, ErrorKind::Denied);
    assert!(out.denied.iter().any(|d| d.contains("okta:api:okta.users.manage")), "{:?}", out.denied);
    // lanyard's own okta scopes do not open the custom API action.
    let out = rt().call(&caps_card(), call("GET", "/api/v1/users/00u1", &["okta:okta.users.read"])).await;
    assert_eq!(err(&out).kind, ErrorKind::Denied);
    // A path the spec does not list, or one that walks out of it, is refused.
    for path in ["/api/v1/nowhere", "/api/v1/users/../apps", "/api/v1/users/a%2Fb"] {
        let out = rt().call(&caps_card(), call("GET", path, &["okta:api:okta.users.read", "okta:api:okta.apps.read"])).await;
        assert_eq!(err(&out).kind, ErrorKind::Denied, "{path}");
        assert!(err(&out).message.contains("not"), "{}", err(&out).message);
    }
    let out = rt().call(&caps_card(), call("POST", "/api/v1/users/00u1/lifecycle/suspend", &["okta:api:okta.users.manage"])).await;
    assert_eq!(out.result.unwrap()["status"], 200);
    // Only the two calls allowed reached Okta, and the suspend was done.
    assert_eq!(fakes.okta.writes(), ["api-call GET /api/v1/users/00u1", "api-call POST /api/v1/users/00u1/lifecycle/suspend"]);
    assert_eq!(fakes.okta.find_user("00u1").unwrap().status, "SUSPENDED");
}

#[tokio::test]
async fn logs_stdout_and_stderr_are_captured_under_the_cap() {
    let out = rt().call(&caps_card(), CallRequest::new(ctx(), json!({ "op": "log", "lines": 2, "bytes": 5 }))).await;
    assert_eq!(out.result.unwrap(), 2);
    let lines: Vec<(&str, &str)> = out.logs.iter().map(|l| (l.level.as_str(), l.message.as_str())).collect();
    assert_eq!(
        lines,
        vec![
            ("info", "lllll"),
            ("stdout", "lllll"),
            ("stderr", "lllll"),
            ("info", "lllll"),
            ("stdout", "lllll"),
            ("stderr", "lllll"),
        ]
    );
    assert_eq!(out.logs[3].fields, Some(json!({ "i": 1 })));

    // Far past the cap (64 KiB by default): the card keeps running, the log
    // stops at the cap and says what it dropped.
    let out = rt().call(&caps_card(), CallRequest::new(ctx(), json!({ "op": "log", "lines": 2000, "bytes": 100 }))).await;
    assert_eq!(out.result.unwrap(), 2000);
    let cap = rt().config().default_limits.max_record_bytes;
    let kept: usize = out.logs.iter().map(|l| l.message.len()).sum();
    assert!(kept <= cap + 200, "kept {kept} bytes");
    let last = out.logs.last().unwrap();
    assert!(last.level == "warn" && last.message.contains("dropped"), "{last:?}");
}

#[tokio::test]
async fn the_card_sees_the_hosts_clock() {
    let clock = Arc::new(ManualClock::new(chrono::Utc.timestamp_opt(1_000_000_000, 0).unwrap()));
    let caps = Capabilities { clock, ..Capabilities::none() };
    let out = rt().call(&caps_card(), caps_call(json!({ "op": "now" }), grants(&[]), caps)).await;
    assert_eq!(out.result.unwrap(), 1_000_000_000);
}

#[tokio::test]
async fn input_over_the_cap_is_refused_before_the_card_runs() {
    let big = "x".repeat(rt().config().default_limits.max_input_bytes + 1);
    let out = rt().call(&echo(), CallRequest::new(ctx(), json!({ "message": big }))).await;
    let e = err(&out);
    assert_eq!(e.kind, ErrorKind::TooLarge);
    assert!(e.message.contains("input"));
    assert_eq!(out.fuel_used, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_each_get_their_own_instance() {
    let card = echo();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let card = card.clone();
            tokio::spawn(async move {
                let out = rt().call(&card, CallRequest::new(ctx(), json!({ "message": format!("m{i}") }))).await;
                out.result.unwrap()["message"].as_str().unwrap().to_string()
            })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(t.await.unwrap(), format!("m{i}"));
    }
}
