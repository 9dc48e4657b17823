//! `sandstep test-state STATE.json [--input JSON|@FILE] [--mock-result JSON|@FILE |
//! --mock-error NAME:CAUSE]`: one state run alone through a server's TestState, its task
//! mocked or run for real. Prints the answer with its JSON text fields as JSON; exits 0
//! when the state succeeded or caught its error, 1 when it failed or would be retried.

use crate::cli_jobs::Remote;
use anyhow::Context as _;
use clap::Args;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::process::ExitCode;

/// The arguments of `sandstep test-state`.
#[derive(Args, Debug)]
pub struct TestStateArgs {
    /// The state's JSON file, or (with --state-name) a whole state machine's.
    definition: PathBuf,
    /// The state to test inside a whole state machine.
    #[arg(long)]
    state_name: Option<String>,
    /// The state's input: JSON text, or @FILE [{}].
    #[arg(long)]
    input: Option<String>,
    /// The task's result instead of running it: JSON text, or @FILE.
    #[arg(long, conflicts_with = "mock_error")]
    mock_result: Option<String>,
    /// The error the task raises instead of running: NAME:CAUSE.
    #[arg(long)]
    mock_error: Option<String>,
    /// Variables set before the state runs: a JSON object, or @FILE.
    #[arg(long)]
    variables: Option<String>,
    /// Retries the matching Retrier already made (AWS's retrierRetryCount).
    #[arg(long, default_value_t = 0)]
    retries: u32,
    /// The role a real task runs as (needed for a Task without a mock).
    #[arg(long)]
    role_arn: Option<String>,
    /// INFO, DEBUG (the stages) or TRACE.
    #[arg(long, default_value = "DEBUG")]
    inspection_level: String,
    #[command(flatten)]
    remote: Remote,
}

/// Text given as is, or `@FILE`'s contents.
fn text_or_file(text: &str) -> anyhow::Result<String> {
    match text.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file).with_context(|| format!("reading {file}")),
        None => Ok(text.to_string()),
    }
}

/// A field holding JSON text, as the JSON it holds.
fn decoded(value: &Value) -> Value {
    value
        .as_str()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_else(|| value.clone())
}

/// Runs `sandstep test-state`.
pub fn test_state(args: TestStateArgs) -> anyhow::Result<ExitCode> {
    let definition = std::fs::read_to_string(&args.definition)
        .with_context(|| format!("reading {}", args.definition.display()))?;
    let mut body = Map::new();
    body.insert("definition".into(), json!(definition));
    body.insert("inspectionLevel".into(), json!(args.inspection_level));
    let optional = [
        ("stateName", args.state_name),
        (
            "input",
            args.input.as_deref().map(text_or_file).transpose()?,
        ),
        (
            "variables",
            args.variables.as_deref().map(text_or_file).transpose()?,
        ),
        ("roleArn", args.role_arn),
    ];
    for (field, value) in optional {
        if let Some(v) = value {
            body.insert(field.into(), json!(v));
        }
    }
    if let Some(result) = &args.mock_result {
        body.insert("mock".into(), json!({"result": text_or_file(result)?}));
    }
    if let Some(error) = &args.mock_error {
        let (name, cause) = error.split_once(':').unwrap_or((error.as_str(), ""));
        body.insert(
            "mock".into(),
            json!({"errorOutput": {"error": name, "cause": cause}}),
        );
    }
    if args.retries > 0 {
        body.insert(
            "stateConfiguration".into(),
            json!({"retrierRetryCount": args.retries}),
        );
    }
    let answer = crate::http_json(
        args.remote
            .request("POST", "/")
            .set("content-type", "application/x-amz-json-1.0")
            .set("x-amz-target", "AWSStepFunctions.TestState")
            .send_string(&Value::Object(body).to_string()),
    )?;
    let mut shown = answer.clone();
    if let Some(o) = shown.as_object_mut() {
        if let Some(output) = o.get_mut("output") {
            *output = decoded(output);
        }
        if let Some(Value::Object(stages)) = o.get_mut("inspectionData") {
            for stage in stages.values_mut() {
                *stage = decoded(stage);
            }
        }
    }
    println!("{}", serde_json::to_string_pretty(&shown)?);
    Ok(match answer.get("status").and_then(Value::as_str) {
        Some("SUCCEEDED" | "CAUGHT_ERROR") => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}
