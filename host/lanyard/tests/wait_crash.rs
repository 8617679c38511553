//! `kill -9` the real daemon while runs wait (issue 17, `wait`): nothing
//! waiting is lost, a timed wait that ends while the daemon is down ends at
//! the next start, a signal answers a run once, and no step before a wait
//! runs again.
//!
//! The test runs the sandbox Okta org and the Slack stand-in around
//! `lanyard serve` (the binary, on a temporary data directory). Each run of
//! the flow posts to Slack, waits a few seconds, waits for an approval, then
//! posts the answer. The daemon is killed twice:
//!
//! 1. while every run waits on its timer; the timers end while it is down,
//!    so the next start catches them up and every run reaches the approval;
//! 2. right after half the runs were answered (approve), with those runs
//!    queued or going on; after the restart they finish with that answer,
//!    the other half are answered (reject) and finish too.
//!
//! Then: every event has exactly one run, and it succeeded; each run posted
//! its first message once (the wait resumed after it, not before it) and its
//! answer at most twice (only a card step in flight at the kill may run
//! again), with the choice it was given; a second answer is refused.

mod support;

use lanyard_sandbox::okta::{RunningSandbox, SandboxConfig, SandboxOrg};
use lanyard_sandbox::{SlackConfig, SlackStandIn};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::Daemon;

const FLOW: &str = "wait-crash";
const EVENTS: usize = 16;
const BATCH: usize = 4;
const WORKERS: usize = 4;
const SECRET: &str = "wait-crash-hook-secret";
const ADMIN: &str = "wait-crash-admin-token";
/// The timed wait: long enough that every run is waiting on it at the kill,
/// short enough that it ends while the daemon is down.
const PAUSE_SECS: u64 = 3;

const FLOW_YAML: &str = r##"name: wait-crash
description: Crash test - a post, a timed wait, an approval, a post of the answer.
trigger:
  okta: user.lifecycle.deactivate
steps:
  - id: before
    card: slack.post
    with: { connection: it-slack, channel: "#it-ops", text: "before event={{ event.uuid }}" }
  - id: pause
    wait: { for: 3s }
  - id: approval
    wait: { signal: approval, choices: [approve, reject], timeout: 1h }
  - id: after
    card: slack.post
    with: { connection: it-slack, channel: "#it-ops", text: "after event={{ event.uuid }} choice={{ approval.choice }}" }
  - return: { choice: "{{ approval.choice }}" }
"##;

async fn wait_ready(http: &reqwest::Client, d: &Daemon) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{}/readyz", d.url)).send().await
            && r.status().is_success()
        {
            return;
        }
        assert!(Instant::now() < deadline, "lanyard did not get ready:\n{}", d.logs());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Until every run of the flow is waiting at `step`; the runs.
