//! Waiting runs in the daemon: a `wait` frees its worker, ends on time or by
//! a signal (once), can be cancelled, and survives a restart.

use crate::support::*;
use lanyard_core::history::RunStatus;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const APPROVAL: &str = r#"
name: approval
description: asks for an approval, then says what came
trigger: manual
steps:
  - id: ask
    wait: { signal: approval, choices: [approve, reject], timeout: 1h }
  - return: "{{ ask.choice }} by {{ ask.by }}: {{ ask.data.note | default('') }}"
"#;

const PAUSE: &str = r#"
name: pause
description: waits a moment
trigger: manual
steps:
  - id: before
    assign: { n: 1 }
  - id: nap
    wait: { for: 2s }
  - return: "{{ nap.resumed }}"
"#;

async fn start(d: &Daemon, flow: &str) -> String {
    let (status, body) = d.admin_post(&format!("/api/v1/flows/{flow}/run"), Some(json!({}))).await;
    assert_eq!(status, 202, "{body}");
    body["run_id"].as_str().unwrap().to_string()
}


#[tokio::test]
async fn a_signal_resumes_a_waiting_run_once_with_its_choice() {
    let d = daemon().flow("approval.yaml", APPROVAL).start().await;
    let id = start(&d, "approval").await;
    let waiting = d.until_status(&id, "waiting").await;
    let wait = &waiting["run"]["wait"];
    assert_eq!((wait["step"].as_str(), wait["signal"].as_str()), (Some("ask"), Some("approval")));
    assert_eq!(wait["choices"], json!(["approve", "reject"]));
    assert!(wait["until"].is_string(), "the timeout is shown: {wait}");
    // The worker lets go of it once the wait is recorded.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while d.engine.runs_in_flight() > 0 {
        assert!(tokio::time::Instant::now() < deadline, "a waiting run holds no worker");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let path = format!("/api/v1/runs/{id}/signal");
    let (code, body) = d.admin_post(&path, Some(json!({"signal": "aproval", "choice": "approve"}))).await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["error"]["message"], format!("run {id} waits for the `approval` signal, not for the `aproval` signal"));
    let (code, body) = d.admin_post(&path, Some(json!({"signal": "approval"}))).await;
    assert_eq!((code, body["error"]["message"].as_str()), (400, Some("the `approval` signal needs a choice: approve, reject")));
    let (code, body) = d.admin_post(&path, Some(json!({"signal": "approval", "choice": "maybe"}))).await;
    assert_eq!(code, 400, "{body}");
    let (code, body) = d
        .admin_post(&path, Some(json!({"signal": "approval", "choice": "approve", "data": {"note": "ok for a week"}})))
        .await;
    assert_eq!(code, 202, "{body}");
    assert_eq!(body, json!({"run_id": id, "signal": "approval", "choice": "approve"}));
    let (code, body) = d.admin_post(&path, Some(json!({"signal": "approval", "choice": "reject"}))).await;
    assert_eq!(code, 409, "a signal resumes a run once: {body}");

    let done = d.until_status(&id, "succeeded").await;
    assert_eq!(done["run"]["output"], "approve by api: ok for a week");
    assert!(done["run"].get("wait").is_none(), "{done}");
    let step = done["steps"].as_array().unwrap().iter().find(|s| s["path"] == "ask").unwrap().clone();
    assert_eq!((step["kind"].as_str(), step["output"]["choice"].as_str()), (Some("wait"), Some("approve")));
    let (code, _) = d.admin_post("/api/v1/runs/01ARZ3NDEKTSV4RRFFQ69G5FAV/signal", Some(json!({"signal": "approval"}))).await;
    assert_eq!(code, 404);
    d.stop().await;
}

#[tokio::test]
async fn a_wait_ends_on_time_and_a_waiting_run_can_be_cancelled() {
    let d = daemon().flow("pause.yaml", PAUSE).flow("approval.yaml", APPROVAL).start().await;
    let id = start(&d, "pause").await;
    d.until_status(&id, "waiting").await;
    let waited = std::time::Instant::now();
    let done = d.until_status(&id, "succeeded").await;
    assert!(waited.elapsed() >= Duration::from_millis(1500), "it waited its time");
    assert_eq!(done["run"]["output"], "time");

    let other = start(&d, "approval").await;
    d.until_status(&other, "waiting").await;
    let (code, body) = d.admin_post(&format!("/api/v1/runs/{other}/cancel"), None).await;
    assert_eq!(code, 200, "{body}");
    let cancelled = d.until_status(&other, "cancelled").await;
    assert_eq!(cancelled["run"]["reason"], "cancelled by an operator while it waited");
    let (code, _) = d.admin_post(&format!("/api/v1/runs/{other}/signal"), Some(json!({"signal": "approval", "choice": "approve"}))).await;
    assert_eq!(code, 409, "a cancelled run takes no signal");
    d.stop().await;
}

