//! The functions bound to one run: `now()`, `days_since(t)`, `age_days(t)`
//! read the run's clock, `uuid()` and `random()` draw from its seed
//! ([`super::random`]), and `jwt_decode(token, key=...)` checks a token's
//! times against the run's clock, and `signal_link(signal, choice)` asks the
//! run's link maker ([`crate::interp::SignalLinks`]) for a link that answers
//! the run's next wait for `signal`. The scope (`scope.rs`) hands them out by
//! name, bound to what its [`RunContext`] gives.

use super::random::{self, Draws};
use super::time::{fmt_time, parse_time};
use super::{invalid, jwt};
use minijinja::value::{Kwargs, Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};
use std::fmt;
use std::sync::Arc;

/// What the per-run functions read: the run's clock and its draws, and
/// where its signal links come from.
pub(crate) trait RunContext: Send + Sync + 'static {
    fn clock(&self) -> &dyn lanyard_core::Clock;
    fn draws(&self) -> &Draws;
    /// A link answering this run's next wait for `signal` with `choice`.
    fn signal_link(&self, signal: &str, choice: Option<&str>) -> Result<String, String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Now,
    DaysSince,
    AgeDays,
    Uuid,
    Random,
    JwtDecode,
    SignalLink,
}

/// The function `name` bound to `run`, if `name` is one of
/// [`super::CONTEXT_FUNCTIONS`].
pub(crate) fn context_function(name: &str, run: Arc<dyn RunContext>) -> Option<Value> {
    let which = match name {
        "now" => Which::Now,
        "days_since" => Which::DaysSince,
        "age_days" => Which::AgeDays,
        "uuid" => Which::Uuid,
        "random" => Which::Random,
        "jwt_decode" => Which::JwtDecode,
        "signal_link" => Which::SignalLink,
        _ => return None,
    };
    Some(Value::from_object(ContextFn { which, run }))
}

struct ContextFn {
    which: Which,
    run: Arc<dyn RunContext>,
}

impl fmt::Debug for ContextFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.which)
    }
}

impl Object for ContextFn {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn call(self: &Arc<Self>, _state: &mut State<'_, '_>, args: &[Value]) -> Result<Value, Error> {
        let none = |f: &str| {
            Error::new(
                ErrorKind::TooManyArguments,
                format!("{f}() takes no arguments"),
            )
        };
        match (self.which, args) {
            (Which::Now, []) => Ok(Value::from(fmt_time(self.run.clock().now()))),
            (Which::Now, _) => Err(none("now")),
            (Which::DaysSince | Which::AgeDays, [t]) => {
                let elapsed = self.run.clock().now() - parse_time(t)?;
                Ok(match self.which {
                    Which::DaysSince => {
                        Value::from(elapsed.num_milliseconds() as f64 / 86_400_000.0)
                    }
                    _ => Value::from(elapsed.num_days()),
                })
            }
            (Which::DaysSince | Which::AgeDays, _) => {
                Err(invalid("days_since() and age_days() take one time"))
            }
            (Which::Uuid, []) => Ok(Value::from(random::uuid(self.run.draws().draw()))),
            (Which::Uuid, _) => Err(none("uuid")),
            (Which::Random, []) => Ok(Value::from(random::unit(self.run.draws().draw()))),
            (Which::Random, [lo, hi]) => {
                let (lo, hi) = (whole(lo)?, whole(hi)?);
                if lo > hi {
                    return Err(invalid(format!(
                        "random({lo}, {hi}): the first bound is above the second"
                    )));
                }
                Ok(Value::from(random::between(
                    self.run.draws().draw(),
                    lo,
                    hi,
                )))
            }
            (Which::Random, _) => Err(invalid(
                "random() takes no arguments (a number in [0, 1)) or two whole numbers (from, to, both included)",
            )),
            (Which::JwtDecode, _) => {
                let (args, kwargs): (&[Value], Kwargs) = minijinja::value::from_args(args)?;
                jwt::decode(args, kwargs, self.run.clock().now())
            }
            (Which::SignalLink, [signal]) => self.link(signal, None),
            (Which::SignalLink, [signal, choice]) => self.link(signal, Some(choice)),
            (Which::SignalLink, _) => Err(invalid(
                "signal_link() takes a signal's name and one of its choices: signal_link(\"approval\", \"approve\")",
            )),
        }
    }
}

impl ContextFn {
    fn link(&self, signal: &Value, choice: Option<&Value>) -> Result<Value, Error> {
        let text = |what: &str, v: &Value| {
            v.as_str().map(str::to_string).ok_or_else(|| {
                invalid(format!("signal_link()'s {what} is text, not `{v}`"))
            })
        };
        let signal = text("signal", signal)?;
        let choice = choice.map(|c| text("choice", c)).transpose()?;
        self.run
            .signal_link(&signal, choice.as_deref())
            .map(Value::from)
            .map_err(invalid)
    }
}

fn whole(v: &Value) -> Result<i64, Error> {
    i64::try_from(v.clone())
        .map_err(|_| invalid(format!("random()'s bounds are whole numbers, not `{v}`")))
}
