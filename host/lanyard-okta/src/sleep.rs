//! Waiting, behind a trait, so rate-limit and backoff waits are testable without
//! sleeping: tests use [`ManualSleeper`], which records each wait and moves a
//! [`ManualClock`] forward instead.

use async_trait::async_trait;
use lanyard_core::ManualClock;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[async_trait]
pub trait Sleeper: Send + Sync + 'static {
    async fn sleep(&self, duration: Duration);
}

/// Real waiting on the tokio timer.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioSleeper;

#[async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// Returns at once, records the wait, and advances the clock by it, so code that
/// waits "until the reset time" sees that time arrive.
#[derive(Debug)]
pub struct ManualSleeper {
    clock: Arc<ManualClock>,
    waits: Mutex<Vec<Duration>>,
}

impl ManualSleeper {
    pub fn new(clock: Arc<ManualClock>) -> Self {
        ManualSleeper {
            clock,
            waits: Mutex::new(Vec::new()),
        }
    }

    /// Every wait asked for so far, in order.
    pub fn waits(&self) -> Vec<Duration> {
        self.waits.lock().expect("sleeper lock").clone()
    }

    pub fn total(&self) -> Duration {
        self.waits().iter().sum()
    }
}

#[async_trait]
impl Sleeper for ManualSleeper {
    async fn sleep(&self, duration: Duration) {
        self.waits.lock().expect("sleeper lock").push(duration);
        self.clock.advance(duration);
    }
}
