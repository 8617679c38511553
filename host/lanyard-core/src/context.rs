//! Who is calling a card, and why.

use serde::{Deserialize, Serialize};

/// The context of one card call (the WIT `call-context`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallContext {
    pub run_id: String,
    pub flow: String,
    /// The step's path in the flow, for example `groups/remove[3]`.
    pub step: String,
    /// 1 for the first try.
    pub attempt: u32,
    /// `run/step/attempt`: stable across a crash and resume of the same attempt.
    pub idempotency_key: String,
    /// A Test Flow dry run: writes are recorded, not done.
    pub dry_run: bool,
}

impl CallContext {
    pub fn new(run_id: &str, flow: &str, step: &str, attempt: u32, dry_run: bool) -> Self {
        CallContext {
            run_id: run_id.to_string(),
            flow: flow.to_string(),
            step: step.to_string(),
            attempt,
            idempotency_key: format!("{run_id}/{step}/{attempt}"),
            dry_run,
        }
    }

    /// A context for one-off calls outside a flow (`lanyard card run`).
    pub fn adhoc(run_id: &str) -> Self {
        Self::new(run_id, "(none)", "card", 1, false)
    }
}
