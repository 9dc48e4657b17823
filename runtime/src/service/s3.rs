//! The tenant's S3 buckets from outside a workflow: the S3 API's operations (`aws s3 ...`,
//! the AWS SDKs), answered by the same code as the `aws-sdk:s3:` integrations
//! (`crate::s3`). Bodies stream: an upload's bytes go from the connection to the object
//! file through a bounded channel (never a whole object in memory), and a download's come
//! back the same way, in 256 KiB chunks. A change is answered once it survives a crash.

use crate::clock::Clock;
use crate::eventbridge::envelope;
use crate::s3::{Error, Listing, Tenant};
use crate::store::blobs::{Body, BucketDef, ObjectMeta};
use crate::store::Blobs as _;
use crate::store::Store;
use crate::tenants::Tenant as Caller;
use axum::body::Bytes;
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Seek as _, SeekFrom};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Chunks in flight between the connection and the file.
const CHANNEL_CHUNKS: usize = 8;
/// Bytes per chunk of a download.
const DOWNLOAD_CHUNK: usize = 256 * 1024;

/// S3's operations on the tenants' buckets.
#[derive(Debug, Clone)]
pub struct S3 {
    store: Store,
    clock: Arc<dyn Clock>,
    max_object: u64,
    /// Where buckets with EventBridge notifications on send their changes.
    events: Option<super::Events>,
}

/// An upload's bytes as they arrive, and what they must hash to.
#[derive(Debug)]
pub struct Upload {
    /// Chunks of the body, decoded (no `aws-chunked` framing); an `Err` ends the upload.
    pub chunks: mpsc::Receiver<Result<Bytes, String>>,
    /// The SHA-256 the signature covers (`x-amz-content-sha256`), when declared.
    pub sha256: Option<String>,
}

/// Reads an upload's chunks on a blocking thread, hashing them to check the declared
/// SHA-256 at the end; a mismatch fails the read, so the file is never put in place.
struct ChannelReader {
    chunks: mpsc::Receiver<Result<Bytes, String>>,
    current: Bytes,
    hash: Option<(Sha256, String)>,
    mismatch: Arc<AtomicBool>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                Some(Ok(chunk)) => {
                    if let Some((h, _)) = &mut self.hash {
                        h.update(&chunk);
                    }
                    self.current = chunk;
                }
                Some(Err(e)) => return Err(std::io::Error::other(e)),
                None => {
                    if let Some((h, want)) = self.hash.take() {
                        let got = crate::store::data::hex(&h.finalize());
                        if !got.eq_ignore_ascii_case(&want) {
                            self.mismatch.store(true, Ordering::SeqCst);
                            return Err(std::io::Error::other("the body's SHA-256 differs"));
                        }
                    }
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len());
        let chunk = self.current.split_to(n);
        if let Some(dst) = buf.get_mut(..n) {
            dst.copy_from_slice(&chunk);
        }
        Ok(n)
    }
}

impl Upload {
    fn reader(self) -> (ChannelReader, Arc<AtomicBool>) {
        let mismatch = Arc::new(AtomicBool::new(false));
        let reader = ChannelReader {
            chunks: self.chunks,
            current: Bytes::new(),
            hash: self.sha256.map(|want| (Sha256::new(), want)),
            mismatch: Arc::clone(&mismatch),
        };
        (reader, mismatch)
    }
}

/// The sending end of an upload's channel.
pub type UploadSender = mpsc::Sender<Result<Bytes, String>>;

/// The channel an upload's body is sent into.
pub fn upload_channel() -> (UploadSender, mpsc::Receiver<Result<Bytes, String>>) {
    mpsc::channel(CHANNEL_CHUNKS)
}

/// A download: the object's metadata, the byte range sent, and its chunks.
#[derive(Debug)]
pub struct Download {
    /// The object.
    pub meta: ObjectMeta,
    /// The first and last byte sent (inclusive), when a range was asked for.
    pub range: Option<(u64, u64)>,
    /// The bytes, in chunks.
    pub chunks: mpsc::Receiver<Result<Bytes, std::io::Error>>,
}

fn bad_digest() -> Error {
    Error {
        code: "XAmzContentSHA256Mismatch",
        message: "The provided 'x-amz-content-sha256' header does not match what was computed."
            .into(),
        status: 400,
    }
}

fn lost(e: &tokio::task::JoinError) -> Error {
    Error {
        code: "InternalError",
        message: format!("the call was lost: {e}"),
        status: 500,
    }
}

impl S3 {
    /// The buckets in `store`; objects of at most `max_object` bytes.
    pub fn new(store: Store, clock: Arc<dyn Clock>, max_object: u64) -> S3 {
        S3 {
            store,
            clock,
            max_object,
            events: None,
        }
    }

