//! DynamoDB's operations on a tenant's tables, with DynamoDB's request and response
//! shapes (JSON 1.0): what the DynamoDB API answers and what the `dynamodb:` Task
//! integrations return, from one implementation. Conditional writes re-read and
//! re-evaluate when another writer got in between, so a condition always holds against
//! the item it replaces.

use super::eval::{apply, holds, project};
use super::expr::{Action, Condition, Kind, Path, Placeholders};
use super::key::{KeyAttribute, KeySchema, KeyType, StoredKey};
use super::value::{item_from_json, item_size, item_to_json, Item, Value};
use crate::store::tables::{Change, EffectOf, StoredItem, Swap, TableDef, Tables};
use crate::store::TenantId;
use sandstep_engine::Millis;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;

/// An operation's failure, named as DynamoDB names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The request is malformed.
    #[error("{0}")]
    Validation(String),
    /// The table does not exist.
    #[error("{0}")]
    ResourceNotFound(String),
    /// The table exists already.
    #[error("{0}")]
    ResourceInUse(String),
    /// A `ConditionExpression` did not hold.
    #[error("The conditional request failed")]
    ConditionalCheckFailed,
    /// A transaction's condition did not hold: the message names the reasons, item by item.
    #[error("{0}")]
    TransactionCanceled(String),
    /// An action Sandstep's DynamoDB does not offer (yet).
    #[error("{0}")]
    Unsupported(String),
    /// The store cannot be reached for now (a database away): the caller may retry.
    #[error("{0}")]
    Unavailable(String),
    /// The store failed.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// The exception's name (`ValidationException`, ...): the API's `__type` and, after
    /// `DynamoDB.`, the integration's error name.
    pub fn name(&self) -> &'static str {
        match self {
            Error::Validation(_) => "ValidationException",
            Error::ResourceNotFound(_) => "ResourceNotFoundException",
            Error::ResourceInUse(_) => "ResourceInUseException",
            Error::ConditionalCheckFailed => "ConditionalCheckFailedException",
            Error::TransactionCanceled(_) => "TransactionCanceledException",
            Error::Unsupported(_) => "UnknownOperationException",
            Error::Unavailable(_) => "ServiceUnavailable",
            Error::Internal(_) => "InternalServerError",
        }
    }
}

impl From<crate::store::Error> for Error {
    fn from(e: crate::store::Error) -> Error {
        match e {
            crate::store::Error::Unavailable(why) => Error::Unavailable(why),
            other => Error::Internal(other.to_string()),
        }
    }
}

type Result<T> = std::result::Result<T, Error>;

/// The largest item DynamoDB stores, in bytes.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;
/// How much a Query or Scan reads before it answers with a `LastEvaluatedKey`.
const PAGE_BYTES: usize = 1024 * 1024;
/// Writes retried when other writers keep changing the item.
const MAX_SWAPS: usize = 64;

