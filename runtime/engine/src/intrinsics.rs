//! The `States.*` intrinsic functions of JSONPath-mode ASL.
//!
//! ```
//! use sandstep_engine::intrinsics::{Call, Env, Failure};
//! use serde_json::{json, Value};
//!
//! struct Input(Value);
//! impl Env for Input {
//!     fn resolve(&self, path: &str) -> Result<Value, Failure> {
//!         let path = sandstep_engine::jsonpath::Path::parse(path).map_err(|e| Failure(e.to_string()))?;
//!         path.select(&self.0).ok_or_else(|| Failure(format!("no value at {}", path.text())))
//!     }
//!     fn random_u64(&mut self) -> u64 {
//!         4
//!     }
//! }
//!
//! let call = Call::parse("States.Format('Hello, {}!', $.name)")?;
//! let out = call.evaluate(&mut Input(json!({"name": "world"})))?;
//! assert_eq!(out, json!("Hello, world!"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod functions;
mod parser;

use serde_json::Value;

/// How deeply intrinsic calls may nest in one field: `States.Array(States.Array(1))` is two
/// levels deep.
///
/// AWS documents that a field can nest "up to 10 intrinsic functions"; deeper text is
/// refused when it is parsed. Parsing and evaluation recurse once per level.
pub const MAX_NESTING: usize = 10;

/// A parsed intrinsic call such as `States.Format('{}', $.a)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The whole text, kept once: nested calls hold no text of their own.
    text: String,
    invocation: Invocation,
}

/// A function applied to its arguments, at any nesting level.
#[derive(Debug, Clone, PartialEq)]
struct Invocation {
    function: Function,
    args: Vec<Arg>,
}

/// One of the 18 intrinsic functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `States.Format(template, values...)`.
    Format,
    /// `States.StringToJson(string)`.
    StringToJson,
    /// `States.JsonToString(value)`.
    JsonToString,
    /// `States.Array(values...)`.
    Array,
    /// `States.ArrayPartition(array, size)`.
    ArrayPartition,
    /// `States.ArrayContains(array, value)`.
    ArrayContains,
    /// `States.ArrayRange(start, end, step)`.
    ArrayRange,
    /// `States.ArrayGetItem(array, index)`.
    ArrayGetItem,
    /// `States.ArrayLength(array)`.
    ArrayLength,
    /// `States.ArrayUnique(array)`.
    ArrayUnique,
    /// `States.Base64Encode(string)`.
    Base64Encode,
    /// `States.Base64Decode(string)`.
    Base64Decode,
    /// `States.Hash(data, algorithm)`.
    Hash,
    /// `States.JsonMerge(object, object, false)`.
    JsonMerge,
    /// `States.MathRandom(start, end[, seed])`.
    MathRandom,
    /// `States.MathAdd(a, b)`.
    MathAdd,
    /// `States.StringSplit(string, delimiters)`.
    StringSplit,
    /// `States.UUID()`.
    Uuid,
}

impl Function {
    const ALL: [Function; 18] = [
        Function::Format,
        Function::StringToJson,
        Function::JsonToString,
        Function::Array,
        Function::ArrayPartition,
        Function::ArrayContains,
        Function::ArrayRange,
        Function::ArrayGetItem,
        Function::ArrayLength,
        Function::ArrayUnique,
        Function::Base64Encode,
        Function::Base64Decode,
        Function::Hash,
        Function::JsonMerge,
        Function::MathRandom,
        Function::MathAdd,
        Function::StringSplit,
        Function::Uuid,
    ];

