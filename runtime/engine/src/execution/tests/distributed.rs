//! DISTRIBUTED Maps: the engine hands the runtime one Map Run task with everything the
//! run needs, and takes its end as the Map's result or failure.

use super::*;
use crate::execution::MAP_RUN_RESOURCE;

fn distributed(extra: Value) -> Definition {
    let mut map = json!({"Type": "Map", "End": true, "Label": "Files",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}});
    if let (Some(map), Some(extra)) = (map.as_object_mut(), extra.as_object()) {
        map.extend(extra.clone());
    }
    def(json!({"StartAt": "M", "States": {"M": map}}))
}

fn map_run(commands: &[Command]) -> TaskRequest {
    tasks(commands)
        .into_iter()
        .find(|t| t.resource == MAP_RUN_RESOURCE)
        .expect("a Map Run task")
        .clone()
}

#[test]
fn a_distributed_map_over_its_input_hands_the_runtime_one_map_run() {
    let d = distributed(
        json!({"ItemSelector": {"n.$": "$$.Map.Item.Value", "k.$": "$.k"},
        "ItemsPath": "$.items", "MaxConcurrency": 3, "ToleratedFailureCount": 1}),
    );
    let mut st = ExecutionState::new();
    let out = step(
        &d,
        &mut st,
        &start_event(1000, json!({"items": [1, 2], "k": "x"})),
    )
    .unwrap();
    assert_eq!(
        kinds(&out),
        [
            "ExecutionStarted",
            "MapStateEntered",
            "MapStateStarted",
            "MapRunStarted"
        ]
    );
    let run = map_run(&out);
    let spec = &run.input;
    assert_eq!(
        spec["items"],
        json!([{"n": 1, "k": "x"}, {"n": 2, "k": "x"}])
    );
    assert_eq!(spec["executionType"], "EXPRESS");
    assert_eq!(spec["maxConcurrency"], 3);
    assert_eq!(spec["toleratedFailureCount"], 1);
    assert_eq!(spec["stateMachineName"], "m/Files");
    assert_eq!(spec["definition"]["StartAt"], "P");
    assert!(spec["definition"].get("ProcessorConfig").is_none());
    let arn = spec["mapRunArn"].as_str().unwrap();
    assert!(
        arn.starts_with("arn:aws:states:us-east-1:000000000000:mapRun:m/Files:"),
        "{arn}"
    );
    let out = step(
        &d,
        &mut st,
        &event(
            2000,
            EventKind::TaskSucceeded {
                task: run.id,
                output: json!([1, 2]),
                usage: None,
            },
        ),
    )
    .unwrap();
    assert_eq!(
        kinds(&out),
        [
            "MapRunSucceeded",
            "MapStateSucceeded",
            "MapStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(
        finished(&out),
        Some(&Outcome::Succeeded(Arc::new(json!([1, 2]))))
    );
}

#[test]
fn a_reader_ignores_items_path_and_carries_its_selector_and_a_failed_run_is_redriven() {
    let d = distributed(json!({"ItemsPath": "$.nothing.here",
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItemsPath": "$.max"},
            "Parameters": {"Bucket.$": "$.bucket", "Key": "rows.csv"}},
        "ItemSelector": {"row.$": "$$.Map.Item.Value", "bucket.$": "$.bucket"},
        "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"b.$": "$.bucket"}},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "out", "Prefix": "runs"}}}));
    let mut st = ExecutionState::new();
    let out = step(
        &d,
        &mut st,
        &start_event(1000, json!({"bucket": "in", "max": 5})),
    )
    .unwrap();
    let run = map_run(&out);
    let spec = &run.input;
    assert!(spec.get("items").is_none());
    assert_eq!(
        spec["reader"]["parameters"],
        json!({"Bucket": "in", "Key": "rows.csv"})
    );
    assert_eq!(spec["reader"]["maxItems"], 5);
    assert_eq!(spec["reader"]["config"]["InputType"], "CSV");
    assert_eq!(
        spec["batcher"],
        json!({"maxItems": 2, "maxBytes": null, "batchInput": {"b": "in"}})
    );
    assert_eq!(
        spec["writer"]["parameters"],
        json!({"Bucket": "out", "Prefix": "runs"})
    );
    let selector = crate::selector::Selector::from_spec(&spec["selector"]).unwrap();
    assert_eq!(
        selector.select(4, &json!({"a": "1"})).unwrap(),
        json!({"row": {"a": "1"}, "bucket": "in"})
    );
    let arn = spec["mapRunArn"].clone();
    let out = step(
        &d,
        &mut st,
        &event(
            2000,
            EventKind::TaskFailed {
                task: run.id,
                error: "States.ExceedToleratedFailureThreshold".into(),
                cause: "The specified tolerated failure threshold was exceeded".into(),
                usage: None,
            },
        ),
    )
    .unwrap();
    assert_eq!(
        kinds(&out),
        ["MapRunFailed", "MapStateFailed", "ExecutionFailed"]
    );
    // A redrive asks for the same Map Run again.
    let out = step(
        &d,
        &mut st,
        &event(3000, EventKind::Redriven { client_token: None }),
    )
    .unwrap();
    assert_eq!(
        kinds(&out),
        [
            "ExecutionRedriven",
            "MapStateEntered",
            "MapStateStarted",
            "MapRunRedriven"
        ]
    );
    let again = map_run(&out);
    assert_eq!(again.input, json!({"mapRunArn": arn, "redrive": true}));
}

#[test]
fn a_jsonata_reader_and_selector_are_resolved_and_carried_too() {
    let d = def(
        json!({"QueryLanguage": "JSONata", "StartAt": "M", "States": {"M": {
        "Type": "Map", "End": true,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON", "MaxItems": "{% $states.input.max %}"},
            "Arguments": {"Bucket": "{% $states.input.bucket %}", "Key": "items.json"}},
        "ItemSelector": {"v": "{% $states.context.Map.Item.Value %}", "i": "{% $states.context.Map.Item.Index %}"},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}}}}),
    );
    let mut st = ExecutionState::new();
    let out = step(
        &d,
        &mut st,
        &start_event(1000, json!({"bucket": "in", "max": 2})),
    )
    .unwrap();
    let spec = map_run(&out).input;
    assert_eq!(
        spec["reader"]["parameters"],
        json!({"Bucket": "in", "Key": "items.json"})
    );
    assert_eq!(spec["reader"]["maxItems"], 2);
    assert_eq!(spec["executionType"], "STANDARD");
    // The children inherit the machine's query language.
    assert_eq!(spec["definition"]["QueryLanguage"], "JSONata");
    let selector = crate::selector::Selector::from_spec(&spec["selector"]).unwrap();
    assert_eq!(
        selector.select(3, &json!("x")).unwrap(),
        json!({"v": "x", "i": 3})
    );
}
