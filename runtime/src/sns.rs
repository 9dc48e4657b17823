//! SNS on the tenant's topics: the SNS actions with SNS's request and response fields,
//! answered alike for the SNS API (its query protocol, rendered by the API layer) and the
//! `sns:` Task integrations. A publish leaves a delivery for each subscription whose
//! filter policy (the pure `sandstep-sns` crate) the message passes; the delivery loop
//! (`service::sns_delivery`) takes them to their queue, module or state machine, in the
//! shapes of [`envelope`]. Topic ARNs have AWS's form, `arn:aws:sns:<region>:<account>:<name>`,
//! and a subscription's is its topic's with `:<id>`; only the names are read back (a
//! tenant's topics are its own whatever the ARN says).

pub mod envelope;

pub use sandstep_sns::filter;

use crate::store::queues::MessageAttribute;
use crate::store::tables::EffectOf;
use crate::store::topics::{
    FilterScope, Notification, Protocol, Subscription, TopicAttributes, TopicDef, Topics,
};
use crate::store::TenantId;
use filter::Policy;
use sandstep_engine::Millis;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

/// An SNS action's failure, named as SNS names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// The error code (`NotFound`, `InvalidParameter`, ...); the SDKs' exception is this
    /// with `Exception` appended.
    pub code: &'static str,
    /// What went wrong.
    pub message: String,
    /// The store failed (not the caller's fault).
    pub internal: bool,
}

impl Error {
    fn new(code: &'static str, message: impl Into<String>) -> Error {
        Error {
            code,
            message: message.into(),
            internal: false,
        }
    }

    fn invalid(message: impl Into<String>) -> Error {
        Error::new("InvalidParameter", message)
    }

    fn not_found(what: &str) -> Error {
        Error::new("NotFound", format!("{what} does not exist"))
    }

    /// The HTTP status SNS answers this error with.
    pub fn status(&self) -> u16 {
        match (self.internal, self.code) {
            (true, "ServiceUnavailable") => 503,
            (true, _) => 500,
            (_, "NotFound") => 404,
            (_, "AuthorizationError") => 403,
            _ => 400,
        }
    }
}

impl From<crate::store::Error> for Error {
    fn from(e: crate::store::Error) -> Error {
        let code = match e {
            crate::store::Error::Unavailable(_) => "ServiceUnavailable",
            _ => "InternalError",
        };
        Error {
            code,
            message: e.to_string(),
            internal: true,
        }
    }
}

type Result<T> = std::result::Result<T, Error>;

/// The largest message with its attributes, in bytes (SNS: 256 KiB).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// The longest subject (SNS: 100 characters).
const MAX_SUBJECT: usize = 100;
/// The most entries of a `PublishBatch`.
const MAX_BATCH: usize = 10;
/// Topics per `ListTopics` page, subscriptions per `ListSubscriptions` page (SNS: 100).
const PAGE: usize = 100;

