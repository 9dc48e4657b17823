//! The AWS Batch integration, played by modules: `arn:aws:states:::batch:submitJob` and
//! `...submitJob.sync`. `JobDefinition` names a module (`name`, `name:version`, or a
//! job-definition ARN), `JobQueue` one of the tenant's job queues (its concurrency and
//! each job's budgets), and `JobName`, `Parameters` and `ContainerOverrides.Environment`
//! become the module's input. Submitting answers `{JobArn, JobId, JobName}`; `.sync` waits
//! for the job's end and answers Batch's description of it, or fails with
//! `States.TaskFailed` and that description as the cause, as Step Functions does.
//!
//! This file reads the parameters, shapes the answers and runs one attempt of a job in the
//! sandbox; queueing, running and recovering jobs is the scheduler's (`scheduler/jobs.rs`).

use crate::sandbox::{BeatListener, CancelHandle, Invocation, LogLine, Sandbox, TaskContext};
use crate::store::jobs::{Job, JobQueue, JobStatus};
use sandstep_engine::{ErrorName, EventKind, TaskId};
use serde_json::{json, Map, Value};
use std::time::Duration;

/// Submits a job and answers at once.
pub const SUBMIT_JOB: &str = "arn:aws:states:::batch:submitJob";
/// Submits a job and waits for its end.
pub const SUBMIT_JOB_SYNC: &str = "arn:aws:states:::batch:submitJob.sync";
/// The error of a request Batch refuses (a missing queue or definition, bad parameters).
pub const CLIENT_ERROR: &str = "Batch.ClientException";

/// Whether a Task on `resource` submits a job, and whether it waits for its end.
pub fn mode_of(resource: &str) -> Option<bool> {
    match resource {
        SUBMIT_JOB => Some(false),
        SUBMIT_JOB_SYNC => Some(true),
        _ => None,
    }
}

/// A job as a Task state's parameters describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct JobSpec {
    /// `JobName`.
    pub name: String,
    /// The queue's name.
    pub queue: String,
    /// The module.
    pub module: String,
    /// Its version, when the definition names one.
    pub version: Option<u32>,
    /// `Parameters`.
    pub parameters: Value,
    /// `ContainerOverrides.Environment`.
    pub environment: Vec<(String, String)>,
}

/// A refused submission: what the task fails with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// Reads a `submitJob` Task's parameters.
///
/// # Errors
/// [`Refused`] naming the parameter that is missing or wrong, in Batch's words.
pub fn spec(parameters: &Value) -> Result<JobSpec, Refused> {
    let text = |field: &str| -> Result<&str, Refused> {
        parameters
            .get(field)
            .and_then(Value::as_str)
            .ok_or_else(|| Refused(format!("{field} is required, as a string")))
    };
    let name = text("JobName")?;
    if !valid_job_name(name) {
        return Err(Refused(format!(
            "JobName '{name}' is invalid: up to 128 letters, numbers, hyphens and underscores, starting with a letter or number"
        )));
    }
    let queue = queue_name(text("JobQueue")?)?;
    let (module, version) = definition(text("JobDefinition")?)?;
    let parameters_given = match parameters.get("Parameters") {
        None | Some(Value::Null) => json!({}),
        Some(p @ Value::Object(_)) => p.clone(),
        Some(_) => return Err(Refused("Parameters must be an object".into())),
    };
    let mut environment = Vec::new();
    let given = parameters
        .get("ContainerOverrides")
        .and_then(|o| o.get("Environment"));
    match given {
        None | Some(Value::Null) => {}
        Some(Value::Array(pairs)) => {
            for pair in pairs {
                let (Some(n), Some(v)) = (
                    pair.get("Name").and_then(Value::as_str),
                    pair.get("Value").and_then(Value::as_str),
                ) else {
                    return Err(Refused(
                        "ContainerOverrides.Environment entries are {\"Name\": string, \"Value\": string}".into(),
                    ));
                };
                environment.push((n.to_string(), v.to_string()));
            }
        }
        Some(_) => {
            return Err(Refused(
                "ContainerOverrides.Environment must be an array".into(),
            ))
        }
    }
    Ok(JobSpec {
        name: name.to_string(),
        queue,
        module,
        version,
        parameters: parameters_given,
        environment,
    })
}