    /// The same, telling `events` of changes in buckets with EventBridge notifications on.
    pub fn notifying(self, events: super::Events) -> S3 {
        S3 {
            events: Some(events),
            ..self
        }
    }

    /// Tells the tenant's default bus that `key` in `bucket` was created (with its
    /// metadata) or deleted, when the bucket's EventBridge notifications are on. Best
    /// effort, as S3's notifications are: a failure is logged.
    async fn notify(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
        created: Option<&ObjectMeta>,
        reason: &str,
    ) {
        let Some(events) = &self.events else {
            return;
        };
        match self.store.bucket_get(&caller.id, bucket) {
            Ok(Some(def)) if def.event_bridge => {}
            Ok(_) => return,
            Err(e) => return tracing::warn!(error = %e, "S3 event not sent"),
        }
        let now = self.clock.now();
        let request_id = sandstep_engine::rng::Rng::new(self.clock.entropy()).uuid();
        let change = envelope::ObjectChange {
            bucket,
            key,
            created: created.map(|m| (m.size, m.etag.as_str())),
            reason,
            sequencer: now,
            request_id: &request_id,
        };
        let what = super::events::ServiceEvent {
            source: envelope::S3_SOURCE,
            detail_type: if created.is_some() {
                envelope::OBJECT_CREATED
            } else {
                envelope::OBJECT_DELETED
            },
            resources: vec![format!("arn:aws:s3:::{bucket}")],
            time: now,
        };
        events
            .service_event(&caller.id, what, |account| {
                envelope::s3_detail(&change, account)
            })
            .await;
    }

    /// `PutBucketNotificationConfiguration` with (`on`) or without an
    /// `EventBridgeConfiguration`.
    ///
    /// # Errors
    /// `NoSuchBucket`.
    pub async fn set_event_bridge(
        &self,
        caller: &Caller,
        bucket: &str,
        on: bool,
    ) -> Result<(), Error> {
        let (store, id, b) = (self.store.clone(), caller.id.clone(), bucket.to_string());
        let found = tokio::task::spawn_blocking(move || store.bucket_set_event_bridge(&id, &b, on))
            .await
            .map_err(|e| lost(&e))??;
        if !found {
            return Err(Error::no_bucket());
        }
        self.durable().await
    }

    /// Runs `work` on the caller's buckets on a blocking thread.
    async fn on_store<T: Send + 'static>(
        &self,
        caller: &Caller,
        work: impl FnOnce(&Tenant<'_>) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let (store, now, max_object) = (self.store.clone(), self.clock.now(), self.max_object);
        let (id, account) = (caller.id.clone(), caller.account.clone());
        tokio::task::spawn_blocking(move || {
            work(&Tenant {
                store: &store,
                tenant: &id,
                account: &account,
                max_object,
                now,
            })
        })
        .await
        .map_err(|e| lost(&e))?
    }

    /// Waits until what was written survives a crash.
    async fn durable(&self) -> Result<(), Error> {
        self.store.durable_later()?.wait().await?;
        Ok(())
    }

    /// `CreateBucket`.
    ///
    /// # Errors
    /// S3's errors.
    pub async fn create_bucket(&self, caller: &Caller, bucket: &str) -> Result<(), Error> {
        let b = bucket.to_string();
        self.on_store(caller, move |t| t.create_bucket(&b)).await?;
        self.durable().await
    }

    /// `DeleteBucket`.
    ///
    /// # Errors
    /// S3's errors.
    pub async fn delete_bucket(&self, caller: &Caller, bucket: &str) -> Result<(), Error> {
        let b = bucket.to_string();
        self.on_store(caller, move |t| t.delete_bucket(&b)).await?;
        self.durable().await
    }

    /// `HeadBucket`.
    ///
    /// # Errors
    /// `NoSuchBucket`.
    pub async fn head_bucket(&self, caller: &Caller, bucket: &str) -> Result<BucketDef, Error> {
        let b = bucket.to_string();
        self.on_store(caller, move |t| t.head_bucket(&b)).await
    }

