//! The one wasmtime engine: tuned for a fresh instance per call (pooling
//! allocator, copy-on-write memory images, memory kept resident between uses),
//! with fuel and epoch interruption, and the thread that advances the epoch.

use crate::RuntimeConfig;
use crate::error::RuntimeError;
use std::sync::Weak;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, WasmBacktraceDetails};

/// How often the epoch advances: the granularity of the deadline check in
/// guest code, and how often a busy guest yields to the async executor.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Core instances per component: a Rust wasip2 card has a handful (its module
/// plus wit-component's shims); other toolchains make more.
const CORE_INSTANCES_PER_COMPONENT: u32 = 24;

pub(crate) fn new(config: &RuntimeConfig) -> Result<Engine, RuntimeError> {
    let mut cfg = Config::new();
    cfg.wasm_component_model(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        .concurrency_support(false)
        .wasm_backtrace_max_frames(std::num::NonZeroUsize::new(64))
        .wasm_backtrace_details(WasmBacktraceDetails::Enable)
        .parallel_compilation(true)
        .max_wasm_stack(config.max_wasm_stack);

    let n = config.max_instances.max(1);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(n)
        .total_core_instances(n.saturating_mul(CORE_INSTANCES_PER_COMPONENT))
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .total_memories(n)
        .max_memories_per_component(4)
        .total_tables(n.saturating_mul(8))
        .max_tables_per_component(16)
        .total_stacks(n)
        .max_memory_size(config.max_memory_bytes as usize)
        .linear_memory_keep_resident(4 << 20)
        .table_keep_resident(64 << 10)
        .pagemap_scan(Enabled::Auto);
    cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&cfg).map_err(|e| RuntimeError::Engine(format!("{e:#}")))
}

/// Advances the epoch every [`EPOCH_TICK`] until the runtime is dropped.
pub(crate) fn start_epoch_ticker(engine: Weak<crate::Inner>, stop: std::sync::Arc<AtomicBool>) {
    std::thread::Builder::new()
        .name("lanyard-epoch".to_string())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                match engine.upgrade() {
                    Some(inner) => inner.engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .expect("spawn the epoch thread");
}
