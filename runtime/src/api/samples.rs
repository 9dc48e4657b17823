//! The sample projects over HTTP: `GET /v1/samples` lists them, `GET /v1/samples/{name}`
//! shows one with its example inputs, and `POST /v1/samples/{name}/install` installs it
//! into the caller's tenant (what the console's "New from sample" and `sandstep sample
//! install` call). The use case is [`crate::service::samples`].

use super::auth::{Authenticated, AuthenticatedBody};
use super::browse::{endpoint, host};
use super::error::{Error, Result};
use super::App;
use crate::samples::{self, Sample};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::Json;
use serde_json::{json, Map, Value};
use std::sync::Arc;

fn summary(sample: &Sample) -> Map<String, Value> {
    let m = &sample.manifest;
    let mut shown = Map::new();
    shown.insert("name".into(), json!(sample.name));
    shown.insert("title".into(), json!(m.title));
    shown.insert("category".into(), json!(m.category));
    shown.insert("summary".into(), json!(m.summary));
    shown.insert("main".into(), json!(m.main));
    shown
}

/// `GET /v1/samples`.
///
/// # Errors
/// Authentication errors.
pub async fn list(
    State(app): State<Arc<App>>,
    Authenticated(_): Authenticated,
) -> Result<Json<Value>> {
    let all = app.services.samples.list()?;
    Ok(Json(
        json!({"samples": all.iter().map(summary).collect::<Vec<_>>()}),
    ))
}

/// `GET /v1/samples/{name}`: the summary and the example inputs' text.
///
/// # Errors
/// `ResourceNotFound` for an unknown sample.
pub async fn get(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Authenticated(_): Authenticated,
) -> Result<Json<Value>> {
    let sample = app.services.samples.get(&name)?;
    let mut inputs = Map::new();
    for (label, file) in &sample.manifest.inputs {
        let text = samples::text(&sample.name, file).map_err(|e| Error::Internal(e.to_string()))?;
        inputs.insert(label.clone(), Value::String(text.to_string()));
    }
    let mut shown = summary(&sample);
    shown.insert("inputs".into(), Value::Object(inputs));
    Ok(Json(Value::Object(shown)))
}

/// `POST /v1/samples/{name}/install`: what was done, step by step, and the main state
/// machine's ARN.
///
/// # Errors
/// `ResourceNotFound` for an unknown sample; a failed step's own error, its message
/// naming the step.
pub async fn install(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    AuthenticatedBody { tenant, .. }: AuthenticatedBody,
) -> Result<Json<Value>> {
    let base = endpoint(host(&headers));
    let installed = app.services.samples.install(&tenant, &name, &base).await?;
    Ok(Json(json!({
        "sample": installed.sample,
        "done": installed.done,
        "stateMachineArn": installed.machine_arn,
    })))
}
