//! Per-call limits: defaults from the runtime's configuration, overridden per step.

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

/// Per-step overrides of [`Limits`]; `None` keeps the default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LimitOverrides {
    #[serde(default)]
    pub fuel: Option<u64>,
    #[serde(default)]
    pub memory_bytes: Option<u64>,
    #[serde(default, with = "opt_millis")]
    pub deadline: Option<Duration>,
}

impl LimitOverrides {
    /// These overrides applied over `defaults`.
    pub fn apply(&self, defaults: &Limits) -> Limits {
        Limits {
            fuel: self.fuel.unwrap_or(defaults.fuel),
            memory_bytes: self.memory_bytes.unwrap_or(defaults.memory_bytes),
            deadline: self.deadline.unwrap_or(defaults.deadline),
            ..*defaults
        }
    }
}

mod opt_millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}
