//! What the processes sharing the database tell each other through it, with PostgreSQL's
//! `LISTEN/NOTIFY`: that a partition was claimed or freed (`lease.rs`), and that the
//! tenants changed (a write of the tenants' table). A notice is sent in the transaction of
//! the change, so it arrives only if the change committed, and reaches every listening
//! process, this one's included.
//!
//! Notices only wake what would otherwise wait for its next look: a freed partition is
//! claimed at once instead of at the claimer's next round, a call waiting for a partition
//! that moved reads who holds it again, and a tenant created through another server is
//! known here before any call of it comes. Each of those still looks on its own every so
//! often, so a notice lost (the listening connection dropped, a slow receiver) costs time,
//! never correctness. After the connection drops, it is opened again a second later, and
//! every kind of notice is sent once then, for what was missed meanwhile.

use super::{db_error, Postgres};
use crate::store::Result;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_postgres::{AsyncMessage, NoTls};

/// The channels of one schema's notices: a database's channels are shared by all its
/// schemas, and servers on another schema (another deployment, a test) must not hear
/// these.
#[derive(Debug, Clone, Default)]
pub struct Channels {
    /// The partitions' notices.
    pub partitions: String,
    /// The tenants' notices.
    pub tenants: String,
}

impl Channels {
    /// The channels of `schema` (cut to PostgreSQL's 63 bytes of a name).
    pub fn of(schema: &str) -> Channels {
        let name = |what: &str| {
            let mut name: String = format!("sandstep_{what}_{schema}")
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() {
                        c.to_ascii_lowercase()
                    } else {
                        '_'
                    }
                })
                .collect();
            name.truncate(63);
            name
        };
        Channels {
            partitions: name("partitions"),
            tenants: name("tenants"),
        }
    }

    /// The notice a message on `channel` with `payload` is.
    fn notice(&self, channel: &str, payload: &str) -> Option<Notice> {
        if channel == self.partitions {
            Some(match payload {
                "claimed" => Notice::Claimed,
                _ => Notice::Freed,
            })
        } else if channel == self.tenants {
            Some(Notice::Tenants)
        } else {
            None
        }
    }
}

/// A notice from a process sharing the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// A partition was claimed: who holds it changed.
    Claimed,
    /// A partition was given up or released (free to claim), or a process joined: the
    /// shares changed.
    Freed,
    /// The tenants changed.
    Tenants,
}

/// How long to wait before opening a dropped listening connection again.
const AGAIN: Duration = Duration::from_secs(1);

impl Postgres {
    /// The notices of every process sharing the database, from now on. The first call
    /// opens the listening connection, kept open (and opened again) while this store
    /// lives.
    pub fn notices(&self) -> broadcast::Receiver<Notice> {
        let sender = self.notices.get_or_init(|| {
            let (sender, _) = broadcast::channel(256);
            if let Some(runtime) = &self.runtime {
                runtime.spawn(listen(
                    self.config.clone(),
                    self.channels.clone(),
                    sender.clone(),
                ));
            }
            sender
        });
        sender.subscribe()
    }
}

/// Sends a notice on `channel` within `tx` (delivered when it commits).
///
/// # Errors
/// When the database fails.
pub(super) async fn notify(
    tx: &tokio_postgres::Transaction<'_>,
    channel: &str,
    payload: &str,
) -> Result<()> {
    tx.execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Listens on both channels for as long as the driver's runtime runs, opening the
/// connection again whenever it drops.
async fn listen(
    config: tokio_postgres::Config,
    channels: Channels,
    sender: broadcast::Sender<Notice>,
) {
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (heard, mut notices) = tokio::sync::mpsc::unbounded_channel();
                let known = channels.clone();
                // The connection does its work (the LISTEN's answer included) only while
                // its messages are read.
                let reading = tokio::spawn(async move {
                    while let Some(message) =
                        std::future::poll_fn(|cx| connection.poll_message(cx)).await
                    {
                        match message {
                            Ok(AsyncMessage::Notification(n)) => {
                                if let Some(notice) = known.notice(n.channel(), n.payload()) {
                                    let _ = heard.send(notice);
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "the database's notices stopped");
                                return;
                            }
                        }
                    }
                });
                let listening = client
                    .batch_execute(&format!(
                        "LISTEN \"{}\"; LISTEN \"{}\"",
                        channels.partitions, channels.tenants
                    ))
                    .await;
                match listening {
                    Ok(()) => {
                        // Whatever happened while no one listened: look again.
                        for missed in [Notice::Freed, Notice::Claimed, Notice::Tenants] {
                            let _ = sender.send(missed);
                        }
                        while let Some(notice) = notices.recv().await {
                            let _ = sender.send(notice);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for the database's notices")
                    }
                }
                reading.abort();
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot open a connection for the database's notices")
            }
        }
        tokio::time::sleep(AGAIN).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_read_from_their_schema_s_channel_and_payload() {
        let ours = Channels::of("public");
        assert_eq!(ours.partitions, "sandstep_partitions_public");
        assert_eq!(
            ours.notice(&ours.partitions, "claimed"),
            Some(Notice::Claimed)
        );
        assert_eq!(ours.notice(&ours.partitions, "freed"), Some(Notice::Freed));
        assert_eq!(ours.notice(&ours.tenants, ""), Some(Notice::Tenants));
        let theirs = Channels::of("Other-Deployment");
        assert_eq!(theirs.tenants, "sandstep_tenants_other_deployment");
        assert_eq!(ours.notice(&theirs.partitions, "claimed"), None);
        assert_eq!(Channels::of(&"s".repeat(100)).tenants.len(), 63);
    }
}
