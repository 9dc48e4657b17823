//! A table's key schema (a partition key and an optional sort key, each `S`, `N` or `B`),
//! the checks DynamoDB makes of keys and items against it, and the bytes an item is
//! stored under: sortable, so that a partition's items come back in sort-key order.

use super::number::sortable;
use super::value::{Item, Value};
use serde::{Deserialize, Serialize};

/// The type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyType {
    /// A string.
    S,
    /// A number.
    N,
    /// Bytes.
    B,
}

impl KeyType {
    /// `S`, `N` or `B`.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }

    /// The type named `text`.
    pub fn parse(text: &str) -> Option<KeyType> {
        [KeyType::S, KeyType::N, KeyType::B]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// One key attribute: its name and type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttribute {
    /// The attribute's name.
    pub name: String,
    /// Its type.
    pub kind: KeyType,
}

/// A table's primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySchema {
    /// The partition (hash) key.
    pub partition: KeyAttribute,
    /// The sort (range) key, if any.
    pub sort: Option<KeyAttribute>,
}

/// An item's key as stored: the partition key's sortable bytes and the sort key's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StoredKey {
    /// The partition key's bytes.
    pub partition: Vec<u8>,
    /// The sort key's bytes (empty without a sort key).
    pub sort: Vec<u8>,
}

impl KeySchema {
    /// The key attributes, partition first.
    pub fn attributes(&self) -> impl Iterator<Item = &KeyAttribute> {
        std::iter::once(&self.partition).chain(self.sort.as_ref())
    }

    /// The key of a request's `Key`: exactly the schema's attributes, of their types.
    ///
    /// # Errors
    /// DynamoDB's ValidationException message.
    pub fn key_of(&self, key: &Item) -> Result<StoredKey, String> {
        if key.len() != self.attributes().count()
            || key.keys().any(|k| !self.attributes().any(|a| &a.name == k))
        {
            return Err("The provided key element does not match the schema".into());
        }
        self.stored_key(key)
    }

    /// The key of an item to write: the schema's attributes must be there, of their types.
    ///
    /// # Errors
    /// DynamoDB's ValidationException message.
    pub fn key_of_item(&self, item: &Item) -> Result<StoredKey, String> {
        if let Some(missing) = self.attributes().find(|a| !item.contains_key(&a.name)) {
            return Err(format!(
                "One or more parameter values were invalid: Missing the key {} in the item",
                missing.name
            ));
        }
        self.stored_key(item)
    }

    /// The key attributes of `item` alone (a `Key` built from an item).
    pub fn key_attributes(&self, item: &Item) -> Item {
        self.attributes()
            .filter_map(|a| item.get(&a.name).map(|v| (a.name.clone(), v.clone())))
            .collect()
    }

    fn stored_key(&self, item: &Item) -> Result<StoredKey, String> {
        let bytes = |a: &KeyAttribute| -> Result<Vec<u8>, String> {
            let value = item
                .get(&a.name)
                .ok_or_else(|| "The provided key element does not match the schema".to_string())?;
            key_bytes(a, value)
        };
        Ok(StoredKey {
            partition: bytes(&self.partition)?,
            sort: match &self.sort {
                Some(s) => bytes(s)?,
                None => Vec::new(),
            },
        })
    }
}

/// The sortable bytes of a key attribute's value, after DynamoDB's checks.
///
/// # Errors
/// DynamoDB's ValidationException message (a type mismatch, an empty string or binary).
pub fn key_bytes(attribute: &KeyAttribute, value: &Value) -> Result<Vec<u8>, String> {
    let mismatch = || {
        format!(
            "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
            attribute.name,
            attribute.kind.as_str(),
            value.type_name()
        )
    };
    let empty = || {
        format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {} value. Key: {}",
            match attribute.kind {
                KeyType::B => "binary",
                _ => "string",
            },
            attribute.name
        )
    };
    match (attribute.kind, value) {
        (KeyType::S, Value::S(s)) if s.is_empty() => Err(empty()),
        (KeyType::S, Value::S(s)) => Ok(s.as_bytes().to_vec()),
        (KeyType::N, Value::N(n)) => Ok(sortable(n)),
        (KeyType::B, Value::B(b)) if b.is_empty() => Err(empty()),
        (KeyType::B, Value::B(b)) => Ok(b.clone()),
        _ => Err(mismatch()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::item_from_json;
    use serde_json::json;

    fn schema() -> KeySchema {
        KeySchema {
            partition: KeyAttribute {
                name: "pk".into(),
                kind: KeyType::S,
            },
            sort: Some(KeyAttribute {
                name: "n".into(),
                kind: KeyType::N,
            }),
        }
    }

    #[test]
    fn keys_are_checked_and_sort_as_their_values() {
        let s = schema();
        let key = |n: &str| {
            s.key_of(&item_from_json(&json!({"pk": {"S": "a"}, "n": {"N": n}})).unwrap())
                .unwrap()
        };
        assert!(key("-5") < key("2"));
        assert!(key("2") < key("10"));
        for (bad, says) in [
            (json!({"pk": {"S": "a"}}), "does not match the schema"),
            (
                json!({"pk": {"S": "a"}, "n": {"N": "1"}, "x": {"S": "y"}}),
                "does not match the schema",
            ),
            (
                json!({"pk": {"N": "1"}, "n": {"N": "1"}}),
                "Type mismatch for key pk expected: S actual: N",
            ),
            (
                json!({"pk": {"S": ""}, "n": {"N": "1"}}),
                "cannot contain an empty string value. Key: pk",
            ),
        ] {
            let e = s.key_of(&item_from_json(&bad).unwrap()).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        let item = item_from_json(&json!({"pk": {"S": "a"}, "other": {"S": "x"}})).unwrap();
        assert_eq!(
            s.key_of_item(&item).unwrap_err(),
            "One or more parameter values were invalid: Missing the key n in the item"
        );
    }
}
