//! The AWS APIs on `POST /`: Step Functions, DynamoDB and SQS in their JSON 1.0 protocols
//! (`X-Amz-Target: AWSStepFunctions.<Action>`, `DynamoDB_20120810.<Action>`,
//! `AmazonSQS.<Action>`) and EventBridge in JSON 1.1 (`AWSEvents.<Action>`), bodies as in the AWS API references; SNS in the query protocol
//! (a form body, no target: [`query`]). One file per family of Step Functions actions,
//! each with the actions' typed inputs, the call of the use case, and the rendering of
//! its result.

mod activities;
mod callbacks;
mod executions;
mod history;
mod machines;
mod map_runs;
mod query;
mod tags;
mod test_state;
mod versions;

use super::auth;
use super::error::{Error, Result};
use super::params::Params;
use super::App;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::Arc;
use tracing::Instrument as _;

/// An AWS service this endpoint answers, told apart by the prefix of `X-Amz-Target`.
///
/// Each has the signing name its SDK scopes credentials to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// AWS Step Functions: `AWSStepFunctions.<Action>`.
    StepFunctions,
    /// DynamoDB on the tenant's tables: `DynamoDB_20120810.<Action>`.
    DynamoDb,
    /// SQS on the tenant's queues (its JSON protocol): `AmazonSQS.<Action>`.
    Sqs,
    /// EventBridge on the tenant's event buses: `AWSEvents.<Action>`.
    Events,
}

impl Service {
    /// The service an `X-Amz-Target` header addresses, and the action it names.
    pub fn of_target(target: &str) -> Option<(Service, &str)> {
        if let Some(action) = target.strip_prefix("DynamoDB_20120810.") {
            return Some((Service::DynamoDb, action));
        }
        if let Some(action) = target.strip_prefix("AmazonSQS.") {
            return Some((Service::Sqs, action));
        }
        if let Some(action) = target.strip_prefix("AWSEvents.") {
            return Some((Service::Events, action));
        }
        target
            .strip_prefix("AWSStepFunctions.")
            .map(|action| (Service::StepFunctions, action))
    }

    /// The name a SigV4 credential scope must carry for this service.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::StepFunctions => "states",
            Service::DynamoDb => "dynamodb",
            Service::Sqs => "sqs",
            Service::Events => "events",
        }
    }
}

