//! What can go wrong talking to Okta, and how each failure reaches a card.
//!
//! [`OktaError`] keeps everything Okta said (status, `errorCode`, `errorSummary`,
//! `errorCauses`, the `WWW-Authenticate` challenge) so logs and the run history can
//! show it; [`OktaError::to_card_error`] maps it onto the card contract's error
//! kinds. This module must not decide retries: the client does that.

use lanyard_core::{CardError, ErrorKind};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Okta's error body (`components.schemas.Error` in the Management API spec).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OktaErrorBody {
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub error_summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_link: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
    #[serde(default)]
    pub error_causes: Vec<OktaErrorCause>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OktaErrorCause {
    #[serde(default)]
    pub error_summary: String,
}

impl OktaErrorBody {
    pub fn new(code: &str, summary: &str) -> Self {
        OktaErrorBody {
            error_code: code.to_string(),
            error_summary: summary.to_string(),
            error_link: Some(code.to_string()),
            error_id: None,
            error_causes: Vec::new(),
        }
    }

    pub fn with_cause(mut self, cause: impl Into<String>) -> Self {
        self.error_causes.push(OktaErrorCause {
            error_summary: cause.into(),
        });
        self
    }
}

impl fmt::Display for OktaErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_code, self.error_summary)?;
        let causes: Vec<&str> = self
            .error_causes
            .iter()
            .map(|c| c.error_summary.as_str())
            .filter(|s| !s.is_empty())
            .collect();
        if !causes.is_empty() {
            write!(f, " ({})", causes.join("; "))?;
        }
        Ok(())
    }
}

/// A failed Okta call.
#[derive(Debug, thiserror::Error)]
pub enum OktaError {
    /// Okta answered with an error status.
    #[error("okta answered {method} {path} with {status}{}", describe_body(.body, .raw))]
    Api {
        method: String,
        path: String,
        status: u16,
        body: Option<Box<OktaErrorBody>>,
        /// The body when it was not Okta's error JSON (truncated).
        raw: String,
        /// The `WWW-Authenticate` header of a 401/403 (names a missing scope).
        www_authenticate: Option<String>,
    },
    /// Okta kept answering 429 past the client's bounded wait.
    #[error("okta rate limit on {method} {path}{}: retry in {retry_after_ms} ms", describe_body(.body, ""))]
    RateLimited {
        method: String,
        path: String,
        retry_after_ms: u64,
        body: Option<Box<OktaErrorBody>>,
    },
    /// Okta could not be reached, or did not answer in time.
    #[error("cannot reach okta for {method} {path}{}: {message}", if *.timeout { " (timed out)" } else { "" })]
    Transport {
        method: String,
        path: String,
        timeout: bool,
        message: String,
    },
    /// The OAuth 2.0 token request failed.
    #[error("okta refused the oauth token request ({status}): {error}{}", if .description.is_empty() { String::new() } else { format!(": {}", .description) })]
    Token {
        status: u16,
        error: String,
        description: String,
    },
    /// Okta answered 2xx with a body lanyard cannot read.
    #[error("okta answered {method} {path} with a body lanyard cannot read: {detail}")]
    Decode {
        method: String,
        path: String,
        detail: String,
    },
    /// The client is configured wrongly (bad URL, unreadable key).
    #[error("okta client configuration: {0}")]
    Config(String),
    /// The caller asked for something the client refuses before calling Okta.
    #[error("{0}")]
    InvalidInput(String),
}

fn describe_body(body: &Option<Box<OktaErrorBody>>, raw: &str) -> String {
    match body {
        Some(b) => format!(": {b}"),
        None if raw.is_empty() => String::new(),
        None => format!(": {raw}"),
    }
}

/// Okta error codes that mean "the current state does not allow this".
const CONFLICT_CODES: &[&str] = &[
    "E0000038", // this operation is not allowed in the user's current status
    "E0000016", // activation failed because the user is already active
    "E0000032", // unlock is not allowed for this user
    "E0000112", // unable to update the group membership (managed elsewhere)
];

