//! CreateStateMachine, DescribeStateMachine, UpdateStateMachine, DeleteStateMachine,
//! ListStateMachines, ValidateStateMachineDefinition: typed inputs, the use cases in
//! [`crate::service::machines`], AWS's answers.

use super::epoch;
use super::tags::{check_tags_shape, TagInput};
use crate::api::error::{Error, Result};
use crate::api::params::{constraints, decode, longer_than, Input, MaxResults, Params};
use crate::api::App;
use crate::model::{MachineType, StateMachine};
use crate::service::machines::{Changes, NewMachine};
use crate::tenants::Tenant;
use sandstep_engine::validate::Severity;
use serde::Deserialize;
use serde_json::{json, Value};

/// The longest definition AWS accepts, in characters (the API's length constraint; the
/// Step Functions quota page calls it 1 MB).
pub const MAX_DEFINITION_CHARS: usize = 1_048_576;

/// Checks the `type` field: a string, STANDARD or EXPRESS.
fn check_type(p: &Params) -> Result<()> {
    match p.opt_str("type")? {
        None | Some("STANDARD" | "EXPRESS") => Ok(()),
        Some(other) => Err(Error::Validation(format!(
            "1 validation error detected: Value '{other}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, EXPRESS]"
        ))),
    }
}

/// Checks the optional `definition` field, refused over [`MAX_DEFINITION_CHARS`] as AWS
/// refuses it (a `ValidationException` that does not echo the definition) before
/// anything parses it.
fn check_opt_definition(p: &Params) -> Result<bool> {
    let definition = p.opt_str("definition")?;
    if let Some(d) = definition {
        let failed: Vec<String> = longer_than(d, MAX_DEFINITION_CHARS).into_iter().collect();
        constraints("definition", d, true, &failed)?;
    }
    Ok(definition.is_some())
}

