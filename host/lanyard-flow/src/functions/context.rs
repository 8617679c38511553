//! The functions bound to one run: `now()`, `days_since(t)` and `age_days(t)`
//! read the run's clock. The scope (`scope.rs`) hands them out by name, bound
//! to what its [`RunContext`] gives.

use super::invalid;
use super::time::{fmt_time, parse_time};
use minijinja::value::{Object, ObjectRepr, Value};
use minijinja::{Error, ErrorKind, State};
use std::fmt;
use std::sync::Arc;

/// What the per-run functions read: the run's clock.
pub(crate) trait RunContext: Send + Sync + 'static {
    fn clock(&self) -> &dyn lanyard_core::Clock;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Now,
    DaysSince,
    AgeDays,
}

/// The function `name` bound to `run`, if `name` is one of
/// [`super::CONTEXT_FUNCTIONS`].
pub(crate) fn context_function(name: &str, run: Arc<dyn RunContext>) -> Option<Value> {
    let which = match name {
        "now" => Which::Now,
        "days_since" => Which::DaysSince,
        "age_days" => Which::AgeDays,
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
        match (self.which, args) {
            (Which::Now, []) => Ok(Value::from(fmt_time(self.run.clock().now()))),
            (Which::Now, _) => Err(Error::new(
                ErrorKind::TooManyArguments,
                "now() takes no arguments",
            )),
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
        }
    }
}
