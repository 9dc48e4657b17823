//! Tasks that wait for their token (`lambda:invoke.waitForTaskToken`), answered through
//! the SDK with SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat: a human approval,
//! heartbeats, a token after `kill -9`, and another tenant's token.

use super::*;

/// Waits at `Approve` until a manager answers the token that `echo` hands on.
fn approval(extra: Value) -> String {
    let mut approve = json!({"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {"FunctionName": "echo",
                       "Payload": {"token.$": "$$.Task.Token", "order.$": "$.order"}},
        "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection", "Next": "Denied"}],
        "Next": "Ship"});
    if let (Some(approve), Some(extra)) = (approve.as_object_mut(), extra.as_object()) {
        approve.extend(extra.clone());
    }
    json!({"StartAt": "Approve", "States": {
        "Approve": approve,
        "Ship": {"Type": "Pass", "End": true},
        "Denied": {"Type": "Fail", "Error": "OrderDenied", "Cause": "a manager said no"}}})
    .to_string()
}

async fn start(c: &Client, machine: &str, order: u32) -> String {
    c.start_execution()
        .state_machine_arn(machine)
        .input(json!({"order": order}).to_string())
        .send()
        .await
        .unwrap()
        .execution_arn
}

/// The token of the execution's waiting task, read from its `TaskSubmitted` event (the
/// output of `echo`, which got it in its payload).
async fn token_of(c: &Client, arn: &str) -> String {
    let began = Instant::now();
    loop {
        let events = c
            .get_execution_history()
            .execution_arn(arn)
            .send()
            .await
            .unwrap()
            .events;
        if let Some(d) = events.iter().find_map(|e| e.task_submitted_event_details()) {
            let kinds: Vec<&HistoryEventType> = events.iter().map(|e| e.r#type()).collect();
            assert!(kinds.contains(&&HistoryEventType::TaskStarted), "{kinds:?}");
            let output = json_of(d.output());
            return output["Payload"]["token"].as_str().unwrap().to_string();
        }
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "no TaskSubmitted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn sdk_human_approval_succeeds_and_is_rejected_by_token() {
    let dir = TempDir::new("sdk-approval");
    let s = Server::start(&dir.0, &[]);
    s.upload("echo", &module("echo"), "").unwrap();
    runtime().block_on(async {
        let c = client(&s);
        let machine = create(
            &c,
            "approval",
            &approval(json!({})),
            StateMachineType::Standard,
        )
        .await;

        let approved = start(&c, &machine, 1).await;
        let token = token_of(&c, &approved).await;
        assert_eq!(token.len(), 32, "{token}");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let d = c
            .describe_execution()
            .execution_arn(&approved)
            .send()
            .await
            .unwrap();
        assert_eq!(
            d.status(),
            &ExecutionStatus::Running,
            "it waits for the manager"
        );
        c.send_task_success()
            .task_token(&token)
            .output(r#"{"approved": true}"#)
            .send()
            .await
            .unwrap();
        let done = wait_done(&c, &approved).await;
        assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{done:?}");
        assert_eq!(json_of(done.output()), json!({"approved": true}));

        // The task no longer waits: its token is spent.
        let e = fails_with!(
            c.send_task_success().task_token(&token).output("{}"),
            is_task_timed_out
        );
        assert_eq!(code(&e), "TaskTimedOut");
        fails_with!(
            c.send_task_success().task_token(&token).output("{not json"),
            is_invalid_output
        );
        fails_with!(
            c.send_task_success().task_token("not-a-token").output("{}"),
            is_invalid_token
        );
        fails_with!(
            c.send_task_heartbeat().task_token("0".repeat(32)),
            is_task_does_not_exist
        );

        let rejected = start(&c, &machine, 2).await;
        let token = token_of(&c, &rejected).await;
        c.send_task_failure()
            .task_token(&token)
            .error("Rejected")
            .cause("too expensive")
            .send()
            .await
            .unwrap();
        let done = wait_done(&c, &rejected).await;
        assert_eq!(done.status(), &ExecutionStatus::Failed);
        assert_eq!(done.error(), Some("OrderDenied"), "caught, then failed");
    });
}

#[test]
fn sdk_heartbeats_keep_a_waiting_task_alive_and_silence_times_it_out() {
    let dir = TempDir::new("sdk-heartbeat");
    let s = Server::start(&dir.0, &[]);
    s.upload("echo", &module("echo"), "").unwrap();
    runtime().block_on(async {
        let c = client(&s);
        let limits = json!({"TimeoutSeconds": 60, "HeartbeatSeconds": 2});
        let machine = create(&c, "beats", &approval(limits), StateMachineType::Standard).await;

        let alive = start(&c, &machine, 1).await;
        let token = token_of(&c, &alive).await;
        for _ in 0..8 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            c.send_task_heartbeat()
                .task_token(&token)
                .send()
                .await
                .unwrap();
        }
        c.send_task_success()
            .task_token(&token)
            .output(r#""ok""#)
            .send()
            .await
            .unwrap();
        let done = wait_done(&c, &alive).await;
        assert_eq!(
            done.status(),
            &ExecutionStatus::Succeeded,
            "4 s of heartbeats"
        );

        let silent = start(&c, &machine, 2).await;
        let token = token_of(&c, &silent).await;
        let done = wait_done(&c, &silent).await;
        assert_eq!(done.status(), &ExecutionStatus::Failed);
        assert_eq!(done.error(), Some("States.HeartbeatTimeout"));
        let events = c
            .get_execution_history()
            .execution_arn(&silent)
            .send()
            .await
            .unwrap()
            .events;
        assert!(events
            .iter()
            .any(|e| e.r#type() == &HistoryEventType::TaskTimedOut));
        fails_with!(
            c.send_task_success().task_token(&token).output("{}"),
            is_task_timed_out
        );
    });
}

#[test]
fn sdk_a_token_handed_out_before_kill_9_completes_its_task_after_the_restart() {
    let dir = TempDir::new("sdk-token-crash");
    let mut s = Server::start(&dir.0, &[]);
    s.upload("echo", &module("echo"), "").unwrap();
    let rt = runtime();
    let (arn, token) = rt.block_on(async {
        let c = client(&s);
        let machine = create(
            &c,
            "approval",
            &approval(json!({})),
            StateMachineType::Standard,
        )
        .await;
        let arn = start(&c, &machine, 1).await;
        let token = token_of(&c, &arn).await;
        (arn, token)
    });
    s.crash_and_restart();
    rt.block_on(async {
        let c = client(&s);
        c.send_task_success()
            .task_token(&token)
            .output(r#"{"approved": "after the crash"}"#)
            .send()
            .await
            .unwrap();
        let done = wait_done(&c, &arn).await;
        assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{done:?}");
        let events = c
            .get_execution_history()
            .execution_arn(&arn)
            .send()
            .await
            .unwrap()
            .events;
        let submitted = events
            .iter()
            .filter(|e| e.r#type() == &HistoryEventType::TaskSubmitted)
            .count();
        assert_eq!(
            submitted, 1,
            "the submitted task is not run again by recovery"
        );
    });
}

#[test]
fn sdk_another_tenants_token_does_not_exist() {
    let dir = TempDir::new("sdk-token-tenants");
    let s = Server::start(&dir.0, &["--admin-token", "root-token"]);
    let a = s.create_tenant("root-token", "acme");
    let b = s.create_tenant("root-token", "globex");
    let field = |t: &Value, f: &str| t[f].as_str().unwrap().to_string();
    ureq::put(&format!("{}/v1/modules/echo", s.url))
        .set("authorization", &format!("Bearer {}", field(&a, "apiKey")))
        .send_bytes(&module("echo"))
        .unwrap();
    runtime().block_on(async {
        let ca = client_with(
            &s.url,
            &field(&a, "accessKeyId"),
            &field(&a, "secretAccessKey"),
        );
        let cb = client_with(
            &s.url,
            &field(&b, "accessKeyId"),
            &field(&b, "secretAccessKey"),
        );
        let machine = create(
            &ca,
            "approval",
            &approval(json!({})),
            StateMachineType::Standard,
        )
        .await;
        let arn = start(&ca, &machine, 1).await;
        let token = token_of(&ca, &arn).await;
        let e = fails_with!(
            cb.send_task_success().task_token(&token).output("{}"),
            is_task_does_not_exist
        );
        assert_eq!(
            code(&e),
            "TaskDoesNotExist",
            "as a token that never existed"
        );
        fails_with!(
            cb.send_task_heartbeat().task_token(&token),
            is_task_does_not_exist
        );
        ca.send_task_success()
            .task_token(&token)
            .output("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(
            wait_done(&ca, &arn).await.status(),
            &ExecutionStatus::Succeeded
        );
    });
}

/// `modules/examples/human-approval.asl.json`, as the README's tour runs it.
fn sample(file: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../modules/examples")
        .join(file);
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn sdk_the_human_approval_sample_waits_only_above_the_limit() {
    let dir = TempDir::new("sdk-approval-sample");
    let s = Server::start(&dir.0, &[]);
    s.upload("echo", &module("echo"), "").unwrap();
    runtime().block_on(async {
        let c = client(&s);
        let machine = create(
            &c,
            "human-approval",
            &sample("human-approval.asl.json"),
            StateMachineType::Standard,
        )
        .await;
        let run = |input: String| {
            let c = c.clone();
            let machine = machine.clone();
            async move {
                c.start_execution()
                    .state_machine_arn(machine)
                    .input(input)
                    .send()
                    .await
                    .unwrap()
                    .execution_arn
            }
        };
        let small = run(sample("human-approval.small.input.json")).await;
        let done = wait_done(&c, &small).await;
        assert_eq!(json_of(done.output())["decision"], "accepted");

        for (answer, decision) in [(true, "accepted"), (false, "rejected")] {
            let large = run(sample("human-approval.large.input.json")).await;
            let events = loop {
                let events = c
                    .get_execution_history()
                    .execution_arn(&large)
                    .send()
                    .await
                    .unwrap()
                    .events;
                if events
                    .iter()
                    .any(|e| e.task_submitted_event_details().is_some())
                {
                    break events;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            let submitted = events
                .iter()
                .find_map(|e| e.task_submitted_event_details())
                .unwrap();
            let token = json_of(submitted.output())["Payload"]["taskToken"]
                .as_str()
                .unwrap()
                .to_string();
            if answer {
                c.send_task_success()
                    .task_token(&token)
                    .output(r#"{"approved": true, "by": "manager"}"#)
                    .send()
                    .await
                    .unwrap();
            } else {
                c.send_task_failure()
                    .task_token(&token)
                    .error("Rejected")
                    .send()
                    .await
                    .unwrap();
            }
            let done = wait_done(&c, &large).await;
            assert_eq!(done.status(), &ExecutionStatus::Succeeded);
            assert_eq!(json_of(done.output())["decision"], decision, "{done:?}");
        }
    });
}

/// Runs `approver` (a module answering tokens) as a one-Task workflow named `decide`.
fn decider(module: &str) -> String {
    json!({"StartAt": "Decide", "States": {"Decide": {"Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": module, "Payload.$": "$"},
        "OutputPath": "$.Payload", "End": true}}})
    .to_string()
}

#[test]
fn a_granted_module_answers_another_executions_token() {
    let dir = TempDir::new("module-callbacks");
    let s = Server::start(&dir.0, &[]);
    s.upload("echo", &module("echo"), "").unwrap();
    s.upload("approver", &module("approver"), "callback:approval")
        .unwrap();
    s.upload("meddler", &module("approver"), "callback:payroll")
        .unwrap();
    runtime().block_on(async {
        let c = client(&s);
        let machine = create(
            &c,
            "approval",
            &approval(json!({})),
            StateMachineType::Standard,
        )
        .await;
        let decide = create(
            &c,
            "decide",
            &decider("approver"),
            StateMachineType::Standard,
        )
        .await;
        let meddle = create(
            &c,
            "meddle",
            &decider("meddler"),
            StateMachineType::Standard,
        )
        .await;
        let decide_on = |machine: String, token: String, approved: bool| {
            let c = c.clone();
            async move {
                let run = c
                    .start_execution()
                    .state_machine_arn(machine)
                    .input(
                        json!({"token": token, "approved": approved, "comment": "ok by me"})
                            .to_string(),
                    )
                    .send()
                    .await
                    .unwrap()
                    .execution_arn;
                wait_done(&c, &run).await
            }
        };

        // Approved by the module: the waiting order goes on with its decision.
        let order = start(&c, &machine, 1).await;
        let token = token_of(&c, &order).await;
        // A module without the grant for this machine is refused, and changes nothing.
        let refused = decide_on(meddle.clone(), token.clone(), true).await;
        assert_eq!(refused.status(), &ExecutionStatus::Failed);
        assert_eq!(refused.error(), Some("AccessDenied"), "{refused:?}");
        assert!(refused
            .cause()
            .unwrap_or_default()
            .contains("callback:approval"));
        let decided = decide_on(decide.clone(), token.clone(), true).await;
        assert_eq!(decided.status(), &ExecutionStatus::Succeeded, "{decided:?}");
        let done = wait_done(&c, &order).await;
        assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{done:?}");
        assert_eq!(
            json_of(done.output()),
            json!({"approved": true, "comment": "ok by me"})
        );
        // The token is spent: the module hears TaskTimedOut, as an API client would.
        let late = decide_on(decide.clone(), token, true).await;
        assert_eq!(late.error(), Some("TaskTimedOut"), "{late:?}");

        // Rejected by the module: the waiting workflow catches `Rejected`.
        let order = start(&c, &machine, 2).await;
        let token = token_of(&c, &order).await;
        decide_on(decide.clone(), token, false).await;
        let done = wait_done(&c, &order).await;
        assert_eq!(done.status(), &ExecutionStatus::Failed);
        assert_eq!(done.error(), Some("OrderDenied"));

        // A token that never existed.
        let unknown = decide_on(decide, "0".repeat(32), true).await;
        assert_eq!(unknown.error(), Some("TaskDoesNotExist"), "{unknown:?}");
    });
}
