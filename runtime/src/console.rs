//! The web console at `/console`: state machines and executions as live graphs, with a
//! data-flow inspector. The browser code lives in `runtime/console/` and is embedded at
//! build time (see `build.rs`), so the one binary serves it offline. The console talks
//! to the same AWS JSON API as any SDK, plus two endpoints of its own: a laid-out graph
//! with diagnostics for a definition (`POST /v1/console/graph`), the data-flow trace
//! of an execution (`GET /v1/console/trace`), and who the caller is (`GET /v1/console/whoami`). It shares the API's authentication and
//! errors, and its endpoints call the same use cases (`service`); `server::router` joins
//! its routes to the API's.

pub mod assets;
pub mod graph;
pub mod layout;

use crate::api::auth::{Authenticated, AuthenticatedBody};
use crate::api::error::{Error, Result};
use crate::api::App;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use sandstep_engine::validate::{Diagnostic, MachineType, Severity};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use tracing::Instrument as _;

/// The console's routes: its files and its two endpoints.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/console", get(assets::index))
        .route("/console/", get(assets::index))
        .route("/console/{*path}", get(assets::file))
        .route("/v1/console/graph", post(graph_of))
        .route("/v1/console/trace", get(trace_of))
        .route("/v1/console/whoami", get(whoami))
}

/// `GET /v1/console/whoami`: the caller's account and the server's region, which the
/// designer's Task presets put in the ARNs they start from.
async fn whoami(State(app): State<Arc<App>>, Authenticated(tenant): Authenticated) -> Json<Value> {
    Json(json!({"account": tenant.account, "region": app.config.region}))
}

/// The most states the console draws: the issue's range is 2 to 200, and layout work
/// grows faster than linearly, so a huge or hostile definition gets a notice instead.
pub const MAX_DRAWN_STATES: usize = 1000;

/// `POST /v1/console/graph?type=STANDARD|EXPRESS` with a definition's text: the
/// validator's diagnostics and, whenever the text is a JSON object with `States`, the
/// laid-out graph, so the editor draws as the user types, mistakes and all.
async fn graph_of(
    State(app): State<Arc<App>>,
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
    let span = tracing::debug_span!("api.console_graph", tenant = %request.tenant.id);
    // Validation and layout are CPU work on user input: off the async workers.
    tokio::task::spawn_blocking(move || {
        span.in_scope(|| {
            let text = String::from_utf8_lossy(&request.body);
            let found = app
                .services
                .bindings
                .validate(&request.tenant.id, &text, machine_type)?;
            Ok(Json(describe(&text, &found)))
        })
    })
    .await
    .map_err(|e| Error::Internal(e.to_string()))?
}

/// The graph endpoint's answer for `text` and its diagnostics.
fn describe(text: &str, found: &[Diagnostic]) -> Value {
    let diagnostics: Vec<Value> = found
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
    let scope = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| graph::of_definition(&v));
    match scope {
        Some(scope) if scope.states() > MAX_DRAWN_STATES => json!({
            "diagnostics": diagnostics,
            "graph": null,
            "notice": format!(
                "The definition has {} states; the console draws up to {MAX_DRAWN_STATES}.",
                scope.states()
            ),
        }),
        scope => json!({
            "diagnostics": diagnostics,
            "graph": scope.map(|s| layout::draw(&s)),
        }),
    }
}

/// `GET /v1/console/trace?executionArn=...[&stages=none][&visit=ID]`: the state visits of
/// a Standard execution with their data at each stage (see [`sandstep_engine::trace`]);
/// `stages=none` leaves the data out, `visit` keeps only the visit entered at event `ID`.
async fn trace_of(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let arn = query
        .get("executionArn")
        .ok_or_else(|| Error::Validation("executionArn is required".into()))?;
    let span = tracing::debug_span!("api.console_trace", tenant = %tenant.id);
    let (record, trace) = app
        .services
        .executions
        .trace(&tenant, arn)
        .instrument(span)
        .await?;
    // Polling wants the visits only; the inspector asks for one visit's stages.
    let only: Option<u64> = match query.get("visit") {
        Some(v) => Some(
            v.parse()
                .map_err(|_| Error::Validation(format!("visit must be an event id, not '{v}'")))?,
        ),
        None => None,
    };
    let with_stages = match query.get("stages").map(String::as_str) {
        None | Some("all") => true,
        Some("none") => false,
        Some(other) => {
            return Err(Error::Validation(format!(
                "stages must be 'all' or 'none', not '{other}'"
            )))
        }
    };
    let visits: Vec<Value> = trace
        .visits()
        .filter(|v| only.is_none_or(|id| v.entered_event_id == id))
        .map(|v| {
            let mut json = serde_json::to_value(v).unwrap_or(Value::Null);
            if !with_stages {
                if let Some(fields) = json.as_object_mut() {
                    fields.remove("stages");
                }
            }
            json
        })
        .collect();
    Ok(Json(json!({
        "executionArn": record.arn,
        "status": record.status.as_str(),
        "visits": visits,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_definitions_get_a_notice_instead_of_a_graph() {
        let states: serde_json::Map<String, Value> = (0..=MAX_DRAWN_STATES)
            .map(|i| (format!("S{i}"), json!({"Type": "Pass", "End": true})))
            .collect();
        let body = json!({"StartAt": "S0", "States": states}).to_string();
        let answer = describe(&body, &[]);
        assert_eq!(answer["graph"], Value::Null);
        assert!(answer["notice"].as_str().unwrap().contains("1001 states"));
        let small = describe(
            r#"{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}"#,
            &[],
        );
        assert_eq!(small["graph"]["nodes"].as_array().unwrap().len(), 3);
        assert!(small.get("notice").is_none());
    }
}
