//! `sandstep binding ...`: the tenant's resource bindings (a Task resource pattern played
//! by a module) through a running server's `/v1/bindings` API.

use crate::cli_jobs::{print, urlencoding, Remote};
use clap::Subcommand;
use serde_json::json;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum BindingCommand {
    /// Binds a Task resource (exact, or a prefix ending in `*`) to a module, replacing the
    /// pattern's binding if it had one.
    Set {
        /// The resource pattern: `arn:aws:states:::glue:startJobRun.sync`,
        /// `arn:aws:states:::aws-sdk:rekognition:*`, ...
        resource: String,
        /// The module that plays it: `name` (its latest version at each execution's
        /// start) or `name:version`.
        module: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Lists the bindings.
    List {
        #[command(flatten)]
        remote: Remote,
    },
    /// Deletes a binding (running executions keep what they pinned).
    Delete {
        /// The binding's pattern, as set.
        resource: String,
        #[command(flatten)]
        remote: Remote,
    },
}

/// Runs a `binding` command.
pub fn binding(command: BindingCommand) -> anyhow::Result<ExitCode> {
    match command {
        BindingCommand::Set {
            resource,
            module,
            remote,
        } => print(&remote.call(
            "PUT",
            "/v1/bindings",
            Some(json!({ "resource": resource, "module": module })),
        )?),
        BindingCommand::List { remote } => print(&remote.call("GET", "/v1/bindings", None)?),
        BindingCommand::Delete { resource, remote } => {
            let path = format!("/v1/bindings?resource={}", urlencoding(&resource));
            print(&remote.call("DELETE", &path, None)?)
        }
    }
}
