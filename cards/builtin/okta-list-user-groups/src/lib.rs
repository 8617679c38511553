//! `okta.list-user-groups`: the groups a user is a member of.

use builtin_kit::okta::user_id;
use builtin_kit::{List, UserInput};
use lanyard_sdk::okta::Group;
use lanyard_sdk::prelude::*;

struct ListUserGroups;

impl Card for ListUserGroups {
    const NAME: &'static str = "okta.list-user-groups";
    const DESCRIPTION: &'static str = "Lists every group an Okta user is a member of. Output: `items` (groups: `id`, `name`, `description`, `groupType` OKTA_GROUP, APP_GROUP or BUILT_IN) and `count`.";
    type Input = UserInput;
    type Output = List<Group>;

    fn grants() -> Vec<Grant> {
        // users.read only to look a login up.
        vec![Grant::okta("okta.users.read"), Grant::okta("okta.groups.read")]
    }

    fn run(_ctx: &Context, input: UserInput) -> Result<List<Group>, CardError> {
        let id = user_id(&input.user)?;
        Ok(okta::list_user_groups(&id)?.into())
    }
}

lanyard_sdk::export_card!(ListUserGroups);
