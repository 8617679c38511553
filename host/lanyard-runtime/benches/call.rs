//! A card call through lanyard's full host path against a bare wasmtime call of
//! the same component with the same engine, in one run (the two sides are in
//! `support/mod.rs`).
//!
//! Each on one thread (a current-thread tokio runtime) and on two (two tasks on
//! a two-worker runtime, calls split between them). Throughput is calls/s; the
//! summary at the end prints the medians and the ratios.
//! Run: `cargo bench -p lanyard-runtime --bench call`.

mod support;

use criterion::{Criterion, Throughput, criterion_group};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{BareCall, LanyardCall};

/// `iters` calls split over two tasks on a two-worker runtime.
async fn two_tasks<F, Fut>(iters: u64, f: F) -> Duration
where
    F: Fn() -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let start = Instant::now();
    let tasks: Vec<_> = (0..2)
        .map(|i| {
            let f = f.clone();
            let n = iters / 2 + (i as u64) * (iters % 2);
            tokio::spawn(async move {
                for _ in 0..n {
                    f().await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    start.elapsed()
}

fn bench(c: &mut Criterion) {
    let lanyard = Arc::new(LanyardCall::new());
    let bare = Arc::new(BareCall::new(lanyard.runtime.engine()));
    let one = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let two = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

    // Both sides share the engine and its instance pool. Whichever side ran
    // first used to pay for first touches of the pool's memory (measured: the
    // 1-thread ratio was 1.39 with lanyard first and 1.19 with bare first), so
    // both are warmed, interleaved, before anything is measured.
    one.block_on(async {
        for _ in 0..20_000 {
            lanyard.call().await;
            bare.call().await;
        }
    });

    let mut group = c.benchmark_group("card_call");
    group.throughput(Throughput::Elements(1));
    group.bench_function("lanyard/1-thread", |b| b.to_async(&one).iter(|| lanyard.call()));
    group.bench_function("bare/1-thread", |b| b.to_async(&one).iter(|| bare.call()));
    group.bench_function("lanyard/2-threads", |b| {
        b.to_async(&two).iter_custom(|iters| {
            let l = lanyard.clone();
            two_tasks(iters, move || {
                let l = l.clone();
                async move { l.call().await }
            })
        })
    });
    group.bench_function("bare/2-threads", |b| {
        b.to_async(&two).iter_custom(|iters| {
            let bare = bare.clone();
            two_tasks(iters, move || {
                let bare = bare.clone();
                async move { bare.call().await }
            })
        })
    });
    group.finish();
}

/// calls/s of each, and lanyard's time per call over bare's, from criterion's
/// median estimates of this run.
fn summary() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("../criterion/card_call");
    let median = |name: &str| -> Option<f64> {
        let path = dir.join(name).join("new/estimates.json");
        let v: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        v["median"]["point_estimate"].as_f64()
    };
    println!("\nsummary (median time per call, calls/s, lanyard/bare):");
    for threads in ["1-thread", "2-threads"] {
        let (Some(l), Some(b)) = (median(&format!("lanyard_{threads}")), median(&format!("bare_{threads}"))) else {
            println!("  {threads}: no estimates (filtered out?)");
            continue;
        };
        println!(
            "  {threads:9} lanyard {:8.2} µs {:9.0}/s | bare {:8.2} µs {:9.0}/s | ratio {:.3}",
            l / 1e3,
            1e9 / l,
            b / 1e3,
            1e9 / b,
            l / b
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    targets = bench
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    summary();
}
