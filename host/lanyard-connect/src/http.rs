//! The http capability: named connections with injected credentials, and direct
//! HTTPS requests, both kept off private networks.
//!
//! The card runtime has already checked that the card may use the connection or
//! host it names; this module decides where the request really goes (joining the
//! card's URL to the connection's base URL, refusing any escape from it), adds
//! the credentials, resolves names itself so that no request reaches a loopback,
//! private, link-local or metadata address, and caps time and response size.
//!
//! What a card gets back is scrubbed of every known secret (a [`Redactor`]:
//! the connections' own secrets, or the daemon's set of every configured
//! secret): headers, body and error messages. An upstream that echoes a
//! credential (a body repeating the `Authorization` header, a redirect whose
//! `Location` keeps the query the host appended `api_key=…` to) shows the card
//! `[redacted]`; a query secret is taken out of `Location`, `Content-Location`
//! and `Link` URLs altogether, so the card can follow them through the
//! connection, which appends it again.
//!
//! It must not: follow redirects (a 3xx goes back to the card, so a redirect can
//! never lead to a refused address), use a proxy from the environment (it would
//! resolve names where we cannot check them), or put a secret in a log line, an
//! error message, a response or a [`ConnectionInfo`].

use crate::config::{
    AuthConfig, ConfigError, ConnectionConfig, ConnectionsConfig, HttpSettings, Problems, UrlSource,
};
use crate::secret::{Env, ProcessEnv, Secret};
use crate::ssrf::{self, Refusal};
use async_trait::async_trait;
use lanyard_core::caps::{HttpApi, HttpMethod, HttpRequest, HttpResponse};
use lanyard_core::{CardError, ErrorKind, Redactor, SecretSet};
use reqwest::header::{HeaderName, HeaderValue};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::{Host, Url};

/// Most headers a card may send with one request.
const MAX_CARD_HEADERS: usize = 100;
/// Longest header value a card may send.
const MAX_HEADER_VALUE: usize = 8 * 1024;
/// Longest URL a card may send.
const MAX_URL: usize = 8 * 1024;

/// Headers that describe the connection or the message framing: the HTTP stack
/// sets them, a card must not.
const FRAMING_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-connection",
    "expect",
];

/// Headers that carry credentials: on a connection request only the host sets
/// them. `proxy-authorization` is refused on every request.
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "cookie", "proxy-authorization"];

// ---------------------------------------------------------------------------
// connections
// ---------------------------------------------------------------------------

/// The validated connections, secrets read. Built once at start (and on reload).
pub struct Connections {
    by_name: BTreeMap<String, Arc<Connection>>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.list()).finish()
    }
}

struct Connection {
    name: String,
    base: Url,
    /// `base.path()` without its trailing `/` (`""` for the root).
    prefix: String,
    base_is_secret: bool,
    auth: Auth,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Option<Duration>,
    max_response_bytes: Option<u64>,
    allow_private: bool,
    description: Option<String>,
}

enum Auth {
    None,
    Bearer(Secret),
    Basic {
        username: String,
        password: Secret,
    },
    Header {
        name: HeaderName,
        value: HeaderValue,
    },
    Query {
        name: String,
        value: Secret,
    },
}

/// How a connection authenticates, without its secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    None,
    Bearer,
    Basic,
    Header,
    Query,
}

/// What the admin API may show about a connection. Holds no secret: for a base
/// URL that is itself a secret (a webhook URL) only its origin is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionInfo {
    pub name: String,
    /// Always `http` for now.
    pub kind: String,
    pub auth: AuthKind,
    /// The base URL, or `https://hooks.slack.com/[redacted]` when it is secret.
    pub base_url: String,
    pub base_url_is_secret: bool,
    pub allow_private: bool,
    pub timeout_ms: Option<u64>,
    pub max_response_bytes: Option<u64>,
    /// Names of the static headers.
    pub headers: Vec<String>,
    pub description: Option<String>,
}

impl Connections {
    /// Validate every connection and read its secrets from the process
    /// environment and files. Reports every problem, each naming its connection.
    pub fn from_config(config: &ConnectionsConfig) -> Result<Connections, ConfigError> {
        Self::from_config_with_env(config, &ProcessEnv)
    }

    /// [`Connections::from_config`] with another environment (tests).
    pub fn from_config_with_env(
        config: &ConnectionsConfig,
        env: &dyn Env,
    ) -> Result<Connections, ConfigError> {
        let mut problems = Problems::default();
        let mut by_name = BTreeMap::new();
        for (name, conn) in &config.0 {
            let place = format!("connection `{name}`");
            if let Some(c) = compile_connection(name, &place, conn, env, &mut problems) {
                by_name.insert(name.clone(), Arc::new(c));
            }
        }
        problems.finish()?;
        Ok(Connections { by_name })
    }

