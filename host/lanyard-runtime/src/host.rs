//! The host side of the card's imports: every capability call is checked against
//! the card's grants, answered `unavailable` when the capability is not
//! configured, and recorded instead of done in a dry run.
//!
//! The outer `wasmtime::Result` of each function is a trap and is never used for
//! anything a card can cause: denials, bad arguments and capability failures are
//! `card-error`s the card sees and can handle.

use crate::bindings::lanyard::card::{http, log, mail, okta, tables, types};
use crate::convert::*;
use crate::record::{LogText, MAX_QUOTED, Record, quote};
use lanyard_core::caps::{HttpApi, MailApi, TablesApi};
use lanyard_core::okta::{ApiRequest, ApiResponse, GroupRule, OktaApi, OktaScope, OktaWrite, User};
use lanyard_core::{CardError, Clock, Grants, SystemClock, WriteOutcome};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

type HostResult<T> = wasmtime::Result<Result<T, types::CardError>>;

/// The capabilities one call may use. Cheap to clone. A capability left `None`
/// answers `unavailable` (granted or not, a card learns nothing more).
#[derive(Clone)]
pub struct Capabilities {
    pub okta: Option<Arc<dyn OktaApi>>,
    pub http: Option<Arc<dyn HttpApi>>,
    pub tables: Option<Arc<dyn TablesApi>>,
    pub mail: Option<Arc<dyn MailApi>>,
    /// The card's wall clock (and the time stamps of dry-run answers).
    pub clock: Arc<dyn Clock>,
}

impl Capabilities {
    /// No capabilities and the system clock.
    pub fn none() -> Self {
        Capabilities {
            okta: None,
            http: None,
            tables: None,
            mail: None,
            clock: Arc::new(SystemClock),
        }
    }
}

impl Default for Capabilities {
    fn default() -> Self {
        Self::none()
    }
}

impl std::fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capabilities")
            .field("okta", &self.okta.is_some())
            .field("http", &self.http.is_some())
            .field("tables", &self.tables.is_some())
            .field("mail", &self.mail.is_some())
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `describe()`: every import is denied.
    Describe,
    Run,
}

/// The per-call state behind the imports.
pub(crate) struct CallCx {
    pub mode: Mode,
    pub card: Arc<str>,
    pub run_id: String,
    pub caps: Capabilities,
    pub grants: Arc<Grants>,
    pub dry_run: bool,
    pub deadline: Instant,
    /// Log lines, denials, effects: everything the card makes the host keep.
    pub record: Arc<Record>,
    /// Dry-run writes so far, kept or not (their plausible ids count them).
    pub writes: usize,
}

/// Memory growth past the call's limit traps (instead of failing the growth,
/// which a Rust guest turns into an abort with no clue why), and is remembered
/// so the trap is reported as `memory-limit`.
pub(crate) struct Limiter {
    pub max_memory: usize,
    pub hit: bool,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            self.hit = true;
            wasmtime::bail!(
                "memory would grow to {desired} bytes, over the limit of {} bytes",
                self.max_memory
            );
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

/// The store's data.
pub(crate) struct HostState {
    pub wasi: WasiCtx,
    pub table: ResourceTable,
    pub limiter: Limiter,
    pub cx: CallCx,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn wit_err<T>(e: CardError) -> HostResult<T> {
    Ok(Err(error_to_wit(e)))
}

/// `?` for capability results inside a host function.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return wit_err(e),
        }
    };
}

impl CallCx {
    /// Deny by default: `allowed` is the grant check; `grant` names the grant
    /// that is missing, for the card's error, the log and the outcome. Card
    /// text in either (a table name, a URL) is quoted cut to a few hundred
    /// bytes; the denial is recorded and logged only while the record has room,
    /// and logged escaped.
    fn check(&mut self, capability: &str, operation: &str, allowed: bool, grant: impl FnOnce() -> String) -> Result<(), CardError> {
        if self.mode == Mode::Describe {
            return Err(CardError::denied(format!(
                "{capability} {}: every capability is denied while describe() runs",
                quote(operation, MAX_QUOTED)
            )));
        }
        if allowed {
            return Ok(());
        }
        let grant = grant();
        let (operation, grant) = (quote(operation, MAX_QUOTED), quote(&grant, MAX_QUOTED));
        if self.record.deny(format!("{capability} {operation}: missing grant `{grant}`")) {
            tracing::warn!(
                card = %LogText(&self.card),
                run = %LogText(&self.run_id),
                capability,
                operation = %LogText(&operation),
                missing = %LogText(&grant),
                "capability call denied"
            );
        }
        Err(CardError::denied(format!(
            "{capability} {operation} needs the grant `{grant}`, which this card was not given"
        )))
    }

