//! Standard executions survive `kill -9`; timers fire on time and after restarts;
//! Express, StopExecution, timeouts, fan-out limits and retention, against the real binary.

use crate::support::{module, Server, TempDir};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const ECHO: &str = "arn:aws:lambda:us-east-1:000000000000:function:echo";

fn crash_definition() -> Value {
    json!({"StartAt": "T1", "States": {
        "T1": {"Type": "Task", "Resource": ECHO, "Parameters": {"n.$": "$.n", "step": 1}, "ResultPath": "$.t1", "Next": "W"},
        "W": {"Type": "Wait", "SecondsPath": "$.wait", "Next": "Slow"},
        "Slow": {"Type": "Choice", "Choices": [{"Variable": "$.slow", "BooleanEquals": true, "Next": "Loop"}], "Default": "T2"},
        "Loop": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:infinite-loop", "TimeoutSeconds": 1,
                 "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": null, "Next": "T2"}], "Next": "T2"},
        "T2": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
               "Parameters": {"FunctionName": "echo", "Payload": {"n.$": "$.n", "step": 2}},
               "ResultSelector": {"p.$": "$.Payload"}, "ResultPath": "$.t2", "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"n.$": "$.n", "a.$": "$.t1.step", "b.$": "$.t2.p.step"}, "End": true}}})
}

/// Every event of an execution's history, through every page.
pub(crate) fn history(server: &Server, arn: &str) -> Vec<Value> {
    history_at(&server.url, arn, &[])
}

/// [`history`] asked at `url` with `headers` (a tenant's API key).
pub(crate) fn history_at(url: &str, arn: &str, headers: &[(&str, &str)]) -> Vec<Value> {
    let mut events = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = json!({"executionArn": arn, "maxResults": 1000});
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let page = crate::support::call_at(url, "GetExecutionHistory", req, headers)
            .unwrap_or_else(|e| panic!("GetExecutionHistory failed: {e:?}"));
        events.extend(page["events"].as_array().unwrap().iter().cloned());
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => return events,
        }
    }
}

/// Event ids are 1..=n with no gap, and no state was entered twice where the path
/// enters it once.
fn check_history(events: &[Value], slow: bool) {
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(
        ids,
        (1..=ids.len() as u64).collect::<Vec<_>>(),
        "ids must be dense"
    );
    let entered: Vec<&str> = events
        .iter()
        .filter(|e| e["type"].as_str().unwrap().ends_with("StateEntered"))
        .map(|e| e["stateEnteredEventDetails"]["name"].as_str().unwrap())
        .collect();
    let expected: &[&str] = if slow {
        &["T1", "W", "Slow", "Loop", "T2", "P"]
    } else {
        &["T1", "W", "Slow", "T2", "P"]
    };
    assert_eq!(entered, expected, "each transition exactly once");
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"ExecutionStarted"));
    assert_eq!(kinds.last(), Some(&"ExecutionSucceeded"));
    assert_eq!(
        kinds.iter().filter(|k| **k == "ExecutionStarted").count(),
        1
    );
}

fn start(
    server: &Server,
    machine: &str,
    name: &str,
    input: &Value,
) -> Result<Value, (u16, String, String)> {
    server.call(
        "StartExecution",
        json!({"stateMachineArn": machine, "name": name, "input": input.to_string()}),
    )
}

#[test]
fn standard_executions_survive_kill_9_at_several_points() {
    survive_kill_9(&[]);
}

/// The same crashes with the store in PostgreSQL (a schema of the test server's own).
#[test]
fn standard_executions_on_postgres_survive_kill_9_at_several_points() {
    if let Some(url) = crate::support::postgres_store("crash") {
        survive_kill_9(&["--store", &url]);
    }
}

