//! `sandstep:host/blob`: objects in buckets, over [`crate::store::Blobs`]: the tenant's S3
//! buckets (one a module writes first is created). Objects pass whole through a module's
//! memory, hence the smaller limit than S3's.

use super::sandstep::host::blob::{Host, ObjectMeta};
use super::{
    check_len, check_limit, check_prefix, now_millis, unavailable, HostError, HostState,
    MAX_KEY_BYTES,
};
use crate::grants::{Access, Resource};
use crate::store::Blobs as _;

/// The largest object, in bytes.
pub const MAX_OBJECT_BYTES: usize = 16 << 20;
/// The longest content type, in bytes.
const MAX_CONTENT_TYPE_BYTES: usize = 256;

fn meta(m: crate::store::ObjectMeta) -> ObjectMeta {
    ObjectMeta {
        key: m.key,
        size: m.size,
        sha256: m.sha256,
        content_type: m.content_type,
        modified_ms: u64::try_from(m.modified).unwrap_or(0),
    }
}

impl Host for HostState {
    #[tracing::instrument(name = "host.blob.put", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn put(
        &mut self,
        bucket: String,
        key: String,
        data: Vec<u8>,
        content_type: Option<String>,
    ) -> wasmtime::Result<Result<ObjectMeta, HostError>> {
        if let Some(denied) = self.denied(Resource::Blob, &bucket, Access::Write) {
            return Ok(Err(denied));
        }
        if data.len() > MAX_OBJECT_BYTES {
            return Ok(Err(HostError::LimitExceeded(format!(
                "the object is {} bytes; the limit is {MAX_OBJECT_BYTES}",
                data.len()
            ))));
        }
        let checked =
            check_len("the key", &key, MAX_KEY_BYTES).and_then(|()| match &content_type {
                Some(t) => check_len("the content type", t, MAX_CONTENT_TYPE_BYTES),
                None => Ok(()),
            });
        Ok(checked.and_then(|()| {
            self.store
                .blob_put(
                    &self.caller.tenant,
                    &bucket,
                    &key,
                    &data,
                    content_type.as_deref(),
                    now_millis(),
                )
                .map(meta)
                .map_err(unavailable)
        }))
    }

    #[tracing::instrument(name = "host.blob.get", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn get(
        &mut self,
        bucket: String,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, HostError>> {
        if let Some(denied) = self.denied(Resource::Blob, &bucket, Access::Read) {
            return Ok(Err(denied));
        }
        Ok(check_len("the key", &key, MAX_KEY_BYTES).and_then(|()| {
            self.store
                .blob_get(&self.caller.tenant, &bucket, &key)
                .map_err(unavailable)
        }))
    }

    #[tracing::instrument(name = "host.blob.head", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn head(
        &mut self,
        bucket: String,
        key: String,
    ) -> wasmtime::Result<Result<Option<ObjectMeta>, HostError>> {
        if let Some(denied) = self.denied(Resource::Blob, &bucket, Access::Read) {
            return Ok(Err(denied));
        }
        Ok(check_len("the key", &key, MAX_KEY_BYTES).and_then(|()| {
            self.store
                .blob_head(&self.caller.tenant, &bucket, &key)
                .map(|m| m.map(meta))
                .map_err(unavailable)
        }))
    }

    #[tracing::instrument(name = "host.blob.list", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn list(
        &mut self,
        bucket: String,
        prefix: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<ObjectMeta>, HostError>> {
        if let Some(denied) = self.denied(Resource::Blob, &bucket, Access::Read) {
            return Ok(Err(denied));
        }
        Ok(check_prefix(&prefix)
            .and_then(|()| check_limit(limit))
            .and_then(|limit| {
                self.store
                    .blob_list(&self.caller.tenant, &bucket, &prefix, None, limit)
                    .map(|all| all.into_iter().map(meta).collect())
                    .map_err(unavailable)
            }))
    }

    #[tracing::instrument(name = "host.blob.delete", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn delete(&mut self, bucket: String, key: String) -> wasmtime::Result<Result<bool, HostError>> {
        if let Some(denied) = self.denied(Resource::Blob, &bucket, Access::Write) {
            return Ok(Err(denied));
        }
        Ok(check_len("the key", &key, MAX_KEY_BYTES).and_then(|()| {
            self.store
                .blob_delete(&self.caller.tenant, &bucket, &key)
                .map_err(unavailable)
        }))
    }
}
