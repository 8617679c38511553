//! The runaway breaker: loop protection per flow and subject.
//!
//! More than `max_runs` runs of one flow about one subject within `window` is
//! what a flow that triggers itself looks like (a profile update that causes
//! the event that runs it again). Further runs are held as `suppressed` until
//! the window has room again. The first suppression of each trip raises an
//! alert; the rest are only counted, so the alert cannot become a loop itself.
//! In memory: a restart resets it, which only ever lets runs through.

use chrono::{DateTime, Utc};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// What the breaker says about one more run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Run,
    /// Hold it. `alert`: the first suppression since the breaker tripped.
    Suppress { runs_in_window: usize, alert: bool },
}

struct Key {
    /// Start times of admitted runs within the window, oldest first.
    starts: VecDeque<DateTime<Utc>>,
    tripped: bool,
}

pub struct Breaker {
    window: chrono::Duration,
    max_runs: usize,
    keys: Mutex<HashMap<(String, String), Key>>,
    checks: std::sync::atomic::AtomicU64,
}

impl Breaker {
    pub fn new(window: Duration, max_runs: u32) -> Self {
        Breaker {
            window: chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX),
            max_runs: max_runs.max(1) as usize,
            keys: Mutex::new(HashMap::new()),
            checks: Default::default(),
        }
    }

    /// Count a run of `flow` about `subject` starting at `now`, or hold it.
    pub fn check(&self, flow: &str, subject: &str, now: DateTime<Utc>) -> Verdict {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        // Forget quiet keys now and then, so memory stays bounded by the
        // subjects active within one window.
        if self.checks.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 4096 == 4095 {
            let horizon = now - self.window;
            keys.retain(|_, k| k.starts.back().is_some_and(|t| *t > horizon));
        }
        let key = keys
            .entry((flow.to_string(), subject.to_string()))
            .or_insert_with(|| Key {
                starts: VecDeque::new(),
                tripped: false,
            });
        let horizon = now - self.window;
        while key.starts.front().is_some_and(|t| *t <= horizon) {
            key.starts.pop_front();
        }
        if key.starts.len() >= self.max_runs {
            let alert = !key.tripped;
            key.tripped = true;
            return Verdict::Suppress {
                runs_in_window: key.starts.len(),
                alert,
            };
        }
        key.tripped = false;
        key.starts.push_back(now);
        Verdict::Run
    }

    pub fn max_runs(&self) -> usize {
        self.max_runs
    }

    pub fn window(&self) -> chrono::Duration {
        self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trips_after_max_runs_and_alerts_once_then_recovers() {
        let b = Breaker::new(Duration::from_secs(60), 3);
        let t0 = Utc::now();
        for i in 0..3 {
            assert_eq!(b.check("f", "u1", t0 + chrono::Duration::seconds(i)), Verdict::Run);
        }
        assert_eq!(
            b.check("f", "u1", t0 + chrono::Duration::seconds(4)),
            Verdict::Suppress { runs_in_window: 3, alert: true }
        );
        assert_eq!(
            b.check("f", "u1", t0 + chrono::Duration::seconds(5)),
            Verdict::Suppress { runs_in_window: 3, alert: false }
        );
        // Another subject and another flow are not affected.
        assert_eq!(b.check("f", "u2", t0), Verdict::Run);
        assert_eq!(b.check("g", "u1", t0), Verdict::Run);
        // Once the window has room, runs go through again.
        assert_eq!(b.check("f", "u1", t0 + chrono::Duration::seconds(61)), Verdict::Run);
    }
}
