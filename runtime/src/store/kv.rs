//! Modules' `kv` items are the items of the tenant's DynamoDB tables: a `kv` call on table
//! `t` and key `k` addresses the item of `t` whose partition key is `k`. A table a module
//! writes first is created with the partition key `key` (a string); a table made through
//! DynamoDB works too if its key is one string attribute. A `kv` write keeps the module's
//! JSON text (read back exactly) beside its DynamoDB form (the object's fields as
//! attributes; anything else as the attribute `value`), so a workflow's `dynamodb:getItem`
//! or `aws dynamodb get-item` sees what a module wrote, and a module sees what they wrote.

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Reader, Table};
use super::tables::{item_key, table_prefix, StoredItem, TableDef, Tables as _};
use super::{Error, Expect, Item, Kv, Result, Store, TenantId};
use crate::dynamo::key::{KeyAttribute, KeySchema, KeyType, StoredKey};
use crate::dynamo::value::{self, item_from_json, item_to_json, Value};
use serde_json::Value as Json;

/// The partition key of tables a module creates by writing to them.
pub const KV_KEY: &str = "key";

/// Pages of the migration from the former kv table.
const MIGRATION_PAGE: usize = 1000;

impl Store {
    /// The table a `kv` call addresses, created (keyed by [`KV_KEY`]) when `create` and
    /// absent; `None` when absent and not created.
    fn kv_table(&self, tenant: &TenantId, table: &str, create: bool) -> Result<Option<TableDef>> {
        if let Some(def) = self.table_get(tenant, table)? {
            let schema = &def.schema;
            if schema.sort.is_some() || schema.partition.kind != KeyType::S {
                return Err(Error::Invalid(format!(
                    "table '{table}' is keyed by {}: kv calls address tables keyed by one string attribute (use the DynamoDB API or integrations for this one)",
                    schema
                        .attributes()
                        .map(|a| format!("{} ({})", a.name, a.kind.as_str()))
                        .collect::<Vec<_>>()
                        .join(" and ")
                )));
            }
            return Ok(Some(def));
        }
        if !create {
            return Ok(None);
        }
        let def = TableDef {
            name: table.to_string(),
            schema: KeySchema {
                partition: KeyAttribute {
                    name: KV_KEY.into(),
                    kind: KeyType::S,
                },
                sort: None,
            },
            // The store has no clock of its own; a creation stamp is all this is.
            created: crate::clock::now(),
        };
        // Another writer may create it first: either way it exists now.
        self.table_create(tenant, &def)?;
        self.kv_table(tenant, table, false)
    }

    /// Moves items of the former kv table (before kv items were DynamoDB items) into
    /// tables, once; returns how many it moved.
    ///
    /// # Errors
    /// When the store fails.
    pub fn kv_migrate(&self) -> Result<usize> {
        let marker = Key::table(Table::Meta).text("kv-in-tables").into_bytes();
        if self.backend().get(&marker)?.is_some() {
            return Ok(0);
        }
        let prefix = Key::table(Table::Kv).into_bytes();
        let mut moved = 0;
        loop {
            let page = self.backend().scan(&prefix, None, MIGRATION_PAGE)?;
            if page.is_empty() {
                break;
            }
            for (k, v) in page {
                let mut r = Reader::new(&k);
                let (Some(tenant), Some(table), Some(key)) = (r.text(), r.text(), r.text()) else {
                    return Err(Error::Corrupt("a kv key".into()));
                };
                let tenant = TenantId(tenant);
                let old: Item = decode(&v)?;
                let mut writes = vec![Write::Delete(k.clone())];
                if let Some(def) = self.kv_table(&tenant, &table, true)? {
                    let stored = StoredItem {
                        item: dynamo_form(&def.schema.partition.name, &key, &old.value),
                        version: old.version,
                        plain: Some(old.value),
                    };
                    writes.push(Write::Put(
                        item_key(&tenant, &table, &stored_key(&key)),
                        encode(&stored)?,
                    ));
                }
                self.backend().apply(writes)?;
                moved += 1;
            }
        }
        self.backend().apply(vec![Write::Put(marker, Vec::new())])?;
        self.backend().durable()?;
        Ok(moved)
    }
}

fn stored_key(key: &str) -> StoredKey {
    StoredKey {
        partition: key.as_bytes().to_vec(),
        sort: Vec::new(),
    }
}