    fn okta(&mut self, operation: &str, scope: OktaScope) -> Result<Arc<dyn OktaApi>, CardError> {
        let allowed = self.grants.allows_okta(scope);
        self.check("okta", operation, allowed, || format!("okta:{scope}"))?;
        self.caps
            .okta
            .clone()
            .ok_or_else(|| CardError::unavailable("okta is not configured on this host"))
    }

    /// An Okta write. Checked like a read; in a dry run it is then recorded and
    /// `None` tells the caller to answer with a plausible result instead.
    /// `args` is built only if the write is recorded; `hint` is the size of
    /// the card's text in it.
    fn okta_write(
        &mut self,
        operation: &str,
        scope: OktaScope,
        hint: usize,
        args: impl FnOnce() -> Value,
    ) -> Result<Option<Arc<dyn OktaApi>>, CardError> {
        if self.dry_run {
            let allowed = self.grants.allows_okta(scope);
            self.check("okta", operation, allowed, || format!("okta:{scope}"))?;
            self.effect("okta", operation.to_string(), hint, args);
            return Ok(None);
        }
        self.okta(operation, scope).map(Some)
    }

    /// A write whose whole result is its outcome. In a dry run it is compared
    /// with a real read (the same comparison the write makes before writing)
    /// and recorded only when it would change something, so a dry run says
    /// `unchanged` exactly when the real run would.
    async fn okta_outcome(&mut self, write: OktaWrite) -> Result<WriteOutcome, CardError> {
        let operation = write.operation();
        let api = self.okta(&operation, write.scope())?;
        if !self.dry_run {
            return api.write(&write).await;
        }
        let outcome = api.plan(&write).await?;
        if outcome == WriteOutcome::Changed {
            self.effect("okta", operation, write.size_hint(), || write_args(&write));
        }
        Ok(outcome)
    }

    /// A write a dry run records instead of doing, while the record has room.
    fn effect(&mut self, capability: &str, operation: String, hint: usize, args: impl FnOnce() -> Value) {
        self.writes += 1;
        let shown = quote(&operation, MAX_QUOTED).into_owned();
        if self.record.effect(capability, operation, hint, args) {
            tracing::debug!(card = %LogText(&self.card), run = %LogText(&self.run_id), capability, operation = %LogText(&shown), "dry run: write recorded");
        }
    }

