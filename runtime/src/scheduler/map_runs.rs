//! Map Runs in the scheduler: the engine's Map Run task creates its run (or finds it:
//! after a crash the task runs again; a redrive asks for the same run again), answers
//! `TaskSubmitted`, and a driver runs the children. Its end (the Map's result, or why it
//! failed) is stored with the answer the parent's task is owed, and delivered like a
//! nested execution's.
//!
//! The driver reads the items on a blocking thread, a few at a time (the reader streams
//! the object; the ItemSelector and the batcher shape each child's input), and keeps at
//! most the run's `MaxConcurrency` children (and never more than
//! [`MAX_CHILDREN_AT_ONCE`]) running. Each child's end is a row in the store: after a
//! restart the driver reads the items again and skips the children that ended; a
//! Standard child that was running is found again by its name (derived from the run and
//! its index). A redrive runs the children that did not succeed again (Standard ones
//! are redriven, Express ones started again) and the items never started.

use super::*;
use crate::map_run::batcher::Filling;
use crate::map_run::reader::{self, Format, Next};
use crate::map_run::results::{self, Transformation};
use crate::map_run::{run_id, Spec};
use crate::s3::Tenant as Buckets;
use crate::store::children::Notice;
use crate::store::map_runs::{Counts, MapChild, MapRun, MapRunStatus};
use crate::store::MapRuns as _;
use sandstep_engine::selector::Selector;
use serde_json::{json, Value};
use std::io::Read;
use std::time::Instant;
use tokio::task::JoinSet;

/// The most children one Map Run runs at once in this process, whatever its
/// `MaxConcurrency` (AWS: 10,000). Bounds the memory a run holds.
pub const MAX_CHILDREN_AT_ONCE: u64 = 1000;

/// How many times one Map Run may be redriven (AWS: 1,000).
const MAX_MAP_RUN_REDRIVES: u32 = 1000;

/// The largest Map result kept in the execution: a state's output limit.
const MAX_RESULT_BYTES: usize = sandstep_engine::limits::PAYLOAD_LIMIT_BYTES;

/// How often a running driver saves its counts for DescribeMapRun.
const SAVE_EVERY: Duration = Duration::from_millis(500);

/// A Map Run this process drives.
#[derive(Debug, Default)]
pub struct LiveRun {
    /// Set when the run is to stop (its Map state was cancelled).
    abort: AtomicBool,
    /// Set when this server gave the run's tenant to another (`handover.rs`): the driver
    /// ends without writing anything, and the next server drives the run on.
    left: AtomicBool,
    /// `MaxConcurrency`, `ToleratedFailureCount` and `...Percentage`, which UpdateMapRun
    /// may change while it runs.
    limits: Mutex<(u64, u64, f64)>,
    /// Woken by an abort or an update.
    wake: tokio::sync::Notify,
    /// Set, and `finished` told, once the driver has stored the run's end.
    ended: AtomicBool,
    finished: tokio::sync::Notify,
}

impl LiveRun {
    /// Stops the run and waits until its driver has stored its end.
    async fn abort_and_wait(&self) {
        self.abort.store(true, Ordering::SeqCst);
        self.wake.notify_waiters();
        loop {
            let finished = self.finished.notified();
            tokio::pin!(finished);
            finished.as_mut().enable();
            if self.ended.load(Ordering::SeqCst) {
                return;
            }
            finished.await;
        }
    }
}

/// A child's end, as the driver hears it.
struct ChildEnd {
    row: MapChild,
}

/// How a run ended, before its result is shaped.
enum RunEnd {
    Done,
    Failed(String, String),
    Aborted,
    /// This server no longer runs the tenant: nothing is stored.
    Left,
}

