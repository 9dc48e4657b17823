//! Requests to routes: `/hooks/{account}{path}`, any method. The account names the tenant
//! (its 12-digit id); the tenant's most specific route for the method and path answers.
//! The body is read under the route's own limit, a SigV4 route's signature is checked here
//! (with the tenant's credentials, service `execute-api`), and the rest is
//! [`crate::service::routes`]. Answers are sent as the route made them, never reshaped.

use super::auth;
use super::error::Verbatim;
use super::App;
use crate::hooks::request::HookRequest;
use crate::hooks::response::HookResponse;
use crate::service::routes::HookError;
use crate::store::routes::Auth;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// `ANY /hooks/{account}` and `ANY /hooks/{account}/{*path}`.
pub async fn handle(
    State(app): State<Arc<App>>,
    Path(params): Path<Vec<(String, String)>>,
    req: Request,
) -> Response {
    let account = params.first().map(|(_, v)| v.clone()).unwrap_or_default();
    match answer(&app, &account, req).await {
        Ok(response) => send(response),
        Err(e) => send(e.to_response()),
    }
}

async fn answer(app: &App, account: &str, req: Request) -> Result<HookResponse, HookError> {
    let (parts, body) = req.into_parts();
    let prefix = format!("/hooks/{account}");
    let path = parts.uri.path().strip_prefix(&prefix).unwrap_or("/");
    let path = if path.is_empty() { "/" } else { path };
    let method = parts.method.as_str().to_ascii_uppercase();
    let no_route = || HookError::NoRoute(format!("{method} {path}"));
    let tenant = app.tenant_of_account(account).ok_or_else(no_route)?;
    if let Some(cluster) = &app.config.cluster {
        if !cluster.runs(&tenant.id) {
            tracing::warn!(tenant = %tenant.id, "a route's call reached a server that does not run its tenant");
            return Err(HookError::Unavailable);
        }
    }
    let matched = app.services.routes.find(&tenant, &method, path)?;
    let limit = matched.route.max_body_bytes;
    let body = axum::body::to_bytes(body, usize::try_from(limit).unwrap_or(usize::MAX))
        .await
        .map_err(|_| HookError::TooLarge(limit))?;
    if matched.route.auth == Auth::Sigv4 {
        let caller = auth::Caller {
            service: "execute-api",
            ..auth::caller_of(&parts, &body)
        };
        let signer =
            auth::authenticate(app, &caller).map_err(|e| HookError::Unauthorized(e.to_string()))?;
        if signer.id != tenant.id {
            return Err(HookError::Forbidden(
                "The request is signed by another tenant's credentials".into(),
            ));
        }
    }
    let request = HookRequest {
        method,
        path: path.to_string(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect(),
        body: body.to_vec(),
        source_ip: auth::Peer::of(&parts).map(|p| p.ip().to_string()),
    };
    app.services.routes.call(&tenant, &matched, &request).await
}

fn send(r: HookResponse) -> Response {
    let mut response = (
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::OK),
        r.body,
    )
        .into_response();
    for (name, value) in r.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().append(name, value);
        }
    }
    response.extensions_mut().insert(Verbatim);
    response
}