/// The topics of one tenant, as one caller sees them.
pub struct Tenant<'a> {
    /// Where the topics are.
    pub store: &'a dyn Topics,
    /// Whose topics.
    pub tenant: &'a TenantId,
    /// For ARNs.
    pub region: &'a str,
    /// For ARNs.
    pub account: &'a str,
    /// Now (epoch ms).
    pub now: Millis,
    /// The workflow task a publish is made for: its answer is stored with the publish.
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
    /// Runs `action` (`Publish`, `publish`: either case) on `request`.
    ///
    /// # Errors
    /// SNS's error for the action; `InvalidAction` for one Sandstep does not offer.
    pub fn call(&self, action: &str, request: &Json) -> Result<Json> {
        let r = Request(request);
        match action.to_ascii_lowercase().as_str() {
            "createtopic" => self.create(&r),
            "deletetopic" => {
                let name = self.topic_name(r.text("TopicArn")?)?;
                self.store.topic_delete(self.tenant, &name)?;
                Ok(json!({}))
            }
            "listtopics" => self.list_topics(&r),
            "gettopicattributes" => self.topic_attributes(&r),
            "settopicattributes" => self.set_topic_attribute(&r),
            "subscribe" => self.subscribe(&r),
            "unsubscribe" => {
                let (topic, id) = self.subscription_of(r.text("SubscriptionArn")?)?;
                self.store.subscription_delete(self.tenant, &topic, &id)?;
                Ok(json!({}))
            }
            "listsubscriptions" => self.list_subscriptions(&r, None),
            "listsubscriptionsbytopic" => {
                let topic = self.topic(r.text("TopicArn")?)?;
                self.list_subscriptions(&r, Some(&topic.name))
            }
            "getsubscriptionattributes" => self.subscription_attributes(&r),
            "setsubscriptionattributes" => self.set_subscription_attribute(&r),
            "publish" => {
                let arn = r
                    .0
                    .get("TopicArn")
                    .or_else(|| r.0.get("TargetArn"))
                    .and_then(Json::as_str)
                    .ok_or_else(|| {
                        Error::invalid("Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
                    })?;
                let topic = self.topic(arn)?;
                let notification = self.notification(&topic, &r)?;
                let answer = answer_of(&topic, &notification);
                let effect = self.effect.map(|of| (of, answer.to_string()));
                self.publish(&topic, &notification, effect)?;
                Ok(answer)
            }
            "publishbatch" => self.publish_batch(&r),
            other => Err(Error::new(
                "InvalidAction",
                format!("The action {other} is not valid for this endpoint (Sandstep offers CreateTopic, DeleteTopic, ListTopics, GetTopicAttributes, SetTopicAttributes, Subscribe, Unsubscribe, ListSubscriptions, ListSubscriptionsByTopic, GetSubscriptionAttributes, SetSubscriptionAttributes, Publish and PublishBatch)."),
            )),
        }
    }

    /// A topic's ARN.
    pub fn topic_arn(&self, name: &str) -> String {
        format!("arn:aws:sns:{}:{}:{}", self.region, self.account, name)
    }

    /// A subscription's ARN.
    pub fn subscription_arn(&self, s: &Subscription) -> String {
        format!("{}:{}", self.topic_arn(&s.topic), s.id)
    }

    /// The topic name an ARN (or, as SNS's CLI users sometimes pass, a bare name) names.
    fn topic_name(&self, arn: &str) -> Result<String> {
        let name = match arn.strip_prefix("arn:") {
            Some(rest) => {
                let parts: Vec<&str> = rest.split(':').collect();
                match parts.as_slice() {
                    [_, "sns", _, _, name] if !name.is_empty() => (*name).to_string(),
                    _ => {
                        return Err(Error::invalid(format!(
                            "Invalid parameter: TopicArn Reason: {arn} is not a valid topic ARN"
                        )))
                    }
                }
            }
            None => arn.to_string(),
        };
        Ok(name)
    }

    fn topic(&self, arn: &str) -> Result<TopicDef> {
        let name = self.topic_name(arn)?;
        self.store
            .topic_get(self.tenant, &name)?
            .ok_or_else(|| Error::not_found("Topic"))
    }

    /// The topic and id a subscription ARN names.
    fn subscription_of(&self, arn: &str) -> Result<(String, String)> {
        let parts: Vec<&str> = arn.split(':').collect();
        match parts.as_slice() {
            ["arn", _, "sns", _, _, topic, id] if !topic.is_empty() && !id.is_empty() => {
                Ok(((*topic).to_string(), (*id).to_string()))
            }
            _ => Err(Error::invalid(format!(
                "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not {}",
                parts.len()
            ))),
        }
    }

    fn subscription(&self, arn: &str) -> Result<Subscription> {
        let (topic, id) = self.subscription_of(arn)?;
        self.store
            .subscription_get(self.tenant, &topic, &id)?
            .ok_or_else(|| Error::not_found("Subscription"))
    }

    fn create(&self, r: &Request<'_>) -> Result<Json> {
        let name = r.text("Name")?;
        let given = r.attributes("Attributes")?;
        let fifo = given.get("FifoTopic").is_some_and(|v| v == "true");
        let valid = !name.is_empty()
            && name.len() <= 256
            && name
                .strip_suffix(".fifo")
                .filter(|_| fifo)
                .unwrap_or(name)
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid || fifo != name.ends_with(".fifo") {
            return Err(Error::invalid("Invalid parameter: Topic Name"));
        }
        let mut attributes = TopicAttributes {
            fifo,
            ..TopicAttributes::default()
        };
        for (key, value) in &given {
            set_topic_attribute(&mut attributes, key, value)?;
        }
        let def = TopicDef {
            name: name.to_string(),
            created: self.now,
            attributes,
        };
        if !self.store.topic_create(self.tenant, &def)? {
            let existing = self.topic(name)?;
            if existing.attributes != def.attributes && !given.is_empty() {
                return Err(Error::invalid(
                    "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
                ));
            }
        }
        Ok(json!({"TopicArn": self.topic_arn(name)}))
    }

    fn list_topics(&self, r: &Request<'_>) -> Result<Json> {
        let after = r.0.get("NextToken").and_then(Json::as_str);
        let page = self.store.topic_list(self.tenant, after, PAGE + 1)?;
        let topics: Vec<Json> = page
            .iter()
            .take(PAGE)
            .map(|t| json!({"TopicArn": self.topic_arn(&t.name)}))
            .collect();
        let mut out = json!({ "Topics": topics });
        if page.len() > PAGE {
            if let (Some(last), Some(o)) = (page.get(PAGE - 1), out.as_object_mut()) {
                o.insert("NextToken".into(), json!(last.name));
            }
        }
        Ok(out)
    }

    fn topic_attributes(&self, r: &Request<'_>) -> Result<Json> {
        let topic = self.topic(r.text("TopicArn")?)?;
        let subscribed = self
            .store
            .subscription_list(self.tenant, Some(&topic.name))?
            .len();
        let a = &topic.attributes;
        let mut all = json!({
            "TopicArn": self.topic_arn(&topic.name),
            "Owner": self.account,
            "DisplayName": a.display_name,
            "SubscriptionsConfirmed": subscribed.to_string(),
            "SubscriptionsPending": "0",
            "SubscriptionsDeleted": "0",
            "EffectiveDeliveryPolicy": r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false}}"#,
        });
        if let (true, Some(o)) = (a.fifo, all.as_object_mut()) {
            o.insert("FifoTopic".into(), json!("true"));
            o.insert(
                "ContentBasedDeduplication".into(),
                json!(a.content_based_deduplication.to_string()),
            );
        }
        Ok(json!({ "Attributes": all }))
    }

    fn set_topic_attribute(&self, r: &Request<'_>) -> Result<Json> {
        let mut topic = self.topic(r.text("TopicArn")?)?;
        let name = r.text("AttributeName")?;
        let value =
            r.0.get("AttributeValue")
                .and_then(Json::as_str)
                .unwrap_or("");
        if name == "FifoTopic" {
            return Err(Error::invalid(
                "Invalid parameter: AttributeName Reason: FifoTopic cannot be changed",
            ));
        }
        set_topic_attribute(&mut topic.attributes, name, value)?;
        self.store.topic_put(self.tenant, &topic)?;
        Ok(json!({}))
    }

    fn subscribe(&self, r: &Request<'_>) -> Result<Json> {
        let topic = self.topic(r.text("TopicArn")?)?;
        let protocol = match r.text("Protocol")? {
            "sqs" => Protocol::Sqs,
            "lambda" => Protocol::Lambda,
            "states" => Protocol::States,
            other => {
                return Err(Error::invalid(format!(
                    "Invalid parameter: Protocol Reason: {other} is not supported by Sandstep (it delivers to sqs, lambda (modules) and states (state machines))"
                )))
            }
        };
        let endpoint = r.text("Endpoint")?.to_string();
        check_endpoint(protocol, &endpoint)?;
        if topic.attributes.fifo && protocol != Protocol::Sqs {
            return Err(Error::invalid(
                "Invalid parameter: Invalid protocol type: FIFO topics deliver to SQS queues only",
            ));
        }
        let mut subscription = Subscription {
            id: crate::sqs::random_id(self.now),
            topic: topic.name.clone(),
            protocol,
            endpoint,
            filter_policy: None,
            filter_scope: FilterScope::MessageAttributes,
            raw: false,
            created: self.now,
        };
        for (key, value) in &r.attributes("Attributes")? {
            set_subscription_attribute(&mut subscription, key, value)?;
        }
        // SNS answers the subscription that exists for the same endpoint.
        let existing = self
            .store
            .subscription_list(self.tenant, Some(&topic.name))?
            .into_iter()
            .find(|s| s.protocol == protocol && s.endpoint == subscription.endpoint);
        if let Some(existing) = existing {
            let same = existing.filter_policy == subscription.filter_policy
                && existing.raw == subscription.raw
                && existing.filter_scope == subscription.filter_scope;
            if !same {
                return Err(Error::invalid(
                    "Invalid parameter: Attributes Reason: Subscription already exists with different attributes",
                ));
            }
            return Ok(json!({"SubscriptionArn": self.subscription_arn(&existing)}));
        }
        self.store.subscription_put(self.tenant, &subscription)?;
        Ok(json!({"SubscriptionArn": self.subscription_arn(&subscription)}))
    }

    fn list_subscriptions(&self, r: &Request<'_>, topic: Option<&str>) -> Result<Json> {
        let all = self.store.subscription_list(self.tenant, topic)?;
        let after = r.0.get("NextToken").and_then(Json::as_str);
        let start = after
            .and_then(|a| all.iter().position(|s| self.subscription_arn(s) == a))
            .map_or(0, |i| i + 1);
        let page: Vec<Json> = all
            .iter()
            .skip(start)
            .take(PAGE)
            .map(|s| {
                json!({
                    "SubscriptionArn": self.subscription_arn(s),
                    "Owner": self.account,
                    "Protocol": s.protocol.name(),
                    "Endpoint": s.endpoint,
                    "TopicArn": self.topic_arn(&s.topic),
                })
            })
            .collect();
        let mut out = json!({ "Subscriptions": page });
        if all.len() > start + PAGE {
            if let (Some(last), Some(o)) = (all.get(start + PAGE - 1), out.as_object_mut()) {
                o.insert("NextToken".into(), json!(self.subscription_arn(last)));
            }
        }
        Ok(out)
    }

    fn subscription_attributes(&self, r: &Request<'_>) -> Result<Json> {
        let s = self.subscription(r.text("SubscriptionArn")?)?;
        let mut all = json!({
            "SubscriptionArn": self.subscription_arn(&s),
            "TopicArn": self.topic_arn(&s.topic),
            "Owner": self.account,
            "Protocol": s.protocol.name(),
            "Endpoint": s.endpoint,
            "ConfirmationWasAuthenticated": "true",
            "PendingConfirmation": "false",
            "RawMessageDelivery": s.raw.to_string(),
        });
        if let (Some(policy), Some(o)) = (&s.filter_policy, all.as_object_mut()) {
            o.insert("FilterPolicy".into(), json!(policy));
            o.insert(
                "FilterPolicyScope".into(),
                json!(scope_name(s.filter_scope)),
            );
        }
        Ok(json!({ "Attributes": all }))
    }

    fn set_subscription_attribute(&self, r: &Request<'_>) -> Result<Json> {
        let mut s = self.subscription(r.text("SubscriptionArn")?)?;
        let name = r.text("AttributeName")?;
        let value =
            r.0.get("AttributeValue")
                .and_then(Json::as_str)
                .unwrap_or("");
        set_subscription_attribute(&mut s, name, value)?;
        self.store.subscription_put(self.tenant, &s)?;
        Ok(json!({}))
    }

    /// The message `r` (a request or a batch entry) publishes to `topic`, checked as SNS
    /// checks it.
    fn notification(&self, topic: &TopicDef, r: &Request<'_>) -> Result<Notification> {
        let message = match r.0.get("Message") {
            Some(Json::String(s)) => s.clone(),
            // The optimized integration takes any JSON and publishes its text.
            Some(other) if !other.is_null() => other.to_string(),
            _ => {
                return Err(Error::invalid(
                    "Invalid parameter: Message Reason: No value for required parameter",
                ))
            }
        };
        let message = match r.0.get("MessageStructure").and_then(Json::as_str) {
            Some("json") => structured(&message)?,
            Some(other) => {
                return Err(Error::invalid(format!(
                    "Invalid parameter: MessageStructure Reason: {other} is not json"
                )))
            }
            None => message,
        };
        if message.is_empty() {
            return Err(Error::invalid("Invalid parameter: Empty message"));
        }
        let subject =
            r.0.get("Subject")
                .and_then(Json::as_str)
                .map(str::to_string);
        if let Some(s) = &subject {
            let printable = s.chars().all(|c| !c.is_control());
            if s.is_empty() || s.chars().count() > MAX_SUBJECT || !printable {
                return Err(Error::invalid("Invalid parameter: Subject"));
            }
        }
        let attributes = crate::sqs::message_attributes(r.0.get("MessageAttributes"))
            .map_err(|e| Error::new("InvalidParameterValue", e.message))?;
        let size = message.len()
            + attributes
                .iter()
                .map(|(k, a)| {
                    k.len()
                        + a.data_type.len()
                        + a.string.as_ref().map_or(0, String::len)
                        + a.binary.as_ref().map_or(0, Vec::len)
                })
                .sum::<usize>();
        if size > MAX_MESSAGE_BYTES {
            return Err(Error::invalid("Invalid parameter: Message too long"));
        }
        let group =
            r.0.get("MessageGroupId")
                .and_then(Json::as_str)
                .map(str::to_string);
        let mut dedup =
            r.0.get("MessageDeduplicationId")
                .and_then(Json::as_str)
                .map(str::to_string);
        match (topic.attributes.fifo, &group) {
            (true, None) => {
                return Err(Error::invalid(
                    "Invalid parameter: The MessageGroupId parameter is required for FIFO topics",
                ))
            }
            (false, Some(_)) => {
                return Err(Error::invalid(
                    "Invalid parameter: MessageGroupId Reason: The request includes MessageGroupId parameter that is not valid for this topic type",
                ))
            }
            _ => {}
        }
        if topic.attributes.fifo && dedup.is_none() {
            if !topic.attributes.content_based_deduplication {
                return Err(Error::invalid("Invalid parameter: The topic should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly"));
            }
            use sha2::Digest as _;
            dedup = Some(crate::store::data::hex(&sha2::Sha256::digest(
                message.as_bytes(),
            )));
        }
        Ok(Notification {
            id: crate::sqs::random_id(self.now),
            topic: topic.name.clone(),
            message,
            subject,
            attributes,
            group,
            dedup,
            published: self.now,
        })
    }

    /// Leaves `n` for every subscription of `topic` whose filter it passes.
    fn publish(
        &self,
        topic: &TopicDef,
        n: &Notification,
        effect: Option<(&EffectOf, String)>,
    ) -> Result<()> {
        let to: Vec<Subscription> = self
            .store
            .subscription_list(self.tenant, Some(&topic.name))?
            .into_iter()
            .filter(|s| passes(s, n))
            .collect();
        self.store.publish(self.tenant, n, &to, self.now, effect)?;
        Ok(())
    }

    fn publish_batch(&self, r: &Request<'_>) -> Result<Json> {
        let topic = self.topic(r.text("TopicArn")?)?;
        let entries =
            r.0.get("PublishBatchRequestEntries")
                .and_then(Json::as_array)
                .filter(|e| !e.is_empty())
                .ok_or_else(|| {
                    Error::new(
                        "EmptyBatchRequest",
                        "The batch request doesn't contain any entries",
                    )
                })?;
        if entries.len() > MAX_BATCH {
            return Err(Error::new(
                "TooManyEntriesInBatchRequest",
                "The batch request contains more entries than permissible",
            ));
        }
        let mut ids: Vec<&str> = entries
            .iter()
            .filter_map(|e| e.get("Id").and_then(Json::as_str))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != entries.len() {
            return Err(Error::new(
                "BatchEntryIdsNotDistinct",
                "Two or more batch entries in the request have the same Id",
            ));
        }
        let mut successful = Vec::new();
        let mut failed = Vec::new();
        let mut published = Vec::new();
        for entry in entries {
            let id = entry.get("Id").and_then(Json::as_str).unwrap_or_default();
            match self.notification(&topic, &Request(entry)) {
                Ok(n) => {
                    let mut ok = answer_of(&topic, &n);
                    if let Some(o) = ok.as_object_mut() {
                        o.insert("Id".into(), json!(id));
                    }
                    successful.push(ok);
                    published.push(n);
                }
                Err(e) => failed.push(json!({
                    "Id": id, "Code": e.code, "Message": e.message, "SenderFault": true,
                })),
            }
        }
        let answer = json!({"Successful": successful, "Failed": failed});
        // One effect for the batch: stored with the last publish, so a crash between two
        // publishes repeats only the unanswered ones' (at least once within a batch).
        let last = published.len().checked_sub(1);
        for (i, n) in published.iter().enumerate() {
            let effect = match (Some(i) == last, self.effect) {
                (true, Some(of)) => Some((of, answer.to_string())),
                _ => None,
            };
            self.publish(&topic, n, effect)?;
        }
        Ok(answer)
    }
}