    /// No connections at all.
    pub fn empty() -> Connections {
        Connections {
            by_name: BTreeMap::new(),
        }
    }

    /// What may be shown about one connection.
    pub fn get(&self, name: &str) -> Option<ConnectionInfo> {
        self.by_name.get(name).map(|c| c.info())
    }

    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Every connection, by name.
    pub fn list(&self) -> Vec<ConnectionInfo> {
        self.by_name.values().map(|c| c.info()).collect()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// Every secret the connections hold (credentials, secret base URLs), for
    /// a [`Redactor`].
    pub fn secrets(&self) -> SecretSet {
        let mut set = SecretSet::new();
        for conn in self.by_name.values() {
            conn.add_secrets(&mut set);
        }
        set
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric()
}

fn compile_connection(
    name: &str,
    place: &str,
    config: &ConnectionConfig,
    env: &dyn Env,
    problems: &mut Problems,
) -> Option<Connection> {
    let before = problems.0.len();
    if !valid_name(name) {
        problems.push(
            place,
            "a connection name is 1 to 64 of a-z, 0-9, `-`, `_`, `.`, starting with a letter or digit",
        );
    }

    let (base_text, base_is_secret) = match &config.base_url {
        UrlSource::Plain(url) => (Some(url.clone()), false),
        UrlSource::Secret(source) => match source.resolve(place, env) {
            Ok(secret) => (Some(secret.expose().to_owned()), true),
            Err(e) => {
                problems.secret(place, e);
                (None, true)
            }
        },
    };
    let base = base_text.and_then(|text| {
        check_base_url(&text, base_is_secret, config.allow_private, place, problems)
    });

    let auth = match &config.auth {
        AuthConfig::None => Some(Auth::None),
        AuthConfig::Bearer(source) => match source.resolve(place, env) {
            Ok(secret) => {
                if HeaderValue::from_str(&format!("Bearer {}", secret.expose())).is_err() {
                    problems.push(place, "bearer token has characters not allowed in a header");
                }
                Some(Auth::Bearer(secret))
            }
            Err(e) => {
                problems.secret(place, e);
                None
            }
        },
        AuthConfig::Basic { username, password } => {
            if username.contains(':') {
                problems.push(place, "basic auth username must not contain `:`");
            }
            match password.resolve(place, env) {
                Ok(password) => Some(Auth::Basic {
                    username: username.clone(),
                    password,
                }),
                Err(e) => {
                    problems.secret(place, e);
                    None
                }
            }
        }
        AuthConfig::Header {
            name: header,
            value,
        } => {
            let header_name = match HeaderName::from_bytes(header.as_bytes()) {
                Ok(h) => {
                    if FRAMING_HEADERS.contains(&h.as_str()) {
                        problems.push(
                            place,
                            format!("auth header `{header}` cannot carry credentials"),
                        );
                    }
                    Some(h)
                }
                Err(_) => {
                    problems.push(
                        place,
                        format!("auth header name `{header}` is not a valid header name"),
                    );
                    None
                }
            };
            let value = match value.resolve(place, env) {
                Ok(secret) => match HeaderValue::from_str(secret.expose()) {
                    Ok(mut v) => {
                        v.set_sensitive(true);
                        Some(v)
                    }
                    Err(_) => {
                        problems.push(
                            place,
                            format!("the secret for header `{header}` has characters not allowed in a header"),
                        );
                        None
                    }
                },
                Err(e) => {
                    problems.secret(place, e);
                    None
                }
            };
            match (header_name, value) {
                (Some(name), Some(value)) => Some(Auth::Header { name, value }),
                _ => None,
            }
        }
        AuthConfig::Query { name: param, value } => {
            if param.is_empty() {
                problems.push(place, "auth query parameter name is empty");
            }
            match value.resolve(place, env) {
                Ok(value) => Some(Auth::Query {
                    name: param.clone(),
                    value,
                }),
                Err(e) => {
                    problems.secret(place, e);
                    None
                }
            }
        }
    };

    let mut headers = Vec::new();
    for (header, value) in &config.headers {
        let Ok(h) = HeaderName::from_bytes(header.as_bytes()) else {
            problems.push(
                place,
                format!("header name `{header}` is not a valid header name"),
            );
            continue;
        };
        if FRAMING_HEADERS.contains(&h.as_str()) || CREDENTIAL_HEADERS.contains(&h.as_str()) {
            problems.push(
                place,
                format!(
                    "header `{header}` cannot be set in `headers`; credentials belong in `auth`"
                ),
            );
            continue;
        }
        let Ok(v) = HeaderValue::from_str(value) else {
            problems.push(
                place,
                format!("header `{header}` has a value not allowed in a header"),
            );
            continue;
        };
        headers.push((h, v));
    }

    if let Some(timeout) = config.timeout
        && timeout.is_zero()
    {
        problems.push(place, "timeout must be more than 0");
    }
    if config.max_response_bytes == Some(0) {
        problems.push(place, "max_response_bytes must be more than 0");
    }

    if problems.0.len() > before {
        return None;
    }
    let (base, auth) = (base?, auth?);
    let prefix = base.path().trim_end_matches('/').to_owned();
    Some(Connection {
        name: name.to_owned(),
        base,
        prefix,
        base_is_secret,
        auth,
        headers,
        timeout: config.timeout,
        max_response_bytes: config.max_response_bytes,
        allow_private: config.allow_private,
        description: config.description.clone(),
    })
}

fn check_base_url(
    text: &str,
    secret: bool,
    allow_private: bool,
    place: &str,
    problems: &mut Problems,
) -> Option<Url> {
    // A secret URL must not appear in an error message.
    let shown = if secret {
        "the base URL (secret)".to_owned()
    } else {
        format!("base_url `{text}`")
    };
    let url = match Url::parse(text) {
        Ok(url) => url,
        Err(e) => {
            problems.push(place, format!("{shown} is not a valid URL: {e}"));
            return None;
        }
    };
    let before = problems.0.len();
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => problems.push(
            place,
            format!(
                "{shown} must use https (plain http only with allow_private, for a private host)"
            ),
        ),
        other => problems.push(place, format!("{shown} has scheme `{other}`; use https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        problems.push(
            place,
            format!("{shown} must not hold credentials; put them in `auth`"),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        problems.push(place, format!("{shown} must not have a query or fragment"));
    }
    match url.host() {
        None => problems.push(place, format!("{shown} has no host")),
        Some(Host::Domain(domain)) => {
            if ssrf::is_metadata_name(domain) {
                problems.push(place, format!("{shown} points at a cloud metadata service"));
            } else if !allow_private && (domain == "localhost" || domain.ends_with(".localhost")) {
                problems.push(
                    place,
                    format!("{shown} is a loopback host; set allow_private = true if ops mean it"),
                );
            }
        }
        Some(Host::Ipv4(ip)) => {
            check_base_ip(IpAddr::V4(ip), &shown, allow_private, place, problems)
        }
        Some(Host::Ipv6(ip)) => {
            check_base_ip(IpAddr::V6(ip), &shown, allow_private, place, problems)
        }
    }
    (problems.0.len() == before).then_some(url)
}

fn check_base_ip(
    ip: IpAddr,
    shown: &str,
    allow_private: bool,
    place: &str,
    problems: &mut Problems,
) {
    match ssrf::classify(ip) {
        None => {
            if allow_private {
                tracing::warn!(connection = %place, "allow_private is set but the connection's host is public; it has no effect");
            }
        }
        Some(reason) if reason.waivable() && allow_private => {}
        Some(reason) if reason.waivable() => problems.push(
            place,
            format!(
                "{shown} is {}; set allow_private = true if ops mean it",
                reason.describe()
            ),
        ),
        Some(reason) => problems.push(
            place,
            format!(
                "{shown} is {}; no connection may point there",
                reason.describe()
            ),
        ),
    }
}

impl Connection {
    fn add_secrets(&self, set: &mut SecretSet) {
        match &self.auth {
            Auth::None => {}
            Auth::Bearer(token) => {
                set.add(token.expose());
            }
            Auth::Basic { username, password } => {
                set.add_basic_auth(username, password.expose());
            }
            Auth::Header { value, .. } => {
                set.add(&String::from_utf8_lossy(value.as_bytes()));
            }
            Auth::Query { value, .. } => {
                set.add(value.expose());
            }
        }
        if self.base_is_secret {
            // A webhook URL: its path is the secret part, and a server that
            // echoes where it was called usually shows only the path.
            set.add(self.base.as_str());
            set.add(self.base.path().trim_end_matches('/'));
        }
    }

    fn info(&self) -> ConnectionInfo {
        let base_url = if self.base_is_secret {
            format!("{}/[redacted]", self.base.origin().ascii_serialization())
        } else {
            self.base.to_string()
        };
        ConnectionInfo {
            name: self.name.clone(),
            kind: "http".to_owned(),
            auth: match self.auth {
                Auth::None => AuthKind::None,
                Auth::Bearer(_) => AuthKind::Bearer,
                Auth::Basic { .. } => AuthKind::Basic,
                Auth::Header { .. } => AuthKind::Header,
                Auth::Query { .. } => AuthKind::Query,
            },
            base_url,
            base_url_is_secret: self.base_is_secret,
            allow_private: self.allow_private,
            timeout_ms: self.timeout.map(|t| t.as_millis() as u64),
            max_response_bytes: self.max_response_bytes,
            headers: self
                .headers
                .iter()
                .map(|(h, _)| h.as_str().to_owned())
                .collect(),
            description: self.description.clone(),
        }
    }

    /// The URL a card's `url` names under this connection, or why not.
    fn join(&self, card_url: &str) -> Result<Url, CardError> {
        let escape = || {
            CardError::denied(format!(
                "connection `{}`: url `{card_url}` is not under the connection's base URL",
                self.name
            ))
        };
        let url = match Url::parse(card_url) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                if card_url.starts_with("//") {
                    return Err(escape());
                }
                let without_fragment = card_url.split('#').next().unwrap_or("");
                let (path, query) = match without_fragment.split_once('?') {
                    Some((p, q)) => (p, Some(q)),
                    None => (without_fragment, None),
                };
                let path = path.trim_start_matches('/');
                check_segments(path).map_err(|_| escape())?;
                let mut joined = self.base.clone();
                let new_path = if path.is_empty() {
                    self.base.path().to_owned()
                } else {
                    format!("{}/{path}", self.prefix)
                };
                joined.set_path(&new_path);
                joined.set_query(query);
                joined
            }
            Err(e) => {
                return Err(CardError::invalid_input(format!(
                    "connection `{}`: url `{card_url}` is not valid: {e}",
                    self.name
                )));
            }
        };
        if self.is_under_base(&url) {
            let mut url = url;
            url.set_fragment(None);
            Ok(url)
        } else {
            Err(escape())
        }
    }

    fn is_under_base(&self, url: &Url) -> bool {
        url.scheme() == self.base.scheme()
            && url.host() == self.base.host()
            && url.port_or_known_default() == self.base.port_or_known_default()
            && url.username().is_empty()
            && url.password().is_none()
            && (self.prefix.is_empty()
                || url.path() == self.prefix
                || url.path() == self.base.path()
                || url
                    .path()
                    .strip_prefix(self.prefix.as_str())
                    .is_some_and(|rest| rest.starts_with('/')))
            && check_segments(url.path()).is_ok()
    }
}

/// Refuse `.`/`..` segments, encoded or not, and encoded slashes: a server may
/// decode them after we checked the prefix.
fn check_segments(path: &str) -> Result<(), ()> {
    for segment in path.split('/') {
        let lower = segment.to_ascii_lowercase();
        let decoded = lower.replace("%2e", ".");
        if decoded == "." || decoded == ".." {
            return Err(());
        }
        if lower.contains("%2f") || lower.contains("%5c") || segment.contains('\\') {
            return Err(());
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// name resolution
// ---------------------------------------------------------------------------

/// Turns a host name into addresses. The daemon uses [`SystemLookup`]; tests
/// hand in names that point wherever they need.
pub trait Lookup: Send + Sync + 'static {
    fn lookup(&self, host: String)
    -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;
}

/// The operating system's resolver.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(
        &self,
        host: String,
    ) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>> {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// Fixed answers, for tests; any other name fails like an unknown name.
#[derive(Debug, Clone, Default)]
pub struct StaticLookup {
    names: HashMap<String, Vec<IpAddr>>,
}

impl StaticLookup {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, host: &str, ips: &[IpAddr]) -> Self {
        self.names.insert(host.to_ascii_lowercase(), ips.to_vec());
        self
    }
}

impl Lookup for StaticLookup {
    fn lookup(
        &self,
        host: String,
    ) -> Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>> {
        let found = self.names.get(&host.to_ascii_lowercase()).cloned();
        Box::pin(async move {
            found.ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("no such host {host}"))
            })
        })
    }
}

