//! SNS-style topics of a tenant: a topic's definition, its subscriptions, and the
//! deliveries a publish leaves for them. A publish writes one delivery per subscription
//! whose filter policy the message passes, in one batch with the answer of the task that
//! published (so a Standard execution's publish happens once); a delivery stays until it
//! has reached its endpoint (at least once), and is retried with a due time until then.
//! Modules' `topic` calls, the `sns:` integrations and the SNS API share them.

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::queues::MessageAttribute;
use super::tables::EffectOf;
use super::{Millis, Result, Store, TenantId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A topic's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TopicAttributes {
    /// Its display name.
    pub display_name: String,
    /// A FIFO topic (its name ends in `.fifo`): publishes carry a message group.
    pub fifo: bool,
    /// FIFO: a message's deduplication id is its body's SHA-256 unless given.
    pub content_based_deduplication: bool,
}

/// A topic's definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopicDef {
    /// Its name, unique in the tenant.
    pub name: String,
    /// When it was created (epoch ms).
    pub created: Millis,
    /// Its settings.
    #[serde(default)]
    pub attributes: TopicAttributes,
}

/// Where a subscription delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// A queue of the tenant (endpoint: the queue's ARN).
    Sqs,
    /// A module of the tenant, invoked as a Lambda function is by SNS (endpoint: a
    /// Lambda function ARN or the module's name).
    Lambda,
    /// A state machine of the tenant: an execution per message (endpoint: its ARN).
    States,
}

impl Protocol {
    /// The protocol's name in the SNS API.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Sqs => "sqs",
            Protocol::Lambda => "lambda",
            Protocol::States => "states",
        }
    }
}

/// What a filter policy applies to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterScope {
    /// The message attributes (SNS's default).
    #[default]
    MessageAttributes,
    /// The message body, read as JSON.
    MessageBody,
}

/// A subscription of a topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Its id (the last part of its ARN).
    pub id: String,
    /// The topic's name.
    pub topic: String,
    /// Where it delivers.
    pub protocol: Protocol,
    /// To what (an ARN or a module's name).
    pub endpoint: String,
    /// Its filter policy (JSON text), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_policy: Option<String>,
    /// What the filter policy reads.
    #[serde(default)]
    pub filter_scope: FilterScope,
    /// Delivers the message itself rather than SNS's JSON envelope.
    #[serde(default)]
    pub raw: bool,
    /// When it was made (epoch ms).
    pub created: Millis,
}

/// A published message, as delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The message id.
    pub id: String,
    /// The topic's name.
    pub topic: String,
    /// The message.
    pub message: String,
    /// Its subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Its message attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, MessageAttribute>,
    /// FIFO: its message group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// FIFO: its deduplication id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup: Option<String>,
    /// When it was published (epoch ms).
    pub published: Millis,
}

/// A message on its way to one subscription.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// The tenant (deliveries are read for all tenants at once).
    pub tenant: TenantId,
    /// The subscription, as it was when the message was published.
    pub subscription: Subscription,
    /// The message.
    pub notification: Notification,
    /// Attempts made so far.
    pub attempts: u32,
    /// When the next attempt is due (epoch ms).
    pub due: Millis,
}

/// A delivery and the key it is stored under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// Its key, to finish or re-time it.
    pub key: Vec<u8>,
    /// The delivery.
    pub delivery: Delivery,
}

