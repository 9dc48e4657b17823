//! S3 on the tenant's buckets: bucket and object operations with S3's rules and error
//! codes, over the store's [`Blobs`] (object bytes in files, streamed). The S3 REST API
//! (`api/s3.rs`, through `service::s3`) and the `aws-sdk:s3:` Task integrations
//! ([`Tenant::call`], S3's request and response fields as JSON) both run here.

use crate::store::blobs::{Body, BucketDef, NewObject, ObjectMeta, Upload};
use crate::store::{Blobs as _, Store, TenantId};
use sandstep_engine::timestamp::format_millis;
use sandstep_engine::Millis;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;
use std::io::Read;

/// An S3 operation's failure, named as S3 names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// S3's error code (`NoSuchKey`, ...).
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
    /// The HTTP status S3 answers with.
    pub status: u16,
}

impl Error {
    /// An error with S3's code, status and message.
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            status,
        }
    }

    /// A bucket that is not there.
    pub fn no_bucket() -> Error {
        Error::new("NoSuchBucket", 404, "The specified bucket does not exist")
    }

    /// A key that is not there.
    pub fn no_key() -> Error {
        Error::new("NoSuchKey", 404, "The specified key does not exist.")
    }

    /// A request argument S3 would refuse.
    pub fn invalid(message: impl Into<String>) -> Error {
        Error::new("InvalidArgument", 400, message)
    }

    /// Whether the server, not the caller, failed.
    pub fn internal(&self) -> bool {
        self.status >= 500
    }
}

impl From<crate::store::Error> for Error {
    fn from(e: crate::store::Error) -> Error {
        use crate::store::Error as S;
        match e {
            S::TooLarge(limit) => Error::new(
                "EntityTooLarge",
                400,
                format!("Your proposed upload exceeds the maximum allowed size of {limit} bytes"),
            ),
            S::QuotaExceeded(quota) => Error::new(
                "QuotaExceeded",
                403,
                format!("The upload would take this account's stored bytes past its quota of {quota} bytes"),
            ),
            S::ConditionFailed(why) => Error::new("BucketNotEmpty", 409, why),
            S::Invalid(why) => Error::invalid(why),
            S::Unavailable(why) => Error::new("ServiceUnavailable", 503, why),
            other => Error::new("InternalError", 500, other.to_string()),
        }
    }
}

type Result<T> = std::result::Result<T, Error>;

/// The largest object by default (S3's: 5 GiB for one PUT).
pub const DEFAULT_MAX_OBJECT_BYTES: u64 = 5 << 30;
/// The most keys a listing answers (S3: 1000).
const MAX_KEYS: usize = 1000;
/// The largest object `getObject` hands a workflow (a state's result is 256 KiB at most).
const MAX_TASK_BODY: u64 = 256 * 1024;
/// The smallest part but the last of a multipart upload (S3: 5 MiB).
pub const MIN_PART_BYTES: u64 = 5 << 20;
/// The highest part number (S3: 10,000).
pub const MAX_PART_NUMBER: u32 = 10_000;
/// Names a bucket may not have: the server's own paths.
const RESERVED: [&str; 4] = ["console", "healthz", "metrics", "hooks"];

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The objects.
    pub contents: Vec<ObjectMeta>,
    /// The prefixes rolled up at the delimiter.
    pub common_prefixes: Vec<String>,
    /// Where the next page starts, if there is one.
    pub next: Option<String>,
}

/// The buckets of one tenant, as one caller sees them.
pub struct Tenant<'a> {
    /// Where the buckets are.
    pub store: &'a Store,
    /// Whose buckets.
    pub tenant: &'a TenantId,
    /// For ARNs and `Owner`.
    pub account: &'a str,
    /// The largest object, in bytes.
    pub max_object: u64,
    /// Now (epoch ms).
    pub now: Millis,
}

