//! SNS subscription filter policies: which published messages a subscription gets. A
//! policy names message attributes (or, with `FilterPolicyScope: MessageBody`, fields of a
//! JSON body) and, for each, the values that match; every name must match (AND), any of a
//! name's conditions may (OR), and `$or` joins whole policies. Conditions: exact strings
//! and numbers, `prefix`, `suffix`, `equals-ignore-case`, `anything-but`, `numeric`
//! ranges and `exists`, as SNS documents them. A policy is checked when it is set, with
//! SNS's limits and messages; matching never fails.

use serde_json::{Map, Value};

/// A policy too large or malformed, in SNS's words (`InvalidParameter`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid parameter: FilterPolicy: {0}")]
pub struct Invalid(pub String);

/// The most names a policy may test (SNS: 5 for attributes; bodies are counted alike).
const MAX_KEYS: usize = 5;
/// The most combinations of values a policy may describe (SNS: 150).
const MAX_COMBINATIONS: usize = 150;
/// Numbers in a policy lie within ±10^9 (SNS).
const MAX_NUMBER: f64 = 1e9;
/// How deep a body-scope policy may nest.
const MAX_DEPTH: usize = 8;

/// A checked policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy(Value);

/// What a message offers a policy: attributes (name → value: a string, a number or an
/// array of those, as `String`, `Number` and `String.Array` attributes carry them) or the
/// body's JSON.
pub type Fields = Map<String, Value>;

impl Policy {
    /// Checks `text` as a filter policy.
    ///
    /// # Errors
    /// [`Invalid`] naming what SNS would refuse.
    pub fn parse(text: &str) -> Result<Policy, Invalid> {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| Invalid(format!("failed to parse JSON. {e}")))?;
        let combinations = check(&value, 0)?;
        if combinations > MAX_COMBINATIONS {
            return Err(Invalid(format!(
                "Filter policy is too complex: {combinations} combinations, more than {MAX_COMBINATIONS}"
            )));
        }
        Ok(Policy(value))
    }

    /// Whether a message with `fields` matches.
    pub fn matches(&self, fields: &Fields) -> bool {
        matches_object(&self.0, fields)
    }
}

/// Checks a policy object; returns how many combinations of values it describes.
fn check(policy: &Value, depth: usize) -> Result<usize, Invalid> {
    let Some(object) = policy.as_object() else {
        return Err(Invalid("Filter policy must be a JSON object".into()));
    };
    if depth > MAX_DEPTH {
        return Err(Invalid("Filter policy nests too deeply".into()));
    }
    if object.is_empty() {
        return Err(Invalid("Filter policy can not be empty".into()));
    }
    let keys = object.keys().filter(|k| *k != "$or").count();
    if keys > MAX_KEYS {
        return Err(Invalid(format!(
            "Filter policy can not have more than {MAX_KEYS} keys"
        )));
    }
    let mut combinations = 1usize;
    for (key, value) in object {
        let n = match (key.as_str(), value) {
            ("$or", Value::Array(options)) if options.len() >= 2 => options
                .iter()
                .map(|o| check(o, depth + 1))
                .sum::<Result<usize, Invalid>>()?,
            ("$or", _) => {
                return Err(Invalid(
                    "\"$or\" must be an array of at least two policies".into(),
                ))
            }
            (_, Value::Object(_)) => check(value, depth + 1)?,
            (_, Value::Array(conditions)) if !conditions.is_empty() => {
                for c in conditions {
                    check_condition(key, c)?;
                }
                conditions.len()
            }
            (_, _) => return Err(Invalid(format!("\"{key}\" must be an object or an array"))),
        };
        combinations = combinations.saturating_mul(n.max(1));
    }
    Ok(combinations)
}

fn check_number(key: &str, n: &Value) -> Result<f64, Invalid> {
    match n.as_f64() {
        Some(f) if f.abs() <= MAX_NUMBER => Ok(f),
        Some(_) => Err(Invalid(format!(
            "Numeric values of \"{key}\" must be within -1.0E9 and 1.0E9"
        ))),
        None => Err(Invalid(format!("Value of \"{key}\" must be numeric"))),
    }
}

