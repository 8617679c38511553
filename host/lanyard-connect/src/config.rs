//! The `[connections.<name>]`, `[http]` and `[mail]` tables of `lanyard.toml`, as
//! ops write them.
//!
//! These are raw, unchecked types: [`crate::Connections::from_config`] and
//! [`crate::MailCapability::from_config`] validate them (collecting every problem)
//! and read their secrets. Nothing here touches the network or the environment.

use crate::secret::{SecretError, SecretSource};
use lanyard_core::units;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// Every named connection: `[connections.it-slack]`, `[connections.jamf]`, ...
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct ConnectionsConfig(pub BTreeMap<String, ConnectionConfig>);

/// One named outbound HTTP service.
///
/// ```toml
/// [connections.it-slack]
/// base_url = "https://slack.com/api"
/// auth = { bearer = { env = "SLACK_BOT_TOKEN" } }
/// timeout = "10s"
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionConfig {
    /// Where requests go. A plain URL, or a secret source for URLs that are
    /// themselves credentials (a Slack incoming-webhook URL).
    pub base_url: UrlSource,
    /// The credentials the host adds to every request.
    #[serde(default)]
    pub auth: AuthConfig,
    /// Static headers added to every request (they win over the card's).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Upper bound of one request, connect to last body byte (default 30 s).
    #[serde(default, deserialize_with = "units::de::opt_duration")]
    pub timeout: Option<Duration>,
    /// Let this connection reach its own host although it is a private or
    /// loopback address. An explicit decision by ops; it opens exactly the base
    /// URL's host and port, nothing else.
    #[serde(default)]
    pub allow_private: bool,
    /// Cap of a response body (default 4 MiB).
    #[serde(default, deserialize_with = "units::de::opt_size")]
    pub max_response_bytes: Option<u64>,
    /// Free text for the admin API.
    #[serde(default)]
    pub description: Option<String>,
}

/// A base URL, written out or kept as a secret.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum UrlSource {
    Plain(String),
    Secret(SecretSource),
}

impl fmt::Debug for UrlSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlSource::Plain(url) => f.debug_tuple("Plain").field(url).finish(),
            UrlSource::Secret(source) => f.debug_tuple("Secret").field(source).finish(),
        }
    }
}

/// How a connection authenticates.
///
/// `auth = { bearer = { env = "TOKEN" } }`,
/// `auth = { basic = { username = "svc", password = { file = "/run/secrets/pw" } } }`,
/// `auth = { header = { name = "X-Api-Key", value = { env = "KEY" } } }`,
/// `auth = { query = { name = "api_key", value = { env = "KEY" } } }`,
/// or no `auth` at all (`auth = "none"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthConfig {
    #[default]
    None,
    Bearer(SecretSource),
    Basic {
        username: String,
        password: SecretSource,
    },
    Header {
        name: String,
        value: SecretSource,
    },
    Query {
        name: String,
        value: SecretSource,
    },
}

/// Limits of requests that name no connection (`[http]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpSettings {
    /// Upper bound of one request without a connection (default 30 s); also the
    /// default of connections that set none.
    #[serde(deserialize_with = "units::de::duration")]
    pub timeout: Duration,
    /// Cap of a response body (default 4 MiB); the default for connections too.
    #[serde(deserialize_with = "units::de::size")]
    pub max_response_bytes: u64,
    /// Cap of a request body a card sends (default 4 MiB).
    #[serde(deserialize_with = "units::de::size")]
    pub max_request_bytes: u64,
    /// The `User-Agent` of requests whose card sets none.
    pub user_agent: String,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            timeout: Duration::from_secs(30),
            max_response_bytes: 4 * 1024 * 1024,
            max_request_bytes: 4 * 1024 * 1024,
            user_agent: concat!("lanyard/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// The SMTP relay (`[mail]`).
///
/// ```toml
/// [mail]
/// host = "smtp.example.com"
/// tls = "starttls"
/// username = "lanyard"
/// password = { env = "SMTP_PASSWORD" }
/// from = { address = "lanyard@example.com", name = "Lanyard" }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    pub host: String,
    /// Default: 587 for `starttls`, 465 for `tls`, 25 for `none`.
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: MailTls,
    /// With `password`: authenticate (PLAIN or LOGIN).
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<SecretSource>,
    /// The sender of every message.
    pub from: MailFrom,
    /// Upper bound of one send, connect to QUIT (default 30 s).
    #[serde(default, deserialize_with = "units::de::opt_duration")]
    pub timeout: Option<Duration>,
    /// A PEM file of a root certificate to trust as well (a private relay).
    #[serde(default)]
    pub root_certificate: Option<PathBuf>,
    /// The same, as PEM text in the config (certificates are not secret).
    #[serde(default)]
    pub root_certificate_pem: Option<String>,
    /// Allow `tls = "none"` to a host that is not loopback.
    #[serde(default)]
    pub allow_insecure: bool,
    /// Cap of `to` + `cc` of one message (default 50).
    #[serde(default)]
    pub max_recipients: Option<usize>,
    /// Cap of subject + text + html of one message (default 1 MiB).
    #[serde(default, deserialize_with = "units::de::opt_usize_size")]
    pub max_message_bytes: Option<usize>,
    /// The name lanyard gives in EHLO (default: this machine's host name).
    #[serde(default)]
    pub hello_name: Option<String>,
}

/// How the mail connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailTls {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: loopback relays only, unless `allow_insecure`.
    None,
}

/// The sender: `from = "lanyard@example.com"` or
/// `from = { address = "lanyard@example.com", name = "Lanyard" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum MailFrom {
    Address(String),
    Mailbox {
        address: String,
        #[serde(default)]
        name: Option<String>,
    },
}

/// One thing wrong with the configuration, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// ``connection `it-slack` ``, `mail`, `http`.
    pub place: String,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// Every problem found in the configuration, not just the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub problems: Vec<ConfigProblem>,
}

impl ConfigError {
    pub(crate) fn one(place: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            problems: vec![ConfigProblem {
                place: place.into(),
                message: message.into(),
            }],
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

/// Collects problems while a config is checked.
#[derive(Default)]
pub(crate) struct Problems(pub Vec<ConfigProblem>);

impl Problems {
    pub fn push(&mut self, place: &str, message: impl Into<String>) {
        self.0.push(ConfigProblem {
            place: place.to_owned(),
            message: message.into(),
        });
    }

    /// A secret error already names its owner; keep only its message part.
    pub fn secret(&mut self, place: &str, error: SecretError) {
        let text = error.to_string();
        let message = text
            .strip_prefix(place)
            .and_then(|rest| rest.strip_prefix(": "))
            .unwrap_or(&text)
            .to_owned();
        self.push(place, message);
    }

    pub fn finish(self) -> Result<(), ConfigError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { problems: self.0 })
        }
    }
}
