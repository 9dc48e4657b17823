//! EventBridge through the real AWS SDK for Rust (`aws-sdk-eventbridge`) on the same
//! endpoint: buses, rules with patterns, targets with input transformers, `PutEvents` that
//! start state machines, `TestEventPattern`, Step Functions' own status-change events (a
//! rule that starts machine B when machine A fails), and delivery across `kill -9`.

use super::*;
use aws_sdk_eventbridge::types::{
    InputTransformer, PutEventsRequestEntry, RetryPolicy, RuleState, Target,
};

fn events(s: &Server) -> aws_sdk_eventbridge::Client {
    sdk_client!(aws_sdk_eventbridge, s)
}

fn entry(bus: &str, source: &str, detail: &str) -> PutEventsRequestEntry {
    PutEventsRequestEntry::builder()
        .event_bus_name(bus)
        .source(source)
        .detail_type("Order Placed")
        .detail(detail)
        .build()
}

/// The executions of `machine` once there are `want` of them (or 20 s passed), oldest
/// first, with their inputs.
fn executions_of(s: &Server, machine: &str, want: usize) -> Vec<Value> {
    let began = Instant::now();
    loop {
        let listed = s.ok("ListExecutions", json!({"stateMachineArn": machine}));
        let list = listed["executions"].as_array().unwrap().clone();
        if list.len() >= want || began.elapsed() > Duration::from_secs(20) {
            let mut described: Vec<Value> = list
                .iter()
                .map(|e| {
                    s.ok(
                        "DescribeExecution",
                        json!({"executionArn": e["executionArn"]}),
                    )
                })
                .collect();
            described.sort_by(|a, b| {
                a["startDate"]
                    .as_f64()
                    .partial_cmp(&b["startDate"].as_f64())
                    .unwrap()
            });
            return described;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn input_of(execution: &Value) -> Value {
    serde_json::from_str(execution["input"].as_str().unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_and_targets_deliver_put_events_to_state_machines() {
    let dir = TempDir::new("eb-sdk");
    let s = Server::start(&dir.0, &[]);
    let eb = events(&s);
    let audit = s.create_machine("audit", &serde_json::from_str(PASS).unwrap(), "STANDARD");

    let bus = eb.create_event_bus().name("orders").send().await.unwrap();
    assert_eq!(
        bus.event_bus_arn(),
        Some("arn:aws:events:us-east-1:000000000000:event-bus/orders")
    );
    let pattern = r#"{"source": ["shop"], "detail": {"total": [{"numeric": [">", 100]}]}}"#;
    let rule = eb
        .put_rule()
        .name("big-orders")
        .event_bus_name("orders")
        .event_pattern(pattern)
        .send()
        .await
        .unwrap();
    assert_eq!(
        rule.rule_arn(),
        Some("arn:aws:events:us-east-1:000000000000:rule/orders/big-orders")
    );
    let transformer = InputTransformer::builder()
        .input_paths_map("order", "$.detail.id")
        .input_template(r#"{"order": <order>, "rule": "<aws.events.rule-name>"}"#)
        .build()
        .unwrap();
    let put = eb
        .put_targets()
        .rule("big-orders")
        .event_bus_name("orders")
        .targets(
            Target::builder()
                .id("audit")
                .arn(&audit)
                .input_transformer(transformer)
                .build()
                .unwrap(),
        )
        .targets(
            Target::builder()
                .id("elsewhere")
                .arn("arn:aws:sqs:us-east-1:000000000000:q")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        put.failed_entry_count(),
        1,
        "only state machines are targets"
    );
    assert_eq!(put.failed_entries()[0].target_id(), Some("elsewhere"));

    let answer = eb
        .put_events()
        .entries(entry("orders", "shop", r#"{"id": "o-1", "total": 50}"#))
        .entries(entry("orders", "shop", r#"{"id": "o-2", "total": 150}"#))
        .entries(entry("orders", "shop", "not json"))
        .entries(entry("nowhere", "shop", "{}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.failed_entry_count(), 2);
    let results = answer.entries();
    assert!(results[0].event_id().is_some() && results[1].event_id().is_some());
    assert_eq!(results[2].error_code(), Some("MalformedDetail"));
    assert_eq!(results[3].error_code(), Some("ResourceNotFoundException"));
    let started = executions_of(&s, &audit, 1);
    assert_eq!(started.len(), 1, "only the order over 100 matched");
    assert_eq!(
        input_of(&started[0]),
        json!({"order": "o-2", "rule": "big-orders"})
    );

    // What the rule and its targets read back as.
    let described = eb
        .describe_rule()
        .name("big-orders")
        .event_bus_name("orders")
        .send()
        .await
        .unwrap();
    assert_eq!(described.event_pattern(), Some(pattern));
    assert_eq!(described.state(), Some(&RuleState::Enabled));
    let targets = eb
        .list_targets_by_rule()
        .rule("big-orders")
        .event_bus_name("orders")
        .send()
        .await
        .unwrap();
    assert_eq!(targets.targets().len(), 1);
    assert_eq!(
        targets.targets()[0]
            .input_transformer()
            .unwrap()
            .input_paths_map()
            .unwrap()["order"],
        "$.detail.id"
    );
    let rules = eb
        .list_rules()
        .event_bus_name("orders")
        .send()
        .await
        .unwrap();
    assert_eq!(rules.rules().len(), 1);
    let buses = eb.list_event_buses().send().await.unwrap();
    let names: Vec<&str> = buses
        .event_buses()
        .iter()
        .filter_map(|b| b.name())
        .collect();
    assert_eq!(names, ["default", "orders"]);

    // TestEventPattern and a bad pattern.
    let event = r#"{"id": "1", "account": "000000000000", "source": "shop", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "detail-type": "x", "detail": {"total": 101}}"#;
    let tested = eb
        .test_event_pattern()
        .event_pattern(pattern)
        .event(event)
        .send()
        .await
        .unwrap();
    assert!(tested.result());
    let e = eb
        .put_rule()
        .name("bad")
        .event_pattern(r#"{"detail": {"total": [{"numeric": [">", 0, ">", 0]}]}}"#)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidEventPatternException"));
    assert_eq!(
        e.message(),
        Some("Event pattern is not valid. Reason: Bad numeric range operator: >")
    );

    // A disabled rule takes nothing.
    eb.disable_rule()
        .name("big-orders")
        .event_bus_name("orders")
        .send()
        .await
        .unwrap();
    eb.put_events()
        .entries(entry("orders", "shop", r#"{"id": "o-3", "total": 500}"#))
        .send()
        .await
        .unwrap();
    eb.enable_rule()
        .name("big-orders")
        .event_bus_name("orders")
        .send()
        .await
        .unwrap();
    eb.put_events()
        .entries(entry("orders", "shop", r#"{"id": "o-4", "total": 500}"#))
        .send()
        .await
        .unwrap();
    let started = executions_of(&s, &audit, 2);
    let orders: Vec<Value> = started
        .iter()
        .map(|e| input_of(e)["order"].clone())
        .collect();
    assert_eq!(orders, [json!("o-2"), json!("o-4")]);

    // A rule with targets is deleted only with Force; then the bus goes.
    let e = eb
        .delete_rule()
        .name("big-orders")
        .event_bus_name("orders")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));
    eb.remove_targets()
        .rule("big-orders")
        .event_bus_name("orders")
        .ids("audit")
        .send()
        .await
        .unwrap();
    eb.delete_rule()
        .name("big-orders")
        .event_bus_name("orders")
        .send()
        .await
        .unwrap();
    eb.delete_event_bus().name("orders").send().await.unwrap();
    let e = eb
        .describe_event_bus()
        .name("orders")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ResourceNotFoundException"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rule_starts_machine_b_when_machine_a_fails() {
    let dir = TempDir::new("eb-status");
    let s = Server::start(&dir.0, &[]);
    let eb = events(&s);
    let a = s.create_machine(
        "a",
        &json!({"StartAt": "Boom", "States": {"Boom": {"Type": "Fail", "Error": "Broken", "Cause": "it broke"}}}),
        "STANDARD",
    );
    let ok = s.create_machine("ok", &serde_json::from_str(PASS).unwrap(), "STANDARD");
    let b = s.create_machine("b", &serde_json::from_str(PASS).unwrap(), "STANDARD");
    let pattern = json!({
        "source": ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        "detail": {"status": ["FAILED", "TIMED_OUT", "ABORTED"], "stateMachineArn": [a, ok]}
    });
    eb.put_rule()
        .name("on-failure")
        .event_pattern(pattern.to_string())
        .send()
        .await
        .unwrap();
    eb.put_targets()
        .rule("on-failure")
        .targets(
            Target::builder()
                .id("b")
                .arn(&b)
                .input_path("$.detail")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let succeeded = s.ok(
        "StartExecution",
        json!({"stateMachineArn": ok, "name": "fine"}),
    );
    s.wait_done(
        succeeded["executionArn"].as_str().unwrap(),
        Duration::from_secs(10),
    );
    let failed = s.ok(
        "StartExecution",
        json!({"stateMachineArn": a, "name": "first"}),
    );
    let failed_arn = failed["executionArn"].as_str().unwrap();
    let started = executions_of(&s, &b, 1);
    assert_eq!(started.len(), 1, "only the failure starts b");
    let detail = input_of(&started[0]);
    assert_eq!(detail["executionArn"], json!(failed_arn));
    assert_eq!(detail["stateMachineArn"], json!(a));
    assert_eq!(detail["status"], json!("FAILED"));
    assert_eq!(detail["error"], json!("Broken"));
    assert_eq!(detail["cause"], json!("it broke"));
    assert_eq!(
        detail["input"],
        json!("{}"),
        "input is JSON text, as on AWS"
    );
    assert!(detail["startDate"].as_i64().is_some() && detail["stopDate"].as_i64().is_some());
    // Nothing else arrives (the success and the RUNNING events do not match).
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(executions_of(&s, &b, 1).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn accepted_events_survive_kill_9_and_failed_ones_end_as_dead_letters() {
    let dir = TempDir::new("eb-crash");
    let mut s = Server::start(&dir.0, &[]);
    let eb = events(&s);
    let later = "arn:aws:states:us-east-1:000000000000:stateMachine:later";
    let never = "arn:aws:states:us-east-1:000000000000:stateMachine:never";
    eb.put_rule()
        .name("r")
        .event_pattern(r#"{"source": ["app"]}"#)
        .send()
        .await
        .unwrap();
    eb.put_targets()
        .rule("r")
        .targets(Target::builder().id("later").arn(later).build().unwrap())
        .targets(
            Target::builder()
                .id("never")
                .arn(never)
                .retry_policy(
                    RetryPolicy::builder()
                        .maximum_retry_attempts(0)
                        .maximum_event_age_in_seconds(60)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // Neither machine exists yet: the deliveries are accepted and wait.
    let put = eb
        .put_events()
        .entries(entry("default", "app", r#"{"n": 1}"#))
        .send()
        .await
        .unwrap();
    let event_id = put.entries()[0].event_id().unwrap().to_string();
    s.crash_and_restart();
    let machine = s.create_machine("later", &serde_json::from_str(PASS).unwrap(), "STANDARD");
    assert_eq!(machine, later);
    let started = executions_of(&s, later, 1);
    assert_eq!(started.len(), 1, "delivered after the restart");
    assert!(
        started[0]["name"].as_str().unwrap().starts_with(&event_id),
        "{}",
        started[0]["name"]
    );
    assert_eq!(input_of(&started[0])["detail"], json!({"n": 1}));

    // The target that never exists: given up after its one attempt, kept as a dead letter.
    let began = Instant::now();
    let letters = loop {
        let answer: Value = ureq::get(&format!("{}/v1/buses/default/dead-letters", s.url))
            .call()
            .unwrap()
            .into_json()
            .unwrap();
        let letters = answer["deadLetters"].as_array().unwrap().clone();
        if !letters.is_empty() || began.elapsed() > Duration::from_secs(20) {
            break letters;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0]["targetId"], json!("never"));
    assert!(
        letters[0]["error"]
            .as_str()
            .unwrap()
            .contains("Does Not Exist"),
        "{}",
        letters[0]
    );
    // A second restart starts nothing twice.
    s.crash_and_restart();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(executions_of(&s, later, 1).len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workflow_puts_events_with_the_put_events_integration() {
    let dir = TempDir::new("eb-task");
    let s = Server::start(&dir.0, &[]);
    let eb = events(&s);
    let audit = s.create_machine("audit", &serde_json::from_str(PASS).unwrap(), "STANDARD");
    eb.put_rule()
        .name("placed")
        .event_pattern(r#"{"source": ["orders"], "detail-type": ["Placed"]}"#)
        .send()
        .await
        .unwrap();
    eb.put_targets()
        .rule("placed")
        .targets(
            Target::builder()
                .id("audit")
                .arn(&audit)
                .input_path("$.detail")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let publisher = s.create_machine(
        "publisher",
        &json!({"StartAt": "Put", "States": {
            "Put": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                    "Parameters": {"Entries": [{"Source": "orders", "DetailType": "Placed", "Detail": {"id.$": "$.id"}}]},
                    "Next": "Bad"},
            "Bad": {"Type": "Task", "Resource": "arn:aws:states:::events:putEvents",
                    "Parameters": {"Entries": [{"Source": "aws.sneaky", "DetailType": "x", "Detail": {}}]},
                    "Catch": [{"ErrorEquals": ["EventBridge.FailedEntry"], "ResultPath": "$.error", "Next": "Done"}],
                    "End": true},
            "Done": {"Type": "Pass", "End": true}
        }}),
        "STANDARD",
    );
    let started = s.ok(
        "StartExecution",
        json!({"stateMachineArn": publisher, "input": r#"{"id": "o-9"}"#}),
    );
    let done = s.wait_done(
        started["executionArn"].as_str().unwrap(),
        Duration::from_secs(10),
    );
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output["error"]["Error"], json!("EventBridge.FailedEntry"));
    assert!(
        output["error"]["Cause"]
            .as_str()
            .unwrap()
            .contains("NotAuthorizedForSourceException"),
        "{output}"
    );
    let audited = executions_of(&s, &audit, 1);
    assert_eq!(audited.len(), 1);
    assert_eq!(input_of(&audited[0]), json!({"id": "o-9"}));
}
