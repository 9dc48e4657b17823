//! The S3 REST API, path-style (`/<bucket>/<key>`), on the same endpoint: `aws s3 cp`,
//! `aws s3api ...` and the AWS SDKs with `force_path_style`. A request is S3's when it is
//! signed for `s3` or carries `x-amz-content-sha256` (every S3 client sends it); others
//! keep the server's own answers for unknown paths. Buckets named like the server's own
//! paths (`console`, `healthz`, `metrics`, `hooks`) cannot exist.
//!
//! Operations: ListBuckets (`GET /`), CreateBucket, HeadBucket, DeleteBucket,
//! ListObjectsV2 and ListObjects, DeleteObjects, PutObject (streamed, `aws-chunked` too),
//! CopyObject, GetObject (`Range`), HeadObject, DeleteObject, and multipart uploads
//! (Create, UploadPart, Complete, Abort). Others answer `NotImplemented`.

mod chunked;
pub(crate) mod xml;

use super::auth;
use super::App;
use crate::s3::{decode_token, encode_token, parse_copy_source, percent_decode, Error, Listing};
use crate::service::s3::{upload_channel, Upload, UploadSender};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt as _;
use std::collections::BTreeMap;
use std::sync::Arc;
use tracing::Instrument as _;

/// The largest XML request body read (`Delete` of 1000 keys fits).
const MAX_XML_BODY: usize = 2 << 20;

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// `/`.
    Root,
    /// `/<bucket>`.
    Bucket(String),
    /// `/<bucket>/<key>`.
    Object(String, String),
}

impl Target {
    /// The target of a path, when its first segment could be a bucket.
    fn of(path: &str) -> Option<Target> {
        let path = path.strip_prefix('/')?;
        if path.is_empty() {
            return Some(Target::Root);
        }
        let (bucket, key) = match path.split_once('/') {
            Some((b, k)) => (b, Some(k)),
            None => (path, None),
        };
        let plausible = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !plausible {
            return None;
        }
        Some(match key.filter(|k| !k.is_empty()) {
            None => Target::Bucket(bucket.to_string()),
            Some(k) => Target::Object(bucket.to_string(), percent_decode(k)),
        })
    }
}

/// Whether a request is an S3 client's.
pub fn is_s3(headers: &HeaderMap) -> bool {
    let signed_for_s3 = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("/s3/aws4_request"));
    signed_for_s3 || headers.contains_key("x-amz-content-sha256")
}

/// Answers a request no other route took: S3's, or the server's "no such path".
pub async fn fallback(State(app): State<Arc<App>>, req: Request) -> Response {
    let target = Target::of(req.uri().path());
    match target {
        Some(target) if target != Target::Root && is_s3(req.headers()) => {
            handle(&app, target, req).await
        }
        _ => super::no_route(req.method().clone(), req.uri().clone())
            .await
            .into_response(),
    }
}

/// A method a route of the server's own does not take: for an S3 client naming one of
/// those paths as a bucket, S3's `InvalidBucketName`; otherwise the server's answer.
pub async fn wrong_method(req: Request) -> Response {
    let reserved = match Target::of(req.uri().path()) {
        Some(Target::Bucket(b) | Target::Object(b, _)) => crate::s3::check_bucket_name(&b).err(),
        _ => None,
    };
    match reserved {
        Some(e) if is_s3(req.headers()) => {
            let head = req.method() == Method::HEAD;
            error(&e, req.uri().path(), "", head)
        }
        _ => super::wrong_method(req.method().clone(), req.uri().clone())
            .await
            .into_response(),
    }
}

/// `GET /`: S3's ListBuckets for S3 clients; the AWS API's "use POST" for others.
pub async fn root(State(app): State<Arc<App>>, req: Request) -> Response {
    if is_s3(req.headers()) {
        return handle(&app, Target::Root, req).await;
    }
    let mut refused = super::wrong_method(req.method().clone(), req.uri().clone())
        .await
        .into_response();
    refused.headers_mut().insert(
        axum::http::header::ALLOW,
        axum::http::HeaderValue::from_static("POST"),
    );
    refused
}

