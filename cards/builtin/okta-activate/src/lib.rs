//! `okta.activate`: Activates a STAGED or DEPROVISIONED Okta user; Okta emails the user an activation link.

use builtin_kit::okta::{LifecycleOutput, lifecycle};
use builtin_kit::UserInput;
use lanyard_sdk::okta::LifecycleOp;
use lanyard_sdk::prelude::*;

struct Activate;

impl Card for Activate {
    const NAME: &'static str = "okta.activate";
    const DESCRIPTION: &'static str = "Activates a STAGED or DEPROVISIONED Okta user; Okta emails the user an activation link. Output: `outcome` (`unchanged` if there was nothing to do), `user_id`, `operation`.";
    type Input = UserInput;
    type Output = LifecycleOutput;

    fn grants() -> Vec<Grant> {
        // users.read only to look a login up.
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.users.lifecycle")]
    }

    fn run(_ctx: &Context, input: UserInput) -> Result<LifecycleOutput, CardError> {
        lifecycle(input, LifecycleOp::Activate)
    }
}

lanyard_sdk::export_card!(Activate);