    fn now_rfc3339(&self) -> String {
        self.caps.clock.now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    fn dry_run_id(&self, what: &str) -> String {
        format!("dry-run-{what}-{}", self.writes)
    }

    fn http_check(&mut self, req: &lanyard_core::caps::HttpRequest) -> Result<(), CardError> {
        let operation = format!("{} {}", req.method.as_str(), req.url);
        match &req.connection {
            Some(name) => {
                let allowed = self.grants.allows_connection(name);
                self.check("http", &operation, allowed, || format!("connection:{name}"))
            }
            None => {
                let url = url::Url::parse(&req.url).map_err(|e| {
                    CardError::invalid_input(format!("`{}` is not an absolute URL ({e}); name a connection for paths", req.url))
                })?;
                if url.scheme() != "https" {
                    return Err(CardError::invalid_input(format!(
                        "direct requests must use https, not `{}`; use a named connection for other endpoints",
                        url.scheme()
                    )));
                }
                let host = url.host_str().unwrap_or_default().to_string();
                let allowed = self.grants.allows_http_host(&host);
                self.check("http", &operation, allowed, || format!("http-host:{host}"))
            }
        }
    }

    fn table(&mut self, operation: &str, table: &str) -> Result<(), CardError> {
        let allowed = self.grants.allows_table(table);
        self.check("tables", &format!("{operation} {table}"), allowed, || format!("table:{table}"))
    }

    fn tables_api(&self) -> Result<Arc<dyn TablesApi>, CardError> {
        self.caps
            .tables
            .clone()
            .ok_or_else(|| CardError::unavailable("tables are not configured on this host"))
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

fn dry_run_user(cx: &CallCx, profile: Map<String, Value>, activate: bool) -> User {
    let now = cx.now_rfc3339();
    User {
        id: cx.dry_run_id("user"),
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

impl types::Host for HostState {}

impl okta::Host for HostState {
    async fn get_user(&mut self, id_or_login: String) -> HostResult<okta::User> {
        let api = tri!(self.cx.okta("get-user", OktaScope::UsersRead));
        Ok(api.get_user(&id_or_login).await.map(user_to_wit).map_err(error_to_wit))
    }

    async fn list_users(&mut self, query: okta::UserQuery) -> HostResult<Vec<okta::User>> {
        let api = tri!(self.cx.okta("list-users", OktaScope::UsersRead));
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

    async fn create_user(&mut self, profile_text: String, activate: bool, group_ids: Vec<String>) -> HostResult<okta::User> {
        let profile = tri!(object_from_text("the profile", &profile_text));
        let hint = profile_text.len() + text_len(&group_ids);
        let args = || json!({ "profile": profile, "activate": activate, "groupIds": group_ids });
        if self.cx.dry_run
            && let Some(api) = self.cx.caps.okta.clone()
            && let Some(login) = profile.get("login").and_then(Value::as_str)
            && api.get_user(login).await.is_ok()
            && self.cx.grants.allows_okta(OktaScope::UsersManage)
        {
            // What Okta answers the real call (E0000001), so a dry run does
            // not promise a user the run could not create.
            return wit_err(CardError::new(
                lanyard_core::ErrorKind::Conflict,
                format!("okta: a user with login `{login}` already exists (E0000001: login: An object with this field already exists)"),
            ));
        }
        match tri!(self.cx.okta_write("create-user", OktaScope::UsersManage, hint, args)) {
            Some(api) => Ok(api
                .create_user(&profile, activate, &group_ids)
                .await
                .map(user_to_wit)
                .map_err(error_to_wit)),
            None => Ok(Ok(user_to_wit(dry_run_user(&self.cx, profile, activate)))),
        }
    }

    async fn update_profile(&mut self, user_id: String, changes_text: String) -> HostResult<okta::ProfileUpdate> {
        let changes = tri!(object_from_text("the changes", &changes_text));
        if self.cx.dry_run {
            // The plausible answer is the user as it is, with the changes
            // applied; only a real change is recorded.
            let allowed = self.cx.grants.allows_okta(OktaScope::UsersManage);
            tri!(self.cx.check("okta", "update-profile", allowed, || "okta:okta.users.manage".to_string()));
            let api = tri!(self.cx.caps.okta.clone().ok_or_else(|| CardError::unavailable("okta is not configured on this host")));
            let mut user = tri!(api.get_user(&user_id).await);
            let changed = changes.iter().any(|(k, v)| user.profile.get(k) != Some(v));
            if changed {
                user.profile.extend(changes.clone());
                user.last_updated = self.cx.now_rfc3339();
                let hint = user_id.len() + changes_text.len();
                self.cx.effect("okta", "update-profile".to_string(), hint, || json!({ "userId": user_id, "changes": changes }));
            }
            let outcome = if changed { WriteOutcome::Changed } else { WriteOutcome::Unchanged };
            return Ok(Ok(okta::ProfileUpdate {
                outcome: outcome_to_wit(outcome),
                user: user_to_wit(user),
            }));
        }
        let api = tri!(self.cx.okta("update-profile", OktaScope::UsersManage));
        Ok(api
            .update_profile(&user_id, &changes)
            .await
            .map(|u| okta::ProfileUpdate {
                outcome: outcome_to_wit(u.outcome),
                user: user_to_wit(u.user),
            })
            .map_err(error_to_wit))
    }

    async fn get_manager(&mut self, user_id: String) -> HostResult<Option<okta::User>> {
        let api = tri!(self.cx.okta("get-manager", OktaScope::UsersRead));
        Ok(api.get_manager(&user_id).await.map(|u| u.map(user_to_wit)).map_err(error_to_wit))
    }

    async fn lifecycle(&mut self, user_id: String, op: okta::LifecycleOp) -> HostResult<types::WriteOutcome> {
        let op = lifecycle_from_wit(op);
        self.outcome(OktaWrite::Lifecycle { user_id, op }).await
    }

    async fn list_user_groups(&mut self, user_id: String) -> HostResult<Vec<okta::Group>> {
        let api = tri!(self.cx.okta("list-user-groups", OktaScope::GroupsRead));
        Ok(api
            .list_user_groups(&user_id)
            .await
            .map(|g| g.into_iter().map(group_to_wit).collect())
            .map_err(error_to_wit))
    }

    async fn find_group(&mut self, name: String) -> HostResult<Option<okta::Group>> {
        let api = tri!(self.cx.okta("find-group", OktaScope::GroupsRead));
        Ok(api.find_group(&name).await.map(|g| g.map(group_to_wit)).map_err(error_to_wit))
    }

    async fn add_to_group(&mut self, group_id: String, user_id: String) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::AddToGroup { group_id, user_id }).await
    }

    async fn remove_from_group(&mut self, group_id: String, user_id: String) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::RemoveFromGroup { group_id, user_id }).await
    }

    async fn clear_sessions(&mut self, user_id: String, oauth_tokens: bool) -> HostResult<()> {
        let args = || json!({ "userId": user_id, "oauthTokens": oauth_tokens });
        match tri!(self.cx.okta_write("clear-sessions", OktaScope::SessionsManage, user_id.len(), args)) {
            Some(api) => Ok(api.clear_sessions(&user_id, oauth_tokens).await.map_err(error_to_wit)),
            None => Ok(Ok(())),
        }
    }

    async fn list_factors(&mut self, user_id: String) -> HostResult<Vec<okta::Factor>> {
        let api = tri!(self.cx.okta("list-factors", OktaScope::FactorsRead));
        Ok(api
            .list_factors(&user_id)
            .await
            .map(|f| f.into_iter().map(factor_to_wit).collect())
            .map_err(error_to_wit))
    }

    async fn list_app_links(&mut self, user_id: String) -> HostResult<Vec<okta::AppLink>> {
        let api = tri!(self.cx.okta("list-app-links", OktaScope::AppsRead));
        Ok(api
            .list_app_links(&user_id)
            .await
            .map(|a| a.into_iter().map(app_link_to_wit).collect())
            .map_err(error_to_wit))
    }

    async fn query_logs(&mut self, query: okta::LogQuery) -> HostResult<Vec<String>> {
        let api = tri!(self.cx.okta("query-logs", OktaScope::LogsRead));
        Ok(api
            .query_logs(&log_query_from_wit(query))
            .await
            .map(|events| events.iter().map(|e| e.to_string()).collect())
            .map_err(error_to_wit))
    }

    async fn list_users_page(&mut self, query: okta::UserQuery, after: Option<String>) -> HostResult<okta::UserPage> {
        let api = tri!(self.cx.okta("list-users-page", OktaScope::UsersRead));
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

    async fn delete_user(&mut self, user_id: String, send_email: bool) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::DeleteUser { user_id, send_email }).await
    }

    async fn expire_password(&mut self, user_id: String) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::ExpirePassword { user_id }).await
    }

    async fn reset_password(&mut self, user_id: String, send_email: bool) -> HostResult<Option<String>> {
        let args = || json!({ "userId": user_id, "sendEmail": send_email });
        match tri!(self.cx.okta_write("reset-password", OktaScope::UsersCredentials, user_id.len(), args)) {
            Some(api) => Ok(api.reset_password(&user_id, send_email).await.map_err(error_to_wit)),
            // A link that leads nowhere, so a dry run's message reads as the
            // real one would.
            None => Ok(Ok((!send_email).then(|| format!("https://dry-run.invalid/reset/{}", self.cx.dry_run_id("reset"))))),
        }
    }

    async fn reset_factors(&mut self, user_id: String) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::ResetFactors { user_id }).await
    }

    async fn reset_factor(&mut self, user_id: String, factor_id: String) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::ResetFactor { user_id, factor_id }).await
    }

    async fn find_app(&mut self, label: String) -> HostResult<Option<okta::App>> {
        let api = tri!(self.cx.okta("find-app", OktaScope::AppsRead));
        Ok(api.find_app(&label).await.map(|a| a.map(app_to_wit)).map_err(error_to_wit))
    }

    async fn list_app_users(&mut self, app_id: String) -> HostResult<Vec<okta::AppUser>> {
        let api = tri!(self.cx.okta("list-app-users", OktaScope::AppsRead));
        Ok(api
            .list_app_users(&app_id)
            .await
            .map(|users| users.into_iter().map(app_user_to_wit).collect())
            .map_err(error_to_wit))
    }

    async fn list_app_groups(&mut self, app_id: String) -> HostResult<Vec<okta::AppGroup>> {
        let api = tri!(self.cx.okta("list-app-groups", OktaScope::AppsRead));
        Ok(api
            .list_app_groups(&app_id)
            .await
            .map(|groups| groups.into_iter().map(app_group_to_wit).collect())
            .map_err(error_to_wit))
    }

    async fn assign_app(&mut self, app_id: String, to: okta::Assignee, profile: Option<String>) -> HostResult<types::WriteOutcome> {
        let profile = match profile {
            Some(text) => Some(tri!(object_from_text("the app user profile", &text))),
            None => None,
        };
        let to = assignee_from_wit(to);
        self.outcome(OktaWrite::AssignApp { app_id, to, profile }).await
    }

    async fn unassign_app(&mut self, app_id: String, from: okta::Assignee) -> HostResult<types::WriteOutcome> {
        let from = assignee_from_wit(from);
        self.outcome(OktaWrite::UnassignApp { app_id, from }).await
    }

    async fn create_group(&mut self, name: String, description: Option<String>) -> HostResult<okta::GroupCreated> {
        let api = tri!(self.cx.okta("create-group", OktaScope::GroupsAdmin));
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

    async fn update_group(&mut self, group_id: String, name: String, description: Option<String>) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::UpdateGroup { group_id, name, description }).await
    }

    async fn delete_group(&mut self, group_id: String) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::DeleteGroup { group_id }).await
    }

    async fn list_group_members(&mut self, group_id: String, after: Option<String>, limit: Option<u32>) -> HostResult<okta::UserPage> {
        let api = tri!(self.cx.okta("list-group-members", OktaScope::GroupsRead));
        Ok(api
            .list_group_members(&group_id, after.as_deref(), limit)
            .await
            .map(user_page_to_wit)
            .map_err(error_to_wit))
    }

    async fn find_group_rule(&mut self, name: String) -> HostResult<Option<okta::GroupRule>> {
        let api = tri!(self.cx.okta("find-group-rule", OktaScope::GroupsRead));
        Ok(api.find_group_rule(&name).await.map(|r| r.map(group_rule_to_wit)).map_err(error_to_wit))
    }

    async fn create_group_rule(&mut self, name: String, expression: String, group_ids: Vec<String>) -> HostResult<okta::RuleCreated> {
        let api = tri!(self.cx.okta("create-group-rule", OktaScope::GroupsAdmin));
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

    async fn set_group_rule_active(&mut self, rule_id: String, active: bool) -> HostResult<types::WriteOutcome> {
        self.outcome(OktaWrite::SetGroupRuleActive { rule_id, active }).await
    }

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
        let api = tri!(self.cx.caps.okta.clone().ok_or_else(|| CardError::unavailable("okta is not configured on this host")));
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

impl HostState {
    /// [`CallCx::okta_outcome`] as a WIT answer.
    async fn outcome(&mut self, write: OktaWrite) -> HostResult<types::WriteOutcome> {
        Ok(self.cx.okta_outcome(write).await.map(outcome_to_wit).map_err(error_to_wit))
    }
}

/// The bytes of a list of card strings.
fn text_len(list: &[String]) -> usize {
    list.iter().map(String::len).sum()
}

/// A request body as the dry-run record shows it: JSON if it is JSON, text if
/// it is text, otherwise its size.
fn body_for_record(body: &Option<Vec<u8>>) -> Value {
    match body {
        None => Value::Null,
        Some(bytes) => match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => v,
            Err(_) => match std::str::from_utf8(bytes) {
                Ok(s) => Value::String(s.to_string()),
                Err(_) => json!({ "bytes": bytes.len() }),
            },
        },
    }
}