impl std::fmt::Debug for Tenant<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// S3's rules for bucket names (3 to 63 lower-case letters, digits, dots and hyphens,
/// starting and ending with a letter or digit), and the names Sandstep keeps for itself.
///
/// # Errors
/// `InvalidBucketName`.
pub fn check_bucket_name(name: &str) -> Result<()> {
    let bytes = name.as_bytes();
    let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let valid = (3..=63).contains(&name.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-')
        && edge(bytes.first())
        && edge(bytes.last())
        && !name.contains("..");
    if !valid {
        return Err(Error::new(
            "InvalidBucketName",
            400,
            "The specified bucket is not valid.",
        ));
    }
    if RESERVED.contains(&name) {
        return Err(Error::new(
            "InvalidBucketName",
            400,
            format!("The bucket name {name} is reserved by Sandstep for its own paths."),
        ));
    }
    Ok(())
}

/// S3's rule for keys: 1 to 1024 bytes.
///
/// # Errors
/// `KeyTooLongError`, `InvalidArgument`.
pub fn check_key(key: &str) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid("The key must not be empty."));
    }
    if key.len() > 1024 {
        return Err(Error::new("KeyTooLongError", 400, "Your key is too long"));
    }
    Ok(())
}

impl Tenant<'_> {
    fn bucket(&self, name: &str) -> Result<BucketDef> {
        self.store
            .bucket_get(self.tenant, name)?
            .ok_or_else(Error::no_bucket)
    }

    fn quota(&self) -> Result<u64> {
        Ok(self.store.storage_quota(self.tenant)?)
    }

    /// Creates a bucket.
    ///
    /// # Errors
    /// `InvalidBucketName`, `BucketAlreadyOwnedByYou`.
    pub fn create_bucket(&self, name: &str) -> Result<()> {
        check_bucket_name(name)?;
        if !self.store.bucket_create(self.tenant, name, self.now)? {
            return Err(Error::new(
                "BucketAlreadyOwnedByYou",
                409,
                "Your previous request to create the named bucket succeeded and you already own it.",
            ));
        }
        Ok(())
    }

    /// Deletes an empty bucket.
    ///
    /// # Errors
    /// `NoSuchBucket`, `BucketNotEmpty`.
    pub fn delete_bucket(&self, name: &str) -> Result<()> {
        match self.store.bucket_delete(self.tenant, name) {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::no_bucket()),
            Err(crate::store::Error::ConditionFailed(_)) => Err(Error::new(
                "BucketNotEmpty",
                409,
                "The bucket you tried to delete is not empty",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the bucket exists.
    ///
    /// # Errors
    /// `NoSuchBucket`.
    pub fn head_bucket(&self, name: &str) -> Result<BucketDef> {
        self.bucket(name)
    }

    /// The tenant's buckets.
    ///
    /// # Errors
    /// When the store fails.
    pub fn list_buckets(&self) -> Result<Vec<BucketDef>> {
        Ok(self.store.bucket_list(self.tenant)?)
    }

    /// Streams `body` into `bucket/key`.
    ///
    /// # Errors
    /// `NoSuchBucket`, `EntityTooLarge`, `QuotaExceeded`.
    pub fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: &mut dyn Read,
        content_type: Option<String>,
        metadata: BTreeMap<String, String>,
    ) -> Result<ObjectMeta> {
        check_key(key)?;
        self.bucket(bucket)?;
        let new = NewObject {
            content_type,
            metadata,
            limit: self.max_object,
            quota: self.quota()?,
        };
        Ok(self
            .store
            .blob_write(self.tenant, bucket, key, body, &new, self.now)?)
    }

    /// An object's metadata and bytes.
    ///
    /// # Errors
    /// `NoSuchBucket`, `NoSuchKey`.
    pub fn get_object(&self, bucket: &str, key: &str) -> Result<(ObjectMeta, Box<dyn Body>)> {
        self.bucket(bucket)?;
        self.store
            .blob_open(self.tenant, bucket, key)?
            .ok_or_else(Error::no_key)
    }

    /// An object's metadata.
    ///
    /// # Errors
    /// `NoSuchBucket`, `NoSuchKey`.
    pub fn head_object(&self, bucket: &str, key: &str) -> Result<ObjectMeta> {
        self.bucket(bucket)?;
        self.store
            .blob_head(self.tenant, bucket, key)?
            .ok_or_else(Error::no_key)
    }

    /// Deletes an object (absent is fine, as S3).
    ///
    /// # Errors
    /// `NoSuchBucket`.
    pub fn delete_object(&self, bucket: &str, key: &str) -> Result<()> {
        self.bucket(bucket)?;
        self.store.blob_delete(self.tenant, bucket, key)?;
        Ok(())
    }

    /// Copies an object (its metadata too unless `replace` gives new).
    ///
    /// # Errors
    /// `NoSuchBucket`, `NoSuchKey`, `EntityTooLarge`, `QuotaExceeded`.
    pub fn copy_object(
        &self,
        from: (&str, &str),
        to: (&str, &str),
        replace: Option<(Option<String>, BTreeMap<String, String>)>,
    ) -> Result<ObjectMeta> {
        let (meta, mut body) = self.get_object(from.0, from.1)?;
        let (content_type, metadata) = replace.unwrap_or((meta.content_type, meta.metadata));
        self.put_object(to.0, to.1, &mut body, content_type, metadata)
    }

    /// A page of `bucket`'s keys under `prefix`, rolled up at `delimiter`, after `after`.
    ///
    /// # Errors
    /// `NoSuchBucket`.
    pub fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        after: Option<&str>,
        max_keys: usize,
    ) -> Result<Listing> {
        self.bucket(bucket)?;
        let max_keys = max_keys.min(MAX_KEYS);
        let mut listing = Listing {
            contents: Vec::new(),
            common_prefixes: Vec::new(),
            next: None,
        };
        let mut cursor = after.map(str::to_string);
        let delimiter = delimiter.filter(|d| !d.is_empty());
        loop {
            let page =
                self.store
                    .blob_list(self.tenant, bucket, prefix, cursor.as_deref(), 1000)?;
            let Some(last) = page.last() else {
                return Ok(listing);
            };
            cursor = Some(last.key.clone());
            for meta in page {
                let rolled = delimiter.and_then(|d| {
                    let rest = meta.key.get(prefix.len()..)?;
                    rest.find(d)
                        .map(|at| format!("{prefix}{}", rest.get(..at + d.len()).unwrap_or("")))
                });
                let (entry_key, is_new) = match &rolled {
                    Some(p) => (p.clone(), listing.common_prefixes.last() != Some(p)),
                    None => (meta.key.clone(), true),
                };
                if !is_new {
                    continue;
                }
                if listing.contents.len() + listing.common_prefixes.len() >= max_keys {
                    // The page is full; the next starts after the last entry it holds.
                    listing.next = last_entry(&listing);
                    return Ok(listing);
                }
                match rolled {
                    Some(_) => listing.common_prefixes.push(entry_key),
                    None => listing.contents.push(meta),
                }
            }
            // A prefix rolled up continues past all its keys.
            if let Some(p) = listing.common_prefixes.last() {
                if cursor.as_deref().is_some_and(|c| c.starts_with(p.as_str())) {
                    cursor = Some(format!("{p}\u{10FFFF}"));
                }
            }
        }
    }

    /// Begins a multipart upload.
    ///
    /// # Errors
    /// `NoSuchBucket`.
    pub fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        content_type: Option<String>,
        metadata: BTreeMap<String, String>,
    ) -> Result<String> {
        check_key(key)?;
        self.bucket(bucket)?;
        let new = NewObject {
            content_type,
            metadata,
            limit: self.max_object,
            quota: u64::MAX,
        };
        Ok(self
            .store
            .upload_create(self.tenant, bucket, key, &new, self.now)?)
    }

    fn upload(&self, bucket: &str, key: &str, id: &str) -> Result<Upload> {
        self.store
            .upload_get(self.tenant, id)?
            .filter(|u| u.bucket == bucket && u.key == key)
            .ok_or_else(|| {
                Error::new(
                    "NoSuchUpload",
                    404,
                    "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
                )
            })
    }

    /// Streams one part; its ETag (hex MD5).
    ///
    /// # Errors
    /// `NoSuchUpload`, `InvalidArgument` for a part number outside 1 to 10,000.
    pub fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
        number: u32,
        body: &mut dyn Read,
    ) -> Result<String> {
        if !(1..=MAX_PART_NUMBER).contains(&number) {
            return Err(Error::invalid(
                "Part number must be an integer between 1 and 10000, inclusive",
            ));
        }
        self.upload(bucket, key, id)?;
        let quota = self.quota()?;
        let part = self
            .store
            .upload_part(self.tenant, id, number, body, self.max_object, quota)?;
        Ok(part.md5)
    }

    /// Joins the listed parts (number and ETag, ascending) into the object.
    ///
    /// # Errors
    /// `NoSuchUpload`, `InvalidPart`, `InvalidPartOrder`, `EntityTooSmall`.
    pub fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        id: &str,
        parts: &[(u32, String)],
    ) -> Result<ObjectMeta> {
        let upload = self.upload(bucket, key, id)?;
        if parts.is_empty() {
            return Err(Error::new(
                "MalformedXML",
                400,
                "The XML you provided was not well-formed or did not validate against our published schema",
            ));
        }
        if parts.windows(2).any(|w| matches!(w, [a, b] if a.0 >= b.0)) {
            return Err(Error::new(
                "InvalidPartOrder",
                400,
                "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
            ));
        }
        let invalid_part = || {
            Error::new(
                "InvalidPart",
                400,
                "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            )
        };
        for (i, (n, etag)) in parts.iter().enumerate() {
            let part = upload.parts.get(n).ok_or_else(invalid_part)?;
            if etag.trim_matches('"') != part.md5 {
                return Err(invalid_part());
            }
            if i + 1 < parts.len() && part.size < MIN_PART_BYTES {
                return Err(Error::new(
                    "EntityTooSmall",
                    400,
                    "Your proposed upload is smaller than the minimum allowed object size.",
                ));
            }
        }
        let numbers: Vec<u32> = parts.iter().map(|(n, _)| *n).collect();
        let quota = self.quota()?;
        Ok(self.store.upload_complete(
            self.tenant,
            id,
            &numbers,
            self.max_object,
            quota,
            self.now,
        )?)
    }

    /// Ends an upload without an object.
    ///
    /// # Errors
    /// `NoSuchUpload`.
    pub fn abort_upload(&self, bucket: &str, key: &str, id: &str) -> Result<()> {
        self.upload(bucket, key, id)?;
        self.store.upload_abort(self.tenant, id)?;
        Ok(())
    }

    /// Runs an `aws-sdk:s3:` action (`getObject`, either case) with S3's request fields
    /// as JSON; S3's response fields as JSON.
    ///
    /// # Errors
    /// S3's error for the action; `NotImplemented` for one Sandstep does not offer.
    pub fn call(&self, action: &str, request: &Json) -> Result<Json> {
        let r = Request(request);
        match action.to_ascii_lowercase().as_str() {
            "createbucket" => {
                let bucket = r.text("Bucket")?;
                self.create_bucket(bucket)?;
                Ok(json!({"Location": format!("/{bucket}")}))
            }
            "deletebucket" => {
                self.delete_bucket(r.text("Bucket")?)?;
                Ok(json!({}))
            }
            "headbucket" => {
                self.head_bucket(r.text("Bucket")?)?;
                Ok(json!({}))
            }
            "listbuckets" => {
                let buckets: Vec<Json> = self
                    .list_buckets()?
                    .iter()
                    .map(|b| json!({"Name": b.name, "CreationDate": format_millis(b.created)}))
                    .collect();
                Ok(json!({"Buckets": buckets, "Owner": {"ID": self.account, "DisplayName": self.account}}))
            }
            "putobject" => {
                let body = match request.get("Body") {
                    Some(Json::String(s)) => s.clone(),
                    Some(Json::Null) | None => String::new(),
                    // The JSON a workflow passes is stored as its text.
                    Some(other) => other.to_string(),
                };
                let meta = self.put_object(
                    r.text("Bucket")?,
                    r.text("Key")?,
                    &mut body.as_bytes(),
                    r.optional("ContentType"),
                    r.metadata(),
                )?;
                Ok(json!({"ETag": quoted(&meta.etag)}))
            }
            "getobject" => {
                let (meta, mut body) = self.get_object(r.text("Bucket")?, r.text("Key")?)?;
                if meta.size > MAX_TASK_BODY {
                    return Err(Error::new(
                        "EntityTooLarge",
                        400,
                        format!("The object is {} bytes; a workflow reads objects of at most {MAX_TASK_BODY} bytes through getObject (a state's result is limited to 256 KiB)", meta.size),
                    ));
                }
                let mut bytes = Vec::new();
                body.read_to_end(&mut bytes)
                    .map_err(|e| Error::new("InternalError", 500, e.to_string()))?;
                let mut out = object_fields(&meta);
                if let Some(o) = out.as_object_mut() {
                    o.insert("Body".into(), json!(String::from_utf8_lossy(&bytes)));
                }
                Ok(out)
            }
            "headobject" => {
                let meta = self.head_object(r.text("Bucket")?, r.text("Key")?)?;
                Ok(object_fields(&meta))
            }
            "deleteobject" => {
                self.delete_object(r.text("Bucket")?, r.text("Key")?)?;
                Ok(json!({}))
            }
            "deleteobjects" => self.delete_objects(&r),
            "copyobject" => {
                let source = r.text("CopySource")?;
                let (from_bucket, from_key) = parse_copy_source(source)?;
                let replace = match request.get("MetadataDirective").and_then(Json::as_str) {
                    Some("REPLACE") => Some((r.optional("ContentType"), r.metadata())),
                    _ => None,
                };
                let meta = self.copy_object(
                    (&from_bucket, &from_key),
                    (r.text("Bucket")?, r.text("Key")?),
                    replace,
                )?;
                Ok(json!({"CopyObjectResult": {"ETag": quoted(&meta.etag), "LastModified": format_millis(meta.modified)}}))
            }
            "listobjectsv2" => self.list_v2(&r),
            other => Err(Error::new(
                "NotImplemented",
                501,
                format!("{other} is not offered by Sandstep's S3 (it offers createBucket, deleteBucket, headBucket, listBuckets, putObject, getObject, headObject, deleteObject, deleteObjects, copyObject and listObjectsV2)"),
            )),
        }
    }

    fn delete_objects(&self, r: &Request<'_>) -> Result<Json> {
        let bucket = r.text("Bucket")?;
        self.bucket(bucket)?;
        let objects =
            r.0.get("Delete")
                .and_then(|d| d.get("Objects"))
                .and_then(Json::as_array)
                .ok_or_else(|| Error::invalid("Delete.Objects is required"))?;
        if objects.len() > 1000 {
            return Err(Error::new(
                "MalformedXML",
                400,
                "A request deletes at most 1000 objects",
            ));
        }
        let quiet =
            r.0.get("Delete")
                .and_then(|d| d.get("Quiet"))
                .and_then(Json::as_bool)
                .unwrap_or(false);
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        for o in objects {
            let Some(key) = o.get("Key").and_then(Json::as_str) else {
                continue;
            };
            match self.delete_object(bucket, key) {
                Ok(()) if !quiet => deleted.push(json!({"Key": key})),
                Ok(()) => {}
                Err(e) => errors.push(json!({"Key": key, "Code": e.code, "Message": e.message})),
            }
        }
        Ok(json!({"Deleted": deleted, "Errors": errors}))
    }

    fn list_v2(&self, r: &Request<'_>) -> Result<Json> {
        let bucket = r.text("Bucket")?;
        let prefix = r.0.get("Prefix").and_then(Json::as_str).unwrap_or("");
        let delimiter = r.0.get("Delimiter").and_then(Json::as_str);
        let max_keys =
            r.0.get("MaxKeys")
                .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
                .map_or(MAX_KEYS, |n| usize::try_from(n).unwrap_or(MAX_KEYS));
        let token = r.0.get("ContinuationToken").and_then(Json::as_str);
        let start_after = r.0.get("StartAfter").and_then(Json::as_str);
        let after = match token {
            Some(t) => Some(decode_token(t)?),
            None => start_after.map(str::to_string),
        };
        let listing = self.list_objects(bucket, prefix, delimiter, after.as_deref(), max_keys)?;
        Ok(listing_json(
            bucket,
            prefix,
            delimiter,
            max_keys,
            token,
            start_after,
            &listing,
        ))
    }
}

