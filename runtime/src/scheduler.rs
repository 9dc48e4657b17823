//! The scheduler runs the engine's commands: tasks on the runner, timers on the timer
//! service, history and state into the store. Standard executions commit every step
//! durably before its effects run; Express executions stay in memory.
//!
//! Every event for an execution is applied under that execution's lock, to a state that
//! is either cached or rebuilt by replaying the stored steps. Executions that only wait
//! on timers are evicted from the cache: a year-long Wait costs a heap entry.
//!
//! The shape is Options + Service + Handle: [`Scheduler::build`] takes [`Options`] and
//! answers the cheap, clonable handle callers use ([`Scheduler`]) and its loops, not yet
//! running ([`Service`]: timers and retention), which the server runs until shutdown.
//! Time and entropy come from the [`Clock`] in the options, so tests drive time.
//!
//! This file holds the scheduler's state and the delivery of events under each
//! execution's lock; its other concerns are parts of their own: `start`, `absorb` (a
//! step's commands into a commit and effects), `task_slots`, `recovery`, `trace`,
//! `retention` and `service` (the loops).

mod absorb;
mod activities;
pub mod doorbells;
pub mod engine_pool;
mod handover;
pub mod jobs;
pub mod map_runs;
pub mod metrics;
pub mod nested;
pub mod quarantine;
mod recovery;
mod redrive;
mod retention;
pub mod runner;
mod service;
pub mod sharing;
mod start;
pub mod status;
mod task_slots;
#[cfg(test)]
mod tests;
pub mod timers;
mod trace;

pub use metrics::Counters;
pub use service::Service;
pub use trace::history_of;

use crate::clock::{Clock, SystemClock};
use crate::model::{Execution, ExecutionKey, MachineType, Revision, StateMachine, Status};
use crate::quotas::QuotaPolicy;
use crate::store::executions::{Commit, Started, Step};
use crate::store::{self, Activities as _, Executions, StateMachines, Store, TenantId};
use engine_pool::EnginePool;
use quarantine::{Journal, Strikes};
use runner::{Progress, TaskContext, TaskRunner};
use sandstep_engine::{
    step, Command, Definition, Details, Event, EventKind, ExecutionState, HistoryEvent, Limits,
    Millis, Outcome, Start, TaskId, TaskRequest, TimerId, Trace,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, Semaphore};