impl http::Host for HostState {
    async fn send(&mut self, req: http::Request) -> HostResult<http::Response> {
        let mut req = request_from_wit(req);
        tri!(self.cx.http_check(&req));
        if self.cx.dry_run && !req.method.is_read() {
            let operation = match &req.connection {
                Some(c) => format!("{} {c}:{}", req.method.as_str(), req.url),
                None => format!("{} {}", req.method.as_str(), req.url),
            };
            let hint = req.url.len()
                + req.connection.as_ref().map_or(0, String::len)
                + req.headers.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>()
                + req.body.as_ref().map_or(0, Vec::len);
            let args = || {
                json!({
                    "method": req.method,
                    "url": req.url,
                    "connection": req.connection,
                    "headers": req.headers,
                    "body": body_for_record(&req.body),
                })
            };
            self.cx.effect("http", operation, hint, args);
            return Ok(Ok(http::Response {
                status: 200,
                headers: Vec::new(),
                body: Vec::new(),
            }));
        }
        let Some(api) = self.cx.caps.http.clone() else {
            return wit_err(CardError::unavailable("http is not configured on this host"));
        };
        // No request may outlive the call.
        let left = self.cx.deadline.saturating_duration_since(Instant::now());
        let left_ms = u32::try_from(left.as_millis()).unwrap_or(u32::MAX).max(1);
        req.timeout_ms = Some(req.timeout_ms.map_or(left_ms, |t| t.min(left_ms)));
        Ok(api.send(req).await.map(response_to_wit).map_err(error_to_wit))
    }
}