/// `ListObjectsV2`'s fields for a listing.
pub fn listing_json(
    bucket: &str,
    prefix: &str,
    delimiter: Option<&str>,
    max_keys: usize,
    token: Option<&str>,
    start_after: Option<&str>,
    listing: &Listing,
) -> Json {
    let contents: Vec<Json> = listing
        .contents
        .iter()
        .map(|m| {
            json!({"Key": m.key, "LastModified": format_millis(m.modified), "ETag": quoted(&m.etag),
                   "Size": m.size, "StorageClass": "STANDARD"})
        })
        .collect();
    let prefixes: Vec<Json> = listing
        .common_prefixes
        .iter()
        .map(|p| json!({"Prefix": p}))
        .collect();
    let mut out = Map::new();
    out.insert("Name".into(), json!(bucket));
    out.insert("Prefix".into(), json!(prefix));
    if let Some(d) = delimiter {
        out.insert("Delimiter".into(), json!(d));
    }
    out.insert("MaxKeys".into(), json!(max_keys.min(MAX_KEYS)));
    out.insert("KeyCount".into(), json!(contents.len() + prefixes.len()));
    out.insert("IsTruncated".into(), json!(listing.next.is_some()));
    if !contents.is_empty() {
        out.insert("Contents".into(), Json::Array(contents));
    }
    if !prefixes.is_empty() {
        out.insert("CommonPrefixes".into(), Json::Array(prefixes));
    }
    if let Some(t) = token {
        out.insert("ContinuationToken".into(), json!(t));
    }
    if let Some(s) = start_after {
        out.insert("StartAfter".into(), json!(s));
    }
    if let Some(next) = &listing.next {
        out.insert("NextContinuationToken".into(), json!(encode_token(next)));
    }
    Json::Object(out)
}

