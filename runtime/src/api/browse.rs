//! The tenant's data over Sandstep's own API (what the console's data browser and
//! `sandstep data ...` use): `GET /v1/tables`, `GET|PUT|DELETE /v1/tables/{t}/items`
//! (items as plain JSON; a page with `?limit=&next=`, a delete with `?key=<JSON>`);
//! `GET /v1/buckets`, `GET /v1/buckets/{b}/objects?prefix=`, `GET|PUT|DELETE
//! /v1/buckets/{b}/objects/{key}` (bytes, streamed); `GET /v1/queues`,
//! `GET|POST|DELETE /v1/queues/{q}/messages` (peek, send, purge); `GET /v1/topics`,
//! `GET /v1/topics/{t}/subscriptions`, `POST /v1/topics/{t}/messages`. The use cases are
//! [`crate::service::browse`]; errors keep their service's names.

use super::auth::{Authenticated, AuthenticatedBody};
use super::error::{Error, Result};
use super::App;
use crate::service::browse::Error as BrowseError;
use crate::service::s3::{upload_channel, Upload};
use axum::extract::{Path, Query, Request, State};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

impl From<BrowseError> for Error {
    fn from(e: BrowseError) -> Error {
        match e {
            BrowseError::DynamoDb(e) => Error::DynamoDb(e),
            BrowseError::Sqs(e) => Error::Sqs(e),
            BrowseError::Sns(e) => Error::Coded {
                name: e.code,
                status: e.status(),
                message: e.message,
            },
            BrowseError::S3(e) => Error::Coded {
                name: e.code,
                status: e.status,
                message: e.message,
            },
            BrowseError::Invalid(why) => Error::Validation(why),
            BrowseError::Store(e) => Error::Internal(e.to_string()),
        }
    }
}

/// The server's URL as the caller reached it (queue URLs start with it).
pub(super) fn endpoint(req_host: Option<&str>) -> String {
    format!("http://{}", req_host.unwrap_or("localhost"))
}

pub(super) fn host(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers.get("host").and_then(|h| h.to_str().ok())
}

/// `GET /v1/tables`.
///
/// # Errors
/// DynamoDB's errors.
pub async fn tables(
    State(app): State<Arc<App>>,
    Authenticated(t): Authenticated,
) -> Result<Json<Value>> {
    Ok(Json(app.services.browse.tables(&t).await?))
}

/// The query of an item listing or delete.
#[derive(Debug, Default, Deserialize)]
pub struct ItemsQuery {
    limit: Option<u64>,
    next: Option<String>,
    key: Option<String>,
}

/// `GET /v1/tables/{table}/items`.
///
/// # Errors
/// DynamoDB's errors.
pub async fn items(
    State(app): State<Arc<App>>,
    Path(table): Path<String>,
    Query(q): Query<ItemsQuery>,
    Authenticated(t): Authenticated,
) -> Result<Json<Value>> {
    Ok(Json(
        app.services
            .browse
            .items(&t, &table, q.limit, q.next.as_deref())
            .await?,
    ))
}

/// `PUT /v1/tables/{table}/items`: the body is the item, plain JSON.
///
/// # Errors
/// `ValidationException` for a body that is not JSON; DynamoDB's errors.
pub async fn put_item(
    State(app): State<Arc<App>>,
    Path(table): Path<String>,
    AuthenticatedBody { tenant, body }: AuthenticatedBody,
) -> Result<Json<Value>> {
    let item: Value = serde_json::from_slice(&body).map_err(|e| {
        Error::Validation(format!("the body must be the item as a JSON object: {e}"))
    })?;
    Ok(Json(
        app.services.browse.put_item(&tenant, &table, &item).await?,
    ))
}

/// `DELETE /v1/tables/{table}/items?key=<JSON>`.
///
/// # Errors
/// `ValidationException` without a JSON key; DynamoDB's errors.
pub async fn delete_item(
    State(app): State<Arc<App>>,
    Path(table): Path<String>,
    Query(q): Query<ItemsQuery>,
    Authenticated(t): Authenticated,
) -> Result<Json<Value>> {
    let key: Value = q
        .key
        .as_deref()
        .and_then(|k| serde_json::from_str(k).ok())
        .ok_or_else(|| {
            Error::Validation("?key= must be the item's key attributes as a JSON object".into())
        })?;
    Ok(Json(
        app.services.browse.delete_item(&t, &table, &key).await?,
    ))
}

/// `GET /v1/buckets`.
///
/// # Errors
/// S3's errors.
pub async fn buckets(
    State(app): State<Arc<App>>,
    Authenticated(t): Authenticated,
) -> Result<Json<Value>> {
    Ok(Json(app.services.browse.buckets(&t).await?))
}

/// `GET /v1/buckets/{bucket}/objects?prefix=`.
///
/// # Errors
/// S3's errors.
pub async fn objects(
    State(app): State<Arc<App>>,
    Path(bucket): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
    Authenticated(t): Authenticated,
) -> Result<Json<Value>> {
    let prefix = q.get("prefix").map_or("", String::as_str);
    Ok(Json(
        app.services.browse.objects(&t, &bucket, prefix).await?,
    ))
}