/// The tables of one tenant, as one caller sees them.
pub struct Tenant<'a> {
    /// Where the tables are.
    pub store: &'a dyn Tables,
    /// Whose tables.
    pub tenant: &'a TenantId,
    /// For ARNs.
    pub region: &'a str,
    /// For ARNs.
    pub account: &'a str,
    /// Now (epoch ms), for creation times.
    pub now: Millis,
    /// The workflow task the call is made for, if it is one: its answer is stored with
    /// its write.
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
    /// Runs the operation `action` (`PutItem`, `getItem`: either case) on `request`.
    ///
    /// # Errors
    /// The operation's [`Error`]; `Validation` for an action Sandstep does not offer.
    pub fn call(&self, action: &str, request: &Json) -> Result<Json> {
        let r = Request(request);
        r.refuse_unsupported()?;
        match action.to_ascii_lowercase().as_str() {
            "createtable" => self.create_table(&r),
            "describetable" => self.describe_table(&r),
            "listtables" => self.list_tables(&r),
            "deletetable" => self.delete_table(&r),
            "putitem" => self.put_item(&r),
            "getitem" => self.get_item(&r),
            "updateitem" => self.update_item(&r),
            "deleteitem" => self.delete_item(&r),
            "batchgetitem" => self.batch_get(&r),
            "batchwriteitem" => self.batch_write(&r),
            "transactwriteitems" => self.transact_write(&r),
            "query" => self.query(&r, true),
            "scan" => self.query(&r, false),
            _ => Err(Error::Unsupported(format!(
                "{action} is not supported by Sandstep's DynamoDB yet (see the README's list of unsupported features)"
            ))),
        }
    }

    fn table(&self, name: &str) -> Result<TableDef> {
        self.store
            .table_get(self.tenant, name)?
            .ok_or_else(|| Error::ResourceNotFound("Requested resource not found".into()))
    }

    fn describe(&self, def: &TableDef) -> Result<Json> {
        let mut schema =
            vec![json!({"AttributeName": def.schema.partition.name, "KeyType": "HASH"})];
        let mut attributes = vec![
            json!({"AttributeName": def.schema.partition.name, "AttributeType": def.schema.partition.kind.as_str()}),
        ];
        if let Some(sort) = &def.schema.sort {
            schema.push(json!({"AttributeName": sort.name, "KeyType": "RANGE"}));
            attributes
                .push(json!({"AttributeName": sort.name, "AttributeType": sort.kind.as_str()}));
        }
        let (count, bytes) = self
            .store
            .items(self.tenant, &def.name, None, None, usize::MAX)?
            .iter()
            .fold((0u64, 0u64), |(n, b), i| (n + 1, b + i.item.len() as u64));
        Ok(json!({
            "TableName": def.name,
            "TableArn": format!("arn:aws:dynamodb:{}:{}:table/{}", self.region, self.account, def.name),
            "TableId": format!("{:032x}", def.created),
            "TableStatus": "ACTIVE",
            "KeySchema": schema,
            "AttributeDefinitions": attributes,
            "CreationDateTime": def.created as f64 / 1000.0,
            "ItemCount": count,
            "TableSizeBytes": bytes,
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
            "ProvisionedThroughput": {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
        }))
    }

    fn create_table(&self, r: &Request<'_>) -> Result<Json> {
        let name = r.table_name()?;
        let types: BTreeMap<String, KeyType> = r
            .array("AttributeDefinitions")?
            .iter()
            .map(|d| {
                let name = d["AttributeName"].as_str().unwrap_or_default().to_string();
                let kind = d["AttributeType"].as_str().and_then(KeyType::parse).ok_or_else(|| {
                    Error::Validation(format!("1 validation error detected: Value '{}' at 'attributeDefinitions.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]", d["AttributeType"]))
                })?;
                Ok((name, kind))
            })
            .collect::<Result<_>>()?;
        let mut hash = None;
        let mut range = None;
        for k in r.array("KeySchema")? {
            let attribute = k["AttributeName"].as_str().unwrap_or_default();
            let kind = *types.get(attribute).ok_or_else(|| Error::Validation(format!(
                "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{attribute}], AttributeDefinitions: [{}]",
                types.keys().cloned().collect::<Vec<_>>().join(", ")
            )))?;
            let a = KeyAttribute {
                name: attribute.to_string(),
                kind,
            };
            match k["KeyType"].as_str() {
                Some("HASH") if hash.is_none() => hash = Some(a),
                Some("RANGE") if range.is_none() => range = Some(a),
                _ => {
                    return Err(Error::Validation(
                        "Invalid KeySchema: Some index key attribute have no definition".into(),
                    ))
                }
            }
        }
        let Some(partition) = hash else {
            return Err(Error::Validation(
                "Invalid KeySchema: The first KeySchemaElement is not a HASH key type".into(),
            ));
        };
        if types.len() != 1 + usize::from(range.is_some()) {
            return Err(Error::Validation("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions".into()));
        }
        let def = TableDef {
            name: name.to_string(),
            schema: KeySchema {
                partition,
                sort: range,
            },
            created: self.now,
        };
        if !self.store.table_create(self.tenant, &def)? {
            return Err(Error::ResourceInUse(format!(
                "Table already exists: {name}"
            )));
        }
        Ok(json!({"TableDescription": self.describe(&def)?}))
    }

    fn describe_table(&self, r: &Request<'_>) -> Result<Json> {
        let name = r.table_name()?;
        let def = self.store.table_get(self.tenant, name)?.ok_or_else(|| {
            Error::ResourceNotFound(format!(
                "Requested resource not found: Table: {name} not found"
            ))
        })?;
        Ok(json!({"Table": self.describe(&def)?}))
    }

    fn list_tables(&self, r: &Request<'_>) -> Result<Json> {
        let limit = r.limit()?.unwrap_or(100).min(100);
        let after = r.0.get("ExclusiveStartTableName").and_then(Json::as_str);
        let page = self.store.table_list(self.tenant, after, limit + 1)?;
        let names: Vec<&str> = page.iter().take(limit).map(|t| t.name.as_str()).collect();
        let mut out = json!({"TableNames": names});
        if page.len() > limit {
            if let Some(last) = names.last() {
                set(&mut out, "LastEvaluatedTableName", json!(last));
            }
        }
        Ok(out)
    }

    fn delete_table(&self, r: &Request<'_>) -> Result<Json> {
        let def = self.table(r.table_name()?)?;
        let mut description = self.describe(&def)?;
        self.store.table_delete(self.tenant, &def.name)?;
        set(&mut description, "TableStatus", json!("DELETING"));
        Ok(json!({"TableDescription": description}))
    }

    fn get_item(&self, r: &Request<'_>) -> Result<Json> {
        let def = self.table(r.table_name()?)?;
        let key = def
            .schema
            .key_of(&r.item("Key")?)
            .map_err(Error::Validation)?;
        let mut holders = r.placeholders()?;
        let projection = r.projection(&mut holders)?;
        holders.check_all_used().map_err(Error::Validation)?;
        let found = self.store.item_get(self.tenant, &def.name, &key)?;
        Ok(match found {
            Some(stored) => {
                let item = decode(&stored)?;
                let item = match &projection {
                    Some(paths) => project(&item, paths),
                    None => item,
                };
                json!({"Item": item_to_json(&item)})
            }
            None => json!({}),
        })
    }

    fn put_item(&self, r: &Request<'_>) -> Result<Json> {
        let def = self.table(r.table_name()?)?;
        let item = r.item("Item")?;
        let key = def.schema.key_of_item(&item).map_err(Error::Validation)?;
        check_size(&item)?;
        let returns = r.returns(&["NONE", "ALL_OLD"])?;
        let mut holders = r.placeholders()?;
        let condition = r.condition(&mut holders)?;
        holders.check_all_used().map_err(Error::Validation)?;
        self.write(
            &def,
            &key,
            condition.as_ref(),
            |_| Ok(Some(item.clone())),
            |old, _| attributes(returns, old, None),
        )
    }

    fn delete_item(&self, r: &Request<'_>) -> Result<Json> {
        let def = self.table(r.table_name()?)?;
        let key = def
            .schema
            .key_of(&r.item("Key")?)
            .map_err(Error::Validation)?;
        let returns = r.returns(&["NONE", "ALL_OLD"])?;
        let mut holders = r.placeholders()?;
        let condition = r.condition(&mut holders)?;
        holders.check_all_used().map_err(Error::Validation)?;
        self.write(
            &def,
            &key,
            condition.as_ref(),
            |_| Ok(None),
            |old, _| attributes(returns, old, None),
        )
    }

    fn update_item(&self, r: &Request<'_>) -> Result<Json> {
        let def = self.table(r.table_name()?)?;
        let key_item = r.item("Key")?;
        let key = def.schema.key_of(&key_item).map_err(Error::Validation)?;
        let returns = r.returns(&["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"])?;
        let mut holders = r.placeholders()?;
        let actions = match r.0.get("UpdateExpression").and_then(Json::as_str) {
            Some(text) => holders.update(text).map_err(Error::Validation)?,
            None => Vec::new(),
        };
        let condition = r.condition(&mut holders)?;
        holders.check_all_used().map_err(Error::Validation)?;
        let touched: Vec<&str> = actions
            .iter()
            .filter_map(|a| match a {
                super::expr::Action::Set(p, _)
                | super::expr::Action::Remove(p)
                | super::expr::Action::Add(p, _)
                | super::expr::Action::Delete(p, _) => match p.first() {
                    Some(super::expr::Step::Key(k)) => Some(k.as_str()),
                    _ => None,
                },
            })
            .collect();
        self.write(
            &def,
            &key,
            condition.as_ref(),
            |old| updated(&def, &key_item, &actions, old).map(Some),
            |old, new| attributes(returns, old, new.map(|n| (n, touched.as_slice()))),
        )
    }

    /// Reads the item, checks `condition` on it, writes what `change` makes of it (`None`
    /// deletes), and does it again if another writer changed the item in between. The
    /// answer, made of the item before and after, is stored with the write when the call
    /// is a workflow task's (so that the task, run again, answers it without writing).
    fn write(
        &self,
        def: &TableDef,
        key: &StoredKey,
        condition: Option<&Condition>,
        mut change: impl FnMut(Option<&Item>) -> Result<Option<Item>>,
        answer: impl Fn(Option<&Item>, Option<&Item>) -> Json,
    ) -> Result<Json> {
        for _ in 0..MAX_SWAPS {
            let stored = self.store.item_get(self.tenant, &def.name, key)?;
            let old = stored.as_ref().map(decode).transpose()?;
            if let Some(c) = condition {
                let empty = Item::new();
                if !holds(old.as_ref().unwrap_or(&empty), c).map_err(Error::Validation)? {
                    return Err(Error::ConditionalCheckFailed);
                }
            }
            let new = change(old.as_ref())?;
            let answered = answer(old.as_ref(), new.as_ref());
            let text = new.as_ref().map(|i| item_to_json(i).to_string());
            if stored.is_none() && text.is_none() {
                return Ok(answered);
            }
            let version = stored.as_ref().map(|s| s.version);
            let effect = self.effect.map(|of| (of, answered.to_string()));
            if self
                .store
                .item_swap(self.tenant, &def.name, key, version, text, effect)?
                .is_some()
            {
                return Ok(answered);
            }
        }
        Err(Error::Internal(
            "the item kept changing under concurrent writes; try again".into(),
        ))
    }

    /// Query (`partitioned`) or Scan: items in key order, filtered, projected, paged.
    fn query(&self, r: &Request<'_>, partitioned: bool) -> Result<Json> {
        let def = self.table(r.table_name()?)?;
        let mut holders = r.placeholders()?;
        let key_condition = match partitioned {
            true => {
                let text = r.0.get("KeyConditionExpression").and_then(Json::as_str).ok_or_else(|| {
                    Error::Validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.".into())
                })?;
                Some(
                    holders
                        .condition(Kind::KeyCondition, text)
                        .map_err(Error::Validation)?,
                )
            }
            false => None,
        };
        let filter = match r.0.get("FilterExpression").and_then(Json::as_str) {
            Some(text) => Some(
                holders
                    .condition(Kind::Filter, text)
                    .map_err(Error::Validation)?,
            ),
            None => None,
        };
        let projection = r.projection(&mut holders)?;
        holders.check_all_used().map_err(Error::Validation)?;
        let count_only = match r.0.get("Select").and_then(Json::as_str) {
            None | Some("ALL_ATTRIBUTES") => false,
            Some("SPECIFIC_ATTRIBUTES") if projection.is_some() => false,
            Some("COUNT") if projection.is_none() => true,
            Some(other) => {
                return Err(Error::Validation(format!(
                    "Select {other} is not valid here (Sandstep's tables have no indexes; SPECIFIC_ATTRIBUTES needs a ProjectionExpression, COUNT none)"
                )))
            }
        };
        let partition = match &key_condition {
            Some(c) => Some(partition_of(&def.schema, c)?),
            None => None,
        };
        let forward =
            r.0.get("ScanIndexForward")
                .and_then(Json::as_bool)
                .unwrap_or(true);
        let limit = r.limit()?;
        let start = match r.0.get("ExclusiveStartKey") {
            Some(k) => Some(
                def.schema
                    .key_of(&item_from_json(k).map_err(Error::Validation)?)
                    .map_err(Error::Validation)?,
            ),
            None => None,
        };
        // Everything of the partition (or table) in key order; reversed for a backwards
        // Query. Pages stop at `Limit` items read or 1 MB.
        let mut all: Vec<Item> = self
            .store
            .items(
                self.tenant,
                &def.name,
                partition.as_deref(),
                None,
                usize::MAX,
            )?
            .iter()
            .map(decode)
            .collect::<Result<_>>()?;
        if !forward {
            all.reverse();
        }
        if let Some(start) = &start {
            let at = all
                .iter()
                .position(|i| def.schema.key_of_item(i).ok().as_ref() == Some(start));
            all = match at {
                Some(at) => all.split_off(at + 1),
                None => all
                    .into_iter()
                    .filter(|i| {
                        let k = def.schema.key_of_item(i).ok();
                        match forward {
                            true => k.as_ref() > Some(start),
                            false => k.as_ref() < Some(start),
                        }
                    })
                    .collect(),
            };
        }
        let (mut items, mut scanned, mut bytes, mut last) = (Vec::new(), 0usize, 0usize, None);
        let mut more = false;
        for item in all {
            // The key condition selects the range read: items outside it are not read,
            // so they count toward neither `Limit` nor `ScannedCount`.
            if let Some(c) = &key_condition {
                if !holds(&item, c).map_err(Error::Validation)? {
                    continue;
                }
            }
            if limit.is_some_and(|l| scanned >= l) || bytes >= PAGE_BYTES {
                more = true;
                break;
            }
            scanned += 1;
            bytes += item_size(&item);
            last = Some(def.schema.key_attributes(&item));
            let kept = match &filter {
                Some(f) => holds(&item, f).map_err(Error::Validation)?,
                None => true,
            };
            if kept {
                items.push(match &projection {
                    Some(paths) => project(&item, paths),
                    None => item,
                });
            }
        }
        let mut out = json!({"Count": items.len(), "ScannedCount": scanned});
        if !count_only {
            set(
                &mut out,
                "Items",
                Json::Array(items.iter().map(item_to_json).collect()),
            );
        }
        if more {
            if let Some(last) = last {
                set(&mut out, "LastEvaluatedKey", item_to_json(&last));
            }
        }
        Ok(out)
    }
}

