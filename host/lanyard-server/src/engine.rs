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

use crate::breaker::Breaker;
use crate::cards::{load_builtins, CardSet, Invoker};
use crate::config::Config;
use crate::flows::{read_flow_file, read_flow_files, FlowSet, LoadError};
use crate::intake::Intake;
use crate::journal::{RunCards, StoreJournal};
use crate::metrics as m;
use crate::queue::{RunQueue, RunTask};
use crate::shutdown::{self, Shutdown, ShutdownTrigger};
use chrono::{DateTime, Utc};
use lanyard_core::history::{RunRecord, RunStatus, StepRecord, TriggerInfo};
use lanyard_core::okta::OktaApi;
use lanyard_core::{Clock, Redactor, SystemClock};
use lanyard_core::TokioSleeper;
use lanyard_flow::interp::{run_flow, Env, FlowLookup, RunLimits, RunStart};
use lanyard_flow::model::Flow;
use lanyard_flow::SourceFile;
use lanyard_runtime::{Capabilities, LoadedCard, Runtime, RuntimeConfig};
use lanyard_store::{SharedStore, StoreError, StoreOptions};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, oneshot, watch};
use tokio::task::JoinHandle;

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

/// How to start a run that is not from an Okta event (API, schedule, run-now,
/// `lanyard run`).
#[derive(Debug, Default)]
pub struct StartOptions {
    /// Record writes instead of doing them (Test Flow).
    pub dry_run: bool,
    /// Wait for the run to end (up to `timeout`, if set).
    pub wait: bool,
    pub timeout: Option<Duration>,
    /// Whom the run concerns; runs about one subject run one at a time.
    pub subject: Option<String>,
    /// Queue it even when the queue is full (schedules, internal runs).
    pub force: bool,
    /// Every step record also goes here as it is written.
    pub observer: Option<tokio::sync::mpsc::UnboundedSender<StepRecord>>,
    /// Run a helper flow (`trigger: flow`) directly, with `input` as its
    /// inputs (Test Flow does; the API does not).
    pub allow_helper: bool,
}

/// A run that was started.
#[derive(Debug, Clone)]
pub struct RunStarted {
    pub run_id: String,
    /// The finished run, when the caller waited and it ended in time.
    pub outcome: Option<RunRecord>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("no flow named `{0}` is loaded")]
    UnknownFlow(String),
    #[error("flow `{flow}` cannot be started this way: {why}")]
    NotRunnable { flow: String, why: String },
    #[error("flow `{flow}` was not started: {why}")]
    BadInput { flow: String, why: String },
    #[error("the run queue is full ({0} runs waiting); try again shortly")]
    Busy(usize),
    #[error("lanyard is shutting down")]
    ShuttingDown,
    #[error("cannot record the run: {0}")]
    Store(#[from] StoreError),
}

/// What cancelling a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelOutcome {
    /// It was waiting and will not run.
    Dequeued,
    /// It was running and has been stopped.
    Stopped,
}

#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("run `{0}` not found")]
    NotFound(String),
    #[error("run `{0}` has already ended ({1})")]
    Finished(String, RunStatus),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The last reload, as `GET /api/v1/flows` shows it.
#[derive(Debug, Clone, Serialize)]
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
    caps: Capabilities,
    /// Every configured secret; see `crate::journal`.
    redactor: Arc<Redactor>,
    /// The Okta orgs, by name (`crate::orgs`).
    orgs: crate::orgs::Orgs,
    builtins: tokio::sync::OnceCell<Arc<Vec<Arc<LoadedCard>>>>,
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
    extra_flow: Option<PathBuf>,
    pub(crate) intake: Intake,
    pub(crate) queue: RunQueue,
    pub(crate) breaker: Breaker,
    ready: watch::Sender<bool>,
    /// Stop taking new work (dispatcher, schedules, poller, workers between runs).
    stop: ShutdownTrigger,
    /// Drop runs in flight (after the grace period); they stay `running`.
    hard_stop: ShutdownTrigger,
    running: Mutex<HashMap<String, oneshot::Sender<()>>>,
    /// The runs queued or running here, by id: a run is queued once.
    owned: Mutex<HashSet<String>>,
    active_by_flow: Mutex<HashMap<String, usize>>,
    in_flight: AtomicUsize,
    order: AtomicU64,
    finished_tx: broadcast::Sender<Arc<RunRecord>>,
    /// Each flow's last run and last day's counts (the Flows page).
    flow_stats: crate::flow_stats::FlowStats,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    handle_sighup: bool,
}

