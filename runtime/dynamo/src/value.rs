//! DynamoDB attribute values, read from and written as DynamoDB JSON (`{"S": "x"}`,
//! `{"N": "1.5"}`, `{"M": {...}}`), and the plain-JSON view of the same item that modules'
//! `kv` calls see (`"x"`, `1.5`, `{...}`).

use super::number::Number;
use base64::Engine as _;
use serde_json::{json, Map, Value as Json};
use std::collections::BTreeMap;

/// An item: attribute name → value.
pub type Item = BTreeMap<String, Value>;

/// One attribute value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// `S`: a string.
    S(String),
    /// `N`: an exact number.
    N(Number),
    /// `B`: bytes (base64 on the wire).
    B(Vec<u8>),
    /// `BOOL`.
    Bool(bool),
    /// `NULL`.
    Null,
    /// `M`: a map.
    M(Item),
    /// `L`: a list.
    L(Vec<Value>),
    /// `SS`: a set of strings, kept sorted and unique.
    Ss(Vec<String>),
    /// `NS`: a set of numbers, kept sorted and unique.
    Ns(Vec<Number>),
    /// `BS`: a set of byte strings, kept sorted and unique.
    Bs(Vec<Vec<u8>>),
}

impl Value {
    /// The type's name as DynamoDB writes it (`S`, `N`, `M`, ...): `attribute_type`'s
    /// argument and the tag on the wire.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::S(_) => "S",
            Value::N(_) => "N",
            Value::B(_) => "B",
            Value::Bool(_) => "BOOL",
            Value::Null => "NULL",
            Value::M(_) => "M",
            Value::L(_) => "L",
            Value::Ss(_) => "SS",
            Value::Ns(_) => "NS",
            Value::Bs(_) => "BS",
        }
    }

    /// Reads DynamoDB JSON.
    ///
    /// # Errors
    /// A ValidationException message naming what is wrong.
    pub fn from_json(json: &Json) -> Result<Value, String> {
        let Some(object) = json.as_object() else {
            return Err(format!("Supplied AttributeValue is not an object: {json}"));
        };
        let mut fields = object.iter();
        let (Some((tag, inner)), None) = (fields.next(), fields.next()) else {
            return Err(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes"
                    .into(),
            );
        };
        let text = |what: &str| {
            inner
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("The {what} value must be a string: {inner}"))
        };
        let list = || {
            inner
                .as_array()
                .ok_or_else(|| format!("The {tag} value must be a list: {inner}"))
        };
        let value = match tag.as_str() {
            "S" => Value::S(text("S")?),
            "N" => Value::N(number(&text("N")?)?),
            "B" => Value::B(bytes(&text("B")?)?),
            "BOOL" => Value::Bool(
                inner
                    .as_bool()
                    .ok_or_else(|| format!("The BOOL value must be a boolean: {inner}"))?,
            ),
            "NULL" => match inner.as_bool() {
                Some(true) => Value::Null,
                _ => return Err("One or more parameter values were invalid: Null attribute value types must have the value of true".into()),
            },
            "M" => Value::M(item_from_json(inner)?),
            "L" => Value::L(list()?.iter().map(Value::from_json).collect::<Result<_, _>>()?),
            "SS" => Value::Ss(set(
                list()?
                    .iter()
                    .map(|v| v.as_str().map(str::to_string).ok_or("The SS values must be strings"))
                    .collect::<Result<_, _>>()?,
                "SS",
            )?),
            "NS" => Value::Ns(set(
                list()?
                    .iter()
                    .map(|v| v.as_str().ok_or_else(|| "The NS values must be strings".to_string()).and_then(number))
                    .collect::<Result<_, _>>()?,
                "NS",
            )?),
            "BS" => Value::Bs(set(
                list()?
                    .iter()
                    .map(|v| v.as_str().ok_or_else(|| "The BS values must be strings".to_string()).and_then(bytes))
                    .collect::<Result<_, _>>()?,
                "BS",
            )?),
            other => {
                return Err(format!(
                    "Supplied AttributeValue has an unknown datatype '{other}'"
                ))
            }
        };
        Ok(value)
    }

    /// Writes DynamoDB JSON.
    pub fn to_json(&self) -> Json {
        let b64 = |b: &[u8]| Json::String(base64::engine::general_purpose::STANDARD.encode(b));
        match self {
            Value::S(s) => json!({"S": s}),
            Value::N(n) => json!({"N": n.to_string()}),
            Value::B(b) => json!({"B": b64(b)}),
            Value::Bool(b) => json!({"BOOL": b}),
            Value::Null => json!({"NULL": true}),
            Value::M(m) => json!({"M": item_to_json(m)}),
            Value::L(l) => json!({"L": l.iter().map(Value::to_json).collect::<Vec<_>>()}),
            Value::Ss(s) => json!({"SS": s}),
            Value::Ns(s) => json!({"NS": s.iter().map(Number::to_string).collect::<Vec<_>>()}),
            Value::Bs(s) => json!({"BS": s.iter().map(|b| b64(b)).collect::<Vec<_>>()}),
        }
    }

    /// The value as plain JSON (what a module's `kv.get` sees): numbers as JSON numbers,
    /// bytes as base64 strings, sets as arrays.
    pub fn to_plain(&self) -> Json {
        let b64 = |b: &[u8]| Json::String(base64::engine::general_purpose::STANDARD.encode(b));
        let number = |n: &Number| match n.to_i64() {
            Some(i) => Json::from(i),
            None => serde_json::Number::from_f64(n.to_f64()).map_or(Json::Null, Json::Number),
        };
        match self {
            Value::S(s) => Json::String(s.clone()),
            Value::N(n) => number(n),
            Value::B(b) => b64(b),
            Value::Bool(b) => Json::Bool(*b),
            Value::Null => Json::Null,
            Value::M(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), v.to_plain())).collect()),
            Value::L(l) => Json::Array(l.iter().map(Value::to_plain).collect()),
            Value::Ss(s) => json!(s),
            Value::Ns(s) => Json::Array(s.iter().map(number).collect()),
            Value::Bs(s) => Json::Array(s.iter().map(|b| b64(b)).collect()),
        }
    }

    /// Plain JSON as a value (what a module's `kv.put` writes): strings `S`, numbers `N`,
    /// booleans `BOOL`, null `NULL`, arrays `L`, objects `M`.
    ///
    /// # Errors
    /// A message when a number is outside DynamoDB's range.
    pub fn from_plain(json: &Json) -> Result<Value, String> {
        Ok(match json {
            Json::String(s) => Value::S(s.clone()),
            Json::Number(n) => Value::N(number(&n.to_string())?),
            Json::Bool(b) => Value::Bool(*b),
            Json::Null => Value::Null,
            Json::Array(a) => Value::L(a.iter().map(Value::from_plain).collect::<Result<_, _>>()?),
            Json::Object(o) => Value::M(
                o.iter()
                    .map(|(k, v)| Ok((k.clone(), Value::from_plain(v)?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }

    /// The size DynamoDB counts for the value (its item size limit is 400 KB).
    pub fn size(&self) -> usize {
        match self {
            Value::S(s) => s.len(),
            Value::N(n) => n.to_string().len() / 2 + 1,
            Value::B(b) => b.len(),
            Value::Bool(_) | Value::Null => 1,
            Value::M(m) => 3 + m.iter().map(|(k, v)| k.len() + v.size() + 1).sum::<usize>(),
            Value::L(l) => 3 + l.iter().map(|v| v.size() + 1).sum::<usize>(),
            Value::Ss(s) => s.iter().map(String::len).sum(),
            Value::Ns(s) => s.iter().map(|n| n.to_string().len() / 2 + 1).sum(),
            Value::Bs(s) => s.iter().map(Vec::len).sum(),
        }
    }
}

/// An item's size as DynamoDB counts it: names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

/// Reads an item (or a key) in DynamoDB JSON: an object of attribute values.
///
/// # Errors
/// A ValidationException message.
pub fn item_from_json(json: &Json) -> Result<Item, String> {
    let Some(object) = json.as_object() else {
        return Err(format!("An item must be a map of attribute values: {json}"));
    };
    object
        .iter()
        .map(|(k, v)| Ok((k.clone(), Value::from_json(v)?)))
        .collect()
}

/// Writes an item in DynamoDB JSON.
pub fn item_to_json(item: &Item) -> Json {
    Json::Object(
        item.iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect::<Map<_, _>>(),
    )
}

fn number(text: &str) -> Result<Number, String> {
    Number::parse(text).map_err(|e| e.to_string())
}

fn bytes(text: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| format!("Invalid base64 binary value: {text}"))
}

/// A set as DynamoDB keeps it: non-empty, no duplicates (sorted here).
fn set<T: Ord>(mut members: Vec<T>, tag: &str) -> Result<Vec<T>, String> {
    if members.is_empty() {
        return Err(format!(
            "One or more parameter values were invalid: An {tag} may not be empty"
        ));
    }
    let before = members.len();
    members.sort();
    members.dedup();
    if members.len() != before {
        return Err(format!(
            "One or more parameter values were invalid: Input collection contains duplicates for {tag}"
        ));
    }
    Ok(members)
}

/// Builds a set value from members (sorted, deduplicated); `None` when empty, since
/// DynamoDB removes an attribute whose set becomes empty.
pub fn set_of(members: SetMembers) -> Option<Value> {
    match members {
        SetMembers::S(mut v) if !v.is_empty() => {
            v.sort();
            v.dedup();
            Some(Value::Ss(v))
        }
        SetMembers::N(mut v) if !v.is_empty() => {
            v.sort();
            v.dedup();
            Some(Value::Ns(v))
        }
        SetMembers::B(mut v) if !v.is_empty() => {
            v.sort();
            v.dedup();
            Some(Value::Bs(v))
        }
        _ => None,
    }
}

/// The members of a set, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetMembers {
    /// Strings.
    S(Vec<String>),
    /// Numbers.
    N(Vec<Number>),
    /// Byte strings.
    B(Vec<Vec<u8>>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamodb_json_round_trips() {
        let wire = json!({
            "id": {"S": "o-1"},
            "total": {"N": "12.50"},
            "paid": {"BOOL": true},
            "note": {"NULL": true},
            "raw": {"B": "aGk="},
            "lines": {"L": [{"M": {"sku": {"S": "a"}, "n": {"N": "2"}}}]},
            "tags": {"SS": ["b", "a"]},
            "sizes": {"NS": ["10", "2"]},
        });
        let item = item_from_json(&wire).unwrap();
        assert_eq!(item["total"], Value::N(Number::parse("12.5").unwrap()));
        assert_eq!(item["raw"], Value::B(b"hi".to_vec()));
        let back = item_to_json(&item);
        assert_eq!(back["total"], json!({"N": "12.5"}));
        assert_eq!(back["tags"], json!({"SS": ["a", "b"]}));
        assert_eq!(back["sizes"], json!({"NS": ["2", "10"]}));
        assert_eq!(item_from_json(&back).unwrap(), item);
        assert_eq!(
            item["lines"].to_plain(),
            json!([{"sku": "a", "n": 2}]),
            "the plain view"
        );
    }

    #[test]
    fn bad_values_say_what_is_wrong() {
        for (bad, says) in [
            (json!({"S": 1}), "must be a string"),
            (json!({"S": "a", "N": "1"}), "more than one datatypes"),
            (json!({"X": "a"}), "unknown datatype"),
            (
                json!({"N": "abc"}),
                "cannot be converted to a numeric value",
            ),
            (json!({"NULL": false}), "must have the value of true"),
            (json!({"SS": []}), "may not be empty"),
            (json!({"SS": ["a", "a"]}), "contains duplicates"),
            (json!({"B": "***"}), "base64"),
            (json!("S"), "not an object"),
        ] {
            let e = Value::from_json(&bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn plain_json_maps_to_values_and_back() {
        let plain =
            json!({"name": "x", "n": 3, "f": 1.5, "ok": false, "none": null, "l": [1, "a"]});
        let value = Value::from_plain(&plain).unwrap();
        assert_eq!(value.to_plain(), plain);
        let Value::M(m) = value else { panic!("a map") };
        assert_eq!(m["n"], Value::N(Number::parse("3").unwrap()));
    }
}
