//! The Lambda integration, played by modules: definitions written for AWS Lambda run
//! unchanged once modules of those names are uploaded.
//!
//! - `arn:aws:states:::lambda:invoke` with `Parameters.FunctionName` (a module name,
//!   `name:version`, or a Lambda function ARN) and `Parameters.Payload`; the result is
//!   shaped like AWS's: `{"ExecutedVersion": "3", "Payload": <output>, "StatusCode": 200}`;
//! - `arn:aws:states:::lambda:invoke.waitForTaskToken`: the same call, whose answer is
//!   recorded as `TaskSubmitted`; the task then waits until its token (`$$.Task.Token`,
//!   which the payload passes along) is answered with `SendTaskSuccess` or
//!   `SendTaskFailure`, or its timers run out;
//! - `arn:aws:lambda:<region>:<account>:function:<name>[:<version>]`: the input is the
//!   payload and the result is the output itself.

use super::{Caller, Done};
use crate::sandbox::{BeatListener, Invocation, Sandbox, TaskContext, TaskFailure};
use sandstep_engine::{ErrorName, EventKind, TaskRequest, TaskUsage};
use serde_json::{json, Value};

/// The optimized Lambda integration.
pub const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";
/// The Lambda integration that then waits for the task's token.
pub const LAMBDA_INVOKE_WAIT: &str = "arn:aws:states:::lambda:invoke.waitForTaskToken";
/// AWS's error for a function that does not exist.
pub const NOT_FOUND: &str = "Lambda.ResourceNotFoundException";
/// AWS's error for a failure of the service itself (retryable).
pub const SERVICE_FAILURE: &str = "Lambda.ServiceException";

/// How the result of a module is returned to the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `lambda:invoke`: `{"ExecutedVersion", "Payload", "StatusCode"}`.
    Invoke,
    /// A function ARN: the output itself.
    Output,
}

/// The module a Task state runs, and its input.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The module's name.
    pub module: String,
    /// A version, or the latest.
    pub version: Option<u32>,
    /// The module's input.
    pub payload: Value,
    /// How the result is returned.
    pub shape: Shape,
    /// Whether the task then waits for its token (`.waitForTaskToken`).
    pub waits_for_token: bool,
}

/// Reads a Lambda Task's resource and parameters; `None` when the resource is not one of
/// the Lambda forms.
///
/// # Errors
/// A [`TaskFailure`]: `States.Runtime` for `lambda:invoke` without a `FunctionName`,
/// [`NOT_FOUND`] for a function name it cannot read.
pub fn resolve(request: &TaskRequest) -> Option<Result<Target, TaskFailure>> {
    let waits_for_token = request.resource == LAMBDA_INVOKE_WAIT;
    if request.resource == LAMBDA_INVOKE || waits_for_token {
        let Some(function) = request.input.get("FunctionName").and_then(Value::as_str) else {
            return Some(Err(TaskFailure::new(
                ErrorName::Runtime,
                format!("{LAMBDA_INVOKE} needs Parameters.FunctionName, a string"),
            )));
        };
        return Some(function_name(function).map(|(module, version)| Target {
            module,
            version,
            payload: request.input.get("Payload").cloned().unwrap_or(json!({})),
            shape: Shape::Invoke,
            waits_for_token,
        }));
    }
    if request.resource.starts_with("arn:aws:lambda:") {
        return Some(
            function_name(&request.resource).map(|(module, version)| Target {
                module,
                version,
                payload: request.input.clone(),
                shape: Shape::Output,
                waits_for_token: false,
            }),
        );
    }
    None
}

/// The module a Lambda Task names in its definition, before any data flows: the function
/// ARN, or a literal `Parameters.FunctionName` (a `FunctionName.$` is known only at run
/// time). For the pins an execution takes at its start.
pub fn named_in(resource: &str, parameters: Option<&Value>) -> Option<(String, Option<u32>)> {
    if resource.starts_with("arn:aws:lambda:") {
        return function_name(resource).ok();
    }
    if resource == LAMBDA_INVOKE || resource.starts_with("arn:aws:states:::lambda:invoke.") {
        let name = parameters?.get("FunctionName")?.as_str()?;
        return function_name(name).ok();
    }
    None
}

/// `name`, `name:version`, `name:$LATEST`, `account:function:name[:version]` or
/// `arn:aws:lambda:region:account:function:name[:version]`: the one grammar of function
/// names, shared by the pins taken at start ([`crate::pins`]).
///
/// # Errors
/// [`NOT_FOUND`] naming what is wrong with the text.
pub fn function_name(text: &str) -> Result<(String, Option<u32>), TaskFailure> {
    let parts: Vec<&str> = text.split(':').collect();
    let (name, qualifier) = match parts.as_slice() {
        ["arn", _, "lambda", _, _, "function", name] | [_, "function", name] | [name] => {
            (*name, None)
        }
        ["arn", _, "lambda", _, _, "function", name, q] | [_, "function", name, q] | [name, q] => {
            (*name, Some(*q))
        }
        _ => return Err(not_found(text, "not a function name or ARN")),
    };
    if !crate::grants::valid_name(name) {
        return Err(not_found(text, "not a valid function name"));
    }
    let version = match qualifier {
        None | Some("$LATEST") => None,
        Some(q) => match q.parse::<u32>() {
            Ok(v) => Some(v),
            Err(_) => {
                return Err(not_found(
                    text,
                    "aliases are not supported: use a version number or $LATEST",
                ))
            }
        },
    };
    Ok((name.to_string(), version))
}

fn not_found(function: &str, why: &str) -> TaskFailure {
    TaskFailure::new(
        ErrorName::Custom(NOT_FOUND.into()),
        format!("Function not found: {function} ({why})"),
    )
}