/// A request went to (or resolved to) an address cards may not reach.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{host} {}", match .ip { Some(ip) => format!("resolves to {ip}, {}", .reason.describe()), None => format!("is {}", .reason.describe()) })]
pub struct RefusedAddress {
    pub host: String,
    pub ip: Option<IpAddr>,
    pub reason: Refusal,
}

/// reqwest's resolver hook: every name a request connects to passes here, so
/// the check is on the addresses actually dialled.
struct GuardedResolver {
    lookup: Arc<dyn Lookup>,
    /// The host of an `allow_private` connection: its private addresses pass.
    private_host: Option<String>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let lookup = self.lookup.clone();
        let waive = self.private_host.as_deref() == Some(host.as_str());
        Box::pin(async move {
            match guarded_lookup(&*lookup, host, waive).await {
                Ok(ips) => {
                    let addrs: reqwest::dns::Addrs =
                        Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
                    Ok(addrs)
                }
                Err(LookupError::Refused(refused)) => {
                    Err(Box::new(refused) as Box<dyn std::error::Error + Send + Sync>)
                }
                Err(LookupError::Failed(e)) => {
                    Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>)
                }
            }
        })
    }
}

enum LookupError {
    Refused(RefusedAddress),
    Failed(io::Error),
}

/// Resolve `host` and refuse it if any answer is an address cards may not
/// reach (`waive`: an `allow_private` connection's own host may be private).
async fn guarded_lookup(
    lookup: &dyn Lookup,
    host: String,
    waive: bool,
) -> Result<Vec<IpAddr>, LookupError> {
    if ssrf::is_metadata_name(&host) {
        return Err(LookupError::Refused(RefusedAddress {
            host,
            ip: None,
            reason: Refusal::CloudMetadata,
        }));
    }
    let ips = lookup
        .lookup(host.clone())
        .await
        .map_err(LookupError::Failed)?;
    if ips.is_empty() {
        return Err(LookupError::Failed(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{host} has no addresses"),
        )));
    }
    // One refused address refuses the name: a resolver that mixes a public and
    // a private answer is a rebinding attempt.
    for ip in &ips {
        if let Some(reason) = ssrf::classify(*ip)
            && !(waive && reason.waivable())
        {
            return Err(LookupError::Refused(RefusedAddress {
                host,
                ip: Some(*ip),
                reason,
            }));
        }
    }
    Ok(ips)
}