/// `GET /v1/buckets/{bucket}/objects/{key}`: the bytes, streamed, as a download.
///
/// # Errors
/// S3's errors.
pub async fn get_object(
    State(app): State<Arc<App>>,
    Path((bucket, key)): Path<(String, String)>,
    Authenticated(t): Authenticated,
) -> Result<Response> {
    let download = app
        .services
        .s3
        .get_object(&t, &bucket, &key, None)
        .await
        .map_err(BrowseError::S3)?;
    let meta = download.meta;
    let name = key
        .rsplit('/')
        .next()
        .unwrap_or(&key)
        .replace(['"', '\\'], "_");
    let mut response = Response::new(super::s3::streamed(download.chunks));
    let h = response.headers_mut();
    let content_type = meta
        .content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".into());
    for (k, v) in [
        ("content-type", content_type),
        ("content-length", meta.size.to_string()),
        (
            "content-disposition",
            format!("attachment; filename=\"{name}\""),
        ),
        ("etag", crate::s3::quoted(&meta.etag)),
    ] {
        if let Ok(v) = axum::http::HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    Ok(response)
}

/// `PUT /v1/buckets/{bucket}/objects/{key}`: the body is the object's bytes, streamed.
///
/// # Errors
/// S3's errors.
pub async fn put_object(
    State(app): State<Arc<App>>,
    Path((bucket, key)): Path<(String, String)>,
    Authenticated(t): Authenticated,
    req: Request,
) -> Result<Json<Value>> {
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let (tx, rx) = upload_channel();
    let pump = super::s3::pump(req.into_body(), tx, false);
    let upload = Upload {
        chunks: rx,
        sha256: None,
    };
    let (put, pumped) = tokio::join!(
        app.services
            .s3
            .put_object(&t, &bucket, &key, upload, content_type, BTreeMap::new()),
        pump
    );
    let meta = put.map_err(BrowseError::S3)?;
    pumped.map_err(BrowseError::S3)?;
    Ok(Json(
        json!({"key": meta.key, "size": meta.size, "etag": meta.etag}),
    ))
}

/// `DELETE /v1/buckets/{bucket}/objects/{key}`.
///
/// # Errors
/// S3's errors.
pub async fn delete_object(
    State(app): State<Arc<App>>,
    Path((bucket, key)): Path<(String, String)>,
    Authenticated(t): Authenticated,
) -> Result<Json<Value>> {
    app.services
        .s3
        .delete_object(&t, &bucket, &key)
        .await
        .map_err(BrowseError::S3)?;
    Ok(Json(json!({ "deleted": key })))
}

/// `GET /v1/queues`.
///
/// # Errors
/// SQS's errors.
pub async fn queues(
    State(app): State<Arc<App>>,
    headers: axum::http::HeaderMap,
    Authenticated(t): Authenticated,
) -> Result<Json<Value>> {
    Ok(Json(
        app.services
            .browse
            .queues(&t, &endpoint(host(&headers)))
            .await?,
    ))
}

/// `GET /v1/queues/{queue}/messages?limit=`: a peek that changes nothing.
///
/// # Errors
/// `QueueDoesNotExist`.
pub async fn peek(
    State(app): State<Arc<App>>,
    Path(queue): Path<String>,
    Query(q): Query<ItemsQuery>,
    Authenticated(t): Authenticated,
) -> Result<Json<Value>> {
    let limit = usize::try_from(q.limit.unwrap_or(10)).unwrap_or(10);
    Ok(Json(app.services.browse.peek(&t, &queue, limit).await?))
}

/// `POST /v1/queues/{queue}/messages`: the body is the message.
///
/// # Errors
/// SQS's errors.
pub async fn send(
    State(app): State<Arc<App>>,
    Path(queue): Path<String>,
    headers: axum::http::HeaderMap,
    AuthenticatedBody { tenant, body }: AuthenticatedBody,
) -> Result<Json<Value>> {
    let text = String::from_utf8(body.to_vec())
        .map_err(|_| Error::Validation("a message body is UTF-8 text".into()))?;
    let endpoint = endpoint(host(&headers));
    Ok(Json(
        app.services
            .browse
            .send(&tenant, &endpoint, &queue, &text)
            .await?,
    ))
}

/// `DELETE /v1/queues/{queue}/messages`: purges the queue.
///
/// # Errors
/// SQS's errors.
pub async fn purge(
    State(app): State<Arc<App>>,
    Path(queue): Path<String>,
    headers: axum::http::HeaderMap,
    Authenticated(t): Authenticated,
) -> Result<Json<Value>> {
    let endpoint = endpoint(host(&headers));
    Ok(Json(
        app.services.browse.purge(&t, &endpoint, &queue).await?,
    ))
}

/// `GET /v1/topics`.
///
/// # Errors
/// SNS's errors.
pub async fn topics(
    State(app): State<Arc<App>>,
    Authenticated(t): Authenticated,
) -> Result<Json<Value>> {
    Ok(Json(app.services.browse.topics(&t).await?))
}

/// `GET /v1/topics/{topic}/subscriptions`.
///
/// # Errors
/// SNS's errors.
pub async fn subscriptions(
    State(app): State<Arc<App>>,
    Path(topic): Path<String>,
    Authenticated(t): Authenticated,
) -> Result<Json<Value>> {
    Ok(Json(app.services.browse.subscriptions(&t, &topic).await?))
}

/// `POST /v1/topics/{topic}/messages` with `{"message", "subject"}`.
///
/// # Errors
/// `ValidationException` without a message; SNS's errors.
pub async fn publish(
    State(app): State<Arc<App>>,
    Path(topic): Path<String>,
    AuthenticatedBody { tenant, body }: AuthenticatedBody,
) -> Result<Json<Value>> {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let message = request
        .get("message")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::Validation(
                "the body must be {\"message\": \"...\", \"subject\": \"...\"}".into(),
            )
        })?;
    let subject = request.get("subject").and_then(Value::as_str);
    Ok(Json(
        app.services
            .browse
            .publish(&tenant, &topic, message, subject)
            .await?,
    ))
}
