//! `test.clock-stall` 1.0.0: a card that behaves when it is published and
//! stalls later. Its `describe()` sleeps forever once the wall clock the host
//! gives it is past 2100-01-01, and answers at once before that; `run()`
//! answers `{"ok": true}`. The daemon's tests publish it, then move the
//! daemon's clock past that date so the daemon's lazy load of it stalls.

use lanyard_sdk::prelude::*;
use serde_json::{Value, json};

/// 2100-01-01T00:00:00Z.
const STALL_FROM: u64 = 4_102_444_800;

struct ClockStall;

impl Card for ClockStall {
    const NAME: &'static str = "test.clock-stall";
    const DESCRIPTION: &'static str = "Answers ok; its describe() stalls once the clock is past 2100.";
    type Input = Value;
    type Output = Value;

    fn run(_ctx: &Context, _input: Value) -> Result<Value, CardError> {
        Ok(json!({ "ok": true }))
    }
}

struct Export;

impl lanyard_sdk::bindings::Guest for Export {
    fn describe() -> lanyard_sdk::bindings::lanyard::card::types::CardInfo {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        while now >= STALL_FROM {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
        lanyard_sdk::__describe::<ClockStall>(env!("CARGO_PKG_VERSION"))
    }

    fn run(
        ctx: lanyard_sdk::bindings::lanyard::card::types::CallContext,
        input: String,
    ) -> Result<String, lanyard_sdk::CardError> {
        lanyard_sdk::__run::<ClockStall>(ctx, input)
    }
}

lanyard_sdk::bindings::__export_card_world!(Export with_types_in lanyard_sdk::bindings);
