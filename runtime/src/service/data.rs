//! The tenant's key-value items from outside a task, for seeding what task modules read
//! and inspecting what they wrote. Items are JSON, as the `kv` host calls see them.

use super::{Error, Result};
use crate::store::{Expect, Kv as _, Store};
use crate::tenants::Tenant;
use serde_json::Value;

/// An item as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Its version, counted per key from 1.
    pub version: u64,
    /// Its value: JSON, or the stored text when a module wrote something else.
    pub value: Value,
}

/// A store error as the caller's: a table keyed otherwise refuses the item.
fn refused(e: crate::store::Error) -> Error {
    match e {
        crate::store::Error::Invalid(why) => Error::ItemRefused(why),
        other => Error::Store(other),
    }
}

fn check_names(table: &str, key: &str) -> Result<()> {
    if !crate::grants::valid_name(table) || key.is_empty() || key.len() > 1024 {
        return Err(Error::InvalidItemName(table.to_string()));
    }
    Ok(())
}

/// The tenant's key-value tables.
#[derive(Debug, Clone)]
pub struct Data {
    store: Store,
}

impl Data {
    /// The tables in `store`.
    pub fn new(store: Store) -> Data {
        Data { store }
    }

    /// Writes an item (`body` must be JSON) whatever its version; answers the new one once
    /// it is durable.
    ///
    /// # Errors
    /// [`Error::InvalidItemName`], [`Error::ItemNotJson`], store failures.
    #[tracing::instrument(level = "debug", name = "service.put_item", skip_all, fields(tenant = %tenant.id, table = %table))]
    pub async fn put(&self, tenant: &Tenant, table: &str, key: &str, body: &[u8]) -> Result<u64> {
        check_names(table, key)?;
        let item: Value =
            serde_json::from_slice(body).map_err(|e| Error::ItemNotJson(e.to_string()))?;
        let version = self
            .store
            .kv_put(&tenant.id, table, key, &item.to_string(), Expect::Any)
            .map_err(refused)?;
        // Answered once the write survives a crash.
        self.store.durable_later()?.wait().await?;
        Ok(version)
    }

    /// Reads an item.
    ///
    /// # Errors
    /// [`Error::InvalidItemName`], [`Error::ItemDoesNotExist`], store failures.
    #[tracing::instrument(level = "debug", name = "service.get_item", skip_all, fields(tenant = %tenant.id, table = %table))]
    pub fn get(&self, tenant: &Tenant, table: &str, key: &str) -> Result<Item> {
        check_names(table, key)?;
        match self.store.kv_get(&tenant.id, table, key).map_err(refused)? {
            Some(item) => Ok(Item {
                version: item.version,
                value: serde_json::from_str(&item.value).unwrap_or(Value::String(item.value)),
            }),
            None => Err(Error::ItemDoesNotExist {
                table: table.to_string(),
                key: key.to_string(),
            }),
        }
    }

    /// Deletes an item; answers whether it existed.
    ///
    /// # Errors
    /// [`Error::InvalidItemName`], store failures.
    #[tracing::instrument(level = "debug", name = "service.delete_item", skip_all, fields(tenant = %tenant.id, table = %table))]
    pub async fn delete(&self, tenant: &Tenant, table: &str, key: &str) -> Result<bool> {
        check_names(table, key)?;
        let existed = self
            .store
            .kv_delete(&tenant.id, table, key)
            .map_err(refused)?;
        self.store.durable_later()?.wait().await?;
        Ok(existed)
    }
}
