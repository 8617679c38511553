//! The one failure type of a card call, whoever raised it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a card call (or a capability call inside it) failed.
///
/// The first eight kinds are the WIT `error-kind`s that cards and capabilities
/// report. The rest are raised by the runtime (limits and traps) or the engine, and
/// reach the flow the same way, as `error.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    InvalidInput,
    NotFound,
    Denied,
    Conflict,
    RateLimited,
    Unavailable,
    Timeout,
    Internal,
    /// The call used up its fuel.
    FuelExhausted,
    /// The card tried to grow its memory past the limit.
    MemoryLimit,
    /// The call ran past its wall-clock deadline (guest code or host calls).
    Deadline,
    /// The card overflowed its stack.
    StackOverflow,
    /// The card trapped (panic, unreachable, bad memory access, ...).
    Trap,
    /// Input, output or logs over the call's size caps.
    TooLarge,
    /// The card's output was not JSON, or the card broke the contract.
    BadOutput,
    /// A flow expression failed to evaluate.
    Expression,
    /// A `fail` step, or a helper flow that failed.
    Failed,
}

impl ErrorKind {
    /// All kinds, for validation and documentation.
    pub const ALL: [ErrorKind; 17] = [
        ErrorKind::InvalidInput,
        ErrorKind::NotFound,
        ErrorKind::Denied,
        ErrorKind::Conflict,
        ErrorKind::RateLimited,
        ErrorKind::Unavailable,
        ErrorKind::Timeout,
        ErrorKind::Internal,
        ErrorKind::FuelExhausted,
        ErrorKind::MemoryLimit,
        ErrorKind::Deadline,
        ErrorKind::StackOverflow,
        ErrorKind::Trap,
        ErrorKind::TooLarge,
        ErrorKind::BadOutput,
        ErrorKind::Expression,
        ErrorKind::Failed,
    ];

    /// The kebab-case name flows see in `error.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid-input",
            ErrorKind::NotFound => "not-found",
            ErrorKind::Denied => "denied",
            ErrorKind::Conflict => "conflict",
            ErrorKind::RateLimited => "rate-limited",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Internal => "internal",
            ErrorKind::FuelExhausted => "fuel-exhausted",
            ErrorKind::MemoryLimit => "memory-limit",
            ErrorKind::Deadline => "deadline",
            ErrorKind::StackOverflow => "stack-overflow",
            ErrorKind::Trap => "trap",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::BadOutput => "bad-output",
            ErrorKind::Expression => "expression",
            ErrorKind::Failed => "failed",
        }
    }

    /// Parse the kebab-case name.
    pub fn parse(s: &str) -> Option<ErrorKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the kind is retryable unless the reporter says otherwise.
    pub fn retryable_by_default(self) -> bool {
        matches!(
            self,
            ErrorKind::RateLimited | ErrorKind::Unavailable | ErrorKind::Timeout
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed card call: a card's own `card-error`, a capability's, or a limit or
/// trap the runtime turned into one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct CardError {
    pub kind: ErrorKind,
    /// One line a flow author can act on.
    pub message: String,
    /// Whether the same call may succeed if tried again.
    pub retryable: bool,
    /// For rate limits: how long to wait before trying again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// For the card author: the guest's panic message and stderr, a symbolized
    /// backtrace, the remote's error body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl CardError {
    /// An error of `kind` with the kind's default retryability.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        CardError {
            kind,
            message: message.into(),
            retryable: kind.retryable_by_default(),
            retry_after_ms: None,
            detail: None,
        }
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn denied(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Denied, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn with_retryable(mut self, retryable: bool) -> Self {
        self.retryable = retryable;
        self
    }

    pub fn with_retry_after_ms(mut self, ms: u64) -> Self {
        self.retry_after_ms = Some(ms);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
        }
        assert_eq!(ErrorKind::parse("nope"), None);
    }
}
