//! Nested executions: Task states on `arn:aws:states:::states:startExecution` start an
//! execution of another state machine. Plain, the task answers with the child's ARN at
//! once; `.waitForTaskToken`, it then waits for its token; `.sync` and `.sync:2`, it waits
//! for the child's end and answers with the child's description (input and output as
//! JSON text, or as JSON with `:2`), or fails with `States.TaskFailed` and the child's
//! error and cause.
//!
//! The parent does not wait in memory: its task is submitted (`TaskSubmitted`) and the
//! parent leaves memory like any execution waiting for a callback. The child's record
//! names its parent; its last step stores the answer it owes the parent's task
//! (`store/children.rs`), which is delivered after the commit, and again after a crash.
//! Starting the child belongs to the service layer (the machine, its revision, the
//! input's checks), bound here as a [`ChildStarter`] once it exists.

use super::*;
use crate::model::{ChildWait, Parent};
use crate::store::children::Notice;
use crate::store::Children as _;
use serde_json::{json, Value};
use std::future::Future;
use std::pin::Pin;

/// How a `states:startExecution` task waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answers with the child's ARN and start date at once.
    Start,
    /// Waits for its token (`.waitForTaskToken`).
    Token,
    /// Waits for the child's end (`.sync`, or `.sync:2` with JSON input and output).
    Wait(ChildWait),
}

/// How `resource` starts a nested execution, if it does.
pub fn mode_of(resource: &str) -> Option<Mode> {
    let (partition, rest) = resource.strip_prefix("arn:")?.split_once(':')?;
    if !partition.starts_with("aws") {
        return None;
    }
    match rest.strip_prefix("states:::states:startExecution")? {
        "" => Some(Mode::Start),
        ".waitForTaskToken" => Some(Mode::Token),
        ".sync" => Some(Mode::Wait(ChildWait::Sync)),
        ".sync:2" => Some(Mode::Wait(ChildWait::Sync2)),
        _ => None,
    }
}

/// A child to start.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildStart {
    /// The tenant of parent and child.
    pub tenant: TenantId,
    /// Its account (for ARNs).
    pub account: String,
    /// The child's state machine.
    pub state_machine_arn: String,
    /// The child's name.
    pub name: String,
    /// The child's input, JSON text.
    pub input: String,
    /// The parent's task.
    pub parent: Parent,
}

/// Why a child was not started: an error name the parent's Retry and Catch see (AWS's
/// `StepFunctions.<Exception>` names), and the cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildRefused {
    /// The error name.
    pub error: String,
    /// Why.
    pub cause: String,
}

/// A child being started.
pub type Starting<'a> = Pin<Box<dyn Future<Output = Result<Execution, ChildRefused>> + Send + 'a>>;

/// Starts nested executions.
pub trait ChildStarter: Send + Sync + 'static {
    /// Starts `child`. A child this very parent task started before (the task run again
    /// after a crash) is answered as it is, running or ended.
    fn start_child(&self, child: ChildStart) -> Starting<'_>;
}

impl Scheduler {
    /// Binds what starts nested executions (once; later calls are ignored).
    pub fn bind_children(&self, starter: Arc<dyn ChildStarter>) {
        let _ = self.inner.children.set(starter);
    }

