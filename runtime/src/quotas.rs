//! The quotas in force for each tenant: read once from the tenants table and shared by
//! everything that enforces them (starts, task slots after a start or a recovery alike, the
//! sandbox's fuel and memory), so that no caller has to push them anywhere first.

use crate::store::{Store, TenantId, Tenants as _};
use crate::tenants::Quotas;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Each tenant's quotas, cached after the first read. A tenant's quotas are fixed when it
/// is created, so the cache never goes stale; an unknown tenant (the default tenant of an
/// unconfigured server) has the default quotas.
#[derive(Debug, Clone)]
pub struct QuotaPolicy {
    store: Store,
    cache: Arc<Mutex<HashMap<TenantId, Option<Quotas>>>>,
}

impl QuotaPolicy {
    /// The policy of the tenants in `store`.
    pub fn new(store: Store) -> QuotaPolicy {
        QuotaPolicy {
            store,
            cache: Arc::default(),
        }
    }

    /// The quotas of `tenant`, the defaults for a tenant without a record.
    pub fn of(&self, tenant: &TenantId) -> Quotas {
        self.configured(tenant).unwrap_or_default()
    }

    /// The quotas `tenant` was created with; `None` for a tenant without a record (the
    /// default tenant), which the sandbox's own limits alone bound. A store failure
    /// answers `None` for this call and is not cached, so a passing fault does not stick.
    pub fn configured(&self, tenant: &TenantId) -> Option<Quotas> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(q) = cache.get(tenant) {
            return q.clone();
        }
        let quotas = self.store.tenant_get(tenant).ok()?.map(|t| t.quotas);
        cache.insert(tenant.clone(), quotas.clone());
        quotas
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_has_the_quotas_it_was_created_with_and_others_the_defaults() {
        let store = Store::memory();
        let quotas = Quotas {
            max_concurrent_tasks: 3,
            ..Quotas::default()
        };
        crate::service::Tenants::new(store.clone())
            .create("acme", quotas.clone())
            .unwrap();
        let policy = QuotaPolicy::new(store);
        assert_eq!(policy.of(&TenantId("acme".into())), quotas);
        assert_eq!(policy.of(&TenantId("default".into())), Quotas::default());
        assert_eq!(policy.configured(&TenantId("default".into())), None);
    }
}
