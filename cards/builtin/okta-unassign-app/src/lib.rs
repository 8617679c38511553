//! `okta.unassign-app`: takes an Okta app away from a user or a group;
//! `unchanged` if it was not assigned to them directly. A user who has the
//! app through a group keeps it: that assignment goes with the membership.

use builtin_kit::okta::{AssignmentOutput, assignment, assignment_grants};
use builtin_kit::{AppRef, GroupRef, UserRef};
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

/// Which app, and from whom: `user` or `group`, not both.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The app: an Okta app id, its label as people see it (`GitHub`), or an app object.
    app: AppRef,
    /// The user to take it from: an Okta user id, a login, or a user object.
    #[serde(default)]
    user: Option<UserRef>,
    /// Or the group to take it from: an Okta group id, its exact name, or a group object.
    #[serde(default)]
    group: Option<GroupRef>,
}

struct UnassignApp;

impl Card for UnassignApp {
    const NAME: &'static str = "okta.unassign-app";
    const DESCRIPTION: &'static str = "Takes an Okta app (by id or label) away from a user or a group. A user who has the app through a group keeps it; remove them from the group instead. Output: `outcome` (`unchanged` if it was not assigned to them directly), `app_id`, and `user_id` or `group_id`.";
    type Input = In;
    type Output = AssignmentOutput;

    fn grants() -> Vec<Grant> {
        assignment_grants()
    }

    fn run(_ctx: &Context, input: In) -> Result<AssignmentOutput, CardError> {
        let a = assignment(&input.app, input.user.as_ref(), input.group.as_ref())?;
        let outcome = okta::unassign_app(&a.app.id, &a.to)?;
        Ok(a.output(outcome))
    }
}

lanyard_sdk::export_card!(UnassignApp);