impl Scheduler {
    /// Runs the engine's Map Run task: creates its run (or finds it), starts its driver,
    /// and answers `TaskSubmitted`; the run's end answers the task.
    pub(super) async fn submit_map_run(&self, key: &ExecutionKey, task: &TaskContext) -> EventKind {
        let id = task.request.id;
        let failed = |cause: String| nested::task_failed(id, "States.Runtime", cause);
        let input = &task.request.input;
        let Some(arn) = input.get("mapRunArn").and_then(Value::as_str) else {
            return failed("the Map Run task names no Map Run".into());
        };
        let store = &self.inner.store;
        let read = || store.map_run_get(&key.tenant, run_id(arn));
        let mut existing = match read() {
            Ok(run) => run,
            Err(e) => return failed(e.to_string()),
        };
        // This task redrove the run already (it runs again after a crash): it goes on.
        let redrive = input.get("redrive").and_then(Value::as_bool) == Some(true)
            && existing.as_ref().is_none_or(|run| run.task != id);
        if redrive {
            // The run's driver may still be stopping it (its execution stopped a moment
            // ago): the redrive goes on from the end it stores.
            let live = lock(&self.inner.map_runs)
                .get(&(key.tenant.clone(), run_id(arn).to_string()))
                .cloned();
            if let Some(live) = live {
                live.abort_and_wait().await;
                existing = match read() {
                    Ok(run) => run,
                    Err(e) => return failed(e.to_string()),
                };
            }
        }
        let run = match (existing, redrive) {
            (Some(run), true) if run.redrive_count >= MAX_MAP_RUN_REDRIVES => {
                return failed(format!(
                    "Map Run {arn} has been redriven {MAX_MAP_RUN_REDRIVES} times, the most it may be"
                ))
            }
            (Some(mut run), true) => {
                run.status = MapRunStatus::Running;
                run.task = id;
                run.stopped = None;
                run.error = None;
                run.cause = None;
                run.redrive_count += 1;
                run.redrive_date = Some(self.now());
                run
            }
            (Some(run), false) => run,
            (None, true) => return failed(format!("Map Run {arn} does not exist")),
            (None, false) => {
                let spec: Spec = match serde_json::from_value(input.clone()) {
                    Ok(spec) => spec,
                    Err(e) => return failed(format!("the Map Run task does not parse: {e}")),
                };
                MapRun {
                    id: run_id(arn).to_string(),
                    arn: arn.to_string(),
                    tenant: key.tenant.clone(),
                    parent: key.clone(),
                    parent_arn: task.execution_arn.clone(),
                    task: id,
                    spec: input.clone(),
                    status: MapRunStatus::Running,
                    started: self.now(),
                    stopped: None,
                    max_concurrency: spec.max_concurrency,
                    tolerated_count: spec.tolerated_failure_count,
                    tolerated_percentage: spec.tolerated_failure_percentage,
                    error: None,
                    cause: None,
                    items: Counts::default(),
                    executions: Counts::default(),
                    read_all: false,
                    redrive_count: 0,
                    redrive_date: None,
                }
            }
        };
        // A quick run may end before this submission is delivered: its answer waits at
        // the gate until then.
        self.close_gate(key, id);
        if run.status != MapRunStatus::Running {
            // The task ran again after a crash; its run ended meanwhile.
            self.deliver_notice(run_notice_again(&run), true);
        } else {
            if let Err(e) = store.map_run_put(&run) {
                return failed(e.to_string());
            }
            let at = (run.tenant.clone(), run.id.clone());
            self.drive(run, task.pins.clone());
            // Cancelled while it was being submitted: nothing else will abort it.
            if task.cancelled.load(Ordering::SeqCst) {
                if let Some(live) = lock(&self.inner.map_runs).get(&at).cloned() {
                    live.abort.store(true, Ordering::SeqCst);
                    live.wake.notify_waiters();
                }
            }
        }
        EventKind::TaskSubmitted {
            task: id,
            output: json!({"MapRunArn": arn}),
            usage: None,
        }
    }

    /// Resumes the Map Runs that were running when the process stopped.
    pub(super) fn resume_map_runs(
        &self,
        only: &(dyn Fn(&TenantId) -> bool + Send + Sync),
    ) -> Result<usize, Error> {
        let store = &self.inner.store;
        let mut resumed = 0;
        for (tenant, id) in store.map_runs_open()? {
            if !only(&tenant) {
                continue;
            }
            let Some(mut run) = store.map_run_get(&tenant, &id)? else {
                continue;
            };
            let parent = store.execution_get(&run.parent)?;
            if !parent.as_ref().is_some_and(|p| p.status == Status::Running) {
                // Its execution ended (stopped) while the run was being aborted.
                run.status = MapRunStatus::Aborted;
                run.stopped = Some(self.now());
                store.map_run_end(&run, None)?;
                continue;
            }
            let pins = parent.map(|p| Arc::new(p.pins())).unwrap_or_default();
            self.drive(run, pins);
            resumed += 1;
        }
        Ok(resumed)
    }

    /// Stops driving the Map Runs of `which` tenants, without storing anything: this
    /// server gave them to another, which drives them on from the store.
    pub(super) fn leave_map_runs(&self, which: &(dyn Fn(&TenantId) -> bool + Send + Sync)) {
        lock(&self.inner.map_runs).retain(|(tenant, _), live| {
            if !which(tenant) {
                return true;
            }
            live.left.store(true, Ordering::SeqCst);
            live.wake.notify_waiters();
            false
        });
    }

    /// Aborts the Map Run of a parent's cancelled task, if it has one.
    pub(super) fn abort_map_run_of(&self, parent: &ExecutionKey, task: TaskId) {
        let runs = match self.inner.store.map_runs_of(parent) {
            Ok(runs) => runs,
            Err(e) => {
                tracing::warn!(error = %e, "cannot look up a Map Run to abort");
                return;
            }
        };
        for run in runs
            .into_iter()
            .filter(|r| r.task == task && r.status == MapRunStatus::Running)
        {
            let live = lock(&self.inner.map_runs)
                .get(&(run.tenant.clone(), run.id.clone()))
                .cloned();
            match live {
                Some(live) => {
                    live.abort.store(true, Ordering::SeqCst);
                    live.wake.notify_waiters();
                }
                None => {
                    let mut run = run;
                    run.status = MapRunStatus::Aborted;
                    run.stopped = Some(self.now());
                    if let Err(e) = self.inner.store.map_run_end(&run, None) {
                        tracing::warn!(error = %e, "cannot mark a Map Run aborted");
                    }
                }
            }
        }
    }

    /// Changes a running Map Run's concurrency and tolerances (UpdateMapRun); answers
    /// whether this process drives it.
    pub fn update_map_run(&self, tenant: &TenantId, id: &str, limits: (u64, u64, f64)) -> bool {
        let live = lock(&self.inner.map_runs)
            .get(&(tenant.clone(), id.to_string()))
            .cloned();
        match live {
            Some(live) => {
                *lock(&live.limits) = limits;
                live.wake.notify_waiters();
                true
            }
            None => false,
        }
    }

