//! Nested executions through the SDK: `states:startExecution` fire-and-forget, `.sync`,
//! `.sync:2` (with an Express child) and `.waitForTaskToken`; a child's failure caught
//! in the parent; a stop that reaches the child; a parent waiting across `kill -9`.

use super::*;

const START: &str = "arn:aws:states:::states:startExecution";

/// A child that waits `seconds` and answers `{"got": <its input>}`.
fn child(seconds: u32) -> String {
    json!({"StartAt": "Nap", "States": {
        "Nap": {"Type": "Wait", "Seconds": seconds, "Next": "Answer"},
        "Answer": {"Type": "Pass", "Parameters": {"got.$": "$"}, "End": true}}})
    .to_string()
}

fn task(resource: &str, machine: &str, input: Value, result_path: &str) -> Value {
    json!({"Type": "Task", "Resource": resource,
        "Parameters": {"StateMachineArn": machine, "Input": input},
        "ResultPath": result_path})
}

async fn start(c: &Client, machine: &str) -> String {
    c.start_execution()
        .state_machine_arn(machine)
        .input("{}")
        .send()
        .await
        .unwrap()
        .execution_arn
}

async fn describe(
    c: &Client,
    arn: &str,
) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    c.describe_execution()
        .execution_arn(arn)
        .send()
        .await
        .unwrap()
}

