//! The timer service: one task holding every pending timer in order, sleeping until the
//! earliest. A waiting execution costs one entry, no task and no thread; a timer its
//! execution no longer needs (a step cancelled it, the execution ended) is taken out, so
//! a long one (an execution's one-year limit) holds memory only while it can still fire.

use crate::clock::Clock;
use crate::model::ExecutionKey;
use sandstep_engine::{Millis, TimerId};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A timer that fired.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Fired {
    /// When it was due.
    pub due: Millis,
    /// Whose it is.
    pub execution: ExecutionKey,
    /// Which one.
    pub timer: TimerId,
    /// The run it belongs to (its execution's start time; `None` from stores written
    /// before runs were recorded). Timer ids restart at 1 in every execution, so a
    /// stale timer of an earlier run with the same name must not fire into a later one.
    pub run: Option<Millis>,
}

/// A change to the service's timers.
#[derive(Debug)]
enum Change {
    Add(Fired),
    Cancel(Fired),
}

/// Adds and cancels the service's timers.
#[derive(Debug, Clone)]
pub struct Handle(mpsc::UnboundedSender<Change>, Arc<AtomicUsize>);

impl Handle {
    /// Schedules a timer; a due time in the past fires at once.
    pub fn add(&self, due: Millis, execution: ExecutionKey, timer: TimerId, run: Option<Millis>) {
        // The service stops only at shutdown; a timer added then is moot (recovery
        // re-arms it from the store).
        let _ = self.0.send(Change::Add(Fired {
            due,
            execution,
            timer,
            run,
        }));
    }

    /// Takes out a timer added with the same values; one already fired or never added is
    /// no matter.
    pub fn cancel(
        &self,
        due: Millis,
        execution: ExecutionKey,
        timer: TimerId,
        run: Option<Millis>,
    ) {
        let _ = self.0.send(Change::Cancel(Fired {
            due,
            execution,
            timer,
            run,
        }));
    }

    /// Timers armed in the service right now (changes still in its queue are not counted
    /// yet).
    pub fn armed(&self) -> usize {
        self.1.load(Ordering::Relaxed)
    }
}

/// The service's loop, not yet running: see [`Service::run`].
#[derive(Debug)]
pub struct Service {
    added: mpsc::UnboundedReceiver<Change>,
    fire: mpsc::UnboundedSender<Fired>,
    armed: Arc<AtomicUsize>,
    clock: Arc<dyn Clock>,
}

/// The service on `clock`: a handle to add timers, its loop, and where due timers come
/// out.
pub fn new(clock: Arc<dyn Clock>) -> (Handle, Service, mpsc::UnboundedReceiver<Fired>) {
    let (tx, added) = mpsc::unbounded_channel::<Change>();
    let (fire, fired) = mpsc::unbounded_channel::<Fired>();
    let armed = Arc::new(AtomicUsize::new(0));
    let service = Service {
        added,
        fire,
        armed: Arc::clone(&armed),
        clock,
    };
    (Handle(tx, armed), service, fired)
}

impl Service {
    /// Sleeps until the earliest timer is due and sends it out; ends when every handle
    /// or the receiver of due timers is gone. A clock that jumps wakes it up early.
    pub async fn run(mut self) {
        // In due order (a `Fired` orders by its due time first).
        let mut timers: BTreeSet<Fired> = BTreeSet::new();
        let jumps = self.clock.jumps();
        loop {
            self.armed.store(timers.len(), Ordering::Relaxed);
            let wait = timers.first().map(|t| t.due - self.clock.now());
            if wait.is_some_and(|ms| ms <= 0) {
                if let Some(t) = timers.pop_first() {
                    if self.fire.send(t).is_err() {
                        return; // nobody listens any more
                    }
                }
                continue;
            }
            let sleep = tokio::time::sleep(Duration::from_millis(
                wait.map(|ms| ms as u64).unwrap_or(3_600_000),
            ));
            let jumped = async {
                match &jumps {
                    Some(jumps) => jumps.notified().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                added = self.added.recv() => match added {
                    Some(Change::Add(t)) => {
                        timers.insert(t);
                    }
                    Some(Change::Cancel(t)) => {
                        timers.remove(&t);
                    }
                    None => return,
                },
                () = sleep => {}
                () = jumped => {}
            }
        }
    }
}
