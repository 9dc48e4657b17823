//! AWS service integrations on Sandstep's own stores, end to end through `sandstep
//! serve`: definitions written for AWS, run unchanged against the tenant's tables.

use crate::support::{output, Server, TempDir};
use serde_json::{json, Value};
use std::time::Duration;

/// Starts `definition` as a Standard machine with `input`; the finished execution.
fn run(s: &Server, name: &str, definition: &Value, input: Value) -> Value {
    let machine = s.create_machine(name, definition, "STANDARD");
    s.run(&machine, input)
}

#[test]
fn dynamodb_tables_are_created_written_conditionally_and_read_from_asl() {
    let dir = TempDir::new("dynamodb-asl");
    let s = Server::start(&dir.0.join("data"), &[]);
    let setup = json!({
        "StartAt": "Create",
        "States": {
            "Create": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:dynamodb:createTable",
                "Parameters": {
                    "TableName": "stock",
                    "AttributeDefinitions": [{"AttributeName": "sku", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "sku", "KeyType": "HASH"}],
                    "BillingMode": "PAY_PER_REQUEST"
                },
                "ResultSelector": {"arn.$": "$.TableDescription.TableArn"},
                "Next": "Stock"
            },
            "Stock": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "stock", "Item": {"sku": {"S": "pen"}, "count": {"N": "1"}}},
                "ResultPath": null,
                "End": true
            }
        }
    });
    let out = output(&run(&s, "setup", &setup, json!({})));
    assert_eq!(
        out["arn"],
        "arn:aws:dynamodb:us-east-1:000000000000:table/stock"
    );

    // The order workflow as written for AWS: take one from stock, or say it is out.
    let order = json!({
        "StartAt": "Take",
        "States": {
            "Take": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:updateItem",
                "Parameters": {
                    "TableName": "stock",
                    "Key": {"sku": {"S.$": "$.sku"}},
                    "UpdateExpression": "SET #c = #c - :one",
                    "ConditionExpression": "#c >= :one",
                    "ExpressionAttributeNames": {"#c": "count"},
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                    "ReturnValues": "UPDATED_NEW"
                },
                "ResultPath": "$.taken",
                "Catch": [{"ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"], "ResultPath": "$.error", "Next": "Out"}],
                "Next": "Read"
            },
            "Out": {"Type": "Pass", "Result": "out of stock", "ResultPath": "$.said", "Next": "Read"},
            "Read": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:getItem",
                "Parameters": {"TableName": "stock", "Key": {"sku": {"S.$": "$.sku"}}},
                "ResultSelector": {"left.$": "$.Item.count.N"},
                "ResultPath": "$.stock",
                "End": true
            }
        }
    });
    let first = output(&run(&s, "order", &order, json!({"sku": "pen"})));
    assert_eq!(first["taken"], json!({"Attributes": {"count": {"N": "0"}}}));
    assert_eq!(first["stock"]["left"], "0");
    let machine = "arn:aws:states:us-east-1:000000000000:stateMachine:order";
    let second = s.ok(
        "StartExecution",
        json!({"stateMachineArn": machine, "input": "{\"sku\":\"pen\"}"}),
    );
    let second = output(&s.wait_done(
        second["executionArn"].as_str().unwrap(),
        Duration::from_secs(30),
    ));
    assert_eq!(second["said"], "out of stock");
    assert_eq!(
        second["error"]["Error"],
        "DynamoDB.ConditionalCheckFailedException"
    );
    assert_eq!(second["error"]["Cause"], "The conditional request failed");

    // The SDK form names its errors DynamoDb.*; a missing table is one of them.
    let missing = json!({
        "StartAt": "Get",
        "States": {"Get": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:getItem",
            "Parameters": {"TableName": "nothing", "Key": {"sku": {"S": "pen"}}},
            "End": true
        }}
    });
    let failed = run(&s, "missing", &missing, json!({}));
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["error"], "DynamoDb.ResourceNotFoundException");
    let history = s.ok(
        "GetExecutionHistory",
        json!({"executionArn": failed["executionArn"]}),
    );
    let types: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"TaskFailed"), "{types:?}");
}

#[test]
fn a_role_limits_what_a_machines_integrations_touch() {
    let dir = TempDir::new("roles");
    let s = Server::start(&dir.0.join("data"), &[]);
    // The CLI defines the role, as a user would.
    let put = std::process::Command::new(crate::support::binary())
        .args([
            "role",
            "put",
            "Narrow",
            "--grant",
            "kv:allowed",
            "--grant",
            "queue:*:read",
            "--endpoint",
            &s.url,
        ])
        .output()
        .unwrap();
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    let role: Value = serde_json::from_slice(&put.stdout).unwrap();
    assert_eq!(role["roleArn"], "arn:aws:iam::000000000000:role/Narrow");
    let item = |table: &str| json!({"TableName": table, "Item": {"id": {"S": "1"}}});
    let create = |table: &str| {
        json!({"TableName": table, "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]})
    };
    for table in ["allowed", "other"] {
        dynamodb(&s.url, "CreateTable", &create(table));
    }
    let definition = json!({
        "StartAt": "Allowed",
        "States": {
            "Allowed": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                        "Parameters": item("allowed"), "ResultPath": null, "Next": "Other"},
            "Other": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
                      "Parameters": item("other"), "ResultPath": null,
                      "Catch": [{"ErrorEquals": ["DynamoDB.AccessDeniedException"], "ResultPath": "$.denied", "Next": "Denied"}],
                      "End": true},
            "Denied": {"Type": "Succeed"}
        }
    });
    let narrow = s.ok(
        "CreateStateMachine",
        json!({"name": "narrow", "definition": definition.to_string(),
               "roleArn": "arn:aws:iam::000000000000:role/Narrow"}),
    );
    let started = s.ok(
        "StartExecution",
        json!({"stateMachineArn": narrow["stateMachineArn"]}),
    );
    let out = output(&s.wait_done(
        started["executionArn"].as_str().unwrap(),
        Duration::from_secs(30),
    ));
    assert!(
        out["denied"]["Cause"]
            .as_str()
            .unwrap()
            .contains("dynamodb:PutItem on resource: other"),
        "{out}"
    );
    let other = dynamodb(
        &s.url,
        "GetItem",
        &json!({"TableName": "other", "Key": {"id": {"S": "1"}}}),
    );
    assert!(
        other.get("Item").is_none(),
        "nothing written outside the role: {other}"
    );

    // A role that does not exist runs as the tenant's default role: the whole tenant
    // until the tenant defines `default`.
    let open = run(&s, "open", &definition, json!({}));
    assert!(
        output(&open).get("denied").is_none(),
        "no default role: everything"
    );
    let put = std::process::Command::new(crate::support::binary())
        .args(["role", "put", "default", "--endpoint", &s.url])
        .output()
        .unwrap();
    assert!(
        put.status.success(),
        "{}",
        String::from_utf8_lossy(&put.stderr)
    );
    let closed = run(&s, "closed", &definition, json!({}));
    assert_eq!(closed["status"], "FAILED", "{closed}");
    assert_eq!(
        closed["error"], "DynamoDB.AccessDeniedException",
        "{closed}"
    );
}

/// A DynamoDB API call.
fn dynamodb(url: &str, action: &str, body: &Value) -> Value {
    let answer = ureq::post(url)
        .set("content-type", "application/x-amz-json-1.0")
        .set("x-amz-target", &format!("DynamoDB_20120810.{action}"))
        .send_string(&body.to_string())
        .unwrap();
    answer.into_json().unwrap()
}
