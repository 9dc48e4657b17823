//! Per-state rules: which fields each state type allows in each query language, their
//! values, mutual exclusions, Retry/Catch, Choice rules and the nested machines of
//! Parallel and Map.

use super::fields::{self, PathKind};
use super::{
    at, Checker, Edge, MachineType, QueryLanguage, Scope, StateSummary, INVALID_LABEL_NAME,
};
use serde_json::{Map, Value};

const TYPES: &str = "[Task, Wait, Pass, Succeed, Fail, Choice, Parallel, Map]";

/// Fields every state has.
const COMMON: &[&str] = &["Type", "Comment", "QueryLanguage"];

/// The fields of one state type: in both languages, and in each one only.
struct Fields {
    both: &'static [&'static str],
    json_path: &'static [&'static str],
    jsonata: &'static [&'static str],
}

fn fields_of(state_type: &str) -> Option<Fields> {
    let fields = match state_type {
        "Pass" => Fields {
            both: &["Next", "End", "Assign"],
            json_path: &[
                "InputPath",
                "OutputPath",
                "ResultPath",
                "Parameters",
                "Result",
            ],
            jsonata: &["Output"],
        },
        "Task" => Fields {
            both: &[
                "Next",
                "End",
                "Assign",
                "Resource",
                "Retry",
                "Catch",
                "TimeoutSeconds",
                "HeartbeatSeconds",
                "Credentials",
            ],
            json_path: &[
                "InputPath",
                "OutputPath",
                "ResultPath",
                "Parameters",
                "ResultSelector",
                "TimeoutSecondsPath",
                "HeartbeatSecondsPath",
            ],
            jsonata: &["Arguments", "Output"],
        },
        "Choice" => Fields {
            both: &["Choices", "Default", "Assign"],
            json_path: &["InputPath", "OutputPath"],
            jsonata: &["Output"],
        },
        "Wait" => Fields {
            both: &["Next", "End", "Assign", "Seconds", "Timestamp"],
            json_path: &["InputPath", "OutputPath", "SecondsPath", "TimestampPath"],
            jsonata: &["Output"],
        },
        "Succeed" => Fields {
            both: &[],
            json_path: &["InputPath", "OutputPath"],
            jsonata: &["Output"],
        },
        "Fail" => Fields {
            both: &["Error", "Cause"],
            json_path: &["ErrorPath", "CausePath"],
            jsonata: &[],
        },
        "Parallel" => Fields {
            both: &["Next", "End", "Assign", "Branches", "Retry", "Catch"],
            json_path: &[
                "InputPath",
                "OutputPath",
                "ResultPath",
                "Parameters",
                "ResultSelector",
            ],
            jsonata: &["Arguments", "Output"],
        },
        "Map" => Fields {
            both: &[
                "Next",
                "End",
                "Assign",
                "Retry",
                "Catch",
                "Iterator",
                "ItemProcessor",
                "ItemReader",
                "ItemSelector",
                "ItemBatcher",
                "ResultWriter",
                "MaxConcurrency",
                "ToleratedFailurePercentage",
                "ToleratedFailureCount",
                "Label",
            ],
            json_path: &[
                "InputPath",
                "OutputPath",
                "ResultPath",
                "Parameters",
                "ResultSelector",
                "ItemsPath",
                "MaxConcurrencyPath",
                "ToleratedFailurePercentagePath",
                "ToleratedFailureCountPath",
            ],
            jsonata: &["Items", "Output"],
        },
        _ => return None,
    };
    Some(fields)
}

/// What a state may hold and how to read it; passed down through one state's checks.
#[derive(Clone, Copy)]
struct Ctx<'a> {
    obj: &'a Map<String, Value>,
    location: &'a str,
    language: QueryLanguage,
}

impl Ctx<'_> {
    fn loc(&self, key: &str) -> String {
        at(self.location, key)
    }
    fn json_path(&self) -> bool {
        self.language == QueryLanguage::JsonPath
    }
}

