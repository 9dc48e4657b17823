//! Resource bindings over HTTP: `PUT /v1/bindings` with `{"resource": PATTERN, "module":
//! "name[:version]"}`, `GET /v1/bindings`, `DELETE /v1/bindings?resource=PATTERN`. A
//! pattern is an exact Task resource or a prefix ending in `*`; the most specific one
//! wins. The use cases are [`crate::service::bindings`].

use super::auth::{Authenticated, AuthenticatedBody};
use super::error::{Error, Result};
use super::App;
use crate::store::bindings::Binding;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

fn render(binding: &Binding) -> Value {
    let module = match binding.version {
        Some(v) => format!("{}:{v}", binding.module),
        None => binding.module.clone(),
    };
    json!({
        "resource": binding.resource,
        "module": module,
        "modified": binding.modified as f64 / 1000.0,
    })
}

/// The body of `PUT /v1/bindings`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutBinding {
    resource: String,
    module: String,
}

/// `PUT /v1/bindings`.
///
/// # Errors
/// `ValidationException` for a malformed body or pattern; `ResourceNotFound` for a
/// module that does not exist.
pub async fn put(
    State(app): State<Arc<App>>,
    AuthenticatedBody { tenant, body }: AuthenticatedBody,
) -> Result<Json<Value>> {
    let body: PutBinding = serde_json::from_slice(&body).map_err(|e| {
        Error::Validation(format!(
            "the body must be {{\"resource\": \"arn:aws:states:::aws-sdk:translate:*\", \"module\": \"name[:version]\"}}: {e}"
        ))
    })?;
    let binding = app
        .services
        .bindings
        .put(&tenant, &body.resource, &body.module)?;
    Ok(Json(render(&binding)))
}

/// `GET /v1/bindings`.
///
/// # Errors
/// Authentication errors.
pub async fn list(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    let bindings: Vec<Value> = app
        .services
        .bindings
        .list(&tenant)?
        .iter()
        .map(render)
        .collect();
    Ok(Json(json!({ "bindings": bindings })))
}

/// `DELETE /v1/bindings?resource=PATTERN`.
///
/// # Errors
/// `ValidationException` without `resource`; `ResourceNotFound`.
pub async fn delete(
    State(app): State<Arc<App>>,
    Query(query): Query<HashMap<String, String>>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    let resource = query
        .get("resource")
        .ok_or_else(|| Error::Validation("resource (the binding's pattern) is required".into()))?;
    app.services.bindings.delete(&tenant, resource)?;
    Ok(Json(json!({"deleted": resource})))
}
