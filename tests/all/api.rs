//! The AWS JSON protocol, the module API and tenants, over HTTP against the real binary.

use crate::support::{aws_json, call_at, module, Server, TempDir};
use sandstep::api::sigv4;
use serde_json::{json, Value};
use std::time::Duration;

const PASS: &str = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#;

fn def() -> Value {
    serde_json::from_str(PASS).unwrap()
}

#[test]
fn state_machine_lifecycle_and_errors() {
    let dir = TempDir::new("machines");
    let s = Server::start(&dir.0, &[]);
    let arn = s.create_machine("orders", &def(), "STANDARD");
    assert_eq!(
        arn,
        "arn:aws:states:us-east-1:000000000000:stateMachine:orders"
    );
    // Idempotent for the same definition; refused for another.
    assert_eq!(s.create_machine("orders", &def(), "STANDARD"), arn);
    let other = json!({"StartAt": "B", "States": {"B": {"Type": "Succeed"}}});
    let e = s.call("CreateStateMachine", json!({"name": "orders", "definition": other.to_string(), "roleArn": "arn:aws:iam::000000000000:role/r"})).unwrap_err();
    assert_eq!((e.0, e.1.as_str()), (400, "StateMachineAlreadyExists"));

    let d = s.ok("DescribeStateMachine", json!({"stateMachineArn": arn}));
    assert_eq!(
        (d["name"].as_str(), d["type"].as_str(), d["status"].as_str()),
        (Some("orders"), Some("STANDARD"), Some("ACTIVE"))
    );
    assert_eq!(
        serde_json::from_str::<Value>(d["definition"].as_str().unwrap()).unwrap(),
        def()
    );

    let u = s.ok(
        "UpdateStateMachine",
        json!({"stateMachineArn": arn, "definition": other.to_string()}),
    );
    assert!(u["updateDate"].is_number() && u["revisionId"].is_string());
    let d = s.ok("DescribeStateMachine", json!({"stateMachineArn": arn}));
    assert_eq!(
        serde_json::from_str::<Value>(d["definition"].as_str().unwrap()).unwrap(),
        other
    );
    let e = s
        .call("UpdateStateMachine", json!({"stateMachineArn": arn}))
        .unwrap_err();
    assert_eq!(e.1, "MissingRequiredParameter");

    let bad = json!({"StartAt": "Nope", "States": {"A": {"Type": "Pass", "End": true}}});
    let e = s.call("CreateStateMachine", json!({"name": "bad", "definition": bad.to_string(), "roleArn": "arn:aws:iam::000000000000:role/r"})).unwrap_err();
    assert_eq!(e.1, "InvalidDefinition");
    assert!(
        e.2.starts_with("Invalid State Machine Definition: '"),
        "{}",
        e.2
    );
    assert!(e.2.contains("MISSING_TRANSITION_TARGET"), "{}", e.2);
    let e = s.call("CreateStateMachine", json!({"name": "bad name", "definition": PASS, "roleArn": "arn:aws:iam::000000000000:role/r"})).unwrap_err();
    assert_eq!(e.1, "InvalidName");
    let e = s
        .call(
            "CreateStateMachine",
            json!({"name": "x", "definition": PASS, "roleArn": "not-an-arn"}),
        )
        .unwrap_err();
    assert_eq!(e.1, "InvalidArn");
    let e = s
        .call(
            "CreateStateMachine",
            json!({"name": "x", "definition": PASS}),
        )
        .unwrap_err();
    assert_eq!(e.1, "ValidationException");
    let e = s.call("CreateStateMachine", json!({"name": "x", "definition": PASS, "roleArn": "arn:aws:iam::000000000000:role/r", "versionDescription": "v1"})).unwrap_err();
    assert_eq!(
        (e.1.as_str(), e.2.as_str()),
        (
            "ValidationException",
            "Version description can only be set when publish is true"
        )
    );
    let e = s.call("DescribeStateMachine", json!({"stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:missing"})).unwrap_err();
    assert_eq!(e.1, "StateMachineDoesNotExist");
    let e = s
        .call(
            "DescribeStateMachine",
            json!({"stateMachineArn": "garbage"}),
        )
        .unwrap_err();
    assert_eq!(e.1, "InvalidArn");
    let e = s.call("NoSuchAction", json!({})).unwrap_err();
    assert_eq!(e.1, "UnknownOperationException");
    let e = s.call("TestState", json!({})).unwrap_err();
    assert_eq!(e.1, "ValidationException");
    let e = s.call("DescribeMapRun", json!({})).unwrap_err();
    assert_eq!(e.1, "ValidationException", "{e:?}");
    let e = s.call("RedriveExecution", json!({})).unwrap_err();
    assert_eq!(e.1, "ValidationException", "{e:?}");
    let e = s.call("GetActivityTask", json!({})).unwrap_err();
    assert_eq!(e.1, "ValidationException", "{e:?}");
    let e = s
        .call("SendTaskSuccess", json!({"output": "{}"}))
        .unwrap_err();
    assert_eq!(
        (e.1.as_str(), e.2.as_str()),
        (
            "ValidationException",
            "1 validation error detected: Value null at 'taskToken' failed to satisfy constraint: Member must not be null"
        )
    );

    let v = s.ok(
        "ValidateStateMachineDefinition",
        json!({"definition": bad.to_string()}),
    );
    assert_eq!(v["result"], "FAIL");
    assert_eq!(v["diagnostics"][0]["severity"], "ERROR");
    assert_eq!(
        s.ok(
            "ValidateStateMachineDefinition",
            json!({"definition": PASS})
        )["result"],
        "OK"
    );

    s.ok("TagResource", json!({"resourceArn": arn, "tags": [{"key": "team", "value": "a"}, {"key": "env", "value": "dev"}]}));
    s.ok(
        "UntagResource",
        json!({"resourceArn": arn, "tagKeys": ["env"]}),
    );
    assert_eq!(
        s.ok("ListTagsForResource", json!({"resourceArn": arn}))["tags"],
        json!([{"key": "team", "value": "a"}])
    );

    // Deleted through another spelling of its ARN (another partition prefix).
    let spelled = arn.replace("arn:aws:", "arn:aws-us-gov:");
    s.ok("DeleteStateMachine", json!({"stateMachineArn": spelled}));
    let e = s
        .call("DescribeStateMachine", json!({"stateMachineArn": arn}))
        .unwrap_err();
    assert_eq!(e.1, "StateMachineDoesNotExist");
    // Re-created under the same name, it does not inherit the deleted machine's tags.
    s.ok("CreateStateMachine", json!({"name": "orders", "definition": PASS, "roleArn": "arn:aws:iam::000000000000:role/r"}));
    assert_eq!(
        s.ok("ListTagsForResource", json!({"resourceArn": arn}))["tags"],
        json!([])
    );

    // A bad tag refuses the whole creation: no machine is left behind.
    let e = s
        .call("CreateStateMachine", json!({"name": "tagged", "definition": PASS, "roleArn": "arn:aws:iam::000000000000:role/r", "tags": [{"key": "", "value": "x"}]}))
        .unwrap_err();
    assert_eq!(e.1, "ValidationException");
    let gone = "arn:aws:states:us-east-1:000000000000:stateMachine:tagged";
    let e = s
        .call("DescribeStateMachine", json!({"stateMachineArn": gone}))
        .unwrap_err();
    assert_eq!(e.1, "StateMachineDoesNotExist");
}

