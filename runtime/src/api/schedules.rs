//! Schedules over HTTP: `PUT|GET|DELETE /v1/schedules/{name}` (`?group=`) and
//! `GET /v1/schedules` (`?group=`). A schedule shows its next five fire times. The use
//! cases are [`crate::service::schedules`].
//!
//! ```json
//! {"expression": "cron(0 9 ? * MON-FRI *)", "timezone": "Europe/Berlin",
//!  "target": {"arn": "arn:aws:states:...:stateMachine:report", "input": "{}"},
//!  "state": "ENABLED", "missedFires": "fireOnce", "startDate": "2027-01-01T00:00:00Z"}
//! ```

use super::auth::{Authenticated, AuthenticatedBody};
use super::error::{Error, Result};
use super::App;
use crate::service::schedules::ScheduleSpec;
use crate::store::schedules::{Action, Missed, ScheduleDef};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;

/// `?group=`.
#[derive(Debug, Deserialize)]
pub struct Group {
    group: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TargetBody {
    arn: String,
    #[serde(default)]
    input: Option<Value>,
    #[serde(default)]
    role_arn: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ScheduleBody {
    expression: String,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(default)]
    start_date: Option<Value>,
    #[serde(default)]
    end_date: Option<Value>,
    #[serde(default)]
    state: Option<String>,
    target: TargetBody,
    #[serde(default)]
    missed_fires: Option<Missed>,
    #[serde(default)]
    delete_after_completion: bool,
    #[serde(default)]
    description: Option<String>,
}

/// A date given as ISO 8601 text or epoch seconds.
fn date(value: Option<Value>, field: &str) -> Result<Option<i64>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64().map(|s| (s * 1000.0) as i64)),
        Some(Value::String(s)) => sandstep_engine::timestamp::parse_millis(&s)
            .map(Some)
            .ok_or_else(|| {
                Error::Validation(format!("{field} '{s}' is not an ISO 8601 date-time"))
            }),
        Some(other) => Err(Error::Validation(format!(
            "{field} must be a date-time, not {other}"
        ))),
    }
}

/// A schedule as the API shows it, with its next fires.
pub fn render(def: &ScheduleDef, next: &[i64]) -> Value {
    let iso = |ms: i64| sandstep_engine::timestamp::format_millis(ms);
    let target = match &def.action {
        Action::StartExecution {
            arn,
            input,
            role_arn,
        } => json!({"arn": arn, "input": input, "roleArn": role_arn}),
        Action::Rule { bus, rule } => json!({"bus": bus, "rule": rule}),
    };
    json!({
        "name": def.name,
        "group": def.group,
        "expression": def.expression,
        "timezone": def.timezone,
        "state": if def.enabled { "ENABLED" } else { "DISABLED" },
        "startDate": iso(def.start),
        "endDate": def.end.map(iso),
        "target": target,
        "missedFires": def.missed,
        "deleteAfterCompletion": def.delete_after,
        "description": def.description,
        "lastFire": def.last.map(iso),
        "nextFires": next.iter().map(|ms| iso(*ms)).collect::<Vec<_>>(),
    })
}

/// `PUT /v1/schedules/{name}`: creates or replaces a schedule.
///
/// # Errors
/// `ValidationException` for a body that is not a schedule or breaks a rule,
/// `StateMachineDoesNotExist` for its target.
pub async fn put(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Query(group): Query<Group>,
    AuthenticatedBody { tenant, body }: AuthenticatedBody,
) -> Result<Json<Value>> {
    let body: ScheduleBody = serde_json::from_slice(&body).map_err(|e| {
        Error::Validation(format!(
            "the body must be a schedule {{\"expression\", \"timezone\"?, \"target\": {{\"arn\", \"input\"?}}, \"state\"?, \"startDate\"?, \"endDate\"?, \"missedFires\"?}}: {e}"
        ))
    })?;
    let enabled = match body.state.as_deref() {
        None | Some("ENABLED") => true,
        Some("DISABLED") => false,
        Some(other) => {
            return Err(Error::Validation(format!(
                "state must be ENABLED or DISABLED, not {other}"
            )))
        }
    };
    let input = body.target.input.map(|i| match i {
        Value::String(text) => text,
        other => other.to_string(),
    });
    let spec = ScheduleSpec {
        group: group.group.clone(),
        expression: body.expression,
        timezone: body.timezone,
        start: date(body.start_date, "startDate")?,
        end: date(body.end_date, "endDate")?,
        enabled: Some(enabled),
        target_arn: body.target.arn,
        input,
        role_arn: body.target.role_arn,
        missed: body.missed_fires,
        delete_after: body.delete_after_completion,
        description: body.description,
    };
    let schedules = &app.services.schedules;
    let exists = schedules
        .get(&tenant, group.group.as_deref(), &name)
        .is_ok();
    let def = schedules.put(&tenant, &name, spec, exists).await?;
    Ok(Json(render(&def, &schedules.upcoming(&def, 5))))
}

/// `GET /v1/schedules`.
///
/// # Errors
/// Authentication errors.
pub async fn list(
    State(app): State<Arc<App>>,
    Query(group): Query<Group>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    let schedules = &app.services.schedules;
    let listed: Vec<Value> = schedules
        .list(&tenant, group.group.as_deref())?
        .iter()
        .map(|def| render(def, &schedules.upcoming(def, 5)))
        .collect();
    Ok(Json(json!({ "schedules": listed })))
}

/// `GET /v1/schedules/{name}`.
///
/// # Errors
/// `ResourceNotFound` for no such schedule.
pub async fn get(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Query(group): Query<Group>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    let schedules = &app.services.schedules;
    let def = schedules.get(&tenant, group.group.as_deref(), &name)?;
    Ok(Json(render(&def, &schedules.upcoming(&def, 5))))
}

/// `DELETE /v1/schedules/{name}`.
///
/// # Errors
/// `ResourceNotFound` for no such schedule.
pub async fn delete(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    Query(group): Query<Group>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    app.services
        .schedules
        .delete(&tenant, group.group.as_deref(), &name)
        .await?;
    Ok(Json(json!({})))
}
