//! Choice state conditions: the comparison operators, `And`/`Or`/`Not`.
//! HELPER-OWNED: replaced by the real implementation; API contract below must be kept.

use serde_json::Value;

/// A parsed Choice condition (a Choice rule without its `Next`/`Assign`/`Comment`).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    raw: Value,
}

/// Why a condition cannot be parsed, or why its evaluation failed (`States.Runtime`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

/// Resolves the reference paths a condition uses (`Variable`, `...Path` operands).
pub trait Resolve {
    /// `Ok(None)` when the path is well formed but matches nothing.
    ///
    /// # Errors
    /// When the path cannot be evaluated at all.
    fn resolve(&self, path: &str) -> Result<Option<Value>, Error>;
}

impl Condition {
    /// Parses a choice rule object; ignores `Next`, `Assign` and `Comment` at its top.
    ///
    /// # Errors
    /// [`Error`] when the rule is malformed.
    pub fn parse(rule: &Value) -> Result<Condition, Error> {
        Ok(Condition { raw: rule.clone() })
    }
    /// Evaluates the condition.
    ///
    /// # Errors
    /// [`Error`] (a `States.Runtime` cause) when a path the rule needs is missing.
    pub fn evaluate(&self, resolve: &dyn Resolve) -> Result<bool, Error> {
        let _ = resolve;
        Ok(false)
    }
}
