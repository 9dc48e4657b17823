//! Queues with visibility timeouts: the SQS-like store.
//!
//! ```no_run
//! use sandstep_sdk::{json, queue, HostError};
//!
//! # fn main() -> Result<(), HostError> {
//! let id = queue::send("shipments", &json!({ "order": "o-1" }).to_string())?;
//! for message in queue::receive("shipments", 10, 30)? {
//!     // ... handle message.body, then:
//!     queue::delete("shipments", &message.receipt)?;
//! }
//! # let _ = id;
//! # Ok(())
//! # }
//! ```

use crate::bindings::sandstep::host::queue as wit;
use crate::{parse_json, HostError, Value};

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The message's id, as [`send`] returned it.
    pub id: String,
    /// The body as sent.
    pub body: String,
    /// Pass to [`delete`] to remove the message; valid while it is invisible.
    pub receipt: String,
    /// How many times it was received, this time included.
    pub receive_count: u32,
}

impl Message {
    /// The body parsed as JSON.
    ///
    /// # Errors
    ///
    /// [`HostError::InvalidJson`] when the body is not JSON.
    pub fn json(&self) -> Result<Value, HostError> {
        parse_json(&self.body)
    }
}

impl From<wit::Message> for Message {
    fn from(m: wit::Message) -> Self {
        Message {
            id: m.id,
            body: m.body,
            receipt: m.receipt,
            receive_count: m.receive_count,
        }
    }
}

/// Sends `body` to `queue`; returns the message's id.
///
/// # Errors
///
/// [`HostError::AccessDenied`] when the module may not send to `queue`;
/// [`HostError::InvalidInput`] or [`HostError::LimitExceeded`] for an oversized body; any
/// other host answer.
pub fn send(queue: &str, body: &str) -> Result<String, HostError> {
    Ok(wit::send(queue, body)?)
}

/// Receives up to `max` visible messages and hides them for `visibility_seconds`.
///
/// # Errors
///
/// [`HostError::AccessDenied`] when the module may not receive from `queue`; any other
/// host answer.
pub fn receive(queue: &str, max: u32, visibility_seconds: u32) -> Result<Vec<Message>, HostError> {
    Ok(wit::receive(queue, max, visibility_seconds)?
        .into_iter()
        .map(Message::from)
        .collect())
}

/// Deletes a received message; `false` when the receipt is no longer valid.
///
/// # Errors
///
/// As [`receive`].
pub fn delete(queue: &str, receipt: &str) -> Result<bool, HostError> {
    Ok(wit::delete(queue, receipt)?)
}
