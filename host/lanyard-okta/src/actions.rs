//! The Okta actions beyond a user's profile, lifecycle and memberships: apps
//! and their assignments, groups and group rules as objects, passwords and
//! factors, deleting a user, paged listings, and the custom API action's call.
//! One `impl OktaClient` block over the same plumbing as `client.rs`.

use http::Method;
use lanyard_core::okta::{ApiRequest, ApiResponse, App, AppGroup, AppUser, Group, GroupRule, User, UserPage, UserQuery};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use url::Url;

use crate::OktaClient;
use crate::client::{Call, OktaGroup, decode, segment};
use crate::error::OktaError;

/// Okta's largest page of `listUsers`.
const MAX_USERS_PAGE: u32 = 200;
/// Okta's largest page of `listGroupUsers`.
const MAX_MEMBERS_PAGE: u32 = 1000;

/// Okta's application JSON, flattened into [`App`].
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OktaApp {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    sign_on_mode: String,
}

impl From<OktaApp> for App {
    fn from(a: OktaApp) -> Self {
        App {
            id: a.id,
            name: a.name,
            label: a.label,
            status: a.status,
            sign_on_mode: a.sign_on_mode,
        }
    }
}

/// Okta's app user JSON (`credentials.userName` flattened).
#[derive(Deserialize)]
struct OktaAppUser {
    id: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    credentials: Option<OktaAppCredentials>,
    #[serde(default)]
    profile: Option<Map<String, Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OktaAppCredentials {
    #[serde(default)]
    user_name: Option<String>,
}

impl From<OktaAppUser> for AppUser {
    fn from(a: OktaAppUser) -> Self {
        AppUser {
            id: a.id,
            scope: a.scope,
            status: a.status,
            user_name: a.credentials.and_then(|c| c.user_name),
            profile: a.profile.unwrap_or_default(),
        }
    }
}

#[derive(Deserialize)]
struct OktaAppGroup {
    id: String,
    #[serde(default)]
    priority: Option<u32>,
    #[serde(default)]
    profile: Option<Map<String, Value>>,
}

impl From<OktaAppGroup> for AppGroup {
    fn from(a: OktaAppGroup) -> Self {
        AppGroup {
            id: a.id,
            priority: a.priority,
            profile: a.profile.unwrap_or_default(),
        }
    }
}

/// Okta's group rule JSON, flattened into [`GroupRule`].
#[derive(Deserialize)]
struct OktaGroupRule {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    conditions: Value,
    #[serde(default)]
    actions: Value,
}

impl From<OktaGroupRule> for GroupRule {
    fn from(r: OktaGroupRule) -> Self {
        let expression = r.conditions["expression"]["value"].as_str().unwrap_or_default().to_string();
        let group_ids = r.actions["assignUserToGroups"]["groupIds"]
            .as_array()
            .map(|ids| ids.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        GroupRule {
            id: r.id,
            name: r.name,
            status: r.status,
            expression,
            group_ids,
        }
    }
}

impl OktaClient {
    // ---------------------------------------------------------------- users

    /// One page of `GET /api/v1/users` from the cursor `after`; the answer's
    /// `next` is the `after` of the page that follows.
    pub async fn list_users_page(&self, query: &UserQuery, after: Option<&str>) -> Result<UserPage, OktaError> {
        let mut url = self.url("/api/v1/users");
        {
            let mut q = url.query_pairs_mut();
            for (key, value) in [("search", &query.search), ("filter", &query.filter), ("q", &query.q)] {
                if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                    q.append_pair(key, v);
                }
            }
            let limit = query.limit.unwrap_or(MAX_USERS_PAGE).clamp(1, MAX_USERS_PAGE);
            q.append_pair("limit", &limit.to_string());
            if let Some(after) = after {
                q.append_pair("after", after);
            }
        }
        self.user_page("listUsers", url).await
    }

    /// `DELETE /api/v1/users/{id}?sendEmail=..`. Okta deactivates a user that is
    /// not yet DEPROVISIONED and deletes one that is; this sends one call.
    pub async fn delete_user(&self, user_id: &str, send_email: bool) -> Result<(), OktaError> {
        let mut url = self.url(&format!("/api/v1/users/{}", segment(user_id)?));
        url.query_pairs_mut().append_pair("sendEmail", bool_text(send_email));
        self.send(Call::bodyless("deleteUser", Method::DELETE, url)).await?;
        Ok(())
    }

    /// `POST /api/v1/users/{id}/lifecycle/expire_password`.
    pub async fn expire_password(&self, user_id: &str) -> Result<(), OktaError> {
        let url = self.url(&format!("/api/v1/users/{}/lifecycle/expire_password", segment(user_id)?));
        self.send(Call::bodyless("expirePassword", Method::POST, url)).await?;
        Ok(())
    }

