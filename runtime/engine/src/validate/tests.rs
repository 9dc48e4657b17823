//! Unit tests of the validator, one small definition per rule.

use super::*;
use serde_json::json;

fn check(definition: &Value) -> Vec<Diagnostic> {
    validate(&definition.to_string(), MachineType::Standard)
}

fn assert_valid(definition: Value) {
    let diagnostics = check(&definition);
    assert!(diagnostics.is_empty(), "{definition}: {diagnostics:#?}");
}

/// Asserts the definition is refused with `code` at `location`.
fn assert_error(definition: Value, code: &str, location: &str) {
    let diagnostics = check(&definition);
    assert!(
        diagnostics
            .iter()
            .any(|d| d.code == code && d.location == location),
        "expected {code} at {location} for {definition}, got {diagnostics:#?}"
    );
}

/// A one-state machine around `state`, named `S`.
fn single(state: Value) -> Value {
    json!({"StartAt": "S", "States": {"S": state}})
}

fn pass_end() -> Value {
    json!({"Type": "Pass", "End": true})
}

#[test]
fn minimal_machines_of_every_type_are_valid() {
    assert_valid(single(pass_end()));
    assert_valid(single(json!({"Type": "Succeed"})));
    assert_valid(single(json!({"Type": "Fail", "Error": "E", "Cause": "C"})));
    assert_valid(single(json!({"Type": "Wait", "Seconds": 0, "End": true})));
    assert_valid(single(
        json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}),
    ));
    assert_valid(single(
        json!({"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": pass_end()}}], "End": true}),
    ));
    assert_valid(single(
        json!({"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {"I": pass_end()}}, "End": true}),
    ));
    assert_valid(json!({
        "Comment": "top-level fields", "Version": "1.0", "TimeoutSeconds": 30, "QueryLanguage": "JSONPath",
        "StartAt": "S", "States": {"S": pass_end()}
    }));
}

#[test]
fn text_that_is_not_a_json_object_is_refused() {
    let bad = validate("not a definition", MachineType::Standard);
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].code, INVALID_JSON_DESCRIPTION);
    assert_eq!(
        validate(" ", MachineType::Standard)[0].code,
        SCHEMA_VALIDATION_FAILED
    );
    assert_eq!(
        validate("[1]", MachineType::Standard)[0].code,
        SCHEMA_VALIDATION_FAILED
    );
}

#[test]
fn start_at_and_states_are_required() {
    let diagnostics = check(&json!({}));
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(
        diagnostics[0].message,
        "These fields are required: [States, StartAt]"
    );
    assert_eq!(diagnostics[0].location, "/");
    assert_error(
        json!({"States": {"S": pass_end()}}),
        SCHEMA_VALIDATION_FAILED,
        "/",
    );
}

#[test]
fn unknown_top_level_and_state_fields_are_refused() {
    assert_error(
        json!({"StartAt": "S", "States": {"S": pass_end()}, "Extra": 1}),
        SCHEMA_VALIDATION_FAILED,
        "/",
    );
    assert_error(
        single(json!({"Type": "Pass", "End": true, "Foo": 1})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    assert_error(
        single(json!({"Type": "Succeed", "ResultSelector": {}})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    assert_error(
        single(json!({"Type": "Wait", "Seconds": 1, "End": true, "ResultPath": "$.x"})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    assert_error(
        single(json!({"Type": "Pass", "End": true, "Output": {}})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
}

#[test]
fn type_must_be_known() {
    assert_error(
        single(json!({"Type": "Nope", "End": true})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Type",
    );
    assert_error(
        single(json!({"End": true})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
}

#[test]
fn transitions_must_name_a_state_in_scope() {
    assert_error(
        single(json!({"Type": "Pass", "Next": "Gone"})),
        MISSING_TRANSITION_TARGET,
        "/States/S/Next",
    );
    assert_error(
        json!({"StartAt": "Gone", "States": {"S": pass_end()}}),
        MISSING_TRANSITION_TARGET,
        "/StartAt",
    );
    let choice = json!({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsPresent": true, "Next": "Gone"}], "Default": "Also"});
    assert_error(
        single(choice.clone()),
        MISSING_TRANSITION_TARGET,
        "/States/S/Choices/0/Next",
    );
    assert_error(
        single(choice),
        MISSING_TRANSITION_TARGET,
        "/States/S/Default",
    );
    let catch = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}]});
    assert_error(
        single(catch),
        MISSING_TRANSITION_TARGET,
        "/States/S/Catch/0/Next",
    );
}

#[test]
fn next_cannot_leave_a_branch() {
    let definition = json!({"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "Next": "After", "Branches": [
            {"StartAt": "B", "States": {"B": {"Type": "Pass", "Next": "After"}}}
        ]},
        "After": pass_end()
    }});
    assert_error(
        definition,
        MISSING_TRANSITION_TARGET,
        "/States/P/Branches/0/States/B/Next",
    );
}

#[test]
fn unreachable_states_are_refused() {
    let definition = json!({"StartAt": "A", "States": {"A": pass_end(), "Lost": pass_end()}});
    assert_error(definition, MISSING_TRANSITION_TARGET, "/States/Lost");
    let via_catch = json!({"StartAt": "T", "States": {
        "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
              "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handler"}]},
        "Handler": {"Type": "Fail"}
    }});
    assert_valid(via_catch);
}

#[test]
fn a_scope_needs_a_terminal_state() {
    let definition = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}}});
    assert_error(definition, MISSING_END_STATE, "/");
}