    fn drive(&self, run: MapRun, pins: Arc<crate::pins::Pins>) {
        let at = (run.tenant.clone(), run.id.clone());
        let live = Arc::new(LiveRun {
            limits: Mutex::new((
                run.max_concurrency,
                run.tolerated_count,
                run.tolerated_percentage,
            )),
            ..LiveRun::default()
        });
        {
            let mut runs = lock(&self.inner.map_runs);
            if runs.contains_key(&at) {
                return; // driven already
            }
            runs.insert(at.clone(), Arc::clone(&live));
        }
        let me = self.clone();
        tokio::spawn(async move {
            // The children run as the parent's machine's role, read once for the run.
            let role = parent_role(&me.inner.store, &run);
            let driver = Driver {
                me: me.clone(),
                run,
                live: Arc::clone(&live),
                pins,
                role,
            };
            driver.run().await;
            let mut runs = lock(&me.inner.map_runs);
            // Unless the run left, and a driver of a later claim drives it now.
            if runs.get(&at).is_some_and(|now| Arc::ptr_eq(now, &live)) {
                runs.remove(&at);
            }
            drop(runs);
            live.ended.store(true, Ordering::SeqCst);
            live.finished.notify_waiters();
        });
    }
}

/// The role of the machine whose execution started `run` ("" when either is gone).
fn parent_role(store: &Store, run: &MapRun) -> String {
    store
        .execution_get(&run.parent)
        .ok()
        .flatten()
        .and_then(|parent| {
            store
                .machine_get(&run.tenant, &parent.machine)
                .ok()
                .flatten()
        })
        .map(|m| m.role_arn)
        .unwrap_or_default()
}

/// The answer a run that ended owes its parent's task.
fn run_notice_again(run: &MapRun) -> Notice {
    let answer = match run.status {
        MapRunStatus::Succeeded => EventKind::TaskSucceeded {
            task: run.task,
            output: run.spec.get("result").cloned().unwrap_or(Value::Null),
            usage: None,
        },
        _ => nested::task_failed(
            run.task,
            run.error.as_deref().unwrap_or("States.Runtime"),
            run.cause.clone().unwrap_or_default(),
        ),
    };
    Notice {
        parent: run.parent.clone(),
        task: run.task,
        answer,
    }
}

struct Driver {
    me: Scheduler,
    run: MapRun,
    live: Arc<LiveRun>,
    pins: Arc<crate::pins::Pins>,
    /// The role the children run as: the parent's machine's.
    role: String,
}

/// One child to run: its index, how many items it carries, its input.
type Job = (u64, u64, Value);

impl Driver {
    async fn run(mut self) {
        let spec: Spec = match serde_json::from_value(self.run.spec.clone()) {
            Ok(spec) => spec,
            Err(e) => {
                return self
                    .end(
                        RunEnd::Failed(
                            "States.Runtime".into(),
                            format!("the Map Run does not parse: {e}"),
                        ),
                        None,
                    )
                    .await
            }
        };
        if let Err(cause) = self.check_writer(&spec) {
            return self
                .end(
                    RunEnd::Failed("States.ResultWriterFailed".into(), cause),
                    Some(&spec),
                )
                .await;
        }
        if let Err(e) = self.revision(&spec) {
            return self
                .end(
                    RunEnd::Failed("States.Runtime".into(), e.to_string()),
                    Some(&spec),
                )
                .await;
        }
        let (jobs, mut reading) = self.read(&spec);
        let ended = self.children(&spec, jobs).await;
        if matches!(ended, RunEnd::Left) {
            reading.abort();
            return;
        }
        let read = (&mut reading).await;
        let outcome = match (ended, read) {
            (RunEnd::Done, Ok(Err(e))) => RunEnd::Failed("States.ItemReaderFailed".into(), e.0),
            (RunEnd::Done, Err(e)) => {
                RunEnd::Failed("States.ItemReaderFailed".into(), e.to_string())
            }
            (ended, _) => ended,
        };
        self.end(outcome, Some(&spec)).await;
    }

    fn store(&self) -> &Store {
        &self.me.inner.store
    }

