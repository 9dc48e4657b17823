//! The tenant's key-value tables over HTTP, for seeding and inspecting what task modules
//! read and write: `PUT /v1/kv/{table}/{key}` (body: a JSON item), `GET`, `DELETE`.

use super::auth::{Authenticated, AuthenticatedBody};
use super::error::{Error, Result};
use super::App;
use crate::store::{Expect, Kv};
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

fn names(table: &str, key: &str) -> Result<()> {
    if !crate::grants::valid_name(table) || key.is_empty() || key.len() > 1024 {
        return Err(Error::Validation(format!("Invalid table '{table}' or key (tables: 1-128 letters, digits, '-', '_', '.'; keys: 1-1024 bytes)")));
    }
    Ok(())
}

/// `PUT /v1/kv/{table}/{key}`: writes an item; answers its new version.
///
/// # Errors
/// `ValidationException` for a body that is not JSON or bad names.
pub async fn put(
    State(app): State<Arc<App>>,
    Path((table, key)): Path<(String, String)>,
    AuthenticatedBody { tenant, body }: AuthenticatedBody,
) -> Result<Json<Value>> {
    names(&table, &key)?;
    let item: Value = serde_json::from_slice(&body)
        .map_err(|e| Error::Validation(format!("The item is not JSON: {e}")))?;
    let version = app
        .store
        .kv_put(&tenant.id, &table, &key, &item.to_string(), Expect::Any)?;
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
    names(&table, &key)?;
    match app.store.kv_get(&tenant.id, &table, &key)? {
        Some(item) => {
            let value: Value =
                serde_json::from_str(&item.value).unwrap_or(Value::String(item.value));
            Ok(Json(
                json!({"table": table, "key": key, "version": item.version, "item": value}),
            ))
        }
        None => Err(Error::NotFound(format!(
            "No item '{key}' in table '{table}'"
        ))),
    }
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
    names(&table, &key)?;
    let existed = app.store.kv_delete(&tenant.id, &table, &key)?;
    Ok(Json(json!({"deleted": existed})))
}
