//! Running tasks: per-tenant and global slots, and delivering each task's result back as
//! an event.

use super::*;

impl Scheduler {
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

    pub(super) fn tenant_slots(&self, tenant: &TenantId) -> Arc<Semaphore> {
        let mut slots = lock(&self.inner.tenant_slots);
        Arc::clone(
            slots
                .entry(tenant.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.inner.opts.max_tasks_per_tenant))),
        )
    }

    pub(super) fn spawn_task(&self, key: ExecutionKey, task: TaskContext) {
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
}
