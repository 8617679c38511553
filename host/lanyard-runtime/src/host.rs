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
use lanyard_core::okta::{OktaApi, OktaScope, User};
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
        let args = || json!({ "userId": user_id, "op": op.as_str() });
        match tri!(self.cx.okta_write(&format!("lifecycle/{}", op.as_str()), OktaScope::UsersLifecycle, user_id.len(), args)) {
            Some(api) => Ok(api.lifecycle(&user_id, op).await.map(outcome_to_wit).map_err(error_to_wit)),
            None => Ok(Ok(types::WriteOutcome::Changed)),
        }
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
        let args = || json!({ "groupId": group_id, "userId": user_id });
        match tri!(self.cx.okta_write("add-to-group", OktaScope::GroupsManage, group_id.len() + user_id.len(), args)) {
            Some(api) => Ok(api.add_to_group(&group_id, &user_id).await.map(outcome_to_wit).map_err(error_to_wit)),
            None => Ok(Ok(types::WriteOutcome::Changed)),
        }
    }

    async fn remove_from_group(&mut self, group_id: String, user_id: String) -> HostResult<types::WriteOutcome> {
        let args = || json!({ "groupId": group_id, "userId": user_id });
        match tri!(self.cx.okta_write("remove-from-group", OktaScope::GroupsManage, group_id.len() + user_id.len(), args)) {
            Some(api) => Ok(api
                .remove_from_group(&group_id, &user_id)
                .await
                .map(outcome_to_wit)
                .map_err(error_to_wit)),
            None => Ok(Ok(types::WriteOutcome::Changed)),
        }
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
        if self.cx.dry_run {
            let args = || json!({ "table": table, "key": key, "value": value });
            self.cx.effect("tables", format!("put {table}"), hint, args);
            return Ok(Ok(types::WriteOutcome::Changed));
        }
        let api = tri!(self.cx.tables_api());
        Ok(api.put(&table, &key, value).await.map(outcome_to_wit).map_err(error_to_wit))
    }

    async fn delete(&mut self, table: String, key: String) -> HostResult<types::WriteOutcome> {
        tri!(self.cx.table("delete", &table));
        if self.cx.dry_run {
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
