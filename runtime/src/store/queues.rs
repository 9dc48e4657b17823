//! SQS-style queues of a tenant: a queue's definition (its attributes: visibility timeout,
//! delay, retention, FIFO, dead-letter redrive) and its messages in send order. A receive
//! hides what it takes until its visibility timeout ends; a FIFO queue hands out a
//! message group's messages in order and none of a group while one is in flight, and drops
//! a send whose deduplication id it saw in the last five minutes; a message received
//! `maxReceiveCount` times moves to the dead-letter queue instead of being handed out
//! again. Modules' `queue` calls, the `sqs:` integrations and the SQS API share them.

use super::backend::{Guard, Write};
use super::codec::{decode, encode};
use super::keys::{Key, Reader, Table};
use super::tables::EffectOf;
use super::{Millis, Result, Store, TenantId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How long a FIFO queue remembers a deduplication id (SQS: five minutes).
pub const DEDUP_WINDOW_MS: Millis = 5 * 60 * 1000;
/// Messages read per page of a receive's scan.
const SCAN_PAGE: usize = 256;

/// Where a queue sends what it cannot deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Redrive {
    /// The dead-letter queue's name (same tenant).
    pub target: String,
    /// Receives after which a message moves there.
    pub max_receive_count: u32,
}

/// A queue's settings, with SQS's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueueAttributes {
    /// Seconds a received message stays hidden (30).
    pub visibility_timeout: u32,
    /// Seconds a sent message waits before it can be received (0).
    pub delay_seconds: u32,
    /// Seconds a message is kept (4 days).
    pub retention_seconds: u32,
    /// The largest body, in bytes (256 KiB).
    pub max_message_size: u32,
    /// Seconds a receive waits for a message by default (0).
    pub receive_wait_seconds: u32,
    /// A FIFO queue (its name ends in `.fifo`).
    pub fifo: bool,
    /// FIFO: a message's deduplication id is its body's SHA-256 unless given.
    pub content_based_deduplication: bool,
    /// The dead-letter queue, if any.
    pub redrive: Option<Redrive>,
}

impl Default for QueueAttributes {
    fn default() -> QueueAttributes {
        QueueAttributes {
            visibility_timeout: 30,
            delay_seconds: 0,
            retention_seconds: 345_600,
            max_message_size: 262_144,
            receive_wait_seconds: 0,
            fifo: false,
            content_based_deduplication: false,
            redrive: None,
        }
    }
}

/// A queue's definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueDef {
    /// Its name, unique in the tenant.
    pub name: String,
    /// When it was created (epoch ms).
    pub created: Millis,
    /// When its attributes last changed (epoch ms).
    #[serde(default)]
    pub modified: Millis,
    /// Its settings.
    #[serde(default)]
    pub attributes: QueueAttributes,
}

/// One message attribute: its data type (`String`, `Number`, `Binary`, or those with a
/// `.label`) and value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageAttribute {
    /// `String`, `Number`, `Binary`, optionally with `.custom-label`.
    pub data_type: String,
    /// The value of a `String` or `Number` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string: Option<String>,
    /// The value of a `Binary` attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<Vec<u8>>,
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    /// Its id.
    pub id: String,
    /// Its body.
    pub body: String,
    /// When it may next be received (epoch ms).
    pub visible_at: Millis,
    /// Times received.
    pub receive_count: u32,
    /// When it was sent (epoch ms); messages from before queues had attributes have none
    /// and never expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<Millis>,
    /// When it was first received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_received: Option<Millis>,
    /// Its message attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, MessageAttribute>,
    /// FIFO: its message group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// FIFO: its deduplication id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup: Option<String>,
}

/// A message taken by a receive, with the handle that deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    /// The message, as updated by the receive.
    pub message: Message,
    /// Its receipt handle.
    pub receipt: String,
    /// Its sequence number in the queue.
    pub sequence: u64,
}

/// How many messages a queue holds, as `GetQueueAttributes` counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Receivable now.
    pub visible: u64,
    /// Received and hidden.
    pub in_flight: u64,
    /// Sent with a delay not yet over.
    pub delayed: u64,
}

impl Store {
    /// The queue a module's `queue` call names, created with SQS's defaults (a standard
    /// queue) when it is not there: modules use queues without creating them.
    ///
    /// # Errors
    /// When the store fails.
    pub fn queue_for_module(&self, tenant: &TenantId, name: &str, now: Millis) -> Result<QueueDef> {
        if let Some(def) = self.queue_get(tenant, name)? {
            return Ok(def);
        }
        let def = QueueDef {
            name: name.to_string(),
            created: now,
            modified: now,
            attributes: QueueAttributes {
                fifo: name.ends_with(".fifo"),
                ..QueueAttributes::default()
            },
        };
        self.queue_create(tenant, &def)?;
        Ok(self.queue_get(tenant, name)?.unwrap_or(def))
    }
}

