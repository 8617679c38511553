//! Okta, through the host's Management API client. The host holds the
//! credentials; the card names what it wants done.
//!
//! Each function needs an Okta scope grant, named in its docs. Writes compare
//! before writing: a no-op reports [`WriteOutcome::Unchanged`] and raises no
//! Okta event. In a dry run the host records writes instead of doing them and
//! answers as if they had succeeded.

use crate::bindings::lanyard::card::okta as wit;
use crate::{CardError, WriteOutcome};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use wit::LifecycleOp;

/// An Okta user (`GET /api/v1/users/{id}` without `_links`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct User {
    pub id: String,
    /// STAGED, PROVISIONED, ACTIVE, RECOVERY, LOCKED_OUT, PASSWORD_EXPIRED,
    /// SUSPENDED or DEPROVISIONED.
    pub status: String,
    pub created: String,
    pub activated: Option<String>,
    pub status_changed: Option<String>,
    pub last_login: Option<String>,
    pub last_updated: String,
    pub password_changed: Option<String>,
    /// `login`, `email`, `firstName`, `lastName`, `department`, `title`,
    /// `managerId` and any custom attributes.
    pub profile: Map<String, Value>,
}

impl User {
    /// `profile.login`, or the id if the profile has none.
    pub fn login(&self) -> &str {
        self.profile_str("login").unwrap_or(&self.id)
    }

    /// A string attribute of the profile.
    pub fn profile_str(&self, name: &str) -> Option<&str> {
        self.profile.get(name).and_then(Value::as_str)
    }
}

fn user(u: wit::User) -> Result<User, CardError> {
    let profile = match serde_json::from_str::<Value>(&u.profile) {
        Ok(Value::Object(map)) => map,
        Ok(_) | Err(_) => {
            return Err(CardError::internal(format!(
                "the host sent user {} with a profile that is not a JSON object",
                u.id
            )));
        }
    };
    Ok(User {
        id: u.id,
        status: u.status,
        created: u.created,
        activated: u.activated,
        status_changed: u.status_changed,
        last_login: u.last_login,
        last_updated: u.last_updated,
        password_changed: u.password_changed,
        profile,
    })
}

/// An Okta group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// OKTA_GROUP, APP_GROUP or BUILT_IN.
    pub group_type: String,
}

fn group(g: wit::Group) -> Group {
    Group {
        id: g.id,
        name: g.name,
        description: g.description,
        group_type: g.group_type,
    }
}

/// An enrolled factor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct Factor {
    pub id: String,
    /// For example `token:software:totp`, `push`, `sms`, `webauthn`.
    pub factor_type: String,
    pub provider: String,
    pub status: String,
    pub created: Option<String>,
}

/// An app assigned to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct AppLink {
    pub id: String,
    pub label: String,
    pub app_name: String,
    pub app_instance_id: String,
    pub app_assignment_id: String,
    pub link_url: String,
}

/// Which users [`list_users`] returns. At most one of `search`, `filter`, `q`.
pub type UserQuery = wit::UserQuery;
/// Which events [`query_logs`] returns.
pub type LogQuery = wit::LogQuery;

impl Default for UserQuery {
    fn default() -> Self {
        UserQuery {
            search: None,
            filter: None,
            q: None,
            limit: None,
        }
    }
}

impl UserQuery {
    /// An Okta search expression, for example `profile.department eq "Sales"`.
    pub fn search(expr: impl Into<String>) -> Self {
        UserQuery {
            search: Some(expr.into()),
            ..Default::default()
        }
    }

    /// An Okta filter expression, for example `status eq "ACTIVE"`.
    pub fn filter(expr: impl Into<String>) -> Self {
        UserQuery {
            filter: Some(expr.into()),
            ..Default::default()
        }
    }
}

impl Default for LogQuery {
    fn default() -> Self {
        LogQuery {
            since: None,
            until: None,
            filter: None,
            q: None,
            limit: None,
        }
    }
}

/// What a profile update did, and the user afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileUpdate {
    /// `unchanged` if every attribute already had its value.
    pub outcome: WriteOutcome,
    /// The user after the update.
    pub user: User,
}

fn users(list: Vec<wit::User>) -> Result<Vec<User>, CardError> {
    list.into_iter().map(user).collect()
}

