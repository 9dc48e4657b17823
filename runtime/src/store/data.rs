//! Helpers the tenant data tables share: per-tenant sequences and hex (blobs live in
//! `blobs.rs`, kv items in the DynamoDB tables, `kv.rs`; queues in `queues.rs`; topics in
//! `topics.rs`).

use super::{Error, Result, Store};

impl Store {
    /// The next number of a per-tenant sequence (queue messages).
    pub(super) fn next_sequence(&self, key: &[u8]) -> Result<u64> {
        loop {
            let current = self.backend.get(key)?;
            let n = match &current {
                Some(b) => b
                    .as_slice()
                    .try_into()
                    .map(u64::from_be_bytes)
                    .map_err(|_| Error::Corrupt("sequence".into()))?,
                None => 0,
            } + 1;
            if self.backend.compare_and_swap(
                key,
                current.as_deref(),
                Some(n.to_be_bytes().to_vec()),
            )? {
                return Ok(n);
            }
        }
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
