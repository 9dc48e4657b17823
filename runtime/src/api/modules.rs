//! The module API: `PUT /v1/modules/{name}` uploads a new version (body = the `.wasm`
//! bytes; grants in the query, `?grants=kv:orders,queue:shipments:write`), `GET` lists
//! and describes, `DELETE` removes a module or one version, refused while a running
//! execution pins it.

use super::auth::{Authenticated, AuthenticatedBody};
use super::error::{Error, Result};
use super::App;
use crate::grants::Grants;
use crate::store::modules::ModuleVersion;
use crate::store::{Executions, Modules};
use crate::tenants::Tenant;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegisterError {
    /// The bytes are not an acceptable module; the message names the reason.
    #[error("{0}")]
    Invalid(String),
    /// The module's code is over a compile limit or budget (a value out of range, so
    /// `ValidationException`); the message names the limit.
    #[error("{0}")]
    OverLimit(String),
    /// Storing failed.
    #[error("{0}")]
    Store(String),
}

/// The module host of a build without the sandbox: refuses every upload.
#[derive(Debug)]
pub struct NoModules;

impl super::ModuleHost for NoModules {
    fn register(
        &self,
        _: &Tenant,
        _: &str,
        _: &[u8],
        _: Grants,
    ) -> std::result::Result<ModuleVersion, RegisterError> {
        Err(RegisterError::Invalid(
            "this build has no WebAssembly sandbox".into(),
        ))
    }
}

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

fn check_name(name: &str) -> Result<()> {
    if crate::grants::valid_name(name) {
        Ok(())
    } else {
        Err(Error::Validation(format!(
            "Invalid module name '{name}': 1-128 characters of letters, digits, '-', '_' and '.'"
        )))
    }
}

/// `PUT /v1/modules/{name}`.
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
    check_name(&name)?;
    if body.len() as u64 > tenant.quotas.max_module_bytes {
        return Err(Error::Throttling(format!(
            "The module is {} bytes, above the tenant's limit of {} bytes",
            body.len(),
            tenant.quotas.max_module_bytes
        )));
    }
    let grants = Grants::parse(query.get("grants").map(String::as_str))
        .map_err(|e| Error::Validation(e.to_string()))?;
    let modules = Arc::clone(&app.modules);
    let bytes = body.to_vec();
    let registered = tokio::task::spawn_blocking(move || {
        match modules.register(&tenant, &name, &bytes, grants) {
            Ok(m) => Ok(m),
            Err(RegisterError::Invalid(reason)) => Err(Error::InvalidModule(reason)),
            Err(RegisterError::OverLimit(reason)) => {
                Err(Error::Validation(format!("Module refused: {reason}")))
            }
            Err(RegisterError::Store(e)) => Err(Error::Internal(e)),
        }
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Json(render(&registered?)))
}

/// `GET /v1/modules`: the latest version of each module.
///
/// # Errors
/// Authentication errors.
pub async fn list(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    let modules: Vec<Value> = app
        .store
        .module_list(&tenant.id)?
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
    let versions = app.store.module_versions(&tenant.id, &name)?;
    if versions.is_empty() {
        return Err(Error::NotFound(format!("Module '{name}' does not exist")));
    }
    Ok(Json(
        json!({"name": name, "versions": versions.iter().map(render).collect::<Vec<_>>()}),
    ))
}

/// Refuses while a running execution of the tenant pins `name` (at `version`, or any):
/// one lookup in the store's pin index.
fn check_unpinned(app: &App, tenant: &Tenant, name: &str, version: Option<u32>) -> Result<()> {
    match app.store.pinned_by(&tenant.id, name, version)? {
        Some(key) => Err(Error::ModuleInUse(format!(
            "Module '{name}' is pinned by the running execution {}",
            crate::arn::execution(
                &app.config.region,
                &tenant.account,
                &key.machine,
                &key.name,
                false
            )
        ))),
        None => Ok(()),
    }
}

async fn remove(
    app: &App,
    tenant: &Tenant,
    name: &str,
    version: Option<u32>,
) -> Result<Json<Value>> {
    check_unpinned(app, tenant, name, version)?;
    let deleted = app.store.module_delete(&tenant.id, name, version)?;
    if deleted == 0 {
        return Err(Error::NotFound(match version {
            Some(v) => format!("Module '{name}' has no version {v}"),
            None => format!("Module '{name}' does not exist"),
        }));
    }
    Ok(Json(json!({"deleted": deleted})))
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
    remove(&app, &tenant, &name, None).await
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
    remove(&app, &tenant, &name, Some(version)).await
}