impl tables::Host for HostState {
    async fn get(&mut self, table: String, key: String) -> HostResult<Option<String>> {
        tri!(self.cx.table("get", &table));
        let api = tri!(self.cx.tables_api());
        Ok(api
            .get(&table, &key)
            .await
            .map(|v| v.map(|v| v.to_string()))
            .map_err(error_to_wit))
    }

    async fn put(&mut self, table: String, key: String, value: String) -> HostResult<types::WriteOutcome> {
        tri!(self.cx.table("put", &table));
        let hint = table.len() + key.len() + value.len();
        let value = tri!(value_from_text("the row value", &value));
        let api = tri!(self.cx.tables_api());
        if self.cx.dry_run {
            // Compared with the row as it is, as the real put compares.
            if tri!(api.get(&table, &key).await).as_ref() == Some(&value) {
                return Ok(Ok(types::WriteOutcome::Unchanged));
            }
            let args = || json!({ "table": table, "key": key, "value": value });
            self.cx.effect("tables", format!("put {table}"), hint, args);
            return Ok(Ok(types::WriteOutcome::Changed));
        }
        Ok(api.put(&table, &key, value).await.map(outcome_to_wit).map_err(error_to_wit))
    }

    async fn delete(&mut self, table: String, key: String) -> HostResult<types::WriteOutcome> {
        tri!(self.cx.table("delete", &table));
        if self.cx.dry_run {
            if tri!(tri!(self.cx.tables_api()).get(&table, &key).await).is_none() {
                return Ok(Ok(types::WriteOutcome::Unchanged));
            }
            let hint = table.len() + key.len();
            self.cx.effect("tables", format!("delete {table}"), hint, || json!({ "table": table, "key": key }));
            return Ok(Ok(types::WriteOutcome::Changed));
        }
        let api = tri!(self.cx.tables_api());
        Ok(api.delete(&table, &key).await.map(outcome_to_wit).map_err(error_to_wit))
    }

