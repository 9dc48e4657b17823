//! Resources played by modules through the tenant's bindings: the module the execution
//! pinned for the resource receives the call (`{"resource", "service", "action",
//! "parameters", "context"}`, [`crate::bindings::call`]) and answers with the service's
//! result, which is the task's result as is; a `task-error` it raises
//! (`Rekognition.InvalidS3ObjectException`) is the error Retry and Catch see.
//!
//! The suffixes keep their meaning: with `.sync` the module runs the job to its end, so its
//! answer is the job's result; with `.waitForTaskToken` its answer is recorded as
//! `TaskSubmitted` and the task waits for its token (`$$.Task.Token`, also in the call's
//! `context.Task.Token`), answered by SendTaskSuccess or SendTaskFailure.

use super::lambda::{self, Shape, Target};
use super::{Caller, Done};
use crate::bindings::{call, service_action, CallContext, Wait};
use crate::model::Bound;
use crate::sandbox::Sandbox;
use sandstep_engine::TaskRequest;

/// Runs the module `bound` names for `request`. Blocking.
pub(super) fn run(sandbox: &Sandbox, request: &TaskRequest, caller: Caller, bound: &Bound) -> Done {
    let (_, _, wait) = service_action(&request.resource);
    let payload = call(
        &request.resource,
        &request.input,
        CallContext {
            execution_arn: &caller.execution_arn,
            state_name: &request.state_name,
            attempt: request.attempt,
            task_token: request.task_token.as_deref(),
        },
    );
    let target = Target {
        module: bound.module.clone(),
        version: Some(bound.version),
        payload,
        shape: Shape::Output,
        waits_for_token: wait == Wait::Token,
    };
    lambda::run(sandbox, request, caller, target)
}
