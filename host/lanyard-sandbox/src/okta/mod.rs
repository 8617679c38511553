//! The sandbox org: a simulated Okta org that serves Okta's Management API on a
//! real socket, so the real client (and anything else that speaks Okta) is what
//! talks to it.
//!
//! - Seeded with a realistic company ([`seed`]), timestamps from an injected
//!   [`Clock`].
//! - Every change writes the System Log event Okta writes, with the actor of the
//!   credential that asked: the human admin's API token, lanyard's service
//!   account token, or an OAuth service app. Events are served by
//!   `/api/v1/logs` and delivered to verified Event Hooks as Okta does.
//! - OAuth 2.0: `/oauth2/v1/token` with `private_key_jwt` client credentials,
//!   scopes checked per endpoint, DPoP-bound tokens with nonces.
//! - Faults: the next N requests (optionally on a path prefix) answer 429 with
//!   Okta's headers and E0000047, or 5xx.
//! - `/sandbox/v1/...` (not Okta's API) makes things happen that Okta has no API
//!   for: failed sign-ins until lockout, a factor enrolled by the user, a sign-in.
//!
//! Deliberate differences from Okta: Event Hook URIs may be plain `http` (for
//! loopback receivers), and the System Log has no 7-day retention limit.
//! The sandbox must not be exposed beyond loopback: its tokens are printed.

// Okta's error answers are built once per failed request and sent at once;
// their size on the stack does not matter here.
#![allow(clippy::result_large_err)]

mod admin;
mod apps;
mod delivery;
mod expression;
pub mod filter;
mod groups;
mod http;
mod oauth;
mod profile;
mod rules;
mod seed;
mod state;
mod users;

pub use admin::SandboxAdmin;
pub use delivery::{DeliveryConfig, DeliveryRecord};
pub use http::{ROUTES, Route, serve};
pub use state::Principal;

use chrono::{DateTime, Utc};
use lanyard_core::okta::{Factor, Group, User};
use lanyard_core::{Clock, LogEvent, SystemClock};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use delivery::{Delivery, HookTarget};
use state::{Ctx, OrgState, Role, ServiceAppRec};

/// How to build a sandbox org.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The same seed gives the same org (ids, names, tokens).
    pub seed: u64,
    /// About how many people (at least 40; the default is 240).
    pub users: usize,
    /// This many more generated people on top of the company (0 by default):
    /// a large org for scale tests (50,000 users pages fine). The company
    /// itself stays exactly as with none, so tests that pick seeded people
    /// find the same ones. Deterministic from the seed.
    pub extra_users: usize,
    /// The email domain of every login.
    pub domain: String,
    /// API tokens; `None` derives one from the seed.
    pub admin_token: Option<String>,
    pub service_token: Option<String>,
    pub readonly_token: Option<String>,
    /// Failed sign-ins before a lockout.
    pub lockout_attempts: u32,
    pub delivery: DeliveryConfig,
    /// `X-Rate-Limit-Limit` per endpoint and minute.
    pub rate_limit_per_minute: u64,
    /// Answer 429 when a bucket runs out (off by default, so load tests
    /// measure lanyard rather than the simulated limit; faults inject 429s).
    pub enforce_rate_limits: bool,
    /// Resource requests with a DPoP-bound token need a server nonce, as Okta's
    /// resource server may ask.
    pub dpop_resource_nonce: bool,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            seed: 7,
            users: 240,
            extra_users: 0,
            domain: "acme.example".into(),
            admin_token: None,
            service_token: None,
            readonly_token: None,
            lockout_attempts: 5,
            delivery: DeliveryConfig::default(),
            rate_limit_per_minute: 600,
            enforce_rate_limits: false,
            dpop_resource_nonce: true,
        }
    }
}

/// An OAuth 2.0 service app to register with the org.
#[derive(Debug, Clone)]
pub struct ServiceApp {
    pub client_id: String,
    pub name: String,
    /// The public key (PEM, SPKI) its `private_key_jwt` assertions verify with.
    pub public_key_pem: String,
    /// The Okta scopes granted to it (`okta.users.read`, ...).
    pub scopes: Vec<String>,
    /// Tokens are DPoP-bound (Okta's "Require DPoP" setting).
    pub require_dpop: bool,
}