/// Checks one state and returns its transitions and whether it ends its scope.
///
/// AWS refuses a state that goes back to JSONPath when the whole machine chose JSONata, but
/// not inside a state that chose JSONata on its own.
pub(super) fn state(
    c: &mut Checker,
    value: &Value,
    location: &str,
    inherited: QueryLanguage,
) -> StateSummary {
    let mut summary = StateSummary::default();
    let Value::Object(obj) = value else {
        c.schema(location, "A state must be an object");
        return summary;
    };
    let mut language = inherited;
    if let Some(ql) = obj.get("QueryLanguage") {
        if let Some(chosen) = c.query_language(ql, at(location, "QueryLanguage")) {
            if chosen == QueryLanguage::JsonPath && c.machine_language == QueryLanguage::Jsonata {
                c.schema(location, "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine");
            }
            language = chosen;
        }
    }
    // Whatever else is wrong, an End makes the state terminal for the graph checks, so one
    // schema error does not also produce a MISSING_END_STATE.
    summary.terminal = obj.get("End") == Some(&Value::Bool(true));
    let Some(type_value) = obj.get("Type") else {
        c.schema(location, "These fields are required: [Type]");
        return summary;
    };
    let Some(state_type) = type_value.as_str() else {
        c.schema(
            at(location, "Type"),
            format!("The field 'Type' should have one of these values: {TYPES}"),
        );
        return summary;
    };
    let Some(allowed) = fields_of(state_type) else {
        c.schema(
            at(location, "Type"),
            format!("The field 'Type' should have one of these values: {TYPES}"),
        );
        return summary;
    };
    let own = match language {
        QueryLanguage::JsonPath => allowed.json_path,
        QueryLanguage::Jsonata => allowed.jsonata,
    };
    let all: Vec<&str> = COMMON
        .iter()
        .chain(allowed.both)
        .chain(own)
        .copied()
        .collect();
    c.allowed_fields(obj, location, &all);

    let ctx = Ctx {
        obj,
        location,
        language,
    };
    if let Some(comment) = obj.get("Comment") {
        fields::string(c, comment, &ctx.loc("Comment"), "Comment");
    }
    if matches!(state_type, "Succeed" | "Fail") {
        summary.terminal = true;
    } else if state_type != "Choice" {
        next_or_end(c, ctx, &mut summary);
    }
    io_fields(c, ctx);
    match state_type {
        "Task" => task(c, ctx),
        "Wait" => wait(c, ctx),
        "Fail" => fail(c, ctx),
        "Choice" => choice(c, ctx, &mut summary),
        "Parallel" => parallel(c, ctx),
        "Map" => map(c, ctx),
        _ => {}
    }
    if matches!(state_type, "Task" | "Parallel" | "Map") {
        retry(c, ctx);
        catch(c, ctx, &mut summary);
    }
    summary
}

/// Every non-terminal type but Choice needs exactly one of `Next` and `End: true`.
fn next_or_end(c: &mut Checker, ctx: Ctx<'_>, summary: &mut StateSummary) {
    let next = ctx.obj.get("Next");
    let end = ctx.obj.get("End");
    if let Some(end) = end {
        fields::boolean(c, end, &ctx.loc("End"), "End");
    }
    if let Some(next) = next {
        if let Some(target) = next.as_str() {
            summary.edges.push(Edge {
                target: target.to_string(),
                location: ctx.loc("Next"),
            });
        } else {
            c.schema(ctx.loc("Next"), "The field 'Next' must be a string");
        }
    }
    let ends = end == Some(&Value::Bool(true));
    match (next.is_some(), ends) {
        (true, true) => c.schema(
            ctx.location,
            "Only one of these fields may be present: [Next, End]",
        ),
        (false, false) => c.schema(ctx.location, "These fields are required: [Next | End]"),
        _ => {}
    }
}

/// Reports each group of fields of which at most one may be present.
fn exclusive(c: &mut Checker, obj: &Map<String, Value>, location: &str, groups: &[&[&str]]) {
    for group in groups {
        let present: Vec<&str> = group
            .iter()
            .copied()
            .filter(|k| obj.contains_key(*k))
            .collect();
        if present.len() > 1 {
            c.schema(
                location,
                format!(
                    "Only one of these fields may be present: [{}]",
                    present.join(", ")
                ),
            );
        }
    }
}

/// The input/output processing fields shared by most types.
fn io_fields(c: &mut Checker, ctx: Ctx<'_>) {
    if ctx.json_path() {
        for (field, kind) in [
            ("InputPath", PathKind::Nullable),
            ("OutputPath", PathKind::Nullable),
            ("ResultPath", PathKind::Result),
        ] {
            if let Some(value) = ctx.obj.get(field) {
                fields::path(c, value, &ctx.loc(field), field, kind);
            }
        }
        for field in ["Parameters", "ResultSelector"] {
            if let Some(value) = ctx.obj.get(field) {
                fields::template(c, value, &ctx.loc(field));
            }
        }
        if let Some(assign) = ctx.obj.get("Assign") {
            fields::assign(c, assign, &ctx.loc("Assign"));
        }
    } else if let Some(assign) = ctx.obj.get("Assign") {
        if !assign.is_object() {
            c.schema(ctx.loc("Assign"), "The field 'Assign' must be an object");
        }
    }
}

