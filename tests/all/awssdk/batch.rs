//! Batch jobs through the SDK and `/v1/jobs`: `batch:submitJob.sync` that succeeds and one
//! that fails (caught), fire-and-forget `submitJob`, a missing queue, a job cancelled
//! through `/v1` and one whose parent was stopped, and a job that outlives `kill -9`.

use super::*;

const SUBMIT: &str = "arn:aws:states:::batch:submitJob";

fn v1(s: &Server, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let req = ureq::request(method, &format!("{}{path}", s.url));
    let answer = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    match answer {
        Ok(r) => (r.status(), r.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("{e}"),
    }
}

fn job(s: &Server, id: &str) -> Value {
    let (code, job) = v1(s, "GET", &format!("/v1/jobs/{id}"), None);
    assert_eq!(code, 200, "{job}");
    job
}

/// Polls a job until `done` says so.
fn wait_job(s: &Server, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let began = Instant::now();
    loop {
        let j = job(s, id);
        if done(&j) {
            return j;
        }
        assert!(began.elapsed() < Duration::from_secs(60), "job {id}: {j}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A Task submitting `crunch` with `parameters`.
fn submit(resource: &str, queue: &str, parameters: Value) -> Value {
    json!({"Type": "Task", "Resource": resource, "Parameters": {
        "JobName": "crunch-job", "JobQueue": queue, "JobDefinition": "crunch",
        "Parameters": parameters,
        "ContainerOverrides": {"Environment": [{"Name": "MODE", "Value": "fast"}]}}})
}

fn one_task(task: Value) -> String {
    let mut task = task;
    task["End"] = json!(true);
    json!({"StartAt": "Job", "States": {"Job": task}}).to_string()
}

/// The same task, its failures caught into `$.caught`.
fn caught(task: Value) -> String {
    let mut task = task;
    task["Catch"] =
        json!([{"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "Caught"}]);
    task["End"] = json!(true);
    json!({"StartAt": "Job", "States": {"Job": task,
        "Caught": {"Type": "Pass", "End": true}}})
    .to_string()
}

fn setup(s: &Server, queue: &str, concurrency: u32) {
    s.upload("crunch", &module("crunch"), "kv:checkpoints")
        .unwrap();
    let (code, q) = v1(
        s,
        "PUT",
        &format!("/v1/job-queues/{queue}"),
        Some(json!({"concurrency": concurrency, "wallClockHours": 1})),
    );
    assert_eq!(code, 200, "{q}");
    assert_eq!(q["concurrency"], concurrency);
    assert_eq!(
        q["jobQueueArn"],
        format!("arn:aws:batch:us-east-1:000000000000:job-queue/{queue}")
    );
}

#[test]
fn sdk_batch_jobs_succeed_fail_and_are_listed() {
    let dir = TempDir::new("batch");
    let s = Server::start(&dir.0, &[]);
    setup(&s, "work", 2);
    runtime().block_on(async {
        let c = client(&s);
        let sync = format!("{SUBMIT}.sync");
        let good = create(
            &c,
            "good",
            &one_task(submit(&sync, "work", json!({"rounds": 2}))),
            StateMachineType::Standard,
        )
        .await;
        let run = c
            .start_execution()
            .state_machine_arn(&good)
            .send()
            .await
            .unwrap();
        let done = wait_done(&c, &run.execution_arn).await;
        assert_eq!(done.status(), &ExecutionStatus::Succeeded, "{done:?}");
        let out = json_of(done.output());
        assert_eq!(out["Status"], "SUCCEEDED", "{out}");
        assert_eq!(out["JobName"], "crunch-job");
        assert_eq!(out["Container"]["ExitCode"], 0);
        assert_eq!(out["Attempts"].as_array().unwrap().len(), 1);
        assert!(out["StoppedAt"].as_i64() >= out["StartedAt"].as_i64());
        let id = out["JobId"].as_str().unwrap().to_string();
        let j = job(&s, &id);
        assert_eq!(j["sandstepOutput"]["mode"], "fast", "{j}");
        assert_eq!(j["sandstepOutput"]["rounds"], 2);
        assert!(j["sandstepHeartbeats"].as_u64().unwrap() >= 2, "{j}");
        assert_eq!(j["sandstepParentExecutionArn"], run.execution_arn.as_str());
        let (_, logs) = v1(&s, "GET", &format!("/v1/jobs/{id}/logs"), None);
        assert!(
            logs["lines"][0]["message"]
                .as_str()
                .unwrap()
                .contains("attempt 1 of job crunch-job"),
            "{logs}"
        );

        // A failing job fails the task with States.TaskFailed and Batch's description.
        let bad = create(
            &c,
            "bad",
            &caught(submit(&sync, "work", json!({"rounds": 1, "fail": true}))),
            StateMachineType::Standard,
        )
        .await;
        let run = c
            .start_execution()
            .state_machine_arn(&bad)
            .send()
            .await
            .unwrap();
        let out = json_of(wait_done(&c, &run.execution_arn).await.output());
        assert_eq!(out["caught"]["Error"], "States.TaskFailed", "{out}");
        let cause: Value = serde_json::from_str(out["caught"]["Cause"].as_str().unwrap()).unwrap();
        assert_eq!(cause["Status"], "FAILED");
        assert_eq!(cause["Container"]["ExitCode"], 1);
        assert!(
            cause["StatusReason"]
                .as_str()
                .unwrap()
                .starts_with("CrunchFailed"),
            "{cause}"
        );

        // Fire and forget: the job's ARN at once; the job runs on.
        let quick = create(
            &c,
            "quick",
            &one_task(submit(SUBMIT, "work", json!({"rounds": 1}))),
            StateMachineType::Standard,
        )
        .await;
        let run = c
            .start_execution()
            .state_machine_arn(&quick)
            .send()
            .await
            .unwrap();
        let out = json_of(wait_done(&c, &run.execution_arn).await.output());
        let id = out["JobId"].as_str().unwrap().to_string();
        assert!(
            out["JobArn"]
                .as_str()
                .unwrap()
                .ends_with(&format!(":job/{id}")),
            "{out}"
        );
        wait_job(&s, &id, |j| j["Status"] == "SUCCEEDED");

        // A queue that does not exist: Batch's client error, caught.
        let lost = create(
            &c,
            "lost",
            &caught(submit(&sync, "nowhere", json!({}))),
            StateMachineType::Standard,
        )
        .await;
        let run = c
            .start_execution()
            .state_machine_arn(&lost)
            .send()
            .await
            .unwrap();
        let out = json_of(wait_done(&c, &run.execution_arn).await.output());
        assert_eq!(out["caught"]["Error"], "Batch.ClientException", "{out}");
    });

    let (_, listed) = v1(&s, "GET", "/v1/jobs?status=FAILED", None);
    let failed = listed["jobs"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{listed}");
    assert_eq!(failed[0]["status"], "FAILED");
    let (_, all) = v1(&s, "GET", "/v1/jobs?queue=work", None);
    assert_eq!(all["jobs"].as_array().unwrap().len(), 3, "{all}");
    let (code, e) = v1(&s, "GET", "/v1/jobs?status=LOST", None);
    assert_eq!(
        (code, e["__type"].as_str()),
        (400, Some("ValidationException"))
    );
    let (code, e) = v1(&s, "GET", "/v1/jobs/no-such-job", None);
    assert_eq!(
        (code, e["__type"].as_str()),
        (404, Some("ResourceNotFound"))
    );
    let (code, e) = v1(
        &s,
        "PUT",
        "/v1/job-queues/q2",
        Some(json!({"concurrency": 0})),
    );
    assert_eq!(
        (code, e["__type"].as_str()),
        (400, Some("ValidationException")),
        "{e}"
    );

    // The CLI: the same calls.
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(crate::support::binary())
            .args(args)
            .args(["--endpoint", &s.url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let put = cli(&[
        "job-queue",
        "put",
        "nightly",
        "--concurrency",
        "3",
        "--wall-clock-hours",
        "0.5",
    ]);
    assert!(
        put.contains("\"concurrency\": 3") && put.contains("0.5"),
        "{put}"
    );
    assert!(cli(&["job-queue", "list"]).contains("nightly"));
    let id = failed[0]["jobId"].as_str().unwrap();
    let listed = cli(&["job", "list", "--status", "FAILED"]);
    assert!(listed.contains(id), "{listed}");
    assert!(cli(&["job", "describe", id]).contains("\"Status\": \"FAILED\""));
    let logs = cli(&["job", "logs", id]);
    assert!(logs.contains("[attempt 1] ERROR asked to fail"), "{logs}");
    assert!(cli(&["job-queue", "delete", "nightly"]).contains("deleted"));
}

#[test]
fn a_cancelled_job_fails_its_task_and_a_stop_cancels_the_job() {
    let dir = TempDir::new("batch-cancel");
    let s = Server::start(&dir.0, &[]);
    setup(&s, "slow", 2);
    let forever = json!({"rounds": 1_000_000_000u64});
    let sync = format!("{SUBMIT}.sync");
    let machine = s.create_machine(
        "long",
        &serde_json::from_str(&caught(submit(&sync, "slow", forever))).unwrap(),
        "STANDARD",
    );
    let start = |name: &str| {
        s.ok(
            "StartExecution",
            json!({"stateMachineArn": machine, "name": name}),
        )["executionArn"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let running_job = |run: &str| -> String {
        let began = Instant::now();
        loop {
            let (_, listed) = v1(&s, "GET", "/v1/jobs?status=RUNNING", None);
            for j in listed["jobs"].as_array().unwrap() {
                let id = j["jobId"].as_str().unwrap();
                if job(&s, id)["sandstepParentExecutionArn"] == run {
                    return id.to_string();
                }
            }
            assert!(
                began.elapsed() < Duration::from_secs(30),
                "no running job for {run}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };

    // Cancelled through /v1: the job fails with the reason, the task with it.
    let run = start("cancelled");
    let id = running_job(&run);
    let (code, _) = v1(
        &s,
        "POST",
        &format!("/v1/jobs/{id}/cancel"),
        Some(json!({"reason": "not needed"})),
    );
    assert_eq!(code, 200);
    let j = wait_job(&s, &id, |j| j["Status"] == "FAILED");
    assert_eq!(j["StatusReason"], "not needed", "{j}");
    let done = s.wait_done(&run, Duration::from_secs(30));
    let out: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(out["caught"]["Error"], "States.TaskFailed", "{out}");

    // Stopping the execution cancels the job it waits for.
    let run = start("stopped");
    let id = running_job(&run);
    s.ok("StopExecution", json!({"executionArn": run}));
    let j = wait_job(&s, &id, |j| j["Status"] == "FAILED");
    assert!(
        j["StatusReason"]
            .as_str()
            .unwrap()
            .contains("stopped waiting"),
        "{j}"
    );
    // A queue with no open job left can be deleted.
    let (code, _) = v1(&s, "DELETE", "/v1/job-queues/slow", None);
    assert_eq!(code, 200);
}

#[test]
fn a_job_outlives_a_restart_and_runs_again() {
    let dir = TempDir::new("batch-crash");
    let mut s = Server::start(&dir.0, &[]);
    setup(&s, "durable", 1);
    let sync = format!("{SUBMIT}.sync");
    let params = json!({"rounds": 1_000_000_000u64, "checkpoint": "checkpoints"});
    let machine = s.create_machine(
        "resumable",
        &serde_json::from_str(&one_task(submit(&sync, "durable", params))).unwrap(),
        "STANDARD",
    );
    let run = s.ok("StartExecution", json!({"stateMachineArn": machine}))["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let began = Instant::now();
    let id = loop {
        let (_, listed) = v1(&s, "GET", "/v1/jobs?status=RUNNING", None);
        if let Some(j) = listed["jobs"].as_array().unwrap().first() {
            break j["jobId"].as_str().unwrap().to_string();
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "the job never ran"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // Crash once the run has written its checkpoint (at its start).
    let began = Instant::now();
    while v1(&s, "GET", "/v1/kv/checkpoints/crunch-job", None).0 != 200 {
        assert!(began.elapsed() < Duration::from_secs(30), "no checkpoint");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A module's kv write is durable with the next durable write of the store (as a
    // task's are with its step's commit): one now, so that the crash cannot take it.
    assert_eq!(v1(&s, "PUT", "/v1/job-queues/other", None).0, 200);
    s.crash_and_restart();
    let done = s.wait_done(&run, Duration::from_secs(60));
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let j = job(&s, &id);
    assert_eq!(j["Status"], "SUCCEEDED");
    let attempts = j["Attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{j}");
    assert!(
        attempts[0]["StatusReason"]
            .as_str()
            .unwrap()
            .contains("server stopped"),
        "{j}"
    );
    let (_, logs) = v1(&s, "GET", &format!("/v1/jobs/{id}/logs"), None);
    assert!(
        logs.to_string().contains("resuming from the checkpoint"),
        "{logs}"
    );
}
