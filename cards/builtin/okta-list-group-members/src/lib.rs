//! `okta.list-group-members`: one page of a group's members, with the cursor
//! of the next, so a flow pages through a group of any size with a loop
//! instead of holding it all in one step's output.

use builtin_kit::okta::{MAX_MEMBER_PAGE, check_cursor, check_page_size, group};
use builtin_kit::{GroupRef, Page};
use lanyard_sdk::okta::User;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::Deserialize;

/// Which group, and which page.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The group: an Okta group id, its exact name, or a group object.
    group: GroupRef,
    /// Where to start: the `next` of the page before. Leave it out for the first page.
    #[serde(default)]
    after: Option<String>,
    /// How many members a page holds (1 to 1000; default: Okta's, 1000).
    #[serde(default)]
    #[schemars(range(min = 1, max = 1000))]
    page_size: Option<u32>,
}

struct ListGroupMembers;

impl Card for ListGroupMembers {
    const NAME: &'static str = "okta.list-group-members";
    const DESCRIPTION: &'static str = "Lists one page of the members of an Okta group (by id or exact name). Output: `items` (users, as okta.get-user returns them), `count`, and `next`: pass it as `after` for the next page (null on the last).";
    type Input = In;
    type Output = Page<User>;

    fn grants() -> Vec<Grant> {
        vec![Grant::okta("okta.groups.read")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Page<User>, CardError> {
        check_page_size(input.page_size, MAX_MEMBER_PAGE)?;
        let after = input.after.as_deref().map(str::trim);
        check_cursor(after)?;
        let group = group(&input.group)?;
        Ok(okta::list_group_members(&group.id, after, input.page_size)?.into())
    }
}

lanyard_sdk::export_card!(ListGroupMembers);
