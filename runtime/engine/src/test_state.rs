//! TestState's pure parts: one state, alone in a machine that runs only it, and what its
//! run says: AWS's status, output, next state and the stages of its data.
//!
//! The state keeps its own fields; the states it names (`Next`, a Choice's targets, a
//! Catch's `Next`) become `Succeed` stand-ins, so the machine validates and the first
//! state entered after the tested one is its next state. Variables the caller gives are
//! assigned by a `Pass` state before it. A mocked Map or Parallel becomes a Task whose
//! result is the mock: its branches never run, as on AWS.

use crate::command::{Command, Outcome, TaskRequest};
use crate::definition::Definition;
use crate::error::{Error, ErrorName};
use crate::event::{EventKind, Millis, Start};
use crate::execution::{step, ExecutionState};
use crate::simulate::{TaskResult, VirtualTime};
use crate::trace::{Stages, Trace, Visit, VisitStatus};
use serde_json::{json, Map, Value};

/// The name a state tested on its own has (AWS's: it shows in `$$.State.Name`).
pub const SINGLE_STATE_NAME: &str = "StateName";
/// The state that assigns the caller's variables before the tested one.
const SEED: &str = "Sandstep.TestState.Variables";
/// The resource of the Task a mocked Map or Parallel becomes.
pub const MOCKED_RESOURCE: &str = "arn:sandstep:test-state:::mocked";

/// A state ready to run alone.
#[derive(Debug, Clone, PartialEq)]
pub struct Isolated {
    /// A machine that runs the state and stops at whatever comes next.
    pub machine: Value,
    /// The tested state's name in it.
    pub name: String,
    /// The state as written.
    pub state: Value,
    /// Its `Type` as written.
    pub kind: String,
    /// Whether it runs JSONata.
    pub jsonata: bool,
    /// Whether it is a Pass state with a `Result` (AWS shows other stages for it).
    pub pass_result: bool,
    /// Its `Retry` and `Catch` lists (for the indexes AWS reports).
    pub retry: Vec<Vec<String>>,
    /// The `ErrorEquals` of each catcher.
    pub catch: Vec<Vec<String>>,
}

/// Why a definition cannot be tested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IsolateError {
    /// `stateName` names no state of the machine.
    StateNotFound,
    /// The definition is not a state (or, with `stateName`, a machine).
    NotAState(String),
}

