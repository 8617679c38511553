//! The engine: everything a run needs, wired once.
//!
//! [`Engine`] owns the store, the card runtime and the card set, the
//! capabilities (Okta: each configured org, a real one or an embedded
//! sandbox, by name in `crate::orgs`, chosen per card step; HTTP and mail
//! from `lanyard-connect`; tables from the store), the loaded flows (an immutable
//! [`FlowSet`] swapped whole on reload), durable intake, the dispatcher, the
//! bounded worker pool with per-subject order, the runaway breaker, the
//! global error flow, crash recovery and shutdown. `lanyard serve`,
//! `lanyard run` and `lanyard demo` all build one.
//!
//! Life cycle: [`Engine::new`] opens the store and the runtime (fast; intake
//! works from here on), [`Engine::start`] loads cards and flows in the
//! background and, once a valid flow set is loaded, recovers unfinished runs
//! and starts the dispatcher and workers (then [`Engine::is_ready`]).
//! [`Engine::shutdown`] stops intake, lets runs in flight finish for a grace
//! period, leaves the rest `running` in the store (they resume at the next
//! start) and flushes.
//!
//! When the store cannot write (a full disk; the store reopens itself, see
//! `lanyard_store`'s `health`), a run whose step record or flush fails is
//! stopped where it is, not ended: it waits until the store writes again and
//! resumes from its journal, as after a restart. Once the store is back, the
//! runs it holds unfinished that nobody runs (their start was cut off) are
//! queued again and the dispatcher reads the inbox again from its start.
//!
//! Hot path of a run: no config parsing, no flow compiling, no card loading
//! (built-ins are loaded at start; grants computed per card version once);
//! store writes are plain single-key writes, group-committed.

use crate::signal_links::{LinkKey, SignalLinker};
use crate::breaker::Breaker;
use crate::card_set::{CardSet, Invoker};
use crate::config::Config;
use crate::flows::{read_flow_files, FlowSet, LoadError};
use crate::intake::Intake;
use crate::loader::FlowSources;
use crate::metrics as m;
use crate::orgs::Orgs;
use crate::runner::{Runner, RunnerParts};
use crate::shutdown::{self, Shutdown, ShutdownTrigger};
use chrono::{DateTime, Utc};
use lanyard_core::history::{RunRecord, TriggerInfo};
use lanyard_core::okta::OktaApi;
use lanyard_core::{Clock, Redactor, SystemClock};
use lanyard_flow::model::Flow;
use lanyard_flow::SourceFile;
use lanyard_runtime::{Capabilities, Runtime, RuntimeConfig};
use lanyard_store::{SharedStore, StoreError, StoreOptions};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

pub use crate::runs::{CancelError, CancelOutcome, RunStarted, StartError, StartOptions};

/// What the engine runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The daemon: dispatcher, recovery, reloads, retention.
    Daemon,
    /// One run from the command line (`lanyard run`): workers only; other
    /// runs in the store are left alone, and flows with errors are skipped
    /// (reported) instead of failing the load.
    OneShot,
}

/// How to build an engine.
pub struct EngineOptions {
    pub config: Arc<Config>,
    /// The store to use; by default the one in `config.server.data_dir`.
    pub store: Option<SharedStore>,
    /// Replace the default Okta org's capability (tests).
    pub okta: Option<Arc<dyn OktaApi>>,
    pub clock: Arc<dyn Clock>,
    pub mode: Mode,
    /// One more flow file, besides the flows directory (`lanyard run path.yaml`);
    /// it wins over a flow of the same name in the directory.
    pub extra_flow: Option<PathBuf>,
    /// Reload on SIGHUP (the daemon; tests leave it off).
    pub handle_sighup: bool,
}

impl EngineOptions {
    pub fn new(config: Config) -> Self {
        EngineOptions {
            config: Arc::new(config),
            store: None,
            okta: None,
            clock: Arc::new(SystemClock),
            mode: Mode::Daemon,
            extra_flow: None,
            handle_sighup: false,
        }
    }
}

