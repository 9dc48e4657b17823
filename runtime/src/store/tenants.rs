//! The tenants table: who may call the API, with which credentials and quotas.

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::{Result, Store, TenantId};
use serde::{Deserialize, Serialize};

/// Per-tenant limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Quotas {
    /// Executions that may be open (RUNNING) at once.
    pub max_open_executions: u64,
    /// Tasks that may run at once.
    pub max_concurrent_tasks: u64,
    /// Fuel per task invocation.
    pub fuel_per_task: u64,
    /// Largest module upload, in bytes.
    pub max_module_bytes: u64,
    /// Linear memory per task, in bytes.
    pub max_memory_bytes: u64,
    /// Bytes of objects (buckets' files) the tenant may store in all.
    pub max_storage_bytes: u64,
}

impl Default for Quotas {
    fn default() -> Quotas {
        Quotas {
            max_open_executions: 100_000,
            max_concurrent_tasks: 64,
            fuel_per_task: 10_000_000_000,
            max_module_bytes: 64 * 1024 * 1024,
            max_memory_bytes: 64 * 1024 * 1024,
            max_storage_bytes: 100 << 30,
        }
    }
}

/// A tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tenant {
    /// Its id (the name given at creation).
    pub id: TenantId,
    /// Its 12-digit account id, used in ARNs.
    pub account: String,
    /// The access key id for SigV4.
    pub access_key_id: String,
    /// The secret for SigV4 (needed in clear to verify signatures).
    pub secret_access_key: String,
    /// SHA-256 of the API key for `Authorization: Bearer`; the key itself is shown once.
    pub api_key_sha256: String,
    /// Its limits.
    #[serde(default)]
    pub quotas: Quotas,
}

/// The tenants table.
///
/// # Contract
/// A tenant, once stored, keeps its name and credentials; creating one of an existing
/// name stores nothing.
pub trait Tenants: Send + Sync {
    /// Stores a new tenant durably, unless one of that name exists; returns whether it did.
    ///
    /// # Errors
    /// When the store fails; then nothing is stored.
    fn tenant_insert(&self, tenant: &Tenant) -> Result<bool>;

    /// Every tenant, in name order.
    ///
    /// # Errors
    /// When the store fails.
    fn tenant_list(&self) -> Result<Vec<Tenant>>;

    /// One tenant, if it has a record (the default tenant of a server without tenants
    /// has none).
    ///
    /// # Errors
    /// When the store fails.
    fn tenant_get(&self, id: &TenantId) -> Result<Option<Tenant>>;
}

impl Tenants for Store {
    fn tenant_insert(&self, tenant: &Tenant) -> Result<bool> {
        let key = Key::table(Table::Tenant).text(&tenant.id.0).into_bytes();
        let body = encode(tenant)?;
        if !self
            .backend()
            .apply_if_absent(&key, vec![Write::Put(key.clone(), body)])?
        {
            return Ok(false);
        }
        self.backend().durable()?;
        Ok(true)
    }

    fn tenant_get(&self, id: &TenantId) -> Result<Option<Tenant>> {
        let key = Key::table(Table::Tenant).text(&id.0).into_bytes();
        self.backend().get(&key)?.map(|b| decode(&b)).transpose()
    }

    fn tenant_list(&self) -> Result<Vec<Tenant>> {
        let prefix = Key::table(Table::Tenant).into_bytes();
        self.backend()
            .scan(&prefix, None, usize::MAX)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(name: &str) -> Tenant {
        Tenant {
            id: TenantId(name.into()),
            account: "123456789012".into(),
            access_key_id: format!("AK{name}"),
            secret_access_key: "s".into(),
            api_key_sha256: "h".into(),
            quotas: Quotas::default(),
        }
    }

    #[test]
    fn a_tenant_is_found_by_its_id_and_inserted_once() {
        for store in crate::store::testing::stores() {
            assert!(store.tenant_insert(&tenant("acme")).unwrap());
            assert!(!store.tenant_insert(&tenant("acme")).unwrap());
            assert!(store.tenant_insert(&tenant("acme-2")).unwrap());
            let found = store.tenant_get(&TenantId("acme".into())).unwrap();
            assert_eq!(found, Some(tenant("acme")));
            assert_eq!(store.tenant_get(&TenantId("acm".into())).unwrap(), None);
            assert_eq!(store.tenant_list().unwrap().len(), 2);
        }
    }
}
