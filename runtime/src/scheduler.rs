//! The scheduler runs the engine's commands: tasks on the runner, timers on the timer
//! service, history and state into the store. Standard executions commit every step
//! durably before its effects run; Express executions stay in memory.
//!
//! Every event for an execution is applied under that execution's lock, to a state that
//! is either cached or rebuilt by replaying the stored steps. Executions that only wait
//! on timers are evicted from the cache: a year-long Wait costs a heap entry.

pub mod engine_pool;
pub mod quarantine;
pub mod runner;
#[cfg(test)]
mod tests;
pub mod timers;

use crate::store::executions::{
    Commit, Execution, ExecutionKey, MachineType, Revision, Started, StateMachine, Status, Step,
};
use crate::store::{self, Executions, StateMachines, Store, TenantId};
use engine_pool::EnginePool;
use quarantine::{Journal, Strikes};
use runner::{TaskContext, TaskRunner};
use sandstep_engine::{
    step, Command, Definition, Details, Event, EventKind, ExecutionState, HistoryEvent, Limits,
    Millis, Outcome, Start, TaskId, TaskRequest, TimerId, Trace,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{oneshot, Semaphore};

/// Scheduler settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Tasks running at once, in total.
    pub max_tasks: usize,
    /// Tasks running at once, per tenant.
    pub max_tasks_per_tenant: usize,
    /// The longest an Express execution may run.
    pub express_limit_seconds: u64,
    /// How long finished Standard executions are kept.
    pub retention: Duration,
    /// The region in ARNs.
    pub region: String,
    /// Threads that run engine steps (off the request-handling runtime).
    pub engine_threads: usize,
    /// Engine time one execution may use in this process before it fails with
    /// `States.Runtime`: a runaway loop ends instead of taking a core for good.
    pub engine_budget: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            max_tasks: 256,
            max_tasks_per_tenant: 64,
            express_limit_seconds: 300,
            retention: Duration::from_secs(90 * 24 * 3600),
            region: "us-east-1".into(),
            engine_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            engine_budget: Duration::from_secs(60),
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
    /// Module versions to pin.
    pub pins: BTreeMap<String, (u32, String)>,
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
    pins: Arc<BTreeMap<String, (u32, String)>>,
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
    /// The execution's run (its start time), for the timers.
    run: Millis,
    finished: bool,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Executions started.
    pub started: AtomicU64,
    /// Executions finished, by status: SUCCEEDED, FAILED, TIMED_OUT, ABORTED.
    pub finished: [AtomicU64; 4],
    /// Engine steps applied.
    pub steps: AtomicU64,
    /// State transitions (states entered).
    pub transitions: AtomicU64,
    /// Tasks run.
    pub tasks: AtomicU64,
    /// Total task time in milliseconds.
    pub task_millis: AtomicU64,
    /// Total fuel consumed by tasks.
    pub task_fuel: AtomicU64,
    /// Per tenant: executions started, then finished by status (as in `finished`), tasks
    /// run and their fuel.
    pub per_tenant: Mutex<HashMap<TenantId, [u64; 7]>>,
}

impl Counters {
    fn tenant(&self, tenant: &TenantId, slot: usize, n: u64) {
        let mut map = lock(&self.per_tenant);
        if let Some(v) = map.entry(tenant.clone()).or_default().get_mut(slot) {
            *v += n;
        }
    }
}

