//! The store's health, and its recovery from a disk that refused a write.
//!
//! sled 0.34 keeps the first error of a failed log write (a full disk: "No
//! space left on device") as a global error of the open database, and from
//! then on fails every write and flush of it, whatever the disk does next; only
//! opening the database again clears it (`Config::global_error`, set in
//! `pagecache/iobuf.rs` and `logger.rs`, reset only in `PageCache::start`).
//!
//! So when a write or a flush fails, the store takes the database out of use
//! (operations fail with [`StoreError::Unavailable`]), and a thread of its own
//! opens it again, with backoff, until the disk takes a write: the opening
//! removes what a failed start leaves (`leftovers`), repairs the inbox like any
//! start does, and proves the disk writable with a flushed write before the
//! new database is put in place. Each opening has its own in-memory state (the
//! group commit, the decoded-event cache, the table and dedupe tree handles:
//! `Backend`), so nothing in memory outlives the database it describes. What
//! was flushed before the failure is on disk; what was not is lost exactly as
//! in a crash, which every multi-record write is ordered to survive (see the
//! crate docs). A caller learns that its unflushed writes may be gone from
//! [`Store::epoch`], which changes at each reopening.
//!
//! This module must not wait for the disk on a caller's thread: callers fail
//! fast and the reopening happens on its own thread.

use crate::error::{Result, StoreError};
use crate::{Backend, Inner, Store, T_META};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Whether the store can write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum StoreHealth {
    /// Writes reach the disk.
    Writable,
    /// A write or a flush failed at `since`; the store refuses work and is
    /// reopened, with backoff, until the disk takes writes again. `error` is
    /// the newest reason, `attempts` the reopenings tried so far.
    Failing {
        since: DateTime<Utc>,
        error: String,
        attempts: u32,
    },
}

/// The store's health and which opening of the database is in use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoreStatus {
    /// Changes each time the database is reopened (see [`Store::epoch`]).
    pub epoch: u64,
    pub health: StoreHealth,
}

/// Reopenings are retried after 50 ms, doubling up to this.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// A failure this soon after a reopening keeps the backoff it had reached, so
/// a disk that takes one write and refuses the next is not reopened in a loop.
const SETTLE: Duration = Duration::from_secs(10);

pub(crate) struct Monitor {
    /// `false` for a temporary store: sled deletes its files on close.
    reopens: bool,
    status: watch::Sender<StoreStatus>,
    /// When the last reopening succeeded, and after how many attempts.
    last_reopen: Mutex<Option<(Instant, u32)>>,
}

