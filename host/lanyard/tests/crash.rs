//! Crash test: `kill -9` the real daemon under load and check that nothing
//! acknowledged is lost or run twice.
//!
//! The test process runs the world around the daemon: the sandbox Okta org
//! (recording every request, so writes can be counted per user) and the Slack
//! stand-in (keeping every post). It starts `lanyard serve` (the binary, on a
//! temporary data directory), POSTs Okta Event Hook deliveries at it and
//! notes which were acknowledged with 200, sends it SIGKILL once part of the
//! load is acknowledged and runs are in flight, starts it again on the same
//! data directory, redelivers what was not acknowledged (as Okta does) plus a
//! few deliveries that were (Okta delivers at least once), and waits until
//! every run has finished. Then:
//!
//! - every event has exactly one run, and it succeeded (none lost, none twice);
//! - side effects repeated by the crash are counted: Okta profile writes per
//!   user, Slack posts per run. Only a card step in flight at the kill can run
//!   again (it resumes with the same idempotency key), so repeats are at most
//!   the number of workers; the Okta write is compare-before-write, so a
//!   repeat of it writes nothing.

mod support;

use lanyard_sandbox::{SlackConfig, SlackStandIn};
use lanyard_sandbox::okta::{RunningSandbox, SandboxConfig, SandboxOrg};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::Daemon;

const FLOW: &str = "crash-offboard";
const EVENTS: usize = 160;
const BATCH: usize = 4;
/// Kill once this many deliveries were acknowledged.
const KILL_AFTER_ACKED: usize = 14;
const SENDERS: usize = 4;
const WORKERS: usize = 8;
const SECRET: &str = "crash-hook-secret";
const ADMIN: &str = "crash-admin-token";

const FLOW_YAML: &str = r##"name: crash-offboard
description: Crash test - one Okta write and one Slack post per deactivated user.
trigger:
  okta: user.lifecycle.deactivate
steps:
  - id: mark
    card: okta.update-profile
    with: { user: "{{ event.target[0].id }}", profile: { nickName: "offboarded {{ event.uuid }}" } }
  - id: post
    card: slack.post
    with: { connection: it-slack, channel: "#it-ops", text: "offboarded {{ event.target[0].alternateId }} run={{ flow.run_id }} event={{ event.uuid }}" }
  - return: { ok: true }
"##;

async fn wait_ready(http: &reqwest::Client, d: &Daemon) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = http.get(format!("{}/readyz", d.url)).send().await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "lanyard did not get ready:\n{}", d.logs());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn chrono_like_now(i: usize) -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    // Distinct, increasing `published` times, a second apart.
    support::rfc3339_millis((secs + i as u64) * 1000)
}

fn delivery(events: &[Value], n: usize) -> Vec<u8> {
    support::hook_delivery(events, n, "whocrash", &chrono_like_now(0))
}

async fn post_delivery(http: &reqwest::Client, url: &str, body: &[u8]) -> bool {
    support::post_hook(http, url, SECRET, body).await == 200
}