/// The key (or rolled-up prefix, past all its keys) a full page ends at.
fn last_entry(listing: &Listing) -> Option<String> {
    let key = listing.contents.last().map(|m| m.key.clone());
    let prefix = listing
        .common_prefixes
        .last()
        .map(|p| format!("{p}\u{10FFFF}"));
    match (key, prefix) {
        (Some(k), Some(p)) => Some(if k > p { k } else { p }),
        (k, p) => k.or(p),
    }
}

/// A continuation token: the key to continue after, in hex (opaque to callers).
pub fn encode_token(after: &str) -> String {
    crate::store::data::hex(after.as_bytes())
}

///
/// # Errors
/// `InvalidArgument` for a token this did not make.
pub fn decode_token(token: &str) -> Result<String> {
    let bytes: Option<Vec<u8>> = (0..token.len() / 2)
        .map(|i| {
            token
                .get(i * 2..i * 2 + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    bytes
        .filter(|_| token.len().is_multiple_of(2))
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| Error::invalid("The continuation token provided is incorrect"))
}

/// A metadata response's fields (`GetObject`, `HeadObject`).
fn object_fields(meta: &ObjectMeta) -> Json {
    json!({
        "ContentLength": meta.size,
        "ContentType": meta.content_type.clone().unwrap_or_else(|| "binary/octet-stream".into()),
        "ETag": quoted(&meta.etag),
        "LastModified": format_millis(meta.modified),
        "Metadata": meta.metadata,
        "AcceptRanges": "bytes",
    })
}

/// An ETag as S3 sends it: in double quotes.
pub fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// `CopySource`: `bucket/key` (optionally with a leading `/`, URL-encoded, and
/// `?versionId=`, which Sandstep's unversioned buckets refuse).
///
/// # Errors
/// `InvalidArgument` when it names no bucket and key.
pub fn parse_copy_source(source: &str) -> Result<(String, String)> {
    let decoded = percent_decode(source.trim_start_matches('/'));
    if decoded.contains("?versionId=") {
        return Err(Error::invalid("Sandstep's buckets are not versioned"));
    }
    match decoded.split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok((b.to_string(), k.to_string())),
        _ => Err(Error::invalid(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )),
    }
}

/// `%XX` escapes decoded, and `+` as a space (as S3 reads keys and copy sources); an
/// invalid escape is kept as written.
pub fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// A request's fields.
struct Request<'a>(&'a Json);

