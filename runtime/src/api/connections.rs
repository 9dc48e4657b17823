//! Connections over HTTP: `PUT /v1/connections/{name}` with `{"baseUrls": [...], "auth":
//! {"type": "API_KEY", "header", "value"} | {"type": "BASIC", "username", "password"} |
//! {"type": "OAUTH_CLIENT_CREDENTIALS", "tokenUrl", "clientId", "clientSecret", "scope"}}`,
//! `GET /v1/connections`, `GET|DELETE /v1/connections/{name}`. Secrets are write-only: no
//! answer carries them. The use cases are [`crate::service::connections`].

use super::auth::{Authenticated, AuthenticatedBody};
use super::error::{Error, Result};
use super::App;
use crate::service::connections::{Credentials, NewConnection, Secret};
use crate::store::connections::Connection;
use crate::tenants::Tenant;
use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

fn render(app: &App, tenant: &Tenant, c: &Connection) -> Value {
    json!({
        "name": c.name,
        "connectionArn": app.services.connections.arn(tenant, &c.name),
        "baseUrls": c.base_urls,
        // The kind and what is not secret; the secret is never answered.
        "auth": c.auth,
        "created": c.created as f64 / 1000.0,
        "modified": c.modified as f64 / 1000.0,
    })
}

/// The body of `PUT /v1/connections/{name}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct PutConnection {
    base_urls: Vec<String>,
    auth: AuthInput,
}

/// Credentials as the body gives them.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE", deny_unknown_fields)]
enum AuthInput {
    ApiKey {
        header: String,
        value: String,
    },
    Basic {
        username: String,
        password: String,
    },
    OauthClientCredentials {
        #[serde(rename = "tokenUrl")]
        token_url: String,
        #[serde(rename = "clientId")]
        client_id: String,
        #[serde(rename = "clientSecret")]
        client_secret: String,
        #[serde(default)]
        scope: Option<String>,
    },
}

/// `PUT /v1/connections/{name}`.
///
/// # Errors
/// `ValidationException` for a malformed body, name, URL or credentials, or a server
/// without a secret key.
pub async fn put(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    AuthenticatedBody { tenant, body }: AuthenticatedBody,
) -> Result<Json<Value>> {
    let body: PutConnection = serde_json::from_slice(&body).map_err(|e| {
        // serde quotes a value of the wrong type: say where instead, a secret may be it.
        let text = e.to_string();
        let why = match text.contains("invalid type") || text.contains("invalid value") {
            true => format!("a field has the wrong type at line {}, column {}", e.line(), e.column()),
            false => text,
        };
        Error::Validation(format!(
            "the body must be {{\"baseUrls\": [\"https://api.example.com/\"], \"auth\": {{\"type\": \"API_KEY\" | \"BASIC\" | \"OAUTH_CLIENT_CREDENTIALS\", ...}}}}: {why}"
        ))
    })?;
    let credentials = match body.auth {
        AuthInput::ApiKey { header, value } => Credentials::ApiKey {
            header,
            value: Secret(value),
        },
        AuthInput::Basic { username, password } => Credentials::Basic {
            username,
            password: Secret(password),
        },
        AuthInput::OauthClientCredentials {
            token_url,
            client_id,
            client_secret,
            scope,
        } => Credentials::OauthClientCredentials {
            token_url,
            client_id,
            client_secret: Secret(client_secret),
            scope,
        },
    };
    let saved = app.services.connections.put(
        &tenant,
        &name,
        NewConnection {
            base_urls: body.base_urls,
            credentials,
        },
    )?;
    Ok(Json(render(&app, &tenant, &saved)))
}

/// `GET /v1/connections`.
///
/// # Errors
/// Authentication errors.
pub async fn list(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    let connections: Vec<Value> = app
        .services
        .connections
        .list(&tenant)?
        .iter()
        .map(|c| render(&app, &tenant, c))
        .collect();
    Ok(Json(json!({ "connections": connections })))
}

/// `GET /v1/connections/{name}`.
///
/// # Errors
/// `ResourceNotFound`.
pub async fn get(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    let c = app.services.connections.get(&tenant, &name)?;
    Ok(Json(render(&app, &tenant, &c)))
}

/// `DELETE /v1/connections/{name}`.
///
/// # Errors
/// `ResourceNotFound`.
pub async fn delete(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    app.services.connections.delete(&tenant, &name)?;
    Ok(Json(json!({"deleted": name})))
}
