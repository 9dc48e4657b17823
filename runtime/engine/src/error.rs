//! The ASL error vocabulary and the engine's own errors.

use std::fmt;

/// An error name as `Retry` and `Catch` match it: the predefined `States.*` names, or any
/// name a task or a Fail state raises.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ErrorName {
    /// `States.ALL`: only valid in `ErrorEquals`.
    All,
    /// `States.HeartbeatTimeout`: a task missed its heartbeat.
    HeartbeatTimeout,
    /// `States.Timeout`: a task or the execution ran past its deadline.
    Timeout,
    /// `States.TaskFailed`: a task failed without a name of its own.
    TaskFailed,
    /// `States.Permissions`: not allowed to run the task.
    Permissions,
    /// `States.ResultPathMatchFailure`: ResultPath cannot be applied to the input.
    ResultPathMatchFailure,
    /// `States.ParameterPathFailure`: a Parameters path matched nothing.
    ParameterPathFailure,
    /// `States.BranchFailed`: a Parallel branch failed.
    BranchFailed,
    /// `States.NoChoiceMatched`: no Choice rule matched and there is no Default.
    NoChoiceMatched,
    /// `States.IntrinsicFailure`: an intrinsic function failed.
    IntrinsicFailure,
    /// `States.ExceedToleratedFailureThreshold`: a Map had too many failed items.
    ExceedToleratedFailureThreshold,
    /// `States.ItemReaderFailed`.
    ItemReaderFailed,
    /// `States.ResultWriterFailed`.
    ResultWriterFailed,
    /// `States.Runtime`: a runtime error; never caught or retried.
    Runtime,
    /// `States.DataLimitExceeded`: a payload above the service limit; not matched by `States.ALL`.
    DataLimitExceeded,
    /// `States.QueryEvaluationError`: a JSONata evaluation failed.
    QueryEvaluationError,
    /// Any other name, e.g. a task's own `PaymentDeclined`.
    Custom(String),
}

const PREDEFINED: [(&str, ErrorName); 16] = [
    ("States.ALL", ErrorName::All),
    ("States.HeartbeatTimeout", ErrorName::HeartbeatTimeout),
    ("States.Timeout", ErrorName::Timeout),
    ("States.TaskFailed", ErrorName::TaskFailed),
    ("States.Permissions", ErrorName::Permissions),
    (
        "States.ResultPathMatchFailure",
        ErrorName::ResultPathMatchFailure,
    ),
    (
        "States.ParameterPathFailure",
        ErrorName::ParameterPathFailure,
    ),
    ("States.BranchFailed", ErrorName::BranchFailed),
    ("States.NoChoiceMatched", ErrorName::NoChoiceMatched),
    ("States.IntrinsicFailure", ErrorName::IntrinsicFailure),
    (
        "States.ExceedToleratedFailureThreshold",
        ErrorName::ExceedToleratedFailureThreshold,
    ),
    ("States.ItemReaderFailed", ErrorName::ItemReaderFailed),
    ("States.ResultWriterFailed", ErrorName::ResultWriterFailed),
    ("States.Runtime", ErrorName::Runtime),
    ("States.DataLimitExceeded", ErrorName::DataLimitExceeded),
    (
        "States.QueryEvaluationError",
        ErrorName::QueryEvaluationError,
    ),
];

impl ErrorName {
    /// Reads a name; unknown names become [`ErrorName::Custom`].
    pub fn parse(name: &str) -> ErrorName {
        PREDEFINED
            .iter()
            .find(|(text, _)| *text == name)
            .map(|(_, known)| known.clone())
            .unwrap_or_else(|| ErrorName::Custom(name.to_string()))
    }

