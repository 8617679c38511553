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
//! - [`dispatch`] (private): inbox → runs. [`queue`]: the per-subject run queue.
//! - [`cards`]: the card set, grants, and the `CardInvoker` over the runtime.
//! - [`journal`]: the step journal over the store, durable before each card call;
//!   every record scrubbed of the secrets [`secrets`] gathers from the config.
//! - [`flows`]: the loaded flow set ([`FlowSet`]), swapped whole on reload.
//! - [`breaker`]: the runaway breaker. [`reload`]: file watch and SIGHUP.
//! - [`server`]: the hyper server, [`server::run`]. [`testflow`]: `lanyard run`.
//! - [`schedule`], [`poller`]: cron schedules and System Log polling.
//!
//! # For the schedule and poller modules
//!
//! They are driven by the engine and use only these items:
//! - [`Engine::flows`] (`Arc<FlowSet>`, with [`FlowSet::schedules`]) and
//!   [`Engine::subscribe_reloads`] (a `watch::Receiver<Arc<FlowSet>>` told of
//!   every swap);
//! - [`Engine::start_run`]`(flow, TriggerInfo::Schedule{..}, input, StartOptions { force: true, .. })`
//!   and [`Engine::is_running`] (overlap);
//! - [`Engine::intake`]`().accept(events, "poll")` (durable before it returns);
//! - [`Engine::okta_client`], [`Engine::store`] (`StateStore` for schedule
//!   states and cursors), [`Engine::clock`], [`Engine::config`] (`schedules`,
//!   `poll`);
//! - [`Engine::shutdown_signal`]: a [`Shutdown`] every background task selects on;
//!   [`Engine::spawn`] registers a task the engine waits for at shutdown.
//!
//! The engine starts them once flows are loaded, by calling
//! `schedule::run(engine: Engine) -> impl Future<Output = ()>` and
//! `poller::run(engine: Engine) -> impl Future<Output = ()>` (each returns when
//! the shutdown signal fires).

mod admin_wire;
pub mod breaker;
pub mod builder_api;
pub mod cards;
pub mod console;
pub mod config;
mod dispatch;
pub mod engine;
pub mod flows;
mod flow_api;
pub mod flow_stats;
pub mod intake;
pub mod journal;
pub mod library;
pub mod metrics;
pub mod orgs;
pub mod poller;
pub mod queue;
pub mod registry;
pub mod registry_api;
mod reload;
pub mod schedule;
pub mod secrets;
pub mod server;
pub mod shutdown;
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
