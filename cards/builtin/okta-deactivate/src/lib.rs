//! `okta.deactivate`: Deactivates an Okta user (status DEPROVISIONED): Okta ends its sessions and deprovisions its apps.

use builtin_kit::okta::{LifecycleOutput, lifecycle};
use builtin_kit::UserInput;
use lanyard_sdk::okta::LifecycleOp;
use lanyard_sdk::prelude::*;

struct Deactivate;

impl Card for Deactivate {
    const NAME: &'static str = "okta.deactivate";
    const DESCRIPTION: &'static str = "Deactivates an Okta user (status DEPROVISIONED): Okta ends its sessions and deprovisions its apps. Output: `outcome` (`unchanged` if there was nothing to do), `user_id`, `operation`.";
    type Input = UserInput;
    type Output = LifecycleOutput;

    fn grants() -> Vec<Grant> {
        // users.read only to look a login up.
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.users.lifecycle")]
    }

    fn run(_ctx: &Context, input: UserInput) -> Result<LifecycleOutput, CardError> {
        lifecycle(input, LifecycleOp::Deactivate)
    }
}

lanyard_sdk::export_card!(Deactivate);
