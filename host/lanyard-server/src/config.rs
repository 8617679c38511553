//! `lanyard.toml`: the daemon's one configuration file.
//!
//! Two layers, as everywhere in lanyard: [`RawConfig`] is the file as written
//! (serde, `deny_unknown_fields`, so a typo is an error that names its key), and
//! [`Config`] is the checked model the engine runs on (paths resolved against the
//! file's directory, durations and sizes parsed, secrets read from the
//! environment or files, connections and mail validated by `lanyard-connect`).
//! [`Config::load`] collects every problem it can find, each with its key path,
//! and reports them together with the file name.
//!
//! This module reads the config file, secret files and environment variables;
//! it opens no socket and touches no store. The reference of every key is the
//! commented example `lanyard.example.toml` at the repository root.

use lanyard_connect::secret::{Env, ProcessEnv};
use lanyard_connect::{
    ConnectionsConfig, Connections, HttpSettings, MailCapability, MailConfig, Secret, SecretSource,
};
use lanyard_core::units::{RawDuration, RawSize};
use lanyard_core::{Grant, Grants};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

// ---------------------------------------------------------------------------
// The file as written

/// `lanyard.toml` as written. Every table is optional; see the example file
/// at the repository root for every key and its default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub okta: Option<RawOkta>,
    #[serde(default)]
    pub hooks: RawHooks,
    #[serde(default)]
    pub workers: RawWorkers,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub loop_protection: RawLoopProtection,
    #[serde(default)]
    pub history: RawHistory,
    #[serde(default)]
    pub error_flow: Option<RawErrorFlow>,
    #[serde(default)]
    pub connections: ConnectionsConfig,
    #[serde(default)]
    pub mail: Option<MailConfig>,
    #[serde(default)]
    pub http: Option<HttpSettings>,
    /// `[cards."slack.post"] grants = ["connection:it-slack"]`.
    #[serde(default)]
    pub cards: BTreeMap<String, RawCardGrants>,
    #[serde(default)]
    pub schedules: RawSchedules,
    #[serde(default)]
    pub poll: RawPoll,
    #[serde(default)]
    pub signals: RawSignals,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub flows_dir: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
    pub admin_token: Option<SecretSource>,
    pub invoke_token: Option<SecretSource>,
    pub max_body_bytes: Option<RawSize>,
    /// The largest card `PUT /api/v1/cards/{name}` and `lanyard card publish` take.
    pub max_card_bytes: Option<RawSize>,
    /// The store's page cache.
    pub store_cache: Option<RawSize>,
    pub shutdown_grace: Option<RawDuration>,
    pub watch_flows: Option<bool>,
    /// Client connections served at once (default: from the file-descriptor limit).
    pub max_connections: Option<usize>,
    /// Connections kept, past `max_connections`, for health checks and the admin API.
    pub reserved_connections: Option<usize>,
    /// How long a connection may wait to send a whole request head.
    pub idle_timeout: Option<RawDuration>,
    /// How long a request body may take to arrive whole.
    pub body_timeout: Option<RawDuration>,
}

/// `[okta]`: one org, or (with only `orgs`) several named ones, each
/// `[okta.orgs.<name>]` with the same keys as `[okta]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOkta {
    /// Run against the embedded simulated org.
    #[serde(default)]
    pub sandbox: bool,
    pub org_url: Option<String>,
    /// Accept a plain `http` org URL to a host that is not loopback.
    #[serde(default)]
    pub allow_insecure_http: bool,
    pub auth: Option<RawOktaAuth>,
    #[serde(default)]
    pub self_actor_ids: Vec<String>,
    /// Ask Okta who the token belongs to (`GET /api/v1/users/me`), default true.
    pub detect_self: Option<bool>,
    /// The `Authorization` value the org's Event Hook sends (for `[okta]`,
    /// `[hooks.okta] secret` says the same).
    pub hook_secret: Option<SecretSource>,
    /// `[okta.orgs.<name>]`: several orgs, by name.
    #[serde(default)]
    pub orgs: BTreeMap<String, RawOkta>,
}