/// A numeric field: in JSONata states a `{% %}` expression may stand in for the number.
fn number_field(
    c: &mut Checker,
    ctx: Ctx<'_>,
    field: &str,
    check: fn(&mut Checker, &Value, &str, &str) -> Option<i64>,
) -> Option<i64> {
    let value = ctx.obj.get(field)?;
    if !ctx.json_path() && fields::is_jsonata(value) {
        return None;
    }
    check(c, value, &ctx.loc(field), field)
}

/// Checks `field` as a path when the state has it.
fn path_field(c: &mut Checker, ctx: Ctx<'_>, field: &str, kind: PathKind) {
    if let Some(value) = ctx.obj.get(field) {
        fields::path(c, value, &ctx.loc(field), field, kind);
    }
}

fn task(c: &mut Checker, ctx: Ctx<'_>) {
    c.required_fields(ctx.obj, ctx.location, &["Resource"]);
    exclusive(
        c,
        ctx.obj,
        ctx.location,
        &[
            &["TimeoutSeconds", "TimeoutSecondsPath"],
            &["HeartbeatSeconds", "HeartbeatSecondsPath"],
        ],
    );
    if let Some(resource) = ctx.obj.get("Resource") {
        task_resource(c, resource, &ctx.loc("Resource"), ctx.json_path());
    }
    let timeout = number_field(c, ctx, "TimeoutSeconds", fields::positive_int);
    let heartbeat = number_field(c, ctx, "HeartbeatSeconds", fields::positive_int);
    if let (Some(timeout), Some(heartbeat)) = (timeout, heartbeat) {
        if heartbeat >= timeout {
            c.schema(
                ctx.loc("HeartbeatSeconds"),
                "The field 'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'",
            );
        }
    }
    path_field(c, ctx, "TimeoutSecondsPath", PathKind::Plain);
    path_field(c, ctx, "HeartbeatSecondsPath", PathKind::Plain);
    if let Some(credentials) = ctx.obj.get("Credentials") {
        let location = ctx.loc("Credentials");
        match credentials {
            Value::Object(creds) => {
                let keys: &[&str] = if ctx.json_path() {
                    &["RoleArn", "RoleArn.$"]
                } else {
                    &["RoleArn"]
                };
                c.allowed_fields(creds, &location, keys);
                if !keys.iter().any(|k| creds.contains_key(*k)) {
                    c.schema(&location, "The field 'RoleArn' is required but was missing");
                }
                if ctx.json_path() {
                    fields::template(c, credentials, &location);
                }
            }
            _ => c.schema(location, "The field 'Credentials' must be an object"),
        }
    }
}

/// The DynamoDB actions Step Functions integrates directly; others go through `aws-sdk`.
const DYNAMODB_ACTIONS: &[&str] = &["getItem", "putItem", "updateItem", "deleteItem"];

/// A Task `Resource`: an ARN string. Only forms AWS is known to refuse are refused, so ARNs
/// of services Sandstep does not run still validate.
fn task_resource(c: &mut Checker, value: &Value, location: &str, json_path: bool) {
    let Some(arn) = value.as_str() else {
        c.schema(location, "The field 'Resource' must be a string");
        return;
    };
    if !json_path && fields::is_jsonata(value) {
        return;
    }
    let not_recognized = || {
        format!(
            "The resource provided {arn} is not recognized. The value is not a valid resource ARN, \
             or the resource is not available in this region."
        )
    };
    let parts: Vec<&str> = arn.splitn(7, ':').collect();
    let (Some(&"arn"), Some(service)) = (parts.first(), parts.get(2)) else {
        c.schema(location, not_recognized());
        return;
    };
    if *service != "states" {
        return;
    }
    let (region, account, kind, rest) = (parts.get(3), parts.get(4), parts.get(5), parts.get(6));
    let integration = region == Some(&"") && account == Some(&"");
    if integration && kind == Some(&"dynamodb") {
        let action = rest.copied().unwrap_or("");
        if !DYNAMODB_ACTIONS.contains(&action) {
            c.schema(location, not_recognized());
        }
    }
    if c.machine_type == MachineType::Express {
        if kind == Some(&"activity") {
            c.schema(
                location,
                "Express state machine does not support Activity ARN",
            );
        } else if integration {
            let action = rest.copied().unwrap_or("");
            if action.ends_with(".sync") || action.contains(".sync:") {
                c.schema(
                    location,
                    "Express state machine does not support '.sync' service integration",
                );
            } else if action.ends_with(".waitForTaskToken") {
                c.schema(location, "Express state machine does not support '.waitForTaskToken' service integration");
            }
        }
    }
}