/// Why an engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot start the card runtime: {0}")]
    Runtime(#[from] lanyard_runtime::RuntimeError),
    #[error("okta: {0}")]
    Okta(String),
    #[error("http connections: {0}")]
    Connections(String),
    #[error("{0}")]
    Other(String),
}

/// The last reload (`GET /api/v1/flows` shows it as
/// `lanyard_core::admin_api::ReloadStatus`).
#[derive(Debug, Clone)]
pub struct ReloadStatus {
    pub generation: u64,
    pub loaded_at: DateTime<Utc>,
    pub flows: usize,
    /// The last reload that failed, if it is more recent than the last success.
    pub last_error: Option<LoadError>,
}

/// The engine. Cheap to clone; every clone is the same engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) config: Arc<Config>,
    pub(crate) mode: Mode,
    pub(crate) store: SharedStore,
    pub(crate) runtime: Runtime,
    pub(crate) clock: Arc<dyn Clock>,
    /// Every configured secret; see `crate::journal`.
    redactor: Arc<Redactor>,
    /// The Okta orgs, by name (`crate::orgs`).
    orgs: Arc<Orgs>,
    /// What flow sets are loaded from (`crate::loader`).
    sources: FlowSources,
    flows_tx: watch::Sender<Arc<FlowSet>>,
    reload_lock: tokio::sync::Mutex<()>,
    last_reload_error: Mutex<Option<LoadError>>,
    /// sha256 over the paths and texts of the flow files the loaded set was
    /// read from: a watcher event that changed nothing (the admin API's own
    /// write, already reloaded) does not reload again.
    loaded_files: Mutex<Option<String>>,
    /// One write to the flows directory through the admin API at a time
    /// (`crate::flow_api`): compare, validate, write and reload as one step.
    flow_writes: tokio::sync::Mutex<()>,
    pub(crate) intake: Intake,
    /// The run queue and the workers (`crate::runner`).
    runner: Runner,
    ready: watch::Sender<bool>,
    /// Stop taking new work (dispatcher, schedules, poller, workers between runs).
    stop: ShutdownTrigger,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    handle_sighup: bool,
    /// Makes and reads signal links (`crate::signal_links`).
    links: Arc<SignalLinker>,
}

impl Engine {
    /// Open the store, start the runtime and the Okta org. Fast: cards and
    /// flows load in [`Engine::start`]. Intake works from here on.
    pub async fn new(options: EngineOptions) -> Result<Engine, EngineError> {
        m::install();
        let config = options.config.clone();
        let store = match options.store.clone() {
            Some(s) => s,
            None => open_store(&config, options.clock.clone()).await?,
        };
        let runtime = Runtime::new(RuntimeConfig {
            cache_dir: Some(config.server.cache_dir.clone()),
            default_limits: config.limits,
            max_instances: config.max_instances,
            max_memory_bytes: config.limits.memory_bytes.max(RuntimeConfig::default().max_memory_bytes),
            clock: options.clock.clone(),
            ..RuntimeConfig::default()
        })?;

        let mut orgs = crate::orgs::Orgs::start(&config, options.okta.clone(), options.clock.clone()).await?;
        // Every configured secret, once: scrubbed from what cards get back
        // over http and from everything the history keeps.
        let mut secrets = crate::secrets::configured(&config);
        orgs.secrets(&mut secrets);
        let redactor = Arc::new(Redactor::new(&secrets).map_err(|e| EngineError::Other(e.to_string()))?);
        let tables = store.clone() as Arc<dyn lanyard_core::caps::TablesApi>;
        let caps = capabilities(&config, tables, Some(redactor.clone()), options.clock.clone())?;
        orgs.scrub_with(&redactor);
        let orgs = Arc::new(orgs);
        let empty = Arc::new(Invoker {
            cards: Arc::new(CardSet::default()),
            runtime: runtime.clone(),
            caps: caps.clone(),
            okta: orgs.capabilities(),
            store: store.clone(),
        });
        let (flows_tx, flows_rx) = watch::channel(Arc::new(FlowSet::empty(empty)));
        let (ready, _) = watch::channel(false);
        let (stop, stopped) = shutdown::channel();
        let key = LinkKey::load_or_create(&config.server.data_dir).map_err(EngineError::Other)?;
        let links = Arc::new(SignalLinker::new(
            key,
            config.signals.public_url.as_deref(),
            &format!("http://{}", config.server.listen),
            config.signals.link_max_age,
            options.clock.clone(),
        ));
        let runner = Runner::new(RunnerParts {
            store: store.clone(),
            clock: options.clock.clone(),
            redactor: redactor.clone(),
            error_flow: config.error_flow.clone(),
            flows: flows_rx,
            queue_capacity: config.workers.queue,
            stop: stopped,
            links: links.clone(),
        });
        let inner = Inner {
            mode: options.mode,
            intake: Intake::new(store.clone(), redactor.clone()),
            runner,
            config: config.clone(),
            store: store.clone(),
            runtime: runtime.clone(),
            sources: FlowSources {
                config: config.clone(),
                strict: options.mode == Mode::Daemon,
                extra_flow: options.extra_flow,
                store: store.clone(),
                runtime: runtime.clone(),
                caps,
                orgs: orgs.clone(),
                clock: options.clock.clone(),
                loaded_builtins: tokio::sync::OnceCell::new(),
            },
            clock: options.clock,
            redactor,
            orgs,
            flows_tx,
            reload_lock: tokio::sync::Mutex::new(()),
            last_reload_error: Mutex::new(None),
            loaded_files: Mutex::new(None),
            flow_writes: tokio::sync::Mutex::new(()),
            ready,
            stop,
            tasks: Mutex::new(Vec::new()),
            handle_sighup: options.handle_sighup,
            links,
        };
        Ok(Engine { inner: Arc::new(inner) })
    }

