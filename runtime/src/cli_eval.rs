//! `sandstep eval EXPR [--input JSON|@FILE] [--bind NAME=JSON]...`: one JSONata
//! expression (the body of a `{% %}`) evaluated as Step Functions would, for debugging
//! an expression and for running jsonata-js's reference suite against the engine.
//!
//! The result prints as JSON (nothing when it is undefined) with exit 0; an error prints
//! `{"code", "message"}` with exit 1.

use anyhow::Context as _;
use sandstep_engine::jsonata::convert::to_jvalue;
use sandstep_engine::jsonata::{Env, Query, QueryError};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::ExitCode;

/// The most steps one evaluation may take from the command line: far more than any
/// state's evaluation is allowed, still a bound on a runaway expression.
const STEPS: u64 = 100_000_000;

/// Runs `sandstep eval`.
pub fn eval(expression: &str, input: Option<&str>, binds: &[String]) -> anyhow::Result<ExitCode> {
    let input = input.map(read_json).transpose().context("--input")?;
    let mut variables = BTreeMap::new();
    for bind in binds {
        let (name, value) = bind
            .split_once('=')
            .with_context(|| format!("--bind {bind}: expected NAME=JSON"))?;
        let name = name.strip_prefix('$').unwrap_or(name);
        variables.insert(
            name.to_string(),
            read_json(value).with_context(|| format!("--bind {name}"))?,
        );
    }
    let outcome = Query::parse(expression).and_then(|query| {
        let lookup = |name: &str| variables.get(name).map(to_jvalue);
        let env = Env {
            input: input.as_ref(),
            variables: &lookup,
            now_millis: sandstep::clock::now(),
            entropy: sandstep::clock::entropy(),
            steps: STEPS,
        };
        query.evaluate(&env).map(|e| e.value).map_err(|(e, _)| e)
    });
    Ok(match outcome {
        Ok(Some(value)) => {
            println!("{}", serde_json::to_string(&value)?);
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(QueryError { code, message }) => {
            println!("{}", json!({ "code": code, "message": message }));
            ExitCode::from(1)
        }
    })
}

/// JSON text, or `@FILE` holding it.
fn read_json(text: &str) -> anyhow::Result<Value> {
    let text = match text.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?,
        None => text.to_string(),
    };
    serde_json::from_str(&text).context("not valid JSON")
}