    /// The AWS spelling.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorName::Custom(name) => name,
            known => PREDEFINED
                .iter()
                .find(|(_, k)| k == known)
                .map(|(text, _)| *text)
                .unwrap_or("States.Runtime"),
        }
    }

    /// Whether an `ErrorEquals` entry `pattern` matches this error. `States.ALL` matches
    /// everything except the terminal errors AWS never lets a workflow handle.
    pub fn matched_by(&self, pattern: &ErrorName) -> bool {
        if *self == ErrorName::Runtime {
            return false;
        }
        match pattern {
            ErrorName::All => *self != ErrorName::DataLimitExceeded,
            _ => pattern == self,
        }
    }

    /// As [`ErrorName::matched_by`], for the failure of a Task state: there
    /// `States.TaskFailed` is AWS's wildcard for the task's errors, matching any name but
    /// `States.Timeout` (and what nothing matches; a JSONata error is the state's, not
    /// the task's).
    pub fn matched_in_task_by(&self, pattern: &ErrorName) -> bool {
        self.matched_by(pattern)
            || (*pattern == ErrorName::TaskFailed
                && !matches!(
                    self,
                    ErrorName::Timeout
                        | ErrorName::Runtime
                        | ErrorName::DataLimitExceeded
                        | ErrorName::QueryEvaluationError
                ))
    }
}

impl fmt::Display for ErrorName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure raised inside the workflow: what `Catch` sees as `{"Error", "Cause"}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The error name; a Fail state may leave it out.
    pub error: Option<ErrorName>,
    /// The human-readable cause; may be absent.
    pub cause: Option<String>,
}

impl Failure {
    /// A failure with both fields.
    pub fn new(error: ErrorName, cause: impl Into<String>) -> Failure {
        Failure {
            error: Some(error),
            cause: Some(cause.into()),
        }
    }

    /// A `States.Runtime` failure.
    pub fn runtime(cause: impl Into<String>) -> Failure {
        Failure::new(ErrorName::Runtime, cause)
    }

    /// Whether an `ErrorEquals` list matches this failure, of a Task state (`in_task`) or
    /// another.
    pub fn matched_by(&self, patterns: &[ErrorName], in_task: bool) -> bool {
        match &self.error {
            Some(name) if in_task => patterns.iter().any(|p| name.matched_in_task_by(p)),
            Some(name) => patterns.iter().any(|p| name.matched_by(p)),
            // An unnamed failure (a Fail state without Error) is matched only by States.ALL.
            None => patterns.contains(&ErrorName::All),
        }
    }
}

/// Why the engine could not apply an event: a bug in the caller or a corrupt history,
/// never a workflow failure (those become [`Failure`]s inside the execution).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The definition is not valid ASL.
    #[error("invalid definition at {location}: {message}")]
    Definition {
        /// JSON location of the problem.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// The definition uses a feature the engine does not run.
    #[error("not supported: {0}")]
    Unsupported(String),
    /// An event does not fit the execution's state (e.g. a result for an unknown task).
    #[error("unexpected event: {0}")]
    UnexpectedEvent(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for (text, name) in PREDEFINED {
            assert_eq!(ErrorName::parse(text), name);
            assert_eq!(name.to_string(), text);
        }
        assert_eq!(ErrorName::parse("Payment").to_string(), "Payment");
    }

    #[test]
    fn states_all_skips_terminal_errors() {
        let all = [ErrorName::All];
        assert!(Failure::new(ErrorName::Timeout, "x").matched_by(&all, false));
        assert!(!Failure::runtime("x").matched_by(&all, false));
        assert!(!Failure::runtime("x").matched_by(&[ErrorName::Runtime], false));
        assert!(!Failure::new(ErrorName::DataLimitExceeded, "x").matched_by(&all, false));
        assert!(Failure::new(ErrorName::DataLimitExceeded, "x")
            .matched_by(&[ErrorName::DataLimitExceeded], false));
        assert!(Failure {
            error: None,
            cause: None
        }
        .matched_by(&all, false));
    }

    #[test]
    fn states_task_failed_is_a_wildcard_in_a_task_state_only() {
        let task_failed = [ErrorName::TaskFailed];
        let custom = Failure::new(ErrorName::parse("PaymentDeclined"), "x");
        assert!(custom.matched_by(&task_failed, true));
        assert!(!custom.matched_by(&task_failed, false));
        assert!(!Failure::new(ErrorName::Timeout, "x").matched_by(&task_failed, true));
        assert!(!Failure::new(ErrorName::QueryEvaluationError, "x").matched_by(&task_failed, true));
        assert!(!Failure::runtime("x").matched_by(&task_failed, true));
    }
}
