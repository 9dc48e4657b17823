//! HTTP routes over HTTP: `PUT|GET|DELETE /v1/routes/{name}` and `GET /v1/routes` (the use
//! cases are [`crate::service::routes`]). A route's secrets (API keys, an HMAC secret) are
//! never shown again once written.

use super::auth::{Authenticated, AuthenticatedBody};
use super::error::{Error, Result};
use super::App;
use crate::service::routes::RouteSpec;
use crate::store::routes::{Auth, Route};
use crate::tenants::Tenant;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

/// A route as the API shows it: its settings, its URL path, and no secrets.
pub fn render(tenant: &Tenant, route: &Route) -> Value {
    let auth = match &route.auth {
        Auth::None => json!({"type": "none"}),
        Auth::Sigv4 => json!({"type": "sigv4"}),
        Auth::ApiKey { header, key_hashes } => {
            json!({"type": "apiKey", "header": header, "keyCount": key_hashes.len()})
        }
        Auth::Hmac(check) => json!({
            "type": "hmac",
            "style": check.style,
            "header": check.signature_header(),
            "timestampHeader": check.timestamp_header,
            "toleranceSeconds": check.tolerance_seconds,
        }),
    };
    json!({
        "name": route.name,
        "method": route.method,
        "path": route.path,
        "url": crate::service::Routes::url_path(tenant, route),
        "stateMachineArn": route.state_machine_arn,
        "mode": route.mode,
        "auth": auth,
        "input": route.input,
        "rateLimit": route.rate_limit,
        "maxBodyBytes": route.max_body_bytes,
        "errors": route.errors,
        "modified": route.modified as f64 / 1000.0,
    })
}

/// `PUT /v1/routes/{name}`: creates or replaces a route.
///
/// # Errors
/// `ValidationException` for a body that is not a route or breaks a rule,
/// `StateMachineDoesNotExist`, `ResourceInUse` when another route has its method and path.
pub async fn put(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    AuthenticatedBody { tenant, body }: AuthenticatedBody,
) -> Result<Json<Value>> {
    let spec: RouteSpec = serde_json::from_slice(&body).map_err(|e| {
        Error::Validation(format!(
            "the body must be a route {{\"method\", \"path\", \"stateMachineArn\", \"mode\", \"auth\", \"input\"?, \"rateLimit\"?, \"maxBodyBytes\"?, \"errors\"?}}: {e}"
        ))
    })?;
    let route = app.services.routes.put(&tenant, &name, spec).await?;
    Ok(Json(render(&tenant, &route)))
}

/// `GET /v1/routes`.
///
/// # Errors
/// Authentication errors.
pub async fn list(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    let routes = app.services.routes.list(&tenant)?;
    let rendered: Vec<Value> = routes.iter().map(|r| render(&tenant, r)).collect();
    Ok(Json(json!({ "routes": rendered })))
}

/// `GET /v1/routes/{name}`.
///
/// # Errors
/// `NotFound` for no such route.
pub async fn get(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    let route = app.services.routes.get(&tenant, &name)?;
    Ok(Json(render(&tenant, &route)))
}

/// `DELETE /v1/routes/{name}`.
///
/// # Errors
/// `NotFound` for no such route.
pub async fn delete(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    app.services.routes.delete(&tenant, &name).await?;
    Ok(Json(json!({})))
}
