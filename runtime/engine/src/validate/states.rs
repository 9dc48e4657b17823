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
    let (own, other, names) = match language {
        QueryLanguage::JsonPath => (allowed.json_path, allowed.jsonata, ("JSONPath", "JSONata")),
        QueryLanguage::Jsonata => (allowed.jsonata, allowed.json_path, ("JSONata", "JSONPath")),
    };
    // A field of the other language gets AWS's message naming both.
    for key in obj.keys().filter(|k| other.contains(&k.as_str())) {
        c.schema(
            location,
            format!(
                "The QueryLanguage is set to '{}', but field '{key}' is only supported for the '{}' QueryLanguage",
                names.0, names.1
            ),
        );
    }
    let all: Vec<&str> = COMMON
        .iter()
        .chain(allowed.both)
        .chain(own)
        .chain(other)
        .copied()
        .collect();
    c.allowed_fields(obj, location, &all);
    if language == QueryLanguage::Jsonata {
        super::expressions::check(c, obj, location);
    }

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

mod choice_rules;
mod fanout;
mod retry_catch;

use choice_rules::choice;
pub(in crate::validate) use fanout::processor_config;
use fanout::{map, parallel};
use retry_catch::{catch, retry};
