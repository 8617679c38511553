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

/// Operation-level grants for the Okta capability, named like Okta's OAuth scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum OktaScope {
    #[serde(rename = "okta.users.read")]
    UsersRead,
    #[serde(rename = "okta.users.manage")]
    UsersManage,
    #[serde(rename = "okta.users.lifecycle")]
    UsersLifecycle,
    #[serde(rename = "okta.groups.read")]
    GroupsRead,
    #[serde(rename = "okta.groups.manage")]
    GroupsManage,
    #[serde(rename = "okta.sessions.manage")]
    SessionsManage,
    #[serde(rename = "okta.factors.read")]
    FactorsRead,
    #[serde(rename = "okta.apps.read")]
    AppsRead,
    #[serde(rename = "okta.logs.read")]
    LogsRead,
}

impl OktaScope {
    pub const ALL: [OktaScope; 9] = [
        OktaScope::UsersRead,
        OktaScope::UsersManage,
        OktaScope::UsersLifecycle,
        OktaScope::GroupsRead,
        OktaScope::GroupsManage,
        OktaScope::SessionsManage,
        OktaScope::FactorsRead,
        OktaScope::AppsRead,
        OktaScope::LogsRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OktaScope::UsersRead => "okta.users.read",
            OktaScope::UsersManage => "okta.users.manage",
            OktaScope::UsersLifecycle => "okta.users.lifecycle",
            OktaScope::GroupsRead => "okta.groups.read",
            OktaScope::GroupsManage => "okta.groups.manage",
            OktaScope::SessionsManage => "okta.sessions.manage",
            OktaScope::FactorsRead => "okta.factors.read",
            OktaScope::AppsRead => "okta.apps.read",
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
}
