//! HTTP routes over HTTP: `PUT|GET|DELETE /v1/routes/{name}`, `GET /v1/routes` and
//! `POST /v1/routes/{name}/test` (the use cases are [`crate::service::routes`]). A route's secrets (API keys, an HMAC secret) are
//! never shown again once written.

use super::auth::{Authenticated, AuthenticatedBody};
use super::error::{Error, Result};
use super::App;
use crate::hooks::request::HookRequest;
use crate::service::routes::RouteSpec;
use crate::store::routes::{Auth, Route};
use crate::tenants::Tenant;
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
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

/// The request `POST /v1/routes/{name}/test` sends; every field has a default from the route.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TestBody {
    /// The route's method (`POST` for an `ANY` route).
    #[serde(default)]
    method: Option<String>,
    /// The route's path, which must then have no parameters.
    #[serde(default)]
    path: Option<String>,
    /// The query string, without `?`.
    #[serde(default)]
    query: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// The body as text.
    #[serde(default)]
    body: String,
}

/// `POST /v1/routes/{name}/test`: sends a test request to a route, skipping its own
/// authentication and rate limit (see [`crate::service::Routes::test`]), and answers what
/// the route answered: `{"status", "headers", "body"}`, the body as text.
///
/// # Errors
/// `NotFound` for no such route, `ValidationException` for a body that is not a test
/// request. What the route refuses is its answer, not an error of this call.
pub async fn test(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    AuthenticatedBody { tenant, body }: AuthenticatedBody,
) -> Result<Json<Value>> {
    let given: TestBody = if body.is_empty() {
        TestBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            Error::Validation(format!(
                "the body must be a test request {{\"method\"?, \"path\"?, \"query\"?, \"headers\"?, \"body\"?}}: {e}"
            ))
        })?
    };
    let routes = &app.services.routes;
    let route = routes.get(&tenant, &name)?;
    let method = given
        .method
        .map(|m| m.to_ascii_uppercase())
        .unwrap_or_else(|| match route.method.as_str() {
            "ANY" => "POST".to_string(),
            other => other.to_string(),
        });
    let request = HookRequest {
        method,
        path: given.path.unwrap_or_else(|| route.path.clone()),
        query: given.query,
        headers: given
            .headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        body: given.body.into_bytes(),
        source_ip: None,
    };
    let answer = match routes.test(&tenant, route, &request).await {
        Ok(answer) => answer,
        Err(e) => e.to_response(),
    };
    let headers: serde_json::Map<String, Value> = answer
        .headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    Ok(Json(json!({
        "status": answer.status,
        "headers": headers,
        "body": String::from_utf8_lossy(&answer.body),
    })))
}