    /// `ListBuckets`.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn list_buckets(&self, caller: &Caller) -> Result<Vec<BucketDef>, Error> {
        self.on_store(caller, |t| t.list_buckets()).await
    }

    /// `ListObjectsV2` (and v1): a page.
    ///
    /// # Errors
    /// `NoSuchBucket`.
    pub async fn list_objects(
        &self,
        caller: &Caller,
        bucket: &str,
        prefix: &str,
        delimiter: Option<String>,
        after: Option<String>,
        max_keys: usize,
    ) -> Result<Listing, Error> {
        let (b, p) = (bucket.to_string(), prefix.to_string());
        self.on_store(caller, move |t| {
            t.list_objects(&b, &p, delimiter.as_deref(), after.as_deref(), max_keys)
        })
        .await
    }

    /// `PutObject`: streams `upload` into the object.
    ///
    /// # Errors
    /// S3's errors; `XAmzContentSHA256Mismatch` when the bytes are not what was signed.
    pub async fn put_object(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
        upload: Upload,
        content_type: Option<String>,
        metadata: BTreeMap<String, String>,
    ) -> Result<ObjectMeta, Error> {
        let (b, k) = (bucket.to_string(), key.to_string());
        let (mut reader, mismatch) = upload.reader();
        let written = self
            .on_store(caller, move |t| {
                t.put_object(&b, &k, &mut reader, content_type, metadata)
            })
            .await;
        if mismatch.load(Ordering::SeqCst) {
            return Err(bad_digest());
        }
        let meta = written?;
        self.durable().await?;
        self.notify(caller, bucket, key, Some(&meta), "PutObject")
            .await;
        Ok(meta)
    }

    /// `CopyObject`.
    ///
    /// # Errors
    /// S3's errors.
    pub async fn copy_object(
        &self,
        caller: &Caller,
        from: (String, String),
        to: (String, String),
        replace: Option<(Option<String>, BTreeMap<String, String>)>,
    ) -> Result<ObjectMeta, Error> {
        let (bucket, key) = to.clone();
        let meta = self
            .on_store(caller, move |t| {
                t.copy_object((&from.0, &from.1), (&to.0, &to.1), replace)
            })
            .await?;
        self.durable().await?;
        self.notify(caller, &bucket, &key, Some(&meta), "CopyObject")
            .await;
        Ok(meta)
    }

    /// `HeadObject`.
    ///
    /// # Errors
    /// `NoSuchBucket`, `NoSuchKey`.
    pub async fn head_object(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
    ) -> Result<ObjectMeta, Error> {
        let (b, k) = (bucket.to_string(), key.to_string());
        self.on_store(caller, move |t| t.head_object(&b, &k)).await
    }

    /// `GetObject`, whole or the inclusive byte range `range` (`(start, end)`, `end`
    /// `None` for the rest; a suffix range is `(None, Some(n))`, the last `n` bytes).
    ///
    /// # Errors
    /// `NoSuchBucket`, `NoSuchKey`, `InvalidRange`.
    pub async fn get_object(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
        range: Option<(Option<u64>, Option<u64>)>,
    ) -> Result<Download, Error> {
        let (b, k) = (bucket.to_string(), key.to_string());
        let (meta, body) = self.on_store(caller, move |t| t.get_object(&b, &k)).await?;
        let size = meta.size;
        let span = match range {
            None => None,
            Some(r) => Some(resolve_range(r, size)?),
        };
        let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
        let (start, end) = span.unwrap_or((0, size.saturating_sub(1)));
        let length = match size {
            0 => 0,
            _ => end - start + 1,
        };
        tokio::task::spawn_blocking(move || stream_file(body, start, length, &tx));
        Ok(Download {
            meta,
            range: span,
            chunks: rx,
        })
    }

    /// `DeleteObject`.
    ///
    /// # Errors
    /// `NoSuchBucket`.
    pub async fn delete_object(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
    ) -> Result<(), Error> {
        let (b, k) = (bucket.to_string(), key.to_string());
        self.on_store(caller, move |t| t.delete_object(&b, &k))
            .await?;
        self.durable().await?;
        self.notify(caller, bucket, key, None, "DeleteObject").await;
        Ok(())
    }

    /// `DeleteObjects`: each key's outcome (`None`: deleted).
    ///
    /// # Errors
    /// `NoSuchBucket`.
    pub async fn delete_objects(
        &self,
        caller: &Caller,
        bucket: &str,
        keys: Vec<String>,
    ) -> Result<Vec<(String, Option<Error>)>, Error> {
        let b = bucket.to_string();
        let outcomes: Vec<(String, Option<Error>)> = self
            .on_store(caller, move |t| {
                t.head_bucket(&b)?;
                Ok(keys
                    .into_iter()
                    .map(|k| {
                        let outcome = t.delete_object(&b, &k).err();
                        (k, outcome)
                    })
                    .collect())
            })
            .await?;
        self.durable().await?;
        for (key, outcome) in &outcomes {
            if outcome.is_none() {
                self.notify(caller, bucket, key, None, "DeleteObjects")
                    .await;
            }
        }
        Ok(outcomes)
    }

    /// `CreateMultipartUpload`: the upload id.
    ///
    /// # Errors
    /// `NoSuchBucket`.
    pub async fn create_upload(
        &self,
        caller: &Caller,
        bucket: &str,
        key: &str,
        content_type: Option<String>,
        metadata: BTreeMap<String, String>,
    ) -> Result<String, Error> {
        let (b, k) = (bucket.to_string(), key.to_string());
        let id = self
            .on_store(caller, move |t| {
                t.create_upload(&b, &k, content_type, metadata)
            })
            .await?;
        self.durable().await?;
        Ok(id)
    }

    /// `UploadPart`: the part's ETag.
    ///
    /// # Errors
    /// `NoSuchUpload`, `InvalidArgument`, as `PutObject`.
    pub async fn upload_part(
        &self,
        caller: &Caller,
        target: (&str, &str, &str),
        number: u32,
        upload: Upload,
    ) -> Result<String, Error> {
        let (b, k, id) = (
            target.0.to_string(),
            target.1.to_string(),
            target.2.to_string(),
        );
        let (mut reader, mismatch) = upload.reader();
        let written = self
            .on_store(caller, move |t| {
                t.upload_part(&b, &k, &id, number, &mut reader)
            })
            .await;
        if mismatch.load(Ordering::SeqCst) {
            return Err(bad_digest());
        }
        let etag = written?;
        self.durable().await?;
        Ok(etag)
    }

    /// `CompleteMultipartUpload`.
    ///
    /// # Errors
    /// `NoSuchUpload`, `InvalidPart`, `InvalidPartOrder`, `EntityTooSmall`.
    pub async fn complete_upload(
        &self,
        caller: &Caller,
        target: (&str, &str, &str),
        parts: Vec<(u32, String)>,
    ) -> Result<ObjectMeta, Error> {
        let (b, k, id) = (
            target.0.to_string(),
            target.1.to_string(),
            target.2.to_string(),
        );
        let meta = self
            .on_store(caller, move |t| t.complete_upload(&b, &k, &id, &parts))
            .await?;
        self.durable().await?;
        self.notify(
            caller,
            target.0,
            target.1,
            Some(&meta),
            "CompleteMultipartUpload",
        )
        .await;
        Ok(meta)
    }

    /// `AbortMultipartUpload`.
    ///
    /// # Errors
    /// `NoSuchUpload`.
    pub async fn abort_upload(
        &self,
        caller: &Caller,
        target: (&str, &str, &str),
    ) -> Result<(), Error> {
        let (b, k, id) = (
            target.0.to_string(),
            target.1.to_string(),
            target.2.to_string(),
        );
        self.on_store(caller, move |t| t.abort_upload(&b, &k, &id))
            .await?;
        self.durable().await
    }
}

