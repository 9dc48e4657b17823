//! Data-driven engine cases: `tests/cases/<name>/` holds `definition.json`, optionally
//! `input.json` and `tasks.json`, and the expectation: `expected.json` (the output of a
//! successful execution) or `error.json` (`{"status", "error", "cause"}`).
//! `BLESS=1 cargo test` rewrites the expectations from what the engine does now.
//!
//! `tasks.json` maps a Task state's name to the answers its attempts get, in order:
//! `{"output": ...}` or `{"error": ..., "cause": ...}`; the last answer repeats.
//!
//! Every case is also replayed: feeding the recorded events through the engine again must
//! rebuild the identical state, which is what crash recovery relies on.

use sandstep_engine::simulate::{simulate, TaskResult};
use sandstep_engine::{replay, Definition, Outcome, Start};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/cases")
}

fn read_json(path: &Path) -> Option<Value> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn start(input: Value) -> Start {
    Start {
        input,
        execution_arn: "arn:aws:states:us-east-1:000000000000:execution:case:run-1".into(),
        name: "run-1".into(),
        role_arn: "arn:aws:iam::000000000000:role/cases".into(),
        state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:case".into(),
        state_machine_name: "case".into(),
        redrive_count: 0,
        timeout_seconds: None,
        limits: sandstep_engine::Limits::default(),
        token_key: None,
        state_machine_version_arn: None,
        state_machine_alias_arn: None,
    }
}

/// What a case's execution produced, in the shape of its expectation files.
fn observed(outcome: &Outcome) -> (String, Value) {
    match outcome {
        Outcome::Succeeded(output) => ("expected.json".into(), (**output).clone()),
        Outcome::Failed { error, cause }
        | Outcome::TimedOut { error, cause }
        | Outcome::Aborted { error, cause } => (
            "error.json".into(),
            json!({"status": outcome.status(), "error": error, "cause": cause}),
        ),
    }
}

fn run_case(dir: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(dir.join("definition.json")).map_err(|e| e.to_string())?;
    let def = Definition::parse(&text).map_err(|e| format!("definition: {e}"))?;
    let input = read_json(&dir.join("input.json")).unwrap_or(json!({}));
    let answers: BTreeMap<String, Vec<Value>> = read_json(&dir.join("tasks.json"))
        .map(|v| serde_json::from_value(v).expect("tasks.json: {state: [answers]}"))
        .unwrap_or_default();
    let mut calls: BTreeMap<String, usize> = BTreeMap::new();
    let tasks = |task: &sandstep_engine::TaskRequest| -> TaskResult {
        let n = calls.entry(task.state_name.clone()).or_default();
        let list = answers.get(&task.state_name);
        let answer = list.and_then(|l| l.get(*n).or_else(|| l.last())).cloned();
        *n += 1;
        match answer {
            Some(a) if a.get("error").is_some() => Err((
                a["error"].as_str().unwrap_or_default().to_string(),
                a["cause"].as_str().unwrap_or_default().to_string(),
            )),
            Some(a) => Ok(a.get("output").cloned().unwrap_or(Value::Null)),
            None => Ok(json!({"echo": task.input.clone()})),
        }
    };
    let sim =
        simulate(&def, start(input), 1_700_000_000_000, 42, tasks).map_err(|e| e.to_string())?;
    let rebuilt = replay(&def, &sim.events).map_err(|e| format!("replay: {e}"))?;
    if rebuilt != sim.state {
        return Err("replaying the recorded events did not rebuild the same state".into());
    }
    let ids: Vec<u64> = sim.history.iter().map(|e| e.id).collect();
    if ids != (1..=ids.len() as u64).collect::<Vec<_>>() {
        return Err(format!("history ids are not dense: {ids:?}"));
    }
    let (file, value) = observed(&sim.outcome);
    let other = if file == "expected.json" {
        "error.json"
    } else {
        "expected.json"
    };
    if std::env::var_os("BLESS").is_some() {
        let _ = std::fs::remove_file(dir.join(other));
        let pretty = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
        std::fs::write(dir.join(&file), pretty + "\n").map_err(|e| e.to_string())?;
        return Ok(());
    }
    match read_json(&dir.join(&file)) {
        Some(expected) if expected == value => Ok(()),
        Some(expected) => Err(format!("expected {expected}\n     got {value}")),
        None => Err(format!("no {file}; got {value}")),
    }
}

#[test]
fn data_driven_cases() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("tests/cases exists")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.join("definition.json").exists())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 20,
        "expected the case folders under tests/cases"
    );
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|d| {
            run_case(d).err().map(|e| {
                format!(
                    "{}: {e}",
                    d.file_name().unwrap_or_default().to_string_lossy()
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n")
    );
}
