//! The outputs of the engine: effects as data, run by the caller.

use crate::event::{Millis, TaskId, TimerId};
use crate::history::HistoryEvent;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// One effect the caller must carry out, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Append this event to the execution's history.
    Record(HistoryEvent),
    /// Run a task; answer with `TaskSucceeded` or `TaskFailed`.
    RunTask(TaskRequest),
    /// A task is no longer wanted (its branch failed, the execution stopped).
    CancelTask(TaskId),
    /// Deliver `TimerFired` at `due` (at once when `due` has passed).
    StartTimer {
        /// Which timer.
        timer: TimerId,
        /// When it is due.
        due: Millis,
    },
    /// A timer is no longer wanted.
    CancelTimer(TimerId),
    /// The execution is over.
    Finish(Outcome),
}

/// What a Task state asks the runtime to run. Serializable because the runtime stores
/// the tasks in flight, to run them again after a crash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRequest {
    /// Answer with this id.
    pub id: TaskId,
    /// The state's `Resource`.
    pub resource: String,
    /// The effective parameters (after InputPath and Parameters).
    pub input: Value,
    /// `TimeoutSeconds` (resolved), if any.
    pub timeout_seconds: Option<u64>,
    /// `HeartbeatSeconds` (resolved), if any.
    pub heartbeat_seconds: Option<u64>,
    /// 0 for the first attempt, then 1, 2, ... on retries.
    pub attempt: u32,
    /// The Task state's name.
    pub state_name: String,
    /// `$$.Task.Token` for `.waitForTaskToken` resources.
    pub task_token: Option<String>,
}

impl TaskRequest {
    /// The activity this task is for, when its resource is an activity ARN.
    pub fn activity(&self) -> Option<crate::ActivityArn<'_>> {
        crate::activity_arn(&self.resource)
    }
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// `SUCCEEDED` with its output (shared with the last history event).
    Succeeded(Arc<Value>),
    /// `FAILED`.
    Failed {
        /// Error name, if any.
        error: Option<String>,
        /// Cause, if any.
        cause: Option<String>,
    },
    /// `TIMED_OUT` (execution TimeoutSeconds).
    TimedOut {
        /// `States.Timeout`.
        error: Option<String>,
        /// Cause, if any.
        cause: Option<String>,
    },
    /// `ABORTED` (StopExecution).
    Aborted {
        /// Error given to StopExecution.
        error: Option<String>,
        /// Cause given to StopExecution.
        cause: Option<String>,
    },
}

impl Outcome {
    /// AWS's status name.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Succeeded(_) => "SUCCEEDED",
            Outcome::Failed { .. } => "FAILED",
            Outcome::TimedOut { .. } => "TIMED_OUT",
            Outcome::Aborted { .. } => "ABORTED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_request_is_stored_in_a_stable_shape() {
        // Stores written by earlier versions hold this shape: keep reading it.
        let stored = serde_json::json!({
            "id": 3, "resource": "arn:aws:lambda:::function:f", "input": {"a": 1},
            "timeoutSeconds": 5, "heartbeatSeconds": null, "attempt": 2,
            "stateName": "Work", "taskToken": null
        });
        let task: TaskRequest = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(task.id, TaskId(3));
        assert_eq!(task.timeout_seconds, Some(5));
        assert_eq!(task.state_name, "Work");
        assert_eq!(serde_json::to_value(&task).unwrap(), stored);
    }
}
