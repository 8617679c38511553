//! Runs paused at a `wait` step: the timer that ends `for`/`until` waits and
//! signal timeouts on time, and the signals that end the others.
//!
//! A waiting run holds no worker and no task: it is a record in the store
//! (status `waiting`, [`WaitState`]) and, when its wait has an end time, one
//! entry in the timer's set. At start the set is loaded from the store
//! ([`Runner::watch_waiting`]); a wait whose time passed while the daemon was
//! down ends at once (catch-up). Ending a wait is one compare-and-swap in the
//! store ([`lanyard_store::RunStore::end_wait`]), so a time and a signal that
//! race, or two signals, end it once; the run is then queued and resumes from
//! its journal, whose `wait` record the runner writes first
//! ([`Runner::journal_wait_end`]).
//!
//! A signal from a link (`crate::signal_pages`) carries [`Signal::after`]:
//! it answers only the run's first wait for its name after the step that
//! made the link. Whether that wait has ended is read from the journal (the
//! `wait` records `wait_record` writes, whose input names the signal), so a
//! link needs no record of its own to be used once.

use super::*;
use lanyard_core::history::WaitState;
use lanyard_flow::interp::{wait_record, WaitEnd};
use std::collections::BTreeSet;
use tokio::sync::Notify;

/// The largest `data` a signal may carry (JSON bytes).
pub const MAX_SIGNAL_DATA: usize = 64 * 1024;

/// The ends of waits to come, earliest first.
#[derive(Default)]
pub(super) struct WaitTimer {
    /// (when, run id, the `wait` step's path).
    due: Mutex<BTreeSet<(DateTime<Utc>, String, String)>>,
    /// An earlier end was added.
    wake: Notify,
}

impl WaitTimer {
    /// Watch a run that has just started to wait (a signal wait without a
    /// timeout has no end to watch).
    pub(super) fn watch(&self, run: &str, w: &WaitState) {
        if let Some(until) = w.until {
            self.due.lock().unwrap_or_else(|p| p.into_inner()).insert((until, run.to_string(), w.step.clone()));
            self.wake.notify_one();
        }
    }

    fn first(&self) -> Option<(DateTime<Utc>, String, String)> {
        self.due.lock().unwrap_or_else(|p| p.into_inner()).first().cloned()
    }

    fn take(&self, entry: &(DateTime<Utc>, String, String)) {
        self.due.lock().unwrap_or_else(|p| p.into_inner()).remove(entry);
    }

