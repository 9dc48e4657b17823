//! CreateStateMachine, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine,
//! ListStateMachines, ValidateStateMachineDefinition.

use super::machine_name;
use crate::api::error::{Error, Result};
use crate::api::params::{constraints, decode_token, encode_token, epoch, longer_than, Params};
use crate::api::App;
use crate::arn;
use crate::store::data::hex;
use crate::store::executions::{MachineType, Revision, StateMachine};
use crate::store::StateMachines;
use crate::tenants::Tenant;
use sandstep_engine::validate::{self, Diagnostic};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn machine_type(p: &Params) -> Result<MachineType> {
    match p.opt_str("type")? {
        None | Some("STANDARD") => Ok(MachineType::Standard),
        Some("EXPRESS") => Ok(MachineType::Express),
        Some(other) => Err(Error::Validation(format!(
            "1 validation error detected: Value '{other}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
        ))),
    }
}

/// The longest definition AWS accepts, in characters (the API's length constraint; the
/// Step Functions quota page calls it 1 MB).
pub const MAX_DEFINITION_CHARS: usize = 1_048_576;

/// The optional `definition` field, refused over [`MAX_DEFINITION_CHARS`] as AWS refuses it
/// (a `ValidationException` that does not echo the definition) before anything parses it.
fn opt_definition(p: &Params) -> Result<Option<&str>> {
    let definition = p.opt_str("definition")?;
    if let Some(d) = definition {
        let failed: Vec<String> = longer_than(d, MAX_DEFINITION_CHARS).into_iter().collect();
        constraints("definition", d, true, &failed)?;
    }
    Ok(definition)
}

/// The required `definition` field (see [`opt_definition`]).
fn definition(p: &Params) -> Result<&str> {
    match opt_definition(p)? {
        Some(d) => Ok(d),
        None => p.str("definition"),
    }
}

/// Checks a definition as CreateStateMachine does: validation diagnostics, then whether
/// the engine can run it.
fn check_definition(text: &str, t: MachineType) -> Result<()> {
    let diagnostics: Vec<Diagnostic> = validate::validate(text, t);
    if !diagnostics.is_empty() {
        let listed: Vec<String> = diagnostics
            .iter()
            .map(|d| format!("{}: {} at {}", d.code, d.message, d.location))
            .collect();
        return Err(Error::InvalidDefinition(format!(
            "Invalid State Machine Definition: '{}'",
            listed.join(", ")
        )));
    }
    sandstep_engine::Definition::parse(text)
        .map(|_| ())
        .map_err(|e| match e {
            sandstep_engine::Error::Unsupported(m) => Error::InvalidDefinition(format!(
                "Invalid State Machine Definition: 'UNSUPPORTED_FEATURE: {m}'"
            )),
            other => Error::InvalidDefinition(format!(
                "Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: {other}'"
            )),
        })
}

fn role_arn(p: &Params, field: &str) -> Result<Option<String>> {
    match p.opt_str(field)? {
        None => Ok(None),
        Some(r) if r.starts_with("arn:") && r.split(':').count() >= 6 => Ok(Some(r.to_string())),
        Some(r) => Err(Error::InvalidArn(format!("Invalid Arn: '{r}'"))),
    }
}

fn new_revision(definition: &str, now: i64) -> Revision {
    let sha256 = hex(&Sha256::digest(definition.as_bytes()));
    let id = sandstep_engine::rng::Rng::new(crate::scheduler::entropy()).uuid();
    Revision {
        id,
        definition: definition.to_string(),
        sha256,
        created: now,
    }
}

fn logging(p: &Params) -> Option<Value> {
    p.get("loggingConfiguration").cloned()
}

pub(super) fn create(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let name = p.str("name")?;
    let definition = definition(p)?;
    if !arn::valid_name(name) {
        return Err(Error::InvalidName(format!("Invalid Name: '{name}'")));
    }
    let role = role_arn(p, "roleArn")?.ok_or_else(|| {
        Error::Validation("1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null".into())
    })?;
    let t = machine_type(p)?;
    if p.opt_bool("publish")? == Some(true) {
        return Err(Error::Validation(
            "Publishing state machine versions (publish: true) is not supported by Sandstep yet"
                .into(),
        ));
    }
    check_definition(definition, t)?;
    let now = crate::scheduler::now();
    let machine_arn = arn::state_machine(&app.config.region, &tenant.account, name);
    let revision = new_revision(definition, now);
    let machine = StateMachine {
        name: name.to_string(),
        arn: machine_arn.clone(),
        machine_type: t,
        role_arn: role,
        revision_id: revision.id.clone(),
        created: now,
        updated: now,
        description: p.opt_str("versionDescription")?.map(str::to_string),
        logging: logging(p),
        tracing: p.get("tracingConfiguration").cloned(),
    };
    // Bad tags are refused before anything is created.
    let tags = p.get("tags").map(super::tags::parse).transpose()?;
    if !app.store.machine_create(&tenant.id, &machine, &revision)? {
        let existing = app.store.machine_get(&tenant.id, name)?;
        let same = match &existing {
            Some(e) => {
                let current = app.store.revision_get(&tenant.id, name, &e.revision_id)?;
                e.machine_type == t
                    && e.role_arn == machine.role_arn
                    && current.is_some_and(|r| r.definition == definition)
            }
            None => false,
        };
        return match existing {
            Some(e) if same => {
                Ok(json!({"stateMachineArn": e.arn, "creationDate": epoch(e.created)}))
            }
            _ => Err(Error::StateMachineAlreadyExists(format!(
                "State Machine Already Exists: '{machine_arn}'"
            ))),
        };
    }
    if let Some(tags) = tags {
        super::tags::store_tags(app, tenant, &machine_arn, &tags, &[])?;
    }
    Ok(json!({"stateMachineArn": machine_arn, "creationDate": epoch(now)}))
}

