//! The scheduler's counters for `/metrics`: totals, and the same by tenant.

use super::lock;
use crate::model::Status;
use crate::store::TenantId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Executions started.
    pub started: AtomicU64,
    /// Executions finished, by status.
    pub finished: Finished<AtomicU64>,
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
    /// Tasks of this process's executions that another server ran.
    pub shared: AtomicU64,
    /// Tasks this process ran for another server's executions.
    pub for_peers: AtomicU64,
    /// Tasks run again here after the server running them failed.
    pub rerun: AtomicU64,
    /// The same, per tenant.
    pub per_tenant: Mutex<HashMap<TenantId, TenantCounters>>,
}

/// Executions finished, by how they ended.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Finished<T> {
    /// `SUCCEEDED`.
    pub succeeded: T,
    /// `FAILED`.
    pub failed: T,
    /// `TIMED_OUT`.
    pub timed_out: T,
    /// `ABORTED`.
    pub aborted: T,
}

impl<T> Finished<T> {
    /// The counter of `status`; `None` for `RUNNING`.
    pub fn of(&self, status: Status) -> Option<&T> {
        match status {
            Status::Succeeded => Some(&self.succeeded),
            Status::Failed => Some(&self.failed),
            Status::TimedOut => Some(&self.timed_out),
            Status::Aborted => Some(&self.aborted),
            Status::Running => None,
        }
    }

    /// Each status with its counter, in AWS's order.
    pub fn by_status(&self) -> [(Status, &T); 4] {
        [
            (Status::Succeeded, &self.succeeded),
            (Status::Failed, &self.failed),
            (Status::TimedOut, &self.timed_out),
            (Status::Aborted, &self.aborted),
        ]
    }
}

/// One tenant's counters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TenantCounters {
    /// Executions started.
    pub started: u64,
    /// Executions finished, by status.
    pub finished: Finished<u64>,
    /// Tasks run.
    pub tasks: u64,
    /// Fuel consumed by tasks.
    pub task_fuel: u64,
}

impl Counters {
    /// Counts a started execution.
    pub(super) fn started(&self, tenant: &TenantId) {
        self.started.fetch_add(1, Ordering::Relaxed);
        self.tenant(tenant, |t| t.started += 1);
    }

    /// Counts a finished execution.
    pub(super) fn finished(&self, tenant: &TenantId, status: Status) {
        if let Some(counter) = self.finished.of(status) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        self.tenant(tenant, |t| {
            let f = &mut t.finished;
            match status {
                Status::Succeeded => f.succeeded += 1,
                Status::Failed => f.failed += 1,
                Status::TimedOut => f.timed_out += 1,
                Status::Aborted => f.aborted += 1,
                Status::Running => {}
            }
        });
    }

    /// Counts a task that ended, with its time and fuel when known.
    pub(super) fn task(&self, tenant: &TenantId, usage: Option<(u64, u64)>) {
        self.tasks.fetch_add(1, Ordering::Relaxed);
        self.tenant(tenant, |t| t.tasks += 1);
        self.usage(tenant, usage);
    }

    /// What a module's run cost, `(millis, fuel)`, without counting a task: a task that
    /// waits for its token ran its module before it ends.
    pub(super) fn usage(&self, tenant: &TenantId, usage: Option<(u64, u64)>) {
        let Some((millis, fuel)) = usage else {
            return;
        };
        self.task_millis.fetch_add(millis, Ordering::Relaxed);
        self.task_fuel.fetch_add(fuel, Ordering::Relaxed);
        self.tenant(tenant, |t| t.task_fuel += fuel);
    }

    fn tenant(&self, tenant: &TenantId, count: impl FnOnce(&mut TenantCounters)) {
        count(lock(&self.per_tenant).entry(tenant.clone()).or_default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_go_to_the_named_counter_of_the_tenant() {
        let c = Counters::default();
        let (a, b) = (TenantId("a".into()), TenantId("b".into()));
        c.started(&a);
        c.finished(&a, Status::TimedOut);
        c.task(&b, Some((5, 700)));
        c.task(&b, None);
        // A task that waits for its token: its module's run, then its end.
        c.usage(&b, Some((3, 50)));
        c.task(&b, None);
        assert_eq!(c.finished.timed_out.load(Ordering::Relaxed), 1);
        assert_eq!(c.task_fuel.load(Ordering::Relaxed), 750);
        assert_eq!(c.tasks.load(Ordering::Relaxed), 3);
        let tenants = lock(&c.per_tenant);
        assert_eq!(tenants[&a].started, 1);
        assert_eq!(tenants[&a].finished.timed_out, 1);
        assert_eq!(tenants[&a].finished.failed, 0);
        assert_eq!((tenants[&b].tasks, tenants[&b].task_fuel), (3, 750));
    }
}
