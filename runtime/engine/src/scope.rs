//! Evaluation of paths and payload templates against a state's data, the context object
//! and the variables in scope.

use crate::definition::{Expr, Template};
use crate::error::{ErrorName, Failure};
use crate::event::{Millis, Start};
use crate::intrinsics;
use crate::jsonata::convert::to_jvalue;
use crate::jsonata::{self, Query, QueryError};
use jsonata_core::value::JValue;

/// The evaluator's object map.
type JMap = indexmap::IndexMap<String, JValue>;
use crate::jsonpath::{self, Budget, Reference, Root};
use crate::rng::Rng;
use crate::timestamp;
use serde_json::{Map, Value};
use std::cell::{Cell, OnceCell};
use std::collections::BTreeMap;

/// Variables of one scope (the top level, a Parallel branch or a Map iteration).
pub type Vars = BTreeMap<String, Value>;

/// The variables visible from a state: its own scope, then the enclosing ones.
pub trait Variables {
    /// The innermost variable called `name`.
    fn variable(&self, name: &str) -> Option<&Value>;
}

impl Variables for [&Vars] {
    fn variable(&self, name: &str) -> Option<&Value> {
        self.iter().find_map(|scope| scope.get(name))
    }
}

/// What `$$` shows for the state being evaluated.
#[derive(Debug, Clone, Copy)]
pub struct ContextView<'a> {
    /// The execution's start facts (their `input` is not used: see `input`).
    pub start: &'a Start,
    /// The execution's input.
    pub input: &'a Value,
    /// When the execution started.
    pub started_at: Millis,
    /// `$$.Execution.RedriveCount`, and `RedriveTime` once redriven.
    pub redrives: (u32, Option<Millis>),
    /// The current state's name.
    pub state_name: &'a str,
    /// When the current state was entered.
    pub entered_at: Millis,
    /// `$$.State.RetryCount`, shown for states that can retry.
    pub retry_count: Option<u32>,
    /// `$$.Map.Item` while evaluating a Map's ItemSelector.
    pub map_item: Option<(usize, &'a Value)>,
    /// `$$.Task.Token`.
    pub task_token: Option<&'a str>,
}

impl ContextView<'_> {
    /// Builds the context object; done lazily since most states never read it.
    pub fn to_value(&self) -> Value {
        let mut execution = Map::new();
        execution.insert("Id".into(), Value::String(self.start.execution_arn.clone()));
        execution.insert("Input".into(), self.input.clone());
        execution.insert(
            "StartTime".into(),
            Value::String(timestamp::format_millis(self.started_at)),
        );
        execution.insert("Name".into(), Value::String(self.start.name.clone()));
        execution.insert("RoleArn".into(), Value::String(self.start.role_arn.clone()));
        let (count, last) = self.redrives;
        execution.insert(
            "RedriveCount".into(),
            Value::from(count.max(self.start.redrive_count)),
        );
        if let Some(at) = last {
            execution.insert(
                "RedriveTime".into(),
                Value::String(timestamp::format_millis(at)),
            );
        }
        let mut machine = Map::new();
        machine.insert(
            "Id".into(),
            Value::String(self.start.state_machine_arn.clone()),
        );
        machine.insert(
            "Name".into(),
            Value::String(self.start.state_machine_name.clone()),
        );
        let mut state = Map::new();
        state.insert("Name".into(), Value::String(self.state_name.to_string()));
        state.insert(
            "EnteredTime".into(),
            Value::String(timestamp::format_millis(self.entered_at)),
        );
        if let Some(count) = self.retry_count {
            state.insert("RetryCount".into(), Value::from(count));
        }
        let mut out = Map::new();
        out.insert("Execution".into(), Value::Object(execution));
        out.insert("StateMachine".into(), Value::Object(machine));
        out.insert("State".into(), Value::Object(state));
        if let Some(token) = self.task_token {
            let mut task = Map::new();
            task.insert("Token".into(), Value::String(token.to_string()));
            out.insert("Task".into(), Value::Object(task));
        }
        if let Some((index, value)) = self.map_item {
            let mut item = Map::new();
            item.insert("Index".into(), Value::from(index));
            item.insert("Value".into(), value.clone());
            let mut map = Map::new();
            map.insert("Item".into(), Value::Object(item));
            out.insert("Map".into(), Value::Object(map));
        }
        Value::Object(out)
    }
}

