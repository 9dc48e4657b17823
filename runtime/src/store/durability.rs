//! Group commit: many writers, one sync. A writer that needs its writes durable asks for
//! a sync and waits until one that *started after its writes* has finished; one syncer
//! thread serves everyone who asked meanwhile with a single `fdatasync`.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How commits become durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Each commit syncs before it returns: simplest, slowest (one fdatasync per commit).
    Fsync,
    /// Commits wait for a shared sync; the syncer waits `window` after the first request
    /// to gather more. The default, with a zero window: under load, commits batch
    /// themselves while the previous sync runs.
    Group {
        /// How long to gather requests before syncing.
        window: Duration,
    },
    /// No sync at all: for benchmarks and tests of everything else.
    None,
}

impl Default for Durability {
    fn default() -> Durability {
        Durability::Group {
            window: Duration::ZERO,
        }
    }
}

#[derive(Debug, Default)]
struct Progress {
    /// Syncs started so far.
    started: u64,
    /// Syncs finished so far (successfully or not).
    finished: u64,
    /// Whether someone waits for a sync that has not started yet.
    requested: bool,
    /// The error of the last sync, reported to its waiters.
    last_error: Option<String>,
    /// Set when the owner goes away.
    stopping: bool,
}

/// The shared state between writers and the syncer thread.
#[derive(Debug, Default)]
pub struct GroupCommit {
    progress: Mutex<Progress>,
    changed: Condvar,
}

impl GroupCommit {
    fn lock(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the syncer thread, which calls `sync` for each batch of requests. Join the
    /// returned thread after [`GroupCommit::stop`] to be sure `sync`'s captures are gone.
    pub fn start(
        window: Duration,
        sync: impl Fn() -> Result<(), String> + Send + 'static,
    ) -> (Arc<GroupCommit>, Option<std::thread::JoinHandle<()>>) {
        let shared = Arc::new(GroupCommit::default());
        let worker = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("sandstep-fsync".into())
            .spawn(move || loop {
                {
                    let mut p = worker.lock();
                    while !p.requested && !p.stopping {
                        p = worker.changed.wait(p).unwrap_or_else(|e| e.into_inner());
                    }
                    if p.stopping && !p.requested {
                        return;
                    }
                }
                if !window.is_zero() {
                    std::thread::sleep(window);
                }
                {
                    let mut p = worker.lock();
                    p.requested = false;
                    p.started += 1;
                }
                let result = sync();
                let mut p = worker.lock();
                p.finished += 1;
                p.last_error = result.err();
                worker.changed.notify_all();
            });
        if spawned.is_err() {
            // Without a syncer every commit would hang: fall back to marking the group as
            // stopping so that waiters sync inline (see `wait_durable`).
            shared.lock().stopping = true;
        }
        (shared, spawned.ok())
    }

    /// Blocks until a sync that started after this call has finished.
    ///
    /// # Errors
    /// The sync's error message.
    pub fn wait_durable(&self, inline: impl Fn() -> Result<(), String>) -> Result<(), String> {
        let mut p = self.lock();
        if p.stopping {
            drop(p);
            return inline();
        }
        let target = p.started + 1;
        p.requested = true;
        self.changed.notify_all();
        while p.finished < target {
            p = self.changed.wait(p).unwrap_or_else(|e| e.into_inner());
        }
        match &p.last_error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Stops the syncer once pending requests are served.
    pub fn stop(&self) {
        self.lock().stopping = true;
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn concurrent_waiters_share_syncs() {
        let syncs = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&syncs);
        let (group, _) = GroupCommit::start(Duration::from_millis(2), move || {
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            Ok(())
        });
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let g = Arc::clone(&group);
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        g.wait_durable(|| Ok(())).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let n = syncs.load(Ordering::SeqCst);
        assert!(
            n >= 10,
            "every waiter needs a sync that started after it: {n}"
        );
        assert!(n < 160, "syncs are shared: {n}");
        group.stop();
    }

    #[test]
    fn sync_errors_reach_the_waiters() {
        let (group, _) = GroupCommit::start(Duration::ZERO, || Err("disk full".into()));
        assert_eq!(group.wait_durable(|| Ok(())), Err("disk full".into()));
        group.stop();
    }
}