/// 240 executions (tasks, Waits, a 1 s timeout) through three `kill -9`s of the server
/// run with `args`: each finishes once, with the output and the history of one clean run.
fn survive_kill_9(args: &[&str]) {
    let dir = TempDir::new("crash");
    let mut server = Server::start(&dir.0, args);
    server.upload("echo", &module("echo"), "").unwrap();
    server
        .upload("infinite-loop", &module("infinite-loop"), "")
        .unwrap();
    let machine = server.create_machine("crash", &crash_definition(), "STANDARD");
    let inputs: BTreeMap<String, Value> = (0..240)
        .map(|i| {
            (
                format!("run-{i:03}"),
                json!({"n": i, "wait": 1 + (i % 2), "slow": i % 10 == 0}),
            )
        })
        .collect();

    // Kill point 1: while executions are being started (some commits are in flight).
    let url = server.url.clone();
    let names: Vec<(String, Value)> = inputs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let starter = std::thread::spawn(move || {
        let mut failed = Vec::new();
        for (name, input) in names {
            let body = json!({"stateMachineArn": format!("arn:aws:states:us-east-1:000000000000:stateMachine:crash"), "name": name, "input": input.to_string()});
            if crate::support::call_at(&url, "StartExecution", body, &[]).is_err() {
                failed.push(name);
            }
        }
        failed
    });
    std::thread::sleep(Duration::from_millis(150));
    server.crash_and_restart();
    let failed = starter.join().unwrap();
    // StartExecution is idempotent by name and input: re-issue whatever did not answer.
    for name in &failed {
        match start(&server, &machine, name, &inputs[name]) {
            Ok(_) => {}
            Err(e) if e.1 == "ExecutionAlreadyExists" => {} // committed, then finished
            Err(e) => panic!("{name}: {e:?}"),
        }
    }
    // Kill point 2: executions are in Wait states and tasks (including 1 s loops).
    std::thread::sleep(Duration::from_millis(700));
    server.crash_and_restart();
    // Kill point 3: during the second task wave and the slow tasks.
    std::thread::sleep(Duration::from_millis(1300));
    server.crash_and_restart();

    let began = Instant::now();
    for (name, input) in &inputs {
        let arn = format!("arn:aws:states:us-east-1:000000000000:execution:crash:{name}");
        let left = Duration::from_secs(90).saturating_sub(began.elapsed());
        let done = server.wait_done(&arn, left);
        assert_eq!(done["status"], "SUCCEEDED", "{name}: {done}");
        let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
        assert_eq!(output, json!({"n": input["n"], "a": 1, "b": 2}), "{name}");
        check_history(&history(&server, &arn), input["slow"] == true);
    }
}