/// Topics, subscriptions and deliveries.
///
/// # Contract
/// A publish's deliveries and the answer of the task that published (`EffectOf`) are one
/// atomic batch; a delivery is gone only once [`Topics::delivery_done`] removed it.
pub trait Topics: Send + Sync {
    /// Creates a topic; `false` when one of that name exists.
    ///
    /// # Errors
    /// When the store fails.
    fn topic_create(&self, tenant: &TenantId, def: &TopicDef) -> Result<bool>;
    /// A topic's definition.
    ///
    /// # Errors
    /// When the store fails.
    fn topic_get(&self, tenant: &TenantId, name: &str) -> Result<Option<TopicDef>>;
    /// Replaces a topic's definition (its attributes).
    ///
    /// # Errors
    /// When the store fails.
    fn topic_put(&self, tenant: &TenantId, def: &TopicDef) -> Result<()>;
    /// Topics in name order, after `after` (exclusive), at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn topic_list(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<TopicDef>>;
    /// Deletes a topic and its subscriptions (deliveries under way still finish); `false`
    /// when there was none.
    ///
    /// # Errors
    /// When the store fails.
    fn topic_delete(&self, tenant: &TenantId, name: &str) -> Result<bool>;
    /// Stores a subscription (new or changed).
    ///
    /// # Errors
    /// When the store fails.
    fn subscription_put(&self, tenant: &TenantId, subscription: &Subscription) -> Result<()>;
    /// A subscription of `topic`.
    ///
    /// # Errors
    /// When the store fails.
    fn subscription_get(
        &self,
        tenant: &TenantId,
        topic: &str,
        id: &str,
    ) -> Result<Option<Subscription>>;
    /// The subscriptions of `topic`, or of every topic.
    ///
    /// # Errors
    /// When the store fails.
    fn subscription_list(
        &self,
        tenant: &TenantId,
        topic: Option<&str>,
    ) -> Result<Vec<Subscription>>;
    /// Deletes a subscription; `false` when there was none.
    ///
    /// # Errors
    /// When the store fails.
    fn subscription_delete(&self, tenant: &TenantId, topic: &str, id: &str) -> Result<bool>;
    /// Leaves `notification` for each of `to` (the subscriptions whose filter it passed),
    /// with the task's answer when a workflow task published it.
    ///
    /// # Errors
    /// When the store fails.
    fn publish(
        &self,
        tenant: &TenantId,
        notification: &Notification,
        to: &[Subscription],
        now: Millis,
        effect: Option<(&EffectOf, String)>,
    ) -> Result<()>;
    /// Deliveries of every tenant due by `now`, at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn deliveries_due(&self, now: Millis, limit: usize) -> Result<Vec<Pending>> {
        self.deliveries_due_of(now, limit, &|_| true)
    }
    /// [`deliveries_due`](Self::deliveries_due) of the tenants `wanted` picks (a server
    /// sharing the store delivers its own tenants' only): `limit` counts those alone.
    ///
    /// # Errors
    /// When the store fails.
    fn deliveries_due_of(
        &self,
        now: Millis,
        limit: usize,
        wanted: &dyn Fn(&TenantId) -> bool,
    ) -> Result<Vec<Pending>>;
    /// Removes a delivery that reached its endpoint (or was given up).
    ///
    /// # Errors
    /// When the store fails.
    fn delivery_done(&self, key: &[u8]) -> Result<()>;
    /// Stores a delivery's next attempt.
    ///
    /// # Errors
    /// When the store fails.
    fn delivery_retry(&self, key: &[u8], delivery: &Delivery) -> Result<()>;
}

fn topic_key(tenant: &TenantId, name: &str) -> Vec<u8> {
    Key::of(Table::SnsTopic, tenant).text(name).into_bytes()
}

fn subscriptions(tenant: &TenantId) -> Key {
    Key::of(Table::SnsSubscription, tenant)
}

fn delivery_key(tenant: &TenantId, n: &Notification, subscription: &str) -> Vec<u8> {
    Key::table(Table::SnsDelivery)
        .text(&tenant.0)
        .text(&n.topic)
        .text(&n.id)
        .text(subscription)
        .into_bytes()
}

impl Store {
    /// The topic a module's `topic` call names, created when it is not there: modules
    /// publish without creating topics.
    ///
    /// # Errors
    /// When the store fails.
    pub fn topic_for_module(&self, tenant: &TenantId, name: &str, now: Millis) -> Result<TopicDef> {
        if let Some(def) = self.topic_get(tenant, name)? {
            return Ok(def);
        }
        let def = TopicDef {
            name: name.to_string(),
            created: now,
            attributes: TopicAttributes {
                fifo: name.ends_with(".fifo"),
                ..TopicAttributes::default()
            },
        };
        self.topic_create(tenant, &def)?;
        Ok(self.topic_get(tenant, name)?.unwrap_or(def))
    }
}

