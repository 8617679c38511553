//! Slack through connections: the Web API with a bot token and an incoming
//! webhook, against the Slack stand-in, checking the exact requests.

use crate::support::{capability, request};
use lanyard_connect::StaticLookup;
use lanyard_sandbox::{SlackConfig, SlackRequestKind, SlackStandIn, SlackStandInHandle};
use lanyard_core::caps::{HttpApi, HttpMethod, HttpRequest};
use serde_json::{Value, json};
use std::time::Duration;

async fn stand_in() -> SlackStandInHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    SlackStandIn::start(listener, SlackConfig::default()).unwrap()
}

fn connections(slack: &SlackStandInHandle) -> String {
    format!(
        r#"
        [connections.it-slack]
        base_url = "{api}"
        auth = {{ bearer = {{ env = "SLACK_BOT_TOKEN" }} }}
        allow_private = true

        [connections.wrong-token]
        base_url = "{api}"
        auth = {{ bearer = {{ value = "xoxb-wrong" }} }}
        allow_private = true

        [connections.no-token]
        base_url = "{api}"
        allow_private = true

        [connections.it-webhook]
        base_url = {{ env = "SLACK_WEBHOOK_URL" }}
        allow_private = true
        "#,
        api = slack.api_base_url()
    )
}

fn post_json(url: &str, connection: &str, body: &Value) -> HttpRequest {
    let mut req = request(HttpMethod::Post, url, Some(connection));
    req.headers.push((
        "content-type".to_owned(),
        "application/json; charset=utf-8".to_owned(),
    ));
    req.body = Some(serde_json::to_vec(body).unwrap());
    req
}

#[tokio::test]
async fn chat_post_message_through_a_bearer_connection() {
    let slack = stand_in().await;
    let token = slack.config().bot_token.clone();
    let webhook = slack.webhook_url();
    let http = capability(
        &connections(&slack),
        &[("SLACK_BOT_TOKEN", &token), ("SLACK_WEBHOOK_URL", &webhook)],
        StaticLookup::new(),
    );
    let blocks =
        json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*Offboarded* jdoe"}}]);
    let body =
        json!({"channel": "#it-ops", "text": "Offboarded jdoe@example.com", "blocks": blocks});
    let response = http
        .send(post_json("chat.postMessage", "it-slack", &body))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    let answer: Value = serde_json::from_slice(&response.body).unwrap();
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["channel"], "C0ITOPS0001");
    assert!(answer["ts"].as_str().unwrap().starts_with("1700000000."));
    assert_eq!(answer["message"]["text"], "Offboarded jdoe@example.com");
    assert_eq!(answer["message"]["blocks"], blocks);
    assert!(answer.get("warning").is_none());

    let posted = slack.wait_for(1, Duration::from_secs(5)).await.unwrap();
    let seen = &posted[0];
    assert_eq!(seen.kind, SlackRequestKind::PostMessage);
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path, "/api/chat.postMessage");
    assert_eq!(
        seen.header("authorization"),
        Some(format!("Bearer {token}").as_str())
    );
    assert!(token.starts_with("xoxb-"));
    assert_eq!(
        seen.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    let json = seen.json.as_ref().unwrap();
    assert_eq!(json["channel"], "#it-ops");
    assert_eq!(json["text"], "Offboarded jdoe@example.com");
    assert_eq!(json["blocks"], blocks);

    // Slack's own refusals come back as responses the card can read.
    let response = http
        .send(post_json("chat.postMessage", "wrong-token", &body))
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&response.body).unwrap(),
        json!({"ok": false, "error": "invalid_auth"})
    );
    let response = http
        .send(post_json("chat.postMessage", "no-token", &body))
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&response.body).unwrap(),
        json!({"ok": false, "error": "not_authed"})
    );
    let response = http
        .send(post_json(
            "/chat.postMessage",
            "it-slack",
            &json!({"channel": "#nope", "text": "x"}),
        ))
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&response.body).unwrap()["error"],
        "channel_not_found"
    );
    let response = http
        .send(post_json(
            "chat.postMessage",
            "it-slack",
            &json!({"channel": "it-ops"}),
        ))
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&response.body).unwrap()["error"],
        "no_text"
    );

    // Without the charset Slack still posts, with a warning.
    let mut req = post_json(
        "chat.postMessage",
        "it-slack",
        &json!({"channel": "C0ITOPS0001", "text": "hi"}),
    );
    req.headers[0].1 = "application/json".to_owned();
    let answer: Value = serde_json::from_slice(&http.send(req).await.unwrap().body).unwrap();
    assert_eq!(answer["ok"], true);
    assert_eq!(answer["warning"], "missing_charset");
    assert_eq!(slack.posted().len(), 2);
    assert_eq!(slack.requests().len(), 6);
}

