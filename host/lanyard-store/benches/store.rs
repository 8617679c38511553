//! The store's share of the daemon's throughput target (5,500+ runs/s on 2
//! cores with full history kept).
//!
//! `run_lifecycle`: per run, exactly what the daemon does: accept the event
//! (durable: waits for its fsync), dispatch it into one run, mark the run
//! running, journal three steps each made durable before the next "side
//! effect", and record the final status. Many runs are in flight at once, as in
//! the daemon, so fsyncs are shared (group commit). Throughput is in runs/s.
//!
//! `accept`: concurrent single-event deliveries, with group commit and with one
//! flush per delivery, in events/s.
//!
//! On a real directory (not tmpfs), so every fsync is real. Besides criterion's
//! wall-clock throughput, `run_lifecycle` prints the process's CPU time per run,
//! which says more than wall time on a shared machine.
//! Run: `cargo bench -p lanyard-store --bench store`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lanyard_core::LogEvent;
use lanyard_core::history::{RunRecord, RunStatus, StepRecord, TriggerInfo};
use lanyard_store::{EventInbox, RunEnd, RunStore, Store, StoreOptions, new_run_id};
use serde_json::json;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU64 = AtomicU64::new(0);

/// A `user.lifecycle.deactivate` event as Okta delivers it (about 1.6 KB as
/// JSON), built once; each use gets a fresh uuid and target.
fn template() -> &'static LogEvent {
    static TEMPLATE: OnceLock<LogEvent> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        serde_json::from_value(json!({
            "uuid": "00000000-0000-11ef-9e0d-8f1b2c3d4e5f",
            "published": "2026-11-28T10:00:00.123Z",
            "eventType": "user.lifecycle.deactivate",
            "version": "0",
            "severity": "INFO",
            "displayMessage": "Deactivate Okta user",
            "actor": {"id": "00uadmin0000000000x7", "type": "User", "alternateId": "admin@acme.com", "displayName": "Admin", "detailEntry": null},
            "client": {"userAgent": {"rawUserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "os": "Mac OS X", "browser": "CHROME"},
                       "zone": "null", "device": "Computer", "id": null, "ipAddress": "203.0.113.7",
                       "geographicalContext": {"city": "Paris", "state": "Ile-de-France", "country": "France", "postalCode": "75001", "geolocation": {"lat": 48.8566, "lon": 2.3522}}},
            "device": null,
            "authenticationContext": {"authenticationProvider": null, "credentialProvider": null, "credentialType": null, "issuer": null, "interface": null, "authenticationStep": 0, "externalSessionId": "102Xk6yQ9ExR2aKQd8cD0Fh1g"},
            "outcome": {"result": "SUCCESS", "reason": null},
            "target": [{"id": "00u00000000000000000", "type": "User", "alternateId": "jo.doe@acme.com", "displayName": "Jo Doe", "detailEntry": null}],
            "transaction": {"type": "WEB", "id": "Zk3c1bT0bQ2yQdR4XmZ9AAAAAAA", "detail": {"requestApiTokenId": "00T1a2b3c4d5e6f7g8h9"}},
            "debugContext": {"debugData": {"requestId": "Zk3c1bT0bQ2yQdR4XmZ9AAAAAAA", "dtHash": "4b9e7d2c1a0f8e6d5c4b3a29180716f5e4d3c2b1a09f8e7d6c5b4a3928170615", "requestUri": "/api/v1/users/00u1/lifecycle/deactivate", "url": "/api/v1/users/00u1/lifecycle/deactivate?"}},
            "legacyEventType": "core.user.config.user_deactivated",
            "securityContext": {"asNumber": null, "asOrg": null, "isp": null, "domain": null, "isProxy": null},
            "insertionTimestamp": null
        }))
        .unwrap()
    })
}

fn event() -> LogEvent {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut ev = template().clone();
    ev.uuid = format!("{n:08x}-0000-11ef-9e0d-8f1b2c3d4e5f");
    ev.target[0].id = format!("00u{:017x}", n % 5000);
    ev
}

/// CPU seconds this process has used (user + system).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn step(run_id: &str, path: &str, seq: u64) -> StepRecord {
    StepRecord {
        run_id: run_id.to_string(),
        path: path.to_string(),
        kind: "card".into(),
        card: Some("okta.get-user@0.1.0".into()),
        input: Some(json!({"id": "00u1a2b3c4d5e6f7g8h9"})),
        output: Some(
            json!({"id": "00u1a2b3c4d5e6f7g8h9", "status": "DEPROVISIONED",
            "profile": {"login": "jo.doe@acme.com", "email": "jo.doe@acme.com", "firstName": "Jo", "lastName": "Doe", "department": "Engineering", "title": "Engineer", "managerId": "00umanager00000000x1"}}),
        ),
        error: None,
        attempts: 1,
        started: chrono::Utc::now(),
        duration_ms: 2,
        fuel_used: 48_213,
        logs: vec![],
        effects: vec![],
        seq,
        withheld: false,
    }
}

