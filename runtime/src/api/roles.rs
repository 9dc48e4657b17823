//! Roles over HTTP: `PUT /v1/roles/{name}` with `{"grants": ["kv:orders", ...]}` (or one
//! comma-separated string), `GET /v1/roles`, `GET|DELETE /v1/roles/{name}`. A role's ARN is
//! `arn:aws:iam::<account>:role/<name>`, what a state machine's `roleArn` names. The use
//! cases are [`crate::service::roles`].

use super::auth::{Authenticated, AuthenticatedBody};
use super::error::{Error, Result};
use super::App;
use crate::store::roles::Role;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

fn render(account: &str, role: &Role) -> Value {
    json!({
        "name": role.name,
        "roleArn": format!("arn:aws:iam::{account}:role/{}", role.name),
        "grants": role.grants,
        "modified": role.modified as f64 / 1000.0,
    })
}

/// `PUT /v1/roles/{name}`.
///
/// # Errors
/// `ValidationException` for a body without grants; invalid names and grants.
pub async fn put(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    AuthenticatedBody { tenant, body }: AuthenticatedBody,
) -> Result<Json<Value>> {
    let body: Value = serde_json::from_slice(&body).map_err(|e| {
        Error::Validation(format!(
            "the body must be {{\"grants\": [\"kv:orders\", ...]}}: {e}"
        ))
    })?;
    let grants: Vec<String> = match body.get("grants") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|g| g.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| Error::Validation("grants must be strings".into()))?,
        _ => {
            return Err(Error::Validation(
                "the body must be {\"grants\": [\"kv:orders\", ...]}".into(),
            ))
        }
    };
    let role = app.services.roles.put(&tenant, &name, &grants)?;
    Ok(Json(render(&tenant.account, &role)))
}

/// `GET /v1/roles`.
///
/// # Errors
/// Authentication errors.
pub async fn list(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    let roles: Vec<Value> = app
        .services
        .roles
        .list(&tenant)?
        .iter()
        .map(|r| render(&tenant.account, r))
        .collect();
    Ok(Json(json!({ "roles": roles })))
}

/// `GET /v1/roles/{name}`.
///
/// # Errors
/// `ResourceNotFound`.
pub async fn get(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    let role = app.services.roles.get(&tenant, &name)?;
    Ok(Json(render(&tenant.account, &role)))
}

/// `DELETE /v1/roles/{name}`.
///
/// # Errors
/// `ResourceNotFound`.
pub async fn delete(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    app.services.roles.delete(&tenant, &name)?;
    Ok(Json(json!({"deleted": name})))
}
