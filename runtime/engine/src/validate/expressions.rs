//! The `{% %}` expressions of a JSONata state: each must parse, and none may read a
//! field of (or `$`, the) context at its top level, which Step Functions does not
//! provide. Unknown variables and functions are accepted, as AWS accepts them: they
//! fail at run time.

use super::{at, Checker, INVALID_JSONATA_EXPRESSION, UNSUPPORTED_JSONATA_EXPRESSION};
use crate::jsonata::{embedded, Query};
use serde_json::{Map, Value};

/// Fields holding nested machines, whose states are checked on their own.
const NESTED: &[&str] = &["Branches", "ItemProcessor", "Iterator"];

/// Checks every expression in a JSONata state's fields.
pub(super) fn check(c: &mut Checker, state: &Map<String, Value>, location: &str) {
    for (key, value) in state {
        if !NESTED.contains(&key.as_str()) {
            walk(c, value, &at(location, key));
        }
    }
}

fn walk(c: &mut Checker, value: &Value, location: &str) {
    match value {
        Value::String(text) => {
            if let Some(body) = embedded(text) {
                expression(c, body.trim(), location);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(c, item, &at(location, &i.to_string()));
            }
        }
        Value::Object(fields) => {
            for (key, item) in fields {
                walk(c, item, &at(location, key));
            }
        }
        _ => {}
    }
}

fn expression(c: &mut Checker, source: &str, location: &str) {
    match Query::parse(source) {
        // AWS prints the parser's message without its code.
        Err(e) => c.report(INVALID_JSONATA_EXPRESSION, location, e.message),
        Ok(query) => {
            for name in query.top_level_references() {
                c.report(
                    UNSUPPORTED_JSONATA_EXPRESSION,
                    location,
                    format!("Reference to '{name}' at the top level is not supported."),
                );
            }
        }
    }
}
