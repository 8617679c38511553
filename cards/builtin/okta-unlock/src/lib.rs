//! `okta.unlock`: Unlocks a LOCKED_OUT Okta user so it can sign in again with its current password.

use builtin_kit::okta::{LifecycleOutput, lifecycle};
use builtin_kit::UserInput;
use lanyard_sdk::okta::LifecycleOp;
use lanyard_sdk::prelude::*;

struct Unlock;

impl Card for Unlock {
    const NAME: &'static str = "okta.unlock";
    const DESCRIPTION: &'static str = "Unlocks a LOCKED_OUT Okta user so it can sign in again with its current password. Output: `outcome` (`unchanged` if there was nothing to do), `user_id`, `operation`.";
    type Input = UserInput;
    type Output = LifecycleOutput;

    fn grants() -> Vec<Grant> {
        // users.read only to look a login up.
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.users.lifecycle")]
    }

    fn run(_ctx: &Context, input: UserInput) -> Result<LifecycleOutput, CardError> {
        lifecycle(input, LifecycleOp::Unlock)
    }
}

lanyard_sdk::export_card!(Unlock);
