//! Okta helpers the `okta.*` cards share: resolving the users and groups a flow
//! names, the list and write-outcome output shapes, and the lifecycle cards'
//! common body.

use crate::refs::{GroupRef, UserRef};
use lanyard_sdk::okta::{self, LifecycleOp};
use lanyard_sdk::{CardError, Grant, WriteOutcome};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a write did. Writes compare before writing: a no-op is `unchanged` and
/// raises no Okta event, so a flow triggered by that event cannot loop on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Changed,
    Unchanged,
}

impl From<WriteOutcome> for Outcome {
    fn from(o: WriteOutcome) -> Self {
        match o {
            WriteOutcome::Changed => Outcome::Changed,
            WriteOutcome::Unchanged => Outcome::Unchanged,
        }
    }
}

/// The output of every card that returns a list: the items, and how many there
/// are (`{{ step.count == 0 }}` in a condition, `{{ step.items }}` in a for-each).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct List<T> {
    /// The items, in the order the source gave them.
    pub items: Vec<T>,
    /// How many items there are.
    pub count: usize,
}

impl<T> From<Vec<T>> for List<T> {
    fn from(items: Vec<T>) -> Self {
        List { count: items.len(), items }
    }
}

/// The input of cards that take one user and nothing else.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UserInput {
    /// The user: an Okta user id, a login, or a user object.
    pub user: UserRef,
}

/// The user's Okta id. A login is looked up (grant `okta.users.read`); an id is
/// used as is, and Okta says `not-found` if there is no such user.
pub fn user_id(user: &UserRef) -> Result<String, CardError> {
    match user {
        UserRef::Id(id) => Ok(id.clone()),
        UserRef::Login(login) => Ok(okta::get_user(login)?.id),
    }
}

/// A group as resolved from a [`GroupRef`]: its id, and its name and type when
/// they were looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedGroup {
    pub id: String,
    pub name: Option<String>,
    pub group_type: Option<String>,
}

/// The group a flow named. A name is looked up (grant `okta.groups.read`) and
/// must match exactly; an id is used as is, and so is a group object's `id`
/// (its `name` and `groupType` are kept for the output and the checks).
pub fn group(group: &GroupRef) -> Result<ResolvedGroup, CardError> {
    match group {
        GroupRef::Id(id) => Ok(ResolvedGroup {
            id: id.clone(),
            name: None,
            group_type: None,
        }),
        GroupRef::Object { id, name, group_type } => Ok(ResolvedGroup {
            id: id.clone(),
            name: name.clone(),
            group_type: group_type.clone(),
        }),
        GroupRef::Name(name) => match okta::find_group(name)? {
            Some(g) => Ok(ResolvedGroup {
                id: g.id,
                name: Some(g.name),
                group_type: Some(g.group_type),
            }),
            None => Err(CardError::not_found(format!("no Okta group is named `{name}`"))),
        },
    }
}

/// The grants of a card that changes group memberships: `okta.groups.manage`,
/// and reading users and groups to look a login or a group name up.
pub fn membership_grants() -> Vec<Grant> {
    vec![
        Grant::okta("okta.users.read"),
        Grant::okta("okta.groups.read"),
        Grant::okta("okta.groups.manage"),
    ]
}

/// Whether Okta lets an API client change this group's members directly:
/// `BUILT_IN` (Everyone) holds every user, and `APP_GROUP` members come from
/// the app that imports them.
pub fn members_managed_by_okta(group_type: &str) -> bool {
    matches!(group_type, "BUILT_IN" | "APP_GROUP")
}

/// `Err(invalid-input)` for a group whose members Okta manages itself.
pub fn check_writable(group: &ResolvedGroup) -> Result<(), CardError> {
    match (&group.group_type, &group.name) {
        (Some(t), Some(name)) if members_managed_by_okta(t) => Err(CardError::invalid_input(format!(
            "group `{name}` is {t}: Okta manages its members, a flow cannot change them"
        ))),
        _ => Ok(()),
    }
}

/// What a lifecycle card returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LifecycleOutput {
    /// `unchanged` if the user was already in the state the operation leads to.
    pub outcome: Outcome,
    /// The user's Okta id.
    pub user_id: String,
    /// The operation: activate, reactivate, deactivate, suspend, unsuspend or unlock.
    pub operation: String,
}

/// The body of `okta.activate`, `okta.deactivate`, ...: resolve the user, move
/// it. Grants: `okta.users.read` (for a login) and `okta.users.lifecycle`.
pub fn lifecycle(input: UserInput, op: LifecycleOp) -> Result<LifecycleOutput, CardError> {
    let user_id = user_id(&input.user)?;
    let outcome = okta::lifecycle(&user_id, op)?;
    let operation = match op {
        LifecycleOp::Activate => "activate",
        LifecycleOp::Reactivate => "reactivate",
        LifecycleOp::Deactivate => "deactivate",
        LifecycleOp::Suspend => "suspend",
        LifecycleOp::Unsuspend => "unsuspend",
        LifecycleOp::Unlock => "unlock",
    };
    Ok(LifecycleOutput {
        outcome: outcome.into(),
        user_id,
        operation: operation.to_string(),
    })
}
