//! GetExecutionHistory: its typed input, the use case in [`crate::service::history`], and
//! AWS's answer.

use crate::api::error::Result;
use crate::api::params::{decode, Input, MaxResults, Params};
use crate::api::App;
use crate::service::executions::HistoryQuery;
use crate::tenants::Tenant;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetExecutionHistoryInput {
    execution_arn: String,
    #[serde(default)]
    max_results: MaxResults,
    reverse_order: Option<bool>,
    include_execution_data: Option<bool>,
    next_token: Option<String>,
}

impl Input for GetExecutionHistoryInput {
    fn check(p: &Params) -> Result<()> {
        p.str("executionArn")?;
        p.max_results()?;
        p.opt_bool("reverseOrder")?;
        p.opt_bool("includeExecutionData")?;
        p.opt_str("nextToken")?;
        Ok(())
    }
}

pub(super) async fn get(app: &App, tenant: &Tenant, p: Params) -> Result<Value> {
    let input: GetExecutionHistoryInput = decode(p)?;
    let query = HistoryQuery {
        limit: input.max_results.0,
        reverse: input.reverse_order.unwrap_or(false),
        include_data: input.include_execution_data.unwrap_or(true),
        next_token: input.next_token,
    };
    let page = app
        .services
        .executions
        .history(tenant, &input.execution_arn, query)?;
    let mut out = json!({"events": page.items});
    if let (Some(n), Some(o)) = (page.next_token, out.as_object_mut()) {
        o.insert("nextToken".into(), json!(n));
    }
    Ok(out)
}
