//! A state machine compiled from its ASL JSON into an arena of states.
//!
//! Nested machines (Parallel branches, Map processors) live in the same arena, so the
//! executor refers to everything by small copyable ids and never walks JSON at run time.

use crate::choice::Condition;
use crate::error::{Error, ErrorName};
use crate::intrinsics::{self, Call};
use crate::jsonata::Query;
use crate::jsonpath::{Path, Reference};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Index of a state in [`Definition`]'s arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StateId(pub u32);

/// Index of a (possibly nested) machine: the top level, a Parallel branch or a Map processor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MachineId(pub u32);

/// A compiled state machine.
#[derive(Debug, Clone)]
pub struct Definition {
    machines: Vec<Machine>,
    states: Vec<State>,
    /// Execution-level `TimeoutSeconds`.
    pub timeout_seconds: Option<u64>,
}

/// One `{StartAt, States}` container.
#[derive(Debug, Clone)]
pub struct Machine {
    /// The first state.
    pub start: StateId,
}

/// How a state's fields select and shape data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryLanguage {
    /// JSONPath: `InputPath`, `Parameters`, `ResultSelector`, `ResultPath`, `OutputPath`,
    /// `key.$` fields and intrinsic functions.
    JsonPath,
    /// JSONata: `Arguments` and `Output` with `{% %}` expressions reading `$states`.
    Jsonata,
}

/// One state with the fields common to all types.
#[derive(Debug, Clone)]
pub struct State {
    /// The state's name (shared with the history events that name it).
    pub name: Arc<str>,
    /// The state's query language (its own `QueryLanguage`, else its machine's).
    pub language: QueryLanguage,
    /// Type-specific fields.
    pub kind: Kind,
    /// `InputPath`.
    pub input_path: PathField,
    /// `OutputPath`.
    pub output_path: PathField,
    /// `Parameters` (or `ItemSelector` on Map); `Arguments` in JSONata.
    pub parameters: Option<Template>,
    /// JSONata's `Output`; `None` gives the state's default output.
    pub output: Option<Template>,
    /// `ResultSelector`.
    pub result_selector: Option<Template>,
    /// `ResultPath`.
    pub result_path: ResultPath,
    /// `Assign`.
    pub assign: Option<Template>,
    /// `Retry`.
    pub retry: Vec<Retrier>,
    /// `Catch`.
    pub catch: Vec<Catcher>,
    /// `Next`, or `None` for `End: true` and terminal types.
    pub next: Option<StateId>,
}

/// `InputPath`/`OutputPath`: left out (`$`), `null` (`{}`), or a path.
#[derive(Debug, Clone)]
pub enum PathField {
    /// The field is absent: the whole value.
    Whole,
    /// The field is `null`: an empty object.
    Discard,
    /// A path, possibly into the context object or a variable.
    Path(Reference),
}

/// `ResultPath`.
#[derive(Debug, Clone)]
pub enum ResultPath {
    /// Absent or `$`: the result replaces the input.
    Replace,
    /// `null`: the result is discarded and the input passes through.
    Discard,
    /// A reference path into the input.
    Path(Path),
}

/// A payload template (`Parameters`, `ItemSelector`, `ResultSelector`, `Assign`).
#[derive(Debug, Clone)]
pub enum Template {
    /// A value with nothing to evaluate inside.
    Literal(Value),
    /// An object whose fields may be evaluated.
    Object(Vec<(String, Template)>),
    /// An array whose elements may be evaluated.
    Array(Vec<Template>),
    /// A `key.$` field: `field` is the key with its `.$` as written.
    Dynamic {
        /// The key as written (for error messages).
        field: String,
        /// What to evaluate.
        expr: Expr,
    },
    /// A `{% %}` string in a JSONata state.
    Query {
        /// Where it is, as AWS names it in errors (`Output/result`).
        field: String,
        /// What to evaluate.
        query: Query,
    },
}

