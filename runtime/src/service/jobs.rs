//! Batch jobs from outside a workflow: the tenant's job queues (their concurrency and each
//! job's budgets), and the jobs workflows submitted, listed, described, cancelled and
//! their logs read. Submitting is a workflow's (`batch:submitJob`, `scheduler/jobs.rs`).

use super::paging::{decode_token, encode_token, Page, DEFAULT_LIMIT};
use super::{Error, Result};
use crate::scheduler::jobs::Cancelled;
use crate::scheduler::Scheduler;
use crate::store::jobs::{Job, JobLogLine, JobQueue, JobStatus};
use crate::store::{Jobs as _, Store};
use crate::tenants::Tenant;

/// The most jobs of one queue running at once.
pub const MAX_CONCURRENCY: u32 = 64;
/// The longest wall clock a queue may give a job: a week.
pub const MAX_WALL_CLOCK_HOURS: f64 = 168.0;
/// The most fuel a queue may give one run of a job.
pub const MAX_FUEL: u64 = 1_000_000_000_000_000;
/// The most queues a tenant may have.
pub const MAX_QUEUES: usize = 100;

/// A queue's settings as given; what is left out keeps its value (or the default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueSettings {
    /// Jobs running at once [1].
    pub concurrency: Option<u32>,
    /// Wall clock of one run, in hours [1].
    pub wall_clock_hours: Option<f64>,
    /// Fuel of one run [10^12].
    pub fuel: Option<u64>,
    /// Memory of a job, in MiB [the tenant's memory quota].
    pub memory_mib: Option<u32>,
}

/// Which jobs a listing shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFilter {
    /// Only this queue's.
    pub queue: Option<String>,
    /// Only jobs in this status (`RUNNABLE`, `RUNNING`, `SUCCEEDED`, `FAILED`).
    pub status: Option<String>,
}

/// A job and what only the running process knows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobView {
    /// The job as stored.
    pub job: Job,
    /// Heartbeats of the run in progress, or of the last run.
    pub heartbeats: u64,
}

/// The tenant's job queues and jobs.
#[derive(Debug, Clone)]
pub struct Jobs {
    store: Store,
    scheduler: Scheduler,
}

impl Jobs {
    /// Jobs in `store`, run by `scheduler`.
    pub fn new(store: Store, scheduler: Scheduler) -> Jobs {
        Jobs { store, scheduler }
    }

    /// Creates a queue, or changes one (jobs already waiting take the new concurrency).
    ///
    /// # Errors
    /// [`Error::InvalidJobQueue`] for a bad name or a setting out of bounds, store failures.
    #[tracing::instrument(level = "debug", name = "service.put_job_queue", skip_all, fields(tenant = %tenant.id, queue = %name))]
    pub fn put_queue(
        &self,
        tenant: &Tenant,
        name: &str,
        settings: QueueSettings,
    ) -> Result<JobQueue> {
        let invalid = |why: String| Err(Error::InvalidJobQueue(why));
        if !crate::grants::valid_name(name) {
            return invalid(format!(
                "'{name}' is not a valid queue name: 1-128 letters, digits, '-', '_' and '.'"
            ));
        }
        let existing = self.store.job_queue_get(&tenant.id, name)?;
        if existing.is_none() && self.store.job_queue_list(&tenant.id)?.len() >= MAX_QUEUES {
            return invalid(format!("a tenant may have at most {MAX_QUEUES} job queues"));
        }
        let memory_quota = u32::try_from(tenant.quotas.max_memory_bytes >> 20).unwrap_or(u32::MAX);
        let concurrency = settings
            .concurrency
            .or(existing.as_ref().map(|q| q.concurrency))
            .unwrap_or(1);
        if !(1..=MAX_CONCURRENCY).contains(&concurrency) {
            return invalid(format!(
                "concurrency must be 1 to {MAX_CONCURRENCY}, not {concurrency}"
            ));
        }
        let wall_clock_ms = match settings.wall_clock_hours {
            Some(h) if h.is_finite() && h > 0.0 && h <= MAX_WALL_CLOCK_HOURS => {
                // At least a millisecond; within bounds, so the cast cannot overflow.
                ((h * 3_600_000.0).round() as u64).max(1)
            }
            Some(h) => {
                return invalid(format!(
                    "wallClockHours must be above 0 and at most {MAX_WALL_CLOCK_HOURS}, not {h}"
                ))
            }
            None => existing.as_ref().map_or(3_600_000, |q| q.wall_clock_ms),
        };
        let fuel = settings
            .fuel
            .or(existing.as_ref().map(|q| q.fuel))
            .unwrap_or(1_000_000_000_000);
        if !(1..=MAX_FUEL).contains(&fuel) {
            return invalid(format!("fuel must be 1 to {MAX_FUEL}, not {fuel}"));
        }
        let memory_mib = settings
            .memory_mib
            .or(existing.as_ref().map(|q| q.memory_mib))
            .unwrap_or(memory_quota);
        if memory_mib == 0 || memory_mib > memory_quota {
            return invalid(format!(
                "memoryMib must be 1 to {memory_quota} (the tenant's memory quota), not {memory_mib}"
            ));
        }
        let queue = JobQueue {
            name: name.to_string(),
            concurrency,
            wall_clock_ms,
            fuel,
            memory_mib,
            created: existing
                .as_ref()
                .map_or_else(|| self.scheduler.clock().now(), |q| q.created),
        };
        self.store.job_queue_put(&tenant.id, &queue)?;
        self.scheduler.pump(&tenant.id, name);
        Ok(queue)
    }