/// The request's query, decoded.
fn query_of(parts: &Parts) -> BTreeMap<String, String> {
    form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

async fn handle(app: &App, target: Target, req: Request) -> Response {
    let request_id = crate::sqs::random_id(crate::clock::now()).replace('-', "");
    let resource = req.uri().path().to_string();
    let head = req.method() == Method::HEAD;
    let (parts, body) = req.into_parts();
    let query = query_of(&parts);
    // Uploads stream past authentication; everything else has a small body or none.
    let streams = parts.method == Method::PUT
        && matches!(target, Target::Object(..))
        && !parts.headers.contains_key("x-amz-copy-source");
    let (small, body) = match streams {
        true => (Bytes::new(), Some(body)),
        false => match axum::body::to_bytes(body, MAX_XML_BODY).await {
            Ok(b) => (b, None),
            Err(_) => {
                let e = Error::new("MaxMessageLengthExceeded", 400, "Your request was too big.");
                return error(&e, &resource, &request_id, head);
            }
        },
    };
    let caller = auth::Caller {
        service: "s3",
        streamed: streams,
        ..auth::caller_of(&parts, &small)
    };
    let tenant = match auth::authenticate(app, &caller) {
        Ok(t) => t,
        Err(e) => {
            let (name, status) = e.aws();
            let code = match name {
                "InvalidSignatureException" => "SignatureDoesNotMatch",
                "UnrecognizedClientException" => "InvalidAccessKeyId",
                "MissingAuthenticationTokenException" => "AccessDenied",
                _ => "AccessDenied",
            };
            let e = Error::new(code, status.as_u16().max(403), e.to_string());
            return error(&e, &resource, &request_id, head);
        }
    };
    let call = Call {
        app,
        tenant: &tenant,
        parts: &parts,
        query: &query,
    };
    let answered = call
        .dispatch(&target, small, body)
        .instrument(tracing::debug_span!("api.s3", tenant = %tenant.id, method = %parts.method))
        .await;
    match answered {
        Ok(mut response) => {
            if let Ok(v) = request_id.parse() {
                response.headers_mut().insert("x-amz-request-id", v);
            }
            response
        }
        Err(e) => {
            if e.internal() {
                tracing::error!(error = %e.message, "internal failure");
            }
            error(&e, &resource, &request_id, head)
        }
    }
}

fn error(e: &Error, resource: &str, request_id: &str, head: bool) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let message = match e.internal() {
        true if e.status == 503 => super::error::UNAVAILABLE,
        true => "We encountered an internal error. Please try again.",
        false => e.message.as_str(),
    };
    let body = match head {
        true => String::new(),
        false => xml::error(e.code, message, resource, request_id),
    };
    (
        status,
        [
            ("content-type", super::error::S3_CONTENT_TYPE),
            ("x-amz-request-id", request_id),
        ],
        body,
    )
        .into_response()
}

fn xml_ok(body: String) -> Response {
    ([("content-type", super::error::S3_CONTENT_TYPE)], body).into_response()
}

/// One authenticated request.
struct Call<'a> {
    app: &'a App,
    tenant: &'a crate::tenants::Tenant,
    parts: &'a Parts,
    query: &'a BTreeMap<String, String>,
}

type Answer = Result<Response, Error>;

