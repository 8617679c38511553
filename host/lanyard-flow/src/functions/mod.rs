//! The functions, filters, tests and methods expressions can call beyond
//! minijinja's built-ins: text and regular expressions, encodings and hashes,
//! JWTs, time arithmetic in zones, lists and mappings, and the per-run
//! functions (`now()`, `uuid()`, `random()`, `jwt_decode()`,
//! `signal_link()`) bound to a run's clock, seed and link maker.
//!
//! [`register`] adds them to the one expression environment (`expr::ENV`);
//! [`calls`] lists what an expression calls, so validation can refuse an
//! unknown name at its place with a suggestion instead of failing at run time.
//!
//! Like the rest of the expression language this must not reach the clock, the
//! network, the disk or the OS random source: what needs "now" or randomness
//! gets it from the run ([`context`]). Every function bounds what it makes: text
//! at [`MAX_TEXT_BYTES`], lists at [`MAX_ITEMS`] items.

mod calls;
mod collections;
mod context;
mod encoding;
#[cfg(test)]
mod format_md;
mod jwt;
mod methods;
mod random;
mod regex;
pub(crate) mod time;

pub use calls::{Call, CallKind, calls, unknown_calls};
pub(crate) use context::{RunContext, context_function};
pub(crate) use random::Draws;

use crate::expr::MAX_TEXT_BYTES;
use minijinja::{Environment, Error, ErrorKind};

/// The most items a list made by a function may hold.
pub const MAX_ITEMS: usize = 100_000;

/// Functions provided per run by the context: they read the run's clock, its
/// random seed or its link maker, so they cannot live in the shared
/// environment.
pub const CONTEXT_FUNCTIONS: [&str; 7] = [
    "now",
    "days_since",
    "age_days",
    "uuid",
    "random",
    "jwt_decode",
    "signal_link",
];

/// Global functions this module adds (besides [`CONTEXT_FUNCTIONS`]).
pub(crate) const FUNCTIONS: [&str; 12] = [
    "parse_time",
    "timestamp",
    "add_days",
    "add_hours",
    "format_time",
    "add_time",
    "time_between",
    "start_of",
    "end_of",
    "to_zone",
    "make_time",
    "parse_url",
];

/// Filters this module adds.
pub(crate) const FILTERS: [&str; 24] = [
    "contains",
    "startswith",
    "endswith",
    "fromjson",
    "regex_match",
    "regex_find",
    "regex_findall",
    "regex_replace",
    "regex_split",
    "b64encode",
    "b64decode",
    "b64url_encode",
    "b64url_decode",
    "urlencode",
    "urldecode",
    "sha256",
    "hmac_sha256",
    "flatten",
    "index_of",
    "pick",
    "omit",
    "merge",
    "from_items",
    "average",
];

/// Tests this module adds.
pub(crate) const TESTS: [&str; 1] = ["empty"];

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
    //! every submodule; [`TestRun`] adds the per-run functions on a fixed
    //! clock.
    use super::{Draws, RunContext, context_function};
    use crate::expr::{Expr, Template, from_json};
    use lanyard_core::{Clock, ManualClock};
    use minijinja::value::{Object, ObjectRepr, Value};
    use serde_json::Value as Json;
    use std::sync::Arc;

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

    /// A run at a fixed time (seconds since 1970), with run id `test-run`
    /// and each evaluation at the step path `step`; its signal links are
    /// `https://lanyard.example.com/signals/<signal>.<choice>`.
    pub(crate) struct TestRun {
        clock: ManualClock,
        draws: Draws,
    }

    impl TestRun {
        pub(crate) fn at(secs: i64) -> Arc<TestRun> {
            let now = chrono::DateTime::from_timestamp(secs, 0).expect("a time");
            Arc::new(TestRun {
                clock: ManualClock::new(now),
                draws: Draws::new("test-run".into(), "step"),
            })
        }

        /// `src` with `ctx`'s keys and the per-run functions in scope.
        pub(crate) fn eval(self: &Arc<Self>, src: &str, ctx: Json) -> Result<Json, String> {
            let scope = Value::from_object(Scope {
                run: self.clone(),
                data: from_json(&ctx),
            });
            eval_in(src, &scope)
        }
    }

    impl RunContext for TestRun {
        fn clock(&self) -> &dyn Clock {
            &self.clock
        }

        fn draws(&self) -> &Draws {
            &self.draws
        }

        fn signal_link(&self, signal: &str, choice: Option<&str>) -> Result<String, String> {
            Ok(format!(
                "https://lanyard.example.com/signals/{signal}.{}",
                choice.unwrap_or("")
            ))
        }
    }

    #[derive(Debug)]
    struct Scope {
        run: Arc<TestRun>,
        data: Value,
    }

    impl std::fmt::Debug for TestRun {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("TestRun")
        }
    }

    impl Object for Scope {
        fn repr(self: &Arc<Self>) -> ObjectRepr {
            ObjectRepr::Map
        }

        fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
            let key = key.as_str()?;
            context_function(key, self.run.clone())
                .or_else(|| self.data.get_attr(key).ok().filter(|v| !v.is_undefined()))
        }
    }
}