/// The item `actions` make of `old` (or, when absent, of its key alone).
fn updated(
    def: &TableDef,
    key_item: &Item,
    actions: &[Action],
    old: Option<&Item>,
) -> Result<Item> {
    let base = old.cloned().unwrap_or_else(|| key_item.clone());
    let new = apply(&base, actions)
        .map_err(|e| Error::Validation(format!("Invalid UpdateExpression: {e}")))?;
    if let Some(changed) = def
        .schema
        .attributes()
        .find(|a| new.get(&a.name) != base.get(&a.name))
    {
        return Err(Error::Validation(format!(
            "One or more parameter values were invalid: Cannot update attribute {}. This attribute is part of the key",
            changed.name
        )));
    }
    check_size(&new)?;
    Ok(new)
}

/// The most items of one BatchGetItem, BatchWriteItem and TransactWriteItems.
const MAX_BATCH_GET: usize = 100;
const MAX_BATCH_WRITE: usize = 25;
const MAX_TRANSACT: usize = 100;

/// One item of a TransactWriteItems or BatchWriteItem, parsed.
struct Op {
    def: TableDef,
    key: StoredKey,
    key_item: Item,
    kind: OpKind,
    condition: Option<Condition>,
}

enum OpKind {
    Put(Item),
    Update(Vec<Action>),
    Delete,
    Check,
}

