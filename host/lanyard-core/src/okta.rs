//! The Okta capability: the operations cards may ask the host to perform, and
//! the scopes that grant them.
//!
//! The types follow Okta's own JSON (camelCase), so the Management API client can
//! deserialize Okta's responses into them directly. Implemented by `lanyard-okta`
//! (a real client against a real org, or the sandbox org); called by the card
//! runtime after it has checked the card's grants.

use crate::caps::WriteOutcome;
use crate::error::CardError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// An Okta user (`GET /api/v1/users/{id}`, without `_links`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    pub status: String,
    pub created: String,
    #[serde(default)]
    pub activated: Option<String>,
    #[serde(default)]
    pub status_changed: Option<String>,
    #[serde(default)]
    pub last_login: Option<String>,
    pub last_updated: String,
    #[serde(default)]
    pub password_changed: Option<String>,
    pub profile: Map<String, Value>,
}

impl User {
    /// `profile.login`, or the id if the profile has none.
    pub fn login(&self) -> &str {
        self.profile
            .get("login")
            .and_then(Value::as_str)
            .unwrap_or(&self.id)
    }
}

/// An Okta group, flattened from Okta's `{id, type, profile: {name, description}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// OKTA_GROUP, APP_GROUP or BUILT_IN.
    pub group_type: String,
}

/// An enrolled factor (`GET /api/v1/users/{id}/factors`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Factor {
    pub id: String,
    pub factor_type: String,
    pub provider: String,
    pub status: String,
    #[serde(default)]
    pub created: Option<String>,
}

/// An app assigned to a user (`GET /api/v1/users/{id}/appLinks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppLink {
    pub id: String,
    pub label: String,
    pub app_name: String,
    pub app_instance_id: String,
    pub app_assignment_id: String,
    pub link_url: String,
}

/// Which users to list; at most one of `search`, `filter`, `q`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserQuery {
    #[serde(default)]
    pub search: Option<String>,
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A System Log query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogQuery {
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// User lifecycle transitions (`POST /api/v1/users/{id}/lifecycle/{op}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleOp {
    Activate,
    Reactivate,
    Deactivate,
    Suspend,
    Unsuspend,
    Unlock,
}

impl LifecycleOp {
    /// The path segment Okta uses.
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleOp::Activate => "activate",
            LifecycleOp::Reactivate => "reactivate",
            LifecycleOp::Deactivate => "deactivate",
            LifecycleOp::Suspend => "suspend",
            LifecycleOp::Unsuspend => "unsuspend",
            LifecycleOp::Unlock => "unlock",
        }
    }
}

/// What a profile update did, and the user afterwards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileUpdate {
    pub outcome: WriteOutcome,
    pub user: User,
}

/// An app instance (`GET /api/v1/apps/{appId}`), flattened to what flows use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct App {
    pub id: String,
    /// The app's key in Okta's catalog (`github`, `bookmark`).
    pub name: String,
    pub label: String,
    pub status: String,
    #[serde(default)]
    pub sign_on_mode: String,
}

/// A user's assignment to an app (`GET /api/v1/apps/{appId}/users/{userId}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppUser {
    /// The user's id.
    pub id: String,
    /// USER (direct) or GROUP (through a group).
    pub scope: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub user_name: Option<String>,
    #[serde(default)]
    pub profile: Map<String, Value>,
}

/// A group's assignment to an app (`GET /api/v1/apps/{appId}/groups/{groupId}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppGroup {
    /// The group's id.
    pub id: String,
    #[serde(default)]
    pub priority: Option<u32>,
    #[serde(default)]
    pub profile: Map<String, Value>,
}

/// Who an app is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Assignee {
    User(String),
    Group(String),
}

impl Assignee {
    /// The user's or group's id.
    pub fn id(&self) -> &str {
        match self {
            Assignee::User(id) | Assignee::Group(id) => id,
        }
    }
}

/// One page of users and the `after` cursor of the next (none on the last).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserPage {
    pub users: Vec<User>,
    #[serde(default)]
    pub next: Option<String>,
}

