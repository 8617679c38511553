//! Shutdown: one signal every background task selects on.
//!
//! [`ShutdownTrigger::trigger`] flips it once; every [`Shutdown`] clone sees it,
//! whether it is waiting now ([`Shutdown::wait`]) or asks later
//! ([`Shutdown::is_triggered`]). A `watch` channel rather than a broadcast, so
//! a task that starts after the trigger still stops.

use tokio::sync::watch;

/// The side that starts the shutdown.
#[derive(Debug, Clone)]
pub struct ShutdownTrigger {
    tx: watch::Sender<bool>,
}

/// The side every background task holds. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

/// A new trigger and its signal.
pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger { tx }, Shutdown { rx })
}

impl ShutdownTrigger {
    /// Start the shutdown (again is a no-op).
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Another signal for this trigger.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown { rx: self.tx.subscribe() }
    }
}

impl Shutdown {
    /// Whether shutdown has started.
    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    /// Until shutdown starts (at once if it has).
    pub async fn wait(&self) {
        let mut rx = self.rx.clone();
        // An error means the trigger is gone: nobody can start a shutdown any
        // more, which (for a task) is the same as being told to stop.
        let _ = rx.wait_for(|stopped| *stopped).await;
    }

    /// A signal that never fires (tests, one-off runs).
    pub fn never() -> Shutdown {
        let (tx, rx) = watch::channel(false);
        // Keep the sender alive forever, so `wait` never returns.
        std::mem::forget(tx);
        Shutdown { rx }
    }
}
