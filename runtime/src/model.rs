//! The domain's nouns that every layer shares: state machines, their revisions, and
//! executions with their status. The store persists them, the scheduler runs them, the
//! services answer with them; none of them knows how it is stored.

use crate::store::{Millis, TenantId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub use sandstep_engine::validate::MachineType;

/// A state machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateMachine {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// STANDARD or EXPRESS.
    #[serde(rename = "type")]
    pub machine_type: MachineType,
    /// The role ARN given at creation.
    pub role_arn: String,
    /// The current definition revision.
    pub revision_id: String,
    /// When it was created.
    pub created: Millis,
    /// When it was last updated.
    pub updated: Millis,
    /// The description of the current revision, if any.
    #[serde(default)]
    pub description: Option<String>,
    /// Logging configuration as given, returned as is.
    #[serde(default)]
    pub logging: Option<Value>,
    /// Tracing configuration as given, returned as is.
    #[serde(default)]
    pub tracing: Option<Value>,
    /// Whether an update has changed it since it was created (AWS's revision `INITIAL`
    /// names a machine that has not changed).
    #[serde(default)]
    pub revised: bool,
    /// The number the last published version got (0: none yet). Numbers only grow: a
    /// deleted version's number is never given again.
    #[serde(default)]
    pub last_version: u64,
    /// Moves on with every change to the machine's versions and aliases, so two of them
    /// made at once cannot both pass their checks (each is written only if the machine
    /// record is still the one it read).
    #[serde(default)]
    pub generation: u64,
}

/// A published version of a state machine: an immutable snapshot of its revision and
/// settings, numbered from 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    /// Its number.
    pub number: u64,
    /// The definition revision it runs.
    pub revision_id: String,
    /// Whether that was the machine's initial revision.
    #[serde(default)]
    pub initial: bool,
    /// STANDARD or EXPRESS.
    #[serde(rename = "type")]
    pub machine_type: MachineType,
    /// The role ARN at publication.
    pub role_arn: String,
    /// Logging configuration at publication.
    #[serde(default)]
    pub logging: Option<Value>,
    /// Tracing configuration at publication.
    #[serde(default)]
    pub tracing: Option<Value>,
    /// The version's description.
    #[serde(default)]
    pub description: Option<String>,
    /// When it was published.
    pub created: Millis,
}

/// A named pointer to one or two versions of a state machine, with the share of
/// executions each gets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alias {
    /// Its name.
    pub name: String,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// The versions it routes to, with their weights (0–100, summing to 100), in the
    /// order given.
    pub routing: Vec<Weighted>,
    /// When it was created.
    pub created: Millis,
    /// When it was last changed.
    pub updated: Millis,
}

/// One version an alias routes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Weighted {
    /// The version's number.
    pub version: u64,
    /// Its share of executions, in percent.
    pub weight: u8,
}

/// One immutable revision of a definition: executions pin the one they started with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    /// The revision id.
    pub id: String,
    /// The definition text as given.
    pub definition: String,
    /// Hex SHA-256 of the text.
    pub sha256: String,
    /// When it was created.
    pub created: Millis,
}

/// An execution's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Still going.
    Running,
    /// Finished with an output.
    Succeeded,
    /// Finished with an error.
    Failed,
    /// Ran past its TimeoutSeconds.
    TimedOut,
    /// Stopped by StopExecution.
    Aborted,
}

