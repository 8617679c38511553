//! Secrets: where ops keep them (environment, files, or inline for development)
//! and the type that holds them once read.
//!
//! A [`Secret`] never prints itself: `Debug` and `Display` show `[redacted]`, and
//! there is no `Serialize`. The only way to the text is [`Secret::expose`], which
//! the http and mail capabilities call at the moment they put it on the wire.
//! Nothing in this module logs a secret's value.

use serde::Deserialize;
use std::fmt;
use std::path::PathBuf;

/// Where a secret comes from, as written in `lanyard.toml`:
/// `{ env = "SLACK_TOKEN" }`, `{ file = "/run/secrets/slack" }`, or, for
/// development only, `{ value = "..." }`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretSource {
    /// An environment variable of the daemon.
    Env(String),
    /// A file whose content (without its trailing newline) is the secret.
    File(PathBuf),
    /// The secret itself, inline in the config file. Development only.
    Value(String),
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(var) => f.debug_tuple("Env").field(var).finish(),
            SecretSource::File(path) => f.debug_tuple("File").field(path).finish(),
            SecretSource::Value(_) => f.write_str("Value([redacted])"),
        }
    }
}

/// Why a secret could not be read. `owner` names what needed it, for example
/// ``connection `it-slack` `` or `mail`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("{owner}: env var {var} is not set")]
    EnvNotSet { owner: String, var: String },
    #[error("{owner}: env var {var} is not valid unicode")]
    EnvNotUnicode { owner: String, var: String },
    #[error("{owner}: env var {var} is empty")]
    EnvEmpty { owner: String, var: String },
    #[error("{owner}: cannot read secret file {path}: {reason}")]
    FileUnreadable {
        owner: String,
        path: PathBuf,
        reason: String,
    },
    #[error("{owner}: secret file {path} is empty")]
    FileEmpty { owner: String, path: PathBuf },
    #[error("{owner}: inline secret value is empty")]
    ValueEmpty { owner: String },
}

/// Reads environment variables. The daemon uses [`ProcessEnv`]; tests hand in a
/// map so they need not change the process environment.
pub trait Env {
    /// The variable's value, `None` if unset, `Err` if set but not unicode.
    fn var(&self, name: &str) -> Result<Option<String>, NotUnicode>;
}

/// An environment variable that is set but not valid unicode.
#[derive(Debug, Clone, Copy)]
pub struct NotUnicode;

/// The daemon's own environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Result<Option<String>, NotUnicode> {
        match std::env::var(name) {
            Ok(v) => Ok(Some(v)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(NotUnicode),
        }
    }
}

impl<S: std::hash::BuildHasher> Env for std::collections::HashMap<String, String, S> {
    fn var(&self, name: &str) -> Result<Option<String>, NotUnicode> {
        Ok(self.get(name).cloned())
    }
}

impl Env for std::collections::BTreeMap<String, String> {
    fn var(&self, name: &str) -> Result<Option<String>, NotUnicode> {
        Ok(self.get(name).cloned())
    }
}

impl SecretSource {
    /// Read the secret now. Trailing newlines (as `echo` and editors leave them)
    /// are trimmed from files and variables; an empty secret is an error.
    pub fn resolve(&self, owner: &str, env: &dyn Env) -> Result<Secret, SecretError> {
        match self {
            SecretSource::Env(var) => {
                let value = env
                    .var(var)
                    .map_err(|NotUnicode| SecretError::EnvNotUnicode {
                        owner: owner.to_owned(),
                        var: var.clone(),
                    })?;
                let value = value.ok_or_else(|| SecretError::EnvNotSet {
                    owner: owner.to_owned(),
                    var: var.clone(),
                })?;
                let value = trim_newlines(value);
                if value.is_empty() {
                    return Err(SecretError::EnvEmpty {
                        owner: owner.to_owned(),
                        var: var.clone(),
                    });
                }
                Ok(Secret(value))
            }
            SecretSource::File(path) => {
                let value =
                    std::fs::read_to_string(path).map_err(|e| SecretError::FileUnreadable {
                        owner: owner.to_owned(),
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                let value = trim_newlines(value);
                if value.is_empty() {
                    return Err(SecretError::FileEmpty {
                        owner: owner.to_owned(),
                        path: path.clone(),
                    });
                }
                Ok(Secret(value))
            }
            SecretSource::Value(value) => {
                if value.is_empty() {
                    return Err(SecretError::ValueEmpty {
                        owner: owner.to_owned(),
                    });
                }
                tracing::warn!(
                    %owner,
                    "secret written inline in the configuration (development only); use {{ env = .. }} or {{ file = .. }}"
                );
                Ok(Secret(value.clone()))
            }
        }
    }

    /// Whether the secret is written inline in the config (development only).
    pub fn is_inline(&self) -> bool {
        matches!(self, SecretSource::Value(_))
    }
}

fn trim_newlines(mut s: String) -> String {
    while s.ends_with('\n') || s.ends_with('\r') {
        s.pop();
    }
    s
}

/// A resolved secret. Prints as `[redacted]`; see [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a value that is already in memory (tests, the sandbox).
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret's text. Call it only to put the secret on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