impl Template {
    /// An object template, or the literal `value` when nothing in it is evaluated.
    pub(crate) fn object_or_literal(fields: Vec<(String, Template)>, value: &Value) -> Template {
        if fields
            .iter()
            .all(|(_, t)| matches!(t, Template::Literal(_)))
        {
            Template::Literal(value.clone())
        } else {
            Template::Object(fields)
        }
    }

    /// An array template, or the literal `value` when nothing in it is evaluated.
    pub(crate) fn array_or_literal(items: Vec<Template>, value: &Value) -> Template {
        if items.iter().all(|t| matches!(t, Template::Literal(_))) {
            Template::Literal(value.clone())
        } else {
            Template::Array(items)
        }
    }
}

/// A dynamic value: a path or an intrinsic call.
#[derive(Debug, Clone)]
pub enum Expr {
    /// `$...`, `$$...` or `$var...`.
    Path(Reference),
    /// `States.Fn(...)`.
    Call(Call),
}

/// A number given literally or through a path (`TimeoutSeconds`/`TimeoutSecondsPath`, ...).
#[derive(Debug, Clone)]
pub enum Amount {
    /// A literal number.
    Fixed(f64),
    /// Read from the input (or a variable) at run time.
    Path(Reference),
    /// A JSONata expression.
    Query(Query),
}

/// A string given literally or computed (`Error`/`ErrorPath`, `Cause`/`CausePath`).
#[derive(Debug, Clone)]
pub enum Text {
    /// A literal string.
    Fixed(String),
    /// A path or an intrinsic call evaluated at run time.
    Dynamic(Expr),
    /// A JSONata expression.
    Query(Query),
}

/// A `Retry` entry.
#[derive(Debug, Clone)]
pub struct Retrier {
    /// `ErrorEquals`.
    pub error_equals: Vec<ErrorName>,
    /// `IntervalSeconds` (default 1).
    pub interval_seconds: f64,
    /// `MaxAttempts` (default 3).
    pub max_attempts: u32,
    /// `BackoffRate` (default 2.0).
    pub backoff_rate: f64,
    /// `MaxDelaySeconds`.
    pub max_delay_seconds: Option<f64>,
    /// `JitterStrategy: FULL`.
    pub full_jitter: bool,
}

/// A `Catch` entry.
#[derive(Debug, Clone)]
pub struct Catcher {
    /// `ErrorEquals`.
    pub error_equals: Vec<ErrorName>,
    /// `Next`.
    pub next: StateId,
    /// `ResultPath` for the `{Error, Cause}` object.
    pub result_path: ResultPath,
    /// `Assign`.
    pub assign: Option<Template>,
    /// JSONata's `Output` (default: the error output).
    pub output: Option<Template>,
}

/// What a Choice rule tests.
#[derive(Debug, Clone)]
pub enum Test {
    /// A JSONPath rule's operators.
    Rule(Condition),
    /// A JSONata `Condition`, which must evaluate to a boolean.
    Query(Query),
}

/// One Choice rule with its target.
#[derive(Debug, Clone)]
pub struct ChoiceRule {
    /// The condition.
    pub condition: Test,
    /// Where to go when it holds.
    pub next: StateId,
    /// The rule's `Assign`.
    pub assign: Option<Template>,
    /// The rule's `Output` (JSONata).
    pub output: Option<Template>,
}

/// How a Wait state waits.
#[derive(Debug, Clone)]
pub enum WaitFor {
    /// `Seconds`.
    Seconds(u64),
    /// `SecondsPath`.
    SecondsPath(Reference),
    /// `Timestamp`, parsed to nanoseconds since the epoch.
    Timestamp(i128),
    /// `TimestampPath`.
    TimestampPath(Reference),
    /// JSONata `Seconds`.
    SecondsQuery(Query),
    /// JSONata `Timestamp`.
    TimestampQuery(Query),
}

