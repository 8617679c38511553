//! `okta.list-app-users`: everyone an app is assigned to, directly or through
//! a group (the access review's question).

use builtin_kit::okta::app;
use builtin_kit::{AppRef, List};
use lanyard_sdk::okta::AppUser;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

/// Which app.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The app: an Okta app id, its label as people see it (`GitHub`), or an app object.
    app: AppRef,
}

struct ListAppUsers;

impl Card for ListAppUsers {
    const NAME: &'static str = "okta.list-app-users";
    const DESCRIPTION: &'static str = "Lists the users an Okta app (by id or label) is assigned to, directly or through a group. Output: `items` (`id` of the user, `scope` USER or GROUP, `status`, `userName`, `profile`: the app's attributes) and `count`.";
    type Input = In;
    type Output = List<AppUser>;

    fn grants() -> Vec<Grant> {
        vec![Grant::okta("okta.apps.read")]
    }

    fn run(_ctx: &Context, input: In) -> Result<List<AppUser>, CardError> {
        let app = app(&input.app)?;
        Ok(okta::list_app_users(&app.id)?.into())
    }
}

lanyard_sdk::export_card!(ListAppUsers);
