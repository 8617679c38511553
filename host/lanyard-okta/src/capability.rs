//! [`OktaApi`] on top of [`OktaClient`]: what the card runtime calls after it has
//! checked a card's grants.
//!
//! Every write compares before writing. Setting a profile attribute to the value
//! it has, adding a member who is there, removing one who is not, or moving a
//! user to the state it is in sends nothing to Okta and reports
//! [`WriteOutcome::Unchanged`], so it raises no System Log event and no flow
//! triggers on it: the seed's infinite-loop warning, handled at the source.
//! A transition sent reports [`WriteOutcome::Changed`], also when its answer
//! was lost and the client confirmed it by reading the user after Okta refused
//! the resend (the first attempt made the change; a change by someone else in
//! that same window cannot be told apart).
//! Grants are not checked here (the runtime does that).

use async_trait::async_trait;
use lanyard_core::okta::{
    ApiRequest, ApiResponse, App, AppGroup, AppLink, AppUser, Assignee, Factor, Group, GroupCreated, GroupRule,
    LifecycleOp, LogQuery, OktaApi, OktaWrite, ProfileUpdate, RuleCreated, User, UserPage, UserQuery,
};
use lanyard_core::{CardError, WriteOutcome};
use serde_json::{Map, Value};

use crate::OktaClient;
use crate::client::lifecycle_reached;

/// The `okta` capability for one org.
#[derive(Clone)]
pub struct OktaCapability {
    client: OktaClient,
}

impl OktaCapability {
    pub fn new(client: OktaClient) -> Self {
        OktaCapability { client }
    }

    pub fn client(&self) -> &OktaClient {
        &self.client
    }
}

