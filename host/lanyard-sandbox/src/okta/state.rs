//! The simulated org's state and its rules: users and their lifecycle, groups
//! and memberships, apps, factors, sessions, the System Log, Event Hook
//! registrations and credentials.
//!
//! Every change goes through a method here that checks Okta's rules, answers
//! with Okta's error codes, and appends the System Log event Okta would write,
//! with the actor of the credential that asked. A call that changes nothing
//! writes no event (group membership), as Okta. No I/O here: the HTTP layer
//! calls in under a lock and delivers hooks after.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use indexmap::{IndexMap, IndexSet};
use lanyard_core::LogEvent;
use lanyard_core::event::LogEntity;
use rand::rngs::StdRng;
use rand::{Rng, RngCore};
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};

use super::apps::AppRec;
use super::profile;
use super::rules::RuleRec;
use lanyard_okta::error::OktaErrorBody;

/// An error answer in Okta's shape.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: u16,
    pub body: OktaErrorBody,
    pub www_authenticate: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, summary: &str) -> Self {
        ApiError {
            status,
            body: OktaErrorBody::new(code, summary),
            www_authenticate: None,
        }
    }

    pub fn cause(mut self, cause: impl Into<String>) -> Self {
        self.body = self.body.with_cause(cause);
        self
    }

    pub fn not_found(what: &str, kind: &str) -> Self {
        ApiError::new(
            404,
            "E0000007",
            &format!("Not found: Resource not found: {what} ({kind})"),
        )
    }

    pub fn validation(what: &str, cause: &str) -> Self {
        ApiError::new(400, "E0000001", &format!("Api validation failed: {what}")).cause(cause)
    }

    pub fn not_allowed_in_status() -> Self {
        ApiError::new(
            403,
            "E0000038",
            "This operation is not allowed in the user's current status.",
        )
    }

    pub fn forbidden() -> Self {
        ApiError::new(
            403,
            "E0000006",
            "You do not have permission to perform the requested action",
        )
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An SSWS API token: acts as the admin user who made it.
    User { id: String, role: Role },
    /// An OAuth 2.0 service app, with the scopes its token carries.
    App {
        client_id: String,
        name: String,
        scopes: BTreeSet<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    SuperAdmin,
    ReadOnlyAdmin,
}

/// Where a request came from, for the event's `client` and `transaction`.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub principal: Principal,
    pub ip: String,
    pub user_agent: String,
    pub request_id: String,
}

#[derive(Debug, Clone)]
pub struct UserRec {
    pub id: String,
    pub status: String,
    pub created: DateTime<Utc>,
    pub activated: Option<DateTime<Utc>>,
    pub status_changed: Option<DateTime<Utc>>,
    pub last_login: Option<DateTime<Utc>>,
    pub last_updated: DateTime<Utc>,
    pub password_changed: Option<DateTime<Utc>>,
    pub profile: Map<String, Value>,
    pub has_password: bool,
}

impl UserRec {
    pub fn login(&self) -> &str {
        self.profile
            .get("login")
            .and_then(Value::as_str)
            .unwrap_or(&self.id)
    }

    pub fn display_name(&self) -> String {
        let s = |k: &str| {
            self.profile
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        format!("{} {}", s("firstName"), s("lastName"))
            .trim()
            .to_string()
    }

    pub fn to_json(&self, base: &str) -> Value {
        let mut credentials = json!({"provider": {"type": "OKTA", "name": "OKTA"}});
        if self.has_password {
            credentials["password"] = json!({});
        }
        json!({
            "id": self.id,
            "status": self.status,
            "created": ts(self.created),
            "activated": self.activated.map(ts),
            "statusChanged": self.status_changed.map(ts),
            "lastLogin": self.last_login.map(ts),
            "lastUpdated": ts(self.last_updated),
            "passwordChanged": self.password_changed.map(ts),
            "type": {"id": "oty1sandboxdefault0"},
            "profile": self.profile,
            "credentials": credentials,
            "_links": {"self": {"href": format!("{base}/api/v1/users/{}", self.id)}},
        })
    }

    pub fn entity(&self) -> LogEntity {
        LogEntity {
            id: self.id.clone(),
            entity_type: "User".into(),
            alternate_id: Some(self.login().to_string()),
            display_name: Some(self.display_name()),
            detail_entry: Some(json!({})),
        }
    }
}

#[derive(Debug, Clone)]
pub struct GroupRec {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub group_type: String,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    pub last_membership_updated: DateTime<Utc>,
}

impl GroupRec {
    pub fn to_json(&self, base: &str) -> Value {
        let mut profile = json!({"name": self.name});
        if let Some(d) = &self.description {
            profile["description"] = json!(d);
        }
        json!({
            "id": self.id,
            "created": ts(self.created),
            "lastUpdated": ts(self.last_updated),
            "lastMembershipUpdated": ts(self.last_membership_updated),
            "objectClass": ["okta:user_group"],
            "type": self.group_type,
            "profile": profile,
            "_links": {
                "self": {"href": format!("{base}/api/v1/groups/{}", self.id)},
                "users": {"href": format!("{base}/api/v1/groups/{}/users", self.id)},
                "apps": {"href": format!("{base}/api/v1/groups/{}/apps", self.id)},
            },
        })
    }

