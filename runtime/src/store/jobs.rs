//! Batch jobs and their queues. A job's row is written when a workflow submits it and
//! rewritten at each change of status; an index of the jobs not yet ended lets a restart
//! find the ones to run again. A job's last write (its end, what it logged, and the answer
//! a waiting task is owed) is one atomic batch, so a crash never loses an answer nor runs
//! an ended job again.

use super::backend::Write;
use super::children::{notice_write, Notice};
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::{Result, Store, TenantId};
use crate::model::ExecutionKey;
use sandstep_engine::{Millis, TaskId};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A named queue of a tenant's jobs, with its concurrency and the budgets of each job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobQueue {
    /// Its name, unique in the tenant.
    pub name: String,
    /// Jobs of the queue running at once.
    pub concurrency: u32,
    /// The longest one run of a job may take, in milliseconds (set in hours).
    pub wall_clock_ms: u64,
    /// Fuel for one run of a job.
    pub fuel: u64,
    /// Linear memory of a job, in MiB.
    pub memory_mib: u32,
    /// When it was created (epoch ms).
    pub created: Millis,
}

/// Where a job stands, in AWS Batch's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobStatus {
    /// Waiting for a place in its queue.
    Runnable,
    /// Its module is running.
    Running,
    /// Its module returned.
    Succeeded,
    /// Its module failed, ran out of a budget, or the job was cancelled.
    Failed,
}

impl JobStatus {
    /// `RUNNABLE`, `RUNNING`, `SUCCEEDED` or `FAILED`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Runnable => "RUNNABLE",
            JobStatus::Running => "RUNNING",
            JobStatus::Succeeded => "SUCCEEDED",
            JobStatus::Failed => "FAILED",
        }
    }

    /// The status named `text` (AWS's spelling).
    pub fn parse(text: &str) -> Option<JobStatus> {
        [
            JobStatus::Runnable,
            JobStatus::Running,
            JobStatus::Succeeded,
            JobStatus::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether the job has ended.
    pub fn ended(self) -> bool {
        matches!(self, JobStatus::Succeeded | JobStatus::Failed)
    }
}

/// One run of a job's module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attempt {
    /// When it started (epoch ms).
    pub started: Millis,
    /// When it stopped, once it did.
    pub stopped: Option<Millis>,
    /// 0 when the module returned; a command's exit status; 1 for any other failure.
    pub exit_code: Option<i32>,
    /// Why it stopped, when it failed.
    pub reason: Option<String>,
}

/// The workflow task that submitted a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobParent {
    /// Its execution.
    pub key: ExecutionKey,
    /// The execution's ARN.
    pub arn: String,
    /// The task.
    pub task: TaskId,
    /// Whether the task waits for the job's end (`submitJob.sync`).
    pub waits: bool,
}

/// A Batch job: a module run to completion under its queue's budgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    /// Whose job.
    pub tenant: TenantId,
    /// The account of its ARN.
    pub account: String,
    /// Its id (a UUID).
    pub id: String,
    /// Its name (`JobName`).
    pub name: String,
    /// Its queue's name.
    pub queue: String,
    /// The module it runs.
    pub module: String,
    /// The module's version, fixed at submission.
    pub version: u32,
    /// `Parameters`, as given.
    pub parameters: Value,
    /// `ContainerOverrides.Environment`, as `(name, value)` pairs.
    pub environment: Vec<(String, String)>,
    /// Where it stands.
    pub status: JobStatus,
    /// Why it ended as it did.
    pub status_reason: Option<String>,
    /// When it was submitted (epoch ms).
    pub created: Millis,
    /// When its first run started.
    pub started: Option<Millis>,
    /// When it ended.
    pub stopped: Option<Millis>,
    /// Its runs, oldest first: a run cut short by a crash is followed by another.
    pub attempts: Vec<Attempt>,
    /// What the module returned (JSON text), when it succeeded.
    pub output: Option<String>,
    /// The error name, when it failed.
    pub error: Option<String>,
    /// Heartbeats the module sent in its last run.
    pub heartbeats: u64,
    /// Fuel its runs used.
    pub fuel_consumed: u64,
    /// Set when a cancel was asked for while it ran: why.
    pub cancel: Option<String>,
    /// The task that submitted it.
    pub parent: Option<JobParent>,
    /// Log lines stored so far (the next line's number).
    pub log_lines: u64,
}

/// One line a job logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobLogLine {
    /// Its number in the job's log, from 0.
    pub seq: u64,
    /// The run that logged it, from 1.
    pub attempt: u32,
    /// `TRACE` ... `ERROR`.
    pub level: String,
    /// What it said.
    pub message: String,
}

/// The job queues, the jobs and their logs.
///
/// # Contract
/// A job is in the open index from its submission until the write that ends it; that
/// write also stores its log lines and the answer its waiting task is owed.
pub trait Jobs: Send + Sync {
    /// Creates or replaces a queue.
    ///
    /// # Errors
    /// When the store fails.
    fn job_queue_put(&self, tenant: &TenantId, queue: &JobQueue) -> Result<()>;