    async fn find(&mut self, table: String, query: tables::Query) -> HostResult<Vec<tables::Row>> {
        tri!(self.cx.table("find", &table));
        let query = tri!(table_query_from_wit(query));
        let api = tri!(self.cx.tables_api());
        Ok(api
            .find(&table, &query)
            .await
            .map(|rows| rows.into_iter().map(row_to_wit).collect())
            .map_err(error_to_wit))
    }
}

impl mail::Host for HostState {
    async fn send(&mut self, msg: mail::Message) -> HostResult<String> {
        let allowed = self.cx.grants.mail;
        tri!(self.cx.check("mail", "send", allowed, || "mail".to_string()));
        let msg = message_from_wit(msg);
        if msg.to.is_empty() {
            return wit_err(CardError::invalid_input("a message needs at least one recipient"));
        }
        if self.cx.dry_run {
            let id = format!("<{}@lanyard>", self.cx.dry_run_id("mail"));
            let hint = text_len(&msg.to)
                + text_len(&msg.cc)
                + msg.subject.len()
                + msg.text.len()
                + msg.html.as_ref().map_or(0, String::len)
                + msg.reply_to.as_ref().map_or(0, String::len);
            self.cx.effect("mail", "send".to_string(), hint, || serde_json::to_value(&msg).unwrap_or(Value::Null));
            return Ok(Ok(id));
        }
        let Some(api) = self.cx.caps.mail.clone() else {
            return wit_err(CardError::unavailable("mail is not configured on this host"));
        };
        Ok(api.send(msg).await.map_err(error_to_wit))
    }
}

impl log::Host for HostState {
    async fn write(&mut self, level: log::Level, message: String, fields: Option<String>) -> wasmtime::Result<()> {
        let level = match level {
            log::Level::Trace => "trace",
            log::Level::Debug => "debug",
            log::Level::Info => "info",
            log::Level::Warn => "warn",
            log::Level::Error => "error",
        };
        // Counted at the size the card sent, and parsed only if it fits.
        self.cx.record.log(level, message, fields);
        Ok(())
    }
}
