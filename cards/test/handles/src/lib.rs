//! A `run()` that creates pollables (`wasi:clocks/monotonic-clock.subscribe-duration`)
//! and keeps every one, until the host's resource table is full.

use lanyard_sdk::prelude::*;
use serde_json::{Value, json};

struct Handles;

impl Card for Handles {
    const NAME: &'static str = "test.handles";
    const DESCRIPTION: &'static str = "Fills its resource table.";
    type Input = Value;
    type Output = Value;

    fn run(_ctx: &Context, _input: Value) -> Result<Value, CardError> {
        let mut kept = Vec::new();
        loop {
            kept.push(wasip2::clocks::monotonic_clock::subscribe_duration(1_000_000_000));
            if kept.len() == usize::MAX {
                return Ok(json!(kept.len()));
            }
        }
    }
}

lanyard_sdk::export_card!(Handles);
