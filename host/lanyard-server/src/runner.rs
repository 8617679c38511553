//! The runner: the run queue and the workers, and everything about a run from
//! the moment it exists until it ends.
//!
//! Every run is made by [`Runner::new_run`], whatever started it (an Okta
//! event through the dispatcher, a schedule, the API, run-now, `lanyard run`,
//! the error flow), queued with [`Runner::enqueue`] (at most once per run id
//! in this daemon), and executed by a worker: its journal, its flow version,
//! cancellation, the store failing under it (it waits and resumes from its
//! journal), its end (durable before anyone is told), the error flow when it
//! failed. At start and after the store reopens, [`Runner::adopt_unfinished`]
//! queues the runs the store holds unfinished.
//!
//! A run paused at a `wait` step leaves its worker: see [`waits`] for the
//! timer and the signals that resume it.
//!
//! It receives what it needs when it is built ([`RunnerParts`]) and calls
//! nothing above it: the engine owns it, the dispatcher and the scheduler use it.

use crate::flow_stats::{FlowRunStats, FlowStats};
use crate::runs::{new_run, CancelError, CancelOutcome, RunStarted, StartError, StartOptions};
use crate::flows::FlowSet;
use crate::journal::{RunCards, StoreJournal};
use crate::metrics as m;
use crate::queue::{RunQueue, RunTask};
use crate::shutdown::{self, Shutdown, ShutdownTrigger};
use chrono::{DateTime, Utc};
use lanyard_core::history::{RunRecord, RunStatus, StepRecord, TriggerInfo};
use lanyard_core::{Clock, Redactor, TokioSleeper};
use lanyard_flow::interp::{run_flow, Env, FlowLookup, RunLimits, RunStart};
use lanyard_flow::model::Flow;
use lanyard_store::{SharedStore, StoreError};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, oneshot, watch};

mod waits;
pub use waits::{Signal, SignalError};

/// What a runner is built from.
pub(crate) struct RunnerParts {
    pub store: SharedStore,
    pub clock: Arc<dyn Clock>,
    /// Scrubs configured secrets out of run inputs and outcomes.
    pub redactor: Arc<Redactor>,
    /// `[error_flow] name`: started for every failed run.
    pub error_flow: Option<String>,
    /// The loaded flow set, as the engine swaps it.
    pub flows: watch::Receiver<Arc<FlowSet>>,
    /// `[workers] queue`.
    pub queue_capacity: usize,
    /// Stop taking runs (workers between runs; new starts are refused).
    pub stop: Shutdown,
    /// What `signal_link()` calls in runs.
    pub links: Arc<dyn lanyard_flow::SignalLinks>,
}

/// The run queue and the workers. Cheap to clone; every clone is the same runner.
#[derive(Clone)]
pub(crate) struct Runner {
    inner: Arc<State>,
}

struct State {
    store: SharedStore,
    clock: Arc<dyn Clock>,
    redactor: Arc<Redactor>,
    error_flow: Option<String>,
    flows: watch::Receiver<Arc<FlowSet>>,
    queue: RunQueue,
    stop: Shutdown,
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
    flow_stats: FlowStats,
    /// The ends of the waits of waiting runs.
    waits: waits::WaitTimer,
    links: Arc<dyn lanyard_flow::SignalLinks>,
}

impl Runner {
    pub(crate) fn new(parts: RunnerParts) -> Runner {
        let (finished_tx, _) = broadcast::channel(1024);
        let (hard_stop, _) = shutdown::channel();
        Runner {
            inner: Arc::new(State {
                store: parts.store,
                clock: parts.clock,
                redactor: parts.redactor,
                error_flow: parts.error_flow,
                flows: parts.flows,
                queue: RunQueue::new(parts.queue_capacity),
                stop: parts.stop,
                hard_stop,
                running: Mutex::new(HashMap::new()),
                owned: Mutex::new(HashSet::new()),
                active_by_flow: Mutex::new(HashMap::new()),
                in_flight: AtomicUsize::new(0),
                order: AtomicU64::new(0),
                finished_tx,
                flow_stats: FlowStats::default(),
                waits: waits::WaitTimer::default(),
                links: parts.links,
            }),
        }
    }

    /// A new run of `flow` now ([`new_run`]).
    pub(crate) fn new_run(&self, flow: &Flow, trigger: TriggerInfo, input: Value, subject: Option<String>, dry_run: bool) -> RunRecord {
        new_run(flow, trigger, input, subject, dry_run, self.inner.clock.now())
    }

    /// The loaded flow set now.
    pub(crate) fn flows(&self) -> Arc<FlowSet> {
        self.inner.flows.borrow().clone()
    }

    /// Every run that ends, as it ends.
    pub(crate) fn subscribe_finished(&self) -> broadcast::Receiver<Arc<RunRecord>> {
        self.inner.finished_tx.subscribe()
    }

    /// The last run and the last day's counts of these flows (seeded from
    /// the store on the first call).
    pub(crate) async fn flow_stats(&self, flows: &[String]) -> Result<HashMap<String, FlowRunStats>, String> {
        self.inner.flow_stats.of(&self.inner.store, flows, self.inner.clock.now()).await
    }

