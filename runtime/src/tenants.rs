//! Tenants: who may call the API, with which credentials, within which quotas.
//!
//! With no tenant created, the server runs one tenant, `default`, and accepts
//! unauthenticated requests from loopback only. `sandstep tenant create` switches it to
//! multi-tenant mode: every request must then be signed (SigV4) or carry an API key.
//! Creating tenants is a use case: see [`service::tenants`](crate::service::tenants).

use crate::store::TenantId;
use sha2::{Digest, Sha256};

pub use crate::store::tenants::{Quotas, Tenant};

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

/// Hex SHA-256 of an API key, as stored.
pub fn api_key_hash(key: &str) -> String {
    crate::store::data::hex(&Sha256::digest(key.as_bytes()))
}
