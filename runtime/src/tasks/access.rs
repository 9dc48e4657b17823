//! Who may touch what: the tables, queues, topics and buckets a store integration's call
//! reads or writes, checked against the grants of the state machine's role before the
//! call runs. A call outside them fails the task with the service's
//! `AccessDeniedException` (SNS: `AuthorizationErrorException`), AWS's words in the cause.
//! Listing calls (`listTables`, ...) need `<kind>:*:read`.

use super::stores::StoreTask;
use crate::grants::{Access, Grants, Resource, ANY};
use serde_json::Value;

/// One resource a call touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Need {
    /// Its kind.
    pub kind: Resource,
    /// Its name (`*`: every one of the kind).
    pub name: String,
    /// Read or write.
    pub access: Access,
}

fn need(kind: Resource, name: &str, access: Access) -> Need {
    Need {
        kind,
        name: name.to_string(),
        access,
    }
}

/// The last part of a URL or ARN (a queue URL's or ARN's queue, a topic ARN's topic).
fn last(text: &str) -> &str {
    text.rsplit(['/', ':']).next().unwrap_or(text)
}

fn text<'a>(input: &'a Value, field: &str) -> Option<&'a str> {
    input.get(field).and_then(Value::as_str)
}

/// What `task` touches with `input`.
pub fn needs(task: &StoreTask, input: &Value) -> Vec<Need> {
    match task {
        StoreTask::DynamoDb(c) => {
            let access = match c.action {
                "getItem" | "query" | "scan" | "describeTable" | "batchGetItem" | "listTables" => {
                    Access::Read
                }
                _ => Access::Write,
            };
            let mut tables: Vec<String> = text(input, "TableName")
                .map(str::to_string)
                .into_iter()
                .collect();
            if let Some(items) = input.get("RequestItems").and_then(Value::as_object) {
                tables.extend(items.keys().cloned());
            }
            if let Some(items) = input.get("TransactItems").and_then(Value::as_array) {
                tables.extend(items.iter().filter_map(|i| {
                    let op = i.as_object()?.values().next()?;
                    text(op, "TableName").map(str::to_string)
                }));
            }
            if c.action == "listTables" {
                tables = vec![ANY.to_string()];
            }
            tables
                .iter()
                .map(|t| need(Resource::Kv, t, access))
                .collect()
        }
        StoreTask::Sqs(c) => {
            let access = match c.action {
                "receiveMessage" | "getQueueUrl" | "getQueueAttributes" | "listQueues" => {
                    Access::Read
                }
                _ => Access::Write,
            };
            let queue = match c.action {
                "listQueues" => Some(ANY),
                _ => text(input, "QueueUrl")
                    .or_else(|| text(input, "QueueName"))
                    .map(last),
            };
            queue
                .map(|q| need(Resource::Queue, q, access))
                .into_iter()
                .collect()
        }
        StoreTask::Sns(c) => {
            let access = match c.action {
                "getTopicAttributes"
                | "getSubscriptionAttributes"
                | "listTopics"
                | "listSubscriptions"
                | "listSubscriptionsByTopic" => Access::Read,
                _ => Access::Write,
            };
            let topic = match c.action {
                "listTopics" | "listSubscriptions" => Some(ANY.to_string()),
                "createTopic" => text(input, "Name").map(str::to_string),
                _ => text(input, "TopicArn")
                    .or_else(|| text(input, "TargetArn"))
                    .map(|a| last(a).to_string())
                    .or_else(|| {
                        // A subscription ARN ends in `<topic>:<id>`.
                        let arn = text(input, "SubscriptionArn")?;
                        arn.rsplit(':').nth(1).map(str::to_string)
                    }),
            };
            topic
                .map(|t| need(Resource::Topic, &t, access))
                .into_iter()
                .collect()
        }
        StoreTask::S3(c) => {
            let access = match c.action {
                "getObject" | "headObject" | "listObjectsV2" | "headBucket" | "listBuckets" => {
                    Access::Read
                }
                _ => Access::Write,
            };
            let mut out: Vec<Need> = match c.action {
                "listBuckets" => vec![need(Resource::Blob, ANY, Access::Read)],
                _ => text(input, "Bucket")
                    .map(|b| need(Resource::Blob, b, access))
                    .into_iter()
                    .collect(),
            };
            if let Some(source) = text(input, "CopySource") {
                if let Ok((bucket, _)) = crate::s3::parse_copy_source(source) {
                    out.push(need(Resource::Blob, &bucket, Access::Read));
                }
            }
            out
        }
        StoreTask::Events(_) => input
            .get("Entries")
            .and_then(Value::as_array)
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        let bus = crate::eventbridge::bus::bus_name(text(e, "EventBusName"));
                        need(Resource::Bus, &bus, Access::Write)
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// The service's name in error names and the action's in messages.
fn names(task: &StoreTask) -> (&'static str, &'static str, &'static str) {
    match task {
        StoreTask::DynamoDb(c) => (
            if c.sdk { "DynamoDb" } else { "DynamoDB" },
            "dynamodb",
            c.action,
        ),
        StoreTask::Sqs(c) => (if c.sdk { "Sqs" } else { "SQS" }, "sqs", c.action),
        StoreTask::Sns(c) => (if c.sdk { "Sns" } else { "SNS" }, "sns", c.action),
        StoreTask::S3(c) => ("S3", "s3", c.action),
        StoreTask::Events(_) => ("EventBridge", "events", "putEvents"),
    }
}

/// Checks `task`'s call against the role's grants (`None`: the whole tenant).
///
/// # Errors
/// `(error, cause)`: `<Service>.AccessDeniedException` naming the first resource outside
/// the grants.
pub fn check(
    task: &StoreTask,
    input: &Value,
    role_arn: &str,
    role: Option<&(String, Grants)>,
) -> Result<(), (String, String)> {
    let Some((role_name, grants)) = role else {
        return Ok(());
    };
    let Some(denied) = needs(task, input)
        .into_iter()
        .find(|n| !grants.allows(n.kind, &n.name, n.access))
    else {
        return Ok(());
    };
    let (service, prefix, action) = names(task);
    let exception = match prefix {
        "sns" => "AuthorizationErrorException",
        _ => "AccessDeniedException",
    };
    let mut action_name = action.to_string();
    if let Some(first) = action_name.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    let access = match denied.access {
        Access::Read => "read",
        _ => "write",
    };
    Err((
        format!("{service}.{exception}"),
        format!(
            "User: {role_arn} is not authorized to perform: {prefix}:{action_name} on resource: {} (Sandstep role '{role_name}' does not grant {access} access to {}:{})",
            denied.name,
            denied.kind.as_str(),
            denied.name
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn grants(g: &str) -> (String, Grants) {
        ("r".into(), Grants::parse([g]).unwrap())
    }

    #[test]
    fn calls_are_checked_against_the_role() {
        let put = StoreTask::resolve("arn:aws:states:::dynamodb:putItem").unwrap();
        let input = json!({"TableName": "orders", "Item": {}});
        assert!(
            check(&put, &input, "arn", None).is_ok(),
            "no role: the whole tenant"
        );
        assert!(check(&put, &input, "arn", Some(&grants("kv:orders"))).is_ok());
        let (error, cause) = check(
            &put,
            &input,
            "arn:aws:iam::1:role/r",
            Some(&grants("kv:orders:read")),
        )
        .unwrap_err();
        assert_eq!(error, "DynamoDB.AccessDeniedException");
        assert!(
            cause.contains("dynamodb:PutItem on resource: orders"),
            "{cause}"
        );
        let send = StoreTask::resolve("arn:aws:states:::sqs:sendMessage").unwrap();
        let to = json!({"QueueUrl": "http://h/000000000000/jobs", "MessageBody": "x"});
        assert!(check(&send, &to, "arn", Some(&grants("queue:jobs:write"))).is_ok());
        let publish = StoreTask::resolve("arn:aws:states:::sns:publish").unwrap();
        let (error, _) = check(
            &publish,
            &json!({"TopicArn": "arn:aws:sns:r:1:news"}),
            "arn",
            Some(&grants("topic:other")),
        )
        .unwrap_err();
        assert_eq!(error, "SNS.AuthorizationErrorException");
        let copy = StoreTask::resolve("arn:aws:states:::aws-sdk:s3:copyObject").unwrap();
        let input = json!({"Bucket": "out", "Key": "k", "CopySource": "in/k"});
        assert!(
            check(&copy, &input, "arn", Some(&grants("blob:out:write"))).is_err(),
            "the source is read too"
        );
        let both = (
            "r".into(),
            Grants::parse(["blob:out:write", "blob:in:read"]).unwrap(),
        );
        assert!(check(&copy, &input, "arn", Some(&both)).is_ok());
        let list = StoreTask::resolve("arn:aws:states:::aws-sdk:dynamodb:listTables").unwrap();
        assert!(check(&list, &json!({}), "arn", Some(&grants("kv:*:read"))).is_ok());
        assert!(check(&list, &json!({}), "arn", Some(&grants("kv:orders"))).is_err());
    }
}
