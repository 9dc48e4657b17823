//! Reading the fields of a JSONata state: any value may be, or may hold, a `{% %}`
//! expression, parsed here once per definition.

use super::compile::{bad, obj};
use super::*;

/// Parses the expression of a `{% %}` string at `at`.
pub(super) fn query(text: &str, at: &str) -> Result<Option<Query>, Error> {
    let Some(body) = crate::jsonata::embedded(text) else {
        return Ok(None);
    };
    Query::parse(body.trim()).map(Some).map_err(|e| {
        bad(
            at,
            format!("The JSONata expression '{}' is not valid: {e}", body.trim()),
        )
    })
}

/// Compiles a JSONata payload (`Arguments`, `Output`, `Assign`, `Items`, ...): every
/// `{% %}` string inside becomes an expression; `field` is how AWS names the place in
/// its errors (`Output/result`).
pub fn template(v: &Value, field: &str, at: &str) -> Result<Template, Error> {
    Ok(match v {
        Value::String(s) => match query(s, at)? {
            Some(query) => Template::Query {
                field: field.to_string(),
                query,
            },
            None => Template::Literal(v.clone()),
        },
        Value::Object(fields) => {
            let mut out = Vec::with_capacity(fields.len());
            for (key, value) in fields {
                out.push((
                    key.clone(),
                    template(value, &format!("{field}/{key}"), &format!("{at}/{key}"))?,
                ));
            }
            Template::object_or_literal(out, v)
        }
        Value::Array(items) => {
            let out: Vec<Template> = items
                .iter()
                .enumerate()
                .map(|(i, x)| template(x, &format!("{field}[{i}]"), &format!("{at}/{i}")))
                .collect::<Result<_, _>>()?;
            Template::array_or_literal(out, v)
        }
        other => Template::Literal(other.clone()),
    })
}

/// An optional payload field of a JSONata state.
pub(super) fn field(
    f: &Map<String, Value>,
    name: &str,
    at: &str,
) -> Result<Option<Template>, Error> {
    located_field(f, name, "", at)
}

/// As [`field`] inside a Choice rule or a Catcher: `prefix` is how AWS names the place
/// (`Choices[1]/`, `Catch[0]/`).
pub(super) fn located_field(
    f: &Map<String, Value>,
    name: &str,
    prefix: &str,
    at: &str,
) -> Result<Option<Template>, Error> {
    f.get(name)
        .map(|v| template(v, &format!("{prefix}{name}"), &format!("{at}/{name}")))
        .transpose()
}

/// A number or an expression (`TimeoutSeconds`, `ToleratedFailureCount`, ...).
pub(super) fn amount(
    f: &Map<String, Value>,
    name: &str,
    at: &str,
) -> Result<Option<Amount>, Error> {
    let here = format!("{at}/{name}");
    match f.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => match query(s, &here)? {
            Some(q) => Ok(Some(Amount::Query(q))),
            None => Err(bad(&here, "must be a number or a JSONata expression")),
        },
        Some(v) => v
            .as_f64()
            .map(|n| Some(Amount::Fixed(n)))
            .ok_or_else(|| bad(&here, "must be a number or a JSONata expression")),
    }
}

/// A string or an expression (Fail's `Error` and `Cause`).
pub(super) fn text(f: &Map<String, Value>, name: &str, at: &str) -> Result<Option<Text>, Error> {
    let here = format!("{at}/{name}");
    match f.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(match query(s, &here)? {
            Some(q) => Text::Query(q),
            None => Text::Fixed(s.clone()),
        })),
        Some(_) => Err(bad(&here, "must be a string or a JSONata expression")),
    }
}

/// A Wait state's `Seconds` or `Timestamp`.
pub(super) fn wait_for(f: &Map<String, Value>, at: &str) -> Result<WaitFor, Error> {
    if let Some(v) = f.get("Seconds") {
        let here = format!("{at}/Seconds");
        if let Some(q) = v.as_str().map(|s| query(s, &here)).transpose()?.flatten() {
            return Ok(WaitFor::SecondsQuery(q));
        }
        return v.as_u64().map(WaitFor::Seconds).ok_or_else(|| {
            bad(
                &here,
                "must be a non-negative integer or a JSONata expression",
            )
        });
    }
    if let Some(v) = f.get("Timestamp") {
        let here = format!("{at}/Timestamp");
        let s = v.as_str().ok_or_else(|| bad(&here, "must be a string"))?;
        if let Some(q) = query(s, &here)? {
            return Ok(WaitFor::TimestampQuery(q));
        }
        return crate::timestamp::parse_nanos(s)
            .map(WaitFor::Timestamp)
            .ok_or_else(|| bad(&here, "not an ISO-8601 timestamp"));
    }
    Err(bad(at, "a Wait state needs Seconds or Timestamp"))
}

/// A Choice rule's `Condition`: an expression, or a literal boolean.
pub(super) fn condition(rule: &Value, at: &str) -> Result<Test, Error> {
    let fields = obj(rule, at)?;
    let here = format!("{at}/Condition");
    match fields.get("Condition") {
        Some(Value::String(s)) => query(s, &here)?
            .map(Test::Query)
            .ok_or_else(|| bad(&here, "must be a JSONata expression")),
        Some(Value::Bool(b)) => Query::parse(if *b { "true" } else { "false" })
            .map(Test::Query)
            .map_err(|e| bad(&here, e.to_string())),
        Some(_) => Err(bad(&here, "must be a JSONata expression")),
        None => Err(bad(at, "a JSONata Choice rule needs Condition")),
    }
}

/// A Map's `MaxConcurrency`: a number or an expression.
pub(super) fn concurrency(f: &Map<String, Value>, at: &str) -> Result<Concurrency, Error> {
    Ok(match amount(f, "MaxConcurrency", at)? {
        None => Concurrency::Fixed(0),
        Some(Amount::Query(q)) => Concurrency::Query(q),
        Some(Amount::Fixed(n)) if n >= 0.0 && n.fract() == 0.0 => Concurrency::Fixed(n as u64),
        Some(_) => {
            return Err(bad(
                &format!("{at}/MaxConcurrency"),
                "must be a non-negative integer",
            ))
        }
    })
}
