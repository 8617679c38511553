//! The daemon: hooks, invoke and admin API, durable intake, dispatcher, workers,
//! loop protection, reload, metrics. The only crate (with the Okta client) that
//! knows HTTP wire types.
//!
//! # Map
//!
//! ```text
//!  POST /hooks/okta ─┐                                  ┌─ schedule (cron)  ┐
//!  System Log poll ──┴─► Intake::accept (flushed) ──►   │  POST …/invoke     ├─► Engine::start_run
//!                         inbox (store) ──► dispatch ──►│  run-now, `lanyard run`┘      │
//!                                           (match, breaker, runs created atomically)   ▼
//!                                              RunQueue (lane per subject, bounded) ◄───┘
//!                                                   │ workers (workers.concurrency)
//!                                                   ▼
//!                     lanyard_flow::run_flow(Env { cards: Invoker → Runtime, journal: StoreJournal, … })
//! ```
//!
//! - [`config`]: `lanyard.toml` (raw → checked [`Config`]).
//! - [`engine`]: [`Engine`], which wires everything and owns the life cycle.
//! - [`intake`]: [`Intake::accept`], durable event intake for hooks and the poller.
//! - `runner` (private): the run queue and the workers; the one place a run
//!   is made (`Runner::new_run`), started, executed, resumed, cancelled and ended.
//! - `loader` (private): `FlowSet::load`, a flow set read and validated whole.
//! - [`dispatch`] (private): inbox → runs. [`queue`]: the per-subject run queue.
//! - [`card_set`]: the card set, grants, and the `CardInvoker` over the runtime.
//! - [`journal`]: the step journal over the store, durable before each card call;
//!   every record scrubbed of the secrets [`secrets`] gathers from the config.
//! - [`flows`]: the loaded flow set ([`FlowSet`]), swapped whole on reload.
//! - [`breaker`]: the runaway breaker. [`reload`]: file watch and SIGHUP.
//! - [`server`]: the hyper server, [`server::run`]. [`testflow`]: `lanyard run`.
//! - [`schedule`], [`poller`]: cron schedules and System Log polling.
//!
//! # One direction of calls
//!
//! The engine builds its collaborators and hands each what it needs; none of
//! them calls back into the engine:
//! - the runner gets the store, clock, redactor, the `[error_flow]` name and a
//!   `watch::Receiver` of the loaded flow set;
//! - the dispatcher gets a `Dispatcher` (intake, store, runner, orgs, breaker)
//!   and the shutdown signal;
//! - the scheduler works through [`schedule::ScheduleHost`] (the engine
//!   implements it; the tests fake it), the file watcher and SIGHUP through
//!   `reload::Reload`;
//! - the System Log pollers are built by the engine (one per org with an API)
//!   and run by `poller::run(pollers, interval, stop)`.
//!
//! Each returns when the shutdown signal fires; [`Engine::spawn`] registers
//! the task so the engine waits for it at shutdown.

mod admin_wire;
pub mod breaker;
pub mod builder_api;
pub mod card_set;
pub mod console;
pub mod config;
mod dispatch;
pub mod engine;
pub mod flows;
mod flow_api;
pub mod flow_stats;
pub mod intake;
pub mod journal;
mod loader;
pub mod library;
pub mod metrics;
pub mod orgs;
pub mod poller;
pub mod queue;
mod runner;
mod runs;
pub mod registry;
pub mod registry_api;
mod reload;
pub mod schedule;
pub mod secrets;
pub mod server;
pub mod shutdown;
pub mod signal_links;
mod signal_pages;
pub mod test_api;
pub mod testflow;

pub use config::{Config, ConfigError};
pub use engine::{
    CancelError, CancelOutcome, Engine, EngineError, EngineOptions, Mode, ReloadError, ReloadStatus, RunStarted,
    StartError, StartOptions,
};
pub use flows::FlowSet;
pub use intake::{AcceptSummary, Intake, IntakeError};
pub use shutdown::{Shutdown, ShutdownTrigger};
