//! The tenant data table behind the `blob` host interface (kv items live in the DynamoDB
//! tables, `kv.rs`; queues in `queues.rs`; topics in `topics.rs`).

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::{Blobs, Error, Millis, ObjectMeta, Result, Store, TenantId};
use sha2::{Digest, Sha256};

impl Blobs for Store {
    fn blob_put(
        &self,
        tenant: &TenantId,
        bucket: &str,
        key: &str,
        data: &[u8],
        content_type: Option<&str>,
        now: Millis,
    ) -> Result<ObjectMeta> {
        let meta = ObjectMeta {
            key: key.to_string(),
            size: data.len() as u64,
            sha256: hex(&Sha256::digest(data)),
            content_type: content_type.map(str::to_string),
            modified: now,
        };
        self.backend.apply(vec![
            Write::Put(
                Key::of(Table::BlobData, tenant)
                    .text(bucket)
                    .text(key)
                    .into_bytes(),
                data.to_vec(),
            ),
            Write::Put(
                Key::of(Table::BlobMeta, tenant)
                    .text(bucket)
                    .text(key)
                    .into_bytes(),
                encode(&meta)?,
            ),
        ])?;
        Ok(meta)
    }

    fn blob_get(&self, tenant: &TenantId, bucket: &str, key: &str) -> Result<Option<Vec<u8>>> {
        self.backend.get(
            &Key::of(Table::BlobData, tenant)
                .text(bucket)
                .text(key)
                .into_bytes(),
        )
    }

    fn blob_head(&self, tenant: &TenantId, bucket: &str, key: &str) -> Result<Option<ObjectMeta>> {
        let k = Key::of(Table::BlobMeta, tenant)
            .text(bucket)
            .text(key)
            .into_bytes();
        self.backend.get(&k)?.map(|b| decode(&b)).transpose()
    }

    fn blob_list(
        &self,
        tenant: &TenantId,
        bucket: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<ObjectMeta>> {
        let p = Key::of(Table::BlobMeta, tenant)
            .text(bucket)
            .text_prefix(prefix);
        self.backend
            .scan(&p, None, limit)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    fn blob_delete(&self, tenant: &TenantId, bucket: &str, key: &str) -> Result<bool> {
        let meta = Key::of(Table::BlobMeta, tenant)
            .text(bucket)
            .text(key)
            .into_bytes();
        let existed = self.backend.get(&meta)?.is_some();
        self.backend.apply(vec![
            Write::Delete(
                Key::of(Table::BlobData, tenant)
                    .text(bucket)
                    .text(key)
                    .into_bytes(),
            ),
            Write::Delete(meta),
        ])?;
        Ok(existed)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> TenantId {
        TenantId(name.into())
    }

    #[test]
    fn blobs_store_bytes_and_metadata() {
        let s = Store::memory();
        let a = t("a");
        let meta = s
            .blob_put(&a, "raw", "in/1.csv", b"x,1\n", Some("text/csv"), 5)
            .unwrap();
        assert_eq!(meta.size, 4);
        assert_eq!(
            s.blob_get(&a, "raw", "in/1.csv").unwrap().unwrap(),
            b"x,1\n"
        );
        assert_eq!(s.blob_head(&a, "raw", "in/1.csv").unwrap(), Some(meta));
        assert_eq!(s.blob_list(&a, "raw", "in/", 10).unwrap().len(), 1);
        assert_eq!(s.blob_get(&t("b"), "raw", "in/1.csv").unwrap(), None);
        assert!(s.blob_delete(&a, "raw", "in/1.csv").unwrap());
        assert_eq!(s.blob_head(&a, "raw", "in/1.csv").unwrap(), None);
    }
}
