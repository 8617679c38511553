//! The store's data of one card call: WASI with nothing in it, the handle
//! table, the memory limiter, the call's shared context and its capabilities.
//! It holds them; what a host call may do with them is `capabilities`' business.

use crate::capabilities::{CallCx, Capabilities};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Memory growth past the call's limit traps (instead of failing the growth,
/// which a Rust guest turns into an abort with no clue why), and is remembered
/// so the trap is reported as `memory-limit`.
pub(crate) struct Limiter {
    pub max_memory: usize,
    pub hit: bool,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            self.hit = true;
            wasmtime::bail!(
                "memory would grow to {desired} bytes, over the limit of {} bytes",
                self.max_memory
            );
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

/// The store's data.
pub(crate) struct HostState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limiter: Limiter,
    pub cx: CallCx,
    /// Apart from `cx`, so a capability's view can borrow its own state and
    /// the call's context at once.
    pub caps: Capabilities,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