/// `Publish`'s answer for `n`.
fn answer_of(topic: &TopicDef, n: &Notification) -> Json {
    let mut a = json!({"MessageId": n.id});
    if let (true, Some(o)) = (topic.attributes.fifo, a.as_object_mut()) {
        o.insert(
            "SequenceNumber".into(),
            json!(format!("{:020}", n.published.max(0))),
        );
    }
    a
}

/// `MessageStructure: json`: the message is an object of texts per protocol, `default`
/// among them; Sandstep's protocols all take `default` (or `sqs`/`lambda` when given,
/// read by the delivery).
fn structured(message: &str) -> Result<String> {
    let parsed: Map<String, Json> = serde_json::from_str(message).map_err(|_| {
        Error::invalid("Invalid parameter: Message Structure - JSON message body failed to parse")
    })?;
    match parsed.get("default") {
        Some(Json::String(d)) => Ok(d.clone()),
        _ => Err(Error::invalid(
            "Invalid parameter: Message Structure - No default entry in JSON message body",
        )),
    }
}

/// Whether `n` passes `s`'s filter policy (a policy that no longer parses passes
/// nothing; it was checked when set).
fn passes(s: &Subscription, n: &Notification) -> bool {
    let Some(text) = &s.filter_policy else {
        return true;
    };
    let Ok(policy) = Policy::parse(text) else {
        return false;
    };
    match s.filter_scope {
        FilterScope::MessageAttributes => policy.matches(&attribute_fields(&n.attributes)),
        FilterScope::MessageBody => match serde_json::from_str::<Json>(&n.message) {
            Ok(Json::Object(body)) => policy.matches(&body),
            _ => false,
        },
    }
}

