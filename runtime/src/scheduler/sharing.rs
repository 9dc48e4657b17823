//! Module tasks shared between the servers of a cluster. A tenant's executions run on one
//! server (`cluster.rs`), but the cores their modules use need not be that server's: when
//! it already runs as many module tasks as it gives cores to ([`Options::share_above`]),
//! a task is offered to the other servers, and one less loaded than this one (fewer module
//! tasks for each task of its share) runs it and streams back its progress and its result
//! (`cluster/tasks.rs`). When none is less loaded, the task runs here, as it would on one
//! server. A task being offered counts as running here until another server takes it, so
//! tasks arriving together see each other. So a backlog spreads over the servers in
//! proportion to their shares (counted in tasks: a module waiting on the network counts
//! as one that computes), and below the share no task leaves its server.
//!
//! The server that runs the execution keeps everything that decides: the tenant's task
//! slots (so its concurrent-task quota holds whichever server runs the module), the task's
//! timers, its events and their commits. The other server only runs the module, with the
//! same pins and grants. A task whose server fails before answering is run again here (at
//! least once, as after a crash); a task no longer wanted (a stop, a timeout, a failed
//! branch) is dropped, which cancels it there.
//!
//! [`Options::share_above`]: super::Options::share_above

use super::runner::TaskContext;
use super::Scheduler;
use futures_util::future::BoxFuture;
use sandstep_engine::EventKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// What became of a task offered to the other servers.
#[derive(Debug, Clone, PartialEq)]
pub enum Offered {
    /// Another server ran it: its result.
    Ran(Box<EventKind>),
    /// No other server had room: it runs here.
    Declined,
    /// The server running it failed before answering (it died, or the network between
    /// failed): it runs again here.
    Lost(String),
    /// It was no longer wanted while it ran there, and was stopped.
    Dropped,
}

/// How loaded a server is with module tasks: how many run, and its share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Load {
    /// Module tasks running.
    pub running: usize,
    /// How many it runs before it offers the next to others (at least 1).
    pub share: usize,
}

impl Load {
    /// Whether this load is lighter than `other`: fewer tasks for each task of the share.
    pub fn lighter_than(&self, other: &Load) -> bool {
        let widen = |n: usize| u128::try_from(n).unwrap_or(u128::MAX);
        widen(self.running) * widen(other.share.max(1))
            < widen(other.running) * widen(self.share.max(1))
    }
}

/// The other servers a task may run on.
pub trait TaskPeers: Send + Sync + std::fmt::Debug + 'static {
    /// Offers `task`, from a server as loaded as `load`, to the other servers, and runs it
    /// on the first less loaded. `offered` counts the task as running on the offering
    /// server until another takes it (then it is dropped). Its reports (started, alive)
    /// go to `task.progress` as they come; when `task.cancelled` is set, the run there is
    /// stopped and the answer is [`Offered::Dropped`].
    fn offer(&self, task: TaskContext, load: Load, offered: Busy) -> BoxFuture<'static, Offered>;
}

/// A module task counted as running in this process, until dropped.
#[derive(Debug)]
pub struct Busy(Arc<AtomicUsize>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Scheduler {
    /// One more module task running here, if fewer than [`Options::share_above`] run
    /// already: the one admission for this server's own tasks and other servers' alike.
    ///
    /// [`Options::share_above`]: super::Options::share_above
    /// How loaded this server is, its running tasks counted as `running`.
    fn load_with(&self, running: usize) -> Load {
        Load {
            running,
            share: self.inner.opts.share_above.max(1),
        }
    }

    /// One more module task running here, room or not; and how many ran before it.
    pub(super) fn running_here(&self) -> (Busy, usize) {
        let running = &self.inner.sharing.running;
        let before = running.fetch_add(1, Ordering::SeqCst);
        (Busy(Arc::clone(running)), before)
    }

    /// Runs a module task, here or on another server; its result, or `None` when it was
    /// dropped unanswered (no longer wanted, or the server is stopping). The tenant's task
    /// slot is the caller's.
    pub(super) async fn run_module(&self, task: TaskContext) -> Option<EventKind> {
        let room = match &self.inner.opts.peers {
            None => None,
            Some(peers) => match self.running_here() {
                (room, before) if before < self.inner.opts.share_above => Some(room),
                (offered, before) => {
                    match peers
                        .offer(task.clone(), self.load_with(before), offered)
                        .await
                    {
                        Offered::Ran(kind) => {
                            self.inner.counters.shared.fetch_add(1, Ordering::Relaxed);
                            return Some(*kind);
                        }
                        Offered::Dropped => return None,
                        Offered::Declined => None,
                        Offered::Lost(why) => {
                            self.inner.counters.rerun.fetch_add(1, Ordering::Relaxed);
                            tracing::warn!(
                                execution = %task.execution_arn,
                                state = %task.request.state_name,
                                %why,
                                "the server running a task failed; running it again here"
                            );
                            None
                        }
                    }
                }
            },
        };
        let Ok(_permit) = Arc::clone(&self.inner.task_slots).acquire_owned().await else {
            return None;
        };
        if task.cancelled.load(Ordering::SeqCst) {
            return None;
        }
        // Counted as running here whether or not it found room (one that found none runs
        // here anyway: every server was busy).
        let _running = room.unwrap_or_else(|| self.running_here().0);
        Some(self.run_here(task).await)
    }

    /// Runs a module task in this process's sandbox on a blocking thread; its result.
    async fn run_here(&self, task: TaskContext) -> EventKind {
        let id = task.request.id;
        let runner = Arc::clone(&self.inner.runner);
        tokio::task::spawn_blocking(move || runner.run(task))
            .await
            .unwrap_or_else(|e| EventKind::TaskFailed {
                task: id,
                error: "States.TaskFailed".into(),
                cause: format!("the task runner failed: {e}"),
                usage: None,
            })
    }

    /// Runs another server's module task here, if this server is less loaded than the
    /// one offering it (`theirs`) and a task slot is free; `None` otherwise, and the other
    /// server looks elsewhere.
    pub fn run_for_peer(
        &self,
        task: TaskContext,
        theirs: Load,
    ) -> Option<impl std::future::Future<Output = EventKind> + Send + 'static> {
        // A server alone has no other servers' tasks to run.
        self.inner.opts.peers.as_ref()?;
        let (room, before) = self.running_here();
        if !self.load_with(before).lighter_than(&theirs) {
            return None;
        }
        let permit = Arc::clone(&self.inner.task_slots)
            .try_acquire_owned()
            .ok()?;
        let me = self.clone();
        self.inner
            .counters
            .for_peers
            .fetch_add(1, Ordering::Relaxed);
        Some(async move {
            let answer = me.run_here(task).await;
            drop((room, permit));
            answer
        })
    }

    /// How many module tasks run in this process now (its own and other servers').
    pub fn modules_running(&self) -> usize {
        self.inner.sharing.running.load(Ordering::SeqCst)
    }
}

/// The scheduler's part in sharing tasks.
#[derive(Debug, Default)]
pub(super) struct Sharing {
    /// Module tasks running in this process.
    running: Arc<AtomicUsize>,
}
