//! Clients other than the Rust SDK, as users run them: boto3 (the AWS CLI's botocore)
//! sends StartSyncExecution and TestState to `sync-<host>` unless told not to; both of
//! its switches reach a self-hosted endpoint.

use crate::support::{Server, TempDir};
use serde_json::json;
use std::process::Command;

/// Runs a Python script with boto3 against `url`; its stdout.
fn boto3(url: &str, script: &str, env: &[(&str, &str)]) -> String {
    let program =
        format!("import boto3\nfrom botocore.config import Config\nURL = {url:?}\n{script}");
    let mut command = Command::new("python3");
    command
        .args(["-c", &program])
        .env("AWS_ACCESS_KEY_ID", "AKIDANYTHING")
        .env("AWS_SECRET_ACCESS_KEY", "any-secret")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_DISABLE_HOST_PREFIX_INJECTION");
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command
        .output()
        .expect("python3 runs (the test command installs boto3)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn boto3_reaches_sync_actions_with_either_host_prefix_switch() {
    let dir = TempDir::new("clients-boto3");
    let s = Server::start(&dir.0, &[]);
    let machine = s.create_machine(
        "fast",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "done", "End": true}}}),
        "EXPRESS",
    );
    let start = format!(
        "print(c.start_sync_execution(stateMachineArn={machine:?}, input='{{}}')['output'])"
    );
    // The client setting.
    let configured = format!(
        "c = boto3.client('stepfunctions', endpoint_url=URL, config=Config(inject_host_prefix=False))\n{start}"
    );
    assert_eq!(boto3(&s.url, &configured, &[]), "\"done\"");
    // The environment variable, which the AWS CLI reads too.
    let plain = format!("c = boto3.client('stepfunctions', endpoint_url=URL)\n{start}");
    assert_eq!(
        boto3(
            &s.url,
            &plain,
            &[("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")]
        ),
        "\"done\""
    );
    let tested = boto3(
        &s.url,
        "c = boto3.client('stepfunctions', endpoint_url=URL, config=Config(inject_host_prefix=False))\n\
         r = c.test_state(definition='{\"Type\": \"Pass\", \"Result\": 1, \"Next\": \"N\"}')\n\
         print(r['status'], r['nextState'])",
        &[],
    );
    assert_eq!(tested, "SUCCEEDED N");
}