/// A range request against an object of `size` bytes, as the first and last byte.
fn resolve_range(range: (Option<u64>, Option<u64>), size: u64) -> Result<(u64, u64), Error> {
    let invalid = || Error {
        code: "InvalidRange",
        message: "The requested range is not satisfiable".into(),
        status: 416,
    };
    let last = size.checked_sub(1).ok_or_else(invalid)?;
    match range {
        (Some(start), end) if start <= last => {
            let end = end.map_or(last, |e| e.min(last));
            match end >= start {
                true => Ok((start, end)),
                false => Err(invalid()),
            }
        }
        (None, Some(suffix)) if suffix > 0 => Ok((size.saturating_sub(suffix), last)),
        _ => Err(invalid()),
    }
}

/// Sends `length` bytes of `body` from `start`, in chunks, until done or the receiver
/// hangs up.
fn stream_file(
    mut body: Box<dyn Body>,
    start: u64,
    length: u64,
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
) {
    if let Err(e) = body.seek(SeekFrom::Start(start)) {
        let _ = tx.blocking_send(Err(e));
        return;
    }
    let mut left = length;
    let mut buf = vec![0u8; DOWNLOAD_CHUNK];
    while left > 0 {
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(buf.len());
        let Some(slot) = buf.get_mut(..want) else {
            return;
        };
        match body.read(slot) {
            Ok(0) => {
                let _ = tx.blocking_send(Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "the object's file is shorter than its metadata says",
                )));
                return;
            }
            Ok(n) => {
                left -= n as u64;
                let chunk = Bytes::copy_from_slice(buf.get(..n).unwrap_or_default());
                if tx.blocking_send(Ok(chunk)).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_resolve_as_http_says() {
        assert_eq!(resolve_range((Some(0), Some(9)), 100).unwrap(), (0, 9));
        assert_eq!(resolve_range((Some(90), None), 100).unwrap(), (90, 99));
        assert_eq!(resolve_range((Some(90), Some(500)), 100).unwrap(), (90, 99));
        assert_eq!(resolve_range((None, Some(10)), 100).unwrap(), (90, 99));
        assert_eq!(
            resolve_range((Some(100), None), 100).unwrap_err().status,
            416
        );
        assert_eq!(resolve_range((Some(0), None), 0).unwrap_err().status, 416);
    }
}