#[test]
fn waits_end_on_time_and_fire_at_once_after_a_restart_past_due() {
    let dir = TempDir::new("timers");
    let mut server = Server::start(&dir.0, &[]);
    let wait = |s: u64| json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": s, "End": true}}});
    let one = server.create_machine("wait1", &wait(1), "STANDARD");
    let arn = server.ok("StartExecution", json!({"stateMachineArn": one}))["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    server.wait_done(&arn, Duration::from_secs(10));
    let events = history(&server, &arn);
    let at = |kind: &str| {
        events.iter().find(|e| e["type"] == kind).unwrap()["timestamp"]
            .as_f64()
            .unwrap()
    };
    let waited = at("WaitStateExited") - at("WaitStateEntered");
    assert!(waited >= 1.0, "ended early: {waited}");
    assert!(waited <= 1.1, "ended late: {waited}");

    let two = server.create_machine("wait2", &wait(2), "STANDARD");
    let arn = server.ok("StartExecution", json!({"stateMachineArn": two}))["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    server.kill9();
    std::thread::sleep(Duration::from_secs(3));
    let restarted = Instant::now();
    server.crash_and_restart();
    let done = server.wait_done(&arn, Duration::from_secs(10));
    assert_eq!(done["status"], "SUCCEEDED");
    assert!(
        restarted.elapsed() < Duration::from_millis(1500),
        "a late timer fires at once: {:?}",
        restarted.elapsed()
    );
}

#[test]
fn express_sync_and_async_run_in_memory() {
    let dir = TempDir::new("express");
    let server = Server::start(&dir.0, &[]);
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.r", "Next": "B"}, "B": {"Type": "Pass", "End": true}}});
    let express = server.create_machine("fast", &def, "EXPRESS");
    let r = server.ok(
        "StartSyncExecution",
        json!({"stateMachineArn": express, "input": "{\"a\": 2}"}),
    );
    assert_eq!(r["status"], "SUCCEEDED");
    assert_eq!(
        serde_json::from_str::<Value>(r["output"].as_str().unwrap()).unwrap(),
        json!({"a": 2, "r": {"x": 1}})
    );
    assert!(r["executionArn"]
        .as_str()
        .unwrap()
        .contains(":express:fast:"));
    let failing = json!({"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Nope", "Cause": "because"}}});
    let f = server.create_machine("fails", &failing, "EXPRESS");
    let r = server.ok("StartSyncExecution", json!({"stateMachineArn": f}));
    assert_eq!(
        (
            r["status"].as_str(),
            r["error"].as_str(),
            r["cause"].as_str()
        ),
        (Some("FAILED"), Some("Nope"), Some("because"))
    );
    let a = server.ok("StartExecution", json!({"stateMachineArn": express}));
    assert!(a["executionArn"].as_str().unwrap().contains(":express:"));
    let standard = server.create_machine("std", &def, "STANDARD");
    let e = server
        .call("StartSyncExecution", json!({"stateMachineArn": standard}))
        .unwrap_err();
    assert_eq!(e.1, "StateMachineTypeNotSupported");
    // Nothing of an Express execution is written to the store.
    let e = server
        .call(
            "DescribeExecution",
            json!({"executionArn": a["executionArn"]}),
        )
        .unwrap_err();
    assert_eq!(e.1, "StateMachineTypeNotSupported");
}

#[test]
fn stop_execution_aborts_and_interrupts_tasks() {
    let dir = TempDir::new("stop");
    let server = Server::start(&dir.0, &[]);
    server
        .upload("infinite-loop", &module("infinite-loop"), "")
        .unwrap();
    let def = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
        {"StartAt": "L", "States": {"L": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:infinite-loop", "TimeoutSeconds": 60, "End": true}}},
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 600, "End": true}}}]}}});
    let m = server.create_machine("stoppable", &def, "STANDARD");
    let arn = server.ok("StartExecution", json!({"stateMachineArn": m}))["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    std::thread::sleep(Duration::from_millis(300));
    let began = Instant::now();
    server.ok(
        "StopExecution",
        json!({"executionArn": arn, "error": "Manual", "cause": "test"}),
    );
    let d = server.ok("DescribeExecution", json!({"executionArn": arn}));
    assert_eq!(
        (d["status"].as_str(), d["error"].as_str()),
        (Some("ABORTED"), Some("Manual"))
    );
    let events = history(&server, &arn);
    assert_eq!(events.last().unwrap()["type"], "ExecutionAborted");
    // The loop is interrupted: a new task of the same module gets a slot at once.
    let quick = json!({"StartAt": "L", "States": {"L": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:infinite-loop", "TimeoutSeconds": 1,
        "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Done"}], "End": true}, "Done": {"Type": "Succeed"}}});
    let q = server.create_machine("quick", &quick, "STANDARD");
    let arn = server.ok("StartExecution", json!({"stateMachineArn": q}))["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        server.wait_done(&arn, Duration::from_secs(10))["status"],
        "SUCCEEDED"
    );
    assert!(began.elapsed() < Duration::from_secs(5));
}

