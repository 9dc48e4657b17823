//! StartExecution, StartSyncExecution, StopExecution, DescribeExecution,
//! DescribeStateMachineForExecution, ListExecutions.

use super::{execution_key, machine_name, machines};
use crate::api::error::{Error, Result};
use crate::api::params::{constraints, decode_token, encode_token, epoch, longer_than, Params};
use crate::api::App;
use crate::arn;
use crate::pins::modules_in;
use crate::scheduler::{self, StartRequest};
use crate::store::executions::{Execution, MachineType, Status};
use crate::store::{Executions, Modules, StateMachines};
use crate::tenants::Tenant;
use sandstep_engine::execution::PAYLOAD_LIMIT_BYTES;
use serde_json::{json, Value};
use std::collections::BTreeMap;

struct Parsed {
    request: StartRequest,
}

/// The longest X-Ray `traceHeader` AWS accepts, in characters.
pub const MAX_TRACE_HEADER_CHARS: usize = 256;

/// Checks `traceHeader` against the API's constraints (at most 256 ASCII characters), in
/// AWS's words. Sandstep does not trace, so a valid header is otherwise ignored.
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

fn prepare(app: &App, tenant: &Tenant, p: &Params) -> Result<Parsed> {
    // The model's constraints come first, as on AWS: before the machine is looked up.
    check_trace_header(p)?;
    let machine_arn = p.str("stateMachineArn")?;
    let (machine, revision) = machines::load_for_start(app, tenant, machine_arn)?;
    let name = match p.opt_str("name")? {
        Some(n) if arn::valid_name(n) => n.to_string(),
        Some(n) => return Err(Error::InvalidName(format!("Invalid Name: '{n}'"))),
        None => sandstep_engine::rng::Rng::new(scheduler::entropy()).uuid(),
    };
    let input_text = p.opt_str("input")?.unwrap_or("{}").to_string();
    if input_text.len() > PAYLOAD_LIMIT_BYTES {
        return Err(Error::InvalidExecutionInput(format!(
            "Invalid execution input: the input is {} bytes, above the limit of {PAYLOAD_LIMIT_BYTES} bytes",
            input_text.len()
        )));
    }
    let input: Value = serde_json::from_str(&input_text).map_err(|e| {
        Error::InvalidExecutionInput(format!("Invalid State Machine Execution Input: '{e}'"))
    })?;
    let definition: Value = serde_json::from_str(&revision.definition).unwrap_or(Value::Null);
    let mut pins = BTreeMap::new();
    for m in modules_in(&definition) {
        if let Some(v) = app.store.module_version(&tenant.id, &m.name, m.version)? {
            pins.insert(m.name, (v.version, v.sha256));
        }
    }
    Ok(Parsed {
        request: StartRequest {
            tenant: tenant.id.clone(),
            account: tenant.account.clone(),
            machine,
            revision,
            name,
            input,
            input_text,
            pins,
        },
    })
}

/// A ListExecutions token: `<start millis>|<name>` (see `execution_list_newest`).
/// Checked here so that a crafted token is `InvalidToken`, never a store error.
fn newest_first_position(token: &str) -> Result<String> {
    let position = decode_token(token)?;
    match position.split_once('|') {
        Some((started, name))
            if !name.is_empty() && started.parse::<i64>().is_ok_and(|ms| ms >= 0) =>
        {
            Ok(position)
        }
        _ => Err(Error::InvalidToken(format!("Invalid Token: '{token}'"))),
    }
}

