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
        if let Some(sink) = self.inner.status.get() {
            sink.changed(tenant, execution);
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
