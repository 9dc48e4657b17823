//! Batch jobs in the scheduler: a `submitJob` task stores its job (its id derived from the
//! task, so a task run again after a crash finds the job it submitted) and answers at
//! once; `.sync` submits the task and its answer comes with the job's end, like a nested
//! execution's. Jobs wait in their queue's line in this process and run, as many at once
//! as the queue allows, on blocking threads through a [`JobRunner`] (the sandbox, bound
//! once it exists). A job's end, its logs and the answer its task is owed are one write.
//!
//! After a crash the open jobs are read back: one that was running runs again (at least
//! once) unless a cancel was asked for; a job never runs twice at once in this process.

use super::*;
use crate::arn::Arn;
use crate::store::children::Notice;
use crate::store::jobs::{Attempt, Job, JobLogLine, JobParent, JobQueue, JobStatus};
use crate::store::{Jobs as _, Modules as _};
use crate::tasks::batch::{self, JobEnd, JobRun, CLIENT_ERROR};
use std::collections::VecDeque;
use std::sync::atomic::AtomicU64;

/// Batch's error for a failure on its side (retryable).
const SERVER_ERROR: &str = "Batch.ServerException";

/// Runs one attempt of a job. Called on a blocking thread; may take as long as the
/// queue's wall clock allows.
pub trait JobRunner: Send + Sync + 'static {
    /// Runs `job` under `queue`'s budgets.
    fn run_job(&self, job: &Job, queue: &JobQueue, run: JobRun) -> JobEnd;
}

/// A running job, as the scheduler sees it.
#[derive(Debug, Clone, Default)]
pub(super) struct LiveJob {
    cancel: Arc<AtomicBool>,
    heartbeats: Arc<AtomicU64>,
    /// Set when its tenant was given to another server: the run no longer counts on
    /// this process's board (a run started by a later claim of the tenant takes its
    /// place there).
    left: Arc<AtomicBool>,
}

/// The jobs of this process: waiting in their queue's line, and running.
#[derive(Debug, Default)]
pub(super) struct Board {
    waiting: HashMap<(TenantId, String), VecDeque<String>>,
    running: HashMap<(TenantId, String), u32>,
    live: HashMap<(TenantId, String), LiveJob>,
}

/// What a cancel found.
#[derive(Debug, Clone, PartialEq)]
pub enum Cancelled {
    /// The job, as it stands after the cancel (ended, or told to stop).
    Job(Box<Job>),
    /// No such job.
    Missing,
}

impl Scheduler {
    /// Binds what runs jobs (once; later calls are ignored). Bind it before
    /// [`recover`](Self::recover), which runs the jobs a crash interrupted.
    pub fn bind_jobs(&self, runner: Arc<dyn JobRunner>) {
        let _ = self.inner.job_runner.set(runner);
    }