/// The module a `submitJob` Task names in its definition, for the pins taken at start.
pub fn named_in(resource: &str, parameters: Option<&Value>) -> Option<(String, Option<u32>)> {
    mode_of(resource)?;
    let text = parameters?.get("JobDefinition")?.as_str()?;
    definition(text).ok()
}

fn valid_job_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A queue's name, or `arn:aws:batch:<region>:<account>:job-queue/<name>`.
fn queue_name(text: &str) -> Result<String, Refused> {
    let name = match text.strip_prefix("arn:") {
        Some(rest) => rest
            .split_once(":job-queue/")
            .map(|(_, name)| name)
            .ok_or_else(|| Refused(format!("JobQueue '{text}' is not a job queue ARN")))?,
        None => text,
    };
    match crate::grants::valid_name(name) {
        true => Ok(name.to_string()),
        false => Err(Refused(format!("JobQueue '{text}' is not a valid name"))),
    }
}

/// A job definition: `name`, `name:revision`, or
/// `arn:aws:batch:<region>:<account>:job-definition/<name>[:<revision>]`; the name is a
/// module's, the revision its version.
fn definition(text: &str) -> Result<(String, Option<u32>), Refused> {
    let short = match text.strip_prefix("arn:") {
        Some(rest) => rest
            .split_once(":job-definition/")
            .map(|(_, d)| d)
            .ok_or_else(|| {
                Refused(format!(
                    "JobDefinition '{text}' is not a job definition ARN"
                ))
            })?,
        None => text,
    };
    let (name, version) = match short.split_once(':') {
        None => (short, None),
        Some((name, v)) => match v.parse::<u32>() {
            Ok(v) if v > 0 => (name, Some(v)),
            _ => {
                return Err(Refused(format!(
                    "JobDefinition '{text}': the revision must be a positive number"
                )))
            }
        },
    };
    match crate::grants::valid_name(name) {
        true => Ok((name.to_string(), version)),
        false => Err(Refused(format!(
            "JobDefinition '{text}' does not name a module"
        ))),
    }
}

/// A job's ARN.
pub fn job_arn(region: &str, job: &Job) -> String {
    format!("arn:aws:batch:{region}:{}:job/{}", job.account, job.id)
}

/// What `submitJob` answers.
pub fn submitted(region: &str, job: &Job) -> Value {
    json!({"JobArn": job_arn(region, job), "JobId": job.id, "JobName": job.name})
}

/// What the job's module is given.
pub fn input_of(job: &Job, attempt: u32) -> Value {
    let environment: Map<String, Value> = job
        .environment
        .iter()
        .map(|(n, v)| (n.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "JobId": job.id,
        "JobName": job.name,
        "JobQueue": job.queue,
        "Attempt": attempt,
        "Parameters": job.parameters,
        "Environment": environment,
    })
}

/// The job as Batch's `DescribeJobs` describes it (what `.sync` answers).
pub fn describe(region: &str, job: &Job) -> Value {
    let account = &job.account;
    let exit_code = job.attempts.last().and_then(|a| a.exit_code);
    let environment: Vec<Value> = job
        .environment
        .iter()
        .map(|(n, v)| json!({"Name": n, "Value": v}))
        .collect();
    let attempts: Vec<Value> = job
        .attempts
        .iter()
        .filter(|a| a.stopped.is_some())
        .map(|a| {
            json!({
                "Container": {"ExitCode": a.exit_code, "LogStreamName": log_stream(job)},
                "StartedAt": a.started,
                "StoppedAt": a.stopped,
                "StatusReason": a.reason,
            })
        })
        .collect();
    let mut described = json!({
        "JobArn": job_arn(region, job),
        "JobId": job.id,
        "JobName": job.name,
        "JobQueue": format!("arn:aws:batch:{region}:{account}:job-queue/{}", job.queue),
        "JobDefinition": format!(
            "arn:aws:batch:{region}:{account}:job-definition/{}:{}",
            job.module, job.version
        ),
        "Status": job.status.as_str(),
        "CreatedAt": job.created,
        "Attempts": attempts,
        "Parameters": job.parameters,
        "DependsOn": [],
        "Tags": {},
        "PlatformCapabilities": [],
        "Container": {
            "Image": format!("{}:{}", job.module, job.version),
            "Environment": environment,
            "ExitCode": exit_code,
            "LogStreamName": log_stream(job),
        },
    });
    if let Some(fields) = described.as_object_mut() {
        if let Some(reason) = &job.status_reason {
            fields.insert("StatusReason".into(), json!(reason));
        }
        if let Some(at) = job.started {
            fields.insert("StartedAt".into(), json!(at));
        }
        if let Some(at) = job.stopped {
            fields.insert("StoppedAt".into(), json!(at));
        }
    }
    described
}