async fn all_waiting_at(http: &reqwest::Client, d: &Daemon, step: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let runs = support::runs(http, &d.url, ADMIN, FLOW).await;
        let at = runs.iter().filter(|r| r["status"] == "waiting" && r["wait"]["step"] == step).count();
        if runs.len() == EVENTS && at == EVENTS {
            return runs;
        }
        assert!(
            Instant::now() < deadline,
            "{at} of {EVENTS} runs wait at `{step}` ({} runs):\n{runs:#?}\n{}",
            runs.len(),
            d.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn signal(http: &reqwest::Client, d: &Daemon, run: &str, choice: &str) -> (u16, Value) {
    let r = http
        .post(format!("{}/api/v1/runs/{run}/signal", d.url))
        .bearer_auth(ADMIN)
        .json(&json!({ "signal": "approval", "choice": choice }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_runs_wait_loses_no_wait_and_resumes_each_once() {
    let started = Instant::now();
    let org = SandboxOrg::new(SandboxConfig::default(), Arc::new(lanyard_core::SystemClock));
    let okta = RunningSandbox::start(org.clone()).await.unwrap();
    let slack = SlackStandIn::start(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(), SlackConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let extra = support::okta_and_slack(&okta.base_url, &org.service_token(), &slack.api_base_url(), WORKERS);
    let config = support::Setup {
        flow_file: "wait-crash.yaml",
        flow_yaml: FLOW_YAML,
        data: Path::new("data"),
        cache: "crash-card-cache",
        admin: ADMIN,
        secret: SECRET,
        server: "",
        extra: &extra,
    }
    .write(dir.path());

    let users = support::active_users(&org, EVENTS);
    let events: Vec<Value> = users
        .iter()
        .enumerate()
        .map(|(i, (id, login))| support::deactivate_event(&format!("wait-crash-{i:04}-{}", std::process::id()), id, login, i))
        .collect();

    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut daemon = Daemon::start(&config, "warn");
    wait_ready(&http, &daemon).await;
    for (n, chunk) in events.chunks(BATCH).enumerate() {
        let body = support::hook_delivery(chunk, n, "whowaits", &support::rfc3339_millis(0));
        assert_eq!(support::post_hook(&http, &daemon.url, SECRET, &body).await, 200, "delivery {n}:\n{}", daemon.logs());
    }

    // 1. Every run waits on its timer: kill -9, stay down past the timers.
    all_waiting_at(&http, &daemon, "pause").await;
    daemon.kill_9();
    let down = Instant::now();
    tokio::time::sleep(Duration::from_secs(PAUSE_SECS + 1)).await;
    let mut daemon = Daemon::start(&config, "warn");
    wait_ready(&http, &daemon).await;
    let runs = all_waiting_at(&http, &daemon, "approval").await;
    let caught_up = down.elapsed();

    // 2. Half are answered (approve), then kill -9 at once.
    let mut want: BTreeMap<String, &str> = BTreeMap::new();
    let ids: Vec<String> = runs.iter().map(|r| r["id"].as_str().unwrap().to_string()).collect();
    let (approved, rejected) = ids.split_at(EVENTS / 2);
    for id in approved {
        let (status, body) = signal(&http, &daemon, id, "approve").await;
        assert_eq!(status, 202, "{body}");
        want.insert(id.clone(), "approve");
    }
    daemon.kill_9();
    let daemon = Daemon::start(&config, "warn");
    wait_ready(&http, &daemon).await;
    for id in rejected {
        let (status, body) = signal(&http, &daemon, id, "reject").await;
        assert_eq!(status, 202, "{body}");
        want.insert(id.clone(), "reject");
    }
    // A run takes one answer: a second, after the restart, is refused.
    let (status, body) = signal(&http, &daemon, &approved[0], "reject").await;
    assert_eq!(status, 409, "a second answer: {body}");

    let deadline = Instant::now() + Duration::from_secs(60);
    let all = loop {
        let all = support::runs(&http, &daemon.url, ADMIN, FLOW).await;
        if all.iter().all(|r| matches!(r["status"].as_str(), Some("succeeded" | "failed" | "cancelled"))) {
            break all;
        }
        assert!(Instant::now() < deadline, "the runs did not finish:\n{all:#?}\n{}", daemon.logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // One run per event, each succeeded with the answer it was given.
    let mut per_event: BTreeMap<String, usize> = BTreeMap::new();
    for r in &all {
        *per_event.entry(r["trigger"]["event_uuid"].as_str().unwrap().to_string()).or_default() += 1;
        assert_eq!(r["status"], "succeeded", "{r:#}\n{}", daemon.logs());
        let id = r["id"].as_str().unwrap();
        assert_eq!(r["output"]["choice"], json!(want[id]), "{r:#}");
    }
    assert_eq!(per_event.len(), EVENTS, "{per_event:?}");
    assert!(per_event.values().all(|n| *n == 1), "an event with more than one run: {per_event:?}");

    // Side effects: the post before the waits once per run; the answer's at
    // most twice (a step in flight at the second kill), with its choice.
    let mut before: BTreeMap<String, usize> = BTreeMap::new();
    let mut after: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in slack.posted() {
        let text = p.text().unwrap_or_default();
        let event = text.split("event=").nth(1).and_then(|s| s.split_whitespace().next()).unwrap_or_default().to_string();
        if text.starts_with("before ") {
            *before.entry(event).or_default() += 1;
        } else if text.starts_with("after ") {
            after.entry(event).or_default().push(text.split("choice=").nth(1).unwrap_or_default().to_string());
        }
    }
    assert_eq!(before.len(), EVENTS, "{before:?}");
    assert!(before.values().all(|n| *n == 1), "a step before a wait ran again: {before:?}");
    assert_eq!(after.len(), EVENTS, "{after:?}");
    let by_event: BTreeMap<&str, &str> = all.iter().map(|r| (r["trigger"]["event_uuid"].as_str().unwrap(), want[r["id"].as_str().unwrap()])).collect();
    let mut repeated = 0;
    for (event, choices) in &after {
        assert!(choices.iter().all(|c| c == by_event[event.as_str()]), "{event}: {choices:?}");
        repeated += choices.len() - 1;
    }
    assert!(repeated <= WORKERS, "only a step in flight at the kill may repeat: {repeated} repeated posts");
    eprintln!(
        "wait crash test: {EVENTS} runs waited through kill -9 on their timers and resumed {:.1}s after the kill; \
         {} answered then kill -9, {} answered after; all succeeded with their answer, {repeated} repeated answer posts; whole test {:.1}s",
        caught_up.as_secs_f64(),
        approved.len(),
        rejected.len(),
        started.elapsed().as_secs_f64()
    );
}
