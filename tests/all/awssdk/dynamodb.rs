//! The DynamoDB API through the real AWS SDK for Rust (`aws-sdk-dynamodb`), on the same
//! endpoint as Step Functions: tables, items, conditions, queries with the SDK's
//! paginator, and items a workflow wrote read back by the SDK (and the other way round).

use super::*;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, KeySchemaElement, KeyType, ReturnValue,
    ScalarAttributeType,
};

fn dynamodb(s: &Server) -> aws_sdk_dynamodb::Client {
    dynamodb_with(s, "AKIDANYTHING", "any-secret")
}

fn dynamodb_with(s: &Server, key: &str, secret: &str) -> aws_sdk_dynamodb::Client {
    sdk_client!(aws_sdk_dynamodb, s, key, secret, |b| b)
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.into())
}

#[test]
fn sdk_dynamodb_tables_items_conditions_and_queries() {
    let dir = TempDir::new("sdk-dynamodb");
    let server = Server::start(&dir.0.join("data"), &[]);
    runtime().block_on(async {
        let db = dynamodb(&server);
        let created = db
            .create_table()
            .table_name("events")
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("user")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("at")
                    .attribute_type(ScalarAttributeType::N)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("user")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("at")
                    .key_type(KeyType::Range)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        let description = created.table_description().unwrap();
        assert_eq!(
            description.table_arn(),
            Some("arn:aws:dynamodb:us-east-1:000000000000:table/events")
        );
        let again = db
            .create_table()
            .table_name("events")
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("user")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("user")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&again), "ResourceInUseException");

        for at in 1..=25 {
            db.put_item()
                .table_name("events")
                .item("user", s("ana"))
                .item("at", n(&at.to_string()))
                .item("kind", s(if at % 5 == 0 { "buy" } else { "view" }))
                .send()
                .await
                .unwrap();
        }
        let first = db
            .put_item()
            .table_name("events")
            .item("user", s("ana"))
            .item("at", n("1"))
            .condition_expression("attribute_not_exists(#u)")
            .expression_attribute_names("#u", "user")
            .send()
            .await
            .unwrap_err();
        assert!(
            first
                .as_service_error()
                .is_some_and(|e| e.is_conditional_check_failed_exception()),
            "{first:?}"
        );
        let updated = db
            .update_item()
            .table_name("events")
            .key("user", s("ana"))
            .key("at", n("5"))
            .update_expression("SET seen = if_not_exists(seen, :zero) + :one")
            .expression_attribute_values(":zero", n("0"))
            .expression_attribute_values(":one", n("1"))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .unwrap();
        assert_eq!(updated.attributes().unwrap()["seen"], n("1"));

        // A Query pages by 10 through the SDK's paginator, newest first, filtered.
        let pages: Vec<_> = db
            .query()
            .table_name("events")
            .key_condition_expression("#u = :u AND #at > :from")
            .filter_expression("kind = :buy")
            .expression_attribute_names("#u", "user")
            .expression_attribute_names("#at", "at")
            .expression_attribute_values(":u", s("ana"))
            .expression_attribute_values(":from", n("3"))
            .expression_attribute_values(":buy", s("buy"))
            .scan_index_forward(false)
            .limit(10)
            .into_paginator()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .unwrap();
        assert_eq!(pages.len(), 3, "22 items read 10 at a time");
        let buys: Vec<String> = pages
            .iter()
            .flat_map(|p| p.items())
            .map(|i| i["at"].as_n().unwrap().clone())
            .collect();
        assert_eq!(buys, ["25", "20", "15", "10", "5"]);
        let counted = db
            .scan()
            .table_name("events")
            .select(aws_sdk_dynamodb::types::Select::Count)
            .send()
            .await
            .unwrap();
        assert_eq!((counted.count(), counted.items().len()), (25, 0));
        let listed = db.list_tables().send().await.unwrap();
        assert_eq!(listed.table_names(), ["events"]);
        let missing = db
            .get_item()
            .table_name("nope")
            .key("user", s("x"))
            .send()
            .await
            .unwrap_err();
        assert!(
            missing
                .as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()),
            "{missing:?}"
        );
        let bad = db
            .get_item()
            .table_name("events")
            .key("user", s("ana"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&bad), "ValidationException");
        assert_eq!(
            bad.message(),
            Some("The provided key element does not match the schema")
        );
    });
}

