//! Who hears of Standard executions' status changes: the service layer binds a sink
//! (Step Functions' `Execution Status Change` events on the tenant's default bus). The
//! sink is told after the change is committed and must not block.

use super::*;

/// Hears of status changes: `RUNNING` at the start, then the end.
pub trait StatusSink: Send + Sync {
    /// `execution` (of `tenant`) now has the status its record says.
    fn changed(&self, tenant: &TenantId, execution: &Execution);
}

impl Scheduler {
    /// Binds the sink of status changes (once; later calls are ignored).
    pub fn bind_status(&self, sink: Arc<dyn StatusSink>) {
        let _ = self.inner.status.set(sink);
    }

    /// Tells the sink, if one is bound.
    pub(super) fn status_changed(&self, tenant: &TenantId, execution: &Execution) {
        if execution.status != Status::Running {
            self.ended(tenant, execution);
        }
        if let Some(sink) = self.inner.status.get() {
            sink.changed(tenant, execution);
        }
    }

    /// Answers whoever waits for this execution's end.
    fn ended(&self, tenant: &TenantId, execution: &Execution) {
        let key = ExecutionKey {
            tenant: tenant.clone(),
            machine: execution.machine.clone(),
            name: execution.name.clone(),
        };
        for waiter in lock(&self.inner.ended).remove(&key).unwrap_or_default() {
            let _ = waiter.send(execution.clone());
        }
    }

    /// The end of a Standard execution: at once if it has ended, else when it does.
    ///
    /// # Errors
    /// When the store fails, or the execution does not exist.
    pub async fn end_of(&self, key: &ExecutionKey) -> Result<Execution, Error> {
        let (sender, receiver) = oneshot::channel();
        lock(&self.inner.ended)
            .entry(key.clone())
            .or_default()
            .push(sender);
        // Registered first, then read: an end in between is not missed.
        let record = self.inner.store.execution_get(key);
        match record {
            Ok(Some(record)) if record.status == Status::Running => receiver
                .await
                .map_err(|_| Error::NotRunning(key.name.clone())),
            ended => {
                // Nobody waits any more: the entry goes (it would stay for good).
                drop(receiver);
                let mut waiting = lock(&self.inner.ended);
                if let Some(senders) = waiting.get_mut(key) {
                    senders.retain(|s| !s.is_closed());
                    if senders.is_empty() {
                        waiting.remove(key);
                    }
                }
                ended?.ok_or_else(|| Error::NotRunning(key.name.clone()))
            }
        }
    }

    /// The record as it read when the execution started.
    pub(super) fn as_started(record: &Execution) -> Execution {
        Execution {
            status: Status::Running,
            output: None,
            error: None,
            cause: None,
            stopped: None,
            ..record.clone()
        }
    }
}
