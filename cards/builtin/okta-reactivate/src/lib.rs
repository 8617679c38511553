//! `okta.reactivate`: Reactivates a PROVISIONED Okta user who never finished activating; Okta sends a new activation email.

use builtin_kit::okta::{LifecycleOutput, lifecycle};
use builtin_kit::UserInput;
use lanyard_sdk::okta::LifecycleOp;
use lanyard_sdk::prelude::*;

struct Reactivate;

impl Card for Reactivate {
    const NAME: &'static str = "okta.reactivate";
    const DESCRIPTION: &'static str = "Reactivates a PROVISIONED Okta user who never finished activating; Okta sends a new activation email. Output: `outcome` (`unchanged` if there was nothing to do), `user_id`, `operation`.";
    type Input = UserInput;
    type Output = LifecycleOutput;

    fn grants() -> Vec<Grant> {
        // users.read only to look a login up.
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.users.lifecycle")]
    }

    fn run(_ctx: &Context, input: UserInput) -> Result<LifecycleOutput, CardError> {
        lifecycle(input, LifecycleOp::Reactivate)
    }
}

lanyard_sdk::export_card!(Reactivate);
