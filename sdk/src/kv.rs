//! Key-value tables of JSON items: the DynamoDB-like store.
//!
//! Every item carries a version, incremented on every write; [`put_if`] writes only when
//! the version is still the one read, which is how concurrent tasks update an item safely:
//!
//! ```no_run
//! use sandstep_sdk::{json, kv, HostError};
//!
//! # fn main() -> Result<(), HostError> {
//! loop {
//!     let (stock, version) = match kv::get("inventory", "sku-1")? {
//!         Some(item) => (item.value["stock"].as_i64().unwrap_or(0), Some(item.version)),
//!         None => (0, None),
//!     };
//!     match kv::put_if("inventory", "sku-1", &json!({ "stock": stock + 1 }), version) {
//!         Err(HostError::ConditionFailed(_)) => continue, // someone else wrote: read again
//!         other => break other.map(|_| ()),
//!     }
//! }
//! # }
//! ```

use crate::bindings::sandstep::host::kv as wit;
use crate::{parse_json, HostError, Value};

/// An item and the version its last write gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The item.
    pub value: Value,
    /// Incremented on every write; pass it to [`put_if`].
    pub version: u64,
}

impl TryFrom<wit::Item> for Item {
    type Error = HostError;

    fn try_from(item: wit::Item) -> Result<Self, HostError> {
        Ok(Item {
            value: parse_json(&item.value)?,
            version: item.version,
        })
    }
}

/// Reads the item at `key` in `table`; `None` when the key is absent.
///
/// # Errors
///
/// [`HostError::AccessDenied`] when the module may not read `table`; any other host answer.
pub fn get(table: &str, key: &str) -> Result<Option<Item>, HostError> {
    wit::get(table, key)?.map(Item::try_from).transpose()
}

/// Writes `value` at `key` in `table` unconditionally; returns the item's new version.
///
/// # Errors
///
/// [`HostError::AccessDenied`] when the module may not write `table`;
/// [`HostError::InvalidInput`] for a bad key or an oversized item; any other host answer.
pub fn put(table: &str, key: &str, value: &Value) -> Result<u64, HostError> {
    Ok(wit::put(table, key, &value.to_string())?)
}

/// Writes `value` only if the item's current version is `expected` (`None`: only if the
/// key is absent); returns the item's new version.
///
/// # Errors
///
/// [`HostError::ConditionFailed`] when the version differs; otherwise as [`put`].
pub fn put_if(
    table: &str,
    key: &str,
    value: &Value,
    expected: Option<u64>,
) -> Result<u64, HostError> {
    Ok(wit::put_if(table, key, &value.to_string(), expected)?)
}

/// Deletes the item at `key`; `true` when it existed.
///
/// # Errors
///
/// [`HostError::AccessDenied`] when the module may not write `table`; any other host answer.
pub fn delete(table: &str, key: &str) -> Result<bool, HostError> {
    Ok(wit::delete(table, key)?)
}

/// The items whose key starts with `prefix`, in key order, at most `limit` of them.
///
/// # Errors
///
/// [`HostError::AccessDenied`] when the module may not read `table`; any other host answer.
pub fn query(table: &str, prefix: &str, limit: u32) -> Result<Vec<(String, Item)>, HostError> {
    wit::query(table, prefix, limit)?
        .into_iter()
        .map(|(key, item)| Ok((key, Item::try_from(item)?)))
        .collect()
}
