//! Answers to tasks that wait for their token (`.waitForTaskToken` and activity tasks),
//! as SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat give them: an approval or
//! webhook module completes another execution's task. The module needs the grant
//! `callback:<state machine>` (or `callback:*`) for the machine whose task it answers.
//!
//! ```no_run
//! use sandstep_sdk::{callback, json, Context, TaskError, Value};
//!
//! fn decide(input: Value, _: &Context) -> Result<Value, TaskError> {
//!     let token = input["token"].as_str().unwrap_or_default();
//!     match input["approved"].as_bool() {
//!         Some(true) => callback::succeed(token, &json!({"approved": true}))?,
//!         _ => callback::fail(token, "Rejected", "the manager said no")?,
//!     }
//!     Ok(json!({"answered": token}))
//! }
//! # sandstep_sdk::task!(decide);
//! ```

use crate::bindings::sandstep::host::callback as wit;
use crate::{TaskError, Value};
use std::fmt;

/// Why an answer was not taken; `?` in a handler turns it into a [`TaskError`] of the
/// same name (`TaskTimedOut`, ...), AWS's names for the same refusals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackError {
    /// The module was not granted to answer tasks of that state machine.
    AccessDenied(String),
    /// Not a task token.
    InvalidToken(String),
    /// No task of the tenant has this token.
    TaskDoesNotExist(String),
    /// The task no longer waits.
    TaskTimedOut(String),
    /// The output is not JSON or too large.
    InvalidOutput(String),
    /// The host failed; the call may succeed if retried.
    Unavailable(String),
}

impl CallbackError {
    /// The error's name: `AccessDenied`, `InvalidToken`, ...
    pub fn name(&self) -> &'static str {
        match self {
            CallbackError::AccessDenied(_) => "AccessDenied",
            CallbackError::InvalidToken(_) => "InvalidToken",
            CallbackError::TaskDoesNotExist(_) => "TaskDoesNotExist",
            CallbackError::TaskTimedOut(_) => "TaskTimedOut",
            CallbackError::InvalidOutput(_) => "InvalidOutput",
            CallbackError::Unavailable(_) => "Unavailable",
        }
    }

    /// What the host said.
    pub fn message(&self) -> &str {
        match self {
            CallbackError::AccessDenied(m)
            | CallbackError::InvalidToken(m)
            | CallbackError::TaskDoesNotExist(m)
            | CallbackError::TaskTimedOut(m)
            | CallbackError::InvalidOutput(m)
            | CallbackError::Unavailable(m) => m,
        }
    }
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name(), self.message())
    }
}

impl std::error::Error for CallbackError {}

impl From<wit::CallbackError> for CallbackError {
    fn from(e: wit::CallbackError) -> Self {
        match e {
            wit::CallbackError::AccessDenied(m) => CallbackError::AccessDenied(m),
            wit::CallbackError::InvalidToken(m) => CallbackError::InvalidToken(m),
            wit::CallbackError::TaskDoesNotExist(m) => CallbackError::TaskDoesNotExist(m),
            wit::CallbackError::TaskTimedOut(m) => CallbackError::TaskTimedOut(m),
            wit::CallbackError::InvalidOutput(m) => CallbackError::InvalidOutput(m),
            wit::CallbackError::Unavailable(m) => CallbackError::Unavailable(m),
        }
    }
}

impl From<CallbackError> for TaskError {
    fn from(e: CallbackError) -> Self {
        TaskError::new(e.name(), e.message())
    }
}

/// Completes the task `token` names with `output`, its result.
///
/// # Errors
/// A [`CallbackError`] when the answer was not taken.
pub fn succeed(token: &str, output: &Value) -> Result<(), CallbackError> {
    Ok(wit::succeed(token, &output.to_string())?)
}

/// Fails the task `token` names with `error` and `cause`, which its Retry and Catch see.
///
/// # Errors
/// A [`CallbackError`] when the answer was not taken.
pub fn fail(token: &str, error: &str, cause: &str) -> Result<(), CallbackError> {
    Ok(wit::fail(token, error, cause)?)
}

/// Says the task `token` names is alive: its heartbeat clock starts again.
///
/// # Errors
/// A [`CallbackError`] when the answer was not taken.
pub fn heartbeat(token: &str) -> Result<(), CallbackError> {
    Ok(wit::heartbeat(token)?)
}
