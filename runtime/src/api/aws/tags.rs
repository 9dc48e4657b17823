//! TagResource, UntagResource, ListTagsForResource (on state machines): typed inputs, the
//! use cases in [`crate::service::tags`], AWS's answers.

use crate::api::error::{Error, Result};
use crate::api::params::{decode, strings_only, Input, Params};
use crate::api::App;
use crate::tenants::Tenant;
use serde::Deserialize;
use serde_json::{json, Value};

/// A tag as AWS's JSON protocol spells it.
#[derive(Debug, Deserialize)]
pub(super) struct TagInput {
    key: String,
    value: String,
}

impl TagInput {
    pub(super) fn pair(self) -> (String, String) {
        (self.key, self.value)
    }
}

/// Checks that `tags`, when given, is a list of `{key, value}` string pairs.
pub(super) fn check_tags_shape(p: &Params) -> Result<()> {
    let Some(tags) = p.get("tags") else {
        return Ok(());
    };
    let pair = |tag: &Value| {
        tag.get("key").is_some_and(Value::is_string)
            && tag.get("value").is_some_and(Value::is_string)
    };
    match tags.as_array() {
        Some(list) if list.iter().all(pair) => Ok(()),
        _ => Err(Error::Validation(
            "Tags must be a list of {\"key\": string, \"value\": string}".into(),
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TagResourceInput {
    resource_arn: String,
    tags: Option<Vec<TagInput>>,
}

impl Input for TagResourceInput {
    fn check(p: &Params) -> Result<()> {
        p.str("resourceArn")?;
        check_tags_shape(p)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UntagResourceInput {
    resource_arn: String,
    /// Not a list, or entries that are not strings, have always been skipped.
    #[serde(default, deserialize_with = "strings_only")]
    tag_keys: Vec<String>,
}

impl Input for UntagResourceInput {
    fn check(p: &Params) -> Result<()> {
        p.str("resourceArn").map(|_| ())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListTagsForResourceInput {
    resource_arn: String,
}

impl Input for ListTagsForResourceInput {
    fn check(p: &Params) -> Result<()> {
        p.str("resourceArn").map(|_| ())
    }
}

pub(super) async fn tag(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: TagResourceInput = decode(p)?;
    let tags: Vec<(String, String)> = input
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(TagInput::pair)
        .collect();
    app.services.tags.tag(tenant, &input.resource_arn, &tags)?;
    Ok(json!({}))
}

pub(super) async fn untag(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: UntagResourceInput = decode(p)?;
    app.services
        .tags
        .untag(tenant, &input.resource_arn, &input.tag_keys)?;
    Ok(json!({}))
}

pub(super) async fn list(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: ListTagsForResourceInput = decode(p)?;
    let tags: Vec<Value> = app
        .services
        .tags
        .list(tenant, &input.resource_arn)?
        .into_iter()
        .map(|(k, v)| json!({"key": k, "value": v}))
        .collect();
    Ok(json!({"tags": tags}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_must_be_key_value_string_pairs() {
        let body = |text: &str| Params::parse(text.as_bytes()).unwrap();
        for bad in [
            r#"{"tags": {}}"#,
            r#"{"tags": ["k"]}"#,
            r#"{"tags": [{"key": "k"}]}"#,
            r#"{"tags": [{"key": "k", "value": 1}]}"#,
        ] {
            assert!(
                matches!(check_tags_shape(&body(bad)), Err(Error::Validation(m)) if m.starts_with("Tags must be")),
                "{bad}"
            );
        }
        for good in [
            r#"{}"#,
            r#"{"tags": null}"#,
            r#"{"tags": [{"key": "k", "value": "v", "x": 1}]}"#,
        ] {
            assert!(check_tags_shape(&body(good)).is_ok(), "{good}");
        }
    }
}
