//! SQS on the tenant's queues: the SQS actions with SQS's JSON request and response shapes
//! (the JSON protocol, `X-Amz-Target: AmazonSQS.<Action>`), answered alike for the SQS API
//! and the `sqs:` Task integrations. Queue URLs have AWS's form, `<endpoint>/<account>/<name>`;
//! only the name is read back (a tenant's queues are its own whatever the URL's host).

use crate::store::queues::{
    Message, MessageAttribute, QueueAttributes, QueueDef, Queues, Redrive, Taken,
};
use crate::store::tables::EffectOf;
use crate::store::TenantId;
use base64::Engine as _;
use md5::{Digest, Md5};
use sandstep_engine::Millis;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

/// An SQS action's failure, named as SQS's JSON protocol names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// The error code (`QueueDoesNotExist`, ...), the `__type` after `com.amazonaws.sqs#`.
    pub code: &'static str,
    /// The legacy query error code (`AWS.SimpleQueueService.NonExistentQueue`), which the
    /// AWS CLI reads from `x-amzn-query-error`.
    pub query_code: &'static str,
    /// What went wrong.
    pub message: String,
    /// The store failed (not the caller's fault).
    pub internal: bool,
}

impl Error {
    fn new(code: &'static str, query_code: &'static str, message: impl Into<String>) -> Error {
        Error {
            code,
            query_code,
            message: message.into(),
            internal: false,
        }
    }

    fn invalid(message: impl Into<String>) -> Error {
        Error::new("InvalidParameterValue", "InvalidParameterValue", message)
    }

    /// A queue that is not there.
    pub(crate) fn no_queue() -> Error {
        Error::new(
            "QueueDoesNotExist",
            "AWS.SimpleQueueService.NonExistentQueue",
            "The specified queue does not exist.",
        )
    }
}

impl Error {
    /// The HTTP status SQS answers this error with: 503 when the store cannot be reached
    /// for now (the SDKs retry it), 500 when it failed, 400 for the caller's mistakes.
    pub fn status(&self) -> u16 {
        match (self.internal, self.code) {
            (true, "ServiceUnavailable") => 503,
            (true, _) => 500,
            _ => 400,
        }
    }
}

impl From<crate::store::Error> for Error {
    fn from(e: crate::store::Error) -> Error {
        let (code, query_code) = match e {
            crate::store::Error::Unavailable(_) => ("ServiceUnavailable", "ServiceUnavailable"),
            _ => ("InternalError", "InternalError"),
        };
        Error {
            code,
            query_code,
            message: e.to_string(),
            internal: true,
        }
    }
}

type Result<T> = std::result::Result<T, Error>;

/// The most entries of a batch and messages of a receive.
const MAX_BATCH: usize = 10;
/// The longest visibility timeout and delay, in seconds.
const MAX_VISIBILITY: u64 = 43_200;
const MAX_DELAY: u64 = 900;

/// The queues of one tenant, as one caller sees them.
pub struct Tenant<'a> {
    /// Where the queues are.
    pub store: &'a dyn Queues,
    /// Whose queues.
    pub tenant: &'a TenantId,
    /// For queue ARNs.
    pub region: &'a str,
    /// For queue URLs and ARNs.
    pub account: &'a str,
    /// The endpoint queue URLs start with (`http://host:port`).
    pub endpoint: &'a str,
    /// Now (epoch ms).
    pub now: Millis,
    /// The workflow task a send is made for: its answer is stored with the send.
    pub effect: Option<&'a EffectOf>,
}

