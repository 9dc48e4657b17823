//! DynamoDB-style tables of a tenant: a table's definition (name, key schema) and its
//! items. An item is stored under its table and its key's sortable bytes (partition,
//! then sort key), so a Query reads one partition in sort-key order and a Scan reads
//! the table in key order. Every item carries a version; writes are compare-and-swap on
//! it, so a conditional write (evaluated on the version read) is atomic against every
//! other writer: integrations, the DynamoDB API and modules alike.

use super::backend::{Guard, Write};
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::{Result, Store, TenantId};
use crate::dynamo::key::{KeySchema, StoredKey};
use crate::model::ExecutionKey;
use sandstep_engine::Millis;
use serde::{Deserialize, Serialize};

/// A table's definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDef {
    /// Its name, unique in the tenant.
    pub name: String,
    /// Its primary key.
    pub schema: KeySchema,
    /// When it was created (epoch ms).
    pub created: Millis,
}

/// An item as stored: DynamoDB JSON text and the version its last write gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredItem {
    /// The item in DynamoDB JSON.
    pub item: String,
    /// Starts at 1; every write adds one.
    pub version: u64,
    /// The JSON text a module's `kv` write stored, which `kv` reads give back exactly
    /// (the item holds its DynamoDB form); none after a DynamoDB write.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plain: Option<String>,
}

/// The workflow task a write is made for. Its answer is stored in the same atomic batch
/// as the write, so that the task, run again after a crash, finds the answer instead of
/// writing twice: a task's write happens exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectOf {
    /// The execution.
    pub execution: ExecutionKey,
    /// The task's id in it.
    pub task: u64,
}

/// What a transaction does to one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Writes the item (DynamoDB JSON).
    Put(String),
    /// Deletes it.
    Delete,
    /// Leaves it, but only if it is still at the version read (a ConditionCheck).
    Keep,
}

/// One item of a transaction: where, the version it was read at (`None`: absent), and
/// what becomes of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Swap {
    /// The table.
    pub table: String,
    /// The item's key.
    pub key: StoredKey,
    /// The version read.
    pub version: Option<u64>,
    /// The change.
    pub change: Change,
}

/// Items are deleted with their table in batches of this many.
const DELETE_BATCH: usize = 1000;

/// Tables and their items.
///
/// # Contract
/// `item_swap` writes only if the item is still at the version the caller read (`None`:
/// absent), atomically; a caller whose swap fails reads again and re-evaluates.
pub trait Tables: Send + Sync {
    /// Creates a table; `false` when one of that name exists.
    ///
    /// # Errors
    /// When the store fails.
    fn table_create(&self, tenant: &TenantId, def: &TableDef) -> Result<bool>;
    /// A table's definition.
    ///
    /// # Errors
    /// When the store fails.
    fn table_get(&self, tenant: &TenantId, name: &str) -> Result<Option<TableDef>>;
    /// Tables in name order after `after`, at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn table_list(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<TableDef>>;
    /// Deletes a table and its items; `false` when there was none.
    ///
    /// # Errors
    /// When the store fails (some items may be gone; the definition goes last).
    fn table_delete(&self, tenant: &TenantId, name: &str) -> Result<bool>;
    /// An item.
    ///
    /// # Errors
    /// When the store fails.
    fn item_get(
        &self,
        tenant: &TenantId,
        table: &str,
        key: &StoredKey,
    ) -> Result<Option<StoredItem>>;
    /// Writes `item` (DynamoDB JSON; `None` deletes) if the item is at `version` (`None`:
    /// absent), with `effect`'s answer in the same atomic batch. Returns the new version (0
    /// for a delete), or `None` when the item changed.
    ///
    /// # Errors
    /// When the store fails.
    fn item_swap(
        &self,
        tenant: &TenantId,
        table: &str,
        key: &StoredKey,
        version: Option<u64>,
        item: Option<String>,
        effect: Option<(&EffectOf, String)>,
    ) -> Result<Option<u64>>;
    /// Applies every swap, with `effect`'s answer, as one atomic batch, only if every item
    /// is still at the version read; returns whether it did.
    ///
    /// # Errors
    /// When the store fails.
    fn items_swap(
        &self,
        tenant: &TenantId,
        swaps: &[Swap],
        effect: Option<(&EffectOf, String)>,
    ) -> Result<bool>;
    /// The answer a task's write stored ([`EffectOf`]), if it made one.
    ///
    /// # Errors
    /// When the store fails.
    fn effect_get(&self, of: &EffectOf) -> Result<Option<String>>;
    /// Items in key order: of one partition when `partition` is given, after `after`
    /// (exclusive), at most `limit`.
    ///
    /// # Errors
    /// When the store fails.
    fn items(
        &self,
        tenant: &TenantId,
        table: &str,
        partition: Option<&[u8]>,
        after: Option<&StoredKey>,
        limit: usize,
    ) -> Result<Vec<StoredItem>>;
}

