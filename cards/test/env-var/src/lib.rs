//! Tries to read an environment variable, every variable, and the arguments. If
//! the sandbox held, it finds nothing and returns `internal`; otherwise it
//! returns what it found (and the host test fails).

use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
struct In {
    name: String,
}

struct EnvVar;

impl Card for EnvVar {
    const NAME: &'static str = "test.env-var";
    const DESCRIPTION: &'static str = "Tries to read the environment.";
    type Input = In;
    type Output = String;

    fn run(_ctx: &Context, input: In) -> Result<String, CardError> {
        if let Ok(value) = std::env::var(&input.name) {
            return Ok(format!("{}={value}", input.name));
        }
        let vars: Vec<(String, String)> = std::env::vars().collect();
        if !vars.is_empty() {
            return Ok(format!("environment: {vars:?}"));
        }
        let args: Vec<String> = std::env::args().collect();
        if !args.is_empty() {
            return Ok(format!("arguments: {args:?}"));
        }
        Err(CardError::internal(format!(
            "no variable {}, no environment, no arguments",
            input.name
        )))
    }
}

lanyard_sdk::export_card!(EnvVar);
