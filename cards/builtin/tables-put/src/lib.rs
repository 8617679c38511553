//! `tables.put`: insert or replace one row.

use builtin_kit::{Outcome, check_table_key};
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Which row, and its new value.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The table's name, for example `offboarding-audit`.
    table: String,
    /// The row's key, for example `{{ user.id }}`.
    key: String,
    /// The row's value: any JSON, usually an object
    /// (`{ login: "{{ user.profile.login }}", at: "{{ now() }}" }`).
    value: Value,
}

/// What the write did.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// `unchanged` if the row already held exactly this value.
    outcome: Outcome,
    /// The row's key.
    key: String,
}

struct Put;

impl Card for Put {
    const NAME: &'static str = "tables.put";
    const DESCRIPTION: &'static str = "Writes one row of a table (inserting or replacing it). Output: `outcome` (`unchanged` if the row already held this value) and `key`.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        vec![Grant::table("*")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        check_table_key(&input.table, Some(&input.key))?;
        let outcome = tables::put(&input.table, &input.key, &input.value)?;
        Ok(Out {
            outcome: outcome.into(),
            key: input.key,
        })
    }
}

lanyard_sdk::export_card!(Put);