pub(super) fn effect_key(of: &EffectOf) -> Vec<u8> {
    Key::of(Table::TaskEffect, &of.execution.tenant)
        .text(&of.execution.machine)
        .text(&of.execution.name)
        .number(of.task)
        .into_bytes()
}

fn def_key(tenant: &TenantId, name: &str) -> Vec<u8> {
    Key::of(Table::DynamoTable, tenant).text(name).into_bytes()
}

pub(super) fn table_prefix(tenant: &TenantId, table: &str) -> Key {
    Key::of(Table::DynamoItem, tenant).text(table)
}

pub(super) fn item_key(tenant: &TenantId, table: &str, key: &StoredKey) -> Vec<u8> {
    table_prefix(tenant, table)
        .bytes(&key.partition)
        .bytes(&key.sort)
        .into_bytes()
}

impl Tables for Store {
    fn table_create(&self, tenant: &TenantId, def: &TableDef) -> Result<bool> {
        let key = def_key(tenant, &def.name);
        self.backend()
            .apply_if_absent(&key, vec![Write::Put(key.clone(), encode(def)?)])
    }

    fn table_get(&self, tenant: &TenantId, name: &str) -> Result<Option<TableDef>> {
        self.backend()
            .get(&def_key(tenant, name))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn table_list(
        &self,
        tenant: &TenantId,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<TableDef>> {
        let prefix = Key::of(Table::DynamoTable, tenant).into_bytes();
        let after = after.map(|a| def_key(tenant, a));
        self.records(&prefix, after.as_deref(), limit)
    }

    fn table_delete(&self, tenant: &TenantId, name: &str) -> Result<bool> {
        let key = def_key(tenant, name);
        if self.backend().get(&key)?.is_none() {
            return Ok(false);
        }
        let prefix = table_prefix(tenant, name).into_bytes();
        loop {
            let batch = self.backend().scan(&prefix, None, DELETE_BATCH)?;
            if batch.is_empty() {
                break;
            }
            self.backend()
                .apply(batch.into_iter().map(|(k, _)| Write::Delete(k)).collect())?;
        }
        self.backend().apply(vec![Write::Delete(key)])?;
        Ok(true)
    }

    fn item_get(
        &self,
        tenant: &TenantId,
        table: &str,
        key: &StoredKey,
    ) -> Result<Option<StoredItem>> {
        self.backend()
            .get(&item_key(tenant, table, key))?
            .map(|b| decode(&b))
            .transpose()
    }

    fn item_swap(
        &self,
        tenant: &TenantId,
        table: &str,
        key: &StoredKey,
        version: Option<u64>,
        item: Option<String>,
        effect: Option<(&EffectOf, String)>,
    ) -> Result<Option<u64>> {
        let k = item_key(tenant, table, key);
        let current = self.backend().get(&k)?;
        let found = current
            .as_deref()
            .map(decode::<StoredItem>)
            .transpose()?
            .map(|i| i.version);
        if found != version {
            return Ok(None);
        }
        let next = version.unwrap_or(0) + 1;
        let new = match item {
            Some(item) => Some(encode(&StoredItem {
                item,
                version: next,
                plain: None,
            })?),
            None => None,
        };
        let written = if new.is_some() { next } else { 0 };
        let swapped = match effect {
            None => self
                .backend()
                .compare_and_swap(&k, current.as_deref(), new)?,
            Some((of, answer)) => {
                let guard = match current.as_deref() {
                    Some(bytes) => Guard::Equals(&k, bytes),
                    None => Guard::Absent(&k),
                };
                let write = match new {
                    Some(bytes) => Write::Put(k.clone(), bytes),
                    None => Write::Delete(k.clone()),
                };
                let answer = Write::Put(effect_key(of), answer.into_bytes());
                self.backend()
                    .apply_guarded(&[guard], vec![write, answer])?
            }
        };
        Ok(swapped.then_some(written))
    }

    fn items_swap(
        &self,
        tenant: &TenantId,
        swaps: &[Swap],
        effect: Option<(&EffectOf, String)>,
    ) -> Result<bool> {
        let mut keys = Vec::with_capacity(swaps.len());
        let mut currents = Vec::with_capacity(swaps.len());
        let mut writes = Vec::with_capacity(swaps.len() + 1);
        for swap in swaps {
            let k = item_key(tenant, &swap.table, &swap.key);
            let current = self.backend().get(&k)?;
            let found = current
                .as_deref()
                .map(decode::<StoredItem>)
                .transpose()?
                .map(|i| i.version);
            if found != swap.version {
                return Ok(false);
            }
            match &swap.change {
                Change::Put(item) => writes.push(Write::Put(
                    k.clone(),
                    encode(&StoredItem {
                        item: item.clone(),
                        version: swap.version.unwrap_or(0) + 1,
                        plain: None,
                    })?,
                )),
                Change::Delete => writes.push(Write::Delete(k.clone())),
                Change::Keep => {}
            }
            keys.push(k);
            currents.push(current);
        }
        if let Some((of, answer)) = effect {
            writes.push(Write::Put(effect_key(of), answer.into_bytes()));
        }
        let guards: Vec<Guard<'_>> = keys
            .iter()
            .zip(&currents)
            .map(|(k, current)| match current.as_deref() {
                Some(bytes) => Guard::Equals(k, bytes),
                None => Guard::Absent(k),
            })
            .collect();
        self.backend().apply_guarded(&guards, writes)
    }

    fn effect_get(&self, of: &EffectOf) -> Result<Option<String>> {
        Ok(self
            .backend()
            .get(&effect_key(of))?
            .map(|b| String::from_utf8_lossy(&b).into_owned()))
    }

    fn items(
        &self,
        tenant: &TenantId,
        table: &str,
        partition: Option<&[u8]>,
        after: Option<&StoredKey>,
        limit: usize,
    ) -> Result<Vec<StoredItem>> {
        let prefix = match partition {
            Some(p) => table_prefix(tenant, table).bytes(p).into_bytes(),
            None => table_prefix(tenant, table).into_bytes(),
        };
        let after = after.map(|a| item_key(tenant, table, a));
        self.records(&prefix, after.as_deref(), limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dynamo::key::{KeyAttribute, KeyType};

    fn def(name: &str) -> TableDef {
        TableDef {
            name: name.into(),
            schema: KeySchema {
                partition: KeyAttribute {
                    name: "pk".into(),
                    kind: KeyType::S,
                },
                sort: None,
            },
            created: 1,
        }
    }

    fn key(pk: &str, sort: &[u8]) -> StoredKey {
        StoredKey {
            partition: pk.as_bytes().to_vec(),
            sort: sort.to_vec(),
        }
    }

    #[test]
    fn items_swap_on_their_version_and_stay_in_their_tenant_and_table() {
        for s in crate::store::testing::stores() {
            let (a, b) = (TenantId("a".into()), TenantId("b".into()));
            assert!(s.table_create(&a, &def("orders")).unwrap());
            assert!(!s.table_create(&a, &def("orders")).unwrap());
            assert!(s.table_create(&a, &def("orders2")).unwrap());
            assert_eq!(s.table_get(&b, "orders").unwrap(), None);
            let k = key("o-1", b"");
            assert_eq!(
                s.item_swap(&a, "orders", &k, None, Some("{}".into()), None)
                    .unwrap(),
                Some(1)
            );
            assert_eq!(
                s.item_swap(&a, "orders", &k, None, Some("{}".into()), None)
                    .unwrap(),
                None,
                "no longer absent"
            );
            assert_eq!(
                s.item_swap(&a, "orders", &k, Some(1), Some("{\"x\":1}".into()), None)
                    .unwrap(),
                Some(2)
            );
            assert_eq!(s.item_get(&a, "orders", &k).unwrap().unwrap().version, 2);
            assert_eq!(s.item_get(&b, "orders", &k).unwrap(), None);
            assert_eq!(
                s.item_get(&a, "orders2", &k).unwrap(),
                None,
                "a table's name is not a prefix"
            );
            s.item_swap(
                &a,
                "orders",
                &key("o-2", b""),
                None,
                Some("{}".into()),
                None,
            )
            .unwrap();
            s.item_swap(
                &a,
                "orders2",
                &key("o-3", b""),
                None,
                Some("{}".into()),
                None,
            )
            .unwrap();
            assert_eq!(s.items(&a, "orders", None, None, 10).unwrap().len(), 2);
            assert_eq!(s.items(&a, "orders", None, Some(&k), 10).unwrap().len(), 1);
            assert_eq!(
                s.items(&a, "orders", Some(b"o-2"), None, 10).unwrap().len(),
                1
            );
            assert_eq!(
                s.table_list(&a, None, 10)
                    .unwrap()
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>(),
                ["orders", "orders2"]
            );
            assert_eq!(s.table_list(&a, Some("orders"), 10).unwrap().len(), 1);
            assert!(s.table_delete(&a, "orders").unwrap());
            assert!(s.items(&a, "orders", None, None, 10).unwrap().is_empty());
            assert_eq!(s.items(&a, "orders2", None, None, 10).unwrap().len(), 1);
            assert_eq!(
                s.item_swap(&a, "orders2", &key("o-3", b""), Some(1), None, None)
                    .unwrap(),
                Some(0)
            );
        }
    }

    #[test]
    fn a_tasks_write_and_its_answer_are_one_batch() {
        use crate::store::Executions as _;
        for s in crate::store::testing::stores() {
            let a = TenantId("a".into());
            s.table_create(&a, &def("t")).unwrap();
            let of = EffectOf {
                execution: ExecutionKey {
                    tenant: a.clone(),
                    machine: "m".into(),
                    name: "e".into(),
                },
                task: 3,
            };
            assert_eq!(s.effect_get(&of).unwrap(), None);
            let answer = Some((&of, "{\"ok\":1}".to_string()));
            let k = key("k", b"");
            assert_eq!(
                s.item_swap(&a, "t", &k, None, Some("{}".into()), answer)
                    .unwrap(),
                Some(1)
            );
            assert_eq!(s.effect_get(&of).unwrap().as_deref(), Some("{\"ok\":1}"));
            let other = EffectOf {
                task: 4,
                ..of.clone()
            };
            let lost = s
                .item_swap(
                    &a,
                    "t",
                    &k,
                    None,
                    Some("{}".into()),
                    Some((&other, "x".into())),
                )
                .unwrap();
            assert_eq!(lost, None, "the item is there: nothing is written");
            assert_eq!(s.effect_get(&other).unwrap(), None, "nor the answer");
            assert_eq!(
                s.item_swap(&a, "t", &k, Some(1), None, Some((&other, "{}".into())))
                    .unwrap(),
                Some(0)
            );
            assert_eq!(s.item_get(&a, "t", &k).unwrap(), None);
            s.execution_delete(&of.execution).unwrap();
            assert_eq!(
                s.effect_get(&of).unwrap(),
                None,
                "answers go with their execution"
            );
            assert_eq!(s.effect_get(&other).unwrap(), None);
        }
    }
}
