//! Reload, graceful shutdown, and resuming after an interruption.

use crate::support::*;
use lanyard_core::history::{RunStatus, TriggerInfo};
use lanyard_server::{IntakeError, StartError, StartOptions};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

/// A tiny HTTP service for the `local` connection: counts requests by path;
/// `/block` waits until released.
#[derive(Clone, Default)]
struct Local {
    hits: Arc<Mutex<HashMap<String, usize>>>,
    released: Arc<std::sync::atomic::AtomicBool>,
    release: Arc<Notify>,
    hit: Arc<Notify>,
}

impl Local {
    async fn start(&self) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                let me = me.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut got = Vec::new();
                    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                        let Ok(n) = sock.read(&mut buf).await else { return };
                        if n == 0 {
                            return;
                        }
                        got.extend_from_slice(&buf[..n]);
                    }
                    let head = String::from_utf8_lossy(&got).to_string();
                    let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                    *me.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
                    me.hit.notify_waiters();
                    if path == "/block" {
                        loop {
                            let wait = me.release.notified();
                            if me.released.load(std::sync::atomic::Ordering::SeqCst) {
                                break;
                            }
                            wait.await;
                        }
                    }
                    let _ = sock
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
                        .await;
                });
            }
        });
        port
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    async fn wait_hits(&self, path: &str, n: usize) {
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let wait = self.hit.notified();
                if self.hits(path) >= n {
                    return;
                }
                wait.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{path} was not called {n} times"));
    }

    fn release(&self) {
        self.released.store(true, std::sync::atomic::Ordering::SeqCst);
        self.release.notify_waiters();
    }
}

const RESUMABLE: &str = r#"
name: resumable
description: Count, then block, then answer.
trigger: manual
steps:
  - id: first
    card: http.request
    with: { connection: local, method: POST, path: "/count" }
  - id: second
    card: http.request
    with: { connection: local, method: POST, path: "/block" }
  - return: "done"
"#;

fn local_config(port: u16) -> String {
    format!(
        "[connections.local]\nbase_url = \"http://127.0.0.1:{port}\"\nallow_private = true\n[cards.\"http.request\"]\ngrants = [\"connection:local\"]\n"
    )
}

#[tokio::test]
async fn an_interrupted_run_resumes_after_its_last_completed_step() {
    let local = Local::default();
    let port = local.start().await;
    let d = daemon().flow("resumable.yaml", RESUMABLE).config(&local_config(port)).start().await;
    let started = d
        .engine
        .start_run("resumable", TriggerInfo::Manual, json!({}), StartOptions::default())
        .await
        .unwrap();
    local.wait_hits("/block", 1).await;
    // The process "dies" mid-step: the run is dropped where it is.
    d.engine.shutdown(Duration::ZERO).await;
    let dir = d.dir.clone();
    d.stop().await;

    let d = daemon().dir(dir).flow("resumable.yaml", RESUMABLE).config(&local_config(port)).start().await;
    local.release();
    let run = d.engine.wait_for_run(&started.run_id).await.unwrap();
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(run.output, Some(json!("done")));
    assert_eq!(local.hits("/count"), 1, "the completed step was not redone");
    assert_eq!(local.hits("/block"), 2, "the interrupted step ran again");
    let steps = d.engine.store().steps(&run.id).await.unwrap();
    let paths: Vec<&str> = steps.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(paths.iter().filter(|p| **p == "first").count(), 1, "{paths:?}");
    d.stop().await;
}

