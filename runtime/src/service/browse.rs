//! Looking at and changing the tenant's data from Sandstep's own API and console: tables
//! and their items (plain JSON, not DynamoDB's typed form), buckets and objects, queues
//! (counts; a peek that changes nothing; send; purge) and topics (subscriptions; publish).
//! Each use case goes through the same code as the AWS API of its service, so the rules
//! and errors are that service's.

use super::{DynamoDb, Sns, Sqs, S3};
use crate::dynamo::value::{item_from_json, item_to_json, Value as Attr};
use crate::store::{Queues as _, Store};
use crate::tenants::Tenant;
use serde_json::{json, Map, Value};

/// Why a data call failed, in its service's terms.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// DynamoDB's error.
    #[error("{0}")]
    DynamoDb(#[from] crate::dynamo::ops::Error),
    /// SQS's error.
    #[error("{0}")]
    Sqs(#[from] crate::sqs::Error),
    /// SNS's error.
    #[error("{0}")]
    Sns(#[from] crate::sns::Error),
    /// S3's error.
    #[error("{0}")]
    S3(#[from] crate::s3::Error),
    /// A request the endpoint cannot read.
    #[error("{0}")]
    Invalid(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

/// The data use cases.
#[derive(Debug, Clone)]
pub struct Browse {
    store: Store,
    dynamodb: DynamoDb,
    sqs: Sqs,
    sns: Sns,
    s3: S3,
}

/// The page size of an item listing when none is asked for.
const ITEMS_PAGE: u64 = 50;

impl Browse {
    /// Over the services' own use cases.
    pub fn new(store: Store, dynamodb: DynamoDb, sqs: Sqs, sns: Sns, s3: S3) -> Browse {
        Browse {
            store,
            dynamodb,
            sqs,
            sns,
            s3,
        }
    }

    /// The tenant's tables with their key schemas and item counts.
    ///
    /// # Errors
    /// DynamoDB's errors.
    pub async fn tables(&self, tenant: &Tenant) -> Result<Value, Error> {
        let listed = self.dynamodb.call(tenant, "ListTables", json!({})).await?;
        let mut tables = Vec::new();
        for name in at(&listed, "TableNames")
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let described = self
                .dynamodb
                .call(tenant, "DescribeTable", json!({"TableName": name}))
                .await?;
            let t = at(&described, "Table");
            let keys: Vec<Value> = at(t, "KeySchema")
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|k| json!({"attributeName": at(k, "AttributeName"), "keyType": at(k, "KeyType")}))
                .collect();
            tables.push(json!({"name": name, "keySchema": keys, "itemCount": at(t, "ItemCount")}));
        }
        Ok(json!({ "tables": tables }))
    }

    /// A page of a table's items as plain JSON; `next` continues after the page.
    ///
    /// # Errors
    /// DynamoDB's errors; `Invalid` for a token this did not make.
    pub async fn items(
        &self,
        tenant: &Tenant,
        table: &str,
        limit: Option<u64>,
        next: Option<&str>,
    ) -> Result<Value, Error> {
        let mut request =
            json!({"TableName": table, "Limit": limit.unwrap_or(ITEMS_PAGE).clamp(1, 1000)});
        if let (Some(token), Some(o)) = (next, request.as_object_mut()) {
            let key: Value = serde_json::from_str(token)
                .map_err(|_| Error::Invalid("next is not a token this endpoint gave".into()))?;
            o.insert("ExclusiveStartKey".into(), key);
        }
        let page = self.dynamodb.call(tenant, "Scan", request).await?;
        let items: Vec<Value> = at(&page, "Items")
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(plain)
            .collect();
        let next = page.get("LastEvaluatedKey").map(Value::to_string);
        Ok(json!({"items": items, "next": next}))
    }

    /// Writes `item` (plain JSON, key attributes included) into `table`.
    ///
    /// # Errors
    /// DynamoDB's errors; `Invalid` for an item that is not an object.
    pub async fn put_item(
        &self,
        tenant: &Tenant,
        table: &str,
        item: &Value,
    ) -> Result<Value, Error> {
        let typed = typed(item)?;
        self.dynamodb
            .call(
                tenant,
                "PutItem",
                json!({"TableName": table, "Item": typed}),
            )
            .await?;
        Ok(json!({ "item": item }))
    }

    /// Deletes the item whose key attributes are `key` (plain JSON).
    ///
    /// # Errors
    /// DynamoDB's errors.
    pub async fn delete_item(
        &self,
        tenant: &Tenant,
        table: &str,
        key: &Value,
    ) -> Result<Value, Error> {
        let typed = typed(key)?;
        let old = self
            .dynamodb
            .call(
                tenant,
                "DeleteItem",
                json!({"TableName": table, "Key": typed, "ReturnValues": "ALL_OLD"}),
            )
            .await?;
        Ok(json!({"deleted": old.get("Attributes").is_some()}))
    }

    /// The tenant's buckets.
    ///
    /// # Errors
    /// S3's errors.
    pub async fn buckets(&self, tenant: &Tenant) -> Result<Value, Error> {
        let buckets: Vec<Value> = self
            .s3
            .list_buckets(tenant)
            .await?
            .iter()
            .map(|b| json!({"name": b.name, "created": b.created as f64 / 1000.0}))
            .collect();
        Ok(json!({ "buckets": buckets }))
    }

    /// A bucket's objects under `prefix` (the first 1000).
    ///
    /// # Errors
    /// S3's errors.
    pub async fn objects(
        &self,
        tenant: &Tenant,
        bucket: &str,
        prefix: &str,
    ) -> Result<Value, Error> {
        let listing = self
            .s3
            .list_objects(tenant, bucket, prefix, None, None, 1000)
            .await?;
        let objects: Vec<Value> = listing
            .contents
            .iter()
            .map(|m| {
                json!({"key": m.key, "size": m.size, "etag": m.etag, "contentType": m.content_type,
                       "modified": m.modified as f64 / 1000.0})
            })
            .collect();
        Ok(json!({"objects": objects, "truncated": listing.next.is_some()}))
    }

    /// The tenant's queues with their message counts.
    ///
    /// # Errors
    /// SQS's errors.
    pub async fn queues(&self, tenant: &Tenant, endpoint: &str) -> Result<Value, Error> {
        let listed = self
            .sqs
            .call(tenant, endpoint, "ListQueues", json!({}))
            .await?;
        let mut queues = Vec::new();
        for url in at(&listed, "QueueUrls")
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let a = self
                .sqs
                .call(
                    tenant,
                    endpoint,
                    "GetQueueAttributes",
                    json!({"QueueUrl": url, "AttributeNames": ["All"]}),
                )
                .await?;
            let a = at(&a, "Attributes");
            let number = |k: &str| {
                a[k].as_str()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            let name = url
                .as_str()
                .and_then(|u| u.rsplit('/').next())
                .unwrap_or_default();
            queues.push(json!({
                "name": name, "url": url, "fifo": at(a, "FifoQueue") == "true",
                "visible": number("ApproximateNumberOfMessages"),
                "inFlight": number("ApproximateNumberOfMessagesNotVisible"),
                "delayed": number("ApproximateNumberOfMessagesDelayed"),
            }));
        }
        Ok(json!({ "queues": queues }))
    }

    /// Up to `limit` of a queue's messages, changing nothing.
    ///
    /// # Errors
    /// `QueueDoesNotExist`, store failures.
    pub async fn peek(&self, tenant: &Tenant, queue: &str, limit: usize) -> Result<Value, Error> {
        let (store, id, q) = (self.store.clone(), tenant.id.clone(), queue.to_string());
        let found = tokio::task::spawn_blocking(move || -> Result<_, Error> {
            if store.queue_get(&id, &q)?.is_none() {
                return Err(Error::Sqs(crate::sqs::Error::no_queue()));
            }
            Ok(store.message_peek(&id, &q, limit.clamp(1, 100))?)
        })
        .await
        .map_err(|e| Error::Invalid(format!("the call was lost: {e}")))??;
        let messages: Vec<Value> = found
            .iter()
            .map(|m| {
                let attributes: Map<String, Value> = m
                    .attributes
                    .iter()
                    .map(|(k, a)| (k.clone(), json!(a.string.clone().unwrap_or_default())))
                    .collect();
                json!({"id": m.id, "body": m.body, "attributes": attributes, "receiveCount": m.receive_count,
                       "visibleAt": m.visible_at as f64 / 1000.0, "sent": m.sent.map(|s| s as f64 / 1000.0)})
            })
            .collect();
        Ok(json!({ "messages": messages }))
    }

    /// Sends `body` to a queue.
    ///
    /// # Errors
    /// SQS's errors.
    pub async fn send(
        &self,
        tenant: &Tenant,
        endpoint: &str,
        queue: &str,
        body: &str,
    ) -> Result<Value, Error> {
        let url = format!("{endpoint}/{}/{queue}", tenant.account);
        let sent = self
            .sqs
            .call(
                tenant,
                endpoint,
                "SendMessage",
                json!({"QueueUrl": url, "MessageBody": body}),
            )
            .await?;
        Ok(json!({"messageId": at(&sent, "MessageId")}))
    }

    /// Deletes every message of a queue.
    ///
    /// # Errors
    /// SQS's errors.
    pub async fn purge(
        &self,
        tenant: &Tenant,
        endpoint: &str,
        queue: &str,
    ) -> Result<Value, Error> {
        let url = format!("{endpoint}/{}/{queue}", tenant.account);
        self.sqs
            .call(tenant, endpoint, "PurgeQueue", json!({"QueueUrl": url}))
            .await?;
        Ok(json!({ "purged": queue }))
    }

    /// The tenant's topics with their subscription counts.
    ///
    /// # Errors
    /// SNS's errors.
    pub async fn topics(&self, tenant: &Tenant) -> Result<Value, Error> {
        let listed = self.sns.call(tenant, "ListTopics", json!({})).await?;
        let mut topics = Vec::new();
        for t in at(&listed, "Topics")
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let arn = at(&t, "TopicArn").as_str().unwrap_or_default().to_string();
            let subs = self
                .sns
                .call(tenant, "ListSubscriptionsByTopic", json!({"TopicArn": arn}))
                .await?;
            let name = arn.rsplit(':').next().unwrap_or_default().to_string();
            let count = at(&subs, "Subscriptions").as_array().map_or(0, Vec::len);
            topics.push(json!({"name": name, "arn": arn, "subscriptions": count}));
        }
        Ok(json!({ "topics": topics }))
    }

    /// A topic's subscriptions.
    ///
    /// # Errors
    /// SNS's errors.
    pub async fn subscriptions(&self, tenant: &Tenant, topic: &str) -> Result<Value, Error> {
        let subs = self
            .sns
            .call(
                tenant,
                "ListSubscriptionsByTopic",
                json!({"TopicArn": topic}),
            )
            .await?;
        let mut out = Vec::new();
        for s in at(&subs, "Subscriptions")
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let a = self
                .sns
                .call(
                    tenant,
                    "GetSubscriptionAttributes",
                    json!({"SubscriptionArn": at(&s, "SubscriptionArn")}),
                )
                .await?;
            let a = at(&a, "Attributes");
            out.push(json!({"arn": at(&s, "SubscriptionArn"), "protocol": at(&s, "Protocol"), "endpoint": at(&s, "Endpoint"),
                            "filterPolicy": a.get("FilterPolicy"), "raw": at(a, "RawMessageDelivery") == "true"}));
        }
        Ok(json!({ "subscriptions": out }))
    }

    /// Publishes `message` (with `subject`) to a topic.
    ///
    /// # Errors
    /// SNS's errors.
    pub async fn publish(
        &self,
        tenant: &Tenant,
        topic: &str,
        message: &str,
        subject: Option<&str>,
    ) -> Result<Value, Error> {
        let mut request = json!({"TopicArn": topic, "Message": message});
        if let (Some(s), Some(o)) = (subject, request.as_object_mut()) {
            o.insert("Subject".into(), json!(s));
        }
        let published = self.sns.call(tenant, "Publish", request).await?;
        Ok(json!({"messageId": at(&published, "MessageId")}))
    }
}

/// A field of a service's answer (`Null` when absent).
fn at<'a>(v: &'a Value, field: &str) -> &'a Value {
    v.get(field).unwrap_or(&Value::Null)
}

/// An item in DynamoDB's typed form, as plain JSON.
fn plain(item: &Value) -> Value {
    match item_from_json(item) {
        Ok(typed) => Value::Object(
            typed
                .iter()
                .map(|(k, v)| (k.clone(), v.to_plain()))
                .collect(),
        ),
        Err(_) => item.clone(),
    }
}

/// Plain JSON as an item in DynamoDB's typed form.
fn typed(plain: &Value) -> Result<Value, Error> {
    let object = plain
        .as_object()
        .ok_or_else(|| Error::Invalid("an item is a JSON object of attributes".into()))?;
    let mut item = crate::dynamo::value::Item::new();
    for (k, v) in object {
        item.insert(
            k.clone(),
            Attr::from_plain(v).map_err(|e| Error::Invalid(format!("{k}: {e}")))?,
        );
    }
    Ok(item_to_json(&item))
}
