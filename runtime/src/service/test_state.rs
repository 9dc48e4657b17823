//! TestState: one state run alone, its stages shown (AWS's `inspectionData`), without an
//! execution. The state runs in the engine on virtual time (a Wait takes no time); its
//! task either answers with the caller's mock or runs for real once (a module, or a call
//! on the tenant's stores) as the given role. The pure parts are
//! [`sandstep_engine::test_state`].

use super::executions::Executions;
use super::{Error, Result};
use crate::scheduler::runner::{Progress, TaskContext};
use crate::tenants::Tenant;
use sandstep_engine::simulate::TaskResult;
use sandstep_engine::test_state::{self as isolate, Isolated, Run, Verdict};
use sandstep_engine::{Definition, EventKind, Limits, Start};
use serde_json::{Map, Value};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A mocked task result.
#[derive(Debug, Clone, PartialEq)]
pub enum Mock {
    /// The service's answer, as JSON text.
    Result(String),
    /// The error the call raises.
    Error {
        /// Its name.
        error: String,
        /// Its cause.
        cause: String,
    },
}

/// What to test.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TestRequest {
    /// One state, or (with `state_name`) a whole machine.
    pub definition: String,
    /// The state to test in a whole machine.
    pub state_name: Option<String>,
    /// The role a real task runs as.
    pub role_arn: Option<String>,
    /// The input, as JSON text (`{}` when absent).
    pub input: Option<String>,
    /// Variables set before the state runs, a JSON object as text.
    pub variables: Option<String>,
    /// The task's answer, instead of running it.
    pub mock: Option<Mock>,
    /// Whether both a mock result and a mock error were given (AWS refuses that).
    pub mock_both: bool,
    /// `revealSecrets`.
    pub reveal_secrets: bool,
    /// A replacement context object (not supported).
    pub context: Option<String>,
    /// Retries already made by the Retrier that matches (`retrierRetryCount`).
    pub retries_before: u32,
    /// Failed iterations of a mocked Map (`mapIterationFailureCount`).
    pub map_failures: Option<u32>,
}

/// The patterns that wait for something outside the state: TestState runs them only
/// mocked, as AWS does.
fn waits(resource: &str) -> bool {
    resource.ends_with(".sync")
        || resource.contains(".sync:")
        || resource.ends_with(".waitForTaskToken")
        || resource.contains(":activity:")
}

fn invalid(message: &str) -> Error {
    Error::InvalidVersioning(message.to_string())
}

impl Executions {
    /// Runs one state alone and reads its verdict.
    ///
    /// # Errors
    /// [`Error::InvalidDefinition`], [`Error::InvalidVersioning`] (AWS's
    /// `ValidationException`s), [`Error::InputNotJson`], [`Error::Unsupported`] for a
    /// replacement context object, failures. What the state does (fail, time out) is
    /// its verdict, not an error.
    #[tracing::instrument(level = "debug", name = "service.test_state", skip_all, fields(tenant = %tenant.id))]
    pub async fn test_state(&self, tenant: &Tenant, req: TestRequest) -> Result<Verdict> {
        let parsed: Value = serde_json::from_str(&req.definition)
            .map_err(|e| Error::InvalidDefinition(format!("INVALID_JSON_DESCRIPTION: {e}")))?;
        if req.state_name.is_some() {
            super::machines::check_definition(
                &req.definition,
                sandstep_engine::validate::MachineType::Standard,
            )?;
        }
        let variables = parse_variables(req.variables.as_deref())?;
        let isolated = match isolate::isolate(
            &parsed,
            req.state_name.as_deref(),
            req.mock.is_some(),
            variables.as_ref(),
        ) {
            Ok(i) => i,
            Err(isolate::IsolateError::StateNotFound) => {
                return Err(invalid("State not found in definition"))
            }
            Err(isolate::IsolateError::NotAState(why)) => {
                return Err(Error::InvalidDefinition(why))
            }
        };
        let machine_text = isolated.machine.to_string();
        super::machines::check_definition(
            &machine_text,
            sandstep_engine::validate::MachineType::Standard,
        )?;
        let mock = check_mock(&isolated, &req)?;
        let input = match req.input.as_deref() {
            None => Value::Object(Map::new()),
            Some(text) => {
                serde_json::from_str(text).map_err(|e| Error::InputNotJson(e.to_string()))?
            }
        };
        let def = Definition::parse(&machine_text)
            .map_err(|e| Error::InvalidDefinition(format!("SCHEMA_VALIDATION_FAILED: {e}")))?;
        let scheduler = self.scheduler();
        let name = sandstep_engine::rng::Rng::new(scheduler.entropy()).uuid();
        let region = self.region();
        let role_arn = req.role_arn.clone().unwrap_or_default();
        let start = Start {
            input,
            execution_arn: crate::arn::execution(region, &tenant.account, "TestState", &name, true),
            name,
            role_arn: role_arn.clone(),
            state_machine_arn: crate::arn::state_machine(region, &tenant.account, "TestState"),
            state_machine_name: "TestState".into(),
            redrive_count: 0,
            timeout_seconds: Some(300),
            limits: Limits::express(),
            token_key: None,
            state_machine_version_arn: None,
            state_machine_alias_arn: None,
        };
        let at = scheduler.now();
        let run = |answer: Option<TaskResult>| {
            isolate::run(
                &isolated,
                &def,
                start.clone(),
                at,
                req.retries_before,
                |_| answer.clone(),
            )
            .map_err(|e| Error::Internal(format!("TestState: {e}")))
        };
        match run(mock)? {
            Run::Done(verdict) => Ok(verdict),
            Run::NeedsTask(request) => {
                let task = TaskContext {
                    tenant: tenant.id.clone(),
                    execution_arn: start.execution_arn.clone(),
                    // A resource the tenant binds runs its module, as in an execution.
                    pins: Arc::new(crate::pins::Pins {
                        modules: Default::default(),
                        bindings: self.bindings.pins(&tenant.id, &isolated.machine)?,
                    }),
                    progress: Progress::ignored(request.id),
                    request,
                    cancelled: Arc::new(AtomicBool::new(false)),
                };
                let answer = match scheduler.run_for_test(task, &role_arn).await {
                    EventKind::TaskSucceeded { output, .. }
                    | EventKind::TaskSubmitted { output, .. } => Ok(output),
                    EventKind::TaskFailed { error, cause, .. } => Err((error, cause)),
                    other => Err((
                        "States.Runtime".to_string(),
                        format!("the task answered {other:?}"),
                    )),
                };
                match run(Some(answer))? {
                    Run::Done(verdict) => Ok(verdict),
                    Run::NeedsTask(_) => Err(Error::Internal(
                        "TestState: the state asked for a second task".into(),
                    )),
                }
            }
        }
    }
}