    /// Load cards and flows in the background; once a valid flow set is
    /// loaded, recover unfinished runs and start the dispatcher, the workers and
    /// the daemon's other tasks. Returns at once; see [`Engine::wait_ready`].
    pub fn start(&self) {
        let engine = self.clone();
        self.spawn(async move { engine.boot().await });
    }

    async fn boot(self) {
        let stop = self.shutdown_signal();
        self.detect_self_actor().await;
        if self.inner.mode == Mode::Daemon {
            // Started first: they are how a broken flow set gets fixed.
            if self.inner.config.server.watch_flows {
                let dir = self.inner.config.server.flows_dir.clone();
                self.spawn(crate::reload::watch_flows(dir, self.shutdown_signal(), self.clone()));
            }
            if self.inner.handle_sighup {
                self.spawn(crate::reload::on_sighup(self.shutdown_signal(), self.clone()));
            }
        }
        // Until a valid set is loaded, events wait in the (durable) inbox.
        let mut flows = self.subscribe_reloads();
        loop {
            match self.reload().await {
                Ok(_) => break,
                Err(e) if self.inner.mode == Mode::OneShot => {
                    // Nothing will fix it in a one-off run: stop, and let the
                    // caller report `reload_status().last_error`.
                    tracing::debug!(error = %e, "cannot load the flows");
                    self.inner.stop.trigger();
                    return;
                }
                Err(e) => {
                    tracing::error!(error = %e, "no valid flow set yet; events are kept in the inbox until one loads (fix the flows, then reload)");
                }
            }
            tokio::select! {
                changed = flows.changed() => {
                    if changed.is_err() || self.flows().generation > 0 { break }
                }
                _ = stop.wait() => return,
            }
        }
        if stop.is_triggered() {
            return;
        }
        for _ in 0..self.inner.config.workers.concurrency {
            let runner = self.inner.runner.clone();
            self.spawn(async move { runner.worker().await });
        }
        if self.inner.mode == Mode::Daemon {
            match self.inner.runner.adopt_unfinished().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(runs = n, "resuming runs that were unfinished at the last stop"),
                Err(e) => tracing::error!(error = %e, "cannot recover unfinished runs; they are queued once the store can be read"),
            }
            match self.inner.runner.watch_waiting().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(runs = n, "watching the waits of waiting runs"),
                Err(e) => tracing::error!(error = %e, "cannot read the waiting runs; their waits are watched once the store can be read"),
            }
            let runner = self.inner.runner.clone();
            let timer: Arc<dyn crate::schedule::Timer> = Arc::new(crate::schedule::SystemTimer::new(self.clock().clone()));
            self.spawn(async move { runner.wait_timer(timer).await });
            let dispatcher = crate::dispatch::Dispatcher {
                intake: self.inner.intake.clone(),
                store: self.inner.store.clone(),
                runner: self.inner.runner.clone(),
                orgs: self.inner.orgs.clone(),
                breaker: Breaker::new(self.inner.config.loop_protection.window, self.inner.config.loop_protection.max_runs),
            };
            self.spawn(crate::dispatch::run(dispatcher, self.shutdown_signal()));
            let engine = self.clone();
            self.spawn(async move { engine.watch_store().await });
            let engine = self.clone();
            self.spawn(async move { engine.prune_loop().await });
            self.start_extensions();
        }
        self.inner.ready.send_replace(true);
        metrics::gauge!(m::READY).set(1.0);
        tracing::info!(flows = self.flows().len(), "lanyard is ready");
    }

    /// The daemon's other triggers (schedules, System Log polling), started
    /// once flows are loaded. See `crate::schedule` and `crate::poller`.
    fn start_extensions(&self) {
        let engine = self.clone();
        self.spawn(async move { crate::schedule::run(engine).await });
        let poll = self.inner.config.poll;
        if poll.enabled {
            let pollers = self.inner.orgs.iter().filter_map(|o| Some((o.name().to_string(), self.poller_of(o.name())?))).collect();
            self.spawn(crate::poller::run(pollers, poll.interval, self.shutdown_signal()));
        }
    }

    /// The poller of the Okta org `org`, or `None` if it has no API: it
    /// polls for the event types the loaded flows of that org want.
    fn poller_of(&self, org: &str) -> Option<crate::poller::Poller> {
        let client = self.inner.orgs.get(org)?.client()?.clone();
        let flows = self.subscribe_reloads();
        let name = org.to_string();
        let types: crate::poller::TypeFilter = Arc::new(move || {
            flows
                .borrow()
                .flows()
                .filter_map(|f| f.trigger.okta())
                .filter(|t| t.org == name)
                .flat_map(|t| t.event_types.iter().cloned())
                .collect()
        });
        let poller = crate::poller::Poller::with_parts(
            client,
            self.inner.store.clone(),
            self.inner.intake.clone(),
            self.inner.clock.clone(),
            self.inner.config.poll.lookback,
            types,
        );
        Some(poller.for_org(self.inner.orgs.store_org(org).map(str::to_string)))
    }

    /// Spawn a background task the engine waits for at shutdown.
    pub fn spawn(&self, fut: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(fut);
        let mut tasks = self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.retain(|t| !t.is_finished());
        tasks.push(handle);
    }

    /// Ask each org who the daemon is there, so its own events start no flows.
    async fn detect_self_actor(&self) {
        futures::future::join_all(self.inner.orgs.iter().map(|o| o.detect_self_actor())).await;
    }

    // -- accessors ----------------------------------------------------------

    pub fn config(&self) -> &Arc<Config> {
        &self.inner.config
    }

    /// Scrubs every configured secret out of what the history keeps and the
    /// admin API shows (`crate::journal`).
    pub(crate) fn redactor(&self) -> &Arc<Redactor> {
        &self.inner.redactor
    }

    pub fn store(&self) -> &SharedStore {
        &self.inner.store
    }

    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Durable event intake (Event Hooks and the System Log poller).
    pub fn intake(&self) -> &Intake {
        &self.inner.intake
    }

    /// The Okta orgs, by name.
    pub fn orgs(&self) -> &crate::orgs::Orgs {
        &self.inner.orgs
    }

    /// The Okta client of the default org (or its embedded sandbox), for
    /// samples. `None` without one.
    pub fn okta_client(&self) -> Option<&lanyard_okta::OktaClient> {
        self.inner.orgs.default_org()?.client()
    }

    /// The embedded sandbox org of the default org, when it is one.
    #[cfg(feature = "sandbox")]
    pub fn sandbox(&self) -> Option<&lanyard_sandbox::okta::RunningSandbox> {
        self.inner.orgs.default_org()?.sandbox()
    }

    /// [`Engine::register_sandbox_hook_of`] the default org.
    #[cfg(feature = "sandbox")]
    pub async fn register_sandbox_hook(&self, hook_url: &str) -> Result<String, String> {
        let org = self.inner.orgs.default_org().ok_or("no default Okta org: name one")?.name().to_string();
        self.register_sandbox_hook_of(&org, hook_url).await
    }

    /// With `org` an embedded sandbox org with a hook secret: register an
    /// Event Hook in that sandbox that delivers to `hook_url` (every event type
    /// Okta allows in hooks) and verify it, as an Okta admin would. Returns the
    /// hook's id.
    #[cfg(feature = "sandbox")]
    pub async fn register_sandbox_hook_of(&self, org: &str, hook_url: &str) -> Result<String, String> {
        let org = self.inner.orgs.get(org).ok_or_else(|| format!("no Okta org named `{org}` is configured"))?;
        org.register_sandbox_hook(hook_url).await
    }

    /// The ids of the daemon's own Okta identity in every org (configured and detected).
    pub fn self_actor_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self.inner.orgs.iter().flat_map(|o| o.self_actor_ids()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// The loaded flow set (an immutable snapshot; reloads swap in a new one).
    pub fn flows(&self) -> Arc<FlowSet> {
        self.inner.flows_tx.borrow().clone()
    }

    /// Told each time a new flow set is swapped in.
    pub fn subscribe_reloads(&self) -> watch::Receiver<Arc<FlowSet>> {
        self.inner.flows_tx.subscribe()
    }

    /// Every run that ends, as it ends.
    /// The last run and the last day's counts of these flows (seeded from
    /// the store on the first call).
    pub async fn flow_stats(&self, flows: &[String]) -> Result<std::collections::HashMap<String, crate::flow_stats::FlowRunStats>, String> {
        self.inner.runner.flow_stats(flows).await
    }

    pub fn subscribe_finished(&self) -> broadcast::Receiver<Arc<RunRecord>> {
        self.inner.runner.subscribe_finished()
    }

    /// The signal every background task stops on.
    pub fn shutdown_signal(&self) -> Shutdown {
        self.inner.stop.subscribe()
    }

    pub fn is_shutting_down(&self) -> bool {
        self.inner.stop.is_triggered()
    }

    /// Flows are loaded and the dispatcher runs.
    pub fn is_ready(&self) -> bool {
        *self.inner.ready.borrow() && !self.is_shutting_down()
    }

    /// Until the engine is ready (or shutting down).
    pub async fn wait_ready(&self) {
        let mut rx = self.inner.ready.subscribe();
        let stop = self.shutdown_signal();
        tokio::select! {
            _ = rx.wait_for(|r| *r) => {}
            _ = stop.wait() => {}
        }
    }

    /// Whether a run of `flow` is queued or running.
    pub fn is_running(&self, flow: &str) -> bool {
        self.inner.runner.is_running(flow)
    }

    /// Runs waiting for a worker.
    pub fn queue_depth(&self) -> usize {
        self.inner.runner.queue_depth()
    }

    /// Runs executing now.
    pub fn runs_in_flight(&self) -> usize {
        self.inner.runner.runs_in_flight()
    }

    pub fn reload_status(&self) -> ReloadStatus {
        let set = self.flows();
        ReloadStatus {
            generation: set.generation,
            loaded_at: set.loaded_at,
            flows: set.len(),
            last_error: self.inner.last_reload_error.lock().unwrap_or_else(|p| p.into_inner()).clone(),
        }
    }

    // -- loading ------------------------------------------------------------

    /// Re-read the card registry and every flow file, validate them as one
    /// set, and swap it in. On any error the old set stays and the error is
    /// kept for `GET /api/v1/flows` (and logged, diagnostic by diagnostic).
    pub async fn reload(&self) -> Result<ReloadStatus, ReloadError> {
        let _one_at_a_time = self.inner.reload_lock.lock().await;
        self.reload_locked().await
    }

    /// [`Engine::reload`], unless the flow files are byte for byte those of
    /// the loaded set (and it loaded): the file watcher's reload, which an
    /// admin API write has already done.
    pub async fn reload_if_files_changed(&self) -> Result<ReloadStatus, ReloadError> {
        let _one_at_a_time = self.inner.reload_lock.lock().await;
        let loaded = self.inner.loaded_files.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if loaded.is_some() && self.inner.last_reload_error.lock().unwrap_or_else(|p| p.into_inner()).is_none() {
            let dir = self.inner.config.server.flows_dir.clone();
            let now = tokio::task::spawn_blocking(move || read_flow_files(&dir).ok().map(|f| crate::loader::files_digest(&f)))
                .await
                .ok()
                .flatten();
            if now.is_some() && now == loaded {
                tracing::debug!("flow files unchanged since the last load; not reloading");
                return Ok(self.reload_status());
            }
        }
        self.reload_locked().await
    }

    async fn reload_locked(&self) -> Result<ReloadStatus, ReloadError> {
        let (result, _) = self.load_set(None).await;
        match result {
            Ok((set, digest)) => {
                *self.inner.loaded_files.lock().unwrap_or_else(|p| p.into_inner()) = Some(digest);
                let n = set.len();
                let off = set.flows().filter(|f| !f.enabled).count();
                metrics::gauge!(m::FLOWS_BY_STATE, "state" => "on").set((n - off) as f64);
                metrics::gauge!(m::FLOWS_BY_STATE, "state" => "off").set(off as f64);
                for w in &set.warnings {
                    tracing::warn!(file = %w.file, line = w.span.start.line, message = %w.message, "flow warning");
                }
                self.inner.flows_tx.send_replace(Arc::new(set));
                *self.inner.last_reload_error.lock().unwrap_or_else(|p| p.into_inner()) = None;
                metrics::counter!(m::RELOADS, "result" => "ok").increment(1);
                metrics::gauge!(m::FLOWS_LOADED).set(n as f64);
                tracing::info!(flows = n, generation = self.flows().generation, "flows loaded");
                Ok(self.reload_status())
            }
            Err(e) => {
                metrics::counter!(m::RELOADS, "result" => "error").increment(1);
                for d in &e.diagnostics {
                    tracing::error!(file = %d.file, line = d.span.start.line, col = d.span.start.col, step = d.step.as_deref().unwrap_or(""), message = %d.message, "flow error; keeping the flows loaded before");
                }
                if e.diagnostics.is_empty() {
                    tracing::error!(error = %e.message, "cannot load the flows; keeping the flows loaded before");
                }
                *self.inner.last_reload_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.clone());
                Err(ReloadError(e))
            }
        }
    }

    /// Validate the flows directory with `draft` in place of the file of its
    /// path (or added, if there is none), exactly as a reload would, without
    /// loading anything: every diagnostic (errors and warnings), or the error
    /// that stopped the check before validation (the card registry cannot be
    /// read, a set-wide rule such as `[error_flow]` is broken).
    pub(crate) async fn check_flows_with(&self, draft: SourceFile) -> DraftCheck {
        let path = draft.path.clone();
        let (result, diagnostics) = self.load_set(Some(draft)).await;
        match result {
            Ok((set, _)) => {
                let flow = set.flows().find(|f| f.file == path).cloned();
                DraftCheck {
                    diagnostics,
                    flow,
                    set: Some(Arc::new(set)),
                    refused: None,
                }
            }
            Err(e) => DraftCheck {
                diagnostics,
                flow: None,
                set: None,
                refused: Some(e),
            },
        }
    }

    /// The set (and the digest of the files it was read from), and every
    /// diagnostic of the validation.
    async fn load_set(&self, draft: Option<SourceFile>) -> (Result<(FlowSet, String), LoadError>, Vec<lanyard_flow::Diagnostic>) {
        FlowSet::load(&self.inner.sources, &self.flows(), draft).await
    }

    /// One write to the flows directory at a time (`crate::flow_api`).
    pub(crate) async fn lock_flow_writes(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.flow_writes.lock().await
    }

    // -- runs ---------------------------------------------------------------

    /// Start a run of `flow` that does not come from an Okta event: a
    /// schedule fire, an API call, "run now", `lanyard run`. The run is in the
    /// store before this returns (durably, unless the caller waits for the run
    /// to end, in which case the run's end is made durable). With
    /// `opts.wait`, waits for the run to end (up to `opts.timeout`) and returns
    /// it in `outcome`.
    pub async fn start_run(&self, flow: &str, trigger: TriggerInfo, input: Value, opts: StartOptions) -> Result<RunStarted, StartError> {
        self.inner.runner.start(flow, trigger, input, opts).await
    }

    /// Stop a waiting or running run; it ends `cancelled`.
    pub async fn cancel_run(&self, id: &str) -> Result<CancelOutcome, CancelError> {
        self.inner.runner.cancel(id).await
    }

    /// Give a waiting run the signal it waits for; it goes on.
    pub async fn signal_run(&self, id: &str, signal: crate::runner::Signal) -> Result<(), crate::runner::SignalError> {
        self.inner.runner.signal(id, signal).await
    }

    /// The run `signal` would resume, as it is now (nothing changes).
    pub async fn check_signal(&self, id: &str, signal: &crate::runner::Signal) -> Result<RunRecord, crate::runner::SignalError> {
        self.inner.runner.check_signal(id, signal).await
    }

    /// The daemon's signal links: what runs make, and what `/signals/` reads.
    pub fn signal_links(&self) -> &Arc<SignalLinker> {
        &self.inner.links
    }

    /// Until the run has ended; its final record.
    pub async fn wait_for_run(&self, id: &str) -> Result<RunRecord, StoreError> {
        self.inner.runner.wait_for(id).await
    }

    /// Follow the store's health: once it has reopened after a failed write,
    /// pick up the runs and events the failure cut off. (`/metrics` reads the
    /// health itself at each scrape.)
    async fn watch_store(self) {
        let stop = self.shutdown_signal();
        let mut status = self.inner.store.subscribe();
        let mut epoch = status.borrow().epoch;
        loop {
            let now = status.borrow_and_update().clone();
            let writable = now.health == lanyard_store::StoreHealth::Writable;
            if writable && now.epoch != epoch {
                metrics::counter!(m::STORE_REOPENS).increment(now.epoch.saturating_sub(epoch));
                epoch = now.epoch;
                match self.inner.runner.adopt_unfinished().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(runs = n, "runs whose start the store's failure cut off are queued again"),
                    Err(e) => tracing::error!(error = %e, "cannot read the unfinished runs after the store reopened"),
                }
                if let Err(e) = self.inner.runner.watch_waiting().await {
                    tracing::error!(error = %e, "cannot read the waiting runs after the store reopened");
                }
                // Events whose dispatch was lost are back in the inbox.
                self.inner.intake.wake().notify_one();
            }
            tokio::select! {
                changed = status.changed() => if changed.is_err() { return },
                _ = stop.wait() => return,
            }
        }
    }

    async fn prune_loop(self) {
        let stop = self.shutdown_signal();
        let policy = self.inner.config.history.retention.clone();
        if policy.max_age.is_none() && policy.max_runs_per_flow.is_none() {
            return;
        }
        let every = self.inner.config.history.prune_every.max(Duration::from_secs(1));
        loop {
            match self.inner.store.prune(&policy).await {
                Ok(s) if s.runs > 0 => tracing::info!(runs = s.runs, steps = s.steps, "pruned old history"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "cannot prune old history"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.wait() => return,
            }
        }
    }

    /// Stop: refuse new events and runs, let runs in flight finish for up to
    /// `grace`, then leave the rest `running` in the store (they resume at the
    /// next start), wait for every background task and flush the store. A
    /// failed flush is logged; see [`Engine::shutdown_flushed`].
    pub async fn shutdown(&self, grace: Duration) {
        if let Err(e) = self.shutdown_flushed(grace).await {
            tracing::error!(error = %e, "cannot flush the store at shutdown");
        }
    }

    /// [`Engine::shutdown`], failing if the final flush of the store fails
    /// (what was written since the last flush may be lost; runs resume from
    /// their last durable step).
    pub async fn shutdown_flushed(&self, grace: Duration) -> Result<(), StoreError> {
        self.inner.intake.stop_accepting();
        self.inner.ready.send_replace(false);
        metrics::gauge!(m::READY).set(0.0);
        self.inner.stop.trigger();
        let deadline = tokio::time::Instant::now() + grace;
        while self.runs_in_flight() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let left = self.runs_in_flight();
        if left > 0 {
            tracing::info!(runs = left, "grace period over; runs in flight are checkpointed and resume at the next start");
        }
        self.inner.runner.stop_hard();
        let tasks: Vec<JoinHandle<()>> = std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for t in tasks {
            let _ = t.await;
        }
        self.inner.store.sync().await
    }
}