fn check_condition(key: &str, c: &Value) -> Result<(), Invalid> {
    let object = match c {
        Value::String(_) | Value::Bool(_) | Value::Null => return Ok(()),
        Value::Number(_) => return check_number(key, c).map(|_| ()),
        Value::Array(_) => {
            return Err(Invalid(format!(
                "Match value of \"{key}\" must be a string, a number or an operator object"
            )))
        }
        Value::Object(o) => o,
    };
    let mut operators = object.iter();
    let (Some((operator, operand)), None) = (operators.next(), operators.next()) else {
        return Err(Invalid(format!(
            "Operator object of \"{key}\" must have exactly one operator"
        )));
    };
    let text = || {
        operand
            .as_str()
            .filter(|s| !s.is_empty())
            .map(|_| ())
            .ok_or_else(|| {
                Invalid(format!(
                    "{operator} match pattern must be a non-empty string"
                ))
            })
    };
    match operator.as_str() {
        "prefix" | "suffix" | "equals-ignore-case" => text(),
        "exists" => match operand {
            Value::Bool(_) => Ok(()),
            _ => Err(Invalid(
                "exists match pattern must be either true or false.".into(),
            )),
        },
        "anything-but" => match operand {
            Value::String(_) => Ok(()),
            Value::Number(_) => check_number(key, operand).map(|_| ()),
            Value::Array(values) if !values.is_empty() => values.iter().try_for_each(|v| match v {
                Value::String(_) => Ok(()),
                Value::Number(_) => check_number(key, v).map(|_| ()),
                _ => Err(Invalid(
                    "anything-but list must hold strings or numbers".into(),
                )),
            }),
            Value::Object(inner) if inner.len() == 1 => match inner.iter().next() {
                Some((op, Value::String(s)))
                    if (op == "prefix" || op == "suffix") && !s.is_empty() =>
                {
                    Ok(())
                }
                _ => Err(Invalid("anything-but takes a prefix or a suffix".into())),
            },
            _ => Err(Invalid(
                "anything-but must hold a string, a number, a list or a prefix".into(),
            )),
        },
        "numeric" => {
            let Some(parts) = operand.as_array() else {
                return Err(Invalid("Value of numeric must be an array.".into()));
            };
            let pairs: Vec<&[Value]> = parts.chunks(2).collect();
            if parts.is_empty() || parts.len() % 2 != 0 || pairs.len() > 2 {
                return Err(Invalid("Bad numeric range operator".into()));
            }
            for pair in pairs {
                let (Some(Value::String(op)), Some(n)) = (pair.first(), pair.get(1)) else {
                    return Err(Invalid("Bad numeric range operator".into()));
                };
                if !["=", "<", "<=", ">", ">="].contains(&op.as_str()) {
                    return Err(Invalid(format!(
                        "Unrecognized numeric range operator: {op}"
                    )));
                }
                check_number(key, n)?;
            }
            Ok(())
        }
        "cidr" => Err(Invalid(
            "cidr match patterns are not supported by Sandstep".into(),
        )),
        other => Err(Invalid(format!("Unrecognized match type {other}"))),
    }
}

fn matches_object(policy: &Value, fields: &Fields) -> bool {
    let Some(object) = policy.as_object() else {
        return false;
    };
    object
        .iter()
        .all(|(key, conditions)| match (key.as_str(), conditions) {
            ("$or", Value::Array(options)) => options.iter().any(|o| matches_object(o, fields)),
            (_, Value::Object(_)) => match fields.get(key) {
                Some(Value::Object(inner)) => matches_object(conditions, inner),
                _ => false,
            },
            (_, Value::Array(options)) => {
                let value = fields.get(key);
                options.iter().any(|c| matches_condition(c, value))
            }
            _ => false,
        })
}

/// Whether `value` (absent: `None`; an array: any of its members) meets one condition.
fn matches_condition(c: &Value, value: Option<&Value>) -> bool {
    if let Value::Object(o) = c {
        if let Some(exists) = o.get("exists").and_then(Value::as_bool) {
            return value.is_some() == exists;
        }
        if let Some(but) = o.get("anything-but") {
            // Absent attributes do not match anything-but (SNS).
            return match value {
                Some(Value::Array(members)) => members.iter().all(|m| !excluded(but, m)),
                Some(v) => !excluded(but, v),
                None => false,
            };
        }
    }
    match value {
        Some(Value::Array(members)) => members.iter().any(|m| matches_scalar(c, m)),
        Some(v) => matches_scalar(c, v),
        None => false,
    }
}

fn number_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Whether `v` is one of what `anything-but` excludes.
fn excluded(but: &Value, v: &Value) -> bool {
    match but {
        Value::Array(values) => values.iter().any(|b| excluded(b, v)),
        Value::Object(o) => match (o.get("prefix"), o.get("suffix"), v.as_str()) {
            (Some(Value::String(p)), _, Some(s)) => s.starts_with(p.as_str()),
            (_, Some(Value::String(x)), Some(s)) => s.ends_with(x.as_str()),
            _ => false,
        },
        Value::Number(_) => number_of(v).zip(but.as_f64()).is_some_and(|(a, b)| a == b),
        other => other == v,
    }
}