#[test]
fn lists_paginate() {
    let dir = TempDir::new("pages");
    let s = Server::start(&dir.0, &[]);
    for i in 0..7 {
        s.create_machine(&format!("m{i}"), &def(), "STANDARD");
    }
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = json!({"maxResults": 3});
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let page = s.ok("ListStateMachines", req);
        let items = page["stateMachines"].as_array().unwrap();
        assert!(items.len() <= 3);
        names.extend(
            items
                .iter()
                .map(|m| m["name"].as_str().unwrap().to_string()),
        );
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(names, (0..7).map(|i| format!("m{i}")).collect::<Vec<_>>());
    let e = s
        .call("ListStateMachines", json!({"nextToken": "zz"}))
        .unwrap_err();
    assert_eq!(e.1, "InvalidToken");
    let e = s
        .call("ListStateMachines", json!({"maxResults": 5000}))
        .unwrap_err();
    assert_eq!(e.1, "ValidationException");

    let m = "arn:aws:states:us-east-1:000000000000:stateMachine:m0";
    for i in 0..5 {
        s.ok(
            "StartExecution",
            json!({"stateMachineArn": m, "name": format!("e{i}")}),
        );
        std::thread::sleep(Duration::from_millis(3));
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut req = json!({"stateMachineArn": m, "maxResults": 2, "statusFilter": "SUCCEEDED"});
        if let Some(t) = &token {
            req["nextToken"] = json!(t);
        }
        let page = s.ok("ListExecutions", req);
        seen.extend(
            page["executions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["name"].as_str().unwrap().to_string()),
        );
        match page["nextToken"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["e4", "e3", "e2", "e1", "e0"], "newest first");
    // Crafted tokens (hex of the position text) are InvalidToken, never a 500 or a panic.
    let hex = |t: &str| t.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    for crafted in ["abc|x", "-9223372036854775808|x", "5|", "no-separator"] {
        let e = s
            .call(
                "ListExecutions",
                json!({"stateMachineArn": m, "nextToken": hex(crafted)}),
            )
            .unwrap_err();
        assert_eq!((e.0, e.1.as_str()), (400, "InvalidToken"), "{crafted}");
    }
    let arn = "arn:aws:states:us-east-1:000000000000:execution:m0:e0";
    let far = s.ok(
        "GetExecutionHistory",
        json!({"executionArn": arn, "maxResults": 1000, "nextToken": hex("18446744073709551615")}),
    );
    assert_eq!(
        far["events"],
        json!([]),
        "a start past the end is an empty page"
    );
    let running = s.ok(
        "ListExecutions",
        json!({"stateMachineArn": m, "statusFilter": "RUNNING"}),
    );
    assert!(running["executions"].as_array().unwrap().is_empty());
}

#[test]
fn executions_describe_history_and_idempotency() {
    let dir = TempDir::new("executions");
    let s = Server::start(&dir.0, &[]);
    let wait = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "Next": "P"}, "P": {"Type": "Pass", "End": true}}});
    let m = s.create_machine("w", &wait, "STANDARD");
    let first = s.ok(
        "StartExecution",
        json!({"stateMachineArn": m, "name": "once", "input": "{\"k\": 1}"}),
    );
    let again = s.ok(
        "StartExecution",
        json!({"stateMachineArn": m, "name": "once", "input": "{\"k\": 1}"}),
    );
    assert_eq!(
        first["executionArn"], again["executionArn"],
        "same name and input while running: same execution"
    );
    let e = s
        .call(
            "StartExecution",
            json!({"stateMachineArn": m, "name": "once", "input": "{\"k\": 2}"}),
        )
        .unwrap_err();
    assert_eq!(e.1, "ExecutionAlreadyExists");
    let e = s
        .call(
            "StartExecution",
            json!({"stateMachineArn": m, "input": "not json"}),
        )
        .unwrap_err();
    assert_eq!(e.1, "InvalidExecutionInput");
    let arn = first["executionArn"].as_str().unwrap();
    let running = s.ok("DescribeExecution", json!({"executionArn": arn}));
    assert_eq!(running["status"], "RUNNING");
    let done = s.wait_done(arn, Duration::from_secs(10));
    assert_eq!(
        (done["status"].as_str(), done["output"].as_str()),
        (Some("SUCCEEDED"), Some("{\"k\":1}"))
    );
    assert!(done["stopDate"].as_f64().unwrap() >= done["startDate"].as_f64().unwrap());
    let sm = s.ok(
        "DescribeStateMachineForExecution",
        json!({"executionArn": arn}),
    );
    assert_eq!(
        serde_json::from_str::<Value>(sm["definition"].as_str().unwrap()).unwrap(),
        wait
    );

    let h = s.ok("GetExecutionHistory", json!({"executionArn": arn}));
    let kinds: Vec<&str> = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "ExecutionStarted",
            "WaitStateEntered",
            "WaitStateExited",
            "PassStateEntered",
            "PassStateExited",
            "ExecutionSucceeded"
        ]
    );
    let r = s.ok("GetExecutionHistory", json!({"executionArn": arn, "reverseOrder": true, "maxResults": 2, "includeExecutionData": false}));
    let events = r["events"].as_array().unwrap();
    assert_eq!(
        (events[0]["type"].as_str(), events.len()),
        (Some("ExecutionSucceeded"), 2)
    );
    assert!(events[0]["executionSucceededEventDetails"]
        .get("output")
        .is_none());
    assert!(r["nextToken"].is_string());
    let e = s
        .call(
            "DescribeExecution",
            json!({"executionArn": "arn:aws:states:us-east-1:000000000000:execution:w:missing"}),
        )
        .unwrap_err();
    assert_eq!(e.1, "ExecutionDoesNotExist");
}

