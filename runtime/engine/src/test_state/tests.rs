//! The recorded AWS answers of TestState (LocalStack's AWS-validated snapshots), on the
//! engine alone.

use super::*;
use crate::limits::Limits;

fn start(input: Value) -> Start {
    Start {
        input,
        execution_arn: "arn:aws:states:us-east-1:000000000000:express:test:run".into(),
        name: "run".into(),
        role_arn: "arn:aws:iam::000000000000:role/r".into(),
        state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:test".into(),
        state_machine_name: "test".into(),
        redrive_count: 0,
        timeout_seconds: None,
        limits: Limits::default(),
        token_key: None,
        state_machine_version_arn: None,
        state_machine_alias_arn: None,
    }
}

/// Tests `state` (or `name` in it) on `input`, tasks answered by `task`.
fn test(
    definition: Value,
    name: Option<&str>,
    input: Value,
    retries_before: u32,
    task: Option<TaskResult>,
) -> Verdict {
    let mocked = task.is_some();
    let isolated = isolate(&definition, name, mocked, None).unwrap();
    let def = Definition::parse(&isolated.machine.to_string()).unwrap();
    match run(&isolated, &def, start(input), 0, retries_before, |_| {
        task.clone()
    })
    .unwrap()
    {
        Run::Done(v) => v,
        Run::NeedsTask(t) => panic!("wants {t:?}"),
    }
}

fn text(v: &Value) -> Value {
    Value::String(v.to_string())
}

#[test]
fn a_pass_state_shows_every_stage() {
    let input = json!({"initialData": {"fieldFromInput": "value from input", "otherField": "other"},
        "unrelatedData": {"someOtherField": 1234}});
    let v = test(
        json!({"Type": "Pass", "InputPath": "$.initialData",
            "Parameters": {"staticValue": "some value", "inputValue.$": "$.fieldFromInput"},
            "ResultPath": "$.modifiedData", "End": true}),
        None,
        input.clone(),
        0,
        None,
    );
    let modified = json!({"staticValue": "some value", "inputValue": "value from input"});
    let mut output = input.clone();
    output["modifiedData"] = modified.clone();
    assert_eq!(v.status, Status::Succeeded);
    assert_eq!(v.output, Some(output.clone()));
    assert_eq!(v.next_state, None);
    let expected: Map<String, Value> = [
        ("input", text(&input)),
        ("afterInputPath", text(&input["initialData"])),
        ("afterParameters", text(&modified)),
        ("afterResultSelector", text(&modified)),
        ("afterResultPath", text(&output)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(v.inspection, expected);
}

#[test]
fn a_choice_names_the_branch_it_takes_and_a_fail_state_fails() {
    let choice = json!({"Type": "Choice", "Choices": [
        {"Variable": "$.value", "NumericGreaterThanEquals": 30, "Next": "ValueInThirties"},
        {"Variable": "$.value", "NumericGreaterThanEquals": 20, "Next": "ValueInTwenties"}],
        "Default": "DefaultState"});
    let v = test(
        choice,
        None,
        json!({"type": "Private", "value": 22}),
        0,
        None,
    );
    assert_eq!(
        (v.status, v.next_state.as_deref()),
        (Status::Succeeded, Some("ValueInTwenties"))
    );
    assert_eq!(v.output, Some(json!({"type": "Private", "value": 22})));

    let fail = json!({"Type": "Fail", "Error": "SomeFailure",
        "Cause": "This state machines raises a 'SomeFailure' failure."});
    let v = test(fail, None, json!({}), 0, None);
    assert_eq!(v.status, Status::Failed);
    assert_eq!(v.error.as_deref(), Some("SomeFailure"));
    assert_eq!(
        v.cause.as_deref(),
        Some("This state machines raises a 'SomeFailure' failure.")
    );
    assert_eq!((v.output, v.next_state), (None, None));
}

#[test]
fn a_retrier_with_attempts_left_makes_it_retriable_and_then_it_fails() {
    let task = json!({"Type": "Task", "QueryLanguage": "JSONata",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": {"FunctionName": "foo", "Payload": "bar"},
        "Retry": [{"ErrorEquals": ["MockException"], "IntervalSeconds": 1, "MaxAttempts": 5, "BackoffRate": 2.0}],
        "End": true});
    let mock = Some(Err((
        "MockException".to_string(),
        "Mock the cause of the error.".to_string(),
    )));
    let v = test(
        task.clone(),
        None,
        json!({"Value": "HelloWorld"}),
        4,
        mock.clone(),
    );
    assert_eq!(v.status, Status::Retriable);
    assert_eq!(v.error.as_deref(), Some("MockException"));
    assert_eq!(
        v.inspection.get("errorDetails"),
        Some(&json!({"retryIndex": 0, "retryBackoffIntervalSeconds": 16}))
    );
    assert_eq!(
        v.inspection.get("afterArguments"),
        Some(&text(&json!({"FunctionName": "foo", "Payload": "bar"})))
    );
    assert_eq!(v.output, None);
    let v = test(task, None, json!({"Value": "HelloWorld"}), 5, mock);
    assert_eq!(v.status, Status::Failed);
    assert_eq!(
        v.inspection.get("errorDetails"),
        Some(&json!({"retryIndex": 0}))
    );
}

#[test]
fn a_catcher_catches_and_names_the_next_state() {
    let task = json!({"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": "foo"},
        "Catch": [{"ErrorEquals": ["Other"], "Next": "Elsewhere"},
                  {"ErrorEquals": ["MockException"], "ResultPath": "$.error", "Next": "HandleMockError"}],
        "End": true});
    let mock = Some(Err(("MockException".to_string(), "why".to_string())));
    let v = test(task, None, json!({"a": 1}), 0, mock);
    assert_eq!(v.status, Status::CaughtError);
    assert_eq!(v.next_state.as_deref(), Some("HandleMockError"));
    assert_eq!(
        v.output,
        Some(json!({"a": 1, "error": {"Error": "MockException", "Cause": "why"}}))
    );
    assert_eq!(
        v.inspection.get("errorDetails"),
        Some(&json!({"catchIndex": 1}))
    );
}

#[test]
fn a_mocked_parallel_takes_the_mock_as_its_branches_outputs() {
    let parallel = json!({"Type": "Parallel", "InputPath": "$.parallelInput",
        "ResultPath": "$.parallelResult", "OutputPath": "$", "End": true,
        "Branches": [
            {"StartAt": "B1", "States": {"B1": {"Type": "Pass", "End": true}}},
            {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "End": true}}}]});
    let mock = json!([{"branch1": "result"}, {"branch2": "result"}]);
    let v = test(
        parallel,
        None,
        json!({"parallelInput": {"data": "input_value"}}),
        0,
        Some(Ok(mock.clone())),
    );
    assert_eq!(v.status, Status::Succeeded);
    assert_eq!(
        v.output,
        Some(json!({"parallelInput": {"data": "input_value"}, "parallelResult": mock}))
    );
    assert!(
        !v.inspection.contains_key("afterInputPath"),
        "{:?}",
        v.inspection
    );
}

