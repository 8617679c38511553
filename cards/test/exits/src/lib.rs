//! A `run()` that calls `exit()` (`wasi:cli/exit`) with the code its input
//! names instead of returning a result.

use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, JsonSchema)]
struct In {
    code: i32,
}

struct Exits;

impl Card for Exits {
    const NAME: &'static str = "test.exits";
    const DESCRIPTION: &'static str = "Exits instead of returning.";
    type Input = In;
    type Output = Value;

    fn run(_ctx: &Context, input: In) -> Result<Value, CardError> {
        println!("exiting with {}", input.code);
        std::process::exit(input.code)
    }
}

lanyard_sdk::export_card!(Exits);
