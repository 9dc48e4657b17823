//! StartExecution, StartSyncExecution, StopExecution, DescribeExecution,
//! DescribeStateMachineForExecution, ListExecutions, RedriveExecution: typed inputs, the use cases in
//! [`crate::service::executions`], AWS's answers.

use super::epoch;
use super::machines::logging_or_default;
use crate::api::error::{Error, Result};
use crate::api::params::{constraints, decode, longer_than, Input, MaxResults, Params};
use crate::api::App;
use crate::model::{Execution, Status};
use crate::service::executions::NewExecution;
use crate::service::map_runs::ChildFilter;
use crate::tenants::Tenant;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The longest X-Ray `traceHeader` AWS accepts, in characters.
pub const MAX_TRACE_HEADER_CHARS: usize = 256;

/// Checks `traceHeader` against the API's constraints (at most 256 ASCII characters), in
/// AWS's words. Sandstep does not trace, so a valid header is otherwise ignored (and not
/// part of the input struct).
fn check_trace_header(p: &Params) -> Result<()> {
    let Some(header) = p.opt_str("traceHeader")? else {
        return Ok(());
    };
    let mut failed: Vec<String> = longer_than(header, MAX_TRACE_HEADER_CHARS)
        .into_iter()
        .collect();
    if !header.is_ascii() {
        failed.push("satisfy regular expression pattern: \\p{ASCII}*".into());
    }
    constraints("traceHeader", header, false, &failed)
}

/// The input of StartExecution and StartSyncExecution.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartExecutionInput {
    state_machine_arn: String,
    name: Option<String>,
    input: Option<String>,
}

impl Input for StartExecutionInput {
    fn check(p: &Params) -> Result<()> {
        // The model's constraints come first, as on AWS: before the machine is looked up.
        check_trace_header(p)?;
        p.str("stateMachineArn")?;
        p.opt_str("name")?;
        p.opt_str("input")?;
        Ok(())
    }
}

