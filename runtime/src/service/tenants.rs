//! Tenants: creating one with fresh credentials (the admin API and `sandstep tenant
//! create --data-dir` alike), and reading them all for the credential index.

use super::{Error, Result};
use crate::store::{Store, TenantId, Tenants as _};
use crate::tenants::{api_key_hash, Quotas, Tenant};
use serde::Serialize;

/// A new tenant's credentials, shown once.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    /// The tenant.
    pub tenant: String,
    /// Its account id.
    pub account: String,
    /// Its access key id.
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: String,
    /// Its API key.
    pub api_key: String,
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(b)
}

fn alphabet(bytes: &[u8], chars: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| {
            chars
                .get(usize::from(*b) % chars.len())
                .map(|&c| c as char)
                .unwrap_or('A')
        })
        .collect()
}

/// The tenants table.
#[derive(Debug, Clone)]
pub struct Tenants {
    store: Store,
}

impl Tenants {
    /// The tenants in `store`.
    pub fn new(store: Store) -> Tenants {
        Tenants { store }
    }

    /// Creates a tenant with fresh credentials. `default` is the name of the tenant of a
    /// server without tenants, so no created tenant may take it (it would see that
    /// tenant's data).
    ///
    /// # Errors
    /// [`Error::InvalidTenantName`], [`Error::TenantExists`], failures.
    #[tracing::instrument(level = "debug", name = "service.create_tenant", skip_all, fields(tenant = %name))]
    pub fn create(&self, name: &str, quotas: Quotas) -> Result<Created> {
        if !crate::grants::valid_name(name) || name == "default" {
            return Err(Error::InvalidTenantName(name.to_string()));
        }
        let digits = random_bytes::<12>()?;
        let mut account: String = digits.iter().map(|d| char::from(b'0' + d % 10)).collect();
        account.replace_range(0..1, "1"); // never all zeros: that is the default tenant's
        let access_key_id = format!(
            "AKSS{}",
            alphabet(&random_bytes::<16>()?, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        );
        let secret = alphabet(
            &random_bytes::<40>()?,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        );
        let api_key = format!("ssk_{}", crate::store::data::hex(&random_bytes::<24>()?));
        let tenant = Tenant {
            id: TenantId(name.to_string()),
            account: account.clone(),
            access_key_id: access_key_id.clone(),
            secret_access_key: secret.clone(),
            api_key_sha256: api_key_hash(&api_key),
            quotas,
        };
        if !self.store.tenant_insert(&tenant)? {
            return Err(Error::TenantExists(name.to_string()));
        }
        Ok(Created {
            tenant: name.to_string(),
            account,
            access_key_id,
            secret_access_key: secret,
            api_key,
        })
    }

    /// Every tenant, for the credential index.
    ///
    /// # Errors
    /// Store failures.
    pub fn list(&self) -> Result<Vec<Tenant>> {
        Ok(self.store.tenant_list()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_get_distinct_credentials() {
        let s = Store::memory();
        let tenants = Tenants::new(s.clone());
        let a = tenants.create("acme", Quotas::default()).unwrap();
        let b = tenants.create("globex", Quotas::default()).unwrap();
        assert_eq!(
            tenants.create("acme", Quotas::default()),
            Err(Error::TenantExists("acme".into()))
        );
        assert_ne!(a.account, b.account);
        assert_eq!(a.account.len(), 12);
        assert_ne!(a.access_key_id, b.access_key_id);
        let all = s.tenant_list().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].api_key_sha256, api_key_hash(&a.api_key));
    }

    #[test]
    fn the_default_tenants_name_and_bad_names_are_refused() {
        let tenants = Tenants::new(Store::memory());
        for bad in ["default", "a b", ""] {
            assert_eq!(
                tenants.create(bad, Quotas::default()),
                Err(Error::InvalidTenantName(bad.into()))
            );
        }
    }
}
