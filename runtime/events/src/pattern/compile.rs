//! From a pattern's JSON to the alternatives matching tries: each `$or` multiplies out
//! into sets of (path, match values), checked with Ruler's messages.

use super::matcher::{AnythingBut, Cidr, Matcher, Range, Wildcard};
use super::Invalid;
use serde_json::{Map, Value};

/// One set of fields that must all match: `$or` gives several.
pub type Alternative = Vec<Field>;

/// A field of the event and the values it may match.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The field's path, its names joined with `.`.
    pub path: String,
    /// Any of these may match.
    pub matchers: Vec<Matcher>,
}

/// The most alternatives `$or`s may multiply into.
const MAX_ALTERNATIVES: usize = 1024;
/// The most `*` one wildcard may have (AWS refuses six; its exact measure is not published).
const MAX_WILDCARD_STARS: usize = 5;
/// How deeply a pattern may nest.
const MAX_DEPTH: usize = 32;

/// Names Ruler reserves, which a field inside `$or` may not have.
const RESERVED: [&str; 24] = [
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

fn invalid<T>(reason: impl Into<String>) -> Result<T, Invalid> {
    Err(Invalid(reason.into()))
}

/// The alternatives of a pattern.
pub fn compile(pattern: &Value) -> Result<Vec<Alternative>, Invalid> {
    let Some(object) = pattern.as_object() else {
        return invalid("Filter is not an object");
    };
    object_alternatives(object, "", 0)
}

fn object_alternatives(
    object: &Map<String, Value>,
    prefix: &str,
    depth: usize,
) -> Result<Vec<Alternative>, Invalid> {
    if depth > MAX_DEPTH {
        return invalid("Filter nests too deeply");
    }
    if object.is_empty() {
        return invalid("Empty objects are not allowed");
    }
    let mut alternatives: Vec<Alternative> = vec![Vec::new()];
    for (key, value) in object {
        let options = match (key.as_str(), value) {
            ("$or", Value::Array(members)) => or_alternatives(members, prefix, depth)?,
            ("$or", _) => return invalid("It must be an Array followed with $or."),
            (_, Value::Object(inner)) => object_alternatives(inner, &join(prefix, key), depth + 1)?,
            (_, Value::Array(values)) => {
                if values.is_empty() {
                    return invalid("Empty arrays are not allowed");
                }
                let matchers = values.iter().map(match_value).collect::<Result<_, _>>()?;
                vec![vec![Field {
                    path: join(prefix, key),
                    matchers,
                }]]
            }
            (_, _) => return invalid(format!("\"{key}\" must be an object or an array")),
        };
        alternatives = product(&alternatives, &options)?;
    }
    Ok(alternatives)
}

fn or_alternatives(
    members: &[Value],
    prefix: &str,
    depth: usize,
) -> Result<Vec<Alternative>, Invalid> {
    if members.len() < 2 {
        return invalid("There must have at least 2 Objects in $or relationship.");
    }
    let mut all = Vec::new();
    for member in members {
        let Some(object) = member.as_object() else {
            return invalid("Only JSON object is allowed in array of $or relationship.");
        };
        if let Some(reserved) = object.keys().find(|k| RESERVED.contains(&k.as_str())) {
            return invalid(format!(
                "{reserved} is Ruler reserved fieldName which cannot be used inside $or."
            ));
        }
        all.extend(object_alternatives(object, prefix, depth + 1)?);
        if all.len() > MAX_ALTERNATIVES {
            return too_complex();
        }
    }
    Ok(all)
}

fn too_complex<T>() -> Result<T, Invalid> {
    invalid("Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character")
}

/// Every alternative of `a` joined with every one of `b`.
fn product(a: &[Alternative], b: &[Alternative]) -> Result<Vec<Alternative>, Invalid> {
    if a.len().saturating_mul(b.len()) > MAX_ALTERNATIVES {
        return too_complex();
    }
    let mut out = Vec::with_capacity(a.len() * b.len());
    for left in a {
        for right in b {
            let mut joined = left.clone();
            for field in right {
                // The same path twice (a duplicate key, or `a.b` beside `{"a": {"b"}}`):
                // the later one wins, as in Ruler.
                joined.retain(|f| f.path != field.path);
                joined.push(field.clone());
            }
            out.push(joined);
        }
    }
    Ok(out)
}

fn join(prefix: &str, key: &str) -> String {
    match prefix.is_empty() {
        true => key.to_string(),
        false => format!("{prefix}.{key}"),
    }
}

/// One member of a field's array.
fn match_value(value: &Value) -> Result<Matcher, Invalid> {
    let object = match value {
        Value::String(s) => return Ok(Matcher::string(s)),
        Value::Number(n) => {
            return Ok(Matcher::Number(
                n.as_f64().unwrap_or(f64::NAN),
                n.to_string(),
            ))
        }
        Value::Bool(b) => return Ok(Matcher::Bool(*b)),
        Value::Null => return Ok(Matcher::Null),
        Value::Array(_) => {
            return invalid("Match value must be String, number, true, false, or null")
        }
        Value::Object(o) => o,
    };
    let mut entries = object.iter();
    let (operator, operand) = match (entries.next(), entries.next()) {
        (None, _) => return invalid("Match expression name not found"),
        (Some(first), None) => first,
        (Some(_), Some(_)) => return invalid("Only one key allowed in match expression"),
    };
    match operator.as_str() {
        "prefix" | "suffix" => affix(operator, operand),
        "equals-ignore-case" => match operand {
            Value::String(s) => Ok(Matcher::EqualsIgnoreCase(fold(s))),
            _ => invalid("equals-ignore-case match pattern must be a string"),
        },
        "wildcard" => match operand {
            Value::String(s) => Ok(Matcher::Wildcard(wildcard(s)?)),
            _ => invalid("wildcard match pattern must be a string"),
        },
        "exists" => match operand {
            Value::Bool(b) => Ok(Matcher::Exists(*b)),
            _ => invalid("exists match pattern must be either true or false."),
        },
        "numeric" => numeric(operand).map(Matcher::Numeric),
        "cidr" => match operand {
            Value::String(s) => Cidr::parse(s).map(Matcher::Cidr),
            _ => invalid("prefix match pattern must be a string"),
        },
        "anything-but" => anything_but(operand).map(Matcher::AnythingBut),
        other => invalid(format!("Unrecognized match type {other}")),
    }
}

/// `prefix` or `suffix`, plain or with `equals-ignore-case`.
fn affix(operator: &str, operand: &Value) -> Result<Matcher, Invalid> {
    let (text, ignore_case) = match operand {
        Value::String(s) => (s.clone(), false),
        Value::Object(o) if o.len() == 1 => match o.iter().next() {
            Some((inner, Value::String(s))) if inner == "equals-ignore-case" => (fold(s), true),
            Some((inner, _)) if inner == "equals-ignore-case" => {
                return invalid(format!("{operator} match pattern must be a string"))
            }
            Some((inner, _)) => return invalid(format!("Unsupported {operator} pattern: {inner}")),
            None => return invalid(format!("{operator} match pattern must be a string")),
        },
        _ => return invalid(format!("{operator} match pattern must be a string")),
    };
    Ok(match operator {
        "prefix" => Matcher::Prefix { text, ignore_case },
        _ => Matcher::Suffix { text, ignore_case },
    })
}

/// Text compared without case (Unicode lowercase).
pub fn fold(text: &str) -> String {
    text.to_lowercase()
}

fn wildcard(text: &str) -> Result<Wildcard, Invalid> {
    let parsed = Wildcard::parse(text)?;
    if parsed.stars() > MAX_WILDCARD_STARS {
        return too_complex();
    }
    Ok(parsed)
}

fn numeric(operand: &Value) -> Result<Range, Invalid> {
    let Some(terms) = operand.as_array() else {
        return invalid("Value of numeric must be an array.");
    };
    let op_at = |i: usize| -> Result<Option<&str>, Invalid> {
        match terms.get(i) {
            None => Ok(None),
            Some(Value::String(op)) if ["=", "<", "<=", ">", ">="].contains(&op.as_str()) => {
                Ok(Some(op.as_str()))
            }
            Some(Value::String(op)) => {
                invalid(format!("Unrecognized numeric range operator: {op}"))
            }
            Some(other) => invalid(format!("Invalid member in numeric match: {other}")),
        }
    };
    let value_at = |i: usize, op: &str| -> Result<f64, Invalid> {
        match terms.get(i).and_then(Value::as_f64) {
            Some(n) => Ok(n),
            None => invalid(format!("Value of {op} must be numeric")),
        }
    };
    let Some(first) = op_at(0)? else {
        return invalid("Invalid member in numeric match: ]");
    };
    let first_value = value_at(1, first)?;
    let mut range = Range::unbounded();
    match first {
        "=" => range = Range::exactly(first_value),
        "<" | "<=" => range.set_top(first_value, first == "<="),
        _ => range.set_bottom(first_value, first == ">="),
    }
    match op_at(2)? {
        None => Ok(range),
        Some(second) => {
            if !matches!(first, ">" | ">=") {
                return invalid("Too many elements in numeric expression");
            }
            if !matches!(second, "<" | "<=") {
                return invalid(format!("Bad numeric range operator: {second}"));
            }
            let top = value_at(3, second)?;
            if terms.len() > 4 {
                return invalid("Too many terms in numeric range expression");
            }
            if first_value >= top {
                return invalid("Bottom must be less than top");
            }
            range.set_top(top, second == "<=");
            Ok(range)
        }
    }
}

fn anything_but(operand: &Value) -> Result<AnythingBut, Invalid> {
    let not_value =
        || invalid("Value of anything-but must be an array or single string/number value.");
    match operand {
        Value::String(s) => Ok(AnythingBut::Strings(vec![s.clone()])),
        Value::Number(n) => Ok(AnythingBut::Numbers(vec![n.as_f64().unwrap_or(f64::NAN)])),
        Value::Array(values) => {
            if values.iter().any(|v| !(v.is_string() || v.is_number())) {
                return invalid("Inside anything but list, start|null|boolean is not supported.");
            }
            let strings: Vec<String> = values
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect();
            let numbers: Vec<f64> = values.iter().filter_map(Value::as_f64).collect();
            match (strings.is_empty(), numbers.is_empty()) {
                (false, true) => Ok(AnythingBut::Strings(strings)),
                (true, false) => Ok(AnythingBut::Numbers(numbers)),
                _ => invalid("Inside anything but list, either all values are number or string, mixed type is not supported"),
            }
        }
        Value::Object(o) if o.len() == 1 => {
            let Some((inner, value)) = o.iter().next() else {
                return not_value();
            };
            let texts = |what: &str| -> Result<Vec<String>, Invalid> {
                let list: Vec<&Value> =
                    match value {
                        Value::Array(items) if !items.is_empty() => items.iter().collect(),
                        Value::Object(_) => return Err(Invalid(
                            "Value of anything-but must be an array or single string/number value."
                                .into(),
                        )),
                        other => vec![other],
                    };
                list.into_iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| Invalid(what.to_string()))
                    })
                    .collect()
            };
            match inner.as_str() {
                "prefix" | "suffix" => {
                    let list = texts("prefix/suffix match pattern must be a string")?;
                    if list.iter().any(String::is_empty) {
                        return invalid("Null prefix/suffix not allowed");
                    }
                    Ok(match inner.as_str() {
                        "prefix" => AnythingBut::Prefixes(list),
                        _ => AnythingBut::Suffixes(list),
                    })
                }
                "wildcard" => {
                    let list = texts("wildcard match pattern must be a string")?;
                    list.iter()
                        .map(|w| wildcard(w))
                        .collect::<Result<_, _>>()
                        .map(AnythingBut::Wildcards)
                }
                "equals-ignore-case" => {
                    let list = texts("Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported.")?;
                    Ok(AnythingBut::EqualsIgnoreCase(
                        list.iter().map(|s| fold(s)).collect(),
                    ))
                }
                other => invalid(format!("Unsupported anything-but pattern: {other}")),
            }
        }
        _ => not_value(),
    }
}