    /// A queue.
    ///
    /// # Errors
    /// When the store fails.
    fn job_queue_get(&self, tenant: &TenantId, name: &str) -> Result<Option<JobQueue>>;

    /// The tenant's queues, by name.
    ///
    /// # Errors
    /// When the store fails.
    fn job_queue_list(&self, tenant: &TenantId) -> Result<Vec<JobQueue>>;

    /// Deletes a queue; `true` when it existed.
    ///
    /// # Errors
    /// When the store fails.
    fn job_queue_delete(&self, tenant: &TenantId, name: &str) -> Result<bool>;

    /// Stores a new job unless one has its id; answers the stored job and whether it is
    /// the one given.
    ///
    /// # Errors
    /// When the store fails.
    fn job_submit(&self, job: &Job) -> Result<(Job, bool)>;

    /// A job.
    ///
    /// # Errors
    /// When the store fails.
    fn job_get(&self, tenant: &TenantId, id: &str) -> Result<Option<Job>>;

    /// The tenant's jobs in id order, after `after`, at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn job_list(&self, tenant: &TenantId, after: Option<&str>, limit: usize) -> Result<Vec<Job>>;

    /// Rewrites an open job (a change of status, a cancel asked for).
    ///
    /// # Errors
    /// When the store fails.
    fn job_update(&self, job: &Job) -> Result<()>;

    /// Ends a job: its last state, the lines its last run logged, and the answer its
    /// waiting task is owed, in one atomic write.
    ///
    /// # Errors
    /// When the store fails; then nothing changed.
    fn job_finish(&self, job: &Job, logs: &[JobLogLine], notice: Option<&Notice>) -> Result<()>;

    /// The jobs not yet ended of `tenant`, or of every tenant (after a restart).
    ///
    /// # Errors
    /// When the store fails.
    fn open_jobs(&self, tenant: Option<&TenantId>) -> Result<Vec<Job>>;

    /// A job's log lines after line `after`, at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn job_logs(
        &self,
        tenant: &TenantId,
        id: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<JobLogLine>>;
}

fn queue_key(tenant: &TenantId, name: &str) -> Vec<u8> {
    Key::of(Table::JobQueue, tenant).text(name).into_bytes()
}

fn job_key(tenant: &TenantId, id: &str) -> Vec<u8> {
    Key::of(Table::Job, tenant).text(id).into_bytes()
}

fn open_key(tenant: &TenantId, id: &str) -> Vec<u8> {
    Key::of(Table::OpenJob, tenant).text(id).into_bytes()
}

fn log_key(tenant: &TenantId, id: &str, seq: u64) -> Vec<u8> {
    Key::of(Table::JobLog, tenant)
        .text(id)
        .number(seq)
        .into_bytes()
}

impl Jobs for Store {
    fn job_queue_put(&self, tenant: &TenantId, queue: &JobQueue) -> Result<()> {
        self.backend.apply(vec![Write::Put(
            queue_key(tenant, &queue.name),
            encode(queue)?,
        )])?;
        self.backend.durable()
    }

