//! Buckets of objects, S3's way: a bucket per name, objects by key with their metadata
//! (size, hashes, content type, user metadata) in the store for listings, and their bytes
//! in files (`objects.rs`) streamed in and out. Multipart uploads keep their parts as files
//! until completed into one. Every tenant's stored bytes are counted against its storage
//! quota. Modules' `blob` calls, the `s3` integrations and the S3 API share them.
//!
//! Objects written before bytes moved to files kept them in the store (`BlobData`); they
//! are read from there until overwritten.

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::objects::Written;
use super::{Error, Millis, Result, Store, TenantId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{Read, Seek};

/// A bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketDef {
    /// Its name, unique in the tenant.
    pub name: String,
    /// When it was created (epoch ms).
    pub created: Millis,
    /// Whether its objects' changes go to the tenant's default event bus (S3's
    /// `EventBridgeConfiguration`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub event_bridge: bool,
}

/// What is known of a stored object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    /// The object's key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    /// The content type given at upload.
    pub content_type: Option<String>,
    /// Last write.
    pub modified: Millis,
    /// S3's ETag, without quotes: the MD5 of the bytes, or of the parts' MD5s with `-N`.
    #[serde(default)]
    pub etag: String,
    /// The file holding the bytes (`None`: kept in the store, from before files).
    #[serde(default)]
    pub file: Option<String>,
    /// User metadata (`x-amz-meta-*`), names in lower case.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// What a write says of the object besides its bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewObject {
    /// Its content type.
    pub content_type: Option<String>,
    /// Its user metadata.
    pub metadata: BTreeMap<String, String>,
    /// The most bytes it may have (the server's object size limit).
    pub limit: u64,
    /// The most bytes the tenant may store in all (its quota).
    pub quota: u64,
}

/// A part of a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// Its file.
    pub file: String,
    /// Its size.
    pub size: u64,
    /// Hex MD5 of its bytes (its ETag).
    pub md5: String,
}

/// A multipart upload under way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    /// Its id.
    pub id: String,
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// What the object will say of itself.
    pub content_type: Option<String>,
    /// Its user metadata.
    pub metadata: BTreeMap<String, String>,
    /// When it began.
    pub created: Millis,
    /// The parts so far, by number.
    pub parts: BTreeMap<u32, Part>,
}

/// Something readable and seekable: an object's bytes.
pub trait Body: Read + Seek + Send {}
impl<T: Read + Seek + Send> Body for T {}

/// Buckets and objects.
///
/// # Contract
/// An object's metadata names bytes that are whole and durable; a write replaces an
/// object at once (readers see the old or the new one); the stored bytes of a tenant stay
/// within its quota.
pub trait Blobs: Send + Sync {
    /// Creates a bucket; `false` when it exists.
    ///
    /// # Errors
    /// When the store fails.
    fn bucket_create(&self, tenant: &TenantId, name: &str, now: Millis) -> Result<bool>;
    /// A bucket.
    ///
    /// # Errors
    /// When the store fails.
    fn bucket_get(&self, tenant: &TenantId, name: &str) -> Result<Option<BucketDef>>;
    /// The tenant's buckets, in name order.
    ///
    /// # Errors
    /// When the store fails.
    fn bucket_list(&self, tenant: &TenantId) -> Result<Vec<BucketDef>>;

