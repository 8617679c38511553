//! How an answer from a remote HTTP service (Slack, an API behind a connection)
//! becomes a card error of the kind a flow can act on: retry what may succeed
//! later, stop on what will not.

use lanyard_sdk::http::Response;
use lanyard_sdk::{CardError, ErrorKind};
use schemars::JsonSchema;
use serde::Deserialize;

/// The longest piece of a remote's error body quoted in a message.
const MAX_QUOTED: usize = 300;

/// The error kind for a non-2xx status.
pub fn status_kind(status: u16) -> ErrorKind {
    match status {
        400 | 405 | 406 | 411 | 413 | 414 | 415 | 422 => ErrorKind::InvalidInput,
        401 | 403 => ErrorKind::Denied,
        404 | 410 => ErrorKind::NotFound,
        409 | 412 => ErrorKind::Conflict,
        429 => ErrorKind::RateLimited,
        408 | 504 => ErrorKind::Timeout,
        500..=599 => ErrorKind::Unavailable,
        _ => ErrorKind::Internal,
    }
}

/// `Retry-After` in milliseconds, when it is a number of seconds. (An HTTP date
/// is left to the engine's backoff: a card has no business trusting its clock
/// against the remote's.)
pub fn retry_after_ms(response: &Response) -> Option<u64> {
    let value = response.header("retry-after")?.trim();
    let secs: f64 = value.parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| (secs * 1000.0).round() as u64)
}

/// The start of a body, on one line, for a message.
pub fn quote(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > MAX_QUOTED {
        one_line = one_line.chars().take(MAX_QUOTED).collect::<String>() + "...";
    }
    one_line
}

/// An error of `kind` about `what`, with the retry hint a 429 or 503 carries.
pub fn error(kind: ErrorKind, message: String, response: &Response) -> CardError {
    let mut e = CardError::new(kind, message);
    if matches!(kind, ErrorKind::RateLimited | ErrorKind::Unavailable) {
        e.retry_after_ms = retry_after_ms(response);
    }
    e
}

/// Which statuses of a remote's answer a flow takes as answers rather than
/// errors: `expect_status` in a card's input.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ExpectStatus {
    /// Exactly this status.
    One(u16),
    /// Any of these statuses.
    Many(Vec<u16>),
    /// `any`: every status is an answer; the flow looks at `status` itself.
    Any(AnyStatus),
}

/// The word `any` of [`ExpectStatus::Any`].
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AnyStatus {
    Any,
}

impl ExpectStatus {
    /// Whether `status` is an answer; without an expectation, any 2xx is.
    pub fn allows(expect: Option<&ExpectStatus>, status: u16) -> bool {
        match expect {
            None => (200..300).contains(&status),
            Some(ExpectStatus::One(s)) => *s == status,
            Some(ExpectStatus::Many(list)) => list.contains(&status),
            Some(ExpectStatus::Any(_)) => true,
        }
    }
}

/// A flow's `query` object as name/value pairs, in order: strings, numbers
/// and booleans as text, a list repeating the parameter, null left out.
pub fn query_pairs(query: &serde_json::Map<String, serde_json::Value>) -> Result<Vec<(String, String)>, CardError> {
    use serde_json::Value;
    let scalar = |name: &str, v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(CardError::invalid_input(format!(
            "`query.{name}` must be a string, a number, a boolean or a list of them"
        ))),
    };
    let mut pairs = Vec::new();
    for (name, value) in query {
        match value {
            Value::Null => {}
            Value::Array(items) => {
                for v in items {
                    pairs.push((name.clone(), scalar(name, v)?));
                }
            }
            v => pairs.push((name.clone(), scalar(name, v)?)),
        }
    }
    Ok(pairs)
}

/// The error for a response whose status the card did not expect: the kind
/// from the status, and the start of the body in the message.
pub fn status_error(what: &str, response: &Response) -> CardError {
    let body = quote(&response.body);
    let message = if body.is_empty() {
        format!("{what}: the remote answered {}", response.status)
    } else {
        format!("{what}: the remote answered {}: {body}", response.status)
    };
    error(status_kind(response.status), message, response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn statuses_map_to_kinds_and_rate_limits_keep_their_hint() {
        let e = status_error("posting", &response(429, &[("Retry-After", "30")], "slow down"));
        assert_eq!(e.kind, ErrorKind::RateLimited);
        assert!(e.retryable);
        assert_eq!(e.retry_after_ms, Some(30_000));
        assert_eq!(e.message, "posting: the remote answered 429: slow down");
        let e = status_error("x", &response(503, &[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], ""));
        assert_eq!((e.kind, e.retry_after_ms), (ErrorKind::Unavailable, None));
        assert_eq!(status_error("x", &response(404, &[], "")).kind, ErrorKind::NotFound);
        assert_eq!(status_error("x", &response(403, &[], "")).kind, ErrorKind::Denied);
        assert!(!status_error("x", &response(400, &[], "")).retryable);
    }

    #[test]
    fn expected_statuses() {
        let expect = |v: serde_json::Value| serde_json::from_value::<ExpectStatus>(v).unwrap();
        assert!(ExpectStatus::allows(None, 204));
        assert!(!ExpectStatus::allows(None, 404));
        assert!(ExpectStatus::allows(Some(&expect(serde_json::json!(404))), 404));
        assert!(ExpectStatus::allows(Some(&expect(serde_json::json!([200, 404]))), 404));
        assert!(!ExpectStatus::allows(Some(&expect(serde_json::json!([200]))), 404));
        assert!(ExpectStatus::allows(Some(&expect(serde_json::json!("any"))), 500));
    }

    #[test]
    fn quotes_are_one_short_line() {
        assert_eq!(quote(b"a\n  b\tc"), "a b c");
        assert_eq!(quote("é".repeat(400).as_bytes()).chars().count(), MAX_QUOTED + 3);
    }
}
