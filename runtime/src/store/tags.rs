//! The tags of resources (state machines today), per tenant.

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::{Result, Store, TenantId};
use std::collections::BTreeMap;

/// A resource's tags: key to value.
pub type TagMap = BTreeMap<String, String>;

/// The tags table, keyed by the resource's ARN inside the tenant.
///
/// # Contract
/// `tags_put` replaces the whole set atomically.
pub trait Tags: Send + Sync {
    /// A resource's tags (empty when it has none).
    ///
    /// # Errors
    /// When the store fails.
    fn tags_get(&self, tenant: &TenantId, resource: &str) -> Result<TagMap>;

    /// Replaces a resource's tags.
    ///
    /// # Errors
    /// When the store fails; then nothing changed.
    fn tags_put(&self, tenant: &TenantId, resource: &str, tags: &TagMap) -> Result<()>;

    /// Forgets a resource's tags.
    ///
    /// # Errors
    /// When the store fails.
    fn tags_delete(&self, tenant: &TenantId, resource: &str) -> Result<()>;
}

fn key(tenant: &TenantId, resource: &str) -> Vec<u8> {
    Key::of(Table::Tags, tenant).text(resource).into_bytes()
}

impl Tags for Store {
    fn tags_get(&self, tenant: &TenantId, resource: &str) -> Result<TagMap> {
        match self.backend().get(&key(tenant, resource))? {
            Some(bytes) => decode(&bytes),
            None => Ok(TagMap::new()),
        }
    }

    fn tags_put(&self, tenant: &TenantId, resource: &str, tags: &TagMap) -> Result<()> {
        self.backend()
            .apply(vec![Write::Put(key(tenant, resource), encode(tags)?)])
    }

    fn tags_delete(&self, tenant: &TenantId, resource: &str) -> Result<()> {
        self.backend()
            .apply(vec![Write::Delete(key(tenant, resource))])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_per_tenant_and_resource() {
        for s in crate::store::testing::stores() {
            let (a, b) = (TenantId("a".into()), TenantId("b".into()));
            let tags: TagMap = [("team".to_string(), "x".to_string())].into();
            s.tags_put(&a, "arn:1", &tags).unwrap();
            assert_eq!(s.tags_get(&a, "arn:1").unwrap(), tags);
            assert!(s.tags_get(&b, "arn:1").unwrap().is_empty());
            assert!(s.tags_get(&a, "arn:2").unwrap().is_empty());
            s.tags_delete(&a, "arn:1").unwrap();
            assert!(s.tags_get(&a, "arn:1").unwrap().is_empty());
        }
    }
}