    /// The full name, e.g. `States.Format`.
    pub fn name(self) -> &'static str {
        match self {
            Function::Format => "States.Format",
            Function::StringToJson => "States.StringToJson",
            Function::JsonToString => "States.JsonToString",
            Function::Array => "States.Array",
            Function::ArrayPartition => "States.ArrayPartition",
            Function::ArrayContains => "States.ArrayContains",
            Function::ArrayRange => "States.ArrayRange",
            Function::ArrayGetItem => "States.ArrayGetItem",
            Function::ArrayLength => "States.ArrayLength",
            Function::ArrayUnique => "States.ArrayUnique",
            Function::Base64Encode => "States.Base64Encode",
            Function::Base64Decode => "States.Base64Decode",
            Function::Hash => "States.Hash",
            Function::JsonMerge => "States.JsonMerge",
            Function::MathRandom => "States.MathRandom",
            Function::MathAdd => "States.MathAdd",
            Function::StringSplit => "States.StringSplit",
            Function::Uuid => "States.UUID",
        }
    }

    /// Looks a function up by its full name (`States.Format`); names are case-sensitive.
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// One argument as written.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    /// A number, `true`, `false` or `null`.
    Literal(Value),
    /// A quoted string: its decoded value, and the text between the quotes, which
    /// `States.Format` needs to tell an escaped `\{` from a placeholder.
    Text { value: String, raw: String },
    /// A path handed to [`Env::resolve`] as written.
    Path(String),
    /// A nested call.
    Call(Invocation),
}

/// Why an intrinsic text does not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid intrinsic function '{text}': {reason}")]
pub struct ParseError {
    /// The text that failed.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
    /// True when the text is refused for going past a limit ([`MAX_NESTING`], or one of
    /// [`crate::jsonpath`]'s in a path argument) rather than for its syntax.
    pub limit: bool,
}

/// An evaluation failure: surfaces as `States.IntrinsicFailure` with this cause.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Failure(pub String);

/// What an intrinsic needs from the outside world.
pub trait Env {
    /// Resolves a path argument (`$.a`, `$$.Execution.Id`, `$var.x`).
    ///
    /// # Errors
    /// A [`Failure`] (whose cause the caller chose) when the path cannot be resolved.
    fn resolve(&self, path: &str) -> Result<Value, Failure>;
    /// A pseudo-random number derived from the current event's entropy.
    fn random_u64(&mut self) -> u64;
}

/// True when `text` looks like an intrinsic call (`States.Name(`).
pub fn looks_like_call(text: &str) -> bool {
    text.starts_with("States.")
}

impl Call {
    /// Parses an intrinsic call.
    ///
    /// Argument counts and types are checked when the call is evaluated, as AWS does.
    ///
    /// # Errors
    /// [`ParseError`] for unknown functions, bad syntax, or calls nested deeper than
    /// [`MAX_NESTING`].
    pub fn parse(text: &str) -> Result<Call, ParseError> {
        let invocation = parser::parse(text).map_err(|refusal| ParseError {
            text: text.to_string(),
            reason: refusal.reason,
            limit: refusal.limit,
        })?;
        Ok(Call {
            text: text.to_string(),
            invocation,
        })
    }

    /// The text the call was parsed from.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The function called.
    pub fn function(&self) -> Function {
        self.invocation.function
    }

    /// Evaluates the call; nested calls first, at most [`MAX_NESTING`] deep.
    ///
    /// # Errors
    /// [`Failure`] for argument type or count errors and failed path resolution.
    pub fn evaluate(&self, env: &mut dyn Env) -> Result<Value, Failure> {
        self.invocation.evaluate(env)
    }
}

/// Applies `function` to argument values already computed (JSONata's `$partition`,
/// `$range` and `$hash` are these intrinsics under other names).
///
/// # Errors
/// As [`Call::evaluate`].
pub fn apply(function: Function, args: Vec<Value>, env: &mut dyn Env) -> Result<Value, Failure> {
    functions::evaluate(function, args, None, env)
}

impl Invocation {
    fn evaluate(&self, env: &mut dyn Env) -> Result<Value, Failure> {
        let mut values = Vec::with_capacity(self.args.len());
        for arg in &self.args {
            values.push(match arg {
                Arg::Literal(value) => value.clone(),
                Arg::Text { value, .. } => Value::String(value.clone()),
                Arg::Path(path) => env.resolve(path)?,
                Arg::Call(call) => call.evaluate(env)?,
            });
        }
        // A literal template keeps its escapes so that `\{` is not taken for a placeholder.
        let raw_template = match self.args.first() {
            Some(Arg::Text { raw, .. }) => Some(raw.as_str()),
            _ => None,
        };
        functions::evaluate(self.function, values, raw_template, env)
    }
}

#[cfg(test)]
mod tests;
