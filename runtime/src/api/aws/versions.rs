//! PublishStateMachineVersion, ListStateMachineVersions, DeleteStateMachineVersion,
//! CreateStateMachineAlias, DescribeStateMachineAlias, UpdateStateMachineAlias,
//! DeleteStateMachineAlias, ListStateMachineAliases: typed inputs, the use cases in
//! [`crate::service::versions`], AWS's answers.

use super::epoch;
use crate::api::error::{Error, Result};
use crate::api::params::{constraints, decode, longer_than, Input, MaxResults, Params};
use crate::api::App;
use crate::service::versions::Listed;
use crate::service::Page;
use crate::tenants::Tenant;
use serde::Deserialize;
use serde_json::{json, Map, Value};

/// The longest version or alias description AWS accepts.
const MAX_DESCRIPTION: usize = 256;

fn check_description(p: &Params, field: &str) -> Result<()> {
    if let Some(d) = p.opt_str(field)? {
        let failed: Vec<String> = longer_than(d, MAX_DESCRIPTION).into_iter().collect();
        constraints(field, d, true, &failed)?;
    }
    Ok(())
}

/// `routingConfiguration`: a list of `{stateMachineVersionArn: string, weight: integer}`
/// (its size and weights are the use case's checks, with AWS's messages).
fn check_routing(p: &Params, required: bool) -> Result<()> {
    let Some(routing) = p.get("routingConfiguration") else {
        return match required {
            true => Err(Error::Validation(
                "1 validation error detected: Value null at 'routingConfiguration' failed to satisfy constraint: Member must not be null".into(),
            )),
            false => Ok(()),
        };
    };
    let item = |i: &Value| {
        i.get("stateMachineVersionArn")
            .is_some_and(Value::is_string)
            && i.get("weight").is_some_and(|w| w.is_i64() || w.is_u64())
    };
    match routing.as_array() {
        Some(items) if items.iter().all(item) => Ok(()),
        _ => Err(Error::Validation(
            "routingConfiguration must be a list of {\"stateMachineVersionArn\": string, \"weight\": integer}".into(),
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RoutingItem {
    state_machine_version_arn: String,
    weight: i64,
}

fn pairs(routing: Vec<RoutingItem>) -> Vec<(String, i64)> {
    routing
        .into_iter()
        .map(|r| (r.state_machine_version_arn, r.weight))
        .collect()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublishInput {
    state_machine_arn: String,
    revision_id: Option<String>,
    description: Option<String>,
}

impl Input for PublishInput {
    fn check(p: &Params) -> Result<()> {
        p.str("stateMachineArn")?;
        p.opt_str("revisionId")?;
        check_description(p, "description")
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListInput {
    state_machine_arn: String,
    #[serde(default)]
    max_results: MaxResults,
    next_token: Option<String>,
}

impl Input for ListInput {
    fn check(p: &Params) -> Result<()> {
        p.str("stateMachineArn")?;
        p.max_results()?;
        if let Some(token) = p.opt_str("nextToken")? {
            let failed: Vec<String> = longer_than(token, 1024).into_iter().collect();
            constraints("nextToken", token, false, &failed)?;
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VersionArnInput {
    state_machine_version_arn: String,
}

impl Input for VersionArnInput {
    fn check(p: &Params) -> Result<()> {
        p.str("stateMachineVersionArn").map(|_| ())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateAliasInput {
    name: String,
    description: Option<String>,
    routing_configuration: Vec<RoutingItem>,
}

impl Input for CreateAliasInput {
    fn check(p: &Params) -> Result<()> {
        p.str("name")?;
        check_description(p, "description")?;
        check_routing(p, true)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AliasArnInput {
    state_machine_alias_arn: String,
}

impl Input for AliasArnInput {
    fn check(p: &Params) -> Result<()> {
        p.str("stateMachineAliasArn").map(|_| ())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateAliasInput {
    state_machine_alias_arn: String,
    description: Option<String>,
    routing_configuration: Option<Vec<RoutingItem>>,
}

impl Input for UpdateAliasInput {
    fn check(p: &Params) -> Result<()> {
        p.str("stateMachineAliasArn")?;
        check_description(p, "description")?;
        check_routing(p, false)
    }
}

/// A page of versions or aliases as AWS lists them.
fn listing(page: Page<Listed>, list: &str, arn: &str) -> Value {
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|l| {
            let mut item = Map::new();
            item.insert(arn.into(), json!(l.arn));
            item.insert("creationDate".into(), epoch(l.created));
            Value::Object(item)
        })
        .collect();
    let mut out = Map::new();
    out.insert(list.into(), Value::Array(items));
    if let Some(n) = page.next_token {
        out.insert("nextToken".into(), json!(n));
    }
    Value::Object(out)
}

pub(super) async fn publish(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: PublishInput = decode(p)?;
    let (arn, created) = app.services.machines.publish(
        tenant,
        &input.state_machine_arn,
        input.revision_id.as_deref(),
        input.description,
    )?;
    Ok(json!({"stateMachineVersionArn": arn, "creationDate": epoch(created)}))
}

pub(super) async fn list_versions(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: ListInput = decode(p)?;
    let page = app.services.machines.versions(
        tenant,
        &input.state_machine_arn,
        input.max_results.0,
        input.next_token.as_deref(),
    )?;
    Ok(listing(
        page,
        "stateMachineVersions",
        "stateMachineVersionArn",
    ))
}

pub(super) async fn delete_version(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: VersionArnInput = decode(p)?;
    app.services
        .machines
        .delete_version(tenant, &input.state_machine_version_arn)?;
    Ok(json!({}))
}

pub(super) async fn create_alias(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: CreateAliasInput = decode(p)?;
    let (arn, created) = app.services.machines.create_alias(
        tenant,
        &input.name,
        input.description,
        &pairs(input.routing_configuration),
    )?;
    Ok(json!({"stateMachineAliasArn": arn, "creationDate": epoch(created)}))
}

pub(super) async fn describe_alias(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: AliasArnInput = decode(p)?;
    let d = app
        .services
        .machines
        .describe_alias(tenant, &input.state_machine_alias_arn)?;
    let routing: Vec<Value> = d
        .routing
        .iter()
        .map(|(arn, weight)| json!({"stateMachineVersionArn": arn, "weight": weight}))
        .collect();
    let mut out = json!({
        "stateMachineAliasArn": d.arn,
        "name": d.alias.name,
        "routingConfiguration": routing,
        "creationDate": epoch(d.alias.created),
        "updateDate": epoch(d.alias.updated),
    });
    if let (Some(desc), Some(o)) = (&d.alias.description, out.as_object_mut()) {
        o.insert("description".into(), json!(desc));
    }
    Ok(out)
}

pub(super) async fn update_alias(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: UpdateAliasInput = decode(p)?;
    let routing = input.routing_configuration.map(pairs);
    let updated = app.services.machines.update_alias(
        tenant,
        &input.state_machine_alias_arn,
        input.description,
        routing.as_deref(),
    )?;
    Ok(json!({"updateDate": epoch(updated)}))
}

pub(super) async fn delete_alias(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: AliasArnInput = decode(p)?;
    app.services
        .machines
        .delete_alias(tenant, &input.state_machine_alias_arn)?;
    Ok(json!({}))
}

pub(super) async fn list_aliases(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: ListInput = decode(p)?;
    let page = app.services.machines.aliases(
        tenant,
        &input.state_machine_arn,
        input.max_results.0,
        input.next_token.as_deref(),
    )?;
    Ok(listing(page, "stateMachineAliases", "stateMachineAliasArn"))
}