pub(crate) fn scheduler_error(e: scheduler::Error) -> Error {
    match e {
        scheduler::Error::Store(s) => s.into(),
        scheduler::Error::Definition(m) => {
            Error::InvalidDefinition(format!("Invalid State Machine Definition: '{m}'"))
        }
        scheduler::Error::AlreadyExists(x) => {
            Error::ExecutionAlreadyExists(format!("Execution Already Exists: '{}'", x.arn))
        }
        scheduler::Error::NotRunning(arn) => {
            Error::ExecutionDoesNotExist(format!("Execution Does Not Exist: '{arn}'"))
        }
        scheduler::Error::OpenLimit(m) => Error::ExecutionLimitExceeded(m),
        scheduler::Error::Engine(e) => Error::Internal(e.to_string()),
        scheduler::Error::Pool(e) => Error::Internal(e.to_string()),
        scheduler::Error::Start(e) => Error::Internal(e),
    }
}

pub(super) async fn start(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let parsed = prepare(app, tenant, p)?;
    let input_text = parsed.request.input_text.clone();
    match app.scheduler.start(parsed.request, false).await {
        Ok(e) => Ok(json!({"executionArn": e.arn, "startDate": epoch(e.started)})),
        // StartExecution is idempotent by name for a running execution with the same input.
        Err(scheduler::Error::AlreadyExists(existing))
            if existing.status == Status::Running && existing.input == input_text =>
        {
            Ok(json!({"executionArn": existing.arn, "startDate": epoch(existing.started)}))
        }
        Err(e) => Err(scheduler_error(e)),
    }
}

pub(super) async fn start_sync(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let parsed = prepare(app, tenant, p)?;
    if parsed.request.machine.machine_type != MachineType::Express {
        return Err(Error::StateMachineTypeNotSupported(
            "This operation is only supported for EXPRESS state machines".into(),
        ));
    }
    let machine_arn = parsed.request.machine.arn.clone();
    let e = app
        .scheduler
        .start(parsed.request, true)
        .await
        .map_err(scheduler_error)?;
    let mut out = json!({
        "executionArn": e.arn,
        "stateMachineArn": machine_arn,
        "name": e.name,
        "startDate": epoch(e.started),
        "stopDate": epoch(e.stopped.unwrap_or(e.started)),
        "status": e.status.as_str(),
        "input": e.input,
        "inputDetails": {"included": true},
        "billingDetails": {"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": (e.stopped.unwrap_or(e.started) - e.started).max(100)},
    });
    if let Some(o) = out.as_object_mut() {
        finished_fields(o, &e);
    }
    Ok(out)
}