#[tokio::test]
async fn a_wait_that_ended_while_the_daemon_was_down_resumes_at_the_next_start() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let d = daemon().dir(dir.clone()).flow("pause.yaml", PAUSE).start().await;
    let id = start(&d, "pause").await;
    d.until_status(&id, "waiting").await;
    d.stop().await;
    // Down past the end of the wait.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let d = daemon().dir(dir).flow("pause.yaml", PAUSE).start().await;
    let done = d.until_status(&id, "succeeded").await;
    assert_eq!(done["run"]["output"], "time");
    let paths: Vec<&str> = done["steps"].as_array().unwrap().iter().map(|s| s["path"].as_str().unwrap()).collect();
    assert_eq!(paths, ["before", "nap", "return-1"], "each step once");
    let run = d.engine.store().get_run(&id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    d.stop().await;
}

const LINKS: &str = r#"
name: links
description: sends approve and reject links, then waits for one
trigger: manual
steps:
  - id: links
    assign:
      approve: "{{ signal_link('approval', 'approve') }}"
      reject: "{{ signal_link('approval', 'reject') }}"
  - id: ask
    wait: { signal: approval, choices: [approve, reject], timeout: 1h }
  - return: "{{ ask.choice }} by {{ ask.by }}"
"#;

const ROUNDS: &str = r#"
name: rounds
description: asks twice, a new link each round
trigger: manual
steps:
  - id: rounds
    for_each: [1, 2]
    steps:
      - id: link
        assign: { ok: "{{ signal_link('ok') }}" }
      - id: answer
        wait: { signal: ok, timeout: 1h }
  - return: done
"#;

/// The value `key` a step at `path` assigned in run `id`.
async fn assigned(d: &Daemon, id: &str, path: &str, key: &str) -> String {
    let (_, body) = d.admin_get(&format!("/api/v1/runs/{id}")).await;
    let step = body["steps"].as_array().unwrap().iter().find(|s| s["path"] == path).unwrap_or_else(|| panic!("no step {path}: {body}"));
    step["output"][key].as_str().unwrap().to_string()
}

/// A link's status and page, with no admin token.
async fn follow(method: reqwest::Method, url: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let r = reqwest::Client::new().request(method, url).send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, r.text().await.unwrap(), headers)
}

