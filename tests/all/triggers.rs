//! Triggers through the real binary: HTTP routes (`/v1/routes`, requests at
//! `/hooks/{account}{path}`), as a webhook sender and an HTTP client would use them.

use crate::support::{Server, TempDir};
use sandstep::hooks::signature::sign;
use serde_json::{json, Value};
use std::time::Duration;

const ACCOUNT: &str = "000000000000";

/// Sends a request; answers status, headers and body.
fn send(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut req =
        ureq::request(method, &format!("{}{path}", server.url)).timeout(Duration::from_secs(30));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let answer = match req.send_bytes(body) {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {path}: {e}"),
    };
    let status = answer.status();
    let headers = answer
        .headers_names()
        .into_iter()
        .map(|n| {
            let v = answer.header(&n).unwrap_or("").to_string();
            (n, v)
        })
        .collect();
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut answer.into_reader(), &mut bytes).unwrap();
    (status, headers, bytes)
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(body)))
}

fn put_route(server: &Server, name: &str, route: Value) -> Result<Value, (u16, Value)> {
    let (status, _, body) = send(
        server,
        "PUT",
        &format!("/v1/routes/{name}"),
        &[("content-type", "application/json")],
        route.to_string().as_bytes(),
    );
    match status {
        200 => Ok(json_of(&body)),
        _ => Err((status, json_of(&body))),
    }
}

