//! `sandstep schedule ...` and `sandstep bus ...`: the tenant's schedules, and what its
//! event buses keep (dead letters, the latest events), through a running server's `/v1`
//! API.

use crate::cli_jobs::{print, urlencoding, Remote};
use anyhow::Context as _;
use clap::Subcommand;
use serde_json::{json, Value};
use std::process::ExitCode;

// Parsed once per process: the size of its largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum ScheduleCommand {
    /// Creates a schedule, or replaces it; prints it with its next five fire times.
    Put {
        /// The schedule's name.
        name: String,
        /// `rate(5 minutes)`, `cron(0 9 ? * MON-FRI *)` or `at(2027-01-01T09:00:00)`.
        #[arg(long)]
        expression: String,
        /// The state machine each fire starts.
        #[arg(long = "state-machine-arn")]
        state_machine_arn: String,
        /// The execution's input (JSON text, or @FILE) [{}].
        #[arg(long)]
        input: Option<String>,
        /// The IANA time zone of cron and at times [UTC].
        #[arg(long)]
        timezone: Option<String>,
        /// Nothing fires before (ISO 8601); a rate counts from it.
        #[arg(long)]
        start_date: Option<String>,
        /// Nothing fires after (ISO 8601).
        #[arg(long)]
        end_date: Option<String>,
        /// Fires missed while the server was down: fire-once or skip [fire-once].
        #[arg(long, default_value = "fire-once")]
        missed: String,
        /// Created disabled.
        #[arg(long)]
        disabled: bool,
        /// Its group [default].
        #[arg(long)]
        group: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Lists the schedules with their next fire times.
    List {
        /// Only this group.
        #[arg(long)]
        group: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Shows a schedule and its next five fire times.
    Get {
        /// The schedule's name.
        name: String,
        /// Its group [default].
        #[arg(long)]
        group: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Deletes a schedule.
    Delete {
        /// The schedule's name.
        name: String,
        /// Its group [default].
        #[arg(long)]
        group: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
}

#[derive(Subcommand, Debug)]
pub enum BusCommand {
    /// The deliveries given up on a bus, with why.
    DeadLetters {
        /// The bus [default].
        #[arg(long, default_value = "default")]
        bus: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// The latest events put on a bus.
    Tail {
        /// The bus [default].
        #[arg(long, default_value = "default")]
        bus: String,
        #[command(flatten)]
        remote: Remote,
    },
}

fn with_group(path: String, group: Option<&str>) -> String {
    match group {
        Some(g) => format!("{path}?group={}", urlencoding(g)),
        None => path,
    }
}

/// Runs a `schedule` command.
pub fn schedule(command: ScheduleCommand) -> anyhow::Result<ExitCode> {
    match command {
        ScheduleCommand::Put {
            name,
            expression,
            state_machine_arn,
            input,
            timezone,
            start_date,
            end_date,
            missed,
            disabled,
            group,
            remote,
        } => {
            let input = input
                .map(|i| match i.strip_prefix('@') {
                    Some(file) => {
                        std::fs::read_to_string(file).with_context(|| format!("reading {file}"))
                    }
                    None => Ok(i),
                })
                .transpose()?;
            let missed = match missed.as_str() {
                "fire-once" => "fireOnce",
                "skip" => "skip",
                other => anyhow::bail!("--missed {other}: expected fire-once or skip"),
            };
            let mut body = json!({
                "expression": expression,
                "target": {"arn": state_machine_arn, "input": input},
                "timezone": timezone,
                "startDate": start_date,
                "endDate": end_date,
                "missedFires": missed,
                "state": if disabled { "DISABLED" } else { "ENABLED" },
            });
            if let Some(fields) = body.as_object_mut() {
                fields.retain(|_, v| !v.is_null());
            }
            let path = with_group(
                format!("/v1/schedules/{}", urlencoding(&name)),
                group.as_deref(),
            );
            print(&remote.call("PUT", &path, Some(body))?)
        }
        ScheduleCommand::List { group, remote } => {
            let listed: Value = remote.call(
                "GET",
                &with_group("/v1/schedules".into(), group.as_deref()),
                None,
            )?;
            print(&listed)
        }
        ScheduleCommand::Get {
            name,
            group,
            remote,
        } => {
            let path = with_group(
                format!("/v1/schedules/{}", urlencoding(&name)),
                group.as_deref(),
            );
            print(&remote.call("GET", &path, None)?)
        }
        ScheduleCommand::Delete {
            name,
            group,
            remote,
        } => {
            let path = with_group(
                format!("/v1/schedules/{}", urlencoding(&name)),
                group.as_deref(),
            );
            print(&remote.call("DELETE", &path, None)?)
        }
    }
}

/// Runs a `bus` command.
pub fn bus(command: BusCommand) -> anyhow::Result<ExitCode> {
    match command {
        BusCommand::DeadLetters { bus, remote } => print(&remote.call(
            "GET",
            &format!("/v1/buses/{}/dead-letters", urlencoding(&bus)),
            None,
        )?),
        BusCommand::Tail { bus, remote } => print(&remote.call(
            "GET",
            &format!("/v1/buses/{}/tail", urlencoding(&bus)),
            None,
        )?),
    }
}