/// A group rule, flattened from Okta's `{id, name, status, conditions:
/// {expression: {value}}, actions: {assignUserToGroups: {groupIds}}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRule {
    pub id: String,
    pub name: String,
    pub status: String,
    pub expression: String,
    pub group_ids: Vec<String>,
}

impl GroupRule {
    /// Whether this rule puts the users `expression` matches in exactly
    /// `group_ids`: creating it again would change nothing.
    pub fn defines(&self, expression: &str, group_ids: &[String]) -> bool {
        self.expression == expression && self.group_ids == group_ids
    }
}

/// What creating a group did (`Unchanged`: one with that name existed), and
/// the group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupCreated {
    pub outcome: WriteOutcome,
    pub group: Group,
}

/// What creating a group rule did, and the rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCreated {
    pub outcome: WriteOutcome,
    pub rule: GroupRule,
}

/// A custom API action's request: one Management API operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiRequest {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    /// The path, without the query; `/api/v1/...`.
    pub path: String,
    #[serde(default)]
    pub query: Vec<(String, String)>,
    #[serde(default)]
    pub body: Option<Value>,
}

/// Okta's answer to a custom API action (any status).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiResponse {
    pub status: u16,
    /// The JSON body; `null` when there is none.
    pub body: Value,
    /// The `after` cursor of the `rel="next"` link.
    #[serde(default)]
    pub next: Option<String>,
}

/// An Okta write whose whole result is a [`WriteOutcome`]: what
/// [`OktaApi::write`] does and [`OktaApi::plan`] compares without doing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "write")]
pub enum OktaWrite {
    #[serde(rename_all = "camelCase")]
    Lifecycle { user_id: String, op: LifecycleOp },
    #[serde(rename_all = "camelCase")]
    AddToGroup { group_id: String, user_id: String },
    #[serde(rename_all = "camelCase")]
    RemoveFromGroup { group_id: String, user_id: String },
    #[serde(rename_all = "camelCase")]
    DeleteUser { user_id: String, send_email: bool },
    #[serde(rename_all = "camelCase")]
    ExpirePassword { user_id: String },
    #[serde(rename_all = "camelCase")]
    ResetFactors { user_id: String },
    #[serde(rename_all = "camelCase")]
    ResetFactor { user_id: String, factor_id: String },
    #[serde(rename_all = "camelCase")]
    AssignApp {
        app_id: String,
        to: Assignee,
        #[serde(default)]
        profile: Option<Map<String, Value>>,
    },
    #[serde(rename_all = "camelCase")]
    UnassignApp { app_id: String, from: Assignee },
    #[serde(rename_all = "camelCase")]
    UpdateGroup {
        group_id: String,
        name: String,
        #[serde(default)]
        description: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    DeleteGroup { group_id: String },
    #[serde(rename_all = "camelCase")]
    SetGroupRuleActive { rule_id: String, active: bool },
}

impl OktaWrite {
    /// The WIT function's name (`lifecycle/<op>` for transitions), as a dry
    /// run's record names the write.
    pub fn operation(&self) -> String {
        match self {
            OktaWrite::Lifecycle { op, .. } => format!("lifecycle/{}", op.as_str()),
            OktaWrite::AddToGroup { .. } => "add-to-group".into(),
            OktaWrite::RemoveFromGroup { .. } => "remove-from-group".into(),
            OktaWrite::DeleteUser { .. } => "delete-user".into(),
            OktaWrite::ExpirePassword { .. } => "expire-password".into(),
            OktaWrite::ResetFactors { .. } => "reset-factors".into(),
            OktaWrite::ResetFactor { .. } => "reset-factor".into(),
            OktaWrite::AssignApp { .. } => "assign-app".into(),
            OktaWrite::UnassignApp { .. } => "unassign-app".into(),
            OktaWrite::UpdateGroup { .. } => "update-group".into(),
            OktaWrite::DeleteGroup { .. } => "delete-group".into(),
            OktaWrite::SetGroupRuleActive { .. } => "set-group-rule-active".into(),
        }
    }