// ---------------------------------------------------------------------------
// the capability
// ---------------------------------------------------------------------------

/// The http capability the card runtime links. Cheap to clone.
#[derive(Clone)]
pub struct HttpCapability {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    connections: Arc<Connections>,
    /// Scrubs known secrets from everything a card gets back.
    redactor: Arc<Redactor>,
    lookup: Arc<dyn Lookup>,
    settings: HttpSettings,
    /// Refuses every private address.
    public: reqwest::Client,
    /// One per `allow_private` connection, whose resolver lets exactly that
    /// connection's host resolve to private addresses.
    private: HashMap<String, reqwest::Client>,
}

impl std::fmt::Debug for HttpCapability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpCapability")
            .field("connections", &self.inner.connections)
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl HttpCapability {
    /// The capability with the system resolver.
    pub fn new(connections: Arc<Connections>, settings: HttpSettings) -> Result<Self, ConfigError> {
        Self::with_lookup(connections, settings, Arc::new(SystemLookup))
    }

    /// The capability with another resolver (tests).
    pub fn with_lookup(
        connections: Arc<Connections>,
        settings: HttpSettings,
        lookup: Arc<dyn Lookup>,
    ) -> Result<Self, ConfigError> {
        if settings.timeout.is_zero() || settings.max_response_bytes == 0 {
            return Err(ConfigError::one(
                "http",
                "timeout and max_response_bytes must be more than 0",
            ));
        }
        let build = |private_host: Option<String>| {
            reqwest::Client::builder()
                .dns_resolver(Arc::new(GuardedResolver {
                    lookup: lookup.clone(),
                    private_host,
                }))
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
                .user_agent(settings.user_agent.clone())
                .build()
                .map_err(|e| ConfigError::one("http", format!("cannot build the http client: {e}")))
        };
        let redactor = Redactor::new(&connections.secrets())
            .map_err(|e| ConfigError::one("connections", e.to_string()))?;
        let public = build(None)?;
        let mut private = HashMap::new();
        for conn in connections.by_name.values().filter(|c| c.allow_private) {
            let host = conn
                .base
                .host_str()
                .unwrap_or_default()
                .to_ascii_lowercase();
            private.insert(conn.name.clone(), build(Some(host))?);
        }
        Ok(HttpCapability {
            inner: Arc::new(Inner {
                connections,
                redactor: Arc::new(redactor),
                lookup,
                settings,
                public,
                private,
            }),
        })
    }

    /// Scrub responses with `redactor` (the daemon's, which covers every
    /// configured secret) instead of one built from the connections' own
    /// secrets. Refused if it misses any of them.
    pub fn with_redactor(self, redactor: Arc<Redactor>) -> Result<Self, ConfigError> {
        if !redactor.secrets().covers(&self.inner.connections.secrets()) {
            return Err(ConfigError::one(
                "connections",
                "the redactor does not cover every connection secret",
            ));
        }
        let mut inner = (*self.inner).clone();
        inner.redactor = redactor;
        Ok(HttpCapability {
            inner: Arc::new(inner),
        })
    }

    pub fn connections(&self) -> &Connections {
        &self.inner.connections
    }

    /// Where `req` would go, checked as [`HttpApi::send`] checks it (URL
    /// joining, escapes, literal addresses, headers), without sending it. Names
    /// are checked when resolved: see [`HttpCapability::resolve`]. The URL has
    /// no credentials in it.
    pub fn target(&self, req: &HttpRequest) -> Result<Url, CardError> {
        let plan = self.plan(req)?;
        self.headers(req, plan.connection)?;
        Ok(plan.url)
    }

    /// Resolve `host` as a request through `connection` (or none) would, with
    /// the same refusals; no connection is made.
    pub async fn resolve(
        &self,
        connection: Option<&str>,
        host: &str,
    ) -> Result<Vec<IpAddr>, CardError> {
        let host = host.to_ascii_lowercase();
        let waive = connection
            .and_then(|name| self.inner.connections.by_name.get(name))
            .is_some_and(|c| {
                c.allow_private
                    && c.base
                        .host_str()
                        .is_some_and(|h| h.eq_ignore_ascii_case(&host))
            });
        match guarded_lookup(&*self.inner.lookup, host.clone(), waive).await {
            Ok(ips) => Ok(ips),
            Err(LookupError::Refused(refused)) => {
                Err(CardError::denied(format!("refused, {refused}")))
            }
            Err(LookupError::Failed(e)) => Err(CardError::unavailable(format!(
                "cannot resolve {host}: {e}"
            ))),
        }
    }
}