/// The path evaluation work a step may still do, shared by every path it evaluates.
///
/// One evaluation is bounded by [`jsonpath::MAX_WORK`], but a state may hold thousands of
/// paths (a Parameters template, a Map's ItemSelector per item), each of which could use
/// that much. Sharing one budget bounds what a step spends on paths, whatever their
/// number; a path that needs more than is left fails its state with `States.Runtime`.
/// Counted in nodes, not timed, so replay spends exactly the same.
#[derive(Debug)]
pub struct PathWork {
    /// The budget the step started with (`usize::MAX` when not metered).
    initial: usize,
    left: Cell<usize>,
    /// Whether the step's budget is metered (executions recorded before it was are not).
    metered: bool,
    /// Set once a path ran out.
    exhausted: Cell<bool>,
}

impl PathWork {
    /// A budget of `nodes` for a step; `None` leaves only the per-path bound, as
    /// executions recorded before paths were metered ran.
    pub fn new(nodes: Option<u64>) -> PathWork {
        let initial = nodes.map_or(usize::MAX, |n| usize::try_from(n).unwrap_or(usize::MAX));
        PathWork {
            initial,
            left: Cell::new(initial),
            metered: nodes.is_some(),
            exhausted: Cell::new(false),
        }
    }

    /// The step work units ([`crate::limits::PATH_NODES_PER_UNIT`]) spent so far; 0 when
    /// not metered.
    pub fn units(&self) -> u32 {
        if !self.metered {
            return 0;
        }
        let spent = self.initial - self.left.get();
        u32::try_from(spent / crate::limits::PATH_NODES_PER_UNIT).unwrap_or(u32::MAX)
    }

    /// The steps one JSONata evaluation may take: what is left, at most
    /// [`jsonpath::MAX_WORK`] (a step of an evaluation costs about what a path node does).
    fn query_steps(&self) -> u64 {
        u64::try_from(self.left.get().min(jsonpath::MAX_WORK)).unwrap_or(u64::MAX)
    }

    /// Counts `steps` of a JSONata evaluation as spent.
    fn spend(&self, steps: u64) {
        if self.metered {
            let steps = usize::try_from(steps).unwrap_or(usize::MAX);
            self.left.set(self.left.get().saturating_sub(steps));
        }
    }

    /// Selects `path` from `value` with what is left (at most [`jsonpath::MAX_WORK`]).
    fn select(&self, path: &jsonpath::Path, value: &Value) -> Result<Option<Value>, Failure> {
        let allowed = self.left.get().min(jsonpath::MAX_WORK);
        let mut budget = Budget::new(allowed);
        let selected = path.select_within(value, &mut budget);
        let used = allowed - budget.remaining();
        if self.metered {
            self.left.set(self.left.get() - used);
        }
        selected.map_err(|_| {
            self.exhausted.set(true);
            self.failure(path.text())
        })
    }

    fn failure(&self, path: &str) -> Failure {
        Failure::runtime(format!(
            "The JSONPath '{path}' needs more evaluation work than is left to this state \
             (at most {} nodes per path, {} per step): it was stopped",
            jsonpath::MAX_WORK,
            crate::limits::PATH_WORK
        ))
    }
}

/// What `$states` holds besides `input` and `context`, where AWS makes it available:
/// `result` in a state's `Output` and `Assign` after its work, `errorOutput` in a
/// Catcher's.
#[derive(Debug, Clone, Copy, Default)]
pub struct StatesView<'a> {
    /// `$states.result`.
    pub result: Option<&'a Value>,
    /// `$states.errorOutput`.
    pub error_output: Option<&'a Value>,
}

/// Everything a path or a JSONata expression may read.
#[derive(Clone, Copy)]
pub struct Scope<'a> {
    /// What `$` means here.
    pub input: &'a Value,
    /// Variable scopes, innermost first.
    pub vars: &'a dyn Variables,
    /// What `$$` means here.
    pub context: ContextView<'a>,
    /// `context` as a value, built at the first `$$` path and shared by the rest (it holds
    /// a copy of the execution input).
    pub context_value: &'a OnceCell<Value>,
    /// What the step may still spend on paths.
    pub work: &'a PathWork,
    /// `$states.result` and `$states.errorOutput` where they exist.
    pub states: StatesView<'a>,
    /// The event's time: what JSONata's `$now()` and `$millis()` report.
    pub now: Millis,
}

