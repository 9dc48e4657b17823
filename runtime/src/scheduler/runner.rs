//! What runs a Task state's work. The scheduler hands every `RunTask` command to a
//! [`TaskRunner`]: the Wasm sandbox in the server, simpler ones in tests.

use crate::store::TenantId;
use sandstep_engine::{EventKind, TaskRequest};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Everything a runner needs to run one task.
#[derive(Debug, Clone)]
pub struct TaskContext {
    /// Whose task it is.
    pub tenant: TenantId,
    /// The execution's ARN.
    pub execution_arn: String,
    /// Module versions the execution pinned when it started: name → (version, sha256).
    pub pins: Arc<BTreeMap<String, (u32, String)>>,
    /// The task.
    pub request: TaskRequest,
    /// Set when the task is no longer wanted (StopExecution, a failed sibling branch).
    pub cancelled: Arc<AtomicBool>,
}

/// Runs tasks. Called on a blocking thread; may take as long as the task's timeout.
pub trait TaskRunner: Send + Sync + 'static {
    /// Runs the task and answers with `TaskSucceeded` or `TaskFailed`.
    fn run(&self, task: TaskContext) -> EventKind;
}

/// The runner used when no sandbox is configured: every task fails clearly.
#[derive(Debug, Default)]
pub struct NoTasks;

impl TaskRunner for NoTasks {
    fn run(&self, task: TaskContext) -> EventKind {
        EventKind::TaskFailed {
            task: task.request.id,
            error: "States.Runtime".into(),
            cause: format!(
                "No task runner is configured: cannot run '{}' for state '{}'",
                task.request.resource, task.request.state_name
            ),
            usage: None,
        }
    }
}