impl Call<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.parts.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn has(&self, param: &str) -> bool {
        self.query.contains_key(param)
    }

    fn s3(&self) -> &crate::service::S3 {
        &self.app.services.s3
    }

    async fn dispatch(&self, target: &Target, small: Bytes, body: Option<Body>) -> Answer {
        let m = &self.parts.method;
        match target {
            Target::Root if m == Method::GET => {
                let buckets = self.s3().list_buckets(self.tenant).await?;
                Ok(xml_ok(xml::buckets(&self.tenant.account, &buckets)))
            }
            Target::Bucket(b) => self.bucket(m, b, &small).await,
            Target::Object(b, k) => self.object(m, b, k, &small, body).await,
            Target::Root => Err(not_implemented(m, "/")),
        }
    }

    /// `?notification`: S3's EventBridge notifications of a bucket, on or off. Topic, queue
    /// and Lambda configurations are refused: events reach them through rules.
    async fn notification(&self, m: &Method, bucket: &str, small: &[u8]) -> Answer {
        const XMLNS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";
        match *m {
            Method::PUT => {
                let doc = String::from_utf8_lossy(small);
                let others = [
                    "TopicConfiguration",
                    "QueueConfiguration",
                    "CloudFunctionConfiguration",
                    "LambdaFunctionConfiguration",
                ];
                if let Some(other) = others.iter().find(|o| doc.contains(&format!("<{o}"))) {
                    return Err(Error::new(
                        "NotImplemented",
                        501,
                        format!("{other} is not supported by Sandstep's S3: turn on EventBridgeConfiguration and route the events with an EventBridge rule"),
                    ));
                }
                let on = doc.contains("<EventBridgeConfiguration");
                self.s3().set_event_bridge(self.tenant, bucket, on).await?;
                Ok(StatusCode::OK.into_response())
            }
            Method::GET => {
                let def = self.s3().head_bucket(self.tenant, bucket).await?;
                let inner = if def.event_bridge {
                    "<EventBridgeConfiguration/>"
                } else {
                    ""
                };
                Ok(xml_ok(format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><NotificationConfiguration xmlns="{XMLNS}">{inner}</NotificationConfiguration>"#
                )))
            }
            _ => Err(not_implemented(m, &format!("/{bucket}?notification"))),
        }
    }

    async fn bucket(&self, m: &Method, bucket: &str, small: &[u8]) -> Answer {
        let unsupported = [
            "acl",
            "policy",
            "versioning",
            "lifecycle",
            "cors",
            "tagging",
            "website",
            "encryption",
            "replication",
            "logging",
            "uploads",
            "versions",
            "object-lock",
            "ownershipControls",
            "publicAccessBlock",
            "accelerate",
            "requestPayment",
            "analytics",
            "inventory",
            "metrics",
            "intelligent-tiering",
        ];
        if let Some(sub) = unsupported.iter().find(|s| self.has(s)) {
            return Err(not_implemented(m, &format!("/{bucket}?{sub}")));
        }
        if self.has("notification") {
            return self.notification(m, bucket, small).await;
        }
        match *m {
            Method::PUT => {
                self.s3().create_bucket(self.tenant, bucket).await?;
                Ok(([("location", format!("/{bucket}"))], "").into_response())
            }
            Method::HEAD => {
                self.s3().head_bucket(self.tenant, bucket).await?;
                Ok(StatusCode::OK.into_response())
            }
            Method::DELETE => {
                self.s3().delete_bucket(self.tenant, bucket).await?;
                Ok(StatusCode::NO_CONTENT.into_response())
            }
            Method::GET if self.has("location") => {
                self.s3().head_bucket(self.tenant, bucket).await?;
                Ok(xml_ok(format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{}</LocationConstraint>"#,
                    match self.app.config.region.as_str() {
                        "us-east-1" => "",
                        other => other,
                    }
                )))
            }
            Method::GET => self.list(bucket).await,
            Method::POST if self.has("delete") => {
                let doc = String::from_utf8_lossy(small);
                let (keys, quiet) = xml::delete_request(&doc);
                if keys.len() > 1000 {
                    return Err(Error::new(
                        "MalformedXML",
                        400,
                        "A request deletes at most 1000 objects",
                    ));
                }
                let outcomes = self.s3().delete_objects(self.tenant, bucket, keys).await?;
                let mut done = Vec::new();
                let mut failed = Vec::new();
                for (key, outcome) in outcomes {
                    match outcome {
                        None if !quiet => done.push(key),
                        None => {}
                        Some(e) => failed.push((key, e.code.to_string(), e.message)),
                    }
                }
                Ok(xml_ok(xml::deleted(&done, &failed)))
            }
            _ => Err(not_implemented(m, &format!("/{bucket}"))),
        }
    }

    async fn list(&self, bucket: &str) -> Answer {
        let v2 = self.query.get("list-type").is_some_and(|t| t == "2");
        let prefix = self.query.get("prefix").map_or("", String::as_str);
        let delimiter = self.query.get("delimiter").filter(|d| !d.is_empty());
        let max_keys = match self.query.get("max-keys") {
            Some(n) => n
                .parse::<usize>()
                .map_err(|_| {
                    Error::invalid("Provided max-keys not an integer or within integer range")
                })?
                .min(1000),
            None => 1000,
        };
        let token = match v2 {
            true => self.query.get("continuation-token"),
            false => self.query.get("marker"),
        };
        let start_after = self.query.get("start-after").filter(|_| v2);
        let after = match (v2, token) {
            (true, Some(t)) => Some(decode_token(t)?),
            (false, Some(marker)) => Some(marker.clone()),
            (_, None) => start_after.cloned(),
        };
        let listing: Listing = self
            .s3()
            .list_objects(
                self.tenant,
                bucket,
                prefix,
                delimiter.cloned(),
                after,
                max_keys,
            )
            .await?;
        let next = listing.next.as_deref().map(encode_token);
        let asked = xml::Asked {
            bucket,
            prefix,
            delimiter: delimiter.map(String::as_str),
            max_keys,
            token: token.map(String::as_str),
            start_after: start_after.map(String::as_str),
            v2,
            url_encoded: self.query.get("encoding-type").is_some_and(|e| e == "url"),
        };
        Ok(xml_ok(xml::listing(&asked, &listing, next.as_deref())))
    }

    async fn object(
        &self,
        m: &Method,
        bucket: &str,
        key: &str,
        small: &[u8],
        body: Option<Body>,
    ) -> Answer {
        let unsupported = [
            "acl",
            "tagging",
            "retention",
            "legal-hold",
            "torrent",
            "restore",
            "select",
            "attributes",
        ];
        if let Some(sub) = unsupported.iter().find(|s| self.has(s)) {
            return Err(not_implemented(m, &format!("/{bucket}/{key}?{sub}")));
        }
        let upload_id = self.query.get("uploadId");
        match (m.clone(), upload_id) {
            (Method::PUT, Some(id)) => {
                let number = self
                    .query
                    .get("partNumber")
                    .and_then(|n| n.parse::<u32>().ok())
                    .ok_or_else(|| {
                        Error::invalid(
                            "Part number must be an integer between 1 and 10000, inclusive",
                        )
                    })?;
                let upload = self.upload_body(body)?;
                let (sent, pump) = upload;
                let (done, pumped) = tokio::join!(
                    self.s3()
                        .upload_part(self.tenant, (bucket, key, id), number, sent),
                    pump
                );
                let etag = done?;
                pumped?;
                Ok(([("etag", crate::s3::quoted(&etag))], "").into_response())
            }
            (Method::PUT, None) if self.header("x-amz-copy-source").is_some() => {
                let source = self.header("x-amz-copy-source").unwrap_or_default();
                let from = parse_copy_source(source)?;
                let replace = match self.header("x-amz-metadata-directive") {
                    Some("REPLACE") => Some((self.content_type(), self.metadata())),
                    _ => None,
                };
                let meta = self
                    .s3()
                    .copy_object(
                        self.tenant,
                        from,
                        (bucket.to_string(), key.to_string()),
                        replace,
                    )
                    .await?;
                Ok(xml_ok(xml::copied(&meta)))
            }
            (Method::PUT, None) => {
                let (sent, pump) = self.upload_body(body)?;
                let (done, pumped) = tokio::join!(
                    self.s3().put_object(
                        self.tenant,
                        bucket,
                        key,
                        sent,
                        self.content_type(),
                        self.metadata()
                    ),
                    pump
                );
                let meta = done?;
                pumped?;
                Ok(([("etag", crate::s3::quoted(&meta.etag))], "").into_response())
            }
            (Method::GET | Method::HEAD, Some(_)) => Err(not_implemented(m, "ListParts")),
            (Method::GET, None) => self.get(bucket, key).await,
            (Method::HEAD, None) => {
                let meta = self.s3().head_object(self.tenant, bucket, key).await?;
                let mut response = Response::new(Body::empty());
                object_headers(&mut response, &meta, meta.size);
                Ok(response)
            }
            (Method::DELETE, Some(id)) => {
                self.s3()
                    .abort_upload(self.tenant, (bucket, key, id))
                    .await?;
                Ok(StatusCode::NO_CONTENT.into_response())
            }
            (Method::DELETE, None) => {
                self.s3().delete_object(self.tenant, bucket, key).await?;
                Ok(StatusCode::NO_CONTENT.into_response())
            }
            (Method::POST, None) if self.has("uploads") => {
                let id = self
                    .s3()
                    .create_upload(
                        self.tenant,
                        bucket,
                        key,
                        self.content_type(),
                        self.metadata(),
                    )
                    .await?;
                Ok(xml_ok(xml::initiated(bucket, key, &id)))
            }
            (Method::POST, Some(id)) => {
                let doc = String::from_utf8_lossy(small);
                let parts = xml::complete_request(&doc).ok_or_else(|| {
                    Error::new("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema")
                })?;
                let meta = self
                    .s3()
                    .complete_upload(self.tenant, (bucket, key, id), parts)
                    .await?;
                let location = format!("/{bucket}/{key}");
                Ok(xml_ok(xml::completed(&location, bucket, &meta)))
            }
            _ => Err(not_implemented(m, &format!("/{bucket}/{key}"))),
        }
    }

    async fn get(&self, bucket: &str, key: &str) -> Answer {
        let range = match self.header("range") {
            Some(r) => parse_range(r),
            None => None,
        };
        let download = self
            .s3()
            .get_object(self.tenant, bucket, key, range)
            .await?;
        let meta = download.meta;
        let (status, length) = match download.range {
            Some((start, end)) => (StatusCode::PARTIAL_CONTENT, end - start + 1),
            None => (StatusCode::OK, meta.size),
        };
        let mut response = Response::new(streamed(download.chunks));
        *response.status_mut() = status;
        object_headers(&mut response, &meta, length);
        if let Some((start, end)) = download.range {
            if let Ok(v) = format!("bytes {start}-{end}/{}", meta.size).parse() {
                response.headers_mut().insert("content-range", v);
            }
        }
        Ok(response)
    }

    fn content_type(&self) -> Option<String> {
        self.header("content-type").map(str::to_string)
    }

    fn metadata(&self) -> BTreeMap<String, String> {
        self.parts
            .headers
            .iter()
            .filter_map(|(k, v)| {
                let name = k.as_str().strip_prefix("x-amz-meta-")?;
                Some((name.to_string(), v.to_str().ok()?.to_string()))
            })
            .collect()
    }

    /// The upload's channel, and the future that pumps the body into it (decoding
    /// `aws-chunked`).
    fn upload_body(
        &self,
        body: Option<Body>,
    ) -> Result<(Upload, impl std::future::Future<Output = Result<(), Error>>), Error> {
        let declared = self.header("x-amz-content-sha256").unwrap_or("");
        let chunked = declared.starts_with("STREAMING-")
            || self
                .header("content-encoding")
                .is_some_and(|e| e.split(',').any(|p| p.trim() == "aws-chunked"));
        let length = self
            .header("x-amz-decoded-content-length")
            .or_else(|| self.header("content-length").filter(|_| !chunked))
            .and_then(|l| l.parse::<u64>().ok());
        let max = self.app.config.max_object_bytes;
        if length.is_some_and(|l| l > max) {
            return Err(Error::new(
                "EntityTooLarge",
                400,
                format!("Your proposed upload exceeds the maximum allowed size of {max} bytes"),
            ));
        }
        let sha256 = (declared.len() == 64 && declared.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| declared.to_string());
        let (tx, rx) = upload_channel();
        let upload = Upload { chunks: rx, sha256 };
        let pump = pump(body.unwrap_or_else(Body::empty), tx, chunked);
        Ok((upload, pump))
    }
}

