//! How an invocation ended, and the one function that maps every ending to the ASL
//! result a workflow sees.

use super::limiter::{bytes, Refusal};
use super::watch::Interrupt;
use super::Limits;
use sandstep_engine::ErrorName;
use serde_json::Value;
use std::time::Duration;

/// A failed task as `Retry` and `Catch` see it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskFailure {
    /// The error name (`States.Timeout`, or the module's own such as `PaymentDeclined`).
    pub error: ErrorName,
    /// What happened.
    pub cause: String,
}

impl TaskFailure {
    /// A failure.
    pub fn new(error: ErrorName, cause: impl Into<String>) -> TaskFailure {
        TaskFailure {
            error,
            cause: cause.into(),
        }
    }
}

/// The level of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Very detailed.
    Trace,
    /// For debugging.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected.
    Warn,
    /// A failure.
    Error,
}

impl LogLevel {
    /// `TRACE`, `DEBUG`, `INFO`, `WARN` or `ERROR`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "TRACE",
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        }
    }
}

/// One line a module logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: LogLevel,
    /// The message (cut at [`Limits::log_line_bytes`]).
    pub message: String,
}

/// What one invocation produced.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskOutcome {
    /// The output, or the failure.
    pub result: Result<Value, TaskFailure>,
    /// Fuel used. When the watch stopped the module (deadline, heartbeat, cancel) the engine
    /// cannot count what a running loop used, and the whole budget is billed.
    pub fuel_consumed: u64,
    /// Wall-clock time, from the start of the invocation to its end.
    pub duration: Duration,
    /// What the module logged (`log.write`), at most [`Limits::log_lines`] lines.
    pub logs: Vec<LogLine>,
    /// Log lines dropped past the limit.
    pub logs_dropped: u64,
    /// A command's stderr (at most [`Limits::stderr_bytes`]); empty for components.
    pub stderr: String,
    /// A command's exit status (0 when it succeeded); `None` for components and for a
    /// command that did not exit (stopped, trapped).
    pub exit_code: Option<i32>,
}

/// How a module's run ended, before it is judged.
#[derive(Debug)]
pub(crate) enum Ending {
    /// Output text: a component's `ok`, or a command's stdout after exit 0.
    Returned(String),
    /// A component's `task-error`.
    Raised { name: String, cause: String },
    /// A command's non-zero exit.
    Exited { code: i32, stderr: String },
    /// The watch stopped it.
    Interrupted(Interrupt),
    /// The fuel budget ran out.
    OutOfFuel,
    /// A trap, with the limit that caused it if the limiter refused a growth.
    Trapped {
        message: String,
        refused: Option<Refusal>,
    },
    /// The output went past the limit (for a command: stdout filled its capture).
    OutputTooLarge { size: Option<usize> },
    /// The input went past the limit.
    InputTooLarge { size: usize },
    /// Any other failure, with its cause (instantiation failed, output not text, ...).
    HostFault(String),
}

