//! SendTaskSuccess, SendTaskFailure, SendTaskHeartbeat: typed inputs, the use case in
//! [`crate::service::callbacks`], AWS's (empty) answers.

use crate::api::error::Result;
use crate::api::params::{constraints, decode, longer_than, Input, Params};
use crate::api::App;
use crate::service::callbacks::{Answer, MAX_CAUSE_CHARS, MAX_ERROR_CHARS};
use crate::tenants::Tenant;
use serde::Deserialize;
use serde_json::{json, Value};

/// The longest `taskToken` AWS accepts, in characters.
const MAX_TOKEN_CHARS: usize = 2048;
/// The longest `output` AWS accepts, in characters.
const MAX_OUTPUT_CHARS: usize = 262_144;

/// Checks a string field against AWS's length bounds (1 to `max` characters).
fn bounded(p: &Params, field: &str, max: usize, required: bool, sensitive: bool) -> Result<()> {
    let value = match required {
        true => Some(p.str(field)?),
        false => p.opt_str(field)?,
    };
    let Some(value) = value else {
        return Ok(());
    };
    let mut failed: Vec<String> = longer_than(value, max).into_iter().collect();
    if required && value.is_empty() {
        failed.push("have length greater than or equal to 1".into());
    }
    constraints(field, value, sensitive, &failed)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendTaskSuccessInput {
    task_token: String,
    output: String,
}

impl Input for SendTaskSuccessInput {
    fn check(p: &Params) -> Result<()> {
        bounded(p, "taskToken", MAX_TOKEN_CHARS, true, false)?;
        bounded(p, "output", MAX_OUTPUT_CHARS, true, true)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendTaskFailureInput {
    task_token: String,
    error: Option<String>,
    cause: Option<String>,
}

impl Input for SendTaskFailureInput {
    fn check(p: &Params) -> Result<()> {
        bounded(p, "taskToken", MAX_TOKEN_CHARS, true, false)?;
        bounded(p, "error", MAX_ERROR_CHARS, false, true)?;
        bounded(p, "cause", MAX_CAUSE_CHARS, false, true)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendTaskHeartbeatInput {
    task_token: String,
}

impl Input for SendTaskHeartbeatInput {
    fn check(p: &Params) -> Result<()> {
        bounded(p, "taskToken", MAX_TOKEN_CHARS, true, false)
    }
}

/// `SendTaskSuccess`.
pub(super) async fn success(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: SendTaskSuccessInput = decode(p)?;
    let answer = Answer::Success(input.output);
    app.services
        .callbacks
        .send(tenant, &input.task_token, answer)
        .await?;
    Ok(json!({}))
}

/// `SendTaskFailure`.
pub(super) async fn failure(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: SendTaskFailureInput = decode(p)?;
    let answer = Answer::Failure {
        error: input.error,
        cause: input.cause,
    };
    app.services
        .callbacks
        .send(tenant, &input.task_token, answer)
        .await?;
    Ok(json!({}))
}

/// `SendTaskHeartbeat`.
pub(super) async fn heartbeat(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: SendTaskHeartbeatInput = decode(p)?;
    let answer = Answer::Heartbeat;
    app.services
        .callbacks
        .send(tenant, &input.task_token, answer)
        .await?;
    Ok(json!({}))
}