impl OktaError {
    /// The HTTP status Okta answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            OktaError::Api { status, .. } | OktaError::Token { status, .. } => Some(*status),
            OktaError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// Okta's `errorCode`, if it sent one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            OktaError::Api { body: Some(b), .. } | OktaError::RateLimited { body: Some(b), .. } => {
                Some(b.error_code.as_str())
            }
            _ => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404)
    }

    /// Map onto the card contract. The message names the call and carries Okta's
    /// `errorCode`, `errorSummary` and `errorCauses`.
    pub fn to_card_error(&self) -> CardError {
        let message = self.to_string();
        match self {
            OktaError::Api {
                status,
                body,
                www_authenticate,
                method,
                path,
                ..
            } => {
                let code = body.as_ref().map(|b| b.error_code.as_str()).unwrap_or("");
                let causes_conflict = body.as_ref().is_some_and(|b| {
                    b.error_causes
                        .iter()
                        .any(|c| c.error_summary.contains("already exists"))
                });
                let kind = match *status {
                    400..=499 if CONFLICT_CODES.contains(&code) || causes_conflict => {
                        ErrorKind::Conflict
                    }
                    404 => ErrorKind::NotFound,
                    401 | 403 => ErrorKind::Denied,
                    409 => ErrorKind::Conflict,
                    429 => ErrorKind::RateLimited,
                    500..=599 => ErrorKind::Unavailable,
                    400 | 405 | 413 | 415 | 422 => ErrorKind::InvalidInput,
                    _ => ErrorKind::Internal,
                };
                let message = match *status {
                    _ if kind == ErrorKind::Conflict => message,
                    401 => format!(
                        "okta rejected lanyard's credentials (401 unauthorized) for {method} {path}{}: check the API token or the OAuth service app",
                        describe_body(body, "")
                    ),
                    403 => {
                        let scope = www_authenticate
                            .as_deref()
                            .and_then(|h| auth_param(h, "scope"))
                            .map(|s| format!("; the token lacks the oauth scope `{s}`"))
                            .unwrap_or_default();
                        format!(
                            "okta denied {method} {path} (403 forbidden){}{scope}: the credentials are valid but lack the admin role or scope for this operation",
                            describe_body(body, "")
                        )
                    }
                    _ => message,
                };
                let mut err = CardError::new(kind, message);
                if let Some(b) = body {
                    err = err.with_detail(serde_json::to_string(b).unwrap_or_default());
                }
                err
            }
            OktaError::RateLimited { retry_after_ms, .. } => {
                CardError::new(ErrorKind::RateLimited, message).with_retry_after_ms(*retry_after_ms)
            }
            OktaError::Transport { timeout: true, .. } => {
                CardError::new(ErrorKind::Timeout, message)
            }
            OktaError::Transport { .. } => CardError::new(ErrorKind::Unavailable, message),
            OktaError::Token { status, error, .. } => {
                let kind = match (*status, error.as_str()) {
                    (500..=599, _) => ErrorKind::Unavailable,
                    (429, _) => ErrorKind::RateLimited,
                    (
                        _,
                        "invalid_client"
                        | "unauthorized_client"
                        | "invalid_scope"
                        | "access_denied",
                    ) => ErrorKind::Denied,
                    (401 | 403, _) => ErrorKind::Denied,
                    _ => ErrorKind::Internal,
                };
                CardError::new(kind, message)
            }
            OktaError::Decode { .. } | OktaError::Config(_) => CardError::internal(message),
            OktaError::InvalidInput(_) => CardError::invalid_input(message),
        }
    }
}

impl From<OktaError> for CardError {
    fn from(e: OktaError) -> Self {
        e.to_card_error()
    }
}