impl std::fmt::Debug for Tenant<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tenant")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl Tenant<'_> {
    /// Runs `action` (`SendMessage`, `sendMessage`: either case) on `request`. A receive
    /// answers at once; long polling is the caller's ([`Tenant::wait_seconds`]).
    ///
    /// # Errors
    /// SQS's error for the action; `UnsupportedOperation` for one Sandstep does not offer.
    pub fn call(&self, action: &str, request: &Json) -> Result<Json> {
        let r = Request(request);
        match action.to_ascii_lowercase().as_str() {
            "createqueue" => self.create(&r),
            "getqueueurl" => {
                let def = self.named(r.text("QueueName")?)?;
                Ok(json!({"QueueUrl": self.url(&def.name)}))
            }
            "listqueues" => self.list(&r),
            "deletequeue" => {
                let def = self.queue(&r)?;
                self.store.queue_delete(self.tenant, &def.name)?;
                Ok(json!({}))
            }
            "purgequeue" => {
                let def = self.queue(&r)?;
                self.store.queue_purge(self.tenant, &def.name)?;
                Ok(json!({}))
            }
            "getqueueattributes" => self.attributes(&r),
            "setqueueattributes" => self.set_attributes(&r),
            "sendmessage" => {
                let def = self.queue(&r)?;
                let (answer, _) = self.send(&def, &r, self.effect)?;
                Ok(answer)
            }
            "sendmessagebatch" => self.send_batch(&r),
            "receivemessage" => self.receive(&r),
            "deletemessage" => {
                let def = self.queue(&r)?;
                let receipt = r.text("ReceiptHandle")?;
                check_receipt(receipt)?;
                self.store.message_delete(self.tenant, &def.name, receipt)?;
                Ok(json!({}))
            }
            "deletemessagebatch" => self.delete_batch(&r),
            "changemessagevisibility" => {
                let def = self.queue(&r)?;
                let receipt = r.text("ReceiptHandle")?;
                check_receipt(receipt)?;
                let seconds = r.seconds("VisibilityTimeout", MAX_VISIBILITY)?.unwrap_or(0);
                if !self.store.message_retime(self.tenant, &def.name, receipt, Millis::try_from(seconds * 1000).unwrap_or(0), self.now)? {
                    return Err(Error::new(
                        "MessageNotInflight",
                        "AWS.SimpleQueueService.MessageNotInflight",
                        "The message referred to isn't in flight.",
                    ));
                }
                Ok(json!({}))
            }
            _ => Err(Error::new(
                "UnsupportedOperation",
                "AWS.SimpleQueueService.UnsupportedOperation",
                format!("{action} is not supported by Sandstep's SQS yet (see the README's list of unsupported features)"),
            )),
        }
    }

    /// How long a `ReceiveMessage` of `request` may wait for a message: its
    /// `WaitTimeSeconds`, or the queue's `ReceiveMessageWaitTimeSeconds`.
    ///
    /// # Errors
    /// SQS's error for a bad value or a missing queue.
    pub fn wait_seconds(&self, request: &Json) -> Result<u64> {
        let r = Request(request);
        let def = self.queue(&r)?;
        Ok(r.seconds("WaitTimeSeconds", 20)?
            .unwrap_or(u64::from(def.attributes.receive_wait_seconds)))
    }

    /// The queue name a request's `QueueUrl` names.
    pub fn queue_name(request: &Json) -> Option<String> {
        let url = request.get("QueueUrl")?.as_str()?;
        url.trim_end_matches('/')
            .rsplit('/')
            .next()
            .map(str::to_string)
    }

    fn url(&self, name: &str) -> String {
        format!(
            "{}/{}/{}",
            self.endpoint.trim_end_matches('/'),
            self.account,
            name
        )
    }

    fn arn(&self, name: &str) -> String {
        format!("arn:aws:sqs:{}:{}:{}", self.region, self.account, name)
    }

    fn named(&self, name: &str) -> Result<QueueDef> {
        self.store
            .queue_get(self.tenant, name)?
            .ok_or_else(Error::no_queue)
    }

    fn queue(&self, r: &Request<'_>) -> Result<QueueDef> {
        let url = r.text("QueueUrl")?;
        let name = Tenant::queue_name(r.0)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                Error::invalid(format!(
                    "Value {url} for parameter QueueUrl is invalid. Reason: Must be a queue URL."
                ))
            })?;
        self.named(&name)
    }

    fn create(&self, r: &Request<'_>) -> Result<Json> {
        let name = r.text("QueueName")?;
        let valid = !name.is_empty()
            && name.len() <= 80
            && name
                .trim_end_matches(".fifo")
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(Error::invalid("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length"));
        }
        let given =
            r.0.get("Attributes")
                .and_then(Json::as_object)
                .cloned()
                .unwrap_or_default();
        let attributes = self.read_attributes(QueueAttributes::default(), &given)?;
        if attributes.fifo != name.ends_with(".fifo") {
            return Err(Error::invalid("The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length."));
        }
        let def = QueueDef {
            name: name.to_string(),
            created: self.now,
            modified: self.now,
            attributes,
        };
        if !self.store.queue_create(self.tenant, &def)? {
            let existing = self.named(name)?;
            if existing.attributes != def.attributes {
                return Err(Error::new(
                    "QueueNameExists",
                    "QueueAlreadyExists",
                    format!("A queue already exists with the same name and a different value for attribute(s): {name}"),
                ));
            }
        }
        Ok(json!({"QueueUrl": self.url(name)}))
    }

    /// `attributes` with the SQS attribute names of `given` applied.
    fn read_attributes(
        &self,
        mut attributes: QueueAttributes,
        given: &Map<String, Json>,
    ) -> Result<QueueAttributes> {
        for (name, value) in given {
            let text = value
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| value.to_string());
            let number = |low: u64, high: u64| -> Result<u32> {
                text.parse::<u64>()
                    .ok()
                    .filter(|n| (low..=high).contains(n))
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        Error::new(
                            "InvalidAttributeValue",
                            "InvalidAttributeValue",
                            format!("Invalid value for the parameter {name}."),
                        )
                    })
            };
            let boolean = || match text.as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(Error::new(
                    "InvalidAttributeValue",
                    "InvalidAttributeValue",
                    format!("Invalid value for the parameter {name}."),
                )),
            };
            match name.as_str() {
                "VisibilityTimeout" => attributes.visibility_timeout = number(0, MAX_VISIBILITY)?,
                "DelaySeconds" => attributes.delay_seconds = number(0, MAX_DELAY)?,
                "MessageRetentionPeriod" => attributes.retention_seconds = number(60, 1_209_600)?,
                "MaximumMessageSize" => attributes.max_message_size = number(1024, 262_144)?,
                "ReceiveMessageWaitTimeSeconds" => attributes.receive_wait_seconds = number(0, 20)?,
                "FifoQueue" => attributes.fifo = boolean()?,
                "ContentBasedDeduplication" => attributes.content_based_deduplication = boolean()?,
                "RedrivePolicy" => attributes.redrive = self.redrive(&text)?,
                // Accepted and without effect here (no encryption at rest to configure, no
                // IAM): as a local SQS does.
                "KmsMasterKeyId"
                | "KmsDataKeyReusePeriodSeconds"
                | "SqsManagedSseEnabled"
                | "Policy"
                | "DeduplicationScope"
                | "FifoThroughputLimit"
                | "RedriveAllowPolicy" => {}
                other => {
                    return Err(Error::new(
                        "InvalidAttributeName",
                        "InvalidAttributeName",
                        format!("Unknown Attribute {other}."),
                    ))
                }
            }
        }
        Ok(attributes)
    }

    fn redrive(&self, text: &str) -> Result<Option<Redrive>> {
        if text.is_empty() {
            return Ok(None);
        }
        let bad = || {
            Error::new("InvalidAttributeValue", "InvalidAttributeValue", format!("Value {text} for parameter RedrivePolicy is invalid. Reason: Redrive policy is not a valid JSON map with deadLetterTargetArn and maxReceiveCount."))
        };
        let policy: Json = serde_json::from_str(text).map_err(|_| bad())?;
        let target = policy
            .get("deadLetterTargetArn")
            .and_then(Json::as_str)
            .ok_or_else(bad)?;
        let count = match policy.get("maxReceiveCount") {
            Some(Json::String(s)) => s.parse::<u32>().ok(),
            Some(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            None => None,
        }
        .filter(|n| (1..=1000).contains(n))
        .ok_or_else(bad)?;
        let name = target.rsplit(':').next().unwrap_or_default();
        if self.store.queue_get(self.tenant, name)?.is_none() {
            return Err(Error::new("InvalidParameterValue", "InvalidParameterValue", format!("Value {target} for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.")));
        }
        Ok(Some(Redrive {
            target: name.to_string(),
            max_receive_count: count,
        }))
    }

    fn list(&self, r: &Request<'_>) -> Result<Json> {
        let prefix =
            r.0.get("QueueNamePrefix")
                .and_then(Json::as_str)
                .unwrap_or("");
        let limit =
            r.0.get("MaxResults")
                .and_then(Json::as_u64)
                .unwrap_or(1000)
                .clamp(1, 1000);
        let after = r.0.get("NextToken").and_then(Json::as_str);
        let all = self.store.queue_list(self.tenant, prefix, usize::MAX)?;
        let page: Vec<&QueueDef> = all
            .iter()
            .filter(|q| after.is_none_or(|a| q.name.as_str() > a))
            .take(usize::try_from(limit).unwrap_or(1000) + 1)
            .collect();
        let limit = usize::try_from(limit).unwrap_or(1000);
        let urls: Vec<String> = page.iter().take(limit).map(|q| self.url(&q.name)).collect();
        let mut out = json!({"QueueUrls": urls});
        if page.len() > limit && r.0.get("MaxResults").is_some() {
            if let (Some(last), Some(o)) = (page.get(limit - 1), out.as_object_mut()) {
                o.insert("NextToken".into(), json!(last.name));
            }
        }
        Ok(out)
    }

    fn attributes(&self, r: &Request<'_>) -> Result<Json> {
        let def = self.queue(r)?;
        let a = &def.attributes;
        let counts = self.store.queue_counts(self.tenant, &def.name, self.now)?;
        let mut all = Map::new();
        let mut put = |k: &str, v: String| {
            all.insert(k.to_string(), Json::String(v));
        };
        put("QueueArn", self.arn(&def.name));
        put("ApproximateNumberOfMessages", counts.visible.to_string());
        put(
            "ApproximateNumberOfMessagesNotVisible",
            counts.in_flight.to_string(),
        );
        put(
            "ApproximateNumberOfMessagesDelayed",
            counts.delayed.to_string(),
        );
        put("CreatedTimestamp", (def.created / 1000).to_string());
        put("LastModifiedTimestamp", (def.modified / 1000).to_string());
        put("VisibilityTimeout", a.visibility_timeout.to_string());
        put("MaximumMessageSize", a.max_message_size.to_string());
        put("MessageRetentionPeriod", a.retention_seconds.to_string());
        put("DelaySeconds", a.delay_seconds.to_string());
        put(
            "ReceiveMessageWaitTimeSeconds",
            a.receive_wait_seconds.to_string(),
        );
        if a.fifo {
            put("FifoQueue", "true".into());
            put(
                "ContentBasedDeduplication",
                a.content_based_deduplication.to_string(),
            );
        }
        if let Some(redrive) = &a.redrive {
            put(
                "RedrivePolicy",
                json!({"deadLetterTargetArn": self.arn(&redrive.target), "maxReceiveCount": redrive.max_receive_count}).to_string(),
            );
        }
        let wanted: Vec<&str> =
            r.0.get("AttributeNames")
                .and_then(Json::as_array)
                .map(|a| a.iter().filter_map(Json::as_str).collect())
                .unwrap_or_default();
        if !wanted.contains(&"All") {
            all.retain(|k, _| wanted.contains(&k.as_str()));
        }
        Ok(json!({"Attributes": all}))
    }

    fn set_attributes(&self, r: &Request<'_>) -> Result<Json> {
        let mut def = self.queue(r)?;
        let given =
            r.0.get("Attributes")
                .and_then(Json::as_object)
                .cloned()
                .unwrap_or_default();
        let attributes = self.read_attributes(def.attributes.clone(), &given)?;
        if attributes.fifo != def.attributes.fifo {
            return Err(Error::new(
                "InvalidAttributeName",
                "InvalidAttributeName",
                "Unknown Attribute FifoQueue.",
            ));
        }
        def.attributes = attributes;
        def.modified = self.now;
        self.store.queue_put(self.tenant, &def)?;
        Ok(json!({}))
    }

    /// Sends one message of `r` (a request or a batch entry); its answer.
    fn send(
        &self,
        def: &QueueDef,
        r: &Request<'_>,
        effect: Option<&EffectOf>,
    ) -> Result<(Json, String)> {
        let body = match r.0.get("MessageBody") {
            Some(Json::String(s)) => s.clone(),
            // The optimized integration takes any JSON and sends its text.
            Some(other) if !other.is_null() => other.to_string(),
            _ => {
                return Err(Error::new(
                    "MissingParameter",
                    "MissingParameter",
                    "The request must contain the parameter MessageBody.",
                ))
            }
        };
        if body.is_empty() || body.len() > def.attributes.max_message_size as usize {
            return Err(Error::new("InvalidMessageContents", "InvalidMessageContents", format!(
                "One or more parameters are invalid. Reason: Message must be shorter than {} bytes.",
                def.attributes.max_message_size
            )));
        }
        let attributes = message_attributes(r.0.get("MessageAttributes"))?;
        let fifo = def.attributes.fifo;
        let group =
            r.0.get("MessageGroupId")
                .and_then(Json::as_str)
                .map(str::to_string);
        let mut dedup =
            r.0.get("MessageDeduplicationId")
                .and_then(Json::as_str)
                .map(str::to_string);
        if fifo {
            if group.is_none() {
                return Err(Error::new(
                    "MissingParameter",
                    "MissingParameter",
                    "The request must contain the parameter MessageGroupId.",
                ));
            }
            if dedup.is_none() {
                if !def.attributes.content_based_deduplication {
                    return Err(Error::invalid("The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"));
                }
                dedup = Some(hex(&sha256(body.as_bytes())));
            }
        }
        let delay = match r.seconds("DelaySeconds", MAX_DELAY)? {
            Some(_) if fifo => return Err(Error::invalid("Value for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.")),
            Some(d) => d,
            None => u64::from(def.attributes.delay_seconds),
        };
        let md5_body = hex(&Md5::digest(body.as_bytes()));
        let md5_attributes = (!attributes.is_empty()).then(|| attributes_md5(&attributes));
        let message = Message {
            id: String::new(),
            body,
            visible_at: self.now + Millis::try_from(delay * 1000).unwrap_or(0),
            receive_count: 0,
            sent: Some(self.now),
            first_received: None,
            attributes,
            group,
            dedup,
        };
        let answer_of = |id: &str, sequence: u64| {
            let mut a = json!({"MessageId": id, "MD5OfMessageBody": md5_body});
            if let (Some(md5), Some(o)) = (&md5_attributes, a.as_object_mut()) {
                o.insert("MD5OfMessageAttributes".into(), json!(md5));
            }
            if let (true, Some(o)) = (fifo, a.as_object_mut()) {
                o.insert("SequenceNumber".into(), json!(format!("{sequence:020}")));
            }
            a
        };
        // The id is made here so that a task's answer is known before the send and stored
        // with it; a FIFO queue's sequence number is not, so a task run again after a crash
        // answers its send with sequence number 0.
        let id = random_id(self.now);
        let message = Message {
            id: id.clone(),
            ..message
        };
        let predicted = effect.map(|of| (of, answer_of(&id, 0).to_string()));
        let sent = self
            .store
            .message_send(self.tenant, def, message, self.now, predicted)?;
        Ok((answer_of(&sent.id, sent.sequence), sent.id))
    }

    fn send_batch(&self, r: &Request<'_>) -> Result<Json> {
        let def = self.queue(r)?;
        let entries = batch(r)?;
        let (mut successful, mut failed) = (Vec::new(), Vec::new());
        for entry in entries {
            let id = entry
                .get("Id")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string();
            match self.send(&def, &Request(entry), None) {
                Ok((mut answer, _)) => {
                    if let Some(o) = answer.as_object_mut() {
                        o.insert("Id".into(), json!(id));
                    }
                    successful.push(answer);
                }
                Err(e) => failed.push(json!({"Id": id, "Code": e.code, "Message": e.message, "SenderFault": !e.internal})),
            }
        }
        Ok(json!({"Successful": successful, "Failed": failed}))
    }

    fn delete_batch(&self, r: &Request<'_>) -> Result<Json> {
        let def = self.queue(r)?;
        let entries = batch(r)?;
        let (mut successful, mut failed) = (Vec::new(), Vec::new());
        for entry in entries {
            let id = entry.get("Id").and_then(Json::as_str).unwrap_or_default();
            match entry.get("ReceiptHandle").and_then(Json::as_str) {
                Some(receipt) if check_receipt(receipt).is_ok() => {
                    self.store.message_delete(self.tenant, &def.name, receipt)?;
                    successful.push(json!({"Id": id}));
                }
                _ => failed.push(json!({"Id": id, "Code": "ReceiptHandleIsInvalid", "Message": "The input receipt handle is invalid.", "SenderFault": true})),
            }
        }
        Ok(json!({"Successful": successful, "Failed": failed}))
    }

    fn receive(&self, r: &Request<'_>) -> Result<Json> {
        let def = self.queue(r)?;
        let max = match r.0.get("MaxNumberOfMessages") {
            None => 1,
            Some(n) => n.as_u64().filter(|n| (1..=MAX_BATCH as u64).contains(n)).ok_or_else(|| {
                Error::invalid(format!("Value {n} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided."))
            })?,
        };
        let visibility = r
            .seconds("VisibilityTimeout", MAX_VISIBILITY)?
            .unwrap_or(u64::from(def.attributes.visibility_timeout));
        let taken = self.store.message_receive(
            self.tenant,
            &def,
            usize::try_from(max).unwrap_or(1),
            Millis::try_from(visibility * 1000).unwrap_or(0),
            self.now,
        )?;
        let names = |field: &str| -> Vec<String> {
            r.0.get(field)
                .and_then(Json::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Json::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut system = names("AttributeNames");
        system.extend(names("MessageSystemAttributeNames"));
        let wanted = names("MessageAttributeNames");
        let messages: Vec<Json> = taken
            .iter()
            .map(|t| self.rendered(&def, t, &system, &wanted))
            .collect();
        Ok(json!({"Messages": messages}))
    }

    fn rendered(&self, def: &QueueDef, t: &Taken, system: &[String], wanted: &[String]) -> Json {
        let m = &t.message;
        let mut out = json!({
            "MessageId": m.id,
            "ReceiptHandle": t.receipt,
            "MD5OfBody": hex(&Md5::digest(m.body.as_bytes())),
            "Body": m.body,
        });
        let all = system.iter().any(|s| s == "All");
        let mut attrs = Map::new();
        let mut add = |name: &str, value: String| {
            if all || system.iter().any(|s| s == name) {
                attrs.insert(name.to_string(), Json::String(value));
            }
        };
        add("SenderId", self.account.to_string());
        add("SentTimestamp", m.sent.unwrap_or(0).to_string());
        add("ApproximateReceiveCount", m.receive_count.to_string());
        add(
            "ApproximateFirstReceiveTimestamp",
            m.first_received.unwrap_or(self.now).to_string(),
        );
        if def.attributes.fifo {
            add("SequenceNumber", format!("{:020}", t.sequence));
            if let Some(g) = &m.group {
                add("MessageGroupId", g.clone());
            }
            if let Some(d) = &m.dedup {
                add("MessageDeduplicationId", d.clone());
            }
        }
        let o = out.as_object_mut();
        if let Some(o) = o {
            if !attrs.is_empty() {
                o.insert("Attributes".into(), Json::Object(attrs));
            }
            let chosen: BTreeMap<String, MessageAttribute> = m
                .attributes
                .iter()
                .filter(|(k, _)| {
                    wanted.iter().any(|w| {
                        w == "All"
                            || w == ".*"
                            || *w == **k
                            || w.strip_suffix(".*").is_some_and(|p| k.starts_with(p))
                    })
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !chosen.is_empty() {
                o.insert(
                    "MD5OfMessageAttributes".into(),
                    json!(attributes_md5(&chosen)),
                );
                o.insert("MessageAttributes".into(), attributes_json(&chosen));
            }
        }
        out
    }
}

/// A batch request's entries: 1 to 10, with distinct ids.
fn batch<'r>(r: &Request<'r>) -> Result<&'r Vec<Json>> {
    let entries = r.0.get("Entries").and_then(Json::as_array).ok_or_else(|| {
        Error::new(
            "EmptyBatchRequest",
            "AWS.SimpleQueueService.EmptyBatchRequest",
            "There should be at least one SendMessageBatchRequestEntry in the request.",
        )
    })?;
    if entries.is_empty() {
        return Err(Error::new(
            "EmptyBatchRequest",
            "AWS.SimpleQueueService.EmptyBatchRequest",
            "There should be at least one entry in the request.",
        ));
    }
    if entries.len() > MAX_BATCH {
        return Err(Error::new(
            "TooManyEntriesInBatchRequest",
            "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            format!(
                "Maximum number of entries per request are 10. You have sent {}.",
                entries.len()
            ),
        ));
    }
    let mut ids: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.get("Id").and_then(Json::as_str))
        .collect();
    ids.sort_unstable();
    let before = ids.len();
    ids.dedup();
    if ids.len() != before || before != entries.len() {
        return Err(Error::new(
            "BatchEntryIdsNotDistinct",
            "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            "Two or more batch entries in the request have the same Id.",
        ));
    }
    Ok(entries)
}