pub(crate) fn signed(
    url: &str,
    action: &str,
    body: &Value,
    key: &str,
    secret: &str,
) -> Result<Value, (u16, String, String)> {
    let text = body.to_string();
    let host = url.trim_start_matches("http://").to_string();
    let headers = vec![
        ("host".to_string(), host),
        (
            "content-type".to_string(),
            "application/x-amz-json-1.0".to_string(),
        ),
        (
            "x-amz-target".to_string(),
            format!("AWSStepFunctions.{action}"),
        ),
    ];
    let req = sigv4::Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: text.as_bytes(),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let extra = sigv4::sign(&req, key, secret, "us-east-1", "states", now);
    let extra: Vec<(&str, &str)> = extra
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    call_at(url, action, body.clone(), &extra)
}

#[test]
fn two_tenants_cannot_see_each_other() {
    let dir = TempDir::new("tenants");
    let s = Server::start(&dir.0, &["--admin-token", "root-token"]);
    let a = s.create_tenant("root-token", "acme");
    let b = s.create_tenant("root-token", "globex");
    let e = ureq::post(&format!("{}/v1/tenants", s.url))
        .set("authorization", "Bearer wrong")
        .send_json(json!({"name": "x"}));
    assert!(matches!(e, Err(ureq::Error::Status(400, _))));
    let (ak, asec) = (
        a["accessKeyId"].as_str().unwrap(),
        a["secretAccessKey"].as_str().unwrap(),
    );
    let (bk, bsec) = (
        b["accessKeyId"].as_str().unwrap(),
        b["secretAccessKey"].as_str().unwrap(),
    );

    let create_body = json!({"name": "shared-name", "definition": PASS, "roleArn": "arn:aws:iam::000000000000:role/r"});
    let a_arn = signed(&s.url, "CreateStateMachine", &create_body, ak, asec).unwrap()
        ["stateMachineArn"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(a_arn.contains(a["account"].as_str().unwrap()));
    // B sees nothing of A's, even by A's ARN, and may use the same name.
    assert!(
        signed(&s.url, "ListStateMachines", &json!({}), bk, bsec).unwrap()["stateMachines"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let e = signed(
        &s.url,
        "DescribeStateMachine",
        &json!({"stateMachineArn": a_arn}),
        bk,
        bsec,
    )
    .unwrap_err();
    assert_eq!(e.1, "StateMachineDoesNotExist");
    let e = signed(
        &s.url,
        "StartExecution",
        &json!({"stateMachineArn": a_arn}),
        bk,
        bsec,
    )
    .unwrap_err();
    assert_eq!(e.1, "StateMachineDoesNotExist");
    signed(&s.url, "CreateStateMachine", &create_body, bk, bsec).unwrap();
    let ex = signed(
        &s.url,
        "StartExecution",
        &json!({"stateMachineArn": a_arn, "name": "a1"}),
        ak,
        asec,
    )
    .unwrap();
    let e = signed(
        &s.url,
        "DescribeExecution",
        &json!({"executionArn": ex["executionArn"]}),
        bk,
        bsec,
    )
    .unwrap_err();
    assert_eq!(e.1, "ExecutionDoesNotExist");
    let e = signed(
        &s.url,
        "GetExecutionHistory",
        &json!({"executionArn": ex["executionArn"]}),
        bk,
        bsec,
    )
    .unwrap_err();
    assert_eq!(e.1, "ExecutionDoesNotExist");
    let e = signed(
        &s.url,
        "StopExecution",
        &json!({"executionArn": ex["executionArn"]}),
        bk,
        bsec,
    )
    .unwrap_err();
    assert_eq!(e.1, "ExecutionDoesNotExist");

    // Authentication errors in AWS's shapes.
    let e = s.call("ListStateMachines", json!({})).unwrap_err();
    assert_eq!(e.1, "MissingAuthenticationTokenException");
    let e = signed(&s.url, "ListStateMachines", &json!({}), ak, "wrong-secret").unwrap_err();
    assert_eq!(e.1, "InvalidSignatureException");
    let e = signed(&s.url, "ListStateMachines", &json!({}), "AKIDUNKNOWN", asec).unwrap_err();
    assert_eq!(e.1, "UnrecognizedClientException");
    // The API key works as a bearer token.
    let bearer = format!("Bearer {}", a["apiKey"].as_str().unwrap());
    let listed = call_at(
        &s.url,
        "ListStateMachines",
        json!({}),
        &[("authorization", &bearer)],
    )
    .unwrap();
    assert_eq!(listed["stateMachines"].as_array().unwrap().len(), 1);

    // Modules are per tenant too.
    ureq::put(&format!("{}/v1/modules/echo", s.url))
        .set("authorization", &bearer)
        .send_bytes(&module("echo"))
        .unwrap();
    let b_bearer = format!("Bearer {}", b["apiKey"].as_str().unwrap());
    let r = ureq::get(&format!("{}/v1/modules/echo", s.url))
        .set("authorization", &b_bearer)
        .call();
    assert!(matches!(r, Err(ureq::Error::Status(404, _))));
}

#[test]
fn modules_are_validated_versioned_and_pinned() {
    let dir = TempDir::new("modules");
    let s = Server::start(&dir.0, &[]);
    let echo = module("echo");
    let v1 = s.upload("echo", &echo, "kv:orders").unwrap();
    assert_eq!(
        (v1["version"].as_u64(), v1["kind"].as_str()),
        (Some(1), Some("component"))
    );
    assert_eq!(v1["grants"], json!(["kv:orders"]));
    assert_eq!(v1["sha256"].as_str().unwrap().len(), 64);
    let v2 = s.upload("echo", &echo, "").unwrap();
    assert_eq!(v2["version"], 2);
    let (code, body) = s.upload("junk", b"not wasm at all", "").unwrap_err();
    assert_eq!(code, 400);
    assert!(body.contains("InvalidModule"), "{body}");
    let (code, body) = s.upload("bad", &module("bad-import"), "").unwrap_err();
    assert_eq!(code, 400);
    assert!(
        body.contains("secrets"),
        "the unknown import is named: {body}"
    );
    let (code, _) = s.upload("g", &echo, "disk:x").unwrap_err();
    assert_eq!(code, 400);
    let listed: Value = ureq::get(&format!("{}/v1/modules", s.url))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(
        listed["modules"].as_array().unwrap().len(),
        1,
        "junk and bad-import were not stored"
    );
    let described: Value = ureq::get(&format!("{}/v1/modules/echo", s.url))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(described["versions"].as_array().unwrap().len(), 2);

    // A running execution pins echo; deleting it is refused until it ends.
    let def = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 2, "Next": "T"},
        "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:echo", "End": true}}});
    let m = s.create_machine("pinned", &def, "STANDARD");
    let arn = s.ok(
        "StartExecution",
        json!({"stateMachineArn": m, "input": "{\"v\": 1}"}),
    )["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let r = ureq::delete(&format!("{}/v1/modules/echo", s.url)).call();
    assert!(matches!(r, Err(ureq::Error::Status(409, _))));
    let done = s.wait_done(&arn, Duration::from_secs(10));
    assert_eq!(done["status"], "SUCCEEDED");
    let h = s.ok("GetExecutionHistory", json!({"executionArn": arn}));
    let succeeded = h["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "TaskSucceeded")
        .unwrap();
    let usage = &succeeded["taskSucceededEventDetails"]["sandstepUsage"];
    assert_eq!(
        (usage["module"].as_str(), usage["version"].as_u64()),
        (Some("echo"), Some(2))
    );
    assert_eq!(usage["sha256"], v2["sha256"]);
    ureq::delete(&format!("{}/v1/modules/echo/versions/1", s.url))
        .call()
        .unwrap();
    ureq::delete(&format!("{}/v1/modules/echo", s.url))
        .call()
        .unwrap();
    let r = ureq::get(&format!("{}/v1/modules/echo", s.url)).call();
    assert!(matches!(r, Err(ureq::Error::Status(404, _))));
}

#[test]
fn health_and_metrics() {
    let dir = TempDir::new("metrics");
    let s = Server::start(&dir.0, &[]);
    assert_eq!(
        ureq::get(&format!("{}/healthz", s.url))
            .call()
            .unwrap()
            .into_string()
            .unwrap()
            .trim(),
        "ok"
    );
    let m = s.create_machine("x", &def(), "STANDARD");
    s.ok("StartExecution", json!({"stateMachineArn": m}));
    let text = ureq::get(&format!("{}/metrics", s.url))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(
        text.contains("sandstep_executions_started_total 1"),
        "{text}"
    );
    assert!(
        text.contains("sandstep_executions_finished_total{status=\"SUCCEEDED\"} 1"),
        "{text}"
    );
}

#[test]
fn readme_tour_runs_the_order_processing_example() {
    let dir = TempDir::new("tour");
    let s = Server::start(&dir.0, &[]);
    for name in ["validate-order", "charge-payment"] {
        s.upload(name, &module(name), "").unwrap();
    }
    // The tour's data, as `aws dynamodb`, `aws sqs` and `aws sns` make it.
    aws_json(
        &s.url,
        "DynamoDB_20120810.CreateTable",
        json!({"TableName": "inventory", "AttributeDefinitions": [{"AttributeName": "sku", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "sku", "KeyType": "HASH"}], "BillingMode": "PAY_PER_REQUEST"}),
    );
    for (sku, stock) in [("WIDGET-A", "10"), ("GADGET-B", "5")] {
        aws_json(
            &s.url,
            "DynamoDB_20120810.PutItem",
            json!({"TableName": "inventory", "Item": {"sku": {"S": sku}, "stock": {"N": stock}}}),
        );
    }
    for queue in ["shipments", "order-events"] {
        aws_json(&s.url, "AmazonSQS.CreateQueue", json!({"QueueName": queue}));
    }
    for form in [
        "Action=CreateTopic&Name=orders".to_string(),
        "Action=Subscribe&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3Aorders&Protocol=sqs&Endpoint=arn%3Aaws%3Asqs%3Aus-east-1%3A000000000000%3Aorder-events".to_string(),
    ] {
        ureq::post(&s.url)
            .set("content-type", "application/x-www-form-urlencoded")
            .send_string(&form)
            .unwrap();
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../modules/examples");
    let definition: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("order-processing.asl.json")).unwrap(),
    )
    .unwrap();
    let input = std::fs::read_to_string(root.join("order-processing.input.json")).unwrap();
    // DynamoDB, SQS and SNS tasks are what Sandstep runs: no diagnostic at all.
    let validated = s.ok(
        "ValidateStateMachineDefinition",
        json!({"definition": definition.to_string()}),
    );
    assert_eq!(validated["result"], "OK", "{validated}");
    assert_eq!(validated["diagnostics"], json!([]), "{validated}");
    let m = s.create_machine("orders", &definition, "STANDARD");
    let start = |name: &str, input: &str| {
        let arn = s.ok(
            "StartExecution",
            json!({"stateMachineArn": m, "name": name, "input": input}),
        )["executionArn"]
            .as_str()
            .unwrap()
            .to_string();
        s.wait_done(&arn, Duration::from_secs(30))
    };
    let done = start("first", &input);
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let stock = |sku: &str| {
        aws_json(
            &s.url,
            "DynamoDB_20120810.GetItem",
            json!({"TableName": "inventory", "Key": {"sku": {"S": sku}}}),
        )["Item"]["stock"]["N"]
            .clone()
    };
    assert_eq!(
        (stock("WIDGET-A"), stock("GADGET-B")),
        (json!("8"), json!("4"))
    );
    let receive = |queue: &str| {
        aws_json(
            &s.url,
            "AmazonSQS.ReceiveMessage",
            json!({"QueueUrl": format!("{}/000000000000/{queue}", s.url), "WaitTimeSeconds": 5}),
        )["Messages"][0]["Body"]
            .as_str()
            .map(|b| serde_json::from_str::<Value>(b).unwrap())
            .unwrap_or(Value::Null)
    };
    assert_eq!(receive("shipments")["orderId"], "order-1001");
    let notification = receive("order-events");
    assert_eq!(notification["Subject"], "Order shipped");
    let message: Value = serde_json::from_str(notification["Message"].as_str().unwrap()).unwrap();
    assert_eq!(message["status"], "SHIPPED");

    // An order one item short: what the other took is put back, and the order fails.
    let short = json!({"orderId": "o-2", "customer": "bob@example.com", "card": "4111111111111111",
        "items": [{"sku": "widget-a", "quantity": 1, "price": 1.0}, {"sku": "gadget-b", "quantity": 6, "price": 1.0}]});
    let failed = start("short", &short.to_string());
    assert_eq!(
        (&failed["status"], &failed["error"]),
        (&json!("FAILED"), &json!("OutOfStock")),
        "{failed}"
    );
    assert_eq!(
        (stock("WIDGET-A"), stock("GADGET-B")),
        (json!("8"), json!("4")),
        "nothing kept"
    );

    let r = ureq::get(&format!("{}/v1/kv/inventory/nothing", s.url)).call();
    assert!(
        matches!(r, Err(ureq::Error::Status(404, _))),
        "a missing item is 404 under /v1"
    );
}

