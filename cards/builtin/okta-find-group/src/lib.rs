//! `okta.find-group`: the group with exactly this name, if there is one.

use builtin_kit::check_text;
use lanyard_sdk::okta::Group;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which group.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The group's exact name, for example `Engineering`.
    name: String,
}

/// The group, if there is one.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// False when no group has this name.
    found: bool,
    /// The group (`id`, `name`, `description`, `groupType`), or null.
    group: Option<Group>,
}

struct FindGroup;

impl Card for FindGroup {
    const NAME: &'static str = "okta.find-group";
    const DESCRIPTION: &'static str = "Finds the Okta group with exactly this name. Output: `found` and `group` (`id`, `name`, `description`, `groupType`) or null.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        vec![Grant::okta("okta.groups.read")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        check_text("name", &input.name, builtin_kit::refs::MAX_REF)?;
        let group = okta::find_group(input.name.trim())?;
        Ok(Out {
            found: group.is_some(),
            group,
        })
    }
}

lanyard_sdk::export_card!(FindGroup);