/// A fault to inject into the next matching requests.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    /// 429 answers as Okta's rate limiter; anything else as an Okta error.
    pub status: u16,
    /// How many matching requests fail.
    pub count: u32,
    /// Only requests whose path starts with this.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Only requests with this method.
    #[serde(default)]
    pub method: Option<String>,
    /// For 429: seconds until `X-Rate-Limit-Reset`.
    #[serde(default = "default_reset")]
    pub reset_after_seconds: u64,
}

fn default_reset() -> u64 {
    2
}

/// One request the sandbox served, kept while recording (for conformance tests).
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
    /// Lower-case names; credentials redacted.
    pub request_headers: Vec<(String, String)>,
    /// JSON body, or the form fields of a token request as an object.
    pub request_body: Option<Value>,
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Option<Value>,
}

/// Sizes of the org, for the CLI and tests.
#[derive(Debug, Clone, Serialize)]
pub struct SandboxCounts {
    pub users: usize,
    pub active_users: usize,
    pub users_without_factors: usize,
    pub groups: usize,
    pub apps: usize,
    pub events: usize,
    pub event_hooks: usize,
}

/// A simulated Okta org. Share it as `Arc<SandboxOrg>` between the server and tests.
pub struct SandboxOrg {
    state: Mutex<OrgState>,
    clock: Arc<dyn Clock>,
    config: SandboxConfig,
    delivery: Arc<Delivery>,
    faults: Mutex<Vec<FaultRule>>,
    recording: Mutex<Option<Vec<Exchange>>>,
    rate: Mutex<HashMap<String, (i64, u64)>>,
    /// The base URL clients first reached the org at, for hook `source`s of
    /// changes made through the helpers below (outside any request).
    served_at: std::sync::OnceLock<String>,
    admin_token: String,
    service_token: String,
    readonly_token: String,
    admin_id: String,
    service_id: String,
    readonly_id: String,
}

impl SandboxOrg {
    /// The default org on the system clock.
    pub fn with_defaults() -> Arc<Self> {
        Self::new(SandboxConfig::default(), Arc::new(SystemClock))
    }