fn check_receipt(receipt: &str) -> Result<()> {
    let ok = receipt
        .split_once('.')
        .is_some_and(|(a, b)| u64::from_str_radix(a, 16).is_ok() && b.parse::<u32>().is_ok());
    match ok {
        true => Ok(()),
        false => Err(Error::new(
            "ReceiptHandleIsInvalid",
            "ReceiptHandleIsInvalid",
            format!("The input receipt handle \"{receipt}\" is not a valid receipt handle."),
        )),
    }
}

/// A request's `MessageAttributes`, checked as SQS checks them.
pub(crate) fn message_attributes(
    given: Option<&Json>,
) -> Result<BTreeMap<String, MessageAttribute>> {
    let Some(given) = given else {
        return Ok(BTreeMap::new());
    };
    let object = given
        .as_object()
        .ok_or_else(|| Error::invalid("MessageAttributes must be a map"))?;
    if object.len() > 10 {
        return Err(Error::invalid(
            "Number of message attributes [{}] exceeds the allowed maximum [10].",
        ));
    }
    object
        .iter()
        .map(|(name, a)| {
            let data_type = a.get("DataType").and_then(Json::as_str).unwrap_or_default().to_string();
            let base = data_type.split('.').next().unwrap_or_default();
            let attribute = match base {
                "String" | "Number" => MessageAttribute {
                    string: Some(a.get("StringValue").and_then(Json::as_str).ok_or_else(|| {
                        Error::invalid(format!("The message attribute '{name}' must contain a non-empty message attribute value for message attribute type '{base}'."))
                    })?.to_string()),
                    binary: None,
                    data_type,
                },
                "Binary" => MessageAttribute {
                    binary: Some(
                        a.get("BinaryValue")
                            .and_then(Json::as_str)
                            .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                            .ok_or_else(|| Error::invalid(format!("The message attribute '{name}' must contain a non-empty message attribute value for message attribute type 'Binary'.")))?,
                    ),
                    string: None,
                    data_type,
                },
                _ => return Err(Error::invalid(format!("The type of message attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."))),
            };
            Ok((name.clone(), attribute))
        })
        .collect()
}