/// Runs of the flow that ended, by the daemon's counter (Prometheus prints
/// counters as floats).
fn finished_runs(metrics: &str) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with("lanyard_runs_total{") && l.contains(&format!("flow=\"{FLOW}\"")))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .map(|n| n as u64)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_under_load_loses_nothing_acknowledged_and_runs_nothing_twice() {
    let started = Instant::now();
    let org = SandboxOrg::new(SandboxConfig::default(), Arc::new(lanyard_core::SystemClock));
    let okta = RunningSandbox::start(org.clone()).await.unwrap();
    org.start_recording();
    let slack = SlackStandIn::start(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap(), SlackConfig::default()).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let extra = support::okta_and_slack(&okta.base_url, &org.service_token(), &slack.api_base_url(), WORKERS);
    // Compiled cards are kept across test runs: the first start of a fresh
    // cache compiles every built-in card.
    let config = support::Setup {
        flow_file: "crash-offboard.yaml",
        flow_yaml: FLOW_YAML,
        data: Path::new("data"),
        cache: "crash-card-cache",
        admin: ADMIN,
        secret: SECRET,
        server: "",
        extra: &extra,
    }
    .write(dir.path());

    // One event per active user, each its own delivery batch member.
    let users = support::active_users(&org, EVENTS);
    let events: Vec<Value> = users
        .iter()
        .enumerate()
        .map(|(i, (id, login))| support::deactivate_event(&format!("crash-{i:04}-{}", std::process::id()), id, login, i))
        .collect();
    let uuids: Vec<String> = events.iter().map(|e| e["uuid"].as_str().unwrap().to_string()).collect();
    let deliveries: Vec<Vec<u8>> = events.chunks(BATCH).enumerate().map(|(n, c)| delivery(c, n)).collect();

    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let mut daemon = Daemon::start(&config, "warn");
    wait_ready(&http, &daemon).await;
    let first_ready = started.elapsed();

    // Load, then kill -9 once enough is acknowledged.
    let acked: Arc<Mutex<BTreeSet<usize>>> = Arc::default();
    let acked_count = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let next = Arc::new(AtomicUsize::new(0));
    let deliveries = Arc::new(deliveries);
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        let (http, url, deliveries, next, acked, acked_count, killed) =
            (http.clone(), daemon.url.clone(), deliveries.clone(), next.clone(), acked.clone(), acked_count.clone(), killed.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= deliveries.len() || killed.load(Ordering::SeqCst) {
                    return;
                }
                if post_delivery(&http, &url, &deliveries[n]).await {
                    acked.lock().unwrap().insert(n);
                    acked_count.fetch_add(1, Ordering::SeqCst);
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked_count.load(Ordering::SeqCst) < KILL_AFTER_ACKED {
        assert!(Instant::now() < deadline, "deliveries were not acknowledged:\n{}", daemon.logs());
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let metrics = http.get(format!("{}/metrics", daemon.url)).send().await.unwrap().text().await.unwrap();
    let finished_before_kill = finished_runs(&metrics);
    daemon.kill_9();
    killed.store(true, Ordering::SeqCst);
    for s in senders {
        s.await.unwrap();
    }
    let acked_before_kill: BTreeSet<usize> = acked.lock().unwrap().clone();
    let acked_events_before_kill: usize = acked_before_kill.iter().map(|n| events.chunks(BATCH).nth(*n).map_or(0, <[Value]>::len)).sum();
    assert!(
        (finished_before_kill as usize) < acked_events_before_kill,
        "the kill should land while acknowledged events still have runs to finish ({finished_before_kill} finished of {acked_events_before_kill})"
    );
    let posts_at_kill = slack.posted().len();

    // Start again on the same data directory; Okta redelivers what was not
    // acknowledged, and (at least once) a few deliveries that were.
    let daemon = Daemon::start(&config, "warn");
    wait_ready(&http, &daemon).await;
    let mut redelivered = 0;
    for (n, body) in deliveries.iter().enumerate() {
        let again = !acked_before_kill.contains(&n) || n % 5 == 0;
        if again {
            assert!(post_delivery(&http, &daemon.url, body).await, "redelivery {n} refused:\n{}", daemon.logs());
            redelivered += 1;
        }
    }

    // Wait until every event's run has finished.
    let deadline = Instant::now() + Duration::from_secs(60);
    let all = loop {
        let all = support::runs(&http, &daemon.url, ADMIN, FLOW).await;
        let done = all.iter().filter(|r| !matches!(r["status"].as_str(), Some("queued" | "running"))).count();
        if done >= EVENTS && done == all.len() {
            break all;
        }
        assert!(Instant::now() < deadline, "{done} of {EVENTS} runs finished in time:\n{}", daemon.logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };

    // Exactly one completed run per event.
    let mut by_event: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for r in &all {
        let uuid = r["trigger"]["event_uuid"].as_str().expect("an okta trigger names its event").to_string();
        by_event.entry(uuid).or_default().push(r);
    }
    let lost: Vec<&String> = uuids.iter().filter(|u| !by_event.contains_key(*u)).collect();
    let twice: Vec<(&String, usize)> = by_event.iter().filter(|(_, v)| v.len() > 1).map(|(k, v)| (k, v.len())).collect();
    let not_ok: Vec<(&str, &str)> = all
        .iter()
        .filter(|r| r["status"] != "succeeded")
        .map(|r| (r["id"].as_str().unwrap_or(""), r["status"].as_str().unwrap_or("")))
        .collect();
    assert!(lost.is_empty(), "events with no run: {lost:?}");
    assert!(twice.is_empty(), "events with more than one run: {twice:?}");
    assert_eq!(all.len(), EVENTS);
    assert!(not_ok.is_empty(), "runs that did not succeed: {not_ok:?}\n{}", daemon.logs());

    // Side effects: Slack posts per run, Okta profile writes per user.
    let run_ids: BTreeSet<&str> = all.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut posts_per_run: BTreeMap<String, usize> = BTreeMap::new();
    for p in slack.posted() {
        let text = p.text().unwrap_or_default();
        let run = text.split("run=").nth(1).and_then(|s| s.split_whitespace().next()).unwrap_or_default().to_string();
        *posts_per_run.entry(run).or_default() += 1;
    }
    let posted_runs: BTreeSet<&str> = posts_per_run.keys().map(String::as_str).collect();
    assert_eq!(posted_runs, run_ids, "every run posted, and only runs of this test");
    let repeated_posts: usize = posts_per_run.values().map(|n| n - 1).sum();
    let user_ids: BTreeSet<&str> = users.iter().map(|(id, _)| id.as_str()).collect();
    let mut writes_per_user: BTreeMap<String, usize> = BTreeMap::new();
    for ex in org.take_recording() {
        let Some(id) = ex.path.strip_prefix("/api/v1/users/") else { continue };
        if ex.method == "POST" && user_ids.contains(id) && (200..300).contains(&ex.status) {
            *writes_per_user.entry(id.to_string()).or_default() += 1;
        }
    }
    assert_eq!(writes_per_user.len(), EVENTS, "every user's profile was written");
    let repeated_writes: usize = writes_per_user.values().map(|n| n - 1).sum();
    eprintln!(
        "crash test: {EVENTS} events in {} deliveries; {} deliveries ({acked_events_before_kill} events) acknowledged before kill -9, {finished_before_kill} runs finished by then, {posts_at_kill} Slack posts; \
         {redelivered} deliveries sent again after restart; {} runs, one per event, all succeeded; repeated side effects: {repeated_posts} Slack posts, {repeated_writes} Okta writes; \
         first start ready in {:.2}s, whole test {:.1}s",
        deliveries.len(),
        acked_before_kill.len(),
        all.len(),
        first_ready.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
    assert!(
        repeated_posts + repeated_writes <= WORKERS,
        "only a step in flight at the kill may repeat (at most one per worker): {repeated_posts} posts, {repeated_writes} writes"
    );
}
