//! The card runtime: one wasmtime engine, one pre-instantiated component per card
//! version, a fresh store per call, limits (fuel, memory, deadline, sizes) and
//! every capability call checked against the card's grants.
//!
//! ```text
//! Runtime::load(wasm)  validate → compile (or read the cache) → pre-instantiate → describe()
//! Runtime::call(card, request)
//!     fresh Store: WASI with nothing in it (no files, env, args, sockets; stdout/stderr
//!     captured), fuel, memory limiter, epoch deadline → run(ctx, input) → CallOutcome
//! ```
//!
//! This crate knows nothing of flows, the store or HTTP wire formats: capabilities
//! come in as `lanyard-core` traits ([`Capabilities`]) and results go out as
//! `lanyard-core` types. It does not decide which grants a card gets; the caller
//! passes them with each call.

mod bindings;
mod call;
mod capabilities;
mod convert;
mod wasm_engine;
mod error;
mod inspect;
mod limits;
mod load;
mod record;
mod state;
mod stdio;

pub use call::{CallOutcome, CallRequest, Input};
pub use error::{LoadError, RuntimeError};
pub use inspect::{InspectError, Inspection, inspect};
pub use capabilities::Capabilities;
pub use lanyard_core::LimitOverrides;
pub use limits::Limits;
pub use load::{CardInfo, LoadedCard};
pub use record::LogText;

use lanyard_core::{Clock, SystemClock};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use wasmtime::Engine;
use wasmtime::component::Linker;

/// The `lanyard:card` version this host implements; cards built against any
/// `0.1.x` load.
pub const WORLD_VERSION: &str = "0.1.0";

/// How the runtime is set up.
#[derive(Clone)]
pub struct RuntimeConfig {
    /// Where compiled cards are cached (by content hash and engine
    /// compatibility), so a restart does not recompile. `None`: no cache.
    pub cache_dir: Option<PathBuf>,
    /// Limits of a call that does not override them.
    pub default_limits: Limits,
    /// The most card calls in flight at once (instance pool size).
    pub max_instances: u32,
    /// The largest memory limit any call may ask for.
    pub max_memory_bytes: u64,
    /// The wasm stack, in bytes; deeper recursion traps with `stack-overflow`.
    pub max_wasm_stack: usize,
    /// The wall clock `describe()` sees when a card is loaded (a call sees
    /// its `Capabilities::clock`): the host's clock, so a card sees one time
    /// whether it is described or run.
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for RuntimeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeConfig")
            .field("cache_dir", &self.cache_dir)
            .field("default_limits", &self.default_limits)
            .field("max_instances", &self.max_instances)
            .field("max_memory_bytes", &self.max_memory_bytes)
            .field("max_wasm_stack", &self.max_wasm_stack)
            .finish_non_exhaustive()
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            cache_dir: None,
            default_limits: Limits::default(),
            max_instances: 256,
            max_memory_bytes: 1 << 30,
            max_wasm_stack: 512 << 10,
            clock: Arc::new(SystemClock),
        }
    }
}

/// What the runtime has done, for metrics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RuntimeStats {
    /// Cards compiled from wasm (cache misses, or no cache).
    pub compiled: u64,
    /// Cards read precompiled from the cache.
    pub cache_hits: u64,
    /// Calls started.
    pub calls: u64,
}

/// The card runtime. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub engine: Engine,
    pub linker: Linker<state::HostState>,
    pub config: RuntimeConfig,
    /// Loaded cards by digest, so loading the same bytes twice shares one
    /// pre-instantiated component.
    pub cards: Mutex<HashMap<String, Weak<LoadedCard>>>,
    pub compiled: AtomicU64,
    pub cache_hits: AtomicU64,
    pub calls: AtomicU64,
    stop_ticker: Arc<AtomicBool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop_ticker.store(true, Ordering::Relaxed);
    }
}

impl Runtime {
    /// Start the engine and the epoch thread, and create the cache directory.
    pub fn new(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        let engine = wasm_engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| RuntimeError::Link(format!("{e:#}")))?;
        capabilities::add_to_linker(&mut linker).map_err(|e| RuntimeError::Link(format!("{e:#}")))?;
        if let Some(dir) = &config.cache_dir {
            std::fs::create_dir_all(dir).map_err(|source| RuntimeError::CacheDir {
                path: dir.clone(),
                source,
            })?;
        }
        let stop_ticker = Arc::new(AtomicBool::new(false));
        let inner = Arc::new(Inner {
            engine,
            linker,
            config,
            cards: Mutex::new(HashMap::new()),
            compiled: AtomicU64::new(0),
            cache_hits: AtomicU64::new(0),
            calls: AtomicU64::new(0),
            stop_ticker: stop_ticker.clone(),
        });
        wasm_engine::start_epoch_ticker(Arc::downgrade(&inner), stop_ticker);
        Ok(Runtime { inner })
    }

    /// The engine, for tools that need the same settings (the benchmark's bare
    /// wasmtime baseline).
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.config
    }

    pub fn stats(&self) -> RuntimeStats {
        RuntimeStats {
            compiled: self.inner.compiled.load(Ordering::Relaxed),
            cache_hits: self.inner.cache_hits.load(Ordering::Relaxed),
            calls: self.inner.calls.load(Ordering::Relaxed),
        }
    }

    /// Validate a component (a `lanyard:card@0.1.x` card; core modules and
    /// other worlds are refused with a clear message), compile it (or read it
    /// from the cache), pre-instantiate it, call `describe()` with every
    /// import denied, and return the card.
    ///
    /// Blocking (it compiles): call it from a blocking context. `describe()`
    /// runs on a thread of its own under the default limits' deadline, which
    /// also covers time it spends waiting in the host; past it the load fails
    /// with `LoadError::Describe` of kind `deadline`.
    pub fn load(&self, wasm: &[u8]) -> Result<Arc<LoadedCard>, LoadError> {
        load::load(&self.inner, wasm)
    }

    /// One call of the card's `run` in a fresh instance. Never panics and never
    /// fails outside the outcome: limits, traps, denials and the card's own
    /// errors all end up in `CallOutcome::result`.
    pub async fn call(&self, card: &LoadedCard, request: CallRequest) -> CallOutcome {
        self.inner.calls.fetch_add(1, Ordering::Relaxed);
        call::call(&self.inner, card, request).await
    }
}

#[doc(hidden)]
/// The generated bindings and a minimal store, for the benchmark's bare
/// wasmtime baseline. Not an API.
pub mod __bench {
    pub use crate::bindings::{Card, CardPre};
    pub use crate::bindings::lanyard::card::types::{CallContext, CardError};
}
