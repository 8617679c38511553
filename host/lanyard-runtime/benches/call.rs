//! A card call through lanyard's full host path against a bare wasmtime call of
//! the same component with the same engine, in one run.
//!
//! - `lanyard`: `Runtime::call` with every capability linked and configured,
//!   grants, limits, log capture, a JSON value in and a JSON value out.
//! - `bare`: the same `InstancePre` machinery by hand: a fresh `Store` with a
//!   default WASI context, fuel and epoch deadline set (the engine demands
//!   them), `run` called with the same input text, the output left as text.
//!
//! Each on one thread (a current-thread tokio runtime) and on two (two tasks on
//! a two-worker runtime, calls split between them). Throughput is calls/s; the
//! summary at the end prints the ratios. Run: `cargo bench -p lanyard-runtime`.

use async_trait::async_trait;
use criterion::{Criterion, Throughput, criterion_group};
use lanyard_core::caps::{HttpApi, HttpRequest, HttpResponse, MailApi, MailMessage, TableQuery, TableRow, TablesApi};
use lanyard_core::okta::*;
use lanyard_core::{CallContext, CardError, Grant, Grants, WriteOutcome};
use lanyard_runtime::__bench::{CallContext as WitCallContext, CardPre};
use lanyard_runtime::{CallRequest, Capabilities, LoadedCard, Runtime, RuntimeConfig};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

struct Unused;

fn unused<T>() -> Result<T, CardError> {
    Err(CardError::unavailable("not in the benchmark"))
}

#[async_trait]
impl OktaApi for Unused {
    async fn get_user(&self, _: &str) -> Result<User, CardError> { unused() }
    async fn list_users(&self, _: &UserQuery) -> Result<Vec<User>, CardError> { unused() }
    async fn create_user(&self, _: &Map<String, Value>, _: bool, _: &[String]) -> Result<User, CardError> { unused() }
    async fn update_profile(&self, _: &str, _: &Map<String, Value>) -> Result<ProfileUpdate, CardError> { unused() }
    async fn get_manager(&self, _: &str) -> Result<Option<User>, CardError> { unused() }
    async fn lifecycle(&self, _: &str, _: LifecycleOp) -> Result<WriteOutcome, CardError> { unused() }
    async fn list_user_groups(&self, _: &str) -> Result<Vec<Group>, CardError> { unused() }
    async fn find_group(&self, _: &str) -> Result<Option<Group>, CardError> { unused() }
    async fn add_to_group(&self, _: &str, _: &str) -> Result<WriteOutcome, CardError> { unused() }
    async fn remove_from_group(&self, _: &str, _: &str) -> Result<WriteOutcome, CardError> { unused() }
    async fn clear_sessions(&self, _: &str, _: bool) -> Result<(), CardError> { unused() }
    async fn list_factors(&self, _: &str) -> Result<Vec<Factor>, CardError> { unused() }
    async fn list_app_links(&self, _: &str) -> Result<Vec<AppLink>, CardError> { unused() }
    async fn query_logs(&self, _: &LogQuery) -> Result<Vec<Value>, CardError> { unused() }
}

#[async_trait]
impl HttpApi for Unused {
    async fn send(&self, _: HttpRequest) -> Result<HttpResponse, CardError> { unused() }
}

#[async_trait]
impl MailApi for Unused {
    async fn send(&self, _: MailMessage) -> Result<String, CardError> { unused() }
}

#[async_trait]
impl TablesApi for Unused {
    async fn get(&self, _: &str, _: &str) -> Result<Option<Value>, CardError> { unused() }
    async fn put(&self, _: &str, _: &str, _: Value) -> Result<WriteOutcome, CardError> { unused() }
    async fn delete(&self, _: &str, _: &str) -> Result<WriteOutcome, CardError> { unused() }
    async fn find(&self, _: &str, _: &TableQuery) -> Result<Vec<TableRow>, CardError> { unused() }
}

struct Bare {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Bare {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

fn input() -> Value {
    json!({ "message": "Offboarded ada@example.com", "fields": { "user": "00u1abcdefgh", "groups": 3 } })
}

struct Lanyard {
    runtime: Runtime,
    card: Arc<LoadedCard>,
    request: CallRequest,
}

impl Lanyard {
    fn new(wasm: &[u8]) -> Self {
        let runtime = Runtime::new(RuntimeConfig {
            cache_dir: Some(std::env::temp_dir().join("lanyard-bench-cache")),
            ..RuntimeConfig::default()
        })
        .unwrap();
        let card = runtime.load(wasm).unwrap();
        let unused = Arc::new(Unused);
        let grants: Vec<Grant> = ["okta:okta.users.read", "table:audit", "connection:it-slack", "mail"]
            .iter()
            .map(|g| g.parse().unwrap())
            .collect();
        let request = CallRequest {
            grants: Arc::new(Grants::from_list(&grants).unwrap()),
            caps: Capabilities {
                okta: Some(unused.clone()),
                http: Some(unused.clone()),
                tables: Some(unused.clone()),
                mail: Some(unused),
                ..Capabilities::none()
            },
            ..CallRequest::new(CallContext::new("run-1", "bench", "echo", 1, false), input())
        };
        Lanyard { runtime, card, request }
    }

    async fn call(&self) {
        let out = self.runtime.call(&self.card, self.request.clone()).await;
        assert!(out.result.is_ok(), "{:?}", out.result);
    }
}

struct BareCall {
    engine: Engine,
    pre: CardPre<Bare>,
    ctx: WitCallContext,
    input: String,
}

impl BareCall {
    fn new(engine: &Engine, wasm: &[u8]) -> Self {
        let component = Component::new(engine, wasm).unwrap();
        let mut linker = Linker::<Bare>::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
        linker.define_unknown_imports_as_traps(&component).unwrap();
        let pre = CardPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
        BareCall {
            engine: engine.clone(),
            pre,
            ctx: WitCallContext {
                run_id: "run-1".into(),
                flow: "bench".into(),
                step: "echo".into(),
                attempt: 1,
                idempotency_key: "run-1/echo/1".into(),
                dry_run: false,
            },
            input: input().to_string(),
        }
    }

    async fn call(&self) {
        let mut store = Store::new(&self.engine, Bare { wasi: WasiCtx::builder().build(), table: ResourceTable::new() });
        store.set_fuel(u64::MAX).unwrap();
        store.set_epoch_deadline(u64::MAX / 2);
        let instance = self.pre.instantiate_async(&mut store).await.unwrap();
        let out = instance.call_run(&mut store, &self.ctx, &self.input).await.unwrap();
        assert!(out.is_ok());
    }
}

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
    let wasm = lanyard_cards::builtin_card("echo").expect("the echo card is built in").wasm;
    let lanyard = Arc::new(Lanyard::new(wasm));
    let bare = Arc::new(BareCall::new(lanyard.runtime.engine(), wasm));
    let one = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let two = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();

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