    pub fn entity(&self) -> LogEntity {
        LogEntity {
            id: self.id.clone(),
            entity_type: "UserGroup".into(),
            alternate_id: Some("unknown".into()),
            display_name: Some(self.name.clone()),
            detail_entry: Some(json!({})),
        }
    }
}

#[derive(Debug, Clone)]
pub struct FactorRec {
    pub id: String,
    pub factor_type: String,
    pub provider: String,
    pub vendor_name: String,
    pub status: String,
    pub created: DateTime<Utc>,
    pub profile: Value,
}

impl FactorRec {
    pub fn to_json(&self, base: &str, user_id: &str) -> Value {
        json!({
            "id": self.id,
            "factorType": self.factor_type,
            "provider": self.provider,
            "vendorName": self.vendor_name,
            "status": self.status,
            "created": ts(self.created),
            "lastUpdated": ts(self.created),
            "profile": self.profile,
            "_links": {
                "self": {"href": format!("{base}/api/v1/users/{user_id}/factors/{}", self.id)},
                "user": {"href": format!("{base}/api/v1/users/{user_id}")},
            },
        })
    }
}

#[derive(Debug, Clone)]
pub struct HookRec {
    pub id: String,
    pub name: String,
    pub status: String,
    pub verification_status: String,
    pub uri: String,
    pub headers: Vec<(String, String)>,
    /// (header name, value) of the `HEADER` auth scheme.
    pub auth: Option<(String, String)>,
    pub events: Vec<String>,
    pub created: DateTime<Utc>,
    pub last_updated: DateTime<Utc>,
    pub created_by: String,
}

impl HookRec {
    pub fn to_json(&self, base: &str) -> Value {
        let mut config = json!({
            "uri": self.uri,
            "headers": self.headers.iter().map(|(k, v)| json!({"key": k, "value": v})).collect::<Vec<_>>(),
            "method": "POST",
        });
        if let Some((key, _)) = &self.auth {
            // The secret is write-only: Okta never shows it again.
            config["authScheme"] = json!({"type": "HEADER", "key": key});
        }
        json!({
            "id": self.id,
            "status": self.status,
            "verificationStatus": self.verification_status,
            "name": self.name,
            "created": ts(self.created),
            "createdBy": self.created_by,
            "lastUpdated": ts(self.last_updated),
            "events": {"type": "EVENT_TYPE", "items": self.events},
            "channel": {"type": "HTTP", "version": "1.0.0", "config": config},
            "_links": {
                "self": {"href": format!("{base}/api/v1/eventHooks/{}", self.id)},
                "verify": {"href": format!("{base}/api/v1/eventHooks/{}/lifecycle/verify", self.id)},
                "deactivate": {"href": format!("{base}/api/v1/eventHooks/{}/lifecycle/deactivate", self.id)},
            },
        })
    }