fn object_json(value: &Map<String, Value>) -> String {
    serde_json::to_string(value).expect("a JSON map serializes")
}

/// One user by id or login. Grant: `okta.users.read`.
pub fn get_user(id_or_login: &str) -> Result<User, CardError> {
    user(wit::get_user(id_or_login)?)
}

/// Users matching a query, every page. Grant: `okta.users.read`.
pub fn list_users(query: &UserQuery) -> Result<Vec<User>, CardError> {
    users(wit::list_users(query)?)
}

/// Create a user, optionally activated and in these groups.
/// Grant: `okta.users.manage`.
pub fn create_user(
    profile: &Map<String, Value>,
    activate: bool,
    group_ids: &[String],
) -> Result<User, CardError> {
    user(wit::create_user(&object_json(profile), activate, group_ids)?)
}

/// Change only the given profile attributes. Grant: `okta.users.manage`.
pub fn update_profile(user_id: &str, changes: &Map<String, Value>) -> Result<ProfileUpdate, CardError> {
    let update = wit::update_profile(user_id, &object_json(changes))?;
    Ok(ProfileUpdate {
        outcome: update.outcome,
        user: user(update.user)?,
    })
}

/// The user's manager from `profile.managerId`, if set and known.
/// Grant: `okta.users.read`.
pub fn get_manager(user_id: &str) -> Result<Option<User>, CardError> {
    wit::get_manager(user_id)?.map(user).transpose()
}

/// Move a user through its lifecycle. Grant: `okta.users.lifecycle`.
pub fn lifecycle(user_id: &str, op: LifecycleOp) -> Result<WriteOutcome, CardError> {
    wit::lifecycle(user_id, op)
}

/// Every group the user is a member of. Grant: `okta.groups.read`.
pub fn list_user_groups(user_id: &str) -> Result<Vec<Group>, CardError> {
    Ok(wit::list_user_groups(user_id)?.into_iter().map(group).collect())
}

/// The group with exactly this name. Grant: `okta.groups.read`.
pub fn find_group(name: &str) -> Result<Option<Group>, CardError> {
    Ok(wit::find_group(name)?.map(group))
}

/// Add a user to a group. Grant: `okta.groups.manage`.
pub fn add_to_group(group_id: &str, user_id: &str) -> Result<WriteOutcome, CardError> {
    wit::add_to_group(group_id, user_id)
}

/// Remove a user from a group. Grant: `okta.groups.manage`.
pub fn remove_from_group(group_id: &str, user_id: &str) -> Result<WriteOutcome, CardError> {
    wit::remove_from_group(group_id, user_id)
}

/// End every session of the user, and with `oauth_tokens` revoke their OAuth
/// tokens too. Grant: `okta.sessions.manage`.
pub fn clear_sessions(user_id: &str, oauth_tokens: bool) -> Result<(), CardError> {
    wit::clear_sessions(user_id, oauth_tokens)
}

/// The factors the user has enrolled. Grant: `okta.factors.read`.
pub fn list_factors(user_id: &str) -> Result<Vec<Factor>, CardError> {
    Ok(wit::list_factors(user_id)?
        .into_iter()
        .map(|f| Factor {
            id: f.id,
            factor_type: f.factor_type,
            provider: f.provider,
            status: f.status,
            created: f.created,
        })
        .collect())
}

/// The apps assigned to the user. Grant: `okta.apps.read`.
pub fn list_app_links(user_id: &str) -> Result<Vec<AppLink>, CardError> {
    Ok(wit::list_app_links(user_id)?
        .into_iter()
        .map(|a| AppLink {
            id: a.id,
            label: a.label,
            app_name: a.app_name,
            app_instance_id: a.app_instance_id,
            app_assignment_id: a.app_assignment_id,
            link_url: a.link_url,
        })
        .collect())
}

/// System Log events (LogEvent JSON objects), oldest first.
/// Grant: `okta.logs.read`.
pub fn query_logs(query: &LogQuery) -> Result<Vec<Value>, CardError> {
    wit::query_logs(query)?
        .iter()
        .map(|e| serde_json::from_str(e).map_err(CardError::from))
        .collect()
}
