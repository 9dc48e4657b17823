//! Typed keys for every table, composed in one place: a table tag, then the tenant, then
//! the table's own fields. Each field is escaped and terminated so that keys sort like
//! their fields and no field can run into the next (a tenant named `a` can never see
//! keys of a tenant named `a\0b`).

use super::TenantId;

/// The tables. The tag is the first byte of every key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Table {
    /// kv items: tenant, table, key.
    Kv = 1,
    /// blob object bytes of old versions (now in files): tenant, bucket, key.
    BlobData = 2,
    /// blob object metadata: tenant, bucket, key.
    BlobMeta = 3,
    /// queue messages: tenant, queue, sequence.
    QueueMessage = 4,
    /// queue sequence counters: tenant, queue.
    QueueCounter = 5,
    /// topic messages of old versions, which kept what modules published: no longer
    /// written (the tag is not reused).
    TopicMessage = 6,
    /// module versions: tenant, name, version.
    ModuleVersion = 7,
    /// module bytes: tenant, sha256.
    ModuleBytes = 8,
    /// compiled artifacts: tenant, sha256, engine fingerprint.
    Artifact = 9,
    /// state machines: tenant, name.
    StateMachine = 10,
    /// state machine definition revisions: tenant, name, revision.
    Revision = 11,
    /// executions: tenant, execution name key.
    Execution = 12,
    /// steps of an execution (engine event + the history it caused): tenant, machine,
    /// execution, step number.
    Step = 13,
    /// tasks in flight: tenant, machine, execution, task id.
    InFlight = 14,
    /// timers: due time, tenant, execution, timer id (due first, to scan in time order).
    Timer = 15,
    /// tenants: id.
    Tenant = 16,
    /// tags of a resource: tenant, ARN.
    Tags = 17,
    /// counters and singletons: tenant, name, ...
    Meta = 18,
    /// running executions, for recovery: tenant, machine, execution.
    Running = 19,
    /// executions newest first: tenant, machine, negated start time, execution.
    ByStart = 20,
    /// module versions pinned by running executions: tenant, module, version, machine,
    /// execution (the in-use check of a module delete).
    Pin = 21,
    /// task tokens: tenant, token (the task a token completes).
    Token = 22,
    /// the tokens of an execution: tenant, machine, execution, task id (to delete them
    /// with it).
    ExecutionToken = 23,
    /// activities: tenant, name.
    Activity = 24,
    /// tasks waiting for an activity worker: tenant, activity, scheduled time, machine,
    /// execution, task id (oldest first).
    ActivityTask = 25,
    /// the execution a parent's task started: tenant, parent machine, parent, task id.
    Child = 26,
    /// answers ended nested executions owe their parents' tasks: tenant, parent machine,
    /// parent, task id (not per tenant first: recovery reads them all).
    Notice = 27,
    /// job queues: tenant, name.
    JobQueue = 28,
    /// jobs: tenant, job id.
    Job = 29,
    /// jobs not yet ended: tenant, job id (recovery reads them all).
    OpenJob = 30,
    /// what jobs logged: tenant, job id, line number.
    JobLog = 31,
    /// DynamoDB-style tables: tenant, name.
    DynamoTable = 32,
    /// their items: tenant, table, partition key bytes, sort key bytes.
    DynamoItem = 33,
    /// what a workflow task's write answered, stored with the write: tenant, machine,
    /// execution, task id (deleted with the execution).
    TaskEffect = 34,
    /// SQS-style queues: tenant, name (their messages are `QueueMessage`).
    SqsQueue = 35,
    /// FIFO deduplication ids seen: tenant, queue, id.
    QueueDedup = 36,
    /// SNS-style topics: tenant, name.
    SnsTopic = 37,
    /// their subscriptions: tenant, topic, subscription id.
    SnsSubscription = 38,
    /// messages on their way to a subscription: tenant, topic, message id, subscription
    /// id (not per tenant first: the delivery loop reads them all).
    SnsDelivery = 39,
    /// S3-style buckets: tenant, name (their objects are `BlobMeta`).
    Bucket = 40,
    /// multipart uploads under way: tenant, upload id.
    BlobUpload = 41,
    /// roles (what a state machine's integrations may touch): tenant, name.
    Role = 42,
    /// HTTP routes (`/hooks/{account}{path}`): tenant, name.
    Route = 43,
    /// event buses: tenant, name.
    EventBus = 44,
    /// event rules (with their targets): tenant, bus, name.
    EventRule = 45,
    /// events on their way to a rule's target: due time, delivery id (not per tenant
    /// first: the delivery loop reads the due ones of every tenant, oldest first).
    EventDelivery = 46,
    /// deliveries given up: tenant, bus, time, delivery id.
    EventDeadLetter = 47,
    /// schedules (their own, and those of rules with a schedule expression): tenant,
    /// group, name.
    Schedule = 48,
    /// when schedules fire next: due time, tenant, group, name (not per tenant first: the
    /// firing loop reads the due ones of every tenant, earliest first).
    ScheduleDue = 49,
    /// published versions of state machines: tenant, machine, number.
    MachineVersion = 50,
    /// aliases of state machines: tenant, machine, name.
    MachineAlias = 51,
    /// Map Runs: tenant, run id.
    MapRun = 52,
    /// Map Runs by parent execution: tenant, machine, execution, start time, run id.
    MapRunByParent = 53,
    /// Map Runs still running (not per tenant): tenant, run id.
    MapRunOpen = 54,
    /// A Map Run's children (an item or a batch each): tenant, run id, index.
    MapRunChild = 55,
    /// Resource bindings: tenant, pattern.
    Binding = 56,
    /// Connections (HTTP Tasks' endpoints and credentials): tenant, name.
    Connection = 57,
    /// object files kept in the store itself (a shared database: every server reads
    /// them): tenant, file id -> size, empty while the file is being written.
    ObjectFile = 58,
    /// their bytes, in chunks: tenant, file id, chunk number.
    ObjectChunk = 59,
}