impl From<StartExecutionInput> for NewExecution {
    fn from(input: StartExecutionInput) -> NewExecution {
        NewExecution {
            state_machine_arn: input.state_machine_arn,
            name: input.name,
            input: input.input,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StopExecutionInput {
    execution_arn: String,
    error: Option<String>,
    cause: Option<String>,
}

impl Input for StopExecutionInput {
    fn check(p: &Params) -> Result<()> {
        p.str("executionArn")?;
        p.opt_str("error")?;
        p.opt_str("cause")?;
        Ok(())
    }
}

/// The input of DescribeExecution and DescribeStateMachineForExecution.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExecutionArnInput {
    execution_arn: String,
}

impl Input for ExecutionArnInput {
    fn check(p: &Params) -> Result<()> {
        p.str("executionArn").map(|_| ())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListExecutionsInput {
    #[serde(default)]
    state_machine_arn: Option<String>,
    #[serde(default)]
    map_run_arn: Option<String>,
    status_filter: Option<String>,
    redrive_filter: Option<RedriveFilter>,
    #[serde(default)]
    max_results: MaxResults,
    next_token: Option<String>,
}

impl Input for ListExecutionsInput {
    fn check(p: &Params) -> Result<()> {
        match (p.opt_str("stateMachineArn")?, p.opt_str("mapRunArn")?) {
            (None, None) => {
                return Err(Error::Validation(
                    "Must provide a StateMachine ARN or MapRun ARN".into(),
                ))
            }
            (Some(_), Some(_)) => {
                return Err(Error::Validation(
                    "Only one of stateMachineArn or mapRunArn can be provided".into(),
                ))
            }
            _ => {}
        }
        if let Some(s) = p.opt_str("statusFilter")? {
            if s == PENDING_REDRIVE && p.opt_str("mapRunArn")?.is_none() {
                return Err(Error::Validation(
                    "The PENDING_REDRIVE statusFilter is only supported with a mapRunArn".into(),
                ));
            }
            if Status::parse(s).is_none() && s != PENDING_REDRIVE {
                return Err(Error::Validation(format!(
                    "1 validation error detected: Value '{s}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]"
                )));
            }
        }
        if let Some(r) = p.opt_str("redriveFilter")? {
            if !["REDRIVEN", "NOT_REDRIVEN"].contains(&r) {
                return Err(Error::Validation(format!(
                    "1 validation error detected: Value '{r}' at 'redriveFilter' failed to satisfy constraint: Member must satisfy enum value set: [REDRIVEN, NOT_REDRIVEN]"
                )));
            }
        }
        p.max_results()?;
        p.opt_str("nextToken")?;
        Ok(())
    }
}

/// ListExecutions' `statusFilter` for a Map Run's children that failed and wait for a
/// redrive.
const PENDING_REDRIVE: &str = "PENDING_REDRIVE";

/// ListExecutions' `redriveFilter`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum RedriveFilter {
    Redriven,
    NotRedriven,
}

/// The input of RedriveExecution.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RedriveExecutionInput {
    execution_arn: String,
    client_token: Option<String>,
}

impl Input for RedriveExecutionInput {
    fn check(p: &Params) -> Result<()> {
        let arn = p.str("executionArn")?;
        constraints(
            "executionArn",
            arn,
            false,
            &longer_than(arn, 256).into_iter().collect::<Vec<_>>(),
        )?;
        if let Some(token) = p.opt_str("clientToken")? {
            let mut failed: Vec<String> = longer_than(token, 64).into_iter().collect();
            if token.is_empty() {
                failed.push("have length greater than or equal to 1".into());
            }
            if !token.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
                failed.push("satisfy regular expression pattern: [!-~]+".into());
            }
            constraints("clientToken", token, false, &failed)?;
        }
        Ok(())
    }
}

pub(super) async fn redrive(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: RedriveExecutionInput = decode(p)?;
    let date = app
        .services
        .executions
        .redrive(tenant, &input.execution_arn, input.client_token)
        .await?;
    Ok(json!({"redriveDate": epoch(date)}))
}

/// The redrive fields of DescribeExecution: the count always, the date once redriven, the
/// status, and the reason only when it cannot be redriven.
fn redrive_fields(
    o: &mut Map<String, Value>,
    e: &Execution,
    redrivable: &std::result::Result<(), String>,
) {
    o.insert("redriveCount".into(), json!(e.redrive_count));
    if let Some(date) = e.redrive_date {
        o.insert("redriveDate".into(), epoch(date));
    }
    match redrivable {
        Ok(()) => {
            o.insert("redriveStatus".into(), json!("REDRIVABLE"));
        }
        Err(reason) => {
            o.insert("redriveStatus".into(), json!("NOT_REDRIVABLE"));
            o.insert("redriveStatusReason".into(), json!(reason));
        }
    }
}

/// Adds what a finished execution has: its output, or its error and cause.
/// `stateMachineVersionArn` and `stateMachineAliasArn` of an execution started on a
/// version or an alias of the machine `machine_arn`.
fn qualified_fields(o: &mut Map<String, Value>, machine_arn: &str, e: &Execution) {
    if let Some(n) = e.version {
        o.insert(
            "stateMachineVersionArn".into(),
            json!(crate::arn::version(machine_arn, n)),
        );
    }
    if let Some(a) = &e.alias {
        o.insert(
            "stateMachineAliasArn".into(),
            json!(crate::arn::alias(machine_arn, a)),
        );
    }
}

/// A state machine ARN without its version or alias.
fn unqualified(arn: &str) -> &str {
    match arn.match_indices(':').nth(6) {
        Some((i, _)) => arn.get(..i).unwrap_or(arn),
        None => arn,
    }
}

fn finished_fields(o: &mut Map<String, Value>, e: &Execution) {
    if let Some(output) = &e.output {
        o.insert("output".into(), json!(output));
        o.insert("outputDetails".into(), json!({"included": true}));
    }
    if let Some(error) = &e.error {
        o.insert("error".into(), json!(error));
    }
    if let Some(cause) = &e.cause {
        o.insert("cause".into(), json!(cause));
    }
}

pub(super) async fn start(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: StartExecutionInput = decode(p)?;
    let e = app.services.executions.start(tenant, input.into()).await?;
    Ok(json!({"executionArn": e.arn, "startDate": epoch(e.started)}))
}

pub(super) async fn start_sync(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: StartExecutionInput = decode(p)?;
    let done = app
        .services
        .executions
        .start_sync(tenant, input.into())
        .await?;
    let e = &done.execution;
    let stopped = e.stopped.unwrap_or(e.started);
    let mut out = json!({
        "executionArn": e.arn,
        "stateMachineArn": done.machine_arn,
        "name": e.name,
        "startDate": epoch(e.started),
        "stopDate": epoch(stopped),
        "status": e.status.as_str(),
        "input": e.input,
        "inputDetails": {"included": true},
        "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": (stopped - e.started).max(100)},
    });
    if let Some(o) = out.as_object_mut() {
        finished_fields(o, e);
    }
    Ok(out)
}

