//! The DynamoDB integrations on the tenant's own tables: the optimized
//! `arn:aws:states:::dynamodb:putItem|getItem|updateItem|deleteItem` and the SDK form
//! `arn:aws:states:::aws-sdk:dynamodb:<action>`. Parameters are the DynamoDB request,
//! the output its response (`dynamo::ops` answers both, as the DynamoDB API does). A
//! DynamoDB error fails the task as `DynamoDB.<Exception>` (optimized) or
//! `DynamoDb.<Exception>` (SDK), AWS's names, so Retry and Catch match them. A Standard
//! execution's write happens exactly once: its answer is stored with it, and the task,
//! run again after a crash, answers that (reads are simply made again).

use super::stores::Place;
use crate::dynamo::ops::{Error, Tenant};
use crate::store::Store;
use sandstep_engine::TaskRequest;
use serde_json::Value;

const OPTIMIZED: &str = "arn:aws:states:::dynamodb:";
const SDK: &str = "arn:aws:states:::aws-sdk:dynamodb:";
/// The optimized integration's actions.
const OPTIMIZED_ACTIONS: [&str; 4] = ["putItem", "getItem", "updateItem", "deleteItem"];
/// The SDK integration's actions Sandstep runs.
const SDK_ACTIONS: [&str; 13] = [
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
    "batchGetItem",
    "batchWriteItem",
    "transactWriteItems",
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
    if let Some(answer) = super::stored_answer(store, place.effect, "DynamoDB.InternalServerError")
    {
        return answer;
    }
    let tables = Tenant {
        store,
        tenant: place.tenant,
        region: place.region,
        account: place.account,
        now: place.now,
        effect: place.effect,
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
    use crate::model::ExecutionKey;
    use crate::store::tables::EffectOf;
    use crate::store::TenantId;
    use sandstep_engine::TaskId;
    use serde_json::json;

    fn task(resource: &str, input: Value) -> TaskRequest {
        TaskRequest {
            id: TaskId(7),
            resource: resource.into(),
            input,
            timeout_seconds: None,
            heartbeat_seconds: None,
            attempt: 0,
            state_name: "Count".into(),
            task_token: None,
        }
    }

    #[test]
    fn a_task_run_again_after_a_crash_writes_once() {
        let store = Store::memory();
        let tenant = TenantId("t".into());
        let of = EffectOf {
            execution: ExecutionKey {
                tenant: tenant.clone(),
                machine: "m".into(),
                name: "e".into(),
            },
            task: 7,
        };
        let place = |effect| Place {
            tenant: &tenant,
            region: "us-east-1",
            account: "000000000000",
            endpoint: "http://localhost",
            now: 0,
            effect,
        };
        let create = task(
            "arn:aws:states:::aws-sdk:dynamodb:createTable",
            json!({"TableName": "hits", "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                   "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}),
        );
        let sdk = resolve(&create.resource).unwrap();
        run(&store, &place(None), &sdk, &create).unwrap();
        let count = task(
            "arn:aws:states:::dynamodb:updateItem",
            json!({"TableName": "hits", "Key": {"id": {"S": "home"}}, "UpdateExpression": "ADD n :one",
                   "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": "UPDATED_NEW"}),
        );
        let call = resolve(&count.resource).unwrap();
        let first = run(&store, &place(Some(&of)), &call, &count).unwrap();
        let again = run(&store, &place(Some(&of)), &call, &count).unwrap();
        assert_eq!(first, json!({"Attributes": {"n": {"N": "1"}}}));
        assert_eq!(again, first, "the stored answer, not a second write");
        let express = run(&store, &place(None), &call, &count).unwrap();
        assert_eq!(
            express,
            json!({"Attributes": {"n": {"N": "2"}}}),
            "without an effect, a write"
        );
        let missing = task(
            "arn:aws:states:::aws-sdk:dynamodb:getItem",
            json!({"TableName": "nope", "Key": {}}),
        );
        let sdk_get = resolve(&missing.resource).unwrap();
        let (error, cause) = run(&store, &place(None), &sdk_get, &missing).unwrap_err();
        assert_eq!(error, "DynamoDb.ResourceNotFoundException");
        assert_eq!(cause, "Requested resource not found");
    }

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