/// The variables to set first: a JSON object.
fn parse_variables(text: Option<&str>) -> Result<Option<Map<String, Value>>> {
    let Some(text) = text else {
        return Ok(None);
    };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(vars)) => Ok(Some(vars)),
        Ok(_) => Err(invalid(
            "variables must be a JSON object of variable names and values",
        )),
        Err(e) => Err(Error::InputNotJson(format!("variables: {e}"))),
    }
}

/// AWS's rules on mocks and the states they stand in for, in AWS's order; the task's
/// answer when mocked.
fn check_mock(isolated: &Isolated, req: &TestRequest) -> Result<Option<TaskResult>> {
    let kind = isolated.kind.as_str();
    let state = &isolated.state;
    if req.map_failures.is_some() && req.mock.is_none() {
        return Err(invalid(
            "TestState does not support MapIterationFailureCount when a mock is not specified.",
        ));
    }
    match (&req.mock, kind) {
        (Some(_), "Pass" | "Succeed" | "Fail" | "Choice" | "Wait") => {
            return Err(invalid(&format!(
                "State type '{kind}' is not supported when a mock is specified"
            )))
        }
        (None, "Map" | "Parallel") => {
            return Err(Error::InvalidDefinition("TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]".into()))
        }
        _ => {}
    }
    if req.reveal_secrets && req.mock.is_some() {
        return Err(invalid(
            "TestState does not support RevealSecrets when a mock is specified.",
        ));
    }
    if req.mock_both {
        return Err(invalid(
            "A test mock should have only one of the following fields: [result, errorOutput].",
        ));
    }
    if req.context.is_some() {
        return Err(Error::Unsupported(
            "TestState's context (a replacement context object) is not supported by Sandstep yet"
                .into(),
        ));
    }
    let answer = match &req.mock {
        None => None,
        Some(Mock::Error { error, cause }) => Some(Err((error.clone(), cause.clone()))),
        Some(Mock::Result(text)) => {
            let value: Value = serde_json::from_str(text)
                .map_err(|_| invalid("Mocked result must be valid JSON"))?;
            check_fan_out_mock(state, kind, &value, req.map_failures)?;
            Some(map_threshold(state, kind, &value, req.map_failures).unwrap_or(Ok(value)))
        }
    };
    if answer.is_none() && kind == "Task" {
        let resource = state.get("Resource").and_then(Value::as_str).unwrap_or("");
        if req.role_arn.is_none() {
            return Err(invalid(
                "RoleArn must be specified when testing a Task state",
            ));
        }
        if waits(resource) {
            return Err(invalid("TestState does not support Activity tasks or .sync/.waitForTaskToken service integration patterns when a mock is not specified."));
        }
    }
    Ok(answer)
}

/// A mocked Map's or Parallel's result has their shape.
fn check_fan_out_mock(
    state: &Value,
    kind: &str,
    value: &Value,
    map_failures: Option<u32>,
) -> Result<()> {
    match kind {
        "Map" if state.get("ResultWriter").is_some() && !value.is_object() => {
            return Err(invalid("Mocked result must be a JSON object."));
        }
        "Map" if state.get("ResultWriter").is_some() => {}
        "Map" => {
            let Some(items) = value.as_array() else {
                return Err(invalid("Mocked result must be an array."));
            };
            if map_failures.is_some_and(|k| k as usize > items.len()) {
                return Err(invalid("Map iteration failure count must be less than or equal to the number of Map iterations"));
            }
        }
        "Parallel" => {
            let Some(results) = value.as_array() else {
                return Err(invalid("Mocked result must be an array."));
            };
            let branches = state
                .get("Branches")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            if results.len() != branches {
                return Err(invalid("Mocked result must contain the same number of items as number of Parallel branches."));
            }
        }
        _ => {}
    }
    Ok(())
}

/// A mocked Map whose failed iterations exceed what it tolerates fails as AWS's does.
fn map_threshold(
    state: &Value,
    kind: &str,
    value: &Value,
    map_failures: Option<u32>,
) -> Option<TaskResult> {
    let failed = f64::from(map_failures?);
    if kind != "Map" {
        return None;
    }
    let items = value.as_array().map_or(0, Vec::len) as f64;
    let count = state.get("ToleratedFailureCount").and_then(Value::as_f64);
    let percentage = state
        .get("ToleratedFailurePercentage")
        .and_then(Value::as_f64);
    let exceeded = count.is_some_and(|c| failed > c)
        || percentage.is_some_and(|p| items > 0.0 && failed * 100.0 / items > p);
    exceeded.then(|| {
        Err((
            "States.ExceedToleratedFailureThreshold".to_string(),
            "The specified tolerated failure threshold was exceeded".to_string(),
        ))
    })
}
