//! `echo`: returns its input unchanged. The smallest task, used by the benchmarks.
use sandstep_sdk::{Context, TaskError, Value};

fn echo(input: Value, _ctx: &Context) -> Result<Value, TaskError> {
    Ok(input)
}

sandstep_sdk::task!(echo);
