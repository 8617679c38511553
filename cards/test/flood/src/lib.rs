//! A card that makes the host hold text of its own making. Input:
//! `{"what": ..., "count": n, "bytes": m}`:
//!
//! - `denied-tables`: `n` reads of a table it was not granted, each named with
//!   `m` bytes (every denial names the table);
//! - `denied-urls`: `n` GETs of `https://<m bytes>.example.com/` without a grant;
//! - `log-fields`: `n` log lines, each with a fields object of about `m` bytes;
//! - `dry-run-puts`: `n` row writes to table `t`, each value about `m` bytes
//!   (recorded, not done, in a dry run);
//! - `forged-denial`: one read of a table whose name holds a newline and a
//!   fake log line.
//!
//! It ignores every error and answers how many calls it made.

use lanyard_sdk::bindings::lanyard::card::log as wit_log;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
enum What {
    DeniedTables,
    DeniedUrls,
    LogFields,
    DryRunPuts,
    ForgedDenial,
}

#[derive(Deserialize, JsonSchema)]
struct In {
    what: What,
    #[serde(default = "one")]
    count: u32,
    #[serde(default)]
    bytes: usize,
}

fn one() -> u32 {
    1
}

/// The line a newline in a denied table name would forge in a text log.
pub const FORGED: &str = "2026-01-01T00:00:00.000000Z  INFO lanyard: FORGED admin token rotated";

struct Flood;

impl Card for Flood {
    const NAME: &'static str = "test.flood";
    const DESCRIPTION: &'static str = "Floods the host with text of its own.";
    type Input = In;
    type Output = Value;

    fn grants() -> Vec<Grant> {
        vec![Grant::table("t")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Value, CardError> {
        let big = "x".repeat(input.bytes);
        for i in 0..input.count {
            match input.what {
                What::DeniedTables => {
                    let _ = tables::get::<Value>(&big, "k");
                }
                What::DeniedUrls => {
                    let _ = http::Request::get(format!("https://{big}.example.com/")).send();
                }
                What::LogFields => {
                    let fields = json!({ "i": i, "blob": big }).to_string();
                    wit_log::write(wit_log::Level::Info, "with fields", Some(&fields));
                }
                What::DryRunPuts => {
                    let _ = tables::put("t", &format!("k{i}"), &json!({ "blob": big }));
                }
                What::ForgedDenial => {
                    let _ = tables::get::<Value>(&format!("audit\n{FORGED}"), "k");
                }
            }
        }
        Ok(json!(input.count))
    }
}

lanyard_sdk::export_card!(Flood);