/// The one mapping from an ending to what the workflow sees.
pub(crate) fn judge(ending: Ending, limits: &Limits) -> Result<Value, TaskFailure> {
    let fail = |error: ErrorName, cause: String| Err(TaskFailure { error, cause });
    match ending {
        Ending::Returned(text) if text.len() > limits.max_output_bytes => {
            judge(Ending::OutputTooLarge { size: Some(text.len()) }, limits)
        }
        Ending::Returned(text) => serde_json::from_str(&text).or_else(|e| {
            fail(
                ErrorName::TaskFailed,
                format!("the task's output is not valid JSON: {e}"),
            )
        }),
        Ending::Raised { name, .. } if name.starts_with("States.") => fail(
            ErrorName::TaskFailed,
            format!("the task raised the reserved error name '{name}': names starting with 'States.' belong to the runtime"),
        ),
        Ending::Raised { name, .. } if name.is_empty() => fail(
            ErrorName::TaskFailed,
            "the task raised an error with an empty name".to_string(),
        ),
        Ending::Raised { name, cause } => fail(ErrorName::Custom(name), cause),
        Ending::Exited { code, stderr } => fail(
            ErrorName::TaskFailed,
            if stderr.trim().is_empty() {
                format!("the command exited with status {code}")
            } else {
                format!("the command exited with status {code}: {}", stderr.trim_end())
            },
        ),
        Ending::Interrupted(Interrupt::Deadline(timeout)) => fail(
            ErrorName::Timeout,
            format!("the task ran past its timeout of {}", seconds(timeout)),
        ),
        Ending::Interrupted(Interrupt::Heartbeat(interval)) => fail(
            ErrorName::HeartbeatTimeout,
            format!("the task sent no heartbeat within {}", seconds(interval)),
        ),
        Ending::Interrupted(Interrupt::Cancelled) => fail(
            ErrorName::Runtime,
            "the task was cancelled (its execution stopped)".to_string(),
        ),
        Ending::OutOfFuel => fail(
            ErrorName::Timeout,
            format!("the task used its whole fuel budget of {}", limits.fuel),
        ),
        Ending::Trapped {
            message,
            refused: Some(refused),
        } => fail(
            ErrorName::TaskFailed,
            format!("the module trapped: {message}; {refused}"),
        ),
        Ending::Trapped { message, refused: None } => fail(
            ErrorName::TaskFailed,
            format!("the module trapped: {message}"),
        ),
        Ending::OutputTooLarge { size } => fail(
            ErrorName::DataLimitExceeded,
            match size {
                Some(size) => format!(
                    "the task's output of {size} bytes exceeds the limit of {}",
                    bytes(limits.max_output_bytes)
                ),
                None => format!(
                    "the task's output exceeds the limit of {}",
                    bytes(limits.max_output_bytes)
                ),
            },
        ),
        Ending::InputTooLarge { size } => fail(
            ErrorName::DataLimitExceeded,
            format!(
                "the task's input of {size} bytes exceeds the limit of {}",
                bytes(limits.max_input_bytes)
            ),
        ),
        Ending::HostFault(message) => fail(ErrorName::TaskFailed, message),
    }
}

fn seconds(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(ending: Ending) -> (String, String) {
        let f = judge(ending, &Limits::default()).unwrap_err();
        (f.error.to_string(), f.cause)
    }

    #[test]
    fn maps_every_ending_once() {
        assert_eq!(
            judge(Ending::Returned("{\"a\":1}".into()), &Limits::default()).unwrap(),
            serde_json::json!({"a": 1})
        );
        assert_eq!(
            error_of(Ending::Returned("nope".into())).0,
            "States.TaskFailed"
        );
        assert_eq!(
            error_of(Ending::Returned("\"".repeat(300 * 1024))).0,
            "States.DataLimitExceeded"
        );
        assert_eq!(
            error_of(Ending::Raised {
                name: "PaymentDeclined".into(),
                cause: "too much".into()
            }),
            ("PaymentDeclined".into(), "too much".into())
        );
        let (error, cause) = error_of(Ending::Raised {
            name: "States.Timeout".into(),
            cause: "fake".into(),
        });
        assert_eq!(error, "States.TaskFailed");
        assert!(cause.contains("reserved"), "{cause}");
        assert_eq!(
            error_of(Ending::Interrupted(Interrupt::Deadline(
                Duration::from_secs(1)
            ))),
            (
                "States.Timeout".into(),
                "the task ran past its timeout of 1 s".into()
            )
        );
        assert_eq!(
            error_of(Ending::Interrupted(Interrupt::Heartbeat(
                Duration::from_millis(1500)
            )))
            .0,
            "States.HeartbeatTimeout"
        );
        assert_eq!(error_of(Ending::OutOfFuel).0, "States.Timeout");
        let (error, cause) = error_of(Ending::Trapped {
            message: "wasm trap: unreachable".into(),
            refused: Some(Refusal::Memory {
                desired: 65 << 20,
                limit: 64 << 20,
            }),
        });
        assert_eq!(error, "States.TaskFailed");
        assert!(cause.contains("memory limit of 64 MiB"), "{cause}");
        let (error, cause) = error_of(Ending::Exited {
            code: 2,
            stderr: "bad input\n".into(),
        });
        assert_eq!(
            (error.as_str(), cause.as_str()),
            (
                "States.TaskFailed",
                "the command exited with status 2: bad input"
            )
        );
        assert_eq!(
            error_of(Ending::InputTooLarge { size: 1 << 20 }).0,
            "States.DataLimitExceeded"
        );
    }
}