/// A key under construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key(Vec<u8>);

impl Key {
    /// A key of `table` (no tenant: only for tables that are not per tenant).
    pub fn table(table: Table) -> Key {
        Key(vec![table as u8])
    }

    /// A key of `table` for `tenant`.
    pub fn of(table: Table, tenant: &TenantId) -> Key {
        Key::table(table).text(&tenant.0)
    }

    /// Appends a text field.
    pub fn text(self, field: &str) -> Key {
        self.bytes(field.as_bytes())
    }

    /// Appends a byte field.
    pub fn bytes(mut self, field: &[u8]) -> Key {
        self.push_escaped(field);
        self.0.extend_from_slice(&[0, 1]);
        self
    }

    /// Appends a number field; big-endian, so keys sort numerically.
    pub fn number(mut self, n: u64) -> Key {
        self.0.extend_from_slice(&n.to_be_bytes());
        self
    }

    /// Appends a signed time field, sorting in time order.
    pub fn time(self, ms: i64) -> Key {
        self.number((ms as u64) ^ (1 << 63))
    }

    /// The key so far as a prefix for an unfinished text field: every key whose next
    /// field starts with `start` begins with the result.
    pub fn text_prefix(mut self, start: &str) -> Vec<u8> {
        self.push_escaped(start.as_bytes());
        self.0
    }

    /// The encoded key.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    fn push_escaped(&mut self, field: &[u8]) {
        for &b in field {
            self.0.push(b);
            if b == 0 {
                self.0.push(0xFF);
            }
        }
    }
}

/// The tenant whose row `key` is, for the tables that are per tenant: the first field
/// after the tag, or after the due time of the tables ordered by time first. `None` for
/// the tables of no tenant (tenants themselves, event deliveries keyed by time and id).
/// The store's one-time markers (`Meta` keys with no tenant) read as a tenant of that
/// name; no writer relies on that. The PostgreSQL backend fences a write by the partitions
/// of the tenants it touches (`store/postgres/lease.rs`).
pub fn tenant_of(key: &[u8]) -> Option<String> {
    let mut fields = Reader::new(key);
    match *key.first()? {
        t if t == Table::Tenant as u8 || t == Table::EventDelivery as u8 => None,
        t if t == Table::Timer as u8 || t == Table::ScheduleDue as u8 => {
            fields.number()?;
            fields.text()
        }
        _ => fields.text(),
    }
}

/// A key of `tenant` that no row ever has. A write of rows keyed without their tenant
/// names it among its guards (as absent), so that it is fenced by the tenant's partition
/// like the tenant's other writes (`store/postgres/lease.rs`).
pub fn fence_of(tenant: &TenantId) -> Vec<u8> {
    Key::of(Table::Meta, tenant).text("fence").into_bytes()
}