    /// Turns EventBridge notifications of bucket `name` on or off; `false` when there is
    /// no such bucket.
    ///
    /// # Errors
    /// When the store fails.
    fn bucket_set_event_bridge(&self, tenant: &TenantId, name: &str, on: bool) -> Result<bool>;
    /// Deletes an empty bucket; `false` when there was none.
    ///
    /// # Errors
    /// [`Error::ConditionFailed`] when it holds objects or uploads.
    fn bucket_delete(&self, tenant: &TenantId, name: &str) -> Result<bool>;
    /// Streams `body` into an object, replacing any previous one. Within `new.limit` and
    /// the tenant's `new.quota` (bytes stored in all).
    ///
    /// # Errors
    /// [`Error::TooLarge`] past the limit or the quota; I/O failures.
    fn blob_write(
        &self,
        tenant: &TenantId,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        new: &NewObject,
        now: Millis,
    ) -> Result<ObjectMeta>;
    /// An object's metadata and bytes, to stream.
    ///
    /// # Errors
    /// When the store fails.
    fn blob_open(
        &self,
        tenant: &TenantId,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(ObjectMeta, Box<dyn Body>)>>;
    /// An object's metadata.
    ///
    /// # Errors
    /// When the store fails.
    fn blob_head(&self, tenant: &TenantId, bucket: &str, key: &str) -> Result<Option<ObjectMeta>>;
    /// Objects whose key starts with `prefix`, in key order after `after`, at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn blob_list(
        &self,
        tenant: &TenantId,
        bucket: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ObjectMeta>>;
    /// Deletes an object; `true` when it existed.
    ///
    /// # Errors
    /// When the store fails.
    fn blob_delete(&self, tenant: &TenantId, bucket: &str, key: &str) -> Result<bool>;
    /// Bytes the tenant stores.
    ///
    /// # Errors
    /// When the store fails.
    fn storage_used(&self, tenant: &TenantId) -> Result<u64>;
    /// Begins a multipart upload; its id.
    ///
    /// # Errors
    /// When the store fails.
    fn upload_create(
        &self,
        tenant: &TenantId,
        bucket: &str,
        key: &str,
        new: &NewObject,
        now: Millis,
    ) -> Result<String>;
    /// An upload under way.
    ///
    /// # Errors
    /// When the store fails.
    fn upload_get(&self, tenant: &TenantId, id: &str) -> Result<Option<Upload>>;
    /// The uploads under way in a bucket.
    ///
    /// # Errors
    /// When the store fails.
    fn upload_list(&self, tenant: &TenantId, bucket: &str) -> Result<Vec<Upload>>;
    /// Streams a part (replacing one of the same number); its ETag.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an unknown upload; as [`blob_write`](Self::blob_write).
    #[allow(clippy::too_many_arguments)]
    fn upload_part(
        &self,
        tenant: &TenantId,
        id: &str,
        number: u32,
        body: &mut dyn Read,
        limit: u64,
        quota: u64,
    ) -> Result<Part>;
    /// Joins the parts `numbers` (ascending) into the object and ends the upload.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an unknown upload or part; as [`blob_write`](Self::blob_write).
    fn upload_complete(
        &self,
        tenant: &TenantId,
        id: &str,
        numbers: &[u32],
        limit: u64,
        quota: u64,
        now: Millis,
    ) -> Result<ObjectMeta>;
    /// Ends an upload without an object; `false` when there was none.
    ///
    /// # Errors
    /// When the store fails.
    fn upload_abort(&self, tenant: &TenantId, id: &str) -> Result<bool>;
}

fn bucket_key(tenant: &TenantId, name: &str) -> Vec<u8> {
    Key::of(Table::Bucket, tenant).text(name).into_bytes()
}

fn meta_key(tenant: &TenantId, bucket: &str, key: &str) -> Vec<u8> {
    Key::of(Table::BlobMeta, tenant)
        .text(bucket)
        .text(key)
        .into_bytes()
}

fn legacy_key(tenant: &TenantId, bucket: &str, key: &str) -> Vec<u8> {
    Key::of(Table::BlobData, tenant)
        .text(bucket)
        .text(key)
        .into_bytes()
}

fn upload_key(tenant: &TenantId, id: &str) -> Vec<u8> {
    Key::of(Table::BlobUpload, tenant).text(id).into_bytes()
}

fn usage_key(tenant: &TenantId) -> Vec<u8> {
    Key::of(Table::Meta, tenant)
        .text("storage-bytes")
        .into_bytes()
}

impl Store {
    /// Stores `data` as an object (modules' `blob.put`, seeding) within the tenant's
    /// storage quota: a bucket a module names first is created.
    ///
    /// # Errors
    /// As [`Blobs::blob_write`].
    pub fn blob_put(
        &self,
        tenant: &TenantId,
        bucket: &str,
        key: &str,
        data: &[u8],
        content_type: Option<&str>,
        now: Millis,
    ) -> Result<ObjectMeta> {
        self.bucket_create(tenant, bucket, now)?;
        let new = NewObject {
            content_type: content_type.map(str::to_string),
            metadata: BTreeMap::new(),
            limit: data.len() as u64,
            quota: self.storage_quota(tenant)?,
        };
        self.blob_write(tenant, bucket, key, &mut &data[..], &new, now)
    }