#[test]
fn oversized_bodies_get_aws_errors_and_nothing_is_stored() {
    let dir = TempDir::new("oversized");
    let config = dir.0.join("sandstep.toml");
    std::fs::write(&config, "max_module_mib = 1\n").unwrap();
    let s = Server::start(&dir.0.join("data"), &["--config", config.to_str().unwrap()]);
    // A module over the server's limit: 400 with the reason, and no version stored.
    let (code, body) = s
        .upload("big", &vec![0u8; (1 << 20) + 4096], "")
        .unwrap_err();
    assert_eq!(code, 400, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["__type"], "ValidationException");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("1048576 bytes at most"), "{message}");
    let described = ureq::get(&format!("{}/v1/modules/big", s.url)).call();
    assert!(
        matches!(described, Err(ureq::Error::Status(404, _))),
        "nothing was stored"
    );
    // Within the limit, the same server still takes modules.
    s.upload("echo", &module("echo"), "").unwrap();
    // An AWS API request over its limit (4 MiB): an AWS-shaped error, not plain text.
    let huge = "x".repeat((4 << 20) + 1024);
    let (code, kind, _) = s
        .call("ListStateMachines", json!({ "nextToken": huge }))
        .unwrap_err();
    assert_eq!((code, kind.as_str()), (400, "ValidationException"));
}

