//! `crunch`: a long computation as a Batch job. `Parameters.rounds` rounds of a million
//! steps each, a heartbeat per round; `Parameters.fail` fails it at the end (`CrunchFailed`);
//! `Parameters.checkpoint` names a kv table where it marks the job started, so a run after
//! a restart resumes instead of starting over (it needs the grant `kv:<table>`).
use sandstep_sdk::{heartbeat, json, kv, log, Context, TaskError, Value};

fn crunch(input: Value, _ctx: &Context) -> Result<Value, TaskError> {
    let job = input["JobName"].as_str().unwrap_or("job").to_string();
    let p = &input["Parameters"];
    let mut rounds = p["rounds"].as_u64().unwrap_or(1);
    log::info(&format!("attempt {} of job {job}: {rounds} rounds", input["Attempt"]));
    if let Some(table) = p["checkpoint"].as_str() {
        if kv::get(table, &job)?.is_some() {
            log::info("resuming from the checkpoint: the work is done");
            rounds = 0;
        } else {
            kv::put(table, &job, &json!({"started": true}))?;
        }
    }
    let mut value: u64 = 1;
    for round in 0..rounds {
        for _ in 0..1_000_000 {
            value = value.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        }
        heartbeat::beat()?;
        if round % 10 == 9 {
            log::debug(&format!("{} rounds done", round + 1));
        }
    }
    if p["fail"].as_bool() == Some(true) {
        log::error("asked to fail");
        return Err(TaskError::new("CrunchFailed", "the job was asked to fail"));
    }
    Ok(json!({"rounds": rounds, "value": value, "mode": input["Environment"]["MODE"]}))
}

sandstep_sdk::task!(crunch);
