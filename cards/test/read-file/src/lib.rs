//! Tries to read a host file and list the root directory. If the sandbox held,
//! every attempt fails and the card returns `internal` with what it saw; if it
//! could read anything, it returns the contents (and the host test fails).

use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Deserialize, JsonSchema)]
struct In {
    path: String,
}

struct ReadFile;

impl Card for ReadFile {
    const NAME: &'static str = "test.read-file";
    const DESCRIPTION: &'static str = "Tries to read a host file.";
    type Input = In;
    type Output = String;

    fn run(_ctx: &Context, input: In) -> Result<String, CardError> {
        if let Ok(entries) = std::fs::read_dir("/") {
            let names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            return Ok(format!("listed /: {names:?}"));
        }
        match std::fs::read_to_string(&input.path) {
            Ok(contents) => Ok(contents),
            Err(e) => Err(CardError::internal(format!("read {}: {e}", input.path))),
        }
    }
}

lanyard_sdk::export_card!(ReadFile);
