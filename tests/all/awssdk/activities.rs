//! Activities through the SDK and plain HTTP: a worker loop written with `aws-sdk-sfn`,
//! one written with a bare HTTP client, heartbeats and timeouts, Retry on a worker's
//! error, a deleted activity, tasks handed out before `kill -9`, a worker that hangs up
//! while waiting, and another tenant's activity.

use super::*;
use crate::support::call_at;

/// A server whose GetActivityTask waits `poll` seconds for a task.
fn with_poll(dir: &TempDir, poll: u64, extra: &[&str]) -> Server {
    let config = dir.0.join("poll.toml");
    std::fs::write(&config, format!("activity_poll_seconds = {poll}\n")).unwrap();
    let mut args = vec!["--config", config.to_str().unwrap()];
    args.extend_from_slice(extra);
    Server::start(&dir.0.join("data"), &args)
}

/// One Task on `activity`, with `extra` fields, then a Pass; a Catch may go to `Late`.
fn on_activity(activity: &str, extra: Value) -> String {
    let mut work = json!({"Type": "Task", "Resource": activity, "Next": "Done"});
    if let (Some(work), Some(extra)) = (work.as_object_mut(), extra.as_object()) {
        work.extend(extra.clone());
    }
    let mut states = json!({"Work": work, "Done": {"Type": "Pass", "End": true}});
    if extra.get("Catch").is_some() {
        states["Late"] = json!({"Type": "Pass", "Result": "late", "End": true});
    }
    json!({"StartAt": "Work", "States": states}).to_string()
}

async fn start(c: &Client, machine: &str, input: Value) -> String {
    c.start_execution()
        .state_machine_arn(machine)
        .input(input.to_string())
        .send()
        .await
        .unwrap()
        .execution_arn
}

async fn kinds(c: &Client, arn: &str) -> Vec<HistoryEventType> {
    let history = c
        .get_execution_history()
        .execution_arn(arn)
        .send()
        .await
        .unwrap();
    history.events.iter().map(|e| e.r#type().clone()).collect()
}

#[test]
fn sdk_activity_worker_loop() {
    let dir = TempDir::new("sdk-activities");
    let s = with_poll(&dir, 1, &[]);
    runtime().block_on(async {
        let c = client(&s);
        let created = c
            .create_activity()
            .name("approve")
            .tags(Tag::builder().key("team").value("ops").build())
            .send()
            .await
            .unwrap();
        let activity = created.activity_arn().to_string();
        assert_eq!(
            activity,
            "arn:aws:states:us-east-1:000000000000:activity:approve"
        );
        recent(Some(created.creation_date()));
        let again = c.create_activity().name("approve").send().await.unwrap();
        assert_eq!(again.activity_arn(), activity, "idempotent by name");
        let d = c
            .describe_activity()
            .activity_arn(&activity)
            .send()
            .await
            .unwrap();
        assert_eq!(d.name(), "approve");
        let tags = c
            .list_tags_for_resource()
            .resource_arn(&activity)
            .send()
            .await
            .unwrap();
        assert_eq!(tags.tags().len(), 1);
        fails_with!(c.create_activity().name("no spaces"), is_invalid_name);

        // A worker loop: three executions, each answered with what its input says.
        let machine = create(
            &c,
            "orders",
            &on_activity(&activity, json!({"TimeoutSeconds": 30, "HeartbeatSeconds": 10})),
            StateMachineType::Standard,
        )
        .await;
        let mut runs = Vec::new();
        for n in 0..3 {
            runs.push(start(&c, &machine, json!({"order": n})).await);
        }
        let mut handled = 0;
        while handled < 3 {
            let task = c
                .get_activity_task()
                .activity_arn(&activity)
                .worker_name("sdk-worker")
                .send()
                .await
                .unwrap();
            let Some(token) = task.task_token() else {
                continue;
            };
            let input = json_of(task.input());
            c.send_task_success()
                .task_token(token)
                .output(json!({"shipped": input["order"]}).to_string())
                .send()
                .await
                .unwrap();
            handled += 1;
        }
        for (n, run) in runs.iter().enumerate() {
            let done = wait_done(&c, run).await;
            assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{done:?}");
            assert_eq!(json_of(done.output()), json!({"shipped": n}));
        }
        let history = c
            .get_execution_history()
            .execution_arn(&runs[0])
            .send()
            .await
            .unwrap();
        let scheduled = history
            .events
            .iter()
            .find_map(|e| e.activity_scheduled_event_details())
            .expect("ActivityScheduled");
        assert_eq!(scheduled.resource(), activity);
        assert_eq!(json_of(scheduled.input()), json!({"order": 0}));
        assert_eq!(scheduled.timeout_in_seconds(), Some(30));
        assert_eq!(scheduled.heartbeat_in_seconds(), Some(10));
        let started = history
            .events
            .iter()
            .find_map(|e| e.activity_started_event_details())
            .expect("ActivityStarted");
        assert_eq!(started.worker_name(), Some("sdk-worker"));
        assert_eq!(
            kinds(&c, &runs[0]).await[2..5],
            [
                HistoryEventType::ActivityScheduled,
                HistoryEventType::ActivityStarted,
                HistoryEventType::ActivitySucceeded
            ]
        );

        // Nothing waits: the long poll answers empty after its time.
        let began = Instant::now();
        let empty = c
            .get_activity_task()
            .activity_arn(&activity)
            .send()
            .await
            .unwrap();
        assert_eq!(empty.task_token(), None);
        assert!(began.elapsed() >= Duration::from_millis(900));

        // Listing pages through every activity.
        for name in ["b-first", "c-second"] {
            c.create_activity().name(name).send().await.unwrap();
        }
        let mut names = Vec::new();
        let mut pages = c.list_activities().max_results(2).into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.unwrap();
            assert!(page.activities().len() <= 2);
            names.extend(page.activities().iter().map(|a| a.name().to_string()));
        }
        assert_eq!(names, ["approve", "b-first", "c-second"]);

        // Errors as AWS names them.
        let missing = activity.replace("approve", "missing");
        fails_with!(
            c.describe_activity().activity_arn(&missing),
            is_activity_does_not_exist
        );
        fails_with!(
            c.get_activity_task().activity_arn(&missing),
            is_activity_does_not_exist
        );
        fails_with!(
            c.get_activity_task().activity_arn("not-an-arn"),
            is_invalid_arn
        );

        // A deleted activity: a new task for it fails the execution with States.Runtime.
        c.delete_activity()
            .activity_arn(&activity)
            .send()
            .await
            .unwrap();
        fails_with!(
            c.describe_activity().activity_arn(&activity),
            is_activity_does_not_exist
        );
        c.delete_activity()
            .activity_arn(&activity)
            .send()
            .await
            .expect("deleting a deleted activity succeeds");
        let orphan = start(&c, &machine, json!({"order": 9})).await;
        let done = wait_done(&c, &orphan).await;
        assert_eq!(done.status(), &ExecutionStatus::Failed);
        assert_eq!(done.error(), Some("States.Runtime"));
        assert_eq!(
            done.cause(),
            Some(
                format!(
                    "An error occurred while executing the state 'Work' (entered at the event id #2). The activity {activity} does not exist."
                )
                .as_str()
            )
        );
    });
}