    fn buckets(&self) -> Buckets<'_> {
        Buckets {
            store: self.store(),
            tenant: &self.run.tenant,
            account: account_of(&self.run.arn),
            max_object: crate::s3::DEFAULT_MAX_OBJECT_BYTES,
            now: self.me.now(),
        }
    }

    /// AWS checks the export's bucket before any child runs.
    fn check_writer(&self, spec: &Spec) -> Result<(), String> {
        match spec.writer.as_ref().and_then(|w| w.destination()) {
            Some((bucket, _)) => self
                .buckets()
                .head_bucket(&bucket)
                .map(|_| ())
                .map_err(|e| format!("{} (bucket {bucket})", e.message)),
            None => Ok(()),
        }
    }

    /// Stores the children's definition, so that a Standard child is found again after
    /// a restart like any execution.
    fn revision(&self, spec: &Spec) -> Result<Revision, Error> {
        let text = spec.definition.to_string();
        let revision = Revision {
            id: nested::derived_uuid(&format!("{}:definition", self.run.arn)),
            sha256: {
                use sha2::{Digest, Sha256};
                Sha256::digest(text.as_bytes())
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect()
            },
            definition: text,
            created: self.run.started,
        };
        self.store()
            .revision_put(&self.run.tenant, &spec.state_machine_name, &revision)?;
        Ok(revision)
    }

    /// Reads the items on a blocking thread, shaped into children's inputs.
    fn read(
        &self,
        spec: &Spec,
    ) -> (
        tokio::sync::mpsc::Receiver<Job>,
        tokio::task::JoinHandle<Result<(), reader::ReadError>>,
    ) {
        let (sender, receiver) = tokio::sync::mpsc::channel::<Job>(256);
        let spec = spec.clone();
        let store = self.store().clone();
        let tenant = self.run.tenant.clone();
        let account = account_of(&self.run.arn).to_string();
        let handle = tokio::task::spawn_blocking(move || {
            let selector = match &spec.selector {
                Some(s) => {
                    Some(Selector::from_spec(s).map_err(|e| reader::ReadError(e.to_string()))?)
                }
                None => None,
            };
            let mut shaper = Shaper {
                spec: &spec,
                selector: selector.as_ref(),
                filling: Filling::default(),
                next_child: 0,
                next_item: 0,
                sender: &sender,
                failure: None,
            };
            let buckets = Buckets {
                store: &store,
                tenant: &tenant,
                account: &account,
                max_object: crate::s3::DEFAULT_MAX_OBJECT_BYTES,
                now: 0,
            };
            match (&spec.items, &spec.reader) {
                (Some(items), _) => {
                    for item in items {
                        if shaper.take(item.clone(), true) == Next::Stop {
                            break;
                        }
                    }
                }
                (None, Some(r)) => read_from(&buckets, r, &mut shaper)?,
                (None, None) => {}
            }
            shaper.flush();
            match shaper.failure {
                Some(why) => Err(reader::ReadError(why)),
                None => Ok(()),
            }
        });
        (receiver, handle)
    }

    /// Runs the children as the items come, within the concurrency, until the items
    /// end, too many fail, or the run is aborted.
    async fn children(
        &mut self,
        spec: &Spec,
        mut jobs: tokio::sync::mpsc::Receiver<Job>,
    ) -> RunEnd {
        let mut running: JoinSet<ChildEnd> = JoinSet::new();
        let mut rows = RowCursor::default();
        let mut items = Counts::default();
        let mut executions = Counts::default();
        let mut exhausted = false;
        let mut saved = Instant::now();
        let mut outcome = RunEnd::Done;
        let mut inflight: HashMap<u64, String> = HashMap::new();
        // Counts changed since they were last saved.
        let mut dirty = true;
        // The share of failures is judged against every item: known at once for the
        // state input's, once the reader is done for a reader's.
        let given = spec.items.as_ref().map(|i| i.len() as u64);
        let live = Arc::clone(&self.live);
        loop {
            // Enabled before the checks: an abort or update between them is not missed.
            let woken = live.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.live.left.load(Ordering::SeqCst) {
                // The children go on, on the next server; those waited for here are not.
                return RunEnd::Left;
            }
            if self.live.abort.load(Ordering::SeqCst) {
                outcome = RunEnd::Aborted;
                break;
            }
            let (limit, count, percentage) = *lock(&self.live.limits);
            let known = given.or(exhausted.then_some(items.total));
            if over_tolerance(&items, count, percentage, known) {
                outcome = RunEnd::Failed(
                    "States.ExceedToleratedFailureThreshold".into(),
                    "The specified tolerated failure threshold was exceeded".into(),
                );
                break;
            }
            let cap = match limit {
                0 => MAX_CHILDREN_AT_ONCE,
                n => n.min(MAX_CHILDREN_AT_ONCE),
            };
            if dirty && saved.elapsed() >= SAVE_EVERY {
                self.save(items, executions, false);
                saved = Instant::now();
                dirty = false;
            }
            let room = (running.len() as u64) < cap && !exhausted;
            if !room && running.is_empty() {
                break;
            }
            tokio::select! {
                biased;
                () = &mut woken => {}
                () = tokio::time::sleep(SAVE_EVERY), if dirty => {}
                Some(done) = running.join_next(), if !running.is_empty() => {
                    let Ok(done) = done else { continue };
                    inflight.remove(&done.row.index);
                    dirty = true;
                    tally(&mut items, &mut executions, &done.row, true);
                    if let Err(e) = self.store().map_children_put(&self.run.tenant, &self.run.id, std::slice::from_ref(&done.row)) {
                        tracing::warn!(error = %e, "cannot store a Map Run child's end");
                    }
                }
                job = jobs.recv(), if room => {
                    let Some((index, carried, input)) = job else {
                        exhausted = true;
                        continue;
                    };
                    items.total += carried;
                    executions.total += 1;
                    dirty = true;
                    let row = match rows.at(self.store(), &self.run, index) {
                        Ok(row) => row,
                        Err(e) => {
                            outcome = RunEnd::Failed("States.Runtime".into(), e.to_string());
                            break;
                        }
                    };
                    // A child that ended stays as it ended, unless it failed before the
                    // run's latest redrive (also when that redrive resumes after a crash).
                    let again = row.as_ref().is_some_and(|r| self.run_again(r));
                    match row {
                        Some(row) if row.status.is_some() && !again => {
                            tally(&mut items, &mut executions, &row, false);
                            continue;
                        }
                        _ => {}
                    }
                    items.running += carried;
                    executions.running += 1;
                    let child = self.child(spec, index, carried, input, again);
                    inflight.insert(index, child_name(&self.run.arn, index));
                    running.spawn(child);
                }
            }
        }
        // Children still running when the run stops early are stopped with it.
        if !running.is_empty() {
            for name in inflight.values() {
                let key = ExecutionKey {
                    tenant: self.run.tenant.clone(),
                    machine: spec.state_machine_name.clone(),
                    name: name.clone(),
                };
                let _ = self
                    .me
                    .stop(&key, None, Some("The Map Run stopped".into()))
                    .await;
            }
            while let Some(done) = running.join_next().await {
                if let Ok(done) = done {
                    tally(&mut items, &mut executions, &done.row, true);
                    let _ = self.store().map_children_put(
                        &self.run.tenant,
                        &self.run.id,
                        std::slice::from_ref(&done.row),
                    );
                }
            }
        }
        drop(jobs);
        self.run.read_all = matches!(outcome, RunEnd::Done);
        self.save(items, executions, true);
        outcome
    }

    /// Whether a child that ended runs again: it did not succeed, and ended before the
    /// run's latest redrive.
    fn run_again(&self, row: &MapChild) -> bool {
        row.status.is_some_and(|s| s != Status::Succeeded)
            && self
                .run
                .redrive_date
                .is_some_and(|redriven| row.stopped.unwrap_or(row.started) <= redriven)
    }

    /// One child's run, from its start to its end (`again`: a redrive runs it again).
    fn child(
        &self,
        spec: &Spec,
        index: u64,
        carried: u64,
        input: Value,
        again: bool,
    ) -> impl std::future::Future<Output = ChildEnd> + Send + 'static {
        let me = self.me.clone();
        let express = spec.express();
        let machine_name = spec.state_machine_name.clone();
        let account = account_of(&self.run.arn).to_string();
        let name = child_name(&self.run.arn, index);
        let arn = crate::arn::execution(
            &me.inner.opts.region,
            &account,
            &machine_name,
            &name,
            express,
        );
        let tenant = self.run.tenant.clone();
        let run_arn = self.run.arn.clone();
        let role = self.role.clone();
        let pins = self.pins.clone();
        let definition = spec.definition.to_string();
        let revision_id = nested::derived_uuid(&format!("{}:definition", self.run.arn));
        let live = Arc::clone(&self.live);
        async move {
            let input_text = input.to_string();
            let mut row = MapChild {
                index,
                items: carried,
                name: name.clone(),
                arn: arn.clone(),
                status: None,
                input: input_text.clone(),
                output: None,
                error: None,
                cause: None,
                started: me.now(),
                stopped: None,
            };
            let key = ExecutionKey {
                tenant: tenant.clone(),
                machine: machine_name.clone(),
                name: name.clone(),
            };
            let machine = StateMachine {
                name: machine_name.clone(),
                arn: crate::arn::state_machine(&me.inner.opts.region, &account, &machine_name),
                machine_type: if express {
                    MachineType::Express
                } else {
                    MachineType::Standard
                },
                role_arn: role,
                revision_id: revision_id.clone(),
                created: row.started,
                updated: row.started,
                description: None,
                logging: None,
                tracing: None,
                revised: false,
                last_version: 0,
                generation: 0,
            };
            let request = StartRequest {
                tenant: tenant.clone(),
                account,
                machine,
                revision: Revision {
                    id: revision_id,
                    sha256: String::new(),
                    definition,
                    created: row.started,
                },
                name,
                input,
                input_text,
                pins: (*pins).clone(),
                parent: None,
                version: None,
                alias: None,
                map_run: Some(run_arn.clone()),
            };
            let ended = match launch_child(&me, request, &key, express, again, &live).await {
                Ok(Some(ended)) => Ok(ended),
                Ok(None) => {
                    // A Standard child runs: its row says so once it does (a restart
                    // before this finds the row as it was, and the child by its name).
                    let _ = me.inner.store.map_children_put(
                        &tenant,
                        run_id(&run_arn),
                        std::slice::from_ref(&row),
                    );
                    me.end_of(&key).await
                }
                Err(e) => Err(e),
            };
            match ended {
                Ok(e) => {
                    row.status = Some(e.status);
                    row.output = e.output;
                    row.error = e.error;
                    row.cause = e.cause;
                    row.stopped = e.stopped.or_else(|| Some(me.now()));
                }
                Err(_) if live.abort.load(Ordering::SeqCst) => {
                    row.status = Some(Status::Aborted);
                    row.stopped = Some(me.now());
                }
                Err(e) => {
                    row.status = Some(Status::Failed);
                    row.error = Some("States.Runtime".into());
                    row.cause = Some(e.to_string());
                    row.stopped = Some(me.now());
                }
            }
            ChildEnd { row }
        }
    }

    /// Saves the counts (and, at the end, what the run is) for DescribeMapRun.
    fn save(&mut self, mut items: Counts, mut executions: Counts, last: bool) {
        if !last {
            items.pending = 0;
        }
        let (limit, count, percentage) = *lock(&self.live.limits);
        self.run.max_concurrency = limit;
        self.run.tolerated_count = count;
        self.run.tolerated_percentage = percentage;
        items.results_written = items.succeeded;
        executions.results_written = executions.succeeded;
        self.run.items = items;
        self.run.executions = executions;
        if let Err(e) = self.store().map_run_put(&self.run) {
            tracing::warn!(error = %e, "cannot save a Map Run's counts");
        }
    }

    /// Shapes the result, stores the run's end with the answer its parent's task is owed,
    /// and delivers that answer.
    async fn end(mut self, outcome: RunEnd, spec: Option<&Spec>) {
        let result = match (&outcome, spec) {
            (RunEnd::Left, _) => return,
            (RunEnd::Done, Some(spec)) => match self.result(spec) {
                Ok(result) => Ok(result),
                Err((error, cause)) => Err((error, cause)),
            },
            (RunEnd::Failed(error, cause), _) => Err((error.clone(), cause.clone())),
            (RunEnd::Aborted, _) => {
                Err(("States.Runtime".into(), "The Map Run was aborted".into()))
            }
            (RunEnd::Done, None) => {
                Err(("States.Runtime".into(), "the Map Run has no spec".into()))
            }
        };
        self.run.stopped = Some(self.me.now());
        let answer = match result {
            Ok(output) => {
                self.run.status = MapRunStatus::Succeeded;
                if let Some(o) = self.run.spec.as_object_mut() {
                    o.insert("result".into(), output.clone());
                }
                EventKind::TaskSucceeded {
                    task: self.run.task,
                    output,
                    usage: None,
                }
            }
            Err((error, cause)) => {
                self.run.status = match outcome {
                    RunEnd::Aborted => MapRunStatus::Aborted,
                    _ => MapRunStatus::Failed,
                };
                self.run.error = Some(error.clone());
                self.run.cause = Some(cause.clone());
                nested::task_failed(self.run.task, &error, cause)
            }
        };
        let aborted = self.run.status == MapRunStatus::Aborted;
        let notice = Notice {
            parent: self.run.parent.clone(),
            task: self.run.task,
            answer,
        };
        // An aborted run's Map state was cancelled: nobody waits for an answer.
        let owed = (!aborted).then_some(&notice);
        let stored = tokio::task::spawn_blocking({
            let store = self.store().clone();
            let run = self.run.clone();
            let owed = owed.cloned();
            move || store.map_run_end(&run, owed.as_ref())
        })
        .await;
        match stored {
            Ok(Ok(())) if !aborted => self.me.deliver_notice(notice, true),
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(error = %e, run = %self.run.arn, "cannot store a Map Run's end; it runs again at the next start")
            }
            Err(e) => tracing::error!(error = %e, "the Map Run's end was lost"),
        }
    }

    /// The Map's result: the children's results in order, or where the ResultWriter put
    /// them.
    fn result(&self, spec: &Spec) -> Result<Value, (String, String)> {
        let writer = spec.writer.clone();
        let how = writer
            .as_ref()
            .map_or(Transformation::Compact, |w| w.transformation());
        let machine_arn = crate::arn::state_machine(
            &self.me.inner.opts.region,
            account_of(&self.run.arn),
            &spec.state_machine_name,
        );
        let express = spec.express();
        if let Some((bucket, prefix)) = writer.as_ref().and_then(|w| w.destination()) {
            let lines = writer.as_ref().is_some_and(|w| w.json_lines());
            return self
                .export(&bucket, &prefix, how, lines, &machine_arn, express)
                .map_err(|cause| ("States.ResultWriterFailed".to_string(), cause));
        }
        let mut out = Vec::new();
        let mut bytes = 2usize;
        let mut from = 0;
        loop {
            let page = self
                .store()
                .map_children(&self.run.tenant, &self.run.id, from, 1000)
                .map_err(|e| ("States.Runtime".to_string(), e.to_string()))?;
            let Some(last) = page.last() else { break };
            from = last.index + 1;
            for child in &page {
                for entry in results::entries(child, how, &machine_arn, express) {
                    bytes += entry.to_string().len() + 1;
                    if bytes > MAX_RESULT_BYTES {
                        return Err((
                            "States.DataLimitExceeded".into(),
                            format!("The state/task '{}' returned a result with a size exceeding the maximum number of bytes service limit ({MAX_RESULT_BYTES}): use a ResultWriter", self.run.arn),
                        ));
                    }
                    out.push(entry);
                }
            }
        }
        Ok(Value::Array(out))
    }

    /// Writes the result files and their manifest; answers what the Map state gets.
    fn export(
        &self,
        bucket: &str,
        prefix: &str,
        how: Transformation,
        lines: bool,
        machine_arn: &str,
        express: bool,
    ) -> Result<Value, String> {
        let buckets = self.buckets();
        let mut files = Vec::new();
        for status in ["SUCCEEDED", "FAILED", "PENDING"] {
            let mut body = ResultFile {
                store: self.store(),
                run: &self.run,
                status,
                how,
                machine_arn,
                express,
                lines,
                next: 0,
                buffer: Vec::new(),
                at: 0,
                written: 0,
                finished: false,
            };
            if !body.any().map_err(|e| e.to_string())? {
                continue;
            }
            let key = results::key(prefix, &self.run.id, &format!("{status}_0.json"));
            let meta = buckets
                .put_object(
                    bucket,
                    &key,
                    &mut body,
                    Some("application/json".into()),
                    BTreeMap::new(),
                )
                .map_err(|e| e.message)?;
            files.push((status, key, meta.size));
        }
        let manifest = results::manifest(bucket, &self.run.arn, &files).to_string();
        let key = results::key(prefix, &self.run.id, "manifest.json");
        buckets
            .put_object(
                bucket,
                &key,
                &mut manifest.as_bytes(),
                Some("application/json".into()),
                BTreeMap::new(),
            )
            .map_err(|e| e.message)?;
        Ok(json!({
            "MapRunArn": self.run.arn,
            "ResultWriterDetails": {"Bucket": bucket, "Key": key},
        }))
    }
}

