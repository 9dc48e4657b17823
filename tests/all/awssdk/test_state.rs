//! TestState through the SDK: AWS's recorded answers for a Pass, a Choice and a Fail, a
//! mocked Task's retry and catch, a real module task and a real DynamoDB call, a state
//! found by name in a whole machine, and AWS's errors for misuse.

use super::*;
use aws_sdk_sfn::types::{
    InspectionLevel, MockErrorOutput, MockInput, TestExecutionStatus, TestStateConfiguration,
};

/// JSON text of an `inspectionData` field.
fn stage(text: Option<&str>) -> Value {
    serde_json::from_str(text.expect("a stage")).unwrap()
}

#[test]
fn sdk_test_state() {
    let dir = TempDir::new("sdk-test-state");
    let s = Server::start(&dir.0, &[]);
    s.upload("echo", &module("echo"), "").unwrap();
    runtime().block_on(async {
        let c = client(&s);
        // AWS's recorded Pass: every stage at DEBUG, none at INFO.
        let pass = json!({"Type": "Pass", "InputPath": "$.initialData",
            "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
            "ResultPath": "$.modifiedData", "End": true});
        let input = json!({"initialData": {"fieldFromInput": "value from input", "otherField": "other"},
            "unrelatedData": {"someOtherField": 1234}});
        let r = c
            .test_state()
            .definition(pass.to_string())
            .input(input.to_string())
            .inspection_level(InspectionLevel::Debug)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), Some(&TestExecutionStatus::Succeeded));
        let modified = json!({"staticValue": "some value", "inputValue": "value from input"});
        let mut output = input.clone();
        output["modifiedData"] = modified.clone();
        assert_eq!(json_of(r.output()), output);
        let data = r.inspection_data().unwrap();
        assert_eq!(stage(data.input()), input);
        assert_eq!(stage(data.after_input_path()), input["initialData"]);
        assert_eq!(stage(data.after_parameters()), modified);
        assert_eq!(stage(data.after_result_path()), output);
        let info = c
            .test_state()
            .definition(pass.to_string())
            .input(input.to_string())
            .send()
            .await
            .unwrap();
        assert!(info.inspection_data().is_none());

        // A Choice names the branch it takes; a Fail state fails without an API error.
        let choice = json!({"Type": "Choice", "Choices": [
            {"Variable": "$.value", "NumericGreaterThanEquals": 20, "Next": "ValueInTwenties"}],
            "Default": "DefaultState"});
        let r = c
            .test_state()
            .definition(choice.to_string())
            .input(r#"{"type": "Private", "value": 22}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.next_state(), Some("ValueInTwenties"));
        let r = c
            .test_state()
            .definition(r#"{"Type": "Fail", "Error": "SomeFailure", "Cause": "on purpose"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), Some(&TestExecutionStatus::Failed));
        assert_eq!((r.error(), r.cause()), (Some("SomeFailure"), Some("on purpose")));

        // A mocked failure: retriable while the Retrier has attempts left, then caught.
        let task = json!({"Type": "Task", "QueryLanguage": "JSONata",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": "foo", "Payload": "bar"},
            "Retry": [{"ErrorEquals": ["MockException"], "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2.0}],
            "Catch": [{"ErrorEquals": ["MockException"], "Next": "HandleMockError"}],
            "End": true});
        let mock = MockInput::builder()
            .error_output(
                MockErrorOutput::builder()
                    .error("MockException")
                    .cause("Mock the cause of the error.")
                    .build(),
            )
            .build();
        for (retried, status) in [
            (4, TestExecutionStatus::Retriable),
            (5, TestExecutionStatus::CaughtError),
        ] {
            let r = c
                .test_state()
                .definition(task.to_string())
                .mock(mock.clone())
                .state_configuration(
                    TestStateConfiguration::builder()
                        .retrier_retry_count(retried)
                        .build(),
                )
                .inspection_level(InspectionLevel::Debug)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), Some(&status), "{r:?}");
            assert_eq!(r.error(), Some("MockException"));
            let details = r.inspection_data().unwrap().error_details().unwrap();
            if status == TestExecutionStatus::Retriable {
                assert_eq!(details.retry_backoff_interval_seconds(), Some(16));
                assert!(r.next_state().is_none() && r.output().is_none());
            } else {
                assert_eq!(details.catch_index(), Some(0));
                assert_eq!(r.next_state(), Some("HandleMockError"));
            }
        }

        // Real tasks: a module, and a DynamoDB call on the tenant's own table.
        let invoke = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "echo", "Payload.$": "$"},
            "ResultSelector": {"echoed.$": "$.Payload"}, "Next": "After"});
        let r = c
            .test_state()
            .definition(invoke.to_string())
            .role_arn(ROLE)
            .input(r#"{"n": 7}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), Some(&TestExecutionStatus::Succeeded), "{r:?}");
        assert_eq!(json_of(r.output()), json!({"echoed": {"n": 7}}));
        assert_eq!(r.next_state(), Some("After"));
        let e = fails_with!(
            c.test_state().definition(invoke.to_string()),
            is_validation_exception
        );
        assert_eq!(
            e.message(),
            Some("RoleArn must be specified when testing a Task state")
        );
        let ddb = sdk_client!(aws_sdk_dynamodb, s);
        ddb.create_table()
            .table_name("orders")
            .attribute_definitions(
                aws_sdk_dynamodb::types::AttributeDefinition::builder()
                    .attribute_name("id")
                    .attribute_type(aws_sdk_dynamodb::types::ScalarAttributeType::S)
                    .build()
                    .unwrap(),
            )
            .key_schema(
                aws_sdk_dynamodb::types::KeySchemaElement::builder()
                    .attribute_name("id")
                    .key_type(aws_sdk_dynamodb::types::KeyType::Hash)
                    .build()
                    .unwrap(),
            )
            .billing_mode(aws_sdk_dynamodb::types::BillingMode::PayPerRequest)
            .send()
            .await
            .unwrap();
        let put = json!({"Type": "Task", "Resource": "arn:aws:states:::dynamodb:putItem",
            "Parameters": {"TableName": "orders", "Item": {"id": {"S.$": "$.id"}}},
            "ResultPath": null, "End": true});
        let r = c
            .test_state()
            .definition(put.to_string())
            .role_arn(ROLE)
            .input(r#"{"id": "o-1"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), Some(&TestExecutionStatus::Succeeded), "{r:?}");
        let item = ddb
            .get_item()
            .table_name("orders")
            .key("id", aws_sdk_dynamodb::types::AttributeValue::S("o-1".into()))
            .send()
            .await
            .unwrap();
        assert!(item.item().is_some(), "the real call wrote the item");

        // A state found by name inside a machine, with the machine's query language.
        let machine = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
            "M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "Double", "States": {
                "Double": {"Type": "Pass", "Output": "{% $states.input * 2 %}", "End": true}}}}}});
        let r = c
            .test_state()
            .definition(machine.to_string())
            .state_name("Double")
            .input("21")
            .send()
            .await
            .unwrap();
        assert_eq!(r.output(), Some("42"));
        let e = fails_with!(
            c.test_state()
                .definition(machine.to_string())
                .state_name("Nope"),
            is_validation_exception
        );
        assert_eq!(e.message(), Some("State not found in definition"));

        // What AWS refuses.
        let e = fails_with!(
            c.test_state()
                .definition(pass.to_string())
                .mock(MockInput::builder().result("{}").build()),
            is_validation_exception
        );
        assert_eq!(
            e.message(),
            Some("State type 'Pass' is not supported when a mock is specified")
        );
        let e = fails_with!(
            c.test_state().definition(
                json!({"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "P",
                    "States": {"P": {"Type": "Pass", "End": true}}}})
                .to_string()
            ),
            is_invalid_definition
        );
        assert!(e.message().unwrap().contains("does not support Map or Parallel"), "{e:?}");
        let e = fails_with!(
            c.test_state()
                .definition(task.to_string())
                .mock(MockInput::builder().result("{not json").build()),
            is_validation_exception
        );
        assert_eq!(e.message(), Some("Mocked result must be valid JSON"));
        fails_with!(
            c.test_state().definition(r#"{"Type": "Nope"}"#),
            is_invalid_definition
        );
    });
}