/// A worker with nothing but an HTTP client: JSON over POST, as any language can.
fn http_worker(url: &str, activity: &str, answer: impl Fn(&Value) -> (&'static str, Value)) {
    let task = call_at(
        url,
        "GetActivityTask",
        json!({"activityArn": activity, "workerName": "curl"}),
        &[],
    )
    .unwrap();
    let token = task["taskToken"].as_str().expect("a task").to_string();
    let input: Value = serde_json::from_str(task["input"].as_str().unwrap()).unwrap();
    let (action, mut body) = answer(&input);
    body["taskToken"] = json!(token);
    call_at(url, action, body, &[]).unwrap();
}

#[test]
fn http_worker_retries_heartbeats_and_times_out() {
    let dir = TempDir::new("http-activities");
    let s = with_poll(&dir, 5, &[]);
    let activity = s.ok("CreateActivity", json!({"name": "pack"}))["activityArn"]
        .as_str()
        .unwrap()
        .to_string();
    let machine = s.create_machine(
        "packing",
        &serde_json::from_str(&on_activity(
            &activity,
            json!({"HeartbeatSeconds": 2,
                "Retry": [{"ErrorEquals": ["Busy"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                "Catch": [{"ErrorEquals": ["States.HeartbeatTimeout"], "Next": "Late"}]}),
        ))
        .unwrap(),
        "STANDARD",
    );
    let run = |input: Value| {
        s.ok(
            "StartExecution",
            json!({"stateMachineArn": machine, "input": input.to_string()}),
        )["executionArn"]
            .as_str()
            .unwrap()
            .to_string()
    };

    // The worker is busy at first: the state retries, and the second attempt succeeds.
    let busy = run(json!({"box": 1}));
    http_worker(&s.url, &activity, |_| {
        (
            "SendTaskFailure",
            json!({"error": "Busy", "cause": "try later"}),
        )
    });
    http_worker(&s.url, &activity, |input| {
        (
            "SendTaskSuccess",
            json!({"output": json!({"packed": input["box"]}).to_string()}),
        )
    });
    let done = s.wait_done(&busy, Duration::from_secs(20));
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["output"], json!({"packed": 1}).to_string());
    let history = s.ok("GetExecutionHistory", json!({"executionArn": busy}));
    let failed = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "ActivityFailed")
        .expect("ActivityFailed");
    assert_eq!(
        failed["activityFailedEventDetails"],
        json!({"error": "Busy", "cause": "try later"})
    );

    // Heartbeats every second keep a task with HeartbeatSeconds 2 alive for 4 s.
    let beating = run(json!({"box": 2}));
    let task = call_at(
        &s.url,
        "GetActivityTask",
        json!({"activityArn": activity}),
        &[],
    )
    .unwrap();
    let token = task["taskToken"].as_str().unwrap().to_string();
    for _ in 0..4 {
        std::thread::sleep(Duration::from_secs(1));
        s.ok("SendTaskHeartbeat", json!({"taskToken": token}));
    }
    s.ok(
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "\"alive\""}),
    );
    let done = s.wait_done(&beating, Duration::from_secs(20));
    assert_eq!(done["status"], "SUCCEEDED", "{done}");

    // A silent worker: the heartbeat times out, and the Catch takes over.
    let silent = run(json!({"box": 3}));
    let task = call_at(
        &s.url,
        "GetActivityTask",
        json!({"activityArn": activity}),
        &[],
    )
    .unwrap();
    let token = task["taskToken"].as_str().unwrap().to_string();
    let done = s.wait_done(&silent, Duration::from_secs(20));
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    assert_eq!(done["output"], "\"late\"");
    let history = s.ok("GetExecutionHistory", json!({"executionArn": silent}));
    let timed_out = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "ActivityTimedOut")
        .expect("ActivityTimedOut");
    assert_eq!(
        timed_out["activityTimedOutEventDetails"]["error"],
        "States.HeartbeatTimeout"
    );
    let (_, name, _) = s
        .call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{}"}),
        )
        .unwrap_err();
    assert_eq!(name, "TaskTimedOut", "the timed-out task's token is spent");
}

