//! `okta.suspend`: Suspends an ACTIVE Okta user: it cannot sign in, but keeps its groups and apps.

use builtin_kit::okta::{LifecycleOutput, lifecycle};
use builtin_kit::UserInput;
use lanyard_sdk::okta::LifecycleOp;
use lanyard_sdk::prelude::*;

struct Suspend;

impl Card for Suspend {
    const NAME: &'static str = "okta.suspend";
    const DESCRIPTION: &'static str = "Suspends an ACTIVE Okta user: it cannot sign in, but keeps its groups and apps. Output: `outcome` (`unchanged` if there was nothing to do), `user_id`, `operation`.";
    type Input = UserInput;
    type Output = LifecycleOutput;

    fn grants() -> Vec<Grant> {
        // users.read only to look a login up.
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.users.lifecycle")]
    }

    fn run(_ctx: &Context, input: UserInput) -> Result<LifecycleOutput, CardError> {
        lifecycle(input, LifecycleOp::Suspend)
    }
}

lanyard_sdk::export_card!(Suspend);
