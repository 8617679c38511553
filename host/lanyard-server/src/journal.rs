//! The step journal of one run, over the store, and the per-run card invoker
//! that makes it durable before each side effect.
//!
//! Durability rule: every completed step is on disk before the next card call
//! (the next possible side effect). [`StoreJournal::record`] writes without
//! waiting for the disk and marks the journal dirty; [`RunCards`] flushes a
//! dirty journal (one group-committed fsync shared with every other run) just
//! before it calls a card. So a run whose only card is its last step costs no
//! fsync until it ends, and a crash never redoes a card call whose completion
//! was recorded. A card call that completed but whose record had not reached
//! the disk is called again on resume with the same idempotency key
//! (`run/step/attempt`), which the card passes on to external APIs.
//!
//! Secrets rule: this is where a run's history is written, so this is where it
//! is scrubbed. Every step record (input, output, error, logs, dry-run effects)
//! goes through the engine's [`Redactor`] before it is stored or shown, and
//! [`scrub_run_input`] and [`scrub_outcome`] do the same for what the engine
//! stores of the run itself: a card that came by a secret cannot put it in the
//! history. A resumed run sees the scrubbed records, as stored.
//!
//! When the store cannot write (a full disk), a step record or a flush fails:
//! the journal then marks the run interrupted ([`StoreJournal::interrupted`]),
//! and the engine stops the run and resumes it from its journal once the
//! store writes again, instead of letting the failure end the run. A store
//! reopened between a record and its flush may have lost the record, so that
//! counts as a failed flush too ([`Store::epoch`]).

use crate::card_set::Invoker;
use async_trait::async_trait;
use lanyard_core::history::StepRecord;
use lanyard_core::{CardError, Redactor};
use lanyard_flow::interp::{CardCall, CardInvoker, CardResult, Journal, JournalError, RunOutcome};
use serde_json::Value;
use lanyard_store::SharedStore;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::watch;

/// Where the steps of one run go.
pub struct StoreJournal {
    store: SharedStore,
    redactor: Arc<Redactor>,
    /// Steps recorded before an interruption, by path (resume only).
    completed: HashMap<String, StepRecord>,
    dirty: AtomicBool,
    /// The store's epoch when the journal became dirty.
    dirty_epoch: AtomicU64,
    /// Set once the store failed under the run.
    interrupted: watch::Sender<bool>,
    /// Every record also goes here (`lanyard run` prints them).
    observer: Option<tokio::sync::mpsc::UnboundedSender<StepRecord>>,
}

impl StoreJournal {
    /// A journal for a fresh run.
    pub fn new(store: SharedStore, redactor: Arc<Redactor>) -> Self {
        StoreJournal {
            store,
            redactor,
            completed: HashMap::new(),
            dirty: AtomicBool::new(false),
            dirty_epoch: AtomicU64::new(0),
            interrupted: watch::channel(false).0,
            observer: None,
        }
    }

    /// A journal for a resumed run: the steps it already recorded.
    pub async fn resume(
        store: SharedStore,
        run_id: &str,
        redactor: Arc<Redactor>,
    ) -> Result<Self, lanyard_store::StoreError> {
        let steps = store.steps(run_id).await?;
        let mut completed = HashMap::with_capacity(steps.len());
        for s in steps {
            // A later record of the same path (a retried container) wins.
            completed.insert(s.path.clone(), s);
        }
        Ok(StoreJournal {
            completed,
            ..StoreJournal::new(store, redactor)
        })
    }

    pub fn with_observer(mut self, tx: tokio::sync::mpsc::UnboundedSender<StepRecord>) -> Self {
        self.observer = Some(tx);
        self
    }

    /// How many steps the run had recorded before it was resumed.
    pub fn recorded_before(&self) -> usize {
        self.completed.len()
    }

    /// Make every recorded step durable, if any is not yet.
    pub async fn flush(&self) -> Result<(), lanyard_store::StoreError> {
        if self.dirty.swap(false, Ordering::AcqRel) {
            let epoch = self.dirty_epoch.load(Ordering::Acquire);
            let synced = self.store.sync().await.and_then(|()| {
                if self.store.epoch() == epoch {
                    Ok(())
                } else {
                    Err(lanyard_store::StoreError::Flush(
                        "the store was reopened after a failed write since the run's last steps were recorded".into(),
                    ))
                }
            });
            if let Err(e) = synced {
                self.dirty.store(true, Ordering::Release);
                self.store_failed(&e);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Until the store fails under this run (see the module docs).
    pub async fn interrupted(&self) {
        let _ = self.interrupted.subscribe().wait_for(|i| *i).await;
    }

    /// Whether the store failed under this run.
    pub fn is_interrupted(&self) -> bool {
        *self.interrupted.borrow()
    }

    fn store_failed(&self, e: &lanyard_store::StoreError) {
        if e.is_unavailable() {
            self.interrupted.send_replace(true);
        }
    }
}

#[async_trait]
impl Journal for StoreJournal {
    fn completed(&self, path: &str) -> Option<StepRecord> {
        self.completed.get(path).cloned()
    }

    async fn record(&self, mut step: StepRecord) -> Result<(), JournalError> {
        self.redactor.scrub_step(&mut step);
        let epoch = self.store.epoch();
        if let Err(e) = self.store.record_step(&step).await {
            self.store_failed(&e);
            return Err(JournalError(e.to_string()));
        }
        if !self.dirty.swap(true, Ordering::AcqRel) {
            self.dirty_epoch.store(epoch, Ordering::Release);
        } else if self.dirty_epoch.load(Ordering::Acquire) != epoch {
            // Records not yet flushed went with the opening before.
            self.interrupted.send_replace(true);
        }
        if let Some(tx) = &self.observer {
            let _ = tx.send(step);
        }
        Ok(())
    }
}

/// The card invoker of one run: flushes the run's journal, then calls the card.
pub struct RunCards {
    pub invoker: Arc<Invoker>,
    pub journal: Arc<StoreJournal>,
}

#[async_trait]
impl CardInvoker for RunCards {
    async fn invoke(&self, call: CardCall) -> CardResult {
        if let Err(e) = self.journal.flush().await {
            // Calling the card now could repeat its effect after a crash
            // without any record of the steps before it.
            return CardResult::err(
                &call.card.to_string(),
                CardError::unavailable(format!("the run's history cannot be made durable, so the card was not called: {e}")),
            );
        }
        self.invoker.call(call).await
    }
}

/// Scrub a run's input (the trigger event of an API call, a schedule, a run
/// started by hand or by another run) before the run is stored; the run then
/// sees what the history keeps.
pub fn scrub_run_input(redactor: &Redactor, input: &mut Value) {
    redactor.scrub_json(input);
}

/// Scrub how a run ended before it is stored, handed to whoever waits for it
/// and to the error flow.
pub fn scrub_outcome(redactor: &Redactor, outcome: &mut RunOutcome) {
    if let Some(output) = &mut outcome.output {
        redactor.scrub_json(output);
    }
    for error in [&mut outcome.error, &mut outcome.on_failure_error].into_iter().flatten() {
        redactor.scrub_error_info(error);
    }
    if let Some(reason) = &mut outcome.reason {
        redactor.scrub_string(reason);
    }
}