    /// Runs a `states:startExecution` task: starts the child and answers as `mode` says.
    pub(super) async fn run_nested(
        &self,
        key: &ExecutionKey,
        task: &TaskContext,
        mode: Mode,
    ) -> EventKind {
        let id = task.request.id;
        let failed = |error: &str, cause: String| task_failed(id, error, cause);
        let Some(starter) = self.inner.children.get() else {
            return failed(
                "States.Runtime",
                "nested executions cannot run here (no service starts them)".into(),
            );
        };
        let p = &task.request.input;
        let Some(machine) = p.get("StateMachineArn").and_then(Value::as_str) else {
            return failed(
                "States.Runtime",
                "the parameter StateMachineArn is required, as a string".into(),
            );
        };
        let input = match p.get("Input") {
            None | Some(Value::Null) => "{}".to_string(),
            Some(Value::String(text)) => text.clone(),
            Some(v) => v.to_string(),
        };
        let name = match p.get("Name") {
            None | Some(Value::Null) => derived_name(&task.execution_arn, id),
            Some(Value::String(n)) => n.clone(),
            Some(_) => {
                return failed(
                    "States.Runtime",
                    "the parameter Name must be a string".into(),
                )
            }
        };
        let account = match crate::arn::Arn::parse(&task.execution_arn) {
            Ok(crate::arn::Arn::Execution { account, .. }) => account,
            _ => return failed("States.Runtime", "the parent's ARN does not parse".into()),
        };
        let waits = match mode {
            Mode::Wait(w) => Some(w),
            Mode::Start | Mode::Token => None,
        };
        let child = ChildStart {
            tenant: key.tenant.clone(),
            account,
            state_machine_arn: machine.to_string(),
            name,
            input,
            parent: Parent {
                arn: task.execution_arn.clone(),
                key: key.clone(),
                task: id,
                waits,
            },
        };
        if waits.is_some() {
            // A quick child may end before this task's submission is delivered: its
            // answer waits at the gate until `open_gate`.
            self.close_gate(key, id);
        }
        let child = match starter.start_child(child).await {
            Ok(child) => child,
            Err(refused) => return failed(&refused.error, refused.cause),
        };
        let started = json!({"ExecutionArn": child.arn, "StartDate": child.started});
        match mode {
            Mode::Start => EventKind::TaskSucceeded {
                task: id,
                output: started,
                usage: None,
            },
            Mode::Token => EventKind::TaskSubmitted {
                task: id,
                output: started,
                usage: None,
            },
            Mode::Wait(wait) => {
                let child_key = ExecutionKey {
                    tenant: key.tenant.clone(),
                    machine: child.machine.clone(),
                    name: child.name.clone(),
                };
                if let Err(e) = self.inner.store.child_put(key, id, &child_key) {
                    tracing::error!(tenant = %key.tenant, execution = %key.name, error = %e,
                        "cannot remember the nested execution; stopping the parent will not stop it");
                }
                // A parent stopped while the child was starting looked for the child before
                // it was remembered: its flag is set by then, so the child is stopped here.
                // (A stop after this check finds the child remembered.)
                if task.cancelled.load(std::sync::atomic::Ordering::SeqCst) {
                    let cause = format!(
                        "its parent execution {} stopped waiting for it",
                        task.execution_arn
                    );
                    let _ = self.stop(&child_key, None, Some(cause)).await;
                }
                if child.status != Status::Running {
                    // Ended already (a quick Express child, or a task run again after a
                    // crash): its answer follows the submission, as it would have.
                    let notice = Notice {
                        parent: key.clone(),
                        task: id,
                        answer: answer_for(&child, wait, id),
                    };
                    // The gate holds it (see `close_gate` above).
                    self.deliver_notice(notice, false);
                }
                EventKind::TaskSubmitted {
                    task: id,
                    output: started,
                    usage: None,
                }
            }
        }
    }

    /// The answer an ended execution owes its parent's task, if the task waits for it.
    pub(super) fn notice_of(record: &Execution) -> Option<Notice> {
        let parent = record.parent.as_ref()?;
        let wait = parent.waits?;
        Some(Notice {
            parent: parent.key.clone(),
            task: parent.task,
            answer: answer_for(record, wait, parent.task),
        })
    }