    /// The grant a card needs for it ([`crate::okta_ops`], the one table).
    pub fn scope(&self) -> OktaScope {
        crate::okta_ops::OktaOp::of_write(self).grant()
    }

    /// The bytes of the card's text in it (what a dry run's record holds).
    pub fn size_hint(&self) -> usize {
        serde_json::to_vec(self).map(|v| v.len()).unwrap_or(0)
    }
}

/// The error of an operation an [`OktaApi`] implementation does not offer.
fn unsupported(operation: &str) -> CardError {
    CardError::unavailable(format!("okta: `{operation}` is not available on this host"))
}

/// Operation-level grants for the Okta capability, named like Okta's OAuth scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum OktaScope {
    #[serde(rename = "okta.users.read")]
    UsersRead,
    #[serde(rename = "okta.users.manage")]
    UsersManage,
    #[serde(rename = "okta.users.lifecycle")]
    UsersLifecycle,
    /// Expire and reset passwords.
    #[serde(rename = "okta.users.credentials")]
    UsersCredentials,
    #[serde(rename = "okta.groups.read")]
    GroupsRead,
    /// Group membership.
    #[serde(rename = "okta.groups.manage")]
    GroupsManage,
    /// Groups themselves and group rules: create, rename, delete.
    #[serde(rename = "okta.groups.admin")]
    GroupsAdmin,
    #[serde(rename = "okta.sessions.manage")]
    SessionsManage,
    #[serde(rename = "okta.factors.read")]
    FactorsRead,
    /// Unenroll factors.
    #[serde(rename = "okta.factors.manage")]
    FactorsManage,
    #[serde(rename = "okta.apps.read")]
    AppsRead,
    /// Assign and unassign apps.
    #[serde(rename = "okta.apps.manage")]
    AppsManage,
    #[serde(rename = "okta.logs.read")]
    LogsRead,
}

impl OktaScope {
    pub const ALL: [OktaScope; 13] = [
        OktaScope::UsersRead,
        OktaScope::UsersManage,
        OktaScope::UsersLifecycle,
        OktaScope::UsersCredentials,
        OktaScope::GroupsRead,
        OktaScope::GroupsManage,
        OktaScope::GroupsAdmin,
        OktaScope::SessionsManage,
        OktaScope::FactorsRead,
        OktaScope::FactorsManage,
        OktaScope::AppsRead,
        OktaScope::AppsManage,
        OktaScope::LogsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OktaScope::UsersRead => "okta.users.read",
            OktaScope::UsersManage => "okta.users.manage",
            OktaScope::UsersLifecycle => "okta.users.lifecycle",
            OktaScope::UsersCredentials => "okta.users.credentials",
            OktaScope::GroupsRead => "okta.groups.read",
            OktaScope::GroupsManage => "okta.groups.manage",
            OktaScope::GroupsAdmin => "okta.groups.admin",
            OktaScope::SessionsManage => "okta.sessions.manage",
            OktaScope::FactorsRead => "okta.factors.read",
            OktaScope::FactorsManage => "okta.factors.manage",
            OktaScope::AppsRead => "okta.apps.read",
            OktaScope::AppsManage => "okta.apps.manage",
            OktaScope::LogsRead => "okta.logs.read",
        }
    }

    pub fn parse(s: &str) -> Option<OktaScope> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for OktaScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Okta operations the host performs for cards. Writes compare before
