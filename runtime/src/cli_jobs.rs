//! `sandstep job-queue ...` and `sandstep job ...`: the tenant's Batch job queues and
//! jobs through a running server's `/v1` API (the same calls the console makes).

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use std::process::ExitCode;

/// Where the server is and who the caller is.
#[derive(Args, Debug)]
pub(crate) struct Remote {
    /// The server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    endpoint: String,
    /// The tenant's API key (not needed for the default tenant on loopback).
    #[arg(long, env = "SANDSTEP_API_KEY")]
    api_key: Option<String>,
}

impl Remote {
    /// A request to `path` on the server, with the caller's key.
    pub(crate) fn request(&self, method: &str, path: &str) -> ureq::Request {
        let url = format!("{}{path}", self.endpoint.trim_end_matches('/'));
        let request = ureq::request(method, &url);
        match &self.api_key {
            Some(key) => request.set("authorization", &format!("Bearer {key}")),
            None => request,
        }
    }

    pub(crate) fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let request = self.request(method, path);
        let answer = match body {
            Some(body) => request.send_json(body),
            None => request.call(),
        };
        super::http_json(answer)
    }
}

#[derive(Subcommand, Debug)]
pub enum QueueCommand {
    /// Creates a job queue, or changes one.
    Put {
        /// The queue's name (what `JobQueue` names).
        name: String,
        /// Jobs running at once [1].
        #[arg(long)]
        concurrency: Option<u32>,
        /// The longest one run of a job may take, in hours [1].
        #[arg(long)]
        wall_clock_hours: Option<f64>,
        /// Fuel for one run of a job [10^12].
        #[arg(long)]
        fuel: Option<u64>,
        /// Memory of a job in MiB [the tenant's quota].
        #[arg(long)]
        memory_mib: Option<u32>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Lists the job queues.
    List {
        #[command(flatten)]
        remote: Remote,
    },
    /// Deletes a job queue that has no job waiting or running.
    Delete {
        /// The queue's name.
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Subcommand, Debug)]
pub enum JobCommand {
    /// Lists jobs.
    List {
        /// Only this queue's jobs.
        #[arg(long)]
        queue: Option<String>,
        /// Only jobs in this status: RUNNABLE, RUNNING, SUCCEEDED or FAILED.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Describes a job.
    Describe {
        /// The job's id.
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Cancels a job: a waiting one ends at once, a running one is stopped.
    Cancel {
        /// The job's id.
        id: String,
        /// Why (the job's status reason).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Prints what a job logged, a line each.
    Logs {
        /// The job's id.
        id: String,
        #[command(flatten)]
        remote: Remote,
    },
}

pub(crate) fn print(value: &Value) -> anyhow::Result<ExitCode> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(ExitCode::SUCCESS)
}

/// Runs a `job-queue` command.
pub fn queue(command: QueueCommand) -> anyhow::Result<ExitCode> {
    match command {
        QueueCommand::Put {
            name,
            concurrency,
            wall_clock_hours,
            fuel,
            memory_mib,
            remote,
        } => {
            let mut body = serde_json::Map::new();
            let fields = [
                ("concurrency", concurrency.map(Value::from)),
                ("wallClockHours", wall_clock_hours.map(Value::from)),
                ("fuel", fuel.map(Value::from)),
                ("memoryMib", memory_mib.map(Value::from)),
            ];
            for (field, value) in fields {
                if let Some(value) = value {
                    body.insert(field.into(), value);
                }
            }
            let path = format!("/v1/job-queues/{}", urlencoding(&name));
            print(&remote.call("PUT", &path, Some(Value::Object(body)))?)
        }
        QueueCommand::List { remote } => print(&remote.call("GET", "/v1/job-queues", None)?),
        QueueCommand::Delete { name, remote } => {
            let path = format!("/v1/job-queues/{}", urlencoding(&name));
            print(&remote.call("DELETE", &path, None)?)
        }
    }
}

/// Runs a `job` command.
pub fn job(command: JobCommand) -> anyhow::Result<ExitCode> {
    match command {
        JobCommand::List {
            queue,
            status,
            remote,
        } => {
            let mut jobs = Vec::new();
            let mut token: Option<String> = None;
            loop {
                let mut query = vec![];
                if let Some(q) = &queue {
                    query.push(format!("queue={}", urlencoding(q)));
                }
                if let Some(s) = &status {
                    query.push(format!("status={}", urlencoding(s)));
                }
                if let Some(t) = &token {
                    query.push(format!("nextToken={t}"));
                }
                let page = remote.call("GET", &format!("/v1/jobs?{}", query.join("&")), None)?;
                jobs.extend(
                    page.get("jobs")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                );
                match page.get("nextToken").and_then(Value::as_str) {
                    Some(next) => token = Some(next.to_string()),
                    None => break,
                }
            }
            print(&json!({"jobs": jobs}))
        }
        JobCommand::Describe { id, remote } => {
            print(&remote.call("GET", &format!("/v1/jobs/{}", urlencoding(&id)), None)?)
        }
        JobCommand::Cancel { id, reason, remote } => print(&remote.call(
            "POST",
            &format!("/v1/jobs/{}/cancel", urlencoding(&id)),
            Some(json!({"reason": reason})),
        )?),
        JobCommand::Logs { id, remote } => {
            let mut after: Option<u64> = None;
            loop {
                let mut path = format!("/v1/jobs/{}/logs?limit=1000", urlencoding(&id));
                if let Some(a) = after {
                    path.push_str(&format!("&after={a}"));
                }
                let page = remote.call("GET", &path, None)?;
                let lines = page
                    .get("lines")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for line in &lines {
                    println!(
                        "[attempt {}] {} {}",
                        line.get("attempt").unwrap_or(&Value::Null),
                        line.get("level").and_then(Value::as_str).unwrap_or(""),
                        line.get("message").and_then(Value::as_str).unwrap_or("")
                    );
                    after = line.get("seq").and_then(Value::as_u64);
                }
                if lines.len() < 1000 {
                    return Ok(ExitCode::SUCCESS);
                }
            }
        }
    }
}

/// Percent-encodes a path or query part (names and ids are plain, but a typo is not).
pub(crate) fn urlencoding(text: &str) -> String {
    sandstep::api::sigv4::uri_encode(text.as_bytes(), true)
}