#[test]
fn execution_timeout_and_fan_out_limits() {
    let dir = TempDir::new("fanout");
    let server = Server::start(&dir.0, &[]);
    let slow = json!({"TimeoutSeconds": 1, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": true}}});
    let m = server.create_machine("slow", &slow, "STANDARD");
    let arn = server.ok("StartExecution", json!({"stateMachineArn": m}))["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let d = server.wait_done(&arn, Duration::from_secs(10));
    assert_eq!(
        (d["status"].as_str(), d["error"].as_str()),
        (Some("TIMED_OUT"), Some("States.Timeout"))
    );

    // A Map of 6 one-second waits with MaxConcurrency 2 takes three rounds.
    let map = json!({"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 2, "ItemProcessor": {"StartAt": "W",
        "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}}, "End": true}}});
    let m = server.create_machine("map", &map, "STANDARD");
    let began = Instant::now();
    let arn = server.ok(
        "StartExecution",
        json!({"stateMachineArn": m, "input": "[1,2,3,4,5,6]"}),
    )["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let d = server.wait_done(&arn, Duration::from_secs(20));
    assert_eq!(d["status"], "SUCCEEDED");
    assert!(
        began.elapsed() >= Duration::from_secs(3),
        "MaxConcurrency 2 runs 6 items in 3 rounds"
    );

    // A failing Parallel branch fails the state; Catch takes over.
    let par = json!({"StartAt": "P", "States": {"P": {"Type": "Parallel", "Branches": [
        {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 60, "End": true}}},
        {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Branch", "Cause": "b"}}}],
        "Catch": [{"ErrorEquals": ["Branch"], "ResultPath": "$.e", "Next": "Ok"}], "End": true}, "Ok": {"Type": "Pass", "End": true}}});
    let m = server.create_machine("par", &par, "STANDARD");
    let arn = server.ok("StartExecution", json!({"stateMachineArn": m}))["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let d = server.wait_done(&arn, Duration::from_secs(10));
    assert_eq!(d["status"], "SUCCEEDED");
    assert_eq!(
        serde_json::from_str::<Value>(d["output"].as_str().unwrap()).unwrap()["e"]["Error"],
        "Branch"
    );
}

#[test]
fn retention_deletes_old_finished_executions() {
    let dir = TempDir::new("retention");
    let config = dir.0.join("sandstep.toml");
    std::fs::write(&config, "retention_days = 0\n").unwrap();
    let data = dir.0.join("data");
    let config_arg = config.to_str().unwrap().to_string();
    let mut server = Server::start(&data, &["--config", &config_arg]);
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}});
    let m = server.create_machine("short", &def, "STANDARD");
    let arn = server.ok("StartExecution", json!({"stateMachineArn": m}))["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    server.wait_done(&arn, Duration::from_secs(5));
    std::thread::sleep(Duration::from_millis(20));
    // The first sweep runs a second after the start: a restart applies the zero-day
    // retention.
    server.crash_and_restart();
    let began = Instant::now();
    loop {
        match server.call("DescribeExecution", json!({"executionArn": arn})) {
            Err(e) if e.1 == "ExecutionDoesNotExist" => break,
            _ => assert!(began.elapsed() < Duration::from_secs(5), "not deleted"),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        server.ok("ListExecutions", json!({"stateMachineArn": m}))["executions"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn durable_commits_call_fdatasync() {
    // sled's flush alone ends in sync_file_range; a commit must reach fdatasync.
    if std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_err()
    {
        panic!("strace is required (the test command installs it: apt-get install strace)");
    }
    let dir = TempDir::new("strace");
    let server = Server::start(&dir.0, &[]);
    let def = json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}});
    let m = server.create_machine("synced", &def, "STANDARD");
    let log = dir.0.join("strace.log");
    let mut tracer = std::process::Command::new("strace")
        .args(["-f", "-e", "trace=fdatasync,fsync", "-o"])
        .arg(&log)
        .args(["-p", &server.pid().to_string()])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    for i in 0..5 {
        server.ok(
            "StartExecution",
            json!({"stateMachineArn": m, "name": format!("e{i}")}),
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    let _ = tracer.kill();
    let _ = tracer.wait();
    let traced = std::fs::read_to_string(&log).unwrap();
    assert!(
        traced.contains("fdatasync("),
        "no fdatasync seen:\n{traced}"
    );
}

/// A DynamoDB API call.
fn dynamodb(url: &str, action: &str, body: &Value) -> Value {
    ureq::post(url)
        .set("content-type", "application/x-amz-json-1.0")
        .set("x-amz-target", &format!("DynamoDB_20120810.{action}"))
        .send_string(&body.to_string())
        .unwrap()
        .into_json()
        .unwrap()
}

#[test]
fn integration_writes_survive_kill_9_exactly_as_the_history_says() {
    let dir = TempDir::new("crash-integrations");
    let mut server = Server::start(&dir.0, &[]);
    dynamodb(
        &server.url,
        "CreateTable",
        &json!({"TableName": "hits", "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]}),
    );
    // 3,000 increments, each a durable step with its write: kill -9 lands between, or
    // inside, a task's write and its answer.
    let definition = json!({"StartAt": "Count", "States": {
        "Count": {"Type": "Task", "Resource": "arn:aws:states:::dynamodb:updateItem",
                  "Parameters": {"TableName": "hits", "Key": {"id": {"S": "page"}}, "UpdateExpression": "ADD n :one",
                                 "ExpressionAttributeValues": {":one": {"N": "1"}}},
                  "ResultPath": null, "Next": "Next"},
        "Next": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "More?"},
        "More?": {"Type": "Choice", "Choices": [{"Variable": "$.i", "NumericLessThan": 3000, "Next": "Count"}], "Default": "Done"},
        "Done": {"Type": "Succeed"}}});
    let machine = server.create_machine("counter", &definition, "STANDARD");
    let started = server.ok(
        "StartExecution",
        json!({"stateMachineArn": machine, "name": "run", "input": json!({"i": 0}).to_string()}),
    );
    let arn = started["executionArn"].as_str().unwrap().to_string();
    let mut crashed_running = 0;
    for pause in [60, 90, 120] {
        std::thread::sleep(Duration::from_millis(pause));
        let before = server.ok("DescribeExecution", json!({"executionArn": arn}));
        crashed_running += usize::from(before["status"] == "RUNNING");
        server.crash_and_restart();
    }
    assert!(
        crashed_running > 0,
        "no kill landed mid-run: the test proves nothing"
    );
    let done = server.wait_done(&arn, Duration::from_secs(90));
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let answered = history(&server, &arn)
        .iter()
        .filter(|e| e["type"] == "TaskSucceeded")
        .count();
    let item = dynamodb(
        &server.url,
        "GetItem",
        &json!({"TableName": "hits", "Key": {"id": {"S": "page"}}}),
    );
    assert_eq!(answered, 3000);
    assert_eq!(
        item["Item"]["n"]["N"], "3000",
        "each increment the history shows happened once: none lost, none doubled"
    );
}

/// A Standard execution times out after a year, an Express one after five minutes, on the
/// test clock; the operator may lower the Standard limit. An execution that ends leaves
/// no timer behind.
#[test]
fn standard_executions_end_after_a_year_and_express_ones_after_five_minutes() {
    let dir = TempDir::new("time-limits");
    let start = "1798761600000"; // 2027-01-01
    let s = Server::start_with_env(&dir.0, &[("SANDSTEP_TEST_CLOCK", start)]);
    let long_wait = json!({"StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 99_999_999, "End": true}}});
    let standard = s.create_machine("patient", &long_wait, "STANDARD");
    let express = s.create_machine("hasty", &long_wait, "EXPRESS");
    let run = s.ok("StartExecution", json!({"stateMachineArn": standard}))["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let url = s.url.clone();
    let sync = std::thread::spawn(move || {
        crate::support::call_at(
            &url,
            "StartSyncExecution",
            json!({"stateMachineArn": express}),
            &[],
        )
        .unwrap()
    });
    // The sync start must be running before the clock moves.
    std::thread::sleep(Duration::from_millis(500));
    s.advance_clock(299 * 1000);
    std::thread::sleep(Duration::from_millis(200));
    assert!(!sync.is_finished(), "four minutes 59 in");
    s.advance_clock(2 * 1000);
    let answered = sync.join().unwrap();
    assert_eq!(answered["status"], "TIMED_OUT", "{answered}");
    assert_eq!(answered["error"], "States.Timeout", "{answered}");
    s.advance_clock(364 * 24 * 3600 * 1000);
    assert_eq!(
        s.ok("DescribeExecution", json!({"executionArn": run}))["status"],
        "RUNNING",
        "364 days in"
    );
    s.advance_clock(2 * 24 * 3600 * 1000);
    let done = s.wait_done(&run, Duration::from_secs(10));
    assert_eq!(
        (done["status"].as_str(), done["error"].as_str()),
        (Some("TIMED_OUT"), Some("States.Timeout")),
        "{done}"
    );
    drop(s);

    // The operator's lower limit.
    let dir = TempDir::new("time-limits-config");
    let config = dir.0.join("sandstep.toml");
    std::fs::write(&config, "max_standard_execution_seconds = 60\n").unwrap();
    let s = Server::start_with(
        &dir.0.join("data"),
        &["--config", config.to_str().unwrap()],
        &[("SANDSTEP_TEST_CLOCK", start)],
    );
    let standard = s.create_machine("brief", &long_wait, "STANDARD");
    let run = s.ok("StartExecution", json!({"stateMachineArn": standard}))["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    s.advance_clock(61 * 1000);
    let done = s.wait_done(&run, Duration::from_secs(10));
    assert_eq!(done["status"], "TIMED_OUT", "{done}");
}

#[test]
fn a_redriven_execution_survives_kill_9_and_the_redrive_window_closes_after_fourteen_days() {
    let dir = TempDir::new("redrive-durable");
    let start = 1_798_761_600_000_i64; // 2027-01-01
    let clock = start.to_string();
    let mut s = Server::start_with_env(&dir.0, &[("SANDSTEP_TEST_CLOCK", &clock)]);
    let slow = json!({"TimeoutSeconds": 60, "StartAt": "W", "States": {
        "W": {"Type": "Wait", "Seconds": 100, "Next": "Done"},
        "Done": {"Type": "Pass", "Result": "waited", "End": true}}});
    let machine = s.create_machine("slow", &slow, "STANDARD");
    let begin = |s: &Server| {
        s.ok("StartExecution", json!({"stateMachineArn": machine}))["executionArn"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let late = begin(&s);
    let run = begin(&s);
    s.advance_clock(61 * 1000);
    for arn in [&late, &run] {
        let done = s.wait_done(arn, Duration::from_secs(10));
        assert_eq!(done["status"], "TIMED_OUT", "{done}");
        assert_eq!(done["redriveStatus"], "REDRIVABLE", "{done}");
    }
    // Redriven: the time limit counts from the redrive, and a kill -9 loses none of it.
    let redriven = s.ok("RedriveExecution", json!({"executionArn": run}));
    assert_eq!(
        redriven["redriveDate"].as_f64(),
        Some((start + 61_000) as f64 / 1000.0)
    );
    let now = s.advance_clock(30 * 1000);
    s.restart_with_env(&[("SANDSTEP_TEST_CLOCK", &now.to_string())]);
    let described = s.ok("DescribeExecution", json!({"executionArn": run}));
    assert_eq!(
        (
            described["status"].as_str(),
            described["redriveCount"].as_u64()
        ),
        (Some("RUNNING"), Some(1)),
        "{described}"
    );
    s.advance_clock(31 * 1000);
    let done = s.wait_done(&run, Duration::from_secs(10));
    assert_eq!(
        (done["status"].as_str(), done["redriveCount"].as_u64()),
        (Some("TIMED_OUT"), Some(1)),
        "{done}"
    );
    // Fourteen days after it stopped, the other one can no longer be redriven.
    s.advance_clock(15 * 24 * 3600 * 1000);
    let described = s.ok("DescribeExecution", json!({"executionArn": late}));
    assert_eq!(described["redriveStatus"], "NOT_REDRIVABLE", "{described}");
    assert_eq!(
        described["redriveStatusReason"],
        "Execution redrivable period exceeded"
    );
    let e = s
        .call("RedriveExecution", json!({"executionArn": late}))
        .unwrap_err();
    assert_eq!(
        (e.1.as_str(), e.2.as_str()),
        (
            "ExecutionNotRedrivable",
            "Execution redrivable period exceeded"
        )
    );
}

/// ListExecutions of a Map Run's children with `status`.
fn children_with(s: &Server, map_run: &str, status: &str) -> Vec<Value> {
    s.ok(
        "ListExecutions",
        json!({"mapRunArn": map_run, "statusFilter": status}),
    )["executions"]
        .as_array()
        .unwrap()
        .clone()
}

/// Polls ListMapRuns until the execution `run` has started its Map Run; its ARN.
fn map_run_of(s: &Server, run: &str) -> String {
    let began = Instant::now();
    loop {
        let runs = s.ok("ListMapRuns", json!({"executionArn": run}))["mapRuns"].clone();
        if let Some(arn) = runs[0]["mapRunArn"].as_str() {
            return arn.to_string();
        }
        assert!(began.elapsed() < Duration::from_secs(10), "no Map Run");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls until `n` children of the Map Run have `status`.
fn until_children(s: &Server, map_run: &str, status: &str, n: usize) -> Vec<Value> {
    let began = Instant::now();
    loop {
        let found = children_with(s, map_run, status);
        if found.len() >= n {
            return found;
        }
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "{} of {n} children {status}: {}",
            found.len(),
            s.ok("ListExecutions", json!({"mapRunArn": map_run}))
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_map_run_survives_kill_9_without_running_its_finished_children_again() {
    let dir = TempDir::new("map-run-durable");
    let clock = "1798761600000"; // 2027-01-01
    let mut s = Server::start_with_env(&dir.0, &[("SANDSTEP_TEST_CLOCK", clock)]);
    let definition = json!({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "End": true, "MaxConcurrency": 2, "Label": "Slow",
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "W", "States": {
                "W": {"Type": "Wait", "Seconds": 10, "Next": "Done"},
                "Done": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "End": true}}}}}});
    let machine = s.create_machine("patient-map", &definition, "STANDARD");
    let items: Vec<Value> = (0..6).map(|n| json!({"n": n})).collect();
    let run = s.ok(
        "StartExecution",
        json!({"stateMachineArn": machine, "input": Value::Array(items).to_string()}),
    )["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let map_run = map_run_of(&s, &run);
    until_children(&s, &map_run, "RUNNING", 2);
    s.advance_clock(11_000);
    let finished = until_children(&s, &map_run, "SUCCEEDED", 2);
    until_children(&s, &map_run, "RUNNING", 2);
    // Killed with two children done and two waiting.
    let now = s.advance_clock(1_000);
    s.restart_with_env(&[("SANDSTEP_TEST_CLOCK", &now.to_string())]);
    s.advance_clock(11_000);
    until_children(&s, &map_run, "SUCCEEDED", 4);
    until_children(&s, &map_run, "RUNNING", 2);
    s.advance_clock(11_000);
    let done = s.wait_done(&run, Duration::from_secs(20));
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(
        output,
        json!([{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}, {"n": 5}])
    );
    let all = children_with(&s, &map_run, "SUCCEEDED");
    assert_eq!(all.len(), 6);
    for before in &finished {
        let after = all
            .iter()
            .find(|c| c["executionArn"] == before["executionArn"])
            .unwrap();
        assert_eq!(after["startDate"], before["startDate"], "ran once: {after}");
        assert_eq!(after["stopDate"], before["stopDate"], "ran once: {after}");
    }
    let described = s.ok("DescribeMapRun", json!({"mapRunArn": map_run}));
    assert_eq!(described["status"], "SUCCEEDED", "{described}");
    assert_eq!(described["itemCounts"]["succeeded"], 6, "{described}");
    // A child is a Standard execution of its own.
    let child = s.ok(
        "DescribeExecution",
        json!({"executionArn": all[0]["executionArn"]}),
    );
    assert_eq!(child["mapRunArn"], json!(map_run), "{child}");
    let pinned = s.ok(
        "DescribeStateMachineForExecution",
        json!({"executionArn": all[0]["executionArn"]}),
    );
    assert_eq!(
        (pinned["label"].as_str(), pinned["mapRunArn"].as_str()),
        (Some("Slow"), Some(map_run.as_str())),
        "{pinned}"
    );
    let processor: Value = serde_json::from_str(pinned["definition"].as_str().unwrap()).unwrap();
    assert_eq!(processor["StartAt"], "W");
}

#[test]
fn a_running_map_run_takes_updates_is_aborted_with_its_execution_and_redriven_across_a_kill_9() {
    let dir = TempDir::new("map-run-update");
    let mut s = Server::start_with_env(&dir.0, &[("SANDSTEP_TEST_CLOCK", "1798761600000")]);
    let definition = json!({"StartAt": "Each", "States": {"Each": {
        "Type": "Map", "End": true, "MaxConcurrency": 1, "ToleratedFailureCount": 2,
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 100, "End": true}}}}}});
    let machine = s.create_machine("updated-map", &definition, "STANDARD");
    let run = s.ok(
        "StartExecution",
        json!({"stateMachineArn": machine, "input": "[1, 2, 3, 4, 5]"}),
    )["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let map_run = map_run_of(&s, &run);
    until_children(&s, &map_run, "RUNNING", 1);
    let described = s.ok("DescribeMapRun", json!({"mapRunArn": map_run}));
    assert_eq!(
        (
            described["status"].as_str(),
            described["maxConcurrency"].as_u64(),
            described["toleratedFailureCount"].as_u64()
        ),
        (Some("RUNNING"), Some(1), Some(2)),
        "{described}"
    );
    s.ok(
        "UpdateMapRun",
        json!({"mapRunArn": map_run, "maxConcurrency": 3, "toleratedFailurePercentage": 50}),
    );
    until_children(&s, &map_run, "RUNNING", 3);
    let began = Instant::now();
    loop {
        let described = s.ok("DescribeMapRun", json!({"mapRunArn": map_run}));
        if described["maxConcurrency"] == 3 && described["itemCounts"]["running"] == 3 {
            assert_eq!(described["toleratedFailurePercentage"], 50.0, "{described}");
            assert_eq!(described["itemCounts"]["total"], 3, "{described}");
            break;
        }
        assert!(began.elapsed() < Duration::from_secs(10), "{described}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Stopping the execution aborts its Map Run and the children that run.
    s.ok("StopExecution", json!({"executionArn": run}));
    let began = Instant::now();
    loop {
        let described = s.ok("DescribeMapRun", json!({"mapRunArn": map_run}));
        if described["status"] == "ABORTED" {
            break;
        }
        assert!(began.elapsed() < Duration::from_secs(10), "{described}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(children_with(&s, &map_run, "ABORTED").len(), 3);
    let e = s
        .call(
            "UpdateMapRun",
            json!({"mapRunArn": map_run, "maxConcurrency": 4}),
        )
        .unwrap_err();
    assert_eq!(e.1, "ValidationException", "{e:?}");

    // Redriven, and killed at once: the same run goes on after the restart, running its
    // aborted children again and the items it never started.
    s.ok("RedriveExecution", json!({"executionArn": run}));
    let now = s.advance_clock(1_000);
    s.restart_with_env(&[("SANDSTEP_TEST_CLOCK", &now.to_string())]);
    until_children(&s, &map_run, "RUNNING", 3);
    s.advance_clock(101_000);
    until_children(&s, &map_run, "SUCCEEDED", 3);
    s.advance_clock(101_000);
    let done = s.wait_done(&run, Duration::from_secs(20));
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let described = s.ok("DescribeMapRun", json!({"mapRunArn": map_run}));
    assert_eq!(
        (
            described["status"].as_str(),
            described["redriveCount"].as_u64()
        ),
        (Some("SUCCEEDED"), Some(1)),
        "{described}"
    );
    assert_eq!(described["itemCounts"]["succeeded"], 5, "{described}");
}
