//! `lanyard.echo`: returns the message (and any fields) it was given. The
//! smallest real card: it proves the SDK, the embedding of built-in cards and the
//! runtime's full call path, and it is what the runtime benchmark calls.

use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What to echo.
#[derive(Deserialize, JsonSchema)]
struct In {
    /// Any text.
    message: String,
    /// Any other fields, returned unchanged.
    #[serde(default)]
    fields: Map<String, Value>,
}

/// The same message and fields, and the message's length in characters.
#[derive(Serialize, JsonSchema)]
struct Out {
    message: String,
    length: usize,
    fields: Map<String, Value>,
}

struct Echo;

impl Card for Echo {
    const NAME: &'static str = "lanyard.echo";
    const DESCRIPTION: &'static str = "Returns the message and fields it was given, and the message's length.";
    type Input = In;
    type Output = Out;

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        Ok(Out {
            length: input.message.chars().count(),
            message: input.message,
            fields: input.fields,
        })
    }
}

lanyard_sdk::export_card!(Echo);
