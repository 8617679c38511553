//! How to reach an Okta org: base URL, credentials, retry bounds.
//!
//! Secrets live here and nowhere else in the client; `Debug` never prints them.
//! The org URL is checked here once ([`OrgUrl`]), so no credential is ever
//! configured to travel in clear or to a URL other than the one written.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;
use url::{Host, Url};

use crate::OktaError;

/// An Okta org's address, checked: `https://<host>[:port]` and nothing after
/// it. Plain `http` is accepted only to a loopback address (the sandbox org),
/// unless allowed explicitly ([`OrgUrl::parse_allowing_insecure_http`]): the
/// SSWS token and the client assertions would cross the network in clear.
#[derive(Clone, PartialEq, Eq)]
pub struct OrgUrl(Url);

/// Why an org URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgUrlError {
    #[error("`{url}` is not a URL: {reason}")]
    NotAUrl { url: String, reason: String },
    #[error("`{url}` must be an https:// URL, such as https://acme.okta.com")]
    Scheme { url: String },
    #[error(
        "`{url}` is plain http to `{host}`, which is not a loopback address: the API token and client assertions would cross the network unencrypted; use {https}"
    )]
    InsecureHttp {
        url: String,
        host: String,
        https: String,
    },
    #[error(
        "`{url}` has a path (`{path}`), which would be dropped: set the org's address only, {origin}"
    )]
    Path {
        url: String,
        path: String,
        origin: String,
    },
    #[error("`{url}` has a query or a fragment: set the org's address only, {origin}")]
    Query { url: String, origin: String },
    #[error("`{url}` carries a user name or password: credentials belong in `auth`")]
    Credentials { url: String },
}

impl OrgUrl {
    /// `https://<host>[:port]`, or `http://` to a loopback address.
    pub fn parse(text: &str) -> Result<OrgUrl, OrgUrlError> {
        Self::check(text, false)
    }

    /// As [`OrgUrl::parse`], but plain `http` to any host too: only for an
    /// org behind a proxy the operator trusts with the token in clear.
    pub fn parse_allowing_insecure_http(text: &str) -> Result<OrgUrl, OrgUrlError> {
        Self::check(text, true)
    }

    fn check(text: &str, allow_insecure_http: bool) -> Result<OrgUrl, OrgUrlError> {
        let url = Url::parse(text.trim()).map_err(|e| OrgUrlError::NotAUrl {
            url: text.to_string(),
            reason: e.to_string(),
        })?;
        let host = match url.host() {
            Some(h) if matches!(url.scheme(), "http" | "https") => h,
            _ => {
                return Err(OrgUrlError::Scheme {
                    url: text.to_string(),
                });
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(OrgUrlError::Credentials {
                url: text.to_string(),
            });
        }
        let origin = url.origin().ascii_serialization();
        if url.path() != "/" {
            return Err(OrgUrlError::Path {
                url: text.to_string(),
                path: url.path().to_string(),
                origin,
            });
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(OrgUrlError::Query {
                url: text.to_string(),
                origin,
            });
        }
        if url.scheme() == "http" && !is_loopback(&host) && !allow_insecure_http {
            let mut https = url.clone();
            let _ = https.set_scheme("https");
            let _ = https.set_port(None);
            return Err(OrgUrlError::InsecureHttp {
                url: text.to_string(),
                host: host.to_string(),
                https: https.origin().ascii_serialization(),
            });
        }
        Ok(OrgUrl(url))
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }

    /// Plain http to a host that is not loopback (allowed explicitly).
    pub fn is_insecure(&self) -> bool {
        self.0.scheme() == "http" && self.0.host().is_none_or(|h| !is_loopback(&h))
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).to_canonical().is_loopback(),
    }
}

impl fmt::Display for OrgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.origin().ascii_serialization().as_str())
    }
}

impl fmt::Debug for OrgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OrgUrl({self})")
    }
}

impl std::str::FromStr for OrgUrl {
    type Err = OrgUrlError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgUrl::parse(s)
    }
}

impl TryFrom<&str> for OrgUrl {
    type Error = OktaError;

    fn try_from(s: &str) -> Result<Self, OktaError> {
        OrgUrl::parse(s).map_err(|e| OktaError::Config(format!("org url {e}")))
    }
}

impl TryFrom<&String> for OrgUrl {
    type Error = OktaError;