/// Starts a child: an Express one runs to its end (its record comes back); a Standard
/// one is started, or found started, or redriven when it is to run again (`None`).
async fn launch_child(
    me: &Scheduler,
    request: StartRequest,
    key: &ExecutionKey,
    express: bool,
    again: bool,
    live: &LiveRun,
) -> Result<Option<Execution>, Error> {
    loop {
        if live.abort.load(Ordering::SeqCst) {
            return Err(Error::NotRunning("the Map Run stopped".into()));
        }
        let started = match me.start(request.clone(), express).await {
            Err(Error::AlreadyExists(existing)) if !express => {
                if again && existing.redrivable(me.now()).is_ok() {
                    me.redrive(key, None).await.map(|_| ())
                } else {
                    Ok(())
                }
            }
            Ok(record) if express => return Ok(Some(record)),
            other => other.map(|_| ()),
        };
        match started {
            Ok(()) => return Ok(None),
            // Over the tenant's open executions: wait for room.
            Err(Error::OpenLimit(_)) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => return Err(e),
        }
    }
}

/// Whether the failed items pass what the run tolerates: either limit that is set
/// (neither: any failure).
fn over_tolerance(items: &Counts, count: u64, percentage: f64, total: Option<u64>) -> bool {
    let failed = items.failed + items.timed_out + items.aborted;
    // Until the count of all items is known, only a share of them that every item
    // could not bring under the limit again is judged: none.
    let share = match total {
        None | Some(0) => 0.0,
        Some(total) => failed as f64 * 100.0 / total as f64,
    };
    match (count > 0, percentage > 0.0) {
        (false, false) => failed > 0,
        (true, false) => failed > count,
        (false, true) => share > percentage,
        (true, true) => failed > count || share > percentage,
    }
}