impl Tenant<'_> {
    fn batch_get(&self, r: &Request<'_>) -> Result<Json> {
        let tables = r.object("RequestItems")?;
        let total: usize = tables
            .values()
            .map(|t| t.get("Keys").and_then(Json::as_array).map_or(0, Vec::len))
            .sum();
        if total > MAX_BATCH_GET {
            return Err(Error::Validation(
                "Too many items requested for the BatchGetItem call".into(),
            ));
        }
        let mut responses = serde_json::Map::new();
        for (name, spec) in tables {
            let def = self.table(name)?;
            let sub = Request(spec);
            let mut holders = sub.placeholders()?;
            let projection = sub.projection(&mut holders)?;
            holders.check_all_used().map_err(Error::Validation)?;
            let mut seen = std::collections::BTreeSet::new();
            let mut found = Vec::new();
            for k in sub.array("Keys")? {
                let key = def
                    .schema
                    .key_of(&item_from_json(k).map_err(Error::Validation)?)
                    .map_err(Error::Validation)?;
                if !seen.insert(key.clone()) {
                    return Err(Error::Validation(
                        "Provided list of item keys contains duplicates".into(),
                    ));
                }
                if let Some(stored) = self.store.item_get(self.tenant, &def.name, &key)? {
                    let item = decode(&stored)?;
                    let item = match &projection {
                        Some(paths) => project(&item, paths),
                        None => item,
                    };
                    found.push(item_to_json(&item));
                }
            }
            responses.insert(name.clone(), Json::Array(found));
        }
        Ok(json!({"Responses": responses, "UnprocessedKeys": {}}))
    }

    fn batch_write(&self, r: &Request<'_>) -> Result<Json> {
        let tables = r.object("RequestItems")?;
        let mut ops = Vec::new();
        for (name, requests) in tables {
            let def = self.table(name)?;
            let Some(requests) = requests.as_array() else {
                return Err(Error::Validation(format!(
                    "The requests for table {name} must be a list"
                )));
            };
            for request in requests {
                let (kind, key_item) = match (request.get("PutRequest"), request.get("DeleteRequest")) {
                    (Some(put), None) => {
                        let item = Request(put).item("Item")?;
                        check_size(&item)?;
                        (OpKind::Put(item.clone()), item)
                    }
                    (None, Some(delete)) => (OpKind::Delete, Request(delete).item("Key")?),
                    _ => return Err(Error::Validation("Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes: each request is a PutRequest or a DeleteRequest".into())),
                };
                let key = match &kind {
                    OpKind::Put(item) => def.schema.key_of_item(item),
                    _ => def.schema.key_of(&key_item),
                }
                .map_err(Error::Validation)?;
                ops.push(Op {
                    def: def.clone(),
                    key,
                    key_item,
                    kind,
                    condition: None,
                });
            }
        }
        if ops.is_empty() || ops.len() > MAX_BATCH_WRITE {
            return Err(Error::Validation(format!(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to {MAX_BATCH_WRITE}, Member must have length greater than or equal to 1]"
            )));
        }
        self.swap_all(
            &ops,
            "Provided list of item keys contains duplicates",
            json!({"UnprocessedItems": {}}),
        )
    }

    fn transact_write(&self, r: &Request<'_>) -> Result<Json> {
        let items = r.array("TransactItems")?;
        if items.is_empty() || items.len() > MAX_TRANSACT {
            return Err(Error::Validation(format!(
                "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to {MAX_TRANSACT} and greater than or equal to 1"
            )));
        }
        let mut ops = Vec::with_capacity(items.len());
        for entry in items {
            let Some((verb, spec)) = entry.as_object().and_then(|o| {
                let mut it = o.iter();
                match (it.next(), it.next()) {
                    (Some(one), None) => Some(one),
                    _ => None,
                }
            }) else {
                return Err(Error::Validation(
                    "TransactItems can only contain one of Check, Put, Update or Delete".into(),
                ));
            };
            let sub = Request(spec);
            sub.refuse_unsupported()?;
            let def = self.table(sub.table_name()?)?;
            let mut holders = sub.placeholders()?;
            let (kind, key_item) = match verb.as_str() {
                "Put" => {
                    let item = sub.item("Item")?;
                    check_size(&item)?;
                    (OpKind::Put(item.clone()), item)
                }
                "Update" => {
                    let text = sub.0.get("UpdateExpression").and_then(Json::as_str).ok_or_else(|| {
                        Error::Validation("1 validation error detected: Value null at 'transactItems.member.update.updateExpression' failed to satisfy constraint: Member must not be null".into())
                    })?;
                    (
                        OpKind::Update(holders.update(text).map_err(Error::Validation)?),
                        sub.item("Key")?,
                    )
                }
                "Delete" => (OpKind::Delete, sub.item("Key")?),
                "ConditionCheck" => (OpKind::Check, sub.item("Key")?),
                other => {
                    return Err(Error::Validation(format!(
                        "Unknown TransactItems member: {other}"
                    )))
                }
            };
            let condition = sub.condition(&mut holders)?;
            if matches!(kind, OpKind::Check) && condition.is_none() {
                return Err(Error::Validation("1 validation error detected: Value null at 'transactItems.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null".into()));
            }
            holders.check_all_used().map_err(Error::Validation)?;
            let key = match &kind {
                OpKind::Put(item) => def.schema.key_of_item(item),
                _ => def.schema.key_of(&key_item),
            }
            .map_err(Error::Validation)?;
            ops.push(Op {
                def,
                key,
                key_item,
                kind,
                condition,
            });
        }
        self.swap_all(
            &ops,
            "Transaction request cannot include multiple operations on one item",
            json!({}),
        )
    }

    /// Reads every item of `ops`, checks their conditions (all of them: a failure cancels
    /// the whole), and writes them in one atomic batch; again if another writer got in.
    fn swap_all(&self, ops: &[Op], duplicate: &str, answer: Json) -> Result<Json> {
        let mut seen = std::collections::BTreeSet::new();
        if ops
            .iter()
            .any(|op| !seen.insert((op.def.name.as_str(), &op.key)))
        {
            return Err(Error::Validation(duplicate.into()));
        }
        for _ in 0..MAX_SWAPS {
            let mut swaps = Vec::with_capacity(ops.len());
            let mut reasons = Vec::with_capacity(ops.len());
            for op in ops {
                let stored = self.store.item_get(self.tenant, &op.def.name, &op.key)?;
                let old = stored.as_ref().map(decode).transpose()?;
                let holds_now = match &op.condition {
                    Some(c) => {
                        holds(old.as_ref().unwrap_or(&Item::new()), c).map_err(Error::Validation)?
                    }
                    None => true,
                };
                reasons.push(if holds_now {
                    "None"
                } else {
                    "ConditionalCheckFailed"
                });
                let change = match &op.kind {
                    OpKind::Put(item) => Change::Put(item_to_json(item).to_string()),
                    OpKind::Update(actions) => Change::Put(
                        item_to_json(&updated(&op.def, &op.key_item, actions, old.as_ref())?)
                            .to_string(),
                    ),
                    OpKind::Delete => Change::Delete,
                    OpKind::Check => Change::Keep,
                };
                swaps.push(Swap {
                    table: op.def.name.clone(),
                    key: op.key.clone(),
                    version: stored.map(|s| s.version),
                    change,
                });
            }
            if reasons.iter().any(|r| *r != "None") {
                return Err(Error::TransactionCanceled(format!(
                    "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
                    reasons.join(", ")
                )));
            }
            let effect = self.effect.map(|of| (of, answer.to_string()));
            if self.store.items_swap(self.tenant, &swaps, effect)? {
                return Ok(answer);
            }
        }
        Err(Error::Internal(
            "the items kept changing under concurrent writes; try again".into(),
        ))
    }
}