impl Topics for Store {
    fn topic_create(&self, tenant: &TenantId, def: &TopicDef) -> Result<bool> {
        let key = topic_key(tenant, &def.name);
        self.backend()
            .apply_if_absent(&key, vec![Write::Put(key.clone(), encode(def)?)])
    }

    fn topic_get(&self, tenant: &TenantId, name: &str) -> Result<Option<TopicDef>> {
        self.backend()
            .get(&topic_key(tenant, name))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn topic_put(&self, tenant: &TenantId, def: &TopicDef) -> Result<()> {
        self.backend()
            .apply(vec![Write::Put(topic_key(tenant, &def.name), encode(def)?)])
    }

    fn topic_list(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<TopicDef>> {
        let prefix = Key::of(Table::SnsTopic, tenant).into_bytes();
        let after = after.map(|a| topic_key(tenant, a));
        self.records(&prefix, after.as_deref(), limit)
    }

    fn topic_delete(&self, tenant: &TenantId, name: &str) -> Result<bool> {
        let key = topic_key(tenant, name);
        if self.backend().get(&key)?.is_none() {
            return Ok(false);
        }
        let prefix = subscriptions(tenant).text(name).into_bytes();
        let mut writes: Vec<Write> = self
            .backend()
            .scan(&prefix, None, usize::MAX)?
            .into_iter()
            .map(|(k, _)| Write::Delete(k))
            .collect();
        writes.push(Write::Delete(key));
        self.backend().apply(writes)?;
        Ok(true)
    }

    fn subscription_put(&self, tenant: &TenantId, subscription: &Subscription) -> Result<()> {
        let key = subscriptions(tenant)
            .text(&subscription.topic)
            .text(&subscription.id)
            .into_bytes();
        self.backend()
            .apply(vec![Write::Put(key, encode(subscription)?)])
    }

    fn subscription_get(
        &self,
        tenant: &TenantId,
        topic: &str,
        id: &str,
    ) -> Result<Option<Subscription>> {
        let key = subscriptions(tenant).text(topic).text(id).into_bytes();
        self.backend().get(&key)?.map(|b| decode(&b)).transpose()
    }

    fn subscription_list(
        &self,
        tenant: &TenantId,
        topic: Option<&str>,
    ) -> Result<Vec<Subscription>> {
        let prefix = match topic {
            Some(t) => subscriptions(tenant).text(t).into_bytes(),
            None => subscriptions(tenant).into_bytes(),
        };
        self.records(&prefix, None, usize::MAX)
    }

    fn subscription_delete(&self, tenant: &TenantId, topic: &str, id: &str) -> Result<bool> {
        let key = subscriptions(tenant).text(topic).text(id).into_bytes();
        let existed = self.backend().get(&key)?.is_some();
        self.backend().apply(vec![Write::Delete(key)])?;
        Ok(existed)
    }

    fn publish(
        &self,
        tenant: &TenantId,
        notification: &Notification,
        to: &[Subscription],
        now: Millis,
        effect: Option<(&EffectOf, String)>,
    ) -> Result<()> {
        let mut writes = Vec::with_capacity(to.len() + 1);
        for subscription in to {
            let delivery = Delivery {
                tenant: tenant.clone(),
                subscription: subscription.clone(),
                notification: notification.clone(),
                attempts: 0,
                due: now,
            };
            writes.push(Write::Put(
                delivery_key(tenant, notification, &subscription.id),
                encode(&delivery)?,
            ));
        }
        if let Some((of, answer)) = effect {
            writes.push(Write::Put(
                super::tables::effect_key(of),
                answer.into_bytes(),
            ));
        }
        if writes.is_empty() {
            return Ok(());
        }
        self.backend().apply(writes)
    }

    fn deliveries_due_of(
        &self,
        now: Millis,
        limit: usize,
        wanted: &dyn Fn(&TenantId) -> bool,
    ) -> Result<Vec<Pending>> {
        let prefix = Key::table(Table::SnsDelivery).into_bytes();
        let mut due = Vec::new();
        self.backend().scan_while(&prefix, 256, &mut |key, bytes| {
            let delivery: Delivery = decode(&bytes)?;
            if delivery.due <= now && wanted(&delivery.tenant) {
                due.push(Pending { key, delivery });
            }
            Ok(due.len() < limit)
        })?;
        Ok(due)
    }

    fn delivery_done(&self, key: &[u8]) -> Result<()> {
        self.backend().apply(vec![Write::Delete(key.to_vec())])
    }

    fn delivery_retry(&self, key: &[u8], delivery: &Delivery) -> Result<()> {
        self.backend()
            .apply(vec![Write::Put(key.to_vec(), encode(delivery)?)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> TenantId {
        TenantId(name.into())
    }

    fn subscription(topic: &str, id: &str) -> Subscription {
        Subscription {
            id: id.into(),
            topic: topic.into(),
            protocol: Protocol::Sqs,
            endpoint: "arn:aws:sqs:us-east-1:000000000000:q".into(),
            filter_policy: None,
            filter_scope: FilterScope::MessageAttributes,
            raw: false,
            created: 1,
        }
    }

    fn notification(topic: &str, id: &str) -> Notification {
        Notification {
            id: id.into(),
            topic: topic.into(),
            message: "hello".into(),
            subject: None,
            attributes: BTreeMap::new(),
            group: None,
            dedup: None,
            published: 5,
        }
    }

    #[test]
    fn a_publish_leaves_a_delivery_per_subscription_until_it_is_done() {
        for s in crate::store::testing::stores() {
            let (a, b) = (t("a"), t("b"));
            s.topic_for_module(&a, "events", 1).unwrap();
            let subs = [subscription("events", "s1"), subscription("events", "s2")];
            for sub in &subs {
                s.subscription_put(&a, sub).unwrap();
            }
            assert_eq!(s.subscription_list(&a, Some("events")).unwrap().len(), 2);
            assert!(s.subscription_list(&b, None).unwrap().is_empty());
            s.publish(&a, &notification("events", "m1"), &subs, 5, None)
                .unwrap();
            let due = s.deliveries_due(5, 10).unwrap();
            assert_eq!(due.len(), 2);
            assert_eq!(due[0].delivery.tenant, a);
            let mut later = due[0].delivery.clone();
            later.attempts = 1;
            later.due = 100;
            s.delivery_retry(&due[0].key, &later).unwrap();
            s.delivery_done(&due[1].key).unwrap();
            assert!(s.deliveries_due(99, 10).unwrap().is_empty());
            assert_eq!(s.deliveries_due(100, 10).unwrap()[0].delivery, later);
        }
    }

    #[test]
    fn deleting_a_topic_deletes_its_subscriptions() {
        for s in crate::store::testing::stores() {
            let a = t("a");
            s.topic_for_module(&a, "events", 1).unwrap();
            s.topic_for_module(&a, "other", 1).unwrap();
            s.subscription_put(&a, &subscription("events", "s1"))
                .unwrap();
            s.subscription_put(&a, &subscription("other", "s2"))
                .unwrap();
            assert!(s.topic_delete(&a, "events").unwrap());
            assert!(!s.topic_delete(&a, "events").unwrap());
            assert_eq!(s.subscription_list(&a, None).unwrap().len(), 1);
            let names: Vec<String> = s
                .topic_list(&a, None, 10)
                .unwrap()
                .into_iter()
                .map(|d| d.name)
                .collect();
            assert_eq!(names, ["other"]);
        }
    }
}
