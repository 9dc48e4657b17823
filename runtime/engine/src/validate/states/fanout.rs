//! Parallel and Map: their branches and processor (checked as machines of their own), Map's
//! numbers and Distributed Map's fields.

use super::*;

pub(super) fn parallel(c: &mut Checker, ctx: Ctx<'_>) {
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
pub(super) const LABEL_FORBIDDEN: &str = "?*<>{}[]:;,\\|^~$#%&`\"";

/// The Distributed Map `Label` rules of the AWS developer guide: it becomes part of the
/// Map Run's name and ARN.
pub(super) fn label_ok(label: &str) -> bool {
    !label.is_empty()
        && label.chars().count() <= 40
        && !label.chars().any(|ch| {
            ch.is_whitespace()
                || LABEL_FORBIDDEN.contains(ch)
                || ('\u{0}'..='\u{1f}').contains(&ch)
                || ('\u{7f}'..='\u{9f}').contains(&ch)
        })
}

pub(super) fn map(c: &mut Checker, ctx: Ctx<'_>) {
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
pub(in crate::validate) fn processor_config(c: &mut Checker, value: &Value, location: &str) {
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
