//! `sandstep role ...`: the tenant's roles (what its state machines' integrations may
//! touch) through a running server's `/v1/roles` API.

use crate::cli_jobs::{print, urlencoding, Remote};
use clap::Subcommand;
use serde_json::json;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum RoleCommand {
    /// Creates a role, or replaces its grants.
    Put {
        /// The role's name (the last part of the `roleArn` a state machine names;
        /// `default` for machines whose role is not defined).
        name: String,
        /// Grants, as for modules: `kv:orders`, `queue:jobs:write`, `blob:*:read`, ...
        #[arg(long = "grant", value_name = "KIND:NAME[:ACCESS]")]
        grants: Vec<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Lists the roles.
    List {
        #[command(flatten)]
        remote: Remote,
    },
    /// Deletes a role.
    Delete {
        /// The role's name.
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
}

/// Runs a `role` command.
pub fn role(command: RoleCommand) -> anyhow::Result<ExitCode> {
    match command {
        RoleCommand::Put {
            name,
            grants,
            remote,
        } => {
            let path = format!("/v1/roles/{}", urlencoding(&name));
            print(&remote.call("PUT", &path, Some(json!({ "grants": grants })))?)
        }
        RoleCommand::List { remote } => print(&remote.call("GET", "/v1/roles", None)?),
        RoleCommand::Delete { name, remote } => {
            let path = format!("/v1/roles/{}", urlencoding(&name));
            print(&remote.call("DELETE", &path, None)?)
        }
    }
}
