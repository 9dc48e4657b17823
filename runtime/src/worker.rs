//! The server's task runner, job runner and module host, all backed by the sandbox: the
//! scheduler hands it tasks and Batch jobs, the module API hands it uploads.

use crate::grants::Grants;
use crate::quotas::QuotaPolicy;
use crate::sandbox::{self, Sandbox};
use crate::scheduler::jobs::JobRunner;
use crate::scheduler::runner::{TaskContext, TaskRunner};
use crate::service::modules::{ModuleHost, RegisterError};
use crate::store::jobs::{Job, JobQueue};
use crate::store::modules::ModuleVersion;
use crate::store::Store;
use crate::tasks;
use crate::tasks::batch::{JobEnd, JobRun};
use crate::tenants::Tenant;
use sandstep_engine::EventKind;

/// Runs tasks and registers modules in one sandbox.
#[derive(Debug, Clone)]
pub struct Worker {
    sandbox: Sandbox,
    quotas: QuotaPolicy,
}

impl Worker {
    /// A worker over `sandbox`, which shares `store` with the scheduler.
    pub fn new(sandbox: Sandbox, store: Store) -> Worker {
        Worker {
            quotas: QuotaPolicy::new(store),
            sandbox,
        }
    }
}

impl TaskRunner for Worker {
    fn run(&self, task: TaskContext) -> EventKind {
        let quotas = self.quotas.configured(&task.tenant);
        let caller = tasks::Caller {
            tenant: task.tenant,
            execution_arn: task.execution_arn,
            cancel: task.cancelled.into(),
            pins: task.pins,
            quotas,
            progress: task.progress,
        };
        tasks::run(&self.sandbox, &task.request, caller).event
    }
}

impl JobRunner for Worker {
    fn run_job(&self, job: &Job, queue: &JobQueue, run: JobRun) -> JobEnd {
        tasks::batch::run(&self.sandbox, job, queue, run)
    }
}

impl ModuleHost for Worker {
    fn register(
        &self,
        tenant: &Tenant,
        name: &str,
        bytes: &[u8],
        grants: Grants,
    ) -> Result<ModuleVersion, RegisterError> {
        self.sandbox
            .register(&tenant.id, name, bytes, grants)
            .map_err(|e| match e {
                sandbox::Error::Store(s) => RegisterError::Store(s.to_string()),
                sandbox::Error::Rejected(
                    over @ (sandbox::RejectReason::Limit { .. }
                    | sandbox::RejectReason::CompileBudget { .. }),
                ) => RegisterError::OverLimit(over.to_string()),
                other => RegisterError::Invalid(other.to_string()),
            })
    }
}
