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

/// An app instance in the org.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct App {
    pub id: String,
    /// The app's key in Okta's catalog, for example `github` or `bookmark`.
    pub name: String,
    /// The name people see, for example `GitHub`.
    pub label: String,
    /// ACTIVE or INACTIVE.
    pub status: String,
    /// For example `SAML_2_0`, `OPENID_CONNECT`, `BOOKMARK`.
    pub sign_on_mode: String,
}

fn app(a: wit::App) -> App {
    App {
        id: a.id,
        name: a.name,
        label: a.label,
        status: a.status,
        sign_on_mode: a.sign_on_mode,
    }
}

/// A user's assignment to an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppUser {
    /// The user's Okta id.
    pub id: String,
    /// USER when assigned directly, GROUP when through a group.
    pub scope: String,
    /// For example ACTIVE, PROVISIONED, STAGED.
    pub status: String,
    /// The username the app knows the user by, if the app has one.
    pub user_name: Option<String>,
    /// The app user profile: the app's own attributes for this user.
    pub profile: Map<String, Value>,
}

/// A group's assignment to an app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppGroup {
    /// The group's Okta id.
    pub id: String,
    /// Which group's profile wins when a user is in several assigned groups.
    pub priority: Option<u32>,
    /// The app profile the group's members get.
    pub profile: Map<String, Value>,
}

/// Who an app is assigned to: a user or a group, by id.
pub type Assignee = wit::Assignee;

/// One page of users, and the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct UserPage {
    /// The users on this page.
    pub users: Vec<User>,
    /// Pass as `after` to get the next page; none on the last.
    pub next: Option<String>,
}

fn user_page(p: wit::UserPage) -> Result<UserPage, CardError> {
    Ok(UserPage {
        users: users(p.users)?,
        next: p.next,
    })
}

/// A group rule: users whose profile matches `expression` are put in `group_ids`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupRule {
    /// The rule's Okta id.
    pub id: String,
    /// The rule's name.
    pub name: String,
    /// ACTIVE, INACTIVE or INVALID. Okta creates rules INACTIVE.
    pub status: String,
    /// Okta Expression Language, for example `user.department == "Engineering"`.
    pub expression: String,
    /// The groups the rule puts users in.
    pub group_ids: Vec<String>,
}

fn group_rule(r: wit::GroupRule) -> GroupRule {
    GroupRule {
        id: r.id,
        name: r.name,
        status: r.status,
        expression: r.expression,
        group_ids: r.group_ids,
    }
}

/// What creating something did (`unchanged`: it existed already, as asked),
/// and the thing.
#[derive(Debug, Clone, PartialEq)]
pub struct Created<T> {
    /// `unchanged` if it existed already.
    pub outcome: WriteOutcome,
    /// The thing, new or found.
    pub value: T,
}

/// A Management API request for the custom API action.
pub type ApiRequest = wit::ApiRequest;

/// Okta's answer to a custom API action; non-2xx statuses are answers too.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiResponse {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body (`null` when there is none).
    pub body: Value,
    /// The `after` cursor of the `rel="next"` page, if Okta sent one.
    pub next: Option<String>,
}

/// One page of the users matching a query (`query.limit`: the page size, at
/// most 200), from the cursor `after`. Grant: `okta.users.read`.
pub fn list_users_page(query: &UserQuery, after: Option<&str>) -> Result<UserPage, CardError> {
    user_page(wit::list_users_page(query, after)?)
}

/// Delete a user (deactivating it first if it is not); `unchanged` if there
/// is no such user. Grant: `okta.users.lifecycle`.
pub fn delete_user(user_id: &str, send_email: bool) -> Result<WriteOutcome, CardError> {
    wit::delete_user(user_id, send_email)
}

/// Make the user choose a new password at the next sign-in.
/// Grant: `okta.users.credentials`.
pub fn expire_password(user_id: &str) -> Result<WriteOutcome, CardError> {
    wit::expire_password(user_id)
}

/// Start a password reset: with `send_email` Okta emails the link and the
/// answer is none; without, the answer is the one-time reset link.
/// Grant: `okta.users.credentials`.
pub fn reset_password(user_id: &str, send_email: bool) -> Result<Option<String>, CardError> {
    wit::reset_password(user_id, send_email)
}

/// Unenroll every factor of the user. Grant: `okta.factors.manage`.
pub fn reset_factors(user_id: &str) -> Result<WriteOutcome, CardError> {
    wit::reset_factors(user_id)
}

/// Unenroll one factor. Grant: `okta.factors.manage`.
pub fn reset_factor(user_id: &str, factor_id: &str) -> Result<WriteOutcome, CardError> {
    wit::reset_factor(user_id, factor_id)
}

