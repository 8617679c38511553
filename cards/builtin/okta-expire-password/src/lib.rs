//! `okta.expire-password`: makes a user choose a new password at their next
//! sign-in (after a suspected leak, say). Their sessions stay open.

use builtin_kit::okta::{UserOutcome, user_id};
use builtin_kit::UserInput;
use lanyard_sdk::prelude::*;

struct ExpirePassword;

impl Card for ExpirePassword {
    const NAME: &'static str = "okta.expire-password";
    const DESCRIPTION: &'static str = "Expires an Okta user's password: they must choose a new one at their next sign-in (status PASSWORD_EXPIRED). Output: `outcome` (`unchanged` if it was already expired), `user_id`.";
    type Input = UserInput;
    type Output = UserOutcome;

    fn grants() -> Vec<Grant> {
        // users.read only to look a login up.
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.users.credentials")]
    }

    fn run(_ctx: &Context, input: UserInput) -> Result<UserOutcome, CardError> {
        let user_id = user_id(&input.user)?;
        let outcome = okta::expire_password(&user_id)?;
        Ok(UserOutcome {
            outcome: outcome.into(),
            user_id,
        })
    }
}

lanyard_sdk::export_card!(ExpirePassword);