/// One parameter of an RFC 7235 challenge: `scope="okta.users.read"`.
pub(crate) fn auth_param<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = header;
    while let Some(pos) = rest.find(name) {
        let before_ok = pos == 0 || matches!(rest.as_bytes()[pos - 1], b' ' | b',');
        let after = &rest[pos + name.len()..];
        if before_ok && after.starts_with('=') {
            let value = &after[1..];
            if let Some(quoted) = value.strip_prefix('"') {
                return quoted.split('"').next();
            }
            return value.split([',', ' ']).next();
        }
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str, summary: &str, causes: &[&str]) -> OktaError {
        let mut body = OktaErrorBody::new(code, summary);
        for c in causes {
            body = body.with_cause(*c);
        }
        OktaError::Api {
            method: "POST".into(),
            path: "/api/v1/users".into(),
            status,
            body: Some(Box::new(body)),
            raw: String::new(),
            www_authenticate: None,
        }
    }

    #[test]
    fn okta_errors_map_to_card_error_kinds() {
        let cases = [
            (
                api(
                    404,
                    "E0000007",
                    "Not found: Resource not found: x (User)",
                    &[],
                ),
                ErrorKind::NotFound,
            ),
            (
                api(401, "E0000011", "Invalid token provided", &[]),
                ErrorKind::Denied,
            ),
            (
                api(
                    403,
                    "E0000006",
                    "You do not have permission to perform the requested action",
                    &[],
                ),
                ErrorKind::Denied,
            ),
            (
                api(
                    400,
                    "E0000001",
                    "Api validation failed: profile",
                    &["email: Does not match required pattern"],
                ),
                ErrorKind::InvalidInput,
            ),
            (
                api(
                    400,
                    "E0000001",
                    "Api validation failed: login",
                    &[
                        "login: An object with this field already exists in the current organization",
                    ],
                ),
                ErrorKind::Conflict,
            ),
            (
                api(
                    403,
                    "E0000038",
                    "This operation is not allowed in the user's current status.",
                    &[],
                ),
                ErrorKind::Conflict,
            ),
            (
                api(
                    400,
                    "E0000038",
                    "This operation is not allowed in the user's current status.",
                    &[],
                ),
                ErrorKind::Conflict,
            ),
            (
                api(500, "E0000009", "Internal Server Error", &[]),
                ErrorKind::Unavailable,
            ),
            (
                api(503, "E0000010", "Service is in read only mode", &[]),
                ErrorKind::Unavailable,
            ),
        ];
        for (err, kind) in cases {
            let card = err.to_card_error();
            assert_eq!(card.kind, kind, "{err}");
            assert_eq!(card.retryable, kind.retryable_by_default());
            let body = match &err {
                OktaError::Api { body: Some(b), .. } => (**b).clone(),
                _ => unreachable!(),
            };
            assert!(card.message.contains(&body.error_code), "{}", card.message);
            assert!(
                card.message.contains(&body.error_summary),
                "{}",
                card.message
            );
            for c in &body.error_causes {
                assert!(card.message.contains(&c.error_summary), "{}", card.message);
            }
        }
    }

    #[test]
    fn rate_limits_carry_the_wait() {
        let err = OktaError::RateLimited {
            method: "GET".into(),
            path: "/api/v1/users".into(),
            retry_after_ms: 4200,
            body: Some(Box::new(OktaErrorBody::new(
                "E0000047",
                "API call exceeded rate limit due to too many requests.",
            ))),
        };
        let card = err.to_card_error();
        assert_eq!(card.kind, ErrorKind::RateLimited);
        assert!(card.retryable);
        assert_eq!(card.retry_after_ms, Some(4200));
    }

    #[test]
    fn a_missing_scope_is_named() {
        let err = OktaError::Api {
            method: "DELETE".into(),
            path: "/api/v1/users/00u1/sessions".into(),
            status: 403,
            body: Some(Box::new(OktaErrorBody::new("E0000006", "You do not have permission to perform the requested action"))),
            raw: String::new(),
            www_authenticate: Some(r#"Bearer authorization_uri="http://x/oauth2/v1/authorize", realm="IdpApiRealm", scope="okta.users.manage", error="insufficient_scope""#.into()),
        };
        let card = err.to_card_error();
        assert_eq!(card.kind, ErrorKind::Denied);
        assert!(card.message.contains("403 forbidden"), "{}", card.message);
        assert!(
            card.message.contains("okta.users.manage"),
            "{}",
            card.message
        );
        let unauthorized = api(401, "E0000011", "Invalid token provided", &[]).to_card_error();
        assert!(
            unauthorized.message.contains("401 unauthorized"),
            "{}",
            unauthorized.message
        );
        assert!(
            unauthorized.message.contains("credentials"),
            "{}",
            unauthorized.message
        );
    }

    #[test]
    fn transport_failures_are_retryable() {
        let t = OktaError::Transport {
            method: "GET".into(),
            path: "/x".into(),
            timeout: true,
            message: "deadline".into(),
        };
        assert_eq!(t.to_card_error().kind, ErrorKind::Timeout);
        let c = OktaError::Transport {
            method: "GET".into(),
            path: "/x".into(),
            timeout: false,
            message: "refused".into(),
        };
        let c = c.to_card_error();
        assert_eq!(c.kind, ErrorKind::Unavailable);
        assert!(c.retryable);
    }

    #[test]
    fn auth_params_are_read_from_challenges() {
        let h = r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#;
        assert_eq!(auth_param(h, "error"), Some("use_dpop_nonce"));
        assert_eq!(auth_param(h, "scope"), None);
    }
}
