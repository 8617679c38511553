//! A full disk under the real daemon: `lanyard serve` with its data directory
//! on a small tmpfs (see `lanyard_store::testing`; root, or a user namespace).
//!
//! - While the disk is full, hooks answer 503 (Okta retries) and `/readyz`
//!   answers 503 with the reason; once space returns, without a restart,
//!   hooks are accepted again, and every acknowledged event gets exactly one
//!   run, which succeeds, within a bound.
//! - SIGTERM while the disk is full: the final flush fails, and the daemon
//!   says so and exits non-zero.

mod support;

use lanyard_store::testing::{Tmpfs, with_mount_rights};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};
use support::{Daemon, Setup};

const FLOW: &str = "disk-echo";
const SECRET: &str = "disk-hook-secret";
const ADMIN: &str = "disk-admin-token";

/// Start the daemon with its data directory at `data` and the rest in `dir`.
fn serve(dir: &Path, data: &Path) -> Daemon {
    let setup = Setup {
        flow_file: "disk-echo.yaml",
        flow_yaml: &support::echo_flow(FLOW, "Disk-full test"),
        data,
        cache: "disk-full-card-cache",
        admin: ADMIN,
        secret: SECRET,
        server: "",
        extra: "",
    };
    Daemon::start(&setup.write(dir), "warn,lanyard_store=info,lanyard_server=info")
}

/// Run a test's body on a runtime of its own (inside `with_mount_rights`).
fn block_on(test: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap().block_on(test)
}

fn event(uuid: &str, i: usize) -> Value {
    json!({
        "uuid": uuid, "published": format!("2026-11-28T10:{:02}:{:02}.000Z", i / 60 % 60, i % 60),
        "eventType": "user.lifecycle.deactivate", "version": "0", "severity": "INFO",
        "displayMessage": "Deactivate Okta user",
        "actor": {"id": "00uadmin0000000000001", "type": "User", "alternateId": "it-admin@acme.example", "displayName": "IT Admin"},
        "client": {"ipAddress": "203.0.113.10"}, "outcome": {"result": "SUCCESS"},
        "target": [{"id": format!("00udisk{i:06}"), "type": "User", "alternateId": format!("user{i}@acme.example"), "displayName": format!("User {i}")}],
        "transaction": {"type": "WEB", "id": format!("tx{i}"), "detail": {}}, "debugContext": {"debugData": {}}
    })
}

/// A delivery of two events, `2n` and `2n + 1`, as Okta sends it.
fn delivery(n: usize) -> (Vec<String>, Vec<u8>) {
    let uuids: Vec<String> = (2 * n..2 * n + 2).map(|i| format!("disk-{i:05}-{}", std::process::id())).collect();
    let events: Vec<Value> = uuids.iter().enumerate().map(|(k, u)| event(u, 2 * n + k)).collect();
    (uuids, support::hook_delivery(&events, n, "whodisk", "2026-11-28T10:00:00.000Z"))
}

async fn post(http: &reqwest::Client, url: &str, body: &[u8]) -> u16 {
    support::post_hook(http, url, SECRET, body).await
}