    /// The tenant's storage quota, in bytes (the default's for the unconfigured tenant).
    ///
    /// # Errors
    /// When the store fails.
    pub fn storage_quota(&self, tenant: &TenantId) -> Result<u64> {
        use super::Tenants as _;
        Ok(self.tenant_get(tenant)?.map_or_else(
            || super::tenants::Quotas::default().max_storage_bytes,
            |t| t.quotas.max_storage_bytes,
        ))
    }

    /// An object's bytes, whole (modules' `blob.get`, whose objects are small).
    ///
    /// # Errors
    /// When the store fails.
    pub fn blob_get(&self, tenant: &TenantId, bucket: &str, key: &str) -> Result<Option<Vec<u8>>> {
        let Some((_, mut body)) = self.blob_open(tenant, bucket, key)? else {
            return Ok(None);
        };
        let mut out = Vec::new();
        body.read_to_end(&mut out)
            .map_err(|e| Error::Backend(format!("reading an object: {e}")))?;
        Ok(Some(out))
    }

    /// Adds `delta` to the tenant's stored bytes.
    fn add_usage(&self, tenant: &TenantId, delta: i128) -> Result<()> {
        let key = usage_key(tenant);
        loop {
            let current = self.backend().get(&key)?;
            let used = current
                .as_deref()
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_be_bytes);
            let next = u64::try_from((i128::from(used) + delta).max(0)).unwrap_or(u64::MAX);
            if self.backend().compare_and_swap(
                &key,
                current.as_deref(),
                Some(next.to_be_bytes().to_vec()),
            )? {
                return Ok(());
            }
        }
    }

    /// What may still be written within `quota`.
    fn room(&self, tenant: &TenantId, quota: u64) -> Result<u64> {
        Ok(quota.saturating_sub(self.storage_used(tenant)?))
    }

    /// Records `written` as the object, then lets go of what it replaced.
    fn settle(
        &self,
        tenant: &TenantId,
        (bucket, key): (&str, &str),
        written: Written,
        etag: String,
        new: &NewObject,
        now: Millis,
    ) -> Result<ObjectMeta> {
        let meta = ObjectMeta {
            key: key.to_string(),
            size: written.size,
            sha256: written.sha256,
            content_type: new.content_type.clone(),
            modified: now,
            etag,
            file: Some(written.id),
            metadata: new.metadata.clone(),
        };
        let k = meta_key(tenant, bucket, key);
        let old: Option<ObjectMeta> = self.backend().get(&k)?.map(|b| decode(&b)).transpose()?;
        self.backend().apply(vec![
            Write::Put(k, encode(&meta)?),
            Write::Delete(legacy_key(tenant, bucket, key)),
        ])?;
        self.add_usage(
            tenant,
            i128::from(meta.size) - old.as_ref().map_or(0, |o| i128::from(o.size)),
        )?;
        if let Some(file) = old.and_then(|o| o.file) {
            self.objects().remove(tenant, &file)?;
        }
        Ok(meta)
    }
}

impl Blobs for Store {
    fn bucket_create(&self, tenant: &TenantId, name: &str, now: Millis) -> Result<bool> {
        let key = bucket_key(tenant, name);
        let def = BucketDef {
            name: name.to_string(),
            created: now,
            event_bridge: false,
        };
        self.backend()
            .apply_if_absent(&key, vec![Write::Put(key.clone(), encode(&def)?)])
    }

