//! The executor: applies one [`Event`] to an [`ExecutionState`] and says what to do next.
//!
//! An execution is a tree of *frames*: the top level, each Parallel branch and each Map
//! iteration runs its own chain of states. States that complete at once (Pass, Choice,
//! Succeed, ...) are applied in the same step; Task, Wait and retry backoff park their
//! frame until the matching event arrives.
//!
//! This file holds the state, the step loop and entering a state; each kind of work has
//! its own part, all methods of the one `Run` of a step: `pipeline` (the data flow of a
//! state), `task`, `wait` (and timers), `choice_state`, `fanout` (Parallel and Map),
//! `failure` (Retry, Catch, the execution's end) and `trace_hooks`.

use crate::command::{Command, Outcome, TaskRequest};
use crate::definition::{
    Amount, Concurrency, Definition, Distributed, Kind, PathField, QueryLanguage, ResultPath,
    StateId, Template, Text, WaitFor,
};
use crate::error::{Error, ErrorName, Failure};
use crate::event::{Event, EventKind, Millis, Start, TaskId, TaskUsage, TimerId};
use crate::history::{Details, HistoryEvent};
use crate::limits::{self, Breach};
use crate::rng::Rng;
use crate::scope::{compact, ContextView, PathWork, Scope, StatesView, Vars};
use crate::trace::{Stages, Trace, Visit, VisitStatus};
use crate::{choice, jsonpath};
use serde_json::{json, Map, Value};
use std::cell::OnceCell;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// State data shared between the frame, the pipeline and the history: cloning it is a
/// reference count, and a deep copy happens only where a value is modified.
type Data = Arc<Value>;

pub use crate::limits::{HISTORY_LIMIT, PAYLOAD_LIMIT_BYTES};

type FrameId = u64;

/// Everything the engine knows about one execution. Rebuilt exactly by [`replay`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutionState {
    outcome: Option<Outcome>,
    /// The start facts, without the input (kept once, in `input`).
    start: Option<Start>,
    input: Data,
    started_at: Millis,
    last_event_id: u64,
    next_id: u64,
    frames: BTreeMap<FrameId, Frame>,
    tasks: BTreeMap<TaskId, FrameId>,
    timers: BTreeMap<TimerId, TimerFor>,
    execution_timer: Option<TimerId>,
    /// Frames ready to run when a step used up its work budget: the next step (the
    /// resume timer) goes on with them.
    runnable: VecDeque<FrameId>,
    /// Each state visit's data at every stage, when asked for with [`ExecutionState::traced`].
    trace: Option<Box<Trace>>,
    /// Frames whose state did not end well (failed, cancelled with a failing sibling, cut
    /// off by the execution's end), keyed by (parent frame or 0, frame), with what they
    /// held then: what a redrive runs again (`execution/redrive.rs`). A frame's entries go
    /// once it moves on, so only the unsuccessful states of the last attempt stay.
    fallen: BTreeMap<(FrameId, FrameId), Frame>,
    /// How many times the execution was redriven, and when last (`$$.Execution`).
    redrives: u32,
    redriven_at: Option<Millis>,
}

impl ExecutionState {
    /// A state that has seen no event yet.
    pub fn new() -> ExecutionState {
        ExecutionState::default()
    }

    /// A state that also records a [`Trace`]: for inspecting a replayed execution, not
    /// for running one (it keeps a copy of every intermediate value).
    pub fn traced() -> ExecutionState {
        ExecutionState {
            trace: Some(Box::default()),
            ..ExecutionState::default()
        }
    }

    /// The data-flow trace, when the state was made with [`ExecutionState::traced`].
    pub fn trace(&self) -> Option<&Trace> {
        self.trace.as_deref()
    }

    /// How the execution ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// The id of the last history event recorded.
    pub fn last_event_id(&self) -> u64 {
        self.last_event_id
    }