async fn readyz(http: &reqwest::Client, url: &str) -> (u16, Value) {
    let r = http.get(format!("{url}/readyz")).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn wait_ready(http: &reqwest::Client, d: &Daemon, within: Duration) {
    let deadline = Instant::now() + within;
    while readyz(http, &d.url).await.0 != 200 {
        assert!(Instant::now() < deadline, "lanyard was not ready within {within:?}:\n{}", d.logs());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn runs_by_event(http: &reqwest::Client, url: &str) -> BTreeMap<String, Vec<String>> {
    support::runs_by_event(http, url, ADMIN, FLOW).await
}

#[test]
fn a_full_disk_pauses_hooks_and_runs_which_resume_without_a_restart_once_space_returns() {
    with_mount_rights("a_full_disk_pauses_hooks_and_runs_which_resume_without_a_restart_once_space_returns", || {
        block_on(pauses_and_resumes())
    });
}

/// A ready daemon whose data directory is on a 24 MiB tmpfs.
async fn on_tmpfs() -> (Tmpfs, tempfile::TempDir, Daemon, reqwest::Client) {
    let disk = Tmpfs::mount(24);
    let dir = tempfile::tempdir().unwrap();
    let d = serve(dir.path(), &disk.path().join("data"));
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    wait_ready(&http, &d, Duration::from_secs(120)).await;
    (disk, dir, d, http)
}

async fn pauses_and_resumes() {
    let (disk, _dir, d, http) = on_tmpfs().await;

    let mut acked: Vec<String> = Vec::new();
    let mut n = 0;
    for _ in 0..5 {
        let (uuids, body) = delivery(n);
        n += 1;
        assert_eq!(post(&http, &d.url, &body).await, 200, "{}", d.logs());
        acked.extend(uuids);
    }

    // Full: hooks are refused (Okta retries them) once the store fails.
    disk.fill();
    let mut refused: Vec<(Vec<String>, Vec<u8>)> = Vec::new();
    for _ in 0..2000 {
        let (uuids, body) = delivery(n);
        n += 1;
        match post(&http, &d.url, &body).await {
            200 => acked.extend(uuids),
            503 => {
                refused.push((uuids, body));
                if refused.len() == 3 {
                    break;
                }
            }
            other => panic!("a hook on a full disk answered {other}:\n{}", d.logs()),
        }
    }
    assert_eq!(refused.len(), 3, "hooks were still accepted on a full disk:\n{}", d.logs());
    let (status, body) = readyz(&http, &d.url).await;
    assert_eq!(status, 503, "readiness reports the store that cannot write: {body}");
    let reason = body["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("the store cannot write since ") && reason.contains("No space left on device"),
        "the reason says why: {body}"
    );
    let metrics = http.get(format!("{}/metrics", d.url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("lanyard_store_writable 0"), "{metrics}");
    assert!(!metrics.contains("lanyard_store_failing_since_seconds 0\n"), "{metrics}");

    // Space returns: no restart, the daemon takes hooks again by itself.
    disk.free();
    wait_ready(&http, &d, Duration::from_secs(30)).await;
    for (uuids, body) in &refused {
        // Okta's retry of what was refused.
        assert_eq!(post(&http, &d.url, body).await, 200, "{}", d.logs());
        acked.extend(uuids.iter().cloned());
    }
    for _ in 0..3 {
        let (uuids, body) = delivery(n);
        n += 1;
        assert_eq!(post(&http, &d.url, &body).await, 200, "{}", d.logs());
        acked.extend(uuids);
    }

    // Every acknowledged event gets exactly one run, which succeeds.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let runs = runs_by_event(&http, &d.url).await;
        let done = acked.iter().all(|u| runs.get(u).is_some_and(|s| s.iter().all(|s| s == "succeeded")));
        if done {
            for u in &acked {
                assert_eq!(runs[u].len(), 1, "event {u} ran {} times", runs[u].len());
            }
            let extra: Vec<&String> = runs.keys().filter(|u| !acked.contains(u)).collect();
            for u in extra {
                // A refused delivery may have reached the disk before its
                // flush failed: then it runs once too, and its retry is a duplicate.
                assert_eq!(runs[u].len(), 1, "event {u} ran {} times", runs[u].len());
            }
            break;
        }
        assert!(
            Instant::now() < deadline,
            "runs did not all succeed within 60 s of space returning: {:?}\n{}",
            acked.iter().filter(|u| !runs.get(*u).is_some_and(|s| s.iter().all(|s| s == "succeeded"))).map(|u| (u, runs.get(u))).collect::<Vec<_>>(),
            d.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("{} events acknowledged, each ran once", acked.len());
}

#[test]
fn sigterm_on_a_full_disk_exits_non_zero_when_the_final_flush_fails() {
    with_mount_rights("sigterm_on_a_full_disk_exits_non_zero_when_the_final_flush_fails", || {
        block_on(sigterm_on_a_full_disk())
    });
}

async fn sigterm_on_a_full_disk() {
    let (disk, _dir, mut d, http) = on_tmpfs().await;
    disk.fill();
    let mut n = 0;
    loop {
        let (_, body) = delivery(n);
        n += 1;
        if post(&http, &d.url, &body).await == 503 {
            break;
        }
        assert!(n < 2000, "hooks were still accepted on a full disk:\n{}", d.logs());
    }
    // The store keeps failing on the full disk (it tries to reopen, with
    // backoff: 50, 100, 200, 400 ms...), so the final flush cannot succeed.
    let until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < until {
        let (status, body) = readyz(&http, &d.url).await;
        assert_eq!(status, 503, "the store cannot write while the disk is full: {body}\n{}", d.logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = d.terminate();
    assert!(!status.success(), "lanyard exited {status} although its final flush failed:\n{}", d.logs());
    let logs = d.logs();
    assert!(
        logs.contains("error: lanyard stopped, but its final flush of the data directory") && logs.contains("No space left on device"),
        "lanyard says why it failed:\n{logs}"
    );
}