/// Runs the module `target` names. Blocking.
pub(super) fn run(
    sandbox: &Sandbox,
    request: &TaskRequest,
    caller: Caller,
    target: Target,
) -> Done {
    let failed = |failure: TaskFailure, usage| super::failed(request, failure, usage);
    let version = target
        .version
        .or_else(|| caller.pins.modules.get(&target.module).map(|(v, _)| *v));
    let prepared = match sandbox.prepare(&caller.tenant, &target.module, version) {
        Ok(prepared) => prepared,
        Err(crate::sandbox::Error::NotFound { .. }) => {
            return Done::event(failed(
                not_found(
                    &target.module,
                    &format!(
                        "no module '{}'{} in tenant '{}'",
                        target.module,
                        target
                            .version
                            .map(|v| format!(" version {v}"))
                            .unwrap_or_default(),
                        caller.tenant
                    ),
                ),
                None,
            ))
        }
        Err(e) => {
            return Done::event(failed(
                TaskFailure::new(ErrorName::Custom(SERVICE_FAILURE.into()), e.to_string()),
                None,
            ))
        }
    };
    let invocation = Invocation {
        context: TaskContext {
            execution_arn: caller.execution_arn,
            state_name: request.state_name.clone(),
            attempt: request.attempt,
            task_token: request.task_token.clone(),
        },
        limits: {
            let mut limits = sandbox.limits().clone().for_task(request);
            if let Some(q) = &caller.quotas {
                limits.fuel = limits.fuel.min(q.fuel_per_task);
                limits.memory_bytes = limits
                    .memory_bytes
                    .min(usize::try_from(q.max_memory_bytes).unwrap_or(usize::MAX));
            }
            limits
        },
        cancel: caller.cancel,
        heartbeats: {
            let progress = caller.progress.clone();
            BeatListener::new(move || progress.beat())
        },
    };
    let input = target.payload.to_string();
    caller.progress.started();
    let outcome = sandbox.run(&prepared, &input, invocation);
    let module = prepared.module();
    let usage = Some(TaskUsage {
        module: module.name.clone(),
        version: module.version,
        sha256: module.sha256.clone(),
        fuel_consumed: outcome.fuel_consumed,
        duration_ms: u64::try_from(outcome.duration.as_millis()).unwrap_or(u64::MAX),
    });
    let event = match outcome.result {
        Ok(output) => {
            let output = match target.shape {
                Shape::Output => output,
                Shape::Invoke => json!({
                    "ExecutedVersion": module.version.to_string(),
                    "Payload": output,
                    "StatusCode": 200,
                }),
            };
            if target.waits_for_token {
                EventKind::TaskSubmitted {
                    task: request.id,
                    output,
                    usage,
                }
            } else {
                EventKind::TaskSucceeded {
                    task: request.id,
                    output,
                    usage,
                }
            }
        }
        Err(failure) => failed(failure, usage),
    };
    Done {
        event,
        logs: outcome.logs,
        logs_dropped: outcome.logs_dropped,
        stderr: outcome.stderr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandstep_engine::TaskId;

    fn request(resource: &str, input: Value) -> TaskRequest {
        TaskRequest {
            id: TaskId(7),
            resource: resource.into(),
            input,
            timeout_seconds: None,
            heartbeat_seconds: None,
            attempt: 0,
            state_name: "T".into(),
            task_token: None,
        }
    }

    fn resolve(request: &TaskRequest) -> Result<Target, TaskFailure> {
        super::resolve(request).expect("a Lambda resource")
    }

    #[test]
    fn reads_both_lambda_forms() {
        let t = resolve(&request(
            LAMBDA_INVOKE,
            json!({"FunctionName": "echo:3", "Payload": {"a": 1}}),
        ))
        .unwrap();
        assert_eq!(
            (t.module.as_str(), t.version, t.payload, t.shape),
            ("echo", Some(3), json!({"a": 1}), Shape::Invoke)
        );
        let t = resolve(&request(
            LAMBDA_INVOKE,
            json!({"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:echo:$LATEST"}),
        ))
        .unwrap();
        assert_eq!((t.module.as_str(), t.version), ("echo", None));
        let t = resolve(&request(
            "arn:aws:lambda:eu-west-1:123456789012:function:charge-payment:2",
            json!({"x": 1}),
        ))
        .unwrap();
        assert_eq!(
            (t.module.as_str(), t.version, t.payload, t.shape),
            ("charge-payment", Some(2), json!({"x": 1}), Shape::Output)
        );
    }

    #[test]
    fn refuses_what_it_cannot_run() {
        assert!(super::resolve(&request("arn:aws:states:::dynamodb:putItem", json!({}))).is_none());
        let e = resolve(&request(
            LAMBDA_INVOKE,
            json!({"FunctionName": "echo:live"}),
        ))
        .unwrap_err();
        assert_eq!(e.error.as_str(), NOT_FOUND);
        let e = resolve(&request(LAMBDA_INVOKE, json!({"Payload": {}}))).unwrap_err();
        assert_eq!(e.error, ErrorName::Runtime);
    }

    #[test]
    fn names_modules_in_definitions() {
        assert_eq!(
            named_in("arn:aws:lambda:us-east-1:1:function:echo:2", None),
            Some(("echo".into(), Some(2)))
        );
        let p = json!({"FunctionName": "charge"});
        assert_eq!(
            named_in(LAMBDA_INVOKE, Some(&p)),
            Some(("charge".into(), None))
        );
        let dynamic = json!({"FunctionName.$": "$.fn"});
        assert_eq!(named_in(LAMBDA_INVOKE, Some(&dynamic)), None);
        assert_eq!(named_in("arn:aws:states:::sqs:sendMessage", Some(&p)), None);
    }
}
