//! What the event buses keep besides the EventBridge API: `GET /v1/buses/{bus}/dead-letters`
//! (deliveries given up, with why) and `GET /v1/buses/{bus}/tail` (the latest events put
//! on the bus, kept in memory), for the CLI and the console.

use super::auth::Authenticated;
use super::error::Result;
use super::App;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;

/// The most dead letters one answer lists.
const LIMIT: usize = 1000;

/// `GET /v1/buses/{bus}/dead-letters`.
///
/// # Errors
/// Authentication errors.
pub async fn dead_letters(
    State(app): State<Arc<App>>,
    Path(bus): Path<String>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    let letters = app.services.events.dead_letters(&tenant, &bus, LIMIT)?;
    let rendered: Vec<Value> = letters
        .iter()
        .map(|l| {
            let d = &l.delivery;
            json!({
                "id": d.id,
                "rule": d.rule,
                "targetId": d.target.id,
                "targetArn": d.target.arn,
                "attempts": d.attempts,
                "error": d.last_error,
                "accepted": d.accepted as f64 / 1000.0,
                "failed": l.failed as f64 / 1000.0,
                "event": serde_json::from_str::<Value>(&d.event).unwrap_or(Value::Null),
            })
        })
        .collect();
    Ok(Json(json!({ "deadLetters": rendered })))
}

/// `GET /v1/buses/{bus}/tail`.
///
/// # Errors
/// Authentication errors.
pub async fn tail(
    State(app): State<Arc<App>>,
    Path(bus): Path<String>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    Ok(Json(
        json!({ "events": app.services.events.tail(&tenant.id, &bus) }),
    ))
}
