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
fn run_runs_jsonata_states() {
    let def = write_temp(
        "jsonata.json",
        r#"{"QueryLanguage": "JSONata", "StartAt": "P", "States": {
            "P": {"Type": "Pass", "Assign": {"n": "{% $states.input.n %}"}, "Next": "M"},
            "M": {"Type": "Map", "Items": "{% $range(1, $n, 1) %}", "ItemSelector": {"v": "{% $states.context.Map.Item.Value * 10 %}"},
                  "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "Output": "{% $states.input.v %}", "End": true}}},
                  "Output": {"sum": "{% $sum($states.result) %}", "n": "{% $n %}"}, "End": true}}}"#,
    );
    let (code, stdout, stderr) = run(&["run", def.to_str().unwrap(), "--input", r#"{"n": 3}"#]);
    assert_eq!(code, 0, "{stderr}");
    let output: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(output, serde_json::json!({"sum": 60, "n": 3}));
}

#[test]
fn eval_prints_the_result_nothing_for_undefined_and_a_coded_error() {
    let (code, stdout, _) = run(&[
        "eval",
        "$sum(a) * $k",
        "--input",
        r#"{"a": [1, 2]}"#,
        "--bind",
        "k=10",
    ]);
    assert_eq!((code, stdout.trim()), (0, "30"));
    let (code, stdout, _) = run(&["eval", "missing", "--input", "{}"]);
    assert_eq!((code, stdout.as_str()), (0, ""));
    let (code, stdout, _) = run(&["eval", "-1"]);
    assert_eq!(
        (code, stdout.trim()),
        (0, "-1"),
        "an expression may start with a minus"
    );
    let (code, stdout, _) = run(&["eval", "1 +"]);
    assert_eq!(code, 1);
    let error: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(error["code"], "S0207");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("end of expression"),
        "{error}"
    );
    let (code, stdout, _) = run(&["eval", "$eval('1')"]);
    assert_eq!(code, 1);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()["code"],
        "T1006"
    );
}

