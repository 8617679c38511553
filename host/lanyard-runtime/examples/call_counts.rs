//! N card calls of one kind, for instruction counts under callgrind (which,
//! unlike wall-clock time, does not depend on what else the machine is doing).
//!
//! ```text
//! cargo build --profile bench -p lanyard-runtime --example call_counts
//! valgrind --tool=callgrind --collect-atstart=no --toggle-collect='call_counts::measured' \
//!     target/release/examples/call_counts lanyard 1000
//! ```
//!
//! Only `measured` (the N calls, after the card is loaded and a few warm-up
//! calls) is counted, so the total divided by N is the instructions per call.
//! `lanyard` is `Runtime::call`; `bare` is the bare wasmtime host; both are the
//! benchmark's (`benches/support/mod.rs`).

#[path = "../benches/support/mod.rs"]
mod support;

use lanyard_runtime::RuntimeConfig;
use support::{BareCall, LanyardCall};

#[inline(never)]
fn measured(rt: &tokio::runtime::Runtime, calls: u64, f: impl AsyncFn()) {
    rt.block_on(async {
        for _ in 0..calls {
            f().await;
        }
    });
}

fn warm_up(rt: &tokio::runtime::Runtime, f: impl AsyncFn()) {
    rt.block_on(async {
        for _ in 0..20 {
            f().await;
        }
    });
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_default();
    let calls: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // Valgrind cannot reserve the default pool's address space (256 slots of
    // 4 GiB plus guards); a few slots change nothing per call. Both sides share
    // this engine, so they still run with the same settings.
    let lanyard = LanyardCall::with_config(RuntimeConfig {
        max_instances: 4,
        ..RuntimeConfig::default()
    });
    match which.as_str() {
        "lanyard" => {
            warm_up(&rt, async || lanyard.call().await);
            let start = std::time::Instant::now();
            measured(&rt, calls, async || lanyard.call().await);
            report("lanyard", calls, start.elapsed());
        }
        "bare" => {
            let bare = BareCall::new(lanyard.runtime.engine());
            warm_up(&rt, async || bare.call().await);
            let start = std::time::Instant::now();
            measured(&rt, calls, async || bare.call().await);
            report("bare", calls, start.elapsed());
        }
        _ => {
            eprintln!("usage: call_counts lanyard|bare [CALLS]");
            std::process::exit(2);
        }
    }
}

fn report(which: &str, calls: u64, took: std::time::Duration) {
    println!("{which}: {calls} calls in {took:.2?}, {:.2?} per call", took / calls as u32);
}
