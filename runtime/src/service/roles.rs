//! The tenant's roles: what its state machines' integrations may touch (the grants a
//! `roleArn` names, checked by `tasks::access`). A role named `default` is what machines
//! whose role is not defined run as; without it they may touch the whole tenant.

use super::{Error, Result};
use crate::grants::{valid_name, Grants};
use crate::store::roles::Role;
use crate::store::{Roles as _, Store};
use crate::tenants::Tenant;

/// Roles of the tenants.
#[derive(Debug, Clone)]
pub struct Roles {
    store: Store,
    clock: std::sync::Arc<dyn crate::clock::Clock>,
}

impl Roles {
    /// The roles in `store`.
    pub fn new(store: Store, clock: std::sync::Arc<dyn crate::clock::Clock>) -> Roles {
        Roles { store, clock }
    }

    /// Creates or replaces a role with `grants` (module grants' grammar, `*` for every
    /// resource of a kind).
    ///
    /// # Errors
    /// [`Error::InvalidName`], [`Error::InvalidGrants`], store failures.
    #[tracing::instrument(level = "debug", name = "service.put_role", skip_all, fields(tenant = %tenant.id))]
    pub fn put(&self, tenant: &Tenant, name: &str, grants: &[String]) -> Result<Role> {
        if !valid_name(name) {
            return Err(Error::InvalidName(format!(
                "{name}: a role name is 1-128 characters of letters, digits, '-', '_' and '.'"
            )));
        }
        let parsed = Grants::parse(grants.iter().map(String::as_str))
            .map_err(|e| Error::InvalidGrants(e.to_string()))?;
        let role = Role {
            name: name.to_string(),
            grants: parsed.to_strings(),
            modified: self.clock.now(),
        };
        self.store.role_put(&tenant.id, &role)?;
        Ok(role)
    }

    /// A role.
    ///
    /// # Errors
    /// [`Error::RoleDoesNotExist`], store failures.
    pub fn get(&self, tenant: &Tenant, name: &str) -> Result<Role> {
        self.store
            .role_get(&tenant.id, name)?
            .ok_or_else(|| Error::RoleDoesNotExist(name.to_string()))
    }

    /// The tenant's roles.
    ///
    /// # Errors
    /// Store failures.
    pub fn list(&self, tenant: &Tenant) -> Result<Vec<Role>> {
        Ok(self.store.role_list(&tenant.id)?)
    }

    /// Deletes a role.
    ///
    /// # Errors
    /// [`Error::RoleDoesNotExist`], store failures.
    pub fn delete(&self, tenant: &Tenant, name: &str) -> Result<()> {
        match self.store.role_delete(&tenant.id, name)? {
            true => Ok(()),
            false => Err(Error::RoleDoesNotExist(name.to_string())),
        }
    }
}
