//! Returns a string of `bytes` bytes (default 8 MiB). Ends in `too-large` when
//! that is over the call's output cap.

use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
struct In {
    #[serde(default = "default_bytes")]
    bytes: usize,
}

fn default_bytes() -> usize {
    8 << 20
}

struct Huge;

impl Card for Huge {
    const NAME: &'static str = "test.huge-output";
    const DESCRIPTION: &'static str = "Returns a very large output.";
    type Input = In;
    type Output = String;

    fn run(_ctx: &Context, input: In) -> Result<String, CardError> {
        Ok("x".repeat(input.bytes))
    }
}

lanyard_sdk::export_card!(Huge);
