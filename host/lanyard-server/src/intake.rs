//! Durable event intake, shared by the Event Hook route and the System Log
//! poller.
//!
//! [`Intake::accept`] returns only once every new event is on disk (the store's
//! group-committed flush), deduplicated by `uuid`; then it wakes the
//! dispatcher. A hook is answered after it returns, so an acknowledged event is
//! never lost. It does not match events to flows (the dispatcher does).

use crate::metrics as m;
use lanyard_core::LogEvent;
use lanyard_store::{EventInbox, Store, StoreError};
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::{Notify, RwLock};

/// What one [`Intake::accept`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AcceptSummary {
    /// Events stored for the first time.
    pub new: usize,
    /// Events seen before (within the dedupe window), not stored again.
    pub duplicate: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// Shutting down: the caller should answer 503 so that Okta retries.
    #[error("lanyard is shutting down and accepts no more events")]
    ShuttingDown,
    /// An event breaks a limit (size, uuid); nothing was stored.
    #[error("{0}")]
    Invalid(String),
    #[error("cannot store the events: {0}")]
    Store(StoreError),
}

/// Durable intake. Cheap to clone.
#[derive(Clone)]
pub struct Intake {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    /// Accepts hold it shared; the dispatcher holds it exclusively while it
    /// reads a page of the inbox, so it never sees half of one delivery (the
    /// events of one delivery are then ordered by `published` together).
    gate: RwLock<()>,
    wake: Notify,
    accepting: AtomicBool,
}

impl Intake {
    pub fn new(store: Store) -> Self {
        Intake {
            inner: Arc::new(Inner {
                store,
                gate: RwLock::new(()),
                wake: Notify::new(),
                accepting: AtomicBool::new(true),
            }),
        }
    }

    /// Store new events durably (flushed to disk before this returns), skip
    /// duplicates, and wake the dispatcher. `source` is `hook`, `poll`, ...
    pub async fn accept(&self, events: Vec<LogEvent>, source: &str) -> Result<AcceptSummary, IntakeError> {
        if !self.is_accepting() {
            return Err(IntakeError::ShuttingDown);
        }
        if events.is_empty() {
            return Ok(AcceptSummary::default());
        }
        let accepted = {
            let _shared = self.inner.gate.read().await;
            self.inner.store.accept(events, source).await
        };
        let accepted = accepted.map_err(|e| match e {
            StoreError::Invalid(m) => IntakeError::Invalid(m),
            other => IntakeError::Store(other),
        })?;
        let new = accepted.iter().filter(|a| a.new).count();
        let summary = AcceptSummary {
            new,
            duplicate: accepted.len() - new,
        };
        let src = source.to_string();
        metrics::counter!(m::EVENTS_RECEIVED, "source" => src.clone(), "result" => "new").increment(summary.new as u64);
        metrics::counter!(m::EVENTS_RECEIVED, "source" => src, "result" => "duplicate").increment(summary.duplicate as u64);
        if summary.new > 0 {
            self.inner.wake.notify_one();
        }
        tracing::debug!(source, new = summary.new, duplicate = summary.duplicate, "events accepted");
        Ok(summary)
    }

    /// Whether events are accepted (false once shutdown has begun).
    pub fn is_accepting(&self) -> bool {
        self.inner.accepting.load(Ordering::Acquire)
    }

    /// Refuse events from now on (shutdown).
    pub fn stop_accepting(&self) {
        self.inner.accepting.store(false, Ordering::Release);
    }

    pub(crate) fn wake(&self) -> &Notify {
        &self.inner.wake
    }

    /// Read access excluded: held by the dispatcher while it reads the inbox.
    pub(crate) async fn exclusive(&self) -> tokio::sync::RwLockWriteGuard<'_, ()> {
        self.inner.gate.write().await
    }
}