/// Sends an upload's body into its channel as it arrives (decoding `aws-chunked` when
/// `chunked`); a failure is sent along too, so the write stops without putting the file in
/// place. Stops quietly when the write ended first (too large: its error is the answer).
pub(super) async fn pump(mut body: Body, tx: UploadSender, chunked: bool) -> Result<(), Error> {
    let mut dechunker = chunked.then(chunked::Dechunker::default);
    while let Some(frame) = body.frame().await {
        let data = match frame {
            Ok(f) => match f.into_data() {
                Ok(d) => d,
                Err(_) => continue,
            },
            Err(e) => {
                let _ = tx.send(Err(format!("the connection failed: {e}"))).await;
                return Err(Error::new("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header"));
            }
        };
        let pieces = match &mut dechunker {
            Some(d) => match d.push(&data) {
                Ok(p) => p,
                Err(why) => {
                    let _ = tx.send(Err(why.clone())).await;
                    return Err(Error::invalid(why));
                }
            },
            None => vec![data],
        };
        for piece in pieces {
            if tx.send(Ok(piece)).await.is_err() {
                return Ok(());
            }
        }
    }
    if dechunker.as_ref().is_some_and(|d| !d.finished()) {
        let why = "the aws-chunked body ended before its last chunk".to_string();
        let _ = tx.send(Err(why.clone())).await;
        return Err(Error::new("IncompleteBody", 400, why));
    }
    Ok(())
}

