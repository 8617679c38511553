//! Recurses without bound through a function pointer, so the compiler cannot
//! turn the recursion into a loop. Ends in `stack-overflow`.

use lanyard_sdk::prelude::*;
use serde_json::Value;

#[inline(never)]
fn descend(depth: u64) -> u64 {
    let next: fn(u64) -> u64 = std::hint::black_box(descend);
    next(depth + 1).wrapping_mul(31).wrapping_add(depth)
}

struct Deep;

impl Card for Deep {
    const NAME: &'static str = "test.deep-recursion";
    const DESCRIPTION: &'static str = "Recurses without bound.";
    type Input = Value;
    type Output = u64;

    fn run(_ctx: &Context, _input: Value) -> Result<u64, CardError> {
        Ok(descend(0))
    }
}

lanyard_sdk::export_card!(Deep);