fn matches_scalar(c: &Value, v: &Value) -> bool {
    match c {
        Value::String(s) => v.as_str() == Some(s.as_str()),
        Value::Number(_) => number_of(v).zip(c.as_f64()).is_some_and(|(a, b)| a == b),
        Value::Bool(_) | Value::Null => c == v,
        Value::Object(o) => {
            let Some((operator, operand)) = o.iter().next() else {
                return false;
            };
            let text = v.as_str();
            match (operator.as_str(), operand) {
                ("prefix", Value::String(p)) => text.is_some_and(|s| s.starts_with(p.as_str())),
                ("suffix", Value::String(x)) => text.is_some_and(|s| s.ends_with(x.as_str())),
                ("equals-ignore-case", Value::String(e)) => {
                    text.is_some_and(|s| s.to_lowercase() == e.to_lowercase())
                }
                ("numeric", Value::Array(parts)) => {
                    let Some(n) = number_of(v) else { return false };
                    parts.chunks(2).all(|pair| {
                        match (pair.first(), pair.get(1).and_then(Value::as_f64)) {
                            (Some(Value::String(op)), Some(bound)) => match op.as_str() {
                                "=" => n == bound,
                                "<" => n < bound,
                                "<=" => n <= bound,
                                ">" => n > bound,
                                ">=" => n >= bound,
                                _ => false,
                            },
                            _ => false,
                        }
                    })
                }
                _ => false,
            }
        }
        Value::Array(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Fields {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn policies_match_as_sns_documents() {
        let p = Policy::parse(
            r#"{"store": ["example_corp"], "event": [{"anything-but": "order_cancelled"}],
                "price_usd": [{"numeric": [">=", 100, "<", 500]}], "customer_interests": ["rugby", "football"]}"#,
        )
        .unwrap();
        let ok = fields(
            json!({"store": "example_corp", "event": "order_placed", "price_usd": 210.75,
                                "customer_interests": ["soccer", "rugby", "hockey"]}),
        );
        assert!(p.matches(&ok));
        let mut cancelled = ok.clone();
        cancelled.insert("event".into(), json!("order_cancelled"));
        assert!(!p.matches(&cancelled));
        let mut cheap = ok.clone();
        cheap.insert("price_usd".into(), json!("99"));
        assert!(!p.matches(&cheap), "Number attributes arrive as text");
        let mut missing = ok.clone();
        missing.remove("event");
        assert!(
            !p.matches(&missing),
            "anything-but does not match an absent attribute"
        );

        let or = Policy::parse(r#"{"source": ["aws.cloudwatch"], "$or": [{"metricName": ["CPUUtilization"]}, {"namespace": [{"prefix": "AWS/"}]}]}"#).unwrap();
        assert!(or.matches(&fields(
            json!({"source": "aws.cloudwatch", "namespace": "AWS/EC2"})
        )));
        assert!(!or.matches(&fields(
            json!({"source": "aws.cloudwatch", "namespace": "Custom"})
        )));
        let exists = Policy::parse(
            r#"{"tag": [{"exists": false}], "name": [{"equals-ignore-case": "ANA"}]}"#,
        )
        .unwrap();
        assert!(exists.matches(&fields(json!({"name": "ana"}))));
        assert!(!exists.matches(&fields(json!({"name": "ana", "tag": "x"}))));
        let body = Policy::parse(r#"{"order": {"status": [{"suffix": "ed"}]}}"#).unwrap();
        assert!(body.matches(&fields(json!({"order": {"status": "shipped"}}))));
    }

    #[test]
    fn bad_policies_are_refused_with_sns_s_reasons() {
        for (bad, says) in [
            ("[]", "must be a JSON object"),
            ("{}", "can not be empty"),
            (r#"{"a": "x"}"#, "must be an object or an array"),
            (r#"{"a": [{"numeric": [">", "x"]}]}"#, "must be numeric"),
            (
                r#"{"a": [{"numeric": ["~", 1]}]}"#,
                "Unrecognized numeric range operator",
            ),
            (r#"{"a": [{"frobnicate": 1}]}"#, "Unrecognized match type"),
            (r#"{"a": [1e10]}"#, "within -1.0E9 and 1.0E9"),
            (
                r#"{"a":[1],"b":[1],"c":[1],"d":[1],"e":[1],"f":[1]}"#,
                "more than 5 keys",
            ),
            (
                r#"{"a":[1,2,3,4,5,6],"b":[1,2,3,4,5,6],"c":[1,2,3,4,5]}"#,
                "too complex",
            ),
            (r#"{"$or": [{"a": [1]}]}"#, "at least two"),
            ("not json", "failed to parse JSON"),
        ] {
            let e = Policy::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("Invalid parameter: FilterPolicy: "), "{e}");
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