/// The partition a `KeyConditionExpression` names: `pk = :v`, alone or ANDed with one
/// condition on the sort key.
fn partition_of(schema: &KeySchema, c: &Condition) -> Result<Vec<u8>> {
    use super::expr::{Comparator, Operand, Step};
    let is_partition = |p: &Path| p.as_slice() == [Step::Key(schema.partition.name.clone())];
    let equality = |c: &Condition| match c {
        Condition::Compare(Operand::Path(p), Comparator::Eq, Operand::Value(v))
        | Condition::Compare(Operand::Value(v), Comparator::Eq, Operand::Path(p))
            if is_partition(p) =>
        {
            Some(v.clone())
        }
        _ => None,
    };
    let value = match c {
        Condition::And(a, b) => equality(a).or_else(|| equality(b)),
        other => equality(other),
    };
    let Some(value) = value else {
        return Err(Error::Validation(
            "Query condition missed key schema element: ".to_string() + &schema.partition.name,
        ));
    };
    super::key::key_bytes(&schema.partition, &value).map_err(Error::Validation)
}

/// Sets a field of a JSON object (answers are built as objects).
fn set(object: &mut Json, field: &str, value: Json) {
    if let Some(o) = object.as_object_mut() {
        o.insert(field.to_string(), value);
    }
}

fn decode(stored: &StoredItem) -> Result<Item> {
    let json: Json = serde_json::from_str(&stored.item)
        .map_err(|e| Error::Internal(format!("a stored item is corrupt: {e}")))?;
    item_from_json(&json).map_err(Error::Internal)
}

fn check_size(item: &Item) -> Result<()> {
    match item_size(item) > MAX_ITEM_BYTES {
        true => Err(Error::Validation(
            "Item size has exceeded the maximum allowed size".into(),
        )),
        false => Ok(()),
    }
}

