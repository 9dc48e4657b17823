//! Topics: the SNS-like store. Published messages are kept for delivery to subscribers.
//!
//! ```no_run
//! # fn main() -> Result<(), sandstep_sdk::HostError> {
//! let id = sandstep_sdk::topic::publish("orders", r#"{"shipped":"o-1"}"#, Some("shipped"))?;
//! # let _ = id;
//! # Ok(())
//! # }
//! ```

use crate::bindings::sandstep::host::topic as wit;
use crate::HostError;

/// Publishes `message` to `topic`, with an optional `subject`; returns the message's id.
///
/// # Errors
///
/// [`HostError::AccessDenied`] when the module may not publish to `topic`;
/// [`HostError::InvalidInput`] or [`HostError::LimitExceeded`] for an oversized message;
/// any other host answer.
pub fn publish(topic: &str, message: &str, subject: Option<&str>) -> Result<String, HostError> {
    Ok(wit::publish(topic, message, subject)?)
}
