//! `okta.delete-user`: deletes an Okta user for good. Okta deletes only a
//! deactivated user, so an active one is deactivated first (Okta ends its
//! sessions and deprovisions its apps), then deleted.

use builtin_kit::okta::{UserOutcome, user_id};
use builtin_kit::UserRef;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

/// Whom to delete.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The user: an Okta user id, a login, or a user object.
    user: UserRef,
    /// Email Okta's deactivation notice to the admins (default false).
    #[serde(default)]
    send_email: bool,
}

struct DeleteUser;

impl Card for DeleteUser {
    const NAME: &'static str = "okta.delete-user";
    const DESCRIPTION: &'static str = "Permanently deletes an Okta user: this cannot be undone, and the user's history and app assignments go with it. An active user is deactivated first. Output: `outcome` (`unchanged` if no user has this id), `user_id`.";
    type Input = In;
    type Output = UserOutcome;

    fn grants() -> Vec<Grant> {
        // users.read only to look a login up.
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.users.lifecycle")]
    }

    fn run(_ctx: &Context, input: In) -> Result<UserOutcome, CardError> {
        let user_id = user_id(&input.user)?;
        let outcome = okta::delete_user(&user_id, input.send_email)?;
        if outcome == WriteOutcome::Changed {
            lanyard_sdk::info!("deleted Okta user {user_id}");
        }
        Ok(UserOutcome {
            outcome: outcome.into(),
            user_id,
        })
    }
}

lanyard_sdk::export_card!(DeleteUser);
