//! Resource bindings of a tenant: a Task resource pattern (an exact resource or a prefix
//! ending in `*`) and the module that plays it. The rules of patterns are
//! [`crate::bindings`]; an execution pins what its bindings resolve to at its start.

use super::backend::Write;
use super::codec::encode;
use super::keys::{Key, Table};
use super::{Millis, Result, Store, TenantId};
use serde::{Deserialize, Serialize};

/// A binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Binding {
    /// The resource pattern, as written.
    pub resource: String,
    /// The module's name.
    pub module: String,
    /// A version, or the latest at each execution's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// When it was last written (epoch ms).
    pub modified: Millis,
}

/// Bindings.
pub trait Bindings: Send + Sync {
    /// Creates or replaces the binding of its pattern.
    ///
    /// # Errors
    /// When the store fails.
    fn binding_put(&self, tenant: &TenantId, binding: &Binding) -> Result<()>;
    /// The tenant's bindings, by pattern.
    ///
    /// # Errors
    /// When the store fails.
    fn binding_list(&self, tenant: &TenantId) -> Result<Vec<Binding>>;
    /// Deletes the binding of `resource` (the pattern as written); `false` when there was
    /// none.
    ///
    /// # Errors
    /// When the store fails.
    fn binding_delete(&self, tenant: &TenantId, resource: &str) -> Result<bool>;
}

fn binding_key(tenant: &TenantId, resource: &str) -> Vec<u8> {
    Key::of(Table::Binding, tenant).text(resource).into_bytes()
}

impl Bindings for Store {
    fn binding_put(&self, tenant: &TenantId, binding: &Binding) -> Result<()> {
        self.backend().apply(vec![Write::Put(
            binding_key(tenant, &binding.resource),
            encode(binding)?,
        )])
    }

    fn binding_list(&self, tenant: &TenantId) -> Result<Vec<Binding>> {
        let prefix = Key::of(Table::Binding, tenant).into_bytes();
        self.records(&prefix, None, usize::MAX)
    }

    fn binding_delete(&self, tenant: &TenantId, resource: &str) -> Result<bool> {
        let key = binding_key(tenant, resource);
        let existed = self.backend().get(&key)?.is_some();
        self.backend().apply(vec![Write::Delete(key)])?;
        Ok(existed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(resource: &str, module: &str) -> Binding {
        Binding {
            resource: resource.into(),
            module: module.into(),
            version: None,
            modified: 1,
        }
    }

    #[test]
    fn bindings_are_kept_per_tenant_and_replaced_by_pattern() {
        for s in crate::store::testing::stores() {
            let (a, b) = (TenantId("a".into()), TenantId("b".into()));
            s.binding_put(&a, &binding("arn:aws:states:::aws-sdk:translate:*", "tr"))
                .unwrap();
            s.binding_put(
                &a,
                &binding("arn:aws:states:::glue:startJobRun.sync", "glue"),
            )
            .unwrap();
            let mut replaced = binding("arn:aws:states:::aws-sdk:translate:*", "tr2");
            replaced.version = Some(3);
            s.binding_put(&a, &replaced).unwrap();
            let listed = s.binding_list(&a).unwrap();
            assert_eq!(listed.len(), 2);
            assert_eq!(listed[0], replaced, "ordered by pattern");
            assert!(s.binding_list(&b).unwrap().is_empty(), "per tenant");
            assert!(!s
                .binding_delete(&b, "arn:aws:states:::aws-sdk:translate:*")
                .unwrap());
            assert!(s
                .binding_delete(&a, "arn:aws:states:::aws-sdk:translate:*")
                .unwrap());
            assert_eq!(s.binding_list(&a).unwrap().len(), 1);
        }
    }
}