impl Engine {
    /// Open the store, start the runtime and the Okta org. Fast: cards and
    /// flows load in [`Engine::start`]. Intake works from here on.
    pub async fn new(options: EngineOptions) -> Result<Engine, EngineError> {
        m::install();
        let config = options.config.clone();
        let store = match options.store {
            Some(s) => s,
            None => {
                let dir = config.server.data_dir.clone();
                let opts = StoreOptions {
                    clock: options.clock.clone(),
                    cache_capacity: config.server.store_cache,
                    ..StoreOptions::default()
                };
                let store = tokio::task::spawn_blocking(move || lanyard_store::Store::open_with(dir, opts))
                    .await
                    .map_err(|e| EngineError::Other(format!("opening the store: {e}")))??;
                Arc::new(store)
            }
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
        let http = lanyard_connect::HttpCapability::new(config.connections.clone(), config.http.clone())
            .and_then(|http| http.with_redactor(redactor.clone()))
            .map_err(|e| EngineError::Connections(e.to_string()))?;
        orgs.scrub_with(&redactor);
        let caps = Capabilities {
            // Per org: each card call gets its step's org's (`Invoker::okta`).
            okta: None,
            http: Some(Arc::new(http)),
            tables: Some(store.clone() as Arc<dyn lanyard_core::caps::TablesApi>),
            mail: config.mail.clone().map(|m| Arc::new(m) as Arc<dyn lanyard_core::caps::MailApi>),
            clock: options.clock.clone(),
        };
        let empty = Arc::new(Invoker {
            cards: Arc::new(CardSet::default()),
            runtime: runtime.clone(),
            caps: caps.clone(),
            okta: orgs.capabilities(),
            store: store.clone(),
        });
        let (flows_tx, _) = watch::channel(Arc::new(FlowSet::empty(empty)));
        let (ready, _) = watch::channel(false);
        let (finished_tx, _) = broadcast::channel(1024);
        let (stop, _) = shutdown::channel();
        let (hard_stop, _) = shutdown::channel();
        let inner = Inner {
            mode: options.mode,
            intake: Intake::new(store.clone(), redactor.clone()),
            queue: RunQueue::new(config.workers.queue),
            breaker: Breaker::new(config.loop_protection.window, config.loop_protection.max_runs),
            config,
            store,
            runtime,
            clock: options.clock,
            caps,
            redactor,
            orgs,
            builtins: tokio::sync::OnceCell::new(),
            flows_tx,
            reload_lock: tokio::sync::Mutex::new(()),
            last_reload_error: Mutex::new(None),
            loaded_files: Mutex::new(None),
            flow_writes: tokio::sync::Mutex::new(()),
            extra_flow: options.extra_flow,
            ready,
            stop,
            hard_stop,
            running: Mutex::new(HashMap::new()),
            owned: Mutex::new(HashSet::new()),
            active_by_flow: Mutex::new(HashMap::new()),
            in_flight: AtomicUsize::new(0),
            order: AtomicU64::new(0),
            finished_tx,
            flow_stats: Default::default(),
            tasks: Mutex::new(Vec::new()),
            handle_sighup: options.handle_sighup,
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
                let engine = self.clone();
                self.spawn(async move { crate::reload::watch_flows(engine).await });
            }
            if self.inner.handle_sighup {
                let engine = self.clone();
                self.spawn(async move { crate::reload::on_sighup(engine).await });
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
            let engine = self.clone();
            self.spawn(async move { engine.worker().await });
        }
        if self.inner.mode == Mode::Daemon {
            match self.adopt_unfinished().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(runs = n, "resuming runs that were unfinished at the last stop"),
                Err(e) => tracing::error!(error = %e, "cannot recover unfinished runs; they are queued once the store can be read"),
            }
            let engine = self.clone();
            self.spawn(async move { crate::dispatch::run(engine).await });
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
        let engine = self.clone();
        self.spawn(async move { crate::poller::run(engine).await });
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
        let Some(running) = org.sandbox() else {
            return Err(format!("the Okta org `{}` is not an embedded sandbox org (sandbox = true)", org.name()));
        };
        let Some(secret) = org.hook_secret() else {
            return Err(format!("set a hook secret for the Okta org `{}` so the sandbox can authenticate its deliveries", org.name()));
        };
        let cfg = lanyard_okta::OktaConfig::new(&running.base_url, lanyard_okta::Auth::Ssws(running.org.admin_token().to_string()))
            .map_err(|e| e.to_string())?;
        let admin = lanyard_okta::OktaClient::new(cfg).map_err(|e| e.to_string())?;
        let spec = lanyard_okta::EventHookSpec {
            name: "lanyard".into(),
            uri: hook_url.to_string(),
            authorization: Some(secret.expose().to_string()),
            headers: Vec::new(),
            event_types: lanyard_core::event::hook_event_types().iter().cloned().collect(),
        };
        let hook = admin.create_event_hook(&spec).await.map_err(|e| format!("cannot register the event hook: {e}"))?;
        admin
            .verify_event_hook(&hook.id)
            .await
            .map_err(|e| format!("the sandbox could not verify the event hook at {hook_url}: {e}"))?;
        tracing::info!(org = %org.name(), hook = %hook.id, url = %hook_url, "sandbox org delivers its events to this daemon");
        Ok(hook.id)
    }

    /// The ids of the daemon's own Okta identity in every org (configured and detected).
    pub fn self_actor_ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self.inner.orgs.iter().flat_map(|o| o.self_actor_ids()).collect();
        v.sort();
        v.dedup();
        v
    }

    pub(crate) fn inner_queue(&self) -> &RunQueue {
        &self.inner.queue
    }

    pub(crate) fn inner_breaker(&self) -> &Breaker {
        &self.inner.breaker
    }

    /// Whether `id` is the daemon's own identity in `org`.
    pub(crate) fn is_self_actor(&self, org: &str, id: &str) -> bool {
        self.inner.orgs.get(org).is_some_and(|o| o.is_self_actor(id))
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
        self.inner.flow_stats.of(&self.inner.store, flows, self.inner.clock.now()).await
    }

