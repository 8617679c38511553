//! Soak test: sustained Okta Event Hook load on the real daemon while, in
//! turn, it is killed with `kill -9` and started again, its disk fills up and
//! empties, and slow clients hold connections open. At the end every event
//! must have exactly one run, and every run must have succeeded: none lost,
//! none run twice.
//!
//! ```sh
//! # the suite runs it briefly (45 s); a longer soak, with a report:
//! LANYARD_SOAK_SECS=1800 cargo test -p lanyard --release --test soak -- --nocapture
//! ```
//!
//! Settings (environment): `LANYARD_SOAK_SECS` (how long the load and the
//! trouble last, default 45), `LANYARD_SOAK_RATE` (events a second, default
//! 150), `LANYARD_SOAK_PERIOD` (seconds between two kinds of trouble, default
//! 7), `LANYARD_SOAK_DISK_MIB` (the data directory's tmpfs, default 768; the
//! report says how much the data directory took, so raise it for long soaks).
//!
//! The world: the daemon (`lanyard serve`, the binary) with its data directory
//! on a small tmpfs (`lanyard_store::testing`: root, or a user namespace), a
//! flow of two card calls per deactivated user, and senders that act as Okta
//! does — a delivery that is not answered 200 is sent again until it is, and
//! some that were answered are sent again anyway (at-least-once). The
//! trouble, one after the other, round and round:
//!
//! - `kill -9`, then a start on the same data directory;
//! - a full disk for a few seconds (hooks are refused with 503 meanwhile), then
//!   space again: the daemon must take hooks again by itself, no restart;
//! - slow clients: more connections than the daemon serves, half of them
//!   silent, half stalled in the middle of a hook's body; deliveries must
//!   still be acknowledged meanwhile, or at the latest once the stalled bodies
//!   time out.

mod support;

use lanyard_store::testing::{Tmpfs, with_mount_rights};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use support::{Daemon, Setup};
use tokio::io::AsyncWriteExt;

const FLOW: &str = "soak-echo";
const SECRET: &str = "soak-hook-secret";
const ADMIN: &str = "soak-admin-token";
const EVENTS_PER_DELIVERY: usize = 2;
const SENDERS: usize = 4;
/// The daemon's connection cap in this test (small, so slow clients can fill it).
const MAX_CONNECTIONS: usize = 48;
const BODY_TIMEOUT_SECS: u64 = 2;
/// How long any trouble may keep the daemon from being ready afterwards.
const RECOVERY: Duration = Duration::from_secs(60);

fn setting(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?}: expected a whole number")),
        Err(_) => default,
    }
}

#[test]
fn sustained_load_with_kill_9_full_disks_and_slow_clients_loses_nothing_and_runs_nothing_twice() {
    with_mount_rights(
        "sustained_load_with_kill_9_full_disks_and_slow_clients_loses_nothing_and_runs_nothing_twice",
        || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
                .block_on(soak())
        },
    );
}

/// The deliveries, by number, and what became of them.
#[derive(Default)]
struct Book {
    /// Deliveries made so far.
    made: usize,
    /// Not yet answered 200 (sent again first), or answered and due to be sent
    /// once more (Okta's at-least-once).
    again: VecDeque<usize>,
    acked: Vec<bool>,
}

struct World {
    url: RwLock<String>,
    book: Mutex<Book>,
    http: reqwest::Client,
    stop: AtomicBool,
    acked_events: AtomicUsize,
    refused_503: AtomicU64,
    not_answered: AtomicU64,
    resent_after_ack: AtomicU64,
    pid: u32,
}

impl World {
    fn url(&self) -> String {
        self.url.read().unwrap().clone()
    }

    fn uuid(&self, event: usize) -> String {
        format!("soak-{event:07}-{}", self.pid)
    }

    /// The next delivery to send: one to send again, else a new one.
    fn next(&self) -> usize {
        let mut book = self.book.lock().unwrap();
        if let Some(n) = book.again.pop_front() {
            return n;
        }
        let n = book.made;
        book.made += 1;
        book.acked.push(false);
        n
    }

