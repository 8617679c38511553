//! `okta.create-group`: creates an Okta group, or finds the one that already
//! has the name, so a flow that runs twice makes one group.

use builtin_kit::{Outcome, check_text};
use lanyard_sdk::okta::Group;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Okta's limits on a group's profile.
const MAX_NAME: usize = 255;
const MAX_DESCRIPTION: usize = 1_024;

/// The new group.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The group's name, for example `Project Falcon`. Names are unique in an org.
    name: String,
    /// What the group is for, shown to admins in Okta.
    #[serde(default)]
    description: Option<String>,
}

/// The group, new or found.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// `unchanged` if a group with this name existed (it is left as it was).
    outcome: Outcome,
    /// False when a group with this name existed already.
    created: bool,
    /// The group: `id`, `name`, `description`, `groupType`.
    group: Group,
}

struct CreateGroup;

impl Card for CreateGroup {
    const NAME: &'static str = "okta.create-group";
    const DESCRIPTION: &'static str = "Creates an Okta group with a name and description; if a group with this name exists, it is returned unchanged. Output: `outcome`, `created` (false when it existed) and `group` (`id`, `name`, `description`, `groupType`).";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        vec![Grant::okta("okta.groups.admin")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        check_text("name", &input.name, MAX_NAME)?;
        builtin_kit::check_single_line("name", &input.name)?;
        let description = input.description.as_deref().map(str::trim).filter(|d| !d.is_empty());
        if let Some(d) = description {
            check_text("description", d, MAX_DESCRIPTION)?;
        }
        let created = okta::create_group(input.name.trim(), description)?;
        Ok(Out {
            outcome: created.outcome.into(),
            created: created.outcome == WriteOutcome::Changed,
            group: created.value,
        })
    }
}

lanyard_sdk::export_card!(CreateGroup);
