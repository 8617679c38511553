//! `test.greeter` 1.0.0: greets, asks for nothing. With `greeter-v2` (1.1.0)
//! it is the registry's test card for versions, pins and grants.

use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
struct In {
    name: String,
}

#[derive(Serialize, JsonSchema)]
struct Out {
    greeting: String,
    version: String,
}

struct Greeter;

impl Card for Greeter {
    const NAME: &'static str = "test.greeter";
    const DESCRIPTION: &'static str = "Greets someone.";
    type Input = In;
    type Output = Out;

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        Ok(Out { greeting: format!("hello, {}", input.name), version: env!("CARGO_PKG_VERSION").to_string() })
    }
}

lanyard_sdk::export_card!(Greeter);