/// The attributes of `changes` whose values differ from `profile` (an absent
/// attribute equals `null`).
pub fn profile_diff(
    profile: &Map<String, Value>,
    changes: &Map<String, Value>,
) -> Map<String, Value> {
    changes
        .iter()
        .filter(|(k, v)| profile.get(*k).unwrap_or(&Value::Null) != *v)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn check_id(what: &str, id: &str) -> Result<(), CardError> {
    if id.trim().is_empty() {
        return Err(CardError::invalid_input(format!(
            "okta: the {what} is empty"
        )));
    }
    Ok(())
}

#[async_trait]
impl OktaApi for OktaCapability {
    async fn get_user(&self, id_or_login: &str) -> Result<User, CardError> {
        check_id("user id or login", id_or_login)?;
        self.client.get_user(id_or_login).await.map_err(|e| {
            if e.is_not_found() {
                CardError::not_found(format!("okta user `{id_or_login}` not found"))
                    .with_detail(e.to_string())
            } else {
                e.into()
            }
        })
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, CardError> {
        Ok(self.client.list_users(query).await?)
    }

    async fn create_user(
        &self,
        profile: &Map<String, Value>,
        activate: bool,
        group_ids: &[String],
    ) -> Result<User, CardError> {
        for key in ["login", "email", "firstName", "lastName"] {
            if profile
                .get(key)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Err(CardError::invalid_input(format!(
                    "okta: a new user's profile needs `{key}` (login, email, firstName and lastName are required)"
                )));
            }
        }
        Ok(self
            .client
            .create_user(profile, activate, group_ids)
            .await?)
    }

    async fn update_profile(
        &self,
        user_id: &str,
        changes: &Map<String, Value>,
    ) -> Result<ProfileUpdate, CardError> {
        check_id("user id", user_id)?;
        let user = self.get_user(user_id).await?;
        let diff = profile_diff(&user.profile, changes);
        if diff.is_empty() {
            return Ok(ProfileUpdate {
                outcome: WriteOutcome::Unchanged,
                user,
            });
        }
        // Send only what differs: an unchanged attribute in the request would
        // still show in Okta's changed-attributes list of the event.
        let user = self.client.update_profile(&user.id, &diff).await?;
        Ok(ProfileUpdate {
            outcome: WriteOutcome::Changed,
            user,
        })
    }

    async fn get_manager(&self, user_id: &str) -> Result<Option<User>, CardError> {
        let user = self.get_user(user_id).await?;
        let Some(manager_id) = user
            .profile
            .get("managerId")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            return Ok(None);
        };
        match self.client.get_user(manager_id).await {
            Ok(m) => Ok(Some(m)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn lifecycle(&self, user_id: &str, op: LifecycleOp) -> Result<WriteOutcome, CardError> {
        let user = self.get_user(user_id).await?;
        if op == LifecycleOp::Unlock && user.status == "ACTIVE" {
            // Okta also unlocks an ACTIVE user who is blocked from unknown
            // devices, which no read shows: ask, and read its refusal (the
            // user was not blocked) as nothing to do.
            return match self.client.lifecycle(&user.id, op).await {
                Ok(()) => Ok(WriteOutcome::Changed),
                Err(e) if matches!(e.status(), Some(400 | 403)) => Ok(WriteOutcome::Unchanged),
                Err(e) => Err(e.into()),
            };
        }
        if lifecycle_reached(&user.status, op) {
            return Ok(WriteOutcome::Unchanged);
        }
        self.client.lifecycle(&user.id, op).await?;
        Ok(WriteOutcome::Changed)
    }

    async fn list_user_groups(&self, user_id: &str) -> Result<Vec<Group>, CardError> {
        check_id("user id", user_id)?;
        Ok(self.client.list_user_groups(user_id).await?)
    }

    async fn find_group(&self, name: &str) -> Result<Option<Group>, CardError> {
        check_id("group name", name)?;
        Ok(self.client.find_group(name).await?)
    }

    async fn add_to_group(&self, group_id: &str, user_id: &str) -> Result<WriteOutcome, CardError> {
        if self.is_member(group_id, user_id).await? {
            return Ok(WriteOutcome::Unchanged);
        }
        self.client.add_user_to_group(group_id, user_id).await?;
        Ok(WriteOutcome::Changed)
    }

    async fn remove_from_group(
        &self,
        group_id: &str,
        user_id: &str,
    ) -> Result<WriteOutcome, CardError> {
        if !self.is_member(group_id, user_id).await? {
            return Ok(WriteOutcome::Unchanged);
        }
        self.client
            .remove_user_from_group(group_id, user_id)
            .await?;
        Ok(WriteOutcome::Changed)
    }

    async fn clear_sessions(&self, user_id: &str, oauth_tokens: bool) -> Result<(), CardError> {
        check_id("user id", user_id)?;
        Ok(self.client.clear_sessions(user_id, oauth_tokens).await?)
    }

    async fn list_factors(&self, user_id: &str) -> Result<Vec<Factor>, CardError> {
        check_id("user id", user_id)?;
        Ok(self.client.list_factors(user_id).await?)
    }

    async fn list_app_links(&self, user_id: &str) -> Result<Vec<AppLink>, CardError> {
        check_id("user id", user_id)?;
        Ok(self.client.list_app_links(user_id).await?)
    }

    async fn query_logs(&self, query: &LogQuery) -> Result<Vec<Value>, CardError> {
        Ok(self.client.query_logs(query).await?)
    }

    async fn list_users_page(&self, query: &UserQuery, after: Option<&str>) -> Result<UserPage, CardError> {
        Ok(self.client.list_users_page(query, after).await?)
    }

    async fn reset_password(&self, user_id: &str, send_email: bool) -> Result<Option<String>, CardError> {
        let user = self.get_user(user_id).await?;
        Ok(self.client.reset_password(&user.id, send_email).await?)
    }

    async fn find_app(&self, label: &str) -> Result<Option<App>, CardError> {
        check_id("app label", label)?;
        let apps = self.client.list_apps(label).await?;
        // The label people see wins; then Okta's catalog name; case only
        // when exactly one app matches that way.
        if let Some(app) = apps.iter().find(|a| a.label == label).or_else(|| apps.iter().find(|a| a.name == label)) {
            return Ok(Some(app.clone()));
        }
        let mut loose = apps.into_iter().filter(|a| a.label.eq_ignore_ascii_case(label));
        match (loose.next(), loose.next()) {
            (Some(a), None) => Ok(Some(a)),
            _ => Ok(None),
        }
    }

    async fn list_app_users(&self, app_id: &str) -> Result<Vec<AppUser>, CardError> {
        check_id("app id", app_id)?;
        Ok(self.client.list_app_users(app_id).await?)
    }

    async fn list_app_groups(&self, app_id: &str) -> Result<Vec<AppGroup>, CardError> {
        check_id("app id", app_id)?;
        Ok(self.client.list_app_groups(app_id).await?)
    }

    async fn create_group(&self, name: &str, description: Option<&str>) -> Result<GroupCreated, CardError> {
        check_id("group name", name)?;
        if let Some(group) = self.client.find_group(name).await? {
            return Ok(GroupCreated { outcome: WriteOutcome::Unchanged, group });
        }
        let group = self.client.create_group(name, description).await?;
        Ok(GroupCreated { outcome: WriteOutcome::Changed, group })
    }

    async fn list_group_members(
        &self,
        group_id: &str,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<UserPage, CardError> {
        check_id("group id", group_id)?;
        Ok(self.client.list_group_members_after(group_id, after, limit).await?)
    }

    async fn find_group_rule(&self, name: &str) -> Result<Option<GroupRule>, CardError> {
        check_id("group rule name", name)?;
        Ok(self.client.find_group_rule(name).await?)
    }

    async fn create_group_rule(&self, name: &str, expression: &str, group_ids: &[String]) -> Result<RuleCreated, CardError> {
        check_id("group rule name", name)?;
        check_id("group rule expression", expression)?;
        if group_ids.is_empty() {
            return Err(CardError::invalid_input("okta: a group rule needs at least one group to put users in"));
        }
        if let Some(rule) = self.client.find_group_rule(name).await? {
            if rule.defines(expression, group_ids) {
                return Ok(RuleCreated { outcome: WriteOutcome::Unchanged, rule });
            }
            return Err(CardError::new(lanyard_core::ErrorKind::Conflict, format!(
                "okta: a group rule named `{name}` exists with another expression or groups ({}); deactivate and change it, or pick another name",
                rule.id
            )));
        }
        let rule = self.client.create_group_rule(name, expression, group_ids).await?;
        Ok(RuleCreated { outcome: WriteOutcome::Changed, rule })
    }

    async fn api_call(&self, request: &ApiRequest) -> Result<ApiResponse, CardError> {
        let operation = lanyard_core::okta_api::operation(&request.method, &request.path)
            .map_err(|e| CardError::invalid_input(format!("okta api-call: {e}")))?;
        Ok(self.client.api_call(operation.operation.as_str(), request).await?)
    }

    async fn write(&self, write: &OktaWrite) -> Result<WriteOutcome, CardError> {
        match write {
            OktaWrite::Lifecycle { user_id, op } => self.lifecycle(user_id, *op).await,
            OktaWrite::AddToGroup { group_id, user_id } => self.add_to_group(group_id, user_id).await,
            OktaWrite::RemoveFromGroup { group_id, user_id } => self.remove_from_group(group_id, user_id).await,
            _ => {
                if self.plan(write).await? == WriteOutcome::Unchanged {
                    return Ok(WriteOutcome::Unchanged);
                }
                self.apply(write).await?;
                Ok(WriteOutcome::Changed)
            }
        }
    }

    async fn plan(&self, write: &OktaWrite) -> Result<WriteOutcome, CardError> {
        let changed = match write {
            OktaWrite::Lifecycle { user_id, op } => {
                let user = self.get_user(user_id).await?;
                // An ACTIVE user may be blocked from unknown devices; no read
                // shows it, so a dry run counts the unlock as a change.
                (*op == LifecycleOp::Unlock && user.status == "ACTIVE") || !lifecycle_reached(&user.status, *op)
            }
            OktaWrite::AddToGroup { group_id, user_id } => !self.is_member(group_id, user_id).await?,
            OktaWrite::RemoveFromGroup { group_id, user_id } => self.is_member(group_id, user_id).await?,
            OktaWrite::DeleteUser { user_id, .. } => self.find_user(user_id).await?.is_some(),
            OktaWrite::ExpirePassword { user_id } => self.get_user(user_id).await?.status != "PASSWORD_EXPIRED",
            OktaWrite::ResetFactors { user_id } => {
                check_id("user id", user_id)?;
                !self.client.list_factors(user_id).await?.is_empty()
            }
            OktaWrite::ResetFactor { user_id, factor_id } => {
                check_id("user id", user_id)?;
                check_id("factor id", factor_id)?;
                self.client.list_factors(user_id).await?.iter().any(|f| f.id == *factor_id)
            }
            OktaWrite::AssignApp { app_id, to, profile } => {
                check_id("app id", app_id)?;
                check_id("assignee id", to.id())?;
                match to {
                    Assignee::User(user_id) => match self.client.get_app_user(app_id, user_id).await? {
                        Some(au) => au.scope != "USER" || profile.as_ref().is_some_and(|p| !profile_diff(&au.profile, p).is_empty()),
                        None => true,
                    },
                    Assignee::Group(group_id) => match self.client.get_app_group(app_id, group_id).await? {
                        Some(ag) => profile.as_ref().is_some_and(|p| !profile_diff(&ag.profile, p).is_empty()),
                        None => true,
                    },
                }
            }
            OktaWrite::UnassignApp { app_id, from } => {
                check_id("app id", app_id)?;
                check_id("assignee id", from.id())?;
                match from {
                    // Only a direct assignment can be taken away; one through
                    // a group goes with the membership.
                    Assignee::User(user_id) => self
                        .client
                        .get_app_user(app_id, user_id)
                        .await?
                        .is_some_and(|au| au.scope == "USER"),
                    Assignee::Group(group_id) => self.client.get_app_group(app_id, group_id).await?.is_some(),
                }
            }
            OktaWrite::UpdateGroup { group_id, name, description } => {
                check_id("group id", group_id)?;
                check_id("group name", name)?;
                let group = self.get_group(group_id).await?;
                group.name != *name || group.description.as_deref().unwrap_or("") != description.as_deref().unwrap_or("")
            }
            OktaWrite::DeleteGroup { group_id } => {
                check_id("group id", group_id)?;
                match self.client.get_group(group_id).await {
                    Ok(_) => true,
                    Err(e) if e.is_not_found() => false,
                    Err(e) => return Err(e.into()),
                }
            }
            OktaWrite::SetGroupRuleActive { rule_id, active } => {
                check_id("group rule id", rule_id)?;
                let rule = self.client.get_group_rule(rule_id).await.map_err(|e| {
                    if e.is_not_found() {
                        CardError::not_found(format!("okta group rule `{rule_id}` not found")).with_detail(e.to_string())
                    } else {
                        e.into()
                    }
                })?;
                (rule.status == "ACTIVE") != *active
            }
        };
        Ok(if changed { WriteOutcome::Changed } else { WriteOutcome::Unchanged })
    }
}

impl OktaCapability {
    /// Send a write [`OktaApi::plan`] found would change something.
    async fn apply(&self, write: &OktaWrite) -> Result<(), CardError> {
        match write {
            OktaWrite::Lifecycle { user_id, op } => self.client.lifecycle(user_id, *op).await?,
            OktaWrite::AddToGroup { group_id, user_id } => self.client.add_user_to_group(group_id, user_id).await?,
            OktaWrite::RemoveFromGroup { group_id, user_id } => {
                self.client.remove_user_from_group(group_id, user_id).await?
            }
            OktaWrite::DeleteUser { user_id, send_email } => {
                // Okta deletes only a DEPROVISIONED user: the first DELETE of
                // any other deactivates it, the second deletes.
                let user = self.get_user(user_id).await?;
                if user.status != "DEPROVISIONED" {
                    self.client.delete_user(&user.id, *send_email).await?;
                }
                match self.client.delete_user(&user.id, *send_email).await {
                    Ok(()) => {}
                    // Sent again after a lost answer: already gone.
                    Err(e) if e.is_not_found() => {}
                    Err(e) => return Err(e.into()),
                }
            }
            OktaWrite::ExpirePassword { user_id } => self.client.expire_password(user_id).await?,
            OktaWrite::ResetFactors { user_id } => self.client.reset_factors(user_id).await?,
            OktaWrite::ResetFactor { user_id, factor_id } => self.client.unenroll_factor(user_id, factor_id).await?,
            OktaWrite::AssignApp { app_id, to, profile } => match to {
                Assignee::User(user_id) => {
                    let assigned = self.client.get_app_user(app_id, user_id).await?;
                    match (assigned, profile) {
                        // Assigned directly already: only the profile differs.
                        (Some(au), Some(p)) if au.scope == "USER" => {
                            self.client.update_app_user(app_id, user_id, p).await?;
                        }
                        _ => {
                            self.client.assign_user_to_app(app_id, user_id, profile.as_ref()).await?;
                        }
                    }
                }
                Assignee::Group(group_id) => {
                    self.client.assign_group_to_app(app_id, group_id, profile.as_ref()).await?;
                }
            },
            OktaWrite::UnassignApp { app_id, from } => match from {
                Assignee::User(user_id) => self.client.unassign_user_from_app(app_id, user_id).await?,
                Assignee::Group(group_id) => self.client.unassign_group_from_app(app_id, group_id).await?,
            },
            OktaWrite::UpdateGroup { group_id, name, description } => {
                self.client.replace_group(group_id, name, description.as_deref()).await?;
            }
            OktaWrite::DeleteGroup { group_id } => self.client.delete_group(group_id).await?,
            OktaWrite::SetGroupRuleActive { rule_id, active } => self.client.set_group_rule_active(rule_id, *active).await?,
        }
        Ok(())
    }

    async fn is_member(&self, group_id: &str, user_id: &str) -> Result<bool, CardError> {
        check_id("group id", group_id)?;
        check_id("user id", user_id)?;
        let groups = self.client.list_user_groups(user_id).await?;
        Ok(groups.iter().any(|g| g.id == group_id))
    }

    /// The user, or none if Okta has no such user.
    async fn find_user(&self, user_id: &str) -> Result<Option<User>, CardError> {
        check_id("user id", user_id)?;
        match self.client.get_user(user_id).await {
            Ok(u) => Ok(Some(u)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn get_group(&self, group_id: &str) -> Result<Group, CardError> {
        self.client.get_group(group_id).await.map_err(|e| {
            if e.is_not_found() {
                CardError::not_found(format!("okta group `{group_id}` not found")).with_detail(e.to_string())
            } else {
                e.into()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_differing_attributes_are_written() {
        let profile = json!({"title": "Engineer", "department": "Engineering", "nickName": null});
        let profile = profile.as_object().unwrap();
        let same = json!({"title": "Engineer", "nickName": null, "missing": null});
        assert!(profile_diff(profile, same.as_object().unwrap()).is_empty());
        let changes = json!({"title": "Staff Engineer", "department": "Engineering"});
        let diff = profile_diff(profile, changes.as_object().unwrap());
        assert_eq!(Value::Object(diff), json!({"title": "Staff Engineer"}));
    }
}