    /// Runs a `batch:submitJob` task: stores its job and answers `{JobArn, JobId,
    /// JobName}`, as `TaskSubmitted` when the task waits for the job's end.
    pub(super) fn submit_job(
        &self,
        key: &ExecutionKey,
        task: &TaskContext,
        waits: bool,
    ) -> EventKind {
        let id = task.request.id;
        let failed = |error: &str, cause: String| nested::task_failed(id, error, cause);
        let spec = match batch::spec(&task.request.input) {
            Ok(spec) => spec,
            Err(batch::Refused(why)) => return failed(CLIENT_ERROR, why),
        };
        let store = &self.inner.store;
        match store.job_queue_get(&key.tenant, &spec.queue) {
            Ok(Some(_)) => {}
            Ok(None) => return failed(CLIENT_ERROR, format!("JobQueue {} not found", spec.queue)),
            Err(e) => return failed(SERVER_ERROR, e.to_string()),
        }
        let version = spec
            .version
            .or_else(|| task.pins.modules.get(&spec.module).map(|(v, _)| *v));
        let module = match store.module_version(&key.tenant, &spec.module, version) {
            Ok(Some(module)) => module,
            Ok(None) => {
                return failed(
                    CLIENT_ERROR,
                    format!(
                        "JobDefinition {} not found: the tenant has no module '{}'{}",
                        spec.module,
                        spec.module,
                        version.map(|v| format!(" version {v}")).unwrap_or_default()
                    ),
                )
            }
            Err(e) => return failed(SERVER_ERROR, e.to_string()),
        };
        let Ok(Arn::Execution { account, .. }) = Arn::parse(&task.execution_arn) else {
            return failed(
                "States.Runtime",
                "the execution's ARN does not parse".into(),
            );
        };
        let job = Job {
            tenant: key.tenant.clone(),
            account,
            id: nested::derived_uuid(&format!("{}:{}:job", task.execution_arn, id.0)),
            name: spec.name,
            queue: spec.queue,
            module: module.name,
            version: module.version,
            parameters: spec.parameters,
            environment: spec.environment,
            status: JobStatus::Runnable,
            status_reason: None,
            created: self.inner.opts.clock.now(),
            started: None,
            stopped: None,
            attempts: Vec::new(),
            output: None,
            error: None,
            heartbeats: 0,
            fuel_consumed: 0,
            cancel: None,
            parent: Some(JobParent {
                key: key.clone(),
                arn: task.execution_arn.clone(),
                task: id,
                waits,
            }),
            log_lines: 0,
        };
        if waits {
            // A quick job may end before this task's submission is delivered: its answer
            // waits at the gate until `open_gate`.
            self.close_gate(key, id);
        }
        let (job, new) = match store.job_submit(&job) {
            Ok(stored) => stored,
            Err(e) => return failed(SERVER_ERROR, e.to_string()),
        };
        if new {
            self.enqueue(&job);
        } else if waits && job.status.ended() {
            // The task run again after a crash, its job ended meanwhile.
            // The gate holds it until the submission is delivered.
            if let Some(notice) = self.notice_for(&job) {
                self.deliver_notice(notice, false);
            }
        }
        let output = batch::submitted(&self.inner.opts.region, &job);
        match waits {
            true => EventKind::TaskSubmitted {
                task: id,
                output,
                usage: None,
            },
            false => EventKind::TaskSucceeded {
                task: id,
                output,
                usage: None,
            },
        }
    }

    /// Puts a job at the end of its queue's line and starts what the queue allows.
    fn enqueue(&self, job: &Job) {
        lock(&self.inner.jobs)
            .waiting
            .entry((job.tenant.clone(), job.queue.clone()))
            .or_default()
            .push_back(job.id.clone());
        self.pump(&job.tenant, &job.queue);
    }

