//! The shapes of a Map Run's results: each child's entry in the ResultWriter's files
//! (`SUCCEEDED_0.json`, `FAILED_0.json`, `PENDING_0.json`), its place in the Map's
//! result under each `Transformation`, and the `manifest.json` that names the files.

use crate::model::Status;
use crate::store::map_runs::MapChild;
use sandstep_engine::timestamp::format_millis;
use serde_json::{json, Map, Value};

/// `WriterConfig.Transformation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transformation {
    /// One execution record per child.
    None,
    /// The outputs.
    Compact,
    /// The outputs, arrays flattened one level.
    Flatten,
}

/// Which file a child's entry goes to.
pub fn file_of(child: &MapChild) -> &'static str {
    match child.status {
        Some(Status::Succeeded) => "SUCCEEDED",
        Some(_) => "FAILED",
        None => "PENDING",
    }
}

fn parsed(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// A child's execution record, as AWS writes it to the result files (`NONE`).
pub fn record(child: &MapChild, machine_arn: &str, express: bool) -> Value {
    let mut out = Map::new();
    let Some(status) = child.status else {
        out.insert("Input".into(), json!(child.input));
        out.insert("InputDetails".into(), json!({"Included": true}));
        out.insert("Status".into(), json!("PENDING"));
        return Value::Object(out);
    };
    out.insert("ExecutionArn".into(), json!(child.arn));
    out.insert("Input".into(), json!(child.input));
    out.insert("InputDetails".into(), json!({"Included": true}));
    out.insert("Name".into(), json!(child.name));
    if let Some(output) = &child.output {
        out.insert("Output".into(), json!(output));
        out.insert("OutputDetails".into(), json!({"Included": true}));
    }
    if let Some(error) = &child.error {
        out.insert("Error".into(), json!(error));
    }
    if let Some(cause) = &child.cause {
        out.insert("Cause".into(), json!(cause));
    }
    if !express {
        out.insert("RedriveCount".into(), json!(0));
        match status {
            Status::Succeeded => {
                out.insert("RedriveStatus".into(), json!("NOT_REDRIVABLE"));
                out.insert(
                    "RedriveStatusReason".into(),
                    json!("Execution is SUCCEEDED and cannot be redriven"),
                );
            }
            _ => {
                out.insert("RedriveStatus".into(), json!("REDRIVABLE_BY_MAP_RUN"));
            }
        }
    }
    out.insert("StartDate".into(), json!(format_millis(child.started)));
    out.insert("StateMachineArn".into(), json!(machine_arn));
    out.insert("Status".into(), json!(status.as_str()));
    if let Some(stopped) = child.stopped {
        out.insert("StopDate".into(), json!(format_millis(stopped)));
    }
    Value::Object(out)
}

/// What a child adds to the Map's result: its output (`COMPACT`), its output's elements
/// (`FLATTEN`), or its record (`NONE`, and always for a child that failed).
pub fn entries(
    child: &MapChild,
    how: Transformation,
    machine_arn: &str,
    express: bool,
) -> Vec<Value> {
    match (child.status, &child.output, how) {
        (Some(Status::Succeeded), Some(output), Transformation::Compact) => vec![parsed(output)],
        (Some(Status::Succeeded), Some(output), Transformation::Flatten) => match parsed(output) {
            Value::Array(items) => items,
            other => vec![other],
        },
        _ => vec![record(child, machine_arn, express)],
    }
}

/// The `manifest.json` of an export: the files of each status with their sizes.
pub fn manifest(bucket: &str, run_arn: &str, files: &[(&str, String, u64)]) -> Value {
    let of = |status: &str| -> Vec<Value> {
        files
            .iter()
            .filter(|(s, _, _)| *s == status)
            .map(|(_, key, size)| json!({"Key": key, "Size": size}))
            .collect()
    };
    json!({
        "DestinationBucket": bucket,
        "MapRunArn": run_arn,
        "ResultFiles": {"FAILED": of("FAILED"), "PENDING": of("PENDING"), "SUCCEEDED": of("SUCCEEDED")},
    })
}

/// The key of an export's file: `<Prefix>/<run id>/<name>` (no `/` of its own for an
/// empty prefix).
pub fn key(prefix: &str, run_id: &str, name: &str) -> String {
    match prefix.trim_end_matches('/') {
        "" => format!("{run_id}/{name}"),
        p => format!("{p}/{run_id}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(status: Option<Status>, output: Option<&str>) -> MapChild {
        MapChild {
            index: 0,
            items: 1,
            name: "c".into(),
            arn: "arn:c".into(),
            status,
            input: "{\"n\":1}".into(),
            output: output.map(str::to_string),
            error: (status == Some(Status::Failed)).then(|| "Boom".to_string()),
            cause: None,
            started: 0,
            stopped: status.map(|_| 1000),
        }
    }

    #[test]
    fn children_become_records_outputs_or_flattened_outputs() {
        let ok = child(Some(Status::Succeeded), Some("[1,2]"));
        assert_eq!(
            entries(&ok, Transformation::Compact, "m", true),
            [json!([1, 2])]
        );
        assert_eq!(
            entries(&ok, Transformation::Flatten, "m", true),
            [json!(1), json!(2)]
        );
        let record = &entries(&ok, Transformation::None, "m", false)[0];
        assert_eq!(record["Output"], "[1,2]");
        assert_eq!(record["Status"], "SUCCEEDED");
        assert_eq!(record["StopDate"], "1970-01-01T00:00:01.000Z");
        assert_eq!(
            record["RedriveStatusReason"],
            "Execution is SUCCEEDED and cannot be redriven"
        );
        let failed = child(Some(Status::Failed), None);
        let record = &entries(&failed, Transformation::Compact, "m", true)[0];
        assert_eq!(
            (record["Error"].as_str(), record.get("Output")),
            (Some("Boom"), None)
        );
        assert!(
            record.get("RedriveStatus").is_none(),
            "Express children are not redriven"
        );
        assert_eq!(file_of(&child(None, None)), "PENDING");
        assert_eq!(
            record_of_pending(),
            json!({"Input": "{\"n\":1}", "InputDetails": {"Included": true}, "Status": "PENDING"})
        );
        assert_eq!(key("runs", "id", "manifest.json"), "runs/id/manifest.json");
        assert_eq!(key("", "id", "manifest.json"), "id/manifest.json");
        assert_eq!(
            manifest("b", "arn", &[("SUCCEEDED", "k".into(), 3)])["ResultFiles"],
            json!({"FAILED": [], "PENDING": [], "SUCCEEDED": [{"Key": "k", "Size": 3}]})
        );
    }

    fn record_of_pending() -> Value {
        record(&child(None, None), "m", false)
    }
}
