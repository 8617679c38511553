//! `okta.delete-group`: deletes an Okta group. Its members stay in Okta; they
//! lose the apps they had through it. Groups Okta manages itself (BUILT_IN
//! Everyone, APP_GROUPs an app imports) are refused before Okta is asked.

use builtin_kit::okta::{group, members_managed_by_okta};
use builtin_kit::{GroupRef, Outcome};
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which group.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The group: an Okta group id, its exact name, or a group object.
    group: GroupRef,
}

/// What it did.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// `unchanged` if no group has this id (deleted already).
    outcome: Outcome,
    /// The group's Okta id.
    group_id: String,
    /// The group's name, when the flow named the group by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    group_name: Option<String>,
}

struct DeleteGroup;

impl Card for DeleteGroup {
    const NAME: &'static str = "okta.delete-group";
    const DESCRIPTION: &'static str = "Deletes an Okta group (by id or exact name) for good: its members lose the apps they had through it. BUILT_IN and APP_GROUP groups are refused. Output: `outcome` (`unchanged` if no group has this id), `group_id`.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        // groups.read only to look a name up.
        vec![Grant::okta("okta.groups.read"), Grant::okta("okta.groups.admin")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        let group = group(&input.group)?;
        if let Some(t) = group.group_type.as_deref().filter(|t| members_managed_by_okta(t)) {
            let name = group.name.as_deref().unwrap_or(&group.id);
            return Err(CardError::invalid_input(format!(
                "group `{name}` is {t}: Okta manages it, a flow cannot delete it"
            )));
        }
        let outcome = okta::delete_group(&group.id)?;
        Ok(Out {
            outcome: outcome.into(),
            group_id: group.id,
            group_name: group.name,
        })
    }
}

lanyard_sdk::export_card!(DeleteGroup);
