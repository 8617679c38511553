//! The functions, filters, tests and methods expressions can call beyond
//! minijinja's built-ins: text and regular expressions, encodings and hashes,
//! time arithmetic in zones, lists and mappings, and the per-run functions
//! (`now()`, `uuid()`, `random()`) bound to a run's clock and seed.
//!
//! [`register`] adds them to the one expression environment (`expr::ENV`).
//!
//! Like the rest of the expression language this must not reach the clock, the
//! network, the disk or the OS random source: what needs "now" or randomness
//! gets it from the run ([`context`]). Every function bounds what it makes: text
//! at [`MAX_TEXT_BYTES`], lists at [`MAX_ITEMS`] items.

mod collections;
mod context;
mod encoding;
mod methods;
mod random;
mod regex;
mod time;

pub(crate) use context::{RunContext, context_function};
pub(crate) use random::Draws;

use crate::expr::MAX_TEXT_BYTES;
use minijinja::{Environment, Error, ErrorKind};

/// The most items a list made by a function may hold.
pub const MAX_ITEMS: usize = 100_000;

/// Functions provided per run by the context: they read the run's clock or
/// its random seed, so they cannot live in the shared environment.
pub const CONTEXT_FUNCTIONS: [&str; 5] = ["now", "days_since", "age_days", "uuid", "random"];

/// Add everything to the environment. `debug()` and `namespace()` are gone
/// before this runs.
pub(crate) fn register(env: &mut Environment<'static>) {
    time::register(env);
    regex::register(env);
    encoding::register(env);
    collections::register(env);
    env.set_unknown_method_callback(methods::python_methods);
}

/// An error for a function's caller: what was wrong with the arguments.
pub(crate) fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// Refuse text longer than [`MAX_TEXT_BYTES`].
pub(crate) fn bounded(what: &str, text: String) -> Result<String, Error> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(too_big(what));
    }
    Ok(text)
}

/// `what` would be more text than [`MAX_TEXT_BYTES`].
pub(crate) fn too_big(what: &str) -> Error {
    invalid(format!("{what} would be more than {MAX_TEXT_BYTES} bytes"))
}

/// Refuse a list longer than [`MAX_ITEMS`] before it is made.
pub(crate) fn check_items(what: &str, n: usize) -> Result<(), Error> {
    if n > MAX_ITEMS {
        return Err(invalid(format!(
            "{what} would have more than {MAX_ITEMS} items"
        )));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod testing {
    //! Evaluating one expression against a JSON context, for the tests of
    //! every submodule.
    use crate::expr::{Expr, Template, from_json};
    use minijinja::value::Value;
    use serde_json::Value as Json;

    pub(crate) fn eval(src: &str, ctx: Json) -> Result<Json, String> {
        eval_in(src, &from_json(&ctx))
    }

    fn eval_in(src: &str, ctx: &Value) -> Result<Json, String> {
        let e = Expr::compile(src, "x").map_err(|e| e.message)?;
        Template::Expr(e).eval_json(ctx).map_err(|e| e.message)
    }

    /// The value, or a panic naming the expression.
    pub(crate) fn ok(src: &str) -> Json {
        eval(src, serde_json::json!({})).unwrap_or_else(|e| panic!("{src}: {e}"))
    }

    /// The error message, or a panic naming the expression.
    pub(crate) fn fails(src: &str) -> String {
        match eval(src, serde_json::json!({})) {
            Ok(v) => panic!("{src} gave {v}, not an error"),
            Err(e) => e,
        }
    }
}