    /// Whether a run of `flow` is queued or running.
    pub(crate) fn is_running(&self, flow: &str) -> bool {
        self.inner
            .active_by_flow
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(flow)
            .is_some_and(|n| *n > 0)
    }

    /// Runs waiting for a worker.
    pub(crate) fn queue_depth(&self) -> usize {
        self.inner.queue.len()
    }

    /// Until the queue has room (or the daemon stops): the dispatcher reads
    /// no more events than it can queue.
    pub(crate) async fn wait_for_room(&self, stop: &Shutdown) {
        self.inner.queue.wait_for_room(stop).await
    }

    /// Runs executing now.
    pub(crate) fn runs_in_flight(&self) -> usize {
        self.inner.in_flight.load(Ordering::Relaxed)
    }

    /// Drop the runs in flight where they are (the grace period is over); they
    /// stay `running` in the store and resume at the next start.
    pub(crate) fn stop_hard(&self) {
        self.inner.hard_stop.trigger();
    }

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

    /// Start a run of `flow` that does not come from an Okta event (see
    /// [`crate::engine::Engine::start_run`]).
    pub(crate) async fn start(&self, flow: &str, trigger: TriggerInfo, input: Value, opts: StartOptions) -> Result<RunStarted, StartError> {
        if self.inner.stop.is_triggered() {
            return Err(StartError::ShuttingDown);
        }
        let snapshot = self.flows();
        let f = snapshot.get(flow).cloned().ok_or_else(|| StartError::UnknownFlow(flow.to_string()))?;
        if f.is_helper() && !opts.allow_helper {
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
        let mut input = input;
        crate::journal::scrub_run_input(&self.inner.redactor, &mut input);
        let mut run = self.new_run(&f, trigger, input, opts.subject.clone(), opts.dry_run);
        if let Some(id) = &opts.id {
            run.id = id.clone();
        }
        let now = run.created;
        let epoch = self.inner.store.epoch();
        match self.inner.store.create_run(&run).await {
            Ok(()) => {}
            // Started before (its caller resumed after a crash): that run.
            Err(StoreError::Conflict(_)) if opts.id.is_some() => return Ok(RunStarted { run_id: run.id, outcome: None }),
            Err(e) => return Err(e.into()),
        }
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
    pub(crate) async fn cancel(&self, id: &str) -> Result<CancelOutcome, CancelError> {
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
        if run.status == RunStatus::Waiting {
            self.cancel_waiting(id).await?;
            return Ok(CancelOutcome::Dequeued);
        }
        if let Some(task) = self.inner.queue.remove(id) {
            let now = self.inner.clock.now();
            let end = lanyard_store::RunEnd {
                status: RunStatus::Cancelled,
                output: None,
                error: None,
                reason: Some("cancelled by an operator before it started".into()),
            };
            self.inner.flow_stats.ending(id);
            let written = match self.inner.store.finish_run(id, end, now).await {
                Ok(()) => self.inner.store.sync().await,
                Err(e) => Err(e),
            };
            if let Err(e) = written {
                self.inner.flow_stats.not_ending(id);
                return Err(e.into());
            }
            self.track(&task.run.flow, -1);
            self.disown(id);
            self.inner.queue.done(task.run.subject.as_deref());
            match self.inner.store.get_run(id).await {
                Ok(Some(r)) => {
                    let r = Arc::new(r);
                    if let Some(tx) = task.done {
                        let _ = tx.send((*r).clone());
                    }
                    self.inner.flow_stats.ended(&r);
                    let _ = self.inner.finished_tx.send(r);
                }
                // Ended in the store; the seed counts it, if it has not run.
                _ => self.inner.flow_stats.not_ending(id),
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
    pub(crate) async fn wait_for(&self, id: &str) -> Result<RunRecord, StoreError> {
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

    /// Take runs from the queue and run them, until the daemon stops.
    pub(crate) async fn worker(self) {
        let stop = self.inner.stop.clone();
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
        // A run whose wait has ended: the wait's record first.
        if let Err(e) = self.journal_wait_end(&mut run).await {
            if e.is_unavailable() {
                return Ran::Interrupted(e.to_string());
            }
            tracing::error!(run = %run.id, error = %e, "cannot record the end of the run's wait; it is retried at the next start");
            return Ran::Ended;
        }
        let journal = match self.begin(&mut run, resume, observer).await {
            Ok(j) => j,
            Err(ran) => return ran,
        };
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
            flows: Arc::new(RunFlows { set: snapshot.clone(), runner: self.clone() }),
            sleeper: Arc::new(TokioSleeper),
            links: self.inner.links.clone(),
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
        let outcome = self.end_of(&mut run, &flow, outcome);
        if run.status == RunStatus::Waiting {
            return match self.paused(&run).await {
                Err(e) if e.is_unavailable() => Ran::Interrupted(e.to_string()),
                Err(e) => {
                    tracing::error!(run = %run.id, error = %e, "cannot record that the run waits; it resumes from its journal at the next start");
                    Ran::Ended
                }
                Ok(()) => Ran::Ended,
            };
        }
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

    /// What the store records of the run's end: the flow's outcome (scrubbed
    /// of secrets), or `None` when an operator cancelled it; `run` follows.
    fn end_of(&self, run: &mut RunRecord, flow: &Flow, outcome: Option<lanyard_flow::interp::RunOutcome>) -> lanyard_store::RunEnd {
        match outcome {
            Some(mut o) => {
                crate::journal::scrub_outcome(&self.inner.redactor, &mut o);
                o.apply_to(run);
                if let Some(e2) = &o.on_failure_error {
                    tracing::warn!(run = %run.id, flow = %flow.name, error = ?e2.message, "the flow's on_failure steps failed too");
                }
                lanyard_store::RunEnd {
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
                lanyard_store::RunEnd {
                    status: RunStatus::Cancelled,
                    output: None,
                    error: None,
                    reason: run.reason.clone(),
                }
            }
        }
    }

    /// Mark the run running and open its journal (read back when it
    /// resumes). `Err` is how the attempt ends when that fails.
    async fn begin(
        &self,
        run: &mut RunRecord,
        resume: bool,
        observer: Option<tokio::sync::mpsc::UnboundedSender<StepRecord>>,
    ) -> Result<Arc<StoreJournal>, Ran> {
        let store = &self.inner.store;
        let started = self.inner.clock.now();
        if run.status != RunStatus::Running {
            if let Err(e) = store.set_status(&run.id, RunStatus::Running, started).await {
                if e.is_unavailable() {
                    return Err(Ran::Interrupted(e.to_string()));
                }
                tracing::error!(run = %run.id, error = %e, "cannot mark the run running; it stays queued and is retried at the next start");
                return Err(Ran::Ended);
            }
            run.status = RunStatus::Running;
        }
        run.started.get_or_insert(started);
        let journal = if resume {
            match StoreJournal::resume(store.clone(), &run.id, self.inner.redactor.clone()).await {
                Ok(j) => j,
                Err(e) if e.is_unavailable() => return Err(Ran::Interrupted(e.to_string())),
                Err(e) => {
                    tracing::error!(run = %run.id, error = %e, "cannot read the run's journal; it is retried at the next start");
                    return Err(Ran::Ended);
                }
            }
        } else {
            StoreJournal::new(store.clone(), self.inner.redactor.clone())
        };
        Ok(Arc::new(match observer {
            Some(tx) => journal.with_observer(tx),
            None => journal,
        }))
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
        let outcome = lanyard_store::RunEnd {
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
        self.inner.flow_stats.ending(&run.id);
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
        let Some(name) = self.inner.error_flow.clone() else { return };
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
        let runner = self.clone();
        let parent = run.id.clone();
        tokio::spawn(async move {
            let trigger = TriggerInfo::Flow {
                parent_run: parent.clone(),
                parent_step: TriggerInfo::ERROR_FLOW_STEP.into(),
            };
            let opts = StartOptions {
                force: true,
                allow_helper: true,
                ..StartOptions::default()
            };
            if let Err(e) = runner.start(&name, trigger, input, opts).await {
                tracing::error!(run = %parent, error_flow = %name, error = %e, "cannot start the error flow");
            }
        });
    }

    /// Queue every unfinished run in the store that is not queued or running
    /// here: at start (crash recovery), and after the store reopened (runs
    /// whose start the failure cut off). Returns how many.
    pub(crate) async fn adopt_unfinished(&self) -> Result<usize, StoreError> {
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

}

/// One go at a run (see `Runner::run_until_ended`).
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


/// What a run's helper calls see: the loaded helpers, and this runner to
/// start one as a run of its own (`call` with `wait: false`).
struct RunFlows {
    set: Arc<FlowSet>,
    runner: Runner,
}

impl FlowLookup for RunFlows {
    fn helper(&self, name: &str) -> Option<Arc<Flow>> {
        self.set.helper(name)
    }

    /// The helper's run is named by its caller's run and step, so a caller
    /// resumed after a crash finds the run it started instead of starting
    /// another. It is queued even when the queue is full: the caller's
    /// worker waiting for room could be what keeps it full.
    fn start(&self, req: lanyard_flow::StartHelper) -> futures::future::BoxFuture<'_, Result<String, String>> {
        Box::pin(async move {
            let id = lanyard_store::child_run_id(&req.parent_run, &req.parent_step)
                .ok_or_else(|| format!("run id `{}` is not a ULID", req.parent_run))?;
            let trigger = TriggerInfo::Flow { parent_run: req.parent_run, parent_step: req.parent_step };
            let opts = StartOptions { force: true, allow_helper: true, id: Some(id), ..StartOptions::default() };
            self.runner.start(&req.flow, trigger, req.inputs, opts).await.map(|s| s.run_id).map_err(|e| e.to_string())
        })
    }
}