    fn bucket_get(&self, tenant: &TenantId, name: &str) -> Result<Option<BucketDef>> {
        let found: Option<BucketDef> = self
            .backend()
            .get(&bucket_key(tenant, name))?
            .map(|b| decode(&b))
            .transpose()?;
        if found.is_some() {
            return Ok(found);
        }
        // Buckets from before buckets were recorded exist while they hold objects.
        let prefix = Key::of(Table::BlobMeta, tenant).text(name).into_bytes();
        let legacy = !self.backend().scan(&prefix, None, 1)?.is_empty();
        Ok(legacy.then(|| BucketDef {
            name: name.to_string(),
            created: 0,
            event_bridge: false,
        }))
    }

    fn bucket_list(&self, tenant: &TenantId) -> Result<Vec<BucketDef>> {
        let prefix = Key::of(Table::Bucket, tenant).into_bytes();
        self.records(&prefix, None, usize::MAX)
    }

    fn bucket_set_event_bridge(&self, tenant: &TenantId, name: &str, on: bool) -> Result<bool> {
        let Some(mut def) = self.bucket_get(tenant, name)? else {
            return Ok(false);
        };
        def.event_bridge = on;
        let key = bucket_key(tenant, name);
        self.backend().apply(vec![Write::Put(key, encode(&def)?)])?;
        Ok(true)
    }

    fn bucket_delete(&self, tenant: &TenantId, name: &str) -> Result<bool> {
        let key = bucket_key(tenant, name);
        if self.backend().get(&key)?.is_none() {
            return Ok(false);
        }
        let objects = Key::of(Table::BlobMeta, tenant).text(name).into_bytes();
        if !self.backend().scan(&objects, None, 1)?.is_empty()
            || !self.upload_list(tenant, name)?.is_empty()
        {
            return Err(Error::ConditionFailed(
                "The bucket you tried to delete is not empty".into(),
            ));
        }
        self.backend().apply(vec![Write::Delete(key)])?;
        Ok(true)
    }

    fn blob_write(
        &self,
        tenant: &TenantId,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        new: &NewObject,
        now: Millis,
    ) -> Result<ObjectMeta> {
        let quota = new.quota;
        let room = self.room(tenant, quota)?;
        let limit = new.limit.min(room);
        let written = self
            .objects()
            .write(tenant, body, limit)
            .map_err(|e| over_quota(e, room < new.limit, quota))?;
        let etag = written.md5.clone();
        self.settle(tenant, (bucket, key), written, etag, new, now)
    }