pub(crate) fn attributes_json(attributes: &BTreeMap<String, MessageAttribute>) -> Json {
    Json::Object(
        attributes
            .iter()
            .map(|(k, a)| {
                let mut v = json!({"DataType": a.data_type});
                if let Some(o) = v.as_object_mut() {
                    if let Some(s) = &a.string {
                        o.insert("StringValue".into(), json!(s));
                    }
                    if let Some(b) = &a.binary {
                        o.insert(
                            "BinaryValue".into(),
                            json!(base64::engine::general_purpose::STANDARD.encode(b)),
                        );
                    }
                }
                (k.clone(), v)
            })
            .collect(),
    )
}

/// SQS's MD5 of message attributes: for each, by name, length-prefixed name, type, a
/// transport byte (1 string, 2 binary) and the length-prefixed value.
pub fn attributes_md5(attributes: &BTreeMap<String, MessageAttribute>) -> String {
    let mut h = Md5::new();
    let field = |h: &mut Md5, bytes: &[u8]| {
        h.update((bytes.len() as u32).to_be_bytes());
        h.update(bytes);
    };
    for (name, a) in attributes {
        field(&mut h, name.as_bytes());
        field(&mut h, a.data_type.as_bytes());
        let (transport, value): (u8, &[u8]) = match (&a.string, &a.binary) {
            (None, Some(b)) => (2, b),
            (s, _) => (1, s.as_deref().unwrap_or_default().as_bytes()),
        };
        h.update([transport]);
        field(&mut h, value);
    }
    hex(&h.finalize())
}

