//! What a subscriber receives, in SNS's shapes: the JSON notification a queue gets as its
//! message body (unless the subscription asks for raw delivery), the event a Lambda
//! function (here a module) is invoked with, and the input of a state machine's execution.
//! Sandstep does not sign messages: `Signature` and the certificate URL are empty.

use crate::store::queues::MessageAttribute;
use crate::store::topics::Notification;
use base64::Engine as _;
use sandstep_engine::timestamp::format_millis;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

/// The notification as SNS delivers it to a queue (and, here, to a state machine):
/// `{"Type": "Notification", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
/// ..., "MessageAttributes"}`.
pub fn notification(n: &Notification, topic_arn: &str, subscription_arn: &str) -> Json {
    let mut out = json!({
        "Type": "Notification",
        "MessageId": n.id,
        "TopicArn": topic_arn,
        "Message": n.message,
        "Timestamp": format_millis(n.published),
        "SignatureVersion": "1",
        "Signature": "",
        "SigningCertURL": "",
        "UnsubscribeURL": format!("sandstep:unsubscribe:{subscription_arn}"),
    });
    if let Some(o) = out.as_object_mut() {
        if let Some(subject) = &n.subject {
            o.insert("Subject".into(), json!(subject));
        }
        if n.group.is_some() {
            o.insert(
                "SequenceNumber".into(),
                json!(format!("{:020}", n.published.max(0))),
            );
        }
        if !n.attributes.is_empty() {
            o.insert("MessageAttributes".into(), attributes(&n.attributes));
        }
    }
    out
}

/// The event SNS invokes a Lambda function with: one record carrying the notification.
pub fn lambda_event(n: &Notification, topic_arn: &str, subscription_arn: &str) -> Json {
    json!({"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": "Notification",
            "MessageId": n.id,
            "TopicArn": topic_arn,
            "Subject": n.subject,
            "Message": n.message,
            "Timestamp": format_millis(n.published),
            "SignatureVersion": "1",
            "Signature": "",
            "SigningCertUrl": "",
            "UnsubscribeUrl": format!("sandstep:unsubscribe:{subscription_arn}"),
            "MessageAttributes": attributes(&n.attributes),
        }
    }]})
}

/// A raw delivery's body read as an execution input: the message when it is JSON, else
/// the message as a JSON string.
pub fn raw_input(n: &Notification) -> Json {
    serde_json::from_str(&n.message).unwrap_or_else(|_| json!(n.message))
}

/// Message attributes as SNS's notifications carry them: `{"name": {"Type", "Value"}}`,
/// binary values in base64.
fn attributes(attributes: &BTreeMap<String, MessageAttribute>) -> Json {
    let mut out = Map::new();
    for (name, a) in attributes {
        let value = match (&a.string, &a.binary) {
            (Some(s), _) => json!(s),
            (None, Some(b)) => json!(base64::engine::general_purpose::STANDARD.encode(b)),
            (None, None) => json!(""),
        };
        out.insert(name.clone(), json!({"Type": a.data_type, "Value": value}));
    }
    Json::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_carry_snss_fields() {
        let mut attributes = BTreeMap::new();
        attributes.insert(
            "kind".to_string(),
            MessageAttribute {
                data_type: "String".into(),
                string: Some("order".into()),
                binary: None,
            },
        );
        let n = Notification {
            id: "m-1".into(),
            topic: "t".into(),
            message: "{\"a\":1}".into(),
            subject: Some("hi".into()),
            attributes,
            group: None,
            dedup: None,
            published: 0,
        };
        let env = notification(&n, "arn:aws:sns:r:1:t", "arn:aws:sns:r:1:t:s");
        assert_eq!(env["Type"], "Notification");
        assert_eq!(env["Timestamp"], "1970-01-01T00:00:00.000Z");
        assert_eq!(env["MessageAttributes"]["kind"]["Value"], "order");
        assert_eq!(env["Subject"], "hi");
        let event = lambda_event(&n, "arn:aws:sns:r:1:t", "arn:aws:sns:r:1:t:s");
        assert_eq!(event["Records"][0]["Sns"]["Message"], "{\"a\":1}");
        assert_eq!(raw_input(&n), json!({"a": 1}));
    }
}
