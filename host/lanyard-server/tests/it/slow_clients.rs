//! Slow and idle clients: a low `[server] max_connections` filled with silent
//! connections and stalled request bodies still leaves room for Okta's
//! deliveries and for health checks, and what stalls is cut off in time.

use crate::support::*;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Generous: these bound "does not hang", on a loaded machine.
const PATIENCE: Duration = Duration::from_secs(15);

/// A hook delivery that sends its head (with the secret) and a few bytes of
/// its body, then nothing. Returns once the server is reading the body (it
/// answered `100 Continue`): the connection is held as a busy request.
async fn stalled_body(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /hooks/okta HTTP/1.1\r\nhost: lanyard\r\nauthorization: {HOOK}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\nexpect: 100-continue\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let answer = tokio::time::timeout(PATIENCE, read_until(&mut s, "\r\n\r\n")).await.expect("an answer to the head");
    assert!(answer.starts_with("HTTP/1.1 100 Continue"), "{answer}");
    s.write_all(b"{\"eventType\": \"com.okta").await.unwrap();
    s
}

/// What the server sends until `end` appears (or it closes).
async fn read_until(s: &mut TcpStream, end: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&got).contains(end) {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Whether the server has closed `s` (or closes it within `wait`).
async fn closed_within(s: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 64];
    matches!(tokio::time::timeout(wait, s.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
}

fn still_open(s: &TcpStream) -> bool {
    let mut buf = [0u8; 8];
    matches!(s.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

fn suspension(uuid: &str) -> Vec<Value> {
    vec![event(uuid, "user.lifecycle.suspend", "00u1", "00uh", "2026-01-05T10:00:00Z")]
}

#[tokio::test]
async fn silent_connections_past_the_cap_make_room_for_deliveries() {
    let d = daemon()
        .flow("flow.yaml", ANY_SUSPEND)
        .server("max_connections = 8\nreserved_connections = 2\nidle_timeout = \"60s\"\nbody_timeout = \"60s\"")
        .start()
        .await;
    let mut stalled = Vec::new();
    for _ in 0..4 {
        stalled.push(stalled_body(d.addr).await);
    }
    // Twice as many silent connections as the cap has room for.
    let mut silent = Vec::new();
    for _ in 0..12 {
        silent.push(TcpStream::connect(d.addr).await.unwrap());
    }
    let delivery = tokio::time::timeout(PATIENCE, d.deliver(&suspension("through-1"))).await.expect("the delivery was answered");
    assert_eq!(delivery.0, 200, "{delivery:?}");
    let health = tokio::time::timeout(PATIENCE, d.http.get(d.url("/healthz")).send()).await.expect("healthz answered").unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(d.wait_for_runs("any-suspend", 1).await[0].output.as_ref().unwrap(), "through-1");

    // 16 connections for 8 places: the silent ones went, oldest first, long
    // before their idle timeout; the busy ones stayed.
    let mut closed = 0;
    for s in &mut silent[..8] {
        closed += closed_within(s, Duration::from_secs(3)).await as usize;
    }
    assert_eq!(closed, 8, "the 8 oldest silent connections were closed to make room");
    for s in &stalled {
        assert!(still_open(s), "a connection in the middle of a request was closed");
    }
    // Hung up, so that shutdown does not wait for them.
    drop((stalled, silent));
    d.stop().await;
}

#[tokio::test]
async fn stalled_bodies_leave_room_for_health_checks_and_end_in_408() {
    let d = daemon()
        .flow("flow.yaml", ANY_SUSPEND)
        .server("max_connections = 4\nreserved_connections = 2\nidle_timeout = \"60s\"\nbody_timeout = \"2s\"")
        .start()
        .await;
    let started = tokio::time::Instant::now();
    let mut stalled = Vec::new();
    for _ in 0..4 {
        stalled.push(stalled_body(d.addr).await);
    }
    // Every place is busy: the reserve serves health checks and the admin
    // API, and sends deliveries away to come back.
    let health = d.http.get(d.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["connection"], "close", "the reserve is not kept alive");
    let (status, _) = d.admin_get("/api/v1/runs").await;
    assert_eq!(status, 200);
    let (status, body) = d.deliver(&suspension("too-soon")).await;
    assert_eq!((status, body["error"]["code"].as_str()), (503, Some("busy")), "{body}");

    // The stalled bodies are cut off after body_timeout, with a 408.
    for s in &mut stalled {
        let answer = tokio::time::timeout(PATIENCE, read_until(s, "body_timeout")).await.expect("the stalled body was cut off");
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(closed_within(s, PATIENCE).await, "the connection is closed after the 408");
    }
    assert!(started.elapsed() >= Duration::from_secs(2), "not before body_timeout");
    let (status, body) = d.deliver(&suspension("after")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(d.wait_for_runs("any-suspend", 1).await[0].output.as_ref().unwrap(), "after");
    d.stop().await;
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed_after_idle_timeout() {
    let d = daemon().server("idle_timeout = \"1s\"").start().await;
    let mut s = TcpStream::connect(d.addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: lanyard\r\n\r\n").await.unwrap();
    let answer = tokio::time::timeout(PATIENCE, read_until(&mut s, "\"ok\"}")).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Kept alive, then closed once idle for a second (well before hyper's
    // default of 30 s, or the 10 s this daemon used before).
    assert!(closed_within(&mut s, Duration::from_secs(6)).await, "the idle connection is still open");
    d.stop().await;
}