/// The longest a Standard execution runs, as on AWS: one year.
pub const STANDARD_LIMIT_SECONDS: u64 = 365 * 24 * 3600;

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where now and entropy come from: the system's, or a test's [`ManualClock`].
    ///
    /// [`ManualClock`]: crate::clock::ManualClock
    pub clock: Arc<dyn Clock>,
    /// Tasks running at once, in total.
    pub max_tasks: usize,
    /// Tasks running at once, per tenant.
    pub max_tasks_per_tenant: usize,
    /// The longest an Express execution may run.
    pub express_limit_seconds: u64,
    /// The longest a Standard execution may run (AWS: one year).
    pub standard_limit_seconds: u64,
    /// How long finished Standard executions are kept.
    pub retention: Duration,
    /// How often the service looks for executions past their retention.
    pub retention_every: Duration,
    /// The region in ARNs.
    pub region: String,
    /// The server's own URL (queue URLs the integrations answer start with it).
    pub endpoint: String,
    /// Threads that run engine steps (off the request-handling runtime).
    pub engine_threads: usize,
    /// Engine time one execution may use in this process before it fails with
    /// `States.Runtime`: a runaway loop ends instead of taking a core for good.
    pub engine_budget: Duration,
    /// What runs HTTP Tasks: the guarded outbound client and the key of connections'
    /// secrets.
    pub http: crate::tasks::http::HttpTasks,
    /// Which tenants' work this process runs (all, unless it shares a PostgreSQL store
    /// with other servers: `cluster.rs`).
    pub owns: crate::cluster::Owns,
    /// The other servers module tasks may run on (`sharing.rs`): `None` alone.
    pub peers: Option<Arc<dyn sharing::TaskPeers>>,
    /// How many module tasks this process runs before it offers the next to the other
    /// servers (and what its load is measured against when they offer theirs): the cores
    /// it gives to tasks.
    pub share_above: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            clock: Arc::new(SystemClock),
            max_tasks: 256,
            max_tasks_per_tenant: 64,
            express_limit_seconds: 300,
            standard_limit_seconds: STANDARD_LIMIT_SECONDS,
            retention: Duration::from_secs(90 * 24 * 3600),
            retention_every: Duration::from_secs(3600),
            region: "us-east-1".into(),
            endpoint: "http://localhost:8080".into(),
            engine_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            engine_budget: Duration::from_secs(60),
            http: crate::tasks::http::HttpTasks::default(),
            owns: crate::cluster::Owns::everything(),
            peers: None,
            share_above: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// Why a scheduler call failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// The definition does not compile (it passed validation earlier: a stored revision
    /// from an older, more lenient version, or an unsupported feature).
    #[error("the definition cannot run: {0}")]
    Definition(String),
    /// An execution of that name exists already.
    #[error("execution already exists: {}", .0.arn)]
    AlreadyExists(Box<Execution>),
    /// No such execution, or it is not running.
    #[error("execution {0} is not running")]
    NotRunning(String),
    /// The execution's tenant is run by another server now (this one gave its partition
    /// up): the event was not applied, and is to be sent there.
    #[error("execution {0} is run by another server now: try again")]
    Elsewhere(String),
    /// The engine refused an event.
    #[error(transparent)]
    Engine(#[from] sandstep_engine::Error),
    /// The tenant has as many open executions as its quota allows.
    #[error("{0}")]
    OpenLimit(String),
    /// The engine pool did not return the step (a panic, a shutdown); nothing of the step
    /// was committed.
    #[error(transparent)]
    Pool(#[from] engine_pool::Error),
    /// The engine threads could not be started.
    #[error("cannot start the engine threads: {0}")]
    Start(String),
}

/// What a start request needs.
#[derive(Debug, Clone)]
pub struct StartRequest {
    /// Whose execution.
    pub tenant: TenantId,
    /// The tenant's 12-digit account id (for ARNs).
    pub account: String,
    /// The state machine.
    pub machine: StateMachine,
    /// The revision to run.
    pub revision: Revision,
    /// The execution's name.
    pub name: String,
    /// The input, already checked to be JSON.
    pub input: serde_json::Value,
    /// The input text as given (stored and returned as is).
    pub input_text: String,
    /// Module versions and bindings to pin.
    pub pins: crate::pins::Pins,
    /// The parent's task, for a nested execution.
    pub parent: Option<crate::model::Parent>,
    /// The version it runs, when started on a version or an alias.
    pub version: Option<u64>,
    /// The alias it was started through.
    pub alias: Option<String>,
    /// The Map Run starting it, for a Distributed Map's child.
    pub map_run: Option<String>,
}

/// A tenant's open-execution slot, taken with the quota check under one lock so that
/// concurrent starts cannot overshoot it. Given back on drop unless [`keep`](Self::keep)
/// says the execution stays open (then its finish gives it back).
struct OpenReservation<'a> {
    open: &'a Mutex<HashMap<TenantId, u64>>,
    tenant: &'a TenantId,
    /// Whether a slot was taken (and is still owed back on drop).
    held: bool,
}

impl<'a> OpenReservation<'a> {
    /// Checks the quota; with `hold`, also takes a slot. An execution that ended in its
    /// first step is checked but holds nothing: one lock, nothing to give back.
    fn take(
        open: &'a Mutex<HashMap<TenantId, u64>>,
        tenant: &'a TenantId,
        limit: u64,
        hold: bool,
    ) -> Result<OpenReservation<'a>, Error> {
        let mut counts = lock(open);
        let current = counts.get(tenant).copied().unwrap_or(0);
        if current >= limit {
            return Err(Error::OpenLimit(format!(
                "The tenant has {limit} open executions, its limit: wait for some to finish or raise the quota"
            )));
        }
        if hold {
            match counts.get_mut(tenant) {
                Some(n) => *n += 1,
                None => {
                    counts.insert(tenant.clone(), 1);
                }
            }
        }
        Ok(OpenReservation {
            open,
            tenant,
            held: hold,
        })
    }

    /// The execution stays open: its finish gives the slot back.
    fn keep(&mut self) {
        self.held = false;
    }
}

impl Drop for OpenReservation<'_> {
    fn drop(&mut self) {
        if self.held {
            release_open(self.open, self.tenant);
        }
    }
}