/// The DynamoDB form of a `kv` value: an object's fields as attributes, anything else as
/// the attribute `value` (a number out of DynamoDB's range as its text), and the key.
fn dynamo_form(partition: &str, key: &str, text: &str) -> String {
    let json: Json = serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.into()));
    let mut item = match Value::from_plain(&json) {
        Ok(Value::M(fields)) => fields,
        Ok(other) => value::Item::from([("value".to_string(), other)]),
        Err(_) => value::Item::from([("value".to_string(), Value::S(text.to_string()))]),
    };
    item.insert(partition.to_string(), Value::S(key.to_string()));
    item_to_json(&item).to_string()
}

/// What a `kv` read gives: the module's own text, or the item's fields as plain JSON
/// (without the key) when DynamoDB wrote it last.
fn kv_value(partition: &str, stored: StoredItem) -> Result<Item> {
    let value = match stored.plain {
        Some(text) => text,
        None => {
            let json: Json = serde_json::from_str(&stored.item)
                .map_err(|e| Error::Corrupt(format!("an item: {e}")))?;
            let mut item = item_from_json(&json).map_err(Error::Corrupt)?;
            item.remove(partition);
            Value::M(item).to_plain().to_string()
        }
    };
    Ok(Item {
        value,
        version: stored.version,
    })
}

impl Kv for Store {
    fn kv_get(&self, tenant: &TenantId, table: &str, key: &str) -> Result<Option<Item>> {
        let Some(def) = self.kv_table(tenant, table, false)? else {
            return Ok(None);
        };
        self.item_get(tenant, table, &stored_key(key))?
            .map(|stored| kv_value(&def.schema.partition.name, stored))
            .transpose()
    }

    fn kv_put(
        &self,
        tenant: &TenantId,
        table: &str,
        key: &str,
        value: &str,
        expect: Expect,
    ) -> Result<u64> {
        let Some(def) = self.kv_table(tenant, table, true)? else {
            return Err(Error::Backend(format!("table '{table}' vanished")));
        };
        let k = item_key(tenant, table, &stored_key(key));
        loop {
            let current = self.backend().get(&k)?;
            let version = current
                .as_deref()
                .map(decode::<StoredItem>)
                .transpose()?
                .map(|i| i.version);
            let holds = match expect {
                Expect::Any => true,
                Expect::Absent => version.is_none(),
                Expect::Version(v) => version == Some(v),
            };
            if !holds {
                return Err(Error::ConditionFailed(match version {
                    Some(v) => format!("item '{key}' is at version {v}"),
                    None => format!("item '{key}' does not exist"),
                }));
            }
            let next = version.unwrap_or(0) + 1;
            let stored = StoredItem {
                item: dynamo_form(&def.schema.partition.name, key, value),
                version: next,
                plain: Some(value.to_string()),
            };
            if self
                .backend()
                .compare_and_swap(&k, current.as_deref(), Some(encode(&stored)?))?
            {
                return Ok(next);
            }
        }
    }

    fn kv_delete(&self, tenant: &TenantId, table: &str, key: &str) -> Result<bool> {
        if self.kv_table(tenant, table, false)?.is_none() {
            return Ok(false);
        }
        let k = item_key(tenant, table, &stored_key(key));
        loop {
            let Some(current) = self.backend().get(&k)? else {
                return Ok(false);
            };
            if self.backend().compare_and_swap(&k, Some(&current), None)? {
                return Ok(true);
            }
        }
    }

