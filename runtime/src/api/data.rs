//! The tenant's key-value tables over HTTP, for seeding and inspecting what task modules
//! read and write: `PUT /v1/kv/{table}/{key}` (body: a JSON item), `GET`, `DELETE`.

use super::auth::{Authenticated, AuthenticatedBody};
use super::error::Result;
use super::App;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;
use tracing::Instrument as _;

/// `PUT /v1/kv/{table}/{key}`: writes an item; answers its new version.
///
/// # Errors
/// `ValidationException` for a body that is not JSON or bad names.
pub async fn put(
    State(app): State<Arc<App>>,
    Path((table, key)): Path<(String, String)>,
    AuthenticatedBody { tenant, body }: AuthenticatedBody,
) -> Result<Json<Value>> {
    let version = app
        .services
        .data
        .put(&tenant, &table, &key, &body)
        .instrument(tracing::debug_span!("api.put_item", tenant = %tenant.id))
        .await?;
    Ok(Json(
        json!({"table": table, "key": key, "version": version}),
    ))
}

/// `GET /v1/kv/{table}/{key}`: reads an item.
///
/// # Errors
/// `ResourceNotFound` (404) when absent.
pub async fn get(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
    Path((table, key)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let _span = tracing::debug_span!("api.get_item", tenant = %tenant.id).entered();
    let item = app.services.data.get(&tenant, &table, &key)?;
    Ok(Json(
        json!({"table": table, "key": key, "version": item.version, "item": item.value}),
    ))
}

/// `DELETE /v1/kv/{table}/{key}`.
///
/// # Errors
/// Authentication errors.
pub async fn delete(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
    Path((table, key)): Path<(String, String)>,
) -> Result<Json<Value>> {
    let existed = app
        .services
        .data
        .delete(&tenant, &table, &key)
        .instrument(tracing::debug_span!("api.delete_item", tenant = %tenant.id))
        .await?;
    Ok(Json(json!({"deleted": existed})))
}
