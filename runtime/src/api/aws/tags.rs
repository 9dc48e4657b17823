//! TagResource, UntagResource, ListTagsForResource (on state machines).

use super::machine_name;
use crate::api::error::{Error, Result};
use crate::api::params::Params;
use crate::api::App;
use crate::store::{StateMachines, Tags as _};
use crate::tenants::Tenant;
use serde_json::{json, Value};
use std::collections::BTreeMap;

fn read(app: &App, tenant: &Tenant, arn: &str) -> Result<BTreeMap<String, String>> {
    Ok(app.store.tags_get(&tenant.id, arn)?)
}

/// The prefix AWS reserves for its own tags (in any case): callers cannot set such keys.
const RESERVED_PREFIX: &str = "aws:";

/// Whether a tag key is one only AWS may set.
fn reserved(key: &str) -> bool {
    key.get(..RESERVED_PREFIX.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(RESERVED_PREFIX))
}

/// Reads AWS's `[{key, value}]` tag list, checking every tag.
///
/// # Errors
/// `ValidationException` for a malformed list, a tag out of bounds or a key with the
/// reserved `aws:` prefix.
pub(super) fn parse(tags: &Value) -> Result<Vec<(String, String)>> {
    let malformed =
        || Error::Validation("Tags must be a list of {\"key\": string, \"value\": string}".into());
    let list = tags.as_array().ok_or_else(malformed)?;
    let mut out = Vec::with_capacity(list.len());
    for tag in list {
        let (Some(k), Some(v)) = (
            tag.get("key").and_then(Value::as_str),
            tag.get("value").and_then(Value::as_str),
        ) else {
            return Err(malformed());
        };
        if k.is_empty() || k.len() > 128 || v.len() > 256 {
            return Err(Error::Validation(format!(
                "Invalid tag '{k}': keys are 1-128 characters, values at most 256"
            )));
        }
        if reserved(k) {
            return Err(Error::Validation(format!(
                "Invalid tag key '{k}': tag keys starting with '{RESERVED_PREFIX}' are reserved for AWS use"
            )));
        }
        out.push((k.to_string(), v.to_string()));
    }
    if out.len() > 50 {
        return Err(Error::Validation(
            "A resource can have at most 50 tags".into(),
        ));
    }
    Ok(out)
}

/// Adds `tags` and removes `remove` from a resource's tags.
pub(super) fn store_tags(
    app: &App,
    tenant: &Tenant,
    arn: &str,
    tags: &[(String, String)],
    remove: &[String],
) -> Result<()> {
    let mut current = read(app, tenant, arn)?;
    current.extend(tags.iter().cloned());
    for k in remove {
        current.remove(k);
    }
    if current.len() > 50 {
        return Err(Error::Validation(
            "A resource can have at most 50 tags".into(),
        ));
    }
    app.store.tags_put(&tenant.id, arn, &current)?;
    Ok(())
}

/// Forgets a deleted resource's tags.
pub(super) fn delete_tags(app: &App, tenant: &Tenant, arn: &str) -> Result<()> {
    app.store.tags_delete(&tenant.id, arn)?;
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
    let tags = parse(p.get("tags").unwrap_or(&json!([])))?;
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
    store_tags(app, tenant, &arn, &[], &keys)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_prefix_is_refused_in_any_case() {
        for key in ["aws:cloudformation:stack-name", "AWS:x", "Aws:"] {
            let refused = parse(&json!([{"key": key, "value": "v"}]));
            assert!(
                matches!(&refused, Err(Error::Validation(m)) if m.contains("reserved")),
                "{key}: {refused:?}"
            );
        }
        for key in ["aws", "awsx:y", "my:aws:z", "é"] {
            assert!(parse(&json!([{"key": key, "value": "v"}])).is_ok(), "{key}");
        }
    }
}