#[test]
fn history_pages_stay_exact_while_the_execution_grows() {
    let dir = TempDir::new("history-growth");
    let s = Server::start(&dir.0, &[]);
    let def = json!({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 1, "Next": "B"},
        "B": {"Type": "Pass", "End": true}}});
    let m = s.create_machine("grows", &def, "STANDARD");
    let run = s.ok("StartExecution", json!({"stateMachineArn": m}));
    let arn = run["executionArn"].as_str().unwrap();
    let page = |token: Option<&str>, reverse: bool| {
        let mut req = json!({"executionArn": arn, "maxResults": 2, "reverseOrder": reverse});
        if let Some(t) = token {
            req["nextToken"] = json!(t);
        }
        s.ok("GetExecutionHistory", req)
    };
    let ids = |p: &Value| -> Vec<u64> {
        p["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_u64().unwrap())
            .collect()
    };
    // Read the newest two while it waits, the rest after it has grown.
    let newest = page(None, true);
    let forward = page(None, false);
    assert_eq!(
        s.wait_done(arn, Duration::from_secs(30))["status"],
        "SUCCEEDED"
    );
    // Follows the tokens from a first page to the end.
    let rest = |first: &Value, reverse: bool| -> Vec<u64> {
        let mut all = ids(first);
        let mut token = first["nextToken"].as_str().map(str::to_string);
        while let Some(t) = token {
            let p = page(Some(&t), reverse);
            all.extend(ids(&p));
            token = p["nextToken"].as_str().map(str::to_string);
        }
        all
    };
    let seen = rest(&newest, true);
    let expected: Vec<u64> = (1..=seen[0]).rev().collect();
    assert_eq!(seen, expected, "no event twice, none skipped");
    let all = rest(&forward, false);
    let total = s.ok("GetExecutionHistory", json!({"executionArn": arn}))["events"]
        .as_array()
        .unwrap()
        .len() as u64;
    assert_eq!(all, (1..=total).collect::<Vec<u64>>());
}