/// What a send did: the message's id and sequence number, or those of the message a FIFO
/// queue already holds under the same deduplication id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The message id.
    pub id: String,
    /// Its sequence number.
    pub sequence: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Dedup {
    sent: Sent,
    until: Millis,
}

/// Queues and their messages.
///
/// # Contract
/// A receive hands a message to one receiver per visibility period; a receipt deletes or
/// re-times the message only while no later receive took it. A send and the answer of the
/// task that made it (`EffectOf`) are one atomic batch.
pub trait Queues: Send + Sync {
    /// Creates a queue; `false` when one of that name exists.
    ///
    /// # Errors
    /// When the store fails.
    fn queue_create(&self, tenant: &TenantId, def: &QueueDef) -> Result<bool>;
    /// A queue's definition.
    ///
    /// # Errors
    /// When the store fails.
    fn queue_get(&self, tenant: &TenantId, name: &str) -> Result<Option<QueueDef>>;
    /// Replaces a queue's definition (its attributes).
    ///
    /// # Errors
    /// When the store fails.
    fn queue_put(&self, tenant: &TenantId, def: &QueueDef) -> Result<()>;
    /// Queues whose name starts with `prefix`, in name order.
    ///
    /// # Errors
    /// When the store fails.
    fn queue_list(&self, tenant: &TenantId, prefix: &str, limit: usize) -> Result<Vec<QueueDef>>;
    /// Deletes a queue and its messages; `false` when there was none.
    ///
    /// # Errors
    /// When the store fails.
    fn queue_delete(&self, tenant: &TenantId, name: &str) -> Result<bool>;
    /// Deletes every message of a queue.
    ///
    /// # Errors
    /// When the store fails.
    fn queue_purge(&self, tenant: &TenantId, name: &str) -> Result<()>;
    /// Appends `message` (its `visible_at` set by the caller for a delay; an empty id gets
    /// one made of its sequence number); a FIFO queue
    /// answers the earlier message for a deduplication id seen in the last five minutes.
    ///
    /// # Errors
    /// When the store fails.
    fn message_send(
        &self,
        tenant: &TenantId,
        queue: &QueueDef,
        message: Message,
        now: Millis,
        effect: Option<(&EffectOf, String)>,
    ) -> Result<Sent>;
    /// Takes up to `max` receivable messages, hiding each for `visibility_ms`; moves those
    /// received too often to the dead-letter queue and drops expired ones on the way.
    ///
    /// # Errors
    /// When the store fails.
    fn message_receive(
        &self,
        tenant: &TenantId,
        queue: &QueueDef,
        max: usize,
        visibility_ms: Millis,
        now: Millis,
    ) -> Result<Vec<Taken>>;
    /// Deletes a received message; `false` when the receipt is stale or unknown.
    ///
    /// # Errors
    /// When the store fails.
    fn message_delete(&self, tenant: &TenantId, queue: &str, receipt: &str) -> Result<bool>;
    /// Hides a received message for `visibility_ms` from now (0: visible at once); `false`
    /// when the receipt is stale or unknown.
    ///
    /// # Errors
    /// When the store fails.
    fn message_retime(
        &self,
        tenant: &TenantId,
        queue: &str,
        receipt: &str,
        visibility_ms: Millis,
        now: Millis,
    ) -> Result<bool>;
    /// The queue's message counts at `now`.
    ///
    /// # Errors
    /// When the store fails.
    fn queue_counts(&self, tenant: &TenantId, queue: &str, now: Millis) -> Result<Counts>;
    /// Up to `limit` messages, oldest first, as they are (in flight or not), changing
    /// nothing: what the console's peek shows.
    ///
    /// # Errors
    /// When the store fails.
    fn message_peek(&self, tenant: &TenantId, queue: &str, limit: usize) -> Result<Vec<Message>>;
}

fn def_key(tenant: &TenantId, name: &str) -> Vec<u8> {
    Key::of(Table::SqsQueue, tenant).text(name).into_bytes()
}

fn messages(tenant: &TenantId, queue: &str) -> Key {
    Key::of(Table::QueueMessage, tenant).text(queue)
}

fn message_key(tenant: &TenantId, queue: &str, sequence: u64) -> Vec<u8> {
    messages(tenant, queue).number(sequence).into_bytes()
}

