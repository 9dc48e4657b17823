//! The clocks a WASI command sees: virtual, not the host's.
//!
//! Time starts at the invocation's start (wall clock) or zero (monotonic) and advances one
//! microsecond per reading, so a command can measure "elapsed" without learning anything
//! about the host, and two runs of the same input read the same times.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

#[derive(Debug, Clone)]
pub(crate) struct VirtualClock {
    start: Duration,
    readings: Arc<AtomicU64>,
}

impl VirtualClock {
    /// A clock whose wall time starts at `start` (since the Unix epoch).
    pub(crate) fn starting_at(start: Duration) -> VirtualClock {
        VirtualClock {
            start,
            readings: Arc::new(AtomicU64::new(0)),
        }
    }

    fn tick(&self) -> u64 {
        self.readings
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1)
    }
}

impl HostWallClock for VirtualClock {
    fn resolution(&self) -> Duration {
        Duration::from_micros(1)
    }

    fn now(&self) -> Duration {
        self.start
            .saturating_add(Duration::from_micros(self.tick()))
    }
}

impl HostMonotonicClock for VirtualClock {
    fn resolution(&self) -> u64 {
        1000
    }

    fn now(&self) -> u64 {
        self.tick().saturating_mul(1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_one_microsecond_per_reading() {
        let c = VirtualClock::starting_at(Duration::from_secs(100));
        assert_eq!(HostMonotonicClock::now(&c), 1000);
        assert_eq!(HostWallClock::now(&c), Duration::from_micros(100_000_002));
        assert_eq!(HostMonotonicClock::now(&c), 3000);
    }
}
