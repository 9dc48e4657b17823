//! SNS through the real AWS SDK for Rust (`aws-sdk-sns`, its query protocol) on the same
//! endpoint: topics and subscriptions, fan-out to queues (SNS's envelope and raw), to a
//! state machine (an execution per message) and to a module, filter policies, batches, and
//! workflows that publish (and wait for the token a message carries).

use super::*;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};

fn sns(s: &Server) -> aws_sdk_sns::Client {
    sdk_client!(aws_sdk_sns, s)
}

fn number(n: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("Number")
        .string_value(n)
        .build()
        .unwrap()
}

/// Receives from `url` until `want` messages came (or 20 s passed); their bodies and
/// attributes.
async fn drain(
    q: &aws_sdk_sqs::Client,
    url: &str,
    want: usize,
) -> Vec<aws_sdk_sqs::types::Message> {
    let began = Instant::now();
    let mut got = Vec::new();
    while got.len() < want && began.elapsed() < Duration::from_secs(20) {
        let r = q
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .message_attribute_names("All")
            .wait_time_seconds(2)
            .send()
            .await
            .unwrap();
        got.extend(r.messages().iter().cloned());
    }
    got
}

#[test]
fn sdk_sns_fans_out_to_queues_state_machines_and_modules_with_filters() {
    let dir = TempDir::new("sdk-sns");
    let server = Server::start(&dir.0.join("data"), &[]);
    server
        .upload("keep-input", &module("keep-input"), "kv:inputs")
        .unwrap();
    runtime().block_on(async {
        let n = sns(&server);
        let q = super::sqs::sqs(&server);
        let topic = n.create_topic().name("orders").send().await.unwrap();
        let topic = topic.topic_arn().unwrap().to_string();
        assert_eq!(topic, "arn:aws:sns:us-east-1:000000000000:orders");
        let mut urls = Vec::new();
        for name in ["all", "big", "raw"] {
            let url = q.create_queue().queue_name(name).send().await.unwrap();
            urls.push(url.queue_url().unwrap().to_string());
        }
        let queue_arn = |name: &str| format!("arn:aws:sqs:us-east-1:000000000000:{name}");
        n.subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint(queue_arn("all"))
            .send()
            .await
            .unwrap();
        let big = n
            .subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint(queue_arn("big"))
            .attributes("FilterPolicy", r#"{"size": [{"numeric": [">", 10]}]}"#)
            .send()
            .await
            .unwrap();
        n.subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint(queue_arn("raw"))
            .attributes("RawMessageDelivery", "true")
            .attributes("FilterPolicy", r#"{"size": [{"numeric": [">", 10]}]}"#)
            .send()
            .await
            .unwrap();
        let c = client(&server);
        let machine = create(
            &c,
            "on-order",
            r#"{"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}"#,
            StateMachineType::Standard,
        )
        .await;
        n.subscribe()
            .topic_arn(&topic)
            .protocol("states")
            .endpoint(&machine)
            .send()
            .await
            .unwrap();
        n.subscribe()
            .topic_arn(&topic)
            .protocol("lambda")
            .endpoint("arn:aws:lambda:us-east-1:000000000000:function:keep-input")
            .send()
            .await
            .unwrap();
        let attributes = n
            .get_subscription_attributes()
            .subscription_arn(big.subscription_arn().unwrap())
            .send()
            .await
            .unwrap();
        let attributes = attributes.attributes().unwrap();
        assert_eq!(
            attributes["FilterPolicy"],
            r#"{"size": [{"numeric": [">", 10]}]}"#
        );
        assert_eq!(attributes["TopicArn"], topic);

        let mut ids = Vec::new();
        for size in ["5", "50"] {
            let sent = n
                .publish()
                .topic_arn(&topic)
                .subject("new order")
                .message(json!({"size": size}).to_string())
                .message_attributes("size", number(size))
                .send()
                .await
                .unwrap();
            ids.push(sent.message_id().unwrap().to_string());
        }

        // Every message to `all`, in SNS's envelope; only the big one to `big` and `raw`.
        let all = drain(&q, &urls[0], 2).await;
        let envelopes: Vec<Value> = all
            .iter()
            .map(|m| serde_json::from_str(m.body().unwrap()).unwrap())
            .collect();
        let mut got: Vec<&str> = envelopes
            .iter()
            .map(|e| e["MessageId"].as_str().unwrap())
            .collect();
        got.sort_unstable();
        let mut want: Vec<&str> = ids.iter().map(String::as_str).collect();
        want.sort_unstable();
        assert_eq!(got, want);
        let e = &envelopes[0];
        assert_eq!(
            (
                e["Type"].as_str(),
                e["TopicArn"].as_str(),
                e["Subject"].as_str()
            ),
            (
                Some("Notification"),
                Some(topic.as_str()),
                Some("new order")
            )
        );
        assert_eq!(e["MessageAttributes"]["size"]["Type"], "Number");
        let filtered = drain(&q, &urls[1], 1).await;
        assert_eq!(filtered.len(), 1);
        let body: Value = serde_json::from_str(filtered[0].body().unwrap()).unwrap();
        assert_eq!(body["MessageId"], ids[1].as_str());
        let raw = drain(&q, &urls[2], 1).await;
        assert_eq!(
            raw[0].body(),
            Some(r#"{"size":"50"}"#),
            "the message itself"
        );
        assert_eq!(
            raw[0].message_attributes().unwrap()["size"].string_value(),
            Some("50")
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        let none = q
            .receive_message()
            .queue_url(&urls[1])
            .send()
            .await
            .unwrap();
        assert!(
            none.messages().is_empty(),
            "the small one did not pass the filter"
        );

        // An execution per message, named after it.
        let began = Instant::now();
        let executions = loop {
            let listed = c
                .list_executions()
                .state_machine_arn(&machine)
                .send()
                .await
                .unwrap();
            if listed.executions().len() >= 2 || began.elapsed() > Duration::from_secs(20) {
                break listed;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert_eq!(executions.executions().len(), 2);
        for e in executions.executions() {
            let done = wait_done(&c, e.execution_arn()).await;
            let input: Value = serde_json::from_str(done.input().unwrap()).unwrap();
            assert_eq!(input["Type"], "Notification");
            assert!(
                e.name().starts_with(input["MessageId"].as_str().unwrap()),
                "{}",
                e.name()
            );
        }

        // The module got SNS's Lambda event for each.
        for id in &ids {
            let began = Instant::now();
            let kept = loop {
                let r = ureq::get(&format!("{}/v1/kv/inputs/{id}", server.url)).call();
                if let Ok(r) = r {
                    break r.into_json::<Value>().unwrap();
                }
                assert!(
                    began.elapsed() < Duration::from_secs(20),
                    "the module never ran for {id}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            let record = &kept["item"]["Records"][0];
            assert_eq!(record["EventSource"], "aws:sns");
            assert_eq!(record["Sns"]["TopicArn"], topic.as_str());
        }

        // Batches, listings and errors.
        let batch = n
            .publish_batch()
            .topic_arn(&topic)
            .publish_batch_request_entries(
                PublishBatchRequestEntry::builder()
                    .id("a")
                    .message("one")
                    .build()
                    .unwrap(),
            )
            .publish_batch_request_entries(
                PublishBatchRequestEntry::builder()
                    .id("b")
                    .message("two")
                    .message_attributes("size", number("99"))
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(batch.successful().len(), 2);
        assert_eq!(
            drain(&q, &urls[1], 1).await.len(),
            1,
            "only 'b' passes the filter"
        );
        let subs = n
            .list_subscriptions_by_topic()
            .topic_arn(&topic)
            .send()
            .await
            .unwrap();
        assert_eq!(subs.subscriptions().len(), 5);
        assert_eq!(n.list_topics().send().await.unwrap().topics().len(), 1);
        let missing = n
            .publish()
            .topic_arn("arn:aws:sns:us-east-1:000000000000:nope")
            .message("x")
            .send()
            .await
            .unwrap_err();
        assert!(
            missing
                .as_service_error()
                .is_some_and(|e| e.is_not_found_exception()),
            "{missing:?}"
        );
        let bad = n
            .subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint(queue_arn("x"))
            .attributes("FilterPolicy", r#"{"size": [{"numeric": ["<>", 1]}]}"#)
            .send()
            .await
            .unwrap_err();
        assert!(
            bad.as_service_error()
                .is_some_and(|e| e.is_invalid_parameter_exception()),
            "{bad:?}"
        );
        n.unsubscribe()
            .subscription_arn(big.subscription_arn().unwrap())
            .send()
            .await
            .unwrap();
        n.delete_topic().topic_arn(&topic).send().await.unwrap();
        assert!(n.list_topics().send().await.unwrap().topics().is_empty());
    });
}

#[test]
fn sdk_a_workflow_publishes_and_waits_for_the_token_its_message_carries() {
    let dir = TempDir::new("sdk-sns-asl");
    let server = Server::start(&dir.0.join("data"), &[]);
    runtime().block_on(async {
        let n = sns(&server);
        let q = super::sqs::sqs(&server);
        let topic = n.create_topic().name("approvals").send().await.unwrap().topic_arn().unwrap().to_string();
        let url = q.create_queue().queue_name("inbox").send().await.unwrap().queue_url().unwrap().to_string();
        n.subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint("arn:aws:sqs:us-east-1:000000000000:inbox")
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .unwrap();
        let definition = json!({
            "StartAt": "Ask",
            "States": {
                "Ask": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
                    "Parameters": {
                        "TopicArn": topic,
                        "Message": {"order.$": "$.order", "token.$": "$$.Task.Token"},
                        "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "approval"}}
                    },
                    "ResultPath": "$.decision",
                    "Next": "Missing"
                },
                "Missing": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:sns:publish",
                    "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:000000000000:nope", "Message": "x"},
                    "Catch": [{"ErrorEquals": ["Sns.NotFoundException"], "ResultPath": "$.caught", "Next": "Done"}],
                    "End": true
                },
                "Done": {"Type": "Succeed"}
            }
        });
        let c = client(&server);
        let machine = c
            .create_state_machine()
            .name("approve")
            .definition(definition.to_string())
            .role_arn(ROLE)
            .send()
            .await
            .unwrap();
        let started = c
            .start_execution()
            .state_machine_arn(machine.state_machine_arn())
            .input(json!({"order": 7}).to_string())
            .send()
            .await
            .unwrap();
        let got = drain(&q, &url, 1).await;
        let body: Value = serde_json::from_str(got[0].body().unwrap()).unwrap();
        assert_eq!(body["order"], 7);
        assert_eq!(got[0].message_attributes().unwrap()["kind"].string_value(), Some("approval"));
        c.send_task_success()
            .task_token(body["token"].as_str().unwrap())
            .output(json!({"approved": true}).to_string())
            .send()
            .await
            .unwrap();
        let done = server.wait_done(started.execution_arn(), Duration::from_secs(30));
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
        assert_eq!(output["decision"], json!({"approved": true}));
        assert_eq!(output["caught"]["Error"], "Sns.NotFoundException");
    });
}

#[test]
fn sdk_sns_deliveries_survive_kill_9_and_are_retried_until_they_arrive() {
    let dir = TempDir::new("sdk-sns-crash");
    let mut server = Server::start(&dir.0.join("data"), &[]);
    let rt = runtime();
    let (topic, id) = rt.block_on(async {
        let n = sns(&server);
        let topic = n
            .create_topic()
            .name("events")
            .send()
            .await
            .unwrap()
            .topic_arn()
            .unwrap()
            .to_string();
        // The queue does not exist yet: the delivery fails and waits for its next attempt.
        n.subscribe()
            .topic_arn(&topic)
            .protocol("sqs")
            .endpoint("arn:aws:sqs:us-east-1:000000000000:late")
            .attributes("RawMessageDelivery", "true")
            .send()
            .await
            .unwrap();
        let sent = n
            .publish()
            .topic_arn(&topic)
            .message("survives")
            .send()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        (topic, sent.message_id().unwrap().to_string())
    });
    server.crash_and_restart();
    rt.block_on(async {
        let q = super::sqs::sqs(&server);
        let url = q
            .create_queue()
            .queue_name("late")
            .send()
            .await
            .unwrap()
            .queue_url()
            .unwrap()
            .to_string();
        let got = drain(&q, &url, 1).await;
        assert_eq!(
            got.len(),
            1,
            "the delivery published before the crash arrived after it"
        );
        assert_eq!(got[0].body(), Some("survives"));
        tokio::time::sleep(Duration::from_secs(3)).await;
        let again = q.receive_message().queue_url(&url).send().await.unwrap();
        assert!(
            again.messages().is_empty(),
            "delivered once it arrived, not again ({topic} {id})"
        );
    });
}
