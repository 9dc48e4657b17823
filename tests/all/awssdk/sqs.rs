//! SQS through the real AWS SDK for Rust (`aws-sdk-sqs`, its JSON protocol) on the same
//! endpoint: queues, attributes, long polling, visibility, FIFO order and deduplication,
//! dead-lettering, and workflows that send (and wait for the token a message carries).

use super::*;
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};

pub(super) fn sqs(s: &Server) -> aws_sdk_sqs::Client {
    sdk_client!(aws_sdk_sqs, s)
}

#[test]
fn sdk_sqs_queues_long_polls_fifo_and_dead_letters() {
    let dir = TempDir::new("sdk-sqs");
    let server = Server::start(&dir.0.join("data"), &[]);
    runtime().block_on(async {
        let q = sqs(&server);
        let dlq = q.create_queue().queue_name("dead").send().await.unwrap();
        let dlq_url = dlq.queue_url().unwrap().to_string();
        assert_eq!(dlq_url, format!("{}/000000000000/dead", server.url));
        let work = q
            .create_queue()
            .queue_name("work")
            .attributes(QueueAttributeName::VisibilityTimeout, "1")
            .attributes(
                QueueAttributeName::RedrivePolicy,
                json!({"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:dead", "maxReceiveCount": "2"}).to_string(),
            )
            .send()
            .await
            .unwrap();
        let url = work.queue_url().unwrap().to_string();
        assert_eq!(
            q.get_queue_url().queue_name("work").send().await.unwrap().queue_url(),
            Some(url.as_str())
        );

        // A long poll answers as soon as a message comes.
        let waiting = {
            let (q, url) = (q.clone(), url.clone());
            tokio::spawn(async move {
                let began = Instant::now();
                let got = q
                    .receive_message()
                    .queue_url(&url)
                    .wait_time_seconds(10)
                    .message_attribute_names("All")
                    .send()
                    .await
                    .unwrap();
                (began.elapsed(), got)
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let sent = q
            .send_message()
            .queue_url(&url)
            .message_body("poison")
            .message_attributes(
                "kind",
                MessageAttributeValue::builder().data_type("String").string_value("test").build().unwrap(),
            )
            .send()
            .await
            .unwrap();
        let (took, got) = waiting.await.unwrap();
        assert!(took < Duration::from_secs(5), "woken by the send, not the timeout: {took:?}");
        let m = &got.messages()[0];
        assert_eq!((m.body(), m.message_id()), (Some("poison"), sent.message_id()));
        assert_eq!(m.message_attributes().unwrap()["kind"].string_value(), Some("test"));
        assert_eq!(m.md5_of_message_attributes(), sent.md5_of_message_attributes());

        // Received twice without a delete: the third receive finds it dead-lettered.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let again = q.receive_message().queue_url(&url).send().await.unwrap();
        assert_eq!(again.messages().len(), 1);
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let none = q.receive_message().queue_url(&url).send().await.unwrap();
        assert!(none.messages().is_empty(), "moved to the dead-letter queue");
        let dead = q.receive_message().queue_url(&dlq_url).send().await.unwrap();
        assert_eq!(dead.messages()[0].body(), Some("poison"));
        q.delete_message()
            .queue_url(&dlq_url)
            .receipt_handle(dead.messages()[0].receipt_handle().unwrap())
            .send()
            .await
            .unwrap();
        let counts = q
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .unwrap();
        assert_eq!(counts.attributes().unwrap()[&QueueAttributeName::ApproximateNumberOfMessages], "0");

        // FIFO: a group's order, one at a time; a duplicate within five minutes is dropped.
        let fifo = q
            .create_queue()
            .queue_name("orders.fifo")
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "true")
            .send()
            .await
            .unwrap();
        let fifo = fifo.queue_url().unwrap().to_string();
        for body in ["one", "two", "one"] {
            q.send_message().queue_url(&fifo).message_body(body).message_group_id("g").send().await.unwrap();
        }
        let first = q.receive_message().queue_url(&fifo).max_number_of_messages(1).send().await.unwrap();
        assert_eq!(first.messages()[0].body(), Some("one"));
        let blocked = q.receive_message().queue_url(&fifo).send().await.unwrap();
        assert!(blocked.messages().is_empty(), "the group waits for 'one'");
        q.delete_message().queue_url(&fifo).receipt_handle(first.messages()[0].receipt_handle().unwrap()).send().await.unwrap();
        let rest = q.receive_message().queue_url(&fifo).max_number_of_messages(10).send().await.unwrap();
        let bodies: Vec<_> = rest.messages().iter().filter_map(|m| m.body()).collect();
        assert_eq!(bodies, ["two"], "the second 'one' was a duplicate");

        let missing = q.send_message().queue_url(format!("{}/000000000000/nope", server.url)).message_body("x").send().await.unwrap_err();
        assert!(missing.as_service_error().is_some_and(|e| e.is_queue_does_not_exist()), "{missing:?}");
        let listed = q.list_queues().send().await.unwrap();
        assert_eq!(listed.queue_urls().len(), 3);
    });
}

#[test]
fn sdk_a_workflow_sends_and_waits_for_the_token_its_message_carries() {
    let dir = TempDir::new("sdk-sqs-asl");
    let server = Server::start(&dir.0.join("data"), &[]);
    runtime().block_on(async {
        let q = sqs(&server);
        let url = q.create_queue().queue_name("approvals").send().await.unwrap().queue_url().unwrap().to_string();
        let definition = json!({
            "StartAt": "Notify",
            "States": {
                "Notify": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage",
                    "Parameters": {"QueueUrl": url, "MessageBody": {"order.$": "$.order"}},
                    "ResultSelector": {"id.$": "$.MessageId"},
                    "ResultPath": "$.sent",
                    "Next": "Ask"
                },
                "Ask": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                    "Parameters": {
                        "QueueUrl": url,
                        "MessageBody": {"order.$": "$.order", "token.$": "$$.Task.Token"},
                        "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "approval"}}
                    },
                    "ResultPath": "$.decision",
                    "End": true
                }
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
        let got = q
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .wait_time_seconds(10)
            .send()
            .await
            .unwrap();
        let mut bodies: Vec<Value> = got.messages().iter().map(|m| serde_json::from_str(m.body().unwrap()).unwrap()).collect();
        while bodies.len() < 2 {
            let more = q.receive_message().queue_url(&url).wait_time_seconds(10).send().await.unwrap();
            bodies.extend(more.messages().iter().map(|m| serde_json::from_str::<Value>(m.body().unwrap()).unwrap()));
        }
        assert_eq!(bodies[0], json!({"order": 7}));
        let token = bodies[1]["token"].as_str().unwrap().to_string();
        c.send_task_success()
            .task_token(&token)
            .output(json!({"approved": true}).to_string())
            .send()
            .await
            .unwrap();
        let done = server.wait_done(started.execution_arn(), Duration::from_secs(30));
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
        assert_eq!(output["decision"], json!({"approved": true}));
        assert!(output["sent"]["id"].is_string());
    });
}
