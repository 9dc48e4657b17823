//! Values between `serde_json` (the engine's) and jsonata-core's `JValue`.
//!
//! JSONata numbers are doubles. Going in, every JSON number becomes one; coming out, a
//! double that holds an integer exactly (within ±2^53) becomes a JSON integer again, so
//! `{% $states.input.count + 1 %}` gives `2`, not `2.0`. What JSON cannot hold follows
//! `JSON.stringify`, as jsonata-js's results do: functions become `""`, an undefined
//! field is left out of its object and an undefined item is `null`.

use jsonata_core::value::JValue;
use serde_json::{Map, Number, Value};

/// The largest integer a double holds exactly.
const EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

/// A JSON value as the evaluator's.
pub fn to_jvalue(value: &Value) -> JValue {
    match value {
        Value::Null => JValue::Null,
        Value::Bool(b) => JValue::Bool(*b),
        Value::Number(n) => JValue::Number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => JValue::string(s.as_str()),
        Value::Array(items) => JValue::array(items.iter().map(to_jvalue).collect()),
        Value::Object(fields) => JValue::object(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), to_jvalue(v)))
                .collect(),
        ),
    }
}

/// An evaluator's value as JSON; `None` for undefined.
pub fn from_jvalue(value: &JValue) -> Option<Value> {
    Some(match value {
        JValue::Undefined => return None,
        JValue::Null => Value::Null,
        JValue::Bool(b) => Value::Bool(*b),
        JValue::Number(n) => number(*n),
        JValue::String(s) => Value::String(s.to_string()),
        JValue::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| from_jvalue(item).unwrap_or(Value::Null))
                .collect(),
        ),
        JValue::Object(fields) => {
            let mut out = Map::with_capacity(fields.len());
            for (k, v) in fields.iter() {
                if let Some(v) = from_jvalue(v) {
                    out.insert(k.clone(), v);
                }
            }
            Value::Object(out)
        }
        _ => Value::String(String::new()),
    })
}

/// As [`from_jvalue`], refusing (`None`) a result of more than about `max_bytes` of JSON:
/// a value may hold one long string many times over, which only a copy makes real.
/// `Some(None)` is an undefined result.
pub fn from_jvalue_within(value: &JValue, max_bytes: usize) -> Option<Option<Value>> {
    if !fits(value, max_bytes) {
        return None;
    }
    Some(from_jvalue(value))
}

/// Whether `value` takes at most `max_bytes` (strings by their length, everything else 8
/// bytes a node), counted without recursion.
fn fits(value: &JValue, max_bytes: usize) -> bool {
    let mut left = max_bytes;
    let mut pending = vec![value];
    while let Some(node) = pending.pop() {
        let cost = match node {
            JValue::String(s) => s.len().saturating_add(8),
            JValue::Array(items) => {
                pending.extend(items.iter());
                8
            }
            JValue::Object(fields) => {
                for (k, v) in fields.iter() {
                    left = match left.checked_sub(k.len()) {
                        Some(l) => l,
                        None => return false,
                    };
                    pending.push(v);
                }
                8
            }
            _ => 8,
        };
        left = match left.checked_sub(cost) {
            Some(l) => l,
            None => return false,
        };
    }
    true
}

/// A double as a JSON number: an integer when it is one exactly; `null` for NaN and the
/// infinities, as `JSON.stringify` writes them.
pub fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() <= EXACT_INTEGER {
        return Value::Number(Number::from(n as i64));
    }
    Number::from_f64(n).map_or(Value::Null, Value::Number)
}