#[tokio::test]
async fn shutdown_stops_intake_and_lets_runs_in_flight_finish() {
    let local = Local::default();
    let port = local.start().await;
    let d = daemon().flow("resumable.yaml", RESUMABLE).config(&local_config(port)).start().await;
    let started = d
        .engine
        .start_run("resumable", TriggerInfo::Manual, json!({}), StartOptions::default())
        .await
        .unwrap();
    local.wait_hits("/block", 1).await;
    let engine = d.engine.clone();
    let stopping = tokio::spawn(async move { engine.shutdown(Duration::from_secs(60)).await });
    // Wait on the condition: shutdown has begun.
    while !d.engine.is_shutting_down() {
        tokio::task::yield_now().await;
    }
    assert!(matches!(d.engine.intake().accept(vec![], "hook").await, Err(IntakeError::ShuttingDown)));
    assert!(matches!(
        d.engine.start_run("resumable", TriggerInfo::Manual, json!({}), StartOptions::default()).await,
        Err(StartError::ShuttingDown)
    ));
    local.release();
    stopping.await.unwrap();
    let run = d.engine.store().get_run(&started.run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    d.stop().await;
}

const ONE: &str = r#"
name: one
description: The first flow.
trigger: manual
steps:
  - return: 1
"#;

#[tokio::test]
async fn reload_swaps_a_valid_set_and_keeps_the_old_one_on_errors() {
    let d = daemon().flow("one.yaml", ONE).start().await;
    std::fs::write(d.path().join("flows/two.yaml"), ONE.replace("name: one", "name: two")).unwrap();
    let (status, body) = d.admin_post("/api/v1/admin/reload", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["flows"], 2);
    assert!(d.engine.flows().get("two").is_some());

    std::fs::write(d.path().join("flows/broken.yaml"), "name: broken\ndescription: x\ntrigger: manual\nsteps:\n  - card: no.such-card\n").unwrap();
    let (status, body) = d.admin_post("/api/v1/admin/reload", None).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "invalid_flows");
    assert!(body["error"]["rendered"].as_str().unwrap().contains("broken.yaml:5:"), "{body}");
    // The old set is still in use, and says why the reload failed.
    let (_, flows) = d.admin_get("/api/v1/flows").await;
    let names: Vec<&str> = flows["flows"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["one", "two"]);
    assert!(flows["status"]["last_error"]["message"].as_str().unwrap().contains("error"));
    let ready = d.http.get(d.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    d.stop().await;
}

#[test]
fn a_run_the_store_fails_under_waits_and_resumes_once_space_returns() {
    lanyard_store::testing::with_mount_rights(
        "lifecycle::a_run_the_store_fails_under_waits_and_resumes_once_space_returns",
        || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
                .block_on(run_across_a_full_disk())
        },
    );
}

/// A run in flight when the disk fills: its next step record cannot reach the
/// disk, so it stops where it is; once space returns it resumes from its
/// journal, without a restart, and succeeds.
async fn run_across_a_full_disk() {
    let disk = lanyard_store::testing::Tmpfs::mount(24);
    let dir = Arc::new(tempfile::tempdir().unwrap());
    std::fs::create_dir(disk.path().join("data")).unwrap();
    std::os::unix::fs::symlink(disk.path().join("data"), dir.path().join("data")).unwrap();
    let local = Local::default();
    let port = local.start().await;
    let d = daemon().dir(dir).flow("resumable.yaml", RESUMABLE).config(&local_config(port)).start().await;
    let started = d
        .engine
        .start_run("resumable", TriggerInfo::Manual, json!({}), StartOptions::default())
        .await
        .unwrap();
    // The first step is on disk (flushed before the second card call).
    local.wait_hits("/block", 1).await;

    disk.fill();
    // Deliveries find the full disk (the first may still fit in a page the
    // store has): the store stops writing.
    for i in 0.. {
        let uuid = format!("disk-{i}");
        let (status, body) = d.deliver(&[event(&uuid, "user.lifecycle.deactivate", "00u1", "00uadmin", "2026-11-28T10:00:00.000Z")]).await;
        match status {
            200 => assert!(i < 2000, "deliveries are still accepted on a full disk"),
            503 => break,
            other => panic!("a delivery on a full disk answered {other}: {body}"),
        }
    }
    let ready = d.http.get(d.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    // The second step ends, and its record cannot be written.
    local.release();
    let mut finished = d.engine.subscribe_finished();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(finished.try_recv().is_err(), "the run did not end on a step it could not record");

    disk.free();
    let run = tokio::time::timeout(Duration::from_secs(60), async {
        lanyard_store::wait_writable(&**d.engine.store()).await;
        d.engine.wait_for_run(&started.run_id).await
    })
    .await
    .expect("the run ends within 60 s of space returning, without a restart")
    .unwrap();
    assert_eq!(run.status, RunStatus::Succeeded, "{run:?}");
    assert_eq!(run.output, Some(json!("done")));
    assert_eq!(local.hits("/count"), 1, "the durable step was not redone");
    assert_eq!(local.hits("/block"), 2, "the step whose record was lost ran again");
    d.stop().await;
}
