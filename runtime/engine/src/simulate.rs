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
    let mut clock = VirtualTime::new(start, t0, seed);
    let mut history = Vec::new();
    let mut events = Vec::new();
    loop {
        let event = clock.next_event()?;
        let commands = step(def, &mut state, &event)?;
        events.push(event);
        for command in commands {
            match command {
                Command::Record(e) => history.push(e),
                Command::RunTask(task) => clock.inbox.push_back(match tasks(&task) {
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
                    clock.timers.insert(timer, due);
                }
                Command::CancelTimer(timer) => {
                    clock.timers.remove(&timer);
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

/// Virtual time for an execution run in one go: events waiting in an inbox come first,
/// then the earliest timer fires, moving the clock to its due time; each event gets the
/// next value of a seeded generator as its entropy.
#[derive(Debug)]
pub(crate) struct VirtualTime {
    /// Events to deliver before any timer.
    pub(crate) inbox: VecDeque<EventKind>,
    /// Timers armed, with their due times.
    pub(crate) timers: BTreeMap<TimerId, Millis>,
    now: Millis,
    entropy: u64,
}

impl VirtualTime {
    /// Starting with `start` at `t0`.
    pub(crate) fn new(start: Start, t0: Millis, seed: u64) -> VirtualTime {
        VirtualTime {
            inbox: VecDeque::from([EventKind::Started(start)]),
            timers: BTreeMap::new(),
            now: t0,
            entropy: seed,
        }
    }

    /// The time now.
    pub(crate) fn now(&self) -> Millis {
        self.now
    }

    /// The next event: from the inbox, else the earliest timer's firing.
    ///
    /// # Errors
    /// When nothing is pending: the execution is stuck.
    pub(crate) fn next_event(&mut self) -> Result<Event, Error> {
        let kind = match self.inbox.pop_front() {
            Some(kind) => kind,
            None => {
                let Some((&timer, &due)) = self.timers.iter().min_by_key(|(id, due)| (**due, **id))
                else {
                    return Err(Error::UnexpectedEvent(
                        "the execution is stuck with nothing pending".into(),
                    ));
                };
                self.timers.remove(&timer);
                self.now = self.now.max(due);
                EventKind::TimerFired { timer }
            }
        };
        self.entropy = self
            .entropy
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        Ok(Event {
            at: self.now,
            entropy: self.entropy,
            kind,
        })
    }
}
