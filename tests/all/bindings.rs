//! Resource bindings end to end through `sandstep serve`: definitions that call services
//! Sandstep does not host run unchanged once a module plays the resource.

use crate::support::{module, output, Server, TempDir};
use serde_json::{json, Value};
use std::time::Duration;

const TRANSLATE: &str = "arn:aws:states:::aws-sdk:translate:translateText";

/// `PUT /v1/bindings`; `Ok(body)` or `Err((status, body))`.
fn bind(s: &Server, resource: &str, module: &str) -> Result<Value, (u16, String)> {
    let answer = ureq::put(&format!("{}/v1/bindings", s.url))
        .send_json(json!({"resource": resource, "module": module}));
    match answer {
        Ok(r) => Ok(r.into_json().unwrap()),
        Err(ureq::Error::Status(code, r)) => Err((code, r.into_string().unwrap_or_default())),
        Err(e) => panic!("{e}"),
    }
}

fn events(s: &Server, arn: &str) -> Vec<Value> {
    s.ok(
        "GetExecutionHistory",
        json!({"executionArn": arn, "maxResults": 1000}),
    )["events"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn bound_aws_sdk_resources_answer_fail_by_name_sync_and_wait_for_their_token() {
    let dir = TempDir::new("bindings-run");
    let s = Server::start(&dir.0, &[]);
    s.upload("translate", &module("translate"), "").unwrap();
    s.upload("echo", &module("echo"), "").unwrap();
    bind(&s, "arn:aws:states:::aws-sdk:translate:*", "translate").unwrap();

    // A definition as written for AWS: the service's error caught by its name.
    let definition = json!({"StartAt": "Translate", "States": {
        "Translate": {"Type": "Task", "Resource": TRANSLATE,
            "Parameters": {"Text.$": "$.text", "SourceLanguageCode": "en", "TargetLanguageCode.$": "$.to"},
            "Catch": [{"ErrorEquals": ["Translate.UnsupportedLanguagePairException"], "ResultPath": "$.error", "Next": "Unsupported"}],
            "End": true},
        "Unsupported": {"Type": "Pass", "End": true}}});
    let machine = s.create_machine("translate", &definition, "STANDARD");
    let out = output(&s.run(&machine, json!({"text": "Hello world", "to": "es"})));
    assert_eq!(out["TranslatedText"], "Hola mundo", "{out}");
    let caught = output(&s.run(&machine, json!({"text": "Hello", "to": "xx"})));
    assert_eq!(
        caught["error"]["Error"], "Translate.UnsupportedLanguagePairException",
        "{caught}"
    );

    // `.sync`: the module runs the job to its end; its answer is the job's result. It
    // receives the call's service, action, parameters and context.
    bind(&s, "arn:aws:states:::glue:startJobRun.sync", "echo").unwrap();
    let glue = json!({"StartAt": "Job", "States": {
        "Job": {"Type": "Task", "Resource": "arn:aws:states:::glue:startJobRun.sync",
            "Parameters": {"JobName": "nightly"}, "End": true}}});
    let machine = s.create_machine("glue", &glue, "STANDARD");
    let done = s.run(&machine, json!({}));
    let call = output(&done);
    assert_eq!(call["service"], "glue");
    assert_eq!(call["action"], "startJobRun");
    assert_eq!(call["parameters"], json!({"JobName": "nightly"}));
    assert_eq!(call["context"]["State"]["Name"], "Job");
    assert_eq!(call["context"]["Execution"]["Id"], done["executionArn"]);

    // `.waitForTaskToken`: the exact binding wins over the prefix; the module's answer
    // (the call, with its token) is only the submission; SendTaskSuccess ends the task.
    bind(&s, &format!("{TRANSLATE}.waitForTaskToken"), "echo").unwrap();
    let waiting = json!({"StartAt": "Ask", "States": {
        "Ask": {"Type": "Task", "Resource": format!("{TRANSLATE}.waitForTaskToken"),
            "Parameters": {"Text": "hi", "TaskToken.$": "$$.Task.Token"}, "End": true}}});
    let machine = s.create_machine("waiting", &waiting, "STANDARD");
    let arn = s.start_execution(&machine, json!({}));
    let token = loop {
        let submitted = events(&s, &arn)
            .into_iter()
            .find(|e| e["type"] == "TaskSubmitted");
        if let Some(e) = submitted {
            let output: Value =
                serde_json::from_str(e["taskSubmittedEventDetails"]["output"].as_str().unwrap())
                    .unwrap();
            assert_eq!(
                output["parameters"]["TaskToken"],
                output["context"]["Task"]["Token"]
            );
            break output["context"]["Task"]["Token"]
                .as_str()
                .unwrap()
                .to_string();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    s.ok(
        "SendTaskSuccess",
        json!({"taskToken": token, "output": "{\"TranslatedText\": \"hola\"}"}),
    );
    let done = s.wait_done(&arn, Duration::from_secs(30));
    assert_eq!(output(&done), json!({"TranslatedText": "hola"}));
}

#[test]
fn an_execution_keeps_the_binding_it_started_with() {
    let dir = TempDir::new("bindings-pinned");
    let s = Server::start(&dir.0, &[]);
    s.upload("translate", &module("translate"), "").unwrap();
    s.upload("echo", &module("echo"), "").unwrap();
    bind(&s, "arn:aws:states:::aws-sdk:translate:*", "translate").unwrap();
    let definition = json!({"StartAt": "Later", "States": {
        "Later": {"Type": "Wait", "Seconds": 2, "Next": "Translate"},
        "Translate": {"Type": "Task", "Resource": TRANSLATE,
            "Parameters": {"Text": "good morning", "SourceLanguageCode": "en", "TargetLanguageCode": "fr"},
            "End": true}}});
    let machine = s.create_machine("later", &definition, "STANDARD");
    let first = s.start_execution(&machine, json!({}));
    // While it waits: the binding moves to another module, and the module it pinned
    // cannot be deleted under it.
    bind(&s, "arn:aws:states:::aws-sdk:translate:*", "echo").unwrap();
    let deleted = ureq::delete(&format!("{}/v1/modules/translate", s.url)).call();
    match deleted {
        Err(ureq::Error::Status(409, r)) => {
            assert!(r.into_string().unwrap().contains("ModuleInUse"))
        }
        other => panic!("deleting a pinned module: {other:?}"),
    }
    let done = s.wait_done(&first, Duration::from_secs(30));
    assert_eq!(output(&done)["TranslatedText"], "bon matin");
    // A new execution runs what the binding says now.
    let second = output(&s.run(&machine, json!({})));
    assert_eq!(second["service"], "translate", "{second}");
}

#[test]
fn an_unbound_resource_is_a_warning_at_validation_and_a_clear_failure_when_reached() {
    let dir = TempDir::new("bindings-unbound");
    let s = Server::start(&dir.0, &[]);
    let definition = json!({"StartAt": "Labels", "States": {
        "Labels": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:rekognition:detectLabels",
            "Parameters": {"Image": {"S3Object": {"Bucket": "b", "Name": "cat.jpg"}}},
            "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}],
            "End": true}}});
    let checked = s.ok(
        "ValidateStateMachineDefinition",
        json!({"definition": definition.to_string()}),
    );
    assert_eq!(checked["result"], "OK", "{checked}");
    let diagnostics = checked["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 1, "{checked}");
    assert_eq!(diagnostics[0]["severity"], "WARNING");
    assert_eq!(diagnostics[0]["code"], "UNBOUND_RESOURCE");
    assert_eq!(diagnostics[0]["location"], "/States/Labels/Resource");
    // Accepted, as AWS accepts it; it fails when it gets there, saying how to bind it.
    let machine = s.create_machine("labels", &definition, "STANDARD");
    let done = s.run(&machine, json!({}));
    assert_eq!(done["status"], "FAILED", "{done}");
    assert_eq!(done["error"], "States.Runtime");
    let cause = done["cause"].as_str().unwrap();
    assert!(
        cause.contains("arn:aws:states:::aws-sdk:rekognition:detectLabels")
            && cause.contains("sandstep binding set"),
        "{cause}"
    );
    // Bound through the CLI, the warning goes and the state runs.
    s.upload("echo", &module("echo"), "").unwrap();
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
    cli(&[
        "binding",
        "set",
        "arn:aws:states:::aws-sdk:rekognition:*",
        "echo:1",
    ]);
    let listed = cli(&["binding", "list"]);
    assert!(
        listed.contains("arn:aws:states:::aws-sdk:rekognition:*") && listed.contains("echo:1"),
        "{listed}"
    );
    let checked = s.ok(
        "ValidateStateMachineDefinition",
        json!({"definition": definition.to_string()}),
    );
    assert_eq!(checked["diagnostics"], json!([]), "{checked}");
    let out = output(&s.run(&machine, json!({})));
    assert_eq!(out["action"], "detectLabels");
    cli(&[
        "binding",
        "delete",
        "arn:aws:states:::aws-sdk:rekognition:*",
    ]);
    let listed: Value = ureq::get(&format!("{}/v1/bindings", s.url))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(listed["bindings"], json!([]));
}

#[test]
fn bad_bindings_are_refused_with_clear_errors() {
    let dir = TempDir::new("bindings-bad");
    let s = Server::start(&dir.0, &[]);
    s.upload("echo", &module("echo"), "").unwrap();
    for (resource, module, status, says) in [
        ("arn:aws:*:translate", "echo", 400, "may only end"),
        ("", "echo", 400, "1-300 characters"),
        ("arn:aws:states:::glue:*", "echo x", 400, "name:version"),
        ("arn:aws:states:::glue:*", "nothing", 404, "does not exist"),
        ("arn:aws:states:::glue:*", "echo:9", 404, "no version 9"),
    ] {
        let (code, body) = bind(&s, resource, module).unwrap_err();
        assert_eq!(code, status, "{resource} {module}: {body}");
        assert!(body.contains(says), "{resource} {module}: {body}");
    }
    let malformed = ureq::put(&format!("{}/v1/bindings", s.url)).send_string("{\"resource\": 1}");
    assert!(matches!(malformed, Err(ureq::Error::Status(400, _))));
    let missing = ureq::delete(&format!(
        "{}/v1/bindings?resource=arn:aws:states:::glue:*",
        s.url
    ))
    .call();
    assert!(matches!(missing, Err(ureq::Error::Status(404, _))));
}