/// The `Attributes` a write answers with, per `ReturnValues`.
fn attributes(returns: &str, old: Option<&Item>, new: Option<(&Item, &[&str])>) -> Json {
    let only = |item: &Item, names: &[&str]| -> Item {
        item.iter()
            .filter(|(k, _)| names.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let chosen = match (returns, new) {
        ("ALL_OLD", _) => old.cloned(),
        ("UPDATED_OLD", Some((_, names))) => old.map(|o| only(o, names)),
        ("ALL_NEW", Some((n, _))) => Some(n.clone()),
        ("UPDATED_NEW", Some((n, names))) => Some(only(n, names)),
        _ => None,
    };
    match chosen {
        Some(item) if !item.is_empty() => json!({"Attributes": item_to_json(&item)}),
        _ => json!({}),
    }
}

/// A request's fields, read with DynamoDB's messages.
struct Request<'a>(&'a Json);

/// Parameters of the legacy API (before expressions) and of features Sandstep's tables
/// do not have: refused, never ignored.
const UNSUPPORTED: [&str; 9] = [
    "Expected",
    "KeyConditions",
    "AttributesToGet",
    "QueryFilter",
    "ScanFilter",
    "AttributeUpdates",
    "ConditionalOperator",
    "Segment",
    "TotalSegments",
];

impl Request<'_> {
    fn refuse_unsupported(&self) -> Result<()> {
        if let Some(index) = self.0.get("IndexName").and_then(Json::as_str) {
            return Err(Error::Validation(format!(
                "The table does not have the specified index: {index}"
            )));
        }
        match UNSUPPORTED.iter().find(|p| self.0.get(**p).is_some()) {
            Some(p) => Err(Error::Validation(format!(
                "{p} is not supported by Sandstep's DynamoDB: use the expression parameters (ConditionExpression, KeyConditionExpression, FilterExpression, ProjectionExpression, UpdateExpression)"
            ))),
            None => Ok(()),
        }
    }

    fn table_name(&self) -> Result<&str> {
        match self.0.get("TableName").and_then(Json::as_str) {
            Some(n) if (3..=255).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b)) => Ok(n),
            Some(n) => Err(Error::Validation(format!("1 validation error detected: Value '{n}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+ and have length between 3 and 255"))),
            None => Err(Error::Validation("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null".into())),
        }
    }

    fn object(&self, field: &str) -> Result<&serde_json::Map<String, Json>> {
        self.0.get(field).and_then(Json::as_object).ok_or_else(|| {
            Error::Validation(format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(field)))
        })
    }

    fn array(&self, field: &str) -> Result<&Vec<Json>> {
        self.0.get(field).and_then(Json::as_array).ok_or_else(|| {
            Error::Validation(format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(field)))
        })
    }

    fn item(&self, field: &str) -> Result<Item> {
        let json = self.0.get(field).ok_or_else(|| {
            Error::Validation(format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(field)))
        })?;
        item_from_json(json).map_err(Error::Validation)
    }

    fn limit(&self) -> Result<Option<usize>> {
        match self.0.get("Limit") {
            None => Ok(None),
            Some(l) => match l.as_u64() {
                Some(n) if n >= 1 => Ok(Some(usize::try_from(n).unwrap_or(usize::MAX))),
                _ => Err(Error::Validation(format!("1 validation error detected: Value '{l}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"))),
            },
        }
    }

    fn returns(&self, allowed: &[&str]) -> Result<&'static str> {
        let asked = self
            .0
            .get("ReturnValues")
            .and_then(Json::as_str)
            .unwrap_or("NONE");
        ["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"]
            .into_iter()
            .find(|r| *r == asked && allowed.contains(r))
            .ok_or_else(|| {
                Error::Validation(format!(
                    "ReturnValues can only be {} on this operation; ReturnValues: {asked}",
                    allowed.join(" or ")
                ))
            })
    }

    fn placeholders(&self) -> Result<Placeholders> {
        Ok(Placeholders::new(self.names()?, self.values()?))
    }

    fn names(&self) -> Result<Option<BTreeMap<String, String>>> {
        match self.0.get("ExpressionAttributeNames") {
            None => Ok(None),
            Some(Json::Object(m)) => m
                .iter()
                .map(|(k, v)| match v.as_str() {
                    Some(s) => Ok((k.clone(), s.to_string())),
                    None => Err(Error::Validation(format!(
                        "ExpressionAttributeNames contains invalid value for key {k}"
                    ))),
                })
                .collect::<Result<_>>()
                .map(Some),
            Some(_) => Err(Error::Validation(
                "ExpressionAttributeNames must be a map".into(),
            )),
        }
    }

    fn values(&self) -> Result<Option<BTreeMap<String, Value>>> {
        match self.0.get("ExpressionAttributeValues") {
            None => Ok(None),
            Some(v) => Ok(Some(
                item_from_json(v)
                    .map_err(|e| {
                        Error::Validation(format!(
                            "ExpressionAttributeValues contains invalid value: {e}"
                        ))
                    })?
                    .into_iter()
                    .collect(),
            )),
        }
    }

    fn condition(&self, holders: &mut Placeholders) -> Result<Option<Condition>> {
        match self.0.get("ConditionExpression").and_then(Json::as_str) {
            Some(text) => Ok(Some(
                holders
                    .condition(Kind::Condition, text)
                    .map_err(Error::Validation)?,
            )),
            None => Ok(None),
        }
    }

    fn projection(&self, holders: &mut Placeholders) -> Result<Option<Vec<Path>>> {
        match self.0.get("ProjectionExpression").and_then(Json::as_str) {
            Some(text) => Ok(Some(holders.projection(text).map_err(Error::Validation)?)),
            None => Ok(None),
        }
    }
}