impl RawOkta {
    /// Whether the table configures an org itself (any key but `orgs`).
    fn has_org_keys(&self) -> bool {
        self.sandbox
            || self.org_url.is_some()
            || self.allow_insecure_http
            || self.auth.is_some()
            || !self.self_actor_ids.is_empty()
            || self.detect_self.is_some()
            || self.hook_secret.is_some()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawOktaAuth {
    /// `auth = { ssws = { env = "OKTA_API_TOKEN" } }`
    Ssws(SecretSource),
    /// `auth = { private_key_jwt = { client_id = "0oa...", key_file = "okta.pem", scopes = [...] } }`
    PrivateKeyJwt(RawPrivateKeyJwt),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrivateKeyJwt {
    pub client_id: String,
    pub key_file: PathBuf,
    #[serde(default)]
    pub key_id: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHooks {
    pub okta: Option<RawOktaHook>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOktaHook {
    /// The `Authorization` header value Okta sends with every delivery.
    pub secret: SecretSource,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkers {
    pub concurrency: Option<usize>,
    pub queue: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    pub fuel: Option<u64>,
    pub memory: Option<RawSize>,
    pub timeout: Option<RawDuration>,
    pub max_input_bytes: Option<RawSize>,
    pub max_output_bytes: Option<RawSize>,
    /// Everything one card call makes the host keep (`Limits::max_record_bytes`);
    /// `max_log_bytes` is its old name.
    #[serde(alias = "max_log_bytes")]
    pub max_record_bytes: Option<RawSize>,
    /// Card calls in flight at once, across all runs (the instance pool).
    pub max_instances: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLoopProtection {
    pub window: Option<RawDuration>,
    pub max_runs: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHistory {
    pub max_age: Option<RawDuration>,
    pub max_runs_per_flow: Option<usize>,
    pub prune_every: Option<RawDuration>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawErrorFlow {
    pub name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCardGrants {
    #[serde(default)]
    pub grants: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedules {
    /// `skip` or `once`: what the scheduler does with fires missed while the
    /// daemon was down, for flows whose schedule does not say.
    pub catch_up: Option<String>,
    /// Fire schedules on this daemon (default true). Off for a second daemon
    /// that must not fire them, or tests that tick the scheduler by hand.
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPoll {
    /// Poll the System Log (`/api/v1/logs`) instead of, or besides, Event Hooks.
    pub enabled: Option<bool>,
    pub interval: Option<RawDuration>,
    /// How far back the first poll reaches (later polls resume from the cursor).
    pub lookback: Option<RawDuration>,
}

/// `[signals]`: the links `signal_link()` makes (`crate::signal_links`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSignals {
    /// Where people reach the daemon: links are `<public_url>/signals/<token>`.
    pub public_url: Option<String>,
    /// How long a link answers (default 30d).
    pub link_max_age: Option<RawDuration>,
}

// ---------------------------------------------------------------------------
// The checked model

/// The checked configuration the engine runs on.
#[derive(Clone)]
pub struct Config {
    /// The file it came from (`None` for a config built in code).
    pub file: Option<PathBuf>,
    pub server: ServerConfig,
    /// The Okta orgs, in name order: none, the one `[okta]` configures (named
    /// `default`), or `[okta.orgs.<name>]`.
    pub orgs: Vec<OrgConfig>,
    pub workers: WorkersConfig,
    pub limits: lanyard_runtime::Limits,
    pub max_instances: u32,
    pub loop_protection: LoopProtection,
    pub history: HistoryConfig,
    pub error_flow: Option<String>,
    pub connections: Arc<Connections>,
    pub http: HttpSettings,
    pub mail: Option<MailCapability>,
    /// What operators granted each card, by card name.
    pub card_grants: BTreeMap<String, Grants>,
    pub schedules: SchedulesConfig,
    pub poll: PollConfig,
    pub signals: SignalsConfig,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("file", &self.file)
            .field("server", &self.server)
            .field("orgs", &self.orgs)
            .field("workers", &self.workers)
            .field("error_flow", &self.error_flow)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub flows_dir: PathBuf,
    /// Compiled cards, by content hash (default `<data_dir>/cache`).
    pub cache_dir: PathBuf,
    /// Bearer token of the admin API; without it the admin API is refused.
    pub admin_token: Option<Secret>,
    /// Bearer token of `POST /api/v1/flows/{name}/invoke` (the admin token works too).
    pub invoke_token: Option<Secret>,
    pub max_body_bytes: usize,
    /// The largest card the registry takes (default 64 MiB, the most the store keeps).
    pub max_card_bytes: usize,
    /// The most memory the store's page cache takes (default 64 MiB).
    pub store_cache: u64,
    /// How long shutdown waits for runs in flight before it checkpoints them.
    pub shutdown_grace: Duration,
    /// Reload flows when files under `flows_dir` change.
    pub watch_flows: bool,
    /// Client connections served at once. Past it, the connection idle the
    /// longest is closed to make room; with none idle, new connections get
    /// the reserve, then wait in the listen queue.
    pub max_connections: usize,
    /// Connections past `max_connections` that only health checks, readiness,
    /// metrics and the admin API are served on (others answer 503).
    pub reserved_connections: usize,
    /// A connection that has not sent a whole request head within this long
    /// (a new one, or a kept-alive one between requests) is closed.
    pub idle_timeout: Duration,
    /// A request body that has not arrived whole this long after its head is
    /// answered 408 and its connection closed.
    pub body_timeout: Duration,
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("flows_dir", &self.flows_dir)
            .field("admin_token", &self.admin_token.is_some())
            .field("invoke_token", &self.invoke_token.is_some())
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_connections", &self.max_connections)
            .field("reserved_connections", &self.reserved_connections)
            .finish_non_exhaustive()
    }
}

/// One Okta org: where its events come in and where its cards' calls go.
#[derive(Clone)]
pub struct OrgConfig {
    /// [`lanyard_flow::DEFAULT_ORG`] for `[okta]`; `<name>` for `[okta.orgs.<name>]`.
    pub name: String,
    pub setup: OktaSetup,
    /// The `Authorization` value the org's Event Hook sends; without it the
    /// org's hook route answers 404.
    pub hook_secret: Option<Secret>,
}

impl fmt::Debug for OrgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrgConfig")
            .field("name", &self.name)
            .field("setup", &self.setup)
            .field("hook_secret", &self.hook_secret.is_some())
            .finish()
    }
}

impl OrgConfig {
    /// The ids of the daemon's own identity in this org, as configured.
    pub fn self_actor_ids(&self) -> &[String] {
        match &self.setup {
            OktaSetup::None => &[],
            OktaSetup::Sandbox { self_actor_ids } | OktaSetup::Org { self_actor_ids, .. } => self_actor_ids,
        }
    }
}

/// Which Okta org the `okta` capability talks to.
#[derive(Clone)]
pub enum OktaSetup {
    /// Events only (`[hooks.okta]` without `[okta]`): Okta cards answer
    /// `unavailable`.
    None,
    /// `[okta] sandbox = true`: the embedded simulated org, started in-process.
    Sandbox { self_actor_ids: Vec<String> },
    /// A real org (or a sandbox reached over HTTP).
    Org {
        org_url: lanyard_okta::OrgUrl,
        auth: lanyard_okta::Auth,
        self_actor_ids: Vec<String>,
        detect_self: bool,
    },
}

impl fmt::Debug for OktaSetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OktaSetup::None => f.write_str("None"),
            OktaSetup::Sandbox { .. } => f.write_str("Sandbox"),
            OktaSetup::Org { org_url, auth, .. } => {
                f.debug_struct("Org").field("org_url", org_url).field("auth", auth).finish_non_exhaustive()
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkersConfig {
    /// Runs executing at once.
    pub concurrency: usize,
    /// Runs waiting in memory; past it the dispatcher leaves events in the
    /// (durable) inbox and API calls answer 503.
    pub queue: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopProtection {
    pub window: Duration,
    /// More runs than this for one flow and one subject within `window` are
    /// held as `suppressed`.
    pub max_runs: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryConfig {
    pub retention: lanyard_store::RetentionPolicy,
    pub prune_every: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulesConfig {
    pub catch_up: lanyard_flow::model::CatchUp,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalsConfig {
    /// The base of every signal link, without a trailing `/`; `None`: the
    /// daemon's listen address (and a warning at start).
    pub public_url: Option<String>,
    pub link_max_age: Duration,
}

/// `[signals] link_max_age` when the file does not say.
pub const DEFAULT_LINK_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollConfig {
    pub enabled: bool,
    pub interval: Duration,
    pub lookback: Duration,
}

/// What is wrong with a configuration file: every problem, each with its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub file: Option<PathBuf>,
    /// `key.path: message`, one per problem.
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            Some(p) => write!(f, "{}: ", p.display())?,
            None => f.write_str("configuration: ")?,
        }
        if self.problems.len() == 1 {
            return f.write_str(&self.problems[0]);
        }
        write!(f, "{} problems", self.problems.len())?;
        for p in &self.problems {
            write!(f, "\n  {}", p.replace('\n', "\n    "))?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_MAX_BODY: usize = 1 << 20;
/// Connections kept for health checks and the admin API by default.
pub const DEFAULT_RESERVED_CONNECTIONS: usize = 16;
const MAX_CONNECTIONS_LIMIT: usize = 1_000_000;

/// `[server] max_connections` when the file does not say: half the process's
/// file-descriptor limit (the other half is for the store, outbound calls
/// and the reserve), between 64 and 16384. 512 under systemd's default 1024.
pub fn default_max_connections() -> usize {
    let limit = fd_limit().unwrap_or(1024);
    usize::try_from(limit / 2).unwrap_or(usize::MAX).clamp(64, 16_384)
}

#[cfg(unix)]
fn fd_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Nofile).current
}

#[cfg(not(unix))]
fn fd_limit() -> Option<u64> {
    None
}

impl Config {
    /// Read and check a `lanyard.toml`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: Some(path.to_path_buf()),
            problems: vec![format!("cannot read the file: {e}")],
        })?;
        Self::parse(&text, Some(path), &ProcessEnv)
    }

    /// Check config text. `file` names it in errors and anchors relative paths
    /// (to the current directory when `None`); secrets come from `env`.
    pub fn parse(text: &str, file: Option<&Path>, env: &dyn Env) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            file: file.map(Path::to_path_buf),
            problems: vec![e.to_string().trim_end().to_string()],
        })?;
        Self::from_raw(raw, file, env)
    }

    /// The defaults with no file at all: the embedded sandbox org, data in
    /// `./lanyard-data`, flows in `./flows` (what `lanyard run` uses without `--config`).
    ///
    /// With no config file there is nobody to write grants, and nothing real
    /// to reach: the Okta org is the sandbox and no connection or mail relay
    /// is configured. So the built-in mail, table and HTTP cards get what they
    /// ask for here (a real send then answers `unavailable`; a dry run records
    /// it), which lets Test Flow run the seed flows in a fresh checkout.
    pub fn sandbox_defaults() -> Config {
        let grant = |grants: &[&str]| RawCardGrants {
            grants: grants.iter().map(|g| g.to_string()).collect(),
        };
        let mut cards = BTreeMap::new();
        cards.insert("mail.send".to_string(), grant(&["mail"]));
        for t in ["tables.get", "tables.put", "tables.delete", "tables.find"] {
            cards.insert(t.to_string(), grant(&["table:*"]));
        }
        for c in ["slack.post", "http.request"] {
            cards.insert(c.to_string(), grant(&["connection:*"]));
        }
        let raw = RawConfig {
            okta: Some(RawOkta {
                sandbox: true,
                ..RawOkta::default()
            }),
            cards,
            ..RawConfig::default()
        };
        Self::from_raw(raw, None, &ProcessEnv).expect("the built-in defaults are valid")
    }

    pub fn from_raw(raw: RawConfig, file: Option<&Path>, env: &dyn Env) -> Result<Config, ConfigError> {
        let mut p = Problems::default();
        let base = file
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let anchor = |path: &Path| -> PathBuf {
            if path.is_absolute() {
                path.to_path_buf()
            } else {
                base.join(path)
            }
        };

        // [server]
        let s = &raw.server;
        let listen_text = s.listen.clone().unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen = match listen_text.parse::<SocketAddr>() {
            Ok(a) => a,
            Err(e) => {
                p.push("server.listen", format!("`{listen_text}` is not an address such as 127.0.0.1:8080: {e}"));
                DEFAULT_LISTEN.parse().expect("valid")
            }
        };
        let data_dir = anchor(s.data_dir.as_deref().unwrap_or(Path::new("lanyard-data")));
        let flows_dir = anchor(s.flows_dir.as_deref().unwrap_or(Path::new("flows")));
        let cache_dir = s.cache_dir.as_deref().map(anchor).unwrap_or_else(|| data_dir.join("cache"));
        let admin_token = p.secret("server.admin_token", s.admin_token.as_ref(), env);
        let invoke_token = p.secret("server.invoke_token", s.invoke_token.as_ref(), env);
        let max_body_bytes = p
            .size("server.max_body_bytes", s.max_body_bytes.as_ref(), DEFAULT_MAX_BODY as u64, 1024, 64 << 20)
            as usize;
        let max_card_bytes = p.size(
            "server.max_card_bytes",
            s.max_card_bytes.as_ref(),
            crate::registry::DEFAULT_MAX_CARD_BYTES as u64,
            1024,
            crate::registry::DEFAULT_MAX_CARD_BYTES as u64,
        ) as usize;
        let store_cache = p.size(
            "server.store_cache",
            s.store_cache.as_ref(),
            lanyard_store::StoreOptions::default().cache_capacity,
            1 << 20,
            64 << 30,
        );
        let shutdown_grace = p.duration("server.shutdown_grace", s.shutdown_grace.as_ref(), Duration::from_secs(20));
        let max_connections = s.max_connections.unwrap_or_else(default_max_connections);
        if !(1..=MAX_CONNECTIONS_LIMIT).contains(&max_connections) {
            p.push("server.max_connections", format!("must be 1 to {MAX_CONNECTIONS_LIMIT}, not {max_connections}"));
        }
        let reserved_connections = s.reserved_connections.unwrap_or(DEFAULT_RESERVED_CONNECTIONS);
        if reserved_connections > MAX_CONNECTIONS_LIMIT {
            p.push("server.reserved_connections", format!("must be 0 to {MAX_CONNECTIONS_LIMIT}, not {reserved_connections}"));
        }
        let idle_timeout = p.duration("server.idle_timeout", s.idle_timeout.as_ref(), Duration::from_secs(10));
        let body_timeout = p.duration("server.body_timeout", s.body_timeout.as_ref(), Duration::from_secs(30));
        for (key, d) in [("server.idle_timeout", idle_timeout), ("server.body_timeout", body_timeout)] {
            if d.is_zero() {
                p.push(key, "must be more than 0");
            }
        }
        let server = ServerConfig {
            listen,
            data_dir,
            flows_dir,
            cache_dir,
            admin_token,
            invoke_token,
            max_body_bytes,
            max_card_bytes,
            store_cache,
            shutdown_grace,
            watch_flows: s.watch_flows.unwrap_or(true),
            max_connections: max_connections.clamp(1, MAX_CONNECTIONS_LIMIT),
            reserved_connections: reserved_connections.min(MAX_CONNECTIONS_LIMIT),
            idle_timeout,
            body_timeout,
        };

        // [okta], [okta.orgs.<name>], [hooks.okta]
        let orgs = okta_orgs(&mut p, &raw, env, &anchor);

        // [workers]
        let concurrency = raw.workers.concurrency.unwrap_or(64);
        if concurrency == 0 || concurrency > 4096 {
            p.push("workers.concurrency", format!("must be 1 to 4096, not {concurrency}"));
        }
        let queue = raw.workers.queue.unwrap_or(10_000);
        if queue == 0 || queue > 10_000_000 {
            p.push("workers.queue", format!("must be 1 to 10000000, not {queue}"));
        }
        let workers = WorkersConfig {
            concurrency: concurrency.clamp(1, 4096),
            queue: queue.clamp(1, 10_000_000),
        };

        // [limits]
        let d = lanyard_runtime::Limits::default();
        let l = &raw.limits;
        let fuel = l.fuel.unwrap_or(d.fuel);
        if fuel == 0 {
            p.push("limits.fuel", "must be more than 0");
        }
        let limits = lanyard_runtime::Limits {
            fuel,
            memory_bytes: p.size("limits.memory", l.memory.as_ref(), d.memory_bytes, 1 << 20, 4 << 30),
            deadline: p.duration("limits.timeout", l.timeout.as_ref(), d.deadline),
            max_input_bytes: p.size("limits.max_input_bytes", l.max_input_bytes.as_ref(), d.max_input_bytes as u64, 1024, 64 << 20) as usize,
            max_output_bytes: p.size("limits.max_output_bytes", l.max_output_bytes.as_ref(), d.max_output_bytes as u64, 1024, 64 << 20) as usize,
            max_record_bytes: p.size("limits.max_record_bytes", l.max_record_bytes.as_ref(), d.max_record_bytes as u64, 1024, 16 << 20) as usize,
        };
        if limits.deadline.is_zero() {
            p.push("limits.timeout", "must be more than 0");
        }
        let max_instances = l.max_instances.unwrap_or(256);
        if max_instances == 0 || max_instances > 10_000 {
            p.push("limits.max_instances", format!("must be 1 to 10000, not {max_instances}"));
        }

        // [loop_protection]
        let loop_protection = LoopProtection {
            window: p.duration("loop_protection.window", raw.loop_protection.window.as_ref(), Duration::from_secs(60)),
            max_runs: raw.loop_protection.max_runs.unwrap_or(20),
        };
        if loop_protection.max_runs == 0 {
            p.push("loop_protection.max_runs", "must be at least 1");
        }
        if loop_protection.window.is_zero() {
            p.push("loop_protection.window", "must be more than 0");
        }

        // [history]
        let h = &raw.history;
        let history = HistoryConfig {
            retention: lanyard_store::RetentionPolicy {
                max_age: h.max_age.as_ref().map(|t| p.duration("history.max_age", Some(t), Duration::ZERO)),
                max_runs_per_flow: h.max_runs_per_flow,
            },
            prune_every: p.duration("history.prune_every", h.prune_every.as_ref(), Duration::from_secs(3600)),
        };
        if history.retention.max_runs_per_flow == Some(0) {
            p.push("history.max_runs_per_flow", "must be at least 1 (leave it out to keep every run)");
        }

        let error_flow = raw.error_flow.as_ref().map(|e| e.name.trim().to_string());
        if error_flow.as_deref() == Some("") {
            p.push("error_flow.name", "is empty");
        }

        // [connections.*], [http], [mail]
        let connections = match Connections::from_config_with_env(&raw.connections, env) {
            Ok(c) => Arc::new(c),
            Err(e) => {
                for problem in e.problems {
                    p.push(&place_key(&problem.place), problem.message);
                }
                Arc::new(Connections::empty())
            }
        };
        let http = raw.http.clone().unwrap_or_default();
        let mail = match &raw.mail {
            None => None,
            Some(m) => {
                let mut m = m.clone();
                if let Some(cert) = &m.root_certificate {
                    m.root_certificate = Some(anchor(cert));
                }
                match MailCapability::from_config_with_env(&m, env) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        for problem in e.problems {
                            p.push(&place_key(&problem.place), problem.message);
                        }
                        None
                    }
                }
            }
        };

        // [cards."name"]
        let mut card_grants = BTreeMap::new();
        for (name, g) in &raw.cards {
            let mut list = Vec::new();
            for (i, text) in g.grants.iter().enumerate() {
                match text.parse::<Grant>() {
                    Ok(grant) => {
                        if let Grant::Connection(c) = &grant {
                            if c != "*" && !connections.contains(c) {
                                p.push(
                                    &format!("cards.\"{name}\".grants[{i}]"),
                                    format!("no connection `{c}` is configured (add [connections.{c}])"),
                                );
                            }
                        }
                        list.push(grant);
                    }
                    Err(e) => p.push(&format!("cards.\"{name}\".grants[{i}]"), e),
                }
            }
            match Grants::from_list(&list) {
                Ok(grants) => {
                    card_grants.insert(name.clone(), grants);
                }
                Err(e) => p.push(&format!("cards.\"{name}\".grants"), e),
            }
        }

        let catch_up = match raw.schedules.catch_up.as_deref() {
            None | Some("skip") => lanyard_flow::model::CatchUp::Skip,
            Some("once") => lanyard_flow::model::CatchUp::Once,
            Some(other) => {
                p.push("schedules.catch_up", format!("`{other}` is not `skip` or `once`"));
                lanyard_flow::model::CatchUp::Skip
            }
        };
        let poll = PollConfig {
            enabled: raw.poll.enabled.unwrap_or(false),
            interval: p.duration("poll.interval", raw.poll.interval.as_ref(), Duration::from_secs(15)),
            lookback: p.duration("poll.lookback", raw.poll.lookback.as_ref(), Duration::from_secs(300)),
        };
        if poll.enabled && !orgs.iter().any(|o| !matches!(o.setup, OktaSetup::None)) {
            p.push("poll.enabled", "polling the System Log needs an `[okta]` org");
        }
        if poll.interval < Duration::from_secs(1) {
            p.push("poll.interval", "must be at least 1s");
        }

        // [signals]
        let signals = SignalsConfig {
            public_url: raw.signals.public_url.as_deref().and_then(|u| match public_url(u) {
                Ok(u) => Some(u),
                Err(e) => {
                    p.push("signals.public_url", e);
                    None
                }
            }),
            link_max_age: p.duration("signals.link_max_age", raw.signals.link_max_age.as_ref(), DEFAULT_LINK_MAX_AGE),
        };
        if signals.link_max_age < Duration::from_secs(60) || signals.link_max_age > Duration::from_secs(366 * 24 * 3600) {
            p.push("signals.link_max_age", "must be between 1m and 366d");
        }

        if !p.0.is_empty() {
            return Err(ConfigError {
                file: file.map(Path::to_path_buf),
                problems: p.0,
            });
        }
        Ok(Config {
            file: file.map(Path::to_path_buf),
            server,
            orgs,
            workers,
            limits,
            max_instances: max_instances.clamp(1, 10_000),
            loop_protection,
            history,
            error_flow,
            connections,
            http,
            mail,
            card_grants,
            schedules: SchedulesConfig { catch_up, enabled: raw.schedules.enabled.unwrap_or(true) },
            poll,
            signals,
        })
    }

    /// The org named `name`.
    pub fn org(&self, name: &str) -> Option<&OrgConfig> {
        self.orgs.iter().find(|o| o.name == name)
    }

    /// The org used where none is named (the only one, or the one named
    /// `default`): see [`lanyard_flow::OktaOrgs::default_org`].
    pub fn default_org(&self) -> Option<&OrgConfig> {
        self.okta_orgs().default_org().and_then(|name| self.org(name))
    }

    /// The org names flows may use in `org:` (one, `default`, when no org is
    /// configured, as with a single `[okta]`).
    pub fn okta_orgs(&self) -> lanyard_flow::OktaOrgs {
        lanyard_flow::OktaOrgs::new(self.orgs.iter().map(|o| o.name.clone()))
    }
}

/// Whether `name` can name an org: lowercase letters, digits and `-`,
/// starting with a letter, at most 32 characters (it is a URL path segment).
/// `[signals] public_url`: an absolute http(s) URL with no query or
/// fragment, written back without a trailing `/`.
fn public_url(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("`{text}` is not a URL such as https://lanyard.example.com: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{text}` must be an http:// or https:// URL with a host"));
    }
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(format!("`{text}` must have no query, fragment or credentials: links are `<public_url>/signals/<token>`"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

pub fn is_org_name(name: &str) -> bool {
    name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `[okta]` and `[hooks.okta]`, or `[okta.orgs.<name>]`: every org, in name order.
fn okta_orgs(p: &mut Problems, raw: &RawConfig, env: &dyn Env, anchor: &dyn Fn(&Path) -> PathBuf) -> Vec<OrgConfig> {
    let hooks_secret = raw.hooks.okta.as_ref().and_then(|h| p.secret("hooks.okta.secret", Some(&h.secret), env));
    let Some(okta) = &raw.okta else {
        // A hook without an org: events come in, Okta cards answer `unavailable`.
        return match hooks_secret {
            Some(secret) => vec![OrgConfig {
                name: lanyard_flow::DEFAULT_ORG.to_string(),
                setup: OktaSetup::None,
                hook_secret: Some(secret),
            }],
            None => Vec::new(),
        };
    };
    if okta.orgs.is_empty() {
        let own = p.secret("okta.hook_secret", okta.hook_secret.as_ref(), env);
        if own.is_some() && raw.hooks.okta.is_some() {
            p.push("okta.hook_secret", "the hook secret is set twice: keep this one or `[hooks.okta] secret`");
        }
        let setup = okta_setup(p, "okta", okta, env, anchor);
        return vec![OrgConfig {
            name: lanyard_flow::DEFAULT_ORG.to_string(),
            setup,
            hook_secret: own.or(hooks_secret),
        }];
    }
    if okta.has_org_keys() {
        p.push(
            "okta",
            "configure one org in `[okta]` or several in `[okta.orgs.<name>]`, not both: move these keys into an org's table (the org `[okta]` configures is named `default`)",
        );
    }
    if raw.hooks.okta.is_some() {
        p.push("hooks.okta", "with named orgs each org's Event Hook secret is `hook_secret` in its `[okta.orgs.<name>]` table");
    }
    let mut out = Vec::new();
    for (name, org) in &okta.orgs {
        let key = format!("okta.orgs.{name}");
        if !is_org_name(name) {
            p.push(&key, format!("`{name}` is not an org name: lowercase letters, digits and `-`, starting with a letter, at most 32"));
            continue;
        }
        if !org.orgs.is_empty() {
            p.push(&format!("{key}.orgs"), "orgs do not nest: every org is an `[okta.orgs.<name>]` table");
        }
        let hook_secret = p.secret(&format!("{key}.hook_secret"), org.hook_secret.as_ref(), env);
        let setup = okta_setup(p, &key, org, env, anchor);
        out.push(OrgConfig { name: name.clone(), setup, hook_secret });
    }
    out
}

/// One org's table (`okta` or `okta.orgs.<name>`, the `key` of its problems).
fn okta_setup(p: &mut Problems, key: &str, o: &RawOkta, env: &dyn Env, anchor: &dyn Fn(&Path) -> PathBuf) -> OktaSetup {
    for (i, id) in o.self_actor_ids.iter().enumerate() {
        if id.trim().is_empty() {
            p.push(&format!("{key}.self_actor_ids[{i}]"), "is empty");
        }
    }
    if o.sandbox {
        if o.org_url.is_some() || o.auth.is_some() {
            p.push(key, "`sandbox = true` runs the embedded org; remove `org_url` and `auth` (or set `sandbox = false`)");
        }
        OktaSetup::Sandbox {
            self_actor_ids: o.self_actor_ids.clone(),
        }
    } else {
        let org_url = match &o.org_url {
            Some(u) => {
                let checked = if o.allow_insecure_http {
                    lanyard_okta::OrgUrl::parse_allowing_insecure_http(u)
                } else {
                    lanyard_okta::OrgUrl::parse(u)
                };
                match checked {
                    Ok(url) => Some(url),
                    Err(e @ lanyard_okta::OrgUrlError::InsecureHttp { .. }) => {
                        p.push(&format!("{key}.org_url"), format!("{e} (or, to send them anyway, set `allow_insecure_http = true`)"));
                        None
                    }
                    Err(e) => {
                        p.push(&format!("{key}.org_url"), e);
                        None
                    }
                }
            }
            None => {
                p.push(key, "set `org_url` and `auth`, or `sandbox = true` for the embedded simulated org");
                None
            }
        };
        let auth = match &o.auth {
            None => {
                if o.org_url.is_some() {
                    p.push(&format!("{key}.auth"), "missing: `auth = { ssws = { env = \"OKTA_API_TOKEN\" } }` or `auth = { private_key_jwt = { ... } }`");
                }
                None
            }
            Some(RawOktaAuth::Ssws(src)) => p
                .secret(&format!("{key}.auth.ssws"), Some(src), env)
                .map(|s| lanyard_okta::Auth::Ssws(s.expose().to_string())),
            Some(RawOktaAuth::PrivateKeyJwt(k)) => {
                let key_path = anchor(&k.key_file);
                match std::fs::read_to_string(&key_path) {
                    Ok(pem) if pem.contains("PRIVATE KEY") => {
                        if k.client_id.trim().is_empty() {
                            p.push(&format!("{key}.auth.private_key_jwt.client_id"), "is empty");
                        }
                        for (i, s) in k.scopes.iter().enumerate() {
                            if !s.starts_with("okta.") {
                                p.push(&format!("{key}.auth.private_key_jwt.scopes[{i}]"), format!("`{s}` is not an Okta scope (okta.users.read, ...)"));
                            }
                        }
                        Some(lanyard_okta::Auth::PrivateKeyJwt(lanyard_okta::PrivateKeyJwt {
                            client_id: k.client_id.clone(),
                            private_key_pem: pem,
                            key_id: k.key_id.clone(),
                            scopes: k.scopes.clone(),
                        }))
                    }
                    Ok(_) => {
                        p.push(&format!("{key}.auth.private_key_jwt.key_file"), format!("{} is not a PEM private key", key_path.display()));
                        None
                    }
                    Err(e) => {
                        p.push(&format!("{key}.auth.private_key_jwt.key_file"), format!("cannot read {}: {e}", key_path.display()));
                        None
                    }
                }
            }
        };
        let mut self_actor_ids = o.self_actor_ids.clone();
        if let Some(lanyard_okta::Auth::PrivateKeyJwt(k)) = &auth {
            // A service app appears in the System Log as the actor
            // whose id is its client id.
            if !self_actor_ids.contains(&k.client_id) {
                self_actor_ids.push(k.client_id.clone());
            }
        }
        match (org_url, auth) {
            (Some(org_url), Some(auth)) => OktaSetup::Org {
                org_url,
                auth,
                self_actor_ids,
                detect_self: o.detect_self.unwrap_or(true),
            },
            _ => OktaSetup::None,
        }
    }
}

/// ``connection `it-slack` `` → `connections.it-slack`; `mail` stays `mail`.
fn place_key(place: &str) -> String {
    if let Some(rest) = place.strip_prefix("connection `") {
        return format!("connections.{}", rest.trim_end_matches('`'));
    }
    place.to_string()
}

#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, key: &str, message: impl fmt::Display) {
        self.0.push(format!("{key}: {message}"));
    }

    fn secret(&mut self, key: &str, src: Option<&SecretSource>, env: &dyn Env) -> Option<Secret> {
        let src = src?;
        match src.resolve(key, env) {
            Ok(s) => Some(s),
            Err(e) => {
                // The error already starts with the owner (the key).
                self.0.push(e.to_string());
                None
            }
        }
    }

    fn duration(&mut self, key: &str, raw: Option<&RawDuration>, default: Duration) -> Duration {
        match raw {
            None => default,
            Some(t) => match t.duration() {
                Ok(d) => d,
                Err(e) => {
                    self.push(key, e);
                    default
                }
            },
        }
    }

    fn size(&mut self, key: &str, size: Option<&RawSize>, default: u64, min: u64, max: u64) -> u64 {
        match size.map(RawSize::bytes) {
            None => default,
            Some(Ok(n)) if (min..=max).contains(&n) => n,
            Some(Ok(n)) => {
                self.push(key, format!("{n} bytes is out of range ({min} to {max})"));
                default
            }
            Some(Err(e)) => {
                self.push(key, e);
                default
            }
        }
    }
}

/// Card names that have `[cards."name"]` grants, for "unknown card" warnings.
pub fn granted_card_names(config: &Config) -> BTreeSet<&str> {
    config.card_grants.keys().map(String::as_str).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env() -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert("ADMIN".to_string(), "a-token".to_string());
        m
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::parse("", None, &env()).unwrap();
        assert_eq!(c.server.listen.to_string(), DEFAULT_LISTEN);
        assert!(c.server.admin_token.is_none());
        assert!(c.orgs.is_empty());
        assert_eq!(c.okta_orgs(), lanyard_flow::OktaOrgs::single());
        assert_eq!(c.workers.concurrency, 64);
    }

    #[test]
    fn unknown_keys_name_their_place() {
        let e = Config::parse("[server]\nlisten = \"127.0.0.1:1\"\nlistn = 1\n", Some(Path::new("x.toml")), &env()).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("x.toml: "), "{text}");
        assert!(text.contains("unknown field `listn`"), "{text}");
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let text = r#"
[server]
listen = "nowhere"
admin_token = { env = "MISSING" }
[workers]
concurrency = 0
[limits]
memory = "12 parsecs"
[cards."slack.post"]
grants = ["connection:it-slack", "files:/etc"]
"#;
        let e = Config::parse(text, None, &env()).unwrap_err();
        assert_reports(
            &e,
            &[
                "server.listen:",
                "server.admin_token: env var MISSING is not set",
                "workers.concurrency:",
                "limits.memory:",
                "cards.\"slack.post\".grants[0]: no connection `it-slack`",
                "cards.\"slack.post\".grants[1]:",
            ],
        );
    }

    #[test]
    fn signals_take_a_public_url_and_a_max_age() {
        let c = Config::parse("", None, &env()).unwrap();
        assert_eq!(c.signals, SignalsConfig { public_url: None, link_max_age: DEFAULT_LINK_MAX_AGE });
        let c = Config::parse("[signals]\npublic_url = \"https://lanyard.example.com/base/\"\nlink_max_age = \"7d\"\n", None, &env()).unwrap();
        assert_eq!(c.signals.public_url.as_deref(), Some("https://lanyard.example.com/base"));
        assert_eq!(c.signals.link_max_age, Duration::from_secs(7 * 24 * 3600));
        let text = "[signals]\npublic_url = \"lanyard.example.com\"\nlink_max_age = \"10s\"\n";
        let e = Config::parse(text, None, &env()).unwrap_err();
        assert_reports(&e, &["signals.public_url: `lanyard.example.com` is not a URL", "signals.link_max_age: must be between 1m and 366d"]);
        for bad in ["ftp://x.example.com", "https://x.example.com/?a=1", "https://u:p@x.example.com"] {
            let e = Config::parse(&format!("[signals]\npublic_url = \"{bad}\"\n"), None, &env()).unwrap_err();
            assert_reports(&e, &["signals.public_url:"]);
        }
        let e = Config::parse("[signals]\npublc_url = \"https://x\"\n", None, &env()).unwrap_err();
        assert!(e.to_string().contains("unknown field `publc_url`"), "{e}");
    }

    /// Each of `wants` is in one of the problems `e` reports.
    fn assert_reports(e: &ConfigError, wants: &[&str]) {
        let all = e.problems.join("\n");
        for want in wants {
            assert!(all.contains(want), "missing {want:?} in:\n{all}");
        }
    }

    #[test]
    fn the_example_at_the_repository_root_is_valid() {
        let text = include_str!("../../../lanyard.example.toml");
        let mut env = env();
        for var in ["LANYARD_ADMIN_TOKEN", "LANYARD_INVOKE_TOKEN", "OKTA_HOOK_SECRET", "SLACK_BOT_TOKEN"] {
            env.insert(var.to_string(), "x".to_string());
        }
        let c = Config::parse(text, Some(Path::new("/etc/lanyard/lanyard.toml")), &env).unwrap();
        assert_eq!(c.server.data_dir, Path::new("/etc/lanyard/lanyard-data"));
        assert!(c.default_org().unwrap().hook_secret.is_some());
        assert!(c.card_grants["slack.post"].allows_connection("it-slack"));
        // Its error flow is the one in flows/.
        let error_flow = include_str!("../../../flows/failures-to-it.yaml");
        let name = c.error_flow.as_deref().expect("the example sets an error flow");
        assert!(error_flow.starts_with(&format!("name: \"{name}\"\n")), "flows/failures-to-it.yaml is named {name:?}");
        // It grants the seed flows what flows/grants.toml says they need (the
        // custom JAMF, Zoom and Asana cards aside: the example has none of
        // their connections).
        let mut seed = include_str!("../../../flows/grants.toml").to_string();
        for (card, connection) in [("acme.jamf-offboard", "jamf"), ("acme.zoom-deprovision", "zoom"), ("acme.asana-offboard", "asana")] {
            let grant = format!("[cards.\"{card}\"]\ngrants = [\"connection:{connection}\"]\n");
            assert!(seed.contains(&grant), "flows/grants.toml grants {card}");
            seed = seed.replace(&grant, "");
        }
        let cut = text.find("[cards.").expect("the example grants cards");
        let with_seed = format!("{}{}", &text[..cut], seed);
        let s = Config::parse(&with_seed, Some(Path::new("/etc/lanyard/lanyard.toml")), &env).unwrap();
        assert!(!s.card_grants.is_empty());
        for (card, grants) in &s.card_grants {
            assert_eq!(c.card_grants.get(card), Some(grants), "lanyard.example.toml grants {card} what flows/grants.toml does");
        }
    }

    #[test]
    fn connection_limits_and_timeouts() {
        let c = Config::parse(
            "[server]\nmax_connections = 8\nreserved_connections = 0\nidle_timeout = \"2s\"\nbody_timeout = \"1m\"\n",
            None,
            &env(),
        )
        .unwrap();
        assert_eq!((c.server.max_connections, c.server.reserved_connections), (8, 0));
        assert_eq!((c.server.idle_timeout, c.server.body_timeout), (Duration::from_secs(2), Duration::from_secs(60)));
        let e = Config::parse("[server]\nmax_connections = 0\nbody_timeout = \"0s\"\n", None, &env()).unwrap_err();
        let all = e.problems.join("\n");
        assert!(all.contains("server.max_connections: must be 1 to"), "{all}");
        assert!(all.contains("server.body_timeout: must be more than 0"), "{all}");
    }

    #[test]
    fn an_okta_org_url_is_https_and_bare_or_the_daemon_does_not_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lanyard.toml");
        let load = |org: &str| {
            let text = format!("[okta]\norg_url = \"{org}\"\nauth = {{ ssws = {{ value = \"00token\" }} }}\n");
            std::fs::write(&path, text).unwrap();
            Config::load(&path).map_err(|e| e.to_string())
        };
        let e = load("http://acme.okta.com").unwrap_err();
        assert!(e.starts_with(&format!("{}: okta.org_url: ", path.display())), "{e}");
        assert!(e.contains("unencrypted") && e.contains("allow_insecure_http = true"), "{e}");
        let e = load("https://acme.okta.com/oauth2/default").unwrap_err();
        assert!(e.contains("okta.org_url: ") && e.contains("has a path (`/oauth2/default`)"), "{e}");
        assert!(e.contains("https://acme.okta.com"), "{e}");

        let c = Config::parse("[okta]\norg_url = \"http://acme.okta.com\"\nallow_insecure_http = true\nauth = { ssws = { env = \"ADMIN\" } }\n", None, &env()).unwrap();
        assert!(matches!(&c.orgs[0].setup, OktaSetup::Org { org_url, .. } if org_url.is_insecure()));
        for fine in ["https://acme.okta.com", "http://127.0.0.1:8181"] {
            let c = Config::parse(&format!("[okta]\norg_url = \"{fine}\"\nauth = {{ ssws = {{ env = \"ADMIN\" }} }}\n"), None, &env()).unwrap();
            assert!(matches!(c.orgs[0].setup, OktaSetup::Org { .. }), "{fine}");
        }
    }