#[async_trait::async_trait]
impl crate::reload::Reload for Engine {
    async fn reload(&self) {
        let _ = Engine::reload(self).await;
    }

    async fn reload_if_files_changed(&self) {
        let _ = Engine::reload_if_files_changed(self).await;
    }
}

/// The store in `config.server.data_dir`, opened off the async threads.
async fn open_store(config: &Config, clock: Arc<dyn Clock>) -> Result<SharedStore, EngineError> {
    let dir = config.server.data_dir.clone();
    let opts = StoreOptions {
        clock,
        cache_capacity: config.server.store_cache,
        ..StoreOptions::default()
    };
    let store = tokio::task::spawn_blocking(move || lanyard_store::Store::open_with(dir, opts))
        .await
        .map_err(|e| EngineError::Other(format!("opening the store: {e}")))??;
    Ok(Arc::new(store))
}

/// What card calls may use, as `config` sets it up: HTTP (the connections,
/// scrubbed by `redactor`), mail, and `tables`. Okta is not here: it is per
/// org, and each card call gets its step's org's (`Invoker::okta`). The daemon
/// and `lanyard card run --config` both build theirs here, so a new capability
/// is wired once.
pub fn capabilities(
    config: &Config,
    tables: Arc<dyn lanyard_core::caps::TablesApi>,
    redactor: Option<Arc<Redactor>>,
    clock: Arc<dyn Clock>,
) -> Result<Capabilities, EngineError> {
    let mut http = lanyard_connect::HttpCapability::new(config.connections.clone(), config.http.clone())
        .map_err(|e| EngineError::Connections(e.to_string()))?;
    if let Some(redactor) = redactor {
        http = http.with_redactor(redactor).map_err(|e| EngineError::Connections(e.to_string()))?;
    }
    Ok(Capabilities {
        okta: None,
        http: Some(Arc::new(http)),
        tables: Some(tables),
        mail: config.mail.clone().map(|m| Arc::new(m) as Arc<dyn lanyard_core::caps::MailApi>),
        clock,
    })
}

/// What [`Engine::check_flows_with`] found.
#[derive(Debug)]
pub(crate) struct DraftCheck {
    /// Every diagnostic of the set, the draft's and the other files'.
    pub diagnostics: Vec<lanyard_flow::Diagnostic>,
    /// Why a reload with the draft would be refused (`None`: it would load).
    pub refused: Option<LoadError>,
    /// The draft's flow as it would load (none when refused).
    pub flow: Option<Arc<Flow>>,
    /// The whole set it would load in (the draft's helpers and cards).
    pub set: Option<Arc<FlowSet>>,
}

/// A reload was refused; the old flows stay.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .0.message)]
pub struct ReloadError(pub LoadError);