/// writing and report [`WriteOutcome::Unchanged`] for no-ops, so they raise no
/// Okta event (the seed's infinite-loop warning).
///
/// Errors are already mapped to [`CardError`] kinds: 404 → `not-found`,
/// 401/403 → `denied`, 429 → `rate-limited` (with `retry_after_ms`), 5xx →
/// `unavailable`, 400 → `invalid-input`, with Okta's `errorCode` and
/// `errorSummary` in the message.
#[async_trait]
pub trait OktaApi: Send + Sync + 'static {
    async fn get_user(&self, id_or_login: &str) -> Result<User, CardError>;
    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, CardError>;
    async fn create_user(
        &self,
        profile: &Map<String, Value>,
        activate: bool,
        group_ids: &[String],
    ) -> Result<User, CardError>;
    async fn update_profile(
        &self,
        user_id: &str,
        changes: &Map<String, Value>,
    ) -> Result<ProfileUpdate, CardError>;
    async fn get_manager(&self, user_id: &str) -> Result<Option<User>, CardError>;
    async fn lifecycle(&self, user_id: &str, op: LifecycleOp) -> Result<WriteOutcome, CardError>;
    async fn list_user_groups(&self, user_id: &str) -> Result<Vec<Group>, CardError>;
    async fn find_group(&self, name: &str) -> Result<Option<Group>, CardError>;
    async fn add_to_group(&self, group_id: &str, user_id: &str) -> Result<WriteOutcome, CardError>;
    async fn remove_from_group(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<WriteOutcome, CardError>;
    async fn clear_sessions(&self, user_id: &str, oauth_tokens: bool) -> Result<(), CardError>;
    async fn list_factors(&self, user_id: &str) -> Result<Vec<Factor>, CardError>;
    async fn list_app_links(&self, user_id: &str) -> Result<Vec<AppLink>, CardError>;
    /// LogEvent JSON objects, oldest first.
    async fn query_logs(&self, query: &LogQuery) -> Result<Vec<Value>, CardError>;

    /// One page of the users a query matches, from the cursor `after`.
    async fn list_users_page(&self, _query: &UserQuery, _after: Option<&str>) -> Result<UserPage, CardError> {
        Err(unsupported("list-users-page"))
    }
    /// Start a password reset: the one-time link, or none when Okta emailed it.
    async fn reset_password(&self, _user_id: &str, _send_email: bool) -> Result<Option<String>, CardError> {
        Err(unsupported("reset-password"))
    }
    /// The app with this label (or, failing that, this catalog name).
    async fn find_app(&self, _label: &str) -> Result<Option<App>, CardError> {
        Err(unsupported("find-app"))
    }
    async fn list_app_users(&self, _app_id: &str) -> Result<Vec<AppUser>, CardError> {
        Err(unsupported("list-app-users"))
    }
    async fn list_app_groups(&self, _app_id: &str) -> Result<Vec<AppGroup>, CardError> {
        Err(unsupported("list-app-groups"))
    }
    /// Create an Okta group, or find the one with this name.
    async fn create_group(&self, _name: &str, _description: Option<&str>) -> Result<GroupCreated, CardError> {
        Err(unsupported("create-group"))
    }
    /// One page of a group's members.
    async fn list_group_members(
        &self,
        _group_id: &str,
        _after: Option<&str>,
        _limit: Option<u32>,
    ) -> Result<UserPage, CardError> {
        Err(unsupported("list-group-members"))
    }
    async fn find_group_rule(&self, _name: &str) -> Result<Option<GroupRule>, CardError> {
        Err(unsupported("find-group-rule"))
    }
    /// Create a group rule (inactive), or find the same one.
    async fn create_group_rule(
        &self,
        _name: &str,
        _expression: &str,
        _group_ids: &[String],
    ) -> Result<RuleCreated, CardError> {
        Err(unsupported("create-group-rule"))
    }
    /// The custom API action. The caller has checked the card's grant against
    /// the operation's scopes ([`crate::okta_api::operation`]).
    async fn api_call(&self, _request: &ApiRequest) -> Result<ApiResponse, CardError> {
        Err(unsupported("api-call"))
    }

    /// Do a write, compared first: `Unchanged` sends nothing.
    async fn write(&self, write: &OktaWrite) -> Result<WriteOutcome, CardError> {
        match write {
            OktaWrite::Lifecycle { user_id, op } => self.lifecycle(user_id, *op).await,
            OktaWrite::AddToGroup { group_id, user_id } => self.add_to_group(group_id, user_id).await,
            OktaWrite::RemoveFromGroup { group_id, user_id } => {
                self.remove_from_group(group_id, user_id).await
            }
            other => Err(unsupported(&other.operation())),
        }
    }

    /// What [`OktaApi::write`] would report, from reads only: a dry run's
    /// honest answer.
    async fn plan(&self, write: &OktaWrite) -> Result<WriteOutcome, CardError>;
}