/// Where and how one request goes.
struct Plan<'a> {
    url: Url,
    client: &'a reqwest::Client,
    connection: Option<&'a Connection>,
    timeout: Duration,
    max_response_bytes: u64,
    /// For messages and logs: what the card asked for, never a secret.
    label: String,
}

fn method(m: HttpMethod) -> reqwest::Method {
    match m {
        HttpMethod::Get => reqwest::Method::GET,
        HttpMethod::Head => reqwest::Method::HEAD,
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Patch => reqwest::Method::PATCH,
        HttpMethod::Delete => reqwest::Method::DELETE,
        HttpMethod::Options => reqwest::Method::OPTIONS,
    }
}

impl HttpCapability {
    fn plan<'a>(&'a self, req: &HttpRequest) -> Result<Plan<'a>, CardError> {
        let inner = &*self.inner;
        if req.url.len() > MAX_URL {
            return Err(CardError::invalid_input(format!(
                "url is longer than {MAX_URL} bytes"
            )));
        }
        if req.url.chars().any(|c| c.is_control() || c == '\\') {
            return Err(CardError::invalid_input(
                "url has control characters or `\\`",
            ));
        }
        let requested = req
            .timeout_ms
            .map(|ms| Duration::from_millis(u64::from(ms.max(1))));
        match &req.connection {
            Some(name) => {
                let conn = inner.connections.by_name.get(name).ok_or_else(|| {
                    CardError::not_found(format!("no connection named `{name}` is configured"))
                })?;
                let url = conn.join(&req.url)?;
                if let Auth::Query { name: param, .. } = &conn.auth
                    && url.query_pairs().any(|(k, _)| k == param.as_str())
                {
                    return Err(CardError::denied(format!(
                        "connection `{name}` injects its own credentials; the card may not set query parameter `{param}`"
                    )));
                }
                let client = if conn.allow_private {
                    &inner.private[&conn.name]
                } else {
                    check_literal_host(&url, &req.url)?;
                    &inner.public
                };
                let cap = conn.timeout.unwrap_or(inner.settings.timeout);
                Ok(Plan {
                    url,
                    client,
                    connection: Some(conn),
                    timeout: requested.map_or(cap, |t| t.min(cap)),
                    max_response_bytes: conn
                        .max_response_bytes
                        .unwrap_or(inner.settings.max_response_bytes),
                    label: format!(
                        "connection `{name}`: {} {}",
                        req.method.as_str(),
                        shown_path(&req.url)
                    ),
                })
            }
            None => {
                let url = Url::parse(&req.url).map_err(|e| {
                    CardError::invalid_input(format!(
                        "url `{}` is not a valid absolute URL: {e}",
                        req.url
                    ))
                })?;
                if url.scheme() != "https" {
                    return Err(CardError::denied(format!(
                        "url `{}`: only https URLs may be requested without a connection",
                        req.url
                    )));
                }
                if !url.username().is_empty() || url.password().is_some() {
                    return Err(CardError::denied(format!(
                        "url `{}` holds credentials; credentials belong in a connection",
                        req.url
                    )));
                }
                check_literal_host(&url, &req.url)?;
                let cap = inner.settings.timeout;
                let label = format!(
                    "{} {}://{}{}",
                    req.method.as_str(),
                    url.scheme(),
                    url.host_str().unwrap_or_default(),
                    url.path()
                );
                Ok(Plan {
                    url,
                    client: &inner.public,
                    connection: None,
                    timeout: requested.map_or(cap, |t| t.min(cap)),
                    max_response_bytes: inner.settings.max_response_bytes,
                    label,
                })
            }
        }
    }

    fn headers(
        &self,
        req: &HttpRequest,
        conn: Option<&Connection>,
    ) -> Result<reqwest::header::HeaderMap, CardError> {
        if req.headers.len() > MAX_CARD_HEADERS {
            return Err(CardError::invalid_input(format!(
                "more than {MAX_CARD_HEADERS} headers"
            )));
        }
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in &req.headers {
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                CardError::invalid_input(format!("`{name}` is not a valid header name"))
            })?;
            if FRAMING_HEADERS.contains(&header.as_str()) {
                return Err(CardError::invalid_input(format!(
                    "header `{header}` is set by lanyard, not by the card"
                )));
            }
            if let Some(conn) = conn {
                let auth_header = match &conn.auth {
                    Auth::Header { name, .. } => Some(name),
                    _ => None,
                };
                if CREDENTIAL_HEADERS.contains(&header.as_str()) || auth_header == Some(&header) {
                    return Err(CardError::denied(format!(
                        "connection `{}` injects its own credentials; the card may not set header `{header}`",
                        conn.name
                    )));
                }
            } else if header == reqwest::header::PROXY_AUTHORIZATION {
                return Err(CardError::denied(
                    "the card may not set header `proxy-authorization`",
                ));
            }
            if value.len() > MAX_HEADER_VALUE {
                return Err(CardError::invalid_input(format!(
                    "header `{header}` is longer than {MAX_HEADER_VALUE} bytes"
                )));
            }
            let value = HeaderValue::from_str(value).map_err(|_| {
                CardError::invalid_input(format!(
                    "header `{header}` has a value not allowed in a header"
                ))
            })?;
            map.append(header, value);
        }
        if let Some(conn) = conn {
            for (name, value) in &conn.headers {
                map.insert(name.clone(), value.clone());
            }
            match &conn.auth {
                Auth::None | Auth::Query { .. } | Auth::Basic { .. } => {}
                Auth::Bearer(token) => {
                    let mut v = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                        .map_err(|_| {
                            CardError::internal(format!(
                                "connection `{}`: bad bearer token",
                                conn.name
                            ))
                        })?;
                    v.set_sensitive(true);
                    map.insert(reqwest::header::AUTHORIZATION, v);
                }
                Auth::Header { name, value } => {
                    map.insert(name.clone(), value.clone());
                }
            }
        }
        Ok(map)
    }
}