    pub fn delivers(&self, event_type: &str) -> bool {
        self.status == "ACTIVE"
            && self.verification_status == "VERIFIED"
            && self.events.iter().any(|e| e == event_type)
    }
}

/// A registered OAuth 2.0 service app.
#[derive(Debug, Clone)]
pub struct ServiceAppRec {
    pub client_id: String,
    pub name: String,
    /// The public key its client assertions are verified with (PEM).
    pub public_key_pem: String,
    /// The Okta scopes granted to the app.
    pub scopes: BTreeSet<String>,
    pub require_dpop: bool,
}

#[derive(Debug, Clone)]
pub struct AccessTokenRec {
    pub client_id: String,
    pub scopes: BTreeSet<String>,
    pub expires: DateTime<Utc>,
    /// Thumbprint of the DPoP key the token is bound to.
    pub jkt: Option<String>,
}

pub struct OrgState {
    /// Every user, in the order they were made.
    pub users: IndexMap<String, UserRec>,
    /// The user ids in order: the order Okta lists users in, by id, so the
    /// `after` cursor (the last id of a page) is a place in it whether or not
    /// that user still exists, and a page starts there without a scan.
    pub user_ids: BTreeSet<String>,
    pub logins: HashMap<String, String>,
    pub groups: IndexMap<String, GroupRec>,
    pub members: HashMap<String, IndexSet<String>>,
    pub user_groups: HashMap<String, IndexSet<String>>,
    pub apps: IndexMap<String, AppRec>,
    pub rules: IndexMap<String, RuleRec>,
    /// Memberships a group rule made, `(group id, user id)` → rule id: the
    /// ones the rule takes back when the user stops matching it.
    pub rule_memberships: HashMap<(String, String), String>,
    pub factors: HashMap<String, Vec<FactorRec>>,
    pub sessions: HashMap<String, Vec<String>>,
    pub oauth_grants: HashMap<String, u32>,
    pub log: Vec<LogEvent>,
    pub hooks: IndexMap<String, HookRec>,
    pub ssws: HashMap<String, Principal>,
    pub service_apps: HashMap<String, ServiceAppRec>,
    pub access_tokens: HashMap<String, AccessTokenRec>,
    /// Client assertion and DPoP proof ids already used (with their expiry).
    pub seen_jtis: HashMap<String, i64>,
    pub dpop_nonce: String,
    pub rng: StdRng,
    pub domain: String,
    /// Events appended since the HTTP layer last took them for delivery.
    pub outbox: Vec<LogEvent>,
    pub everyone_group: String,
    last_published: DateTime<Utc>,
}

pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl OrgState {
    pub fn new(rng: StdRng, domain: String) -> Self {
        OrgState {
            users: IndexMap::new(),
            user_ids: BTreeSet::new(),
            logins: HashMap::new(),
            groups: IndexMap::new(),
            members: HashMap::new(),
            user_groups: HashMap::new(),
            apps: IndexMap::new(),
            rules: IndexMap::new(),
            rule_memberships: HashMap::new(),
            factors: HashMap::new(),
            sessions: HashMap::new(),
            oauth_grants: HashMap::new(),
            log: Vec::new(),
            hooks: IndexMap::new(),
            ssws: HashMap::new(),
            service_apps: HashMap::new(),
            access_tokens: HashMap::new(),
            seen_jtis: HashMap::new(),
            dpop_nonce: String::new(),
            rng,
            domain,
            outbox: Vec::new(),
            everyone_group: String::new(),
            last_published: DateTime::<Utc>::MIN_UTC,
        }
    }

    /// An Okta-style 20-character id: `prefix` then random base62.
    pub fn new_id(&mut self, prefix: &str) -> String {
        let mut id = prefix.to_string();
        while id.len() < 20 {
            id.push(BASE62[self.rng.gen_range(0..BASE62.len())] as char);
        }
        id
    }

    pub fn random_token(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| BASE62[self.rng.gen_range(0..BASE62.len())] as char)
            .collect()
    }

