//! Several `sandstep serve` processes on one PostgreSQL database (`--store postgres://`):
//! one holds the store's lease and runs its work, the others wait as standbys. `kill -9`
//! of the active one, then of the next, and a process frozen (`SIGSTOP`) past its lease:
//! every execution finishes once, histories have no gaps and no repeated transitions, and
//! the frozen process, resumed, writes nothing and stops.

use crate::durability::history;
use crate::support::{module, postgres_store, Server, TempDir};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ECHO: &str = "arn:aws:lambda:us-east-1:000000000000:function:echo";

/// Tasks, Waits, a Map and a callback: each execution is busy for a few seconds.
fn definition() -> Value {
    json!({"StartAt": "T1", "States": {
        "T1": {"Type": "Task", "Resource": ECHO, "Parameters": {"n.$": "$.n"}, "ResultPath": "$.t1", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 1, "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "Each", "States": {
            "Each": {"Type": "Task", "Resource": ECHO, "End": true}}}, "ResultPath": "$.m", "Next": "W2"},
        "W2": {"Type": "Wait", "Seconds": 1, "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"n.$": "$.n", "t.$": "$.t1.n", "m.$": "$.m"}, "End": true}}})
}

/// A configuration file with a short lease, so the tests see a takeover quickly.
fn config(dir: &std::path::Path, lease_seconds: u64) -> String {
    let path = dir.join("sandstep.toml");
    std::fs::write(&path, format!("lease_seconds = {lease_seconds}\n")).unwrap();
    path.display().to_string()
}

/// Starts a server that may have to wait as a standby: it answers once it is active.
fn standby(dir: std::path::PathBuf, args: Vec<String>) -> std::thread::JoinHandle<Server> {
    std::thread::spawn(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Server::start(&dir, &args)
    })
}

/// Ids 1..=n, and each top-level state entered exactly once.
fn check_history(events: &[Value]) {
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "ids dense");
    let entered: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] != "MapIterationStarted")
        .filter(|e| e["type"].as_str().unwrap().ends_with("StateEntered"))
        .map(|e| e["stateEnteredEventDetails"]["name"].as_str().unwrap())
        .filter(|name| *name != "Each")
        .collect();
    assert_eq!(entered, ["T1", "W", "M", "W2", "P"], "each transition once");
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.last(), Some(&"ExecutionSucceeded"));
    assert_eq!(
        kinds.iter().filter(|k| **k == "ExecutionStarted").count(),
        1
    );
}

/// Every execution finished once, with the output of one clean run and a clean history.
fn check_all_done(server: &Server, names: &[String]) {
    let began = Instant::now();
    for (i, name) in names.iter().enumerate() {
        let arn = format!("arn:aws:states:us-east-1:000000000000:execution:pg:{name}");
        let left = Duration::from_secs(120).saturating_sub(began.elapsed());
        let done = server.wait_done(&arn, left);
        assert_eq!(done["status"], "SUCCEEDED", "{name}: {done}");
        let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
        assert_eq!(output, json!({"n": i, "t": i, "m": [1, 2, 3]}), "{name}");
        check_history(&history(server, &arn));
    }
}

#[test]
fn three_servers_on_postgres_carry_on_through_two_kill_9s() {
    let Some(url) = postgres_store("failover") else {
        return;
    };
    let dirs: Vec<TempDir> = (0..3).map(|i| TempDir::new(&format!("pg-{i}"))).collect();
    let cfg = config(&dirs[0].0, 2);
    let args = vec!["--store".to_string(), url, "--config".to_string(), cfg];
    let as_str: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut first = Server::start(&dirs[0].0, &as_str);
    let second = standby(dirs[1].0.clone(), args.clone());
    let third = standby(dirs[2].0.clone(), args.clone());
    first.upload("echo", &module("echo"), "").unwrap();
    first.create_machine("pg", &definition(), "STANDARD");
    let names: Vec<String> = (0..60).map(|i| format!("run-{i:03}")).collect();
    for (i, name) in names.iter().enumerate() {
        first.ok(
            "StartExecution",
            json!({"stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:pg",
                "name": name, "input": json!({"n": i, "items": [1, 2, 3]}).to_string()}),
        );
    }
    std::thread::sleep(Duration::from_millis(600));
    first.kill9();
    let killed = Instant::now();
    // One of the standbys takes over; the other stays a standby.
    let (mut active, waiting) = loop {
        if second.is_finished() {
            break (second.join().unwrap(), third);
        }
        if third.is_finished() {
            break (third.join().unwrap(), second);
        }
        assert!(killed.elapsed() < Duration::from_secs(20), "no takeover");
        std::thread::sleep(Duration::from_millis(20));
    };
    eprintln!("takeover after {:?}", killed.elapsed());
    std::thread::sleep(Duration::from_millis(1500));
    active.kill9();
    let last = waiting.join().unwrap();
    check_all_done(&last, &names);
    drop(first);
}

#[test]
fn a_server_frozen_past_its_lease_writes_nothing_when_it_resumes() {
    let Some(url) = postgres_store("frozen") else {
        return;
    };
    let dirs: Vec<TempDir> = (0..2)
        .map(|i| TempDir::new(&format!("pg-frozen-{i}")))
        .collect();
    let cfg = config(&dirs[0].0, 2);
    let args = vec!["--store".to_string(), url, "--config".to_string(), cfg];
    let as_str: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut frozen = Server::start(&dirs[0].0, &as_str);
    let next = standby(dirs[1].0.clone(), args.clone());
    frozen.upload("echo", &module("echo"), "").unwrap();
    frozen.create_machine("pg", &definition(), "STANDARD");
    let names: Vec<String> = (0..30).map(|i| format!("run-{i:03}")).collect();
    for (i, name) in names.iter().enumerate() {
        frozen.ok(
            "StartExecution",
            json!({"stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:pg",
                "name": name, "input": json!({"n": i, "items": [1, 2, 3]}).to_string()}),
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    let pid = frozen.pid().to_string();
    let signal = |sig: &str| {
        assert!(std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success());
    };
    signal("-STOP");
    let active = next.join().unwrap();
    // Everything finishes on the new server while the old one is frozen with its work.
    std::thread::sleep(Duration::from_millis(500));
    signal("-CONT");
    // Resumed, it finds its lease gone: it stops, and none of its writes landed.
    assert!(
        frozen.wait_exit(Duration::from_secs(10)),
        "the resumed server did not stop"
    );
    check_all_done(&active, &names);
}