    fn blob_open(
        &self,
        tenant: &TenantId,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(ObjectMeta, Box<dyn Body>)>> {
        let Some(meta) = self.blob_head(tenant, bucket, key)? else {
            return Ok(None);
        };
        let body: Box<dyn Body> = match &meta.file {
            Some(file) => self.objects().open(tenant, file)?,
            None => {
                let bytes = self
                    .backend()
                    .get(&legacy_key(tenant, bucket, key))?
                    .unwrap_or_default();
                Box::new(std::io::Cursor::new(bytes))
            }
        };
        Ok(Some((meta, body)))
    }

    fn blob_head(&self, tenant: &TenantId, bucket: &str, key: &str) -> Result<Option<ObjectMeta>> {
        self.backend()
            .get(&meta_key(tenant, bucket, key))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn blob_list(
        &self,
        tenant: &TenantId,
        bucket: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ObjectMeta>> {
        let p = Key::of(Table::BlobMeta, tenant)
            .text(bucket)
            .text_prefix(prefix);
        let after = after.map(|a| meta_key(tenant, bucket, a));
        self.records(&p, after.as_deref(), limit)
    }

    fn blob_delete(&self, tenant: &TenantId, bucket: &str, key: &str) -> Result<bool> {
        let Some(meta) = self.blob_head(tenant, bucket, key)? else {
            return Ok(false);
        };
        self.backend().apply(vec![
            Write::Delete(meta_key(tenant, bucket, key)),
            Write::Delete(legacy_key(tenant, bucket, key)),
        ])?;
        self.add_usage(tenant, -i128::from(meta.size))?;
        if let Some(file) = meta.file {
            self.objects().remove(tenant, &file)?;
        }
        Ok(true)
    }

    fn storage_used(&self, tenant: &TenantId) -> Result<u64> {
        Ok(self
            .backend()
            .get(&usage_key(tenant))?
            .as_deref()
            .and_then(|b| b.try_into().ok())
            .map_or(0, u64::from_be_bytes))
    }

    fn upload_create(
        &self,
        tenant: &TenantId,
        bucket: &str,
        key: &str,
        new: &NewObject,
        now: Millis,
    ) -> Result<String> {
        let id = crate::sqs::random_id(now).replace('-', "");
        let upload = Upload {
            id: id.clone(),
            bucket: bucket.to_string(),
            key: key.to_string(),
            content_type: new.content_type.clone(),
            metadata: new.metadata.clone(),
            created: now,
            parts: BTreeMap::new(),
        };
        self.backend()
            .apply(vec![Write::Put(upload_key(tenant, &id), encode(&upload)?)])?;
        Ok(id)
    }

    fn upload_get(&self, tenant: &TenantId, id: &str) -> Result<Option<Upload>> {
        self.backend()
            .get(&upload_key(tenant, id))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn upload_list(&self, tenant: &TenantId, bucket: &str) -> Result<Vec<Upload>> {
        let prefix = Key::of(Table::BlobUpload, tenant).into_bytes();
        let all: Vec<Upload> = self.records(&prefix, None, usize::MAX)?;
        Ok(all.into_iter().filter(|u| u.bucket == bucket).collect())
    }

    fn upload_part(
        &self,
        tenant: &TenantId,
        id: &str,
        number: u32,
        body: &mut dyn Read,
        limit: u64,
        quota: u64,
    ) -> Result<Part> {
        if self.upload_get(tenant, id)?.is_none() {
            return Err(Error::Invalid(format!("no upload {id}")));
        }
        let room = self.room(tenant, quota)?;
        let written = self
            .objects()
            .write(tenant, body, limit.min(room))
            .map_err(|e| over_quota(e, room < limit, quota))?;
        let part = Part {
            file: written.id.clone(),
            size: written.size,
            md5: written.md5,
        };
        let key = upload_key(tenant, id);
        // Parts of one upload may arrive at once: the record is swapped, not overwritten.
        loop {
            let Some(current) = self.backend().get(&key)? else {
                self.objects().remove(tenant, &part.file)?;
                return Err(Error::Invalid(format!("no upload {id}")));
            };
            let mut upload: Upload = decode(&current)?;
            let replaced = upload.parts.insert(number, part.clone());
            if self
                .backend()
                .compare_and_swap(&key, Some(&current), Some(encode(&upload)?))?
            {
                self.add_usage(
                    tenant,
                    i128::from(part.size) - replaced.as_ref().map_or(0, |p| i128::from(p.size)),
                )?;
                if let Some(old) = replaced {
                    self.objects().remove(tenant, &old.file)?;
                }
                return Ok(part);
            }
        }
    }

    fn upload_complete(
        &self,
        tenant: &TenantId,
        id: &str,
        numbers: &[u32],
        limit: u64,
        quota: u64,
        now: Millis,
    ) -> Result<ObjectMeta> {
        let upload = self
            .upload_get(tenant, id)?
            .ok_or_else(|| Error::Invalid(format!("no upload {id}")))?;
        let mut files = Vec::with_capacity(numbers.len());
        let mut md5s = Vec::with_capacity(numbers.len() * 16);
        for n in numbers {
            let part = upload
                .parts
                .get(n)
                .ok_or_else(|| Error::Invalid(format!("no part {n}")))?;
            files.push(part.file.clone());
            md5s.extend(unhex(&part.md5));
        }
        // The joined copy needs room until the parts go: count it against the quota.
        let room = self.room(tenant, quota)?;
        let written = self
            .objects()
            .concat(tenant, &files, limit.min(room))
            .map_err(|e| over_quota(e, room < limit, quota))?;
        use md5::Digest as _;
        let etag = format!(
            "{}-{}",
            super::data::hex(&md5::Md5::digest(&md5s)),
            numbers.len()
        );
        let new = NewObject {
            content_type: upload.content_type.clone(),
            metadata: upload.metadata.clone(),
            limit,
            quota,
        };
        let meta = self.settle(
            tenant,
            (&upload.bucket, &upload.key),
            written,
            etag,
            &new,
            now,
        )?;
        self.backend()
            .apply(vec![Write::Delete(upload_key(tenant, id))])?;
        let all_parts: u64 = upload.parts.values().map(|p| p.size).sum();
        self.add_usage(tenant, -i128::from(all_parts))?;
        for part in upload.parts.values() {
            self.objects().remove(tenant, &part.file)?;
        }
        Ok(meta)
    }

    fn upload_abort(&self, tenant: &TenantId, id: &str) -> Result<bool> {
        let Some(upload) = self.upload_get(tenant, id)? else {
            return Ok(false);
        };
        self.backend()
            .apply(vec![Write::Delete(upload_key(tenant, id))])?;
        let size: u64 = upload.parts.values().map(|p| p.size).sum();
        self.add_usage(tenant, -i128::from(size))?;
        for part in upload.parts.values() {
            self.objects().remove(tenant, &part.file)?;
        }
        Ok(true)
    }
}

impl Store {
    /// Removes object files that no object or upload names (a crash between a file's
    /// rename and its metadata, or before a replaced file's removal), of the tenants `only`
    /// picks; the number removed. For recovery, before those tenants' requests are taken
    /// (another server's tenants may be writing objects meanwhile).
    ///
    /// # Errors
    /// When the store or the file system fails.
    pub fn sweep_object_files(&self, only: &dyn Fn(&TenantId) -> bool) -> Result<usize> {
        use super::keys::Reader;
        let mut keep: HashMap<TenantId, HashSet<String>> = HashMap::new();
        for table in [Table::BlobMeta, Table::BlobUpload] {
            let prefix = Key::table(table).into_bytes();
            let mut after: Option<Vec<u8>> = None;
            loop {
                let page = self.backend().scan(&prefix, after.as_deref(), 1000)?;
                let Some((last, _)) = page.last() else {
                    break;
                };
                after = Some(last.clone());
                for (key, bytes) in page {
                    let Some(tenant) = Reader::new(&key).text() else {
                        continue;
                    };
                    let ids = keep.entry(TenantId(tenant)).or_default();
                    match table {
                        Table::BlobMeta => ids.extend(decode::<ObjectMeta>(&bytes)?.file),
                        _ => ids.extend(
                            decode::<Upload>(&bytes)?
                                .parts
                                .into_values()
                                .map(|p| p.file),
                        ),
                    }
                }
            }
        }
        self.objects().sweep(&keep, only)
    }
}

/// A write cut short by its limit is over the quota when the quota, not the object
/// limit, was the smaller.
fn over_quota(e: Error, quota_was_smaller: bool, quota: u64) -> Error {
    match e {
        Error::TooLarge(_) if quota_was_smaller => Error::QuotaExceeded(quota),
        other => other,
    }
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len() / 2)
        .filter_map(|i| {
            text.get(i * 2..i * 2 + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> TenantId {
        TenantId(name.into())
    }

    #[test]
    fn objects_stream_in_and_out_with_metadata_and_quota() {
        for s in crate::store::testing::stores() {
            let a = t("a");
            let meta = s
                .blob_put(&a, "raw", "in/1.csv", b"x,1\n", Some("text/csv"), 5)
                .unwrap();
            assert_eq!((meta.size, meta.etag.len()), (4, 32));
            assert_eq!(
                s.blob_get(&a, "raw", "in/1.csv").unwrap().unwrap(),
                b"x,1\n"
            );
            assert_eq!(s.blob_head(&a, "raw", "in/1.csv").unwrap(), Some(meta));
            assert_eq!(s.blob_list(&a, "raw", "in/", None, 10).unwrap().len(), 1);
            assert_eq!(s.blob_get(&t("b"), "raw", "in/1.csv").unwrap(), None);
            assert_eq!(s.storage_used(&a).unwrap(), 4);
            s.blob_put(&a, "raw", "in/1.csv", b"longer", None, 6)
                .unwrap();
            assert_eq!(
                s.storage_used(&a).unwrap(),
                6,
                "the replaced object's bytes are freed"
            );
            let new = NewObject {
                limit: 100,
                quota: 10,
                ..NewObject::default()
            };
            let over = s.blob_write(&a, "raw", "big", &mut &[0u8; 20][..], &new, 7);
            assert_eq!(over, Err(Error::QuotaExceeded(10)));
            assert!(matches!(
                s.bucket_delete(&a, "raw"),
                Err(Error::ConditionFailed(_))
            ));
            assert!(s.blob_delete(&a, "raw", "in/1.csv").unwrap());
            assert_eq!(s.storage_used(&a).unwrap(), 0);
            assert!(s.bucket_delete(&a, "raw").unwrap());
        }
    }

    #[test]
    fn files_no_object_names_are_swept_at_recovery() {
        for s in crate::store::testing::stores() {
            let a = t("a");
            s.blob_put(&a, "b", "k", b"kept", None, 1).unwrap();
            let new = NewObject {
                limit: 100,
                quota: u64::MAX,
                ..NewObject::default()
            };
            let id = s.upload_create(&a, "b", "big", &new, 1).unwrap();
            s.upload_part(&a, &id, 1, &mut &b"part"[..], 100, u64::MAX)
                .unwrap();
            // What a crash between a file's rename and its metadata leaves.
            s.objects().write(&a, &mut &b"orphan"[..], 100).unwrap();
            assert_eq!(s.sweep_object_files(&|_| true).unwrap(), 1);
            assert_eq!(s.blob_get(&a, "b", "k").unwrap().unwrap(), b"kept");
            assert!(
                s.upload_complete(&a, &id, &[1], 100, u64::MAX, 2).is_ok(),
                "parts are kept"
            );
        }
    }

    #[test]
    fn multipart_uploads_join_their_parts_in_order() {
        for s in crate::store::testing::stores() {
            let a = t("a");
            s.bucket_create(&a, "b", 1).unwrap();
            let new = NewObject {
                limit: 1 << 20,
                ..NewObject::default()
            };
            let id = s.upload_create(&a, "b", "k", &new, 1).unwrap();
            s.upload_part(&a, &id, 2, &mut &b"world"[..], 100, u64::MAX)
                .unwrap();
            s.upload_part(&a, &id, 1, &mut &b"hullo "[..], 100, u64::MAX)
                .unwrap();
            s.upload_part(&a, &id, 1, &mut &b"hello "[..], 100, u64::MAX)
                .unwrap();
            assert_eq!(s.storage_used(&a).unwrap(), 11);
            let meta = s
                .upload_complete(&a, &id, &[1, 2], 100, u64::MAX, 2)
                .unwrap();
            assert!(meta.etag.ends_with("-2"), "{}", meta.etag);
            assert_eq!(s.blob_get(&a, "b", "k").unwrap().unwrap(), b"hello world");
            assert_eq!(s.storage_used(&a).unwrap(), 11);
            assert!(s.upload_get(&a, &id).unwrap().is_none());
            let gone = s.upload_create(&a, "b", "k2", &new, 3).unwrap();
            s.upload_part(&a, &gone, 1, &mut &b"x"[..], 100, u64::MAX)
                .unwrap();
            assert!(s.upload_abort(&a, &gone).unwrap());
            assert_eq!(s.storage_used(&a).unwrap(), 11);
        }
    }
}
