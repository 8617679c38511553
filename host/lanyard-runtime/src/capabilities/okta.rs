//! The `okta` capability: the Okta operations a card may ask for, each gated
//! by the grant [`OktaOp::grant`] names (the one operation → grant table, in
//! `lanyard-core`), `api-call` gated by the scopes Okta's own spec lists
//! (`lanyard_core::okta_api`). Writes compare before writing; in a dry run
//! they are compared with a real read and recorded only when they would change
//! something. This unit reaches Okta only through [`OktaApi`]: it knows no
//! client, org or sandbox.

use super::{CallCx, HostResult, text_len, tri, wit_err};
use crate::bindings::lanyard::card::{okta, types};
use crate::convert::*;
use crate::record::LogText;
use crate::state::HostState;
use lanyard_core::okta::{ApiRequest, ApiResponse, GroupRule, OktaApi, OktaWrite, User};
use lanyard_core::okta_ops::OktaOp;
use lanyard_core::{CardError, Clock, WriteOutcome};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use tracing::instrument;
use wasmtime::component::{HasData, Linker};

/// The capability's view of one call: the call's context and the Okta
/// implementation the call was given, if any.
pub(crate) struct OktaView<'a> {
    cx: &'a mut CallCx,
    api: Option<&'a Arc<dyn OktaApi>>,
    clock: &'a dyn Clock,
}

struct Okta;

impl HasData for Okta {
    type Data<'a> = OktaView<'a>;
}

pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    okta::add_to_linker::<HostState, Okta>(linker, |s| OktaView {
        cx: &mut s.cx,
        api: s.caps.okta.as_ref(),
        clock: s.caps.clock.as_ref(),
    })
}

impl OktaView<'_> {
    fn allows(&self, op: OktaOp) -> bool {
        self.cx.grants.allows_okta(op.grant())
    }

    /// The grant check of `op`.
    fn check(&mut self, op: OktaOp) -> Result<(), CardError> {
        let (allowed, scope) = (self.allows(op), op.grant());
        self.cx.check("okta", op.wit_name(), allowed, || format!("okta:{scope}"))
    }

    fn configured(&self) -> Result<Arc<dyn OktaApi>, CardError> {
        self.api
            .cloned()
            .ok_or_else(|| CardError::unavailable("okta is not configured on this host"))
    }

    /// Checked, then the implementation to call.
    fn api(&mut self, op: OktaOp) -> Result<Arc<dyn OktaApi>, CardError> {
        self.check(op)?;
        self.configured()
    }

    /// A write. Checked like a read; in a dry run it is then recorded and
    /// `None` tells the caller to answer with a plausible result instead.
    /// `args` is built only if the write is recorded; `hint` is the size of
    /// the card's text in it.
    fn write(&mut self, op: OktaOp, hint: usize, args: impl FnOnce() -> Value) -> Result<Option<Arc<dyn OktaApi>>, CardError> {
        if self.cx.dry_run {
            self.check(op)?;
            self.cx.effect("okta", op.wit_name().to_string(), hint, args);
            return Ok(None);
        }
        self.api(op).map(Some)
    }

    /// A write whose whole result is its outcome. In a dry run it is compared
    /// with a real read (the same comparison the write makes before writing)
    /// and recorded only when it would change something, so a dry run says
    /// `unchanged` exactly when the real run would.
    async fn okta_outcome(&mut self, write: OktaWrite) -> Result<WriteOutcome, CardError> {
        let op = OktaOp::of_write(&write);
        let operation = write.operation();
        let allowed = self.allows(op);
        self.cx.check("okta", &operation, allowed, || format!("okta:{}", op.grant()))?;
        let api = self.configured()?;
        if !self.cx.dry_run {
            return api.write(&write).await;
        }
        let outcome = api.plan(&write).await?;
        if outcome == WriteOutcome::Changed {
            self.cx.effect("okta", operation, write.size_hint(), || write_args(&write));
        }
        Ok(outcome)
    }

    /// [`Self::okta_outcome`] as a WIT answer.
    async fn outcome(&mut self, write: OktaWrite) -> HostResult<types::WriteOutcome> {
        Ok(self.okta_outcome(write).await.map(outcome_to_wit).map_err(error_to_wit))
    }

    fn now_rfc3339(&self) -> String {
        self.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    fn dry_run_user(&self, profile: Map<String, Value>, activate: bool) -> User {
        let now = self.now_rfc3339();
        User {
            id: self.cx.dry_run_id("user"),
            status: if activate { "ACTIVE" } else { "STAGED" }.to_string(),
            created: now.clone(),
            activated: activate.then(|| now.clone()),
            status_changed: activate.then(|| now.clone()),
            last_login: None,
            last_updated: now,
            password_changed: None,
            profile,
        }
    }
}