/// `MaxConcurrency` / `MaxConcurrencyPath` (0 = unlimited).
#[derive(Debug, Clone)]
pub enum Concurrency {
    /// A literal limit.
    Fixed(u64),
    /// Read at run time.
    Path(Reference),
    /// A JSONata expression.
    Query(Query),
}

/// Type-specific fields.
// A definition's states are compiled once into one arena: a Map's few hundred bytes there
// cost nothing, and boxing them would add a pointer chase to every visit.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Kind {
    /// `Pass`.
    Pass {
        /// `Result`.
        result: Option<Arc<Value>>,
    },
    /// `Task`.
    Task {
        /// `Resource`.
        resource: String,
        /// `TimeoutSeconds`/`TimeoutSecondsPath`.
        timeout: Option<Amount>,
        /// `HeartbeatSeconds`/`HeartbeatSecondsPath`.
        heartbeat: Option<Amount>,
    },
    /// `Choice`.
    Choice {
        /// `Choices`.
        rules: Vec<ChoiceRule>,
        /// `Default`.
        default: Option<StateId>,
    },
    /// `Wait`.
    Wait(WaitFor),
    /// `Succeed`.
    Succeed,
    /// `Fail`.
    Fail {
        /// `Error`/`ErrorPath`.
        error: Option<Text>,
        /// `Cause`/`CausePath`.
        cause: Option<Text>,
    },
    /// `Parallel`.
    Parallel {
        /// One machine per branch.
        branches: Vec<MachineId>,
    },
    /// Inline `Map`.
    Map {
        /// `ItemProcessor`/`Iterator`.
        processor: MachineId,
        /// `ItemsPath` (`None` = `$`).
        items_path: Option<Reference>,
        /// JSONata's `Items` (`None` = the state input).
        items: Option<Template>,
        /// `MaxConcurrency`/`MaxConcurrencyPath`.
        concurrency: Concurrency,
        /// `ToleratedFailureCount`/`...Path`.
        tolerated_count: Option<Amount>,
        /// `ToleratedFailurePercentage`/`...Path`.
        tolerated_percentage: Option<Amount>,
        /// A DISTRIBUTED Map's own fields; `None` for an inline Map.
        distributed: Option<Box<Distributed>>,
    },
}

/// A DISTRIBUTED Map: its items (from the state input or an `ItemReader`) run as child
/// executions of a Map Run, which the runtime drives; the engine resolves the fields
/// against the state's input and waits for the run's end like a task's.
#[derive(Debug, Clone)]
pub struct Distributed {
    /// `ProcessorConfig.ExecutionType` is `EXPRESS`.
    pub express: bool,
    /// `Label`.
    pub label: Option<String>,
    /// The children's definition: the `ItemProcessor` without its `ProcessorConfig`.
    pub definition: Value,
    /// `ItemReader`.
    pub reader: Option<ItemReader>,
    /// `ItemBatcher`.
    pub batcher: Option<ItemBatcher>,
    /// `ResultWriter`.
    pub writer: Option<ResultWriter>,
    /// The `ItemSelector` (or `Parameters`) as written: the runtime applies it to the
    /// items a reader brings (see [`crate::selector`]).
    pub selector: Option<Value>,
}

/// A Distributed Map's `ItemReader`.
#[derive(Debug, Clone)]
pub struct ItemReader {
    /// `Resource`: `s3:getObject` or `s3:listObjectsV2`.
    pub resource: String,
    /// `Parameters` (JSONPath) or `Arguments` (JSONata).
    pub parameters: Option<Template>,
    /// `ReaderConfig` as written, without `MaxItems`.
    pub config: Map<String, Value>,
    /// `ReaderConfig.MaxItems`/`MaxItemsPath`.
    pub max_items: Option<Amount>,
}

/// A Distributed Map's `ItemBatcher`.
#[derive(Debug, Clone)]
pub struct ItemBatcher {
    /// `MaxItemsPerBatch`/`...Path`.
    pub max_items: Option<Amount>,
    /// `MaxInputBytesPerBatch`/`...Path`.
    pub max_bytes: Option<Amount>,
    /// `BatchInput`.
    pub batch_input: Option<Template>,
}

