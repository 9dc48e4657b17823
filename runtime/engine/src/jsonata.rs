//! JSONata, the query language of `{% ... %}` expressions, as Step Functions evaluates it.
//!
//! The language itself is jsonata-core's (a port of the reference implementation, with
//! its error codes; `runtime/vendor/jsonata-core` says why that crate and why a copy).
//! This module adds what Step Functions and a replayed engine need on top:
//!
//! - an expression is parsed once, when its definition is compiled ([`Query::parse`]);
//! - evaluation is deterministic: `$now()`/`$millis()` read the event's time, `$random()`
//!   and `$uuid()` draw from the event's entropy, and the work an evaluation may do is
//!   counted in steps, not timed ([`Env::steps`]);
//! - AWS's added functions (`$partition`, `$range`, `$hash`, `$random` with a seed,
//!   `$uuid`, `$parse`), and `$eval` disabled as AWS disables it ([`functions`]);
//! - values cross between `serde_json` and the evaluator's own representation without
//!   turning integers into floats ([`convert`]).

pub mod convert;
pub mod functions;
pub mod references;
#[cfg(test)]
mod tests;

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{
    memory_error, Context, Evaluator, EvaluatorError, EvaluatorOptions, MemoryLimit, StepBudget,
};
use jsonata_core::parser::ParserError;
use jsonata_core::value::JValue;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The deepest an expression's brackets may nest. Deeper expressions are refused when
/// they are parsed: the parser and evaluator recurse per level, and no hand-written
/// expression comes near this.
pub const MAX_NESTING: usize = 200;

/// The most nested calls an evaluation may make (jsonata-js's `stack` option): a
/// runaway recursion stops with `D1011` rather than exhausting memory.
pub const MAX_STACK_DEPTH: usize = 2_000;

/// The longest sequence an evaluation may build (`D2015` beyond): far above what a
/// 256 KiB payload can hold, low enough that one expression cannot take gigabytes.
pub const MAX_SEQUENCE_LENGTH: usize = 1_000_000;

/// The memory an evaluation may hold beyond what it started with, when the host counts
/// it ([`set_memory_probe`]); past it the evaluation fails with `U1005`, AWS's "memory
/// limit exceeded".
pub const MAX_MEMORY_BYTES: isize = 64 << 20;

/// The largest result an evaluation may give, in bytes of JSON (about): 64 times the
/// payload limit, so that converting a runaway result cannot take the memory the
/// evaluation itself was refused.
pub const MAX_RESULT_BYTES: usize = 16 << 20;

static MEMORY_PROBE: std::sync::OnceLock<fn() -> isize> = std::sync::OnceLock::new();

/// Installs what reports the bytes the current thread holds (the server's allocator
/// counts them), so that evaluations are held to [`MAX_MEMORY_BYTES`]. Without one, only
/// the bounds on steps, sequences and single strings apply. The first call wins.
///
/// A count of allocated bytes is deterministic for the same binary and input, so replay
/// stops where the first run did; a new build could move the point for an expression
/// that is near the limit.
pub fn set_memory_probe(probe: fn() -> isize) {
    let _ = MEMORY_PROBE.set(probe);
}

/// A parsed JSONata expression.
#[derive(Clone)]
pub struct Query {
    source: Arc<str>,
    ast: Arc<AstNode>,
    /// The names after `$` in the source: a superset of the variables the expression
    /// reads, so that only those are converted and bound for an evaluation.
    names: Arc<BTreeSet<String>>,
}

impl std::fmt::Debug for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Query").field(&self.source).finish()
    }
}

impl PartialEq for Query {
    fn eq(&self, other: &Query) -> bool {
        self.source == other.source
    }
}

/// A JSONata error: jsonata-js's code (`S0201`, `T2001`, `D3030`, ...) and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct QueryError {
    /// The reference implementation's error code (`U1004` when the step budget ran out).
    pub code: String,
    /// What went wrong, without the code.
    pub message: String,
}