    fn uuid(&mut self) -> String {
        let mut b = [0u8; 16];
        self.rng.fill_bytes(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    // ------------------------------------------------------------ lookups

    pub fn user_id(&self, id_or_login: &str) -> ApiResult<String> {
        if self.users.contains_key(id_or_login) {
            return Ok(id_or_login.to_string());
        }
        self.logins
            .get(&id_or_login.to_lowercase())
            .cloned()
            .ok_or_else(|| ApiError::not_found(id_or_login, "User"))
    }

    pub fn user(&self, id_or_login: &str) -> ApiResult<&UserRec> {
        let id = self.user_id(id_or_login)?;
        Ok(&self.users[&id])
    }

    pub fn group(&self, id: &str) -> ApiResult<&GroupRec> {
        self.groups
            .get(id)
            .ok_or_else(|| ApiError::not_found(id, "UserGroup"))
    }

    pub fn groups_of(&self, user_id: &str) -> Vec<&GroupRec> {
        self.user_groups
            .get(user_id)
            .map(|gs| gs.iter().filter_map(|g| self.groups.get(g)).collect())
            .unwrap_or_default()
    }

    /// Add a user (to the end of `users`, and to the id order).
    pub fn insert_user(&mut self, user: UserRec) {
        self.logins
            .insert(user.login().to_lowercase(), user.id.clone());
        self.user_ids.insert(user.id.clone());
        self.users.insert(user.id.clone(), user);
    }

    /// Users in id order after the `after` cursor (any text: a place in the
    /// order), as listings page them.
    pub fn users_after<'a>(
        &'a self,
        after: Option<&str>,
    ) -> impl Iterator<Item = &'a UserRec> + 'a {
        use std::ops::Bound;
        let from = match after {
            Some(a) => Bound::Excluded(a.to_string()),
            None => Bound::Unbounded,
        };
        self.user_ids
            .range((from, Bound::Unbounded))
            .filter_map(|id| self.users.get(id))
    }

    /// The event's actor for a credential.
    pub fn actor(&self, p: &Principal) -> LogEntity {
        match p {
            Principal::User { id, .. } => match self.users.get(id) {
                Some(u) => u.entity(),
                None => LogEntity {
                    id: id.clone(),
                    entity_type: "User".into(),
                    alternate_id: Some("unknown".into()),
                    display_name: Some("unknown".into()),
                    detail_entry: Some(json!({})),
                },
            },
            Principal::App {
                client_id, name, ..
            } => LogEntity {
                id: client_id.clone(),
                entity_type: "PublicClientApp".into(),
                alternate_id: Some(client_id.clone()),
                display_name: Some(name.clone()),
                detail_entry: Some(json!({})),
            },
        }
    }

    // ------------------------------------------------------------- events

    /// Append one System Log event and queue it for delivery.
    #[allow(clippy::too_many_arguments)]
    pub fn emit(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        actor: LogEntity,
        event_type: &str,
        display: &str,
        target: Vec<LogEntity>,
        debug_data: Map<String, Value>,
        outcome: (&str, Option<&str>),
    ) -> LogEvent {
        // Strictly increasing, so `published` orders events even when the
        // injected clock stands still.
        // Okta's timestamps have millisecond precision.
        let now = now.trunc_subsecs(3);
        let published = if now > self.last_published {
            now
        } else {
            self.last_published + chrono::Duration::milliseconds(1)
        };
        self.last_published = published;
        let mut outcome_json = json!({"result": outcome.0});
        if let Some(reason) = outcome.1 {
            outcome_json["reason"] = json!(reason);
        }
        let mut debug = debug_data;
        debug.insert("requestId".into(), json!(ctx.request_id));
        debug.insert("requestUri".into(), json!("/api/v1"));
        let mut rest = Map::new();
        rest.insert(
            "client".into(),
            json!({
                "userAgent": {"rawUserAgent": ctx.user_agent, "os": "Unknown", "browser": "UNKNOWN"},
                "zone": "null",
                "device": "Unknown",
                "ipAddress": ctx.ip,
                "geographicalContext": {"city": "San Francisco", "state": "California", "country": "United States", "postalCode": "94105",
                    "geolocation": {"lat": 37.7898, "lon": -122.3942}},
            }),
        );
        rest.insert("outcome".into(), outcome_json);
        rest.insert(
            "transaction".into(),
            json!({"type": "WEB", "id": ctx.request_id, "detail": {}}),
        );
        rest.insert("debugContext".into(), json!({"debugData": debug}));
        rest.insert(
            "authenticationContext".into(),
            json!({"authenticationStep": 0, "externalSessionId": "trs-sandbox"}),
        );
        rest.insert("securityContext".into(), json!({}));
        rest.insert(
            "request".into(),
            json!({"ipChain": [{"ip": ctx.ip, "version": "V4"}]}),
        );
        let event = LogEvent {
            uuid: self.uuid(),
            published,
            event_type: event_type.to_string(),
            version: Some("0".into()),
            severity: Some("INFO".into()),
            display_message: Some(display.to_string()),
            actor,
            target,
            rest,
        };
        self.log.push(event.clone());
        self.outbox.push(event.clone());
        event
    }

    /// [`OrgState::emit`] with the credential's actor and a success.
    pub fn emit_by(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        event_type: &str,
        display: &str,
        target: Vec<LogEntity>,
        debug: Map<String, Value>,
    ) {
        let actor = self.actor(&ctx.principal);
        self.emit(
            now,
            ctx,
            actor,
            event_type,
            display,
            target,
            debug,
            ("SUCCESS", None),
        );
    }

    // -------------------------------------------------------------- users

    /// `POST /api/v1/users`.
    pub fn create_user(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        mut profile: Map<String, Value>,
        has_password: bool,
        activate: bool,
        group_ids: &[String],
    ) -> ApiResult<String> {
        profile::validate(&profile, profile::Check::Whole)?;
        let login = profile
            .get("login")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if self.logins.contains_key(&login.to_lowercase()) {
            return Err(ApiError::validation(
                "login",
                "login: An object with this field already exists in the current organization",
            ));
        }
        for g in group_ids {
            // createUser declares no 404: an unknown group is invalid input.
            if !self.groups.contains_key(g) {
                return Err(ApiError::validation(
                    "groupIds",
                    &format!("groupIds: the group `{g}` does not exist"),
                ));
            }
        }
        if let Some(mid) = profile.get("managerId").and_then(Value::as_str)
            && !mid.is_empty()
            && !self.users.contains_key(mid)
        {
            // Okta stores it as given; keep it (flows must cope with stale ids).
            tracing::debug!(manager_id = mid, "new user's managerId names no user");
        }
        profile.entry("displayName").or_insert(Value::Null);
        profile.retain(|_, v| !v.is_null());
        let id = self.new_id("00u");
        let user = UserRec {
            id: id.clone(),
            status: "STAGED".into(),
            created: now,
            activated: None,
            status_changed: None,
            last_login: None,
            last_updated: now,
            password_changed: has_password.then_some(now),
            profile,
            has_password,
        };
        let entity = user.entity();
        self.insert_user(user);
        self.emit_by(
            now,
            ctx,
            "user.lifecycle.create",
            "Create Okta user",
            vec![entity],
            Map::new(),
        );
        self.add_member(&self.everyone_group.clone(), &id, now, None);
        for g in group_ids {
            self.add_member(g, &id, now, Some(ctx));
        }
        if activate {
            self.lifecycle(now, ctx, &id, "activate")?;
        }
        self.apply_rules_to_user(now, ctx, &id);
        Ok(id)
    }

    /// `POST /api/v1/users/{id}` with a partial profile.
    pub fn update_profile(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        id: &str,
        changes: &Map<String, Value>,
    ) -> ApiResult<()> {
        let id = self.user_id(id)?;
        profile::validate(changes, profile::Check::Partial)?;
        if let Some(login) = changes.get("login").and_then(Value::as_str) {
            let key = login.to_lowercase();
            if self.logins.get(&key).is_some_and(|owner| *owner != id) {
                return Err(ApiError::validation(
                    "login",
                    "login: An object with this field already exists in the current organization",
                ));
            }
        }
        let user = self.users.get_mut(&id).expect("looked up");
        let old_login = user.login().to_lowercase();
        let changed: Vec<String> = changes
            .iter()
            .filter(|(k, v)| user.profile.get(*k).unwrap_or(&Value::Null) != *v)
            .map(|(k, _)| k.clone())
            .collect();
        for (k, v) in changes {
            if v.is_null() {
                user.profile.remove(k);
            } else {
                user.profile.insert(k.clone(), v.clone());
            }
        }
        user.last_updated = now;
        let new_login = user.login().to_lowercase();
        let entity = user.entity();
        if new_login != old_login {
            self.logins.remove(&old_login);
            self.logins.insert(new_login, id.clone());
        }
        // Okta logs an update even when nothing differs; the changed list is
        // then empty (lanyard's client never sends such updates).
        let mut debug = Map::new();
        debug.insert("changedAttributes".into(), json!(changed.join(",")));
        self.emit_by(
            now,
            ctx,
            "user.account.update_profile",
            "Update user profile for Okta",
            vec![entity],
            debug,
        );
        self.apply_rules_to_user(now, ctx, &id);
        Ok(())
    }

    /// `POST /api/v1/users/{id}/lifecycle/{op}`.
    pub fn lifecycle(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        id: &str,
        op: &str,
    ) -> ApiResult<()> {
        let id = self.user_id(id)?;
        let user = &self.users[&id];
        let status = user.status.as_str();
        let (to, event, display) = match op {
            "activate" => {
                if !matches!(status, "STAGED" | "DEPROVISIONED") {
                    return Err(ApiError::new(
                        403,
                        "E0000016",
                        "Activation failed because the user is already active",
                    ));
                }
                let to = if user.has_password {
                    "ACTIVE"
                } else {
                    "PROVISIONED"
                };
                (to, "user.lifecycle.activate", "Activate Okta user")
            }
            "reactivate" => {
                if status != "PROVISIONED" {
                    return Err(ApiError::not_allowed_in_status());
                }
                (
                    "PROVISIONED",
                    "user.lifecycle.reactivate",
                    "Reactivate Okta user",
                )
            }
            "deactivate" => {
                if status == "DEPROVISIONED" {
                    return Err(ApiError::not_allowed_in_status());
                }
                (
                    "DEPROVISIONED",
                    "user.lifecycle.deactivate",
                    "Deactivate Okta user",
                )
            }
            "suspend" => {
                if status != "ACTIVE" {
                    return Err(ApiError::not_allowed_in_status());
                }
                ("SUSPENDED", "user.lifecycle.suspend", "Suspend Okta user")
            }
            "unsuspend" => {
                if status != "SUSPENDED" {
                    return Err(ApiError::not_allowed_in_status());
                }
                ("ACTIVE", "user.lifecycle.unsuspend", "Unsuspend Okta user")
            }
            "unlock" => {
                if status != "LOCKED_OUT" {
                    return Err(ApiError::new(
                        403,
                        "E0000032",
                        "Unlock is not allowed for this user.",
                    ));
                }
                (
                    "ACTIVE",
                    "user.account.unlock_by_admin",
                    "Unlock user account by admin",
                )
            }
            other => return Err(ApiError::not_found(other, "Operation")),
        };
        let user = self.users.get_mut(&id).expect("looked up");
        if user.status != to {
            user.status = to.to_string();
            user.status_changed = Some(now);
        }
        if op == "activate" {
            user.activated = Some(now);
        }
        user.last_updated = now;
        let entity = user.entity();
        if op == "deactivate" {
            // A deactivated user's sessions and tokens end with it.
            self.sessions.remove(&id);
            self.oauth_grants.remove(&id);
        }
        self.emit_by(now, ctx, event, display, vec![entity], Map::new());
        Ok(())
    }

    /// Simulated failed sign-ins until Okta locks the account.
    pub fn fail_sign_ins(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        id: &str,
        attempts: u32,
    ) -> ApiResult<()> {
        let id = self.user_id(id)?;
        if self.users[&id].status != "ACTIVE" {
            return Err(ApiError::not_allowed_in_status());
        }
        let entity = self.users[&id].entity();
        let sign_in_ctx = Ctx {
            principal: Principal::User {
                id: id.clone(),
                role: Role::ReadOnlyAdmin,
            },
            ..ctx.clone()
        };
        for _ in 0..attempts.max(1) {
            self.emit(
                now,
                &sign_in_ctx,
                entity.clone(),
                "user.session.start",
                "User login to Okta",
                vec![],
                Map::new(),
                ("FAILURE", Some("INVALID_CREDENTIALS")),
            );
        }
        let user = self.users.get_mut(&id).expect("looked up");
        user.status = "LOCKED_OUT".into();
        user.status_changed = Some(now);
        user.last_updated = now;
        let mut debug = Map::new();
        debug.insert("threshold".into(), json!(attempts.max(1)));
        self.emit(
            now,
            &sign_in_ctx,
            entity.clone(),
            "user.account.lock",
            "Max sign in attempts exceeded",
            vec![entity],
            debug,
            ("FAILURE", Some("LOCKED_OUT")),
        );
        Ok(())
    }

    /// A successful sign-in: a session starts.
    pub fn sign_in(&mut self, now: DateTime<Utc>, ctx: &Ctx, id: &str) -> ApiResult<String> {
        let id = self.user_id(id)?;
        if !matches!(
            self.users[&id].status.as_str(),
            "ACTIVE" | "PASSWORD_EXPIRED" | "RECOVERY"
        ) {
            return Err(ApiError::not_allowed_in_status());
        }
        let sid = self.new_id("102");
        self.sessions
            .entry(id.clone())
            .or_default()
            .push(sid.clone());
        *self.oauth_grants.entry(id.clone()).or_default() += 1;
        let user = self.users.get_mut(&id).expect("looked up");
        user.last_login = Some(now);
        let entity = user.entity();
        let ctx = Ctx {
            principal: Principal::User {
                id: id.clone(),
                role: Role::ReadOnlyAdmin,
            },
            ..ctx.clone()
        };
        self.emit(
            now,
            &ctx,
            entity,
            "user.session.start",
            "User login to Okta",
            vec![],
            Map::new(),
            ("SUCCESS", None),
        );
        Ok(sid)
    }

    /// `DELETE /api/v1/users/{userId}/sessions`. Okta logs the clear even when
    /// the user had no session.
    pub fn clear_sessions(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        id: &str,
        oauth_tokens: bool,
    ) -> ApiResult<()> {
        let id = self.user_id(id)?;
        let ended = self.sessions.remove(&id).map_or(0, |s| s.len());
        let revoked = if oauth_tokens {
            self.oauth_grants.remove(&id).unwrap_or(0)
        } else {
            0
        };
        let entity = self.users[&id].entity();
        let mut debug = Map::new();
        debug.insert("sessionsEnded".into(), json!(ended.to_string()));
        debug.insert("revokeOAuthTokens".into(), json!(oauth_tokens.to_string()));
        debug.insert("oauthTokensRevoked".into(), json!(revoked.to_string()));
        self.emit_by(
            now,
            ctx,
            "user.session.clear",
            "Clear user session",
            vec![entity],
            debug,
        );
        Ok(())
    }

    /// Enroll and activate a factor, as the user would.
    pub fn enroll_factor(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        id: &str,
        factor_type: &str,
    ) -> ApiResult<String> {
        let id = self.user_id(id)?;
        let (prefix, provider, vendor, profile) = match factor_type {
            "push" => (
                "opf",
                "OKTA",
                "OKTA",
                json!({"credentialId": self.users[&id].login(), "deviceType": "SmartPhone_IPhone", "name": "iPhone", "platform": "IOS", "version": "17.4"}),
            ),
            "token:software:totp" => (
                "ost",
                "OKTA",
                "OKTA",
                json!({"credentialId": self.users[&id].login()}),
            ),
            "sms" => (
                "mbl",
                "OKTA",
                "OKTA",
                json!({"phoneNumber": "+14155550100"}),
            ),
            "webauthn" => (
                "fwf",
                "FIDO",
                "FIDO",
                json!({"authenticatorName": "Touch ID", "credentialId": "l3Br0n-7H3g047NqESqJynFtIgf3Ix9OfaRoNwLoloso99Xl2zS_O7EXUkmPeAIzTVtEL4dYjicJWBz7NpqhGA"}),
            ),
            other => {
                return Err(ApiError::validation(
                    "factorType",
                    &format!(
                        "factorType: `{other}` is not one of push, token:software:totp, sms, webauthn"
                    ),
                ));
            }
        };
        if self
            .factors
            .get(&id)
            .is_some_and(|fs| fs.iter().any(|f| f.factor_type == factor_type))
        {
            return Err(ApiError::new(
                400,
                "E0000001",
                "Api validation failed: factorEnrollRequest",
            )
            .cause("There is an existing verified factor"));
        }
        let fid = self.new_id(prefix);
        self.factors.entry(id.clone()).or_default().push(FactorRec {
            id: fid.clone(),
            factor_type: factor_type.to_string(),
            provider: provider.to_string(),
            vendor_name: vendor.to_string(),
            status: "ACTIVE".into(),
            created: now,
            profile,
        });
        let entity = self.users[&id].entity();
        let ctx = Ctx {
            principal: Principal::User {
                id: id.clone(),
                role: Role::ReadOnlyAdmin,
            },
            ..ctx.clone()
        };
        let mut debug = Map::new();
        debug.insert("factor".into(), json!(factor_type));
        self.emit(
            now,
            &ctx,
            entity.clone(),
            "user.mfa.factor.activate",
            "Activate factor or authenticator",
            vec![entity],
            debug,
            ("SUCCESS", None),
        );
        Ok(fid)
    }

    // ------------------------------------------------------------- groups

    /// Membership without checks; `ctx` set → its events: the membership's,
    /// then one for each app the user gains through the group. Returns
    /// whether it changed.
    pub fn add_member(
        &mut self,
        group_id: &str,
        user_id: &str,
        now: DateTime<Utc>,
        ctx: Option<&Ctx>,
    ) -> bool {
        let before = ctx.map(|_| self.access_through(group_id, user_id));
        let added = self
            .members
            .entry(group_id.to_string())
            .or_default()
            .insert(user_id.to_string());
        self.user_groups
            .entry(user_id.to_string())
            .or_default()
            .insert(group_id.to_string());
        if added {
            if let Some(g) = self.groups.get_mut(group_id) {
                g.last_membership_updated = now;
            }
            if let (Some(ctx), Some(before)) = (ctx, before) {
                let targets = vec![self.users[user_id].entity(), self.groups[group_id].entity()];
                self.emit_by(
                    now,
                    ctx,
                    "group.user_membership.add",
                    "Add user to group membership",
                    targets,
                    Map::new(),
                );
                self.emit_access_changes(now, ctx, user_id, before);
            }
        }
        added
    }

    /// The reverse of [`OrgState::add_member`]: the membership's event, then
    /// one for each app the user loses with it. Returns whether it changed.
    pub fn remove_member(
        &mut self,
        group_id: &str,
        user_id: &str,
        now: DateTime<Utc>,
        ctx: &Ctx,
    ) -> bool {
        let before = self.access_through(group_id, user_id);
        let removed = self
            .members
            .get_mut(group_id)
            .is_some_and(|m| m.shift_remove(user_id));
        if let Some(gs) = self.user_groups.get_mut(user_id) {
            gs.shift_remove(group_id);
        }
        self.rule_memberships
            .remove(&(group_id.to_string(), user_id.to_string()));
        if removed {
            if let Some(g) = self.groups.get_mut(group_id) {
                g.last_membership_updated = now;
            }
            let targets = vec![self.users[user_id].entity(), self.groups[group_id].entity()];
            self.emit_by(
                now,
                ctx,
                "group.user_membership.remove",
                "Remove user from group membership",
                targets,
                Map::new(),
            );
            self.emit_access_changes(now, ctx, user_id, before);
        }
        removed
    }

    /// Okta manages the members of `BUILT_IN` groups (Everyone) and an app
    /// those of `APP_GROUP`s: changing them is forbidden (403, the status
    /// assignUserToGroup and unassignUserFromGroup document).
    fn managed_members(group: &GroupRec) -> ApiResult<()> {
        if group.group_type == "OKTA_GROUP" {
            return Ok(());
        }
        Err(ApiError::forbidden().cause(format!(
            "Cannot modify the members of a {} group; only OKTA_GROUP memberships can be changed",
            group.group_type
        )))
    }

    /// `PUT /api/v1/groups/{groupId}/users/{userId}`: adding a member who is
    /// there already changes nothing and logs nothing.
    pub fn assign(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        group_id: &str,
        user_id: &str,
    ) -> ApiResult<()> {
        Self::managed_members(self.group(group_id)?)?;
        let user_id = self.user_id(user_id)?;
        self.add_member(group_id, &user_id, now, Some(ctx));
        Ok(())
    }

    /// `DELETE /api/v1/groups/{groupId}/users/{userId}`.
    pub fn unassign(
        &mut self,
        now: DateTime<Utc>,
        ctx: &Ctx,
        group_id: &str,
        user_id: &str,
    ) -> ApiResult<()> {
        Self::managed_members(self.group(group_id)?)?;
        let user_id = self.user_id(user_id)?;
        self.remove_member(group_id, &user_id, now, ctx);
        Ok(())
    }

    pub fn add_group(
        &mut self,
        now: DateTime<Utc>,
        name: &str,
        description: &str,
        group_type: &str,
    ) -> String {
        let id = self.new_id("00g");
        self.groups.insert(
            id.clone(),
            GroupRec {
                id: id.clone(),
                name: name.to_string(),
                description: Some(description.to_string()),
                group_type: group_type.to_string(),
                created: now,
                last_updated: now,
                last_membership_updated: now,
            },
        );
        self.members.insert(id.clone(), IndexSet::new());
        id
    }
}