/// `POST /`.
pub async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let (parts, body) = match auth::read_limited(req).await {
        Ok(read) => read,
        Err(e) => return e.into_response(),
    };
    if parts.headers.get("x-amz-target").is_none() && query::is_query(&parts) {
        return query::handle(&app, &parts, &body).await;
    }
    let answered = dispatch(&app, &parts, &body).await;
    match answered {
        Ok(value) => (
            [("content-type", "application/x-amz-json-1.0")],
            value.to_string(),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// Runs one action's handler inside its `api.<action>` span (a span's name is fixed where
/// it is written, hence one arm per action).
macro_rules! traced {
    ($name:literal, $tenant:expr, $call:expr) => {
        $call
            .instrument(tracing::debug_span!($name, tenant = %$tenant.id))
            .await
    };
}

async fn dispatch(app: &App, parts: &Parts, body: &[u8]) -> Result<Value> {
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some((service, action)) = Service::of_target(target) else {
        return Err(Error::UnknownOperation(format!(
            "Unknown operation: X-Amz-Target '{target}'"
        )));
    };
    let caller = auth::Caller {
        service: service.signing_name(),
        ..auth::caller_of(parts, body)
    };
    let tenant = auth::authenticate(app, &caller)?;
    match service {
        Service::DynamoDb => return dynamodb(app, &tenant, action, body).await,
        Service::Sqs => return sqs(app, parts, &tenant, action, body).await,
        Service::Events => return events(app, &tenant, action, body).await,
        Service::StepFunctions => {}
    }
    let p = Params::parse(body)?;
    let t = &tenant;
    match action {
        "CreateStateMachine" => traced!("api.create_state_machine", t, machines::create(app, t, p)),
        "DescribeStateMachine" => traced!(
            "api.describe_state_machine",
            t,
            machines::describe(app, t, p)
        ),
        "UpdateStateMachine" => traced!("api.update_state_machine", t, machines::update(app, t, p)),
        "DeleteStateMachine" => traced!("api.delete_state_machine", t, machines::delete(app, t, p)),
        "ListStateMachines" => traced!("api.list_state_machines", t, machines::list(app, t, p)),
        "ValidateStateMachineDefinition" => {
            traced!(
                "api.validate_state_machine_definition",
                t,
                machines::validate(app, t, p)
            )
        }
        "StartExecution" => traced!("api.start_execution", t, executions::start(app, t, p)),
        "StartSyncExecution" => traced!(
            "api.start_sync_execution",
            t,
            executions::start_sync(app, t, p)
        ),
        "StopExecution" => traced!("api.stop_execution", t, executions::stop(app, t, p)),
        "DescribeExecution" => {
            traced!("api.describe_execution", t, executions::describe(app, t, p))
        }
        "DescribeStateMachineForExecution" => traced!(
            "api.describe_state_machine_for_execution",
            t,
            executions::describe_machine(app, t, p)
        ),
        "ListExecutions" => traced!("api.list_executions", t, executions::list(app, t, p)),
        "GetExecutionHistory" => traced!("api.get_execution_history", t, history::get(app, t, p)),
        "TagResource" => traced!("api.tag_resource", t, tags::tag(app, t, p)),
        "UntagResource" => traced!("api.untag_resource", t, tags::untag(app, t, p)),
        "ListTagsForResource" => traced!("api.list_tags_for_resource", t, tags::list(app, t, p)),
        "SendTaskSuccess" => traced!("api.send_task_success", t, callbacks::success(app, t, p)),
        "SendTaskFailure" => traced!("api.send_task_failure", t, callbacks::failure(app, t, p)),
        "SendTaskHeartbeat" => traced!(
            "api.send_task_heartbeat",
            t,
            callbacks::heartbeat(app, t, p)
        ),
        "CreateActivity" => traced!("api.create_activity", t, activities::create(app, t, p)),
        "DescribeActivity" => traced!("api.describe_activity", t, activities::describe(app, t, p)),
        "ListActivities" => traced!("api.list_activities", t, activities::list(app, t, p)),
        "DeleteActivity" => traced!("api.delete_activity", t, activities::delete(app, t, p)),
        "GetActivityTask" => traced!("api.get_activity_task", t, activities::get_task(app, t, p)),
        "PublishStateMachineVersion" => traced!(
            "api.publish_state_machine_version",
            t,
            versions::publish(app, t, p)
        ),
        "ListStateMachineVersions" => traced!(
            "api.list_state_machine_versions",
            t,
            versions::list_versions(app, t, p)
        ),
        "DeleteStateMachineVersion" => traced!(
            "api.delete_state_machine_version",
            t,
            versions::delete_version(app, t, p)
        ),
        "CreateStateMachineAlias" => traced!(
            "api.create_state_machine_alias",
            t,
            versions::create_alias(app, t, p)
        ),
        "DescribeStateMachineAlias" => traced!(
            "api.describe_state_machine_alias",
            t,
            versions::describe_alias(app, t, p)
        ),
        "UpdateStateMachineAlias" => traced!(
            "api.update_state_machine_alias",
            t,
            versions::update_alias(app, t, p)
        ),
        "DeleteStateMachineAlias" => traced!(
            "api.delete_state_machine_alias",
            t,
            versions::delete_alias(app, t, p)
        ),
        "ListStateMachineAliases" => traced!(
            "api.list_state_machine_aliases",
            t,
            versions::list_aliases(app, t, p)
        ),
        "TestState" => traced!("api.test_state", t, test_state::test_state(app, t, p)),
        "RedriveExecution" => traced!("api.redrive_execution", t, executions::redrive(app, t, p)),
        "DescribeMapRun" => traced!("api.describe_map_run", t, map_runs::describe(app, t, p)),
        "ListMapRuns" => traced!("api.list_map_runs", t, map_runs::list(app, t, p)),
        "UpdateMapRun" => traced!("api.update_map_run", t, map_runs::update(app, t, p)),
        other => Err(Error::UnknownOperation(format!(
            "Unknown operation: {other}"
        ))),
    }
}

/// A DynamoDB action: its request is the body, its answer the service's document.
async fn dynamodb(
    app: &App,
    tenant: &crate::tenants::Tenant,
    action: &str,
    body: &[u8],
) -> Result<Value> {
    let request = Value::Object(Params::parse(body)?.0);
    app.services
        .dynamodb
        .call(tenant, action, request)
        .instrument(tracing::debug_span!("api.dynamodb", tenant = %tenant.id, action = %action))
        .await
        .map_err(Error::DynamoDb)
}

/// An SQS action: its request is the body, queue URLs start with the host the caller
/// reached.
async fn sqs(
    app: &App,
    parts: &Parts,
    tenant: &crate::tenants::Tenant,
    action: &str,
    body: &[u8],
) -> Result<Value> {
    let request = Value::Object(Params::parse(body)?.0);
    let host = parts
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let endpoint = format!("http://{host}");
    app.services
        .sqs
        .call(tenant, &endpoint, action, request)
        .instrument(tracing::debug_span!("api.sqs", tenant = %tenant.id, action = %action))
        .await
        .map_err(Error::Sqs)
}

/// An EventBridge action: its request is the body, its answer the service's document.
async fn events(
    app: &App,
    tenant: &crate::tenants::Tenant,
    action: &str,
    body: &[u8],
) -> Result<Value> {
    let request = Value::Object(Params::parse(body)?.0);
    app.services
        .events
        .call(tenant, action, request)
        .instrument(tracing::debug_span!("api.events", tenant = %tenant.id, action = %action))
        .await
        .map_err(Error::from)
}

/// Epoch seconds, as the JSON protocol sends timestamps.
fn epoch(ms: i64) -> Value {
    serde_json::json!(ms as f64 / 1000.0)
}
