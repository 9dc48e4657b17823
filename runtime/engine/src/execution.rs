//! The executor: applies one [`Event`] to an [`ExecutionState`] and says what to do next.
//!
//! An execution is a tree of *frames*: the top level, each Parallel branch and each Map
//! iteration runs its own chain of states. States that complete at once (Pass, Choice,
//! Succeed, ...) are applied in the same step; Task, Wait and retry backoff park their
//! frame until the matching event arrives.

use crate::command::{Command, Outcome, TaskRequest};
use crate::definition::{
    Amount, Concurrency, Definition, Kind, PathField, ResultPath, StateId, Text, WaitFor,
};
use crate::error::{Error, ErrorName, Failure};
use crate::event::{Event, EventKind, Millis, Start, TaskId, TaskUsage, TimerId};
use crate::history::{Details, HistoryEvent};
use crate::limits::{self, Breach};
use crate::rng::Rng;
use crate::scope::{compact, ContextView, PathWork, Scope, Vars};
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
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TimerFor {
    Wait(FrameId),
    Retry(FrameId),
    ExecutionTimeout,
    /// Goes on with the frames a step left runnable when it yielded.
    Resume,
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
    },
    Wait(TimerId),
    Retry(TimerId),
    Fanout(Box<Fanout>),
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
    if run.st.outcome.is_some() {
        return Err(Error::UnexpectedEvent(
            "the execution has already finished".into(),
        ));
    }
    match &event.kind {
        EventKind::Started(start) => run.start(start)?,
        EventKind::TaskStarted { task } => run.task_started(*task)?,
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
        };
        self.record(None, "ExecutionStarted", details);
        let limit = match (self.def.timeout_seconds, start.timeout_seconds) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(seconds) = limit {
            let timer = TimerId(self.id());
            self.st.timers.insert(timer, TimerFor::ExecutionTimeout);
            self.st.execution_timer = Some(timer);
            self.out.push(Command::StartTimer {
                timer,
                due: self.now + seconds as i64 * 1000,
            });
        }
        let root = self.def.machine(self.def.root())?.start;
        let frame = self.new_frame(None, root, input);
        self.queue.push_back(frame);
        Ok(())
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

    /// Checks a state's data against the size and depth limits and meters its size as
    /// work; `Some` is the failure of a breach.
    fn over_limits(&mut self, value: &Value, state: &str) -> Option<Failure> {
        match limits::check(value) {
            Ok(bound) => {
                let units = bound / limits::BYTES_PER_UNIT;
                self.work = self
                    .work
                    .saturating_add(u32::try_from(units).unwrap_or(u32::MAX));
                None
            }
            Err(breach) => Some(over_data_limit(state, breach)),
        }
    }

    /// Builds the evaluation scope of a frame and runs `f` with it.
    fn eval<R>(
        &mut self,
        frame: FrameId,
        input: &Value,
        map_item: Option<(usize, &Value)>,
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
        };
        Ok(f(&scope, &mut self.rng))
    }

    fn enter(&mut self, frame_id: FrameId) -> Result<(), Error> {
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
        self.act(frame_id)
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
        let effective = match self.select_path(frame_id, "InputPath", &state.input_path, &raw)? {
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

    fn text(
        &mut self,
        frame_id: FrameId,
        raw: &Value,
        text: Option<&Text>,
        field: &str,
    ) -> Result<Result<Option<String>, Failure>, Error> {
        Ok(match text {
            None => Ok(None),
            Some(Text::Fixed(s)) => Ok(Some(s.clone())),
            Some(Text::Dynamic(expr)) => {
                match self.eval(frame_id, raw, None, |s, rng| s.expr(expr, field, rng))? {
                    Ok(Value::String(s)) => Ok(Some(s)),
                    Ok(other) => Ok(Some(compact(&other))),
                    Err(mut f) => {
                        if let crate::definition::Expr::Path(r) = expr {
                            f = self.eval(frame_id, raw, None, |s, _| s.missing(r, field))?;
                        }
                        Err(f)
                    }
                }
            }
        })
    }

    /// `InputPath` / `OutputPath` (`name`): the whole value, `{}` for null, or the
    /// selected part; a path that selects nothing fails the state like AWS does.
    fn select_path(
        &mut self,
        frame_id: FrameId,
        name: &str,
        field: &PathField,
        value: &Data,
    ) -> Result<Result<Data, Failure>, Error> {
        Ok(match field {
            PathField::Whole => Ok(value.clone()),
            PathField::Discard => Ok(Arc::new(Value::Object(Map::new()))),
            PathField::Path(r) => self.eval(frame_id, value, None, |s, _| {
                s.resolve(r)?.map(Arc::new).ok_or_else(|| {
                    Failure::runtime(format!(
                        "Invalid input for the field '{name}': the JSONPath '{}' could not be found in the input '{}'",
                        r.path.text(),
                        compact(value)
                    ))
                })
            })?,
        })
    }

    fn choose(
        &mut self,
        frame_id: FrameId,
        rules: &[crate::definition::ChoiceRule],
        default: Option<StateId>,
        effective: Data,
    ) -> Result<(), Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        let mut chosen = None;
        for rule in rules {
            let holds = self.eval(frame_id, &effective, None, |s, _| {
                rule.condition.evaluate(&ChoiceResolver(s))
            })?;
            match holds {
                Ok(true) => {
                    chosen = Some((rule.next, rule.assign.as_ref()));
                    break;
                }
                Ok(false) => {}
                Err(e) => return self.state_failed(frame_id, Failure::runtime(e.to_string())),
            }
        }
        let (next, assign) = match chosen {
            Some(c) => c,
            None => match default {
                Some(d) => (d, state.assign.as_ref()),
                None => {
                    return self.state_failed(
                        frame_id,
                        Failure::new(ErrorName::NoChoiceMatched, "No Matches!"),
                    )
                }
            },
        };
        let assigned = match assign {
            Some(t) => match self.eval(frame_id, &effective, None, |s, rng| s.template(t, rng))? {
                Ok(v) => Some(v),
                Err(f) => return self.state_failed(frame_id, f),
            },
            None => None,
        };
        let output =
            match self.select_path(frame_id, "OutputPath", &state.output_path, &effective)? {
                Ok(v) => v,
                Err(f) => return self.state_failed(frame_id, f),
            };
        self.note(frame_id, |s| {
            s.variables = assigned.clone();
            s.output = Some((*output).clone());
        });
        self.assign(frame_id, assigned)?;
        self.exited(frame_id, &output)?;
        self.goto(frame_id, Some(next), output)
    }

    fn wait(&mut self, frame_id: FrameId, how: &WaitFor, effective: Data) -> Result<(), Error> {
        let due = match how {
            WaitFor::Seconds(s) => Ok(self.now.saturating_add((*s as i64).saturating_mul(1000))),
            WaitFor::Timestamp(nanos) => Ok(nanos_to_millis(*nanos)),
            WaitFor::SecondsPath(r) => {
                let v = match self.eval(frame_id, &effective, None, |s, _| s.resolve(r))? {
                    Ok(v) => v,
                    Err(f) => return self.state_failed(frame_id, f),
                };
                let text = r.path.text();
                match v {
                    None => Err(Failure::runtime(format!("Invalid path '{text}': The path doesn't exist"))),
                    Some(v) => match v.as_i64() {
                        Some(n) if n < 0 => Err(Failure::runtime(format!(
                            "The SecondsPath parameter references a negative value: {text} == {}",
                            compact(&v)
                        ))),
                        Some(n) => Ok(self.now.saturating_add(n.saturating_mul(1000))),
                        None => Err(Failure::runtime(format!(
                            "The SecondsPath parameter cannot be parsed as a long value: {text} == {}",
                            compact(&v)
                        ))),
                    },
                }
            }
            WaitFor::TimestampPath(r) => {
                let v = match self.eval(frame_id, &effective, None, |s, _| s.resolve(r))? {
                    Ok(v) => v,
                    Err(f) => return self.state_failed(frame_id, f),
                };
                let text = r.path.text();
                let parsed = v
                    .as_ref()
                    .and_then(Value::as_str)
                    .and_then(crate::timestamp::parse_nanos);
                match (parsed, v) {
                    (Some(n), _) => Ok(nanos_to_millis(n)),
                    (None, Some(v)) => Err(Failure::runtime(format!(
                        "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: {text} == {}",
                        v.as_str().map(str::to_string).unwrap_or_else(|| compact(&v))
                    ))),
                    (None, None) => Err(Failure::runtime(format!("Invalid path '{text}': The path doesn't exist"))),
                }
            }
        };
        match due {
            Err(f) => self.state_failed(frame_id, f),
            Ok(due) if due <= self.now => self.finish_wait(frame_id, effective),
            Ok(due) => {
                let timer = TimerId(self.id());
                self.st.timers.insert(timer, TimerFor::Wait(frame_id));
                self.frame_mut(frame_id)?.pending = Pending::Wait(timer);
                self.out.push(Command::StartTimer { timer, due });
                Ok(())
            }
        }
    }

    fn finish_wait(&mut self, frame_id: FrameId, effective: Data) -> Result<(), Error> {
        self.exit(frame_id, effective.clone(), effective, None)
    }

    fn schedule_task(
        &mut self,
        frame_id: FrameId,
        resource: &str,
        timeout: Option<&Amount>,
        heartbeat: Option<&Amount>,
        effective: Data,
    ) -> Result<(), Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        let token = resource
            .ends_with(".waitForTaskToken")
            .then(|| self.rng.uuid());
        let task = TaskId(self.id());
        self.frame_mut(frame_id)?.pending = Pending::Task {
            task,
            resource: resource.to_string(),
            token: token.clone(),
        };
        let parameters = match &state.parameters {
            Some(p) => self.eval(frame_id, &effective, None, |s, rng| s.template(p, rng))?,
            None => Ok((*effective).clone()),
        };
        let resolved = parameters.and_then(|p| {
            let t = self.amount(frame_id, &effective, timeout, "TimeoutSecondsPath")?;
            let h = self.amount(frame_id, &effective, heartbeat, "HeartbeatSecondsPath")?;
            Ok((p, t, h))
        });
        let (input, timeout_seconds, heartbeat_seconds) = match resolved {
            Ok(r) => r,
            Err(f) => {
                self.frame_mut(frame_id)?.pending = Pending::Idle;
                return self.state_failed(frame_id, f);
            }
        };
        self.note(frame_id, |s| s.after_parameters = Some(input.clone()));
        if let Some(failure) = self.over_limits(&input, &state.name) {
            self.frame_mut(frame_id)?.pending = Pending::Idle;
            return self.state_failed(frame_id, failure);
        }
        let (resource_type, resource_name) = split_resource(resource);
        let mut details = Map::new();
        details.insert("resourceType".into(), Value::String(resource_type));
        details.insert("resource".into(), Value::String(resource_name));
        details.insert(
            "region".into(),
            Value::String(region_of(&self.start_facts()?.state_machine_arn)),
        );
        details.insert("parameters".into(), Value::String(compact(&input)));
        if let Some(t) = timeout_seconds {
            details.insert("timeoutInSeconds".into(), Value::from(t));
        }
        if let Some(h) = heartbeat_seconds {
            details.insert("heartbeatInSeconds".into(), Value::from(h));
        }
        self.record(Some(frame_id), "TaskScheduled", Details::Fields(details));
        self.st.tasks.insert(task, frame_id);
        let attempt = self.frame(frame_id)?.retry_count;
        self.out.push(Command::RunTask(TaskRequest {
            id: task,
            resource: resource.to_string(),
            input,
            timeout_seconds,
            heartbeat_seconds,
            attempt,
            state_name: state.name.to_string(),
            task_token: token,
        }));
        Ok(())
    }

    fn amount(
        &mut self,
        frame_id: FrameId,
        effective: &Value,
        amount: Option<&Amount>,
        field: &str,
    ) -> Result<Option<u64>, Failure> {
        match amount {
            None => Ok(None),
            Some(Amount::Fixed(n)) => Ok(Some(n.max(0.0) as u64)),
            Some(Amount::Path(r)) => {
                let v = self
                    .eval(frame_id, effective, None, |s, _| s.resolve(r))
                    .map_err(|e| Failure::runtime(e.to_string()))??;
                match v.as_ref().and_then(Value::as_u64) {
                    Some(n) if n > 0 => Ok(Some(n)),
                    _ => Err(Failure::runtime(format!(
                        "The {field} field refers to value {} which is not a positive integer: {}",
                        v.map(|v| compact(&v)).unwrap_or_else(|| "null".into()),
                        r.path.text()
                    ))),
                }
            }
        }
    }

    fn task_frame(&mut self, task: TaskId) -> Result<FrameId, Error> {
        self.st
            .tasks
            .get(&task)
            .copied()
            .ok_or_else(|| Error::UnexpectedEvent(format!("no running task {}", task.0)))
    }

    fn task_details(&self, frame_id: FrameId) -> Result<Map<String, Value>, Error> {
        let resource = match &self.frame(frame_id)?.pending {
            Pending::Task { resource, .. } => resource.clone(),
            _ => String::new(),
        };
        let (resource_type, resource_name) = split_resource(&resource);
        let mut details = Map::new();
        details.insert("resourceType".into(), Value::String(resource_type));
        details.insert("resource".into(), Value::String(resource_name));
        Ok(details)
    }

    fn task_started(&mut self, task: TaskId) -> Result<(), Error> {
        let frame_id = self.task_frame(task)?;
        let details = self.task_details(frame_id)?;
        self.record(Some(frame_id), "TaskStarted", Details::Fields(details));
        Ok(())
    }

    fn task_succeeded(
        &mut self,
        task: TaskId,
        output: Value,
        usage: Option<&TaskUsage>,
    ) -> Result<(), Error> {
        let frame_id = self.task_frame(task)?;
        let mut details = self.task_details(frame_id)?;
        add_usage(&mut details, usage);
        details.insert("output".into(), Value::String(compact(&output)));
        details.insert("outputDetails".into(), json!({"truncated": false}));
        self.record(Some(frame_id), "TaskSucceeded", Details::Fields(details));
        self.st.tasks.remove(&task);
        self.complete(frame_id, Arc::new(output))?;
        self.frame_idle(frame_id);
        Ok(())
    }

    fn task_failed(
        &mut self,
        task: TaskId,
        failure: Failure,
        usage: Option<&TaskUsage>,
    ) -> Result<(), Error> {
        let frame_id = self.task_frame(task)?;
        let mut details = self.task_details(frame_id)?;
        add_usage(&mut details, usage);
        let timed_out = matches!(
            failure.error,
            Some(ErrorName::Timeout | ErrorName::HeartbeatTimeout)
        );
        details.insert(
            "error".into(),
            Value::String(
                failure
                    .error
                    .as_ref()
                    .map(|e| e.to_string())
                    .unwrap_or_default(),
            ),
        );
        details.insert(
            "cause".into(),
            Value::String(failure.cause.clone().unwrap_or_default()),
        );
        self.record(
            Some(frame_id),
            if timed_out {
                "TaskTimedOut"
            } else {
                "TaskFailed"
            },
            Details::Fields(details),
        );
        self.st.tasks.remove(&task);
        self.frame_idle(frame_id);
        self.state_failed(frame_id, failure)?;
        self.drain()
    }

    fn frame_idle(&mut self, frame_id: FrameId) {
        if let Some(fr) = self.st.frames.get_mut(&frame_id) {
            if matches!(
                fr.pending,
                Pending::Task { .. } | Pending::Wait(_) | Pending::Retry(_)
            ) {
                fr.pending = Pending::Idle;
            }
        }
    }

    fn timer_fired(&mut self, timer: TimerId) -> Result<(), Error> {
        let purpose = self
            .st
            .timers
            .remove(&timer)
            .ok_or_else(|| Error::UnexpectedEvent(format!("no pending timer {}", timer.0)))?;
        match purpose {
            TimerFor::ExecutionTimeout => {
                self.st.execution_timer = None;
                self.record(
                    None,
                    "ExecutionTimedOut",
                    Details::Fields(json_map(&[
                        ("error", json!("States.Timeout")),
                        ("cause", json!("The execution timed out.")),
                    ])),
                );
                self.cancel_everything();
                self.finish(Outcome::TimedOut {
                    error: Some("States.Timeout".into()),
                    cause: Some("The execution timed out.".into()),
                });
                Ok(())
            }
            TimerFor::Wait(frame_id) => {
                self.frame_idle(frame_id);
                let def = self.def;
                let fr = self.frame(frame_id)?;
                let state = def.state(fr.state)?;
                let raw = fr.input.clone();
                let effective =
                    match self.select_path(frame_id, "InputPath", &state.input_path, &raw)? {
                        Ok(v) => v,
                        Err(f) => return self.state_failed(frame_id, f),
                    };
                self.finish_wait(frame_id, effective)
            }
            TimerFor::Retry(frame_id) => {
                self.frame_idle(frame_id);
                self.act(frame_id)
            }
            TimerFor::Resume => {
                self.queue.extend(self.st.runnable.drain(..));
                Ok(())
            }
        }
    }

    fn stop(&mut self, error: Option<String>, cause: Option<String>) {
        let mut details = Map::new();
        if let Some(e) = &error {
            details.insert("error".into(), Value::String(e.clone()));
        }
        if let Some(c) = &cause {
            details.insert("cause".into(), Value::String(c.clone()));
        }
        self.record(None, "ExecutionAborted", Details::Fields(details));
        self.cancel_everything();
        self.finish(Outcome::Aborted { error, cause });
    }

    fn cancel_everything(&mut self) {
        let tasks: Vec<TaskId> = self.st.tasks.keys().copied().collect();
        for task in tasks {
            self.out.push(Command::CancelTask(task));
        }
        let timers: Vec<TimerId> = self.st.timers.keys().copied().collect();
        for timer in timers {
            self.out.push(Command::CancelTimer(timer));
        }
        self.st.tasks.clear();
        self.st.timers.clear();
        self.st.frames.clear();
        self.st.execution_timer = None;
        self.st.runnable.clear();
        self.queue.clear();
    }

    /// Removes a frame and everything running under it (a failed sibling's branches).
    fn cancel_frame(&mut self, frame_id: FrameId) {
        let now = self.now;
        self.visit(frame_id, |v| {
            if v.status == VisitStatus::Running {
                v.status = VisitStatus::Cancelled;
                v.exited_at = Some(now);
            }
        });
        let Some(fr) = self.st.frames.remove(&frame_id) else {
            return;
        };
        match fr.pending {
            Pending::Task { task, .. } => {
                self.st.tasks.remove(&task);
                self.out.push(Command::CancelTask(task));
            }
            Pending::Wait(timer) | Pending::Retry(timer) => {
                self.st.timers.remove(&timer);
                self.out.push(Command::CancelTimer(timer));
            }
            Pending::Fanout(fan) => {
                for child in fan.children.keys() {
                    self.cancel_frame(*child);
                }
            }
            Pending::Idle => {}
        }
    }

    fn fan_out_parallel(
        &mut self,
        frame_id: FrameId,
        branches: &[crate::definition::MachineId],
        input: Data,
    ) -> Result<(), Error> {
        self.record(Some(frame_id), "ParallelStateStarted", Details::None);
        let mut children = BTreeMap::new();
        for (index, branch) in branches.iter().enumerate() {
            let start = self.def.machine(*branch)?.start;
            let child = self.new_frame(Some((frame_id, index)), start, input.clone());
            children.insert(child, index);
            self.queue.push_back(child);
        }
        let fan = Fanout {
            results: vec![None; branches.len()],
            children,
            items: Vec::new(),
            next_item: 0,
            limit: 0,
            failures: 0,
            tolerated: None,
            is_map: false,
        };
        if branches.is_empty() {
            self.frame_mut(frame_id)?.pending = Pending::Fanout(Box::new(fan));
            return self.fan_in(frame_id);
        }
        self.frame_mut(frame_id)?.pending = Pending::Fanout(Box::new(fan));
        Ok(())
    }

    fn fan_out_map(&mut self, frame_id: FrameId, effective: Data) -> Result<(), Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        let Kind::Map {
            processor,
            items_path,
            concurrency,
            tolerated_count,
            tolerated_percentage,
        } = &state.kind
        else {
            return Ok(());
        };
        let items = match items_path {
            None => Some(effective.clone()),
            Some(r) => match self.eval(frame_id, &effective, None, |s, _| s.resolve(r))? {
                Ok(v) => v.map(Arc::new),
                Err(f) => return self.state_failed(frame_id, f),
            },
        };
        let items = match items.as_deref() {
            Some(Value::Array(items)) => items,
            Some(other) => {
                return self.state_failed(
                    frame_id,
                    Failure::runtime(format!(
                        "Invalid path '{}': The Map state's items must be an array, not {}",
                        items_path.as_ref().map(|r| r.path.text()).unwrap_or("$"),
                        compact(other)
                    )),
                )
            }
            None => {
                return self.state_failed(
                    frame_id,
                    Failure::runtime(format!(
                        "Invalid path '{}' : No results for path: $['{}']",
                        items_path.as_ref().map(|r| r.path.text()).unwrap_or("$"),
                        items_path
                            .as_ref()
                            .map(|r| r.path.text().trim_start_matches("$."))
                            .unwrap_or("")
                    )),
                )
            }
        };
        let limit = match concurrency {
            Concurrency::Fixed(n) => Ok(*n as usize),
            Concurrency::Path(r) => {
                let v = match self.eval(frame_id, &effective, None, |s, _| s.resolve(r))? {
                    Ok(v) => v,
                    Err(f) => return self.state_failed(frame_id, f),
                };
                let n = v.as_ref().and_then(|v| match v {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.parse::<u64>().ok(),
                    _ => None,
                });
                match n {
                    Some(n) => Ok(n as usize),
                    None => Err(Failure::runtime(format!(
                        "The MaxConcurrencyPath field refers to value \"{}\" which is not a valid integer: {}",
                        v.map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| compact(&v))).unwrap_or_else(|| "null".into()),
                        r.path.text()
                    ))),
                }
            }
        };
        let limit = match limit {
            Ok(l) => l,
            Err(f) => return self.state_failed(frame_id, f),
        };
        let tolerated = match self.tolerance(
            frame_id,
            &effective,
            tolerated_count.as_ref(),
            tolerated_percentage.as_ref(),
            items.len(),
        ) {
            Ok(t) => t,
            Err(f) => return self.state_failed(frame_id, f),
        };
        // Iteration inputs: ItemSelector (or legacy Parameters) applied to each item.
        let mut inputs = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let input = match &state.parameters {
                Some(t) => {
                    match self.eval(frame_id, &effective, Some((index, item)), |s, rng| {
                        s.template(t, rng)
                    })? {
                        Ok(v) => v,
                        Err(f) => return self.state_failed(frame_id, f),
                    }
                }
                None => item.clone(),
            };
            inputs.push(input);
        }
        if state.parameters.is_some() {
            self.note(frame_id, |s| {
                s.after_parameters = Some(Value::Array(inputs.clone()))
            });
        }
        self.record(
            Some(frame_id),
            "MapStateStarted",
            Details::Fields(json_map(&[("length", json!(items.len()))])),
        );
        let fan = Fanout {
            results: vec![None; inputs.len()],
            children: BTreeMap::new(),
            items: inputs,
            next_item: 0,
            limit,
            failures: 0,
            tolerated,
            is_map: true,
        };
        self.frame_mut(frame_id)?.pending = Pending::Fanout(Box::new(fan));
        let _ = processor;
        self.start_iterations(frame_id)?;
        if self.fan_done(frame_id)? {
            return self.fan_in(frame_id);
        }
        Ok(())
    }

    fn tolerance(
        &mut self,
        frame_id: FrameId,
        effective: &Value,
        count: Option<&Amount>,
        percentage: Option<&Amount>,
        total: usize,
    ) -> Result<Option<usize>, Failure> {
        let count = self.amount_any(frame_id, effective, count, "ToleratedFailureCountPath")?;
        let pct = self.amount_any(
            frame_id,
            effective,
            percentage,
            "ToleratedFailurePercentagePath",
        )?;
        Ok(match (count, pct) {
            (None, None) => None,
            (c, p) => {
                let from_pct = p.map(|p| ((p / 100.0) * total as f64).floor() as usize);
                let from_count = c.map(|c| c as usize);
                Some(from_count.into_iter().chain(from_pct).max().unwrap_or(0))
            }
        })
    }

    fn amount_any(
        &mut self,
        frame_id: FrameId,
        effective: &Value,
        amount: Option<&Amount>,
        field: &str,
    ) -> Result<Option<f64>, Failure> {
        match amount {
            None => Ok(None),
            Some(Amount::Fixed(n)) => Ok(Some(*n)),
            Some(Amount::Path(r)) => {
                let v = self
                    .eval(frame_id, effective, None, |s, _| s.resolve(r))
                    .map_err(|e| Failure::runtime(e.to_string()))??;
                match v.as_ref().and_then(Value::as_f64) {
                    Some(n) if n >= 0.0 => Ok(Some(n)),
                    _ => Err(Failure::runtime(format!(
                        "The {field} field refers to value {} which is not a valid number: {}",
                        v.map(|v| compact(&v)).unwrap_or_else(|| "null".into()),
                        r.path.text()
                    ))),
                }
            }
        }
    }

    /// Starts Map iterations up to the concurrency limit.
    fn start_iterations(&mut self, frame_id: FrameId) -> Result<(), Error> {
        let def = self.def;
        let state = def.state(self.frame(frame_id)?.state)?;
        let Kind::Map { processor, .. } = &state.kind else {
            return Ok(());
        };
        let start = def.machine(*processor)?.start;
        loop {
            let next = {
                let Pending::Fanout(fan) = &mut self.frame_mut(frame_id)?.pending else {
                    return Ok(());
                };
                let room = fan.limit == 0 || fan.children.len() < fan.limit;
                if !room || fan.next_item >= fan.items.len() {
                    return Ok(());
                }
                let index = fan.next_item;
                fan.next_item += 1;
                let input = fan
                    .items
                    .get_mut(index)
                    .map(std::mem::take)
                    .unwrap_or(Value::Null);
                (index, input)
            };
            let (index, input) = next;
            self.record(
                Some(frame_id),
                "MapIterationStarted",
                Details::MapIteration {
                    name: state.name.clone(),
                    index,
                },
            );
            let child = self.new_frame(Some((frame_id, index)), start, Arc::new(input));
            if let Pending::Fanout(fan) = &mut self.frame_mut(frame_id)?.pending {
                fan.children.insert(child, index);
            }
            self.queue.push_back(child);
        }
    }

    fn fan_done(&self, frame_id: FrameId) -> Result<bool, Error> {
        Ok(match &self.frame(frame_id)?.pending {
            Pending::Fanout(fan) => fan.children.is_empty() && fan.next_item >= fan.items.len(),
            _ => false,
        })
    }

    /// All branches or iterations are done: the Parallel/Map state produces its result.
    fn fan_in(&mut self, frame_id: FrameId) -> Result<(), Error> {
        let fr = self.frame_mut(frame_id)?;
        let Pending::Fanout(fan) = std::mem::replace(&mut fr.pending, Pending::Idle) else {
            return Ok(());
        };
        let result = Value::Array(
            fan.results
                .into_iter()
                .map(|r| r.unwrap_or(Value::Null))
                .collect(),
        );
        self.record(
            Some(frame_id),
            if fan.is_map {
                "MapStateSucceeded"
            } else {
                "ParallelStateSucceeded"
            },
            Details::None,
        );
        self.complete(frame_id, Arc::new(result))
    }

    /// A child frame (branch or iteration) finished.
    fn child_done(
        &mut self,
        parent: FrameId,
        child: FrameId,
        index: usize,
        result: Result<Data, Failure>,
    ) -> Result<(), Error> {
        let def = self.def;
        let name = def.state(self.frame(parent)?.state)?.name.clone();
        let is_map = match &mut self.frame_mut(parent)?.pending {
            Pending::Fanout(fan) => {
                fan.children.remove(&child);
                fan.is_map
            }
            _ => return Ok(()),
        };
        match result {
            Ok(output) => {
                if is_map {
                    self.record(
                        Some(parent),
                        "MapIterationSucceeded",
                        Details::MapIteration {
                            name: name.clone(),
                            index,
                        },
                    );
                }
                if let Pending::Fanout(fan) = &mut self.frame_mut(parent)?.pending {
                    if let Some(slot) = fan.results.get_mut(index) {
                        *slot = Some(Arc::unwrap_or_clone(output));
                    }
                }
            }
            Err(failure) => {
                let within_tolerance = if is_map {
                    self.record(
                        Some(parent),
                        "MapIterationFailed",
                        Details::MapIteration {
                            name: name.clone(),
                            index,
                        },
                    );
                    match &mut self.frame_mut(parent)?.pending {
                        Pending::Fanout(fan) => {
                            fan.failures += 1;
                            let ok = fan.tolerated.is_some_and(|t| fan.failures <= t)
                                && failure.error != Some(ErrorName::Runtime);
                            if ok {
                                if let Some(slot) = fan.results.get_mut(index) {
                                    *slot = Some(failure_object(&failure));
                                }
                            }
                            ok
                        }
                        _ => false,
                    }
                } else {
                    false
                };
                if !within_tolerance {
                    let tolerated_set = match &self.frame(parent)?.pending {
                        Pending::Fanout(fan) => fan.tolerated.is_some(),
                        _ => false,
                    };
                    let failure = if tolerated_set && failure.error != Some(ErrorName::Runtime) {
                        Failure::new(
                            ErrorName::ExceedToleratedFailureThreshold,
                            "The specified tolerated failure threshold was exceeded",
                        )
                    } else {
                        failure
                    };
                    return self.fan_failed(parent, is_map, failure);
                }
            }
        }
        if is_map {
            self.start_iterations(parent)?;
        }
        if self.fan_done(parent)? {
            self.fan_in(parent)?;
        }
        Ok(())
    }

    fn fan_failed(
        &mut self,
        frame_id: FrameId,
        is_map: bool,
        failure: Failure,
    ) -> Result<(), Error> {
        let fr = self.frame_mut(frame_id)?;
        let pending = std::mem::replace(&mut fr.pending, Pending::Idle);
        if let Pending::Fanout(fan) = pending {
            for child in fan.children.keys() {
                self.cancel_frame(*child);
            }
        }
        self.record(
            Some(frame_id),
            if is_map {
                "MapStateFailed"
            } else {
                "ParallelStateFailed"
            },
            Details::None,
        );
        self.state_failed(frame_id, failure)
    }

    /// The common output pipeline of Pass, Task, Parallel and Map: ResultSelector,
    /// Assign, ResultPath, OutputPath.
    fn complete(&mut self, frame_id: FrameId, result: Data) -> Result<(), Error> {
        let def = self.def;
        let fr = self.frame(frame_id)?;
        let state = def.state(fr.state)?;
        let raw = fr.input.clone();
        self.note(frame_id, |s| s.result = Some((*result).clone()));
        if let Some(failure) = self.over_limits(&result, &state.name) {
            return self.state_failed(frame_id, failure);
        }
        let selected = match &state.result_selector {
            Some(t) => match self.eval(frame_id, &result, None, |s, rng| s.template(t, rng))? {
                Ok(v) => {
                    self.note(frame_id, |s| s.after_result_selector = Some(v.clone()));
                    Arc::new(v)
                }
                Err(f) => return self.state_failed(frame_id, f),
            },
            None => result,
        };
        self.exit(frame_id, raw, selected, Some(()))
    }

    /// Applies Assign, (ResultPath when `with_result_path`), OutputPath, then leaves the state.
    fn exit(
        &mut self,
        frame_id: FrameId,
        base: Data,
        result: Data,
        with_result_path: Option<()>,
    ) -> Result<(), Error> {
        let def = self.def;
        let fr = self.frame(frame_id)?;
        let state = def.state(fr.state)?;
        let assigned = match &state.assign {
            Some(t) => match self.eval(frame_id, &result, None, |s, rng| s.template(t, rng))? {
                Ok(v) => Some(v),
                Err(f) => return self.state_failed(frame_id, f),
            },
            None => None,
        };
        if let Some(failure) = assigned
            .as_ref()
            .and_then(|v| self.over_limits(v, &state.name))
        {
            return self.state_failed(frame_id, failure);
        }
        let combined = match with_result_path {
            Some(()) => match apply_result_path(&state.result_path, base, result) {
                Ok(v) => {
                    self.note(frame_id, |s| s.after_result_path = Some((*v).clone()));
                    v
                }
                Err(f) => return self.state_failed(frame_id, f),
            },
            None => result,
        };
        let output =
            match self.select_path(frame_id, "OutputPath", &state.output_path, &combined)? {
                Ok(v) => v,
                Err(f) => return self.state_failed(frame_id, f),
            };
        if let Some(failure) = self.over_limits(&output, &state.name) {
            return self.state_failed(frame_id, failure);
        }
        self.note(frame_id, |s| {
            s.variables = assigned.clone();
            s.output = Some((*output).clone());
        });
        self.assign(frame_id, assigned)?;
        self.exited(frame_id, &output)?;
        if matches!(state.kind, Kind::Succeed) {
            return self.frame_done(frame_id, Ok(output));
        }
        self.goto(frame_id, state.next, output)
    }

    fn assign(&mut self, frame_id: FrameId, assigned: Option<Value>) -> Result<(), Error> {
        if let Some(Value::Object(vars)) = assigned {
            let fr = self.frame_mut(frame_id)?;
            for (name, value) in vars {
                fr.vars.insert(name, value);
            }
        }
        Ok(())
    }

    fn exited(&mut self, frame_id: FrameId, output: &Data) -> Result<(), Error> {
        let state = self.def.state(self.frame(frame_id)?.state)?;
        let details = Details::StateExited {
            name: state.name.clone(),
            output: output.clone(),
        };
        let id = self.record(Some(frame_id), state.kind.exited_event(), details);
        let now = self.now;
        self.visit(frame_id, |v| {
            v.exited_event_id = Some(id);
            v.exited_at = Some(now);
            if v.status == VisitStatus::Running {
                v.status = VisitStatus::Succeeded;
            }
        });
        Ok(())
    }

    /// Changes the frame's current visit in the trace, if tracing.
    fn visit(&mut self, frame_id: FrameId, f: impl FnOnce(&mut Visit)) {
        let Some(trace) = self.st.trace.as_mut() else {
            return;
        };
        if let Some(fr) = self.st.frames.get(&frame_id) {
            if let Some(v) = trace.get_mut(fr.entered_event) {
                f(v);
            }
        }
    }

    /// Records a stage of the frame's current visit, if tracing.
    fn note(&mut self, frame_id: FrameId, f: impl FnOnce(&mut Stages)) {
        self.visit(frame_id, |v| f(&mut v.stages));
    }

    /// Records the error a visit raised and what became of it.
    fn note_failed(&mut self, frame_id: FrameId, failure: &Failure, status: VisitStatus) {
        if self.st.trace.is_none() {
            return;
        }
        let error = failure_object(failure);
        let now = self.now;
        self.visit(frame_id, |v| {
            v.stages.error = Some(error);
            match status {
                VisitStatus::Running => {
                    // The next attempt starts over from the input: drop this one's values.
                    v.retries += 1;
                    v.stages = Stages {
                        input: v.stages.input.take(),
                        error: v.stages.error.take(),
                        ..Stages::default()
                    };
                }
                VisitStatus::Failed | VisitStatus::Cancelled => v.exited_at = Some(now),
                VisitStatus::Succeeded | VisitStatus::Caught => {}
            }
            v.status = status;
        });
    }

    /// Where a frame runs, for the trace: `P[1]/M[3]` (see [`Visit::scope`]).
    fn scope_of(&self, frame_id: FrameId) -> Result<String, Error> {
        let mut parts = Vec::new();
        let mut parent = self.frame(frame_id)?.parent;
        while let Some((id, index)) = parent {
            let fr = self.frame(id)?;
            parts.push(format!("{}[{index}]", self.def.state(fr.state)?.name));
            parent = fr.parent;
        }
        parts.reverse();
        Ok(parts.join("/"))
    }

    fn goto(
        &mut self,
        frame_id: FrameId,
        next: Option<StateId>,
        output: Data,
    ) -> Result<(), Error> {
        match next {
            Some(next) => {
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

    /// AWS names the state and its entry event in every runtime error's cause.
    fn located(&self, frame_id: FrameId, mut failure: Failure) -> Result<Failure, Error> {
        const PREFIX: &str = "An error occurred while executing the state";
        if failure.error != Some(ErrorName::Runtime) {
            return Ok(failure);
        }
        let fr = self.frame(frame_id)?;
        let name = &self.def.state(fr.state)?.name;
        let cause = failure.cause.take().unwrap_or_default();
        if cause.starts_with(PREFIX) {
            failure.cause = Some(cause);
        } else {
            failure.cause = Some(format!(
                "{PREFIX} '{name}' (entered at the event id #{}). {cause}",
                fr.entered_event
            ));
        }
        Ok(failure)
    }

    /// A state raised `failure`: retry it, catch it, or fail the frame.
    fn state_failed(&mut self, frame_id: FrameId, failure: Failure) -> Result<(), Error> {
        let failure = self.located(frame_id, failure)?;
        let def = self.def;
        let fr = self.frame(frame_id)?;
        let state = def.state(fr.state)?;
        if let Some(index) = state
            .retry
            .iter()
            .position(|r| failure.matched_by(&r.error_equals))
        {
            let attempts = fr.retry_attempts.get(index).copied().unwrap_or(0);
            if let Some(retrier) = state.retry.get(index) {
                if attempts < retrier.max_attempts {
                    let mut delay =
                        retrier.interval_seconds * retrier.backoff_rate.powi(attempts as i32);
                    if let Some(max) = retrier.max_delay_seconds {
                        delay = delay.min(max);
                    }
                    if retrier.full_jitter {
                        delay *= self.rng.next_f64();
                    }
                    self.note_failed(frame_id, &failure, VisitStatus::Running);
                    let timer = TimerId(self.id());
                    let due = self.now + (delay * 1000.0).round() as i64;
                    let fr = self.frame_mut(frame_id)?;
                    if let Some(a) = fr.retry_attempts.get_mut(index) {
                        *a += 1;
                    }
                    fr.retry_count += 1;
                    fr.pending = Pending::Retry(timer);
                    self.st.timers.insert(timer, TimerFor::Retry(frame_id));
                    self.out.push(Command::StartTimer { timer, due });
                    return Ok(());
                }
            }
        }
        if let Some(catcher) = state
            .catch
            .iter()
            .find(|c| failure.matched_by(&c.error_equals))
        {
            let error_output = Arc::new(failure_object(&failure));
            let raw = self.frame(frame_id)?.input.clone();
            let assigned = match &catcher.assign {
                Some(t) => {
                    match self.eval(frame_id, &error_output, None, |s, rng| s.template(t, rng))? {
                        Ok(v) => Some(v),
                        Err(f) => {
                            self.note_failed(frame_id, &f, VisitStatus::Failed);
                            return self.frame_done(frame_id, Err(f));
                        }
                    }
                }
                None => None,
            };
            self.note_failed(frame_id, &failure, VisitStatus::Caught);
            let output = match apply_result_path(&catcher.result_path, raw, error_output) {
                Ok(v) => v,
                Err(f) => {
                    self.note_failed(frame_id, &f, VisitStatus::Failed);
                    return self.frame_done(frame_id, Err(f));
                }
            };
            self.note(frame_id, |s| {
                s.after_result_path = Some((*output).clone());
                s.output = Some((*output).clone());
                s.variables = assigned.clone();
            });
            self.assign(frame_id, assigned)?;
            self.exited(frame_id, &output)?;
            return self.goto(frame_id, Some(catcher.next), output);
        }
        self.note_failed(frame_id, &failure, VisitStatus::Failed);
        self.frame_done(frame_id, Err(failure))
    }

    /// A frame has no more states to run.
    fn frame_done(
        &mut self,
        frame_id: FrameId,
        result: Result<Data, Failure>,
    ) -> Result<(), Error> {
        let fr = self
            .st
            .frames
            .remove(&frame_id)
            .ok_or_else(|| Error::UnexpectedEvent(format!("no frame {frame_id}")))?;
        match fr.parent {
            Some((parent, index)) => {
                if self.st.frames.contains_key(&parent) {
                    self.child_done(parent, frame_id, index, result)?;
                }
                Ok(())
            }
            None => {
                match result {
                    Ok(output) => {
                        let details = Details::ExecutionSucceeded {
                            output: output.clone(),
                        };
                        self.record(None, "ExecutionSucceeded", details);
                        self.cancel_everything();
                        self.finish(Outcome::Succeeded(output));
                    }
                    Err(failure) => {
                        let error = failure.error.map(|e| e.to_string());
                        self.finish_failed(error, failure.cause);
                    }
                }
                Ok(())
            }
        }
    }

    fn finish_failed(&mut self, error: Option<String>, cause: Option<String>) {
        let mut details = Map::new();
        if let Some(e) = &error {
            details.insert("error".into(), Value::String(e.clone()));
        }
        if let Some(c) = &cause {
            details.insert("cause".into(), Value::String(c.clone()));
        }
        self.record(None, "ExecutionFailed", Details::Fields(details));
        self.cancel_everything();
        self.finish(Outcome::Failed { error, cause });
    }

    fn finish(&mut self, outcome: Outcome) {
        if let Some(trace) = self.st.trace.as_mut() {
            trace.close_running(self.now);
        }
        self.st.outcome = Some(outcome.clone());
        self.out.push(Command::Finish(outcome));
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

struct ChoiceResolver<'a, 'b>(&'a Scope<'b>);

impl choice::Resolve for ChoiceResolver<'_, '_> {
    fn resolve(&self, path: &str) -> Result<Option<Value>, choice::Error> {
        let r = jsonpath::Reference::parse(path).map_err(|e| choice::Error(e.to_string()))?;
        self.0
            .resolve(&r)
            .map_err(|f| choice::Error(f.cause.unwrap_or_default()))
    }
}

/// Sandstep's own addition to task events: which module version ran and its fuel. Kept
/// under one key so AWS clients, which skip unknown fields, are not confused.
fn add_usage(details: &mut Map<String, Value>, usage: Option<&TaskUsage>) {
    if let Some(u) = usage.and_then(|u| serde_json::to_value(u).ok()) {
        details.insert("sandstepUsage".into(), u);
    }
}

/// `{"Error": ..., "Cause": ...}` as Catch passes it on.
fn failure_object(failure: &Failure) -> Value {
    let mut out = Map::new();
    if let Some(e) = &failure.error {
        out.insert("Error".into(), Value::String(e.to_string()));
    }
    if let Some(c) = &failure.cause {
        out.insert("Cause".into(), Value::String(c.clone()));
    }
    Value::Object(out)
}

fn apply_result_path(path: &ResultPath, input: Data, result: Data) -> Result<Data, Failure> {
    match path {
        ResultPath::Replace => Ok(result),
        ResultPath::Discard => Ok(input),
        ResultPath::Path(p) => {
            if !input.is_object() && !input.is_array() {
                // AWS leaves a scalar input as it is rather than failing.
                return Ok(input);
            }
            let mut input = Arc::unwrap_or_clone(input);
            match p.set(&mut input, Arc::unwrap_or_clone(result)) {
                Ok(()) => Ok(Arc::new(input)),
                Err(e) => Err(Failure::new(
                    ErrorName::ResultPathMatchFailure,
                    format!(
                        "Unable to apply ResultPath '{}' to the input: {e}",
                        p.text()
                    ),
                )),
            }
        }
    }
}

/// The failure of a state whose result or output breaks a data limit, in AWS's words
/// for the size limit.
fn over_data_limit(state: &str, breach: Breach) -> Failure {
    let what = match breach {
        Breach::Size => "a size exceeding the maximum number of bytes service limit".to_string(),
        Breach::Depth => format!(
            "JSON nested deeper than the maximum of {} levels",
            limits::MAX_DATA_NESTING
        ),
    };
    Failure::new(
        ErrorName::DataLimitExceeded,
        format!("The state/task '{state}' returned a result with {what}."),
    )
}

fn nanos_to_millis(nanos: i128) -> Millis {
    (nanos / 1_000_000).clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

fn json_map(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Splits a Task resource into AWS's `resourceType` and `resource` history fields:
/// `arn:aws:states:::lambda:invoke` → (`lambda`, `invoke`),
/// `arn:aws:lambda:us-east-1:1:function:f` → (`lambda`, `function:f`... as AWS).
fn split_resource(resource: &str) -> (String, String) {
    let parts: Vec<&str> = resource.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "states", "", "", rest] => match rest.split_once(':') {
            Some((service, action)) => (service.to_string(), action.to_string()),
            None => (rest.to_string(), String::new()),
        },
        ["arn", _, service, _, _, rest] => (service.to_string(), rest.to_string()),
        _ => (String::new(), resource.to_string()),
    }
}

fn region_of(arn: &str) -> String {
    arn.split(':').nth(3).unwrap_or("us-east-1").to_string()
}

#[cfg(test)]
mod tests;
