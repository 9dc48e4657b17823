//! TagResource, UntagResource, ListTagsForResource (on state machines).

use super::machine_name;
use crate::api::error::{Error, Result};
use crate::api::params::Params;
use crate::api::App;
use crate::store::backend::Write;
use crate::store::keys::{Key, Table};
use crate::store::StateMachines;
use crate::tenants::Tenant;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn key(tenant: &Tenant, arn: &str) -> Vec<u8> {
    Key::of(Table::Tags, &tenant.id).text(arn).into_bytes()
}

fn read(app: &App, tenant: &Tenant, arn: &str) -> Result<BTreeMap<String, String>> {
    match app.store.backend().get(&key(tenant, arn))? {
        Some(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Internal(e.to_string())),
        None => Ok(BTreeMap::new()),
    }
}

/// Adds `tags` (AWS's `[{key, value}]`) and removes `remove` from a resource's tags.
pub(super) fn store_tags(
    app: &App,
    tenant: &Tenant,
    arn: &str,
    tags: &Value,
    remove: &[String],
) -> Result<()> {
    let mut current = read(app, tenant, arn)?;
    for tag in tags.as_array().into_iter().flatten() {
        let (Some(k), Some(v)) = (
            tag.get("key").and_then(Value::as_str),
            tag.get("value").and_then(Value::as_str),
        ) else {
            return Err(Error::Validation(
                "Tags must be a list of {\"key\": string, \"value\": string}".into(),
            ));
        };
        if k.is_empty() || k.len() > 128 || v.len() > 256 {
            return Err(Error::Validation(format!(
                "Invalid tag '{k}': keys are 1-128 characters, values at most 256"
            )));
        }
        current.insert(k.to_string(), v.to_string());
    }
    for k in remove {
        current.remove(k);
    }
    if current.len() > 50 {
        return Err(Error::Validation(
            "A resource can have at most 50 tags".into(),
        ));
    }
    let body = serde_json::to_vec(&current).map_err(|e| Error::Internal(e.to_string()))?;
    app.store
        .backend()
        .apply(vec![Write::Put(key(tenant, arn), body)])?;
    Ok(())
}

/// Forgets a deleted resource's tags.
pub(super) fn delete_tags(app: &App, tenant: &Tenant, arn: &str) -> Result<()> {
    app.store
        .backend()
        .apply(vec![Write::Delete(key(tenant, arn))])?;
    Ok(())
}

fn existing(app: &App, tenant: &Tenant, p: &Params) -> Result<String> {
    let arn = p.str("resourceArn")?;
    let not_found = || Error::ResourceNotFound(format!("Resource not found: '{arn}'"));
    // Another tenant's (or region's) machine is a resource not found, as a missing one.
    let name = machine_name(app, tenant, arn).map_err(|e| match e {
        Error::StateMachineDoesNotExist(_) => not_found(),
        other => other,
    })?;
    match app.store.machine_get(&tenant.id, &name)? {
        Some(m) => Ok(m.arn),
        None => Err(not_found()),
    }
}

pub(super) fn tag(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let arn = existing(app, tenant, p)?;
    let tags = p.get("tags").cloned().unwrap_or(json!([]));
    store_tags(app, tenant, &arn, &tags, &[])?;
    Ok(json!({}))
}

pub(super) fn untag(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let arn = existing(app, tenant, p)?;
    let keys: Vec<String> = p
        .get("tagKeys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|k| k.as_str().map(str::to_string))
        .collect();
    store_tags(app, tenant, &arn, &json!([]), &keys)?;
    Ok(json!({}))
}

pub(super) fn list(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let arn = existing(app, tenant, p)?;
    let tags: Vec<Value> = read(app, tenant, &arn)?
        .into_iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    Ok(json!({"tags": tags}))
}
