//! Distributed Maps through the SDKs: 100,000 JSON Lines items from an object run as
//! Express children with a ResultWriter; a CSV with a header row in batches; Map Runs as
//! DescribeMapRun, ListMapRuns, UpdateMapRun and ListExecutions show them; a failed run
//! redriven runs only its failed children; AWS's errors for misuse.

use super::s3::s3;
use super::*;
use aws_sdk_s3::primitives::ByteStream;

async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: Vec<u8>) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .unwrap();
}

async fn get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Value {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let bytes = out.body.collect().await.unwrap().into_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

fn map(reader: Value, extra: Value, processor: Value) -> String {
    let mut map = json!({"Type": "Map", "End": true, "Label": "Items", "ItemReader": reader,
        "ItemProcessor": processor});
    if let (Some(map), Some(extra)) = (map.as_object_mut(), extra.as_object()) {
        map.extend(extra.clone());
    }
    json!({"StartAt": "Each", "States": {"Each": map}}).to_string()
}

fn express(states: Value) -> Value {
    json!({"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
        "StartAt": "Work", "States": states})
}

#[test]
fn sdk_distributed_map_over_100000_json_lines_with_a_result_writer() {
    let dir = TempDir::new("sdk-map-runs");
    let server = Server::start(&dir.0.join("data"), &[]);
    runtime().block_on(async {
        let c = client(&server);
        let s3 = s3(&server);
        for bucket in ["inputs", "results"] {
            s3.create_bucket().bucket(bucket).send().await.unwrap();
        }
        let lines: String = (0..100_000).map(|n| format!("{{\"n\":{n}}}\n")).collect();
        put(&s3, "inputs", "items.jsonl", lines.into_bytes()).await;
        let definition = map(
            json!({"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSONL"},
                "Parameters": {"Bucket.$": "$.bucket", "Key": "items.jsonl"}}),
            json!({"ItemSelector": {"n.$": "$$.Map.Item.Value.n", "at.$": "$$.Map.Item.Index"},
                "MaxConcurrency": 500,
                "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                    "Parameters": {"Bucket": "results", "Prefix": "runs"}}}),
            express(json!({"Work": {"Type": "Pass", "Parameters": {"double.$": "States.MathAdd($.n, $.n)"}, "End": true}})),
        );
        let machine = create(&c, "lines", &definition, StateMachineType::Standard).await;
        let run = c
            .start_execution()
            .state_machine_arn(&machine)
            .input(json!({"bucket": "inputs"}).to_string())
            .send()
            .await
            .unwrap()
            .execution_arn;
        let done = wait_done_within(&c, &run, 300).await;
        assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{done:?}");
        let output = json_of(done.output());
        let map_run_arn = output["MapRunArn"].as_str().unwrap().to_string();
        assert!(map_run_arn.contains(":mapRun:lines/Items:"), "{map_run_arn}");
        let id = map_run_arn.rsplit(':').next().unwrap();
        assert_eq!(
            output["ResultWriterDetails"],
            json!({"Bucket": "results", "Key": format!("runs/{id}/manifest.json")})
        );
        let manifest = get(&s3, "results", &format!("runs/{id}/manifest.json")).await;
        assert_eq!(manifest["MapRunArn"], json!(map_run_arn));
        assert_eq!(manifest["ResultFiles"]["FAILED"], json!([]));
        let succeeded = &manifest["ResultFiles"]["SUCCEEDED"][0];
        assert_eq!(succeeded["Key"], json!(format!("runs/{id}/SUCCEEDED_0.json")));
        let records = get(&s3, "results", succeeded["Key"].as_str().unwrap()).await;
        let records = records.as_array().unwrap();
        assert_eq!(records.len(), 100_000);
        let last: Value = serde_json::from_str(records[99_999]["Output"].as_str().unwrap()).unwrap();
        assert_eq!(last, json!({"double": 199_998}));
        assert_eq!(records[0]["Status"], "SUCCEEDED");
        assert!(records[0]["ExecutionArn"].as_str().unwrap().contains(":express:lines/Items:"));

        let described = c.describe_map_run().map_run_arn(&map_run_arn).send().await.unwrap();
        assert_eq!(described.status().as_str(), "SUCCEEDED");
        assert_eq!(described.execution_arn(), run);
        assert_eq!(described.max_concurrency(), 500);
        let items = described.item_counts().unwrap();
        assert_eq!((items.total(), items.succeeded(), items.failed(), items.running()), (100_000, 100_000, 0, 0));
        assert!(described.stop_date().is_some());
        let runs = c.list_map_runs().execution_arn(&run).send().await.unwrap();
        assert_eq!(runs.map_runs().len(), 1);
        assert_eq!(runs.map_runs()[0].map_run_arn(), map_run_arn);
        assert!(runs.map_runs()[0].state_machine_arn().ends_with(":stateMachine:lines/Items"));
        let children = c.list_executions().map_run_arn(&map_run_arn).max_results(10).send().await.unwrap();
        assert_eq!(children.executions().len(), 10);
        assert_eq!(children.executions()[0].item_count(), Some(1));
        assert_eq!(children.executions()[0].map_run_arn(), Some(map_run_arn.as_str()));
        assert!(children.next_token().is_some());
        let history = c.get_execution_history().execution_arn(&run).send().await.unwrap();
        let kinds: Vec<HistoryEventType> = history.events.iter().map(|e| e.r#type().clone()).collect();
        assert_eq!(
            kinds[2..6],
            [HistoryEventType::MapStateStarted, HistoryEventType::MapRunStarted, HistoryEventType::MapRunSucceeded, HistoryEventType::MapStateSucceeded]
        );
        let started = history.events[3].map_run_started_event_details().unwrap();
        assert_eq!(started.map_run_arn(), Some(map_run_arn.as_str()));

        // Misuse, in AWS's words.
        let missing = map_run_arn.replace(id, "00000000-0000-4000-8000-000000000000");
        fails_with!(c.describe_map_run().map_run_arn(&missing), is_resource_not_found);
        fails_with!(c.describe_map_run().map_run_arn("garbage"), is_invalid_arn);
        let e = c.update_map_run().map_run_arn(&map_run_arn).max_concurrency(-1).send().await.unwrap_err();
        assert_eq!(code(&e), "ValidationException");
        let e = c.update_map_run().map_run_arn(&map_run_arn).max_concurrency(5).send().await.unwrap_err();
        assert_eq!(code(&e), "ValidationException", "{e:?}");
        let e = c.list_executions().send().await.unwrap_err();
        assert_eq!(code(&e), "ValidationException");
    });
}

#[test]
fn sdk_distributed_map_over_a_csv_with_a_header_row_in_batches() {
    let dir = TempDir::new("sdk-map-csv");
    let server = Server::start(&dir.0.join("data"), &[]);
    runtime().block_on(async {
        let c = client(&server);
        let s3 = s3(&server);
        s3.create_bucket().bucket("inputs").send().await.unwrap();
        put(&s3, "inputs", "people.csv", b"name,age\nada,36\n\"lovelace, jr\",7\nbob,\n".to_vec()).await;
        let definition = map(
            json!({"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                "Parameters": {"Bucket": "inputs", "Key": "people.csv"}}),
            json!({"ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"source": "people"}}}),
            express(json!({"Work": {"Type": "Pass", "End": true}})),
        );
        let machine = create(&c, "people", &definition, StateMachineType::Standard).await;
        let run = c.start_execution().state_machine_arn(&machine).send().await.unwrap().execution_arn;
        let done = wait_done_within(&c, &run, 30).await;
        assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{done:?}");
        assert_eq!(
            json_of(done.output()),
            json!([
                {"BatchInput": {"source": "people"}, "Items": [{"name": "ada", "age": "36"}, {"name": "lovelace, jr", "age": "7"}]},
                {"BatchInput": {"source": "people"}, "Items": [{"name": "bob", "age": ""}]}
            ])
        );
        let runs = c.list_map_runs().execution_arn(&run).send().await.unwrap();
        let described = c.describe_map_run().map_run_arn(runs.map_runs()[0].map_run_arn()).send().await.unwrap();
        assert_eq!(described.item_counts().unwrap().total(), 3);
        assert_eq!(described.execution_counts().unwrap().total(), 2);

        // A missing object fails the run with States.ItemReaderFailed.
        let missing = map(
            json!({"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "CSV"},
                "Parameters": {"Bucket": "inputs", "Key": "nobody.csv"}}),
            json!({}),
            express(json!({"Work": {"Type": "Pass", "End": true}})),
        );
        let machine = create(&c, "missing", &missing, StateMachineType::Standard).await;
        let run = c.start_execution().state_machine_arn(&machine).send().await.unwrap().execution_arn;
        let failed = wait_done_within(&c, &run, 30).await;
        assert_eq!(failed.error(), Some("States.ItemReaderFailed"), "{failed:?}");
    });
}

#[test]
fn sdk_a_failed_distributed_map_redriven_runs_only_its_failed_children() {
    let dir = TempDir::new("sdk-map-redrive");
    let server = Server::start(&dir.0.join("data"), &[]);
    runtime().block_on(async {
        let c = client(&server);
        let s3 = s3(&server);
        s3.create_bucket().bucket("inputs").send().await.unwrap();
        let items = |bad: bool| json!([{"n": 0}, {"n": 1, "bad": bad}, {"n": 2}, {"n": 3}]).to_string().into_bytes();
        put(&s3, "inputs", "items.json", items(true)).await;
        let definition = map(
            json!({"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSON"},
                "Parameters": {"Bucket": "inputs", "Key": "items.json"}}),
            json!({"MaxConcurrency": 1}),
            express(json!({
                "Work": {"Type": "Choice", "Choices": [{"And": [
                    {"Variable": "$.bad", "IsPresent": true},
                    {"Variable": "$.bad", "BooleanEquals": true}], "Next": "Bad"}], "Default": "Good"},
                "Bad": {"Type": "Fail", "Error": "BadItem"},
                "Good": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "End": true}})),
        );
        let machine = create(&c, "fragile", &definition, StateMachineType::Standard).await;
        let run = c.start_execution().state_machine_arn(&machine).send().await.unwrap().execution_arn;
        let failed = wait_done_within(&c, &run, 30).await;
        assert_eq!(failed.error(), Some("States.ExceedToleratedFailureThreshold"), "{failed:?}");
        let map_run = c.list_map_runs().execution_arn(&run).send().await.unwrap().map_runs()[0].map_run_arn().to_string();
        let before = c.describe_map_run().map_run_arn(&map_run).send().await.unwrap();
        assert_eq!(before.status().as_str(), "FAILED");
        let counts = before.item_counts().unwrap();
        assert_eq!((counts.succeeded(), counts.failed()), (1, 1));
        let first: Vec<(String, DateTime)> = c.list_executions().map_run_arn(&map_run).send().await.unwrap()
            .executions().iter().map(|e| (e.name().to_string(), *e.start_date())).collect();

        let pending = c
            .list_executions()
            .map_run_arn(&map_run)
            .status_filter(ExecutionStatus::PendingRedrive)
            .send()
            .await
            .unwrap();
        assert_eq!(pending.executions().len(), 1, "{pending:?}");
        assert_eq!(pending.executions()[0].name(), first[1].0);
        let e = c
            .list_executions()
            .state_machine_arn(&machine)
            .status_filter(ExecutionStatus::PendingRedrive)
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "ValidationException");

        // The item is fixed; the redrive runs the failed child and the two never started.
        put(&s3, "inputs", "items.json", items(false)).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        c.redrive_execution().execution_arn(&run).send().await.unwrap();
        let done = wait_done_within(&c, &run, 30).await;
        assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{done:?}");
        assert_eq!(json_of(done.output()), json!([{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}]));
        let after = c.describe_map_run().map_run_arn(&map_run).send().await.unwrap();
        assert_eq!(after.redrive_count(), Some(1));
        assert_eq!(after.item_counts().unwrap().succeeded(), 4);
        let children = c.list_executions().map_run_arn(&map_run).send().await.unwrap();
        let again: Vec<(String, DateTime)> = children.executions().iter().map(|e| (e.name().to_string(), *e.start_date())).collect();
        assert_eq!(again.len(), 4);
        assert_eq!(again[0], first[0], "the child that succeeded did not run again");
        assert_eq!(again[1].0, first[1].0);
        assert!(again[1].1.as_secs_f64() > first[1].1.as_secs_f64(), "the failed child ran again");
        let history = c.get_execution_history().execution_arn(&run).max_results(1000).send().await.unwrap();
        let redriven = history.events.iter().find_map(|e| e.map_run_redriven_event_details()).expect("MapRunRedriven");
        assert_eq!((redriven.map_run_arn(), redriven.redrive_count()), (Some(map_run.as_str()), Some(1)));
    });
}

#[test]
fn sdk_update_map_run_changes_a_running_runs_concurrency() {
    let dir = TempDir::new("sdk-map-update");
    let server = Server::start(&dir.0.join("data"), &[]);
    runtime().block_on(async {
        let c = client(&server);
        let activity = c
            .create_activity()
            .name("item-work")
            .send()
            .await
            .unwrap()
            .activity_arn;
        let definition = json!({"StartAt": "Each", "States": {"Each": {
            "Type": "Map", "End": true, "MaxConcurrency": 1,
            "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                "StartAt": "Work", "States": {"Work": {"Type": "Task", "Resource": activity, "End": true}}}}}});
        let machine = create(&c, "workers", &definition.to_string(), StateMachineType::Standard).await;
        let run = c
            .start_execution()
            .state_machine_arn(&machine)
            .input("[1, 2, 3]")
            .send()
            .await
            .unwrap()
            .execution_arn;
        let map_run = loop {
            let runs = c.list_map_runs().execution_arn(&run).send().await.unwrap();
            if let Some(r) = runs.map_runs().first() {
                break r.map_run_arn().to_string();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let running = |c: Client, map_run: String| async move {
            c.list_executions()
                .map_run_arn(map_run)
                .status_filter(ExecutionStatus::Running)
                .send()
                .await
                .unwrap()
                .executions()
                .len()
        };
        let began = Instant::now();
        while running(c.clone(), map_run.clone()).await < 1 {
            assert!(began.elapsed() < Duration::from_secs(10));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        c.update_map_run()
            .map_run_arn(&map_run)
            .max_concurrency(3)
            .tolerated_failure_count(1)
            .send()
            .await
            .unwrap();
        let began = Instant::now();
        while running(c.clone(), map_run.clone()).await < 3 {
            assert!(began.elapsed() < Duration::from_secs(10), "the update let no more children run");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Three children wait for the activity at once; one fails, within the tolerance.
        for n in 0..3 {
            let task = loop {
                let task = c.get_activity_task().activity_arn(&activity).send().await.unwrap();
                if task.task_token().is_some() {
                    break task;
                }
            };
            let token = task.task_token().unwrap();
            if n == 0 {
                c.send_task_failure().task_token(token).error("Flaky").send().await.unwrap();
            } else {
                c.send_task_success().task_token(token).output(task.input().unwrap()).send().await.unwrap();
            }
        }
        let done = wait_done_within(&c, &run, 20).await;
        assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{done:?}");
        let described = c.describe_map_run().map_run_arn(&map_run).send().await.unwrap();
        assert_eq!((described.max_concurrency(), described.tolerated_failure_count()), (3, 1));
        let items = described.item_counts().unwrap();
        assert_eq!((items.succeeded(), items.failed()), (2, 1));
        let output = json_of(done.output());
        assert_eq!(output.as_array().map(Vec::len), Some(3), "{output}");
    });
}
