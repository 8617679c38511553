//! `tables.find`: rows of a table by key prefix and field values, in key order.

use builtin_kit::{List, check_table_key};
use lanyard_sdk::prelude::*;
use lanyard_sdk::tables::Query;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

const MAX_LIMIT: u32 = 10_000;
const MAX_EQUALS: usize = 32;

/// Which rows.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The table's name.
    table: String,
    /// Only rows whose key starts with this.
    #[serde(default)]
    key_prefix: Option<String>,
    /// Only rows whose value is an object with these top-level fields equal to
    /// these values, for example `{ "status": "reminded" }`.
    #[serde(default)]
    equals: Map<String, Value>,
    /// At most this many rows (1 to 10000; default and cap set by the host).
    #[serde(default)]
    #[schemars(range(min = 1, max = 10000))]
    limit: Option<u32>,
}

/// One row.
#[derive(Serialize, JsonSchema)]
struct Row {
    key: String,
    value: Value,
}

struct Find;

impl Card for Find {
    const NAME: &'static str = "tables.find";
    const DESCRIPTION: &'static str = "Finds rows of a table by key prefix and top-level field values, in key order. Output: `items` (rows: `key`, `value`) and `count`.";
    type Input = In;
    type Output = List<Row>;

    fn grants() -> Vec<Grant> {
        vec![Grant::table("*")]
    }

    fn run(_ctx: &Context, input: In) -> Result<List<Row>, CardError> {
        check_table_key(&input.table, None)?;
        if input.equals.len() > MAX_EQUALS {
            return Err(CardError::invalid_input(format!(
                "`equals` has {} fields, over the limit of {MAX_EQUALS}",
                input.equals.len()
            )));
        }
        if let Some(limit) = input.limit {
            if !(1..=MAX_LIMIT).contains(&limit) {
                return Err(CardError::invalid_input(format!("`limit` must be between 1 and {MAX_LIMIT}, not {limit}")));
            }
        }
        let query = Query {
            key_prefix: input.key_prefix,
            equals: input.equals.into_iter().collect(),
            limit: input.limit,
        };
        let rows = tables::find::<Value>(&input.table, &query)?;
        Ok(rows
            .into_iter()
            .map(|r| Row { key: r.key, value: r.value })
            .collect::<Vec<_>>()
            .into())
    }
}

lanyard_sdk::export_card!(Find);