/// A random id shaped as a UUID (SQS's and SNS's message ids); the time stands in should
/// the system's randomness fail.
pub(crate) fn random_id(now: Millis) -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        bytes = (now as u128).to_be_bytes();
    }
    let h = hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A request's fields, read with SQS's messages.
struct Request<'a>(&'a Json);

impl Request<'_> {
    fn text(&self, field: &str) -> Result<&str> {
        self.0.get(field).and_then(Json::as_str).ok_or_else(|| {
            Error::new(
                "MissingParameter",
                "MissingParameter",
                format!("The request must contain the parameter {field}."),
            )
        })
    }

    /// A number of seconds at most `high` (SQS sends numbers; the integrations' JSON may
    /// carry them as text).
    fn seconds(&self, field: &str, high: u64) -> Result<Option<u64>> {
        let Some(v) = self.0.get(field) else {
            return Ok(None);
        };
        let n = v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()));
        match n {
            Some(n) if n <= high => Ok(Some(n)),
            _ => Err(Error::invalid(format!("Value {v} for parameter {field} is invalid. Reason: Must be between 0 and {high}, if provided."))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn call(store: &Store, now: Millis, action: &str, request: Json) -> Result<Json> {
        let tenant = TenantId("t".into());
        Tenant {
            store,
            tenant: &tenant,
            region: "us-east-1",
            account: "000000000000",
            endpoint: "http://localhost:8080",
            now,
            effect: None,
        }
        .call(action, &request)
    }

    #[test]
    fn the_md5_of_attributes_is_sqs_s() {
        // The example of the AWS SDK for Java's tests: one String attribute.
        let attributes = BTreeMap::from([(
            "a".to_string(),
            MessageAttribute {
                data_type: "String".into(),
                string: Some("b".into()),
                binary: None,
            },
        )]);
        let mut expected = Vec::new();
        for part in [&b"a"[..], b"String"] {
            expected.extend((part.len() as u32).to_be_bytes());
            expected.extend(part);
        }
        expected.push(1);
        expected.extend(1u32.to_be_bytes());
        expected.push(b'b');
        assert_eq!(attributes_md5(&attributes), hex(&Md5::digest(&expected)));
    }

    #[test]
    fn queues_send_receive_and_delete_with_sqs_shapes() {
        let s = Store::memory();
        let url = call(
            &s,
            0,
            "CreateQueue",
            json!({"QueueName": "work", "Attributes": {"VisibilityTimeout": "5"}}),
        )
        .unwrap()["QueueUrl"]
            .clone();
        assert_eq!(url, "http://localhost:8080/000000000000/work");
        let sent = call(
            &s,
            1,
            "SendMessage",
            json!({"QueueUrl": url, "MessageBody": "hello",
            "MessageAttributes": {"kind": {"DataType": "String", "StringValue": "greeting"}}}),
        )
        .unwrap();
        assert_eq!(sent["MD5OfMessageBody"], "5d41402abc4b2a76b9719d911017c592");
        assert!(sent["MD5OfMessageAttributes"].is_string());
        let got = call(&s, 2, "ReceiveMessage", json!({"QueueUrl": url, "MessageAttributeNames": ["All"], "AttributeNames": ["ApproximateReceiveCount"]})).unwrap();
        let m = &got["Messages"][0];
        assert_eq!(
            (m["Body"].as_str(), m["MessageId"].clone()),
            (Some("hello"), sent["MessageId"].clone())
        );
        assert_eq!(m["Attributes"]["ApproximateReceiveCount"], "1");
        assert_eq!(m["MessageAttributes"]["kind"]["StringValue"], "greeting");
        assert_eq!(m["MD5OfMessageAttributes"], sent["MD5OfMessageAttributes"]);
        let none = call(&s, 3, "ReceiveMessage", json!({"QueueUrl": url})).unwrap();
        assert_eq!(none["Messages"], json!([]), "hidden for 5 s");
        call(
            &s,
            3,
            "DeleteMessage",
            json!({"QueueUrl": url, "ReceiptHandle": m["ReceiptHandle"]}),
        )
        .unwrap();
        assert_eq!(
            call(&s, 10_000, "ReceiveMessage", json!({"QueueUrl": url})).unwrap()["Messages"],
            json!([])
        );
        let e = call(
            &s,
            0,
            "SendMessage",
            json!({"QueueUrl": "http://x/000000000000/nope", "MessageBody": "x"}),
        )
        .unwrap_err();
        assert_eq!(
            (e.code, e.query_code),
            (
                "QueueDoesNotExist",
                "AWS.SimpleQueueService.NonExistentQueue"
            )
        );
        let attrs = call(
            &s,
            0,
            "GetQueueAttributes",
            json!({"QueueUrl": url, "AttributeNames": ["QueueArn", "VisibilityTimeout"]}),
        )
        .unwrap();
        assert_eq!(
            attrs,
            json!({"Attributes": {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:work", "VisibilityTimeout": "5"}})
        );
        let batch = call(&s, 0, "SendMessageBatch", json!({"QueueUrl": url, "Entries": [{"Id": "1", "MessageBody": "a"}, {"Id": "2", "MessageBody": ""}]})).unwrap();
        assert_eq!(
            (
                batch["Successful"].as_array().unwrap().len(),
                batch["Failed"][0]["Id"].as_str()
            ),
            (1, Some("2"))
        );
        let fifo = call(
            &s,
            0,
            "CreateQueue",
            json!({"QueueName": "work", "Attributes": {"FifoQueue": "true"}}),
        );
        assert!(fifo.is_err(), "a FIFO queue's name ends in .fifo");
    }
}