/// Message attributes as a filter policy reads them: `String` as text, `Number` as a
/// number, `String.Array` as its array; `Binary` ones are not filtered on.
fn attribute_fields(attributes: &BTreeMap<String, MessageAttribute>) -> Map<String, Json> {
    attributes
        .iter()
        .filter_map(|(name, a)| {
            let text = a.string.as_deref()?;
            let value = match a.data_type.split('.').next() {
                Some("Number") => text
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map_or_else(|| json!(text), Json::Number),
                _ if a.data_type == "String.Array" => {
                    serde_json::from_str::<Json>(text).unwrap_or_else(|_| json!(text))
                }
                _ => json!(text),
            };
            Some((name.clone(), value))
        })
        .collect()
}

fn set_topic_attribute(a: &mut TopicAttributes, name: &str, value: &str) -> Result<()> {
    match name {
        "DisplayName" => a.display_name = value.to_string(),
        "FifoTopic" => {}
        "ContentBasedDeduplication" if a.fifo => {
            a.content_based_deduplication = flag(name, value)?;
        }
        // Access policies, delivery policies, KMS keys, tracing: accepted and not
        // enforced (a tenant's grants are Sandstep's access control).
        "Policy" | "DeliveryPolicy" | "KmsMasterKeyId" | "TracingConfig" | "SignatureVersion" => {}
        other => {
            return Err(Error::invalid(format!(
                "Invalid parameter: AttributeName Reason: {other} is not a topic attribute Sandstep supports"
            )))
        }
    }
    Ok(())
}