impl Request<'_> {
    fn text(&self, field: &str) -> Result<&str> {
        self.0
            .get(field)
            .and_then(Json::as_str)
            .ok_or_else(|| Error::invalid(format!("{field} is required")))
    }

    fn optional(&self, field: &str) -> Option<String> {
        self.0.get(field).and_then(Json::as_str).map(str::to_string)
    }

    fn metadata(&self) -> BTreeMap<String, String> {
        self.0
            .get("Metadata")
            .and_then(Json::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                        (k.to_ascii_lowercase(), text)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(store: &Store, action: &str, request: Json) -> Result<Json> {
        let tenant = TenantId("t".into());
        Tenant {
            store,
            tenant: &tenant,
            account: "000000000000",
            max_object: 1 << 20,
            now: 0,
        }
        .call(action, &request)
    }

    #[test]
    fn objects_round_trip_with_s3_shapes_and_errors() {
        let s = Store::memory();
        assert_eq!(
            call(&s, "createBucket", json!({"Bucket": "Bad_Name"}))
                .unwrap_err()
                .code,
            "InvalidBucketName"
        );
        assert_eq!(
            call(&s, "createBucket", json!({"Bucket": "console"}))
                .unwrap_err()
                .code,
            "InvalidBucketName"
        );
        call(&s, "createBucket", json!({"Bucket": "data"})).unwrap();
        let missing = call(
            &s,
            "putObject",
            json!({"Bucket": "nope", "Key": "k", "Body": "x"}),
        )
        .unwrap_err();
        assert_eq!((missing.code, missing.status), ("NoSuchBucket", 404));
        let put = call(
            &s,
            "putObject",
            json!({"Bucket": "data", "Key": "a/1.json", "Body": {"n": 1}}),
        )
        .unwrap();
        assert_eq!(put["ETag"], "\"082c26c8a6bc75226a31da5495cc9292\"");
        let got = call(
            &s,
            "getObject",
            json!({"Bucket": "data", "Key": "a/1.json"}),
        )
        .unwrap();
        assert_eq!(got["Body"], "{\"n\":1}");
        assert_eq!(got["ContentLength"], 7);
        assert_eq!(
            call(&s, "getObject", json!({"Bucket": "data", "Key": "nope"}))
                .unwrap_err()
                .code,
            "NoSuchKey"
        );
        call(
            &s,
            "copyObject",
            json!({"Bucket": "data", "Key": "b/2.json", "CopySource": "data/a%2F1.json"}),
        )
        .unwrap();
        call(
            &s,
            "putObject",
            json!({"Bucket": "data", "Key": "top", "Body": ""}),
        )
        .unwrap();
        let listed = call(
            &s,
            "listObjectsV2",
            json!({"Bucket": "data", "Delimiter": "/"}),
        )
        .unwrap();
        assert_eq!(
            listed["CommonPrefixes"],
            json!([{"Prefix": "a/"}, {"Prefix": "b/"}])
        );
        assert_eq!(listed["Contents"][0]["Key"], "top");
        assert_eq!(listed["KeyCount"], 3);
        let page = call(&s, "listObjectsV2", json!({"Bucket": "data", "MaxKeys": 2})).unwrap();
        assert_eq!(page["IsTruncated"], true);
        let rest = call(
            &s,
            "listObjectsV2",
            json!({"Bucket": "data", "ContinuationToken": page["NextContinuationToken"]}),
        )
        .unwrap();
        assert_eq!(rest["Contents"][0]["Key"], "top");
        assert_eq!(rest["IsTruncated"], false);
        let deleted = call(
            &s,
            "deleteObjects",
            json!({"Bucket": "data", "Delete": {"Objects": [{"Key": "top"}, {"Key": "b/2.json"}]}}),
        )
        .unwrap();
        assert_eq!(deleted["Deleted"].as_array().unwrap().len(), 2);
        assert_eq!(
            call(&s, "deleteBucket", json!({"Bucket": "data"}))
                .unwrap_err()
                .code,
            "BucketNotEmpty"
        );
        assert_eq!(
            call(&s, "selectObjectContent", json!({})).unwrap_err().code,
            "NotImplemented"
        );
    }
}
