//! Task resources: what an ASL `Resource` runs. One resolver reads every Task request and
//! hands it to its integration, each a module of its own under `tasks/`: the Lambda forms
//! (`lambda`) and Batch jobs (`batch`), played by modules, DynamoDB (`dynamodb`) on the tenant's tables SQS (`sqs`) on its queues, SNS (`sns`) on its topics, S3 (`s3`) on its buckets and EventBridge (`events`) on its buses, the five behind one resolver (`stores`). A resource no integration claims fails the task
//! with `States.Runtime`, saying how to bind it. A resource the execution's bindings
//! cover runs its bound module (`bound`), whatever integration would run it otherwise.
//!
//! Adding an integration: a file here with `resolve` (its resources, `None` for others),
//! `run`, and, if it names something to pin at start, `named_in`; one arm below in each.

pub mod access;
pub mod batch;
pub mod bound;
pub mod dynamodb;
pub mod events;
pub mod http;
pub mod lambda;
pub mod s3;
pub mod sns;
pub mod sqs;
pub mod stores;

use crate::sandbox::{CancelHandle, LogLine, Sandbox, TaskFailure};
use crate::scheduler::runner::Progress;
use crate::store::TenantId;
use crate::tenants::Quotas;
use sandstep_engine::{ErrorName, EventKind, TaskRequest, TaskUsage};
use serde_json::Value;
use std::sync::Arc;

pub use lambda::{function_name, LAMBDA_INVOKE, LAMBDA_INVOKE_WAIT, NOT_FOUND, SERVICE_FAILURE};

/// What runs a Task state.
#[derive(Debug, Clone, PartialEq)]
pub enum Integration {
    /// A module, through one of the Lambda forms.
    Lambda(lambda::Target),
}

/// Reads a Task state's resource and parameters.
///
/// # Errors
/// A [`TaskFailure`]: `States.Runtime` for a resource nothing runs (saying how to bind
/// it), or the integration's own error for parameters it cannot use.
pub fn resolve(request: &TaskRequest) -> Result<Integration, TaskFailure> {
    if let Some(target) = lambda::resolve(request) {
        return target.map(Integration::Lambda);
    }
    Err(TaskFailure::new(
        ErrorName::Runtime,
        format!(
            "{} (Sandstep itself runs modules through {LAMBDA_INVOKE}[.waitForTaskToken] and Lambda function ARNs, activities, states:startExecution, batch:submitJob, and DynamoDB, SQS, SNS, S3 and EventBridge on the tenant's own stores; the README lists each action)",
            crate::bindings::unbound_message(&request.resource)
        ),
    ))
}

/// Whether one of Sandstep's own integrations runs `resource`: what needs no binding.
pub fn runs(resource: &str) -> bool {
    resource == LAMBDA_INVOKE
        || resource == LAMBDA_INVOKE_WAIT
        || resource.starts_with("arn:aws:lambda:")
        || sandstep_engine::activity_arn(resource).is_some()
        || crate::scheduler::nested::mode_of(resource).is_some()
        || batch::mode_of(resource).is_some()
        || stores::StoreTask::resolve(resource).is_some()
        || http::is_invoke(resource)
}

/// The module a Task state names in its definition, if any: what an execution pins at
/// its start.
pub fn module_named(resource: &str, parameters: Option<&Value>) -> Option<(String, Option<u32>)> {
    lambda::named_in(resource, parameters).or_else(|| batch::named_in(resource, parameters))
}

/// Everything about the task's invocation that is not in the request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The tenant whose modules and data the task uses.
    pub tenant: TenantId,
    /// The execution's ARN.
    pub execution_arn: String,
    /// Stops the task (StopExecution).
    pub cancel: CancelHandle,
    /// Module versions and bindings the execution pinned at its start.
    pub pins: Arc<crate::pins::Pins>,
    /// The tenant's quotas, which cap the sandbox's limits.
    pub quotas: Option<Quotas>,
    /// Where the task says it started and is alive.
    pub progress: Progress,
}

/// A task's answer, and what the module said on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Done {
    /// `TaskSucceeded` or `TaskFailed`, for the engine.
    pub event: EventKind,
    /// What the module logged.
    pub logs: Vec<LogLine>,
    /// Log lines dropped past the limit.
    pub logs_dropped: u64,
    /// A command's stderr.
    pub stderr: String,
}

impl Done {
    pub(crate) fn event(event: EventKind) -> Done {
        Done {
            event,
            logs: Vec::new(),
            logs_dropped: 0,
            stderr: String::new(),
        }
    }
}

/// Runs a Task state's request to the event that answers it: the module a binding pinned
/// for its resource, else the integration that runs it. Blocking.
pub fn run(sandbox: &Sandbox, request: &TaskRequest, caller: Caller) -> Done {
    if let Some(bound) = caller.pins.bindings.get(&request.resource).cloned() {
        return bound::run(sandbox, request, caller, &bound);
    }
    match resolve(request) {
        Ok(Integration::Lambda(target)) => lambda::run(sandbox, request, caller, target),
        Err(failure) => Done::event(failed(request, failure, None)),
    }
}

/// The answer a store integration's task stored with its write, when the task wrote
/// before a crash cut its run short: that answer stands, and nothing is written again.
/// `None` when there is none (or the call is not a Standard execution's).
pub(crate) fn stored_answer(
    store: &crate::store::Store,
    effect: Option<&crate::store::tables::EffectOf>,
    store_error: &str,
) -> Option<Result<Value, (String, String)>> {
    use crate::store::tables::Tables as _;
    let stored = match store.effect_get(effect?) {
        Ok(stored) => stored?,
        Err(e) => return Some(Err((store_error.to_string(), e.to_string()))),
    };
    Some(serde_json::from_str(&stored).map_err(|e| {
        (
            "States.Runtime".to_string(),
            format!("a stored answer is corrupt: {e}"),
        )
    }))
}

/// The `TaskFailed` event of `request`.
fn failed(request: &TaskRequest, failure: TaskFailure, usage: Option<TaskUsage>) -> EventKind {
    EventKind::TaskFailed {
        task: request.id,
        error: failure.error.to_string(),
        cause: failure.cause,
        usage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandstep_engine::TaskId;
    use serde_json::json;

    #[test]
    fn a_resource_no_integration_claims_is_a_runtime_failure() {
        let request = TaskRequest {
            id: TaskId(1),
            resource: "arn:aws:states:::ecs:runTask".into(),
            input: json!({}),
            timeout_seconds: None,
            heartbeat_seconds: None,
            attempt: 0,
            state_name: "T".into(),
            task_token: None,
        };
        let e = resolve(&request).unwrap_err();
        assert_eq!(e.error, ErrorName::Runtime);
        assert!(e.cause.contains("sandstep binding set"), "{}", e.cause);
    }
}
