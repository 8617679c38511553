//! How to reach an Okta org: base URL, credentials, retry bounds.
//!
//! Secrets live here and nowhere else in the client; `Debug` never prints them.

use std::fmt;
use std::time::Duration;
use url::Url;

/// Everything [`crate::OktaClient::new`] needs.
#[derive(Clone)]
pub struct OktaConfig {
    /// `https://<org>.okta.com`, or the sandbox's `http://127.0.0.1:<port>`.
    pub base_url: Url,
    pub auth: Auth,
    pub retry: RetryPolicy,
    /// Per HTTP request, connection included.
    pub request_timeout: Duration,
    /// The most items one listing returns when the caller sets no limit, so a
    /// runaway query cannot exhaust memory.
    pub max_list_items: usize,
    /// Items per page asked of Okta (`limit`); Okta's maximum for users is 200.
    pub page_size: usize,
    /// Events per System Log page (Okta's maximum is 1000).
    pub log_page_size: usize,
    /// Sent as `User-Agent`.
    pub user_agent: String,
}

impl OktaConfig {
    pub fn new(base_url: &str, auth: Auth) -> Result<Self, crate::OktaError> {
        let mut base_url = Url::parse(base_url)
            .map_err(|e| crate::OktaError::Config(format!("base url `{base_url}`: {e}")))?;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.host_str().is_none() {
            return Err(crate::OktaError::Config(format!(
                "base url `{base_url}` must be http(s)://host[:port]"
            )));
        }
        base_url.set_path("");
        base_url.set_query(None);
        base_url.set_fragment(None);
        Ok(OktaConfig {
            base_url,
            auth,
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(30),
            max_list_items: 50_000,
            page_size: 200,
            log_page_size: 1000,
            user_agent: concat!("lanyard/", env!("CARGO_PKG_VERSION")).to_string(),
        })
    }
}

impl fmt::Debug for OktaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OktaConfig")
            .field("base_url", &self.base_url.as_str())
            .field("auth", &self.auth)
            .field("retry", &self.retry)
            .field("request_timeout", &self.request_timeout)
            .finish_non_exhaustive()
    }
}

/// How the client proves who it is.
#[derive(Clone)]
pub enum Auth {
    /// An API token: `Authorization: SSWS <token>`. Acts as the admin who made it.
    Ssws(String),
    /// An OAuth 2.0 service app: client credentials with a `private_key_jwt`
    /// client assertion. Tokens are cached until shortly before they expire; DPoP
    /// proofs are added when the org asks for them.
    PrivateKeyJwt(PrivateKeyJwt),
}

#[derive(Clone)]
pub struct PrivateKeyJwt {
    pub client_id: String,
    /// PKCS#8 (or PKCS#1 for RSA) PEM: an RSA key signs RS256, a P-256 key ES256.
    pub private_key_pem: String,
    /// The `kid` of the public key registered with the app, if it has several.
    pub key_id: Option<String>,
    /// Okta scopes to ask for, for example `okta.users.read`.
    pub scopes: Vec<String>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Ssws(_) => f.write_str("Ssws(<redacted>)"),
            Auth::PrivateKeyJwt(p) => f
                .debug_struct("PrivateKeyJwt")
                .field("client_id", &p.client_id)
                .field("key_id", &p.key_id)
                .field("scopes", &p.scopes)
                .finish_non_exhaustive(),
        }
    }
}

/// Bounds on waiting and retrying.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// The longest the client waits for a rate limit to reset; a longer wait is
    /// returned to the caller as a rate-limited error instead.
    pub max_rate_limit_wait: Duration,
    /// First 5xx/connection backoff; doubles each attempt.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            max_rate_limit_wait: Duration::from_secs(60),
            base_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }
}

impl RetryPolicy {
    /// The backoff before attempt `attempt + 1` (attempt counts from 1).
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32 << attempt.saturating_sub(1).min(16);
        self.base_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}
