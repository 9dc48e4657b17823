//! DescribeMapRun, ListMapRuns, UpdateMapRun: typed inputs, the use cases in
//! [`crate::service::map_runs`], AWS's answers.

use super::epoch;
use crate::api::error::{Error, Result};
use crate::api::params::{decode, Input, MaxResults, Params};
use crate::api::App;
use crate::service::map_runs::MapRunUpdate;
use crate::store::map_runs::{Counts, MapRun};
use crate::tenants::Tenant;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MapRunArnInput {
    map_run_arn: String,
}

impl Input for MapRunArnInput {
    fn check(p: &Params) -> Result<()> {
        p.str("mapRunArn").map(|_| ())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListMapRunsInput {
    execution_arn: String,
    #[serde(default)]
    max_results: MaxResults,
    next_token: Option<String>,
}

impl Input for ListMapRunsInput {
    fn check(p: &Params) -> Result<()> {
        p.str("executionArn")?;
        p.max_results()?;
        p.opt_str("nextToken")?;
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateMapRunInput {
    map_run_arn: String,
    max_concurrency: Option<i64>,
    tolerated_failure_percentage: Option<f64>,
    tolerated_failure_count: Option<i64>,
}

impl Input for UpdateMapRunInput {
    fn check(p: &Params) -> Result<()> {
        p.str("mapRunArn")?;
        let at_least = |name: &str, value: Option<&Value>| -> Result<()> {
            match value {
                Some(v) if v.as_f64().is_some_and(|n| n < 0.0) => Err(Error::Validation(format!(
                    "1 validation error detected: Value '{v}' at '{name}' failed to satisfy constraint: Member must have value greater than or equal to 0"
                ))),
                _ => Ok(()),
            }
        };
        at_least("maxConcurrency", p.0.get("maxConcurrency"))?;
        at_least("toleratedFailureCount", p.0.get("toleratedFailureCount"))?;
        at_least(
            "toleratedFailurePercentage",
            p.0.get("toleratedFailurePercentage"),
        )?;
        if let Some(v) =
            p.0.get("toleratedFailurePercentage")
                .filter(|v| v.as_f64().is_some_and(|n| n > 100.0))
        {
            return Err(Error::Validation(format!(
                "1 validation error detected: Value '{v}' at 'toleratedFailurePercentage' failed to satisfy constraint: Member must have value less than or equal to 100"
            )));
        }
        if [
            "maxConcurrency",
            "toleratedFailureCount",
            "toleratedFailurePercentage",
        ]
        .iter()
        .all(|f| p.0.get(*f).is_none_or(Value::is_null))
        {
            return Err(Error::Validation(
                "At least one of maxConcurrency, toleratedFailurePercentage or toleratedFailureCount must be specified".into(),
            ));
        }
        Ok(())
    }
}

fn counts(c: &Counts) -> Value {
    json!({
        "pending": c.pending, "running": c.running, "succeeded": c.succeeded,
        "failed": c.failed, "timedOut": c.timed_out, "aborted": c.aborted,
        "total": c.total, "resultsWritten": c.results_written,
        "failuresNotRedrivable": 0, "pendingRedrive": 0,
    })
}

/// The state machine a run's children run: `<machine>/<label>`.
fn children_machine_arn(run: &MapRun) -> String {
    let (prefix, _) = run.arn.rsplit_once(':').unwrap_or((&run.arn, ""));
    prefix.replacen(":mapRun:", ":stateMachine:", 1)
}

pub(super) async fn describe(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: MapRunArnInput = decode(p)?;
    let run = app
        .services
        .executions
        .describe_map_run(tenant, &input.map_run_arn)?;
    let mut out = json!({
        "mapRunArn": run.arn,
        "executionArn": run.parent_arn,
        "status": run.status.as_str(),
        "startDate": epoch(run.started),
        "maxConcurrency": run.max_concurrency,
        "toleratedFailurePercentage": run.tolerated_percentage,
        "toleratedFailureCount": run.tolerated_count,
        "itemCounts": counts(&run.items),
        "executionCounts": counts(&run.executions),
        "redriveCount": run.redrive_count,
    });
    if let Some(o) = out.as_object_mut() {
        if let Some(stopped) = run.stopped {
            o.insert("stopDate".into(), epoch(stopped));
        }
        if let Some(date) = run.redrive_date {
            o.insert("redriveDate".into(), epoch(date));
        }
    }
    Ok(out)
}

pub(super) async fn list(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: ListMapRunsInput = decode(p)?;
    let page = app.services.executions.list_map_runs(
        tenant,
        &input.execution_arn,
        input.max_results.0,
        input.next_token.as_deref(),
    )?;
    let runs: Vec<Value> = page
        .items
        .iter()
        .map(|run| {
            let mut item = json!({
                "executionArn": run.parent_arn,
                "mapRunArn": run.arn,
                "stateMachineArn": children_machine_arn(run),
                "startDate": epoch(run.started),
            });
            if let (Some(stopped), Some(o)) = (run.stopped, item.as_object_mut()) {
                o.insert("stopDate".into(), epoch(stopped));
            }
            item
        })
        .collect();
    let mut out = json!({"mapRuns": runs});
    if let (Some(n), Some(o)) = (page.next_token, out.as_object_mut()) {
        o.insert("nextToken".into(), json!(n));
    }
    Ok(out)
}

pub(super) async fn update(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: UpdateMapRunInput = decode(p)?;
    let update = MapRunUpdate {
        max_concurrency: input.max_concurrency.map(|n| n.max(0) as u64),
        tolerated_count: input.tolerated_failure_count.map(|n| n.max(0) as u64),
        tolerated_percentage: input.tolerated_failure_percentage,
    };
    app.services
        .executions
        .update_map_run(tenant, &input.map_run_arn, update)?;
    Ok(json!({}))
}

/// ListExecutions with `mapRunArn`: the run's children.
pub(super) fn list_children(
    app: &App,
    tenant: &Tenant,
    map_run_arn: &str,
    status: Option<crate::service::map_runs::ChildFilter>,
    max_results: usize,
    next_token: Option<&str>,
) -> Result<Value> {
    let run = app
        .services
        .executions
        .describe_map_run(tenant, map_run_arn)?;
    let page = app.services.executions.map_run_children(
        tenant,
        map_run_arn,
        status,
        max_results,
        next_token,
    )?;
    let machine_arn = children_machine_arn(&run);
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|c| {
            let mut item = json!({
                "executionArn": c.arn,
                "stateMachineArn": machine_arn,
                "name": c.name,
                "status": c.status.map_or("RUNNING", |s| s.as_str()),
                "startDate": epoch(c.started),
                "mapRunArn": run.arn,
                "itemCount": c.items,
                "redriveCount": 0,
            });
            if let (Some(stopped), Some(o)) = (c.stopped, item.as_object_mut()) {
                o.insert("stopDate".into(), epoch(stopped));
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