fn executions(server: &Server, machine: &str) -> Vec<Value> {
    server.ok("ListExecutions", json!({"stateMachineArn": machine}))["executions"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn a_webhook_with_a_valid_hmac_starts_its_machine_and_a_forged_one_is_refused() {
    let dir = TempDir::new("hook-hmac");
    let server = Server::start(&dir.0, &[]);
    let machine = server.create_machine(
        "on-push",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        "STANDARD",
    );
    let route = put_route(
        &server,
        "github",
        json!({
            "method": "POST", "path": "/github/{repo}", "stateMachineArn": machine, "mode": "async",
            "auth": {"type": "hmac", "style": "github", "secret": "It's a Secret to Everybody"},
            "input": "{% {'repo': $.pathParameters.repo, 'ref': $.body.ref, 'event': $.headers.`x-github-event`} %}"
        }),
    )
    .unwrap();
    assert_eq!(
        route["url"],
        json!(format!("/hooks/{ACCOUNT}/github/{{repo}}"))
    );
    assert_eq!(
        route["auth"],
        json!({"type": "hmac", "style": "github", "header": "x-hub-signature-256", "timestampHeader": null, "toleranceSeconds": 300}),
        "the secret is never shown"
    );

    let body = br#"{"ref": "refs/heads/main"}"#;
    let good = format!(
        "sha256={}",
        sign("It's a Secret to Everybody", &[body]).unwrap()
    );
    let path = format!("/hooks/{ACCOUNT}/github/sandstep");
    let headers = [
        ("content-type", "application/json"),
        ("x-github-event", "push"),
    ];
    let (status, _, answer) = send(
        &server,
        "POST",
        &path,
        &[headers[0], headers[1], ("X-Hub-Signature-256", &good)],
        body,
    );
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&answer));
    let arn = json_of(&answer)["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let done = server.wait_done(&arn, Duration::from_secs(10));
    assert_eq!(done["status"], "SUCCEEDED");
    assert_eq!(
        serde_json::from_str::<Value>(done["output"].as_str().unwrap()).unwrap(),
        json!({"repo": "sandstep", "ref": "refs/heads/main", "event": "push"})
    );

    // A forged signature, a signature of another body, and none at all: 401, nothing runs.
    let forged = format!("sha256={}", sign("guessed", &[body]).unwrap());
    for signature in [Some(forged.as_str()), Some(good.as_str()), None] {
        let sent: &[u8] = if signature == Some(good.as_str()) {
            br#"{"ref": "evil"}"#
        } else {
            body
        };
        let mut h = headers.to_vec();
        if let Some(s) = signature {
            h.push(("X-Hub-Signature-256", s));
        }
        let (status, _, answer) = send(&server, "POST", &path, &h, sent);
        assert_eq!(status, 401, "{}", String::from_utf8_lossy(&answer));
        assert_eq!(json_of(&answer)["__type"], "UnauthorizedException");
    }
    assert_eq!(executions(&server, &machine).len(), 1);

    // No route for the method or the path: 404, in JSON.
    let (status, _, answer) = send(&server, "GET", &path, &[], b"");
    assert_eq!(
        (status, json_of(&answer)["__type"].clone()),
        (404, json!("NotFoundException"))
    );
    let (status, _, _) = send(&server, "POST", "/hooks/111111111111/github/x", &[], b"");
    assert_eq!(status, 404, "another account's hooks");

    // The owner's test request (the console's "send test request") needs no signature; what
    // the route refuses is the route's answer, a route that does not exist is the call's error.
    let test = |name: &str, request: Value| {
        let (status, _, answer) = send(
            &server,
            "POST",
            &format!("/v1/routes/{name}/test"),
            &[("content-type", "application/json")],
            request.to_string().as_bytes(),
        );
        (status, json_of(&answer))
    };
    let (status, answer) = test(
        "github",
        json!({"path": "/github/tested", "headers": {"Content-Type": "application/json", "X-GitHub-Event": "ping"},
               "body": r#"{"ref": "refs/heads/test"}"#}),
    );
    assert_eq!(
        (status, answer["status"].clone()),
        (200, json!(202)),
        "{answer}"
    );
    let answered = json_of(answer["body"].as_str().unwrap().as_bytes());
    let done = server.wait_done(
        answered["executionArn"].as_str().unwrap(),
        Duration::from_secs(10),
    );
    assert_eq!(
        serde_json::from_str::<Value>(done["output"].as_str().unwrap()).unwrap(),
        json!({"repo": "tested", "ref": "refs/heads/test", "event": "ping"})
    );
    for (request, why) in [
        (json!({}), "the path still has its {repo} parameter"),
        (json!({"path": "/elsewhere/x"}), "another path"),
        (
            json!({"method": "GET", "path": "/github/x"}),
            "another method",
        ),
    ] {
        let (status, answer) = test("github", request);
        assert_eq!(
            (status, answer["status"].clone()),
            (200, json!(400)),
            "{why}: {answer}"
        );
        assert!(
            answer["body"]
                .as_str()
                .unwrap()
                .contains("BadRequestException"),
            "{why}: {answer}"
        );
    }
    let (status, answer) = test("nope", json!({}));
    assert_eq!(status, 404, "{answer}");
    let (status, answer) = test("github", json!({"verb": "GET"}));
    assert_eq!(
        (status, answer["__type"].clone()),
        (400, json!("ValidationException")),
        "{answer}"
    );
    assert_eq!(
        executions(&server, &machine).len(),
        2,
        "only the good test request ran"
    );
}

#[test]
fn a_sync_express_route_answers_with_the_workflows_output() {
    let dir = TempDir::new("hook-sync");
    let server = Server::start(&dir.0, &[]);
    let machine = server.create_machine(
        "quote",
        &json!({
            "QueryLanguage": "JSONata",
            "StartAt": "Check",
            "States": {
                "Check": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.qty > 0 %}", "Next": "Answer"}], "Default": "Refuse"},
                "Answer": {"Type": "Pass", "Output": {
                    "statusCode": 201,
                    "headers": {"Location": "{% '/quotes/' & $states.input.id %}"},
                    "body": "{% $string({'total': $states.input.qty * 3}) %}"
                }, "End": true},
                "Refuse": {"Type": "Fail", "Error": "InvalidQuantity", "Cause": "qty must be positive"}
            }
        }),
        "EXPRESS",
    );
    put_route(
        &server,
        "quote",
        json!({
            "method": "POST", "path": "/quotes/{id}", "stateMachineArn": machine, "mode": "sync",
            "auth": {"type": "none"},
            "input": "{% {'id': $.pathParameters.id, 'qty': $.body.qty} %}",
            "errors": [{"error": "InvalidQuantity", "statusCode": 422}]
        }),
    )
    .unwrap();
    let path = format!("/hooks/{ACCOUNT}/quotes/q1");
    let json_type = ("content-type", "application/json");
    let (status, headers, body) = send(&server, "POST", &path, &[json_type], br#"{"qty": 4}"#);
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    assert!(
        headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("location") && v == "/quotes/q1"),
        "{headers:?}"
    );
    assert_eq!(json_of(&body), json!({"total": 12}));

    let (status, _, body) = send(&server, "POST", &path, &[json_type], br#"{"qty": 0}"#);
    assert_eq!(status, 422, "the route maps the error");
    assert_eq!(
        json_of(&body),
        json!({"error": "InvalidQuantity", "cause": "qty must be positive"})
    );

    // Bad JSON is the caller's fault.
    let (status, _, body) = send(&server, "POST", &path, &[json_type], b"{nope");
    assert_eq!(
        (status, json_of(&body)["__type"].clone()),
        (400, json!("BadRequestException"))
    );

    // A sync route needs an Express machine.
    let standard = server.create_machine(
        "slow",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        "STANDARD",
    );
    let (status, e) = put_route(&server, "slow", json!({"method": "GET", "path": "/slow", "stateMachineArn": standard, "mode": "sync", "auth": {"type": "none"}})).unwrap_err();
    assert_eq!(status, 400);
    assert!(e["message"].as_str().unwrap().contains("EXPRESS"), "{e}");
}

#[test]
fn routes_enforce_keys_limits_and_idempotency() {
    let dir = TempDir::new("hook-limits");
    let server = Server::start(&dir.0, &[]);
    let machine = server.create_machine(
        "m",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        "STANDARD",
    );
    put_route(
        &server,
        "keyed",
        json!({
            "method": "ANY", "path": "/keyed", "stateMachineArn": machine, "mode": "async",
            "auth": {"type": "apiKey", "keys": ["key-one-1234"]},
            "maxBodyBytes": 64, "rateLimit": {"perSecond": 0.001, "burst": 3}
        }),
    )
    .unwrap();
    let path = format!("/hooks/{ACCOUNT}/keyed");
    let (status, _, _) = send(&server, "POST", &path, &[], b"{}");
    assert_eq!(status, 401, "no key");
    let (status, _, _) = send(
        &server,
        "POST",
        &path,
        &[("x-api-key", "wrong-key-123")],
        b"{}",
    );
    assert_eq!(status, 403, "a wrong key");
    let key = ("x-api-key", "key-one-1234");
    let (status, _, body) = send(&server, "POST", &path, &[key], &[b'x'; 65]);
    assert_eq!(
        (status, json_of(&body)["__type"].clone()),
        (413, json!("RequestEntityTooLargeException"))
    );

    // The Idempotency-Key names the execution: a retried delivery finds the one it started.
    let once = [
        key,
        ("idempotency-key", "delivery-7"),
        ("content-type", "application/json"),
    ];
    let (status, _, first) = send(&server, "POST", &path, &once, br#"{"n": 1}"#);
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&first));
    let arn = json_of(&first)["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(arn.ends_with(":delivery-7"), "{arn}");
    server.wait_done(&arn, Duration::from_secs(10));
    let (status, _, again) = send(&server, "POST", &path, &once, br#"{"n": 1}"#);
    assert_eq!(
        (status, json_of(&again)["executionArn"].clone()),
        (202, json!(arn))
    );
    // The burst of 3 is spent (two accepted calls and the third here); then 429.
    let (status, _, _) = send(&server, "POST", &path, &[key], b"{}");
    assert_eq!(status, 202);
    let (status, _, body) = send(&server, "POST", &path, &[key], b"{}");
    assert_eq!(
        (status, json_of(&body)["__type"].clone()),
        (429, json!("TooManyRequestsException"))
    );
    assert_eq!(executions(&server, &machine).len(), 2);

    // Listing and deleting.
    let (_, _, listed) = send(&server, "GET", "/v1/routes", &[], b"");
    let listed = json_of(&listed);
    assert_eq!(
        listed["routes"][0]["auth"],
        json!({"type": "apiKey", "header": "x-api-key", "keyCount": 1})
    );
    let (status, _, _) = send(&server, "DELETE", "/v1/routes/keyed", &[], b"");
    assert_eq!(status, 200);
    let (status, _, _) = send(&server, "POST", &path, &[key], b"{}");
    assert_eq!(status, 404);
    let (status, _, body) = send(&server, "DELETE", "/v1/routes/keyed", &[], b"");
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));

    // Bad routes get the reason.
    for (route, words) in [
        (
            json!({"method": "FETCH", "path": "/x", "stateMachineArn": machine, "mode": "async", "auth": {"type": "none"}}),
            "method",
        ),
        (
            json!({"method": "GET", "path": "x", "stateMachineArn": machine, "mode": "async", "auth": {"type": "none"}}),
            "start with '/'",
        ),
        (
            json!({"method": "GET", "path": "/x", "stateMachineArn": machine, "mode": "async", "auth": {"type": "none"}, "input": "{% $.( %}"}),
            "JSONata",
        ),
        (
            json!({"method": "GET", "path": "/x", "stateMachineArn": machine, "mode": "async", "auth": {"type": "apiKey", "keys": []}}),
            "key",
        ),
        (
            json!({"method": "GET", "path": "/x", "stateMachineArn": machine, "mode": "async", "auth": {"type": "magic"}}),
            "magic",
        ),
    ] {
        let (status, e) = put_route(&server, "bad", route).unwrap_err();
        assert_eq!(status, 400, "{e}");
        assert!(
            e["message"].as_str().unwrap().contains(words),
            "{words}: {e}"
        );
    }
}

#[test]
fn the_cli_manages_routes() {
    let dir = TempDir::new("hook-cli");
    let server = Server::start(&dir.0, &[]);
    let machine = server.create_machine(
        "m",
        &json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
        "EXPRESS",
    );
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(crate::support::binary())
            .args(args)
            .args(["--endpoint", &server.url])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = cli(&[
        "route",
        "put",
        "echo",
        "--method",
        "POST",
        "--path",
        "/echo",
        "--state-machine-arn",
        &machine,
        "--mode",
        "sync",
        "--input",
        "$.body",
        "--rate",
        "5",
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    let put: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(put["rateLimit"], json!({"perSecond": 5.0, "burst": 5}));
    let (status, _, body) = send(
        &server,
        "POST",
        &format!("/hooks/{ACCOUNT}/echo"),
        &[("content-type", "application/json")],
        br#"{"hi": 1}"#,
    );
    assert_eq!((status, json_of(&body)), (200, json!({"hi": 1})));
    let (code, out, _) = cli(&["route", "list"]);
    assert_eq!(code, Some(0));
    assert!(out.contains(&format!("/hooks/{ACCOUNT}/echo")), "{out}");
    let (code, _, err) = cli(&[
        "route",
        "put",
        "x",
        "--path",
        "/x",
        "--state-machine-arn",
        &machine,
        "--auth",
        "hmac",
    ]);
    assert_ne!(code, Some(0));
    assert!(err.contains("--secret"), "{err}");
    let (code, _, _) = cli(&["route", "delete", "echo"]);
    assert_eq!(code, Some(0));
}

/// 2027-01-01T00:00:00Z.
const NEW_YEAR_2027: i64 = 1_798_761_600_000;
const HOUR: i64 = 3_600_000;

fn advance(server: &Server, ms: i64) -> i64 {
    server.advance_clock(ms)
}

fn put_schedule(server: &Server, name: &str, schedule: Value) -> Value {
    let (status, _, body) = send(
        server,
        "PUT",
        &format!("/v1/schedules/{name}"),
        &[("content-type", "application/json")],
        schedule.to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    json_of(&body)
}

fn get_schedule(server: &Server, name: &str) -> Value {
    let (status, _, body) = send(server, "GET", &format!("/v1/schedules/{name}"), &[], b"");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    json_of(&body)
}

/// The executions of `machine` once there are `want` (or 10 s passed), by name.
fn names_of(server: &Server, machine: &str, want: usize) -> Vec<String> {
    let began = std::time::Instant::now();
    loop {
        let mut names: Vec<String> = executions(server, machine)
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect();
        if names.len() >= want || began.elapsed() > Duration::from_secs(10) {
            names.sort();
            return names;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn events_call(server: &Server, action: &str, body: Value) -> Value {
    let answer = ureq::post(&server.url)
        .set("content-type", "application/x-amz-json-1.1")
        .set("x-amz-target", &format!("AWSEvents.{action}"))
        .send_string(&body.to_string())
        .unwrap_or_else(|e| panic!("{action}: {e}"));
    answer.into_json().unwrap()
}

const PASS_MACHINE: &str = r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#;

#[test]
fn schedules_fire_on_the_test_clock_across_a_dst_change_and_scheduled_rules_too() {
    let dir = TempDir::new("schedule-dst");
    // 2027-03-13T12:00:00Z: New York springs forward on the 14th at 02:00.
    let start = NEW_YEAR_2027 + 71 * 24 * HOUR + 12 * HOUR;
    let server = Server::start_with_env(&dir.0, &[("SANDSTEP_TEST_CLOCK", &start.to_string())]);
    let machine = server.create_machine(
        "nightly",
        &serde_json::from_str(PASS_MACHINE).unwrap(),
        "STANDARD",
    );
    let put = put_schedule(
        &server,
        "nightly",
        json!({
            "expression": "cron(30 2 * * ? *)", "timezone": "America/New_York",
            "target": {"arn": machine, "input": {"from": "schedule"}}
        }),
    );
    assert_eq!(
        put["nextFires"],
        json!([
            "2027-03-15T06:30:00.000Z",
            "2027-03-16T06:30:00.000Z",
            "2027-03-17T06:30:00.000Z",
            "2027-03-18T06:30:00.000Z",
            "2027-03-19T06:30:00.000Z"
        ]),
        "02:30 does not exist in New York on the 14th"
    );
    // Through the skipped night: nothing fires.
    advance(&server, 24 * HOUR);
    std::thread::sleep(Duration::from_millis(600));
    assert!(executions(&server, &machine).is_empty());
    // 2027-03-15T06:30:01Z.
    advance(&server, 18 * HOUR + 30 * 60_000 + 1000);
    let names = names_of(&server, &machine, 1);
    assert_eq!(names.len(), 1);
    assert!(
        names[0].starts_with("nightly-") && names[0].ends_with("-20270315T063000Z"),
        "{names:?}"
    );
    let described = server.ok(
        "DescribeExecution",
        json!({"executionArn": executions(&server, &machine)[0]["executionArn"]}),
    );
    assert_eq!(described["input"], json!(r#"{"from":"schedule"}"#));
    // The schedule moves on just after its fire's execution starts.
    let began = std::time::Instant::now();
    while get_schedule(&server, "nightly")["lastFire"].is_null()
        && began.elapsed() < Duration::from_secs(10)
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        get_schedule(&server, "nightly")["lastFire"],
        json!("2027-03-15T06:30:00.000Z")
    );

    // A rule with a schedule expression delivers a Scheduled Event to its targets.
    let ticker = server.create_machine(
        "ticker",
        &serde_json::from_str(PASS_MACHINE).unwrap(),
        "STANDARD",
    );
    events_call(
        &server,
        "PutRule",
        json!({"Name": "every-5", "ScheduleExpression": "rate(5 minutes)"}),
    );
    events_call(
        &server,
        "PutTargets",
        json!({"Rule": "every-5", "Targets": [{"Id": "t", "Arn": ticker}]}),
    );
    let names = names_of(&server, &ticker, 1);
    assert_eq!(names.len(), 1, "a rate fires when the rule is made");
    advance(&server, 5 * 60_000);
    assert_eq!(names_of(&server, &ticker, 2).len(), 2);
    let first = &executions(&server, &ticker)[0];
    let input: Value = serde_json::from_str(
        server.ok(
            "DescribeExecution",
            json!({"executionArn": first["executionArn"]}),
        )["input"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(input["detail-type"], json!("Scheduled Event"));
    assert_eq!(input["source"], json!("aws.events"));
    assert_eq!(
        input["resources"],
        json!(["arn:aws:events:us-east-1:000000000000:rule/every-5"])
    );
    let bad = ureq::post(&server.url)
        .set("x-amz-target", "AWSEvents.PutRule")
        .send_string(&json!({"Name": "bad", "ScheduleExpression": "rate(1 minutes)"}).to_string())
        .unwrap_err();
    let ureq::Error::Status(400, answer) = bad else {
        panic!("{bad}")
    };
    assert_eq!(
        answer.into_json::<Value>().unwrap()["message"],
        json!("Parameter ScheduleExpression is not valid.")
    );
}

#[test]
fn a_fire_missed_while_the_server_was_down_runs_once_after_the_restart_or_is_skipped() {
    let dir = TempDir::new("schedule-missed");
    let mut server = Server::start_with_env(
        &dir.0,
        &[("SANDSTEP_TEST_CLOCK", &NEW_YEAR_2027.to_string())],
    );
    let machine = server.create_machine(
        "hourly",
        &serde_json::from_str(PASS_MACHINE).unwrap(),
        "STANDARD",
    );
    for (name, missed) in [("catch-up", "fireOnce"), ("skipper", "skip")] {
        put_schedule(
            &server,
            name,
            json!({"expression": "cron(0 * * * ? *)", "target": {"arn": machine}, "missedFires": missed}),
        );
    }
    // Down from before 01:00 until 05:30.
    let later = NEW_YEAR_2027 + 5 * HOUR + 30 * 60_000;
    server.restart_with_env(&[("SANDSTEP_TEST_CLOCK", &later.to_string())]);
    let names = names_of(&server, &machine, 1);
    std::thread::sleep(Duration::from_millis(600));
    let names_after = names_of(&server, &machine, 1);
    assert_eq!(names, names_after, "nothing more fires");
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(
        names[0].starts_with("catch-up-") && names[0].ends_with("-20270101T010000Z"),
        "the earliest missed fire: {names:?}"
    );
    for name in ["catch-up", "skipper"] {
        assert_eq!(
            get_schedule(&server, name)["nextFires"][0],
            json!("2027-01-01T06:00:00.000Z"),
            "{name}"
        );
    }
}

#[test]
fn a_crash_at_the_fire_never_starts_its_execution_twice() {
    let dir = TempDir::new("schedule-crash");
    let clock = NEW_YEAR_2027.to_string();
    let mut server = Server::start_with_env(
        &dir.0,
        &[
            ("SANDSTEP_TEST_CLOCK", &clock),
            ("SANDSTEP_TEST_CRASH", "after-schedule-fire"),
        ],
    );
    let machine = server.create_machine(
        "m",
        &serde_json::from_str(PASS_MACHINE).unwrap(),
        "STANDARD",
    );
    put_schedule(
        &server,
        "hourly",
        json!({"expression": "cron(0 * * * ? *)", "target": {"arn": machine}}),
    );
    // 01:00:01: the fire starts its execution, then the process dies before the schedule
    // moves on.
    let fire_time = NEW_YEAR_2027 + HOUR + 1000;
    let (status, _, _) = send(
        &server,
        "POST",
        "/v1/test/clock",
        &[],
        json!({"advanceMs": HOUR + 1000}).to_string().as_bytes(),
    );
    assert_eq!(status, 200);
    assert!(
        server.wait_exit(Duration::from_secs(10)),
        "the crash point aborts the server"
    );
    server.restart_with_env(&[("SANDSTEP_TEST_CLOCK", &fire_time.to_string())]);
    std::thread::sleep(Duration::from_millis(800));
    let names = names_of(&server, &machine, 1);
    assert_eq!(
        names.len(),
        1,
        "the fire repeated on recovery found its execution: {names:?}"
    );
    assert!(names[0].ends_with("-20270101T010000Z"), "{names:?}");
    assert_eq!(
        get_schedule(&server, "hourly")["nextFires"][0],
        json!("2027-01-01T02:00:00.000Z")
    );
}

#[test]
fn the_cli_manages_schedules_and_shows_dead_letters() {
    let dir = TempDir::new("schedule-cli");
    let server = Server::start_with_env(
        &dir.0,
        &[("SANDSTEP_TEST_CLOCK", &NEW_YEAR_2027.to_string())],
    );
    let machine = server.create_machine(
        "m",
        &serde_json::from_str(PASS_MACHINE).unwrap(),
        "STANDARD",
    );
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(crate::support::binary())
            .args(args)
            .args(["--endpoint", &server.url])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = cli(&[
        "schedule",
        "put",
        "weekly",
        "--expression",
        "cron(0 9 ? * MON *)",
        "--timezone",
        "Europe/Berlin",
        "--state-machine-arn",
        &machine,
        "--input",
        r#"{"a":1}"#,
    ]);
    assert_eq!(code, Some(0), "{out}{err}");
    let put: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        put["nextFires"][0],
        json!("2027-01-04T08:00:00.000Z"),
        "Monday 09:00 in Berlin (CET)"
    );
    let (code, out, _) = cli(&["schedule", "list"]);
    assert_eq!(code, Some(0));
    assert!(out.contains("weekly"), "{out}");
    let (code, _, err) = cli(&[
        "schedule",
        "put",
        "x",
        "--expression",
        "cron(0 9 * * * *)",
        "--state-machine-arn",
        &machine,
    ]);
    assert_ne!(code, Some(0));
    assert!(
        err.contains("Invalid Schedule Expression cron(0 9 * * * *)."),
        "{err}"
    );
    let (code, _, _) = cli(&["schedule", "delete", "weekly"]);
    assert_eq!(code, Some(0));
    let (code, out, _) = cli(&["bus", "dead-letters"]);
    assert_eq!(
        (code, serde_json::from_str::<Value>(&out).unwrap()),
        (Some(0), json!({"deadLetters": []}))
    );
}

#[test]
fn a_sigv4_route_takes_requests_signed_by_its_own_tenant_only() {
    use sandstep::api::sigv4;
    let dir = TempDir::new("hook-sigv4");
    let server = Server::start(&dir.0, &["--admin-token", "adm"]);
    let a = server.create_tenant("adm", "alpha");
    let b = server.create_tenant("adm", "beta");
    let field = |t: &Value, f: &str| {
        t[f].as_str()
            .unwrap_or_else(|| panic!("{f} in {t}"))
            .to_string()
    };
    let bearer = format!("Bearer {}", field(&a, "apiKey"));
    let created = crate::support::call_at(
        &server.url,
        "CreateStateMachine",
        json!({"name": "m", "definition": PASS_MACHINE, "roleArn": "arn:aws:iam::000000000000:role/r"}),
        &[("authorization", &bearer)],
    )
    .unwrap();
    let machine = created["stateMachineArn"].as_str().unwrap();
    let (status, _, body) = send(
        &server,
        "PUT",
        "/v1/routes/signed",
        &[("authorization", &bearer), ("content-type", "application/json")],
        json!({"method": "POST", "path": "/signed", "stateMachineArn": machine, "mode": "async", "auth": {"type": "sigv4"}}).to_string().as_bytes(),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let path = format!("/hooks/{}/signed", field(&a, "account"));
    let host = server.url.trim_start_matches("http://").to_string();
    let body = br#"{"x": 1}"#;
    let signed_by = |tenant: &Value| {
        let headers = vec![
            ("host".to_string(), host.clone()),
            ("content-type".to_string(), "application/json".to_string()),
        ];
        let request = sigv4::Request {
            method: "POST",
            path: &path,
            query: "",
            headers: &headers,
            body,
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let mut all = headers.clone();
        all.extend(sigv4::sign(
            &request,
            &field(tenant, "accessKeyId"),
            &field(tenant, "secretAccessKey"),
            "us-east-1",
            "execute-api",
            now,
        ));
        all
    };
    let send_with = |headers: &[(String, String)]| {
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .filter(|(k, _)| k != "host")
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        send(&server, "POST", &path, &pairs, body)
    };
    let (status, _, answer) = send_with(&[("content-type".into(), "application/json".into())]);
    assert_eq!(
        status,
        401,
        "unsigned: {}",
        String::from_utf8_lossy(&answer)
    );
    let (status, _, answer) = send_with(&signed_by(&b));
    assert_eq!(
        status,
        403,
        "another tenant's signature: {}",
        String::from_utf8_lossy(&answer)
    );
    let (status, _, answer) = send_with(&signed_by(&a));
    assert_eq!(status, 202, "{}", String::from_utf8_lossy(&answer));
}
