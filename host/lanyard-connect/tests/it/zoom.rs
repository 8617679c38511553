//! The Zoom stand-in over a real socket: what the `acme.zoom-deprovision` card
//! sends (`cards/examples/js-zoom/zoom.js`), and what Zoom refuses.

use crate::standin::{Answer, call, lanyard_get};
use lanyard_sandbox::{ZoomConfig, ZoomStandIn, ZoomStandInHandle, ZoomUser};
use serde_json::{Value, json};
use std::time::Duration;

async fn zoom() -> ZoomStandInHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let zoom = ZoomStandIn::start(listener, ZoomConfig::default()).unwrap();
    for (id, email, first, status) in [
        ("zu-ada", "Ada.Lovelace@acme.example", "Ada", "active"),
        ("zu-it", "it@acme.example", "IT", "active"),
        ("zu-gone", "gone@acme.example", "Gone", "inactive"),
    ] {
        zoom.add_user(ZoomUser {
            id: id.to_owned(),
            email: email.to_owned(),
            first_name: first.to_owned(),
            last_name: "Tester".to_owned(),
            status: status.to_owned(),
        });
    }
    zoom
}

fn token() -> String {
    ZoomConfig::default().token
}

async fn get(zoom: &ZoomStandInHandle, path: &str) -> Answer {
    call(
        reqwest::Method::GET,
        &format!("{}{path}", zoom.base_url()),
        Some(&token()),
        None,
    )
    .await
}

async fn put_status(zoom: &ZoomStandInHandle, user: &str, body: &Value) -> Answer {
    let url = format!("{}/v2/users/{user}/status", zoom.base_url());
    let body = ("application/json", body.to_string().into_bytes());
    call(reqwest::Method::PUT, &url, Some(&token()), Some(body)).await
}

async fn delete(zoom: &ZoomStandInHandle, path_and_query: &str) -> Answer {
    let url = format!("{}{path_and_query}", zoom.base_url());
    call(reqwest::Method::DELETE, &url, Some(&token()), None).await
}

fn no_such_user(who: &str) -> Value {
    json!({"code": 1001, "message": format!("User does not exist: {who}.")})
}

#[tokio::test]
async fn a_user_is_found_by_id_or_by_email_in_any_case() {
    let zoom = zoom().await;
    // The card sends encodeURIComponent(email): the @ arrives as %40.
    let by_email = get(&zoom, "/v2/users/ada.lovelace%40ACME.example").await;
    assert_eq!(by_email.status, 200, "{:?}", by_email.json);
    assert!(
        by_email
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let user = by_email.json.unwrap();
    assert_eq!(
        (
            &user["id"],
            &user["email"],
            &user["first_name"],
            &user["last_name"]
        ),
        (
            &json!("zu-ada"),
            &json!("Ada.Lovelace@acme.example"),
            &json!("Ada"),
            &json!("Tester")
        )
    );
    assert_eq!(
        (&user["type"], &user["status"]),
        (&json!(1), &json!("active"))
    );
    let by_id = get(&zoom, "/v2/users/zu-ada").await;
    assert_eq!(by_id.json.unwrap(), user);

    let nobody = get(&zoom, "/v2/users/nobody%40acme.example").await;
    assert_eq!(nobody.status, 404);
    assert_eq!(nobody.json.unwrap(), no_such_user("nobody@acme.example"));
    let seen = zoom.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].target, "/v2/users/ada.lovelace%40ACME.example");
    assert_eq!(
        seen.iter().map(|r| r.status).collect::<Vec<_>>(),
        [200, 200, 404]
    );
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_refused_before_anything_else() {
    let zoom = zoom().await;
    zoom.fail_next(1, 500);
    let url = format!("{}/v2/users/zu-ada", zoom.base_url());
    let refused = json!({"code": 124, "message": "Invalid access token."});
    for token in [None, Some("wrong-token")] {
        let answer = call(reqwest::Method::DELETE, &url, token, None).await;
        assert_eq!(
            (answer.status, answer.json.unwrap()),
            (401, refused.clone())
        );
    }
    let basic = reqwest::Client::new()
        .get(&url)
        .basic_auth("zoom", Some(token()))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401);
    assert!(zoom.user("ada.lovelace@acme.example").is_some());
    // The injected fault waits for a request that passes the token check.
    assert_eq!(get(&zoom, "/v2/users/zu-ada").await.status, 500);
    assert_eq!(get(&zoom, "/v2/users/zu-ada").await.status, 200);
    let seen = zoom.wait_for(5, Duration::from_secs(5)).await.unwrap();
    assert_eq!(
        seen.iter().map(|r| r.status).collect::<Vec<_>>(),
        [401, 401, 401, 500, 200]
    );
    assert_eq!(seen[1].header("Authorization"), Some("Bearer wrong-token"));
}

