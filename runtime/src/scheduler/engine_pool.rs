//! Where engine work runs: a few threads of their own, off the async runtime, shared
//! fairly between tenants.
//!
//! Engine steps are CPU work (state transitions, JSON building, intrinsics, replay). On
//! the request-handling runtime a long one would starve every other request; here it
//! takes a pool thread, and the pool takes jobs round-robin by tenant, so a tenant with
//! many queued steps delays another tenant's step by at most one step per thread. Steps
//! are short by construction (the engine yields after [`sandstep_engine::limits::STEP_WORK`]).
//!
//! The threads have a known stack ([`STACK_BYTES`]); every recursive consumer of the
//! engine's data is bounded far below it by the data limits (nesting depth, parser
//! depth), not by luck. Each job names the execution it works on in the [`Journal`], so
//! a job that takes the process down is known at the next start.

use super::quarantine::Journal;
use crate::model::ExecutionKey;
use crate::store::TenantId;
use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// The stack of each engine thread.
pub const STACK_BYTES: usize = 16 << 20;

/// Why a job did not return.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The job panicked (a bug): its execution is left as it was before the job.
    #[error("the engine failed: {0}")]
    Panicked(String),
    /// The pool is shutting down.
    #[error("the engine pool is shut down")]
    Closed,
}

type Job = Box<dyn FnOnce(usize) + Send>;

#[derive(Default)]
struct Queue {
    /// Tenants with queued jobs, in the order they are served.
    turn: VecDeque<TenantId>,
    jobs: HashMap<TenantId, VecDeque<Job>>,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    journal: Option<Journal>,
}

/// Fault injection for the quarantine's end-to-end test: names an execution whose events
/// and replays (not its start) abort the process, as a step that overflows its stack did
/// before the depth limits. Unset in normal use.
pub const FAULT_ABORT_VAR: &str = "SANDSTEP_FAULT_ABORT_EXECUTION";

/// Aborts the process when [`FAULT_ABORT_VAR`] names `key`'s execution.
pub fn inject_fault(key: &ExecutionKey) {
    static NAME: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let name = NAME.get_or_init(|| {
        std::env::var(FAULT_ABORT_VAR)
            .ok()
            .filter(|v| !v.is_empty())
    });
    if name.as_deref() == Some(key.name.as_str()) {
        tracing::error!(execution = %key.name, "fault injection: aborting");
        std::process::abort();
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The pool. Dropping it stops its threads once their current job is done.
pub struct EnginePool {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for EnginePool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnginePool").finish_non_exhaustive()
    }
}

impl EnginePool {
    /// Starts `threads` engine threads (at least one). With a journal, each thread marks
    /// the execution it works on in its own slot (slot = thread index).
    ///
    /// # Errors
    /// When the OS refuses a thread.
    pub fn start(threads: usize, journal: Option<Journal>) -> std::io::Result<EnginePool> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            journal,
        });
        for index in 0..threads.max(1) {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("sandstep-engine-{index}"))
                .stack_size(STACK_BYTES)
                .spawn(move || work(&shared, index))?;
        }
        Ok(EnginePool { shared })
    }

    /// Runs `job` on a pool thread in `tenant`'s turn and returns its result with the
    /// time it took. The job names `execution` in the journal while it runs.
    ///
    /// # Errors
    /// [`Error::Panicked`] when the job panicked, [`Error::Closed`] at shutdown.
    pub async fn run<R: Send + 'static>(
        &self,
        tenant: &TenantId,
        execution: Option<ExecutionKey>,
        job: impl FnOnce() -> R + Send + 'static,
    ) -> Result<(R, Duration), Error> {
        let (tx, rx) = oneshot::channel();
        let shared = Arc::clone(&self.shared);
        let boxed: Job = Box::new(move |slot| {
            if let (Some(journal), Some(key)) = (&shared.journal, &execution) {
                journal.mark(slot, key);
            }

            let began = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(job));
            let took = began.elapsed();
            if let (Some(journal), Some(_)) = (&shared.journal, &execution) {
                journal.clear(slot);
            }
            let _ = tx.send(result.map(|r| (r, took)).map_err(|p| panic_text(&*p)));
        });
        {
            let mut queue = self.shared.lock();
            if queue.closed {
                return Err(Error::Closed);
            }
            let jobs = queue.jobs.entry(tenant.clone()).or_default();
            let first = jobs.is_empty();
            jobs.push_back(boxed);
            if first {
                queue.turn.push_back(tenant.clone());
            }
        }
        self.shared.ready.notify_one();
        match rx.await {
            Ok(Ok(done)) => Ok(done),
            Ok(Err(text)) => Err(Error::Panicked(text)),
            Err(_) => Err(Error::Closed),
        }
    }
}