/// Gives back one of a tenant's open-execution slots (a finish, a failed start, an
/// execution recovery cannot run).
fn release_open(open: &Mutex<HashMap<TenantId, u64>>, tenant: &TenantId) {
    if let Some(n) = lock(open).get_mut(tenant) {
        *n = n.saturating_sub(1);
    }
}

impl StartRequest {
    /// The key of the execution this request starts.
    pub fn key(&self) -> ExecutionKey {
        ExecutionKey {
            tenant: self.tenant.clone(),
            machine: self.machine.name.clone(),
            name: self.name.clone(),
        }
    }
}

/// The cached, live state of a running execution.
struct Live {
    key: ExecutionKey,
    def: Arc<Definition>,
    state: ExecutionState,
    record: Execution,
    pins: Arc<crate::pins::Pins>,
    tasks: HashMap<TaskId, Arc<AtomicBool>>,
    timers: HashMap<TimerId, Millis>,
    waiter: Option<oneshot::Sender<Execution>>,
    /// Engine time spent on it in this process, against [`Options::engine_budget`].
    engine_time: Duration,
    /// Whether it has been told to end for using up its budget.
    terminating: bool,
}

enum Slot {
    Empty,
    Loaded(Box<Live>),
    /// Removed from the map: whoever holds this slot must look the execution up again.
    Evicted,
}

type SlotRef = Arc<tokio::sync::Mutex<Slot>>;

/// What a step asks the scheduler to do once it is committed.
#[derive(Default)]
struct Effects {
    tasks: Vec<TaskContext>,
    timers: Vec<(TimerId, Millis)>,
    /// Timers the step cancelled, or left when it ended the execution.
    timers_cancelled: Vec<(TimerId, Millis)>,
    /// Activities whose queue got a task: their waiting workers are woken.
    queued: Vec<String>,
    /// Tasks the step cancelled: nested executions they wait for are stopped.
    cancelled: Vec<TaskId>,
    /// The execution's ARN, when tasks were cancelled (it names the parent to children).
    arn: String,
    /// A nested execution ended: its parent's task gets this answer (stored with the
    /// step when the child is a Standard execution).
    notice: Option<HeldNotice>,
    /// The execution's run (its start time), for the timers.
    run: Millis,
    finished: bool,
    /// A redrive opened the execution again: its record then, for its status-change
    /// event.
    reopened: Option<Execution>,
    /// A Standard execution ended: its record, for its status-change event.
    ended: Option<Execution>,
}

/// A child's answer held for its parent's task, and whether it is stored.
type HeldNotice = (store::children::Notice, bool);

struct Inner {
    opts: Options,
    store: Store,
    runner: Arc<dyn TaskRunner>,
    live: Mutex<HashMap<ExecutionKey, SlotRef>>,
    timers: timers::Handle,
    task_slots: Arc<Semaphore>,
    /// Module tasks running here, for sharing them with other servers.
    sharing: sharing::Sharing,
    tenant_slots: Mutex<HashMap<TenantId, Arc<Semaphore>>>,
    definitions: Mutex<HashMap<(TenantId, String, String), Arc<Definition>>>,
    /// Open (running) executions per tenant, for the quota.
    open: Mutex<HashMap<TenantId, u64>>,
    /// Each tenant's quotas: open executions and concurrent tasks.
    quotas: QuotaPolicy,
    counters: Counters,
    pool: EnginePool,
    /// Executions the last run died working on, with their strikes (see `quarantine`).
    strikes: Mutex<Strikes>,
    /// Workers waiting for activity tasks.
    doorbells: doorbells::Doorbells,
    /// Starts nested executions (`states:startExecution`): the service layer, bound once
    /// it exists (it sits above the scheduler).
    children: std::sync::OnceLock<Arc<dyn nested::ChildStarter>>,
    /// Told of Standard executions' status changes (their events on the default bus):
    /// the service layer, bound once it exists.
    status: std::sync::OnceLock<Arc<dyn status::StatusSink>>,
    /// Parent tasks whose `TaskSubmitted` is not delivered yet, with an answer their
    /// child already owes them (held back so that it comes after the submission).
    gates: Mutex<HashMap<(ExecutionKey, TaskId), Option<HeldNotice>>>,
    /// Runs Batch jobs: the sandbox, bound once it exists.
    job_runner: std::sync::OnceLock<Arc<dyn jobs::JobRunner>>,
    /// Jobs waiting in their queues' lines and running, in this process.
    jobs: Mutex<jobs::Board>,
    /// Serializes the read-change-write of job rows (a cancel against a start or an end).
    job_writes: Mutex<()>,
    /// The Map Runs this process drives.
    map_runs: Mutex<HashMap<(TenantId, String), Arc<map_runs::LiveRun>>>,
    /// Who waits for a Standard execution's end (a Map Run for its children).
    ended: Mutex<HashMap<ExecutionKey, Vec<oneshot::Sender<Execution>>>>,
}

