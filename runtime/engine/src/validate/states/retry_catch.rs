//! Retry and Catch: their ErrorEquals lists, their numbers, and where a Catch goes.

use super::*;

/// Error names in `ErrorEquals`; `States.ALL` must stand alone, in the last rule.
pub(super) fn error_equals(c: &mut Checker, rule: &Map<String, Value>, location: &str, last: bool) {
    let Some(value) = rule.get("ErrorEquals") else {
        return;
    };
    let Some(names) = value.as_array() else {
        c.schema(location, "The field 'ErrorEquals' must be an array");
        return;
    };
    if names.is_empty() {
        c.schema(at(location, "ErrorEquals"), "Value cannot be empty");
    }
    if names.iter().any(|n| !n.is_string()) {
        c.schema(
            at(location, "ErrorEquals"),
            "The field 'ErrorEquals' must contain only strings",
        );
    }
    if names.iter().any(|n| n.as_str() == Some("States.ALL")) {
        if names.len() > 1 {
            c.schema(
                at(location, "ErrorEquals"),
                "'States.ALL' must be the only element of 'ErrorEquals'",
            );
        }
        if !last {
            c.schema(location, "A rule with 'States.ALL' must be the last one");
        }
    }
}

/// Checks that `Retry` or `Catch` is an array of objects; returns each rule with its
/// location and whether it is the last.
pub(super) fn rules<'a>(
    c: &mut Checker,
    ctx: Ctx<'a>,
    field: &str,
) -> Vec<(&'a Map<String, Value>, String, bool)> {
    let Some(value) = ctx.obj.get(field) else {
        return Vec::new();
    };
    let Some(items) = value.as_array() else {
        c.schema(
            ctx.loc(field),
            format!("The field '{field}' must be an array"),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let location = at(&ctx.loc(field), &i.to_string());
        match item {
            Value::Object(rule) => out.push((rule, location, i + 1 == items.len())),
            _ => c.schema(
                location,
                format!("Each element of '{field}' must be an object"),
            ),
        }
    }
    out
}

pub(super) fn retry(c: &mut Checker, ctx: Ctx<'_>) {
    for (rule, location, last) in rules(c, ctx, "Retry") {
        c.allowed_fields(
            rule,
            &location,
            &[
                "ErrorEquals",
                "IntervalSeconds",
                "MaxAttempts",
                "BackoffRate",
                "MaxDelaySeconds",
                "JitterStrategy",
                "Comment",
            ],
        );
        c.required_fields(rule, &location, &["ErrorEquals"]);
        error_equals(c, rule, &location, last);
        let jsonata = |v: &Value| !ctx.json_path() && fields::is_jsonata(v);
        if let Some(v) = rule.get("IntervalSeconds").filter(|v| !jsonata(v)) {
            fields::positive_int(c, v, &at(&location, "IntervalSeconds"), "IntervalSeconds");
        }
        if let Some(v) = rule.get("MaxAttempts").filter(|v| !jsonata(v)) {
            fields::non_negative_int(c, v, &at(&location, "MaxAttempts"), "MaxAttempts");
        }
        if let Some(v) = rule.get("MaxDelaySeconds").filter(|v| !jsonata(v)) {
            fields::positive_int(c, v, &at(&location, "MaxDelaySeconds"), "MaxDelaySeconds");
        }
        if let Some(v) = rule.get("BackoffRate").filter(|v| !jsonata(v)) {
            if !v.as_f64().is_some_and(|rate| rate >= 1.0) {
                c.schema(
                    at(&location, "BackoffRate"),
                    "The field 'BackoffRate' must be a number of at least 1.0",
                );
            }
        }
        if let Some(v) = rule.get("JitterStrategy") {
            if !matches!(v.as_str(), Some("FULL" | "NONE")) {
                c.schema(
                    at(&location, "JitterStrategy"),
                    "The field 'JitterStrategy' should have one of these values: [FULL, NONE]",
                );
            }
        }
    }
}

pub(super) fn catch(c: &mut Checker, ctx: Ctx<'_>, summary: &mut StateSummary) {
    for (rule, location, last) in rules(c, ctx, "Catch") {
        let allowed: &[&str] = if ctx.json_path() {
            &["ErrorEquals", "Next", "ResultPath", "Comment", "Assign"]
        } else {
            &["ErrorEquals", "Next", "Output", "Comment", "Assign"]
        };
        c.allowed_fields(rule, &location, allowed);
        c.required_fields(rule, &location, &["ErrorEquals", "Next"]);
        error_equals(c, rule, &location, last);
        match rule.get("Next") {
            Some(Value::String(target)) => {
                summary.edges.push(Edge {
                    target: target.clone(),
                    location: at(&location, "Next"),
                });
            }
            Some(_) => c.schema(at(&location, "Next"), "The field 'Next' must be a string"),
            None => {}
        }
        if ctx.json_path() {
            if let Some(value) = rule.get("ResultPath") {
                fields::path(
                    c,
                    value,
                    &at(&location, "ResultPath"),
                    "ResultPath",
                    PathKind::Result,
                );
            }
            if let Some(assign) = rule.get("Assign") {
                fields::assign(c, assign, &at(&location, "Assign"));
            }
        }
    }
}