/// Adds a child to the counts: one that ended (`was_running`: it was counted running).
fn tally(items: &mut Counts, executions: &mut Counts, row: &MapChild, was_running: bool) {
    if was_running {
        items.running = items.running.saturating_sub(row.items);
        executions.running = executions.running.saturating_sub(1);
    }
    let (i, e) = match row.status {
        Some(Status::Succeeded) => (&mut items.succeeded, &mut executions.succeeded),
        Some(Status::TimedOut) => (&mut items.timed_out, &mut executions.timed_out),
        Some(Status::Aborted) => (&mut items.aborted, &mut executions.aborted),
        Some(_) => (&mut items.failed, &mut executions.failed),
        None => return,
    };
    *i += row.items;
    *e += 1;
}

/// The children's stored rows, read a page at a time as the item index advances.
#[derive(Default)]
struct RowCursor {
    page: std::collections::VecDeque<MapChild>,
    next: u64,
    done: bool,
}

impl RowCursor {
    fn at(&mut self, store: &Store, run: &MapRun, index: u64) -> Result<Option<MapChild>, Error> {
        loop {
            while self.page.front().is_some_and(|c| c.index < index) {
                self.page.pop_front();
            }
            if let Some(front) = self.page.front() {
                return Ok((front.index == index).then(|| front.clone()));
            }
            if self.done {
                return Ok(None);
            }
            let page = store.map_children(&run.tenant, &run.id, self.next.max(index), 1000)?;
            match page.last() {
                Some(last) => self.next = last.index + 1,
                None => self.done = true,
            }
            self.page.extend(page);
        }
    }
}