fn wait(c: &mut Checker, ctx: Ctx<'_>) {
    let group = ["Seconds", "SecondsPath", "Timestamp", "TimestampPath"];
    let present = group.iter().filter(|k| ctx.obj.contains_key(**k)).count();
    if present != 1 {
        c.schema(
            ctx.location,
            "Exactly one of these fields is required: [Seconds, SecondsPath, Timestamp, TimestampPath]",
        );
    }
    number_field(c, ctx, "Seconds", fields::non_negative_int);
    if let Some(timestamp) = ctx.obj.get("Timestamp") {
        let jsonata = !ctx.json_path() && fields::is_jsonata(timestamp);
        if !jsonata && !timestamp.as_str().is_some_and(fields::is_rfc3339) {
            c.schema(
                ctx.loc("Timestamp"),
                "String does not match RFC3339 timestamp",
            );
        }
    }
    path_field(c, ctx, "SecondsPath", PathKind::Plain);
    path_field(c, ctx, "TimestampPath", PathKind::Plain);
}

fn fail(c: &mut Checker, ctx: Ctx<'_>) {
    exclusive(
        c,
        ctx.obj,
        ctx.location,
        &[&["Error", "ErrorPath"], &["Cause", "CausePath"]],
    );
    for field in ["Error", "Cause"] {
        if let Some(value) = ctx.obj.get(field) {
            fields::string(c, value, &ctx.loc(field), field);
        }
    }
    path_field(c, ctx, "ErrorPath", PathKind::PathOrIntrinsic);
    path_field(c, ctx, "CausePath", PathKind::PathOrIntrinsic);
}

