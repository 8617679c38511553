//! Durable event intake, shared by the Event Hook route and the System Log
//! poller.
//!
//! [`Intake::accept`] returns only once every new event is on disk (the store's
//! group-committed flush), deduplicated by `uuid`; then it wakes the
//! dispatcher. A hook is answered after it returns, so an acknowledged event is
//! never lost. It does not match events to flows (the dispatcher does).
//!
//! An event refused on its own (it breaks a store limit, or the hook route
//! could not read it as an event) costs only itself: it is counted
//! (`lanyard_events_rejected_total`), logged (escaped, cut short) and kept in
//! a short list of the latest ones ([`Intake::rejected`], which the admin API
//! serves), since whoever sent it will not send it again.

use crate::metrics as m;
use chrono::{DateTime, Utc};
use lanyard_core::{LogEvent, Redactor};
use lanyard_store::{SharedStore, StoreError};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, RwLock};

/// What one [`Intake::accept`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AcceptSummary {
    /// Events stored for the first time.
    pub new: usize,
    /// Events seen before (within the dedupe window), not stored again.
    pub duplicate: usize,
    /// Events refused on their own (see [`Intake::rejected`]).
    pub rejected: usize,
}

/// How many refused events [`Intake::rejected`] keeps (the newest).
pub const RECENT_REJECTED: usize = 100;
/// The most characters of a refused event's uuid, type or reason kept.
const MAX_TEXT_CHARS: usize = 256;

/// An event refused at intake (the admin API's `GET /api/v1/events/rejected`
/// shows it as `lanyard_core::admin_api::RejectedEvent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedEvent {
    pub received: DateTime<Utc>,
    /// `hook`, `poll`, ...
    pub source: String,
    /// Its `uuid` and `eventType`, if it has them (cut short).
    pub uuid: Option<String>,
    pub event_type: Option<String>,
    /// Why it was refused (cut short).
    pub reason: String,
}

/// The refused events [`Intake::rejected`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejections {
    /// Refused since the daemon started.
    pub total: u64,
    /// The newest first, at most [`RECENT_REJECTED`].
    pub recent: Vec<RejectedEvent>,
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
    store: SharedStore,
    /// Every configured secret: an event is scrubbed before it is stored,
    /// as the rest of the history is (see `journal`).
    redactor: Arc<Redactor>,
    rejected: Mutex<VecDeque<RejectedEvent>>,
    rejected_total: AtomicU64,
    /// Accepts hold it shared; the dispatcher holds it exclusively while it
    /// reads a page of the inbox, so it never sees half of one delivery (and
    /// never dispatches an event of it ahead of an earlier-published one that
    /// was still being written).
    gate: RwLock<()>,
    wake: Notify,
    accepting: AtomicBool,
}

impl Intake {
    /// Intake into `store`, scrubbing events of `redactor`'s secrets.
    pub fn new(store: SharedStore, redactor: Arc<Redactor>) -> Self {
        Intake {
            inner: Arc::new(Inner {
                store,
                redactor,
                rejected: Mutex::new(VecDeque::new()),
                rejected_total: AtomicU64::new(0),
                gate: RwLock::new(()),
                wake: Notify::new(),
                accepting: AtomicBool::new(true),
            }),
        }
    }

    /// Store new events of the default Okta org durably (flushed to disk
    /// before this returns), skip duplicates, refuse (and record) the ones that
    /// break a store limit, and wake the dispatcher. `source` is `hook`, `poll`, ...
    pub async fn accept(&self, events: Vec<LogEvent>, source: &str) -> Result<AcceptSummary, IntakeError> {
        self.accept_from(events, source, None).await
    }

    /// [`Intake::accept`] for the events of `org` as the inbox records it
    /// (`crate::orgs::Orgs::store_org`: `None` for the default org).
    /// Duplicates are per org.
    pub async fn accept_from(&self, mut events: Vec<LogEvent>, source: &str, org: Option<&str>) -> Result<AcceptSummary, IntakeError> {
        if !self.is_accepting() {
            return Err(IntakeError::ShuttingDown);
        }
        if events.is_empty() {
            return Ok(AcceptSummary::default());
        }
        for event in &mut events {
            self.inner.redactor.scrub_log_event(event);
        }
        // What an operator would look a refused event up by; the store keeps
        // only the uuid of what it refuses.
        let types: Vec<String> = events.iter().map(|e| e.event_type.clone()).collect();
        let accepted = {
            let _shared = self.inner.gate.read().await;
            self.inner.store.accept_from(events, source, org).await
        };
        let accepted = accepted.map_err(|e| match e {
            StoreError::Invalid(m) => IntakeError::Invalid(m),
            other => IntakeError::Store(other),
        })?;
        let mut summary = AcceptSummary::default();
        for (a, event_type) in accepted.iter().zip(&types) {
            match &a.refused {
                Some(why) => {
                    summary.rejected += 1;
                    self.reject(source, Some(&a.uuid), Some(event_type), why);
                }
                None if a.new => summary.new += 1,
                None => summary.duplicate += 1,
            }
        }
        let src = source.to_string();
        metrics::counter!(m::EVENTS_RECEIVED, "source" => src.clone(), "result" => "new").increment(summary.new as u64);
        metrics::counter!(m::EVENTS_RECEIVED, "source" => src, "result" => "duplicate").increment(summary.duplicate as u64);
        if summary.new > 0 {
            self.inner.wake.notify_one();
        }
        tracing::debug!(source, org, new = summary.new, duplicate = summary.duplicate, rejected = summary.rejected, "events accepted");
        Ok(summary)
    }

    /// Record an event refused on its own (one the hook route could not read
    /// as an event, or the store refused): counted, logged and listed.
    pub fn reject(&self, source: &str, uuid: Option<&str>, event_type: Option<&str>, reason: &str) {
        let rejected = RejectedEvent {
            received: Utc::now(),
            source: cut_short(source),
            uuid: uuid.map(cut_short),
            event_type: event_type.map(cut_short),
            reason: cut_short(reason),
        };
        metrics::counter!(m::EVENTS_REJECTED, "source" => rejected.source.clone()).increment(1);
        // `?`: escaped, so a newline in what a sender wrote cannot forge a
        // log line.
        tracing::warn!(
            source = ?rejected.source,
            uuid = ?rejected.uuid,
            event_type = ?rejected.event_type,
            reason = ?rejected.reason,
            "event refused at intake; it is not stored and will not run"
        );
        self.inner.rejected_total.fetch_add(1, Ordering::Relaxed);
        let mut recent = self.inner.rejected.lock().unwrap_or_else(|p| p.into_inner());
        if recent.len() == RECENT_REJECTED {
            recent.pop_back();
        }
        recent.push_front(rejected);
    }

    /// The events refused since the start: how many, and the newest.
    pub fn rejected(&self) -> Rejections {
        let recent = self.inner.rejected.lock().unwrap_or_else(|p| p.into_inner());
        Rejections {
            total: self.inner.rejected_total.load(Ordering::Relaxed),
            recent: recent.iter().cloned().collect(),
        }
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

/// At most [`MAX_TEXT_CHARS`] characters of `text`, with `…` if cut.
fn cut_short(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}