#[tokio::test]
async fn incoming_webhook_is_the_base_url_itself() {
    let slack = stand_in().await;
    let webhook = slack.webhook_url();
    let http = capability(
        &connections(&slack),
        &[
            ("SLACK_BOT_TOKEN", "unused"),
            ("SLACK_WEBHOOK_URL", &webhook),
        ],
        StaticLookup::new(),
    );
    for url in ["", "/"] {
        let response = http
            .send(post_json(
                url,
                "it-webhook",
                &json!({"text": format!("via `{url}`")}),
            ))
            .await
            .unwrap();
        assert_eq!(response.status, 200, "{url}");
        assert_eq!(response.body, b"ok");
    }
    let posted = slack.wait_for(2, Duration::from_secs(5)).await.unwrap();
    for (seen, url) in posted.iter().zip(["", "/"]) {
        assert_eq!(seen.kind, SlackRequestKind::Webhook);
        assert_eq!(seen.method, "POST");
        assert_eq!(seen.path, slack.config().webhook_path);
        assert_eq!(seen.header("authorization"), None);
        assert_eq!(
            seen.header("content-type"),
            Some("application/json; charset=utf-8")
        );
        assert_eq!(seen.text(), Some(format!("via `{url}`").as_str()));
    }
    // A path under the webhook is not the webhook.
    let response = http
        .send(post_json("extra", "it-webhook", &json!({"text": "x"})))
        .await
        .unwrap();
    assert_eq!(response.status, 404);
    assert_eq!(response.body, b"no_service");
    let response = http
        .send(post_json("", "it-webhook", &json!({"blocks": "nope"})))
        .await
        .unwrap();
    assert_eq!(response.status, 400);
    // The webhook URL is a secret: the admin API never shows its path.
    let info = http.connections().get("it-webhook").unwrap();
    assert!(!info.base_url.contains("services"), "{}", info.base_url);
}

#[tokio::test]
async fn the_stand_ins_own_connections_work() {
    use lanyard_connect::{Connections, ConnectionsConfig, HttpCapability, HttpSettings};
    let slack = stand_in().await;
    let mut config = ConnectionsConfig::default();
    config
        .0
        .insert("it-slack".to_owned(), slack.web_api_connection());
    config
        .0
        .insert("it-webhook".to_owned(), slack.webhook_connection());
    let connections = Connections::from_config(&config).unwrap();
    let http =
        HttpCapability::new(std::sync::Arc::new(connections), HttpSettings::default()).unwrap();
    let body = json!({"channel": "security", "text": "Account locked: jdoe"});
    let answer: Value = serde_json::from_slice(
        &http
            .send(post_json("chat.postMessage", "it-slack", &body))
            .await
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(answer["ok"], true, "{answer}");
    assert_eq!(answer["channel"], "C0SECURITY1");
    let response = http
        .send(post_json("", "it-webhook", &json!({"text": "hello"})))
        .await
        .unwrap();
    assert_eq!(response.body, b"ok");
    let posted = slack.wait_for(2, Duration::from_secs(5)).await.unwrap();
    assert_eq!(posted[0].channel.as_deref(), Some("C0SECURITY1"));
    assert_eq!(posted[1].channel.as_deref(), Some("C0ITOPS0001"));
}

/// A post to a member id is a direct message from the app, as in Slack;
/// a member id the workspace does not have is `channel_not_found`.
#[tokio::test]
async fn a_post_to_a_member_id_is_a_direct_message() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = SlackConfig { members: vec!["U04GRACE01".to_owned()], ..SlackConfig::default() };
    let slack = SlackStandIn::start(listener, config).unwrap();
    let token = slack.config().bot_token.clone();
    let webhook = slack.webhook_url();
    let http = capability(&connections(&slack), &[("SLACK_BOT_TOKEN", &token), ("SLACK_WEBHOOK_URL", &webhook)], StaticLookup::new());
    let send = |channel: &str| post_json("chat.postMessage", "it-slack", &json!({"channel": channel, "text": "Ada is locked out"}));
    let answer: Value = serde_json::from_slice(&http.send(send("U04GRACE01")).await.unwrap().body).unwrap();
    assert_eq!((answer["ok"].as_bool(), answer["channel"].as_str()), (Some(true), Some("D04GRACE01")), "{answer}");
    assert_eq!(slack.posted()[0].channel.as_deref(), Some("D04GRACE01"));
    let answer: Value = serde_json::from_slice(&http.send(send("U0NOBODY00")).await.unwrap().body).unwrap();
    assert_eq!(answer, json!({"ok": false, "error": "channel_not_found"}));
    assert_eq!(slack.posted().len(), 1);
}
