//! `okta.reset-password`: starts a password reset. By default Okta emails the
//! user the reset link; with `send_email: false` the card returns the link
//! instead, for a flow that delivers it another way. That link is a one-time
//! credential: whoever holds it can set the password.

use builtin_kit::okta::user_id;
use builtin_kit::{Outcome, UserRef};
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

fn yes() -> bool {
    true
}

/// Whose password, and how the link travels.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The user: an Okta user id, a login, or a user object.
    user: UserRef,
    /// Okta emails the reset link to the user (default true). False returns
    /// the link as `reset_url` instead.
    #[serde(default = "yes")]
    send_email: bool,
}

/// What was started.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// Always `changed`: every reset makes a new link.
    outcome: Outcome,
    /// The user's Okta id.
    user_id: String,
    /// Whether Okta emailed the link to the user.
    emailed: bool,
    /// Only when `send_email` is false: the one-time reset link. Treat it
    /// like a password: send it to the user alone, never to a channel or a table.
    #[serde(skip_serializing_if = "Option::is_none")]
    reset_url: Option<String>,
}

struct ResetPassword;

impl Card for ResetPassword {
    const NAME: &'static str = "okta.reset-password";
    const DESCRIPTION: &'static str = "Starts an Okta password reset: Okta emails the user a reset link, or with `send_email: false` the card returns it as `reset_url`, a one-time link to treat like a password. Output: `outcome`, `user_id`, `emailed`, and `reset_url` when not emailed.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        // users.read only to look a login up.
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.users.credentials")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        let user_id = user_id(&input.user)?;
        let link = okta::reset_password(&user_id, input.send_email)?;
        if !input.send_email && link.is_none() {
            return Err(CardError::internal(format!(
                "okta started a password reset for {user_id} but returned no link"
            )));
        }
        Ok(Out {
            outcome: Outcome::Changed,
            user_id,
            emailed: input.send_email,
            reset_url: if input.send_email { None } else { link },
        })
    }
}

lanyard_sdk::export_card!(ResetPassword);
