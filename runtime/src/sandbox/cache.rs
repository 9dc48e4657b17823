//! Linked code per (tenant, module sha256), kept in memory so an invocation only creates a
//! store and instantiates. Bounded: past the limit the least recently used entry goes.

use super::inspect::Ready;
use crate::store::TenantId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Key = (TenantId, String);

#[derive(Default)]
pub(crate) struct Cache {
    entries: Mutex<Entries>,
    capacity: usize,
}

#[derive(Default)]
struct Entries {
    map: HashMap<Key, (Arc<Ready>, u64)>,
    clock: u64,
}

impl Cache {
    pub(crate) fn new(capacity: usize) -> Cache {
        Cache {
            entries: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn get(&self, tenant: &TenantId, sha256: &str) -> Option<Arc<Ready>> {
        let mut entries = self.entries.lock().ok()?;
        entries.clock += 1;
        let now = entries.clock;
        let key = (tenant.clone(), sha256.to_string());
        entries.map.get_mut(&key).map(|(ready, used)| {
            *used = now;
            ready.clone()
        })
    }

    pub(crate) fn insert(&self, tenant: &TenantId, sha256: &str, ready: Arc<Ready>) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        entries.clock += 1;
        let now = entries.clock;
        if entries.map.len() >= self.capacity {
            let oldest = entries
                .map
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                entries.map.remove(&oldest);
            }
        }
        entries
            .map
            .insert((tenant.clone(), sha256.to_string()), (ready, now));
    }

    /// Forgets a tenant's entry (after the module's deletion).
    pub(crate) fn remove(&self, tenant: &TenantId, sha256: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.map.remove(&(tenant.clone(), sha256.to_string()));
        }
    }
}