impl Monitor {
    pub(crate) fn new(reopens: bool) -> Monitor {
        Monitor {
            reopens,
            status: watch::channel(StoreStatus {
                epoch: 0,
                health: StoreHealth::Writable,
            })
            .0,
            last_reopen: Mutex::new(None),
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    (Duration::from_millis(50) * 2u32.saturating_pow(attempt.saturating_sub(1).min(10)))
        .min(MAX_BACKOFF)
}

impl Store {
    /// Whether the store can write. Looks at the open database, so a failed
    /// write is noticed here even when nothing else touches the store.
    pub fn health(&self) -> StoreHealth {
        let _ = self.b();
        self.inner.health.status.borrow().health.clone()
    }

    /// Which opening of the database is in use: it changes each time the store
    /// reopens the database after a failed write. Writes not flushed before a
    /// reopening may be lost (as in a crash), so a caller that needs its
    /// writes durable compares the epoch from before its writes with the one
    /// after its [`crate::RunStore::sync`].
    pub fn epoch(&self) -> u64 {
        self.inner.health.status.borrow().epoch
    }

    /// Health and epoch, as they change.
    pub fn subscribe(&self) -> watch::Receiver<StoreStatus> {
        self.inner.health.status.subscribe()
    }

    /// Until the store can write.
    pub async fn wait_writable(&self) {
        let mut rx = self.subscribe();
        let _ = rx
            .wait_for(|s| matches!(s.health, StoreHealth::Writable))
            .await;
    }

    /// The error for an operation tried while the store cannot write.
    pub(crate) fn unavailable(&self) -> StoreError {
        match &self.inner.health.status.borrow().health {
            StoreHealth::Failing { since, error, .. } => StoreError::Unavailable {
                since: *since,
                reason: error.clone(),
            },
            // Between taking the database out and saying why.
            StoreHealth::Writable => StoreError::Unavailable {
                since: self.now(),
                reason: "the database is being reopened".into(),
            },
        }
    }

    /// Opening `epoch` failed to write: take it out of use and reopen the
    /// database. A later call for the same opening does nothing.
    pub(crate) fn failed(&self, epoch: u64, why: &str) {
        let old = {
            let mut slot = self.inner.slot.write().unwrap_or_else(|p| p.into_inner());
            match slot.as_ref() {
                Some(b) if b.epoch == epoch => slot.take(),
                _ => return,
            }
        };
        let since = self.now();
        self.inner.health.status.send_modify(|s| {
            if s.health == StoreHealth::Writable {
                s.health = StoreHealth::Failing {
                    since,
                    error: why.to_string(),
                    attempts: 0,
                };
            }
        });
        tracing::error!(
            path = %self.inner.path.display(),
            error = why,
            "the store cannot write to disk; events are refused and runs wait until it can (reopening it)"
        );
        let Some(old) = old else { return };
        if !self.inner.health.reopens {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        let spawned = std::thread::Builder::new()
            .name("lanyard-store-reopen".into())
            .spawn(move || reopen_loop(weak, old, epoch + 1));
        if let Err(e) = spawned {
            tracing::error!(error = %e, "cannot start the thread that reopens the store; restart lanyard");
        }
    }

    /// Open the database again as opening `epoch`, repair it, prove it takes a
    /// flushed write, and put it in use.
    fn reopen(&self, epoch: u64) -> Result<()> {
        let backend = crate::open_backend(&self.inner.path, &self.inner.options, epoch)?;
        // Repaired and probed through a private store, so that no caller sees
        // the database before the inbox is consistent again.
        let private = Store {
            inner: Arc::new(Inner {
                path: self.inner.path.clone(),
                options: self.inner.options.clone(),
                slot: std::sync::RwLock::new(Some(Arc::new(backend))),
                health: Monitor::new(false),
            }),
        };
        private.recover()?;
        {
            // Bigger than a page, so that it needs room a full disk does not
            // have (the tail of a partly written page takes a small write).
            let b = private.b()?;
            let mut probe = vec![0u8; PROBE_BYTES];
            probe[..8].copy_from_slice(&epoch.to_be_bytes());
            b.t.meta
                .insert(META_PROBE, probe)
                .map_err(|e| StoreError::backend("write", T_META, META_PROBE, e))?;
            b.t.meta
                .insert(META_PROBE, &epoch.to_be_bytes())
                .map_err(|e| StoreError::backend("write", T_META, META_PROBE, e))?;
        }
        private.sync_blocking()?;
        let backend = private
            .inner
            .slot
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| StoreError::Flush("the reopened database failed at once".into()))?;
        *self.inner.slot.write().unwrap_or_else(|p| p.into_inner()) = Some(backend);
        self.inner.health.status.send_modify(|s| {
            s.epoch = epoch;
            s.health = StoreHealth::Writable;
        });
        Ok(())
    }
}

/// Written and flushed by each reopening: the proof that the disk takes writes.
const META_PROBE: &[u8] = b"reopened";
const PROBE_BYTES: usize = 16 * 1024;

fn reopen_loop(weak: Weak<Inner>, old: Arc<Backend>, epoch: u64) {
    // The old database closes when the last operation using it lets go; until
    // then its file lock makes the opening below fail, and it is retried.
    drop(old);
    let mut attempt = {
        let Some(inner) = weak.upgrade() else { return };
        let last = *inner
            .health
            .last_reopen
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        match last {
            Some((at, attempts)) if at.elapsed() < SETTLE => attempts,
            _ => 0,
        }
    };
    let started = Instant::now();
    loop {
        std::thread::sleep(backoff(attempt + 1));
        let Some(inner) = weak.upgrade() else { return };
        let store = Store { inner };
        attempt += 1;
        match store.reopen(epoch) {
            Ok(()) => {
                *store
                    .inner
                    .health
                    .last_reopen
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), attempt));
                tracing::info!(
                    path = %store.inner.path.display(),
                    attempts = attempt,
                    down_ms = started.elapsed().as_millis() as u64,
                    "the store writes again; intake and runs resume"
                );
                return;
            }
            Err(e) => {
                let why = e.to_string();
                store.inner.health.status.send_modify(|s| {
                    if let StoreHealth::Failing {
                        error, attempts, ..
                    } = &mut s.health
                    {
                        *error = why.clone();
                        *attempts = attempt;
                    }
                });
                // Every attempt at first, then at doubling intervals: a disk
                // that stays full must not fill the log too.
                if attempt <= 3 || attempt.is_power_of_two() {
                    tracing::warn!(
                        path = %store.inner.path.display(),
                        attempt,
                        error = %why,
                        "cannot reopen the store yet; retrying"
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_50_ms_up_to_its_cap() {
        assert_eq!(backoff(1), Duration::from_millis(50));
        assert_eq!(backoff(2), Duration::from_millis(100));
        assert_eq!(backoff(6), Duration::from_millis(1600));
        assert_eq!(backoff(7), MAX_BACKOFF);
        assert_eq!(backoff(u32::MAX), MAX_BACKOFF);
    }
}

impl crate::api::StoreControl for Store {
    fn health(&self) -> StoreHealth {
        Store::health(self)
    }

    fn epoch(&self) -> u64 {
        Store::epoch(self)
    }

    fn subscribe(&self) -> watch::Receiver<StoreStatus> {
        Store::subscribe(self)
    }

    fn sync_blocking(&self) -> Result<()> {
        Store::sync_blocking(self)
    }

    fn location(&self) -> String {
        self.path().display().to_string()
    }
}