impl std::fmt::Debug for Scope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scope")
            .field("input", self.input)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

impl<'a> Scope<'a> {
    /// The same scope with `$` bound to another value.
    pub fn with_input(self, input: &'a Value) -> Scope<'a> {
        Scope { input, ..self }
    }

    /// Looks a variable up, innermost scope first.
    pub fn variable(&self, name: &str) -> Option<&'a Value> {
        self.vars.variable(name)
    }

    fn context_value(&self) -> &'a Value {
        self.context_value.get_or_init(|| self.context.to_value())
    }

    /// Resolves a reference; `Ok(None)` when it matches nothing.
    ///
    /// # Errors
    /// A `States.Runtime` failure when the step's path work ([`PathWork`]) runs out.
    pub fn resolve(&self, reference: &Reference) -> Result<Option<Value>, Failure> {
        let value = match &reference.root {
            Root::Input => self.input,
            Root::Context => self.context_value(),
            Root::Variable(name) => match self.variable(name) {
                Some(value) => value,
                None => return Ok(None),
            },
        };
        self.work.select(&reference.path, value)
    }

    /// Resolves a reference that must match, as for `InputPath` or a `key.$` field.
    ///
    /// # Errors
    /// A `States.Runtime` failure naming the field and the data searched.
    pub fn require(&self, reference: &Reference, field: &str) -> Result<Value, Failure> {
        self.resolve(reference)?
            .ok_or_else(|| self.missing(reference, field))
    }

    /// The `States.Runtime` failure of an `InputPath`, `OutputPath` or `...SecondsPath`
    /// that matched nothing, in AWS's words (`Invalid path '$.a' : No results for path:
    /// $['a']`).
    pub fn invalid_path(&self, reference: &Reference) -> Failure {
        let searched = match &reference.root {
            Root::Input => Some(self.input),
            Root::Context => Some(self.context_value()),
            Root::Variable(name) => self.variable(name),
        };
        let detail = match searched {
            Some(value) => reference.path.not_found_detail(value),
            None => "No results for path: $".to_string(),
        };
        Failure::runtime(format!("Invalid path '{}' : {detail}", reference.text()))
    }

    /// The `States.Runtime` failure for a path that matched nothing.
    pub fn missing(&self, reference: &Reference, field: &str) -> Failure {
        let (text, searched) = match &reference.root {
            Root::Input => (reference.path.text().to_string(), compact(self.input)),
            Root::Context => (
                format!("${}", reference.path.text()),
                compact(self.context_value()),
            ),
            Root::Variable(name) => (
                format!("${name}{}", reference.path.text().trim_start_matches('$')),
                self.variable(name)
                    .map(compact)
                    .unwrap_or_else(|| "null".into()),
            ),
        };
        Failure::runtime(format!(
            "The JSONPath '{text}' specified for the field '{field}' could not be found in the input '{searched}'"
        ))
    }

    /// Evaluates a dynamic expression.
    ///
    /// # Errors
    /// `States.Runtime` for a missing path, `States.IntrinsicFailure` for a failed call.
    pub fn expr(&self, expr: &Expr, field: &str, rng: &mut Rng) -> Result<Value, Failure> {
        match expr {
            Expr::Path(reference) => self.require(reference, field),
            Expr::Call(call) => {
                let mut env = CallEnv { scope: *self, rng };
                call.evaluate(&mut env).map_err(|e| {
                    if self.work.exhausted.get() {
                        // A path argument ran out of work: not the intrinsic's fault.
                        self.work.failure(call.text())
                    } else {
                        Failure::new(ErrorName::IntrinsicFailure, e.to_string())
                    }
                })
            }
        }
    }

    /// Evaluates a payload template.
    ///
    /// # Errors
    /// As [`Scope::expr`] for any dynamic field.
    pub fn template(&self, template: &Template, rng: &mut Rng) -> Result<Value, Failure> {
        Ok(match template {
            Template::Literal(v) => v.clone(),
            Template::Object(fields) => {
                let mut out = Map::with_capacity(fields.len());
                for (key, t) in fields {
                    out.insert(key.clone(), self.template(t, rng)?);
                }
                Value::Object(out)
            }
            Template::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|t| self.template(t, rng))
                    .collect::<Result<_, _>>()?,
            ),
            Template::Dynamic { field, expr } => self.expr(expr, field, rng)?,
            Template::Query { field, query } => self.query(query, field, rng)?,
        })
    }

    /// `$states` as `query` sees it here, built straight into the evaluator's values
    /// (the context object only when the expression may read it).
    fn states_value(&self, query: &Query) -> JValue {
        let mut states = JMap::new();
        states.insert("input".into(), to_jvalue(self.input));
        if query.may_read_context() {
            states.insert("context".into(), to_jvalue(self.context_value()));
        }
        if let Some(result) = self.states.result {
            states.insert("result".into(), to_jvalue(result));
        }
        if let Some(error_output) = self.states.error_output {
            states.insert("errorOutput".into(), to_jvalue(error_output));
        }
        JValue::object(states)
    }

    /// Evaluates a JSONata expression, which must give a value.
    ///
    /// # Errors
    /// `States.QueryEvaluationError` naming the expression and `field`, for an error or
    /// an undefined result; `States.Runtime` when the step's work runs out.
    pub fn query(&self, query: &Query, field: &str, rng: &mut Rng) -> Result<Value, Failure> {
        self.query_optional(query, field, rng)?
            .ok_or_else(|| query_failure(query, field, "returned nothing (undefined)."))
    }

    /// Evaluates a JSONata expression; `None` when it is undefined.
    ///
    /// # Errors
    /// As [`Scope::query`], except for an undefined result.
    pub fn query_optional(
        &self,
        query: &Query,
        field: &str,
        rng: &mut Rng,
    ) -> Result<Option<Value>, Failure> {
        let lookup = |name: &str| {
            if name == "states" {
                Some(self.states_value(query))
            } else {
                self.variable(name).map(to_jvalue)
            }
        };
        let env = jsonata::Env {
            input: None,
            variables: &lookup,
            now_millis: self.now,
            entropy: rng.next_u64(),
            steps: self.work.query_steps(),
        };
        match query.evaluate(&env) {
            Ok(evaluated) => {
                self.work.spend(evaluated.steps);
                Ok(evaluated.value)
            }
            Err((e, steps)) => {
                self.work.spend(steps);
                if e.out_of_steps() {
                    self.work.exhausted.set(true);
                    return Err(Failure::runtime(format!(
                        "The JSONata expression '{}' specified for the field '{field}' needs more \
                         evaluation work than is left to this state (at most {} steps per \
                         expression, {} per step): it was stopped",
                        query.source(),
                        jsonpath::MAX_WORK,
                        crate::limits::PATH_WORK
                    )));
                }
                Err(evaluation_failure(query, field, &e))
            }
        }
    }
}

