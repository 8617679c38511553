//! Flows: the YAML format, validation with exact places, expressions, and the
//! interpreter.
//!
//! Pure: no I/O of its own. The interpreter reaches cards, history, time and
//! helper flows through traits, so it knows nothing of wasmtime, sled or HTTP,
//! and is tested with fakes. The flow author's reference is `FORMAT.md` beside
//! this crate's manifest.
//!
//! # Pipeline
//!
//! ```text
//! text ──yaml::parse──► positioned tree ──compile──► Flow ──run_flow──► RunOutcome
//!                         (every node and key        │        │  StepRecords ──► Journal
//!                          has line:col)             │        └─ cards through CardInvoker
//!                                   Diagnostic ◄─────┘
//! ```
//!
//! - [`yaml`]: a YAML tree built from `saphyr-parser` events, so every key and
//!   value has its line and column, every duplicate key is reported, quoted
//!   scalars stay text, aliases are refused, and size, depth and node count are
//!   bounded.
//! - [`compile`]: raw tree → validated [`Flow`]. Collects every problem instead
//!   of stopping at the first. Compiles every expression once. Tracks which
//!   step ids have run on every path to each point (through branches, loops,
//!   handlers and steps that end the flow), so reading a step that has not run
//!   is a compile error with a place.
//! - [`library`]: checks across files (unique names, helper flows exist and get
//!   their inputs, no cycles between helpers) and [`Library`], the loaded flows.
//! - [`interp`]: [`run_flow`]. Only ever sees a compiled [`Flow`].
//! - [`outline`]: the builder's diagram model of a compiled flow ([`Outline`]):
//!   the trigger and schedules in words, each step's journal path, YAML path,
//!   key inputs and the names in scope there.
//! - [`trace`]: the readable text of a run from its history records.
//! - [`diag`]: diagnostics, human (`file:line:col: error: ...`) and serde forms.
//! - [`expr`]: the expression language (minijinja, locked down and fuelled).
//! - [`functions`]: what expressions can call beyond minijinja's built-ins
//!   (regular expressions, encodings, hashes, JWTs, time in zones, lists and
//!   mappings, `uuid()` and `random()`), and what an expression calls, for
//!   validation.
//!
//! # Decisions
//!
//! - YAML: `saphyr-parser` (the maintained successor of yaml-rust's parser)
//!   gives spans for every event; a document type (`serde_yaml`, `saphyr`'s
//!   `MarkedYaml`, `marked-yaml`) would either lose key positions, keep only the
//!   last duplicate key, or stop at the first duplicate. Our own loader is 300
//!   lines and owns its limits.
//! - Expressions: minijinja 3 in one process-wide environment with no loader,
//!   no templates, no `debug()`/`namespace()`, a fuel budget per evaluation
//!   ([`expr::FUEL_PER_EVAL`]) and minijinja's recursion limit. Expressions
//!   are compiled with `compile_expression_owned` against that `'static`
//!   environment, so a compiled [`Flow`] owns them and no run compiles
//!   anything. Text values with `{{ }}` holes are split by our own scanner
//!   into literal text and expressions (so `{% %}` statements are refused: a
//!   flow value is data, not a template program).
//! - A value that is exactly one `{{ expr }}` is the typed value; mixed text is
//!   a string. Conditions (`if`, `switch`, trigger `filter`) are bare
//!   expressions (a whole-value `{{ }}` is accepted too).
//! - Undefined values are semi-strict: false in a condition, an error anywhere
//!   else, and the error names the missing path (`user.profile` has no
//!   `managerId`). A handled failure leaves the step's output `none`.
//! - Scope: each completed step's output under its id; `event`; `vars`
//!   (`assign`); `flow` (`name`, `run_id`, `dry_run`); `error` in `on_error` and
//!   `on_failure`; the `as` variable and `loop` in `for_each`; `inputs` in helper
//!   flows; `now()`, `days_since()`, `age_days()` read the run's clock, and
//!   `uuid()`, `random()` draw from the run id and the step's path. Step
//!   outputs live in a vector indexed by a slot the compiler assigned; the
//!   expression context is an object that looks names up on demand, so no
//!   per-evaluation map is built.
//! - Paths: ids from the top joined by `/`, `[i]` for loop iterations,
//!   `on_error` and `on_failure` for handlers, a helper's steps under the `call`
//!   step. Unique within a run, stable across a resume, the journal key.
//! - Errors go to the nearest enclosing `on_error` (a branch, loop or call with
//!   `on_error` catches failures inside it); unhandled, the run fails, the
//!   flow's `on_failure` runs, and the daemon hands the failed [`RunOutcome`] to
//!   the global error flow. Retries only repeat errors the card marks
//!   `retryable`, wait `backoff` doubling up to `max_backoff`, and honour a
//!   rate limit's `retry_after_ms` (up to [`RunLimits::max_retry_wait`]).
//! - Resume: with [`RunStart::resume`], a card step already in the journal is
//!   not called again (its output or error is reused), and `if`/`switch`/
//!   `assign` reuse their recorded decision, so a resumed run takes the same path.
//! - Waiting: a `wait` step pauses the run ([`RunOutcome::wait`], status
//!   `waiting`) by unwinding to the top, writing only the decisions of the
//!   branches it was in; no task sleeps. The engine writes the step's record
//!   when the time or the signal comes ([`wait_record`]) and resumes the run,
//!   which replays up to the `wait` and goes on from its record.
//! - Bounds: items per `for_each`, steps per run, helper call depth, retry wait
//!   ([`RunLimits`]), expression fuel, text size, JSON depth, YAML size.

pub mod catalog;
pub mod compile;
pub mod diag;
pub mod expr;
pub mod functions;
pub mod interp;
pub mod library;
pub mod model;
pub mod outline;
mod scope;
pub mod trace;
pub mod yaml;

pub use catalog::{CardCatalog, CardSummary, DEFAULT_ORG, OktaOrgs, StaticCatalog};
pub use compile::{Compiled, compile};
pub use diag::{Diagnostic, Pos, Severity, Span};
pub use expr::{Expr, ExprError, Template};
pub use interp::{
    CardCall, CardInvoker, CardResult, Env, FlowLookup, Journal, JournalError, LinkRequest,
    MemoryJournal, NoHelpers, NoSignalLinks, NullJournal, RecordingSleeper, RunLimits, RunOutcome,
    RunStart, SignalLinks, Sleeper, StartHelper, StepSummary, WaitEnd, run_flow, wait_output, wait_record,
};
pub use library::{Library, SourceFile, Validation, validate};
pub use model::{
    CardRef, CardVersion, Flow, LimitOverrides, Retry, Schedule, Step, StepKind, Trigger,
    WaitStep, WaitUntil,
};
pub use outline::{Outline, outline};
pub use trace::{TraceOptions, render_trace};