impl QueryError {
    fn new(code: &str, message: impl Into<String>) -> QueryError {
        QueryError {
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// Whether the evaluation stopped because its step budget ran out.
    pub fn out_of_steps(&self) -> bool {
        self.code == STEPS_CODE
    }
}

const STEPS_CODE: &str = "U1004";

/// What an evaluation sees besides the expression.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    /// What `$` is bound to (`None`: undefined).
    pub input: Option<&'a Value>,
    /// Looks up a variable by name (without its `$`), as the evaluator's value
    /// ([`convert::to_jvalue`]), so that a caller can build a large one without a copy.
    pub variables: &'a dyn Fn(&str) -> Option<JValue>,
    /// The time `$now()` and `$millis()` report, in milliseconds since the epoch.
    pub now_millis: i64,
    /// The seed of `$random()` and `$uuid()` when called without a seed.
    pub entropy: u64,
    /// The most evaluation steps allowed (each node evaluated, each callback a
    /// higher-order function makes, each pass of a loop).
    pub steps: u64,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env")
            .field("input", &self.input)
            .field("now_millis", &self.now_millis)
            .field("entropy", &self.entropy)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

/// What an evaluation produced and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluated {
    /// The result; `None` when it is undefined.
    pub value: Option<Value>,
    /// The steps the evaluation used.
    pub steps: u64,
}

impl Query {
    /// Parses an expression (the body of a `{% %}`, without the braces).
    ///
    /// # Errors
    /// The syntax error, with jsonata-js's code.
    pub fn parse(source: &str) -> Result<Query, QueryError> {
        check_nesting(source)?;
        let parsed = std::panic::catch_unwind(|| jsonata_core::parser::parse(source))
            .map_err(|_| internal_error())?;
        let ast = parsed.map_err(|e| parse_error(&e))?;
        Ok(Query {
            source: source.into(),
            ast: Arc::new(ast),
            names: Arc::new(dollar_names(source)),
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The field names (and `$`) the expression reads from its context at the top level,
    /// which Step Functions refuses ([`references::top_level`]).
    pub fn top_level_references(&self) -> Vec<String> {
        references::top_level(&self.ast)
    }

    /// Whether the expression may read variable `name` (it appears after a `$`).
    pub fn mentions(&self, name: &str) -> bool {
        self.names.contains(name)
    }

    /// Whether the expression may read `$states.context` (the word appears in it): the
    /// context object holds a copy of the execution input, so it is built only then.
    pub fn may_read_context(&self) -> bool {
        self.source.contains("context")
    }

    /// Evaluates the expression.
    ///
    /// # Errors
    /// The evaluation error, with jsonata-js's code; `U1004` when `env.steps` ran out.
    pub fn evaluate(&self, env: &Env<'_>) -> Result<Evaluated, (QueryError, u64)> {
        let budget = StepBudget::new(env.steps);
        let mut context = Context::new();
        for name in self.names.iter() {
            if let Some(value) = (env.variables)(name) {
                context.bind(name.clone(), value);
            }
        }
        let memory_limit = MEMORY_PROBE.get().map(|&probe| MemoryLimit {
            start: probe(),
            limit: MAX_MEMORY_BYTES,
            probe,
        });
        let options = EvaluatorOptions {
            max_stack_depth: Some(MAX_STACK_DEPTH),
            max_sequence_length: Some(MAX_SEQUENCE_LENGTH),
            step_budget: Some(budget.clone()),
            memory_limit,
            ..EvaluatorOptions::default()
        };
        let mut evaluator = Evaluator::with_options(context, options);
        let used = |budget: &StepBudget| budget.limit() - budget.remaining();
        if let Err(e) = functions::register(&mut evaluator, env, &self.names) {
            return Err((evaluation_error(&e), 0));
        }
        let input = env.input.map_or(JValue::Undefined, convert::to_jvalue);
        // A bug of the evaluator must not take the engine thread down: AWS too reports
        // "an internal error during evaluation". Nothing outlives the call but its result.
        let evaluated = jsonata_core::with_clock(env.now_millis, || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                evaluator.evaluate(&self.ast, &input)
            }))
        });
        let Ok(evaluated) = evaluated else {
            return Err((internal_error(), used(&budget)));
        };
        match evaluated {
            Ok(result) => match convert::from_jvalue_within(&result, MAX_RESULT_BYTES) {
                Some(value) => Ok(Evaluated {
                    value,
                    steps: used(&budget),
                }),
                None => Err((evaluation_error(&memory_error()), used(&budget))),
            },
            Err(e) => Err((evaluation_error(&e), used(&budget))),
        }
    }
}

/// What a panic of jsonata-core becomes.
fn internal_error() -> QueryError {
    QueryError::new(
        "U1006",
        "The expression threw an internal error during evaluation",
    )
}

/// A `{% ... %}` string's expression: the text between the braces, when `text` is one.
pub fn embedded(text: &str) -> Option<&str> {
    text.strip_prefix("{%")?.strip_suffix("%}")
}

/// Refuses an expression whose brackets nest deeper than [`MAX_NESTING`], before the
/// recursive parser sees it. Brackets inside string literals are counted too, which only
/// errs on the side of refusing.
fn check_nesting(source: &str) -> Result<(), QueryError> {
    let mut depth = 0usize;
    for c in source.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(QueryError::new(
                        "S0220",
                        format!("The expression nests brackets deeper than {MAX_NESTING} levels"),
                    ));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// The names following a `$` in `source` (`$states.input` gives `states`).
fn dollar_names(source: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find('$') {
        rest = rest.get(at + 1..).unwrap_or("");
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end > 0 {
            names.insert(rest.get(..end).unwrap_or("").to_string());
        }
    }
    names
}

/// jsonata-core puts the code inside its messages (`"Invalid syntax: S0201: ..."`); a few
/// parse errors carry none and get the reference's.
fn parse_error(e: &ParserError) -> QueryError {
    let text = e.to_string();
    if let Some(error) = coded(&text) {
        return error;
    }
    let code = match e {
        ParserError::UnexpectedEnd => "S0207",
        ParserError::UnclosedString => "S0101",
        _ if text.contains("Unclosed comment") => "S0106",
        _ => "S0201",
    };
    QueryError::new(code, text)
}

fn evaluation_error(e: &EvaluatorError) -> QueryError {
    let text = e.message();
    coded(text).unwrap_or_else(|| QueryError::new("D1001", text))
}

/// The first `X0000: message` in `text`.
fn coded(text: &str) -> Option<QueryError> {
    let bytes = text.as_bytes();
    (0..bytes.len()).find_map(|i| {
        if i > 0 && bytes.get(i - 1).is_some_and(u8::is_ascii_alphanumeric) {
            return None;
        }
        let rest = text.get(i..)?;
        let code = jsonata_core::evaluator::error_code_prefix(rest)?;
        let message = rest.get(code.len() + 1..).unwrap_or("").trim_start();
        Some(QueryError::new(code, message))
    })
}
