//! `okta.assign-app`: assigns an Okta app to one user (optionally with the
//! app's own profile attributes for them) or to a group; `unchanged` (and no
//! Okta event) if it already was, with that profile.

use builtin_kit::okta::{AssignmentOutput, assignment, assignment_grants};
use builtin_kit::{AppRef, GroupRef, UserRef};
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value};

/// Which app, and for whom: `user` or `group`, not both.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The app: an Okta app id, its label as people see it (`GitHub`), or an app object.
    app: AppRef,
    /// The user to assign it to: an Okta user id, a login, or a user object.
    #[serde(default)]
    user: Option<UserRef>,
    /// Or the group to assign it to, whose members then get the app: an Okta
    /// group id, its exact name, or a group object.
    #[serde(default)]
    group: Option<GroupRef>,
    /// The app's own attributes for this user or group (the app user
    /// profile), for example `{ "role": "Developer" }`. Only the attributes
    /// given are set.
    #[serde(default)]
    profile: Option<Map<String, Value>>,
}

struct AssignApp;

impl Card for AssignApp {
    const NAME: &'static str = "okta.assign-app";
    const DESCRIPTION: &'static str = "Assigns an Okta app (by id or label) to a user or to a group, optionally with app profile attributes. Output: `outcome` (`unchanged` if it was already assigned so), `app_id`, and `user_id` or `group_id`.";
    type Input = In;
    type Output = AssignmentOutput;

    fn grants() -> Vec<Grant> {
        assignment_grants()
    }

    fn run(_ctx: &Context, input: In) -> Result<AssignmentOutput, CardError> {
        if input.profile.as_ref().is_some_and(|p| p.keys().any(|k| k.trim().is_empty())) {
            return Err(CardError::invalid_input("`profile` has an attribute with an empty name"));
        }
        let a = assignment(&input.app, input.user.as_ref(), input.group.as_ref())?;
        let outcome = okta::assign_app(&a.app.id, &a.to, input.profile.as_ref())?;
        Ok(a.output(outcome))
    }
}

lanyard_sdk::export_card!(AssignApp);
