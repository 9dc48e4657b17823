//! Handing tenants to another server: a cluster member that gives a partition up
//! (`cluster.rs`) drops what it holds in memory of those tenants' work, and what of it is
//! still running ends without writing. The store holds everything of that work that
//! counts, and the next server recovers it from there, as after a crash of this one; this
//! server goes on with its other tenants.

use super::*;

impl Scheduler {
    /// How many of `which` tenants' executions are busy here: running Express ones,
    /// Standard ones with tasks in flight, and any taking a step now. (A Standard one that
    /// only waits for a timer due soon is not: the next server arms the timer again.)
    pub fn busy_with(&self, which: &(dyn Fn(&TenantId) -> bool + Send + Sync)) -> usize {
        let slots: Vec<SlotRef> = lock(&self.inner.live)
            .iter()
            .filter(|(key, _)| which(&key.tenant))
            .map(|(_, slot)| Arc::clone(slot))
            .collect();
        slots
            .iter()
            .filter(|slot| match slot.try_lock() {
                Err(_) => true,
                Ok(guard) => match &*guard {
                    Slot::Loaded(live) => {
                        live.record.machine_type != MachineType::Standard || !live.tasks.is_empty()
                    }
                    Slot::Empty | Slot::Evicted => false,
                },
            })
            .count()
    }

    /// Forgets `which` tenants' Standard work, whose partition this process no longer
    /// holds: their executions leave memory (their tasks are told to stop, and any event
    /// that comes is refused as [`Error::Elsewhere`]: `deliver_event` loads no execution
    /// of a tenant not held here, so an answer owed is kept for the next server), as do
    /// their quota counts, held answers, Map Run drivers and waiting jobs. (Who waits here
    /// for a child's end, a Map Run's child, is left waiting: the driver has left.)
    /// Their workers waiting for activity tasks here are woken, to be answered empty and
    /// come back through the next server. Express executions run to their end: they are
    /// in memory only, and no other server could carry them on.
    pub async fn forget_tenants(&self, which: &(dyn Fn(&TenantId) -> bool + Send + Sync)) {
        let slots: Vec<(ExecutionKey, SlotRef)> = lock(&self.inner.live)
            .iter()
            .filter(|(key, _)| which(&key.tenant))
            .map(|(key, slot)| (key.clone(), Arc::clone(slot)))
            .collect();
        for (key, slot) in slots {
            let mut guard = slot.lock().await;
            match &*guard {
                Slot::Loaded(live) if live.record.machine_type != MachineType::Standard => continue,
                Slot::Loaded(live) => {
                    for stop in live.tasks.values() {
                        stop.store(true, Ordering::SeqCst);
                    }
                }
                Slot::Empty | Slot::Evicted => {}
            }
            self.forget(&key, &slot, &mut guard);
        }
        lock(&self.inner.open).retain(|tenant, _| !which(tenant));
        lock(&self.inner.gates).retain(|(key, _), _| !which(&key.tenant));
        self.leave_map_runs(which);
        self.leave_jobs(which);
        self.inner.doorbells.ring_where(which);
    }
}