fn set_subscription_attribute(s: &mut Subscription, name: &str, value: &str) -> Result<()> {
    match name {
        "FilterPolicy" => {
            if value.trim().is_empty() {
                s.filter_policy = None;
            } else {
                Policy::parse(value).map_err(|e| Error::invalid(e.to_string()))?;
                s.filter_policy = Some(value.to_string());
            }
        }
        "FilterPolicyScope" => {
            s.filter_scope = match value {
                "MessageAttributes" => FilterScope::MessageAttributes,
                "MessageBody" => FilterScope::MessageBody,
                _ => {
                    return Err(Error::invalid(
                        "Invalid parameter: FilterPolicyScope: Invalid filter policy scope, it must be either MessageAttributes or MessageBody",
                    ))
                }
            }
        }
        "RawMessageDelivery" => s.raw = flag(name, value)?,
        "DeliveryPolicy" | "RedrivePolicy" | "SubscriptionRoleArn" => {}
        other => {
            return Err(Error::invalid(format!(
                "Invalid parameter: AttributeName Reason: {other} is not a subscription attribute Sandstep supports"
            )))
        }
    }
    Ok(())
}

fn scope_name(scope: FilterScope) -> &'static str {
    match scope {
        FilterScope::MessageAttributes => "MessageAttributes",
        FilterScope::MessageBody => "MessageBody",
    }
}