/// The app with exactly this label (or, failing that, this catalog name).
/// Grant: `okta.apps.read`.
pub fn find_app(label: &str) -> Result<Option<App>, CardError> {
    Ok(wit::find_app(label)?.map(app))
}

fn json_object(what: &str, text: &str) -> Result<Map<String, Value>, CardError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) | Err(_) => Err(CardError::internal(format!(
            "the host sent {what} that is not a JSON object"
        ))),
    }
}

/// Every user assigned to the app, directly or through a group.
/// Grant: `okta.apps.read`.
pub fn list_app_users(app_id: &str) -> Result<Vec<AppUser>, CardError> {
    wit::list_app_users(app_id)?
        .into_iter()
        .map(|u| {
            Ok(AppUser {
                profile: json_object(&format!("app user {} with a profile", u.id), &u.profile)?,
                id: u.id,
                scope: u.scope,
                status: u.status,
                user_name: u.user_name,
            })
        })
        .collect()
}

/// Every group assigned to the app. Grant: `okta.apps.read`.
pub fn list_app_groups(app_id: &str) -> Result<Vec<AppGroup>, CardError> {
    wit::list_app_groups(app_id)?
        .into_iter()
        .map(|g| {
            Ok(AppGroup {
                profile: json_object(&format!("app group {} with a profile", g.id), &g.profile)?,
                id: g.id,
                priority: g.priority,
            })
        })
        .collect()
}

/// Assign the app to a user (with this app user profile, if given) or a
/// group. Grant: `okta.apps.manage`.
pub fn assign_app(app_id: &str, to: &Assignee, profile: Option<&Map<String, Value>>) -> Result<WriteOutcome, CardError> {
    let profile = profile.map(object_json);
    wit::assign_app(app_id, to, profile.as_deref())
}

/// Take the app away from a user or group. Grant: `okta.apps.manage`.
pub fn unassign_app(app_id: &str, from: &Assignee) -> Result<WriteOutcome, CardError> {
    wit::unassign_app(app_id, from)
}

/// Create a group, or find the one with this name (`unchanged`).
/// Grant: `okta.groups.admin`.
pub fn create_group(name: &str, description: Option<&str>) -> Result<Created<Group>, CardError> {
    let c = wit::create_group(name, description)?;
    Ok(Created {
        outcome: c.outcome,
        value: group(c.group),
    })
}

/// Rename a group or change its description (Okta replaces both).
/// Grant: `okta.groups.admin`.
pub fn update_group(group_id: &str, name: &str, description: Option<&str>) -> Result<WriteOutcome, CardError> {
    wit::update_group(group_id, name, description)
}

/// Delete a group. Grant: `okta.groups.admin`.
pub fn delete_group(group_id: &str) -> Result<WriteOutcome, CardError> {
    wit::delete_group(group_id)
}

/// One page of a group's members (`limit`: the page size, at most 1000).
/// Grant: `okta.groups.read`.
pub fn list_group_members(group_id: &str, after: Option<&str>, limit: Option<u32>) -> Result<UserPage, CardError> {
    user_page(wit::list_group_members(group_id, after, limit)?)
}

/// The group rule with exactly this name. Grant: `okta.groups.read`.
pub fn find_group_rule(name: &str) -> Result<Option<GroupRule>, CardError> {
    Ok(wit::find_group_rule(name)?.map(group_rule))
}

/// Create a group rule (INACTIVE, as Okta creates them), or find the same
/// one (`unchanged`). Grant: `okta.groups.admin`.
pub fn create_group_rule(name: &str, expression: &str, group_ids: &[String]) -> Result<Created<GroupRule>, CardError> {
    let c = wit::create_group_rule(name, expression, group_ids)?;
    Ok(Created {
        outcome: c.outcome,
        value: group_rule(c.rule),
    })
}

/// Activate or deactivate a group rule. Grant: `okta.groups.admin`.
pub fn set_group_rule_active(rule_id: &str, active: bool) -> Result<WriteOutcome, CardError> {
    wit::set_group_rule_active(rule_id, active)
}

/// The custom API action: one Management API operation with the daemon's
/// Okta credentials. Grant: `okta:api:<scope>` for one of the OAuth scopes
/// Okta's spec lists for the operation.
pub fn api_call(request: &ApiRequest) -> Result<ApiResponse, CardError> {
    let r = wit::api_call(request)?;
    let body = if r.body.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&r.body)?
    };
    Ok(ApiResponse {
        status: r.status,
        body,
        next: r.next,
    })
}
