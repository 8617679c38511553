//! What one card call may override of the card runtime's default limits.
//!
//! A flow's card step writes them (`timeout:`, `fuel:`, `memory:`), `lanyard
//! card run` takes them as flags, and the runtime applies them over its
//! defaults. This type only carries them: the defaults, their bounds and
//! enforcing them belong to the runtime.

use std::time::Duration;

/// Per-call overrides of the runtime's limits; `None` keeps the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitOverrides {
    /// Wasm fuel units.
    pub fuel: Option<u64>,
    /// Linear memory, in bytes (a flow's `memory:`).
    pub memory_bytes: Option<u64>,
    /// Wall clock of the whole call, host waits included (a flow's `timeout:`).
    pub deadline: Option<Duration>,
}

impl LimitOverrides {
    pub fn is_empty(&self) -> bool {
        *self == LimitOverrides::default()
    }
}