/// Shapes items into children's inputs on the reading thread: the selector, then the
/// batcher.
struct Shaper<'a> {
    spec: &'a Spec,
    selector: Option<&'a Selector>,
    filling: Filling,
    next_child: u64,
    next_item: u64,
    sender: &'a tokio::sync::mpsc::Sender<Job>,
    failure: Option<String>,
}

impl Shaper<'_> {
    /// One item (`selected`: it came through the ItemSelector already).
    fn take(&mut self, item: Value, selected: bool) -> Next {
        let index = self.next_item;
        self.next_item += 1;
        let input = match (self.selector, selected) {
            (Some(selector), false) => match selector.select(index as usize, &item) {
                Ok(v) => v,
                Err(f) => {
                    self.failure = Some(f.cause.unwrap_or_default());
                    return Next::Stop;
                }
            },
            _ => item,
        };
        match &self.spec.batcher {
            None => self.send(1, input),
            Some(batcher) => match batcher.add(&mut self.filling, input) {
                Some(batch) => {
                    let n = batch.len() as u64;
                    self.send(n, batcher.input(batch))
                }
                None => Next::More,
            },
        }
    }

    fn flush(&mut self) {
        if let Some(batcher) = &self.spec.batcher {
            if let Some(batch) = batcher.finish(&mut self.filling) {
                let n = batch.len() as u64;
                self.send(n, batcher.input(batch));
            }
        }
    }

    fn send(&mut self, items: u64, input: Value) -> Next {
        let index = self.next_child;
        self.next_child += 1;
        match self.sender.blocking_send((index, items, input)) {
            Ok(()) => Next::More,
            Err(_) => Next::Stop, // the run stopped taking children
        }
    }
}

