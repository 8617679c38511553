//! Okta helpers the `okta.*` cards share: resolving the users, groups, apps
//! and group rules a flow names, the list, page and write-outcome output
//! shapes, and the bodies the lifecycle and app assignment cards have in
//! common.

use crate::refs::{AppRef, GroupRef, RuleRef, UserRef};
use lanyard_sdk::okta::{self, Assignee, LifecycleOp};
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

/// The output of a card that returns one page of a longer list: the list
/// convention plus the cursor of the next page, so a flow can loop over pages.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Page<T> {
    /// The items on this page, in the order Okta gave them.
    pub items: Vec<T>,
    /// How many items are on this page.
    pub count: usize,
    /// The cursor of the next page: pass it as `after` to get that page. Null
    /// on the last page.
    pub next: Option<String>,
}

impl From<okta::UserPage> for Page<okta::User> {
    fn from(page: okta::UserPage) -> Self {
        Page {
            count: page.users.len(),
            items: page.users,
            next: page.next,
        }
    }
}

/// The largest page Okta serves of users (`GET /api/v1/users`).
pub const MAX_USER_PAGE: u32 = 200;
/// The largest page Okta serves of a group's members.
pub const MAX_MEMBER_PAGE: u32 = 1_000;

/// `Err(invalid-input)` unless `page_size` is between 1 and `max`.
pub fn check_page_size(page_size: Option<u32>, max: u32) -> Result<(), CardError> {
    match page_size {
        Some(n) if !(1..=max).contains(&n) => Err(CardError::invalid_input(format!(
            "`page_size` must be between 1 and {max}, not {n}"
        ))),
        _ => Ok(()),
    }
}

/// `Err(invalid-input)` for an `after` cursor that is empty or could not be
/// one Okta gave (cursors are short, one line).
pub fn check_cursor(after: Option<&str>) -> Result<(), CardError> {
    if let Some(after) = after {
        crate::check_text("after", after, crate::refs::MAX_REF)?;
        crate::check_single_line("after", after)?;
    }
    Ok(())
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

/// An app as resolved from an [`AppRef`]: its id, and its label when it was
/// looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedApp {
    pub id: String,
    pub label: Option<String>,
}

/// The app a flow named. A label is looked up (grant `okta.apps.read`): the
/// app people see under that label, else the one with that catalog name; an
/// id is used as is, and Okta says `not-found` if there is no such app.
pub fn app(app: &AppRef) -> Result<ResolvedApp, CardError> {
    match app {
        AppRef::Id(id) => Ok(ResolvedApp { id: id.clone(), label: None }),
        AppRef::Label(label) => match okta::find_app(label)? {
            Some(a) => Ok(ResolvedApp { id: a.id, label: Some(a.label) }),
            None => Err(CardError::not_found(format!("no Okta app is labelled `{label}`"))),
        },
    }
}

/// A group rule as resolved from a [`RuleRef`]: its id, and its name when it
/// was looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedRule {
    pub id: String,
    pub name: Option<String>,
}

/// The group rule a flow named. A name is looked up (grant
/// `okta.groups.read`) and must match exactly; an id is used as is.
pub fn rule(rule: &RuleRef) -> Result<ResolvedRule, CardError> {
    match rule {
        RuleRef::Id(id) => Ok(ResolvedRule { id: id.clone(), name: None }),
        RuleRef::Name(name) => match okta::find_group_rule(name)? {
            Some(r) => Ok(ResolvedRule { id: r.id, name: Some(r.name) }),
            None => Err(CardError::not_found(format!("no Okta group rule is named `{name}`"))),
        },
    }
}

/// An app assignment a flow asked for: the app, and the user or the group.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub app: ResolvedApp,
    pub to: Assignee,
    /// The group's name, when the flow named the group by name.
    pub group_name: Option<String>,
}

/// Resolve an app assignment's input: exactly one of `user` and `group`,
/// checked before anything is looked up. Grants: `okta.apps.read` for a
/// label, `okta.users.read` for a login, `okta.groups.read` for a group name.
pub fn assignment(app_ref: &AppRef, user: Option<&UserRef>, group: Option<&GroupRef>) -> Result<Assignment, CardError> {
    if user.is_none() == group.is_none() {
        return Err(CardError::invalid_input(if user.is_some() {
            "give `user` or `group`, not both: one assignment per step"
        } else {
            "give `user` (an Okta user) or `group` (an Okta group): whom the app is for"
        }));
    }
    let app = self::app(app_ref)?;
    let (to, group_name) = match (user, group) {
        (Some(u), _) => (Assignee::User(user_id(u)?), None),
        (None, Some(g)) => {
            let g = self::group(g)?;
            (Assignee::Group(g.id), g.name)
        }
        (None, None) => unreachable!("checked above"),
    };
    Ok(Assignment { app, to, group_name })
}

/// What an app assignment card returns.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AssignmentOutput {
    /// `unchanged` if there was nothing to do.
    pub outcome: Outcome,
    /// The app's Okta id.
    pub app_id: String,
    /// The app's label, when the flow named the app by label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_label: Option<String>,
    /// The user's Okta id, for a user's assignment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// The group's Okta id, for a group's assignment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// The group's name, when the flow named the group by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_name: Option<String>,
}

impl Assignment {
    /// The card's output once the write said `outcome`.
    pub fn output(self, outcome: WriteOutcome) -> AssignmentOutput {
        let (user_id, group_id) = match self.to {
            Assignee::User(id) => (Some(id), None),
            Assignee::Group(id) => (None, Some(id)),
        };
        AssignmentOutput {
            outcome: outcome.into(),
            app_id: self.app.id,
            app_label: self.app.label,
            user_id,
            group_id,
            group_name: self.group_name,
        }
    }
}

/// The grants of a card that assigns or unassigns apps: `okta.apps.manage`,
/// and reading apps, users and groups to look a label, login or name up.
pub fn assignment_grants() -> Vec<Grant> {
    vec![
        Grant::okta("okta.apps.read"),
        Grant::okta("okta.users.read"),
        Grant::okta("okta.groups.read"),
        Grant::okta("okta.apps.manage"),
    ]
}

/// What the cards that switch a group rule on or off return.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RuleStateOutput {
    /// `unchanged` if the rule already was in that state.
    pub outcome: Outcome,
    /// The rule's Okta id.
    pub rule_id: String,
    /// The rule's name, when the flow named the rule by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<String>,
}

/// The body of `okta.activate-group-rule` and `okta.deactivate-group-rule`.
/// Grants: `okta.groups.read` (for a name) and `okta.groups.admin`.
pub fn set_rule_active(rule_ref: &RuleRef, active: bool) -> Result<RuleStateOutput, CardError> {
    let rule = self::rule(rule_ref)?;
    let outcome = okta::set_group_rule_active(&rule.id, active)?;
    Ok(RuleStateOutput {
        outcome: outcome.into(),
        rule_id: rule.id,
        rule_name: rule.name,
    })
}

/// The input of the cards that switch a group rule on or off.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// The group rule: an Okta group rule id, its exact name, or a rule object.
    pub rule: RuleRef,
}

/// What the cards that change one user and nothing else return.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UserOutcome {
    /// `unchanged` if there was nothing to do.
    pub outcome: Outcome,
    /// The user's Okta id.
    pub user_id: String,
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