#[tokio::test]
async fn a_signal_link_shows_a_page_then_answers_once_when_confirmed() {
    let d = daemon().flow("links.yaml", LINKS).start().await;
    let id = start(&d, "links").await;
    d.until_status(&id, "waiting").await;
    let approve = assigned(&d, &id, "links", "approve").await;
    let reject = assigned(&d, &id, "links", "reject").await;
    assert!(approve.starts_with(&d.url("/signals/")), "links point at the daemon when no public_url is set: {approve}");

    // Looking does not answer (mail and chat clients fetch links).
    for _ in 0..2 {
        let (status, html, headers) = follow(reqwest::Method::GET, &approve).await;
        assert_eq!(status, 200, "{html}");
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        assert!(headers["content-security-policy"].to_str().unwrap().starts_with("default-src 'none'"));
        assert!(html.contains("<h1>Confirm: approve</h1>") && html.contains(&id) && html.contains("<dd>links</dd>"), "{html}");
        assert!(html.contains("<form method=\"post\"><button type=\"submit\">Approve</button></form>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
    }
    let (status, _, _) = follow(reqwest::Method::HEAD, &reject).await;
    assert_eq!(status, 200);
    d.until_status(&id, "waiting").await;

    let (status, html, _) = follow(reqwest::Method::POST, &approve).await;
    assert_eq!((status, html.contains("<h1>Recorded: approve</h1>")), (200, true), "{html}");
    let done = d.until_status(&id, "succeeded").await;
    assert_eq!(done["run"]["output"], "approve by link");

    // Used, and its sibling with it.
    for link in [&approve, &reject] {
        for method in [reqwest::Method::POST, reqwest::Method::GET] {
            let (status, html, _) = follow(method.clone(), link).await;
            assert_eq!(status, 410, "{method} {link}: {html}");
            assert!(html.contains("<h1>Already answered</h1>"), "{html}");
        }
    }

    // Tampered, made up, too long: not a link, and nothing said about why.
    let token = approve.rsplit('/').next().unwrap();
    let mut bytes = token.as_bytes().to_vec();
    bytes[10] = if bytes[10] == b'A' { b'B' } else { b'A' };
    let tampered = d.url(&format!("/signals/{}", String::from_utf8(bytes).unwrap()));
    for url in [tampered, d.url("/signals/nothing"), d.url(&format!("/signals/{}", "A".repeat(5000)))] {
        let (status, html, _) = follow(reqwest::Method::POST, &url).await;
        assert_eq!(status, 404, "{url}: {html}");
        assert!(html.contains("<h1>This link is not valid</h1>") && !html.contains(&id), "{html}");
    }
    let (status, _, headers) = follow(reqwest::Method::DELETE, &approve).await;
    assert_eq!((status, headers["allow"].to_str().unwrap()), (405, "GET, HEAD, POST"));
    d.stop().await;
}

#[tokio::test]
async fn a_link_answers_only_its_own_runs_first_wait_after_it_was_made() {
    let d = daemon().flow("rounds.yaml", ROUNDS).flow("links.yaml", LINKS).start().await;
    let a = start(&d, "rounds").await;
    let b = start(&d, "rounds").await;
    d.until_status(&a, "waiting").await;
    d.until_status(&b, "waiting").await;
    let a1 = assigned(&d, &a, "rounds[0]/link", "ok").await;
    let b1 = assigned(&d, &b, "rounds[0]/link", "ok").await;

    // A's first wait ends through the API; its link, never used, answers
    // nothing now, not even A's second wait for the same signal.
    let (code, body) = d.admin_post(&format!("/api/v1/runs/{a}/signal"), Some(json!({"signal": "ok"}))).await;
    assert_eq!(code, 202, "{body}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let waiting = d.until_status(&a, "waiting").await;
        if waiting["run"]["wait"]["step"] == "rounds[1]/answer" {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "A did not reach its second wait: {waiting}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, html, _) = follow(reqwest::Method::POST, &a1).await;
    assert_eq!(status, 410, "{html}");
    let (_, body) = d.admin_get(&format!("/api/v1/runs/{a}")).await;
    assert_eq!((body["run"]["status"].as_str(), body["run"]["wait"]["step"].as_str()), (Some("waiting"), Some("rounds[1]/answer")));

    // B's link answers B, never A.
    let (status, html, _) = follow(reqwest::Method::POST, &b1).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(&b) && !html.contains(&a), "{html}");
    let (_, body) = d.admin_get(&format!("/api/v1/runs/{a}")).await;
    assert_eq!(body["run"]["wait"]["step"], "rounds[1]/answer", "A still waits: {body}");
    let steps = body["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["output"]["by"] != "link"), "nothing of A was answered by a link: {body}");

    // A's second link answers its second wait.
    let a2 = assigned(&d, &a, "rounds[1]/link", "ok").await;
    let (status, html, _) = follow(reqwest::Method::POST, &a2).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<h1>Recorded: ok</h1>"), "{html}");
    d.until_status(&a, "succeeded").await;

    // A run that is not waiting (cancelled before anyone answered): 409.
    let c = start(&d, "links").await;
    d.until_status(&c, "waiting").await;
    let link = assigned(&d, &c, "links", "reject").await;
    let (code, _) = d.admin_post(&format!("/api/v1/runs/{c}/cancel"), None).await;
    assert_eq!(code, 200);
    let (status, html, _) = follow(reqwest::Method::POST, &link).await;
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("is cancelled, not waiting"), "{html}");
    d.stop().await;
}

#[tokio::test]
async fn a_link_expires_after_its_max_age_under_the_public_url() {
    let clock = Arc::new(lanyard_core::ManualClock::new("2026-12-07T10:00:00Z".parse().unwrap()));
    let d = daemon()
        .flow("links.yaml", LINKS)
        .config("[signals]\npublic_url = \"https://lanyard.example.com/\"\nlink_max_age = \"10m\"\n")
        .clock(clock.clone())
        .start()
        .await;
    let id = start(&d, "links").await;
    d.until_status(&id, "waiting").await;
    let approve = assigned(&d, &id, "links", "approve").await;
    let token = approve.strip_prefix("https://lanyard.example.com/signals/").unwrap_or_else(|| panic!("{approve}"));
    let here = d.url(&format!("/signals/{token}"));
    let (status, _, _) = follow(reqwest::Method::GET, &here).await;
    assert_eq!(status, 200);
    clock.set("2026-12-07T10:10:00Z".parse().unwrap());
    let (status, html, _) = follow(reqwest::Method::POST, &here).await;
    assert_eq!(status, 410, "{html}");
    assert!(html.contains("<h1>This link has expired</h1>"), "{html}");
    d.until_status(&id, "waiting").await;
    d.stop().await;
}