#[test]
fn sdk_reads_what_a_workflow_wrote_and_a_workflow_reads_what_the_sdk_wrote() {
    let dir = TempDir::new("sdk-dynamodb-asl");
    let server = Server::start(&dir.0.join("data"), &[]);
    runtime().block_on(async {
        let db = dynamodb(&server);
        db.create_table()
            .table_name("orders")
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("id")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("id")
                    .key_type(KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        db.put_item()
            .table_name("orders")
            .item("id", s("o-1"))
            .item("total", n("12.50"))
            .send()
            .await
            .unwrap();
        let definition = json!({
            "StartAt": "Read",
            "States": {
                "Read": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:getItem",
                    "Parameters": {"TableName": "orders", "Key": {"id": {"S.$": "$.id"}}},
                    "ResultSelector": {"total.$": "$.Item.total.N"},
                    "ResultPath": "$.read",
                    "Next": "Mark"
                },
                "Mark": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::dynamodb:updateItem",
                    "Parameters": {
                        "TableName": "orders",
                        "Key": {"id": {"S.$": "$.id"}},
                        "UpdateExpression": "SET #s = :paid",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":paid": {"S": "PAID"}}
                    },
                    "ResultPath": null,
                    "End": true
                }
            }
        });
        let c = client(&server);
        let machine = c
            .create_state_machine()
            .name("pay")
            .definition(definition.to_string())
            .role_arn(ROLE)
            .send()
            .await
            .unwrap();
        let done = c
            .start_execution()
            .state_machine_arn(machine.state_machine_arn())
            .input(json!({"id": "o-1"}).to_string())
            .send()
            .await
            .unwrap();
        let arn = done.execution_arn().to_string();
        let finished = server.wait_done(&arn, Duration::from_secs(30));
        let output: Value = serde_json::from_str(finished["output"].as_str().unwrap()).unwrap();
        assert_eq!(
            output["read"]["total"], "12.5",
            "numbers come back normalized"
        );
        let item = db
            .get_item()
            .table_name("orders")
            .key("id", s("o-1"))
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        assert_eq!(item.item().unwrap()["status"], s("PAID"));
    });
}

#[test]
fn sdk_dynamodb_tenants_see_only_their_own_tables() {
    let dir = TempDir::new("sdk-dynamodb-tenants");
    let server = Server::start(&dir.0, &["--admin-token", "root-token"]);
    let a = server.create_tenant("root-token", "acme");
    let b = server.create_tenant("root-token", "globex");
    let field = |t: &Value, f: &str| t[f].as_str().unwrap().to_string();
    runtime().block_on(async {
        let da = dynamodb_with(
            &server,
            &field(&a, "accessKeyId"),
            &field(&a, "secretAccessKey"),
        );
        let db = dynamodb_with(
            &server,
            &field(&b, "accessKeyId"),
            &field(&b, "secretAccessKey"),
        );
        for d in [&da, &db] {
            d.create_table()
                .table_name("shared-name")
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name("id")
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .unwrap(),
                )
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name("id")
                        .key_type(KeyType::Hash)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
        }
        da.put_item()
            .table_name("shared-name")
            .item("id", s("secret"))
            .send()
            .await
            .unwrap();
        let seen = db
            .get_item()
            .table_name("shared-name")
            .key("id", s("secret"))
            .send()
            .await
            .unwrap();
        assert!(
            seen.item().is_none(),
            "another tenant's table of the same name is another table"
        );
        let described = da
            .describe_table()
            .table_name("shared-name")
            .send()
            .await
            .unwrap();
        assert_eq!(described.table().unwrap().item_count(), Some(1));
        assert!(described
            .table()
            .unwrap()
            .table_arn()
            .unwrap()
            .contains(&field(&a, "account")));
        // With tenants, an unsigned request reaches no table.
        let unsigned = ureq::post(&server.url)
            .set("x-amz-target", "DynamoDB_20120810.ListTables")
            .set("content-type", "application/x-amz-json-1.0")
            .send_string("{}");
        assert!(
            matches!(unsigned, Err(ureq::Error::Status(403, _))),
            "no credentials, no tables"
        );
    });
}

#[test]
fn a_module_and_the_sdk_share_the_same_items() {
    let dir = TempDir::new("sdk-dynamodb-kv");
    let server = Server::start(&dir.0.join("data"), &[]);
    server
        .upload(
            "reserve-inventory",
            &module("reserve-inventory"),
            "kv:inventory",
        )
        .unwrap();
    runtime().block_on(async {
        let db = dynamodb(&server);
        db.create_table()
            .table_name("inventory")
            .attribute_definitions(AttributeDefinition::builder().attribute_name("sku").attribute_type(ScalarAttributeType::S).build().unwrap())
            .key_schema(KeySchemaElement::builder().attribute_name("sku").key_type(KeyType::Hash).build().unwrap())
            .send()
            .await
            .unwrap();
        db.put_item()
            .table_name("inventory")
            .item("sku", s("WIDGET-A"))
            .item("stock", n("5"))
            .send()
            .await
            .unwrap();
        // The module reads and conditionally writes the item through its kv calls.
        let definition = json!({
            "StartAt": "Reserve",
            "States": {"Reserve": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": "reserve-inventory", "Payload": {"orderId": "o-1", "items": [{"sku": "WIDGET-A", "quantity": 2}]}},
                "OutputPath": "$.Payload",
                "End": true
            }}
        });
        let c = client(&server);
        let machine = c
            .create_state_machine()
            .name("reserve")
            .definition(definition.to_string())
            .role_arn(ROLE)
            .send()
            .await
            .unwrap();
        let started = c
            .start_execution()
            .state_machine_arn(machine.state_machine_arn())
            .send()
            .await
            .unwrap();
        let done = server.wait_done(started.execution_arn(), Duration::from_secs(30));
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
        assert_eq!(output["reserved"][0]["remaining"], 3);
        let item = db
            .get_item()
            .table_name("inventory")
            .key("sku", s("WIDGET-A"))
            .send()
            .await
            .unwrap();
        assert_eq!(item.item().unwrap()["stock"], n("3"), "the module's write, read by the SDK");
    });
}