#[test]
fn activity_tasks_outlive_kill9_and_a_worker_that_hangs_up() {
    let dir = TempDir::new("activities-crash");
    let mut s = with_poll(&dir, 5, &[]);
    let activity = s.ok("CreateActivity", json!({"name": "ship"}))["activityArn"]
        .as_str()
        .unwrap()
        .to_string();
    let machine = s.create_machine(
        "shipping",
        &serde_json::from_str(&on_activity(&activity, json!({}))).unwrap(),
        "STANDARD",
    );
    let run = |s: &Server, n: u32| {
        s.ok(
            "StartExecution",
            json!({"stateMachineArn": machine, "input": json!({"n": n}).to_string()}),
        )["executionArn"]
            .as_str()
            .unwrap()
            .to_string()
    };

    // A worker that hangs up while it waits takes nothing with it.
    let hung_up = ureq::post(&s.url)
        .set("content-type", "application/x-amz-json-1.0")
        .set("x-amz-target", "AWSStepFunctions.GetActivityTask")
        .timeout(Duration::from_millis(300))
        .send_string(&json!({"activityArn": activity}).to_string());
    assert!(hung_up.is_err(), "the poll was still waiting");
    let first = run(&s, 1);
    let second = run(&s, 2);
    let get = |s: &Server| {
        let task = s.ok("GetActivityTask", json!({"activityArn": activity}));
        let input: Value = serde_json::from_str(task["input"].as_str().unwrap()).unwrap();
        (task["taskToken"].as_str().unwrap().to_string(), input)
    };
    let (token, input) = get(&s);
    assert_eq!(input, json!({"n": 1}), "the oldest task first");

    // kill -9: the handed-out task is still answerable, the queued one still queued.
    s.crash_and_restart();
    s.ok(
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "\"one\""}),
    );
    let (token2, input2) = get(&s);
    assert_eq!(input2, json!({"n": 2}));
    s.ok(
        "SendTaskSuccess",
        json!({"taskToken": token2, "output": "\"two\""}),
    );
    for (run, output) in [(&first, "\"one\""), (&second, "\"two\"")] {
        let done = s.wait_done(run, Duration::from_secs(20));
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        assert_eq!(done["output"], output);
    }
    let history = s.ok("GetExecutionHistory", json!({"executionArn": first}));
    let started = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "ActivityStarted")
        .count();
    assert_eq!(started, 1, "handed out once");
}

#[test]
fn sdk_another_tenants_activity_does_not_exist() {
    let dir = TempDir::new("sdk-activity-tenants");
    let s = Server::start(&dir.0, &["--admin-token", "root-token"]);
    let a = s.create_tenant("root-token", "acme");
    let b = s.create_tenant("root-token", "globex");
    let field = |t: &Value, f: &str| t[f].as_str().unwrap().to_string();
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
        let theirs = ca
            .create_activity()
            .name("secret")
            .send()
            .await
            .unwrap()
            .activity_arn
            .clone();
        fails_with!(
            cb.describe_activity().activity_arn(&theirs),
            is_activity_does_not_exist
        );
        fails_with!(
            cb.get_activity_task().activity_arn(&theirs),
            is_activity_does_not_exist
        );
        assert!(cb
            .list_activities()
            .send()
            .await
            .unwrap()
            .activities()
            .is_empty());
        // B's workflow naming A's activity cannot queue work for A's workers.
        let machine = create(
            &cb,
            "snoop",
            &on_activity(&theirs, json!({})),
            StateMachineType::Standard,
        )
        .await;
        let run = start(&cb, &machine, json!({})).await;
        let done = wait_done(&cb, &run).await;
        assert_eq!(done.status(), &ExecutionStatus::Failed);
        assert_eq!(done.error(), Some("States.Runtime"));
        let answer = ca.list_activities().send().await.unwrap();
        assert_eq!(answer.activities().len(), 1);
    });
}
