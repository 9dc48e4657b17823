//! The `sandstep` binary's contract: exit codes and what goes to stdout.

use std::path::PathBuf;
use std::process::Command;

fn sandstep() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sandstep"))
}

fn write_temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sandstep-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = sandstep().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const HELLO: &str = r#"{"StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": {"greeting": "hi"}, "ResultPath": "$.out", "End": true}}}"#;

#[test]
fn validate_prints_ok_for_a_valid_definition() {
    let def = write_temp("valid.json", HELLO);
    let (code, stdout, _) = run(&["validate", def.to_str().unwrap()]);
    assert_eq!((code, stdout.trim()), (0, "OK"));
}

#[test]
fn validate_prints_one_diagnostic_per_line_and_exits_2() {
    let def = write_temp(
        "invalid.json",
        r#"{"States": {"A": {"Type": "Pass", "Next": "Nowhere"}}}"#,
    );
    let (code, stdout, _) = run(&["validate", def.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("SCHEMA_VALIDATION_FAILED")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("MISSING_TRANSITION_TARGET")),
        "{stdout}"
    );
}

#[test]
fn run_prints_only_the_output() {
    let def = write_temp("hello.json", HELLO);
    let (code, stdout, _) = run(&["run", def.to_str().unwrap(), "--input", r#"{"a": 1}"#]);
    assert_eq!(code, 0);
    let output: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        output,
        serde_json::json!({"a": 1, "out": {"greeting": "hi"}})
    );
}

#[test]
fn run_reads_input_from_a_file() {
    let def = write_temp("hello2.json", HELLO);
    let input = write_temp("input.json", r#"{"b": true}"#);
    let (code, stdout, _) = run(&[
        "run",
        def.to_str().unwrap(),
        "--input",
        &format!("@{}", input.display()),
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()["b"],
        true
    );
}

#[test]
fn run_reports_a_failure_as_json_and_exits_1() {
    let def = write_temp(
        "fail.json",
        r#"{"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Boom", "Cause": "it broke"}}}"#,
    );
    let (code, stdout, _) = run(&["run", def.to_str().unwrap()]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report,
        serde_json::json!({"status": "FAILED", "error": "Boom", "cause": "it broke"})
    );
}

#[test]
fn run_reports_an_execution_timeout() {
    let def = write_temp(
        "timeout.json",
        r#"{"TimeoutSeconds": 1, "StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": true}}}"#,
    );
    let (code, stdout, _) = run(&["run", def.to_str().unwrap()]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["status"], "TIMED_OUT");
    assert_eq!(report["error"], "States.Timeout");
}

#[test]
fn run_refuses_an_invalid_definition_with_exit_2() {
    let def = write_temp("bad.json", r#"{"StartAt": "Missing", "States": {}}"#);
    let (code, stdout, stderr) = run(&["run", def.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(!stderr.is_empty());
}

#[test]
fn run_refuses_jsonata_clearly() {
    let def = write_temp(
        "jsonata.json",
        r#"{"QueryLanguage": "JSONata", "StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
    );
    let (code, _, stderr) = run(&["run", def.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("JSONata"), "{stderr}");
}

#[test]
fn run_history_prints_aws_shaped_events() {
    let def = write_temp("history.json", HELLO);
    let (code, stdout, _) = run(&["run", def.to_str().unwrap(), "--history"]);
    assert_eq!(code, 0);
    let events: Vec<serde_json::Value> = serde_json::from_str(&stdout).unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    assert_eq!(events[1]["stateEnteredEventDetails"]["name"], "Hello");
    assert_eq!(events[1]["previousEventId"], 1);
}

#[test]
fn wait_states_really_wait() {
    let def = write_temp(
        "wait.json",
        r#"{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": true}}}"#,
    );
    let began = std::time::Instant::now();
    let (code, _, _) = run(&["run", def.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(began.elapsed() >= std::time::Duration::from_secs(1));
}
