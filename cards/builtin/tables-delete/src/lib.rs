//! `tables.delete`: delete one row.

use builtin_kit::{Outcome, check_table_key};
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which row.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The table's name.
    table: String,
    /// The row's key.
    key: String,
}

/// What the delete did.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// `unchanged` if there was no such row.
    outcome: Outcome,
    /// The row's key.
    key: String,
}

struct Delete;

impl Card for Delete {
    const NAME: &'static str = "tables.delete";
    const DESCRIPTION: &'static str = "Deletes one row of a table. Output: `outcome` (`unchanged` if there was no such row) and `key`.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        vec![Grant::table("*")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        check_table_key(&input.table, Some(&input.key))?;
        let outcome = tables::delete(&input.table, &input.key)?;
        Ok(Out {
            outcome: outcome.into(),
            key: input.key,
        })
    }
}

lanyard_sdk::export_card!(Delete);