/// Reads back the fields of a key after its table tag: text fields and 8-byte numbers,
/// in the order they were written.
#[derive(Debug)]
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// A reader positioned after the table tag.
    pub fn new(key: &'a [u8]) -> Reader<'a> {
        Reader(key.get(1..).unwrap_or_default())
    }

    /// The next text field.
    pub fn text(&mut self) -> Option<String> {
        let mut out = Vec::new();
        let mut i = 0;
        loop {
            match (self.0.get(i), self.0.get(i + 1)) {
                (Some(0), Some(1)) => {
                    self.0 = self.0.get(i + 2..).unwrap_or_default();
                    return String::from_utf8(out).ok();
                }
                (Some(0), Some(0xFF)) => {
                    out.push(0);
                    i += 2;
                }
                (Some(&b), _) => {
                    out.push(b);
                    i += 1;
                }
                (None, _) => return None,
            }
        }
    }

    /// Skips `n` text fields.
    pub fn skip_texts(mut self, n: usize) -> Option<Reader<'a>> {
        for _ in 0..n {
            self.text()?;
        }
        Some(self)
    }

    /// The next number field.
    pub fn number(&mut self) -> Option<u64> {
        let (head, rest) = self.0.split_first_chunk::<8>()?;
        self.0 = rest;
        Some(u64::from_be_bytes(*head))
    }

    /// The next time field.
    pub fn time(&mut self) -> Option<i64> {
        self.number().map(|n| (n ^ (1 << 63)) as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_and_tenants_do_not_overlap() {
        let a = TenantId("a".into());
        let tricky = TenantId("a\0b".into());
        let k1 = Key::of(Table::Kv, &a).text("t").text("k").into_bytes();
        let k2 = Key::of(Table::Kv, &tricky).text("t").text("k").into_bytes();
        let prefix_a = Key::of(Table::Kv, &a).into_bytes();
        assert!(k1.starts_with(&prefix_a));
        assert!(!k2.starts_with(&prefix_a));
        let mut r = Reader::new(&k2);
        assert_eq!(r.text().as_deref(), Some("a\0b"));
        assert_eq!(r.text().as_deref(), Some("t"));
        assert_eq!(r.text().as_deref(), Some("k"));
    }

    #[test]
    fn a_key_names_its_tenant_wherever_the_table_puts_it() {
        let t = TenantId("acme\0x".into());
        let kv = Key::of(Table::Kv, &t).text("t").into_bytes();
        assert_eq!(tenant_of(&kv).as_deref(), Some("acme\0x"));
        let timer = Key::table(Table::Timer)
            .time(-5)
            .text(&t.0)
            .text("m")
            .into_bytes();
        assert_eq!(tenant_of(&timer).as_deref(), Some("acme\0x"));
        let due = Key::table(Table::ScheduleDue)
            .time(9)
            .text(&t.0)
            .into_bytes();
        assert_eq!(tenant_of(&due).as_deref(), Some("acme\0x"));
        let tenant = Key::table(Table::Tenant).text(&t.0).into_bytes();
        assert_eq!(
            tenant_of(&tenant),
            None,
            "the tenants' own table is no tenant's"
        );
        let delivery = Key::table(Table::EventDelivery)
            .time(1)
            .text("id")
            .into_bytes();
        assert_eq!(tenant_of(&delivery), None);
        assert_eq!(tenant_of(&[]), None);
    }

    #[test]
    fn numbers_and_times_sort_in_order() {
        let t = TenantId("x".into());
        let k = |n| Key::of(Table::Step, &t).number(n).into_bytes();
        assert!(k(2) < k(10));
        let at = |ms| Key::table(Table::Timer).time(ms).into_bytes();
        assert!(at(-5) < at(0) && at(0) < at(1_700_000_000_000));
        let key = at(-5);
        let mut r = Reader::new(&key);
        assert_eq!(r.time(), Some(-5));
    }

    #[test]
    fn text_prefixes_select_by_field_start() {
        let t = TenantId("x".into());
        let key = Key::of(Table::Kv, &t)
            .text("orders")
            .text("o-17")
            .into_bytes();
        let prefix = Key::of(Table::Kv, &t).text("orders").text_prefix("o-1");
        assert!(key.starts_with(&prefix));
        let other = Key::of(Table::Kv, &t).text("orders").text_prefix("p");
        assert!(!key.starts_with(&other));
    }
}