/// A cheap handle on the scheduler.
#[derive(Clone)]
pub struct Scheduler {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Scheduler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scheduler").finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Scheduler {
    /// Creates the scheduler and runs its service in the background until the scheduler
    /// is dropped, without a journal (for tests and tools: nothing to quarantine). Call
    /// within a tokio runtime.
    ///
    /// # Errors
    /// [`Error::Start`] when the engine threads cannot be started.
    pub fn new(
        opts: Options,
        store: Store,
        runner: Arc<dyn TaskRunner>,
    ) -> Result<Scheduler, Error> {
        let (scheduler, service) = Scheduler::build(opts, store, runner, None)?;
        tokio::spawn(service.run(std::future::pending()));
        Ok(scheduler)
    }

    /// Creates the scheduler, with the in-flight journal of the data dir and the strikes
    /// it counted (see [`quarantine::open`]): [`recover`](Self::recover) fails the
    /// executions that are due for quarantine. Starts the engine threads; the timers and
    /// the retention sweep run once the caller runs the [`Service`].
    ///
    /// # Errors
    /// [`Error::Start`] when the engine threads cannot be started.
    pub fn build(
        opts: Options,
        store: Store,
        runner: Arc<dyn TaskRunner>,
        journal: Option<(Journal, Strikes)>,
    ) -> Result<(Scheduler, Service), Error> {
        let (journal, strikes) = match journal {
            Some((j, s)) => (Some(j), s),
            None => (None, Strikes::default()),
        };
        let pool = EnginePool::start(opts.engine_threads, journal)
            .map_err(|e| Error::Start(e.to_string()))?;
        let (timers, timer_loop, fired) = timers::new(Arc::clone(&opts.clock));
        let inner = Inner {
            pool,
            strikes: Mutex::new(strikes),
            task_slots: Arc::new(Semaphore::new(opts.max_tasks)),
            sharing: sharing::Sharing::default(),
            opts,
            quotas: QuotaPolicy::new(store.clone()),
            store,
            runner,
            live: Mutex::new(HashMap::new()),
            timers,
            tenant_slots: Mutex::new(HashMap::new()),
            definitions: Mutex::new(HashMap::new()),
            open: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            doorbells: doorbells::Doorbells::default(),
            children: std::sync::OnceLock::new(),
            status: std::sync::OnceLock::new(),
            gates: Mutex::new(HashMap::new()),
            job_runner: std::sync::OnceLock::new(),
            jobs: Mutex::new(jobs::Board::default()),
            job_writes: Mutex::new(()),
            map_runs: Mutex::new(HashMap::new()),
            ended: Mutex::new(HashMap::new()),
        };
        let scheduler = Scheduler {
            inner: Arc::new(inner),
        };
        let service = Service::new(&scheduler, timer_loop, fired);
        Ok((scheduler, service))
    }

    /// Where workers wait for activity tasks: rung when a step queues one.
    pub fn doorbells(&self) -> &doorbells::Doorbells {
        &self.inner.doorbells
    }