    fn kv_query(
        &self,
        tenant: &TenantId,
        table: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<(String, Item)>> {
        let Some(def) = self.kv_table(tenant, table, false)? else {
            return Ok(Vec::new());
        };
        let partition = &def.schema.partition.name;
        let p = table_prefix(tenant, table).text_prefix(prefix);
        self.backend()
            .scan(&p, None, limit)?
            .into_iter()
            .map(|(k, v)| {
                let mut r = Reader::new(&k);
                let (_tenant, _table, key) = (r.text(), r.text(), r.text());
                let key = key.ok_or_else(|| Error::Corrupt("an item key".into()))?;
                Ok((key, kv_value(partition, decode(&v)?)?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tables::Tables;

    fn t(name: &str) -> TenantId {
        TenantId(name.into())
    }

    #[test]
    fn kv_conditional_puts_and_queries() {
        for s in crate::store::testing::stores() {
            let (a, b) = (t("a"), t("b"));
            assert_eq!(
                s.kv_put(&a, "inv", "sku-1", "{\"n\":5}", Expect::Absent)
                    .unwrap(),
                1
            );
            assert!(matches!(
                s.kv_put(&a, "inv", "sku-1", "{}", Expect::Absent),
                Err(Error::ConditionFailed(_))
            ));
            assert!(matches!(
                s.kv_put(&a, "inv", "sku-1", "{}", Expect::Version(7)),
                Err(Error::ConditionFailed(_))
            ));
            assert_eq!(
                s.kv_put(&a, "inv", "sku-1", "{\"n\":4}", Expect::Version(1))
                    .unwrap(),
                2
            );
            s.kv_put(&a, "inv", "sku-2", "{}", Expect::Any).unwrap();
            s.kv_put(&a, "inv", "other", "{}", Expect::Any).unwrap();
            let found = s.kv_query(&a, "inv", "sku-", 10).unwrap();
            assert_eq!(
                found.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
                ["sku-1", "sku-2"]
            );
            assert_eq!(
                s.kv_get(&b, "inv", "sku-1").unwrap(),
                None,
                "tenants do not share tables"
            );
            assert!(s.kv_query(&b, "inv", "", 10).unwrap().is_empty());
            assert!(s.kv_delete(&a, "inv", "sku-1").unwrap());
            assert!(!s.kv_delete(&a, "inv", "sku-1").unwrap());
        }
    }

    #[test]
    fn kv_items_are_dynamodb_items() {
        for s in crate::store::testing::stores() {
            let a = t("a");
            s.kv_put(
                &a,
                "orders",
                "o-1",
                "{\"total\": 12.50, \"paid\": true}",
                Expect::Any,
            )
            .unwrap();
            let stored = s
                .item_get(&a, "orders", &stored_key("o-1"))
                .unwrap()
                .unwrap();
            let item: Json = serde_json::from_str(&stored.item).unwrap();
            assert_eq!(
                item,
                serde_json::json!({"key": {"S": "o-1"}, "paid": {"BOOL": true}, "total": {"N": "12.5"}})
            );
            assert_eq!(
                s.kv_get(&a, "orders", "o-1").unwrap().unwrap().value,
                "{\"total\": 12.50, \"paid\": true}",
                "a module reads back exactly what it wrote"
            );
            // DynamoDB writes the item: the module sees its fields.
            let dynamo = "{\"key\":{\"S\":\"o-1\"},\"status\":{\"S\":\"PAID\"}}".to_string();
            s.item_swap(
                &a,
                "orders",
                &stored_key("o-1"),
                Some(1),
                Some(dynamo),
                None,
            )
            .unwrap();
            let seen = s.kv_get(&a, "orders", "o-1").unwrap().unwrap();
            assert_eq!(
                (seen.value.as_str(), seen.version),
                ("{\"status\":\"PAID\"}", 2)
            );
            s.kv_put(&a, "counts", "n", "5", Expect::Any).unwrap();
            let stored = s.item_get(&a, "counts", &stored_key("n")).unwrap().unwrap();
            assert!(
                stored.item.contains("\"value\":{\"N\":\"5\"}"),
                "{}",
                stored.item
            );
            // A table keyed otherwise is refused, clearly.
            let composite = TableDef {
                name: "events".into(),
                schema: KeySchema {
                    partition: KeyAttribute {
                        name: "user".into(),
                        kind: KeyType::S,
                    },
                    sort: Some(KeyAttribute {
                        name: "at".into(),
                        kind: KeyType::N,
                    }),
                },
                created: 0,
            };
            s.table_create(&a, &composite).unwrap();
            let e = s.kv_put(&a, "events", "x", "{}", Expect::Any).unwrap_err();
            assert!(
                matches!(&e, Error::Invalid(m) if m.contains("user (S) and at (N)")),
                "{e}"
            );
        }
    }

    #[test]
    fn the_former_kv_table_moves_into_tables_once() {
        for s in crate::store::testing::stores() {
            let a = t("a");
            let old = |table: &str, key: &str, value: &str, version: u64| {
                let k = Key::of(Table::Kv, &a).text(table).text(key).into_bytes();
                let v = encode(&Item {
                    value: value.into(),
                    version,
                })
                .unwrap();
                s.backend().apply(vec![Write::Put(k, v)]).unwrap();
            };
            old("inv", "sku-1", "{\"n\":5}", 3);
            old("inv", "sku-2", "not json", 1);
            assert_eq!(s.kv_migrate().unwrap(), 2);
            assert_eq!(s.kv_migrate().unwrap(), 0, "once");
            let item = s.kv_get(&a, "inv", "sku-1").unwrap().unwrap();
            assert_eq!((item.value.as_str(), item.version), ("{\"n\":5}", 3));
            assert_eq!(
                s.kv_get(&a, "inv", "sku-2").unwrap().unwrap().value,
                "not json"
            );
            assert_eq!(
                s.table_get(&a, "inv")
                    .unwrap()
                    .unwrap()
                    .schema
                    .partition
                    .name,
                "key"
            );
            assert!(s
                .backend()
                .scan(&Key::table(Table::Kv).into_bytes(), None, 10)
                .unwrap()
                .is_empty());
        }
    }
}