/// Headers whose value is a URL an upstream may have built from the request's
/// (so from the query the host appended a secret to).
const URL_HEADERS: &[&str] = &["location", "content-location"];

impl HttpCapability {
    /// What the card gets back: no secret in any header or the body. A query
    /// secret the host appended is taken out of the URLs the upstream points
    /// to (so the card can follow them through the connection, which appends
    /// it again); any other echo of a secret becomes `[redacted]`.
    fn scrub_response(
        &self,
        mut response: HttpResponse,
        injected_param: Option<&str>,
    ) -> HttpResponse {
        let redactor = &self.inner.redactor;
        for (name, value) in &mut response.headers {
            if let Some(param) = injected_param {
                let stripped = if URL_HEADERS.contains(&name.as_str()) {
                    without_query_param(value, param)
                } else if name == "link" {
                    link_without_query_param(value, param)
                } else {
                    Cow::Borrowed(value.as_str())
                };
                if let Cow::Owned(stripped) = stripped {
                    *value = stripped;
                }
            }
            redactor.scrub_string(name);
            redactor.scrub_string(value);
        }
        if let Cow::Owned(body) = redactor.scrub_bytes(&response.body) {
            response.body = body;
            // The card is told the length of the body it gets.
            for (name, value) in &mut response.headers {
                if name == "content-length" {
                    *value = response.body.len().to_string();
                }
            }
        }
        response
    }
}

