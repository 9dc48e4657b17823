//! `sandstep sample ...`: the sample projects built into this binary. `list` reads the
//! binary's own catalogue (no server needed); `install` asks a running server to install
//! one into the caller's tenant, through `POST /v1/samples/{name}/install`.

use crate::cli_jobs::{urlencoding, Remote};
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum SampleCommand {
    /// Lists the samples: one per line, its name first.
    List,
    /// Installs a sample into a running server (its modules, data, triggers and state
    /// machines) and prints what it did; the last line is the main state machine's ARN.
    Install {
        /// The sample's name, as `sandstep sample list` prints it.
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
}

/// Runs a `sample` command.
pub fn sample(command: SampleCommand) -> anyhow::Result<ExitCode> {
    match command {
        SampleCommand::List => {
            let all = sandstep::samples::all()?;
            let width = all.iter().map(|s| s.name.len()).max().unwrap_or(0);
            for s in all {
                let m = &s.manifest;
                println!("{:width$}  {} ({})", s.name, m.title, m.category);
            }
            Ok(ExitCode::SUCCESS)
        }
        SampleCommand::Install { name, remote } => {
            let path = format!("/v1/samples/{}/install", urlencoding(&name));
            let installed = remote.call("POST", &path, None)?;
            let done = installed.get("done").and_then(|d| d.as_array());
            for line in done.into_iter().flatten() {
                println!("{}", line.as_str().unwrap_or_default());
            }
            let arn = installed.get("stateMachineArn").and_then(|a| a.as_str());
            let arn =
                arn.ok_or_else(|| anyhow::anyhow!("the server answered no ARN: {installed}"))?;
            println!("{arn}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
