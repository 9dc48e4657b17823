//! The web console at `/console`: state machines and executions as live graphs, with a
//! data-flow inspector. The browser code lives in `runtime/console/` and is embedded at
//! build time (see `build.rs`), so the one binary serves it offline. The console talks
//! to the same AWS JSON API as any SDK, plus two endpoints of its own: a laid-out graph
//! with diagnostics for a definition (`POST /v1/console/graph`), and the data-flow trace
//! of an execution (`GET /v1/console/trace`).

pub mod assets;
pub mod graph;
pub mod layout;

use crate::api::auth::{Authenticated, AuthenticatedBody};
use crate::api::aws::execution_key;
use crate::api::aws::executions::scheduler_error;
use crate::api::error::{Error, Result};
use crate::api::App;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use sandstep_engine::validate::{validate, MachineType, Severity};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The console's routes: its files and its two endpoints.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/console", get(assets::index))
        .route("/console/", get(assets::index))
        .route("/console/{*path}", get(assets::file))
        .route("/v1/console/graph", post(graph_of))
        .route("/v1/console/trace", get(trace_of))
}

/// `POST /v1/console/graph?type=STANDARD|EXPRESS` with a definition's text: the
/// validator's diagnostics and, whenever the text is a JSON object with `States`, the
/// laid-out graph, so the editor draws as the user types, mistakes and all.
async fn graph_of(
    Query(query): Query<HashMap<String, String>>,
    request: AuthenticatedBody,
) -> Result<Json<Value>> {
    let machine_type = match query.get("type").map(String::as_str) {
        None | Some("STANDARD") => MachineType::Standard,
        Some("EXPRESS") => MachineType::Express,
        Some(other) => {
            return Err(Error::Validation(format!(
                "Value '{other}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
            )))
        }
    };
    let text = String::from_utf8_lossy(&request.body);
    let diagnostics: Vec<Value> = validate(&text, machine_type)
        .iter()
        .map(|d| {
            json!({
                "severity": match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                "code": d.code,
                "location": d.location,
                "message": d.message,
            })
        })
        .collect();
    let drawing = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| graph::of_definition(&v))
        .map(|scope| layout::draw(&scope));
    Ok(Json(json!({"diagnostics": diagnostics, "graph": drawing})))
}

/// `GET /v1/console/trace?executionArn=...`: every state visit of a Standard execution
/// with its data at each stage (see [`sandstep_engine::trace`]).
async fn trace_of(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let arn = query
        .get("executionArn")
        .ok_or_else(|| Error::Validation("executionArn is required".into()))?;
    let (key, express) = execution_key(&app, &tenant, arn)?;
    if express {
        return Err(Error::StateMachineTypeNotSupported(
            "This operation is not supported by EXPRESS state machines".into(),
        ));
    }
    let scheduler = app.scheduler.clone();
    let found = tokio::task::spawn_blocking(move || scheduler.trace(&key))
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
        .map_err(scheduler_error)?;
    let Some((record, trace)) = found else {
        return Err(Error::ExecutionDoesNotExist(format!(
            "Execution Does Not Exist: '{arn}'"
        )));
    };
    Ok(Json(json!({
        "executionArn": record.arn,
        "status": record.status.as_str(),
        "visits": trace.visits().collect::<Vec<_>>(),
    })))
}