/// Takes the state to test out of `definition`: the definition itself, or with
/// `state_name` the state of that name anywhere in the machine (inside a Parallel's
/// branches or a Map's processor too). `mocked` turns a Map or Parallel into a Task;
/// `variables` are assigned before it runs.
///
/// # Errors
/// [`IsolateError`].
pub fn isolate(
    definition: &Value,
    state_name: Option<&str>,
    mocked: bool,
    variables: Option<&Map<String, Value>>,
) -> Result<Isolated, IsolateError> {
    let (name, state, inherited) = match state_name {
        None => (SINGLE_STATE_NAME.to_string(), definition.clone(), None),
        Some(wanted) => {
            let top = definition.get("QueryLanguage").cloned();
            let (state, language) =
                find(definition, wanted, top).ok_or(IsolateError::StateNotFound)?;
            (wanted.to_string(), state, language)
        }
    };
    let Some(object) = state.as_object() else {
        return Err(IsolateError::NotAState(
            "the definition must be a state: a JSON object with a Type".into(),
        ));
    };
    let kind = object
        .get("Type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut tested = object.clone();
    if let (None, Some(language)) = (tested.get("QueryLanguage"), inherited) {
        tested.insert("QueryLanguage".into(), language);
    }
    let jsonata = tested.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata");
    let pass_result = kind == "Pass" && tested.contains_key("Result");
    if mocked && matches!(kind.as_str(), "Map" | "Parallel") {
        tested = as_mocked_task(&tested, jsonata);
    }
    let mut states = Map::new();
    for target in targets(&tested) {
        if target != name {
            states.insert(target, json!({"Type": "Succeed"}));
        }
    }
    let lists = |field: &str| -> Vec<Vec<String>> {
        tested
            .get(field)
            .and_then(Value::as_array)
            .map(|rules| {
                rules
                    .iter()
                    .map(|r| {
                        r.get("ErrorEquals")
                            .and_then(Value::as_array)
                            .map(|e| {
                                e.iter()
                                    .filter_map(Value::as_str)
                                    .map(str::to_string)
                                    .collect()
                            })
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (retry, catch) = (lists("Retry"), lists("Catch"));
    let start = match variables.filter(|v| !v.is_empty()) {
        Some(vars) => {
            states.insert(
                SEED.into(),
                json!({"Type": "Pass", "QueryLanguage": "JSONPath", "Assign": vars, "Next": name}),
            );
            SEED.to_string()
        }
        None => name.clone(),
    };
    states.insert(name.clone(), Value::Object(tested));
    Ok(Isolated {
        machine: json!({"StartAt": start, "States": states}),
        name,
        state: Value::Object(object.clone()),
        kind,
        jsonata,
        pass_result,
        retry,
        catch,
    })
}

/// The state named `wanted` anywhere in a machine, with the query language it inherits.
fn find(machine: &Value, wanted: &str, language: Option<Value>) -> Option<(Value, Option<Value>)> {
    let language = machine.get("QueryLanguage").cloned().or(language);
    let states = machine.get("States")?.as_object()?;
    if let Some(state) = states.get(wanted) {
        return Some((state.clone(), language));
    }
    for state in states.values() {
        let nested = state
            .get("Branches")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .chain(state.get("ItemProcessor"))
            .chain(state.get("Iterator"));
        for inner in nested {
            let own = state.get("QueryLanguage").cloned().or(language.clone());
            if let Some(found) = find(inner, wanted, own) {
                return Some(found);
            }
        }
    }
    None
}

/// Every state name a state transitions to.
fn targets(state: &Map<String, Value>) -> Vec<String> {
    let next = |v: &Value| v.get("Next").and_then(Value::as_str).map(str::to_string);
    let mut found: Vec<String> = Vec::new();
    found.extend(next(&Value::Object(state.clone())));
    found.extend(
        state
            .get("Default")
            .and_then(Value::as_str)
            .map(str::to_string),
    );
    for list in ["Choices", "Catch"] {
        for rule in state
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            found.extend(next(rule));
        }
    }
    found.sort();
    found.dedup();
    found
}

/// A Map or Parallel as a Task with the same input and output processing, whose result
/// is the mock.
fn as_mocked_task(state: &Map<String, Value>, jsonata: bool) -> Map<String, Value> {
    let kept: &[&str] = if jsonata {
        &[
            "QueryLanguage",
            "Comment",
            "Output",
            "Assign",
            "Next",
            "End",
            "Retry",
            "Catch",
        ]
    } else {
        &[
            "Comment",
            "InputPath",
            "ResultSelector",
            "ResultPath",
            "OutputPath",
            "Assign",
            "Next",
            "End",
            "Retry",
            "Catch",
        ]
    };
    let mut task: Map<String, Value> = state
        .iter()
        .filter(|(k, _)| kept.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    task.insert("Type".into(), json!("Task"));
    task.insert("Resource".into(), json!(MOCKED_RESOURCE));
    task
}

/// TestState's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The state completed.
    Succeeded,
    /// It raised an error nothing handled.
    Failed,
    /// It raised an error a Retrier would retry.
    Retriable,
    /// It raised an error a Catcher handled.
    CaughtError,
}

impl Status {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::Retriable => "RETRIABLE",
            Status::CaughtError => "CAUGHT_ERROR",
        }
    }
}

/// What the run of an isolated state says.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The status.
    pub status: Status,
    /// The output (completed or caught).
    pub output: Option<Value>,
    /// The error, when it raised one.
    pub error: Option<String>,
    /// Its cause.
    pub cause: Option<String>,
    /// The state that would run next.
    pub next_state: Option<String>,
    /// AWS's `inspectionData`.
    pub inspection: Map<String, Value>,
}

/// How a run ended, as the driver saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// The state left (or failed): the trace says how.
    Left,
    /// It failed and a Retrier scheduled another attempt after `backoff_seconds`.
    WouldRetry {
        /// The wait before the next attempt.
        backoff_seconds: f64,
        /// The stages of the attempt that failed.
        attempt: Option<Box<Stages>>,
    },
    /// The machine ended with this error before the state left (a Fail state, an
    /// unhandled error).
    Failed {
        /// The error.
        error: Option<String>,
        /// Its cause.
        cause: Option<String>,
    },
}

/// Where a run got to.
#[derive(Debug, Clone, PartialEq)]
pub enum Run {
    /// The state wants this task's result, which `answer` did not have: run the task and
    /// run the state again with its result (the engine is deterministic, so the second
    /// run repeats the first up to here).
    NeedsTask(TaskRequest),
    /// The state ran.
    Done(Verdict),
}

/// Runs an isolated state on virtual time from `at` (a Wait or a backoff takes no
/// time) from `start`. Tasks are answered by `answer`; a failure that a Retrier retries counts
/// against `retries_before` (AWS's `retrierRetryCount`: retries already made), and the
/// one after them ends the run as [`Status::Retriable`].
///
/// # Errors
/// When the engine refuses an event, or the run gets stuck with nothing pending.
pub fn run(
    isolated: &Isolated,
    def: &Definition,
    start: Start,
    at: Millis,
    retries_before: u32,
    mut answer: impl FnMut(&TaskRequest) -> Option<TaskResult>,
) -> Result<Run, Error> {
    let mut state = ExecutionState::traced();
    let mut clock = VirtualTime::new(start, at, 1);
    let mut retried = 0u32;
    // The tested state's stages as its last attempt left them: a retry starts the visit
    // over, so RETRIABLE reports what the attempt that failed had.
    let mut attempt: Option<Stages> = None;
    loop {
        let event = clock.next_event()?;
        let commands = step(def, &mut state, &event)?;
        for command in commands {
            match command {
                Command::RunTask(task) => match answer(&task) {
                    None => return Ok(Run::NeedsTask(task)),
                    Some(Ok(output)) => clock.inbox.push_back(EventKind::TaskSucceeded {
                        task: task.id,
                        output,
                        usage: None,
                    }),
                    Some(Err((error, cause))) => clock.inbox.push_back(EventKind::TaskFailed {
                        task: task.id,
                        error,
                        cause,
                        usage: None,
                    }),
                },
                Command::StartTimer { timer, due } if state.is_retry_timer(timer) => {
                    if retried == retries_before {
                        let ending = Ending::WouldRetry {
                            backoff_seconds: (due - clock.now()) as f64 / 1000.0,
                            attempt: attempt.take().map(Box::new),
                        };
                        return Ok(Run::Done(finish(isolated, &state, &ending)));
                    }
                    retried += 1;
                    clock.timers.insert(timer, due);
                }
                Command::StartTimer { timer, due } => {
                    clock.timers.insert(timer, due);
                }
                Command::CancelTimer(timer) => {
                    clock.timers.remove(&timer);
                }
                Command::Finish(outcome) => {
                    let ending = match outcome {
                        Outcome::Failed { error, cause } | Outcome::TimedOut { error, cause } => {
                            Ending::Failed { error, cause }
                        }
                        _ => Ending::Left,
                    };
                    return Ok(Run::Done(finish(isolated, &state, &ending)));
                }
                Command::Record(_) | Command::CancelTask(_) => {}
            }
        }
        if let Some(trace) = state.trace() {
            let tested = trace.visits().find(|v| v.state == isolated.name);
            if let Some(v) = tested.filter(|v| v.status == VisitStatus::Running) {
                attempt = Some(v.stages.clone());
            }
        }
    }
}

fn finish(isolated: &Isolated, state: &ExecutionState, ending: &Ending) -> Verdict {
    match state.trace() {
        Some(trace) => verdict(isolated, trace, ending),
        None => verdict(isolated, &Trace::default(), ending),
    }
}

/// Reads the verdict from the run's trace.
pub fn verdict(isolated: &Isolated, trace: &Trace, ending: &Ending) -> Verdict {
    let visits: Vec<&Visit> = trace.visits().collect();
    let at = visits.iter().position(|v| v.state == isolated.name);
    let visit = at.and_then(|i| visits.get(i).copied());
    let after = at.and_then(|i| visits.get(i + 1).copied());
    let mut stages = visit.map(|v| v.stages.clone()).unwrap_or_default();
    if let Ending::WouldRetry {
        attempt: Some(before),
        ..
    } = ending
    {
        stages = Stages {
            error: stages.error.take(),
            ..(**before).clone()
        };
    }
    let raised = |field: &str| {
        stages
            .error
            .as_ref()
            .and_then(|e| e.get(field))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let (mut error, mut cause) = (raised("Error"), raised("Cause"));
    let mut details = Map::new();
    let left = visit.map(|v| v.status);
    if let Ending::Failed { error: e, cause: c } = ending {
        error = error.or_else(|| e.clone());
        cause = cause.or_else(|| c.clone());
    }
    let status = match ending {
        Ending::WouldRetry {
            backoff_seconds, ..
        } => {
            if let Some(i) = index_of(&isolated.retry, error.as_deref(), isolated.kind == "Task") {
                details.insert("retryIndex".into(), json!(i));
            }
            details.insert(
                "retryBackoffIntervalSeconds".into(),
                json!(backoff_seconds.round() as i64),
            );
            Status::Retriable
        }
        _ if left == Some(VisitStatus::Caught) => {
            if let Some(i) = index_of(&isolated.retry, error.as_deref(), isolated.kind == "Task") {
                details.insert("retryIndex".into(), json!(i));
            }
            if let Some(i) = index_of(&isolated.catch, error.as_deref(), isolated.kind == "Task") {
                details.insert("catchIndex".into(), json!(i));
            }
            Status::CaughtError
        }
        Ending::Failed { .. } => {
            if let Some(i) = index_of(&isolated.retry, error.as_deref(), isolated.kind == "Task") {
                details.insert("retryIndex".into(), json!(i));
            }
            Status::Failed
        }
        Ending::Left if left == Some(VisitStatus::Failed) => Status::Failed,
        Ending::Left => Status::Succeeded,
    };
    let output = match status {
        Status::Succeeded | Status::CaughtError => stages
            .output
            .clone()
            .or_else(|| after.and_then(|v| v.stages.input.clone())),
        _ => None,
    };
    let next_state = match status {
        Status::Succeeded | Status::CaughtError => after.map(|v| v.state.clone()),
        _ => None,
    };
    let mut inspection = inspection(isolated, &stages, status);
    if !details.is_empty() {
        inspection.insert("errorDetails".into(), Value::Object(details));
    }
    Verdict {
        status,
        output,
        error: error.filter(|_| status != Status::Succeeded),
        cause: cause.filter(|_| status != Status::Succeeded),
        next_state,
        inspection,
    }
}

/// The first rule whose `ErrorEquals` matches `error` (raised by a Task state: `in_task`).
fn index_of(rules: &[Vec<String>], error: Option<&str>, in_task: bool) -> Option<usize> {
    let error = ErrorName::parse(error?);
    rules.iter().position(|equals| {
        equals.iter().any(|p| {
            let pattern = ErrorName::parse(p);
            match in_task {
                true => error.matched_in_task_by(&pattern),
                false => error.matched_by(&pattern),
            }
        })
    })
}

/// AWS's `inspectionData` for the state's kind and language: each stage as JSON text. A
/// field the state does not have passes its data on unchanged, and AWS shows that stage.
fn inspection(isolated: &Isolated, stages: &Stages, status: Status) -> Map<String, Value> {
    let mut stages = stages.clone();
    if stages.after_parameters.is_none() {
        stages.after_parameters = stages.after_input_path.clone();
    }
    if stages.after_result_selector.is_none() {
        stages.after_result_selector = stages.result.clone();
    }
    let text = |v: &Option<Value>| v.as_ref().map(|v| Value::String(v.to_string()));
    let mut out = Map::new();
    let mut put = |key: &str, v: &Option<Value>| {
        if let Some(t) = text(v) {
            out.insert(key.into(), t);
        }
    };
    put("input", &stages.input);
    let ran = !matches!(status, Status::Failed | Status::Retriable);
    match (isolated.jsonata, isolated.kind.as_str()) {
        (true, "Task" | "Map" | "Parallel") => {
            put("afterArguments", &stages.after_parameters);
            if ran {
                put("result", &stages.result);
            }
        }
        (true, _) => {}
        (false, "Choice" | "Succeed" | "Fail" | "Wait") => {
            put("afterInputPath", &stages.after_input_path)
        }
        (false, "Pass") if isolated.pass_result => {
            put("result", &stages.result);
            put("afterResultSelector", &stages.after_result_selector);
            put("afterResultPath", &stages.after_result_path);
        }
        (false, kind) => {
            if kind != "Parallel" {
                put("afterInputPath", &stages.after_input_path);
                if kind != "Map" {
                    put("afterParameters", &stages.after_parameters);
                }
            }
            if ran {
                if kind == "Task" {
                    put("result", &stages.result);
                }
                put("afterResultSelector", &stages.after_result_selector);
                put("afterResultPath", &stages.after_result_path);
            }
        }
    }
    if let Some(vars) = stages
        .variables
        .as_ref()
        .filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
    {
        out.insert("variables".into(), Value::String(vars.to_string()));
    }
    out
}

#[cfg(test)]
mod tests;