impl Status {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Succeeded => "SUCCEEDED",
            Status::Failed => "FAILED",
            Status::TimedOut => "TIMED_OUT",
            Status::Aborted => "ABORTED",
        }
    }

    /// Parses AWS's spelling.
    pub fn parse(text: &str) -> Option<Status> {
        [
            Status::Running,
            Status::Succeeded,
            Status::Failed,
            Status::TimedOut,
            Status::Aborted,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// An execution's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    /// The execution's name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// The state machine's name.
    pub machine: String,
    /// The definition revision it runs (pinned at start).
    pub revision_id: String,
    /// Module versions pinned at start: name → (version, sha256).
    #[serde(default)]
    pub modules: BTreeMap<String, (u32, String)>,
    /// Resource bindings pinned at start: Task resource → the module that plays it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub bindings: BTreeMap<String, Bound>,
    /// STANDARD or EXPRESS.
    #[serde(rename = "type")]
    pub machine_type: MachineType,
    /// Its status.
    pub status: Status,
    /// The input as given.
    pub input: String,
    /// The output, once succeeded.
    pub output: Option<String>,
    /// The error, once failed.
    pub error: Option<String>,
    /// The cause, once failed.
    pub cause: Option<String>,
    /// When it started.
    pub started: Millis,
    /// When it stopped.
    pub stopped: Option<Millis>,
    /// Steps committed so far.
    pub steps: u64,
    /// History events recorded so far.
    pub events: u64,
    /// The version it runs, when started on a version or an alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// The alias it was started through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// The execution whose Task state started this one (`states:startExecution`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<Parent>,
    /// The Map Run that started it, when it is a Distributed Map's child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub map_run: Option<String>,
    /// How many times it was redriven.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub redrive_count: u32,
    /// When it was last redriven.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redrive_date: Option<Millis>,
    /// The client tokens of its last redrives (at most [`REDRIVE_TOKENS_KEPT`]), each with
    /// its redrive's date: a request that repeats one answers that redrive again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redrive_tokens: Vec<(String, Millis)>,
}

/// The module a resource binding resolved to when an execution started: what the
/// execution's tasks on that resource run, whatever the binding says later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bound {
    /// The binding's pattern that covered the resource.
    pub binding: String,
    /// The module's name.
    pub module: String,
    /// Its version.
    pub version: u32,
    /// Its sha256.
    pub sha256: String,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// How many redrive client tokens an execution keeps (AWS: the last ten).
pub const REDRIVE_TOKENS_KEPT: usize = 10;
/// How long a redrive's client token answers that redrive again (AWS: fifteen minutes).
pub const REDRIVE_TOKEN_MILLIS: Millis = 15 * 60 * 1000;
/// How long after it stops an execution can be redriven (AWS: fourteen days).
pub const REDRIVE_WINDOW_MILLIS: Millis = 14 * 24 * 3600 * 1000;
/// The longest an execution may have been open to be redriven (AWS: a year).
pub const REDRIVE_MAX_AGE_MILLIS: Millis = 365 * 24 * 3600 * 1000;
/// A redrive needs room for its `ExecutionRedriven` event and one more in the history
/// (AWS: fewer than 24,999 events).
pub const REDRIVE_EVENT_LIMIT: u64 = 24_999;

impl Execution {
    /// What it pinned at its start.
    pub fn pins(&self) -> crate::pins::Pins {
        crate::pins::Pins {
            modules: self.modules.clone(),
            bindings: self.bindings.clone(),
        }
    }

    /// Every module version it pinned, by modules it names and by bindings.
    pub fn pinned_modules(&self) -> impl Iterator<Item = (&str, u32)> {
        self.modules
            .iter()
            .map(|(name, (version, _))| (name.as_str(), *version))
            .chain(
                self.bindings
                    .values()
                    .map(|b| (b.module.as_str(), b.version)),
            )
    }

    /// Whether it can be redriven at `now`; if not, AWS's reason (the same words for
    /// `redriveStatusReason` and the `ExecutionNotRedrivable` error).
    ///
    /// # Errors
    /// The reason it cannot.
    pub fn redrivable(&self, now: Millis) -> Result<(), String> {
        if matches!(self.status, Status::Running | Status::Succeeded) {
            return Err(format!(
                "Execution is {} and cannot be redriven",
                self.status.as_str()
            ));
        }
        if self.machine_type == MachineType::Express {
            return Err("Express executions cannot be redriven".into());
        }
        if now.saturating_sub(self.started) > REDRIVE_MAX_AGE_MILLIS {
            return Err("Execution has exceeded the max execution time".into());
        }
        if self
            .stopped
            .is_some_and(|stopped| now.saturating_sub(stopped) > REDRIVE_WINDOW_MILLIS)
        {
            return Err("Execution redrivable period exceeded".into());
        }
        if self.events >= REDRIVE_EVENT_LIMIT {
            return Err("Execution history event limit exceeded".into());
        }
        Ok(())
    }

    /// The date of the redrive `token` started, if it is one of the last ones and still
    /// fresh at `now`.
    pub fn redriven_with(&self, token: &str, now: Millis) -> Option<Millis> {
        self.redrive_tokens
            .iter()
            .find(|(t, date)| t == token && now.saturating_sub(*date) <= REDRIVE_TOKEN_MILLIS)
            .map(|(_, date)| *date)
    }
}

/// The Task of another execution that started an execution (a nested execution).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Parent {
    /// The parent execution's ARN.
    pub arn: String,
    /// The parent execution.
    pub key: ExecutionKey,
    /// The parent's task.
    pub task: sandstep_engine::TaskId,
    /// Whether and how the parent's task waits for this execution's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waits: Option<ChildWait>,
}

/// How a parent's `.sync` task takes a nested execution's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChildWait {
    /// `startExecution.sync`: the child's input and output as JSON text.
    Sync,
    /// `startExecution.sync:2`: the child's input and output as JSON.
    Sync2,
}

/// An answer to a task that waits for its token (SendTaskSuccess, SendTaskFailure,
/// SendTaskHeartbeat, or a module's `callback` calls).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Answer {
    /// The task succeeded with this output (JSON text).
    Success(String),
    /// The task failed.
    Failure {
        /// The error name, for Retry and Catch.
        error: Option<String>,
        /// The cause.
        cause: Option<String>,
    },
    /// The task is alive: its heartbeat clock starts again.
    Heartbeat,
}

/// Identifies an execution: tenant, state machine, execution name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ExecutionKey {
    /// The tenant.
    pub tenant: TenantId,
    /// The state machine's name.
    pub machine: String,
    /// The execution's name.
    pub name: String,
}
