//! Configured secrets stay out of the run history: an upstream that echoes a
//! connection's credentials, a trigger input and a flow that carry one, and
//! what the admin API then shows of the run.

use crate::support::*;
use lanyard_core::history::{RunStatus, TriggerInfo};
use lanyard_server::StartOptions;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const QUERY_SECRET: &str = r#"qs-"quoted"&key=1/slash"#;
const HEADER_SECRET: &str = r#"hs-"quoted"&key=2"#;

/// Echoes each GET: the target (with the query the host appended a secret
/// to) and the request headers as JSON; a path with `redirect` in it answers
/// 302 with a `Location` that keeps the query.
async fn echoing_upstream() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            tokio::spawn(async move {
                let mut got = Vec::new();
                let mut buf = [0u8; 4096];
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&got).to_string();
                let mut lines = head.split("\r\n");
                let target = lines.next().unwrap_or("").split(' ').nth(1).unwrap_or("").to_string();
                let mut headers = serde_json::Map::new();
                for line in lines.take_while(|l| !l.is_empty()) {
                    if let Some((k, v)) = line.split_once(':') {
                        headers.insert(k.trim().to_lowercase(), Value::String(v.trim().to_string()));
                    }
                }
                let body = json!({ "target": target, "headers": headers }).to_string();
                let status = if target.contains("redirect") { "302 Found" } else { "200 OK" };
                let response = format!(
                    "HTTP/1.1 {status}\r\nlocation: {target}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

fn config(port: u16) -> String {
    format!(
        r#"
[connections.query]
base_url = "http://127.0.0.1:{port}/q"
auth = {{ query = {{ name = "api_key", value = {{ value = '{QUERY_SECRET}' }} }} }}
allow_private = true

[connections.header]
base_url = "http://127.0.0.1:{port}/h"
auth = {{ header = {{ name = "X-Api-Key", value = {{ value = '{HEADER_SECRET}' }} }} }}
allow_private = true

[cards."http.request"]
grants = ["connection:query", "connection:header"]
"#
    )
}

/// The flow's author also wrote a secret into it, so a card gets one by a way
/// other than the http capability.
fn flow() -> String {
    format!(
        r#"
name: leaky
description: Calls an upstream that echoes its credentials, and echoes a secret written in the flow.
trigger: manual
steps:
  - id: call
    card: http.request
    with: {{ connection: query, method: GET, path: "/echo", query: {{ page: "2" }} }}
  - id: hop
    card: http.request
    with: {{ connection: query, method: GET, path: "/redirect", expect_status: any }}
  - id: header
    card: http.request
    with: {{ connection: header, method: GET, path: "/echo" }}
  - id: literal
    card: lanyard.echo
    with: {{ message: 'written in the flow {QUERY_SECRET}', fields: {{ note: "{{{{ event.note }}}}" }} }}
  - return: {{ literal: "{{{{ literal.message }}}}", target: "{{{{ call.json.target }}}}" }}
"#
    )
}

/// The forms a secret takes in the admin API's JSON if the history holds it.
fn forms(secret: &str) -> Vec<String> {
    let strict: String = secret
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02x}") })
        .collect();
    let json = serde_json::to_string(secret).unwrap();
    vec![
        secret.to_lowercase(),
        json[1..json.len() - 1].to_lowercase(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect::<String>().to_lowercase(),
        strict,
    ]
}

/// `text` (the lowercased JSON of `shown`) holds none of the forms of `secrets`.
fn assert_holds_none(text: &str, secrets: &[&str], shown: &Value) {
    for secret in secrets {
        for form in forms(secret) {
            assert!(!text.contains(&form), "the stored run shows `{form}`:\n{shown:#}");
        }
    }
}

#[tokio::test]
async fn the_stored_run_holds_no_configured_secret() {
    let port = echoing_upstream().await;
    let d = daemon().flow("leaky.yaml", &flow()).config(&config(port)).start().await;
    let opts = StartOptions {
        wait: true,
        ..StartOptions::default()
    };
    let input = json!({ "note": format!("from the trigger {QUERY_SECRET} and {ADMIN}") });
    let started = d.engine.start_run("leaky", TriggerInfo::Manual, input, opts).await.unwrap();
    let run = started.outcome.expect("the run ended");
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");

    let (status, shown) = d.admin_get(&format!("/api/v1/runs/{}", run.id)).await;
    assert_eq!(status, 200);
    // The upstream's echo and the flow's literal reached the history, scrubbed.
    assert_eq!(shown["steps"].as_array().map(Vec::len), Some(5), "{shown:#}");
    let text = shown.to_string().to_lowercase();
    assert!(text.contains("[redacted]"), "{shown:#}");
    assert!(text.contains("/q/echo?page=2"), "the echo is in the history: {shown:#}");
    assert_holds_none(&text, &[QUERY_SECRET, HEADER_SECRET, ADMIN], &shown);
    d.stop().await;
}

#[tokio::test]
async fn an_okta_event_that_carries_a_secret_is_stored_scrubbed() {
    const FLOW: &str = r#"
name: told
description: Echoes what an Okta event says of its target.
trigger:
  okta: user.lifecycle.suspend
steps:
  - id: said
    card: lanyard.echo
    with: { message: "{{ event.target[0].displayName }}" }
  - return: "{{ said.message }}"
"#;
    let port = echoing_upstream().await;
    let d = daemon().flow("told.yaml", FLOW).config(&config(port)).start().await;
    let mut ev = event("ev-secret-1", "user.lifecycle.suspend", "00u1", "00uadmin", "2026-01-05T10:00:00.000Z");
    // Someone typed a connection's credential into a profile, and Okta's
    // event carries it.
    ev["target"][0]["displayName"] = json!(format!("name {HEADER_SECRET}"));
    ev["debugContext"]["debugData"]["note"] = json!(format!("{QUERY_SECRET} in the debug data"));
    let (status, _) = d.deliver(&[ev]).await;
    assert_eq!(status, 200);
    let runs = d.wait_for_runs("told", 1).await;
    assert_eq!(runs[0].status, RunStatus::Succeeded, "{runs:?}");

    let (status, shown) = d.admin_get(&format!("/api/v1/runs/{}", runs[0].id)).await;
    assert_eq!(status, 200);
    let text = shown.to_string().to_lowercase();
    assert!(text.contains("name [redacted]"), "the event and the step show the scrubbed name: {shown:#}");
    assert_holds_none(&text, &[QUERY_SECRET, HEADER_SECRET], &shown);
    d.stop().await;
}

#[tokio::test]
async fn what_okta_answers_reaches_a_card_scrubbed() {
    const FLOW: &str = r#"
name: reads
description: Reads a user whose profile holds a configured secret.
trigger: manual
steps:
  - id: user
    card: okta.get-user
    with: { user: "{{ event.login }}" }
  - return:
      nick: "{{ user.profile.nickName }}"
      saw_secret: "{{ 'key=1/slash' in user.profile.nickName }}"
"#;
    let port = echoing_upstream().await;
    let d = daemon().flow("reads.yaml", FLOW).config(&config(port)).start().await;
    // An admin typed a connection's credential into a profile field.
    let sandbox = d.engine.sandbox().expect("the test daemon runs the sandbox org");
    let user = sandbox.org.users().into_iter().find(|u| u.status == "ACTIVE").unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/users/{}", sandbox.base_url, user.id))
        .header("authorization", format!("SSWS {}", sandbox.org.service_token()))
        .json(&json!({ "profile": { "nickName": format!("nick {QUERY_SECRET}") } }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    let opts = StartOptions { wait: true, ..StartOptions::default() };
    let input = json!({ "login": user.profile["login"] });
    let run = d.engine.start_run("reads", TriggerInfo::Manual, input, opts).await.unwrap().outcome.unwrap();
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    let output = run.output.unwrap();
    assert_eq!(output["nick"], "nick [redacted]", "{output}");
    assert_eq!(output["saw_secret"], false, "the card was handed the secret: {output}");
    d.stop().await;
}
