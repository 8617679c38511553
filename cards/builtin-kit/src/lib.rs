//! What the built-in cards share, so that they read their input and shape their
//! output the same way:
//!
//! - [`UserRef`], [`GroupRef`], [`AppRef`] and [`RuleRef`]: a flow names a
//!   user by id, login or user object, a group by id, exact name or group
//!   object, an app by id, label or app object, and a group rule by id, exact
//!   name or rule object;
//! - [`List`]: every card that returns a list returns `{ "items": [...], "count": n }`,
//!   and [`okta::Page`], one page of a longer one, adds `next`;
//! - [`Outcome`]: every write returns `"outcome": "changed" | "unchanged"`;
//! - [`remote`]: how an answer from a remote HTTP service becomes a card error.
//!
//! It must not hold a card: each built-in card is its own crate under
//! `builtin/`, with its name, schemas and grants in one place, so an operator
//! can grant (and a reviewer read) one card at a time.

pub mod okta;
pub mod refs;
pub mod remote;

pub use okta::{List, Outcome, Page, UserInput};
pub use refs::{AppRef, GroupRef, OneOrMany, RuleRef, UserRef};

use lanyard_sdk::CardError;

/// `Err(invalid-input)` unless `value` is non-empty after trimming and at most
/// `max` characters long. `field` names it in the message.
pub fn check_text(field: &str, value: &str, max: usize) -> Result<(), CardError> {
    if value.trim().is_empty() {
        return Err(CardError::invalid_input(format!("`{field}` must not be empty")));
    }
    let len = value.chars().count();
    if len > max {
        return Err(CardError::invalid_input(format!(
            "`{field}` is {len} characters long, over the limit of {max}"
        )));
    }
    Ok(())
}

/// `Err(invalid-input)` if `value` holds a line break (header injection in a
/// mail subject, a broken key in a table).
pub fn check_single_line(field: &str, value: &str) -> Result<(), CardError> {
    if value.contains(['\r', '\n']) {
        return Err(CardError::invalid_input(format!("`{field}` must be one line")));
    }
    Ok(())
}

/// The kebab-case name a flow sees in `error.kind`.
pub fn kind_name(kind: lanyard_sdk::ErrorKind) -> &'static str {
    use lanyard_sdk::ErrorKind as K;
    match kind {
        K::InvalidInput => "invalid-input",
        K::NotFound => "not-found",
        K::Denied => "denied",
        K::Conflict => "conflict",
        K::RateLimited => "rate-limited",
        K::Unavailable => "unavailable",
        K::Timeout => "timeout",
        K::Internal => "internal",
    }
}

/// The longest table name or row key a built-in card accepts (the store may
/// cap lower).
pub const MAX_TABLE_NAME: usize = 128;
/// See [`MAX_TABLE_NAME`].
pub const MAX_KEY: usize = 1_024;

/// `Err(invalid-input)` unless `table` and `key` are usable: non-empty, one
/// line, within the caps.
pub fn check_table_key(table: &str, key: Option<&str>) -> Result<(), CardError> {
    check_text("table", table, MAX_TABLE_NAME)?;
    check_single_line("table", table)?;
    if let Some(key) = key {
        if key.is_empty() {
            return Err(CardError::invalid_input("`key` must not be empty"));
        }
        if key.chars().count() > MAX_KEY {
            return Err(CardError::invalid_input(format!("`key` is over the limit of {MAX_KEY} characters")));
        }
        check_single_line("key", key)?;
    }
    Ok(())
}