#[test]
fn eval_reads_input_from_a_file_and_has_the_step_functions_functions() {
    let input = write_temp("eval-input.json", r#"{"items": [1, 2, 3, 4, 5]}"#);
    let at_file = format!("@{}", input.display());
    let (code, stdout, _) = run(&["eval", "$partition(items, 2)", "--input", &at_file]);
    assert_eq!((code, stdout.trim()), (0, "[[1,2],[3,4],[5]]"));
    let (code, stdout, _) = run(&["eval", "$count([$uuid(), $random(), $now(), $millis()])"]);
    assert_eq!((code, stdout.trim()), (0, "4"));
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

/// `sandstep data ...` against a server; its JSON answer.
fn data(url: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["data"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--endpoint", url]);
    let (code, stdout, stderr) = run(&all);
    assert_eq!(code, 0, "{args:?}: {stdout}{stderr}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
}

#[test]
fn data_commands_browse_and_change_tables_buckets_queues_and_topics() {
    use serde_json::json;
    let dir = crate::support::TempDir::new("cli-data");
    let s = crate::support::Server::start(&dir.0.join("data"), &[]);
    let url = s.url.as_str();
    crate::support::aws_json(
        url,
        "DynamoDB_20120810.CreateTable",
        json!({"TableName": "stock", "AttributeDefinitions": [{"AttributeName": "sku", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "sku", "KeyType": "HASH"}]}),
    );
    crate::support::aws_json(url, "AmazonSQS.CreateQueue", json!({"QueueName": "jobs"}));
    ureq::post(url)
        .set("content-type", "application/x-www-form-urlencoded")
        .send_string("Action=CreateTopic&Name=news")
        .unwrap();
    ureq::post(url)
        .set("content-type", "application/x-www-form-urlencoded")
        .send_string("Action=Subscribe&TopicArn=news&Protocol=sqs&Endpoint=arn%3Aaws%3Asqs%3Aus-east-1%3A000000000000%3Ajobs")
        .unwrap();
    ureq::put(&format!("{url}/reports"))
        .set("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .call()
        .unwrap();

    // Tables and items, as plain JSON.
    data(
        url,
        &[
            "put-item",
            "stock",
            r#"{"sku": "A", "stock": 3, "tags": ["x"]}"#,
        ],
    );
    let tables = data(url, &["tables"]);
    assert_eq!(tables["tables"][0]["name"], "stock");
    assert_eq!(tables["tables"][0]["keySchema"][0]["attributeName"], "sku");
    let items = data(url, &["items", "stock"]);
    assert_eq!(
        items["items"],
        json!([{"sku": "A", "stock": 3, "tags": ["x"]}])
    );
    let typed = crate::support::aws_json(
        url,
        "DynamoDB_20120810.GetItem",
        json!({"TableName": "stock", "Key": {"sku": {"S": "A"}}}),
    );
    assert_eq!(
        typed["Item"]["stock"],
        json!({"N": "3"}),
        "the AWS API sees the same item"
    );
    assert_eq!(
        data(url, &["delete-item", "stock", r#"{"sku": "A"}"#])["deleted"],
        true
    );
    let missing = run(&["data", "items", "nope", "--endpoint", url]);
    assert_ne!(missing.0, 0);
    assert!(
        missing.2.contains("ResourceNotFoundException"),
        "{}",
        missing.2
    );

    // Objects, streamed both ways.
    let file = write_temp("report.csv", "a,b\n1,2\n");
    let put = data(
        url,
        &["put", "reports", "2026/report.csv", file.to_str().unwrap()],
    );
    assert_eq!(put["size"], 8);
    let listed = data(url, &["objects", "reports", "--prefix", "2026/"]);
    assert_eq!(listed["objects"][0]["key"], "2026/report.csv");
    let back = dir.0.join("back.csv");
    let (code, _, stderr) = run(&[
        "data",
        "get",
        "reports",
        "2026/report.csv",
        "--out",
        back.to_str().unwrap(),
        "--endpoint",
        url,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&back).unwrap(), "a,b\n1,2\n");
    assert_eq!(data(url, &["buckets"])["buckets"][0]["name"], "reports");
    data(url, &["rm", "reports", "2026/report.csv"]);
    assert!(data(url, &["objects", "reports"])["objects"]
        .as_array()
        .unwrap()
        .is_empty());

    // Queues: send, peek (which changes nothing), purge.
    data(url, &["send", "jobs", "hello"]);
    for _ in 0..2 {
        let peeked = data(url, &["peek", "jobs"]);
        assert_eq!(peeked["messages"][0]["body"], "hello");
        assert_eq!(
            peeked["messages"][0]["receiveCount"], 0,
            "a peek is not a receive"
        );
    }
    assert_eq!(data(url, &["queues"])["queues"][0]["visible"], 1);
    data(url, &["purge", "jobs"]);
    assert!(data(url, &["peek", "jobs"])["messages"]
        .as_array()
        .unwrap()
        .is_empty());

    // Topics: publish reaches the subscribed queue.
    assert_eq!(data(url, &["topics"])["topics"][0]["subscriptions"], 1);
    assert_eq!(
        data(url, &["subscriptions", "news"])["subscriptions"][0]["protocol"],
        "sqs"
    );
    let published = data(url, &["publish", "news", "extra", "--subject", "Hi"]);
    let id = published["messageId"].as_str().unwrap().to_string();
    let got = crate::support::aws_json(
        url,
        "AmazonSQS.ReceiveMessage",
        json!({"QueueUrl": format!("{url}/000000000000/jobs"), "WaitTimeSeconds": 5}),
    );
    let envelope: serde_json::Value =
        serde_json::from_str(got["Messages"][0]["Body"].as_str().unwrap()).unwrap();
    assert_eq!(
        (envelope["MessageId"].as_str(), envelope["Subject"].as_str()),
        (Some(id.as_str()), Some("Hi"))
    );
}

#[test]
fn eval_stops_expressions_that_take_too_much_memory() {
    for hostile in [
        "[1..100000].($pad('', 5000))",
        "($f := function($s, $n) { $n = 0 ? $s : $f($s & $s, $n - 1) }; $length($f('x', 40)))",
        "$pad('', 2000000000)",
    ] {
        let (code, stdout, _) = run(&["eval", hostile]);
        assert_eq!(code, 1, "{hostile}");
        let error: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(error["code"], "U1005", "{hostile}: {error}");
    }
}

#[test]
fn test_state_prints_the_stages_and_exits_by_the_states_status() {
    let dir = crate::support::TempDir::new("cli-test-state");
    let s = crate::support::Server::start(&dir.0, &[]);
    let task = write_temp(
        "test-state-task.json",
        r#"{"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "f", "Payload.$": "$"},
            "ResultSelector": {"total.$": "$.Payload.total"}, "ResultPath": "$.priced",
            "Retry": [{"ErrorEquals": ["Throttled"], "MaxAttempts": 2}],
            "Catch": [{"ErrorEquals": ["Declined"], "Next": "Refund"}],
            "Next": "Ship"}"#,
    );
    let task = task.to_str().unwrap();
    let test = |extra: &[&str]| {
        let mut args = vec!["test-state", task, "--input", r#"{"order": 7}"#];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--endpoint", &s.url]);
        let (code, stdout, stderr) = run(&args);
        let answer: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{extra:?}: {e}: {stdout}{stderr}"));
        (code, answer)
    };
    let (code, answer) = test(&["--mock-result", r#"{"Payload": {"total": 12}}"#]);
    assert_eq!(code, 0, "{answer}");
    assert_eq!(answer["status"], "SUCCEEDED");
    assert_eq!(answer["nextState"], "Ship");
    assert_eq!(
        answer["output"],
        serde_json::json!({"order": 7, "priced": {"total": 12}})
    );
    assert_eq!(
        answer["inspectionData"]["afterResultSelector"],
        serde_json::json!({"total": 12})
    );
    let (code, answer) = test(&["--mock-error", "Throttled:slow down"]);
    assert_eq!(
        (code, answer["status"].as_str()),
        (1, Some("RETRIABLE")),
        "{answer}"
    );
    let (code, answer) = test(&["--mock-error", "Throttled:slow down", "--retries", "2"]);
    assert_eq!(
        (code, answer["status"].as_str()),
        (1, Some("FAILED")),
        "{answer}"
    );
    let (code, answer) = test(&["--mock-error", "Declined:no funds"]);
    assert_eq!(
        (
            code,
            answer["status"].as_str(),
            answer["nextState"].as_str()
        ),
        (0, Some("CAUGHT_ERROR"), Some("Refund")),
        "{answer}"
    );
}
