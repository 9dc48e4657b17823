//! The DynamoDB integrations on the tenant's own tables: the optimized
//! `arn:aws:states:::dynamodb:putItem|getItem|updateItem|deleteItem` and the SDK form
//! `arn:aws:states:::aws-sdk:dynamodb:<action>`. Parameters are the DynamoDB request,
//! the output its response (`dynamo::ops` answers both, as the DynamoDB API does). A
//! DynamoDB error fails the task as `DynamoDB.<Exception>` (optimized) or
//! `DynamoDb.<Exception>` (SDK), AWS's names, so Retry and Catch match them.

use crate::dynamo::ops::{Error, Tenant};
use crate::store::{Store, TenantId};
use sandstep_engine::{Millis, TaskRequest};
use serde_json::Value;

const OPTIMIZED: &str = "arn:aws:states:::dynamodb:";
const SDK: &str = "arn:aws:states:::aws-sdk:dynamodb:";
/// The optimized integration's actions.
const OPTIMIZED_ACTIONS: [&str; 4] = ["putItem", "getItem", "updateItem", "deleteItem"];
/// The SDK integration's actions Sandstep runs.
const SDK_ACTIONS: [&str; 10] = [
    "putItem",
    "getItem",
    "updateItem",
    "deleteItem",
    "query",
    "scan",
    "createTable",
    "describeTable",
    "listTables",
    "deleteTable",
];

/// A DynamoDB call a Task state makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The action (`putItem`, ...).
    pub action: &'static str,
    /// Whether the resource is the SDK form (error names start `DynamoDb.`).
    pub sdk: bool,
}

/// The call `resource` names, if it is a DynamoDB action Sandstep runs.
pub fn resolve(resource: &str) -> Option<Call> {
    if let Some(action) = resource.strip_prefix(OPTIMIZED) {
        let action = OPTIMIZED_ACTIONS.into_iter().find(|a| *a == action)?;
        return Some(Call { action, sdk: false });
    }
    let action = resource.strip_prefix(SDK)?;
    let action = SDK_ACTIONS.into_iter().find(|a| *a == action)?;
    Some(Call { action, sdk: true })
}

/// Where a call runs: the tenant, and the region and account of its execution's ARN.
#[derive(Debug, Clone)]
pub struct Place<'a> {
    /// Whose tables.
    pub tenant: &'a TenantId,
    /// The region in table ARNs.
    pub region: &'a str,
    /// The account in table ARNs.
    pub account: &'a str,
    /// Now (epoch ms).
    pub now: Millis,
}

/// Runs `call` with the task's input as the request: the response, or the error name
/// and cause the task fails with.
///
/// # Errors
/// `(error, cause)`: `DynamoDB.ConditionalCheckFailedException`, ...
pub fn run(
    store: &Store,
    place: &Place<'_>,
    call: &Call,
    request: &TaskRequest,
) -> Result<Value, (String, String)> {
    let tables = Tenant {
        store,
        tenant: place.tenant,
        region: place.region,
        account: place.account,
        now: place.now,
    };
    tables.call(call.action, &request.input).map_err(|e| {
        let service = match call.sdk {
            true => "DynamoDb",
            false => "DynamoDB",
        };
        let cause = match &e {
            Error::Internal(why) => format!("Sandstep's store failed: {why}"),
            other => other.to_string(),
        };
        (format!("{service}.{}", e.name()), cause)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_name_the_actions_sandstep_runs() {
        assert_eq!(
            resolve("arn:aws:states:::dynamodb:putItem"),
            Some(Call {
                action: "putItem",
                sdk: false
            })
        );
        assert_eq!(
            resolve("arn:aws:states:::aws-sdk:dynamodb:query"),
            Some(Call {
                action: "query",
                sdk: true
            })
        );
        assert_eq!(
            resolve("arn:aws:states:::dynamodb:query"),
            None,
            "not optimized"
        );
        assert_eq!(resolve("arn:aws:states:::dynamodb:putItem.sync"), None);
        assert_eq!(
            resolve("arn:aws:states:::aws-sdk:dynamodb:restoreTableFromBackup"),
            None
        );
    }
}
