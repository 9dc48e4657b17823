//! The tenant data tables behind the host interfaces: blob, queue, topic (kv items live
//! in the DynamoDB tables: `kv.rs`).

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Reader, Table};
use super::{
    Blobs, Error, Millis, ObjectMeta, Published, Queues, Received, Result, Store, TenantId, Topics,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

impl Blobs for Store {
    fn blob_put(
        &self,
        tenant: &TenantId,
        bucket: &str,
        key: &str,
        data: &[u8],
        content_type: Option<&str>,
        now: Millis,
    ) -> Result<ObjectMeta> {
        let meta = ObjectMeta {
            key: key.to_string(),
            size: data.len() as u64,
            sha256: hex(&Sha256::digest(data)),
            content_type: content_type.map(str::to_string),
            modified: now,
        };
        self.backend.apply(vec![
            Write::Put(
                Key::of(Table::BlobData, tenant)
                    .text(bucket)
                    .text(key)
                    .into_bytes(),
                data.to_vec(),
            ),
            Write::Put(
                Key::of(Table::BlobMeta, tenant)
                    .text(bucket)
                    .text(key)
                    .into_bytes(),
                encode(&meta)?,
            ),
        ])?;
        Ok(meta)
    }

    fn blob_get(&self, tenant: &TenantId, bucket: &str, key: &str) -> Result<Option<Vec<u8>>> {
        self.backend.get(
            &Key::of(Table::BlobData, tenant)
                .text(bucket)
                .text(key)
                .into_bytes(),
        )
    }

    fn blob_head(&self, tenant: &TenantId, bucket: &str, key: &str) -> Result<Option<ObjectMeta>> {
        let k = Key::of(Table::BlobMeta, tenant)
            .text(bucket)
            .text(key)
            .into_bytes();
        self.backend.get(&k)?.map(|b| decode(&b)).transpose()
    }

    fn blob_list(
        &self,
        tenant: &TenantId,
        bucket: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<ObjectMeta>> {
        let p = Key::of(Table::BlobMeta, tenant)
            .text(bucket)
            .text_prefix(prefix);
        self.backend
            .scan(&p, None, limit)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    fn blob_delete(&self, tenant: &TenantId, bucket: &str, key: &str) -> Result<bool> {
        let meta = Key::of(Table::BlobMeta, tenant)
            .text(bucket)
            .text(key)
            .into_bytes();
        let existed = self.backend.get(&meta)?.is_some();
        self.backend.apply(vec![
            Write::Delete(
                Key::of(Table::BlobData, tenant)
                    .text(bucket)
                    .text(key)
                    .into_bytes(),
            ),
            Write::Delete(meta),
        ])?;
        Ok(existed)
    }
}

/// A queued message as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Message {
    id: String,
    body: String,
    visible_at: Millis,
    receive_count: u32,
}

impl Store {
    /// The next number of a per-tenant sequence (queue or topic messages).
    fn next_sequence(&self, key: &[u8]) -> Result<u64> {
        loop {
            let current = self.backend.get(key)?;
            let n = match &current {
                Some(b) => b
                    .as_slice()
                    .try_into()
                    .map(u64::from_be_bytes)
                    .map_err(|_| Error::Corrupt("sequence".into()))?,
                None => 0,
            } + 1;
            if self.backend.compare_and_swap(
                key,
                current.as_deref(),
                Some(n.to_be_bytes().to_vec()),
            )? {
                return Ok(n);
            }
        }
    }
}

impl Queues for Store {
    fn queue_send(
        &self,
        tenant: &TenantId,
        queue: &str,
        body: &str,
        now: Millis,
    ) -> Result<String> {
        let seq = self.next_sequence(
            &Key::of(Table::QueueCounter, tenant)
                .text(queue)
                .into_bytes(),
        )?;
        let id = format!("{seq:016x}-{:x}", now);
        let message = Message {
            id: id.clone(),
            body: body.to_string(),
            visible_at: now,
            receive_count: 0,
        };
        let k = Key::of(Table::QueueMessage, tenant)
            .text(queue)
            .number(seq)
            .into_bytes();
        self.backend.apply(vec![Write::Put(k, encode(&message)?)])?;
        Ok(id)
    }

    fn queue_receive(
        &self,
        tenant: &TenantId,
        queue: &str,
        max: usize,
        visibility_ms: i64,
        now: Millis,
    ) -> Result<Vec<Received>> {
        let prefix = Key::of(Table::QueueMessage, tenant)
            .text(queue)
            .into_bytes();
        let mut out = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        while out.len() < max {
            let page = self.backend.scan(&prefix, after.as_deref(), 256)?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            for (k, v) in &page {
                if out.len() >= max {
                    break;
                }
                let mut m: Message = decode(v)?;
                if m.visible_at > now {
                    continue;
                }
                m.visible_at = now + visibility_ms.max(0);
                m.receive_count += 1;
                if self
                    .backend
                    .compare_and_swap(k, Some(v), Some(encode(&m)?))?
                {
                    let seq = Reader::new(k)
                        .skip_texts(2)
                        .and_then(|mut r| r.number())
                        .unwrap_or(0);
                    out.push(Received {
                        receipt: format!("{seq:x}.{}", m.receive_count),
                        id: m.id,
                        body: m.body,
                        receive_count: m.receive_count,
                    });
                }
            }
        }
        Ok(out)
    }

    fn queue_delete(
        &self,
        tenant: &TenantId,
        queue: &str,
        receipt: &str,
        _now: Millis,
    ) -> Result<bool> {
        let Some((seq, count)) = receipt.split_once('.') else {
            return Ok(false);
        };
        let (Ok(seq), Ok(count)) = (u64::from_str_radix(seq, 16), count.parse::<u32>()) else {
            return Ok(false);
        };
        let k = Key::of(Table::QueueMessage, tenant)
            .text(queue)
            .number(seq)
            .into_bytes();
        let Some(current) = self.backend.get(&k)? else {
            return Ok(false);
        };
        let m: Message = decode(&current)?;
        if m.receive_count != count {
            return Ok(false); // received again since: this receipt is stale
        }
        self.backend.compare_and_swap(&k, Some(&current), None)
    }
}

impl Topics for Store {
    fn topic_publish(
        &self,
        tenant: &TenantId,
        topic: &str,
        message: &str,
        subject: Option<&str>,
        now: Millis,
    ) -> Result<String> {
        let seq = self.next_sequence(
            &Key::of(Table::Meta, tenant)
                .text("topic-sequence")
                .text(topic)
                .into_bytes(),
        )?;
        let id = format!("{seq:016x}-{:x}", now);
        let record = Published {
            id: id.clone(),
            message: message.to_string(),
            subject: subject.map(str::to_string),
            published: now,
        };
        let k = Key::of(Table::TopicMessage, tenant)
            .text(topic)
            .number(seq)
            .into_bytes();
        self.backend.apply(vec![Write::Put(k, encode(&record)?)])?;
        Ok(id)
    }

    fn topic_messages(
        &self,
        tenant: &TenantId,
        topic: &str,
        limit: usize,
    ) -> Result<Vec<Published>> {
        let prefix = Key::of(Table::TopicMessage, tenant)
            .text(topic)
            .into_bytes();
        self.backend
            .scan(&prefix, None, limit)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str) -> TenantId {
        TenantId(name.into())
    }

    #[test]
    fn blobs_store_bytes_and_metadata() {
        let s = Store::memory();
        let a = t("a");
        let meta = s
            .blob_put(&a, "raw", "in/1.csv", b"x,1\n", Some("text/csv"), 5)
            .unwrap();
        assert_eq!(meta.size, 4);
        assert_eq!(
            s.blob_get(&a, "raw", "in/1.csv").unwrap().unwrap(),
            b"x,1\n"
        );
        assert_eq!(s.blob_head(&a, "raw", "in/1.csv").unwrap(), Some(meta));
        assert_eq!(s.blob_list(&a, "raw", "in/", 10).unwrap().len(), 1);
        assert_eq!(s.blob_get(&t("b"), "raw", "in/1.csv").unwrap(), None);
        assert!(s.blob_delete(&a, "raw", "in/1.csv").unwrap());
        assert_eq!(s.blob_head(&a, "raw", "in/1.csv").unwrap(), None);
    }

    #[test]
    fn queue_messages_hide_while_received() {
        let s = Store::memory();
        let a = t("a");
        s.queue_send(&a, "q", "one", 0).unwrap();
        s.queue_send(&a, "q", "two", 0).unwrap();
        let got = s.queue_receive(&a, "q", 10, 1000, 10).unwrap();
        assert_eq!(
            got.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
            ["one", "two"]
        );
        assert!(
            s.queue_receive(&a, "q", 10, 1000, 500).unwrap().is_empty(),
            "invisible"
        );
        let again = s.queue_receive(&a, "q", 1, 1000, 2000).unwrap();
        assert_eq!(again[0].receive_count, 2);
        assert!(
            !s.queue_delete(&a, "q", &got[0].receipt, 2000).unwrap(),
            "stale receipt"
        );
        assert!(s.queue_delete(&a, "q", &again[0].receipt, 2000).unwrap());
        assert!(s
            .queue_receive(&t("b"), "q", 10, 1000, 5000)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn topics_keep_published_messages() {
        let s = Store::memory();
        let a = t("a");
        s.topic_publish(&a, "events", "m1", Some("s"), 1).unwrap();
        s.topic_publish(&a, "events", "m2", None, 2).unwrap();
        let msgs = s.topic_messages(&a, "events", 10).unwrap();
        assert_eq!(
            msgs.iter().map(|m| m.message.as_str()).collect::<Vec<_>>(),
            ["m1", "m2"]
        );
        assert!(s.topic_messages(&t("b"), "events", 10).unwrap().is_empty());
    }
}
