// The body of the `dynamo_expressions` fuzz target: DynamoDB's expression languages and
// numbers, on `sandstep-dynamo`.
//
// `runtime/dynamo/src/fuzz_regressions.rs` pulls this file in with `include!` to replay the
// regression inputs through exactly this function, so it has no inner attributes or `//!`
// docs, and it names the crate `sandstep_dynamo` (the crate aliases itself to that name).

use sandstep_dynamo::eval::{apply, holds, project};
use sandstep_dynamo::expr::{Kind, Placeholders};
use sandstep_dynamo::number::Number;
use sandstep_dynamo::value::{item_from_json, Item, Value};
use serde_json::json;
use std::collections::BTreeMap;

/// The first byte picks the language (condition, key condition, update, projection, a
/// number, an attribute value as JSON); the rest is the text. Whatever parses is evaluated
/// against a fixed item with nested maps, lists and sets.
pub fn expressions(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let item = item();
    let mut holders = Placeholders::new(Some(names()), Some(values()));
    match which % 6 {
        0 | 1 => {
            let kind = if which % 6 == 0 {
                Kind::Condition
            } else {
                Kind::KeyCondition
            };
            if let Ok(c) = holders.condition(kind, text) {
                let _ = holds(&item, &c);
                let _ = holds(&Item::new(), &c);
            }
        }
        2 => {
            if let Ok(actions) = holders.update(text) {
                if let Ok(updated) = apply(&item, &actions) {
                    let _ = apply(&updated, &actions);
                }
                let _ = apply(&Item::new(), &actions);
            }
        }
        3 => {
            if let Ok(paths) = holders.projection(text) {
                let _ = project(&item, &paths);
            }
        }
        4 => {
            if let Ok(n) = Number::parse(text) {
                let _ = n.add(&n);
                let _ = n.sub(&Number::parse("1e125").unwrap_or_else(|_| Number::zero()));
                let _ = (n.to_string(), n.to_f64(), n.to_i64());
                let _ = sandstep_dynamo::number::sortable(&n);
            }
        }
        _ => {
            if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
                if let Ok(v) = Value::from_json(&json) {
                    let _ = (v.to_json(), v.to_plain(), v.size());
                }
                if let Ok(v) = Value::from_plain(&json) {
                    let _ = v.to_json();
                }
            }
        }
    }
    let _ = holders.check_all_used();
}

fn names() -> BTreeMap<String, String> {
    [("#a", "a"), ("#m", "m"), ("#l", "l"), ("#s", "status")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn values() -> BTreeMap<String, Value> {
    let json = json!({
        ":n": {"N": "1"}, ":big": {"N": "9.9999999999999999999999999999999999999E+125"},
        ":s": {"S": "x"}, ":b": {"B": "eA=="}, ":t": {"BOOL": true}, ":null": {"NULL": true},
        ":l": {"L": [{"N": "2"}, {"S": "y"}]}, ":m": {"M": {"k": {"S": "v"}}},
        ":ss": {"SS": ["x", "z"]}, ":ns": {"NS": ["1", "-3.5"]}, ":bs": {"BS": ["eA=="]},
        ":type": {"S": "N"}
    });
    item_from_json(&json)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

fn item() -> Item {
    let json = json!({
        "a": {"N": "5"}, "status": {"S": "open"}, "b": {"B": "eHl6"},
        "m": {"M": {"deep": {"M": {"n": {"N": "-1"}}}, "list": {"L": [{"N": "1"}, {"M": {}}]}}},
        "l": {"L": [{"S": "a"}, {"L": [{"N": "0"}]}, {"NULL": true}]},
        "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["eA=="]}
    });
    item_from_json(&json).unwrap_or_default()
}
