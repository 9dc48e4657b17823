//! The AWS Step Functions JSON 1.0 protocol: `POST /` with
//! `X-Amz-Target: AWSStepFunctions.<Action>`, bodies as in the AWS API reference.

pub(crate) mod executions;
mod history;
mod machines;
mod tags;

use super::auth;
use super::error::{Error, Result};
use super::params::Params;
use super::App;
use crate::arn::Arn;
use crate::tenants::Tenant;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::sync::Arc;

/// An AWS service this endpoint answers, told apart by the prefix of `X-Amz-Target`.
///
/// Each has the signing name its SDK scopes credentials to; DynamoDB (`DynamoDB_20120810.`,
/// `dynamodb`), SQS (`AmazonSQS.`, `sqs`) and EventBridge (`AWSEvents.`, `events`) join here
/// when Sandstep serves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// AWS Step Functions: `AWSStepFunctions.<Action>`.
    StepFunctions,
}

impl Service {
    /// The service an `X-Amz-Target` header addresses, and the action it names.
    pub fn of_target(target: &str) -> Option<(Service, &str)> {
        target
            .strip_prefix("AWSStepFunctions.")
            .map(|action| (Service::StepFunctions, action))
    }

    /// The name a SigV4 credential scope must carry for this service.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::StepFunctions => "states",
        }
    }
}

/// `POST /`.
pub async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let answered = match auth::read_limited(req).await {
        Ok((parts, body)) => dispatch(&app, &parts, &body).await,
        Err(e) => Err(e),
    };
    match answered {
        Ok(value) => (
            [("content-type", "application/x-amz-json-1.0")],
            value.to_string(),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
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
    let p = Params::parse(body)?;
    let span = tracing::debug_span!("api.call", action, tenant = %tenant.id);
    let _enter = span.enter();
    match action {
        "CreateStateMachine" => machines::create(app, &tenant, &p),
        "DescribeStateMachine" => machines::describe(app, &tenant, &p),
        "UpdateStateMachine" => machines::update(app, &tenant, &p),
        "DeleteStateMachine" => machines::delete(app, &tenant, &p),
        "ListStateMachines" => machines::list(app, &tenant, &p),
        "ValidateStateMachineDefinition" => machines::validate(&p),
        "StartExecution" => executions::start(app, &tenant, &p).await,
        "StartSyncExecution" => executions::start_sync(app, &tenant, &p).await,
        "StopExecution" => executions::stop(app, &tenant, &p).await,
        "DescribeExecution" => executions::describe(app, &tenant, &p),
        "DescribeStateMachineForExecution" => executions::describe_machine(app, &tenant, &p),
        "ListExecutions" => executions::list(app, &tenant, &p),
        "GetExecutionHistory" => history::get(app, &tenant, &p),
        "TagResource" => tags::tag(app, &tenant, &p),
        "UntagResource" => tags::untag(app, &tenant, &p),
        "ListTagsForResource" => tags::list(app, &tenant, &p),
        "CreateActivity" | "DeleteActivity" | "DescribeActivity" | "ListActivities" | "GetActivityTask" | "SendTaskSuccess"
        | "SendTaskFailure" | "SendTaskHeartbeat" | "RedriveExecution" | "PublishStateMachineVersion"
        | "DeleteStateMachineVersion" | "ListStateMachineVersions" | "CreateStateMachineAlias" | "DescribeStateMachineAlias"
        | "UpdateStateMachineAlias" | "DeleteStateMachineAlias" | "ListStateMachineAliases" | "DescribeMapRun" | "ListMapRuns"
        | "UpdateMapRun" | "TestState" => {
            Err(Error::NotSupported(format!("{action} is not supported by Sandstep yet (see the README's list of unsupported features)")))
        }
        other => Err(Error::UnknownOperation(format!("Unknown operation: {other}"))),
    }
}

/// The state machine an ARN names, if it is the caller's (another tenant's or region's
/// ARN reads as absent: nothing leaks across tenants).
fn machine_name(app: &App, tenant: &Tenant, arn: &str) -> Result<String> {
    match Arn::parse(arn).map_err(|e| Error::InvalidArn(e.to_string()))? {
        Arn::StateMachine {
            region,
            account,
            name,
        } if region == app.config.region && account == tenant.account => Ok(name),
        Arn::StateMachine { .. } => Err(Error::StateMachineDoesNotExist(format!(
            "State Machine Does Not Exist: '{arn}'"
        ))),
        Arn::Execution { .. } => Err(Error::InvalidArn(format!(
            "Invalid Arn: 'Resource type not valid in this context: execution' ({arn})"
        ))),
    }
}

/// The execution an ARN names, if it is the caller's.
pub(crate) fn execution_key(
    app: &App,
    tenant: &Tenant,
    arn: &str,
) -> Result<(crate::store::executions::ExecutionKey, bool)> {
    match Arn::parse(arn).map_err(|e| Error::InvalidArn(e.to_string()))? {
        Arn::Execution {
            region,
            account,
            machine,
            name,
            express,
        } if region == app.config.region && account == tenant.account => Ok((
            crate::store::executions::ExecutionKey {
                tenant: tenant.id.clone(),
                machine,
                name,
            },
            express,
        )),
        Arn::Execution { .. } => Err(Error::ExecutionDoesNotExist(format!(
            "Execution Does Not Exist: '{arn}'"
        ))),
        Arn::StateMachine { .. } => Err(Error::InvalidArn(format!(
            "Invalid Arn: 'Resource type not valid in this context: stateMachine' ({arn})"
        ))),
    }
}