    /// Starts waiting jobs of a queue while it has room (after a submission, an end, or
    /// a change of the queue's concurrency).
    pub fn pump(&self, tenant: &TenantId, queue_name: &str) {
        if !self.inner.opts.owns.holds(tenant) {
            return; // given to another server, which runs its jobs
        }
        let queue = match self.inner.store.job_queue_get(tenant, queue_name) {
            Ok(Some(queue)) => queue,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(tenant = %tenant, queue = queue_name, error = %e,
                    "cannot read the job queue; its jobs wait");
                return;
            }
        };
        let line = (tenant.clone(), queue_name.to_string());
        loop {
            let (id, live) = {
                let mut board = lock(&self.inner.jobs);
                if board.running.get(&line).copied().unwrap_or(0) >= queue.concurrency {
                    return;
                }
                let Some(id) = board.waiting.get_mut(&line).and_then(VecDeque::pop_front) else {
                    return;
                };
                let at = (tenant.clone(), id.clone());
                if board.live.contains_key(&at) {
                    // Never twice at once.
                    continue;
                }
                *board.running.entry(line.clone()).or_default() += 1;
                let live = LiveJob::default();
                board.live.insert(at, live.clone());
                (id, live)
            };
            let me = self.clone();
            let queue = queue.clone();
            let tenant = tenant.clone();
            tokio::spawn(async move { me.run_job(tenant, queue, id, live).await });
        }
    }

    async fn run_job(&self, tenant: TenantId, queue: JobQueue, id: String, live: LiveJob) {
        let queue_name = queue.name.clone();
        let now = self.inner.opts.clock.now();
        let started = self.update_job(&tenant, &id, |job| {
            if job.status.ended() {
                return false;
            }
            job.status = JobStatus::Running;
            job.started.get_or_insert(now);
            job.heartbeats = 0;
            job.attempts.push(Attempt {
                started: now,
                stopped: None,
                exit_code: None,
                reason: None,
            });
            true
        });
        if let Some(job) = started {
            let end = match (
                live.cancel.load(Ordering::SeqCst),
                self.inner.job_runner.get().cloned(),
            ) {
                (true, _) => None,
                (false, None) => Some(JobEnd {
                    result: Err((
                        SERVER_ERROR.into(),
                        "no job runner is configured on this server".into(),
                    )),
                    exit_code: 1,
                    fuel_consumed: 0,
                    logs: Vec::new(),
                }),
                (false, Some(runner)) => {
                    let run = JobRun {
                        cancel: Arc::clone(&live.cancel).into(),
                        heartbeats: {
                            let beats = Arc::clone(&live.heartbeats);
                            crate::sandbox::BeatListener::new(move || {
                                beats.fetch_add(1, Ordering::Relaxed);
                            })
                        },
                        attempt: u32::try_from(job.attempts.len()).unwrap_or(u32::MAX),
                        region: self.inner.opts.region.clone(),
                    };
                    let ran =
                        tokio::task::spawn_blocking(move || runner.run_job(&job, &queue, run))
                            .await;
                    Some(ran.unwrap_or_else(|e| JobEnd {
                        result: Err((SERVER_ERROR.into(), format!("the job's run failed: {e}"))),
                        exit_code: 1,
                        fuel_consumed: 0,
                        logs: Vec::new(),
                    }))
                }
            };
            self.end_job(&tenant, &id, end, Some(&live));
        }
        {
            let mut board = lock(&self.inner.jobs);
            // Checked under the board's lock, which `leave_jobs` sets it under.
            if live.left.load(Ordering::SeqCst) {
                return;
            }
            let line = (tenant.clone(), queue_name.clone());
            if let Some(n) = board.running.get_mut(&line) {
                *n = n.saturating_sub(1);
            }
            board.live.remove(&(tenant.clone(), id));
        }
        self.pump(&tenant, &queue_name);
    }

    /// Forgets the jobs of `which` tenants, given to another server: those waiting here
    /// start there instead. Those running go on to their end, whose write lands only if
    /// the next server has not claimed the tenants yet (else it runs them again); they
    /// leave this process's board alone.
    pub(super) fn leave_jobs(&self, which: &(dyn Fn(&TenantId) -> bool + Send + Sync)) {
        let mut board = lock(&self.inner.jobs);
        board.waiting.retain(|(tenant, _), _| !which(tenant));
        board.running.retain(|(tenant, _), _| !which(tenant));
        board.live.retain(|(tenant, _), live| {
            let kept = !which(tenant);
            if !kept {
                live.left.store(true, Ordering::SeqCst);
            }
            kept
        });
    }

    /// Ends a job: with its run's end, or (`None`) cancelled before or while it ran.
    fn end_job(&self, tenant: &TenantId, id: &str, end: Option<JobEnd>, live: Option<&LiveJob>) {
        let now = self.inner.opts.clock.now();
        let _writing = lock(&self.inner.job_writes);
        let mut job = match self.inner.store.job_get(tenant, id) {
            Ok(Some(job)) if !job.status.ended() => job,
            Ok(_) => return,
            Err(e) => {
                tracing::error!(tenant = %tenant, job = id, error = %e,
                    "cannot read the job to end it; it runs again at the next start");
                return;
            }
        };
        // A cancel asked for wins over what the run said: it was stopped for it.
        let cancel_reason = job.cancel.clone();
        let mut lines = Vec::new();
        let attempt_no = u32::try_from(job.attempts.len()).unwrap_or(u32::MAX);
        let (status, reason, exit_code) = match (&end, cancel_reason) {
            (_, Some(reason)) => (JobStatus::Failed, reason, None),
            (None, None) => (JobStatus::Failed, "cancelled".to_string(), None),
            (Some(end), None) => match &end.result {
                Ok(_) => (
                    JobStatus::Succeeded,
                    "Essential container in task exited".to_string(),
                    Some(end.exit_code),
                ),
                Err((error, _)) if error == "States.Timeout" => (
                    JobStatus::Failed,
                    "Job attempt duration exceeded timeout".to_string(),
                    Some(end.exit_code),
                ),
                Err((error, cause)) => (
                    JobStatus::Failed,
                    format!("{error}: {cause}").chars().take(1024).collect(),
                    Some(end.exit_code),
                ),
            },
        };
        if let Some(end) = &end {
            job.fuel_consumed = job.fuel_consumed.saturating_add(end.fuel_consumed);
            for (level, message) in &end.logs {
                lines.push(JobLogLine {
                    seq: job.log_lines,
                    attempt: attempt_no,
                    level: level.clone(),
                    message: message.clone(),
                });
                job.log_lines += 1;
            }
            match &end.result {
                Ok(output) if status == JobStatus::Succeeded => {
                    job.output = Some(output.to_string());
                }
                Ok(_) => {}
                Err((error, _)) => job.error = Some(error.clone()),
            }
        }
        if let Some(live) = live {
            job.heartbeats = live.heartbeats.load(Ordering::Relaxed);
        }
        if let Some(attempt) = job.attempts.last_mut().filter(|a| a.stopped.is_none()) {
            attempt.stopped = Some(now);
            attempt.exit_code = exit_code;
            attempt.reason = (status == JobStatus::Failed).then(|| reason.clone());
        }
        job.status = status;
        job.status_reason = Some(reason);
        job.stopped = Some(now);
        let notice = self.notice_for(&job);
        let stored = self.inner.store.job_finish(&job, &lines, notice.as_ref());
        drop(_writing);
        match stored {
            Ok(()) => {
                if let Some(notice) = notice {
                    self.deliver_notice(notice, true);
                }
            }
            Err(e) => tracing::error!(tenant = %tenant, job = id, error = %e,
                "cannot store the job's end; it runs again at the next start"),
        }
    }

    /// The answer a waiting task is owed for its ended job.
    fn notice_for(&self, job: &Job) -> Option<Notice> {
        let parent = job.parent.as_ref().filter(|p| p.waits)?;
        Some(Notice {
            parent: parent.key.clone(),
            task: parent.task,
            answer: batch::answer_for(&self.inner.opts.region, job, parent.task),
        })
    }

    /// Reads, changes and writes an open job under the job lock; answers the job as
    /// written, or `None` when `change` declined or the store failed.
    fn update_job(
        &self,
        tenant: &TenantId,
        id: &str,
        change: impl FnOnce(&mut Job) -> bool,
    ) -> Option<Job> {
        let _writing = lock(&self.inner.job_writes);
        let store = &self.inner.store;
        let mut job = match store.job_get(tenant, id) {
            Ok(Some(job)) => job,
            Ok(None) => return None,
            Err(e) => {
                tracing::error!(tenant = %tenant, job = id, error = %e, "cannot read the job");
                return None;
            }
        };
        if !change(&mut job) {
            return None;
        }
        match store.job_update(&job) {
            Ok(()) => Some(job),
            Err(e) => {
                tracing::error!(tenant = %tenant, job = id, error = %e, "cannot write the job");
                None
            }
        }
    }

    /// Cancels a job: one still waiting ends at once, one running is stopped and ends
    /// when its module has stopped; an ended job stays as it is.
    ///
    /// # Errors
    /// When the store fails.
    pub fn cancel_job(
        &self,
        tenant: &TenantId,
        id: &str,
        reason: &str,
    ) -> Result<Cancelled, store::Error> {
        let Some(job) = self.inner.store.job_get(tenant, id)? else {
            return Ok(Cancelled::Missing);
        };
        if job.status.ended() {
            return Ok(Cancelled::Job(Box::new(job)));
        }
        let running = {
            let mut board = lock(&self.inner.jobs);
            if let Some(line) = board.waiting.get_mut(&(tenant.clone(), job.queue.clone())) {
                line.retain(|waiting| waiting != id);
            }
            board.live.get(&(tenant.clone(), id.to_string())).cloned()
        };
        // Remembered first: the end reads the reason from the job, and a crash before the
        // end does not run it again.
        self.update_job(tenant, id, |job| {
            job.cancel = Some(reason.to_string());
            !job.status.ended()
        });
        match running {
            Some(live) => live.cancel.store(true, Ordering::SeqCst),
            None => self.end_job(tenant, id, None, None),
        }
        Ok(self
            .inner
            .store
            .job_get(tenant, id)?
            .map_or(Cancelled::Missing, |job| Cancelled::Job(Box::new(job))))
    }

    /// Heartbeats a running job's module has sent so far, if it runs here.
    pub fn job_heartbeats(&self, tenant: &TenantId, id: &str) -> Option<u64> {
        lock(&self.inner.jobs)
            .live
            .get(&(tenant.clone(), id.to_string()))
            .map(|live| live.heartbeats.load(Ordering::Relaxed))
    }

    /// Whether a queue has jobs not yet ended.
    ///
    /// # Errors
    /// When the store fails.
    pub fn queue_busy(&self, tenant: &TenantId, queue: &str) -> Result<bool, store::Error> {
        Ok(self
            .inner
            .store
            .open_jobs(Some(tenant))?
            .iter()
            .any(|j| j.queue == queue))
    }

    /// Cancels the job a cancelled `.sync` task of `key` waits for (its execution stopped
    /// or its branch failed), as Step Functions terminates a `.sync` Batch job.
    pub(super) fn cancel_job_of(&self, key: &ExecutionKey, task: TaskId, parent_arn: &str) {
        let id = nested::derived_uuid(&format!("{parent_arn}:{}:job", task.0));
        let waits = matches!(self.inner.store.job_get(&key.tenant, &id),
            Ok(Some(job)) if job.parent.as_ref().is_some_and(|p| p.waits));
        if waits {
            let reason = format!("its parent execution {parent_arn} stopped waiting for it");
            if let Err(e) = self.cancel_job(&key.tenant, &id, &reason) {
                tracing::warn!(tenant = %key.tenant, job = id, error = %e, "cannot cancel the job");
            }
        }
    }

    /// Puts the jobs a stop interrupted back in their queues' lines: a job that was
    /// running runs again, unless a cancel was asked for. Returns how many wait.
    pub(super) fn recover_jobs(
        &self,
        only: &(dyn Fn(&TenantId) -> bool + Send + Sync),
    ) -> Result<usize, store::Error> {
        let mut open = self.inner.store.open_jobs(None)?;
        open.retain(|job| only(&job.tenant));
        open.sort_by_key(|j| j.created);
        let now = self.inner.opts.clock.now();
        let mut queues = Vec::new();
        let mut waiting = 0;
        for job in open {
            if job.cancel.is_some() {
                self.end_job(&job.tenant, &job.id, None, None);
                continue;
            }
            if job.status == JobStatus::Running {
                self.update_job(&job.tenant, &job.id, |job| {
                    job.status = JobStatus::Runnable;
                    if let Some(a) = job.attempts.last_mut().filter(|a| a.stopped.is_none()) {
                        a.stopped = Some(now);
                        a.reason =
                            Some("the server stopped while the job ran; it runs again".into());
                    }
                    true
                });
            }
            lock(&self.inner.jobs)
                .waiting
                .entry((job.tenant.clone(), job.queue.clone()))
                .or_default()
                .push_back(job.id.clone());
            let line = (job.tenant, job.queue);
            if !queues.contains(&line) {
                queues.push(line);
            }
            waiting += 1;
        }
        for (tenant, queue) in queues {
            self.pump(&tenant, &queue);
        }
        Ok(waiting)
    }
}
