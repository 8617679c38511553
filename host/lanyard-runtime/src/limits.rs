//! Per-call limits: defaults from the runtime's configuration, overridden per step.

use lanyard_core::LimitOverrides;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The limits of one card call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Wasm fuel (about one unit per instruction). Running out traps with
    /// `fuel-exhausted`.
    pub fuel: u64,
    /// The size, in bytes, any one linear memory of the card may grow to
    /// (capped by `RuntimeConfig::max_memory_bytes`). Growing past it traps
    /// with `memory-limit`.
    pub memory_bytes: u64,
    /// Wall-clock time for the whole call, including time spent in host calls.
    /// Running past it ends the call with `deadline`.
    pub deadline: Duration,
    /// The JSON input, in bytes (`too-large` before the card runs).
    pub max_input_bytes: usize,
    /// The JSON output, in bytes (`too-large`).
    pub max_output_bytes: usize,
    /// The call's record: everything a card can make the host keep, in
    /// bytes, together — log lines with their fields (at the size the card
    /// sent them), stdout and stderr, the capability calls refused for a
    /// missing grant, the writes a dry run recorded, and its error's message
    /// and detail. Past it, items are dropped and counted with a note in the
    /// log, and the call goes on (`[limits] max_record_bytes`).
    #[serde(alias = "max_log_bytes")]
    pub max_record_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: 2_000_000_000,
            memory_bytes: 64 << 20,
            deadline: Duration::from_secs(10),
            max_input_bytes: 1 << 20,
            max_output_bytes: 1 << 20,
            max_record_bytes: 64 << 10,
        }
    }
}

impl Limits {
    /// These limits with a call's overrides applied.
    pub fn with(&self, overrides: &LimitOverrides) -> Limits {
        Limits {
            fuel: overrides.fuel.unwrap_or(self.fuel),
            memory_bytes: overrides.memory_bytes.unwrap_or(self.memory_bytes),
            deadline: overrides.deadline.unwrap_or(self.deadline),
            ..*self
        }
    }
}
