//! Panics with the message it is given (after printing a line to stdout). Ends
//! in `trap` with the panic message and location in the error's detail.

use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, JsonSchema)]
struct In {
    message: String,
}

struct Panics;

impl Card for Panics {
    const NAME: &'static str = "test.panic";
    const DESCRIPTION: &'static str = "Panics with the given message.";
    type Input = In;
    type Output = Value;

    fn run(_ctx: &Context, input: In) -> Result<Value, CardError> {
        println!("about to panic");
        panic!("{}", input.message);
    }
}

lanyard_sdk::export_card!(Panics);