/// `url` (absolute or relative) without the query parameter `param`; the rest
/// of the query is kept as written.
fn without_query_param<'a>(url: &'a str, param: &str) -> Cow<'a, str> {
    let Some(at) = url.find('?') else {
        return Cow::Borrowed(url);
    };
    let (head, rest) = (&url[..at], &url[at + 1..]);
    let (query, fragment) = rest.split_at(rest.find('#').unwrap_or(rest.len()));
    let is_param = |pair: &&str| {
        url::form_urlencoded::parse(pair.as_bytes())
            .next()
            .is_some_and(|(key, _)| key == param)
    };
    if !query.split('&').any(|pair| is_param(&pair)) {
        return Cow::Borrowed(url);
    }
    let kept: Vec<&str> = query.split('&').filter(|pair| !is_param(pair)).collect();
    let mut out = head.to_owned();
    if !kept.is_empty() {
        out.push('?');
        out.push_str(&kept.join("&"));
    }
    out.push_str(fragment);
    Cow::Owned(out)
}

/// A `Link` header (`<url>; rel="next", <url>; rel="prev"`) with `param` taken
/// out of each URL.
fn link_without_query_param<'a>(value: &'a str, param: &str) -> Cow<'a, str> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    let mut changed = false;
    while let Some(open) = rest.find('<') {
        let Some(close) = rest[open..].find('>').map(|c| open + c) else {
            break;
        };
        out.push_str(&rest[..=open]);
        let url = without_query_param(&rest[open + 1..close], param);
        changed |= matches!(url, Cow::Owned(_));
        out.push_str(&url);
        rest = &rest[close..];
    }
    if !changed {
        return Cow::Borrowed(value);
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A card's relative URL without its query (a query may name a resource the
/// log has no business with; the path is enough to find the call).
fn shown_path(card_url: &str) -> &str {
    card_url.split(['?', '#']).next().unwrap_or("")
}

/// A literal IP in the URL is never resolved, so check it here.
fn check_literal_host(url: &Url, card_url: &str) -> Result<(), CardError> {
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(Host::Domain(name)) => {
            if ssrf::is_metadata_name(name) {
                return Err(CardError::denied(format!(
                    "url `{card_url}` refused: {name} is a cloud metadata service"
                )));
            }
            return Ok(());
        }
        None => {
            return Err(CardError::invalid_input(format!(
                "url `{card_url}` has no host"
            )));
        }
    };
    match ssrf::classify(ip) {
        None => Ok(()),
        Some(reason) => Err(CardError::denied(format!(
            "url `{card_url}` refused: {ip} is {}",
            reason.describe()
        ))),
    }
}

