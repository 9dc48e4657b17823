//! Liveness signals for Task states with `HeartbeatSeconds`.
//!
//! A long task beats more often than every `HeartbeatSeconds`, or the runtime fails it with
//! `States.HeartbeatTimeout`:
//!
//! ```no_run
//! # fn main() -> Result<(), sandstep_sdk::HostError> {
//! for chunk in 0..100 {
//!     // ... work on chunk ...
//!     # let _ = chunk;
//!     sandstep_sdk::heartbeat::beat()?;
//! }
//! # Ok(())
//! # }
//! ```

use crate::bindings::sandstep::host::heartbeat as wit;
use crate::HostError;

/// Tells the runtime the task is alive; resets the heartbeat clock.
///
/// # Errors
///
/// Any host answer, e.g. [`HostError::Unavailable`].
pub fn beat() -> Result<(), HostError> {
    Ok(wit::beat()?)
}