/// Checks the required `definition` field (see [`check_opt_definition`]).
fn check_definition(p: &Params) -> Result<()> {
    if !check_opt_definition(p)? {
        p.str("definition")?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateStateMachineInput {
    name: String,
    definition: String,
    role_arn: String,
    #[serde(rename = "type")]
    machine_type: Option<MachineType>,
    publish: Option<bool>,
    version_description: Option<String>,
    logging_configuration: Option<Value>,
    tracing_configuration: Option<Value>,
    tags: Option<Vec<TagInput>>,
}

impl Input for CreateStateMachineInput {
    fn check(p: &Params) -> Result<()> {
        p.str("name")?;
        check_definition(p)?;
        p.str("roleArn")?;
        check_type(p)?;
        p.opt_bool("publish")?;
        check_version_description(p)?;
        check_tags_shape(p)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateMachineArnInput {
    state_machine_arn: String,
}

impl Input for StateMachineArnInput {
    fn check(p: &Params) -> Result<()> {
        p.str("stateMachineArn").map(|_| ())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateStateMachineInput {
    state_machine_arn: String,
    definition: Option<String>,
    role_arn: Option<String>,
    logging_configuration: Option<Value>,
    tracing_configuration: Option<Value>,
    publish: Option<bool>,
    version_description: Option<String>,
}

impl Input for UpdateStateMachineInput {
    fn check(p: &Params) -> Result<()> {
        check_opt_definition(p)?;
        p.str("stateMachineArn")?;
        p.opt_str("roleArn")?;
        p.opt_bool("publish")?;
        check_version_description(p)
    }
}

/// `versionDescription`: at most 256 characters.
fn check_version_description(p: &Params) -> Result<()> {
    if let Some(d) = p.opt_str("versionDescription")? {
        let failed: Vec<String> = longer_than(d, 256).into_iter().collect();
        constraints("versionDescription", d, true, &failed)?;
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListStateMachinesInput {
    #[serde(default)]
    max_results: MaxResults,
    next_token: Option<String>,
}

impl Input for ListStateMachinesInput {
    fn check(p: &Params) -> Result<()> {
        p.max_results()?;
        p.opt_str("nextToken")?;
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ValidateStateMachineDefinitionInput {
    definition: String,
    #[serde(rename = "type")]
    machine_type: Option<MachineType>,
    #[serde(default)]
    max_results: MaxResults,
}

impl Input for ValidateStateMachineDefinitionInput {
    fn check(p: &Params) -> Result<()> {
        check_definition(p)?;
        check_type(p)?;
        p.max_results()?;
        Ok(())
    }
}

/// The `loggingConfiguration` AWS returns when none was given.
pub(super) fn logging_or_default(m: &StateMachine) -> Value {
    m.logging
        .clone()
        .unwrap_or_else(|| json!({"level": "OFF", "includeExecutionData": false}))
}

pub(super) async fn create(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: CreateStateMachineInput = decode(p)?;
    let new = NewMachine {
        name: input.name,
        definition: input.definition,
        role_arn: input.role_arn,
        machine_type: input.machine_type.unwrap_or(MachineType::Standard),
        publish: input.publish.unwrap_or(false),
        description: input.version_description,
        logging: input.logging_configuration,
        tracing: input.tracing_configuration,
        tags: input
            .tags
            .map(|tags| tags.into_iter().map(TagInput::pair).collect()),
    };
    let saved = app.services.machines.create(tenant, new)?;
    let m = &saved.machine;
    let mut out = json!({"stateMachineArn": m.arn, "creationDate": epoch(m.created)});
    if let (Some(v), Some(o)) = (saved.version_arn, out.as_object_mut()) {
        o.insert("stateMachineVersionArn".into(), json!(v));
    }
    Ok(out)
}

pub(super) async fn describe(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: StateMachineArnInput = decode(p)?;
    let (m, r, version) = app
        .services
        .machines
        .describe(tenant, &input.state_machine_arn)?;
    // A version's describe is the version's: its own ARN, date and description.
    let arn = match &version {
        Some(v) => crate::arn::version(&m.arn, v.number),
        None => m.arn.clone(),
    };
    let mut out = json!({
        "stateMachineArn": arn,
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

pub(super) async fn update(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: UpdateStateMachineInput = decode(p)?;
    let changes = Changes {
        definition: input.definition,
        role_arn: input.role_arn,
        logging: input.logging_configuration,
        tracing: input.tracing_configuration,
        publish: input.publish.unwrap_or(false),
        version_description: input.version_description,
    };
    let saved = app
        .services
        .machines
        .update(tenant, &input.state_machine_arn, changes)?;
    let m = &saved.machine;
    let mut out = json!({"updateDate": epoch(m.updated), "revisionId": m.revision_id});
    if let (Some(v), Some(o)) = (saved.version_arn, out.as_object_mut()) {
        o.insert("stateMachineVersionArn".into(), json!(v));
    }
    Ok(out)
}

pub(super) async fn delete(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: StateMachineArnInput = decode(p)?;
    app.services
        .machines
        .delete(tenant, &input.state_machine_arn)?;
    Ok(json!({}))
}

pub(super) async fn list(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: ListStateMachinesInput = decode(p)?;
    let page =
        app.services
            .machines
            .list(tenant, input.max_results.0, input.next_token.as_deref())?;
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|m| json!({"stateMachineArn": m.arn, "name": m.name, "type": m.machine_type.as_str(), "creationDate": epoch(m.created)}))
        .collect();
    let mut out = json!({"stateMachines": items});
    if let (Some(n), Some(o)) = (page.next_token, out.as_object_mut()) {
        o.insert("nextToken".into(), json!(n));
    }
    Ok(out)
}

pub(super) async fn validate(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: ValidateStateMachineDefinitionInput = decode(p)?;
    let max = input.max_results.0;
    let t = input.machine_type.unwrap_or(MachineType::Standard);
    let found = app
        .services
        .bindings
        .validate(&tenant.id, &input.definition, t)?;
    let listed: Vec<Value> = found
        .iter()
        .take(max)
        .map(|d| {
            let severity = match d.severity {
                Severity::Error => "ERROR",
                Severity::Warning => "WARNING",
            };
            json!({"severity": severity, "code": d.code, "message": d.message, "location": d.location})
        })
        .collect();
    let errors = found.iter().any(|d| d.severity == Severity::Error);
    Ok(
        json!({"result": if errors { "FAIL" } else { "OK" }, "diagnostics": listed, "truncated": found.len() > max}),
    )
}