#[tokio::test]
async fn deactivating_and_reactivating_a_user() {
    let zoom = zoom().await;
    let deactivate = json!({"action": "deactivate"});
    for _ in 0..2 {
        // Again on an inactive user: nothing changes and nothing fails.
        let answer = put_status(&zoom, "zu-ada", &deactivate).await;
        assert_eq!((answer.status, answer.body.len()), (204, 0));
        assert_eq!(
            zoom.user("ada.lovelace@acme.example").unwrap().status,
            "inactive"
        );
    }
    let activate = json!({"action": "activate"});
    let by_email = put_status(&zoom, "ada.lovelace%40acme.example", &activate).await;
    assert_eq!(by_email.status, 204);
    assert_eq!(
        zoom.user("Ada.Lovelace@acme.example").unwrap().status,
        "active"
    );
    let seen = zoom.requests();
    assert_eq!(seen[0].json, Some(deactivate));
    assert_eq!(seen[0].method, "PUT");
}

#[tokio::test]
async fn a_status_change_zoom_would_refuse_is_refused() {
    let zoom = zoom().await;
    let bad_action = put_status(&zoom, "zu-ada", &json!({"action": "suspend"})).await;
    assert_eq!(bad_action.status, 400);
    let body = bad_action.json.unwrap();
    assert_eq!(
        (&body["code"], &body["errors"][0]["field"]),
        (&json!(300), &json!("action"))
    );
    let missing = put_status(&zoom, "zu-ada", &json!({})).await;
    assert_eq!(
        (missing.status, &missing.json.unwrap()["code"]),
        (400, &json!(300))
    );
    let unknown = put_status(&zoom, "zu-nobody", &json!({"action": "deactivate"})).await;
    assert_eq!(
        (unknown.status, unknown.json.unwrap()),
        (404, no_such_user("zu-nobody"))
    );

    let url = format!("{}/v2/users/zu-ada/status", zoom.base_url());
    let not_json = json!({"code": 300, "message": "Request Body should be a valid JSON object."});
    for body in [
        ("application/json", b"{\"action\":".to_vec()),
        ("application/json", b"[\"deactivate\"]".to_vec()),
        ("text/plain", br#"{"action":"deactivate"}"#.to_vec()),
        (
            "application/x-www-form-urlencoded",
            b"action=deactivate".to_vec(),
        ),
    ] {
        let answer = call(reqwest::Method::PUT, &url, Some(&token()), Some(body)).await;
        assert_eq!(
            (answer.status, answer.json.unwrap()),
            (400, not_json.clone())
        );
    }
    // Zoom's status update is a PUT: a PATCH there is a client bug.
    let patch = call(
        reqwest::Method::PATCH,
        &url,
        Some(&token()),
        Some(("application/json", br#"{"action":"deactivate"}"#.to_vec())),
    )
    .await;
    assert_eq!((patch.status, patch.header("allow")), (405, Some("PUT")));
    assert_eq!(patch.json.unwrap()["code"], 405);
    assert_eq!(
        zoom.user("ada.lovelace@acme.example").unwrap().status,
        "active"
    );
}

#[tokio::test]
async fn deleting_a_user_and_handing_their_things_over() {
    let zoom = zoom().await;
    let query = "action=delete&transfer_email=it%40acme.example&transfer_meeting=true\
                 &transfer_webinar=true&transfer_recording=true&transfer_whiteboard=true";
    let nobody = delete(
        &zoom,
        "/v2/users/zu-ada?action=delete&transfer_email=nobody%40acme.example",
    )
    .await;
    assert_eq!(
        (nobody.status, nobody.json.unwrap()),
        (400, no_such_user("nobody@acme.example"))
    );
    assert!(
        zoom.user("ada.lovelace@acme.example").is_some(),
        "a refused delete deletes nothing"
    );
    let bad_action = delete(&zoom, "/v2/users/zu-ada?action=erase").await;
    assert_eq!(
        (bad_action.status, &bad_action.json.unwrap()["code"]),
        (400, &json!(300))
    );
    let bad_flag = delete(&zoom, "/v2/users/zu-ada?action=delete&transfer_meeting=yes").await;
    assert_eq!(
        bad_flag.json.unwrap()["errors"][0]["field"],
        "transfer_meeting"
    );

    let deleted = delete(&zoom, &format!("/v2/users/zu-ada?{query}")).await;
    assert_eq!((deleted.status, deleted.body.len()), (204, 0));
    assert_eq!(zoom.user("ada.lovelace@acme.example"), None);
    // Again: Zoom no longer knows the user (the card takes that 404 as done).
    let again = delete(&zoom, &format!("/v2/users/zu-ada?{query}")).await;
    assert_eq!(
        (again.status, again.json.unwrap()),
        (404, no_such_user("zu-ada"))
    );
    assert_eq!(get(&zoom, "/v2/users/zu-ada").await.status, 404);
    // Without an action Zoom disassociates, which also takes the user away.
    assert_eq!(
        delete(&zoom, "/v2/users/gone%40acme.example").await.status,
        204
    );
    assert_eq!(zoom.user("gone@acme.example"), None);
    assert!(zoom.user("it@acme.example").is_some());
    let seen = zoom.requests();
    assert_eq!(seen[3].target, format!("/v2/users/zu-ada?{query}"));
}

#[tokio::test]
async fn routes_zoom_does_not_have_here_are_404_and_wrong_methods_405() {
    let zoom = zoom().await;
    for path in [
        "/v2/meetings",
        "/v2/users",
        "/users/zu-ada",
        "/v2/users/zu-ada/settings",
        "/",
    ] {
        let answer = get(&zoom, path).await;
        assert_eq!(
            (answer.status, &answer.json.unwrap()["code"]),
            (404, &json!(404)),
            "{path}"
        );
    }
    let url = format!("{}/v2/users/zu-ada", zoom.base_url());
    let post = call(
        reqwest::Method::POST,
        &url,
        Some(&token()),
        Some(("application/json", b"{}".to_vec())),
    )
    .await;
    assert_eq!(
        (post.status, post.header("allow")),
        (405, Some("GET, DELETE"))
    );
    assert_eq!(
        post.json.unwrap(),
        json!({"code": 405, "message": "Method Not Allowed"})
    );
}

#[tokio::test]
async fn injected_failures_answer_as_zoom_then_stop() {
    let zoom = zoom().await;
    zoom.fail_next(2, 429);
    for _ in 0..2 {
        let limited = get(&zoom, "/v2/users/zu-ada").await;
        assert_eq!(
            (limited.status, limited.header("retry-after")),
            (429, Some("1"))
        );
        let body = limited.json.unwrap();
        assert_eq!(body["code"], 429);
        assert!(
            body["message"].as_str().unwrap().contains("rate limit"),
            "{body}"
        );
    }
    assert_eq!(get(&zoom, "/v2/users/zu-ada").await.status, 200);
    zoom.fail_next(1, 503);
    let unavailable = put_status(&zoom, "zu-ada", &json!({"action": "deactivate"})).await;
    assert_eq!(
        (unavailable.status, unavailable.header("retry-after")),
        (503, None)
    );
    assert_eq!(
        unavailable.json.unwrap(),
        json!({"code": 503, "message": "Service Unavailable"})
    );
    assert_eq!(
        zoom.user("ada.lovelace@acme.example").unwrap().status,
        "active",
        "a failed request changes nothing"
    );
    assert_eq!(
        put_status(&zoom, "zu-ada", &json!({"action": "deactivate"}))
            .await
            .status,
        204
    );
    let statuses: Vec<u16> = zoom.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 429, 200, 503, 204]);
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_refused_unread() {
    let zoom = zoom().await;
    let url = format!("{}/v2/users/zu-ada/status", zoom.base_url());
    let body = format!(
        r#"{{"action":"deactivate","pad":"{}"}}"#,
        "x".repeat(1024 * 1024)
    );
    let answer = call(
        reqwest::Method::PUT,
        &url,
        Some(&token()),
        Some(("application/json", body.into_bytes())),
    )
    .await;
    assert_eq!(
        (answer.status, &answer.json.unwrap()["code"]),
        (413, &json!(413))
    );
    assert_eq!(
        zoom.user("ada.lovelace@acme.example").unwrap().status,
        "active"
    );
    assert!(zoom.requests()[0].body.is_empty());
}

#[tokio::test]
async fn waiting_for_requests_ends_when_they_came_or_in_time() {
    let zoom = zoom().await;
    let timeout = zoom
        .wait_for(1, Duration::from_millis(50))
        .await
        .unwrap_err();
    assert_eq!(
        (timeout.what, timeout.wanted, timeout.got),
        ("zoom requests", 1, 0)
    );
    let waiting = zoom.wait_for(2, Duration::from_secs(5));
    let sending = async {
        get(&zoom, "/v2/users/zu-ada").await;
        get(&zoom, "/v2/users/zu-it").await;
    };
    let (seen, ()) = tokio::join!(waiting, sending);
    assert_eq!(seen.unwrap().len(), 2);
}

#[tokio::test]
async fn the_stand_ins_own_connection_reaches_it_through_lanyard() {
    let zoom = zoom().await;
    let connection = zoom.connection();
    assert_eq!(
        connection.description.as_deref(),
        Some("Zoom API (sandbox stand-in)")
    );
    assert!(connection.allow_private);
    let answer = lanyard_get(connection, "/v2/users/it%40acme.example").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        serde_json::from_slice::<Value>(&answer.body).unwrap()["id"],
        "zu-it"
    );
    let seen = zoom.requests();
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {}", token()).as_str())
    );
}