fn log_stream(job: &Job) -> String {
    format!("{}/default/{}", job.module, job.id)
}

/// The waiting task's answer for an ended job: its description, or `States.TaskFailed`
/// with the description as the cause.
pub fn answer_for(region: &str, job: &Job, task: TaskId) -> EventKind {
    let described = describe(region, job);
    match job.status {
        JobStatus::Succeeded => EventKind::TaskSucceeded {
            task,
            output: described,
            usage: None,
        },
        _ => EventKind::TaskFailed {
            task,
            error: "States.TaskFailed".into(),
            cause: described.to_string(),
            usage: None,
        },
    }
}

/// How one run of a job ended.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEnd {
    /// The module's output, or the error name and cause.
    pub result: Result<Value, (String, String)>,
    /// 0 when it returned; a command's exit status; 1 otherwise.
    pub exit_code: i32,
    /// Fuel used.
    pub fuel_consumed: u64,
    /// What it logged, and a command's stderr as lines of level `STDERR`.
    pub logs: Vec<(String, String)>,
}

/// Everything one run of a job needs besides the job.
#[derive(Debug, Clone)]
pub struct JobRun {
    /// Stops the run (a cancel, a shutdown).
    pub cancel: CancelHandle,
    /// Hears the module's heartbeats.
    pub heartbeats: BeatListener,
    /// Which run this is, from 1.
    pub attempt: u32,
    /// The server's region, for ARNs.
    pub region: String,
}