fn too_large(label: &str, cap: u64) -> CardError {
    CardError::new(
        ErrorKind::TooLarge,
        format!("{label}: response body is over the cap of {cap} bytes"),
    )
    .with_retryable(false)
}

fn map_error(label: &str, error: reqwest::Error) -> CardError {
    let error = error.without_url();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    let mut deepest = error.to_string();
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<RefusedAddress>() {
            return CardError::denied(format!("{label}: refused, {refused}"));
        }
        deepest = e.to_string();
        source = e.source();
    }
    if error.is_timeout() {
        return CardError::new(ErrorKind::Timeout, format!("{label}: timed out"));
    }
    if error.is_builder() {
        return CardError::invalid_input(format!("{label}: {deepest}"));
    }
    if error.is_connect() {
        return CardError::unavailable(format!("{label}: cannot connect: {deepest}"));
    }
    CardError::unavailable(format!("{label}: {deepest}"))
}

#[async_trait]
impl HttpApi for HttpCapability {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, CardError> {
        let plan = self.plan(&req)?;
        let headers = self.headers(&req, plan.connection)?;
        if let Some(body) = &req.body
            && body.len() as u64 > self.inner.settings.max_request_bytes
        {
            return Err(CardError::new(
                ErrorKind::TooLarge,
                format!(
                    "{}: request body is over the cap of {} bytes",
                    plan.label, self.inner.settings.max_request_bytes
                ),
            ));
        }
        let mut url = plan.url.clone();
        let mut builder_auth: Option<(&str, &Secret)> = None;
        if let Some(conn) = plan.connection {
            match &conn.auth {
                Auth::Query { name, value } => {
                    url.query_pairs_mut().append_pair(name, value.expose());
                }
                Auth::Basic { username, password } => builder_auth = Some((username, password)),
                _ => {}
            }
        }
        let mut builder = plan
            .client
            .request(method(req.method), url)
            .headers(headers);
        if let Some((user, password)) = builder_auth {
            builder = builder.basic_auth(user, Some(password.expose()));
        }
        if let Some(body) = req.body {
            builder = builder.body(body);
        }

        let started = Instant::now();
        let label = plan.label.as_str();
        let cap = plan.max_response_bytes;
        let exchange = async {
            let mut response = builder.send().await.map_err(|e| map_error(label, e))?;
            if response.content_length().is_some_and(|len| len > cap) {
                return Err(too_large(label, cap));
            }
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| map_error(label, e))? {
                if body.len() as u64 + chunk.len() as u64 > cap {
                    return Err(too_large(label, cap));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        };
        let result = match tokio::time::timeout(plan.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(CardError::new(
                ErrorKind::Timeout,
                format!("{label}: timed out after {} ms", plan.timeout.as_millis()),
            )),
        };
        let injected_param = match plan.connection.map(|c| &c.auth) {
            Some(Auth::Query { name, .. }) => Some(name.as_str()),
            _ => None,
        };
        let result = match result {
            Ok(response) => Ok(self.scrub_response(response, injected_param)),
            Err(mut error) => {
                self.inner.redactor.scrub_card_error(&mut error);
                Err(error)
            }
        };
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &result {
            Ok(r) => {
                tracing::debug!(request = %label, status = r.status, elapsed_ms, "http request")
            }
            Err(e) => {
                tracing::debug!(request = %label, error = %e, elapsed_ms, "http request failed")
            }
        }
        result
    }
}