/// A Distributed Map's `ResultWriter`.
#[derive(Debug, Clone)]
pub struct ResultWriter {
    /// `Resource` (`s3:putObject`), when results are exported.
    pub resource: Option<String>,
    /// `Parameters` (JSONPath) or `Arguments` (JSONata): `Bucket`, `Prefix`.
    pub parameters: Option<Template>,
    /// `WriterConfig` as written.
    pub config: Map<String, Value>,
}

impl Kind {
    /// The history event recorded when a state of this type is entered.
    pub fn entered_event(&self) -> &'static str {
        match self {
            Kind::Pass { .. } => "PassStateEntered",
            Kind::Task { .. } => "TaskStateEntered",
            Kind::Choice { .. } => "ChoiceStateEntered",
            Kind::Wait(_) => "WaitStateEntered",
            Kind::Succeed => "SucceedStateEntered",
            Kind::Fail { .. } => "FailStateEntered",
            Kind::Parallel { .. } => "ParallelStateEntered",
            Kind::Map { .. } => "MapStateEntered",
        }
    }

    /// The history event recorded when a state of this type is left.
    pub fn exited_event(&self) -> &'static str {
        match self {
            Kind::Pass { .. } => "PassStateExited",
            Kind::Task { .. } => "TaskStateExited",
            Kind::Choice { .. } => "ChoiceStateExited",
            Kind::Wait(_) => "WaitStateExited",
            Kind::Succeed => "SucceedStateExited",
            Kind::Fail { .. } => "FailStateExited",
            Kind::Parallel { .. } => "ParallelStateExited",
            Kind::Map { .. } => "MapStateExited",
        }
    }

    /// The AWS type name, as used in history event names (`PassStateEntered`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Pass { .. } => "Pass",
            Kind::Task { .. } => "Task",
            Kind::Choice { .. } => "Choice",
            Kind::Wait(_) => "Wait",
            Kind::Succeed => "Succeed",
            Kind::Fail { .. } => "Fail",
            Kind::Parallel { .. } => "Parallel",
            Kind::Map { .. } => "Map",
        }
    }
}

impl Definition {
    /// Compiles a definition's JSON text.
    ///
    /// # Errors
    /// [`Error::Definition`] for malformed documents (a JSONata expression that does not
    /// parse among them), [`Error::Unsupported`] for what the engine does not run (a
    /// distributed Map reading its items from a bucket).
    pub fn parse(text: &str) -> Result<Definition, Error> {
        let value: Value = serde_json::from_str(text).map_err(|e| Error::Definition {
            location: "/".into(),
            message: format!("not valid JSON: {e}"),
        })?;
        Definition::from_value(&value)
    }

    /// Compiles a definition already parsed as JSON.
    ///
    /// # Errors
    /// As [`Definition::parse`].
    pub fn from_value(value: &Value) -> Result<Definition, Error> {
        compile::compile(value)
    }

    /// The top-level machine.
    pub fn root(&self) -> MachineId {
        MachineId(0)
    }

    /// A machine by id.
    ///
    /// # Errors
    /// [`Error::UnexpectedEvent`] when the id is not from this definition.
    pub fn machine(&self, id: MachineId) -> Result<&Machine, Error> {
        self.machines
            .get(id.0 as usize)
            .ok_or_else(|| Error::UnexpectedEvent(format!("no machine {}", id.0)))
    }

    /// A state by id.
    ///
    /// # Errors
    /// [`Error::UnexpectedEvent`] when the id is not from this definition.
    pub fn state(&self, id: StateId) -> Result<&State, Error> {
        self.states
            .get(id.0 as usize)
            .ok_or_else(|| Error::UnexpectedEvent(format!("no state {}", id.0)))
    }
}

mod compile;
mod jsonata_fields;
pub use compile::template;
pub use jsonata_fields::template as jsonata_template;