impl Drop for EnginePool {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.ready.notify_all();
    }
}

/// A pool thread: takes the next tenant's next job until the pool closes.
fn work(shared: &Shared, slot: usize) {
    loop {
        let job = {
            let mut queue = shared.lock();
            loop {
                if queue.closed {
                    return;
                }
                if let Some(job) = next(&mut queue) {
                    break job;
                }
                queue = shared.ready.wait(queue).unwrap_or_else(|p| p.into_inner());
            }
        };
        job(slot);
    }
}

/// Round-robin: the tenant at the front gives one job and goes to the back if it has more.
fn next(queue: &mut Queue) -> Option<Job> {
    while let Some(tenant) = queue.turn.pop_front() {
        let Some(jobs) = queue.jobs.get_mut(&tenant) else {
            continue;
        };
        let job = jobs.pop_front();
        if jobs.is_empty() {
            queue.jobs.remove(&tenant);
        } else {
            queue.turn.push_back(tenant);
        }
        if job.is_some() {
            return job;
        }
    }
    None
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn tenant(name: &str) -> TenantId {
        TenantId(name.into())
    }

    #[tokio::test]
    async fn runs_jobs_and_reports_their_time_and_panics() {
        let pool = EnginePool::start(2, None).unwrap();
        let (v, _took) = pool.run(&tenant("a"), None, || 41 + 1).await.unwrap();
        assert_eq!(v, 42);
        #[allow(clippy::panic)]
        let failed = pool.run(&tenant("a"), None, || panic!("boom")).await;
        assert!(matches!(failed, Err(Error::Panicked(t)) if t == "boom"));
        // The thread survived its job's panic.
        assert_eq!(pool.run(&tenant("a"), None, || 1).await.unwrap().0, 1);
    }

    #[tokio::test]
    async fn deep_recursion_fits_the_known_stack() {
        fn down(n: u32) -> u32 {
            // A frame the optimiser cannot shrink: the pad is passed on by reference.
            let pad = std::hint::black_box([n as u8; 512]);
            if n == 0 {
                return 0;
            }
            down(n - 1) + u32::from(std::hint::black_box(&pad)[1] == 0 && n > 1 << 20)
        }
        // ~10,000 frames of > 512 bytes: several MiB, more than a default 2 MiB stack.
        let pool = EnginePool::start(1, None).unwrap();
        assert_eq!(
            pool.run(&tenant("a"), None, || down(10_000))
                .await
                .unwrap()
                .0,
            0
        );
    }

    #[test]
    fn tenants_take_turns() {
        let mut queue = Queue::default();
        let order = Arc::new(Mutex::new(Vec::new()));
        for (t, n) in [("a", 3), ("b", 2)] {
            for i in 0..n {
                let order = Arc::clone(&order);
                let job: Job = Box::new(move |_| order.lock().unwrap().push(format!("{t}{i}")));
                let jobs = queue.jobs.entry(tenant(t)).or_default();
                if jobs.is_empty() {
                    queue.turn.push_back(tenant(t));
                }
                jobs.push_back(job);
            }
        }
        while let Some(job) = next(&mut queue) {
            job(0);
        }
        assert_eq!(*order.lock().unwrap(), ["a0", "b0", "a1", "b1", "a2"]);
    }

    #[tokio::test]
    async fn dropping_the_pool_stops_its_threads() {
        let started = Arc::new(AtomicUsize::new(0));
        let pool = EnginePool::start(2, None).unwrap();
        let s = Arc::clone(&started);
        pool.run(&tenant("a"), None, move || s.fetch_add(1, Ordering::SeqCst))
            .await
            .unwrap();
        let shared = Arc::clone(&pool.shared);
        drop(pool);
        for _ in 0..200 {
            if Arc::strong_count(&shared) == 1 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("the threads still hold the pool");
    }
}