    /// Delivers a child's answer to its parent's task; a stored notice is removed once
    /// the parent has it (or no longer waits).
    pub(super) fn deliver_notice(&self, notice: Notice, stored: bool) {
        {
            let mut gates = lock(&self.inner.gates);
            if let Some(held) = gates.get_mut(&(notice.parent.clone(), notice.task)) {
                *held = Some((notice, stored));
                return;
            }
        }
        let me = self.clone();
        tokio::spawn(async move {
            match me.answer(&notice.parent, notice.answer.clone()).await {
                Ok(_) if stored => {
                    if let Err(e) = me.inner.store.notice_done(&notice) {
                        tracing::warn!(error = %e, "a delivered notice stays; it is delivered again at the next start");
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(tenant = %notice.parent.tenant,
                    execution = %notice.parent.name, error = %e,
                    "cannot answer the parent's task now; it is answered at the next start"),
            }
        });
    }

    /// Holds back answers to `key`'s `task` until [`open_gate`](Self::open_gate): the task
    /// waits for something that may end before the task's own submission is delivered.
    pub(super) fn close_gate(&self, key: &ExecutionKey, task: TaskId) {
        lock(&self.inner.gates).insert((key.clone(), task), None);
    }

    /// The parent's task has its answer from [`run_nested`](Self::run_nested): an answer
    /// its child owed meanwhile goes now.
    pub(super) fn open_gate(&self, key: &ExecutionKey, task: TaskId) {
        let held = lock(&self.inner.gates)
            .remove(&(key.clone(), task))
            .flatten();
        if let Some((notice, stored)) = held {
            self.deliver_notice(notice, stored);
        }
    }

    /// Stops the nested executions that cancelled tasks of `key` waited for (the parent
    /// stopped, or its branch failed), as AWS stops `.sync` children.
    pub(super) fn stop_children(&self, key: &ExecutionKey, tasks: Vec<TaskId>, parent_arn: String) {
        let me = self.clone();
        let key = key.clone();
        tokio::spawn(async move {
            for task in tasks {
                me.cancel_job_of(&key, task, &parent_arn);
                me.abort_map_run_of(&key, task);
                let child = match me.inner.store.child_get(&key, task) {
                    Ok(Some(child)) => child,
                    Ok(None) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot look up a nested execution to stop");
                        continue;
                    }
                };
                let cause = format!("its parent execution {parent_arn} stopped waiting for it");
                // A child that already ended is not running: nothing to stop.
                let _ = me.stop(&child, None, Some(cause)).await;
            }
        });
    }
}

/// The `TaskFailed` answer of `task`, for integrations that run no module.
pub(super) fn task_failed(task: TaskId, error: &str, cause: String) -> EventKind {
    EventKind::TaskFailed {
        task,
        error: error.to_string(),
        cause,
        usage: None,
    }
}

/// A child's name when the parent gives none: a UUID derived from the parent and its
/// task, so that the task run again after a crash finds the child it started.
fn derived_name(parent_arn: &str, task: TaskId) -> String {
    derived_uuid(&format!("{parent_arn}:{}", task.0))
}

/// A UUID derived from `seed`: the same seed, the same UUID (what a task run again after
/// a crash uses to find what it started).
pub(super) fn derived_uuid(seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(seed.as_bytes());
    let mut seed = [0u8; 8];
    seed.copy_from_slice(digest.get(..8).unwrap_or(&[0; 8]));
    sandstep_engine::rng::Rng::new(u64::from_be_bytes(seed)).uuid()
}

/// The parent task's answer for an ended child: its description as AWS's `.sync`
/// integrations give it, or `States.TaskFailed` with that description as the cause.
pub(super) fn answer_for(child: &Execution, wait: ChildWait, task: TaskId) -> EventKind {
    let as_json = |text: &str| match wait {
        ChildWait::Sync => Value::String(text.to_string()),
        ChildWait::Sync2 => serde_json::from_str(text).unwrap_or(Value::String(text.to_string())),
    };
    let machine_arn = match crate::arn::Arn::parse(&child.arn) {
        Ok(crate::arn::Arn::Execution {
            region,
            account,
            machine,
            ..
        }) => crate::arn::state_machine(&region, &account, &machine),
        _ => String::new(),
    };
    let mut described = json!({
        "ExecutionArn": child.arn,
        "StateMachineArn": machine_arn,
        "Name": child.name,
        "Status": child.status.as_str(),
        "StartDate": child.started,
        "StopDate": child.stopped,
        "Input": as_json(&child.input),
        "InputDetails": {"Included": true},
        "RedriveCount": child.redrive_count,
    });
    let Some(fields) = described.as_object_mut() else {
        return EventKind::TaskFailed {
            task,
            error: "States.Runtime".into(),
            cause: "cannot describe the nested execution".into(),
            usage: None,
        };
    };
    match child.redrivable(child.stopped.unwrap_or(child.started)) {
        Ok(()) => {
            fields.insert("RedriveStatus".into(), json!("REDRIVABLE"));
        }
        Err(reason) => {
            fields.insert("RedriveStatus".into(), json!("NOT_REDRIVABLE"));
            fields.insert("RedriveStatusReason".into(), json!(reason));
        }
    }
    if child.status == Status::Succeeded {
        let output = child.output.as_deref().unwrap_or("null");
        fields.insert("Output".into(), as_json(output));
        fields.insert("OutputDetails".into(), json!({"Included": true}));
        return EventKind::TaskSucceeded {
            task,
            output: described,
            usage: None,
        };
    }
    if let Some(error) = &child.error {
        fields.insert("Error".into(), json!(error));
    }
    if let Some(cause) = &child.cause {
        fields.insert("Cause".into(), json!(cause));
    }
    EventKind::TaskFailed {
        task,
        error: "States.TaskFailed".into(),
        cause: described.to_string(),
        usage: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_name_their_mode() {
        let base = "arn:aws:states:::states:startExecution";
        assert_eq!(mode_of(base), Some(Mode::Start));
        assert_eq!(
            mode_of(&format!("{base}.sync")),
            Some(Mode::Wait(ChildWait::Sync))
        );
        assert_eq!(
            mode_of(&format!("{base}.sync:2")),
            Some(Mode::Wait(ChildWait::Sync2))
        );
        assert_eq!(
            mode_of(&format!("{base}.waitForTaskToken")),
            Some(Mode::Token)
        );
        assert_eq!(mode_of(&format!("{base}.sync:3")), None);
        assert_eq!(mode_of("arn:aws:states:::lambda:invoke"), None);
    }

    #[test]
    fn derived_names_are_stable_per_task_and_valid() {
        let a = derived_name("arn:aws:states:us-east-1:0:execution:m:p", TaskId(1));
        assert_eq!(
            a,
            derived_name("arn:aws:states:us-east-1:0:execution:m:p", TaskId(1))
        );
        assert_ne!(
            a,
            derived_name("arn:aws:states:us-east-1:0:execution:m:p", TaskId(2))
        );
        assert!(crate::arn::valid_name(&a));
    }
}
