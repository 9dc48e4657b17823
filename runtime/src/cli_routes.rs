//! `sandstep route ...`: the tenant's HTTP routes through a running server's `/v1/routes`
//! API. Requests reach a route at `<endpoint>/hooks/<account><path>`.

use crate::cli_jobs::{print, urlencoding, Remote};
use anyhow::Context as _;
use clap::Subcommand;
use serde_json::{json, Value};
use std::process::ExitCode;

// Parsed once per process: the size of its largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
pub enum RouteCommand {
    /// Creates a route, or replaces it.
    Put {
        /// The route's name.
        name: String,
        /// The method it answers (GET, POST, ..., or ANY).
        #[arg(long, default_value = "POST")]
        method: String,
        /// Its path template: `/orders/{id}`, `/files/{path+}`.
        #[arg(long)]
        path: String,
        /// The state machine it starts.
        #[arg(long = "state-machine-arn")]
        state_machine_arn: String,
        /// `async` (answers 202 with the execution's ARN) or `sync` (Express machines:
        /// answers the output).
        #[arg(long, default_value = "async")]
        mode: String,
        /// `none`, `api-key`, `sigv4` or `hmac`.
        #[arg(long, default_value = "none")]
        auth: String,
        /// An accepted API key (`--auth api-key`; repeatable).
        #[arg(long = "key")]
        keys: Vec<String>,
        /// The HMAC secret (`--auth hmac`).
        #[arg(long, env = "SANDSTEP_ROUTE_SECRET")]
        secret: Option<String>,
        /// The sender's signature style: github, stripe, slack or sha256.
        #[arg(long, default_value = "github")]
        style: String,
        /// The execution's input from the request: `{% ... %}` or `$.body`.
        #[arg(long)]
        input: Option<String>,
        /// Requests per second, on average.
        #[arg(long)]
        rate: Option<f64>,
        /// Requests at once [the rate, at least 1].
        #[arg(long)]
        burst: Option<u32>,
        /// The largest body accepted, in bytes [1 MiB].
        #[arg(long)]
        max_body_bytes: Option<u64>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Lists the routes with their URLs.
    List {
        #[command(flatten)]
        remote: Remote,
    },
    /// Deletes a route.
    Delete {
        /// The route's name.
        name: String,
        #[command(flatten)]
        remote: Remote,
    },
}

/// Runs a `route` command.
pub fn route(command: RouteCommand) -> anyhow::Result<ExitCode> {
    match command {
        RouteCommand::Put {
            name,
            method,
            path,
            state_machine_arn,
            mode,
            auth,
            keys,
            secret,
            style,
            input,
            rate,
            burst,
            max_body_bytes,
            remote,
        } => {
            let auth = match auth.as_str() {
                "none" => json!({"type": "none"}),
                "sigv4" => json!({"type": "sigv4"}),
                "api-key" => json!({"type": "apiKey", "keys": keys}),
                "hmac" => {
                    json!({"type": "hmac", "style": style, "secret": secret.context("--auth hmac needs --secret")?})
                }
                other => anyhow::bail!("--auth {other}: expected none, api-key, sigv4 or hmac"),
            };
            let mut body = json!({
                "method": method, "path": path, "stateMachineArn": state_machine_arn,
                "mode": mode, "auth": auth, "input": input, "maxBodyBytes": max_body_bytes,
            });
            if let Some(fields) = body.as_object_mut() {
                if let Some(rate) = rate {
                    let burst = burst.unwrap_or_else(|| rate.ceil().max(1.0) as u32);
                    fields.insert(
                        "rateLimit".into(),
                        json!({"perSecond": rate, "burst": burst}),
                    );
                }
                fields.retain(|_, v| !v.is_null());
            }
            let path = format!("/v1/routes/{}", urlencoding(&name));
            print(&remote.call("PUT", &path, Some(body))?)
        }
        RouteCommand::List { remote } => {
            let listed: Value = remote.call("GET", "/v1/routes", None)?;
            print(&listed)
        }
        RouteCommand::Delete { name, remote } => {
            let path = format!("/v1/routes/{}", urlencoding(&name));
            print(&remote.call("DELETE", &path, None)?)
        }
    }
}
