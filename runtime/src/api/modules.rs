//! The module API: `PUT /v1/modules/{name}` uploads a new version (body = the `.wasm`
//! bytes; grants in the query, `?grants=kv:orders,queue:shipments:write`), `GET` lists
//! and describes, `DELETE` removes a module or one version, refused while a running
//! execution pins it. The use cases are [`crate::service::modules`].

use super::auth::{Authenticated, AuthenticatedBody};
use super::error::Result;
use super::App;
use crate::store::modules::ModuleVersion;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use tracing::Instrument as _;

/// A module version as the API shows it.
pub fn render(m: &ModuleVersion) -> Value {
    json!({
        "name": m.name,
        "version": m.version,
        "sha256": m.sha256,
        "kind": m.kind.as_str(),
        "size": m.size,
        "imports": m.imports,
        "exports": m.exports,
        "grants": m.grants.to_strings(),
        "created": m.created as f64 / 1000.0,
    })
}

/// `PUT /v1/modules/{name}`. The query is read as a map, not a struct, so that a
/// repeated `grants` keeps meaning its last value.
///
/// # Errors
/// `InvalidModule` for bytes that are not a valid module (nothing is stored),
/// `ValidationException` for bad grants or names and for code over the compile limits
/// ([`CodeLimits`](crate::sandbox::CodeLimits)) or budget, `ThrottlingException` over the quota.
pub async fn upload(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    AuthenticatedBody { tenant, body }: AuthenticatedBody,
) -> Result<Json<Value>> {
    let span = tracing::debug_span!("api.upload_module", tenant = %tenant.id);
    let grants = query.get("grants").map(String::as_str);
    let registered = app
        .services
        .modules
        .upload(&tenant, &name, body.to_vec(), grants)
        .instrument(span)
        .await?;
    Ok(Json(render(&registered)))
}

/// `GET /v1/modules`: the latest version of each module.
///
/// # Errors
/// Authentication errors.
pub async fn list(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    let _span = tracing::debug_span!("api.list_modules", tenant = %tenant.id).entered();
    let modules: Vec<Value> = app
        .services
        .modules
        .list(&tenant)?
        .iter()
        .map(render)
        .collect();
    Ok(Json(json!({"modules": modules})))
}

/// `GET /v1/modules/{name}`: every version.
///
/// # Errors
/// `ResourceNotFound` (404) when there is no such module.
pub async fn describe(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    let _span = tracing::debug_span!("api.describe_module", tenant = %tenant.id).entered();
    let versions = app.services.modules.versions(&tenant, &name)?;
    Ok(Json(
        json!({"name": name, "versions": versions.iter().map(render).collect::<Vec<_>>()}),
    ))
}

/// `DELETE /v1/modules/{name}`: every version.
///
/// # Errors
/// `ModuleInUse` while a running execution pins it, `ResourceNotFound` (404).
pub async fn delete(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    let _span = tracing::debug_span!("api.delete_module", tenant = %tenant.id).entered();
    let deleted = app.services.modules.delete(&tenant, &name, None)?;
    Ok(Json(json!({"deleted": deleted})))
}

/// `DELETE /v1/modules/{name}/versions/{version}`.
///
/// # Errors
/// `ModuleInUse` while a running execution pins it, `ResourceNotFound` (404).
pub async fn delete_version(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
    Path((name, version)): Path<(String, u32)>,
) -> Result<Json<Value>> {
    let _span = tracing::debug_span!("api.delete_module_version", tenant = %tenant.id).entered();
    let deleted = app.services.modules.delete(&tenant, &name, Some(version))?;
    Ok(Json(json!({"deleted": deleted})))
}
