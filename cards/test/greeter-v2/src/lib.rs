//! `test.greeter` 1.1.0: greets and records the greeting in the table its
//! input names, so it asks for `table:*`. Published after `greeter-v1`, it
//! shows that a new version reaches only runs that start after it, and that
//! its grants wait for an operator.

use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Deserialize, JsonSchema)]
struct In {
    name: String,
    /// Where to record the greeting.
    #[serde(default = "default_table")]
    table: String,
}

fn default_table() -> String {
    "greetings".to_string()
}

#[derive(Serialize, JsonSchema)]
struct Out {
    greeting: String,
    version: String,
    recorded: bool,
}

struct Greeter;

impl Card for Greeter {
    const NAME: &'static str = "test.greeter";
    const DESCRIPTION: &'static str = "Greets someone and records the greeting.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        vec![Grant::table("*")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        let greeting = format!("hi, {}", input.name);
        tables::put(&input.table, &input.name, &serde_json::json!({ "greeting": greeting }))?;
        Ok(Out { greeting, version: env!("CARGO_PKG_VERSION").to_string(), recorded: true })
    }
}

lanyard_sdk::export_card!(Greeter);
