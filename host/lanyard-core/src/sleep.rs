//! Waiting, behind a trait, so retry, backoff and rate-limit waits are
//! testable without sleeping.
//!
//! The daemon waits on tokio's timer ([`TokioSleeper`], feature `tokio`);
//! tests and examples use [`RecordingSleeper`], which returns at once and
//! remembers each wait (and, made with [`RecordingSleeper::advancing`], moves
//! a [`ManualClock`] forward by it, so code that waits "until the reset time"
//! sees that time arrive). Nothing here decides how long to wait.

use crate::clock::ManualClock;
use async_trait::async_trait;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[async_trait]
pub trait Sleeper: Send + Sync {
    async fn sleep(&self, duration: Duration);
}

/// Real waiting on the tokio timer.
#[cfg(feature = "tokio")]
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleeper;

#[cfg(feature = "tokio")]
#[async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// Returns at once and remembers what it was asked to wait.
#[derive(Debug, Default)]
pub struct RecordingSleeper {
    clock: Option<Arc<ManualClock>>,
    slept: Mutex<Vec<Duration>>,
}

impl RecordingSleeper {
    /// One that also advances `clock` by every wait.
    pub fn advancing(clock: Arc<ManualClock>) -> Self {
        RecordingSleeper { clock: Some(clock), slept: Mutex::default() }
    }

    /// Every wait asked for so far, in order.
    pub fn waits(&self) -> Vec<Duration> {
        self.slept.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// All the waits together.
    pub fn total(&self) -> Duration {
        self.waits().iter().sum()
    }
}

#[async_trait]
impl Sleeper for RecordingSleeper {
    async fn sleep(&self, duration: Duration) {
        if let Ok(mut s) = self.slept.lock() {
            s.push(duration);
        }
        if let Some(clock) = &self.clock {
            clock.advance(duration);
        }
    }
}
