//! Group commit: many writers, one sync. A writer that needs its writes durable asks for
//! a sync and waits until one that *started after its writes* has finished; one syncer
//! thread serves everyone who asked meanwhile with a single `fdatasync`.
//!
//! Writers wait in one of two ways: blocking ([`GroupCommit::wait_durable`], for rare
//! administrative writes) or asynchronously ([`GroupCommit::request`] + [`Pending::wait`],
//! for the scheduler's commits). The async way matters: a blocked runtime worker cannot
//! take on more commits, so with two workers at most two commits would share a sync.

use super::Error;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

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
    /// The first sync failure. It is sticky: after a failed fdatasync the kernel may have
    /// dropped the dirty pages ("fsyncgate"), so no later sync can vouch for earlier
    /// writes. Every later commit fails until the server restarts and recovers from what
    /// the disk really holds.
    failed: Option<String>,
    /// Set when the owner goes away.
    stopping: bool,
}

/// What async waiters watch: how many syncs have finished, and the sticky failure.
#[derive(Debug, Clone, Default)]
struct Synced {
    finished: u64,
    failed: Option<Arc<str>>,
}

/// The shared state between writers and the syncer thread.
#[derive(Debug)]
pub struct GroupCommit {
    progress: Mutex<Progress>,
    changed: Condvar,
    synced: watch::Sender<Synced>,
}

impl Default for GroupCommit {
    fn default() -> GroupCommit {
        GroupCommit {
            progress: Mutex::default(),
            changed: Condvar::new(),
            synced: watch::Sender::new(Synced::default()),
        }
    }
}

/// Writes on their way to disk: acknowledge them only after [`Pending::wait`] returns.
#[derive(Debug)]
#[must_use = "writes are not durable until the wait returns"]
pub struct Pending(Wait);

#[derive(Debug)]
enum Wait {
    /// Durable already.
    Done,
    /// Durable once sync number `.1` has finished.
    Sync(watch::Receiver<Synced>, u64),
    /// The store cannot make writes durable any more.
    Failed(Arc<str>),
}

impl Pending {
    /// Writes that are durable already (synced inline, or no sync needed).
    pub fn done() -> Pending {
        Pending(Wait::Done)
    }