pub(super) async fn stop(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: StopExecutionInput = decode(p)?;
    let stopped = app
        .services
        .executions
        .stop(tenant, &input.execution_arn, input.error, input.cause)
        .await?;
    Ok(json!({"stopDate": epoch(stopped)}))
}

pub(super) async fn describe(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: ExecutionArnInput = decode(p)?;
    let described = app
        .services
        .executions
        .describe(tenant, &input.execution_arn)?;
    let e = &described.execution;
    let mut out = json!({
        "executionArn": e.arn,
        "stateMachineArn": described.machine_arn,
        "name": e.name,
        "status": e.status.as_str(),
        "startDate": epoch(e.started),
        "input": e.input,
        "inputDetails": {"included": true},
    });
    if let Some(o) = out.as_object_mut() {
        if let Some(stopped) = e.stopped {
            o.insert("stopDate".into(), epoch(stopped));
        }
        // Sandstep's own field (AWS clients skip unknown fields): the execution whose
        // `states:startExecution` task started this one.
        if let Some(parent) = &e.parent {
            o.insert("sandstepParentExecutionArn".into(), json!(parent.arn));
        }
        if let Some(run) = &e.map_run {
            o.insert("mapRunArn".into(), json!(run));
        }
        qualified_fields(o, &described.machine_arn, e);
        redrive_fields(o, e, &described.redrivable);
        finished_fields(o, e);
    }
    Ok(out)
}

pub(super) async fn describe_machine(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: ExecutionArnInput = decode(p)?;
    let pinned = app
        .services
        .executions
        .machine_of(tenant, &input.execution_arn)?;
    let role = pinned
        .machine
        .as_ref()
        .map(|m| m.role_arn.clone())
        .unwrap_or_default();
    let logging = pinned
        .machine
        .as_ref()
        .map(logging_or_default)
        .unwrap_or_else(|| json!({"level": "OFF"}));
    let mut out = json!({
        "stateMachineArn": pinned.arn,
        "name": pinned.name,
        "definition": pinned.revision.definition,
        "roleArn": role,
        "updateDate": epoch(pinned.revision.created),
        "loggingConfiguration": logging,
        "tracingConfiguration": {"enabled": false},
        "revisionId": pinned.revision.id,
    });
    // A Distributed Map's child runs the Map's processor, named `<machine>/<label>`.
    if let (Some(run), Some(o)) = (&pinned.map_run, out.as_object_mut()) {
        o.insert("mapRunArn".into(), json!(run));
        let label = pinned.name.rsplit_once('/').map_or("", |(_, l)| l);
        o.insert("label".into(), json!(label));
    }
    Ok(out)
}

pub(super) async fn list(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: ListExecutionsInput = decode(p)?;
    let state_machine_arn = match (&input.state_machine_arn, &input.map_run_arn) {
        (Some(arn), _) => arn.clone(),
        (None, Some(run)) => {
            let filter = match input.status_filter.as_deref() {
                Some(PENDING_REDRIVE) => Some(ChildFilter::PendingRedrive),
                Some(s) => Status::parse(s).map(ChildFilter::Status),
                None => None,
            };
            return super::map_runs::list_children(
                app,
                tenant,
                run,
                filter,
                input.max_results.0,
                input.next_token.as_deref(),
            );
        }
        (None, None) => {
            return Err(Error::Validation(
                "Must provide a StateMachine ARN or MapRun ARN".into(),
            ))
        }
    };
    let page = app.services.executions.list(
        tenant,
        &state_machine_arn,
        input.status_filter.as_deref().and_then(Status::parse),
        input
            .redrive_filter
            .map(|f| matches!(f, RedriveFilter::Redriven)),
        input.max_results.0,
        input.next_token.as_deref(),
    )?;
    let machine_arn = unqualified(&state_machine_arn);
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|e| {
            let mut item = json!({
                "executionArn": e.arn,
                "stateMachineArn": machine_arn,
                "name": e.name,
                "status": e.status.as_str(),
                "startDate": epoch(e.started),
                "redriveCount": e.redrive_count,
            });
            if let Some(o) = item.as_object_mut() {
                if let Some(s) = e.stopped {
                    o.insert("stopDate".into(), epoch(s));
                }
                if let Some(date) = e.redrive_date {
                    o.insert("redriveDate".into(), epoch(date));
                }
                qualified_fields(o, machine_arn, e);
            }
            item
        })
        .collect();
    let mut out = json!({"executions": items});
    if let (Some(n), Some(o)) = (page.next_token, out.as_object_mut()) {
        o.insert("nextToken".into(), json!(n));
    }
    Ok(out)
}
