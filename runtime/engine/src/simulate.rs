//! Runs an execution to its end on virtual time: timers fire as soon as nothing else is
//! pending, by moving the clock forward. Used by tests, replay checks and benchmarks;
//! still pure (the clock and entropy are derived from the inputs).

use crate::command::{Command, Outcome, TaskRequest};
use crate::definition::Definition;
use crate::error::Error;
use crate::event::{Event, EventKind, Millis, Start, TimerId};
use crate::execution::{step, ExecutionState};
use crate::history::HistoryEvent;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};

/// What a simulated task returns: its output, or `(error, cause)`.
pub type TaskResult = Result<Value, (String, String)>;

/// The record of a simulated execution.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// How it ended.
    pub outcome: Outcome,
    /// The history events it produced.
    pub history: Vec<HistoryEvent>,
    /// The events that drove it, for [`crate::replay`].
    pub events: Vec<Event>,
    /// The state after the last event.
    pub state: ExecutionState,
}

/// Runs `def` from `start` at virtual time `t0`, answering tasks with `tasks`.
///
/// # Errors
/// When the engine refuses an event, or the execution gets stuck with nothing pending.
pub fn simulate(
    def: &Definition,
    start: Start,
    t0: Millis,
    seed: u64,
    mut tasks: impl FnMut(&TaskRequest) -> TaskResult,
) -> Result<Simulation, Error> {
    let mut state = ExecutionState::new();
    let mut now = t0;
    let mut entropy = seed;
    let mut history = Vec::new();
    let mut events = Vec::new();
    let mut timers: BTreeMap<TimerId, Millis> = BTreeMap::new();
    let mut inbox = VecDeque::from([EventKind::Started(start)]);
    loop {
        let kind = match inbox.pop_front() {
            Some(kind) => kind,
            None => {
                let Some((&timer, &due)) = timers.iter().min_by_key(|(id, due)| (**due, **id))
                else {
                    return Err(Error::UnexpectedEvent(
                        "the execution is stuck with nothing pending".into(),
                    ));
                };
                timers.remove(&timer);
                now = now.max(due);
                EventKind::TimerFired { timer }
            }
        };
        entropy = entropy
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let event = Event {
            at: now,
            entropy,
            kind,
        };
        let commands = step(def, &mut state, &event)?;
        events.push(event);
        for command in commands {
            match command {
                Command::Record(e) => history.push(e),
                Command::RunTask(task) => inbox.push_back(match tasks(&task) {
                    Ok(output) => EventKind::TaskSucceeded {
                        task: task.id,
                        output,
                        usage: None,
                    },
                    Err((error, cause)) => EventKind::TaskFailed {
                        task: task.id,
                        error,
                        cause,
                        usage: None,
                    },
                }),
                Command::CancelTask(_) => {}
                Command::StartTimer { timer, due } => {
                    timers.insert(timer, due);
                }
                Command::CancelTimer(timer) => {
                    timers.remove(&timer);
                }
                Command::Finish(outcome) => {
                    return Ok(Simulation {
                        outcome,
                        history,
                        events,
                        state,
                    })
                }
            }
        }
    }
}