#[test]
fn a_state_inside_a_machine_is_found_by_name_with_its_language() {
    let machine = json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {
        "M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "HandleItem", "States": {
            "HandleItem": {"Type": "Pass", "Output": "{% $states.input.n * 2 %}", "Next": "Done"},
            "Done": {"Type": "Succeed"}}}}}});
    let v = test(
        machine.clone(),
        Some("HandleItem"),
        json!({"n": 21}),
        0,
        None,
    );
    assert_eq!(v.status, Status::Succeeded);
    assert_eq!(v.output, Some(json!(42)));
    assert_eq!(v.next_state.as_deref(), Some("Done"));
    assert_eq!(
        isolate(&machine, Some("Nope"), false, None),
        Err(IsolateError::StateNotFound)
    );
}

#[test]
fn variables_are_there_before_the_state_and_a_wait_takes_no_time() {
    let vars: Map<String, Value> = [("greeting".to_string(), json!("hi"))]
        .into_iter()
        .collect();
    let state = json!({"Type": "Pass", "QueryLanguage": "JSONata",
        "Output": "{% $greeting & ' ' & $states.input.who %}",
        "Assign": {"seen": true}, "Next": "After"});
    let isolated = isolate(&state, None, false, Some(&vars)).unwrap();
    let def = Definition::parse(&isolated.machine.to_string()).unwrap();
    let Run::Done(v) = run(&isolated, &def, start(json!({"who": "you"})), 0, 0, |_| {
        None
    })
    .unwrap() else {
        panic!("no task here")
    };
    assert_eq!(v.output, Some(json!("hi you")));
    assert_eq!(v.next_state.as_deref(), Some("After"));
    assert_eq!(
        v.inspection.get("variables"),
        Some(&text(&json!({"seen": true})))
    );

    let wait = json!({"Type": "Wait", "Seconds": 86400, "Next": "Later"});
    let v = test(wait, None, json!({"x": 1}), 0, None);
    assert_eq!(
        (v.status, v.next_state.as_deref(), v.output),
        (Status::Succeeded, Some("Later"), Some(json!({"x": 1})))
    );
}

#[test]
fn an_unmocked_task_asks_for_its_result_first() {
    let task = json!({"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f",
        "Parameters": {"n.$": "$.n"}, "Next": "After"});
    let isolated = isolate(&task, None, false, None).unwrap();
    let def = Definition::parse(&isolated.machine.to_string()).unwrap();
    let asked = run(&isolated, &def, start(json!({"n": 1})), 0, 0, |_| None).unwrap();
    let Run::NeedsTask(request) = asked else {
        panic!("{asked:?}")
    };
    assert_eq!(request.input, json!({"n": 1}));
    let answered = run(&isolated, &def, start(json!({"n": 1})), 0, 0, |_| {
        Some(Ok(json!({"done": true})))
    })
    .unwrap();
    let Run::Done(v) = answered else {
        panic!("{answered:?}")
    };
    assert_eq!(v.output, Some(json!({"done": true})));
    assert_eq!(
        v.inspection.get("result"),
        Some(&text(&json!({"done": true})))
    );
}
