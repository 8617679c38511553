//! `okta.unsuspend`: Returns a SUSPENDED Okta user to ACTIVE.

use builtin_kit::okta::{LifecycleOutput, lifecycle};
use builtin_kit::UserInput;
use lanyard_sdk::okta::LifecycleOp;
use lanyard_sdk::prelude::*;

struct Unsuspend;

impl Card for Unsuspend {
    const NAME: &'static str = "okta.unsuspend";
    const DESCRIPTION: &'static str = "Returns a SUSPENDED Okta user to ACTIVE. Output: `outcome` (`unchanged` if there was nothing to do), `user_id`, `operation`.";
    type Input = UserInput;
    type Output = LifecycleOutput;

    fn grants() -> Vec<Grant> {
        // users.read only to look a login up.
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.users.lifecycle")]
    }

    fn run(_ctx: &Context, input: UserInput) -> Result<LifecycleOutput, CardError> {
        lifecycle(input, LifecycleOp::Unsuspend)
    }
}

lanyard_sdk::export_card!(Unsuspend);
