//! The sample projects end to end, as users meet them: listed and installed by `sandstep
//! sample` (or the HTTP call the console's "New from sample" makes) into a running
//! `sandstep serve`, then run through the Step Functions API with the sample's own inputs,
//! their effects read back through the AWS APIs.

use crate::support::{aws_json, binary, output, Server, TempDir};
use serde_json::{json, Value};
use std::process::Command;
use std::time::{Duration, Instant};

/// `sandstep sample ARGS...`: stdout, which must be a success.
fn sample_cli(args: &[&str]) -> String {
    let out = Command::new(binary())
        .arg("sample")
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "sample {args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// Installs `name` with the CLI; the main machine's ARN (the last line).
fn install(s: &Server, name: &str) -> String {
    let printed = sample_cli(&["install", name, "--endpoint", &s.url]);
    let arn = printed.lines().last().unwrap().to_string();
    assert!(arn.starts_with("arn:aws:states:"), "{printed}");
    arn
}

/// The sample's example input labelled `label`, as `GET /v1/samples/{name}` gives it.
fn input(s: &Server, sample: &str, label: &str) -> Value {
    let shown: Value = ureq::get(&format!("{}/v1/samples/{sample}", s.url))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let text = shown["inputs"][label]
        .as_str()
        .unwrap_or_else(|| panic!("{sample} has no input {label:?}: {shown}"));
    serde_json::from_str(text).unwrap()
}

fn stock(s: &Server, sku: &str) -> i64 {
    let item = aws_json(
        &s.url,
        "DynamoDB_20120810.GetItem",
        json!({"TableName": "inventory", "Key": {"sku": {"S": sku}}}),
    );
    item["Item"]["stock"]["N"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Receives one message from `queue`, waiting up to 10 s; its body.
pub(crate) fn receive(s: &Server, queue: &str) -> Value {
    let url = format!("{}/000000000000/{queue}", s.url);
    let began = Instant::now();
    loop {
        let got = aws_json(
            &s.url,
            "AmazonSQS.ReceiveMessage",
            json!({"QueueUrl": url, "WaitTimeSeconds": 1}),
        );
        if let Some(m) = got["Messages"].as_array().and_then(|m| m.first()) {
            aws_json(
                &s.url,
                "AmazonSQS.DeleteMessage",
                json!({"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"]}),
            );
            return serde_json::from_str(m["Body"].as_str().unwrap()).unwrap();
        }
        assert!(
            began.elapsed() < Duration::from_secs(10),
            "nothing on {queue}"
        );
    }
}

fn wait_status(s: &Server, arn: &str, status: &str) {
    let began = Instant::now();
    while s.ok("DescribeExecution", json!({"executionArn": arn}))["status"] != status {
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "{arn} never {status}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn samples_are_listed_with_their_names_first_and_unknown_ones_are_refused() {
    let listed = sample_cli(&["list"]);
    let names: Vec<&str> = listed
        .lines()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    for expected in [
        "order-processing",
        "travel-saga",
        "sales-etl",
        "ml-pipeline",
    ] {
        assert!(names.contains(&expected), "{listed}");
    }

    let dir = TempDir::new("samples-list");
    let s = Server::start(&dir.0, &[]);
    let api: Value = ureq::get(&format!("{}/v1/samples", s.url))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let from_api: Vec<&str> = api["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(from_api, names, "the API and the CLI list the same samples");
    assert!(api["samples"][0]["title"].is_string());

    let unknown = Command::new(binary())
        .args(["sample", "install", "no-such-sample", "--endpoint", &s.url])
        .output()
        .unwrap();
    assert!(!unknown.status.success());
    let err = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        err.contains("ResourceNotFound") && err.contains("no-such-sample"),
        "{err}"
    );
}

#[test]
fn order_processing_installs_and_ships_asks_for_approval_and_compensates() {
    let dir = TempDir::new("sample-orders");
    let s = Server::start(&dir.0, &[]);
    let machine = install(&s, "order-processing");
    // Installing again changes nothing that matters: one subscription, the same machine.
    assert_eq!(install(&s, "order-processing"), machine);
    let subs = subscriptions(&s);
    assert_eq!(subs, 1, "a reinstall subscribed the queue twice");
    assert_eq!((stock(&s, "WIDGET-A"), stock(&s, "GADGET-B")), (100, 20));

    // A small order ships: stock taken, a shipment queued, the customer notified.
    let done = s.run(&machine, input(&s, "order-processing", "small order"));
    output(&done);
    assert_eq!((stock(&s, "WIDGET-A"), stock(&s, "GADGET-B")), (98, 19));
    assert_eq!(receive(&s, "shipments")["orderId"], "order-1001");
    let note = receive(&s, "notifications");
    assert_eq!(
        (note["orderId"].as_str(), note["status"].as_str()),
        (Some("order-1001"), Some("SHIPPED"))
    );

    // Above 500 the order waits for a person; approving it ships it.
    let big = input(&s, "order-processing", "needs approval");
    let waiting = s.start_execution(&machine, big.clone());
    let request = receive(&s, "approvals");
    assert_eq!(request["amount"], 700.0);
    assert_eq!(
        stock(&s, "GADGET-B"),
        19,
        "nothing is taken before the approval"
    );
    s.ok(
        "SendTaskSuccess",
        json!({"taskToken": request["taskToken"], "output": "{\"approvedBy\": \"manager\"}"}),
    );
    let done = s.wait_done(&waiting, Duration::from_secs(20));
    assert_eq!(output(&done)["approval"]["approvedBy"], "manager");
    assert_eq!(stock(&s, "GADGET-B"), 12);

    // Rejected: it fails as not approved, and nothing was taken.
    let mut other = big;
    other["orderId"] = json!("order-2002");
    let rejected = s.start_execution(&machine, other);
    let request = receive(&s, "approvals");
    s.ok(
        "SendTaskFailure",
        json!({"taskToken": request["taskToken"], "error": "Rejected", "cause": "too much"}),
    );
    let done = s.wait_done(&rejected, Duration::from_secs(20));
    assert_eq!(
        (done["status"].as_str(), done["error"].as_str()),
        (Some("FAILED"), Some("NotApproved"))
    );
    assert_eq!(stock(&s, "GADGET-B"), 12);

    // A declined card: the stock taken for it is put back before the order fails.
    let done = s.run(&machine, input(&s, "order-processing", "card declined"));
    assert_eq!(
        (done["status"].as_str(), done["error"].as_str()),
        (Some("FAILED"), Some("PaymentDeclined")),
        "{done}"
    );
    assert_eq!((stock(&s, "WIDGET-A"), stock(&s, "GADGET-B")), (98, 12));

    // One item short: the other one's stock comes back too.
    let done = s.run(&machine, input(&s, "order-processing", "out of stock"));
    assert_eq!(
        (done["status"].as_str(), done["error"].as_str()),
        (Some("FAILED"), Some("OutOfStock")),
        "{done}"
    );
    assert_eq!((stock(&s, "WIDGET-A"), stock(&s, "GIZMO-C")), (98, 10));
    wait_status(&s, &waiting, "SUCCEEDED");
}

/// How many subscriptions topic `orders` has.
fn subscriptions(s: &Server) -> usize {
    let shown: Value = ureq::get(&format!("{}/v1/topics/orders/subscriptions", s.url))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    shown["subscriptions"].as_array().unwrap().len()
}

#[test]
fn travel_saga_installs_over_http_and_cancels_in_reverse_order() {
    let dir = TempDir::new("sample-saga");
    let s = Server::start(&dir.0, &[]);
    // The call the console's "New from sample" makes.
    let installed: Value = ureq::post(&format!("{}/v1/samples/travel-saga/install", s.url))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let machine = installed["stateMachineArn"].as_str().unwrap().to_string();
    assert!(
        installed["done"].as_array().unwrap().len() >= 4,
        "{installed}"
    );

    let booked = output(&s.run(&machine, input(&s, "travel-saga", "booked")));
    assert_eq!(booked["status"], "BOOKED");
    assert_eq!(
        booked["references"],
        json!({"hotel": "H-trip-100", "flight": "F-trip-100", "car": "C-trip-100"})
    );

    let sold_out = s.start_execution(&machine, input(&s, "travel-saga", "car sold out"));
    let done = s.wait_done(&sold_out, Duration::from_secs(30));
    assert_eq!(
        (done["status"].as_str(), done["error"].as_str()),
        (Some("FAILED"), Some("SoldOut")),
        "{done}"
    );
    // The compensations ran newest first: the car, then the flight, then the hotel.
    let history = s.ok(
        "GetExecutionHistory",
        json!({"executionArn": sold_out, "maxResults": 1000}),
    );
    let entered: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "TaskStateEntered")
        .map(|e| e["stateEnteredEventDetails"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        entered,
        [
            "ReserveHotel",
            "ReserveFlight",
            "ReserveCar",
            "CancelCar",
            "CancelFlight",
            "CancelHotel"
        ]
    );
    for service in ["hotels", "flights"] {
        let item: Value = ureq::get(&format!("{}/v1/kv/{service}/trip-200", s.url))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
        assert_eq!(item["item"]["status"], "CANCELLED", "{service}: {item}");
    }
}

#[test]
fn sales_etl_loads_the_good_rows_reports_the_rest_and_runs_every_night() {
    let dir = TempDir::new("sample-etl");
    // 2027-01-01T12:00:00Z on the test clock: the nightly run is 14 hours away.
    let noon = 1_798_761_600_000_i64 + 12 * 3_600_000;
    let s = Server::start_with_env(&dir.0, &[("SANDSTEP_TEST_CLOCK", &noon.to_string())]);
    let machine = install(&s, "sales-etl");

    let done = s.run(&machine, input(&s, "sales-etl", "latest"));
    let summary = output(&done);
    assert_eq!(
        (summary["rows"].as_i64(), summary["loaded"].as_i64()),
        (Some(20), Some(16)),
        "{summary}"
    );
    let reasons: Vec<(&str, &str)> = summary["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["order_id"].as_str().unwrap(),
                r["reason"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("1007", "no sku"),
            ("1009", "qty must be a positive integer"),
            ("1012", "date must be YYYY-MM-DD"),
            ("1016", "unit_price must be a decimal like 12.50")
        ]
    );
    // The C module normalised the row; the Distributed Map loaded it.
    let item = aws_json(
        &s.url,
        "DynamoDB_20120810.GetItem",
        json!({"TableName": "sales", "Key": {"order_id": {"S": "1014"}}}),
    );
    assert_eq!(item["Item"]["sku"]["S"], "GADGET-B");
    assert_eq!(item["Item"]["revenue_cents"]["N"], "9950");
    let count = |s: &Server| {
        aws_json(
            &s.url,
            "DynamoDB_20120810.Scan",
            json!({"TableName": "sales", "Select": "COUNT"}),
        )["Count"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(count(&s), 16);

    // 02:00 the next night: the schedule runs the pipeline again, which writes the same items.
    s.advance_clock(14 * 3_600_000 + 1000);
    let began = Instant::now();
    let nightly = loop {
        let listed = s.ok("ListExecutions", json!({"stateMachineArn": machine}));
        let runs = listed["executions"].as_array().unwrap().clone();
        if let Some(run) = runs.iter().find(|e| {
            e["name"]
                .as_str()
                .unwrap()
                .starts_with("nightly-sales-etl-")
        }) {
            break run["executionArn"].as_str().unwrap().to_string();
        }
        assert!(
            began.elapsed() < Duration::from_secs(20),
            "the schedule did not fire: {listed}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let done = s.wait_done(&nightly, Duration::from_secs(30));
    assert_eq!(output(&done)["loaded"], 16);
    assert_eq!(count(&s), 16);
}

/// `POST /hooks/000000000000/predict` with `body`: the status and the JSON answer.
fn predict(s: &Server, body: Value) -> (u16, Value) {
    let answer = ureq::post(&format!("{}/hooks/000000000000/predict", s.url)).send_json(body);
    match answer {
        Ok(r) => (r.status(), r.into_json().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_json().unwrap()),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn ml_pipeline_trains_in_wasm_publishes_only_good_approved_models_and_serves_them() {
    let dir = TempDir::new("sample-ml");
    let s = Server::start(&dir.0, &[]);
    let machine = install(&s, "ml-pipeline");
    let features =
        json!({"features": {"tenure_months": 2, "monthly_charges": 110, "support_calls": 8}});
    let (status, before) = predict(&s, features.clone());
    assert_eq!(
        (status, before["Error"].as_str()),
        (400, Some("NoModel")),
        "{before}"
    );

    // Held to a threshold it cannot reach, the model is not even offered for approval.
    let done = s.run(&machine, input(&s, "ml-pipeline", "strict threshold"));
    assert_eq!(
        (done["status"].as_str(), done["error"].as_str()),
        (Some("FAILED"), Some("AccuracyTooLow")),
        "{done}"
    );

    let run = s.start_execution(&machine, input(&s, "ml-pipeline", "train"));
    let request = receive(&s, "model-approvals");
    let accuracy = request["evaluation"]["accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.85, "{request}");
    assert_eq!(
        request["model"]["names"],
        json!(["tenure_months", "monthly_charges", "support_calls"])
    );
    s.ok(
        "SendTaskSuccess",
        json!({"taskToken": request["taskToken"], "output": "{\"approvedBy\": \"ana\"}"}),
    );
    let published = output(&s.wait_done(&run, Duration::from_secs(30)));
    assert_eq!(
        (
            published["approvedBy"].as_str(),
            published["modelVersion"].as_i64()
        ),
        (Some("ana"), Some(1))
    );

    // The Express workflow behind the route serves the published model.
    let (status, likely) = predict(&s, features);
    assert_eq!(
        (status, likely["label"].as_i64()),
        (200, Some(1)),
        "{likely}"
    );
    assert!(likely["probability"].as_f64().unwrap() > 0.9);
    let loyal =
        json!({"features": {"tenure_months": 70, "monthly_charges": 25, "support_calls": 0}});
    let (status, unlikely) = predict(&s, loyal);
    assert_eq!(
        (status, unlikely["label"].as_i64()),
        (200, Some(0)),
        "{unlikely}"
    );
    let (status, bad) = predict(&s, json!({"features": {"tenure_months": 70}}));
    assert_eq!(
        (status, bad["Error"].as_str()),
        (400, Some("InvalidInput")),
        "{bad}"
    );
}

/// The executions of `machine` that have ended, waiting up to 20 s for `count` of them.
fn ended(s: &Server, machine: &str, count: usize) -> Vec<Value> {
    let began = Instant::now();
    loop {
        let listed = s.ok("ListExecutions", json!({"stateMachineArn": machine}));
        let runs: Vec<Value> = listed["executions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["status"] != "RUNNING")
            .map(|e| {
                s.ok(
                    "DescribeExecution",
                    json!({"executionArn": e["executionArn"]}),
                )
            })
            .collect();
        if runs.len() >= count {
            return runs;
        }
        assert!(began.elapsed() < Duration::from_secs(20), "{listed}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn catalog(s: &Server, key: &str) -> Value {
    aws_json(
        &s.url,
        "DynamoDB_20120810.GetItem",
        json!({"TableName": "lake-catalog", "Key": {"object_key": {"S": key}}}),
    )["Item"]
        .clone()
}

#[test]
fn data_lake_ingests_what_lands_partitions_it_by_date_and_quarantines_bad_files() {
    use aws_sdk_s3::primitives::ByteStream;
    let dir = TempDir::new("sample-lake");
    let s = Server::start(&dir.0, &[]);
    let machine = install(&s, "data-lake");
    // Installing dropped a good and a bad file into the landing zone: each started one run.
    let runs = ended(&s, &machine, 2);
    let mut outputs: Vec<Value> = runs.iter().map(output).collect();
    outputs.sort_by_key(|o| o["source"].as_str().unwrap().to_string());
    assert_eq!(outputs[0]["status"], "QUARANTINED", "{outputs:?}");
    assert_eq!(outputs[1]["status"], "CATALOGUED", "{outputs:?}");
    let day1 = catalog(&s, "events/date=2026-12-01/clicks.csv");
    assert_eq!(
        (day1["status"]["S"].as_str(), day1["rows"]["N"].as_str()),
        (Some("CATALOGUED"), Some("3")),
        "{day1}"
    );
    assert_eq!(
        catalog(&s, "events/date=2026-12-02/clicks.csv")["rows"]["N"],
        "2"
    );
    let bad = catalog(&s, "quarantine/uploads/broken.csv");
    assert!(
        bad["reason"]["S"].as_str().unwrap().contains("yesterday"),
        "{bad}"
    );

    crate::awssdk::runtime().block_on(async {
        let c = crate::awssdk::s3::s3(&s);
        // S3's own view: the bucket's EventBridge notifications are on.
        let config = c
            .get_bucket_notification_configuration()
            .bucket("landing-zone")
            .send()
            .await
            .unwrap();
        assert!(config.event_bridge_configuration().is_some());
        let lake = c
            .list_objects_v2()
            .bucket("data-lake")
            .send()
            .await
            .unwrap();
        let keys: Vec<&str> = lake.contents().iter().filter_map(|o| o.key()).collect();
        assert_eq!(
            keys,
            [
                "events/date=2026-12-01/clicks.csv",
                "events/date=2026-12-02/clicks.csv"
            ]
        );
        let landing = c
            .list_objects_v2()
            .bucket("landing-zone")
            .send()
            .await
            .unwrap();
        assert!(
            landing.contents().is_empty(),
            "ingested files leave the landing zone"
        );
        let quarantined = c
            .get_object()
            .bucket("quarantine")
            .key("uploads/broken.csv")
            .send()
            .await;
        assert!(quarantined.is_ok());

        // A user's upload, as `aws s3 cp` makes it, starts the next run.
        c.put_object()
            .bucket("landing-zone")
            .key("uploads/2026-12-03.csv")
            .body(ByteStream::from_static(
                b"event_date,user_id,action\n2026-12-03,u-9,view\n",
            ))
            .send()
            .await
            .unwrap();
    });
    let runs = ended(&s, &machine, 3);
    assert!(
        runs.iter()
            .any(|r| output(r)["source"] == "uploads/2026-12-03.csv"),
        "{runs:?}"
    );
    assert_eq!(
        catalog(&s, "events/date=2026-12-03/2026-12-03.csv")["rows"]["N"],
        "1"
    );
}

fn kv(s: &Server, table: &str, key: &str) -> Value {
    let item: Value = ureq::get(&format!("{}/v1/kv/{table}/{key}", s.url))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    item["item"].clone()
}

#[test]
fn devops_canary_promotes_healthy_releases_rolls_back_broken_ones_and_audits_drift() {
    use crate::http_tasks::TestHttp;
    // The service being deployed: version 3.0.0 of it is broken.
    let canary = TestHttp::start(|seen| match seen.target.contains("version=3.0.0") {
        true => (503, vec![], r#"{"healthy": false}"#.to_string()),
        false => (200, vec![], r#"{"healthy": true}"#.to_string()),
    });
    let dir = TempDir::new("sample-devops");
    std::fs::create_dir_all(&dir.0).unwrap();
    let config = dir.0.join("sandstep.toml");
    // The canary runs on loopback, which the outbound guards refuse unless allowed.
    std::fs::write(&config, "outbound_allow = [\"127.0.0.1/32\"]\n").unwrap();
    let noon = 1_798_761_600_000_i64 + 12 * 3_600_000;
    let s = Server::start_with(
        &dir.0.join("data"),
        &["--config", config.to_str().unwrap()],
        &[("SANDSTEP_TEST_CLOCK", &noon.to_string())],
    );
    let machine = install(&s, "devops-canary");
    let release = |version: &str| {
        let mut input = input(&s, "devops-canary", "release 2.0.0");
        input["version"] = json!(version);
        input["healthUrl"] = json!(format!("{}/health?version={version}", canary.url));
        input
    };

    let done = s.run(&machine, release("2.0.0"));
    assert_eq!(output(&done)["status"], "DEPLOYED");
    assert_eq!(
        kv(&s, "fleet", "web"),
        json!({"stable": "2.0.0", "canary": null})
    );

    // The canary is checked again a second later: on the test clock, that second is ours
    // to move.
    let broken = s.start_execution(&machine, release("3.0.0"));
    let began = Instant::now();
    let done = loop {
        let d = s.ok("DescribeExecution", json!({"executionArn": broken}));
        if d["status"] != "RUNNING" {
            break d;
        }
        assert!(began.elapsed() < Duration::from_secs(20), "{d}");
        s.advance_clock(1000);
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        (done["status"].as_str(), done["error"].as_str()),
        (Some("FAILED"), Some("RolledBack")),
        "{done}"
    );
    assert!(done["cause"].as_str().unwrap().contains("503"), "{done}");
    assert_eq!(
        kv(&s, "fleet", "web"),
        json!({"stable": "2.0.0", "canary": null}),
        "rolled back"
    );
    let checks = canary
        .seen()
        .iter()
        .filter(|r| r.target.contains("3.0.0"))
        .count();
    assert_eq!(
        checks, 2,
        "an unhealthy canary is checked again once before the rollback"
    );

    // Someone changes what runs by hand; the hourly audit opens an event, filed as a ticket.
    ureq::put(&format!("{}/v1/kv/fleet/web", s.url))
        .send_json(json!({"stable": "1.9.9-hotfix", "canary": null}))
        .unwrap();
    s.advance_clock(3_600_000);
    let began = Instant::now();
    let ticket = loop {
        let got = aws_json(
            &s.url,
            "DynamoDB_20120810.GetItem",
            json!({"TableName": "drift-tickets", "Key": {"service": {"S": "web"}}}),
        );
        if got.get("Item").is_some() {
            break got["Item"].clone();
        }
        assert!(began.elapsed() < Duration::from_secs(20), "no drift ticket");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        (
            ticket["desired"]["S"].as_str(),
            ticket["actual"]["S"].as_str()
        ),
        (Some("2.0.0"), Some("1.9.9-hotfix"))
    );
}
