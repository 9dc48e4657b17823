//! `sandstep run`: one execution in-process with a real clock and no server. Tasks run
//! one at a time through the sandbox, on the modules registered in its (in-memory) store.

use crate::clock::{entropy, now as now_millis};
use crate::sandbox::{CancelHandle, Sandbox};
use crate::scheduler::runner::Progress;
use crate::store::TenantId;
use crate::tasks;
use sandstep_engine::{
    step, Command, Definition, Event, EventKind, ExecutionState, HistoryEvent, Outcome, Start,
    TimerId,
};
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// The result of a local run.
#[derive(Debug)]
pub struct Finished {
    /// How the execution ended.
    pub outcome: Outcome,
    /// Every history event, in order.
    pub history: Vec<HistoryEvent>,
}

/// Runs `definition` with `input` to the end, sleeping through Wait states and retries;
/// Task states run `tenant`'s modules in `sandbox`.
///
/// # Errors
/// When the engine refuses an event (a bug, never a workflow failure).
pub fn run(
    definition: &Definition,
    input: Value,
    machine_name: &str,
    sandbox: &Sandbox,
    tenant: &TenantId,
) -> anyhow::Result<Finished> {
    let name = uuid(entropy());
    let account = "000000000000";
    let execution_arn =
        format!("arn:aws:states:us-east-1:{account}:execution:{machine_name}:{name}");
    let start = Start {
        input,
        execution_arn: execution_arn.clone(),
        name,
        role_arn: format!("arn:aws:iam::{account}:role/sandstep-local"),
        state_machine_arn: format!(
            "arn:aws:states:us-east-1:{account}:stateMachine:{machine_name}"
        ),
        state_machine_name: machine_name.to_string(),
        redrive_count: 0,
        timeout_seconds: None,
        limits: sandstep_engine::Limits::default(),
        token_key: None,
        state_machine_version_arn: None,
        state_machine_alias_arn: None,
    };
    let mut state = ExecutionState::new();
    let mut history = Vec::new();
    let mut timers: BTreeMap<TimerId, i64> = BTreeMap::new();
    let mut inbox: VecDeque<EventKind> = VecDeque::from([EventKind::Started(start)]);
    loop {
        let kind = match inbox.pop_front() {
            Some(kind) => kind,
            None => {
                // Nothing to do until the earliest timer is due.
                let Some((&timer, &due)) = timers.iter().min_by_key(|(_, due)| **due) else {
                    anyhow::bail!("the execution is stuck: no task, timer or event is pending");
                };
                let wait = due - now_millis();
                if wait > 0 {
                    std::thread::sleep(Duration::from_millis(wait as u64));
                }
                timers.remove(&timer);
                EventKind::TimerFired { timer }
            }
        };
        let event = Event {
            at: now_millis(),
            entropy: entropy(),
            kind,
        };
        for command in step(definition, &mut state, &event)? {
            match command {
                Command::Record(e) => history.push(e),
                Command::RunTask(task) => {
                    let (progress, mut reports) = Progress::channel(&task);
                    let done = tasks::run(
                        sandbox,
                        &task,
                        tasks::Caller {
                            tenant: tenant.clone(),
                            execution_arn: execution_arn.clone(),
                            cancel: CancelHandle::new(),
                            pins: Default::default(),
                            quotas: None,
                            progress,
                        },
                    );
                    // The task's start and heartbeats come before its result.
                    while let Ok(report) = reports.try_recv() {
                        inbox.push_back(report);
                    }
                    // stdout carries only the result: what modules say goes to stderr.
                    for line in &done.logs {
                        eprintln!(
                            "{} {}: {}",
                            task.state_name,
                            line.level.as_str(),
                            line.message
                        );
                    }
                    if done.logs_dropped > 0 {
                        eprintln!(
                            "{}: {} more log lines dropped",
                            task.state_name, done.logs_dropped
                        );
                    }
                    if !done.stderr.is_empty() {
                        eprint!("{} stderr: {}", task.state_name, done.stderr);
                    }
                    inbox.push_back(done.event);
                }
                Command::CancelTask(_) => {}
                Command::StartTimer { timer, due } => {
                    timers.insert(timer, due);
                }
                Command::CancelTimer(timer) => {
                    timers.remove(&timer);
                }
                Command::Finish(outcome) => return Ok(Finished { outcome, history }),
            }
        }
    }
}

fn uuid(seed: u64) -> String {
    sandstep_engine::rng::Rng::new(seed).uuid()
}