    fn answered(&self, n: usize, status: u16) {
        let mut book = self.book.lock().unwrap();
        match status {
            200 => {
                if !book.acked[n] {
                    book.acked[n] = true;
                    self.acked_events.fetch_add(EVENTS_PER_DELIVERY, Ordering::Relaxed);
                    // Okta delivers at least once: every tenth is sent again.
                    if n % 10 == 3 {
                        book.again.push_back(n);
                        self.resent_after_ack.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            other => {
                if other == 503 {
                    self.refused_503.fetch_add(1, Ordering::Relaxed);
                } else {
                    self.not_answered.fetch_add(1, Ordering::Relaxed);
                }
                if !book.acked[n] {
                    book.again.push_back(n);
                }
            }
        }
    }

    fn delivery(&self, n: usize) -> Vec<u8> {
        let events: Vec<Value> = (n * EVENTS_PER_DELIVERY..(n + 1) * EVENTS_PER_DELIVERY)
            .map(|i| {
                json!({
                    "uuid": self.uuid(i), "published": published(i), "eventType": "user.lifecycle.deactivate",
                    "version": "0", "severity": "INFO", "displayMessage": "Deactivate Okta user",
                    "actor": {"id": "00uadmin0000000000001", "type": "User", "alternateId": "it-admin@acme.example", "displayName": "IT Admin"},
                    "client": {"ipAddress": "203.0.113.10"}, "outcome": {"result": "SUCCESS"},
                    // A few hundred users, so runs about one user queue behind each other.
                    "target": [{"id": format!("00usoak{:06}", i % 389), "type": "User", "alternateId": format!("user{}@acme.example", i % 389), "displayName": "A User"}],
                    "transaction": {"type": "WEB", "id": format!("tx{i}"), "detail": {}}, "debugContext": {"debugData": {}}
                })
            })
            .collect();
        support::hook_delivery(&events, n, "whosoak", &published(n * EVENTS_PER_DELIVERY))
    }

    async fn post(&self, n: usize) -> u16 {
        support::post_hook(&self.http, &self.url(), SECRET, &self.delivery(n)).await
    }
}

/// Distinct, increasing `published` times, a tenth of a second apart.
fn published(i: usize) -> String {
    support::rfc3339_millis(1_795_000_000_000 + 100 * i as u64)
}

fn write_config(dir: &Path, data: &Path) -> std::path::PathBuf {
    let server = format!(
        "max_connections = {MAX_CONNECTIONS}\nreserved_connections = 8\nidle_timeout = \"2s\"\nbody_timeout = \"{BODY_TIMEOUT_SECS}s\"\n"
    );
    Setup {
        flow_file: "soak-echo.yaml",
        flow_yaml: &support::echo_flow(FLOW, "Soak test"),
        data,
        cache: "soak-card-cache",
        admin: ADMIN,
        secret: SECRET,
        server: &server,
        extra: "[workers]\nconcurrency = 8\n",
    }
    .write(dir)
}

async fn ready(http: &reqwest::Client, url: &str) -> bool {
    matches!(http.get(format!("{url}/readyz")).send().await, Ok(r) if r.status().is_success())
}

/// Wait until the daemon is ready; how long that took.
async fn wait_ready(world: &World, d: &Daemon, what: &str) -> Duration {
    let start = Instant::now();
    while !ready(&world.http, &d.url).await {
        assert!(start.elapsed() < RECOVERY, "lanyard was not ready within {RECOVERY:?} after {what}:\n{}", tail(&d.logs()));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

/// Bytes in the files under `dir`.
fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            _ => e.metadata().map_or(0, |m| m.len()),
        })
        .sum()
}

/// The end of a long log.
fn tail(logs: &str) -> String {
    let lines: Vec<&str> = logs.lines().collect();
    lines[lines.len().saturating_sub(80)..].join("\n")
}

/// Slow clients for `hold`: `n` connections, half silent, half stalled in a
/// hook's body. Returns how many of them the daemon let connect.
async fn slow_clients(url: &str, n: usize, hold: Duration) -> usize {
    let addr = url.trim_start_matches("http://").to_string();
    let mut held = Vec::new();
    for i in 0..n {
        let Ok(Ok(mut s)) = tokio::time::timeout(Duration::from_secs(2), tokio::net::TcpStream::connect(&addr)).await else {
            continue;
        };
        if i % 2 == 1 {
            let head = format!(
                "POST /hooks/okta HTTP/1.1\r\nhost: {addr}\r\nauthorization: {SECRET}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{{\"eventType\":"
            );
            let _ = s.write_all(head.as_bytes()).await;
        }
        held.push(s);
    }
    tokio::time::sleep(hold).await;
    held.len()
}

#[derive(Default)]
struct Trouble {
    kills: u32,
    full_disks: u32,
    slow_windows: u32,
    slow_connections: usize,
    acked_during_slow: usize,
    /// Longest time to ready after each kind of trouble.
    restart_ready: Duration,
    disk_ready: Duration,
}

async fn soak() {
    let secs = setting("LANYARD_SOAK_SECS", 45);
    let rate = setting("LANYARD_SOAK_RATE", 150).max(1);
    let period = Duration::from_secs(setting("LANYARD_SOAK_PERIOD", 7).max(2));
    let disk_mib = setting("LANYARD_SOAK_DISK_MIB", 768) as u32;
    let started = Instant::now();

    let disk = Tmpfs::mount(disk_mib);
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &disk.path().join("data"));
    let mut daemon = Daemon::start(&config, "warn");
    let world = Arc::new(World {
        url: RwLock::new(daemon.url.clone()),
        book: Mutex::new(Book::default()),
        http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap(),
        stop: AtomicBool::new(false),
        acked_events: AtomicUsize::new(0),
        refused_503: AtomicU64::new(0),
        not_answered: AtomicU64::new(0),
        resent_after_ack: AtomicU64::new(0),
        pid: std::process::id(),
    });
    let first_ready = wait_ready(&world, &daemon, "the first start").await;
    let load_started = Instant::now();

    // The load: each sender paces itself to its share of the rate.
    let per_sender = Duration::from_secs_f64(SENDERS as f64 * EVENTS_PER_DELIVERY as f64 / rate as f64);
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        let world = world.clone();
        senders.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(per_sender);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while !world.stop.load(Ordering::Relaxed) {
                tick.tick().await;
                let n = world.next();
                let status = world.post(n).await;
                world.answered(n, status);
                if status != 200 {
                    // Okta backs off too; don't spin on a daemon that is down.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }));
    }

    // The trouble, round and round until the time is up. The time counts
    // from the first start being ready: that start compiles every built-in
    // card, which on a busy machine (a cold build beside it) took 21 s of
    // the 45 and left too little time for one round of each trouble.
    let mut trouble = Trouble::default();
    let end = load_started + Duration::from_secs(secs);
    let mut round = 0u32;
    while Instant::now() + period < end {
        tokio::time::sleep(period).await;
        match round % 3 {
            0 => {
                let killed = Instant::now();
                daemon.kill_9();
                trouble.kills += 1;
                daemon = Daemon::start(&config, "warn");
                *world.url.write().unwrap() = daemon.url.clone();
                wait_ready(&world, &daemon, "kill -9 and a start").await;
                trouble.restart_ready = trouble.restart_ready.max(killed.elapsed());
            }
            1 => {
                let refused_before = world.refused_503.load(Ordering::Relaxed);
                disk.fill();
                tokio::time::sleep(Duration::from_secs(3)).await;
                disk.free();
                trouble.full_disks += 1;
                trouble.disk_ready = trouble.disk_ready.max(wait_ready(&world, &daemon, "space came back").await);
                assert!(
                    world.refused_503.load(Ordering::Relaxed) > refused_before,
                    "no hook was refused while the disk was full: the fill did not reach the store\n{}",
                    tail(&daemon.logs())
                );
            }
            _ => {
                let acked_before = world.acked_events.load(Ordering::Relaxed);
                let hold = Duration::from_secs(BODY_TIMEOUT_SECS + 2);
                trouble.slow_connections += slow_clients(&daemon.url, MAX_CONNECTIONS + 40, hold).await;
                trouble.slow_windows += 1;
                let acked = world.acked_events.load(Ordering::Relaxed) - acked_before;
                assert!(acked > 0, "no delivery was acknowledged while slow clients held connections\n{}", tail(&daemon.logs()));
                trouble.acked_during_slow += acked;
            }
        }
        round += 1;
    }
    let remaining = end.saturating_duration_since(Instant::now());
    tokio::time::sleep(remaining).await;
    world.stop.store(true, Ordering::Relaxed);
    for s in senders {
        s.await.unwrap();
    }
    let load_time = load_started.elapsed();

    // What was never acknowledged is sent until it is, as Okta would.
    let deadline = Instant::now() + RECOVERY;
    loop {
        let next = world.book.lock().unwrap().again.pop_front();
        let Some(n) = next else { break };
        let status = world.post(n).await;
        world.answered(n, status);
        assert!(Instant::now() < deadline, "deliveries were still refused after the trouble ended\n{}", tail(&daemon.logs()));
    }
    let made = world.book.lock().unwrap().made;
    let events = made * EVENTS_PER_DELIVERY;
    assert!(world.book.lock().unwrap().acked.iter().all(|a| *a));

    // Every event gets exactly one run, which succeeds.
    let uuids: Vec<String> = (0..events).map(|i| world.uuid(i)).collect();
    let deadline = Instant::now() + Duration::from_secs(180);
    let runs = loop {
        let runs = support::runs_by_event(&world.http, &daemon.url, ADMIN, FLOW).await;
        let finished = runs.values().flatten().filter(|s| !matches!(s.as_str(), "queued" | "running")).count();
        let all_there = uuids.iter().all(|u| runs.contains_key(u));
        if all_there && finished == runs.values().map(Vec::len).sum::<usize>() {
            break runs;
        }
        assert!(
            Instant::now() < deadline,
            "runs did not all finish within 180 s of the load's end ({finished} finished, {} of {events} events have a run)\n{}",
            uuids.iter().filter(|u| runs.contains_key(*u)).count(),
            tail(&daemon.logs())
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let lost: Vec<&String> = uuids.iter().filter(|u| !runs.contains_key(*u)).collect();
    let twice: Vec<(&String, usize)> = runs.iter().filter(|(_, v)| v.len() > 1).map(|(k, v)| (k, v.len())).collect();
    let not_ok: Vec<(&String, &Vec<String>)> = runs.iter().filter(|(_, v)| v.iter().any(|s| s != "succeeded")).collect();
    let strangers: Vec<&String> = runs.keys().filter(|u| !u.starts_with("soak-")).collect();

    eprintln!(
        "soak: {:.0} s of load at {rate} events/s: {made} deliveries, {events} events, all acknowledged ({} were sent again after a 503 or no answer, {} sent again after a 200); \
         trouble: {} kill -9 (ready again in at most {:.1} s after the kill), {} full disks (hooks refused 503: {}; ready again in at most {:.1} s once space returned), \
         {} slow-client windows ({} connections held; {} events acknowledged meanwhile); \
         runs: {}, lost {}, duplicated {}, not succeeded {}; data directory {} MiB; first start ready in {:.1} s, whole test {:.0} s",
        load_time.as_secs_f64(),
        world.refused_503.load(Ordering::Relaxed) + world.not_answered.load(Ordering::Relaxed),
        world.resent_after_ack.load(Ordering::Relaxed),
        trouble.kills,
        trouble.restart_ready.as_secs_f64(),
        trouble.full_disks,
        world.refused_503.load(Ordering::Relaxed),
        trouble.disk_ready.as_secs_f64(),
        trouble.slow_windows,
        trouble.slow_connections,
        trouble.acked_during_slow,
        runs.values().map(Vec::len).sum::<usize>(),
        lost.len(),
        twice.len(),
        not_ok.len(),
        dir_size(&disk.path().join("data")) >> 20,
        first_ready.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
    assert!(strangers.is_empty(), "runs of events this test did not send: {strangers:?}");
    assert!(lost.is_empty(), "acknowledged events with no run: {:?}", &lost[..lost.len().min(20)]);
    assert!(twice.is_empty(), "events run more than once: {:?}", &twice[..twice.len().min(20)]);
    assert!(not_ok.is_empty(), "runs that did not succeed: {:?}\n{}", &not_ok[..not_ok.len().min(20)], tail(&daemon.logs()));
    assert!(trouble.kills >= 1 && trouble.full_disks >= 1 && trouble.slow_windows >= 1 || secs < 3 * period.as_secs() + 3,
        "every kind of trouble happened at least once");
}