#[test]
fn sdk_nested_executions_in_every_mode() {
    let dir = TempDir::new("sdk-nested");
    let s = Server::start(&dir.0, &[]);
    runtime().block_on(async {
        let c = client(&s);
        let kid = create(&c, "kid", &child(1), StateMachineType::Standard).await;
        let quick = create(&c, "quick", &child(0), StateMachineType::Express).await;
        let mut start_it = task(START, &kid, json!({"n": 0}), "$.started");
        start_it["Next"] = json!("Sync");
        let mut sync = task(
            &format!("{START}.sync"),
            &kid,
            json!({"n": 1, "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"}),
            "$.sync",
        );
        sync["Next"] = json!("Sync2");
        let mut sync2 = task(&format!("{START}.sync:2"), &quick, json!({"n": 2}), "$.sync2");
        sync2["End"] = json!(true);
        let parent = create(
            &c,
            "parent",
            &json!({"StartAt": "Start", "States": {"Start": start_it, "Sync": sync, "Sync2": sync2}})
                .to_string(),
            StateMachineType::Standard,
        )
        .await;
        let run = start(&c, &parent).await;
        let done = wait_done(&c, &run).await;
        assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{done:?}");
        let out = json_of(done.output());

        // Fire-and-forget: the child's ARN at once; the child runs on.
        let started = out["started"]["ExecutionArn"].as_str().unwrap();
        assert!(started.contains(":execution:kid:"), "{started}");
        assert!(out["started"]["StartDate"].is_number());
        // .sync: the child's description, input and output as JSON text.
        assert_eq!(out["sync"]["Status"], "SUCCEEDED");
        assert_eq!(out["sync"]["StateMachineArn"], kid);
        let output: Value = serde_json::from_str(out["sync"]["Output"].as_str().unwrap()).unwrap();
        assert_eq!(output["got"]["n"], 1);
        assert_eq!(output["got"]["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID"], json!(run));
        // .sync:2 on an Express child: input and output as JSON.
        assert_eq!(out["sync2"]["Output"], json!({"got": {"n": 2}}));
        assert_eq!(out["sync2"]["Input"], json!({"n": 2}));

        // The child knows its parent.
        let child_arn = out["sync"]["ExecutionArn"].as_str().unwrap();
        let raw = s.ok("DescribeExecution", json!({"executionArn": child_arn}));
        assert_eq!(raw["sandstepParentExecutionArn"], json!(run));
        let history = c
            .get_execution_history()
            .execution_arn(&run)
            .send()
            .await
            .unwrap();
        let submitted = history
            .events
            .iter()
            .filter(|e| e.r#type() == &HistoryEventType::TaskSubmitted)
            .count();
        assert_eq!(submitted, 2, "each waiting task was submitted, then answered");
        let fire_and_forget = describe(&c, started).await;
        assert_ne!(fire_and_forget.status(), &ExecutionStatus::Failed);

        // A child that fails: States.TaskFailed in the parent, with the child's error.
        let failing = create(
            &c,
            "failing",
            r#"{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "bad order"}}}"#,
            StateMachineType::Standard,
        )
        .await;
        let mut catches = task(&format!("{START}.sync:2"), &failing, json!({}), "$.r");
        catches["Catch"] = json!([{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.caught", "Next": "Caught"}]);
        catches["End"] = json!(true);
        let catching = create(
            &c,
            "catching",
            &json!({"StartAt": "Call", "States": {"Call": catches,
                "Caught": {"Type": "Pass", "End": true}}})
            .to_string(),
            StateMachineType::Standard,
        )
        .await;
        let run = start(&c, &catching).await;
        let done = wait_done(&c, &run).await;
        assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{done:?}");
        let caught = json_of(done.output())["caught"].clone();
        assert_eq!(caught["Error"], "States.TaskFailed");
        let cause: Value = serde_json::from_str(caught["Cause"].as_str().unwrap()).unwrap();
        assert_eq!((cause["Error"].as_str(), cause["Cause"].as_str()), (Some("Boom"), Some("bad order")));
        assert_eq!(cause["Status"], "FAILED");

        // .waitForTaskToken: the child gets the token and someone answers it.
        let mut waits = task(
            &format!("{START}.waitForTaskToken"),
            &kid,
            json!({"token.$": "$$.Task.Token"}),
            "$.answer",
        );
        waits["End"] = json!(true);
        let handing = create(
            &c,
            "handing",
            &json!({"StartAt": "Hand", "States": {"Hand": waits}}).to_string(),
            StateMachineType::Standard,
        )
        .await;
        let run = start(&c, &handing).await;
        let token = loop {
            let listed = c
                .list_executions()
                .state_machine_arn(&kid)
                .send()
                .await
                .unwrap();
            let mut found = None;
            for e in listed.executions() {
                let input = json_of(describe(&c, e.execution_arn()).await.input());
                if let Some(t) = input["token"].as_str() {
                    found = Some(t.to_string());
                }
            }
            if let Some(t) = found {
                break t;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        c.send_task_success()
            .task_token(&token)
            .output(r#"{"handled": true}"#)
            .send()
            .await
            .unwrap();
        let done = wait_done(&c, &run).await;
        assert_eq!(json_of(done.output())["answer"], json!({"handled": true}));

        // Stopping a parent stops the child it waits for.
        let sleepy = create(&c, "sleepy", &child(60), StateMachineType::Standard).await;
        let mut long = task(&format!("{START}.sync"), &sleepy, json!({}), "$.r");
        long["End"] = json!(true);
        let waiting = create(
            &c,
            "waiting",
            &json!({"StartAt": "Long", "States": {"Long": long}}).to_string(),
            StateMachineType::Standard,
        )
        .await;
        let run = start(&c, &waiting).await;
        let child_arn = loop {
            let listed = c
                .list_executions()
                .state_machine_arn(&sleepy)
                .send()
                .await
                .unwrap();
            if let Some(e) = listed.executions().first() {
                break e.execution_arn().to_string();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        c.stop_execution().execution_arn(&run).send().await.unwrap();
        let stopped = wait_done(&c, &child_arn).await;
        assert_eq!(stopped.status(), &ExecutionStatus::Aborted, "{stopped:?}");
    });
}

#[test]
fn a_sync_parent_waits_across_kill9() {
    let dir = TempDir::new("nested-crash");
    let mut s = Server::start(&dir.0, &[]);
    let kid = s.create_machine("kid", &serde_json::from_str(&child(2)).unwrap(), "STANDARD");
    let mut sync = task(&format!("{START}.sync:2"), &kid, json!({"n": 7}), "$.r");
    sync["End"] = json!(true);
    let parent = s.create_machine(
        "parent",
        &json!({"StartAt": "Sync", "States": {"Sync": sync}}),
        "STANDARD",
    );
    let run = s.ok("StartExecution", json!({"stateMachineArn": parent}))["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    // The parent waits (its task submitted) while the child naps.
    let began = Instant::now();
    loop {
        let history = s.ok("GetExecutionHistory", json!({"executionArn": run}));
        let submitted = history["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "TaskSubmitted");
        if submitted {
            break;
        }
        assert!(began.elapsed() < Duration::from_secs(10), "{history}");
        std::thread::sleep(Duration::from_millis(20));
    }
    s.crash_and_restart();
    let done = s.wait_done(&run, Duration::from_secs(20));
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let out: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(out["r"]["Output"], json!({"got": {"n": 7}}));
    let listed = s.ok("ListExecutions", json!({"stateMachineArn": kid}));
    assert_eq!(
        listed["executions"].as_array().unwrap().len(),
        1,
        "the child ran once: {listed}"
    );
}