    fn try_from(s: &String) -> Result<Self, OktaError> {
        OrgUrl::try_from(s.as_str())
    }
}

impl TryFrom<&OrgUrl> for OrgUrl {
    type Error = OktaError;

    fn try_from(u: &OrgUrl) -> Result<Self, OktaError> {
        Ok(u.clone())
    }
}

/// Everything [`crate::OktaClient::new`] needs.
#[derive(Clone)]
pub struct OktaConfig {
    /// `https://<org>.okta.com`, or the sandbox's `http://127.0.0.1:<port>`
    /// (checked as an [`OrgUrl`]).
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
    /// `base_url`: an [`OrgUrl`], or text checked as one by [`OrgUrl::parse`].
    pub fn new(
        base_url: impl TryInto<OrgUrl, Error = OktaError>,
        auth: Auth,
    ) -> Result<Self, OktaError> {
        let org_url = base_url.try_into()?;
        if org_url.is_insecure() {
            tracing::warn!(
                org_url = %org_url,
                "the okta org is reached over plain http: the API token and client assertions travel unencrypted"
            );
        }
        Ok(OktaConfig {
            base_url: org_url.0,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_urls_are_https_or_loopback_and_bare() {
        for ok in [
            "https://acme.okta.com",
            "https://acme.okta.com/",
            "https://acme.oktapreview.com:8443",
            "http://127.0.0.1:8080",
            "http://127.3.4.5",
            "http://localhost:1234/",
            "http://[::1]:9000",
        ] {
            assert!(OrgUrl::parse(ok).is_ok(), "{ok}");
        }
        let refused = |text: &str| OrgUrl::parse(text).unwrap_err();
        assert!(matches!(
            refused("http://acme.okta.com"),
            OrgUrlError::InsecureHttp { https, .. } if https == "https://acme.okta.com"
        ));
        assert!(matches!(
            refused("http://10.0.0.7:8080"),
            OrgUrlError::InsecureHttp { .. }
        ));
        assert!(matches!(
            refused("http://[::ffff:10.0.0.7]"),
            OrgUrlError::InsecureHttp { .. }
        ));
        assert!(matches!(
            refused("https://acme.okta.com/oauth2/default"),
            OrgUrlError::Path { path, origin, .. } if path == "/oauth2/default" && origin == "https://acme.okta.com"
        ));
        assert!(matches!(
            refused("https://acme.okta.com?x=1"),
            OrgUrlError::Query { .. }
        ));
        assert!(matches!(
            refused("https://acme.okta.com/#top"),
            OrgUrlError::Query { .. }
        ));
        assert!(matches!(
            refused("https://me:pw@acme.okta.com"),
            OrgUrlError::Credentials { .. }
        ));
        assert!(matches!(
            refused("ftp://acme.okta.com"),
            OrgUrlError::Scheme { .. }
        ));
        assert!(matches!(
            refused("acme.okta.com"),
            OrgUrlError::NotAUrl { .. }
        ));
        let e = refused("http://acme.okta.com").to_string();
        assert!(
            e.contains("unencrypted") && e.contains("use https://acme.okta.com"),
            "{e}"
        );

        let allowed = OrgUrl::parse_allowing_insecure_http("http://acme.okta.com").unwrap();
        assert!(allowed.is_insecure());
        assert!(!OrgUrl::parse("http://127.0.0.1:1").unwrap().is_insecure());
        // The setting is about the scheme only: a path is still refused.
        assert!(
            OrgUrl::parse_allowing_insecure_http("http://acme.okta.com/oauth2/default").is_err()
        );
    }

    #[test]
    fn the_client_config_takes_only_checked_urls() {
        let auth = || Auth::Ssws("t".into());
        assert!(OktaConfig::new("http://acme.okta.com", auth()).is_err());
        assert!(OktaConfig::new("https://acme.okta.com/oauth2/default", auth()).is_err());
        let c = OktaConfig::new("https://acme.okta.com/", auth()).unwrap();
        assert_eq!(c.base_url.as_str(), "https://acme.okta.com/");
        let insecure = OrgUrl::parse_allowing_insecure_http("http://okta-proxy.internal").unwrap();
        let c = OktaConfig::new(&insecure, auth()).unwrap();
        assert_eq!(c.base_url.as_str(), "http://okta-proxy.internal/");
    }
}