fn finished_fields(o: &mut serde_json::Map<String, Value>, e: &Execution) {
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

fn load(app: &App, tenant: &Tenant, arn: &str) -> Result<Execution> {
    let (key, express) = execution_key(app, tenant, arn)?;
    if express {
        return Err(Error::StateMachineTypeNotSupported(
            "This operation is not supported by EXPRESS state machines".into(),
        ));
    }
    app.store
        .execution_get(&key)?
        .ok_or_else(|| Error::ExecutionDoesNotExist(format!("Execution Does Not Exist: '{arn}'")))
}

pub(super) async fn stop(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let arn = p.str("executionArn")?;
    let (key, express) = execution_key(app, tenant, arn)?;
    let error = p.opt_str("error")?.map(str::to_string);
    let cause = p.opt_str("cause")?.map(str::to_string);
    if express {
        return match app.scheduler.stop(&key, error, cause).await {
            Ok(e) => Ok(json!({"stopDate": epoch(e.stopped.unwrap_or_else(scheduler::now))})),
            Err(_) => Err(Error::ExecutionDoesNotExist(format!(
                "Execution Does Not Exist: '{arn}'"
            ))),
        };
    }
    let existing = load(app, tenant, arn)?;
    if existing.status != Status::Running {
        return Ok(json!({"stopDate": epoch(existing.stopped.unwrap_or(existing.started))}));
    }
    let e = app
        .scheduler
        .stop(&key, error, cause)
        .await
        .map_err(scheduler_error)?;
    Ok(json!({"stopDate": epoch(e.stopped.unwrap_or_else(scheduler::now))}))
}

pub(super) fn describe(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let arn = p.str("executionArn")?;
    let e = load(app, tenant, arn)?;
    let machine_arn = arn::state_machine(&app.config.region, &tenant.account, &e.machine);
    let mut out = json!({
        "executionArn": e.arn,
        "stateMachineArn": machine_arn,
        "name": e.name,
        "status": e.status.as_str(),
        "startDate": epoch(e.started),
        "input": e.input,
        "inputDetails": {"included": true},
        "redriveCount": 0,
        "redriveStatus": "NOT_REDRIVABLE",
        "redriveStatusReason": "Redrive is not supported by Sandstep yet",
    });
    if let Some(o) = out.as_object_mut() {
        if let Some(stopped) = e.stopped {
            o.insert("stopDate".into(), epoch(stopped));
        }
        finished_fields(o, &e);
    }
    Ok(out)
}

pub(super) fn describe_machine(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let arn = p.str("executionArn")?;
    let e = load(app, tenant, arn)?;
    let missing = || Error::ExecutionDoesNotExist(format!("Execution Does Not Exist: '{arn}'"));
    let revision = app
        .store
        .revision_get(&tenant.id, &e.machine, &e.revision_id)?
        .ok_or_else(missing)?;
    let machine = app.store.machine_get(&tenant.id, &e.machine)?;
    let role = machine
        .as_ref()
        .map(|m| m.role_arn.clone())
        .unwrap_or_default();
    let logging = machine
        .as_ref()
        .map(machines::logging_or_default)
        .unwrap_or_else(|| json!({"level": "OFF"}));
    Ok(json!({
        "stateMachineArn": arn::state_machine(&app.config.region, &tenant.account, &e.machine),
        "name": e.machine,
        "definition": revision.definition,
        "roleArn": role,
        "updateDate": epoch(revision.created),
        "loggingConfiguration": logging,
        "tracingConfiguration": {"enabled": false},
        "revisionId": revision.id,
    }))
}

pub(super) fn list(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let machine_arn = p.str("stateMachineArn")?;
    let name = machine_name(app, tenant, machine_arn)?;
    if app.store.machine_get(&tenant.id, &name)?.is_none() {
        return Err(Error::StateMachineDoesNotExist(format!(
            "State Machine Does Not Exist: '{machine_arn}'"
        )));
    }
    let filter = match p.opt_str("statusFilter")? {
        None => None,
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            Error::Validation(format!(
                "1 validation error detected: Value '{s}' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE]"
            ))
        })?),
    };
    let limit = p.max_results()?;
    let mut cursor = match p.opt_str("nextToken")? {
        Some(token) => Some(newest_first_position(token)?),
        None => None,
    };
    let mut items = Vec::new();
    let mut next = None;
    // Newest first, filtered; scan pages until the page is full.
    'scan: loop {
        let page = app
            .store
            .execution_list_newest(&tenant.id, &name, cursor.as_deref(), 256)?;
        if page.is_empty() {
            break;
        }
        for (position, e) in page {
            cursor = Some(position.clone());
            if filter.is_some_and(|f| f != e.status) {
                continue;
            }
            if items.len() == limit {
                next = Some(position);
                break 'scan;
            }
            let mut item = json!({
                "executionArn": e.arn,
                "stateMachineArn": machine_arn,
                "name": e.name,
                "status": e.status.as_str(),
                "startDate": epoch(e.started),
            });
            if let (Some(s), Some(o)) = (e.stopped, item.as_object_mut()) {
                o.insert("stopDate".into(), epoch(s));
            }
            items.push((position, item));
        }
    }
    // The token marks the last item returned, so the next page starts after it.
    let next = next.and(items.last().map(|(p, _)| p.clone()));
    let mut out = json!({"executions": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>()});
    if let (Some(n), Some(o)) = (next, out.as_object_mut()) {
        o.insert("nextToken".into(), json!(encode_token(&n)));
    }
    Ok(out)
}