    /// Waits, without blocking a thread, until the writes are durable.
    ///
    /// # Errors
    /// The store's sync failure (sticky: see `Progress::failed`).
    pub async fn wait(self) -> super::Result<()> {
        let (mut synced, target) = match self.0 {
            Wait::Done => return Ok(()),
            Wait::Failed(e) => return Err(Error::Backend(e.to_string())),
            Wait::Sync(synced, target) => (synced, target),
        };
        let synced = synced
            .wait_for(|s| s.finished >= target || s.failed.is_some())
            .await
            .map_err(|_| Error::Backend("the store's syncer stopped".into()))?;
        match &synced.failed {
            Some(e) => Err(Error::Backend(e.to_string())),
            None => Ok(()),
        }
    }
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
                // A panic inside the sync (sled's flush) must not leave every waiter
                // hanging: it is a failure like any other.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&sync))
                    .unwrap_or_else(|_| Err("the store's sync panicked".into()));
                let mut p = worker.lock();
                p.finished += 1;
                if let Err(e) = result {
                    p.failed.get_or_insert(e);
                }
                worker.changed.notify_all();
                let synced = Synced {
                    finished: p.finished,
                    failed: p.failed.as_deref().map(Arc::from),
                };
                drop(p);
                worker.synced.send_replace(synced);
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
    /// The store's sync failure (sticky).
    pub fn wait_durable(&self, inline: impl Fn() -> Result<(), String>) -> Result<(), String> {
        let mut p = self.lock();
        if let Some(e) = &p.failed {
            return Err(e.clone());
        }
        if p.stopping {
            drop(p);
            return self.record(inline());
        }
        let target = p.started + 1;
        p.requested = true;
        self.changed.notify_all();
        while p.finished < target && p.failed.is_none() {
            p = self.changed.wait(p).unwrap_or_else(|e| e.into_inner());
        }
        match &p.failed {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Keeps the first failure of an inline sync, like the syncer does.
    fn record(&self, result: Result<(), String>) -> Result<(), String> {
        if let Err(e) = &result {
            self.lock().failed.get_or_insert_with(|| e.clone());
        }
        result
    }

    /// Asks for a sync that starts after this call, to be awaited with [`Pending::wait`].
    /// `None` when the syncer is gone: then the caller syncs inline.
    pub fn request(&self) -> Option<Pending> {
        let mut p = self.lock();
        if let Some(e) = &p.failed {
            return Some(Pending(Wait::Failed(Arc::from(e.as_str()))));
        }
        if p.stopping {
            return None;
        }
        let target = p.started + 1;
        p.requested = true;
        self.changed.notify_all();
        Some(Pending(Wait::Sync(self.synced.subscribe(), target)))
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
    fn async_waiters_share_syncs() {
        let syncs = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&syncs);
        let (group, _) = GroupCommit::start(Duration::ZERO, move || {
            counter.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(5));
            Ok(())
        });
        // One thread, many commits in flight: they can only share syncs if waiting does
        // not block the thread.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let waits: Vec<_> = (0..64)
                .map(|_| {
                    let g = Arc::clone(&group);
                    tokio::spawn(async move { g.request().unwrap().wait().await })
                })
                .collect();
            for w in waits {
                w.await.unwrap().unwrap();
            }
        });
        let n = syncs.load(Ordering::SeqCst);
        assert!((1..=3).contains(&n), "64 commits, {n} syncs");
        group.stop();
    }

    #[test]
    fn a_waiter_sees_only_a_sync_that_started_after_it() {
        let (group, _) = GroupCommit::start(Duration::ZERO, || Ok(()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            group.request().unwrap().wait().await.unwrap();
            let pending = group.request().unwrap();
            let Pending(Wait::Sync(_, target)) = &pending else {
                panic!("a running syncer hands out tickets");
            };
            assert_eq!(*target, 2);
            pending.wait().await.unwrap();
        });
        group.stop();
        assert!(group.request().is_none(), "a stopped group syncs inline");
    }

    #[test]
    fn sync_errors_reach_async_waiters() {
        let (group, _) = GroupCommit::start(Duration::ZERO, || Err("disk full".into()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let result = rt.block_on(group.request().unwrap().wait());
        assert!(matches!(result, Err(Error::Backend(e)) if e == "disk full"));
        group.stop();
    }

    #[test]
    fn a_sync_failure_is_sticky() {
        let calls = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&calls);
        // The first sync fails, later ones would succeed: the failure must still stand.
        let (group, _) = GroupCommit::start(Duration::ZERO, move || {
            match counter.fetch_add(1, Ordering::SeqCst) {
                0 => Err("EIO".into()),
                _ => Ok(()),
            }
        });
        assert_eq!(group.wait_durable(|| Ok(())), Err("EIO".into()));
        assert_eq!(group.wait_durable(|| Ok(())), Err("EIO".into()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let later = rt.block_on(group.request().unwrap().wait());
        assert!(matches!(later, Err(Error::Backend(e)) if e == "EIO"));
        group.stop();
    }

    #[test]
    fn a_panicking_sync_fails_its_waiters_instead_of_hanging_them() {
        let (group, _) = GroupCommit::start(Duration::ZERO, || panic!("sled exploded"));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let result = rt.block_on(group.request().unwrap().wait());
        assert!(matches!(result, Err(Error::Backend(e)) if e.contains("panicked")));
        group.stop();
    }

    #[test]
    fn sync_errors_reach_the_waiters() {
        let (group, _) = GroupCommit::start(Duration::ZERO, || Err("disk full".into()));
        assert_eq!(group.wait_durable(|| Ok(())), Err("disk full".into()));
        group.stop();
    }
}