fn load(app: &App, tenant: &Tenant, arn: &str) -> Result<(StateMachine, Revision)> {
    let name = machine_name(app, tenant, arn)?;
    let missing =
        || Error::StateMachineDoesNotExist(format!("State Machine Does Not Exist: '{arn}'"));
    let machine = app
        .store
        .machine_get(&tenant.id, &name)?
        .ok_or_else(missing)?;
    let revision = app
        .store
        .revision_get(&tenant.id, &name, &machine.revision_id)?
        .ok_or_else(missing)?;
    Ok((machine, revision))
}

/// A machine for StartExecution: the record and the revision to pin.
pub(super) fn load_for_start(
    app: &App,
    tenant: &Tenant,
    arn: &str,
) -> Result<(StateMachine, Revision)> {
    load(app, tenant, arn)
}

/// The `loggingConfiguration` AWS returns when none was given.
pub(super) fn logging_or_default(m: &StateMachine) -> Value {
    m.logging
        .clone()
        .unwrap_or_else(|| json!({"level": "OFF", "includeExecutionData": false}))
}

pub(super) fn describe(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let (m, r) = load(app, tenant, p.str("stateMachineArn")?)?;
    let mut out = json!({
        "stateMachineArn": m.arn,
        "name": m.name,
        "status": "ACTIVE",
        "definition": r.definition,
        "roleArn": m.role_arn,
        "type": m.machine_type.as_str(),
        "creationDate": epoch(m.created),
        "loggingConfiguration": logging_or_default(&m),
        "tracingConfiguration": m.tracing.clone().unwrap_or_else(|| json!({"enabled": false})),
        "revisionId": r.id,
    });
    if let (Some(d), Some(o)) = (&m.description, out.as_object_mut()) {
        o.insert("description".into(), json!(d));
    }
    Ok(out)
}

pub(super) fn update(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let definition = opt_definition(p)?;
    let (mut m, _) = load(app, tenant, p.str("stateMachineArn")?)?;
    let role = role_arn(p, "roleArn")?;
    let logging = logging(p);
    let tracing = p.get("tracingConfiguration").cloned();
    if definition.is_none() && role.is_none() && logging.is_none() && tracing.is_none() {
        return Err(Error::MissingRequiredParameter(
            "Either the definition, the roleArn, the loggingConfiguration or the tracingConfiguration must be specified".into(),
        ));
    }
    if p.opt_bool("publish")? == Some(true) {
        return Err(Error::Validation(
            "Publishing state machine versions (publish: true) is not supported by Sandstep yet"
                .into(),
        ));
    }
    let now = crate::scheduler::now();
    let revision = match definition {
        Some(d) => {
            check_definition(d, m.machine_type)?;
            let r = new_revision(d, now);
            m.revision_id = r.id.clone();
            Some(r)
        }
        None => None,
    };
    if let Some(r) = role {
        m.role_arn = r;
    }
    if logging.is_some() {
        m.logging = logging;
    }
    if tracing.is_some() {
        m.tracing = tracing;
    }
    m.updated = now;
    app.store.machine_put(&tenant.id, &m, revision.as_ref())?;
    Ok(json!({"updateDate": epoch(now), "revisionId": m.revision_id}))
}

pub(super) fn delete(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let arn = p.str("stateMachineArn")?;
    let name = machine_name(app, tenant, arn)?;
    // AWS answers success for a machine that is already gone.
    if let Some(machine) = app.store.machine_get(&tenant.id, &name)? {
        app.store.machine_delete(&tenant.id, &name)?;
        // Tags are kept under the machine's own ARN, not the spelling the caller used.
        super::tags::delete_tags(app, tenant, &machine.arn)?;
    }
    Ok(json!({}))
}

pub(super) fn list(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let limit = p.max_results()?;
    let after = p.opt_str("nextToken")?.map(decode_token).transpose()?;
    let mut machines = app
        .store
        .machine_list(&tenant.id, after.as_deref(), limit + 1)?;
    let next = if machines.len() > limit {
        machines.truncate(limit);
        machines.last().map(|m| encode_token(&m.name))
    } else {
        None
    };
    let items: Vec<Value> = machines
        .iter()
        .map(|m| json!({"stateMachineArn": m.arn, "name": m.name, "type": m.machine_type.as_str(), "creationDate": epoch(m.created)}))
        .collect();
    let mut out = json!({"stateMachines": items});
    if let (Some(n), Some(o)) = (next, out.as_object_mut()) {
        o.insert("nextToken".into(), json!(n));
    }
    Ok(out)
}

pub(super) fn validate(p: &Params) -> Result<Value> {
    let definition = definition(p)?;
    let t = machine_type(p)?;
    let max = p.max_results()?;
    let diagnostics = validate::validate(definition, t);
    let listed: Vec<Value> = diagnostics
        .iter()
        .take(max)
        .map(|d| {
            let severity = match d.severity {
                validate::Severity::Error => "ERROR",
                validate::Severity::Warning => "WARNING",
            };
            json!({"severity": severity, "code": d.code, "message": d.message, "location": d.location})
        })
        .collect();
    let errors = diagnostics
        .iter()
        .any(|d| d.severity == validate::Severity::Error);
    Ok(
        json!({"result": if errors { "FAIL" } else { "OK" }, "diagnostics": listed, "truncated": diagnostics.len() > max}),
    )
}
