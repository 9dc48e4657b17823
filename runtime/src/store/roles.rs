//! Roles of a tenant: what a state machine's integrations may touch. A state machine's
//! `roleArn` names one (`arn:aws:iam::<account>:role/<name>`); its grants, in the grammar
//! of module grants, say which tables, buckets, queues and topics the DynamoDB, S3, SQS and
//! SNS tasks may read or write.

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::{Millis, Result, Store, TenantId};
use serde::{Deserialize, Serialize};

/// The role a state machine falls back to when its `roleArn` names none: while the
/// tenant has not defined it, it grants the whole tenant.
pub const DEFAULT_ROLE: &str = "default";

/// A role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Role {
    /// Its name (the last part of a role ARN).
    pub name: String,
    /// Its grants, as written (`kv:orders,queue:jobs:write`).
    pub grants: Vec<String>,
    /// When it was last written (epoch ms).
    pub modified: Millis,
}

/// Roles.
pub trait Roles: Send + Sync {
    /// Creates or replaces a role.
    ///
    /// # Errors
    /// When the store fails.
    fn role_put(&self, tenant: &TenantId, role: &Role) -> Result<()>;
    /// A role.
    ///
    /// # Errors
    /// When the store fails.
    fn role_get(&self, tenant: &TenantId, name: &str) -> Result<Option<Role>>;
    /// The tenant's roles, by name.
    ///
    /// # Errors
    /// When the store fails.
    fn role_list(&self, tenant: &TenantId) -> Result<Vec<Role>>;
    /// Deletes a role; `false` when there was none.
    ///
    /// # Errors
    /// When the store fails.
    fn role_delete(&self, tenant: &TenantId, name: &str) -> Result<bool>;
}

fn role_key(tenant: &TenantId, name: &str) -> Vec<u8> {
    Key::of(Table::Role, tenant).text(name).into_bytes()
}

impl Roles for Store {
    fn role_put(&self, tenant: &TenantId, role: &Role) -> Result<()> {
        self.backend().apply(vec![Write::Put(
            role_key(tenant, &role.name),
            encode(role)?,
        )])
    }

    fn role_get(&self, tenant: &TenantId, name: &str) -> Result<Option<Role>> {
        self.backend()
            .get(&role_key(tenant, name))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn role_list(&self, tenant: &TenantId) -> Result<Vec<Role>> {
        let prefix = Key::of(Table::Role, tenant).into_bytes();
        self.records(&prefix, None, usize::MAX)
    }

    fn role_delete(&self, tenant: &TenantId, name: &str) -> Result<bool> {
        let key = role_key(tenant, name);
        let existed = self.backend().get(&key)?.is_some();
        self.backend().apply(vec![Write::Delete(key)])?;
        Ok(existed)
    }
}

impl Store {
    /// The grants a state machine's integrations run with: its role's (named by the last
    /// part of `role_arn`), else the tenant's `default` role's; `None` (everything of the
    /// tenant) when neither is defined.
    ///
    /// # Errors
    /// When the store fails; [`super::Error::Corrupt`] for stored grants that no longer
    /// parse.
    pub fn role_grants(
        &self,
        tenant: &TenantId,
        role_arn: &str,
    ) -> Result<Option<(String, crate::grants::Grants)>> {
        let name = role_name(role_arn);
        let role = match self.role_get(tenant, name)? {
            Some(r) => Some(r),
            None => self.role_get(tenant, DEFAULT_ROLE)?,
        };
        role.map(|r| {
            crate::grants::Grants::parse(r.grants.iter().map(String::as_str))
                .map(|g| (r.name.clone(), g))
                .map_err(|e| super::Error::Corrupt(e.to_string()))
        })
        .transpose()
    }
}

/// The role name of a role ARN (`arn:aws:iam::1:role/service-role/Name` → `Name`); the
/// text itself when it is not an ARN.
pub fn role_name(role_arn: &str) -> &str {
    role_arn.rsplit('/').next().unwrap_or(role_arn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::{Access, Resource};

    #[test]
    fn machines_run_as_their_role_or_the_default_one() {
        for s in crate::store::testing::stores() {
            let t = TenantId("t".into());
            let arn = "arn:aws:iam::000000000000:role/service-role/Orders";
            assert_eq!(s.role_grants(&t, arn).unwrap(), None, "the whole tenant");
            s.role_put(
                &t,
                &Role {
                    name: DEFAULT_ROLE.into(),
                    grants: vec![],
                    modified: 1,
                },
            )
            .unwrap();
            let (name, none) = s.role_grants(&t, arn).unwrap().unwrap();
            assert_eq!(name, "default");
            assert!(!none.allows(Resource::Kv, "orders", Access::Read));
            s.role_put(
                &t,
                &Role {
                    name: "Orders".into(),
                    grants: vec!["kv:orders".into()],
                    modified: 2,
                },
            )
            .unwrap();
            let (name, orders) = s.role_grants(&t, arn).unwrap().unwrap();
            assert_eq!(name, "Orders");
            assert!(orders.allows(Resource::Kv, "orders", Access::Write));
            assert_eq!(s.role_list(&t).unwrap().len(), 2);
            assert!(s.role_delete(&t, "Orders").unwrap());
            assert_eq!(
                s.role_grants(&TenantId("u".into()), arn).unwrap(),
                None,
                "per tenant"
            );
        }
    }
}