    pub fn new(config: SandboxConfig, clock: Arc<dyn Clock>) -> Arc<Self> {
        let now = clock.now();
        let mut s = OrgState::new(StdRng::seed_from_u64(config.seed), config.domain.clone());
        let seeded = seed::seed(&mut s, now, config.users);
        seed::extra_users(&mut s, now, config.seed, config.extra_users);
        let defaults = default_tokens(config.seed);
        let admin_token = config.admin_token.clone().unwrap_or(defaults.admin);
        let service_token = config.service_token.clone().unwrap_or(defaults.service);
        let readonly_token = config.readonly_token.clone().unwrap_or(defaults.readonly);
        s.ssws.insert(
            admin_token.clone(),
            Principal::User {
                id: seeded.admin_id.clone(),
                role: Role::SuperAdmin,
            },
        );
        s.ssws.insert(
            service_token.clone(),
            Principal::User {
                id: seeded.service_id.clone(),
                role: Role::SuperAdmin,
            },
        );
        s.ssws.insert(
            readonly_token.clone(),
            Principal::User {
                id: seeded.readonly_id.clone(),
                role: Role::ReadOnlyAdmin,
            },
        );
        s.dpop_nonce = s.random_token(32);
        Arc::new(SandboxOrg {
            state: Mutex::new(s),
            delivery: Delivery::new(config.delivery.clone(), Arc::clone(&clock)),
            clock,
            faults: Mutex::new(Vec::new()),
            recording: Mutex::new(None),
            rate: Mutex::new(HashMap::new()),
            served_at: std::sync::OnceLock::new(),
            admin_token,
            service_token,
            readonly_token,
            admin_id: seeded.admin_id,
            service_id: seeded.service_id,
            readonly_id: seeded.readonly_id,
            config,
        })
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The human super admin's API token (events show that admin as actor).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// lanyard's service account's API token (events show the service account).
    pub fn service_token(&self) -> &str {
        &self.service_token
    }

    /// A read-only admin's API token: reads work, writes answer 403.
    pub fn readonly_token(&self) -> &str {
        &self.readonly_token
    }

    pub fn admin_user_id(&self) -> &str {
        &self.admin_id
    }

    pub fn service_user_id(&self) -> &str {
        &self.service_id
    }

    pub fn readonly_user_id(&self) -> &str {
        &self.readonly_id
    }

    /// Register an OAuth 2.0 service app that authenticates with `private_key_jwt`.
    pub fn register_service_app(&self, app: ServiceApp) -> Result<(), String> {
        oauth::check_public_key(&app.public_key_pem)?;
        self.lock().service_apps.insert(
            app.client_id.clone(),
            ServiceAppRec {
                client_id: app.client_id,
                name: app.name,
                public_key_pem: app.public_key_pem,
                scopes: app.scopes.into_iter().collect::<BTreeSet<_>>(),
                require_dpop: app.require_dpop,
            },
        );
        Ok(())
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, OrgState> {
        self.state.lock().expect("sandbox state lock")
    }

    /// Run a change under the lock, then queue its events for the hooks.
    pub(crate) fn mutate<T>(
        &self,
        f: impl FnOnce(&mut OrgState, DateTime<Utc>) -> T,
        base: &str,
    ) -> T {
        let now = self.clock.now();
        let (out, targets) = {
            let mut s = self.lock();
            let out = f(&mut s, now);
            let events = std::mem::take(&mut s.outbox);
            let mut targets = Vec::new();
            for ev in events {
                for hook in s.hooks.values().filter(|h| h.delivers(&ev.event_type)) {
                    targets.push((
                        HookTarget {
                            id: hook.id.clone(),
                            uri: hook.uri.clone(),
                            headers: hook.headers.clone(),
                            auth: hook.auth.clone(),
                            source: format!("{base}/api/v1/eventHooks/{}", hook.id),
                        },
                        ev.clone(),
                    ));
                }
            }
            (out, targets)
        };
        self.delivery.enqueue(targets);
        out
    }

    // ------------------------------------------------------------ faults

    /// Make the next matching requests fail.
    pub fn inject(&self, rule: FaultRule) {
        self.faults.lock().expect("faults lock").push(rule);
    }

    pub fn clear_faults(&self) {
        self.faults.lock().expect("faults lock").clear();
    }

    /// Failures still to be served.
    pub fn faults_remaining(&self) -> u32 {
        self.faults
            .lock()
            .expect("faults lock")
            .iter()
            .map(|f| f.count)
            .sum()
    }

    pub(crate) fn take_fault(&self, method: &str, path: &str) -> Option<FaultRule> {
        let mut faults = self.faults.lock().expect("faults lock");
        let pos = faults.iter().position(|f| {
            f.count > 0
                && f.path_prefix.as_deref().is_none_or(|p| path.starts_with(p))
                && f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
        })?;
        let rule = faults[pos].clone();
        faults[pos].count -= 1;
        if faults[pos].count == 0 {
            faults.remove(pos);
        }
        Some(rule)
    }

    // --------------------------------------------------------- recording

    /// Keep every request and answer from now on.
    pub fn start_recording(&self) {
        *self.recording.lock().expect("recording lock") = Some(Vec::new());
    }

    /// What was recorded since [`SandboxOrg::start_recording`] (recording goes on).
    pub fn take_recording(&self) -> Vec<Exchange> {
        self.recording
            .lock()
            .expect("recording lock")
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    pub(crate) fn record(&self, ex: impl FnOnce() -> Exchange) {
        if let Some(r) = self.recording.lock().expect("recording lock").as_mut() {
            r.push(ex());
        }
    }

    // ------------------------------------------------------------- hooks

    /// Until every event so far has been delivered to the hooks (or given up on).
    pub async fn wait_for_deliveries(&self) {
        self.delivery.wait_idle().await;
    }

    /// Hold Event Hook deliveries: events queue up until
    /// [`SandboxOrg::resume_deliveries`], then go out in batches of up to
    /// `max_batch`. (Waiting for deliveries while paused waits forever.)
    pub fn pause_deliveries(&self) {
        self.delivery.pause();
    }

    pub fn resume_deliveries(&self) {
        self.delivery.resume();
    }

    pub fn deliveries(&self) -> Vec<DeliveryRecord> {
        self.delivery.records()
    }

    /// Change batching, duplicates, order or timeout from now on.
    pub fn set_delivery_config(&self, cfg: DeliveryConfig) {
        self.delivery.set_config(cfg);
    }

    // ------------------------------------------------- looking at the org

    pub fn user(&self, id_or_login: &str) -> Option<User> {
        let s = self.lock();
        let u = s.user(id_or_login).ok()?;
        serde_json::from_value(u.to_json("")).ok()
    }

    pub fn user_by_login(&self, login: &str) -> Option<User> {
        self.user(login)
    }

    /// The Slack member ids the org's profiles name (custom attribute
    /// `slackUserId`), for a Slack stand-in whose workspace has these people.
    pub fn slack_member_ids(&self) -> Vec<String> {
        let s = self.lock();
        let mut ids: Vec<String> = s
            .users
            .values()
            .filter_map(|u| u.profile.get("slackUserId").and_then(|v| v.as_str()).map(str::to_string))
            .collect();
        ids.sort();
        ids
    }

    pub fn users(&self) -> Vec<User> {
        let s = self.lock();
        s.users
            .values()
            .filter_map(|u| serde_json::from_value(u.to_json("")).ok())
            .collect()
    }

    /// Open sessions of a user.
    pub fn sessions_of(&self, id_or_login: &str) -> usize {
        let s = self.lock();
        s.user_id(id_or_login)
            .ok()
            .and_then(|id| s.sessions.get(&id).map(Vec::len))
            .unwrap_or(0)
    }

    /// OAuth grants (refresh tokens) Okta issued to a user's apps.
    pub fn oauth_tokens_of(&self, id_or_login: &str) -> u32 {
        let s = self.lock();
        s.user_id(id_or_login)
            .ok()
            .and_then(|id| s.oauth_grants.get(&id).copied())
            .unwrap_or(0)
    }

    pub fn groups_of(&self, id_or_login: &str) -> Vec<Group> {
        let s = self.lock();
        let Ok(id) = s.user_id(id_or_login) else {
            return Vec::new();
        };
        s.groups_of(&id).into_iter().map(to_group).collect()
    }

    pub fn group_by_name(&self, name: &str) -> Option<Group> {
        self.lock()
            .groups
            .values()
            .find(|g| g.name == name)
            .map(to_group)
    }

    pub fn groups(&self) -> Vec<Group> {
        self.lock().groups.values().map(to_group).collect()
    }

    /// User ids in a group.
    pub fn members_of(&self, group_id: &str) -> Vec<String> {
        self.lock()
            .members
            .get(group_id)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn factors_of(&self, id_or_login: &str) -> Vec<Factor> {
        let s = self.lock();
        let Ok(id) = s.user_id(id_or_login) else {
            return Vec::new();
        };
        s.factors
            .get(&id)
            .map(|fs| {
                fs.iter()
                    .filter_map(|f| serde_json::from_value(f.to_json("", &id)).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The whole System Log, oldest first.
    pub fn events(&self) -> Vec<LogEvent> {
        self.lock().log.clone()
    }

    pub fn events_of_type(&self, event_type: &str) -> Vec<LogEvent> {
        self.lock()
            .log
            .iter()
            .filter(|e| e.event_type == event_type)
            .cloned()
            .collect()
    }

    pub fn counts(&self) -> SandboxCounts {
        let s = self.lock();
        SandboxCounts {
            users: s.users.len(),
            active_users: s.users.values().filter(|u| u.status == "ACTIVE").count(),
            users_without_factors: s
                .users
                .keys()
                .filter(|id| s.factors.get(*id).is_none_or(Vec::is_empty))
                .count(),
            groups: s.groups.len(),
            apps: s.apps.len(),
            events: s.log.len(),
            event_hooks: s.hooks.len(),
        }
    }

    // ------------------------------------------- making things happen

    fn sandbox_ctx(&self) -> Ctx {
        Ctx {
            principal: Principal::User {
                id: self.admin_id.clone(),
                role: Role::SuperAdmin,
            },
            ip: "127.0.0.1".into(),
            user_agent: "lanyard-sandbox".into(),
            request_id: delivery::random_uuid(),
        }
    }

    /// Failed sign-ins until the account locks (`user.session.start` failures,
    /// then `user.account.lock`, with the user as actor).
    pub fn lock_user(&self, id_or_login: &str) -> Result<(), String> {
        let ctx = self.sandbox_ctx();
        let attempts = self.config.lockout_attempts;
        self.mutate(
            |s, now| s.fail_sign_ins(now, &ctx, id_or_login, attempts),
            self.base(),
        )
        .map_err(|e| e.body.to_string())
    }

    /// The user enrolls and activates a factor (`user.mfa.factor.activate`).
    pub fn enroll_factor(&self, id_or_login: &str, factor_type: &str) -> Result<String, String> {
        let ctx = self.sandbox_ctx();
        self.mutate(
            |s, now| s.enroll_factor(now, &ctx, id_or_login, factor_type),
            self.base(),
        )
        .map_err(|e| e.body.to_string())
    }

    /// The user signs in: a session and an OAuth grant start.
    pub fn sign_in(&self, id_or_login: &str) -> Result<String, String> {
        let ctx = self.sandbox_ctx();
        self.mutate(|s, now| s.sign_in(now, &ctx, id_or_login), self.base())
            .map_err(|e| e.body.to_string())
    }

    fn base(&self) -> &str {
        self.served_at
            .get()
            .map_or("http://127.0.0.1", String::as_str)
    }

    pub(crate) fn note_base(&self, base: &str) {
        if self.served_at.get().is_none() {
            let _ = self.served_at.set(base.to_string());
        }
    }

    /// The Okta scope an OAuth token needs for a request (`None`: no Okta API route).
    pub fn required_scope(method: &str, path: &str) -> Option<&'static str> {
        http::required_scope(method, path)
    }
}

/// The API tokens a sandbox made from `seed` has unless configured otherwise
/// (they depend on the seed alone, so `lanyard sandbox event` finds them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub admin: String,
    pub service: String,
    pub readonly: String,
}

pub fn default_tokens(seed: u64) -> Tokens {
    let mut s = OrgState::new(
        StdRng::seed_from_u64(seed ^ 0x5353_5753_544f_4b4e),
        String::new(),
    );
    Tokens {
        admin: format!("00{}", s.random_token(40)),
        service: format!("00{}", s.random_token(40)),
        readonly: format!("00{}", s.random_token(40)),
    }
}

fn to_group(g: &state::GroupRec) -> Group {
    Group {
        id: g.id.clone(),
        name: g.name.clone(),
        description: g.description.clone(),
        group_type: g.group_type.clone(),
    }
}

/// A sandbox served on a loopback port in the background; stops when dropped.
pub struct RunningSandbox {
    pub org: Arc<SandboxOrg>,
    pub addr: SocketAddr,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl RunningSandbox {
    /// Serve `org` on `127.0.0.1:0`.
    pub async fn start(org: Arc<SandboxOrg>) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        org.note_base(&format!("http://{addr}"));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(listener, Arc::clone(&org), async move {
            let _ = rx.await;
        }));
        Ok(RunningSandbox {
            org,
            addr,
            base_url: format!("http://{addr}"),
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Stop serving and wait for open connections to finish.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(t) => t.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Profile attributes for a new user, with the login and email derived from the
/// names (used by `lanyard sandbox event create-user`).
pub fn new_user_profile(
    first: &str,
    last: &str,
    domain: &str,
    extra: &[(&str, &str)],
) -> Map<String, Value> {
    let login = format!(
        "{}.{}@{}",
        first.to_lowercase(),
        last.to_lowercase(),
        domain
    )
    .replace(' ', "");
    let mut p = Map::new();
    p.insert("firstName".into(), Value::from(first));
    p.insert("lastName".into(), Value::from(last));
    p.insert("displayName".into(), Value::from(format!("{first} {last}")));
    p.insert("login".into(), Value::from(login.clone()));
    p.insert("email".into(), Value::from(login));
    for (k, v) in extra {
        p.insert((*k).to_string(), Value::from(*v));
    }
    p
}