struct Inner {
    opts: Options,
    store: Store,
    runner: Arc<dyn TaskRunner>,
    live: Mutex<HashMap<ExecutionKey, SlotRef>>,
    timers: timers::Handle,
    task_slots: Arc<Semaphore>,
    tenant_slots: Mutex<HashMap<TenantId, Arc<Semaphore>>>,
    definitions: Mutex<HashMap<(TenantId, String, String), Arc<Definition>>>,
    /// Open (running) executions per tenant, for the quota.
    open: Mutex<HashMap<TenantId, u64>>,
    counters: Counters,
    pool: EnginePool,
    /// Executions the last run died working on, with their strikes (see `quarantine`).
    strikes: Mutex<Strikes>,
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

pub use crate::clock::{entropy, now};

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Scheduler {
    /// Creates the scheduler and starts its timer service and engine threads, without a
    /// journal (for tests and tools: nothing to quarantine). Call within a tokio runtime.
    ///
    /// # Errors
    /// [`Error::Start`] when the engine threads cannot be started.
    pub fn new(
        opts: Options,
        store: Store,
        runner: Arc<dyn TaskRunner>,
    ) -> Result<Scheduler, Error> {
        Scheduler::with_journal(opts, store, runner, None)
    }

    /// As [`new`](Self::new), with the in-flight journal of the data dir and the strikes
    /// it counted (see [`quarantine::open`]): [`recover`](Self::recover) fails the
    /// executions that are due for quarantine.
    ///
    /// # Errors
    /// [`Error::Start`] when the engine threads cannot be started.
    pub fn with_journal(
        opts: Options,
        store: Store,
        runner: Arc<dyn TaskRunner>,
        journal: Option<(Journal, Strikes)>,
    ) -> Result<Scheduler, Error> {
        let (journal, strikes) = match journal {
            Some((j, s)) => (Some(j), s),
            None => (None, Strikes::default()),
        };
        let pool = EnginePool::start(opts.engine_threads, journal)
            .map_err(|e| Error::Start(e.to_string()))?;
        let (timers, mut fired) = timers::start(now);
        let inner = Inner {
            pool,
            strikes: Mutex::new(strikes),
            task_slots: Arc::new(Semaphore::new(opts.max_tasks)),
            opts,
            store,
            runner,
            live: Mutex::new(HashMap::new()),
            timers,
            tenant_slots: Mutex::new(HashMap::new()),
            definitions: Mutex::new(HashMap::new()),
            open: Mutex::new(HashMap::new()),
            counters: Counters::default(),
        };
        let scheduler = Scheduler {
            inner: Arc::new(inner),
        };
        // Due timers become events; a weak handle lets the scheduler go away.
        let weak = Arc::downgrade(&scheduler.inner);
        tokio::spawn(async move {
            while let Some(t) = fired.recv().await {
                let Some(inner) = weak.upgrade() else { return };
                let s = Scheduler { inner };
                tokio::spawn(async move {
                    let fired = EventKind::TimerFired { timer: t.timer };
                    if let Err(e) = s.deliver_event(&t.execution, fired, false, t.run).await {
                        tracing::debug!(execution = %t.execution.name, error = %e, "timer dropped");
                    }
                });
            }
        });
        Ok(scheduler)
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

    fn definition(
        &self,
        tenant: &TenantId,
        machine: &str,
        revision: &Revision,
    ) -> Result<Arc<Definition>, Error> {
        let key = (tenant.clone(), machine.to_string(), revision.id.clone());
        if let Some(d) = lock(&self.inner.definitions).get(&key) {
            return Ok(Arc::clone(d));
        }
        let def = Arc::new(
            Definition::parse(&revision.definition)
                .map_err(|e| Error::Definition(e.to_string()))?,
        );
        lock(&self.inner.definitions).insert(key, Arc::clone(&def));
        Ok(def)
    }

    /// Starts an execution. Standard: committed durably before this returns. Express:
    /// runs in memory. With `wait`, returns once the execution has finished (sync Express).
    ///
    /// # Errors
    /// [`Error::AlreadyExists`] for a Standard execution name in use, store failures.
    pub async fn start(
        &self,
        req: StartRequest,
        wait: bool,
        open_limit: u64,
    ) -> Result<Execution, Error> {
        if req.machine.machine_type == MachineType::Express {
            // No await point between the first step and its effects: nothing to detach.
            return self.start_now(req, wait, open_limit).await;
        }
        self.detached(move |this| async move { this.start_now(req, wait, open_limit).await })
            .await
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

    async fn start_now(
        &self,
        req: StartRequest,
        wait: bool,
        open_limit: u64,
    ) -> Result<Execution, Error> {
        let def = self.definition(&req.tenant, &req.machine.name, &req.revision)?;
        let express = req.machine.machine_type == MachineType::Express;
        let region = &self.inner.opts.region;
        let kind = if express { "express" } else { "execution" };
        let arn = format!(
            "arn:aws:states:{region}:{}:{kind}:{}:{}",
            req.account, req.machine.name, req.name
        );
        let key = req.key();
        let at = now();
        let start = Start {
            input: req.input,
            execution_arn: arn.clone(),
            name: req.name.clone(),
            role_arn: req.machine.role_arn.clone(),
            state_machine_arn: req.machine.arn.clone(),
            state_machine_name: req.machine.name.clone(),
            redrive_count: 0,
            timeout_seconds: express.then_some(self.inner.opts.express_limit_seconds),
            limits: if express {
                Limits::express()
            } else {
                Limits::standard()
            },
        };
        let record = Execution {
            name: req.name,
            arn,
            machine: req.machine.name.clone(),
            revision_id: req.revision.id.clone(),
            modules: req.pins.clone(),
            machine_type: req.machine.machine_type,
            status: Status::Running,
            input: req.input_text,
            output: None,
            error: None,
            cause: None,
            started: at,
            stopped: None,
            steps: 0,
            events: 0,
        };
        let mut live = Box::new(Live {
            key: key.clone(),
            def,
            state: ExecutionState::new(),
            record,
            pins: Arc::new(req.pins),
            tasks: HashMap::new(),
            timers: HashMap::new(),
            waiter: None,
            engine_time: Duration::ZERO,
            terminating: false,
        });
        let event = Event {
            at,
            entropy: entropy(),
            kind: EventKind::Started(start),
        };
        let journaled = (!express).then(|| key.clone());
        let ((mut live, event, commands), took) = self
            .inner
            .pool
            .run(&key.tenant, journaled, move || {
                let commands = step(&live.def, &mut live.state, &event);
                (live, event, commands)
            })
            .await?;
        let commands = commands?;
        live.engine_time = took;
        let stays_open = !commands.iter().any(|c| matches!(c, Command::Finish(_)));
        let mut reservation =
            OpenReservation::take(&self.inner.open, &key.tenant, open_limit, stays_open)?;
        let (commit, effects) = self.absorb(&mut live, event, commands);
        // An execution that stays open holds its slot from before its first step is
        // written until its effects run: an event for it meanwhile (StopExecution) waits,
        // then finds it. One that ended in its first step needs none: an event for it
        // finds it finished in the store.
        let mut held = match effects.finished {
            true => None,
            false => Some(self.claim(&key).await?),
        };
        if !express {
            let started = match self.inner.store.execution_start(&commit) {
                Ok(Started::Created(durable)) => durable.wait().await.map_err(Error::from),
                Ok(Started::Existing(existing, durable)) => match durable.wait().await {
                    Ok(()) => Err(Error::AlreadyExists(existing)),
                    Err(e) => Err(e.into()),
                },
                Err(e) => Err(e.into()),
            };
            if let Err(e) = started {
                if let Some((slot, guard)) = &mut held {
                    self.forget(&key, slot, guard);
                }
                return Err(e);
            }
        }
        self.inner.counters.started.fetch_add(1, Ordering::Relaxed);
        self.inner.counters.tenant(&req.tenant, 0, 1);
        let record = live.record.clone();
        let Some((slot, mut guard)) = held else {
            return Ok(record); // ended in its first step
        };
        reservation.keep();
        let receiver = if wait {
            let (tx, rx) = oneshot::channel();
            live.waiter = Some(tx);
            Some(rx)
        } else {
            None
        };
        let keep = express || !effects.tasks.is_empty();
        if keep {
            *guard = Slot::Loaded(live);
        } else {
            // Waiting only: nothing in memory until its timer fires.
            self.forget(&key, &slot, &mut guard);
        }
        drop(guard);
        self.run_effects(&key, effects);
        match receiver {
            Some(rx) => rx.await.map_err(|_| Error::NotRunning(record.arn.clone())),
            None => Ok(record),
        }
    }

    /// Turns a step's commands into its commit and the effects to run after it.
    fn absorb(&self, live: &mut Live, event: Event, commands: Vec<Command>) -> (Commit, Effects) {
        let c = &self.inner.counters;
        c.steps.fetch_add(1, Ordering::Relaxed);
        let standard = live.record.machine_type == MachineType::Standard;
        let mut history = Vec::new();
        let mut effects = Effects::default();
        let mut tasks_started = Vec::new();
        let mut tasks_ended = Vec::new();
        let mut timers_ended = Vec::new();
        match &event.kind {
            EventKind::TaskSucceeded { task, usage, .. }
            | EventKind::TaskFailed { task, usage, .. } => {
                live.tasks.remove(task);
                tasks_ended.push(task.0);
                if let Some(u) = usage {
                    c.task_millis.fetch_add(u.duration_ms, Ordering::Relaxed);
                    c.task_fuel.fetch_add(u.fuel_consumed, Ordering::Relaxed);
                    c.tenant(&live.key.tenant, 6, u.fuel_consumed);
                }
                c.tasks.fetch_add(1, Ordering::Relaxed);
                c.tenant(&live.key.tenant, 5, 1);
            }
            EventKind::TimerFired { timer } => {
                if let Some(due) = live.timers.remove(timer) {
                    timers_ended.push((*timer, due));
                }
            }
            EventKind::Started(_)
            | EventKind::TaskStarted { .. }
            | EventKind::Stopped { .. }
            | EventKind::Terminated { .. } => {}
        }
        let mut events = 0;
        for command in commands {
            match command {
                Command::Record(e) => {
                    events += 1;
                    if e.kind.ends_with("StateEntered") {
                        c.transitions.fetch_add(1, Ordering::Relaxed);
                    }
                    if standard {
                        history.push(e.to_aws_json());
                    }
                }
                Command::RunTask(request) => {
                    let cancelled = Arc::new(AtomicBool::new(false));
                    live.tasks.insert(request.id, Arc::clone(&cancelled));
                    if standard {
                        tasks_started.push(request.clone());
                    }
                    effects.tasks.push(TaskContext {
                        tenant: live.key.tenant.clone(),
                        execution_arn: live.record.arn.clone(),
                        pins: Arc::clone(&live.pins),
                        request,
                        cancelled,
                    });
                }
                Command::CancelTask(task) => {
                    if let Some(flag) = live.tasks.remove(&task) {
                        flag.store(true, Ordering::SeqCst);
                    }
                    tasks_ended.push(task.0);
                }
                Command::StartTimer { timer, due } => {
                    live.timers.insert(timer, due);
                    effects.timers.push((timer, due));
                }
                Command::CancelTimer(timer) => {
                    if let Some(due) = live.timers.remove(&timer) {
                        timers_ended.push((timer, due));
                    }
                }
                Command::Finish(outcome) => {
                    effects.finished = true;
                    let r = &mut live.record;
                    r.stopped = Some(event.at);
                    let (status, slot) = match &outcome {
                        Outcome::Succeeded(output) => {
                            r.output = Some(output.to_string());
                            (Status::Succeeded, 0)
                        }
                        Outcome::Failed { error, cause } => {
                            (r.error, r.cause) = (error.clone(), cause.clone());
                            (Status::Failed, 1)
                        }
                        Outcome::TimedOut { error, cause } => {
                            (r.error, r.cause) = (error.clone(), cause.clone());
                            (Status::TimedOut, 2)
                        }
                        Outcome::Aborted { error, cause } => {
                            (r.error, r.cause) = (error.clone(), cause.clone());
                            (Status::Aborted, 3)
                        }
                    };
                    r.status = status;
                    if let Some(counter) = c.finished.get(slot) {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    c.tenant(&live.key.tenant, 1 + slot, 1);
                }
            }
        }
        live.record.steps += 1;
        live.record.events += events;
        effects.run = live.record.started;
        let timers_started = effects.timers.clone();
        let commit = Commit {
            key: live.key.clone(),
            record: live.record.clone(),
            step: Step { event, history },
            timers_started,
            timers_ended,
            tasks_started,
            tasks_ended,
        };
        (commit, effects)
    }

    fn run_effects(&self, key: &ExecutionKey, effects: Effects) {
        for (timer, due) in effects.timers {
            self.inner
                .timers
                .add(due, key.clone(), timer, Some(effects.run));
        }
        for task in effects.tasks {
            self.spawn_task(key.clone(), task);
        }
    }

    /// Sets how many tasks `tenant` may run at once (its quota); the server's own limit
    /// per tenant still applies. Takes effect for the tenant's next tasks.
    pub fn limit_tenant_tasks(&self, tenant: &TenantId, max: u64) {
        let wanted = usize::try_from(max)
            .unwrap_or(usize::MAX)
            .clamp(1, self.inner.opts.max_tasks_per_tenant);
        let mut slots = lock(&self.inner.tenant_slots);
        let current = slots.get(tenant).map(|s| s.available_permits());
        // Only a fresh semaphore is resized: one with tasks in flight keeps its size until idle.
        if current.is_none() || current == Some(self.inner.opts.max_tasks_per_tenant) {
            slots.insert(tenant.clone(), Arc::new(Semaphore::new(wanted)));
        }
    }

    fn tenant_slots(&self, tenant: &TenantId) -> Arc<Semaphore> {
        let mut slots = lock(&self.inner.tenant_slots);
        Arc::clone(
            slots
                .entry(tenant.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.inner.opts.max_tasks_per_tenant))),
        )
    }

    fn spawn_task(&self, key: ExecutionKey, task: TaskContext) {
        let me = self.clone();
        tokio::spawn(async move {
            let tenant_slots = me.tenant_slots(&task.tenant);
            let (Ok(_tenant_permit), Ok(_permit)) = (
                tenant_slots.acquire_owned().await,
                Arc::clone(&me.inner.task_slots).acquire_owned().await,
            ) else {
                return;
            };
            if task.cancelled.load(Ordering::SeqCst) {
                return;
            }
            let runner = Arc::clone(&me.inner.runner);
            let id = task.request.id;
            let result = tokio::task::spawn_blocking(move || runner.run(task)).await;
            let kind = result.unwrap_or_else(|e| EventKind::TaskFailed {
                task: id,
                error: "States.TaskFailed".into(),
                cause: format!("the task runner failed: {e}"),
                usage: None,
            });
            me.deliver(key, kind).await;
        });
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
                match self.load_on_pool(key).await {
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
                at: now(),
                entropy: entropy(),
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
            // An event that does not fit leaves the state unchanged: keep it.
            let (commit, effects) = absorbed?;
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

    /// Ends an execution that used up its engine budget, as its next event.
    fn terminate_later(&self, key: ExecutionKey) {
        let seconds = self.inner.opts.engine_budget.as_secs_f64();
        let me = self.clone();
        tokio::spawn(async move {
            let kind = EventKind::Terminated {
                error: "States.Runtime".into(),
                cause: format!(
                    "The execution used more than {seconds} s of engine time, the server's \
                     limit per execution (engine_budget_seconds)."
                ),
            };
            me.deliver(key, kind).await;
        });
    }

    /// The definition revision `record` runs (pinned at its start).
    fn definition_of(
        &self,
        key: &ExecutionKey,
        record: &Execution,
    ) -> Result<Arc<Definition>, Error> {
        let revision = self
            .inner
            .store
            .revision_get(&key.tenant, &key.machine, &record.revision_id)?
            .ok_or_else(|| {
                Error::Definition(format!("revision {} is missing", record.revision_id))
            })?;
        self.definition(&key.tenant, &key.machine, &revision)
    }

    /// Replays a stored execution with data-flow tracing, for the console's inspector:
    /// every state visit's data at each stage, recomputed rather than stored (see
    /// [`sandstep_engine::trace`]). `None` when there is no such execution.
    ///
    /// # Errors
    /// Store failures; a definition or history that no longer replays.
    pub async fn trace(&self, key: &ExecutionKey) -> Result<Option<(Execution, Trace)>, Error> {
        let me = self.clone();
        let traced = key.clone();
        let (found, _) = self
            .inner
            .pool
            .run(&key.tenant, Some(key.clone()), move || {
                me.replay_traced(&traced)
            })
            .await?;
        found
    }

    fn replay_traced(&self, key: &ExecutionKey) -> Result<Option<(Execution, Trace)>, Error> {
        let Some(record) = self.inner.store.execution_get(key)? else {
            return Ok(None);
        };
        let def = self.definition_of(key, &record)?;
        let mut state = ExecutionState::traced();
        for stored in self.inner.store.execution_steps(key)? {
            step(&def, &mut state, &stored.event)?;
        }
        let trace = state.trace().cloned().unwrap_or_default();
        Ok(Some((record, trace)))
    }

    /// Rebuilds a running Standard execution from its stored steps.
    fn load(&self, key: &ExecutionKey) -> Result<Box<Live>, Error> {
        let record = self
            .inner
            .store
            .execution_get(key)?
            .ok_or_else(|| Error::NotRunning(key.name.clone()))?;
        if record.status != Status::Running || record.machine_type != MachineType::Standard {
            return Err(Error::NotRunning(record.arn));
        }
        let def = self.definition_of(key, &record)?;
        let mut state = ExecutionState::new();
        let mut timers = HashMap::new();
        let mut tasks = HashMap::new();
        for stored in self.inner.store.execution_steps(key)? {
            for command in step(&def, &mut state, &stored.event)? {
                match command {
                    Command::StartTimer { timer, due } => {
                        timers.insert(timer, due);
                    }
                    Command::CancelTimer(timer) => {
                        timers.remove(&timer);
                    }
                    Command::RunTask(t) => {
                        tasks.insert(t.id, Arc::new(AtomicBool::new(false)));
                    }
                    Command::CancelTask(t) => {
                        tasks.remove(&t);
                    }
                    Command::Record(_) | Command::Finish(_) => {}
                }
            }
            match &stored.event.kind {
                EventKind::TimerFired { timer } => {
                    timers.remove(timer);
                }
                EventKind::TaskSucceeded { task, .. } | EventKind::TaskFailed { task, .. } => {
                    tasks.remove(task);
                }
                _ => {}
            }
        }
        let pins = Arc::new(record.modules.clone());
        Ok(Box::new(Live {
            key: key.clone(),
            def,
            state,
            record,
            pins,
            tasks,
            timers,
            waiter: None,
            engine_time: Duration::ZERO,
            terminating: false,
        }))
    }

    /// [`load`](Self::load) on the engine pool: replay is engine work, and the journal
    /// names the execution while it replays.
    async fn load_on_pool(&self, key: &ExecutionKey) -> Result<Box<Live>, Error> {
        let me = self.clone();
        let loaded = key.clone();
        let (live, _) = self
            .inner
            .pool
            .run(&key.tenant, Some(key.clone()), move || {
                engine_pool::inject_fault(&loaded);
                me.load(&loaded)
            })
            .await?;
        live
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

    /// After a restart: fails the executions due for quarantine, re-arms every stored
    /// timer and runs again the tasks that were in flight at the crash. Returns how many
    /// executions were resumed.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn recover(&self) -> Result<usize, Error> {
        let due = lock(&self.inner.strikes).due();
        for (key, strikes) in due {
            match self.quarantine(&key, strikes).await {
                Ok(true) => tracing::error!(tenant = %key.tenant, machine = %key.machine,
                    execution = %key.name, strikes,
                    "quarantined: failed an execution the server died working on"),
                Ok(false) => {}
                Err(e) => tracing::error!(tenant = %key.tenant, execution = %key.name,
                    error = %e, "cannot quarantine this execution"),
            }
        }
        let store = &self.inner.store;
        let running = store.running_executions()?;
        for key in &running {
            *lock(&self.inner.open)
                .entry(key.tenant.clone())
                .or_default() += 1;
        }
        for key in &running {
            let tasks = store.execution_tasks(key)?;
            if tasks.is_empty() {
                continue;
            }
            let live = match self.load_on_pool(key).await {
                Ok(live) => live,
                Err(e) => {
                    // One execution that cannot be rebuilt (a revision an older version
                    // accepted, a corrupt record) must not keep the server from starting.
                    tracing::error!(tenant = %key.tenant, execution = %key.name, error = %e,
                        "cannot resume this execution; it stays RUNNING in the store");
                    // It cannot run (nor be stopped) here: it must not hold a quota slot.
                    release_open(&self.inner.open, &key.tenant);
                    continue;
                }
            };
            let contexts: Vec<TaskContext> = tasks
                .into_iter()
                .filter_map(|request: TaskRequest| {
                    let cancelled = live.tasks.get(&request.id)?.clone();
                    Some(TaskContext {
                        tenant: key.tenant.clone(),
                        execution_arn: live.record.arn.clone(),
                        pins: Arc::clone(&live.pins),
                        request,
                        cancelled,
                    })
                })
                .collect();
            lock(&self.inner.live)
                .entry(key.clone())
                .or_insert_with(|| Arc::new(tokio::sync::Mutex::new(Slot::Loaded(live))));
            for task in contexts {
                self.spawn_task(key.clone(), task);
            }
        }
        // Timers last: a due one fires at once on another worker, and must find the
        // executions with tasks in flight already in the live map, not load a second copy.
        for t in store.timers()? {
            self.inner.timers.add(t.due, t.execution, t.timer, t.run);
        }
        Ok(running.len())
    }

    /// Fails a running execution with the quarantine error without replaying it (its
    /// replay may be what kills the process): one step, written from its record alone,
    /// that ends its timers and tasks. Returns whether it was running.
    async fn quarantine(&self, key: &ExecutionKey, strikes: u32) -> Result<bool, Error> {
        let store = &self.inner.store;
        let Some(mut record) = store.execution_get(key)? else {
            return Ok(false);
        };
        if record.status != Status::Running || record.machine_type != MachineType::Standard {
            return Ok(false);
        }
        let (error, cause) = quarantine::failure(strikes);
        let at = now();
        let failed = HistoryEvent {
            id: record.events + 1,
            previous_event_id: record.events,
            timestamp: at,
            kind: "ExecutionFailed",
            details: Details::Fields(serde_json::Map::from_iter([
                (
                    "error".to_string(),
                    serde_json::Value::String(error.clone()),
                ),
                (
                    "cause".to_string(),
                    serde_json::Value::String(cause.clone()),
                ),
            ])),
        };
        let timers_ended = store
            .timers()?
            .into_iter()
            .filter(|t| &t.execution == key)
            .map(|t| (t.timer, t.due))
            .collect();
        let tasks_ended = store.execution_tasks(key)?.iter().map(|t| t.id.0).collect();
        record.status = Status::Failed;
        record.error = Some(error.clone());
        record.cause = Some(cause.clone());
        record.stopped = Some(at);
        record.steps += 1;
        record.events += 1;
        let commit = Commit {
            key: key.clone(),
            record,
            step: Step {
                event: Event {
                    at,
                    entropy: entropy(),
                    kind: EventKind::Terminated { error, cause },
                },
                history: vec![failed.to_aws_json()],
            },
            timers_started: Vec::new(),
            timers_ended,
            tasks_started: Vec::new(),
            tasks_ended,
        };
        store.execution_commit(&commit)?.wait().await?;
        let c = &self.inner.counters;
        if let Some(counter) = c.finished.get(1) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        c.tenant(&key.tenant, 2, 1);
        Ok(true)
    }

    /// Deletes finished Standard executions that stopped before `now - retention`.
    /// Returns how many.
    ///
    /// # Errors
    /// When the store fails.
    pub fn sweep_retention(&self, now: Millis) -> Result<usize, Error> {
        let cutoff = now - self.inner.opts.retention.as_millis() as i64;
        let doomed = self.inner.store.finished_before(cutoff)?;
        for key in &doomed {
            self.inner.store.execution_delete(key)?;
        }
        Ok(doomed.len())
    }
}

/// The history events of an execution as recorded, for tests and tools.
pub fn history_of(
    store: &Store,
    key: &ExecutionKey,
) -> Result<Vec<serde_json::Value>, store::Error> {
    Ok(store
        .execution_steps(key)?
        .into_iter()
        .flat_map(|s| s.history)
        .collect())
}