fn dedup_key(tenant: &TenantId, queue: &str, id: &str) -> Vec<u8> {
    Key::of(Table::QueueDedup, tenant)
        .text(queue)
        .text(id)
        .into_bytes()
}

/// A receipt: the message's sequence number and which receive of it.
fn receipt(sequence: u64, receive_count: u32) -> String {
    format!("{sequence:x}.{receive_count}")
}

fn parse_receipt(receipt: &str) -> Option<(u64, u32)> {
    let (seq, count) = receipt.split_once('.')?;
    Some((u64::from_str_radix(seq, 16).ok()?, count.parse().ok()?))
}

/// A message id shaped as SQS's (a UUID), unique per queue sequence and time.
pub fn message_id(sequence: u64, now: Millis) -> String {
    let t = now as u64;
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (t >> 16) as u32,
        (t & 0xffff) as u16,
        (sequence >> 48) & 0xfff,
        (sequence >> 36) & 0xfff,
        sequence & 0xffff_ffff_ffff
    )
}

impl Store {
    /// The queue counter's key: sequence numbers of a queue's messages.
    fn counter_key(tenant: &TenantId, queue: &str) -> Vec<u8> {
        Key::of(Table::QueueCounter, tenant)
            .text(queue)
            .into_bytes()
    }

    /// The writes that put a copy of `message` at the end of the dead-letter queue
    /// `target`, as a new message there.
    fn dead_letter(
        &self,
        tenant: &TenantId,
        target: &str,
        message: &Message,
    ) -> Result<Vec<Write>> {
        let seq = self.next_sequence(&Store::counter_key(tenant, target))?;
        let moved = Message {
            visible_at: 0,
            receive_count: 0,
            first_received: None,
            ..message.clone()
        };
        Ok(vec![Write::Put(
            message_key(tenant, target, seq),
            encode(&moved)?,
        )])
    }
}

impl Queues for Store {
    fn queue_create(&self, tenant: &TenantId, def: &QueueDef) -> Result<bool> {
        let key = def_key(tenant, &def.name);
        self.backend()
            .apply_if_absent(&key, vec![Write::Put(key.clone(), encode(def)?)])
    }

