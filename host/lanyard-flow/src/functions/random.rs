//! `uuid()` and `random()`: values that look random, drawn without the OS
//! random source so that a run stays repeatable.
//!
//! A run that stopped part way (a crash, a restart) is resumed by evaluating
//! its unfinished step again; a card must then get the same input as the
//! first time, or a retried "create user" would create a second one. So the
//! values are derived: the `n`th draw of one evaluation of the step at `path`
//! in run `run_id` is SHA-256 of those three. The same step of the same run
//! gives the same values; another step, another iteration of a loop or
//! another run gives others. Anyone who knows the run id and the flow can
//! compute them: they are not secrets.

use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// What one evaluation of one step draws from.
#[derive(Debug)]
pub(crate) struct Draws {
    run_id: Arc<str>,
    path: Arc<str>,
    next: AtomicU64,
}

impl Draws {
    pub(crate) fn new(run_id: Arc<str>, path: &str) -> Draws {
        Draws {
            run_id,
            path: path.into(),
            next: AtomicU64::new(0),
        }
    }

    /// The next 32 bytes.
    pub(crate) fn draw(&self) -> [u8; 32] {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut h = Sha256::new();
        // Lengths first, so no two (run, path) pairs hash the same bytes.
        h.update(b"lanyard random v1\0");
        h.update((self.run_id.len() as u64).to_le_bytes());
        h.update(self.run_id.as_bytes());
        h.update((self.path.len() as u64).to_le_bytes());
        h.update(self.path.as_bytes());
        h.update(n.to_le_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(&h.finalize());
        out
    }
}

/// A version 4 UUID (RFC 9562 layout) from 16 drawn bytes.
pub(crate) fn uuid(bytes: [u8; 32]) -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&bytes[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A number in `[0, 1)` with 53 random bits.
pub(crate) fn unit(bytes: [u8; 32]) -> f64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    (u64::from_le_bytes(b) >> 11) as f64 / (1u64 << 53) as f64
}

/// An integer in `lo..=hi` (`lo <= hi`). The bias of reducing 128 random
/// bits to the range is below 2^-64.
pub(crate) fn between(bytes: [u8; 32], lo: i64, hi: i64) -> i64 {
    let span = (i128::from(hi) - i128::from(lo) + 1) as u128;
    let mut b = [0u8; 16];
    b.copy_from_slice(&bytes[..16]);
    let x = u128::from_le_bytes(b);
    let offset = ((x >> 64) * span + (((x as u64) as u128 * span) >> 64)) >> 64;
    (i128::from(lo) + offset as i128) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_repeat_per_step_and_differ_across_steps_and_runs() {
        let a = Draws::new("run-1".into(), "user");
        let again = Draws::new("run-1".into(), "user");
        let first = a.draw();
        assert_ne!(first, a.draw(), "each draw is new");
        assert_eq!(first, again.draw(), "a second evaluation repeats the first");
        assert_ne!(first, Draws::new("run-1".into(), "user[1]").draw());
        assert_ne!(first, Draws::new("run-2".into(), "user").draw());
        // Lengths are hashed: moving a byte from the id to the path changes the value.
        assert_ne!(
            Draws::new("ab".into(), "c").draw(),
            Draws::new("a".into(), "bc").draw()
        );
    }

    #[test]
    fn uuids_have_the_version_4_layout() {
        let d = Draws::new("run-1".into(), "x");
        let u = uuid(d.draw());
        assert_eq!(u.len(), 36);
        let parts: Vec<&str> = u.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'), "{u}");
        assert!(
            matches!(parts[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "{u}"
        );
        assert_ne!(u, uuid(d.draw()));
    }

    #[test]
    fn numbers_stay_in_their_range_and_spread() {
        let d = Draws::new("run-1".into(), "x");
        let mut seen = [0u32; 6];
        for _ in 0..6000 {
            let f = unit(d.draw());
            assert!((0.0..1.0).contains(&f));
            let n = between(d.draw(), 1, 6);
            assert!((1..=6).contains(&n));
            seen[(n - 1) as usize] += 1;
        }
        // Each face about 1000 times (a fair die is within 850..1150 far more
        // often than one run in a million).
        assert!(seen.iter().all(|&c| (850..1150).contains(&c)), "{seen:?}");
        assert_eq!(between(d.draw(), 5, 5), 5);
        let wide = between(d.draw(), i64::MIN, i64::MAX);
        assert!((i64::MIN..=i64::MAX).contains(&wide));
    }
}
