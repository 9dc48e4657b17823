//! The clocks of one invocation: its deadline, its heartbeat and its cancel flag, checked
//! from the epoch callback about once a millisecond while the module runs.
//!
//! Deadlines are measured from `Instant`s, never counted in epoch ticks: the ticker
//! thread's sleeps drift, the clock does not.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Stops a running invocation from another thread (StopExecution, shutdown).
///
/// Cheap to clone; cancelling before the invocation starts stops it at its first check.
#[derive(Debug, Clone, Default)]
pub struct CancelHandle(Arc<AtomicBool>);

impl From<Arc<AtomicBool>> for CancelHandle {
    /// Shares a flag the caller already sets (the scheduler's per-task cancel flag).
    fn from(flag: Arc<AtomicBool>) -> CancelHandle {
        CancelHandle(flag)
    }
}

impl CancelHandle {
    /// A handle that has not been cancelled.
    pub fn new() -> CancelHandle {
        CancelHandle::default()
    }

    /// Asks the invocation to stop; it ends within about a millisecond.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether [`CancelHandle::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Hears a module's heartbeats as they happen: the scheduler passes them on to the
/// engine's heartbeat timer, which outlives this invocation.
#[derive(Clone, Default)]
pub struct BeatListener(Option<Arc<dyn Fn() + Send + Sync>>);

impl BeatListener {
    /// Calls `heard` on every heartbeat, on the module's thread: keep it cheap.
    pub fn new(heard: impl Fn() + Send + Sync + 'static) -> BeatListener {
        BeatListener(Some(Arc::new(heard)))
    }

    fn heard(&self) {
        if let Some(heard) = &self.0 {
            heard();
        }
    }
}

impl std::fmt::Debug for BeatListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "BeatListener(listening)"
        } else {
            "BeatListener(none)"
        })
    }
}

/// Why the watch stopped a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Interrupt {
    /// The wall-clock deadline passed.
    #[error("the task ran past its deadline of {0:?}")]
    Deadline(Duration),
    /// No heartbeat came within the heartbeat interval.
    #[error("no heartbeat within {0:?}")]
    Heartbeat(Duration),
    /// The invocation was cancelled.
    #[error("the task was cancelled")]
    Cancelled,
}

/// The per-invocation clocks.
#[derive(Debug)]
pub(crate) struct Watch {
    timeout: Duration,
    deadline: Instant,
    heartbeat: Option<Duration>,
    last_beat: Instant,
    cancel: CancelHandle,
    listener: BeatListener,
    /// Set by the epoch callback when it stops the module: the reliable way to learn
    /// why a call ended, whatever wraps the error on its way out.
    pub(crate) fired: Option<Interrupt>,
}

impl Watch {
    pub(crate) fn new(
        started: Instant,
        timeout: Duration,
        heartbeat: Option<Duration>,
        cancel: CancelHandle,
    ) -> Watch {
        Watch {
            timeout,
            deadline: started.checked_add(timeout).unwrap_or(started),
            heartbeat,
            last_beat: started,
            cancel,
            listener: BeatListener::default(),
            fired: None,
        }
    }

    /// The watch also tells `listener` of each heartbeat.
    pub(crate) fn heard_by(self, listener: BeatListener) -> Watch {
        Watch { listener, ..self }
    }

    /// How long until the deadline.
    pub(crate) fn remaining(&self, now: Instant) -> Duration {
        self.deadline.saturating_duration_since(now)
    }

    /// A heartbeat: the heartbeat clock starts again.
    pub(crate) fn beat(&mut self, now: Instant) {
        self.last_beat = now;
        self.listener.heard();
    }

    /// Whether the module must stop now, and why. Records the reason.
    pub(crate) fn check(&mut self, now: Instant) -> Option<Interrupt> {
        let reason = if self.cancel.is_cancelled() {
            Some(Interrupt::Cancelled)
        } else if now >= self.deadline {
            Some(Interrupt::Deadline(self.timeout))
        } else {
            self.heartbeat
                .filter(|interval| now.duration_since(self.last_beat) >= *interval)
                .map(Interrupt::Heartbeat)
        };
        if reason.is_some() {
            self.fired = reason;
        }
        reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_heartbeat_and_cancel() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut w = Watch::new(t0, ms(100), Some(ms(30)), CancelHandle::new());
        assert_eq!(w.check(t0 + ms(20)), None);
        w.beat(t0 + ms(20));
        assert_eq!(w.check(t0 + ms(45)), None);
        assert_eq!(w.check(t0 + ms(50)), Some(Interrupt::Heartbeat(ms(30))));
        w.beat(t0 + ms(95));
        assert_eq!(w.check(t0 + ms(100)), Some(Interrupt::Deadline(ms(100))));
        let cancel = CancelHandle::new();
        let mut w = Watch::new(t0, ms(100), None, cancel.clone());
        assert_eq!(w.check(t0), None);
        cancel.cancel();
        assert_eq!(w.check(t0), Some(Interrupt::Cancelled));
        assert_eq!(w.fired, Some(Interrupt::Cancelled));
    }
}