    #[test]
    fn sizes_and_secrets() {
        let c = Config::parse(
            "[server]\nadmin_token = { env = \"ADMIN\" }\nmax_body_bytes = \"2MiB\"\n[okta]\nsandbox = true\n",
            None,
            &env(),
        )
        .unwrap();
        assert_eq!(c.server.admin_token.unwrap().expose(), "a-token");
        assert_eq!(c.server.max_body_bytes, 2 << 20);
        assert_eq!(c.server.store_cache, 64 << 20, "the default");
        assert!((64..=16_384).contains(&c.server.max_connections), "{}", c.server.max_connections);
        assert_eq!(c.server.reserved_connections, DEFAULT_RESERVED_CONNECTIONS);
        assert_eq!((c.server.idle_timeout, c.server.body_timeout), (Duration::from_secs(10), Duration::from_secs(30)));
        assert!(matches!(c.orgs[0].setup, OktaSetup::Sandbox { .. }));
    }

    #[test]
    fn one_okta_table_is_the_org_named_default_with_its_hook_secret() {
        let c = Config::parse("[okta]\nsandbox = true\n[hooks.okta]\nsecret = { env = \"ADMIN\" }\n", None, &env()).unwrap();
        assert_eq!(c.orgs.len(), 1);
        let org = c.default_org().unwrap();
        assert_eq!(org.name, lanyard_flow::DEFAULT_ORG);
        assert_eq!(org.hook_secret.as_ref().unwrap().expose(), "a-token");
        // The same secret as a key of the table.
        let c = Config::parse("[okta]\nsandbox = true\nhook_secret = { value = \"Bearer hook\" }\n", None, &env()).unwrap();
        assert_eq!(c.orgs[0].hook_secret.as_ref().unwrap().expose(), "Bearer hook");
        let e = Config::parse("[okta]\nsandbox = true\nhook_secret = { value = \"x\" }\n[hooks.okta]\nsecret = { value = \"y\" }\n", None, &env()).unwrap_err();
        assert_eq!(e.problems, ["okta.hook_secret: the hook secret is set twice: keep this one or `[hooks.okta] secret`"]);
        // A hook without an org: events come in, Okta cards have no org to call.
        let c = Config::parse("[hooks.okta]\nsecret = { env = \"ADMIN\" }\n", None, &env()).unwrap();
        assert!(matches!(c.default_org().unwrap().setup, OktaSetup::None));
    }

