//! Batch jobs over HTTP: `PUT|GET|DELETE /v1/job-queues/{name}` and `GET /v1/job-queues`
//! for the tenant's queues; `GET /v1/jobs` (`?queue=&status=&nextToken=&maxResults=`),
//! `GET /v1/jobs/{id}` (Batch's description, plus what Sandstep knows: output, heartbeats,
//! fuel), `POST /v1/jobs/{id}/cancel` (`{"reason"}`) and `GET /v1/jobs/{id}/logs`
//! (`?after=&limit=`). The use cases are [`crate::service::jobs`].

use super::auth::{Authenticated, AuthenticatedBody};
use super::error::{Error, Result};
use super::App;
use crate::service::jobs::{JobFilter, JobView, QueueSettings};
use crate::store::jobs::{Job, JobQueue};
use crate::tasks::batch;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// A queue as the API shows it.
pub fn render_queue(region: &str, account: &str, q: &JobQueue) -> Value {
    json!({
        "name": q.name,
        "jobQueueArn": format!("arn:aws:batch:{region}:{account}:job-queue/{}", q.name),
        "concurrency": q.concurrency,
        "wallClockHours": q.wall_clock_ms as f64 / 3_600_000.0,
        "fuel": q.fuel,
        "memoryMib": q.memory_mib,
        "created": q.created as f64 / 1000.0,
    })
}

/// A job in a listing: Batch's `JobSummary` fields.
pub fn render_summary(region: &str, job: &Job) -> Value {
    json!({
        "jobArn": batch::job_arn(region, job),
        "jobId": job.id,
        "jobName": job.name,
        "jobQueue": job.queue,
        "status": job.status.as_str(),
        "statusReason": job.status_reason,
        "createdAt": job.created,
        "startedAt": job.started,
        "stoppedAt": job.stopped,
        "attempts": job.attempts.len(),
        "module": format!("{}:{}", job.module, job.version),
    })
}

/// A job in full: Batch's description, and Sandstep's own fields.
pub fn render_job(region: &str, view: &JobView) -> Value {
    let job = &view.job;
    let mut described = batch::describe(region, job);
    if let Some(fields) = described.as_object_mut() {
        let output = job
            .output
            .as_deref()
            .map(|o| serde_json::from_str::<Value>(o).unwrap_or(Value::String(o.into())));
        fields.insert("sandstepOutput".into(), json!(output));
        fields.insert("sandstepError".into(), json!(job.error));
        fields.insert("sandstepHeartbeats".into(), json!(view.heartbeats));
        fields.insert("sandstepFuelConsumed".into(), json!(job.fuel_consumed));
        fields.insert(
            "sandstepParentExecutionArn".into(),
            json!(job.parent.as_ref().map(|p| p.arn.clone())),
        );
    }
    described
}

/// The body of `PUT /v1/job-queues/{name}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct QueueBody {
    concurrency: Option<u32>,
    wall_clock_hours: Option<f64>,
    fuel: Option<u64>,
    memory_mib: Option<u32>,
}

/// `PUT /v1/job-queues/{name}`: creates or changes a queue.
///
/// # Errors
/// `ValidationException` for a body that is not the queue's settings or settings out of
/// bounds.
pub async fn put_queue(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    AuthenticatedBody { tenant, body }: AuthenticatedBody,
) -> Result<Json<Value>> {
    let body: QueueBody = match body.is_empty() {
        true => QueueBody::default(),
        false => serde_json::from_slice(&body).map_err(|e| {
            Error::Validation(format!(
                "the body must be {{\"concurrency\", \"wallClockHours\", \"fuel\", \"memoryMib\"}}: {e}"
            ))
        })?,
    };
    let queue = app.services.jobs.put_queue(
        &tenant,
        &name,
        QueueSettings {
            concurrency: body.concurrency,
            wall_clock_hours: body.wall_clock_hours,
            fuel: body.fuel,
            memory_mib: body.memory_mib,
        },
    )?;
    Ok(Json(render_queue(
        &app.config.region,
        &tenant.account,
        &queue,
    )))
}

/// `GET /v1/job-queues`.
///
/// # Errors
/// Authentication errors.
pub async fn list_queues(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
) -> Result<Json<Value>> {
    let queues: Vec<Value> = app
        .services
        .jobs
        .queues(&tenant)?
        .iter()
        .map(|q| render_queue(&app.config.region, &tenant.account, q))
        .collect();
    Ok(Json(json!({"jobQueues": queues})))
}

/// `GET /v1/job-queues/{name}`.
///
/// # Errors
/// `ResourceNotFound` (404).
pub async fn get_queue(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    let queue = app.services.jobs.queue(&tenant, &name)?;
    Ok(Json(render_queue(
        &app.config.region,
        &tenant.account,
        &queue,
    )))
}

/// `DELETE /v1/job-queues/{name}`.
///
/// # Errors
/// `ResourceNotFound` (404), `ResourceInUseException` (409) while it has open jobs.
pub async fn delete_queue(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
    Path(name): Path<String>,
) -> Result<Json<Value>> {
    app.services.jobs.delete_queue(&tenant, &name)?;
    Ok(Json(json!({"deleted": true})))
}

fn number<T: std::str::FromStr>(query: &HashMap<String, String>, name: &str) -> Result<Option<T>> {
    query
        .get(name)
        .map(|v| {
            v.parse::<T>()
                .map_err(|_| Error::Validation(format!("{name} must be a number, not '{v}'")))
        })
        .transpose()
}

/// `GET /v1/jobs`.
///
/// # Errors
/// `ValidationException` for a bad status or number, `InvalidToken`.
pub async fn list(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let filter = JobFilter {
        queue: query.get("queue").cloned(),
        status: query.get("status").cloned(),
    };
    let page = app.services.jobs.list(
        &tenant,
        &filter,
        query.get("nextToken").map(String::as_str),
        number(&query, "maxResults")?,
    )?;
    let jobs: Vec<Value> = page
        .items
        .iter()
        .map(|j| render_summary(&app.config.region, j))
        .collect();
    Ok(Json(json!({"jobs": jobs, "nextToken": page.next_token})))
}

/// `GET /v1/jobs/{id}`.
///
/// # Errors
/// `ResourceNotFound` (404).
pub async fn describe(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let view = app.services.jobs.describe(&tenant, &id)?;
    Ok(Json(render_job(&app.config.region, &view)))
}

/// `POST /v1/jobs/{id}/cancel` with an optional `{"reason"}`.
///
/// # Errors
/// `ResourceNotFound` (404), `ValidationException` for a body that is not JSON.
pub async fn cancel(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    AuthenticatedBody { tenant, body }: AuthenticatedBody,
) -> Result<Json<Value>> {
    let reason = match body.is_empty() {
        true => None,
        false => {
            let v: Value = serde_json::from_slice(&body)
                .map_err(|e| Error::Validation(format!("the body must be {{\"reason\"}}: {e}")))?;
            v.get("reason").and_then(Value::as_str).map(str::to_string)
        }
    };
    let view = app.services.jobs.cancel(&tenant, &id, reason.as_deref())?;
    Ok(Json(render_job(&app.config.region, &view)))
}

/// `GET /v1/jobs/{id}/logs`.
///
/// # Errors
/// `ResourceNotFound` (404), `ValidationException` for a bad number.
pub async fn logs(
    State(app): State<Arc<App>>,
    Authenticated(tenant): Authenticated,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>> {
    let lines = app.services.jobs.logs(
        &tenant,
        &id,
        number(&query, "after")?,
        number(&query, "limit")?,
    )?;
    Ok(Json(json!({"lines": lines})))
}
