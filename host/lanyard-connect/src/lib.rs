//! Connections: named outbound services configured by ops. Implements the http
//! and mail capabilities; a card never sees a secret.
//!
//! - [`config`]: the `[connections.*]`, `[http]` and `[mail]` tables of
//!   `lanyard.toml`, as written;
//! - [`secret`]: where secrets come from and the type that never prints them;
//! - [`ssrf`]: which addresses a card may reach;
//! - [`http`]: [`Connections`] and [`HttpCapability`] (`HttpApi`);
//! - [`mail`]: [`MailCapability`] (`MailApi`);
//! - `sandbox` (feature `sandbox`): a real SMTP server and a Slack API stand-in
//!   for the demo and the tests.
//!
//! Grant checks (which connection or host a card may use) are the card
//! runtime's job; this crate assumes they passed and enforces the rest.

pub mod config;
pub mod http;
pub mod mail;
pub mod secret;
pub mod ssrf;

#[cfg(feature = "sandbox")]
pub mod sandbox;

pub use config::{
    AuthConfig, ConfigError, ConfigProblem, ConnectionConfig, ConnectionsConfig, HttpSettings,
    MailConfig, MailFrom, MailTls, UrlSource,
};
pub use http::{
    AuthKind, ConnectionInfo, Connections, HttpCapability, Lookup, StaticLookup, SystemLookup,
};
pub use mail::MailCapability;
pub use secret::{Secret, SecretError, SecretSource};