    #[test]
    fn named_orgs_each_with_their_own_keys_and_hook_secret() {
        let text = r#"
[okta.orgs.prod]
org_url = "https://acme.okta.com"
auth = { ssws = { value = "00prodtoken" } }
self_actor_ids = ["00uprodsvc"]
hook_secret = { value = "Bearer prod-hook" }

[okta.orgs.preview]
sandbox = true
hook_secret = { env = "ADMIN" }
"#;
        let c = Config::parse(text, None, &env()).unwrap();
        let names: Vec<&str> = c.orgs.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["preview", "prod"]);
        assert!(c.default_org().is_none(), "two orgs, none named default");
        assert_eq!(c.okta_orgs(), lanyard_flow::OktaOrgs::new(["prod", "preview"]));
        let prod = c.org("prod").unwrap();
        assert!(matches!(&prod.setup, OktaSetup::Org { org_url, .. } if org_url.to_string().starts_with("https://acme.okta.com")));
        assert_eq!(prod.self_actor_ids(), ["00uprodsvc"]);
        assert_eq!(prod.hook_secret.as_ref().unwrap().expose(), "Bearer prod-hook");
        assert!(matches!(c.org("preview").unwrap().setup, OktaSetup::Sandbox { .. }));
        assert_eq!(c.org("preview").unwrap().hook_secret.as_ref().unwrap().expose(), "a-token");
        // With one named `default`, that one is the default.
        let c = Config::parse("[okta.orgs.default]\nsandbox = true\n[okta.orgs.preview]\nsandbox = true\n", None, &env()).unwrap();
        assert_eq!(c.default_org().unwrap().name, "default");
    }

    #[test]
    fn mixed_forms_bad_names_and_problems_inside_an_org_are_reported_with_their_place() {
        let text = r#"
[okta]
sandbox = true
[okta.orgs.prod]
org_url = "http://acme.okta.com"
auth = { ssws = { env = "MISSING" } }
[okta.orgs.Preview]
sandbox = true
[okta.orgs.x.orgs.y]
sandbox = true
[hooks.okta]
secret = { value = "Bearer x" }
"#;
        let e = Config::parse(text, Some(Path::new("lanyard.toml")), &env()).unwrap_err();
        assert_reports(
            &e,
            &[
                "okta: configure one org in `[okta]` or several in `[okta.orgs.<name>]`, not both",
                "hooks.okta: with named orgs each org's Event Hook secret is `hook_secret`",
                "okta.orgs.prod.org_url: ",
                "okta.orgs.prod.auth.ssws: env var MISSING is not set",
                "okta.orgs.Preview: `Preview` is not an org name",
                "okta.orgs.x.orgs: orgs do not nest",
                "okta.orgs.x: set `org_url` and `auth`, or `sandbox = true`",
            ],
        );
        assert!(e.to_string().starts_with("lanyard.toml: "), "{e}");
        for (name, ok) in [("prod", true), ("eu-west-2", true), ("a", true), ("2prod", false), ("pr_od", false), ("", false), (&"x".repeat(33), false)] {
            assert_eq!(is_org_name(name), ok, "{name:?}");
        }
    }

    #[test]
    fn polling_needs_an_org_it_can_read() {
        let e = Config::parse("[hooks.okta]\nsecret = { env = \"ADMIN\" }\n[poll]\nenabled = true\n", None, &env()).unwrap_err();
        assert_eq!(e.problems, ["poll.enabled: polling the System Log needs an `[okta]` org"]);
        Config::parse("[okta.orgs.a]\nsandbox = true\n[okta.orgs.b]\nsandbox = true\n[poll]\nenabled = true\n", None, &env()).unwrap();
    }
}