    /// `POST /api/v1/users/{id}/lifecycle/reset_password?sendEmail=..`: the
    /// one-time link when Okta does not email it.
    pub async fn reset_password(&self, user_id: &str, send_email: bool) -> Result<Option<String>, OktaError> {
        let mut url = self.url(&format!("/api/v1/users/{}/lifecycle/reset_password", segment(user_id)?));
        url.query_pairs_mut().append_pair("sendEmail", bool_text(send_email));
        let path = url.path().to_string();
        // Not sent again: each call makes a new link and may email the user.
        let answer = self
            .send(Call { op: "resetPassword", method: Method::POST, url, body: None, idempotent: false })
            .await?;
        if answer.body.is_empty() {
            return Ok(None);
        }
        let body: Value = decode("resetPassword", &path, &answer.body)?;
        Ok(body["resetPasswordUrl"].as_str().map(str::to_string))
    }

    /// `POST /api/v1/users/{id}/lifecycle/reset_factors`.
    pub async fn reset_factors(&self, user_id: &str) -> Result<(), OktaError> {
        let url = self.url(&format!("/api/v1/users/{}/lifecycle/reset_factors", segment(user_id)?));
        self.send(Call::bodyless("resetFactors", Method::POST, url)).await?;
        Ok(())
    }

    /// `DELETE /api/v1/users/{userId}/factors/{factorId}`.
    pub async fn unenroll_factor(&self, user_id: &str, factor_id: &str) -> Result<(), OktaError> {
        let url = self.url(&format!("/api/v1/users/{}/factors/{}", segment(user_id)?, segment(factor_id)?));
        self.send(Call::bodyless("unenrollFactor", Method::DELETE, url)).await?;
        Ok(())
    }

    // ----------------------------------------------------------------- apps

    /// `GET /api/v1/apps?q=..`: apps whose name or label starts with `q`, every page.
    pub async fn list_apps(&self, q: &str) -> Result<Vec<App>, OktaError> {
        let mut url = self.url("/api/v1/apps");
        url.query_pairs_mut()
            .append_pair("q", q)
            .append_pair("limit", &self.page_size().min(200).to_string());
        let apps: Vec<OktaApp> = self.list_all("listApplications", url, self.cap(None)).await?;
        Ok(apps.into_iter().map(App::from).collect())
    }

    /// `GET /api/v1/apps/{appId}/users`, every page.
    pub async fn list_app_users(&self, app_id: &str) -> Result<Vec<AppUser>, OktaError> {
        let mut url = self.url(&format!("/api/v1/apps/{}/users", segment(app_id)?));
        url.query_pairs_mut().append_pair("limit", &self.page_size().min(500).to_string());
        let users: Vec<OktaAppUser> = self.list_all("listApplicationUsers", url, self.cap(None)).await?;
        Ok(users.into_iter().map(AppUser::from).collect())
    }

