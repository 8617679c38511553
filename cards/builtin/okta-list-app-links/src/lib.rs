//! `okta.list-app-links`: the apps assigned to a user (the app access a
//! title or department change may need to re-check).

use builtin_kit::okta::user_id;
use builtin_kit::{List, UserInput};
use lanyard_sdk::okta::AppLink;
use lanyard_sdk::prelude::*;

struct ListAppLinks;

impl Card for ListAppLinks {
    const NAME: &'static str = "okta.list-app-links";
    const DESCRIPTION: &'static str = "Lists the apps assigned to an Okta user. Output: `items` (`label`, `appName`, `appInstanceId`, `appAssignmentId`, `linkUrl`) and `count`.";
    type Input = UserInput;
    type Output = List<AppLink>;

    fn grants() -> Vec<Grant> {
        // users.read only to look a login up.
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.apps.read")]
    }

    fn run(_ctx: &Context, input: UserInput) -> Result<List<AppLink>, CardError> {
        let id = user_id(&input.user)?;
        Ok(okta::list_app_links(&id)?.into())
    }
}

lanyard_sdk::export_card!(ListAppLinks);
