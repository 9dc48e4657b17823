//! Linked code per (tenant, module sha256), kept in memory so an invocation only creates a
//! store and instantiates. Bounded: past the limit the least recently used entry goes.
//!
//! Also the decoded module records, by what was asked: a record is reused only while the
//! store still holds exactly the same bytes for it.

use super::inspect::Ready;
use crate::store::modules::ModuleVersion;
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

type RecordKey = (TenantId, String, Option<u32>);
/// A record with the bytes it was decoded from.
type Decoded = (Vec<u8>, Arc<ModuleVersion>);

/// Decoded module records by (tenant, name, version asked), with the bytes they came from.
#[derive(Default)]
pub(crate) struct Records {
    entries: Mutex<HashMap<RecordKey, Decoded>>,
    capacity: usize,
}

impl Records {
    pub(crate) fn new(capacity: usize) -> Records {
        Records {
            entries: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    /// The record decoded from `encoded`, when it was decoded before.
    pub(crate) fn get(
        &self,
        tenant: &TenantId,
        name: &str,
        version: Option<u32>,
        encoded: &[u8],
    ) -> Option<Arc<ModuleVersion>> {
        let entries = self.entries.lock().ok()?;
        let (bytes, record) = entries.get(&(tenant.clone(), name.to_string(), version))?;
        (bytes.as_slice() == encoded).then(|| record.clone())
    }

    pub(crate) fn insert(
        &self,
        tenant: &TenantId,
        name: &str,
        version: Option<u32>,
        encoded: Vec<u8>,
        record: Arc<ModuleVersion>,
    ) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.capacity {
            // Records are cheap to decode again: start over rather than track use.
            entries.clear();
        }
        entries.insert(
            (tenant.clone(), name.to_string(), version),
            (encoded, record),
        );
    }
}