    /// `GET /api/v1/apps/{appId}/users/{userId}`; none when not assigned.
    pub async fn get_app_user(&self, app_id: &str, user_id: &str) -> Result<Option<AppUser>, OktaError> {
        let url = self.url(&format!("/api/v1/apps/{}/users/{}", segment(app_id)?, segment(user_id)?));
        match self.get_json::<OktaAppUser>("getApplicationUser", url).await {
            Ok(u) => Ok(Some(u.into())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /api/v1/apps/{appId}/users`: assign the app to the user directly.
    pub async fn assign_user_to_app(
        &self,
        app_id: &str,
        user_id: &str,
        profile: Option<&Map<String, Value>>,
    ) -> Result<AppUser, OktaError> {
        let url = self.url(&format!("/api/v1/apps/{}/users", segment(app_id)?));
        let mut body = json!({ "id": user_id, "scope": "USER" });
        if let Some(p) = profile {
            body["profile"] = Value::Object(p.clone());
        }
        self.send_json("assignUserToApplication", Method::POST, url, &body, true).await
    }

    /// `POST /api/v1/apps/{appId}/users/{userId}`: the app user's profile.
    pub async fn update_app_user(
        &self,
        app_id: &str,
        user_id: &str,
        profile: &Map<String, Value>,
    ) -> Result<AppUser, OktaError> {
        let url = self.url(&format!("/api/v1/apps/{}/users/{}", segment(app_id)?, segment(user_id)?));
        let body = json!({ "profile": profile });
        self.send_json("updateApplicationUser", Method::POST, url, &body, true).await
    }

    /// `DELETE /api/v1/apps/{appId}/users/{userId}`.
    pub async fn unassign_user_from_app(&self, app_id: &str, user_id: &str) -> Result<(), OktaError> {
        let url = self.url(&format!("/api/v1/apps/{}/users/{}", segment(app_id)?, segment(user_id)?));
        self.send(Call::bodyless("unassignUserFromApplication", Method::DELETE, url)).await?;
        Ok(())
    }

    /// `GET /api/v1/apps/{appId}/groups`, every page.
    pub async fn list_app_groups(&self, app_id: &str) -> Result<Vec<AppGroup>, OktaError> {
        let mut url = self.url(&format!("/api/v1/apps/{}/groups", segment(app_id)?));
        url.query_pairs_mut().append_pair("limit", &self.page_size().min(200).to_string());
        let groups: Vec<OktaAppGroup> =
            self.list_all("listApplicationGroupAssignments", url, self.cap(None)).await?;
        Ok(groups.into_iter().map(AppGroup::from).collect())
    }

    /// `GET /api/v1/apps/{appId}/groups/{groupId}`; none when not assigned.
    pub async fn get_app_group(&self, app_id: &str, group_id: &str) -> Result<Option<AppGroup>, OktaError> {
        let url = self.url(&format!("/api/v1/apps/{}/groups/{}", segment(app_id)?, segment(group_id)?));
        match self.get_json::<OktaAppGroup>("getApplicationGroupAssignment", url).await {
            Ok(g) => Ok(Some(g.into())),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT /api/v1/apps/{appId}/groups/{groupId}`: assign (or re-profile).
    pub async fn assign_group_to_app(
        &self,
        app_id: &str,
        group_id: &str,
        profile: Option<&Map<String, Value>>,
    ) -> Result<AppGroup, OktaError> {
        let url = self.url(&format!("/api/v1/apps/{}/groups/{}", segment(app_id)?, segment(group_id)?));
        let mut body = json!({});
        if let Some(p) = profile {
            body["profile"] = Value::Object(p.clone());
        }
        self.send_json("assignGroupToApplication", Method::PUT, url, &body, true).await
    }

    /// `DELETE /api/v1/apps/{appId}/groups/{groupId}`.
    pub async fn unassign_group_from_app(&self, app_id: &str, group_id: &str) -> Result<(), OktaError> {
        let url = self.url(&format!("/api/v1/apps/{}/groups/{}", segment(app_id)?, segment(group_id)?));
        self.send(Call::bodyless("unassignApplicationFromGroup", Method::DELETE, url)).await?;
        Ok(())
    }

    // --------------------------------------------------------------- groups

    /// `POST /api/v1/groups`: a new OKTA_GROUP. Not sent again after a lost
    /// answer (Okta would refuse the duplicate name; the caller looks first).
    pub async fn create_group(&self, name: &str, description: Option<&str>) -> Result<Group, OktaError> {
        let url = self.url("/api/v1/groups");
        let body = json!({ "profile": { "name": name, "description": description } });
        let g: OktaGroup = self.send_json("addGroup", Method::POST, url, &body, false).await?;
        Ok(g.into())
    }

    /// `PUT /api/v1/groups/{groupId}`: the group's whole profile.
    pub async fn replace_group(&self, group_id: &str, name: &str, description: Option<&str>) -> Result<Group, OktaError> {
        let url = self.url(&format!("/api/v1/groups/{}", segment(group_id)?));
        let body = json!({ "profile": { "name": name, "description": description } });
        let g: OktaGroup = self.send_json("replaceGroup", Method::PUT, url, &body, true).await?;
        Ok(g.into())
    }

    /// `DELETE /api/v1/groups/{groupId}`.
    pub async fn delete_group(&self, group_id: &str) -> Result<(), OktaError> {
        let url = self.url(&format!("/api/v1/groups/{}", segment(group_id)?));
        self.send(Call::bodyless("deleteGroup", Method::DELETE, url)).await?;
        Ok(())
    }

    /// One page of `GET /api/v1/groups/{groupId}/users` from the cursor `after`.
    pub async fn list_group_members_after(
        &self,
        group_id: &str,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<UserPage, OktaError> {
        let mut url = self.url(&format!("/api/v1/groups/{}/users", segment(group_id)?));
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("limit", &limit.unwrap_or(MAX_MEMBERS_PAGE).clamp(1, MAX_MEMBERS_PAGE).to_string());
            if let Some(after) = after {
                q.append_pair("after", after);
            }
        }
        self.user_page("listGroupUsers", url).await
    }

    // ---------------------------------------------------------- group rules

    /// `GET /api/v1/groups/rules?search=..`: rules whose name matches, every page.
    pub async fn list_group_rules(&self, search: &str) -> Result<Vec<GroupRule>, OktaError> {
        let mut url = self.url("/api/v1/groups/rules");
        url.query_pairs_mut().append_pair("search", search).append_pair("limit", "200");
        let rules: Vec<OktaGroupRule> = self.list_all("listGroupRules", url, self.cap(None)).await?;
        Ok(rules.into_iter().map(GroupRule::from).collect())
    }

    /// The rule named exactly `name`.
    pub async fn find_group_rule(&self, name: &str) -> Result<Option<GroupRule>, OktaError> {
        let rules = self.list_group_rules(name).await?;
        Ok(rules.into_iter().find(|r| r.name == name))
    }

    /// `GET /api/v1/groups/rules/{groupRuleId}`.
    pub async fn get_group_rule(&self, rule_id: &str) -> Result<GroupRule, OktaError> {
        let url = self.url(&format!("/api/v1/groups/rules/{}", segment(rule_id)?));
        let r: OktaGroupRule = self.get_json("getGroupRule", url).await?;
        Ok(r.into())
    }

    /// `POST /api/v1/groups/rules`: a rule Okta creates INACTIVE.
    pub async fn create_group_rule(&self, name: &str, expression: &str, group_ids: &[String]) -> Result<GroupRule, OktaError> {
        let url = self.url("/api/v1/groups/rules");
        let body = json!({
            "type": "group_rule",
            "name": name,
            "conditions": { "expression": { "value": expression, "type": "urn:okta:expression:1.0" } },
            "actions": { "assignUserToGroups": { "groupIds": group_ids } },
        });
        let r: OktaGroupRule = self.send_json("createGroupRule", Method::POST, url, &body, false).await?;
        Ok(r.into())
    }

    /// `POST /api/v1/groups/rules/{groupRuleId}/lifecycle/{activate|deactivate}`.
    pub async fn set_group_rule_active(&self, rule_id: &str, active: bool) -> Result<(), OktaError> {
        let (op, verb) = if active { ("activateGroupRule", "activate") } else { ("deactivateGroupRule", "deactivate") };
        let url = self.url(&format!("/api/v1/groups/rules/{}/lifecycle/{verb}", segment(rule_id)?));
        self.send(Call::bodyless(op, Method::POST, url)).await?;
        Ok(())
    }

    // ----------------------------------------------------------- custom API

    /// The custom API action's call: `operation` is the spec's operationId
    /// (the rate-limit bucket). Okta's error statuses are answers, not errors;
    /// rate limits, timeouts and unreachable orgs stay errors so a flow's
    /// `retry` sees them.
    pub async fn api_call(&self, operation: &'static str, request: &ApiRequest) -> Result<ApiResponse, OktaError> {
        let method = Method::from_bytes(request.method.as_bytes())
            .map_err(|_| OktaError::InvalidInput(format!("`{}` is not an HTTP method", request.method)))?;
        let mut url = self.url(&request.path);
        if !request.query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in &request.query {
                q.append_pair(k, v);
            }
        }
        let idempotent = matches!(method, Method::GET | Method::PUT | Method::DELETE);
        let call = Call { op: operation, method, url, body: request.body.as_ref(), idempotent };
        match self.send(call).await {
            Ok(answer) => {
                let body = if answer.body.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&answer.body)
                        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&answer.body).into_owned()))
                };
                let next = crate::link::find_rel(&answer.headers, "next").and_then(|l| self.after_of(&l));
                Ok(ApiResponse { status: answer.status.as_u16(), body, next })
            }
            Err(OktaError::Api { status, body, raw, .. }) => {
                let body = match body {
                    Some(b) => serde_json::to_value(&*b).unwrap_or(Value::Null),
                    None if raw.is_empty() => Value::Null,
                    None => serde_json::from_str(&raw).unwrap_or(Value::String(raw)),
                };
                Ok(ApiResponse { status, body, next: None })
            }
            Err(e) => Err(e),
        }
    }

    // ------------------------------------------------------------- plumbing

    async fn user_page(&self, op: &'static str, url: Url) -> Result<UserPage, OktaError> {
        let page = self.get_page::<User>(op, url).await?;
        let next = match page.next {
            Some(link) if !page.items.is_empty() => self.after_of(&link),
            _ => None,
        };
        Ok(UserPage { users: page.items, next })
    }

    /// The `after` cursor of a `rel="next"` link.
    fn after_of(&self, link: &str) -> Option<String> {
        let url = self.base_url().join(link).ok()?;
        url.query_pairs().find(|(k, _)| k == "after").map(|(_, v)| v.into_owned())
    }

    async fn send_json<T: serde::de::DeserializeOwned>(
        &self,
        op: &'static str,
        method: Method,
        url: Url,
        body: &Value,
        idempotent: bool,
    ) -> Result<T, OktaError> {
        let path = url.path().to_string();
        let answer = self.send(Call { op, method, url, body: Some(body), idempotent }).await?;
        decode(op, &path, &answer.body)
    }
}

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}
