//! CreateActivity, DescribeActivity, ListActivities, DeleteActivity, GetActivityTask:
//! typed inputs, the use cases in [`crate::service::activities`], AWS's answers.

use super::epoch;
use super::tags::{check_tags_shape, TagInput};
use crate::api::error::Result;
use crate::api::params::{constraints, decode, longer_than, Input, MaxResults, Params};
use crate::api::App;
use crate::store::activities::Activity;
use crate::tenants::Tenant;
use serde::Deserialize;
use serde_json::{json, Value};

/// The longest `workerName` AWS accepts, in characters.
const MAX_WORKER_NAME_CHARS: usize = 80;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateActivityInput {
    name: String,
    tags: Option<Vec<TagInput>>,
    encryption_configuration: Option<Value>,
}

impl Input for CreateActivityInput {
    fn check(p: &Params) -> Result<()> {
        p.str("name")?;
        check_tags_shape(p)
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActivityArnInput {
    activity_arn: String,
}

impl Input for ActivityArnInput {
    fn check(p: &Params) -> Result<()> {
        p.str("activityArn")?;
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListActivitiesInput {
    #[serde(default)]
    max_results: MaxResults,
    next_token: Option<String>,
}

impl Input for ListActivitiesInput {
    fn check(p: &Params) -> Result<()> {
        p.max_results()?;
        p.opt_str("nextToken")?;
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetActivityTaskInput {
    activity_arn: String,
    worker_name: Option<String>,
}

impl Input for GetActivityTaskInput {
    fn check(p: &Params) -> Result<()> {
        p.str("activityArn")?;
        if let Some(worker) = p.opt_str("workerName")? {
            let failed: Vec<String> = longer_than(worker, MAX_WORKER_NAME_CHARS)
                .into_iter()
                .collect();
            constraints("workerName", worker, false, &failed)?;
        }
        Ok(())
    }
}

fn described(a: &Activity) -> Value {
    json!({"activityArn": a.arn, "name": a.name, "creationDate": epoch(a.created)})
}

/// `CreateActivity`.
pub(super) async fn create(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: CreateActivityInput = decode(p)?;
    let _ = input.encryption_configuration; // AWS-managed keys only; nothing to do
    let tags: Vec<(String, String)> = input
        .tags
        .unwrap_or_default()
        .into_iter()
        .map(TagInput::pair)
        .collect();
    let activity = app.services.activities.create(tenant, &input.name, &tags)?;
    Ok(json!({"activityArn": activity.arn, "creationDate": epoch(activity.created)}))
}

/// `DescribeActivity`.
pub(super) async fn describe(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: ActivityArnInput = decode(p)?;
    let activity = app
        .services
        .activities
        .describe(tenant, &input.activity_arn)?;
    Ok(described(&activity))
}

/// `ListActivities`.
pub(super) async fn list(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: ListActivitiesInput = decode(p)?;
    let page =
        app.services
            .activities
            .list(tenant, input.max_results.0, input.next_token.as_deref())?;
    let items: Vec<Value> = page.items.iter().map(described).collect();
    let mut out = json!({"activities": items});
    if let (Some(n), Some(o)) = (page.next_token, out.as_object_mut()) {
        o.insert("nextToken".into(), json!(n));
    }
    Ok(out)
}

/// `DeleteActivity`.
pub(super) async fn delete(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: ActivityArnInput = decode(p)?;
    app.services
        .activities
        .delete(tenant, &input.activity_arn)?;
    Ok(json!({}))
}

/// `GetActivityTask`: a long poll; an empty answer when no task came in time.
pub(super) async fn get_task(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: GetActivityTaskInput = decode(p)?;
    let handed = app
        .services
        .activities
        .next_task(tenant, &input.activity_arn, input.worker_name.as_deref())
        .await?;
    Ok(match handed {
        Some(h) => json!({"taskToken": h.token, "input": h.input}),
        None => json!({}),
    })
}
