//! `sandstep data ...`: the tenant's tables, buckets, queues and topics through a running
//! server's `/v1` data API (what the console's data browser shows). The AWS CLI reaches the
//! same data through the AWS APIs; this needs no AWS tooling.

use crate::cli_jobs::{print, urlencoding, Remote};
use anyhow::Context as _;
use clap::Subcommand;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Lists the tables with their keys and item counts.
    Tables {
        #[command(flatten)]
        remote: Remote,
    },
    /// Prints a page of a table's items as plain JSON.
    Items {
        /// The table.
        table: String,
        /// Items per page [50].
        #[arg(long)]
        limit: Option<u64>,
        /// Where to continue (the previous page's `next`).
        #[arg(long)]
        next: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Writes an item (plain JSON, key attributes included).
    PutItem {
        /// The table.
        table: String,
        /// The item, e.g. '{"sku": "WIDGET-A", "stock": 10}'.
        item: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Deletes an item by its key attributes (plain JSON).
    DeleteItem {
        /// The table.
        table: String,
        /// The key, e.g. '{"sku": "WIDGET-A"}'.
        key: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Lists the buckets.
    Buckets {
        #[command(flatten)]
        remote: Remote,
    },
    /// Lists a bucket's objects.
    Objects {
        /// The bucket.
        bucket: String,
        /// Only keys starting with this.
        #[arg(long, default_value = "")]
        prefix: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Downloads an object to a file (or stdout).
    Get {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The file to write; stdout without it.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Uploads a file as an object.
    Put {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The file.
        file: PathBuf,
        #[command(flatten)]
        remote: Remote,
    },
    /// Deletes an object.
    Rm {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Lists the queues with their message counts.
    Queues {
        #[command(flatten)]
        remote: Remote,
    },
    /// Shows a queue's oldest messages without receiving them.
    Peek {
        /// The queue.
        queue: String,
        /// Messages to show [10].
        #[arg(long)]
        limit: Option<u64>,
        #[command(flatten)]
        remote: Remote,
    },
    /// Sends a message to a queue.
    Send {
        /// The queue.
        queue: String,
        /// The message body.
        body: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Deletes every message of a queue.
    Purge {
        /// The queue.
        queue: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Lists the topics with their subscription counts.
    Topics {
        #[command(flatten)]
        remote: Remote,
    },
    /// Lists a topic's subscriptions.
    Subscriptions {
        /// The topic.
        topic: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Publishes a message to a topic.
    Publish {
        /// The topic.
        topic: String,
        /// The message.
        message: String,
        /// Its subject.
        #[arg(long)]
        subject: Option<String>,
        #[command(flatten)]
        remote: Remote,
    },
}

/// An object key as a path: each segment encoded, the slashes kept.
fn key_path(key: &str) -> String {
    key.split('/')
        .map(urlencoding)
        .collect::<Vec<_>>()
        .join("/")
}

/// Runs a `data` command.
pub fn data(command: DataCommand) -> anyhow::Result<ExitCode> {
    use DataCommand as D;
    let out = match command {
        D::Tables { remote } => remote.call("GET", "/v1/tables", None)?,
        D::Items {
            table,
            limit,
            next,
            remote,
        } => {
            let mut path = format!(
                "/v1/tables/{}/items?limit={}",
                urlencoding(&table),
                limit.unwrap_or(50)
            );
            if let Some(n) = next {
                path.push_str(&format!("&next={}", urlencoding(&n)));
            }
            remote.call("GET", &path, None)?
        }
        D::PutItem {
            table,
            item,
            remote,
        } => {
            let item: Value = serde_json::from_str(&item).context("the item is not JSON")?;
            remote.call(
                "PUT",
                &format!("/v1/tables/{}/items", urlencoding(&table)),
                Some(item),
            )?
        }
        D::DeleteItem { table, key, remote } => {
            serde_json::from_str::<Value>(&key).context("the key is not JSON")?;
            let path = format!(
                "/v1/tables/{}/items?key={}",
                urlencoding(&table),
                urlencoding(&key)
            );
            remote.call("DELETE", &path, None)?
        }
        D::Buckets { remote } => remote.call("GET", "/v1/buckets", None)?,
        D::Objects {
            bucket,
            prefix,
            remote,
        } => {
            let path = format!(
                "/v1/buckets/{}/objects?prefix={}",
                urlencoding(&bucket),
                urlencoding(&prefix)
            );
            remote.call("GET", &path, None)?
        }
        D::Get {
            bucket,
            key,
            out,
            remote,
        } => {
            let path = format!(
                "/v1/buckets/{}/objects/{}",
                urlencoding(&bucket),
                key_path(&key)
            );
            let response = match remote.request("GET", &path).call() {
                Ok(r) => r,
                Err(ureq::Error::Status(code, r)) => {
                    anyhow::bail!(
                        "the server answered {code}: {}",
                        r.into_string().unwrap_or_default()
                    )
                }
                Err(e) => return Err(e.into()),
            };
            let mut reader = response.into_reader();
            let written = match out {
                Some(file) => {
                    let mut f = std::fs::File::create(&file)
                        .with_context(|| format!("creating {}", file.display()))?;
                    std::io::copy(&mut reader, &mut f)?
                }
                None => std::io::copy(&mut reader, &mut std::io::stdout().lock())?,
            };
            eprintln!("{written} bytes");
            return Ok(ExitCode::SUCCESS);
        }
        D::Put {
            bucket,
            key,
            file,
            remote,
        } => {
            let f = std::fs::File::open(&file)
                .with_context(|| format!("opening {}", file.display()))?;
            let size = f.metadata()?.len();
            let path = format!(
                "/v1/buckets/{}/objects/{}",
                urlencoding(&bucket),
                key_path(&key)
            );
            let answer = remote
                .request("PUT", &path)
                .set("content-length", &size.to_string())
                .set("content-type", "application/octet-stream")
                .send(f);
            crate::http_json(answer)?
        }
        D::Rm {
            bucket,
            key,
            remote,
        } => {
            let path = format!(
                "/v1/buckets/{}/objects/{}",
                urlencoding(&bucket),
                key_path(&key)
            );
            remote.call("DELETE", &path, None)?
        }
        D::Queues { remote } => remote.call("GET", "/v1/queues", None)?,
        D::Peek {
            queue,
            limit,
            remote,
        } => {
            let path = format!(
                "/v1/queues/{}/messages?limit={}",
                urlencoding(&queue),
                limit.unwrap_or(10)
            );
            remote.call("GET", &path, None)?
        }
        D::Send {
            queue,
            body,
            remote,
        } => {
            let answer = remote
                .request(
                    "POST",
                    &format!("/v1/queues/{}/messages", urlencoding(&queue)),
                )
                .set("content-type", "text/plain")
                .send_string(&body);
            crate::http_json(answer)?
        }
        D::Purge { queue, remote } => remote.call(
            "DELETE",
            &format!("/v1/queues/{}/messages", urlencoding(&queue)),
            None,
        )?,
        D::Topics { remote } => remote.call("GET", "/v1/topics", None)?,
        D::Subscriptions { topic, remote } => remote.call(
            "GET",
            &format!("/v1/topics/{}/subscriptions", urlencoding(&topic)),
            None,
        )?,
        D::Publish {
            topic,
            message,
            subject,
            remote,
        } => remote.call(
            "POST",
            &format!("/v1/topics/{}/messages", urlencoding(&topic)),
            Some(json!({"message": message, "subject": subject})),
        )?,
    };
    print(&out)
}
