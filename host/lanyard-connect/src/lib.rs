//! Connections: named outbound services configured by ops. Implements the http
//! and mail capabilities; a card never sees a secret.
//!
//! - [`config`]: the `[connections.*]`, `[http]` and `[mail]` tables of
//!   `lanyard.toml`, as written;
//! - [`secret`]: where secrets come from and the type that never prints them;
//! - [`ssrf`]: which addresses a card may reach;
//! - [`http`]: [`Connections`] and [`HttpCapability`] (`HttpApi`);
//! - [`mail`]: [`MailCapability`] (`MailApi`).
//!
//! The stand-ins for the services a connection reaches (SMTP, Slack, Zoom,
//! Asana, JAMF) are `lanyard-sandbox`'s; this crate knows nothing of them.
//!
//! Grant checks (which connection or host a card may use) are the card
//! runtime's job; this crate assumes they passed and enforces the rest. What an
//! upstream echoes of a credential is scrubbed before the card sees it (see
//! [`http`]); [`Connections::secrets`] and [`MailCapability::secrets`] hand the
//! daemon every secret they hold for its history-wide `Redactor`.
//!
//! What ops write in `lanyard.toml`:
//!
//! ```toml
//! [http]                       # requests that name no connection (optional)
//! timeout = "30s"
//! max_response_bytes = 4194304
//!
//! [connections.it-slack]       # Slack Web API: cards post to `chat.postMessage`
//! base_url = "https://slack.com/api"
//! auth = { bearer = { env = "SLACK_BOT_TOKEN" } }
//!
//! [connections.it-webhook]     # a Slack incoming webhook: cards post to ""
//! base_url = { file = "/run/secrets/slack-webhook-url" }
//!
//! [connections.jamf]
//! base_url = "https://acme.jamfcloud.com/api"
//! auth = { basic = { username = "lanyard", password = { env = "JAMF_PASSWORD" } } }
//! headers = { accept = "application/json" }
//! timeout = "10s"
//!
//! [connections.intranet]       # an explicit ops decision to reach a private host
//! base_url = "http://10.0.4.20:8080/hooks"
//! allow_private = true
//!
//! [mail]
//! host = "smtp.example.com"
//! tls = "starttls"             # or "tls" (port 465), or "none" (loopback only)
//! username = "lanyard"
//! password = { env = "SMTP_PASSWORD" }
//! from = { address = "lanyard@example.com", name = "Lanyard" }
//! ```
//!
//! A card's `url` under a connection is appended to the base URL's path
//! (`chat.postMessage` and `/chat.postMessage` both give
//! `https://slack.com/api/chat.postMessage`; `""` and `"/"` give the base URL
//! itself), or is an absolute URL under it. Anything that would leave the base
//! (`..`, another host, port or scheme, userinfo) is refused. Redirects are
//! returned to the card, never followed.

pub mod config;
pub mod http;
pub mod mail;
pub mod secret;
pub mod ssrf;

pub use config::{
    AuthConfig, ConfigError, ConfigProblem, ConnectionConfig, ConnectionsConfig, HttpSettings,
    MailConfig, MailFrom, MailTls, UrlSource,
};
pub use http::{
    AuthKind, ConnectionInfo, Connections, HttpCapability, Lookup, StaticLookup, SystemLookup,
};
pub use mail::MailCapability;
pub use secret::{Secret, SecretError, SecretSource};
