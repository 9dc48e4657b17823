//! The inputs of the engine: everything non-deterministic arrives as an [`Event`].

use crate::limits::Limits;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Milliseconds since the Unix epoch (UTC).
pub type Millis = i64;

/// Identifies a task the engine asked to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TaskId(pub u64);

/// Identifies a timer the engine asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TimerId(pub u64);

/// One input to [`crate::step`]. `at` is the wall-clock time the driver observed and
/// `entropy` seeds every random choice the engine makes while applying it (MathRandom,
/// UUID, retry jitter, task tokens): recording both makes replay exact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When the event happened.
    pub at: Millis,
    /// Random bits for this step.
    pub entropy: u64,
    /// What happened.
    pub kind: EventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum EventKind {
    /// The execution starts.
    Started(Start),
    /// A worker picked a task up.
    TaskStarted {
        /// Which task.
        task: TaskId,
        /// The name an activity worker gave when it took the task (`ActivityStarted`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        worker: Option<String>,
    },
    /// A running task said it is alive: its heartbeat clock starts again. Not recorded
    /// in the history AWS clients read (AWS records none either).
    TaskHeartbeat {
        /// Which task.
        task: TaskId,
    },
    /// A task that waits for its token (`.waitForTaskToken`) was handed over: its
    /// integration answered `output`, and the task now waits for `SendTaskSuccess` or
    /// `SendTaskFailure` with its token.
    TaskSubmitted {
        /// Which task.
        task: TaskId,
        /// What the integration answered (a module's output, an ARN, ...).
        output: Value,
        /// What running it cost, when a module ran it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<TaskUsage>,
    },
    /// A task returned its output.
    TaskSucceeded {
        /// Which task.
        task: TaskId,
        /// Its output.
        output: Value,
        /// What running it cost, when a module ran it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<TaskUsage>,
    },
    /// A task failed (including `States.Timeout`, `States.HeartbeatTimeout`, traps).
    TaskFailed {
        /// Which task.
        task: TaskId,
        /// The error name.
        error: String,
        /// The cause.
        cause: String,
        /// What running it cost, when a module ran it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        usage: Option<TaskUsage>,
    },
    /// The runtime could not hand the task to what should run it (an activity that does
    /// not exist): the execution fails with `States.Runtime`, which no Catch matches, and
    /// the task records no result of its own (as on AWS).
    TaskRejected {
        /// Which task.
        task: TaskId,
        /// Why, e.g. `The activity <arn> does not exist.`
        cause: String,
    },
    /// A timer the engine asked for is due.
    TimerFired {
        /// Which timer.
        timer: TimerId,
    },
    /// The runtime ends the execution as failed (a budget it used up, a quarantine after
    /// it crashed the server): recorded as `ExecutionFailed`.
    Terminated {
        /// The error name, e.g. `States.Runtime`.
        error: String,
        /// Why.
        cause: String,
    },
    /// A user redrove a failed, timed-out or aborted execution (`RedriveExecution`): the
    /// states that did not succeed run again, from the input each was entered with.
    Redriven {
        /// The caller's idempotency token: the engine ignores it; the runtime keeps it
        /// with the record, so that a repeated request answers this redrive again.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_token: Option<String>,
    },
    /// A user stopped the execution.
    Stopped {
        /// Optional error given to StopExecution.
        error: Option<String>,
        /// Optional cause given to StopExecution.
        cause: Option<String>,
    },
}

/// Which module version ran a task and what it consumed: recorded in the task's history
/// event, the basis of per-tenant metering and of pinning executions to module versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskUsage {
    /// The module's name.
    pub module: String,
    /// The module version.
    pub version: u32,
    /// Hex SHA-256 of the module's bytes.
    pub sha256: String,
    /// Fuel consumed (deterministic CPU).
    pub fuel_consumed: u64,
    /// Wall-clock time of the invocation.
    pub duration_ms: u64,
}

impl Start {
    /// Facts that name nothing, for evaluations that are given their context object
    /// whole (a Distributed Map's ItemSelector, `crate::selector`).
    pub(crate) fn placeholder() -> Start {
        Start {
            input: Value::Null,
            execution_arn: String::new(),
            name: String::new(),
            role_arn: String::new(),
            state_machine_arn: String::new(),
            state_machine_name: String::new(),
            redrive_count: 0,
            timeout_seconds: None,
            limits: Limits::default(),
            token_key: None,
            state_machine_version_arn: None,
            state_machine_alias_arn: None,
        }
    }
}

/// The facts of an execution known when it starts: what `$$.Execution` and
/// `$$.StateMachine` show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Start {
    /// The execution input.
    pub input: Value,
    /// `$$.Execution.Id`: the execution ARN.
    pub execution_arn: String,
    /// `$$.Execution.Name`.
    pub name: String,
    /// `$$.Execution.RoleArn`.
    pub role_arn: String,
    /// `$$.StateMachine.Id`.
    pub state_machine_arn: String,
    /// `$$.StateMachine.Name`.
    pub state_machine_name: String,
    /// `$$.Execution.RedriveCount`.
    #[serde(default)]
    pub redrive_count: u32,
    /// A limit on the execution's duration imposed by the runtime (Express executions
    /// end after five minutes); the shorter of this and the definition's wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    /// The history and work limits it runs under (older records: as they ran).
    #[serde(default = "Limits::recorded")]
    pub limits: Limits,
    /// The secret task tokens are derived from (hex, at least 128 random bits from the
    /// runtime): `$$.Task.Token` is then unguessable, and the same on replay. Without one
    /// (records from before tokens were completed from outside), tokens come from the
    /// step's entropy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_key: Option<String>,
    /// The version it runs, when started on a version or an alias (its
    /// `ExecutionStarted` event says so).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_version_arn: Option<String>,
    /// The alias it was started through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_machine_alias_arn: Option<String>,
}
