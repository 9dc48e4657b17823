//! The server's task runner and module host, both backed by the sandbox: the scheduler
//! hands it tasks, the module API hands it uploads.

use crate::api::modules::RegisterError;
use crate::api::ModuleHost;
use crate::grants::Grants;
use crate::sandbox::{self, Sandbox};
use crate::scheduler::runner::{TaskContext, TaskRunner};
use crate::store::modules::ModuleVersion;
use crate::store::{Store, TenantId};
use crate::tasks;
use crate::tenants::{Quotas, Tenant};
use sandstep_engine::EventKind;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Runs tasks and registers modules in one sandbox.
#[derive(Debug, Clone)]
pub struct Worker {
    sandbox: Sandbox,
    store: Store,
    quotas: Arc<Mutex<HashMap<TenantId, Option<Quotas>>>>,
}

impl Worker {
    /// A worker over `sandbox`, which shares `store` with the scheduler.
    pub fn new(sandbox: Sandbox, store: Store) -> Worker {
        Worker {
            sandbox,
            store,
            quotas: Arc::default(),
        }
    }

    /// The tenant's quotas, read once (the default tenant has none beyond the defaults).
    fn quotas(&self, tenant: &TenantId) -> Option<Quotas> {
        let mut cache = self.quotas.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = cache.get(tenant) {
            return q.clone();
        }
        let found = crate::store::Tenants::tenant_list(&self.store)
            .ok()
            .and_then(|all| all.into_iter().find(|t| &t.id == tenant))
            .map(|t| t.quotas);
        cache.insert(tenant.clone(), found.clone());
        found
    }
}

impl TaskRunner for Worker {
    fn run(&self, task: TaskContext) -> EventKind {
        let quotas = self.quotas(&task.tenant);
        let caller = tasks::Caller {
            tenant: task.tenant,
            execution_arn: task.execution_arn,
            cancel: task.cancelled.into(),
            pins: task.pins,
            quotas,
        };
        tasks::run(&self.sandbox, &task.request, caller).event
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
