//! Spins forever. Ends in `fuel-exhausted` or `deadline`, whichever limit is lower.

use lanyard_sdk::prelude::*;
use serde_json::Value;

struct Spin;

impl Card for Spin {
    const NAME: &'static str = "test.infinite-loop";
    const DESCRIPTION: &'static str = "Spins forever.";
    type Input = Value;
    type Output = Value;

    fn run(_ctx: &Context, _input: Value) -> Result<Value, CardError> {
        let mut n: u64 = 0;
        loop {
            n = std::hint::black_box(n.wrapping_add(1));
        }
    }
}

lanyard_sdk::export_card!(Spin);