    fn len(&self) -> usize {
        self.due.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// What a signal brings to a waiting run.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// The signal's name: the one the `wait` step names.
    pub name: String,
    /// One of the step's `choices`, when it lists some.
    pub choice: Option<String>,
    /// Anything else (at most [`MAX_SIGNAL_DATA`] bytes of JSON).
    pub data: Value,
    /// Who or what sent it: `api`, `console`, `link`.
    pub by: String,
    /// A signal link's: the `seq` of the step that made it
    /// (`crate::signal_links`). It then answers only the first wait for its
    /// signal after that step; once that wait has ended it answers nothing.
    pub after: Option<u64>,
}

/// Why a signal was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    #[error("run {0} not found")]
    NotFound(String),
    #[error("run {id} is not waiting (it is {status})")]
    NotWaiting { id: String, status: RunStatus },
    #[error("run {id} waits for {waits}, not for the `{sent}` signal")]
    OtherSignal { id: String, waits: String, sent: String },
    #[error("{0}")]
    BadChoice(String),
    #[error("the signal's data is {0} bytes of JSON; at most {MAX_SIGNAL_DATA}")]
    TooLarge(usize),
    /// A link's wait has already ended (answered, or timed out).
    #[error("run {id}'s wait for the `{signal}` signal this link answers has already ended")]
    Answered { id: String, signal: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Runner {
    /// Watch the end of every waiting run in the store: at start, and after
    /// the store reopened. Returns how many have an end to watch.
    pub(crate) async fn watch_waiting(&self) -> Result<usize, StoreError> {
        let mut watched = 0;
        for run in self.inner.store.waiting_runs().await? {
            if let Some(w) = &run.wait {
                self.inner.waits.watch(&run.id, w);
                watched += usize::from(w.until.is_some());
            }
        }
        metrics::gauge!(m::RUNS_WAITING_TIMED).set(self.inner.waits.len() as f64);
        Ok(watched)
    }

    /// End each wait whose time has come, until the daemon stops. A time
    /// that passed while the daemon was down ends at once.
    pub(crate) async fn wait_timer(self, timer: Arc<dyn crate::schedule::Timer>) {
        let stop = self.inner.stop.clone();
        loop {
            let next = self.inner.waits.first();
            if let Some(entry) = &next
                && entry.0 <= self.inner.clock.now()
            {
                self.inner.waits.take(entry);
                metrics::gauge!(m::RUNS_WAITING_TIMED).set(self.inner.waits.len() as f64);
                self.time_is_up(&entry.1, &entry.2).await;
                continue;
            }
            let sleep = async {
                match &next {
                    Some((until, ..)) => timer.sleep_until(*until).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                () = sleep => {}
                () = self.inner.waits.wake.notified() => {}
                () = stop.wait() => return,
            }
        }
    }

    /// A wait's time came: a `for`/`until` wait ends, a signal wait times out.
    async fn time_is_up(&self, id: &str, step: &str) {
        let run = match self.inner.store.get_run(id).await {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(run = %id, error = %e, "cannot read a waiting run whose time has come; it is looked at again at the next start");
                return;
            }
        };
        let Some(w) = run.wait.clone().filter(|w| run.status == RunStatus::Waiting && w.step == step) else {
            return; // resumed by a signal, or cancelled
        };
        let end = match (&w.signal, w.until) {
            (None, Some(until)) => Some(WaitEnd::Time { until }),
            _ => None, // a signal that did not come in time
        };
        if let Err(e) = self.end_wait(run, &w, end).await {
            tracing::error!(run = %id, error = %e, "cannot end a wait whose time has come; it is looked at again at the next start");
        }
    }

    /// Give a signal to a waiting run; it resumes with it.
    pub(crate) async fn signal(&self, id: &str, s: Signal) -> Result<(), SignalError> {
        let size = serde_json::to_vec(&s.data).map(|b| b.len()).unwrap_or(usize::MAX);
        if size > MAX_SIGNAL_DATA {
            return Err(SignalError::TooLarge(size));
        }
        let (run, w) = self.wait_to_end(id, &s).await?;
        let link = s.after.is_some();
        let end = WaitEnd::Signal { name: s.name.clone(), choice: s.choice, data: s.data, by: s.by, at: self.inner.clock.now() };
        match self.end_wait(run, &w, Some(end)).await {
            Ok(true) => Ok(()),
            // Another signal (or the timeout) got there first.
            Ok(false) if link => Err(SignalError::Answered { id: id.to_string(), signal: s.name }),
            Ok(false) => Err(SignalError::NotWaiting { id: id.to_string(), status: RunStatus::Queued }),
            Err(e) => Err(e.into()),
        }
    }

    /// The run `s` would resume, as it is now; nothing changes (a signal
    /// link's page shows it before anyone confirms).
    pub(crate) async fn check_signal(&self, id: &str, s: &Signal) -> Result<RunRecord, SignalError> {
        self.wait_to_end(id, s).await.map(|(run, _)| run)
    }

    /// The wait `s` would end in run `id`, or why it would end none.
    async fn wait_to_end(&self, id: &str, s: &Signal) -> Result<(RunRecord, WaitState), SignalError> {
        let run = match self.inner.store.get_run(id).await {
            Ok(Some(r)) => r,
            Ok(None) | Err(StoreError::Invalid(_)) => return Err(SignalError::NotFound(id.to_string())),
            Err(e) => return Err(e.into()),
        };
        if let Some(after) = s.after
            && self.ended_after(&run, &s.name, after).await?
        {
            return Err(SignalError::Answered { id: id.to_string(), signal: s.name.clone() });
        }
        let w = match &run.wait {
            Some(w) if run.status == RunStatus::Waiting && w.ended.is_none() && s.after.is_none_or(|a| w.seq > a) => w.clone(),
            _ => return Err(SignalError::NotWaiting { id: id.to_string(), status: run.status }),
        };
        match &w.signal {
            Some(name) if *name == s.name => {}
            Some(name) => return Err(SignalError::OtherSignal { id: id.to_string(), waits: format!("the `{name}` signal"), sent: s.name.clone() }),
            None => return Err(SignalError::OtherSignal { id: id.to_string(), waits: "a time".into(), sent: s.name.clone() }),
        }
        match (&s.choice, w.choices.is_empty()) {
            (None, false) => {
                return Err(SignalError::BadChoice(format!("the `{}` signal needs a choice: {}", s.name, w.choices.join(", "))));
            }
            (Some(c), false) if !w.choices.contains(c) => {
                return Err(SignalError::BadChoice(format!("`{c}` is not a choice of the `{}` signal (it takes {})", s.name, w.choices.join(", "))));
            }
            _ => {}
        }
        Ok((run, w))
    }

    /// Whether a wait for `signal` after the step numbered `after` has
    /// ended in `run`: its record is in the journal, or on the run until the
    /// journal has it.
    async fn ended_after(&self, run: &RunRecord, signal: &str, after: u64) -> Result<bool, StoreError> {
        let pending = run.wait.as_ref().filter(|w| w.ended.is_some());
        if pending.is_some_and(|w| w.seq > after && w.signal.as_deref() == Some(signal)) {
            return Ok(true);
        }
        let steps = self.inner.store.steps(&run.id).await?;
        Ok(steps.iter().any(|r| {
            r.kind == "wait" && r.seq > after && r.input.as_ref().and_then(|i| i.get("signal")).and_then(Value::as_str) == Some(signal)
        }))
    }

    /// End `run`'s wait with `end` (`None`: a signal's timeout), durably, and
    /// queue the run. `false` if its wait had already ended or it was cancelled.
    async fn end_wait(&self, run: RunRecord, w: &WaitState, end: Option<WaitEnd>) -> Result<bool, StoreError> {
        let store = &self.inner.store;
        let mut record = wait_record(&run.id, w, end, self.inner.clock.now());
        if let Some(output) = &mut record.output {
            self.inner.redactor.scrub_json(output);
        }
        match store.end_wait(&run.id, &w.step, &record).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Ok(false),
            Err(e) => return Err(e),
        }
        store.sync().await?;
        let Some(run) = store.get_run(&run.id).await? else { return Ok(true) };
        let published = run.created;
        self.enqueue(RunTask {
            run,
            flow: None,
            resume: true,
            published,
            order: self.next_order(),
            done: None,
            observer: None,
        });
        Ok(true)
    }

    /// Before a run whose wait has ended resumes: its `wait` record into the
    /// journal (once: a crash may have come after it was written), and the
    /// wait off its record.
    pub(super) async fn journal_wait_end(&self, run: &mut RunRecord) -> Result<(), StoreError> {
        let Some(record) = run.wait.as_mut().and_then(|w| w.ended.take()) else { return Ok(()) };
        let store = &self.inner.store;
        let steps = store.steps(&run.id).await?;
        if !steps.iter().any(|s| s.path == record.path && s.seq == record.seq) {
            store.record_step(&record).await?;
        }
        run.wait = None;
        let mut head = run.clone();
        head.input = Value::Null;
        store.update_run(&head).await?;
        store.sync().await
    }

    /// Record that a run paused at a `wait` step and watch its end. Its
    /// worker goes on to other runs.
    pub(super) async fn paused(&self, run: &RunRecord) -> Result<(), StoreError> {
        let store = &self.inner.store;
        let mut head = run.clone();
        head.input = Value::Null;
        store.update_run(&head).await?;
        store.sync().await?;
        if let Some(w) = &run.wait {
            tracing::info!(run = %run.id, flow = %run.flow, step = %w.step, until = ?w.until, signal = ?w.signal, "run waiting");
            self.inner.waits.watch(&run.id, w);
            metrics::gauge!(m::RUNS_WAITING_TIMED).set(self.inner.waits.len() as f64);
        }
        Ok(())
    }

    /// Cancel a waiting run: it ends `cancelled` and its wait is forgotten.
    pub(super) async fn cancel_waiting(&self, id: &str) -> Result<(), StoreError> {
        let now = self.inner.clock.now();
        let end = lanyard_store::RunEnd {
            status: RunStatus::Cancelled,
            output: None,
            error: None,
            reason: Some("cancelled by an operator while it waited".into()),
        };
        self.inner.flow_stats.ending(id);
        let written = match self.inner.store.finish_run(id, end, now).await {
            Ok(()) => self.inner.store.sync().await,
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            self.inner.flow_stats.not_ending(id);
            return Err(e);
        }
        match self.inner.store.get_run(id).await {
            Ok(Some(r)) => {
                let r = Arc::new(r);
                self.inner.flow_stats.ended(&r);
                let _ = self.inner.finished_tx.send(r);
            }
            _ => self.inner.flow_stats.not_ending(id),
        }
        Ok(())
    }
}
