//! `okta.add-to-group`: adds an Okta user to a group named by id or exact name;
//! `unchanged` (and no Okta event) if the user was already a member.

use builtin_kit::okta::{check_writable, group, user_id};
use builtin_kit::{GroupRef, Outcome, UserRef};
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who, and which group.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The user: an Okta user id, a login, or a user object.
    user: UserRef,
    /// The group: an Okta group id, its exact name (`GitHub Users`), or a group object.
    group: GroupRef,
}

/// What it did.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// `unchanged` if the user was already a member.
    outcome: Outcome,
    /// The user's Okta id.
    user_id: String,
    /// The group's Okta id.
    group_id: String,
    /// The group's name, when the flow named the group by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    group_name: Option<String>,
}

struct AddToGroup;

impl Card for AddToGroup {
    const NAME: &'static str = "okta.add-to-group";
    const DESCRIPTION: &'static str = "Adds an Okta user to a group, named by id or exact name. Output: `outcome` (`unchanged` if the user was already a member), `user_id`, `group_id`.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        builtin_kit::okta::membership_grants()
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        let group = group(&input.group)?;
        check_writable(&group)?;
        let user_id = user_id(&input.user)?;
        let outcome = okta::add_to_group(&group.id, &user_id)?;
        Ok(Out {
            outcome: outcome.into(),
            user_id,
            group_id: group.id,
            group_name: group.name,
        })
    }
}

lanyard_sdk::export_card!(AddToGroup);
