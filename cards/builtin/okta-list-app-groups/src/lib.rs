//! `okta.list-app-groups`: the groups an app is assigned to.

use builtin_kit::okta::app;
use builtin_kit::{AppRef, List};
use lanyard_sdk::okta::AppGroup;
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

struct ListAppGroups;

impl Card for ListAppGroups {
    const NAME: &'static str = "okta.list-app-groups";
    const DESCRIPTION: &'static str = "Lists the groups an Okta app (by id or label) is assigned to. Output: `items` (`id` of the group, `priority`, `profile`: the app's attributes for its members) and `count`.";
    type Input = In;
    type Output = List<AppGroup>;

    fn grants() -> Vec<Grant> {
        vec![Grant::okta("okta.apps.read")]
    }

    fn run(_ctx: &Context, input: In) -> Result<List<AppGroup>, CardError> {
        let app = app(&input.app)?;
        Ok(okta::list_app_groups(&app.id)?.into())
    }
}

lanyard_sdk::export_card!(ListAppGroups);