fn lower_first(field: &str) -> String {
    let mut c = field.chars();
    match c.next() {
        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn call(store: &Store, action: &str, request: Json) -> Result<Json> {
        let tenant = TenantId("t".into());
        let t = Tenant {
            store,
            tenant: &tenant,
            region: "us-east-1",
            account: "000000000000",
            now: 1_700_000_000_000,
            effect: None,
        };
        t.call(action, &request)
    }

    fn orders(store: &Store) {
        let created = call(
            store,
            "CreateTable",
            json!({"TableName": "orders",
                   "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "n", "AttributeType": "N"}],
                   "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "n", "KeyType": "RANGE"}]}),
        )
        .unwrap();
        assert_eq!(
            created["TableDescription"]["TableArn"],
            "arn:aws:dynamodb:us-east-1:000000000000:table/orders"
        );
    }

    #[test]
    fn tables_are_created_described_listed_and_deleted() {
        let s = Store::memory();
        orders(&s);
        let again = call(
            &s,
            "CreateTable",
            json!({"TableName": "orders", "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}], "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}),
        );
        assert_eq!(
            again,
            Err(Error::ResourceInUse("Table already exists: orders".into()))
        );
        let d = call(&s, "DescribeTable", json!({"TableName": "orders"})).unwrap();
        assert_eq!(
            d["Table"]["KeySchema"][1],
            json!({"AttributeName": "n", "KeyType": "RANGE"})
        );
        assert_eq!(
            call(&s, "ListTables", json!({})).unwrap(),
            json!({"TableNames": ["orders"]})
        );
        assert_eq!(
            call(&s, "DescribeTable", json!({"TableName": "nope"}))
                .unwrap_err()
                .name(),
            "ResourceNotFoundException"
        );
        assert_eq!(
            call(&s, "GetItem", json!({"TableName": "x", "Key": {}}))
                .unwrap_err()
                .name(),
            "ValidationException",
            "a name shorter than 3"
        );
        call(&s, "DeleteTable", json!({"TableName": "orders"})).unwrap();
        assert_eq!(
            call(&s, "ListTables", json!({})).unwrap(),
            json!({"TableNames": []})
        );
    }

    #[test]
    fn items_are_written_conditionally_and_updated() {
        let s = Store::memory();
        orders(&s);
        let key = json!({"pk": {"S": "a"}, "n": {"N": "1"}});
        let put = json!({"TableName": "orders", "Item": {"pk": {"S": "a"}, "n": {"N": "1"}, "stock": {"N": "2"}},
                         "ConditionExpression": "attribute_not_exists(pk)"});
        assert_eq!(call(&s, "PutItem", put.clone()).unwrap(), json!({}));
        assert_eq!(call(&s, "PutItem", put), Err(Error::ConditionalCheckFailed));
        let take = json!({"TableName": "orders", "Key": key, "UpdateExpression": "SET stock = stock - :one",
                          "ConditionExpression": "stock >= :one", "ExpressionAttributeValues": {":one": {"N": "1"}},
                          "ReturnValues": "UPDATED_NEW"});
        assert_eq!(
            call(&s, "UpdateItem", take.clone()).unwrap(),
            json!({"Attributes": {"stock": {"N": "1"}}})
        );
        call(&s, "UpdateItem", take.clone()).unwrap();
        assert_eq!(
            call(&s, "UpdateItem", take),
            Err(Error::ConditionalCheckFailed),
            "out of stock"
        );
        let got = call(
            &s,
            "GetItem",
            json!({"TableName": "orders", "Key": key, "ProjectionExpression": "stock"}),
        )
        .unwrap();
        assert_eq!(got, json!({"Item": {"stock": {"N": "0"}}}));
        let bad = call(
            &s,
            "UpdateItem",
            json!({"TableName": "orders", "Key": key, "UpdateExpression": "SET pk = :v", "ExpressionAttributeValues": {":v": {"S": "b"}}}),
        );
        assert!(bad.unwrap_err().to_string().contains("part of the key"));
        let unused = call(
            &s,
            "GetItem",
            json!({"TableName": "orders", "Key": key, "ExpressionAttributeNames": {"#x": "x"}}),
        );
        assert!(unused
            .unwrap_err()
            .to_string()
            .contains("unused in expressions"));
        let old = call(
            &s,
            "DeleteItem",
            json!({"TableName": "orders", "Key": key, "ReturnValues": "ALL_OLD"}),
        )
        .unwrap();
        assert_eq!(old["Attributes"]["stock"], json!({"N": "0"}));
        assert_eq!(
            call(&s, "GetItem", json!({"TableName": "orders", "Key": key})).unwrap(),
            json!({})
        );
        let wrong = call(
            &s,
            "GetItem",
            json!({"TableName": "orders", "Key": {"pk": {"S": "a"}}}),
        );
        assert_eq!(
            wrong.unwrap_err().to_string(),
            "The provided key element does not match the schema"
        );
    }

    #[test]
    fn concurrent_conditional_writes_take_turns() {
        let s = Store::memory();
        orders(&s);
        let key = json!({"pk": {"S": "sku"}, "n": {"N": "0"}});
        call(&s, "PutItem", json!({"TableName": "orders", "Item": {"pk": {"S": "sku"}, "n": {"N": "0"}, "stock": {"N": "50"}}})).unwrap();
        let take = json!({"TableName": "orders", "Key": key, "UpdateExpression": "SET stock = stock - :one",
                          "ConditionExpression": "stock >= :one", "ExpressionAttributeValues": {":one": {"N": "1"}}});
        let won = std::sync::atomic::AtomicU64::new(0);
        std::thread::scope(|scope| {
            for _ in 0..8 {
                scope.spawn(|| {
                    for _ in 0..10 {
                        if call(&s, "UpdateItem", take.clone()).is_ok() {
                            won.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                });
            }
        });
        assert_eq!(won.into_inner(), 50, "80 tries, 50 in stock: never more");
        let got = call(&s, "GetItem", json!({"TableName": "orders", "Key": key})).unwrap();
        assert_eq!(got["Item"]["stock"], json!({"N": "0"}));
    }

    #[test]
    fn queries_read_a_partition_in_order_and_page() {
        let s = Store::memory();
        orders(&s);
        for (pk, n) in [("a", "10"), ("a", "2"), ("a", "-1"), ("b", "5"), ("a", "7")] {
            call(&s, "PutItem", json!({"TableName": "orders", "Item": {"pk": {"S": pk}, "n": {"N": n}, "even": {"BOOL": n.parse::<i32>().unwrap() % 2 == 0}}})).unwrap();
        }
        let q = |extra: Json| {
            let mut r = json!({"TableName": "orders", "KeyConditionExpression": "pk = :a AND n BETWEEN :lo AND :hi",
                               "ExpressionAttributeValues": {":a": {"S": "a"}, ":lo": {"N": "0"}, ":hi": {"N": "100"}}});
            r.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            call(&s, "Query", r).unwrap()
        };
        let ns = |out: &Json| {
            out["Items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["n"]["N"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ns(&q(json!({}))), ["2", "7", "10"]);
        assert_eq!(ns(&q(json!({"ScanIndexForward": false}))), ["10", "7", "2"]);
        let first = q(json!({"Limit": 2}));
        assert_eq!(ns(&first), ["2", "7"]);
        let next = q(json!({"Limit": 2, "ExclusiveStartKey": first["LastEvaluatedKey"]}));
        assert_eq!(ns(&next), ["10"]);
        let filtered = q(
            json!({"FilterExpression": "even = :t", "ExpressionAttributeValues": {":a": {"S": "a"}, ":lo": {"N": "0"}, ":hi": {"N": "100"}, ":t": {"BOOL": true}}}),
        );
        assert_eq!(
            (filtered["Count"].clone(), filtered["ScannedCount"].clone()),
            (json!(2), json!(3))
        );
        let scan = call(&s, "Scan", json!({"TableName": "orders"})).unwrap();
        assert_eq!(scan["Count"], 5);
        let missing = call(
            &s,
            "Query",
            json!({"TableName": "orders", "KeyConditionExpression": "n = :a", "ExpressionAttributeValues": {":a": {"N": "1"}}}),
        );
        assert!(missing
            .unwrap_err()
            .to_string()
            .contains("missed key schema element: pk"));
    }

    #[test]
    fn batches_and_transactions() {
        let s = Store::memory();
        orders(&s);
        let put = |pk: &str, n: &str| json!({"PutRequest": {"Item": {"pk": {"S": pk}, "n": {"N": n}, "stock": {"N": "1"}}}});
        let written = call(
            &s,
            "BatchWriteItem",
            json!({"RequestItems": {"orders": [put("a", "1"), put("a", "2"), put("b", "1")]}}),
        )
        .unwrap();
        assert_eq!(written, json!({"UnprocessedItems": {}}));
        let twice = call(
            &s,
            "BatchWriteItem",
            json!({"RequestItems": {"orders": [put("a", "1"), put("a", "1")]}}),
        );
        assert!(twice.unwrap_err().to_string().contains("duplicates"));
        let got = call(
            &s,
            "BatchGetItem",
            json!({"RequestItems": {"orders": {
            "Keys": [{"pk": {"S": "a"}, "n": {"N": "1"}}, {"pk": {"S": "zz"}, "n": {"N": "1"}}],
            "ProjectionExpression": "n"}}}),
        )
        .unwrap();
        assert_eq!(got["Responses"]["orders"], json!([{"n": {"N": "1"}}]));

        // Take one of each: both or neither.
        let take = |pk: &str| {
            json!({"Update": {"TableName": "orders", "Key": {"pk": {"S": pk}, "n": {"N": "1"}},
            "UpdateExpression": "SET stock = stock - :one", "ConditionExpression": "stock >= :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}}}})
        };
        assert_eq!(
            call(
                &s,
                "TransactWriteItems",
                json!({"TransactItems": [take("a"), take("b")]})
            )
            .unwrap(),
            json!({})
        );
        call(&s, "PutItem", json!({"TableName": "orders", "Item": {"pk": {"S": "a"}, "n": {"N": "1"}, "stock": {"N": "1"}}})).unwrap();
        let e = call(
            &s,
            "TransactWriteItems",
            json!({"TransactItems": [take("a"), take("b")]}),
        )
        .unwrap_err();
        assert_eq!(e.name(), "TransactionCanceledException");
        assert!(
            e.to_string().ends_with("[None, ConditionalCheckFailed]"),
            "{e}"
        );
        let a = call(
            &s,
            "GetItem",
            json!({"TableName": "orders", "Key": {"pk": {"S": "a"}, "n": {"N": "1"}}}),
        )
        .unwrap();
        assert_eq!(
            a["Item"]["stock"],
            json!({"N": "1"}),
            "a was not taken: the transaction did nothing"
        );
        let same = call(
            &s,
            "TransactWriteItems",
            json!({"TransactItems": [take("a"), take("a")]}),
        )
        .unwrap_err();
        assert!(same.to_string().contains("multiple operations on one item"));
        let check = json!({"TransactItems": [
            {"ConditionCheck": {"TableName": "orders", "Key": {"pk": {"S": "b"}, "n": {"N": "1"}}, "ConditionExpression": "stock = :zero", "ExpressionAttributeValues": {":zero": {"N": "0"}}}},
            {"Delete": {"TableName": "orders", "Key": {"pk": {"S": "a"}, "n": {"N": "2"}}}}
        ]});
        call(&s, "TransactWriteItems", check).unwrap();
        let left = call(&s, "Scan", json!({"TableName": "orders"})).unwrap();
        assert_eq!(left["Count"], 2);
        let legacy = call(
            &s,
            "PutItem",
            json!({"TableName": "orders", "Item": {}, "Expected": {}}),
        );
        assert!(legacy
            .unwrap_err()
            .to_string()
            .contains("Expected is not supported"));
    }
}