    fn job_queue_get(&self, tenant: &TenantId, name: &str) -> Result<Option<JobQueue>> {
        self.backend
            .get(&queue_key(tenant, name))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn job_queue_list(&self, tenant: &TenantId) -> Result<Vec<JobQueue>> {
        self.records(
            &Key::of(Table::JobQueue, tenant).into_bytes(),
            None,
            usize::MAX,
        )
    }

    fn job_queue_delete(&self, tenant: &TenantId, name: &str) -> Result<bool> {
        let key = queue_key(tenant, name);
        let existed = self.backend.get(&key)?.is_some();
        self.backend.apply(vec![Write::Delete(key)])?;
        self.backend.durable()?;
        Ok(existed)
    }

    fn job_submit(&self, job: &Job) -> Result<(Job, bool)> {
        let key = job_key(&job.tenant, &job.id);
        let writes = vec![
            Write::Put(key.clone(), encode(job)?),
            Write::Put(open_key(&job.tenant, &job.id), Vec::new()),
        ];
        if self.backend.apply_if_absent(&key, writes)? {
            self.backend.durable()?;
            return Ok((job.clone(), true));
        }
        match self.job_get(&job.tenant, &job.id)? {
            Some(existing) => Ok((existing, false)),
            None => Err(super::Error::Backend(format!(
                "job {} vanished while it was submitted",
                job.id
            ))),
        }
    }

    fn job_get(&self, tenant: &TenantId, id: &str) -> Result<Option<Job>> {
        self.backend
            .get(&job_key(tenant, id))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn job_list(&self, tenant: &TenantId, after: Option<&str>, limit: usize) -> Result<Vec<Job>> {
        let after = after.map(|a| job_key(tenant, a));
        self.records(
            &Key::of(Table::Job, tenant).into_bytes(),
            after.as_deref(),
            limit,
        )
    }

    fn job_update(&self, job: &Job) -> Result<()> {
        self.backend.apply(vec![Write::Put(
            job_key(&job.tenant, &job.id),
            encode(job)?,
        )])?;
        self.backend.durable()
    }

    fn job_finish(&self, job: &Job, logs: &[JobLogLine], notice: Option<&Notice>) -> Result<()> {
        let mut writes = vec![
            Write::Put(job_key(&job.tenant, &job.id), encode(job)?),
            Write::Delete(open_key(&job.tenant, &job.id)),
        ];
        for line in logs {
            writes.push(Write::Put(
                log_key(&job.tenant, &job.id, line.seq),
                encode(line)?,
            ));
        }
        if let Some(notice) = notice {
            writes.push(notice_write(notice)?);
        }
        self.backend.apply(writes)?;
        self.backend.durable()
    }

    fn open_jobs(&self, tenant: Option<&TenantId>) -> Result<Vec<Job>> {
        let prefix = match tenant {
            Some(tenant) => Key::of(Table::OpenJob, tenant),
            None => Key::table(Table::OpenJob),
        }
        .into_bytes();
        let mut jobs = Vec::new();
        for (key, _) in self.backend.scan(&prefix, None, usize::MAX)? {
            let mut reader = super::keys::Reader::new(&key);
            let (Some(tenant), Some(id)) = (reader.text(), reader.text()) else {
                continue;
            };
            if let Some(job) = self.job_get(&TenantId(tenant), &id)? {
                jobs.push(job);
            }
        }
        Ok(jobs)
    }

    fn job_logs(
        &self,
        tenant: &TenantId,
        id: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<JobLogLine>> {
        let prefix = Key::of(Table::JobLog, tenant).text(id).into_bytes();
        let after = after.map(|seq| log_key(tenant, id, seq));
        self.records(&prefix, after.as_deref(), limit)
    }
}

#[cfg(test)]
impl Job {
    /// A job waiting in queue `q`, for tests.
    pub(crate) fn example(tenant: &str, id: &str) -> Job {
        Job {
            tenant: TenantId(tenant.into()),
            account: "000000000000".into(),
            id: id.into(),
            name: "crunch".into(),
            queue: "q".into(),
            module: "m".into(),
            version: 1,
            parameters: serde_json::json!({"n": 1}),
            environment: vec![("A".into(), "b".into())],
            status: JobStatus::Runnable,
            status_reason: None,
            created: 5,
            started: None,
            stopped: None,
            attempts: Vec::new(),
            output: None,
            error: None,
            heartbeats: 0,
            fuel_consumed: 0,
            cancel: None,
            parent: None,
            log_lines: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(tenant: &str, id: &str) -> Job {
        Job::example(tenant, id)
    }

    #[test]
    fn a_job_is_open_from_its_submission_to_its_finish_and_keeps_its_logs() {
        for s in crate::store::testing::stores() {
            let a = job("a", "j1");
            assert_eq!(s.job_submit(&a).unwrap(), (a.clone(), true));
            let mut again = a.clone();
            again.name = "other".into();
            assert_eq!(s.job_submit(&again).unwrap(), (a.clone(), false));
            s.job_submit(&job("b", "j1")).unwrap();
            assert_eq!(s.open_jobs(None).unwrap().len(), 2);
            assert_eq!(s.open_jobs(Some(&a.tenant)).unwrap(), vec![a.clone()]);
            assert_eq!(
                s.job_list(&TenantId("a".into()), None, 10).unwrap(),
                vec![a.clone()]
            );

            let mut ended = a.clone();
            ended.status = JobStatus::Succeeded;
            let lines: Vec<JobLogLine> = (0..3)
                .map(|seq| JobLogLine {
                    seq,
                    attempt: 1,
                    level: "INFO".into(),
                    message: format!("line {seq}"),
                })
                .collect();
            s.job_finish(&ended, &lines, None).unwrap();
            let open = s.open_jobs(None).unwrap();
            assert_eq!(open.len(), 1);
            assert_eq!(open[0].tenant, TenantId("b".into()));
            assert_eq!(s.job_get(&a.tenant, "j1").unwrap(), Some(ended));
            assert_eq!(s.job_logs(&a.tenant, "j1", None, 10).unwrap(), lines);
            assert_eq!(
                s.job_logs(&a.tenant, "j1", Some(0), 1).unwrap(),
                lines[1..2]
            );
            assert!(s
                .job_logs(&TenantId("b".into()), "j1", None, 10)
                .unwrap()
                .is_empty());
        }
    }

    #[test]
    fn queues_are_per_tenant() {
        for s in crate::store::testing::stores() {
            let q = JobQueue {
                name: "q".into(),
                concurrency: 2,
                wall_clock_ms: 3_600_000,
                fuel: 10,
                memory_mib: 64,
                created: 1,
            };
            let a = TenantId("a".into());
            s.job_queue_put(&a, &q).unwrap();
            assert_eq!(s.job_queue_get(&a, "q").unwrap(), Some(q.clone()));
            assert_eq!(s.job_queue_get(&TenantId("b".into()), "q").unwrap(), None);
            assert_eq!(s.job_queue_list(&a).unwrap(), vec![q]);
            assert!(s.job_queue_delete(&a, "q").unwrap());
            assert!(!s.job_queue_delete(&a, "q").unwrap());
        }
    }
}