/// One run, start to finish, as the daemon stores it.
async fn one_run(store: &Store) {
    let ev = event();
    let uuid = ev.uuid.clone();
    let now = chrono::Utc::now();
    let run = RunRecord {
        id: new_run_id(now),
        flow: "offboarding".into(),
        flow_digest: "3f2a".repeat(16),
        trigger: TriggerInfo::Okta {
            event_type: ev.event_type.clone(),
            event_uuid: uuid.clone(),
            source: "hook".into(),
        },
        input: ev.to_value(),
        status: RunStatus::Queued,
        created: now,
        started: None,
        ended: None,
        output: None,
        error: None,
        reason: None,
        subject: Some(ev.subject_key()),
        dry_run: false,
    };
    let id = run.id.clone();
    store.accept(vec![ev], "hook").await.unwrap();
    store.dispatch(&uuid, &[run]).await.unwrap();
    store
        .set_status(&id, RunStatus::Running, now)
        .await
        .unwrap();
    for (seq, path) in ["user", "sessions", "notify"].into_iter().enumerate() {
        store
            .record_step_durable(&step(&id, path, seq as u64))
            .await
            .unwrap();
    }
    let outcome = RunEnd {
        status: RunStatus::Succeeded,
        output: Some(json!({"offboarded": "jo.doe@acme.com"})),
        error: None,
        reason: None,
    };
    store
        .finish_run(&id, outcome, chrono::Utc::now())
        .await
        .unwrap();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Run `n` jobs spread over `concurrency` tasks; returns the wall time.
fn spread<F, Fut>(rt: &tokio::runtime::Runtime, n: u64, concurrency: u64, job: F) -> Duration
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    rt.block_on(async move {
        let start = Instant::now();
        let tasks: Vec<_> = (0..concurrency)
            .map(|t| {
                let job = job.clone();
                let share = n / concurrency + u64::from(t < n % concurrency);
                tokio::spawn(async move {
                    for _ in 0..share {
                        job().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        start.elapsed()
    })
}

fn run_lifecycle(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut g = c.benchmark_group("run_lifecycle");
    g.throughput(Throughput::Elements(1));
    // CPU and runs inside the measured iterations only (not criterion's analysis).
    let cpu_micros = std::sync::Arc::new(AtomicU64::new(0));
    let runs_done = std::sync::Arc::new(AtomicU64::new(0));
    for concurrency in [64u64, 256] {
        g.bench_function(BenchmarkId::new("in_flight", concurrency), |b| {
            b.iter_custom(|iters| {
                let store = store.clone();
                let cpu0 = cpu_seconds();
                let took = spread(&rt, iters, concurrency, move || {
                    let store = store.clone();
                    async move { one_run(&store).await }
                });
                cpu_micros.fetch_add(((cpu_seconds() - cpu0) * 1e6) as u64, Ordering::Relaxed);
                runs_done.fetch_add(iters, Ordering::Relaxed);
                took
            })
        });
    }
    g.finish();
    let kept = NEXT.load(Ordering::Relaxed);
    eprintln!(
        "run_lifecycle: {:.0} µs of CPU per run (all threads, measured iterations); {kept} runs kept, {:.1} KiB on disk per run",
        cpu_micros.load(Ordering::Relaxed) as f64 / runs_done.load(Ordering::Relaxed).max(1) as f64,
        store.size_on_disk().unwrap() as f64 / 1024.0 / kept.max(1) as f64
    );
}

fn accept(c: &mut Criterion) {
    let rt = runtime();
    let mut g = c.benchmark_group("accept");
    g.throughput(Throughput::Elements(1));
    for (group_commit, concurrency) in [(true, 1u64), (true, 16), (true, 128), (false, 128)] {
        let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
        let store = Store::open_with(
            dir.path(),
            StoreOptions {
                group_commit,
                ..Default::default()
            },
        )
        .unwrap();
        let name = if group_commit {
            "group_commit"
        } else {
            "flush_each"
        };
        g.bench_function(BenchmarkId::new(name, concurrency), |b| {
            b.iter_custom(|iters| {
                let store = store.clone();
                spread(&rt, iters, concurrency, move || {
                    let store = store.clone();
                    async move {
                        store.accept(vec![event()], "hook").await.unwrap();
                    }
                })
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    targets = run_lifecycle, accept
}
criterion_main!(benches);
