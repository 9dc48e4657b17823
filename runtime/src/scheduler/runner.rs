//! What runs a Task state's work. The scheduler hands every `RunTask` command to a
//! [`TaskRunner`]: the Wasm sandbox in the server, simpler ones in tests.

use crate::store::TenantId;
use sandstep_engine::{EventKind, TaskId, TaskRequest};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

/// Everything a runner needs to run one task.
#[derive(Debug, Clone)]
pub struct TaskContext {
    /// Whose task it is.
    pub tenant: TenantId,
    /// The execution's ARN.
    pub execution_arn: String,
    /// Module versions and bindings the execution pinned when it started.
    pub pins: Arc<crate::pins::Pins>,
    /// The task.
    pub request: TaskRequest,
    /// Set when the task is no longer wanted (StopExecution, a failed sibling branch).
    pub cancelled: Arc<AtomicBool>,
    /// Where the runner says the task started and is alive.
    pub progress: Progress,
}

/// Where a running task reports that it started and that it is alive. The engine times
/// tasks out itself; these reports become its `TaskStarted` and `TaskHeartbeat` events,
/// delivered in order and before the task's result.
#[derive(Debug, Clone)]
pub struct Progress {
    task: TaskId,
    to: Option<UnboundedSender<EventKind>>,
    /// Heartbeats are passed on at most once per interval, a quarter of the task's
    /// `HeartbeatSeconds`: each one is a step the store writes, and a module may beat in
    /// a tight loop. `None`: the task has no heartbeat timer to restart.
    pace: Option<(Duration, Arc<Mutex<Option<Instant>>>)>,
}

impl Progress {
    /// Reports that go nowhere (a runner no execution waits on, tests).
    pub fn ignored(task: TaskId) -> Progress {
        Progress {
            task,
            to: None,
            pace: None,
        }
    }

    /// Reports on `request`, and where they arrive.
    pub fn channel(request: &TaskRequest) -> (Progress, UnboundedReceiver<EventKind>) {
        let (to, reports) = unbounded_channel();
        let pace = request
            .heartbeat_seconds
            .map(|s| (Duration::from_secs(s) / 4, Arc::new(Mutex::new(None))));
        let progress = Progress {
            task: request.id,
            to: Some(to),
            pace,
        };
        (progress, reports)
    }

    /// The task really starts now (its module is loaded and about to run).
    pub fn started(&self) {
        self.send(EventKind::TaskStarted {
            task: self.task,
            worker: None,
        });
    }

    /// The task is alive: its heartbeat clock starts again.
    pub fn beat(&self) {
        let Some((every, last)) = &self.pace else {
            return;
        };
        let now = Instant::now();
        {
            let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|at| now.duration_since(at) < *every) {
                return;
            }
            *last = Some(now);
        }
        self.send(EventKind::TaskHeartbeat { task: self.task });
    }

    fn send(&self, report: EventKind) {
        if let Some(to) = &self.to {
            // A closed channel: nobody waits on the task any more.
            let _ = to.send(report);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(heartbeat_seconds: Option<u64>) -> TaskRequest {
        TaskRequest {
            id: TaskId(4),
            resource: "r".into(),
            input: json!({}),
            timeout_seconds: None,
            heartbeat_seconds,
            attempt: 0,
            state_name: "T".into(),
            task_token: None,
        }
    }

    #[test]
    fn heartbeats_are_passed_on_at_a_pace_and_only_with_a_heartbeat_timer() {
        let (progress, mut reports) = Progress::channel(&request(Some(60)));
        progress.started();
        for _ in 0..100 {
            progress.beat();
        }
        assert_eq!(
            reports.try_recv().unwrap(),
            EventKind::TaskStarted {
                task: TaskId(4),
                worker: None
            }
        );
        assert_eq!(
            reports.try_recv().unwrap(),
            EventKind::TaskHeartbeat { task: TaskId(4) }
        );
        assert!(
            reports.try_recv().is_err(),
            "one heartbeat per 15 s at most"
        );

        let (progress, mut reports) = Progress::channel(&request(None));
        progress.beat();
        progress.started();
        assert_eq!(
            reports.try_recv().unwrap(),
            EventKind::TaskStarted {
                task: TaskId(4),
                worker: None
            }
        );
        assert!(
            reports.try_recv().is_err(),
            "no heartbeat timer, no heartbeats"
        );
    }
}