    pub fn subscribe_finished(&self) -> broadcast::Receiver<Arc<RunRecord>> {
        self.inner.finished_tx.subscribe()
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
        self.inner
            .active_by_flow
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(flow)
            .is_some_and(|n| *n > 0)
    }

    /// Runs waiting for a worker.
    pub fn queue_depth(&self) -> usize {
        self.inner.queue.len()
    }

    /// Runs executing now.
    pub fn runs_in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::Relaxed)
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

    async fn builtins(&self) -> Arc<Vec<Arc<LoadedCard>>> {
        self.inner
            .builtins
            .get_or_init(|| async {
                let rt = self.inner.runtime.clone();
                let started = std::time::Instant::now();
                let (cards, errors) = tokio::task::spawn_blocking(move || load_builtins(&rt))
                    .await
                    .unwrap_or_else(|e| (Vec::new(), vec![format!("loading the built-in cards failed: {e}")]));
                for e in &errors {
                    tracing::error!(error = %e, "a built-in card does not load");
                }
                let stats = self.inner.runtime.stats();
                tracing::info!(
                    cards = cards.len(),
                    compiled = stats.compiled,
                    from_cache = stats.cache_hits,
                    ms = started.elapsed().as_millis() as u64,
                    "built-in cards loaded"
                );
                Arc::new(cards)
            })
            .await
            .clone()
    }

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
            let now = tokio::task::spawn_blocking(move || read_flow_files(&dir).ok().map(|f| files_digest(&f)))
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

    /// One write to the flows directory at a time (`crate::flow_api`).
    pub(crate) async fn lock_flow_writes(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.inner.flow_writes.lock().await
    }

    /// The set (and the digest of the files it was read from), and every
    /// diagnostic of the validation.
    async fn load_set(&self, draft: Option<SourceFile>) -> (Result<(FlowSet, String), LoadError>, Vec<lanyard_flow::Diagnostic>) {
        let mut all = Vec::new();
        let result = self.load_set_inner(draft, &mut all).await;
        (result, all)
    }

    async fn load_set_inner(&self, draft: Option<SourceFile>, all: &mut Vec<lanyard_flow::Diagnostic>) -> Result<(FlowSet, String), LoadError> {
        let now = self.inner.clock.now();
        let fail = |message: String| LoadError {
            at: now,
            rendered: message.clone(),
            message,
            diagnostics: Vec::new(),
        };
        let builtins = self.builtins().await;
        let registry = self
            .inner
            .store
            .list_cards()
            .await
            .map_err(|e| fail(format!("cannot read the card registry: {e}")))?;
        // Cards marked broken stay broken across reloads (`crate::cards`).
        let health = self.flows().cards().health().clone();
        let cards = Arc::new(
            CardSet::build(&builtins, registry, &self.inner.config.card_grants)
                .with_health(health)
                .with_okta_orgs(self.inner.orgs.names()),
        );
        let dir = self.inner.config.server.flows_dir.clone();
        let extra = self.inner.extra_flow.clone();
        let mode = self.inner.mode;
        let files = tokio::task::spawn_blocking(move || -> Result<Vec<SourceFile>, String> {
            let mut files = if dir.is_dir() {
                read_flow_files(&dir)?
            } else if mode == Mode::OneShot {
                Vec::new()
            } else {
                return Err(format!("the flows directory {} does not exist", dir.display()));
            };
            if let Some(p) = extra {
                let canonical = std::fs::canonicalize(&p).ok();
                files.retain(|f| std::fs::canonicalize(&f.path).ok() != canonical || canonical.is_none());
                files.push(read_flow_file(&p)?);
            }
            if let Some(d) = draft {
                // In its place in path order, as it will be once written.
                match files.iter().position(|f| f.path == d.path) {
                    Some(i) => files[i] = d,
                    None => {
                        files.push(d);
                        files.sort_by(|a, b| std::path::Path::new(&a.path).cmp(std::path::Path::new(&b.path)));
                    }
                }
            }
            Ok(files)
        })
        .await
        .map_err(|e| fail(format!("reading the flows failed: {e}")))?
        .map_err(fail)?;

        let files = match (&self.inner.extra_flow, mode) {
            // `lanyard run path.yaml`: that file wins over a flow of the same name.
            (Some(_), _) => prefer_last_by_name(files, cards.as_ref()),
            _ => files,
        };
        let validation = lanyard_flow::validate(&files, cards.as_ref());
        all.extend(validation.diagnostics.iter().cloned());
        let digest = files_digest(&files);
        let (errors, warnings): (Vec<_>, Vec<_>) = validation.diagnostics.iter().cloned().partition(|d| d.is_error());
        if !errors.is_empty() && mode == Mode::Daemon {
            let rendered = lanyard_flow::diag::render_all(&errors, |name| files.iter().find(|f| f.path == name).map(|f| f.text.as_str()));
            return Err(LoadError {
                at: now,
                message: format!(
                    "{} error{} in the flows; the flows loaded before stay in use",
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" }
                ),
                diagnostics: errors,
                rendered,
            });
        }
        let mut warnings = warnings;
        if mode == Mode::OneShot {
            // Broken flows the run does not need are reported, not fatal.
            warnings.extend(errors);
        }
        let flows = validation.flows;
        if let (Some(name), Mode::Daemon) = (&self.inner.config.error_flow, mode) {
            match flows.iter().find(|f| &f.name == name) {
                None => return Err(fail(format!("[error_flow] names `{name}`, but no such flow is loaded"))),
                Some(f) => {
                    if let lanyard_flow::model::Trigger::Flow(h) = &f.trigger {
                        if !h.inputs.is_empty() && !h.inputs.iter().any(|i| i.name == "run") {
                            return Err(fail(format!(
                                "the error flow `{name}` must take an input named `run` (the failed run's summary)"
                            )));
                        }
                    }
                }
            }
        }
        let invoker = Arc::new(Invoker {
            cards,
            runtime: self.inner.runtime.clone(),
            caps: self.inner.caps.clone(),
            okta: self.inner.orgs.capabilities(),
            store: self.inner.store.clone(),
        });
        let generation = self.flows().generation + 1;
        Ok((FlowSet::new(flows, invoker, generation, now, warnings), digest))
    }

    // -- runs ---------------------------------------------------------------

    pub(crate) fn next_order(&self) -> u64 {
        self.inner.order.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn track(&self, flow: &str, delta: isize) {
        let mut map = self.inner.active_by_flow.lock().unwrap_or_else(|p| p.into_inner());
        match map.get_mut(flow) {
            Some(n) => {
                *n = n.saturating_add_signed(delta);
                if *n == 0 {
                    map.remove(flow);
                }
            }
            None if delta > 0 => {
                map.insert(flow.to_string(), delta as usize);
            }
            None => {}
        }
    }

    /// Put a run that is already in the store into the queue, unless it is
    /// queued or running here already (runs found unfinished after the store
    /// reopened may be). Returns whether it was queued.
    pub(crate) fn enqueue(&self, task: RunTask) -> bool {
        if !self.inner.owned.lock().unwrap_or_else(|p| p.into_inner()).insert(task.run.id.clone()) {
            tracing::debug!(run = %task.run.id, "the run is already queued or running");
            return false;
        }
        self.track(&task.run.flow, 1);
        self.inner.queue.push(task);
        metrics::gauge!(m::QUEUE_DEPTH).set(self.inner.queue.len() as f64);
        true
    }

    fn disown(&self, id: &str) {
        self.inner.owned.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }

    /// Start a run of `flow` that does not come from an Okta event: a
    /// schedule fire, an API call, "run now", `lanyard run`. The run is in the
    /// store before this returns (durably, unless the caller waits for the run
    /// to end, in which case the run's end is made durable). With
    /// `opts.wait`, waits for the run to end (up to `opts.timeout`) and returns
    /// it in `outcome`.
    pub async fn start_run(&self, flow: &str, trigger: TriggerInfo, input: Value, opts: StartOptions) -> Result<RunStarted, StartError> {
        let allow_helper = opts.allow_helper;
        self.start_run_inner(flow, trigger, input, opts, allow_helper).await
    }

    async fn start_run_inner(
        &self,
        flow: &str,
        trigger: TriggerInfo,
        input: Value,
        opts: StartOptions,
        allow_helper: bool,
    ) -> Result<RunStarted, StartError> {
        if self.is_shutting_down() {
            return Err(StartError::ShuttingDown);
        }
        let snapshot = self.flows();
        let f = snapshot.get(flow).cloned().ok_or_else(|| StartError::UnknownFlow(flow.to_string()))?;
        if f.is_helper() && !allow_helper {
            return Err(StartError::NotRunnable {
                flow: flow.to_string(),
                why: "it is a helper flow (`trigger: flow`); it runs when another flow calls it".into(),
            });
        }
        // A manual flow's typed inputs are checked before a run exists, so a
        // wrong form is answered at once and leaves no failed run behind.
        let input = match &f.trigger {
            lanyard_flow::model::Trigger::Manual(h) if !h.inputs.is_empty() => lanyard_flow::interp::prepare_inputs(h, input)
                .map_err(|why| StartError::BadInput { flow: flow.to_string(), why })?,
            _ => input,
        };
        if !opts.force && !self.inner.queue.has_room() {
            return Err(StartError::Busy(self.inner.queue.len()));
        }
        let now = self.inner.clock.now();
        let mut input = input;
        crate::journal::scrub_run_input(&self.inner.redactor, &mut input);
        let run = RunRecord {
            id: lanyard_store::new_run_id(now),
            flow: f.name.clone(),
            flow_digest: f.digest.clone(),
            trigger,
            input,
            status: RunStatus::Queued,
            created: now,
            started: None,
            ended: None,
            output: None,
            error: None,
            reason: None,
            subject: opts.subject.clone(),
            dry_run: opts.dry_run,
        };
        let epoch = self.inner.store.epoch();
        self.inner.store.create_run(&run).await?;
        if !opts.wait {
            // The run id is the caller's receipt: the run must survive a crash,
            // and a store reopened meanwhile may have dropped it.
            self.inner.store.sync().await?;
            if self.inner.store.epoch() != epoch {
                return Err(StoreError::Flush("the store was reopened after a failed write before the run was on disk".into()).into());
            }
        }
        let run_id = run.id.clone();
        let (done, rx) = if opts.wait {
            let (tx, rx) = oneshot::channel();
            (Some(tx), Some(rx))
        } else {
            (None, None)
        };
        self.enqueue(RunTask {
            run,
            flow: Some((f, snapshot)),
            resume: false,
            published: now,
            order: self.next_order(),
            done,
            observer: opts.observer,
        });
        let mut outcome = None;
        if let Some(rx) = rx {
            let finished = match opts.timeout {
                Some(t) => tokio::time::timeout(t, rx).await.ok().and_then(Result::ok),
                None => rx.await.ok(),
            };
            match finished {
                Some(r) => outcome = Some(r),
                // Still going (or checkpointed at shutdown): hand out its id,
                // so it must be durable now.
                None => self.inner.store.sync().await?,
            }
        }
        Ok(RunStarted { run_id, outcome })
    }

    /// Stop a waiting or running run; it ends `cancelled`.
    pub async fn cancel_run(&self, id: &str) -> Result<CancelOutcome, CancelError> {
        let run = self
            .inner
            .store
            .get_run(id)
            .await
            .map_err(|e| match e {
                StoreError::Invalid(_) => CancelError::NotFound(id.to_string()),
                other => CancelError::Store(other),
            })?
            .ok_or_else(|| CancelError::NotFound(id.to_string()))?;
        if run.status.is_final() {
            return Err(CancelError::Finished(id.to_string(), run.status));
        }
        if let Some(task) = self.inner.queue.remove(id) {
            let now = self.inner.clock.now();
            self.inner
                .store
                .finish_run(
                    id,
                    lanyard_store::RunOutcome {
                        status: RunStatus::Cancelled,
                        output: None,
                        error: None,
                        reason: Some("cancelled by an operator before it started".into()),
                    },
                    now,
                )
                .await?;
            self.inner.store.sync().await?;
            self.track(&task.run.flow, -1);
            self.disown(id);
            self.inner.queue.done(task.run.subject.as_deref());
            if let Ok(Some(r)) = self.inner.store.get_run(id).await {
                let r = Arc::new(r);
                if let Some(tx) = task.done {
                    let _ = tx.send((*r).clone());
                }
                self.inner.flow_stats.ended(&r);
                let _ = self.inner.finished_tx.send(r);
            }
            return Ok(CancelOutcome::Dequeued);
        }
        let tx = self.inner.running.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
        match tx {
            Some(tx) => {
                let _ = tx.send(());
                Ok(CancelOutcome::Stopped)
            }
            // Between the queue and a worker, or owned by another process.
            None => Err(CancelError::NotFound(format!("{id} (not queued or running in this daemon)"))),
        }
    }

    /// Until the run has ended; its final record.
    pub async fn wait_for_run(&self, id: &str) -> Result<RunRecord, StoreError> {
        let mut rx = self.subscribe_finished();
        loop {
            if let Some(r) = self.inner.store.get_run(id).await? {
                if r.status.is_final() {
                    return Ok(r);
                }
            }
            match rx.recv().await {
                Ok(r) if r.id == id => return Ok((*r).clone()),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => {
                    return Err(StoreError::Task("the engine stopped".into()));
                }
            }
        }
    }

    async fn worker(self) {
        let stop = self.shutdown_signal();
        while let Some(task) = self.inner.queue.next(&stop).await {
            metrics::gauge!(m::QUEUE_DEPTH).set(self.inner.queue.len() as f64);
            self.execute(task).await;
        }
    }

    async fn execute(&self, task: RunTask) {
        let subject = task.run.subject.clone();
        let id = task.run.id.clone();
        let flow_name = task.run.flow.clone();
        let n = self.inner.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        metrics::gauge!(m::RUNS_IN_FLIGHT).set(n as f64);
        let (cancel_tx, cancel_rx) = oneshot::channel();
        self.inner.running.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), cancel_tx);
        let hard = self.inner.hard_stop.subscribe();
        tokio::select! {
            _ = self.run_until_ended(task, cancel_rx) => {}
            _ = hard.wait() => {
                tracing::info!(run = %id, flow = %flow_name, "run checkpointed at shutdown; it resumes after its last completed step at the next start");
            }
        }
        self.inner.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        self.disown(&id);
        let n = self.inner.in_flight.fetch_sub(1, Ordering::Relaxed) - 1;
        metrics::gauge!(m::RUNS_IN_FLIGHT).set(n as f64);
        self.track(&flow_name, -1);
        self.inner.queue.done(subject.as_deref());
    }

    /// Run a task to its end. When the store fails under it, wait until the
    /// store writes again and resume it from its journal (see the module docs).
    async fn run_until_ended(&self, task: RunTask, mut cancel: oneshot::Receiver<()>) {
        let RunTask {
            run,
            flow,
            resume,
            mut done,
            observer,
            ..
        } = task;
        let (id, flow_name) = (run.id.clone(), run.flow.clone());
        // Kept to write the run again if its record did not reach the disk:
        // only a run started with `wait` is not flushed before it runs (the
        // others are known durable), so only it pays for the copy.
        let unflushed = done.is_some().then(|| run.clone());
        let mut attempt = Attempt { run, flow, resume };
        let mut retries = 0u32;
        loop {
            let why = match self.run_attempt(attempt, &mut cancel, &mut done, observer.clone()).await {
                Ran::Ended => return,
                Ran::Interrupted(why) => why,
            };
            tracing::warn!(run = %id, flow = %flow_name, error = %why, "the store cannot write; the run waits and resumes from its last durable step once it can");
            loop {
                // Noticing a failed write takes a look at the store.
                let _ = self.inner.store.health();
                lanyard_store::wait_writable(&*self.inner.store).await;
                // Bounded, for a failure the store does not see as its own.
                tokio::time::sleep(Duration::from_millis(50u64 << retries.min(7))).await;
                retries += 1;
                match self.resumable(&id, unflushed.as_ref(), &mut done).await {
                    Ok(Some(next)) => {
                        attempt = next;
                        break;
                    }
                    Ok(None) => return,
                    Err(e) => tracing::warn!(run = %id, error = %e, "cannot read the interrupted run yet; retrying"),
                }
            }
        }
    }

    /// What to run after the store failed under run `id`: the run as the
    /// store has it now, resumed from its journal. `None` if it has ended
    /// (its end reached the disk before the failure): then it is reported.
    /// `unflushed` is the run as it started, if it may never have reached the
    /// disk.
    async fn resumable(
        &self,
        id: &str,
        unflushed: Option<&RunRecord>,
        done: &mut Option<oneshot::Sender<RunRecord>>,
    ) -> Result<Option<Attempt>, StoreError> {
        let store = &self.inner.store;
        match store.get_run(id).await? {
            Some(run) if run.status.is_final() => {
                self.finished(run, done.take()).await;
                Ok(None)
            }
            Some(run) => Ok(Some(Attempt { run, flow: None, resume: true })),
            None => match unflushed {
                Some(run) => {
                    store.create_run(run).await?;
                    Ok(Some(Attempt {
                        run: run.clone(),
                        flow: None,
                        resume: true,
                    }))
                }
                None => {
                    tracing::error!(run = %id, "the interrupted run is not in the store; it cannot resume");
                    Ok(None)
                }
            },
        }
    }

    async fn run_attempt(
        &self,
        attempt: Attempt,
        cancel: &mut oneshot::Receiver<()>,
        done: &mut Option<oneshot::Sender<RunRecord>>,
        observer: Option<tokio::sync::mpsc::UnboundedSender<StepRecord>>,
    ) -> Ran {
        let Attempt { mut run, flow, resume } = attempt;
        let store = &self.inner.store;
        let (flow, snapshot) = match flow {
            Some(x) => x,
            None => match self.flow_for_recovered(&mut run, resume).await {
                Ok(x) => x,
                Err(why) => {
                    self.end_without_running(run, RunStatus::Failed, why, done.take()).await;
                    return Ran::Ended;
                }
            },
        };
        let started = self.inner.clock.now();
        if run.status != RunStatus::Running {
            if let Err(e) = store.set_status(&run.id, RunStatus::Running, started).await {
                if e.is_unavailable() {
                    return Ran::Interrupted(e.to_string());
                }
                tracing::error!(run = %run.id, error = %e, "cannot mark the run running; it stays queued and is retried at the next start");
                return Ran::Ended;
            }
            run.status = RunStatus::Running;
        }
        run.started.get_or_insert(started);
        let journal = if resume {
            match StoreJournal::resume(store.clone(), &run.id, self.inner.redactor.clone()).await {
                Ok(j) => j,
                Err(e) if e.is_unavailable() => return Ran::Interrupted(e.to_string()),
                Err(e) => {
                    tracing::error!(run = %run.id, error = %e, "cannot read the run's journal; it is retried at the next start");
                    return Ran::Ended;
                }
            }
        } else {
            StoreJournal::new(store.clone(), self.inner.redactor.clone())
        };
        let journal = Arc::new(match observer {
            Some(tx) => journal.with_observer(tx),
            None => journal,
        });
        if resume && journal.recorded_before() > 0 {
            tracing::info!(run = %run.id, flow = %flow.name, steps = journal.recorded_before(), "resuming after the last completed step");
        }
        let env = Env {
            cards: Arc::new(RunCards {
                invoker: snapshot.invoker.clone(),
                journal: journal.clone(),
            }),
            journal: journal.clone(),
            clock: self.inner.clock.clone(),
            flows: snapshot.clone() as Arc<dyn FlowLookup>,
            sleeper: Arc::new(TokioSleeper),
            limits: RunLimits::default(),
        };
        let start = RunStart {
            run_id: run.id.clone(),
            input: std::mem::take(&mut run.input),
            dry_run: run.dry_run,
            resume,
        };
        let span = tracing::info_span!("run", run = %run.id, flow = %flow.name);
        let outcome = {
            use tracing::Instrument;
            tokio::select! {
                o = run_flow(&flow, start, &env).instrument(span) => Some(o),
                Ok(()) = &mut *cancel => None,
                // Stopped where it is: what it recorded may not be on disk.
                () = journal.interrupted() => return Ran::Interrupted("a step record did not reach the disk".into()),
            }
        };
        if journal.is_interrupted() {
            // The flow saw the failure (a step it could not record, a card not
            // called): its outcome is not the run's.
            return Ran::Interrupted("a step record did not reach the disk".into());
        }
        let outcome = match outcome {
            Some(mut o) => {
                crate::journal::scrub_outcome(&self.inner.redactor, &mut o);
                o.apply_to(&mut run);
                if let Some(e2) = &o.on_failure_error {
                    tracing::warn!(run = %run.id, flow = %flow.name, error = ?e2.message, "the flow's on_failure steps failed too");
                }
                lanyard_store::RunOutcome {
                    status: o.status,
                    output: o.output,
                    error: o.error,
                    reason: o.reason,
                }
            }
            None => {
                run.status = RunStatus::Cancelled;
                run.reason = Some("cancelled by an operator while it ran".into());
                run.ended = Some(self.inner.clock.now());
                lanyard_store::RunOutcome {
                    status: RunStatus::Cancelled,
                    output: None,
                    error: None,
                    reason: run.reason.clone(),
                }
            }
        };
        let ended = run.ended.unwrap_or_else(|| self.inner.clock.now());
        let epoch = store.epoch();
        if let Err(e) = store.finish_run(&run.id, outcome, ended).await {
            if e.is_unavailable() {
                return Ran::Interrupted(e.to_string());
            }
            tracing::error!(run = %run.id, error = %e, "cannot record the end of the run");
        }
        match store.sync().await {
            Err(e) if e.is_unavailable() => return Ran::Interrupted(e.to_string()),
            Err(e) => tracing::error!(run = %run.id, error = %e, "cannot flush the run's history"),
            Ok(()) if store.epoch() != epoch => return Ran::Interrupted("the store was reopened before the end of the run was flushed".into()),
            Ok(()) => {}
        }
        self.finished(run, done.take()).await;
        Ran::Ended
    }

    /// The flow of a run recovered from the store: the loaded version, if it
    /// is the one the run started with (or the run had done nothing yet).
    async fn flow_for_recovered(&self, run: &mut RunRecord, resume: bool) -> Result<(Arc<Flow>, Arc<FlowSet>), String> {
        let snapshot = self.flows();
        let Some(f) = snapshot.get(&run.flow).cloned() else {
            return Err(format!("flow `{}` is no longer loaded, so the interrupted run cannot resume", run.flow));
        };
        if f.digest != run.flow_digest {
            let done = if resume { self.inner.store.steps(&run.id).await.map(|s| s.len()).unwrap_or(1) } else { 0 };
            if done > 0 {
                return Err(format!(
                    "flow `{}` changed while this run was interrupted after {done} step(s); it was not resumed with a different version (run it again)",
                    run.flow
                ));
            }
            run.flow_digest = f.digest.clone();
            let mut head = run.clone();
            head.input = Value::Null;
            if let Err(e) = self.inner.store.update_run(&head).await {
                tracing::warn!(run = %run.id, error = %e, "cannot record the new flow version of a recovered run");
            }
        }
        Ok((f, snapshot))
    }

    /// End a run that never started (suppressed, unresumable).
    async fn end_without_running(&self, mut run: RunRecord, status: RunStatus, reason: String, done: Option<oneshot::Sender<RunRecord>>) {
        let now = self.inner.clock.now();
        tracing::warn!(run = %run.id, flow = %run.flow, %status, %reason, "run ended without running");
        let outcome = lanyard_store::RunOutcome {
            status,
            output: None,
            error: (status == RunStatus::Failed).then(|| lanyard_core::history::ErrorInfo {
                kind: lanyard_core::ErrorKind::Failed,
                message: reason.clone(),
                step: None,
                card: None,
                retryable: false,
                detail: None,
            }),
            reason: Some(reason),
        };
        run.status = status;
        run.error = outcome.error.clone();
        run.reason = outcome.reason.clone();
        run.ended = Some(now);
        if let Err(e) = self.inner.store.finish_run(&run.id, outcome, now).await {
            tracing::error!(run = %run.id, error = %e, "cannot record the end of the run");
        }
        let _ = self.inner.store.sync().await;
        self.finished(run, done).await;
    }

    async fn finished(&self, run: RunRecord, done: Option<oneshot::Sender<RunRecord>>) {
        // A flow that keeps no step data: its steps' inputs and outputs go
        // now, before anyone is told the run ended.
        if self.flows().get(&run.flow).is_some_and(|f| !f.keep_step_data) {
            match self.inner.store.withhold_step_data(&run.id).await {
                Ok(_) => {
                    let _ = self.inner.store.sync().await;
                }
                Err(e) => tracing::error!(run = %run.id, error = %e, "cannot drop the step data of a flow that keeps none"),
            }
        }
        let status = run.status;
        metrics::counter!(m::RUNS_FINISHED, "flow" => run.flow.clone(), "status" => status.as_str()).increment(1);
        if let (Some(s), Some(e)) = (run.started, run.ended) {
            let secs = (e - s).num_microseconds().unwrap_or(0).max(0) as f64 / 1e6;
            metrics::histogram!(m::RUN_SECONDS, "flow" => run.flow.clone()).record(secs);
        }
        if status == RunStatus::Failed {
            let e = run.error.as_ref();
            tracing::warn!(
                run = %run.id,
                flow = %run.flow,
                kind = %e.map(|e| e.kind.as_str()).unwrap_or(""),
                step = %e.and_then(|e| e.step.as_deref()).unwrap_or(""),
                // `?`: a card's own message, escaped (a newline in it must not forge a line).
                error = ?e.map(|e| e.message.as_str()).unwrap_or(""),
                "run failed"
            );
            self.tell_error_flow(&run, None);
        } else {
            tracing::debug!(run = %run.id, flow = %run.flow, %status, "run ended");
        }
        let run = Arc::new(run);
        if let Some(tx) = done {
            let _ = tx.send((*run).clone());
        }
        self.inner.flow_stats.ended(&run);
        let _ = self.inner.finished_tx.send(run);
    }

    /// Start the global error flow (`[error_flow] name`) for a failed or
    /// suppressed run, with the run's summary as input: `{ "run": { id, flow,
    /// status, trigger, subject, error, reason, created, started, ended } }`.
    /// Never for a run of the error flow itself (no recursion).
    pub(crate) fn tell_error_flow(&self, run: &RunRecord, note: Option<String>) {
        let Some(name) = self.inner.config.error_flow.clone() else { return };
        if run.flow == name {
            tracing::error!(run = %run.id, "the error flow itself failed; it is not told of its own failure");
            return;
        }
        let input = json!({
            "run": {
                "id": run.id,
                "flow": run.flow,
                "status": run.status,
                "trigger": run.trigger,
                "subject": run.subject,
                "error": run.error,
                "reason": run.reason,
                "note": note,
                "created": run.created,
                "started": run.started,
                "ended": run.ended,
            }
        });
        let engine = self.clone();
        let parent = run.id.clone();
        tokio::spawn(async move {
            let trigger = TriggerInfo::Flow {
                parent_run: parent.clone(),
                parent_step: TriggerInfo::ERROR_FLOW_STEP.into(),
            };
            let opts = StartOptions {
                force: true,
                ..StartOptions::default()
            };
            if let Err(e) = engine.start_run_inner(&name, trigger, input, opts, true).await {
                tracing::error!(run = %parent, error_flow = %name, error = %e, "cannot start the error flow");
            }
        });
    }

    /// Queue every unfinished run in the store that is not queued or running
    /// here: at start (crash recovery), and after the store reopened (runs
    /// whose start the failure cut off). Returns how many.
    async fn adopt_unfinished(&self) -> Result<usize, StoreError> {
        let mut adopted = 0;
        for run in self.inner.store.unfinished_runs().await? {
            if self.inner.owned.lock().unwrap_or_else(|p| p.into_inner()).contains(&run.id) {
                continue;
            }
            // Read again: it may have ended since the list was read.
            let Some(run) = self.inner.store.get_run(&run.id).await? else { continue };
            if run.status.is_final() {
                continue;
            }
            let published = match &run.trigger {
                TriggerInfo::Okta { .. } => run
                    .input
                    .get("published")
                    .and_then(Value::as_str)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc))
                    .unwrap_or(run.created),
                _ => run.created,
            };
            if self.enqueue(RunTask {
                run,
                flow: None,
                resume: true,
                published,
                order: self.next_order(),
                done: None,
                observer: None,
            }) {
                adopted += 1;
            }
        }
        Ok(adopted)
    }

    /// Follow the store's health: the metrics, and once it has reopened after
    /// a failed write, the runs and events the failure cut off.
    async fn watch_store(self) {
        let stop = self.shutdown_signal();
        let mut status = self.inner.store.subscribe();
        let mut epoch = status.borrow().epoch;
        loop {
            let now = status.borrow_and_update().clone();
            let writable = now.health == lanyard_store::StoreHealth::Writable;
            metrics::gauge!(m::STORE_WRITABLE).set(if writable { 1.0 } else { 0.0 });
            let since = match &now.health {
                lanyard_store::StoreHealth::Failing { since, .. } => since.timestamp() as f64,
                lanyard_store::StoreHealth::Writable => 0.0,
            };
            metrics::gauge!(m::STORE_FAILING_SINCE).set(since);
            if writable && now.epoch != epoch {
                metrics::counter!(m::STORE_REOPENS).increment(now.epoch.saturating_sub(epoch));
                epoch = now.epoch;
                match self.adopt_unfinished().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(runs = n, "runs whose start the store's failure cut off are queued again"),
                    Err(e) => tracing::error!(error = %e, "cannot read the unfinished runs after the store reopened"),
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
        self.inner.hard_stop.trigger();
        let tasks: Vec<JoinHandle<()>> = std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        for t in tasks {
            let _ = t.await;
        }
        self.inner.store.sync().await
    }
}

/// One go at a run (see `Engine::run_until_ended`).
struct Attempt {
    run: RunRecord,
    flow: Option<(Arc<Flow>, Arc<FlowSet>)>,
    resume: bool,
}

enum Ran {
    Ended,
    /// The store failed under the run, which did not end: why.
    Interrupted(String),
}

/// sha256 over the paths and texts of flow files, in their order.
fn files_digest(files: &[SourceFile]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for f in files {
        for part in [f.path.as_bytes(), f.text.as_bytes()] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part);
        }
    }
    hex::encode(h.finalize())
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

/// `lanyard run path.yaml` with a flow of the same name in the flows
/// directory: keep only the last file of each name (the extra file is last).
fn prefer_last_by_name(files: Vec<SourceFile>, _cards: &CardSet) -> Vec<SourceFile> {
    let name_of = |f: &SourceFile| -> Option<String> {
        f.text.lines().find_map(|l| {
            let rest = l.strip_prefix("name:")?;
            Some(rest.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        })
    };
    let last = files.last().and_then(name_of);
    let n = files.len();
    files
        .into_iter()
        .enumerate()
        .filter(|(i, f)| *i + 1 == n || last.is_none() || name_of(f) != last)
        .map(|(_, f)| f)
        .collect()
}

/// A reload was refused; the old flows stay.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", .0.message)]
pub struct ReloadError(pub LoadError);