#[test]
fn next_and_end_exactly_one() {
    assert_error(
        single(json!({"Type": "Pass"})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    let both = json!({"StartAt": "S", "States": {"S": {"Type": "Pass", "Next": "T", "End": true}, "T": pass_end()}});
    assert_error(both, SCHEMA_VALIDATION_FAILED, "/States/S");
    assert_error(
        single(
            json!({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": true, "Next": "S"}], "End": true}),
        ),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
}

#[test]
fn state_names_are_unique_in_the_whole_machine() {
    let definition = json!({"StartAt": "M", "States": {
        "M": {"Type": "Map", "Next": "X", "Iterator": {"StartAt": "X", "States": {"X": pass_end()}}},
        "X": pass_end()
    }});
    assert_error(definition, DUPLICATE_STATE_NAME, "/States/X");
}

#[test]
fn state_names_are_at_most_80_characters() {
    let name = "n".repeat(81);
    assert_error(
        json!({"StartAt": name, "States": {name.clone(): pass_end()}}),
        INVALID_STATE_NAME,
        &format!("/States/{name}"),
    );
    let name = "n".repeat(80);
    assert_valid(json!({"StartAt": name, "States": {name: pass_end()}}));
}

#[test]
fn static_and_path_fields_exclude_each_other() {
    assert_error(
        single(json!({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    assert_error(
        single(json!({"Type": "Fail", "Cause": "C", "CausePath": "$.c"})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    let task = |extra: Value| {
        let mut state =
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true});
        if let (Value::Object(state), Value::Object(extra)) = (&mut state, extra) {
            state.extend(extra);
        }
        single(state)
    };
    assert_error(
        task(json!({"TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t"})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    assert_error(
        task(json!({"HeartbeatSeconds": 5, "HeartbeatSecondsPath": "$.t"})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    assert_valid(task(
        json!({"TimeoutSecondsPath": "$.t", "HeartbeatSecondsPath": "$.h"}),
    ));
}

#[test]
fn wait_needs_exactly_one_duration() {
    assert_error(
        single(json!({"Type": "Wait", "End": true})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    assert_error(
        single(json!({"Type": "Wait", "Seconds": 1, "SecondsPath": "$.s", "End": true})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    assert_error(
        single(json!({"Type": "Wait", "Seconds": -1, "End": true})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Seconds",
    );
    assert_valid(single(
        json!({"Type": "Wait", "TimestampPath": "$.t", "End": true}),
    ));
}

#[test]
fn wait_timestamps_are_rfc3339() {
    for good in [
        "2016-03-14T01:59:00Z",
        "2016-03-14T01:59:00.123Z",
        "2016-03-14T01:59:00+02:00",
        "2024-02-29T00:00:00Z",
    ] {
        assert_valid(single(
            json!({"Type": "Wait", "Timestamp": good, "End": true}),
        ));
    }
    for bad in [
        "2016-13-05T21:29:29Z",
        "05-12-2016T21:29:29Z",
        "2016-12-05T25:29:29Z",
        "2016-12-05T21:29:29",
        "2023-02-29T00:00:00Z",
    ] {
        assert_error(
            single(json!({"Type": "Wait", "Timestamp": bad, "End": true})),
            SCHEMA_VALIDATION_FAILED,
            "/States/S/Timestamp",
        );
    }
}

#[test]
fn task_numbers_are_in_range() {
    let task = |timeout: Value, heartbeat: Value| {
        single(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true,
            "TimeoutSeconds": timeout, "HeartbeatSeconds": heartbeat}),
        )
    };
    assert_valid(task(json!(10), json!(5)));
    assert_error(
        task(json!(0), json!(5)),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/TimeoutSeconds",
    );
    assert_error(
        task(json!("10"), json!(5)),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/TimeoutSeconds",
    );
    assert_error(
        task(json!(10), json!(10)),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/HeartbeatSeconds",
    );
}

#[test]
fn task_resources_must_be_arns() {
    let task = |resource: Value| single(json!({"Type": "Task", "Resource": resource, "End": true}));
    assert_valid(task(json!(
        "arn:aws:lambda:us-east-1:123456789012:function:f"
    )));
    assert_valid(task(json!("arn:aws:states:::aws-sdk:dynamodb:query")));
    assert_valid(task(json!("arn:aws:states:::dynamodb:putItem")));
    assert_valid(task(json!(
        "arn:aws:states:us-east-1:123456789012:activity:a"
    )));
    assert_valid(task(json!(
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
    )));
    assert_error(
        task(json!("arn:aws:states:::dynamodb:query")),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Resource",
    );
    assert_error(
        task(json!("${lambdaArn")),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Resource",
    );
    assert_error(
        task(json!({"Ref": "x"})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Resource",
    );
    assert_error(
        single(json!({"Type": "Task", "End": true})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
}

#[test]
fn express_machines_refuse_callbacks_sync_and_activities() {
    let task = |resource: &str| {
        single(json!({"Type": "Task", "Resource": resource, "End": true})).to_string()
    };
    for resource in [
        "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "arn:aws:states:::states:startExecution.sync",
        "arn:aws:states:::states:startExecution.sync:2",
        "arn:aws:states:us-east-1:123456789012:activity:a",
    ] {
        let diagnostics = validate(&task(resource), MachineType::Express);
        assert_eq!(diagnostics.len(), 1, "{resource}: {diagnostics:?}");
        assert_eq!(diagnostics[0].location, "/States/S/Resource");
        assert!(validate(&task(resource), MachineType::Standard).is_empty());
    }
    assert!(validate(
        &task("arn:aws:states:::lambda:invoke"),
        MachineType::Express
    )
    .is_empty());
}

#[test]
fn credentials_need_a_role() {
    let task = |credentials: Value| {
        single(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Credentials": credentials}),
        )
    };
    assert_valid(task(json!({"RoleArn": "arn:aws:iam::123456789012:role/r"})));
    assert_valid(task(json!({"RoleArn.$": "$.role"})));
    assert_error(
        task(json!({})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Credentials",
    );
    assert_error(
        task(Value::Null),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Credentials",
    );
}

fn task_with(field: &str, rules: Value) -> Value {
    json!({"StartAt": "S", "States": {
        "S": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, field: rules},
        "H": {"Type": "Fail"}
    }})
}

#[test]
fn retriers_have_valid_shapes_and_ranges() {
    let retry = |rule: Value| {
        single(
            json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true, "Retry": [rule]}),
        )
    };
    assert_valid(retry(
        json!({"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 0,
        "BackoffRate": 1.0, "MaxDelaySeconds": 5, "JitterStrategy": "FULL"}),
    ));
    assert_error(
        retry(json!({"ErrorEquals": ["E"], "BackoffRate": 0.5})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Retry/0/BackoffRate",
    );
    assert_error(
        retry(json!({"ErrorEquals": ["E"], "IntervalSeconds": 0})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Retry/0/IntervalSeconds",
    );
    assert_error(
        retry(json!({"ErrorEquals": ["E"], "MaxAttempts": -1})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Retry/0/MaxAttempts",
    );
    assert_error(
        retry(json!({"ErrorEquals": ["E"], "JitterStrategy": "PARTIAL"})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Retry/0/JitterStrategy",
    );
    assert_error(
        retry(json!({"ErrorEquals": []})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Retry/0/ErrorEquals",
    );
    assert_error(
        retry(json!({"ErrorEquals": [true]})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Retry/0/ErrorEquals",
    );
    assert_error(
        retry(json!({"Error Equals": ["E"]})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Retry/0",
    );
}

#[test]
fn states_all_must_be_alone_and_last() {
    let alone = json!([{"ErrorEquals": ["States.ALL", "E"], "Next": "H"}]);
    assert_error(
        task_with("Catch", alone),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Catch/0/ErrorEquals",
    );
    let not_last =
        json!([{"ErrorEquals": ["States.ALL"], "Next": "H"}, {"ErrorEquals": ["E"], "Next": "H"}]);
    assert_error(
        task_with("Catch", not_last),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Catch/0",
    );
    let ok = json!([{"ErrorEquals": ["E"], "Next": "H"}, {"ErrorEquals": ["States.ALL"], "Next": "H", "ResultPath": "$.err"}]);
    assert_valid(task_with("Catch", ok));
    assert_error(
        task_with("Catch", json!([{"ErrorEquals": ["E"]}])),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Catch/0",
    );
}

fn choice(rules: Value) -> Value {
    json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": rules, "Default": "D"}, "D": {"Type": "Succeed"}}})
}

#[test]
fn choice_rules_are_well_formed() {
    assert_valid(choice(json!([
        {"Variable": "$.s", "StringEquals": "x", "Next": "D"},
        {"Variable": "$.n", "NumericGreaterThanPath": "$.m", "Next": "D"},
        {"Variable": "$$.Execution.Id", "IsPresent": true, "Next": "D"},
        {"Variable": "$.t", "TimestampLessThan": "2020-01-01T00:00:00Z", "Next": "D"},
        {"And": [{"Variable": "$.a", "BooleanEquals": true}, {"Not": {"Variable": "$.b", "IsNull": true}}], "Next": "D", "Comment": "c"}
    ])));
    assert_error(
        choice(json!([])),
        SCHEMA_VALIDATION_FAILED,
        "/States/C/Choices",
    );
    assert_error(
        choice(json!([{"Variable": "$.s", "StringEquals": "x"}])),
        SCHEMA_VALIDATION_FAILED,
        "/States/C/Choices/0",
    );
    assert_error(
        choice(json!([{"Variable": "$.s", "StringEquals": 1, "Next": "D"}])),
        SCHEMA_VALIDATION_FAILED,
        "/States/C/Choices/0/StringEquals",
    );
    assert_error(
        choice(json!([{"Variable": "$.s", "NumericEquals": "1", "Next": "D"}])),
        SCHEMA_VALIDATION_FAILED,
        "/States/C/Choices/0/NumericEquals",
    );
    assert_error(
        choice(json!([{"Variable": "$.s", "StringEquals": "x", "NumericEquals": 1, "Next": "D"}])),
        SCHEMA_VALIDATION_FAILED,
        "/States/C/Choices/0",
    );
    assert_error(
        choice(json!([{"And": [], "Next": "D"}])),
        SCHEMA_VALIDATION_FAILED,
        "/States/C/Choices/0/And",
    );
    assert_error(
        choice(json!([{"Not": [], "Next": "D"}])),
        SCHEMA_VALIDATION_FAILED,
        "/States/C/Choices/0/Not",
    );
    let nested_next =
        json!([{"Or": [{"Variable": "$.a", "IsNull": true, "Next": "D"}], "Next": "D"}]);
    assert_error(
        choice(nested_next),
        SCHEMA_VALIDATION_FAILED,
        "/States/C/Choices/0/Or/0",
    );
}

#[test]
fn parallel_branches_are_nested_machines() {
    assert_error(
        single(json!({"Type": "Parallel", "End": true})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    assert_error(
        single(json!({"Type": "Parallel", "Branches": [], "End": true})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Branches",
    );
    let no_end = json!({"Type": "Parallel", "End": true, "Branches": [{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1}}}]});
    assert_error(
        single(no_end),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Branches/0/States/W",
    );
}

#[test]
fn map_fields() {
    let map = |extra: Value| {
        let mut state = json!({"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}}});
        if let (Value::Object(state), Value::Object(extra)) = (&mut state, extra) {
            state.extend(extra);
        }
        single(state)
    };
    assert_valid(map(
        json!({"ItemsPath": "$.items", "ItemSelector": {"v.$": "$$.Map.Item.Value"}, "MaxConcurrency": 0,
        "ToleratedFailurePercentage": 50, "Label": "ok-label"}),
    ));
    assert_error(
        map(json!({"MaxConcurrency": 1, "MaxConcurrencyPath": "$.m"})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    assert_error(
        map(json!({"ItemSelector": {}, "Parameters": {}})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    assert_error(
        map(json!({"ToleratedFailureCount": 1, "ToleratedFailureCountPath": "$.c"})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    assert_error(
        map(json!({"ToleratedFailurePercentage": 101})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/ToleratedFailurePercentage",
    );
    assert_error(
        map(json!({"Iterator": {"StartAt": "J", "States": {"J": pass_end()}}})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    assert_error(
        map(json!({"Label": ""})),
        INVALID_LABEL_NAME,
        "/States/S/Label",
    );
    assert_error(
        map(json!({"Label": "a:b"})),
        INVALID_LABEL_NAME,
        "/States/S/Label",
    );
    assert_error(
        map(json!({"Label": "x".repeat(41)})),
        INVALID_LABEL_NAME,
        "/States/S/Label",
    );
    assert_error(
        single(json!({"Type": "Map", "End": true})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S",
    );
    let bad_mode = json!({"Type": "Map", "End": true, "ItemProcessor": {"ProcessorConfig": {"Mode": "FAST"}, "StartAt": "I", "States": {"I": pass_end()}}});
    assert_error(
        single(bad_mode),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/ItemProcessor/ProcessorConfig/Mode",
    );
    let distributed = json!({"Type": "Map", "End": true, "Label": "L",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "CSV"}, "Parameters": {"Bucket": "b", "Key": "k"}},
        "ItemBatcher": {"MaxItemsPerBatch": 2}, "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "b", "Prefix": "p"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}, "StartAt": "I", "States": {"I": pass_end()}}});
    assert_valid(single(distributed));
    assert_error(
        map(json!({"ItemBatcher": {"MaxItemsPerBatch": 2, "MaxItemsPerBatchPath": "$.m"}})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/ItemBatcher",
    );
}

#[test]
fn path_fields_and_templates() {
    assert_valid(single(
        json!({"Type": "Pass", "End": true, "InputPath": null, "OutputPath": "$$.Execution", "ResultPath": null,
        "Parameters": {"a.$": "$.a", "b.$": "$$.Execution.Id", "c.$": "States.Format('{}', $.x)", "d": {"e.$": "$v.f"}, "g": [{"h.$": "$"}]}}),
    ));
    assert_error(
        single(json!({"Type": "Pass", "End": true, "InputPath": 3})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/InputPath",
    );
    assert_error(
        single(json!({"Type": "Pass", "End": true, "ResultPath": "$var"})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/ResultPath",
    );
    assert_error(
        single(json!({"Type": "Pass", "End": true, "ResultPath": "$$.x"})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/ResultPath",
    );
    for bad in [json!(23), json!("23"), json!([1]), json!({"a": 1})] {
        assert_error(
            single(json!({"Type": "Pass", "End": true, "Parameters": {"x": {"bad.$": bad}}})),
            SCHEMA_VALIDATION_FAILED,
            "/States/S/Parameters",
        );
    }
    assert_valid(single(
        json!({"Type": "Fail", "ErrorPath": "States.Format('E{}', $.n)", "CausePath": "$.cause"}),
    ));
    assert_error(
        single(json!({"Type": "Wait", "SecondsPath": "seconds", "End": true})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/SecondsPath",
    );
}

#[test]
fn unknown_intrinsics_are_refused() {
    assert_error(
        single(json!({"Type": "Pass", "End": true, "Parameters": {"x.$": "States.Xyz($.a)"}})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Parameters",
    );
}

#[test]
fn assign_names_and_values() {
    assert_valid(single(
        json!({"Type": "Pass", "End": true, "Assign": {"x": 1, "y.$": "$.y", "_z": {"w.$": "$$.State.Name"}}}),
    ));
    assert_error(
        single(json!({"Type": "Pass", "End": true, "Assign": {"a.b": 1}})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Assign",
    );
    assert_error(
        single(json!({"Type": "Pass", "End": true, "Assign": {"y.$": "nope"}})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Assign",
    );
    assert_error(
        single(json!({"Type": "Pass", "End": true, "Assign": [1]})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/Assign",
    );
}

#[test]
fn query_language_values() {
    assert_error(
        json!({"QueryLanguage": "XPath", "StartAt": "S", "States": {"S": pass_end()}}),
        SCHEMA_VALIDATION_FAILED,
        "/QueryLanguage",
    );
    let downgrade = json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {"S": {"Type": "Pass", "End": true, "QueryLanguage": "JSONPath"}}});
    assert_error(downgrade, SCHEMA_VALIDATION_FAILED, "/States/S");
    // A state that opts into JSONata may contain states that go back to JSONPath.
    let nested = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "QueryLanguage": "JSONata", "End": true,
        "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}}}}}});
    assert_eq!(check(&nested), vec![]);
}

#[test]
fn jsonata_definitions_are_valid() {
    let definition = json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {
        "S": {"Type": "Pass", "Output": "{% $states.input %}", "Assign": {"v": "{% 1 %}"}, "Next": "W"},
        "W": {"Type": "Wait", "Seconds": "{% $v %}", "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $doesNotExist = 1 %}", "Next": "D"}], "Default": "D"},
        "D": {"Type": "Succeed", "Output": {"list": ["{% $uuid() %}", "literal $.x"]}}
    }});
    assert_eq!(check(&definition), vec![]);
}

#[test]
fn jsonata_syntax_errors_are_reported_where_they_are() {
    let definition = single(json!({"Type": "Pass", "QueryLanguage": "JSONata",
        "Output": {"a": ["{% 1 + %}"]}, "End": true}));
    let diagnostics = check(&definition);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0].code, INVALID_JSONATA_EXPRESSION);
    assert_eq!(diagnostics[0].location, "/States/S/Output/a/0");
    assert_eq!(diagnostics[0].message, "Unexpected end of expression");
}

#[test]
fn jsonata_expressions_may_not_read_the_context_at_the_top_level() {
    let definition = single(json!({"Type": "Pass", "QueryLanguage": "JSONata",
        "Output": {"v": "{% phone & a.b & $states.input.ok[x > 1] & $ %}"}, "End": true}));
    let messages: Vec<String> = check(&definition)
        .into_iter()
        .map(|d| {
            assert_eq!(d.code, UNSUPPORTED_JSONATA_EXPRESSION);
            d.message
        })
        .collect();
    assert_eq!(
        messages,
        [
            "Reference to 'phone' at the top level is not supported.",
            "Reference to 'a' at the top level is not supported.",
            "Reference to '$' at the top level is not supported.",
        ]
    );
    let inside_a_function = single(json!({"Type": "Pass", "QueryLanguage": "JSONata",
        "Output": "{% $map($states.input, function($v) { $v.name }) %}", "End": true}));
    assert_eq!(check(&inside_a_function), vec![]);
}

#[test]
fn fields_of_the_other_language_are_named_with_both_languages() {
    let definition = json!({"QueryLanguage": "JSONata", "StartAt": "S", "States": {
        "S": {"Type": "Pass", "Parameters": {}, "End": true}
    }});
    let diagnostics = check(&definition);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0].message, "The QueryLanguage is set to 'JSONata', but field 'Parameters' is only supported for the 'JSONPath' QueryLanguage");
    let reverse = single(json!({"Type": "Pass", "Output": {}, "End": true}));
    assert_eq!(check(&reverse)[0].message, "The QueryLanguage is set to 'JSONPath', but field 'Output' is only supported for the 'JSONata' QueryLanguage");
}

#[test]
fn paths_and_intrinsics_past_the_limits_are_schema_errors() {
    // Issue 11, findings 1 and 2: these crashed the server when validated.
    let bangs = format!("$[?({}@.a)]", "!".repeat(4000));
    let diagnostics = check(&single(
        json!({"Type": "Pass", "InputPath": bangs, "End": true}),
    ));
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0].code, SCHEMA_VALIDATION_FAILED);
    assert_eq!(diagnostics[0].location, "/States/S/InputPath");
    assert!(
        diagnostics[0].message.starts_with(
            "The value for the field 'InputPath' must be a valid JSONPath: filters, parentheses and '!' nest deeper than the limit of 64 levels"
        ),
        "{}",
        diagnostics[0].message
    );

    let formats = format!(
        "{}'y'{}",
        "States.Format('x{}', ".repeat(3500),
        ")".repeat(3500)
    );
    let diagnostics = check(&single(
        json!({"Type": "Pass", "Parameters": {"v.$": formats}, "End": true}),
    ));
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0].code, SCHEMA_VALIDATION_FAILED);
    assert_eq!(diagnostics[0].location, "/States/S/Parameters");
    assert!(
        diagnostics[0].message.starts_with(
            "The value for the field 'v.$' must be a valid JSONPath or a valid intrinsic function call: intrinsic functions nest deeper than the limit of 10 levels"
        ),
        "{}",
        diagnostics[0].message
    );

    let long = format!("${}", ".a".repeat(100_000));
    assert_error(
        single(json!({"Type": "Pass", "ResultPath": long, "End": true})),
        SCHEMA_VALIDATION_FAILED,
        "/States/S/ResultPath",
    );
    // A plain syntax error keeps AWS's message as it is.
    let diagnostics = check(&single(
        json!({"Type": "Pass", "OutputPath": "$.a b", "End": true}),
    ));
    assert_eq!(
        diagnostics[0].message,
        "The value for the field 'OutputPath' must be a valid JSONPath"
    );
}

#[test]
fn diagnostics_come_out_in_the_same_order_every_time() {
    // Many states with missing targets: a hash map's order would differ between runs
    // (each map has its own random seed), so twenty runs would not agree.
    let states: serde_json::Map<String, Value> = (0..12)
        .map(|i| {
            (
                format!("S{i:02}"),
                json!({"Type": "Pass", "Next": format!("Missing{i:02}")}),
            )
        })
        .collect();
    let definition = json!({"StartAt": "S00", "States": states});
    let first: Vec<String> = check(&definition)
        .iter()
        .map(|d| format!("{} {}", d.code, d.location))
        .collect();
    let missing: Vec<&String> = first
        .iter()
        .filter(|l| l.starts_with(MISSING_TRANSITION_TARGET) && l.contains("Next"))
        .collect();
    assert_eq!(missing.len(), 12, "{first:?}");
    let mut sorted = missing.clone();
    sorted.sort();
    assert_eq!(missing, sorted, "by state name");
    for _ in 0..20 {
        let again: Vec<String> = check(&definition)
            .iter()
            .map(|d| format!("{} {}", d.code, d.location))
            .collect();
        assert_eq!(again, first);
    }
}

/// Choice rules nest through `Not`/`And`/`Or`, and the parser, the validator and the
/// evaluator recurse once per level: JSON's own nesting limit (128, what serde_json reads)
/// bounds them, with AWS's code for unreadable JSON beyond it.
#[test]
fn choice_rules_nest_at_most_as_deep_as_json_allows() {
    fn chain(levels: usize) -> String {
        let mut rule = r#"{"Variable": "$.a", "IsPresent": true}"#.to_string();
        for _ in 1..levels {
            rule = format!(r#"{{"Not": {rule}}}"#);
        }
        let rule = format!(r#"{{"Not": {rule}, "Next": "B"}}"#);
        format!(
            r#"{{"StartAt": "A", "States": {{"A": {{"Type": "Choice", "Choices": [{rule}], "Default": "B"}}, "B": {{"Type": "Succeed"}}}}}}"#
        )
    }
    let text = chain(100);
    assert_eq!(validate(&text, MachineType::Standard), []);
    let deep = chain(20_000);
    let diagnostics = validate(&deep, MachineType::Standard);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0].code, INVALID_JSON_DESCRIPTION);
    assert!(
        diagnostics[0].message.contains("recursion limit"),
        "{diagnostics:?}"
    );
}
