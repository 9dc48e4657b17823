//! Tenants: who may call the API, with which credentials, within which quotas.
//!
//! With no tenant created, the server runs one tenant, `default`, and accepts
//! unauthenticated requests from loopback only. `sandstep tenant create` switches it to
//! multi-tenant mode: every request must then be signed (SigV4) or carry an API key.

use crate::store::{Error, Result, Store, TenantId, Tenants as _};
use serde::Serialize;
use sha2::{Digest, Sha256};

pub use crate::store::tenants::{Quotas, Tenant};

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

/// The tenant of the unconfigured server.
pub fn default_tenant() -> Tenant {
    Tenant {
        id: TenantId("default".into()),
        account: "000000000000".into(),
        access_key_id: String::new(),
        secret_access_key: String::new(),
        api_key_sha256: String::new(),
        quotas: Quotas::default(),
    }
}

fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| Error::Backend(format!("no randomness: {e}")))?;
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

/// Hex SHA-256 of an API key, as stored.
pub fn api_key_hash(key: &str) -> String {
    crate::store::data::hex(&Sha256::digest(key.as_bytes()))
}

/// Creates a tenant with fresh credentials.
///
/// # Errors
/// [`Error::ConditionFailed`] when the name is taken, or store failures.
pub fn create(store: &Store, name: &str, quotas: Quotas) -> Result<Created> {
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
    if !store.tenant_insert(&tenant)? {
        return Err(Error::ConditionFailed(format!("tenant '{name}' exists")));
    }
    Ok(Created {
        tenant: name.to_string(),
        account,
        access_key_id,
        secret_access_key: secret,
        api_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenants_get_distinct_credentials() {
        let s = Store::memory();
        let a = create(&s, "acme", Quotas::default()).unwrap();
        let b = create(&s, "globex", Quotas::default()).unwrap();
        assert!(create(&s, "acme", Quotas::default()).is_err());
        assert_ne!(a.account, b.account);
        assert_eq!(a.account.len(), 12);
        assert_ne!(a.access_key_id, b.access_key_id);
        let all = s.tenant_list().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].api_key_sha256, api_key_hash(&a.api_key));
    }
}