    /// Tasks waiting for a result.
    pub fn pending_tasks(&self) -> impl Iterator<Item = TaskId> + '_ {
        self.tasks.keys().copied()
    }

    /// Timers waiting to fire.
    pub fn pending_timers(&self) -> impl Iterator<Item = TimerId> + '_ {
        self.timers.keys().copied()
    }

    /// How many times the execution was redriven.
    pub fn redrive_count(&self) -> u32 {
        self.redrives
    }

    /// Whether `timer` waits before a Retrier's next attempt (TestState stops there).
    pub fn is_retry_timer(&self, timer: TimerId) -> bool {
        matches!(self.timers.get(&timer), Some(TimerFor::Retry(_)))
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TimerFor {
    Wait(FrameId),
    Retry(FrameId),
    ExecutionTimeout,
    /// Goes on with the frames a step left runnable when it yielded.
    Resume,
    /// A task ran past its `TimeoutSeconds`, counted from when it was scheduled.
    TaskTimeout(TaskId),
    /// A task sent no heartbeat within its `HeartbeatSeconds`, counted from its start
    /// and from each heartbeat.
    TaskHeartbeat(TaskId),
}

#[derive(Debug, Clone, PartialEq)]
struct Frame {
    parent: Option<(FrameId, usize)>,
    state: StateId,
    input: Data,
    vars: Vars,
    entered_event: u64,
    entered_at: Millis,
    last_event: u64,
    retry_attempts: Vec<u32>,
    retry_count: u32,
    pending: Pending,
}

#[derive(Debug, Clone, PartialEq)]
enum Pending {
    Idle,
    Task {
        task: TaskId,
        resource: String,
        token: Option<String>,
        clock: TaskClock,
    },
    Wait(TimerId),
    Retry(TimerId),
    Fanout(Box<Fanout>),
    /// A DISTRIBUTED Map waits for its Map Run (`execution/distributed.rs`).
    MapRun {
        task: TaskId,
        arn: String,
    },
}

/// A running task's engine timers. They time out whatever runs the task (a module, a
/// worker, a callback), and live in the history, so a restart re-arms them.
#[derive(Debug, Clone, Default, PartialEq)]
struct TaskClock {
    /// `TimeoutSeconds`, resolved, with its timer.
    timeout: Option<(u64, TimerId)>,
    /// `HeartbeatSeconds`, resolved.
    heartbeat_seconds: Option<u64>,
    /// The heartbeat timer, armed once the task has started.
    heartbeat: Option<TimerId>,
    /// Whether `TaskStarted` has been recorded.
    started: bool,
}

#[derive(Debug, Clone, PartialEq)]
struct Fanout {
    /// Per branch or item: its output once done.
    results: Vec<Option<Value>>,
    /// Running children and their index.
    children: BTreeMap<FrameId, usize>,
    /// Map only: the inputs of iterations not started yet, from `next_item` on.
    items: Vec<Value>,
    next_item: usize,
    limit: usize,
    failures: usize,
    tolerated: Option<usize>,
    is_map: bool,
    /// Map only, on a redrive: iterations that did not succeed, run again (from the state
    /// each stopped in) before the items never started.
    redo: VecDeque<(FrameId, Frame)>,
}

/// Applies one event and returns the commands to carry out.
///
/// # Errors
/// [`Error`] when the event does not fit the state (e.g. a result for an unknown task):
/// a bug in the driver or a corrupt history. Workflow failures are never `Err`: they
/// end the execution with [`Outcome::Failed`].
pub fn step(
    def: &Definition,
    state: &mut ExecutionState,
    event: &Event,
) -> Result<Vec<Command>, Error> {
    let limits = match &event.kind {
        EventKind::Started(start) => Some(start.limits),
        _ => state.start.as_ref().map(|start| start.limits),
    };
    let mut run = Run {
        def,
        st: state,
        now: event.at,
        rng: Rng::new(event.entropy),
        out: Vec::new(),
        queue: VecDeque::new(),
        work: 0,
        paths: PathWork::new(limits.and_then(|l| l.path_work)),
    };
    if run.st.outcome.is_some() && !matches!(event.kind, EventKind::Redriven { .. }) {
        return Err(Error::UnexpectedEvent(
            "the execution has already finished".into(),
        ));
    }
    match &event.kind {
        EventKind::Started(start) => run.start(start)?,
        EventKind::TaskStarted { task, worker } => run.task_started(*task, worker.as_deref())?,
        EventKind::TaskRejected { task, cause } => run.task_rejected(*task, cause)?,
        EventKind::TaskHeartbeat { task } => run.task_heartbeat(*task)?,
        EventKind::TaskSubmitted {
            task,
            output,
            usage,
        } => run.task_submitted(*task, output, usage.as_ref())?,
        EventKind::TaskSucceeded {
            task,
            output,
            usage,
        } => run.task_succeeded(*task, output.clone(), usage.as_ref())?,
        EventKind::TaskFailed {
            task,
            error,
            cause,
            usage,
        } => run.task_failed(
            *task,
            Failure::new(ErrorName::parse(error), cause.clone()),
            usage.as_ref(),
        )?,
        EventKind::TimerFired { timer } => run.timer_fired(*timer)?,
        EventKind::Stopped { error, cause } => run.stop(error.clone(), cause.clone()),
        EventKind::Redriven { .. } => run.redrive()?,
        EventKind::Terminated { error, cause } => {
            run.finish_failed(Some(error.clone()), Some(cause.clone()))
        }
    }
    run.drain()?;
    Ok(run.out)
}

/// Rebuilds an execution's state from its recorded events.
///
/// # Errors
/// As [`step`], for a history that does not fit the definition.
pub fn replay<'a>(
    def: &Definition,
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<ExecutionState, Error> {
    let mut state = ExecutionState::new();
    for event in events {
        step(def, &mut state, event)?;
    }
    Ok(state)
}

struct Run<'d, 's> {
    def: &'d Definition,
    st: &'s mut ExecutionState,
    now: Millis,
    rng: Rng,
    out: Vec<Command>,
    queue: VecDeque<FrameId>,
    /// Work done in this step, against the execution's [`Limits::step_work`]; path
    /// evaluation adds `paths.spent()` to it.
    work: u32,
    /// What the step may still spend on JSONPath evaluation.
    paths: PathWork,
}

/// What a state produced before the common output pipeline.
enum Produced {
    /// A result to feed through ResultSelector/ResultPath/OutputPath.
    Result(Data),
    /// The state's output as is (Succeed).
    Output(Data),
}

impl Run<'_, '_> {
    fn id(&mut self) -> u64 {
        self.st.next_id += 1;
        self.st.next_id
    }

    fn frame(&self, id: FrameId) -> Result<&Frame, Error> {
        self.st
            .frames
            .get(&id)
            .ok_or_else(|| Error::UnexpectedEvent(format!("no frame {id}")))
    }

    fn frame_mut(&mut self, id: FrameId) -> Result<&mut Frame, Error> {
        self.st
            .frames
            .get_mut(&id)
            .ok_or_else(|| Error::UnexpectedEvent(format!("no frame {id}")))
    }

    fn start_facts(&self) -> Result<&Start, Error> {
        self.st
            .start
            .as_ref()
            .ok_or_else(|| Error::UnexpectedEvent("the execution has not started".into()))
    }

    /// Appends a history event, chained to the frame's previous one.
    fn record(&mut self, frame: Option<FrameId>, kind: &'static str, details: Details) -> u64 {
        self.st.last_event_id += 1;
        let id = self.st.last_event_id;
        let previous = match frame.and_then(|f| self.st.frames.get_mut(&f)) {
            Some(f) => std::mem::replace(&mut f.last_event, id),
            None => id - 1,
        };
        self.out.push(Command::Record(HistoryEvent {
            id,
            previous_event_id: previous,
            timestamp: self.now,
            kind,
            details,
        }));
        id
    }

    fn start(&mut self, start: &Start) -> Result<(), Error> {
        if self.st.start.is_some() {
            return Err(Error::UnexpectedEvent(
                "the execution has already started".into(),
            ));
        }
        let input = Arc::new(start.input.clone());
        self.st.start = Some(Start {
            input: Value::Null,
            ..start.clone()
        });
        self.st.input = input.clone();
        self.st.started_at = self.now;
        let details = Details::ExecutionStarted {
            input: input.clone(),
            role_arn: start.role_arn.clone(),
            qualified: Box::new((
                start.state_machine_version_arn.clone(),
                start.state_machine_alias_arn.clone(),
            )),
        };
        self.record(None, "ExecutionStarted", details);
        self.arm_execution_timer(start.timeout_seconds);
        let root = self.def.machine(self.def.root())?.start;
        let frame = self.new_frame(None, root, input);
        self.queue.push_back(frame);
        Ok(())
    }

    /// Arms the execution's time limit: the shorter of the definition's `TimeoutSeconds`
    /// and the runtime's, counted from now (a start, or a redrive, which AWS gives the
    /// whole budget again).
    fn arm_execution_timer(&mut self, runtime_limit: Option<u64>) {
        let limit = match (self.def.timeout_seconds, runtime_limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(seconds) = limit {
            let timer = self.arm(TimerFor::ExecutionTimeout, seconds);
            self.st.execution_timer = Some(timer);
        }
    }

    fn new_frame(
        &mut self,
        parent: Option<(FrameId, usize)>,
        state: StateId,
        input: Data,
    ) -> FrameId {
        let id = self.id();
        let last_event = self.st.last_event_id;
        self.st.frames.insert(
            id,
            Frame {
                parent,
                state,
                input,
                vars: Vars::new(),
                entered_event: 0,
                entered_at: self.now,
                last_event,
                retry_attempts: Vec::new(),
                retry_count: 0,
                pending: Pending::Idle,
            },
        );
        id
    }

    /// Enters every queued frame's current state until nothing more can happen now.
    fn drain(&mut self) -> Result<(), Error> {
        while let Some(frame) = self.queue.pop_front() {
            if self.st.outcome.is_some() {
                break;
            }
            if !self.st.frames.contains_key(&frame) {
                continue; // cancelled while queued
            }
            let limits = self.start_facts()?.limits;
            if let Some(max) = limits
                .history_events
                .filter(|m| self.st.last_event_id >= *m)
            {
                self.finish_failed(
                    Some("States.Runtime".into()),
                    Some(format!(
                        "The execution reached the maximum number of history events ({max})."
                    )),
                );
                break;
            }
            if limits
                .step_work
                .is_some_and(|budget| self.work_done() >= budget)
            {
                self.yield_now(frame);
                break;
            }
            self.work = self.work.saturating_add(1);
            self.enter(frame)?;
        }
        Ok(())
    }

    /// The step's work so far: states entered, data output, and paths evaluated.
    fn work_done(&self) -> u32 {
        self.work.saturating_add(self.paths.units())
    }

    /// Parks `next` and the rest of the queue behind a timer due at once: the step has
    /// used its work budget, and the driver serves others before it goes on.
    fn yield_now(&mut self, next: FrameId) {
        self.st.runnable.push_back(next);
        self.st.runnable.extend(self.queue.drain(..));
        if self.st.timers.values().any(|t| *t == TimerFor::Resume) {
            return;
        }
        let timer = TimerId(self.id());
        self.st.timers.insert(timer, TimerFor::Resume);
        self.out.push(Command::StartTimer {
            timer,
            due: self.now,
        });
    }

    /// Builds the evaluation scope of a frame and runs `f` with it.
    fn eval<R>(
        &mut self,
        frame: FrameId,
        input: &Value,
        map_item: Option<(usize, &Value)>,
        f: impl FnOnce(&Scope<'_>, &mut Rng) -> R,
    ) -> Result<R, Error> {
        self.eval_states(frame, input, map_item, StatesView::default(), f)
    }

    /// As [`Run::eval`], with `$states.result` or `$states.errorOutput` for JSONata.
    fn eval_states<R>(
        &mut self,
        frame: FrameId,
        input: &Value,
        map_item: Option<(usize, &Value)>,
        states: StatesView<'_>,
        f: impl FnOnce(&Scope<'_>, &mut Rng) -> R,
    ) -> Result<R, Error> {
        let st = &*self.st;
        let chain = ScopeChain {
            frames: &st.frames,
            innermost: frame,
        };
        let fr = st
            .frames
            .get(&frame)
            .ok_or_else(|| Error::UnexpectedEvent(format!("no frame {frame}")))?;
        let start = st
            .start
            .as_ref()
            .ok_or_else(|| Error::UnexpectedEvent("not started".into()))?;
        let state = self.def.state(fr.state)?;
        let token = match &fr.pending {
            Pending::Task { token, .. } => token.as_deref(),
            _ => None,
        };
        let context = ContextView {
            start,
            input: &st.input,
            started_at: st.started_at,
            redrives: (st.redrives, st.redriven_at),
            state_name: &state.name,
            entered_at: fr.entered_at,
            retry_count: matches!(state.kind, Kind::Task { .. }).then_some(fr.retry_count),
            map_item,
            task_token: token,
        };
        let context_value = OnceCell::new();
        let scope = Scope {
            input,
            vars: &chain,
            context,
            context_value: &context_value,
            work: &self.paths,
            states,
            now: self.now,
        };
        Ok(f(&scope, &mut self.rng))
    }

    fn enter(&mut self, frame_id: FrameId) -> Result<(), Error> {
        self.record_entry(frame_id)?;
        self.act(frame_id)
    }

    /// Records that a frame enters its current state (its `...StateEntered` event and
    /// trace visit) and starts the state's retry counts afresh.
    fn record_entry(&mut self, frame_id: FrameId) -> Result<(), Error> {
        let def = self.def;
        let fr = self.frame(frame_id)?;
        let state = def.state(fr.state)?;
        let details = Details::StateEntered {
            name: state.name.clone(),
            input: fr.input.clone(),
        };
        let entered = self.record(Some(frame_id), state.kind.entered_event(), details);
        let now = self.now;
        let fr = self.frame_mut(frame_id)?;
        fr.entered_event = entered;
        fr.entered_at = now;
        fr.retry_attempts = vec![0; state.retry.len()];
        fr.retry_count = 0;
        if self.st.trace.is_some() {
            let visit = Visit {
                state: state.name.to_string(),
                kind: state.kind.type_name(),
                query_language: match state.language {
                    QueryLanguage::JsonPath => "JSONPath",
                    QueryLanguage::Jsonata => "JSONata",
                },
                scope: self.scope_of(frame_id)?,
                entered_event_id: entered,
                exited_event_id: None,
                entered_at: now,
                exited_at: None,
                status: VisitStatus::Running,
                retries: 0,
                stages: Stages {
                    input: Some((*self.frame(frame_id)?.input).clone()),
                    ..Stages::default()
                },
            };
            if let Some(trace) = self.st.trace.as_mut() {
                trace.open(visit);
            }
        }
        Ok(())
    }

    /// Performs the current state's work: at once, or by parking the frame.
    fn act(&mut self, frame_id: FrameId) -> Result<(), Error> {
        let def = self.def;
        let fr = self.frame(frame_id)?;
        let state = def.state(fr.state)?;
        let raw = fr.input.clone();
        if let Kind::Fail { error, cause } = &state.kind {
            let error = self.text(frame_id, &raw, error.as_ref(), "ErrorPath")?;
            let cause = match error {
                Ok(error) => self
                    .text(frame_id, &raw, cause.as_ref(), "CausePath")?
                    .map(|c| (error, c)),
                Err(f) => Err(f),
            };
            let failure = match cause {
                Ok((error, cause)) => Failure {
                    error: error.map(|e| ErrorName::parse(&e)),
                    cause,
                },
                Err(f) => self.located(frame_id, f)?,
            };
            self.note_failed(frame_id, &failure, VisitStatus::Failed);
            return self.frame_done(frame_id, Err(failure));
        }
        if state.language == QueryLanguage::Jsonata {
            return self.act_jsonata(frame_id, raw);
        }
        let effective = match self.select_path(frame_id, &state.input_path, &raw)? {
            Ok(v) => v,
            Err(f) => return self.state_failed(frame_id, f),
        };
        self.note(frame_id, |s| {
            s.after_input_path = Some((*effective).clone())
        });
        let produced = match &state.kind {
            Kind::Pass { result } => match (result, &state.parameters) {
                (Some(r), _) => Ok(Produced::Result(r.clone())),
                (None, Some(p)) => self
                    .eval(frame_id, &effective, None, |s, rng| s.template(p, rng))?
                    .map(|v| {
                        self.note(frame_id, |s| s.after_parameters = Some(v.clone()));
                        Produced::Result(Arc::new(v))
                    }),
                (None, None) => Ok(Produced::Result(effective.clone())),
            },
            Kind::Succeed => Ok(Produced::Output(effective.clone())),
            Kind::Choice { rules, default } => {
                return self.choose(frame_id, rules, *default, effective)
            }
            Kind::Wait(how) => return self.wait(frame_id, how, effective),
            Kind::Task {
                resource,
                timeout,
                heartbeat,
            } => {
                return self.schedule_task(
                    frame_id,
                    resource,
                    timeout.as_ref(),
                    heartbeat.as_ref(),
                    effective,
                )
            }
            Kind::Parallel { branches } => {
                let input = match &state.parameters {
                    Some(p) => {
                        match self.eval(frame_id, &effective, None, |s, rng| s.template(p, rng))? {
                            Ok(v) => Arc::new(v),
                            Err(f) => return self.state_failed(frame_id, f),
                        }
                    }
                    None => effective.clone(),
                };
                self.note(frame_id, |s| s.after_parameters = Some((*input).clone()));
                return self.fan_out_parallel(frame_id, branches, input);
            }
            Kind::Map { .. } => return self.fan_out_map(frame_id, effective),
            Kind::Fail { .. } => return Ok(()),
        };
        match produced {
            Ok(Produced::Result(result)) => self.complete(frame_id, result),
            Ok(Produced::Output(output)) => self.exit(frame_id, effective, output, None),
            Err(f) => self.state_failed(frame_id, f),
        }
    }

    fn goto(
        &mut self,
        frame_id: FrameId,
        next: Option<StateId>,
        output: Data,
    ) -> Result<(), Error> {
        match next {
            Some(next) => {
                self.forget_fallen_under(frame_id);
                let fr = self.frame_mut(frame_id)?;
                fr.state = next;
                fr.input = output;
                fr.pending = Pending::Idle;
                self.queue.push_back(frame_id);
                Ok(())
            }
            None => self.frame_done(frame_id, Ok(output)),
        }
    }
}

/// Variable lookup through a frame and its ancestors, without collecting them first.
struct ScopeChain<'a> {
    frames: &'a BTreeMap<FrameId, Frame>,
    innermost: FrameId,
}

impl crate::scope::Variables for ScopeChain<'_> {
    fn variable(&self, name: &str) -> Option<&Value> {
        let mut cursor = Some(self.innermost);
        while let Some(id) = cursor {
            let frame = self.frames.get(&id)?;
            if let Some(value) = frame.vars.get(name) {
                return Some(value);
            }
            cursor = frame.parent.map(|(parent, _)| parent);
        }
        None
    }
}

fn json_map(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

pub use distributed::MAP_RUN_RESOURCE;

// Helpers more than one part of the executor uses.
use failure::failure_object;
use pipeline::apply_result_path;

mod choice_state;
mod distributed;
mod failure;
mod fanout;
mod pipeline;
mod query_flow;
mod redrive;
mod task;
mod trace_hooks;
mod wait;

#[cfg(test)]
mod tests;