    fn queue_get(&self, tenant: &TenantId, name: &str) -> Result<Option<QueueDef>> {
        self.backend()
            .get(&def_key(tenant, name))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn queue_put(&self, tenant: &TenantId, def: &QueueDef) -> Result<()> {
        self.backend()
            .apply(vec![Write::Put(def_key(tenant, &def.name), encode(def)?)])
    }

    fn queue_list(&self, tenant: &TenantId, prefix: &str, limit: usize) -> Result<Vec<QueueDef>> {
        let p = Key::of(Table::SqsQueue, tenant).text_prefix(prefix);
        self.records(&p, None, limit)
    }

    fn queue_delete(&self, tenant: &TenantId, name: &str) -> Result<bool> {
        let key = def_key(tenant, name);
        if self.backend().get(&key)?.is_none() {
            return Ok(false);
        }
        self.queue_purge(tenant, name)?;
        let dedups = Key::of(Table::QueueDedup, tenant).text(name).into_bytes();
        let mut writes: Vec<Write> = self
            .backend()
            .scan(&dedups, None, usize::MAX)?
            .into_iter()
            .map(|(k, _)| Write::Delete(k))
            .collect();
        writes.push(Write::Delete(key));
        self.backend().apply(writes)?;
        Ok(true)
    }

    fn queue_purge(&self, tenant: &TenantId, name: &str) -> Result<()> {
        let prefix = messages(tenant, name).into_bytes();
        loop {
            let page = self.backend().scan(&prefix, None, 1000)?;
            if page.is_empty() {
                return Ok(());
            }
            self.backend()
                .apply(page.into_iter().map(|(k, _)| Write::Delete(k)).collect())?;
        }
    }

    fn message_send(
        &self,
        tenant: &TenantId,
        queue: &QueueDef,
        message: Message,
        now: Millis,
        effect: Option<(&EffectOf, String)>,
    ) -> Result<Sent> {
        let dedup = match (&message.dedup, queue.attributes.fifo) {
            (Some(id), true) => Some(dedup_key(tenant, &queue.name, id)),
            _ => None,
        };
        if let Some(k) = &dedup {
            if let Some(bytes) = self.backend().get(k)? {
                let seen: Dedup = decode(&bytes)?;
                if seen.until > now {
                    return Ok(seen.sent);
                }
            }
        }
        let sequence = self.next_sequence(&Store::counter_key(tenant, &queue.name))?;
        let mut message = message;
        if message.id.is_empty() {
            message.id = message_id(sequence, now);
        }
        let sent = Sent {
            id: message.id.clone(),
            sequence,
        };
        let mut writes = vec![Write::Put(
            message_key(tenant, &queue.name, sequence),
            encode(&message)?,
        )];
        if let Some(k) = dedup {
            let row = Dedup {
                sent: sent.clone(),
                until: now + DEDUP_WINDOW_MS,
            };
            writes.push(Write::Put(k, encode(&row)?));
        }
        if let Some((of, answer)) = effect {
            writes.push(Write::Put(
                super::tables::effect_key(of),
                answer.into_bytes(),
            ));
        }
        self.backend().apply(writes)?;
        Ok(sent)
    }

    fn message_receive(
        &self,
        tenant: &TenantId,
        queue: &QueueDef,
        max: usize,
        visibility_ms: Millis,
        now: Millis,
    ) -> Result<Vec<Taken>> {
        let attributes = &queue.attributes;
        let retention = Millis::from(attributes.retention_seconds) * 1000;
        let prefix = messages(tenant, &queue.name).into_bytes();
        let mut out = Vec::new();
        // FIFO: a group with a message in flight (or left behind) is not served further.
        let mut blocked: BTreeSet<Option<String>> = BTreeSet::new();
        let mut after: Option<Vec<u8>> = None;
        while out.len() < max {
            let page = self.backend().scan(&prefix, after.as_deref(), SCAN_PAGE)?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            for (k, v) in &page {
                if out.len() >= max {
                    break;
                }
                let mut m: Message = decode(v)?;
                if m.sent.is_some_and(|sent| sent + retention <= now) {
                    // Expired: gone, as SQS drops it.
                    self.backend().compare_and_swap(k, Some(v), None)?;
                    continue;
                }
                if attributes.fifo && blocked.contains(&m.group) {
                    continue;
                }
                if m.visible_at > now {
                    if attributes.fifo {
                        blocked.insert(m.group.clone());
                    }
                    continue;
                }
                if let Some(redrive) = &attributes.redrive {
                    if m.receive_count >= redrive.max_receive_count {
                        let mut writes = self.dead_letter(tenant, &redrive.target, &m)?;
                        writes.push(Write::Delete(k.clone()));
                        // Only if no one else took or deleted it meanwhile.
                        self.backend()
                            .apply_guarded(&[Guard::Equals(k, v)], writes)?;
                        continue;
                    }
                }
                m.visible_at = now + visibility_ms.max(0);
                m.receive_count += 1;
                m.first_received.get_or_insert(now);
                if !self
                    .backend()
                    .compare_and_swap(k, Some(v), Some(encode(&m)?))?
                {
                    if attributes.fifo {
                        blocked.insert(m.group.clone());
                    }
                    continue;
                }
                let sequence = Reader::new(k)
                    .skip_texts(2)
                    .and_then(|mut r| r.number())
                    .unwrap_or(0);
                out.push(Taken {
                    receipt: receipt(sequence, m.receive_count),
                    message: m,
                    sequence,
                });
            }
        }
        Ok(out)
    }

    fn message_delete(&self, tenant: &TenantId, queue: &str, receipt: &str) -> Result<bool> {
        let Some((sequence, count)) = parse_receipt(receipt) else {
            return Ok(false);
        };
        let k = message_key(tenant, queue, sequence);
        let Some(current) = self.backend().get(&k)? else {
            return Ok(false);
        };
        let m: Message = decode(&current)?;
        if m.receive_count != count {
            return Ok(false); // received again since: this receipt is stale
        }
        self.backend().compare_and_swap(&k, Some(&current), None)
    }

    fn message_retime(
        &self,
        tenant: &TenantId,
        queue: &str,
        receipt: &str,
        visibility_ms: Millis,
        now: Millis,
    ) -> Result<bool> {
        let Some((sequence, count)) = parse_receipt(receipt) else {
            return Ok(false);
        };
        let k = message_key(tenant, queue, sequence);
        let Some(current) = self.backend().get(&k)? else {
            return Ok(false);
        };
        let mut m: Message = decode(&current)?;
        if m.receive_count != count || m.visible_at <= now {
            return Ok(false);
        }
        m.visible_at = now + visibility_ms.max(0);
        self.backend()
            .compare_and_swap(&k, Some(&current), Some(encode(&m)?))
    }

    fn message_peek(&self, tenant: &TenantId, queue: &str, limit: usize) -> Result<Vec<Message>> {
        let prefix = messages(tenant, queue).into_bytes();
        self.records(&prefix, None, limit)
    }

    fn queue_counts(&self, tenant: &TenantId, queue: &str, now: Millis) -> Result<Counts> {
        let mut counts = Counts::default();
        for (_, v) in
            self.backend()
                .scan(&messages(tenant, queue).into_bytes(), None, usize::MAX)?
        {
            let m: Message = decode(&v)?;
            match (m.visible_at <= now, m.receive_count > 0) {
                (true, _) => counts.visible += 1,
                (false, true) => counts.in_flight += 1,
                (false, false) => counts.delayed += 1,
            }
        }
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(name: &str, attributes: QueueAttributes) -> QueueDef {
        QueueDef {
            name: name.into(),
            created: 0,
            modified: 0,
            attributes,
        }
    }

    fn message(body: &str, group: Option<&str>, dedup: Option<&str>) -> Message {
        Message {
            id: format!("id-{body}"),
            body: body.into(),
            visible_at: 0,
            receive_count: 0,
            sent: Some(0),
            first_received: None,
            attributes: BTreeMap::new(),
            group: group.map(str::to_string),
            dedup: dedup.map(str::to_string),
        }
    }

    fn bodies(taken: &[Taken]) -> Vec<&str> {
        taken.iter().map(|t| t.message.body.as_str()).collect()
    }

    #[test]
    fn fifo_queues_keep_group_order_and_drop_duplicates() {
        for s in crate::store::testing::stores() {
            let a = TenantId("a".into());
            let q = def(
                "orders.fifo",
                QueueAttributes {
                    fifo: true,
                    ..QueueAttributes::default()
                },
            );
            assert!(s.queue_create(&a, &q).unwrap());
            for (body, group, dedup) in [
                ("a1", "a", "1"),
                ("b1", "b", "2"),
                ("a2", "a", "3"),
                ("a1 again", "a", "1"),
            ] {
                s.message_send(&a, &q, message(body, Some(group), Some(dedup)), 10, None)
                    .unwrap();
            }
            let first = s.message_receive(&a, &q, 1, 30_000, 20).unwrap();
            assert_eq!(bodies(&first), ["a1"]);
            let next = s.message_receive(&a, &q, 10, 30_000, 20).unwrap();
            assert_eq!(
                bodies(&next),
                ["b1"],
                "group a waits while a1 is in flight; the duplicate is gone"
            );
            assert!(s
                .message_delete(&a, "orders.fifo", &first[0].receipt)
                .unwrap());
            let last = s.message_receive(&a, &q, 10, 30_000, 20).unwrap();
            assert_eq!(bodies(&last), ["a2"]);
            // Past the window, the same deduplication id is a new message.
            let later = s
                .message_send(
                    &a,
                    &q,
                    message("a1 later", Some("a"), Some("1")),
                    10 + DEDUP_WINDOW_MS,
                    None,
                )
                .unwrap();
            assert_ne!(later.id, "id-a1");
        }
    }

    #[test]
    fn messages_received_too_often_move_to_the_dead_letter_queue() {
        for s in crate::store::testing::stores() {
            let a = TenantId("a".into());
            let dlq = def("dlq", QueueAttributes::default());
            let q = def(
                "work",
                QueueAttributes {
                    redrive: Some(Redrive {
                        target: "dlq".into(),
                        max_receive_count: 2,
                    }),
                    ..QueueAttributes::default()
                },
            );
            s.queue_create(&a, &dlq).unwrap();
            s.queue_create(&a, &q).unwrap();
            s.message_send(&a, &q, message("poison", None, None), 0, None)
                .unwrap();
            for at in [1, 2] {
                let got = s.message_receive(&a, &q, 1, 0, at).unwrap();
                assert_eq!(got[0].message.receive_count, at as u32);
            }
            assert!(
                s.message_receive(&a, &q, 1, 0, 3).unwrap().is_empty(),
                "moved, not handed out"
            );
            let dead = s.message_receive(&a, &dlq, 1, 1000, 3).unwrap();
            assert_eq!(bodies(&dead), ["poison"]);
            assert_eq!(s.queue_counts(&a, "dlq", 3).unwrap().in_flight, 1);
            assert!(s.message_retime(&a, "dlq", &dead[0].receipt, 0, 4).unwrap());
            assert_eq!(s.queue_counts(&a, "dlq", 4).unwrap().visible, 1);
            assert!(s.queue_delete(&a, "dlq").unwrap());
            assert_eq!(s.queue_counts(&a, "dlq", 4).unwrap(), Counts::default());
        }
    }
}
