//! `tables.get`: one row of a table. A missing row is an answer
//! (`found: false`), not an error, so "have we done this already?" is an `if`.

use builtin_kit::check_table_key;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which row.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The table's name, for example `mfa-reminders`.
    table: String,
    /// The row's key, for example `{{ user.id }}`.
    key: String,
}

/// The row, if there is one.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// Whether the row exists.
    found: bool,
    /// The row's key.
    key: String,
    /// The row's value (any JSON), or null when there is no row.
    value: Value,
}

struct Get;

impl Card for Get {
    const NAME: &'static str = "tables.get";
    const DESCRIPTION: &'static str = "Reads one row of a table by key. Output: `found` (false when there is no such row), `key` and `value` (null when not found).";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        vec![Grant::table("*")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        check_table_key(&input.table, Some(&input.key))?;
        let row: Option<Value> = tables::get(&input.table, &input.key)?;
        Ok(Out {
            found: row.is_some(),
            key: input.key,
            value: row.unwrap_or(Value::Null),
        })
    }
}

lanyard_sdk::export_card!(Get);