/// Runs one attempt of `job` under `queue`'s budgets. Blocking.
pub fn run(sandbox: &Sandbox, job: &Job, queue: &JobQueue, run: JobRun) -> JobEnd {
    let failed = |error: &str, cause: String| JobEnd {
        result: Err((error.to_string(), cause)),
        exit_code: 1,
        fuel_consumed: 0,
        logs: Vec::new(),
    };
    let prepared = match sandbox.prepare(&job.tenant, &job.module, Some(job.version)) {
        Ok(prepared) => prepared,
        Err(e) => return failed(CLIENT_ERROR, format!("cannot load the job's module: {e}")),
    };
    let mut limits = sandbox.limits().clone();
    limits.timeout = Duration::from_millis(queue.wall_clock_ms);
    limits.fuel = queue.fuel;
    limits.memory_bytes = usize::try_from(u64::from(queue.memory_mib) << 20).unwrap_or(usize::MAX);
    limits.heartbeat = None;
    limits.log_lines = 10_000;
    let invocation = Invocation {
        context: TaskContext {
            execution_arn: job_arn(&run.region, job),
            state_name: job.name.clone(),
            attempt: run.attempt.saturating_sub(1),
            task_token: None,
        },
        limits,
        cancel: run.cancel,
        heartbeats: run.heartbeats,
    };
    let input = input_of(job, run.attempt).to_string();
    let outcome = sandbox.run(&prepared, &input, invocation);
    let mut logs: Vec<(String, String)> = outcome
        .logs
        .iter()
        .map(|LogLine { level, message }| (level.as_str().to_string(), message.clone()))
        .collect();
    if outcome.logs_dropped > 0 {
        logs.push((
            "WARN".into(),
            format!("{} more log lines were dropped", outcome.logs_dropped),
        ));
    }
    logs.extend(
        outcome
            .stderr
            .lines()
            .map(|l| ("STDERR".to_string(), l.to_string())),
    );
    let exit_code = outcome
        .exit_code
        .unwrap_or(if outcome.result.is_ok() { 0 } else { 1 });
    JobEnd {
        result: outcome.result.map_err(|f| {
            let name = match f.error {
                ErrorName::Custom(n) => n,
                other => other.to_string(),
            };
            (name, f.cause)
        }),
        exit_code,
        fuel_consumed: outcome.fuel_consumed,
        logs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::jobs::Attempt;

    #[test]
    fn parameters_become_a_job_spec() {
        let s = spec(&json!({
            "JobName": "nightly-1",
            "JobQueue": "arn:aws:batch:us-east-1:000000000000:job-queue/batch",
            "JobDefinition": "arn:aws:batch:us-east-1:000000000000:job-definition/crunch:2",
            "Parameters": {"n": "5"},
            "ContainerOverrides": {"Environment": [{"Name": "MODE", "Value": "fast"}]},
        }))
        .unwrap();
        assert_eq!(s.name, "nightly-1");
        assert_eq!(s.queue, "batch");
        assert_eq!((s.module.as_str(), s.version), ("crunch", Some(2)));
        assert_eq!(s.environment, vec![("MODE".into(), "fast".into())]);
        let short =
            spec(&json!({"JobName": "j", "JobQueue": "q", "JobDefinition": "crunch"})).unwrap();
        assert_eq!((short.module.as_str(), short.version), ("crunch", None));
        assert_eq!(short.parameters, json!({}));
    }

    #[test]
    fn bad_parameters_are_refused_by_name() {
        let base = json!({"JobName": "j", "JobQueue": "q", "JobDefinition": "crunch"});
        for (field, value, says) in [
            ("JobName", json!("-bad"), "JobName"),
            ("JobQueue", Value::Null, "JobQueue is required"),
            ("JobDefinition", json!("crunch:zero"), "revision"),
            ("Parameters", json!([1]), "Parameters"),
            (
                "ContainerOverrides",
                json!({"Environment": [{"Name": "A"}]}),
                "Environment",
            ),
        ] {
            let mut p = base.clone();
            p[field] = value;
            let Refused(why) = spec(&p).unwrap_err();
            assert!(why.contains(says), "{field}: {why}");
        }
    }

    #[test]
    fn an_ended_job_answers_in_batchs_shape() {
        let mut job = Job {
            name: "j".into(),
            module: "crunch".into(),
            version: 3,
            parameters: json!({}),
            environment: vec![],
            status: JobStatus::Succeeded,
            status_reason: Some("Essential container in task exited".into()),
            created: 1,
            started: Some(2),
            stopped: Some(3),
            attempts: vec![Attempt {
                started: 2,
                stopped: Some(3),
                exit_code: Some(0),
                reason: None,
            }],
            output: Some("{}".into()),
            ..Job::example("t", "0f0e")
        };
        let EventKind::TaskSucceeded { output, .. } = answer_for("us-east-1", &job, TaskId(1))
        else {
            panic!("a succeeded job succeeds the task");
        };
        assert_eq!(
            output["JobArn"],
            "arn:aws:batch:us-east-1:000000000000:job/0f0e"
        );
        assert_eq!(output["Status"], "SUCCEEDED");
        assert_eq!(output["Container"]["ExitCode"], 0);
        assert_eq!(output["Attempts"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            output["JobQueue"],
            "arn:aws:batch:us-east-1:000000000000:job-queue/q"
        );
        job.status = JobStatus::Failed;
        let EventKind::TaskFailed { error, cause, .. } = answer_for("us-east-1", &job, TaskId(1))
        else {
            panic!("a failed job fails the task");
        };
        assert_eq!(error, "States.TaskFailed");
        let cause: Value = serde_json::from_str(&cause).unwrap();
        assert_eq!(cause["Status"], "FAILED");
    }
}