/// A write's arguments as a dry run's record shows them (its fields, without
/// the tag the operation already names).
fn write_args(write: &OktaWrite) -> Value {
    let mut value = serde_json::to_value(write).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("write");
    }
    value
}

impl okta::Host for OktaView<'_> {
    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "get-user"))]
    async fn get_user(&mut self, id_or_login: String) -> HostResult<okta::User> {
        let api = tri!(self.api(OktaOp::GetUser));
        Ok(api.get_user(&id_or_login).await.map(user_to_wit).map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "list-users"))]
    async fn list_users(&mut self, query: okta::UserQuery) -> HostResult<Vec<okta::User>> {
        let api = tri!(self.api(OktaOp::ListUsers));
        let query = user_query_from_wit(query);
        let set = [query.search.is_some(), query.filter.is_some(), query.q.is_some()];
        if set.iter().filter(|s| **s).count() > 1 {
            return wit_err(CardError::invalid_input("list-users takes at most one of search, filter and q"));
        }
        Ok(api
            .list_users(&query)
            .await
            .map(|users| users.into_iter().map(user_to_wit).collect())
            .map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "create-user"))]
    async fn create_user(&mut self, profile_text: String, activate: bool, group_ids: Vec<String>) -> HostResult<okta::User> {
        let profile = tri!(object_from_text("the profile", &profile_text));
        let hint = profile_text.len() + text_len(&group_ids);
        let args = || json!({ "profile": profile, "activate": activate, "groupIds": group_ids });
        if self.cx.dry_run
            && let Some(api) = self.api.cloned()
            && let Some(login) = profile.get("login").and_then(Value::as_str)
            && api.get_user(login).await.is_ok()
            && self.allows(OktaOp::CreateUser)
        {
            // What Okta answers the real call (E0000001), so a dry run does
            // not promise a user the run could not create.
            return wit_err(CardError::new(
                lanyard_core::ErrorKind::Conflict,
                format!("okta: a user with login `{login}` already exists (E0000001: login: An object with this field already exists)"),
            ));
        }
        match tri!(self.write(OktaOp::CreateUser, hint, args)) {
            Some(api) => Ok(api
                .create_user(&profile, activate, &group_ids)
                .await
                .map(user_to_wit)
                .map_err(error_to_wit)),
            None => Ok(Ok(user_to_wit(self.dry_run_user(profile, activate)))),
        }
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "update-profile"))]
    async fn update_profile(&mut self, user_id: String, changes_text: String) -> HostResult<okta::ProfileUpdate> {
        let changes = tri!(object_from_text("the changes", &changes_text));
        if self.cx.dry_run {
            // The plausible answer is the user as it is, with the changes
            // applied; only a real change is recorded.
            tri!(self.check(OktaOp::UpdateProfile));
            let api = tri!(self.configured());
            let mut user = tri!(api.get_user(&user_id).await);
            let changed = changes.iter().any(|(k, v)| user.profile.get(k) != Some(v));
            if changed {
                user.profile.extend(changes.clone());
                user.last_updated = self.now_rfc3339();
                let hint = user_id.len() + changes_text.len();
                self.cx.effect("okta", "update-profile".to_string(), hint, || json!({ "userId": user_id, "changes": changes }));
            }
            let outcome = if changed { WriteOutcome::Changed } else { WriteOutcome::Unchanged };
            return Ok(Ok(okta::ProfileUpdate {
                outcome: outcome_to_wit(outcome),
                user: user_to_wit(user),
            }));
        }
        let api = tri!(self.api(OktaOp::UpdateProfile));
        Ok(api
            .update_profile(&user_id, &changes)
            .await
            .map(|u| okta::ProfileUpdate {
                outcome: outcome_to_wit(u.outcome),
                user: user_to_wit(u.user),
            })
            .map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "get-manager"))]
    async fn get_manager(&mut self, user_id: String) -> HostResult<Option<okta::User>> {
        let api = tri!(self.api(OktaOp::GetManager));
        Ok(api.get_manager(&user_id).await.map(|u| u.map(user_to_wit)).map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "lifecycle"))]
    async fn lifecycle(&mut self, user_id: String, op: okta::LifecycleOp) -> HostResult<types::WriteOutcome> {
        let op = lifecycle_from_wit(op);
        self.outcome(OktaWrite::Lifecycle { user_id, op }).await
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "list-user-groups"))]
    async fn list_user_groups(&mut self, user_id: String) -> HostResult<Vec<okta::Group>> {
        let api = tri!(self.api(OktaOp::ListUserGroups));
        Ok(api
            .list_user_groups(&user_id)
            .await
            .map(|g| g.into_iter().map(group_to_wit).collect())
            .map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "find-group"))]
    async fn find_group(&mut self, name: String) -> HostResult<Option<okta::Group>> {
        let api = tri!(self.api(OktaOp::FindGroup));
        Ok(api.find_group(&name).await.map(|g| g.map(group_to_wit)).map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "add-to-group"))]
    async fn add_to_group(&mut self, group_id: String, user_id: String) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::AddToGroup { group_id, user_id }).await
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "remove-from-group"))]
    async fn remove_from_group(&mut self, group_id: String, user_id: String) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::RemoveFromGroup { group_id, user_id }).await
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "clear-sessions"))]
    async fn clear_sessions(&mut self, user_id: String, oauth_tokens: bool) -> HostResult<()> {
        let args = || json!({ "userId": user_id, "oauthTokens": oauth_tokens });
        match tri!(self.write(OktaOp::ClearSessions, user_id.len(), args)) {
            Some(api) => Ok(api.clear_sessions(&user_id, oauth_tokens).await.map_err(error_to_wit)),
            None => Ok(Ok(())),
        }
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "list-factors"))]
    async fn list_factors(&mut self, user_id: String) -> HostResult<Vec<okta::Factor>> {
        let api = tri!(self.api(OktaOp::ListFactors));
        Ok(api
            .list_factors(&user_id)
            .await
            .map(|f| f.into_iter().map(factor_to_wit).collect())
            .map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "list-app-links"))]
    async fn list_app_links(&mut self, user_id: String) -> HostResult<Vec<okta::AppLink>> {
        let api = tri!(self.api(OktaOp::ListAppLinks));
        Ok(api
            .list_app_links(&user_id)
            .await
            .map(|a| a.into_iter().map(app_link_to_wit).collect())
            .map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "query-logs"))]
    async fn query_logs(&mut self, query: okta::LogQuery) -> HostResult<Vec<String>> {
        let api = tri!(self.api(OktaOp::QueryLogs));
        Ok(api
            .query_logs(&log_query_from_wit(query))
            .await
            .map(|events| events.iter().map(|e| e.to_string()).collect())
            .map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "list-users-page"))]
    async fn list_users_page(&mut self, query: okta::UserQuery, after: Option<String>) -> HostResult<okta::UserPage> {
        let api = tri!(self.api(OktaOp::ListUsersPage));
        let query = user_query_from_wit(query);
        let set = [query.search.is_some(), query.filter.is_some(), query.q.is_some()];
        if set.iter().filter(|s| **s).count() > 1 {
            return wit_err(CardError::invalid_input("list-users-page takes at most one of search, filter and q"));
        }
        Ok(api
            .list_users_page(&query, after.as_deref())
            .await
            .map(user_page_to_wit)
            .map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "delete-user"))]
    async fn delete_user(&mut self, user_id: String, send_email: bool) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::DeleteUser { user_id, send_email }).await
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "expire-password"))]
    async fn expire_password(&mut self, user_id: String) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::ExpirePassword { user_id }).await
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "reset-password"))]
    async fn reset_password(&mut self, user_id: String, send_email: bool) -> HostResult<Option<String>> {
        let args = || json!({ "userId": user_id, "sendEmail": send_email });
        match tri!(self.write(OktaOp::ResetPassword, user_id.len(), args)) {
            Some(api) => Ok(api.reset_password(&user_id, send_email).await.map_err(error_to_wit)),
            // A link that leads nowhere, so a dry run's message reads as the
            // real one would.
            None => Ok(Ok((!send_email).then(|| format!("https://dry-run.invalid/reset/{}", self.cx.dry_run_id("reset"))))),
        }
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "reset-factors"))]
    async fn reset_factors(&mut self, user_id: String) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::ResetFactors { user_id }).await
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "reset-factor"))]
    async fn reset_factor(&mut self, user_id: String, factor_id: String) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::ResetFactor { user_id, factor_id }).await
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "find-app"))]
    async fn find_app(&mut self, label: String) -> HostResult<Option<okta::App>> {
        let api = tri!(self.api(OktaOp::FindApp));
        Ok(api.find_app(&label).await.map(|a| a.map(app_to_wit)).map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "list-app-users"))]
    async fn list_app_users(&mut self, app_id: String) -> HostResult<Vec<okta::AppUser>> {
        let api = tri!(self.api(OktaOp::ListAppUsers));
        Ok(api
            .list_app_users(&app_id)
            .await
            .map(|users| users.into_iter().map(app_user_to_wit).collect())
            .map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "list-app-groups"))]
    async fn list_app_groups(&mut self, app_id: String) -> HostResult<Vec<okta::AppGroup>> {
        let api = tri!(self.api(OktaOp::ListAppGroups));
        Ok(api
            .list_app_groups(&app_id)
            .await
            .map(|groups| groups.into_iter().map(app_group_to_wit).collect())
            .map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "assign-app"))]
    async fn assign_app(&mut self, app_id: String, to: okta::Assignee, profile: Option<String>) -> HostResult<types::WriteOutcome> {
        let profile = match profile {
            Some(text) => Some(tri!(object_from_text("the app user profile", &text))),
            None => None,
        };
        let to = assignee_from_wit(to);
        self.outcome(OktaWrite::AssignApp { app_id, to, profile }).await
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "unassign-app"))]
    async fn unassign_app(&mut self, app_id: String, from: okta::Assignee) -> HostResult<types::WriteOutcome> {
        let from = assignee_from_wit(from);
        self.outcome(OktaWrite::UnassignApp { app_id, from }).await
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "create-group"))]
    async fn create_group(&mut self, name: String, description: Option<String>) -> HostResult<okta::GroupCreated> {
        let api = tri!(self.api(OktaOp::CreateGroup));
        if self.cx.dry_run {
            // Compared as the real call compares: an existing group is the answer.
            if let Some(group) = tri!(api.find_group(&name).await) {
                return Ok(Ok(okta::GroupCreated { outcome: types::WriteOutcome::Unchanged, group: group_to_wit(group) }));
            }
            let hint = name.len() + description.as_ref().map_or(0, String::len);
            let id = self.cx.dry_run_id("group");
            self.cx.effect("okta", "create-group".to_string(), hint, || json!({ "name": name, "description": description }));
            let group = okta::Group { id, name, description, group_type: "OKTA_GROUP".to_string() };
            return Ok(Ok(okta::GroupCreated { outcome: types::WriteOutcome::Changed, group }));
        }
        Ok(api
            .create_group(&name, description.as_deref())
            .await
            .map(|c| okta::GroupCreated { outcome: outcome_to_wit(c.outcome), group: group_to_wit(c.group) })
            .map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "update-group"))]
    async fn update_group(&mut self, group_id: String, name: String, description: Option<String>) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::UpdateGroup { group_id, name, description }).await
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "delete-group"))]
    async fn delete_group(&mut self, group_id: String) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::DeleteGroup { group_id }).await
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "list-group-members"))]
    async fn list_group_members(&mut self, group_id: String, after: Option<String>, limit: Option<u32>) -> HostResult<okta::UserPage> {
        let api = tri!(self.api(OktaOp::ListGroupMembers));
        Ok(api
            .list_group_members(&group_id, after.as_deref(), limit)
            .await
            .map(user_page_to_wit)
            .map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "find-group-rule"))]
    async fn find_group_rule(&mut self, name: String) -> HostResult<Option<okta::GroupRule>> {
        let api = tri!(self.api(OktaOp::FindGroupRule));
        Ok(api.find_group_rule(&name).await.map(|r| r.map(group_rule_to_wit)).map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "create-group-rule"))]
    async fn create_group_rule(&mut self, name: String, expression: String, group_ids: Vec<String>) -> HostResult<okta::RuleCreated> {
        let api = tri!(self.api(OktaOp::CreateGroupRule));
        if self.cx.dry_run {
            if let Some(rule) = tri!(api.find_group_rule(&name).await)
                && rule.defines(&expression, &group_ids)
            {
                return Ok(Ok(okta::RuleCreated { outcome: types::WriteOutcome::Unchanged, rule: group_rule_to_wit(rule) }));
            }
            let hint = name.len() + expression.len() + text_len(&group_ids);
            let id = self.cx.dry_run_id("rule");
            self.cx.effect("okta", "create-group-rule".to_string(), hint, || {
                json!({ "name": name, "expression": expression, "groupIds": group_ids })
            });
            let rule = GroupRule { id, name, status: "INACTIVE".to_string(), expression, group_ids };
            return Ok(Ok(okta::RuleCreated { outcome: types::WriteOutcome::Changed, rule: group_rule_to_wit(rule) }));
        }
        Ok(api
            .create_group_rule(&name, &expression, &group_ids)
            .await
            .map(|c| okta::RuleCreated { outcome: outcome_to_wit(c.outcome), rule: group_rule_to_wit(c.rule) })
            .map_err(error_to_wit))
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "set-group-rule-active"))]
    async fn set_group_rule_active(&mut self, rule_id: String, active: bool) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::SetGroupRuleActive { rule_id, active }).await
    }

    #[instrument(level = "debug", name = "card.host", skip_all, fields(card = %LogText(&self.cx.card), capability = "okta", operation = "api-call"))]
    async fn api_call(&mut self, req: okta::ApiRequest) -> HostResult<okta::ApiResponse> {
        let body = match &req.body {
            Some(text) => Some(tri!(value_from_text("the request body", text))),
            None => None,
        };
        let request = ApiRequest { method: req.method.to_ascii_uppercase(), path: req.path, query: req.query, body };
        let shown = format!("api-call {} {}", request.method, request.path);
        let operation = match lanyard_core::okta_api::operation(&request.method, &request.path) {
            Ok(op) => op,
            Err(e) => {
                self.cx.check("okta", &shown, false, || "okta:api:<a scope Okta's spec lists for it>".to_string()).ok();
                return wit_err(CardError::denied(format!("okta api-call: {e}")));
            }
        };
        let allowed = self.cx.grants.allows_okta_api(&operation.scopes);
        tri!(self.cx.check("okta", &shown, allowed, || match operation.scopes.first() {
            Some(scope) => format!("okta:api:{scope}"),
            None => "okta:api:<none: Okta's spec lists no OAuth scope for this operation>".to_string(),
        }));
        let api = tri!(self.configured());
        if self.cx.dry_run && request.method != "GET" {
            let hint = request.path.len() + request.body.as_ref().map_or(0, |b| b.to_string().len());
            self.cx.effect("okta", shown, hint, || {
                json!({ "operation": operation.operation, "query": request.query, "body": request.body })
            });
            return Ok(Ok(api_response_to_wit(ApiResponse { status: 200, body: Value::Null, next: None })));
        }
        Ok(api.api_call(&request).await.map(api_response_to_wit).map_err(error_to_wit))
    }
}