    /// The tenant's queues, by name.
    ///
    /// # Errors
    /// Store failures.
    pub fn queues(&self, tenant: &Tenant) -> Result<Vec<JobQueue>> {
        Ok(self.store.job_queue_list(&tenant.id)?)
    }

    /// One queue.
    ///
    /// # Errors
    /// [`Error::JobQueueDoesNotExist`], store failures.
    pub fn queue(&self, tenant: &Tenant, name: &str) -> Result<JobQueue> {
        self.store
            .job_queue_get(&tenant.id, name)?
            .ok_or_else(|| Error::JobQueueDoesNotExist(name.to_string()))
    }

    /// Deletes a queue that has no job waiting or running.
    ///
    /// # Errors
    /// [`Error::JobQueueDoesNotExist`], [`Error::JobQueueInUse`], store failures.
    #[tracing::instrument(level = "debug", name = "service.delete_job_queue", skip_all, fields(tenant = %tenant.id, queue = %name))]
    pub fn delete_queue(&self, tenant: &Tenant, name: &str) -> Result<()> {
        self.queue(tenant, name)?;
        if self.scheduler.queue_busy(&tenant.id, name)? {
            return Err(Error::JobQueueInUse(name.to_string()));
        }
        self.store.job_queue_delete(&tenant.id, name)?;
        Ok(())
    }

    /// The tenant's jobs, in id order, a page at a time.
    ///
    /// # Errors
    /// [`Error::InvalidToken`], [`Error::InvalidJobQueue`] for an unknown status, store
    /// failures.
    pub fn list(
        &self,
        tenant: &Tenant,
        filter: &JobFilter,
        next_token: Option<&str>,
        max: Option<usize>,
    ) -> Result<Page<Job>> {
        let status = match filter.status.as_deref() {
            None => None,
            Some(text) => Some(JobStatus::parse(text).ok_or_else(|| {
                Error::InvalidJobQueue(format!(
                    "status must be RUNNABLE, RUNNING, SUCCEEDED or FAILED, not '{text}'"
                ))
            })?),
        };
        let limit = max.unwrap_or(DEFAULT_LIMIT).clamp(1, 1000);
        let mut after = next_token.map(decode_token).transpose()?;
        let mut items = Vec::new();
        loop {
            let batch = self.store.job_list(&tenant.id, after.as_deref(), 1000)?;
            let exhausted = batch.len() < 1000;
            for job in batch {
                after = Some(job.id.clone());
                let wanted = filter.queue.as_ref().is_none_or(|q| &job.queue == q)
                    && status.is_none_or(|s| job.status == s);
                if wanted {
                    items.push(job);
                    if items.len() == limit {
                        let next = after.as_deref().map(encode_token);
                        return Ok(Page {
                            items,
                            next_token: next,
                        });
                    }
                }
            }
            if exhausted {
                return Ok(Page {
                    items,
                    next_token: None,
                });
            }
        }
    }

    /// One job.
    ///
    /// # Errors
    /// [`Error::JobDoesNotExist`], store failures.
    pub fn describe(&self, tenant: &Tenant, id: &str) -> Result<JobView> {
        let job = self
            .store
            .job_get(&tenant.id, id)?
            .ok_or_else(|| Error::JobDoesNotExist(id.to_string()))?;
        Ok(self.view(job))
    }

    /// A job with the heartbeats of its run in progress, when it runs here.
    fn view(&self, job: Job) -> JobView {
        let heartbeats = self
            .scheduler
            .job_heartbeats(&job.tenant, &job.id)
            .unwrap_or(job.heartbeats);
        JobView { job, heartbeats }
    }

    /// Cancels a job (AWS Batch's TerminateJob): a waiting job ends at once, a running one
    /// once its module stopped; the task waiting for it fails. An ended job is answered
    /// as it is.
    ///
    /// # Errors
    /// [`Error::JobDoesNotExist`], store failures.
    #[tracing::instrument(level = "debug", name = "service.cancel_job", skip_all, fields(tenant = %tenant.id, job = %id))]
    pub fn cancel(&self, tenant: &Tenant, id: &str, reason: Option<&str>) -> Result<JobView> {
        let reason = reason
            .filter(|r| !r.trim().is_empty())
            .unwrap_or("Cancelled by the user");
        match self.scheduler.cancel_job(&tenant.id, id, reason)? {
            Cancelled::Job(job) => Ok(self.view(*job)),
            Cancelled::Missing => Err(Error::JobDoesNotExist(id.to_string())),
        }
    }

    /// A job's log lines after line `after`, at most `limit` (at most 10,000).
    ///
    /// # Errors
    /// [`Error::JobDoesNotExist`], store failures.
    pub fn logs(
        &self,
        tenant: &Tenant,
        id: &str,
        after: Option<u64>,
        limit: Option<usize>,
    ) -> Result<Vec<JobLogLine>> {
        if self.store.job_get(&tenant.id, id)?.is_none() {
            return Err(Error::JobDoesNotExist(id.to_string()));
        }
        Ok(self.store.job_logs(
            &tenant.id,
            id,
            after,
            limit.unwrap_or(1000).clamp(1, 10_000),
        )?)
    }
}