/// A download's chunks as a streamed response body.
pub(super) fn streamed(chunks: tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>) -> Body {
    Body::from_stream(futures_util::stream::unfold(chunks, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    }))
}

/// The headers of an object's answer.
fn object_headers(response: &mut Response, meta: &crate::store::ObjectMeta, length: u64) {
    let h = response.headers_mut();
    let mut put = |name: &str, value: String| {
        if let (Ok(n), Ok(v)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_str(&value),
        ) {
            h.insert(n, v);
        }
    };
    put("content-length", length.to_string());
    put(
        "content-type",
        meta.content_type
            .clone()
            .unwrap_or_else(|| "binary/octet-stream".into()),
    );
    put("etag", crate::s3::quoted(&meta.etag));
    put("last-modified", xml::http_date(meta.modified));
    put("accept-ranges", "bytes".into());
    for (k, v) in &meta.metadata {
        put(&format!("x-amz-meta-{k}"), v.clone());
    }
}

/// `Range: bytes=a-b`, `bytes=a-`, `bytes=-n`; `None` (the whole object) for forms S3
/// ignores too (several ranges, other units).
fn parse_range(header: &str) -> Option<(Option<u64>, Option<u64>)> {
    let spec = header.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let start = if a.is_empty() {
        None
    } else {
        Some(a.parse().ok()?)
    };
    let end = if b.is_empty() {
        None
    } else {
        Some(b.parse().ok()?)
    };
    match (start, end) {
        (None, None) => None,
        r => Some(r),
    }
}

fn not_implemented(m: &Method, what: &str) -> Error {
    Error::new(
        "NotImplemented",
        501,
        format!("{m} {what} is not implemented by Sandstep's S3 (see the README's list of what it serves)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_buckets_and_keys() {
        assert_eq!(Target::of("/"), Some(Target::Root));
        assert_eq!(Target::of("/data"), Some(Target::Bucket("data".into())));
        assert_eq!(Target::of("/data/"), Some(Target::Bucket("data".into())));
        assert_eq!(
            Target::of("/data/a%20b/c.csv"),
            Some(Target::Object("data".into(), "a b/c.csv".into()))
        );
        assert_eq!(Target::of("/v1/x"), None, "not a bucket name");
        assert_eq!(parse_range("bytes=0-9"), Some((Some(0), Some(9))));
        assert_eq!(parse_range("bytes=-5"), Some((None, Some(5))));
        assert_eq!(parse_range("bytes=0-1,4-5"), None);
        assert_eq!(decode_token(&encode_token("a/ü")).unwrap(), "a/ü");
    }
}
