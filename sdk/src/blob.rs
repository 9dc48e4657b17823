//! Buckets of objects: the S3-like store.
//!
//! ```no_run
//! use sandstep_sdk::{blob, HostError};
//!
//! # fn main() -> Result<(), HostError> {
//! let meta = blob::put("reports", "2024/summary.csv", b"sku,qty\nA,1\n", Some("text/csv"))?;
//! assert_eq!(meta.size, 12);
//! let bytes = blob::get("reports", "2024/summary.csv")?.unwrap_or_default();
//! # let _ = bytes;
//! # Ok(())
//! # }
//! ```

use crate::bindings::sandstep::host::blob as wit;
use crate::HostError;

/// What is known of an object without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The object's key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    /// The content type given at upload.
    pub content_type: Option<String>,
    /// Last write, in milliseconds since the Unix epoch.
    pub modified_ms: u64,
}

impl From<wit::ObjectMeta> for ObjectMeta {
    fn from(m: wit::ObjectMeta) -> Self {
        ObjectMeta {
            key: m.key,
            size: m.size,
            sha256: m.sha256,
            content_type: m.content_type,
            modified_ms: m.modified_ms,
        }
    }
}

/// Stores `data` at `key` in `bucket`, replacing any previous object.
///
/// # Errors
///
/// [`HostError::AccessDenied`] when the module may not write `bucket`;
/// [`HostError::InvalidInput`] or [`HostError::LimitExceeded`] for a bad key or an
/// oversized object; any other host answer.
pub fn put(
    bucket: &str,
    key: &str,
    data: &[u8],
    content_type: Option<&str>,
) -> Result<ObjectMeta, HostError> {
    Ok(wit::put(bucket, key, data, content_type)?.into())
}

/// Reads the object at `key`; `None` when absent.
///
/// # Errors
///
/// [`HostError::AccessDenied`] when the module may not read `bucket`; any other host answer.
pub fn get(bucket: &str, key: &str) -> Result<Option<Vec<u8>>, HostError> {
    Ok(wit::get(bucket, key)?)
}

/// Reads the metadata of the object at `key`; `None` when absent.
///
/// # Errors
///
/// As [`get`].
pub fn head(bucket: &str, key: &str) -> Result<Option<ObjectMeta>, HostError> {
    Ok(wit::head(bucket, key)?.map(ObjectMeta::from))
}

/// The objects whose key starts with `prefix`, in key order, at most `limit` of them.
///
/// # Errors
///
/// As [`get`].
pub fn list(bucket: &str, prefix: &str, limit: u32) -> Result<Vec<ObjectMeta>, HostError> {
    Ok(wit::list(bucket, prefix, limit)?
        .into_iter()
        .map(ObjectMeta::from)
        .collect())
}

/// Deletes the object at `key`; `true` when it existed.
///
/// # Errors
///
/// As [`put`].
pub fn delete(bucket: &str, key: &str) -> Result<bool, HostError> {
    Ok(wit::delete(bucket, key)?)
}