fn flag(name: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::invalid(format!(
            "Invalid parameter: Attributes Reason: {name}: Invalid value [{value}]. Must be true or false."
        ))),
    }
}

/// Refuses an endpoint its protocol cannot reach.
fn check_endpoint(protocol: Protocol, endpoint: &str) -> Result<()> {
    let ok = match protocol {
        Protocol::Sqs => endpoint.starts_with("arn:") && endpoint.split(':').count() == 6,
        Protocol::Lambda => !endpoint.is_empty(),
        Protocol::States => endpoint.contains(":stateMachine:"),
    };
    match ok {
        true => Ok(()),
        false => Err(Error::invalid(format!(
            "Invalid parameter: {} endpoint ARN: {endpoint}",
            protocol.name()
        ))),
    }
}

/// A request's fields, read with SNS's messages.
struct Request<'a>(&'a Json);

impl Request<'_> {
    fn text(&self, field: &str) -> Result<&str> {
        self.0.get(field).and_then(Json::as_str).ok_or_else(|| {
            Error::invalid(format!(
                "Invalid parameter: {field} Reason: No value for required parameter"
            ))
        })
    }

    /// A map of attribute names to texts (booleans and numbers read as their text).
    fn attributes(&self, field: &str) -> Result<BTreeMap<String, String>> {
        let Some(given) = self.0.get(field) else {
            return Ok(BTreeMap::new());
        };
        let object = given
            .as_object()
            .ok_or_else(|| Error::invalid(format!("Invalid parameter: {field} must be a map")))?;
        Ok(object
            .iter()
            .map(|(k, v)| {
                let text = match v {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), text)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn call(store: &Store, action: &str, request: Json) -> Result<Json> {
        let tenant = TenantId("t".into());
        Tenant {
            store,
            tenant: &tenant,
            region: "us-east-1",
            account: "000000000000",
            now: 1_000,
            effect: None,
        }
        .call(action, &request)
    }

    #[test]
    fn a_publish_reaches_the_subscriptions_whose_filter_it_passes() {
        let s = Store::memory();
        let topic = call(&s, "CreateTopic", json!({"Name": "orders"})).unwrap()["TopicArn"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(topic, "arn:aws:sns:us-east-1:000000000000:orders");
        let all = call(
            &s,
            "Subscribe",
            json!({"TopicArn": topic, "Protocol": "sqs",
            "Endpoint": "arn:aws:sqs:us-east-1:000000000000:all"}),
        )
        .unwrap();
        call(
            &s,
            "Subscribe",
            json!({"TopicArn": topic, "Protocol": "sqs",
            "Endpoint": "arn:aws:sqs:us-east-1:000000000000:big",
            "Attributes": {"FilterPolicy": r#"{"size": [{"numeric": [">", 10]}]}"#}}),
        )
        .unwrap();
        // The same endpoint again is the same subscription.
        let again = call(
            &s,
            "Subscribe",
            json!({"TopicArn": topic, "Protocol": "sqs",
            "Endpoint": "arn:aws:sqs:us-east-1:000000000000:all"}),
        )
        .unwrap();
        assert_eq!(all, again);
        for size in ["5", "50"] {
            call(
                &s,
                "Publish",
                json!({"TopicArn": topic, "Message": "m",
                "MessageAttributes": {"size": {"DataType": "Number", "StringValue": size}}}),
            )
            .unwrap();
        }
        let due = s.deliveries_due(1_000, 100).unwrap();
        let to_big = due
            .iter()
            .filter(|p| p.delivery.subscription.endpoint.ends_with(":big"))
            .count();
        assert_eq!((due.len(), to_big), (3, 1));
    }

    #[test]
    fn bad_requests_get_sns_errors() {
        let s = Store::memory();
        let missing = call(
            &s,
            "Publish",
            json!({"TopicArn": "arn:aws:sns:us-east-1:000000000000:nope", "Message": "m"}),
        )
        .unwrap_err();
        assert_eq!((missing.code, missing.status()), ("NotFound", 404));
        let topic = call(&s, "CreateTopic", json!({"Name": "t"})).unwrap()["TopicArn"].clone();
        let bad_policy = call(
            &s,
            "Subscribe",
            json!({"TopicArn": topic, "Protocol": "sqs",
            "Endpoint": "arn:aws:sqs:us-east-1:000000000000:q",
            "Attributes": {"FilterPolicy": "{\"a\": 1}"}}),
        )
        .unwrap_err();
        assert_eq!(bad_policy.code, "InvalidParameter");
        assert!(
            bad_policy
                .message
                .starts_with("Invalid parameter: FilterPolicy:"),
            "{bad_policy}"
        );
        let http = call(
            &s,
            "Subscribe",
            json!({"TopicArn": topic, "Protocol": "http", "Endpoint": "http://x"}),
        )
        .unwrap_err();
        assert!(http.message.contains("not supported by Sandstep"));
        let group = call(
            &s,
            "Publish",
            json!({"TopicArn": topic, "Message": "m", "MessageGroupId": "g"}),
        )
        .unwrap_err();
        assert_eq!(group.code, "InvalidParameter");
        assert_eq!(
            call(&s, "AddPermission", json!({})).unwrap_err().code,
            "InvalidAction"
        );
    }

    #[test]
    fn batches_answer_each_entry() {
        let s = Store::memory();
        let topic = call(&s, "CreateTopic", json!({"Name": "t"})).unwrap()["TopicArn"].clone();
        let out = call(
            &s,
            "PublishBatch",
            json!({"TopicArn": topic, "PublishBatchRequestEntries": [
            {"Id": "a", "Message": "one"}, {"Id": "b", "Message": ""}]}),
        )
        .unwrap();
        assert_eq!(out["Successful"][0]["Id"], "a");
        assert_eq!(out["Failed"][0]["Id"], "b");
        let dup = call(
            &s,
            "PublishBatch",
            json!({"TopicArn": topic, "PublishBatchRequestEntries": [
            {"Id": "a", "Message": "one"}, {"Id": "a", "Message": "two"}]}),
        )
        .unwrap_err();
        assert_eq!(dup.code, "BatchEntryIdsNotDistinct");
    }
}
