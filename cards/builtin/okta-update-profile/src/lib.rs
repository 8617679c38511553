//! `okta.update-profile`: change the profile attributes a flow names, and only
//! those that differ, so a no-op raises no Okta event.

use builtin_kit::{Outcome, UserRef};
use lanyard_sdk::okta::User;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

const MAX_ATTRIBUTES: usize = 100;

/// Whose profile, and what to set.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The user: an Okta user id, a login, or a user object.
    user: UserRef,
    /// The attributes to set, for example `{ "title": "Staff Engineer" }`.
    /// Attributes not named keep their values; `null` clears one.
    profile: Map<String, Value>,
}

/// What changed, and the user afterwards.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// `unchanged` if every attribute already had its value (nothing was sent to Okta).
    outcome: Outcome,
    /// The user after the update, as okta.get-user returns it.
    user: User,
}

struct UpdateProfile;

impl Card for UpdateProfile {
    const NAME: &'static str = "okta.update-profile";
    const DESCRIPTION: &'static str = "Sets some attributes of an Okta user's profile, leaving the others alone; attributes that already have the value are not sent. Output: `outcome` (changed or unchanged) and `user`.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.users.manage")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        if input.profile.is_empty() {
            return Err(CardError::invalid_input("`profile` names no attribute to set"));
        }
        if input.profile.len() > MAX_ATTRIBUTES {
            return Err(CardError::invalid_input(format!(
                "`profile` sets {} attributes, over the limit of {MAX_ATTRIBUTES}",
                input.profile.len()
            )));
        }
        if let Some(name) = input.profile.keys().find(|k| k.trim().is_empty()) {
            return Err(CardError::invalid_input(format!("`profile` has an attribute with an empty name: {name:?}")));
        }
        // The host reads the user first (id or login) and compares.
        let update = okta::update_profile(input.user.as_str(), &input.profile)?;
        Ok(Out {
            outcome: update.outcome.into(),
            user: update.user,
        })
    }
}

lanyard_sdk::export_card!(UpdateProfile);
