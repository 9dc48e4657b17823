//! The `States.*` intrinsic functions of JSONPath-mode ASL.
//! HELPER-OWNED: replaced by the real implementation; API contract below must be kept.

use serde_json::Value;

/// A parsed intrinsic call such as `States.Format('{}', $.a)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    text: String,
}

/// Why an intrinsic text does not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

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
    /// # Errors
    /// [`ParseError`] for unknown functions or bad syntax.
    pub fn parse(text: &str) -> Result<Call, ParseError> {
        Ok(Call {
            text: text.to_string(),
        })
    }
    /// Evaluates the call.
    ///
    /// # Errors
    /// [`Failure`] for argument type or count errors and failed path resolution.
    pub fn evaluate(&self, env: &mut dyn Env) -> Result<Value, Failure> {
        let _ = env;
        Err(Failure(self.text.clone()))
    }
}