/// Reads the items an ItemReader names.
fn read_from(
    buckets: &Buckets<'_>,
    r: &crate::map_run::ReaderSpec,
    shaper: &mut Shaper<'_>,
) -> Result<(), reader::ReadError> {
    let text = |name: &str| {
        r.parameters
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let failed = |e: crate::s3::Error| {
        reader::ReadError(format!(
            "{} (Service: S3, Status Code: {})",
            e.message, e.status
        ))
    };
    let limit = r.max_items.filter(|n| *n > 0).unwrap_or(u64::MAX);
    let mut count = 0u64;
    let mut take = |item: Value| {
        if count >= limit {
            return Next::Stop;
        }
        count += 1;
        match shaper.take(item, false) {
            Next::More if count < limit => Next::More,
            _ => Next::Stop,
        }
    };
    for (field, refused) in [
        ("ItemsPointer", None),
        ("Transformation", Some("LOAD_AND_FLATTEN")),
        ("ManifestType", Some("ATHENA_DATA")),
    ] {
        let given = r.config.get(field).and_then(Value::as_str);
        if given.is_some() && refused.is_none_or(|v| given == Some(v)) {
            return Err(reader::ReadError(format!(
                "ReaderConfig.{field} {} is not supported by Sandstep",
                given.unwrap_or_default()
            )));
        }
    }
    match r.resource.as_str() {
        "arn:aws:states:::s3:listObjectsV2" => {
            let (bucket, prefix) = (text("Bucket"), text("Prefix"));
            let mut after: Option<String> = None;
            loop {
                let page = buckets.list_objects(&bucket, &prefix, None, after.as_deref(), 1000).map_err(failed)?;
                for object in &page.contents {
                    let item = json!({
                        "Etag": format!("\"{}\"", object.sha256.get(..32).unwrap_or(&object.sha256)),
                        "Key": object.key,
                        "LastModified": object.modified / 1000,
                        "Size": object.size,
                        "StorageClass": "STANDARD",
                    });
                    if take(item) == Next::Stop {
                        return Ok(());
                    }
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => return Ok(()),
                }
            }
        }
        "arn:aws:states:::s3:getObject" => {
            let (bucket, key) = (text("Bucket"), text("Key"));
            let (_, body) = buckets.get_object(&bucket, &key).map_err(failed)?;
            if r.config.get("InputType").and_then(Value::as_str) == Some("MANIFEST") {
                let (schema, files) = reader::manifest(body)?;
                for file in files {
                    let (_, data) = buckets.get_object(&bucket, &file).map_err(failed)?;
                    let mut stopped = false;
                    reader::inventory_rows(data, &file, &schema, &mut |row| {
                        let next = take(row);
                        stopped |= next == Next::Stop;
                        next
                    })?;
                    if stopped {
                        break;
                    }
                }
                return Ok(());
            }
            let format = Format::of(&r.config)?;
            reader::read(body, &format, None, &mut take).map(|_| ())
        }
        other => Err(reader::ReadError(format!(
            "The ItemReader resource {other} is not supported by Sandstep (s3:getObject and s3:listObjectsV2 are)"
        ))),
    }
}

/// A child's name: derived from its run and index, so that the run resumed after a
/// crash finds the Standard child it started.
fn child_name(run_arn: &str, index: u64) -> String {
    nested::derived_uuid(&format!("{run_arn}:{index}"))
}

/// The account of an ARN.
fn account_of(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or("000000000000")
}

/// A result file's bytes, made as they are read: a JSON array (or JSON Lines) of the
/// entries of the children of one status, read from the store a page at a time.
struct ResultFile<'a> {
    store: &'a Store,
    run: &'a MapRun,
    status: &'static str,
    how: Transformation,
    machine_arn: &'a str,
    express: bool,
    lines: bool,
    next: u64,
    buffer: Vec<u8>,
    at: usize,
    written: u64,
    finished: bool,
}

impl ResultFile<'_> {
    /// Whether any child belongs in this file.
    fn any(&mut self) -> std::io::Result<bool> {
        let mut from = 0;
        loop {
            let page = self
                .store
                .map_children(&self.run.tenant, &self.run.id, from, 1000)
                .map_err(std::io::Error::other)?;
            let Some(last) = page.last() else {
                return Ok(false);
            };
            if page.iter().any(|c| results::file_of(c) == self.status) {
                return Ok(true);
            }
            from = last.index + 1;
        }
    }

    fn refill(&mut self) -> std::io::Result<()> {
        self.buffer.clear();
        self.at = 0;
        if self.finished {
            return Ok(());
        }
        if self.next == 0 && self.written == 0 && !self.lines {
            self.buffer.push(b'[');
        }
        let page = self
            .store
            .map_children(&self.run.tenant, &self.run.id, self.next, 256)
            .map_err(std::io::Error::other)?;
        match page.last() {
            Some(last) => self.next = last.index + 1,
            None => {
                self.finished = true;
                if !self.lines {
                    self.buffer.push(b']');
                }
                return Ok(());
            }
        }
        for child in page.iter().filter(|c| results::file_of(c) == self.status) {
            for entry in results::entries(child, self.how, self.machine_arn, self.express) {
                if self.written > 0 && !self.lines {
                    self.buffer.push(b',');
                }
                self.buffer.extend_from_slice(entry.to_string().as_bytes());
                if self.lines {
                    self.buffer.push(b'\n');
                }
                self.written += 1;
            }
        }
        Ok(())
    }
}

impl Read for ResultFile<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at >= self.buffer.len() {
            if self.finished && self.at >= self.buffer.len() {
                return Ok(0);
            }
            self.refill()?;
        }
        let mut rest = self.buffer.get(self.at..).unwrap_or_default();
        let n = rest.read(out)?;
        self.at += n;
        Ok(n)
    }
}