    /// The clock the scheduler runs on, for the use cases around it.
    pub fn clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.inner.opts.clock)
    }

    /// What runs HTTP Tasks (the connections' service seals with its key).
    pub fn http_tasks(&self) -> &crate::tasks::http::HttpTasks {
        &self.inner.opts.http
    }

    /// Whether this process runs `tenant`'s work: the loops over every tenant's stored
    /// work (deliveries, schedules, retention) skip the others', which their own servers
    /// run.
    pub fn runs(&self, tenant: &TenantId) -> bool {
        self.inner.opts.owns.runs(tenant)
    }

    /// Now, on the scheduler's clock.
    pub fn now(&self) -> Millis {
        self.inner.opts.clock.now()
    }

    /// Random bits, from the scheduler's clock.
    pub fn entropy(&self) -> u64 {
        self.inner.opts.clock.entropy()
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Timers armed in the timer service right now (for benchmarks and `/metrics`).
    pub fn timers_armed(&self) -> usize {
        self.inner.timers.armed()
    }

    /// Executions held in memory right now (running Express ones and Standard ones with
    /// work in flight).
    pub fn live_count(&self) -> usize {
        lock(&self.inner.live).len()
    }

    /// Runs `work` as its own task and awaits it. An HTTP handler's future is dropped
    /// when its client goes away; once a step is written, its effects (tasks, timers,
    /// counters) must still follow, so work that awaits a sync after writing runs here.
    async fn detached<F, T>(&self, work: impl FnOnce(Scheduler) -> F) -> Result<T, Error>
    where
        F: std::future::Future<Output = Result<T, Error>> + Send + 'static,
        T: Send + 'static,
    {
        tokio::spawn(work(self.clone()))
            .await
            .map_err(|e| Error::Store(store::Error::Backend(format!("the step was lost: {e}"))))?
    }

    /// Applies an event to an execution. Events that no longer fit (a timer of a finished
    /// execution, a result of a cancelled task) are dropped.
    pub async fn deliver(&self, key: ExecutionKey, kind: EventKind) {
        if let Err(e) = self.try_deliver(&key, kind).await {
            tracing::debug!(tenant = %key.tenant, execution = %key.name, error = %e, "event dropped");
        }
    }

    async fn slot(&self, key: &ExecutionKey) -> SlotRef {
        let mut live = lock(&self.inner.live);
        Arc::clone(
            live.entry(key.clone())
                .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(Slot::Empty))),
        )
    }

    /// Takes the slot of an execution about to start, locked. A live execution of that
    /// name (Express names are not checked by the store) is `AlreadyExists`.
    async fn claim(
        &self,
        key: &ExecutionKey,
    ) -> Result<(SlotRef, tokio::sync::OwnedMutexGuard<Slot>), Error> {
        loop {
            let slot = self.slot(key).await;
            let guard = Arc::clone(&slot).lock_owned().await;
            match &*guard {
                Slot::Evicted => continue,
                Slot::Loaded(other) => {
                    return Err(Error::AlreadyExists(Box::new(other.record.clone())));
                }
                Slot::Empty => return Ok((slot, guard)),
            }
        }
    }

    /// Marks a slot evicted and takes it out of the live map, unless the map already
    /// holds another slot for the key. Whoever waits on it retries with a fresh slot.
    fn forget(&self, key: &ExecutionKey, slot: &SlotRef, guard: &mut Slot) {
        *guard = Slot::Evicted;
        let mut live = lock(&self.inner.live);
        if live.get(key).is_some_and(|s| Arc::ptr_eq(s, slot)) {
            live.remove(key);
        }
    }

    async fn try_deliver(&self, key: &ExecutionKey, kind: EventKind) -> Result<(), Error> {
        self.deliver_event(key, kind, false, None).await.map(|_| ())
    }

    /// Applies one event to an execution; with `want_record`, returns its record after
    /// the event (for StopExecution, including Express executions, which are not stored).
    /// With `run`, the event is dropped unless the execution is that run (a stale timer
    /// of an earlier execution with the same name).
    #[tracing::instrument(name = "scheduler.deliver", level = "debug", skip_all,
        fields(tenant = %key.tenant, execution = %key.name))]
    async fn deliver_event(
        &self,
        key: &ExecutionKey,
        kind: EventKind,
        want_record: bool,
        run: Option<Millis>,
    ) -> Result<Option<Execution>, Error> {
        loop {
            let slot = self.slot(key).await;
            let mut guard = slot.lock().await;
            if matches!(*guard, Slot::Evicted) {
                continue;
            }
            if matches!(*guard, Slot::Empty) {
                // A tenant given to another server: its work there answers this.
                if !self.inner.opts.owns.holds(&key.tenant) {
                    self.forget(key, &slot, &mut guard);
                    return Err(Error::Elsewhere(key.name.clone()));
                }
                let reopens = matches!(kind, EventKind::Redriven { .. });
                match self.load_on_pool(key, reopens).await {
                    Ok(live) => *guard = Slot::Loaded(live),
                    Err(e) => {
                        self.forget(key, &slot, &mut guard);
                        return Err(e);
                    }
                }
            }
            let Slot::Loaded(live) = std::mem::replace(&mut *guard, Slot::Empty) else {
                continue;
            };
            if run.is_some_and(|r| r != live.record.started) {
                *guard = Slot::Loaded(live);
                return Ok(None);
            }
            let event = Event {
                at: self.now(),
                entropy: self.entropy(),
                kind,
            };
            let at = event.at;
            // The step and its commit are built on the engine pool. The slot stays locked
            // meanwhile and holds `Empty`: should this future be dropped, the next event
            // reloads from the store, which holds nothing of this step.
            let standard = live.record.machine_type == MachineType::Standard;
            let me = self.clone();
            let job = self
                .inner
                .pool
                .run(&key.tenant, standard.then(|| key.clone()), move || {
                    engine_pool::inject_fault(&live.key);
                    let mut live = live;
                    let absorbed = step(&live.def, &mut live.state, &event)
                        .map(|commands| me.absorb(&mut live, event, commands));
                    (live, absorbed)
                })
                .await;
            let ((live, absorbed), took) = match job {
                Ok(done) => done,
                Err(e) => {
                    self.forget(key, &slot, &mut guard);
                    return Err(e.into());
                }
            };
            *guard = Slot::Loaded(live);
            let Slot::Loaded(live) = &mut *guard else {
                return Err(Error::NotRunning(key.name.clone())); // just stored: never
            };
            // An event that does not fit leaves the state unchanged: keep it, unless it
            // is an ended execution loaded for a redrive that did not fit.
            let (commit, effects) = match absorbed {
                Ok(absorbed) => absorbed,
                Err(e) => {
                    if live.state.outcome().is_some() {
                        self.forget(key, &slot, &mut guard);
                    }
                    return Err(e.into());
                }
            };
            live.engine_time += took;
            let over_budget = !effects.finished
                && !live.terminating
                && live.engine_time > self.inner.opts.engine_budget;
            live.terminating |= over_budget;
            if standard {
                let committed = match self.inner.store.execution_commit(&commit) {
                    Ok(durable) => durable.wait().await,
                    Err(e) => Err(e),
                };
                if let Err(e) = committed {
                    // The cached state ran ahead of the store: drop it. A failed write
                    // stored nothing, so the next event rebuilds from what was committed.
                    // A failed sync poisons the store (every later commit fails, see
                    // `durability`): the step's effects never run here, and a restart
                    // recovers from what the disk really holds.
                    self.forget(key, &slot, &mut guard);
                    return Err(e.into());
                }
            }
            if over_budget {
                self.terminate_later(key.clone());
            }
            if effects.finished {
                release_open(&self.inner.open, &key.tenant);
            }
            let record = want_record.then(|| live.record.clone());
            // A Standard execution waiting only on timers leaves memory, unless one is due
            // about now (a step that yielded, a short Wait): reloading would replay it all.
            let due_soon = live.timers.values().any(|due| *due <= at + 1_000);
            let waiting_only = live.tasks.is_empty() && standard && !due_soon;
            if effects.finished || waiting_only {
                if let Slot::Loaded(done) = std::mem::replace(&mut *guard, Slot::Evicted) {
                    if let Some(w) = done.waiter {
                        let _ = w.send(done.record);
                    }
                }
                self.forget(key, &slot, &mut guard);
            }
            drop(guard);
            self.run_effects(key, effects);
            return Ok(record);
        }
    }

    /// Applies an answer from outside (`SendTaskSuccess`, `SendTaskFailure`,
    /// `SendTaskHeartbeat`) to a task waiting for its token. `Ok(false)` when the task no
    /// longer waits: it ended (answered, timed out, cancelled) or its execution did.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn answer(&self, key: &ExecutionKey, kind: EventKind) -> Result<bool, Error> {
        let answered = key.clone();
        let delivered = self
            .detached(
                move |this| async move { this.deliver_event(&answered, kind, false, None).await },
            )
            .await;
        match delivered {
            Ok(_) => Ok(true),
            Err(Error::Engine(_) | Error::NotRunning(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Stops a running execution: records `ExecutionAborted` and interrupts its tasks.
    ///
    /// # Errors
    /// [`Error::NotRunning`] when it is not running.
    pub async fn stop(
        &self,
        key: &ExecutionKey,
        error: Option<String>,
        cause: Option<String>,
    ) -> Result<Execution, Error> {
        let stopped = key.clone();
        self.detached(move |this| async move {
            this.deliver_event(&stopped, EventKind::Stopped { error, cause }, true, None)
                .await
        })
        .await?
        .ok_or_else(|| Error::NotRunning(key.name.clone()))
    }
}