/// A `States.QueryEvaluationError` about `query` in `field`, in AWS's words.
pub fn query_failure(query: &Query, field: &str, what: &str) -> Failure {
    Failure::new(
        ErrorName::QueryEvaluationError,
        format!(
            "The JSONata expression '{}' specified for the field '{field}' {what}",
            query.source()
        ),
    )
}

/// The failure of an expression whose value has the wrong type, in AWS's words.
pub fn expected_type(query: &Query, field: &str, expected: &str, value: &Value) -> Failure {
    query_failure(
        query,
        field,
        &format!(
            "returned an unexpected result type. Expected '{expected}', but was '{}' for value: {}",
            json_type(value),
            compact(value)
        ),
    )
}

/// The JSON type of a value as AWS names it in errors.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn evaluation_failure(query: &Query, field: &str, e: &QueryError) -> Failure {
    query_failure(
        query,
        field,
        &format!(
            "threw an error during evaluation. {}: {}",
            e.code, e.message
        ),
    )
}

/// Compact JSON text, for error messages.
pub fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

struct CallEnv<'a, 'r> {
    scope: Scope<'a>,
    rng: &'r mut Rng,
}

impl intrinsics::Env for CallEnv<'_, '_> {
    fn resolve(&self, path: &str) -> Result<Value, intrinsics::Failure> {
        let reference = Reference::parse(path).map_err(|e| intrinsics::Failure(e.to_string()))?;
        self.scope
            .resolve(&reference)
            .map_err(|f| intrinsics::Failure(f.cause.unwrap_or_default()))?
            .ok_or_else(|| intrinsics::Failure(format!("The JSONPath '{path}' could not be found")))
    }

    fn random_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }
}