/// Error names in `ErrorEquals`; `States.ALL` must stand alone, in the last rule.
fn error_equals(c: &mut Checker, rule: &Map<String, Value>, location: &str, last: bool) {
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
fn rules<'a>(
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

fn retry(c: &mut Checker, ctx: Ctx<'_>) {
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

fn catch(c: &mut Checker, ctx: Ctx<'_>, summary: &mut StateSummary) {
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

/// The comparison operators of JSONPath Choice rules and the operand each takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Operand {
    String,
    Number,
    Boolean,
    Timestamp,
    Path,
}

fn operator(name: &str) -> Option<Operand> {
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

fn choice(c: &mut Checker, ctx: Ctx<'_>, summary: &mut StateSummary) {
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

fn jsonata_choice_rule(c: &mut Checker, rule: &Value, location: &str) {
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
fn choice_rule(c: &mut Checker, rule: &Value, location: &str, top: bool) {
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

fn parallel(c: &mut Checker, ctx: Ctx<'_>) {
    if !c.required_fields(ctx.obj, ctx.location, &[crate::tree::BRANCHES]) {
        return;
    }
    let location = ctx.loc(crate::tree::BRANCHES);
    let Some(branches) = ctx.obj.get(crate::tree::BRANCHES).and_then(Value::as_array) else {
        c.schema(location, "The field 'Branches' must be an array");
        return;
    };
    if branches.is_empty() {
        c.schema(&location, "Value cannot be empty");
    }
    for (i, branch) in branches.iter().enumerate() {
        let branch_location = at(&location, &i.to_string());
        match branch {
            Value::Object(machine) => {
                c.machine(machine, &branch_location, Scope::Branch, ctx.language)
            }
            _ => c.schema(branch_location, "A branch must be an object"),
        }
    }
}

/// Characters AWS forbids in a Distributed Map `Label`.
const LABEL_FORBIDDEN: &str = "?*<>{}[]:;,\\|^~$#%&`\"";

/// The Distributed Map `Label` rules of the AWS developer guide: it becomes part of the
/// Map Run's name and ARN.
fn label_ok(label: &str) -> bool {
    !label.is_empty()
        && label.chars().count() <= 40
        && !label.chars().any(|ch| {
            ch.is_whitespace()
                || LABEL_FORBIDDEN.contains(ch)
                || ('\u{0}'..='\u{1f}').contains(&ch)
                || ('\u{7f}'..='\u{9f}').contains(&ch)
        })
}

fn map(c: &mut Checker, ctx: Ctx<'_>) {
    exclusive(
        c,
        ctx.obj,
        ctx.location,
        &[
            &["ItemProcessor", "Iterator"],
            &["ItemSelector", "Parameters"],
            &["MaxConcurrency", "MaxConcurrencyPath"],
            &["ToleratedFailureCount", "ToleratedFailureCountPath"],
            &[
                "ToleratedFailurePercentage",
                "ToleratedFailurePercentagePath",
            ],
            &["Items", "ItemsPath"],
        ],
    );
    if !ctx.obj.contains_key("ItemProcessor") && !ctx.obj.contains_key("Iterator") {
        c.schema(ctx.location, "These fields are required: [ItemProcessor]");
    }
    for field in crate::tree::PROCESSOR_FIELDS {
        if let Some(value) = ctx.obj.get(field) {
            match value {
                Value::Object(machine) => {
                    c.machine(machine, &ctx.loc(field), Scope::Processor, ctx.language)
                }
                _ => c.schema(
                    ctx.loc(field),
                    format!("The field '{field}' must be an object"),
                ),
            }
        }
    }
    number_field(c, ctx, "MaxConcurrency", fields::non_negative_int);
    number_field(c, ctx, "ToleratedFailureCount", fields::non_negative_int);
    if let Some(value) = ctx.obj.get("ToleratedFailurePercentage") {
        let expression = !ctx.json_path() && fields::is_jsonata(value);
        if !expression && !value.as_f64().is_some_and(|p| (0.0..=100.0).contains(&p)) {
            c.schema(
                ctx.loc("ToleratedFailurePercentage"),
                "The value of the field 'ToleratedFailurePercentage' must be between 0 and 100",
            );
        }
    }
    for field in [
        "ItemsPath",
        "MaxConcurrencyPath",
        "ToleratedFailureCountPath",
        "ToleratedFailurePercentagePath",
    ] {
        path_field(c, ctx, field, PathKind::Plain);
    }
    if ctx.json_path() {
        if let Some(selector) = ctx.obj.get("ItemSelector") {
            fields::template(c, selector, &ctx.loc("ItemSelector"));
        }
    }
    if let Some(label) = ctx.obj.get("Label") {
        if !label.as_str().is_some_and(label_ok) {
            c.report(
                INVALID_LABEL_NAME,
                ctx.loc("Label"),
                "The field 'Label' must be 1 to 40 characters without whitespace, control characters or any of ? * < > { } [ ] : ; , \\ | ^ ~ $ # % & ` \"",
            );
        }
    }
    if let Some(batcher) = ctx.obj.get("ItemBatcher") {
        let location = ctx.loc("ItemBatcher");
        match batcher {
            Value::Object(obj) => {
                let mut allowed = vec!["MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput"];
                if ctx.json_path() {
                    allowed.extend(["MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"]);
                }
                c.allowed_fields(obj, &location, &allowed);
                exclusive(
                    c,
                    obj,
                    &location,
                    &[
                        &["MaxItemsPerBatch", "MaxItemsPerBatchPath"],
                        &["MaxInputBytesPerBatch", "MaxInputBytesPerBatchPath"],
                    ],
                );
            }
            _ => c.schema(location, "The field 'ItemBatcher' must be an object"),
        }
    }
    for field in ["ItemReader", "ResultWriter"] {
        if let Some(value) = ctx.obj.get(field) {
            if !value.is_object() {
                c.schema(
                    ctx.loc(field),
                    format!("The field '{field}' must be an object"),
                );
            }
        }
    }
    if let Some(reader) = ctx.obj.get("ItemReader").and_then(Value::as_object) {
        c.required_fields(reader, &ctx.loc("ItemReader"), &["Resource"]);
    }
}

/// A Map processor's `ProcessorConfig`: the mode and, for Distributed Map, the child
/// executions' type.
pub(super) fn processor_config(c: &mut Checker, value: &Value, location: &str) {
    let Value::Object(obj) = value else {
        c.schema(location, "The field 'ProcessorConfig' must be an object");
        return;
    };
    c.allowed_fields(obj, location, &["Mode", "ExecutionType"]);
    if let Some(mode) = obj.get("Mode") {
        if !matches!(mode.as_str(), Some("INLINE" | "DISTRIBUTED")) {
            c.schema(
                at(location, "Mode"),
                "The field 'Mode' should have one of these values: [INLINE, DISTRIBUTED]",
            );
        }
    }
    if let Some(kind) = obj.get("ExecutionType") {
        if !matches!(kind.as_str(), Some("STANDARD" | "EXPRESS")) {
            c.schema(
                at(location, "ExecutionType"),
                "The field 'ExecutionType' should have one of these values: [STANDARD, EXPRESS]",
            );
        }
    }
}
