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

use crate::cards::Invoker;
use async_trait::async_trait;
use lanyard_core::history::StepRecord;
use lanyard_core::CardError;
use lanyard_flow::interp::{CardCall, CardInvoker, CardResult, Journal, JournalError};
use lanyard_store::{RunStore, Store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Where the steps of one run go.
pub struct StoreJournal {
    store: Store,
    /// Steps recorded before an interruption, by path (resume only).
    completed: HashMap<String, StepRecord>,
    dirty: AtomicBool,
    /// Every record also goes here (`lanyard run` prints them).
    observer: Option<tokio::sync::mpsc::UnboundedSender<StepRecord>>,
}

impl StoreJournal {
    /// A journal for a fresh run.
    pub fn new(store: Store) -> Self {
        StoreJournal {
            store,
            completed: HashMap::new(),
            dirty: AtomicBool::new(false),
            observer: None,
        }
    }

    /// A journal for a resumed run: the steps it already recorded.
    pub async fn resume(store: Store, run_id: &str) -> Result<Self, lanyard_store::StoreError> {
        let steps = store.steps(run_id).await?;
        let mut completed = HashMap::with_capacity(steps.len());
        for s in steps {
            // A later record of the same path (a retried container) wins.
            completed.insert(s.path.clone(), s);
        }
        Ok(StoreJournal {
            store,
            completed,
            dirty: AtomicBool::new(false),
            observer: None,
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
            if let Err(e) = self.store.sync().await {
                self.dirty.store(true, Ordering::Release);
                return Err(e);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Journal for StoreJournal {
    fn completed(&self, path: &str) -> Option<StepRecord> {
        self.completed.get(path).cloned()
    }

    async fn record(&self, step: StepRecord) -> Result<(), JournalError> {
        self.store
            .record_step(&step)
            .await
            .map_err(|e| JournalError(e.to_string()))?;
        self.dirty.store(true, Ordering::Release);
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
