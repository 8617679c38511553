//! `okta.update-group`: renames a group or changes its description. Okta
//! replaces both at once, so what the flow leaves out is kept from the group
//! as it is, which the card reads by the group's name.

use builtin_kit::okta::members_managed_by_okta;
use builtin_kit::{GroupRef, Outcome, check_single_line, check_text};
use lanyard_sdk::okta::Group;
use lanyard_sdk::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

const MAX_NAME: usize = 255;
const MAX_DESCRIPTION: usize = 1_024;

/// Which group, and what changes.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct In {
    /// The group: its exact name, a group object, or an Okta group id (with an
    /// id, give both `name` and `description`: there is no reading a group by id).
    group: GroupRef,
    /// The new name (default: keep it).
    #[serde(default)]
    name: Option<String>,
    /// The new description; `""` clears it (default: keep it).
    #[serde(default)]
    description: Option<String>,
}

/// The group as it is now.
#[derive(Serialize, JsonSchema)]
struct Out {
    /// `unchanged` if the group already had this name and description.
    outcome: Outcome,
    /// The group's Okta id.
    group_id: String,
    /// Its name now.
    name: String,
    /// Its description now, or null.
    description: Option<String>,
}

/// The group as it is, when the flow named it by name (or passed an object
/// with one): the name is looked up and must be this group.
fn current(group: &GroupRef) -> Result<Option<Group>, CardError> {
    let (name, id) = match group {
        GroupRef::Name(name) => (name, None),
        GroupRef::Object { id, name: Some(name), .. } => (name, Some(id)),
        GroupRef::Object { name: None, .. } | GroupRef::Id(_) => return Ok(None),
    };
    match okta::find_group(name)? {
        Some(g) if id.is_none_or(|id| *id == g.id) => Ok(Some(g)),
        // An object whose name is now another group's: it was renamed.
        Some(_) => Ok(None),
        None if id.is_none() => Err(CardError::not_found(format!("no Okta group is named `{name}`"))),
        None => Ok(None),
    }
}

struct UpdateGroup;

impl Card for UpdateGroup {
    const NAME: &'static str = "okta.update-group";
    const DESCRIPTION: &'static str = "Renames an Okta group or changes its description; what is left out stays as it is. Name the group by its exact name (or give both `name` and `description` with an id). BUILT_IN and APP_GROUP groups cannot be changed. Output: `outcome` (`unchanged` if nothing differed), `group_id`, `name`, `description`.";
    type Input = In;
    type Output = Out;

    fn grants() -> Vec<Grant> {
        // groups.read only to look the group up by name.
        vec![Grant::okta("okta.groups.read"), Grant::okta("okta.groups.admin")]
    }

    fn run(_ctx: &Context, input: In) -> Result<Out, CardError> {
        if input.name.is_none() && input.description.is_none() {
            return Err(CardError::invalid_input("give a new `name`, a new `description`, or both"));
        }
        if let Some(name) = &input.name {
            check_text("name", name, MAX_NAME)?;
            check_single_line("name", name)?;
        }
        if let Some(d) = &input.description
            && d.chars().count() > MAX_DESCRIPTION
        {
            return Err(CardError::invalid_input(format!("`description` is over the limit of {MAX_DESCRIPTION} characters")));
        }
        let current = current(&input.group)?;
        if current.is_none() && (input.name.is_none() || input.description.is_none()) {
            return Err(CardError::invalid_input(format!(
                "group `{}` is named by id: give both `name` and `description` (Okta replaces both), or name the group by its exact name",
                input.group.as_str()
            )));
        }
        if let Some(g) = &current
            && members_managed_by_okta(&g.group_type)
        {
            return Err(CardError::invalid_input(format!(
                "group `{}` is {}: Okta manages it, a flow cannot rename or describe it",
                g.name, g.group_type
            )));
        }
        let group_id = match (&current, &input.group) {
            (Some(g), _) => g.id.clone(),
            (None, group) => group.as_str().to_string(),
        };
        let name = match (input.name, &current) {
            (Some(n), _) => n.trim().to_string(),
            (None, Some(g)) => g.name.clone(),
            (None, None) => unreachable!("checked above"),
        };
        let description = match (input.description, &current) {
            (Some(d), _) => Some(d.trim().to_string()).filter(|d| !d.is_empty()),
            (None, Some(g)) => g.description.clone(),
            (None, None) => unreachable!("checked above"),
        };
        let outcome = okta::update_group(&group_id, &name, description.as_deref())?;
        Ok(Out {
            outcome: outcome.into(),
            group_id,
            name,
            description,
        })
    }
}

lanyard_sdk::export_card!(UpdateGroup);
