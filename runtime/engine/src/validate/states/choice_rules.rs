//! Choice states: their rules, comparison operators and operands, in both query languages.

use super::*;

/// The comparison operators of JSONPath Choice rules and the operand each takes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Operand {
    String,
    Number,
    Boolean,
    Timestamp,
    Path,
}

pub(super) fn operator(name: &str) -> Option<Operand> {
    if let Some(base) = name.strip_suffix("Path") {
        return operator(base)
            .filter(|_| !base.starts_with("Is"))
            .map(|_| Operand::Path);
    }
    let operand = match name {
        "StringEquals"
        | "StringLessThan"
        | "StringGreaterThan"
        | "StringLessThanEquals"
        | "StringGreaterThanEquals"
        | "StringMatches" => Operand::String,
        "NumericEquals"
        | "NumericLessThan"
        | "NumericGreaterThan"
        | "NumericLessThanEquals"
        | "NumericGreaterThanEquals" => Operand::Number,
        "BooleanEquals" | "IsNull" | "IsPresent" | "IsNumeric" | "IsString" | "IsBoolean"
        | "IsTimestamp" => Operand::Boolean,
        "TimestampEquals"
        | "TimestampLessThan"
        | "TimestampGreaterThan"
        | "TimestampLessThanEquals"
        | "TimestampGreaterThanEquals" => Operand::Timestamp,
        _ => return None,
    };
    Some(operand)
}

pub(super) fn choice(c: &mut Checker, ctx: Ctx<'_>, summary: &mut StateSummary) {
    c.required_fields(ctx.obj, ctx.location, &["Choices"]);
    if let Some(default) = ctx.obj.get("Default") {
        match default.as_str() {
            Some(target) => summary.edges.push(Edge {
                target: target.to_string(),
                location: ctx.loc("Default"),
            }),
            None => c.schema(ctx.loc("Default"), "The field 'Default' must be a string"),
        }
    }
    let Some(value) = ctx.obj.get("Choices") else {
        return;
    };
    let choices_location = ctx.loc("Choices");
    let Some(rules) = value.as_array() else {
        c.schema(choices_location, "The field 'Choices' must be an array");
        return;
    };
    if rules.is_empty() {
        c.schema(&choices_location, "Value cannot be empty");
    }
    for (i, rule) in rules.iter().enumerate() {
        let location = at(&choices_location, &i.to_string());
        if let Some(Value::String(target)) = rule.get("Next") {
            summary.edges.push(Edge {
                target: target.clone(),
                location: at(&location, "Next"),
            });
        }
        if ctx.json_path() {
            choice_rule(c, rule, &location, true);
        } else {
            jsonata_choice_rule(c, rule, &location);
        }
    }
}

pub(super) fn jsonata_choice_rule(c: &mut Checker, rule: &Value, location: &str) {
    let Value::Object(obj) = rule else {
        c.schema(location, "A Choice rule must be an object");
        return;
    };
    c.allowed_fields(
        obj,
        location,
        &["Condition", "Next", "Comment", "Assign", "Output"],
    );
    c.required_fields(obj, location, &["Condition", "Next"]);
    if let Some(next) = obj.get("Next") {
        fields::string(c, next, &at(location, "Next"), "Next");
    }
}

/// One JSONPath Choice rule: a comparison on `Variable`, or `And`/`Or`/`Not` of nested rules.
/// Only top-level rules carry `Next` (and `Assign`).
pub(super) fn choice_rule(c: &mut Checker, rule: &Value, location: &str, top: bool) {
    let Value::Object(obj) = rule else {
        c.schema(location, "A Choice rule must be an object");
        return;
    };
    let mut comparisons = 0;
    let mut combinators = 0;
    for key in obj.keys() {
        let known = match key.as_str() {
            "Variable" | "Comment" => true,
            "Next" | "Assign" => top,
            "And" | "Or" | "Not" => {
                combinators += 1;
                true
            }
            other => {
                let is_operator = operator(other).is_some();
                if is_operator {
                    comparisons += 1;
                }
                is_operator
            }
        };
        if !known {
            c.schema(location, format!("Field '{key}' is not supported"));
        }
    }
    if top {
        c.required_fields(obj, location, &["Next"]);
        if let Some(next) = obj.get("Next") {
            fields::string(c, next, &at(location, "Next"), "Next");
        }
        if let Some(assign) = obj.get("Assign") {
            fields::assign(c, assign, &at(location, "Assign"));
        }
    }
    let has_variable = obj.contains_key("Variable");
    if comparisons + combinators != 1 || (comparisons == 1) != has_variable {
        c.schema(location, "A Choice rule must have a 'Variable' with exactly one comparison operator, or exactly one of And, Or, Not");
        return;
    }
    if let Some(variable) = obj.get("Variable") {
        fields::path(
            c,
            variable,
            &at(location, "Variable"),
            "Variable",
            PathKind::Plain,
        );
    }
    for (key, value) in obj {
        let key_location = at(location, key);
        match key.as_str() {
            "And" | "Or" => match value.as_array() {
                Some(rules) if !rules.is_empty() => {
                    for (i, nested) in rules.iter().enumerate() {
                        choice_rule(c, nested, &at(&key_location, &i.to_string()), false);
                    }
                }
                Some(_) => c.schema(key_location, "Value cannot be empty"),
                None => c.schema(key_location, format!("The field '{key}' must be an array")),
            },
            "Not" => choice_rule(c, value, &key_location, false),
            other => match operator(other) {
                Some(Operand::String) if !value.is_string() => {
                    c.schema(key_location, format!("The field '{key}' must be a string"));
                }
                Some(Operand::Timestamp) if !value.as_str().is_some_and(fields::is_rfc3339) => {
                    c.schema(key_location, "String does not match RFC3339 timestamp");
                }
                Some(Operand::Number) if !value.is_number() => {
                    c.schema(key_location, format!("The field '{key}' must be a number"));
                }
                Some(Operand::Boolean) if !value.is_boolean() => {
                    c.schema(key_location, format!("The field '{key}' must be a boolean"));
                }
                Some(Operand::Path) => fields::path(c, value, &key_location, key, PathKind::Plain),
                _ => {}
            },
        }
    }
}
