//! Time and randomness, which the engine takes only as event fields: one wall clock and one
//! entropy source for the whole runtime, behind [`Clock`] so that a caller can be handed a
//! clock that tests drive ([`ManualClock`]) instead of waiting.

use crate::store::Millis;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

/// Where "now" and random bits come from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now(&self) -> Millis;
    /// Random bits for an engine event (they seed `States.MathRandom`, UUIDs, jitter).
    fn entropy(&self) -> u64;

    /// Signalled when the clock jumps (a test moved it): whoever sleeps until a due time
    /// must look again. `None` for a clock that only moves with real time.
    fn jumps(&self) -> Option<Arc<Notify>> {
        None
    }
}

/// The system's wall clock and the OS's randomness.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        now()
    }

    fn entropy(&self) -> u64 {
        entropy()
    }
}

/// The system's wall clock, in milliseconds since the epoch (0 before 1970).
pub fn now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Random bits: a per-thread generator seeded once from the OS, so that a busy scheduler
/// does not make a system call per event.
pub fn entropy() -> u64 {
    thread_local! {
        static STATE: std::cell::Cell<u64> = std::cell::Cell::new({
            let mut seed = [0u8; 8];
            // Entropy only seeds MathRandom, UUIDs and jitter: a clock-derived fallback
            // is fine.
            if getrandom::fill(&mut seed).is_err() {
                seed = (now() as u64 ^ 0x9E37_79B9_7F4A_7C15).to_le_bytes();
            }
            u64::from_le_bytes(seed) | 1
        });
    }
    STATE.with(|s| {
        let mut rng = sandstep_engine::rng::Rng::new(s.get());
        let v = rng.next_u64();
        s.set(v);
        v
    })
}

/// A new secret of 128 random bits from the OS, in hex: the key an execution's task
/// tokens are derived from. Should the OS refuse, two draws of [`entropy`] stand in (the
/// server then logs it: tokens are less unguessable).
pub fn secret() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        tracing::warn!("the OS gave no randomness for a task-token key");
        bytes[..8].copy_from_slice(&entropy().to_le_bytes());
        bytes[8..].copy_from_slice(&entropy().to_le_bytes());
    }
    crate::store::data::hex(&bytes)
}

/// A clock that moves only when told, with entropy that counts up: for tests.
#[derive(Debug)]
pub struct ManualClock {
    now: AtomicI64,
    entropy: AtomicU64,
    jumped: Arc<Notify>,
}

impl ManualClock {
    /// A clock standing at `now`.
    pub fn at(now: Millis) -> ManualClock {
        ManualClock {
            now: AtomicI64::new(now),
            entropy: AtomicU64::new(1),
            jumped: Arc::new(Notify::new()),
        }
    }

    /// Moves the clock forward by `millis`.
    pub fn advance(&self, millis: Millis) {
        self.now.fetch_add(millis, Ordering::SeqCst);
        // One waiter (the timer service); a permit is kept if it is not waiting yet.
        self.jumped.notify_one();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }

    fn entropy(&self) -> u64 {
        self.entropy.fetch_add(1, Ordering::SeqCst)
    }

    fn jumps(&self) -> Option<Arc<Notify>> {
        Some(Arc::clone(&self.jumped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_is_after_2020_and_entropy_varies() {
        assert!(SystemClock.now() > 1_577_836_800_000);
        let a: Vec<u64> = (0..4).map(|_| SystemClock.entropy()).collect();
        assert!(a.windows(2).all(|w| w[0] != w[1]), "{a:?}");
    }

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let c = ManualClock::at(1_000);
        assert_eq!(c.now(), 1_000);
        assert_eq!(c.now(), 1_000);
        c.advance(500);
        assert_eq!(c.now(), 1_500);
        assert_ne!(c.entropy(), c.entropy());
    }
}
