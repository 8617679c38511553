//! The two sides of the card-call comparison, shared by `benches/call.rs`
//! (criterion, wall clock) and `examples/call_counts.rs` (instruction counts
//! under callgrind), so both measure exactly the same calls.
//!
//! - [`LanyardCall`]: `Runtime::call` with every capability configured, grants,
//!   the default limits, log capture, a JSON value in and a JSON value out.
//! - [`BareCall`]: what a minimal wasmtime host does with the same component on
//!   the same engine (so the same pooling allocator, fuel and epoch settings):
//!   a linker with WASI and the card's other imports stubbed, one `InstancePre`,
//!   and per call a fresh `Store` with a default WASI context, fuel and an
//!   epoch deadline set (the engine requires both), then `run` with the same
//!   input text, the output left as text.

#![allow(dead_code)]

use async_trait::async_trait;
use lanyard_core::caps::{HttpApi, HttpRequest, HttpResponse, MailApi, MailMessage, TableQuery, TableRow, TablesApi};
use lanyard_core::okta::*;
use lanyard_core::{CallContext, CardError, Grant, Grants, WriteOutcome};
use lanyard_runtime::__bench::{CallContext as WitCallContext, CardPre};
use lanyard_runtime::{CallRequest, Capabilities, LoadedCard, Runtime, RuntimeConfig};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// The card both sides call.
pub fn echo_wasm() -> &'static [u8] {
    lanyard_cards::builtin_card("echo").expect("the echo card is built in").wasm
}

/// The input both sides pass.
pub fn input() -> Value {
    json!({ "message": "Offboarded ada@example.com", "fields": { "user": "00u1abcdefgh", "groups": 3 } })
}

/// Capabilities that are configured (so nothing short-circuits on `None`) but
/// never called by the echo card.
struct Unused;

fn unused<T>() -> Result<T, CardError> {
    Err(CardError::unavailable("not in the benchmark"))
}

#[async_trait]
impl OktaApi for Unused {
    async fn get_user(&self, _: &str) -> Result<User, CardError> {
        unused()
    }
    async fn list_users(&self, _: &UserQuery) -> Result<Vec<User>, CardError> {
        unused()
    }
    async fn create_user(&self, _: &Map<String, Value>, _: bool, _: &[String]) -> Result<User, CardError> {
        unused()
    }
    async fn update_profile(&self, _: &str, _: &Map<String, Value>) -> Result<ProfileUpdate, CardError> {
        unused()
    }
    async fn get_manager(&self, _: &str) -> Result<Option<User>, CardError> {
        unused()
    }
    async fn lifecycle(&self, _: &str, _: LifecycleOp) -> Result<WriteOutcome, CardError> {
        unused()
    }
    async fn list_user_groups(&self, _: &str) -> Result<Vec<Group>, CardError> {
        unused()
    }
    async fn find_group(&self, _: &str) -> Result<Option<Group>, CardError> {
        unused()
    }
    async fn add_to_group(&self, _: &str, _: &str) -> Result<WriteOutcome, CardError> {
        unused()
    }
    async fn remove_from_group(&self, _: &str, _: &str) -> Result<WriteOutcome, CardError> {
        unused()
    }
    async fn clear_sessions(&self, _: &str, _: bool) -> Result<(), CardError> {
        unused()
    }
    async fn list_factors(&self, _: &str) -> Result<Vec<Factor>, CardError> {
        unused()
    }
    async fn list_app_links(&self, _: &str) -> Result<Vec<AppLink>, CardError> {
        unused()
    }
    async fn query_logs(&self, _: &LogQuery) -> Result<Vec<Value>, CardError> {
        unused()
    }
    async fn plan(&self, _: &lanyard_core::okta::OktaWrite) -> Result<WriteOutcome, CardError> {
        unused()
    }
}

#[async_trait]
impl HttpApi for Unused {
    async fn send(&self, _: HttpRequest) -> Result<HttpResponse, CardError> {
        unused()
    }
}

#[async_trait]
impl MailApi for Unused {
    async fn send(&self, _: MailMessage) -> Result<String, CardError> {
        unused()
    }
}

#[async_trait]
impl TablesApi for Unused {
    async fn get(&self, _: &str, _: &str) -> Result<Option<Value>, CardError> {
        unused()
    }
    async fn put(&self, _: &str, _: &str, _: Value) -> Result<WriteOutcome, CardError> {
        unused()
    }
    async fn delete(&self, _: &str, _: &str) -> Result<WriteOutcome, CardError> {
        unused()
    }
    async fn find(&self, _: &str, _: &TableQuery) -> Result<Vec<TableRow>, CardError> {
        unused()
    }
}

/// lanyard's full host path.
pub struct LanyardCall {
    pub runtime: Runtime,
    card: Arc<LoadedCard>,
    request: CallRequest,
}

impl LanyardCall {
    /// The default `RuntimeConfig` (with a compiled-card cache so a rerun does
    /// not recompile) and the echo card.
    pub fn new() -> Self {
        Self::with_config(RuntimeConfig::default())
    }

    /// `config` (with the cache) and the echo card.
    pub fn with_config(config: RuntimeConfig) -> Self {
        let runtime = Runtime::new(RuntimeConfig {
            cache_dir: Some(std::env::temp_dir().join("lanyard-bench-cache")),
            ..config
        })
        .unwrap();
        let card = runtime.load(echo_wasm()).unwrap();
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
        LanyardCall { runtime, card, request }
    }

    pub async fn call(&self) {
        let out = self.runtime.call(&self.card, self.request.clone()).await;
        assert!(out.result.is_ok(), "{:?}", out.result);
    }
}

pub struct Bare {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Bare {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A bare wasmtime host of the same component on the same engine.
pub struct BareCall {
    engine: Engine,
    pre: CardPre<Bare>,
    ctx: WitCallContext,
    input: String,
}

impl BareCall {
    pub fn new(engine: &Engine) -> Self {
        let component = Component::new(engine, echo_wasm()).unwrap();
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

    pub async fn call(&self) {
        let state = Bare {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
        };
        let mut store = Store::new(&self.engine, state);
        store.set_fuel(u64::MAX).unwrap();
        store.set_epoch_deadline(u64::MAX / 2);
        let instance = self.pre.instantiate_async(&mut store).await.unwrap();
        let out = instance.call_run(&mut store, &self.ctx, &self.input).await.unwrap();
        assert!(out.is_ok());
    }
}
