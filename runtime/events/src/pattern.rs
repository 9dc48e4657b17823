//! EventBridge event patterns: which events a rule takes. A pattern is a JSON object
//! whose fields name event fields (nesting as the event nests; `a.b` and `{"a": {"b"}}`
//! are the same path) and whose leaves are arrays of match values, any of which may match
//! (OR); every field must match (AND), and `$or` offers alternative sets of fields at any
//! level. Match values are exact strings, numbers (compared as numbers), booleans and
//! null, or one operator: `prefix`, `suffix` (either with `equals-ignore-case`),
//! `equals-ignore-case`, `wildcard`, `anything-but` (values, `prefix`, `suffix`,
//! `wildcard`, `equals-ignore-case`), `numeric` ranges, `exists` and `cidr`.
//!
//! The semantics are those of AWS's Event Ruler, which EventBridge runs: a field whose
//! event value is an array matches when any element does; fields under objects of one
//! array must match in the same element; `exists` looks at leaves only; `anything-but`
//! needs the field to be there. A pattern is checked once, with Ruler's messages
//! ([`Invalid`]); matching never fails.
//!
//! Our own code rather than a crate: the one Rust port of this language (quamina) lacks
//! `$or` and four operator families and differs from AWS on 70 of 235 recorded cases.

mod compile;
mod leaves;
mod matcher;

use compile::Alternative;
use serde_json::Value;

/// A pattern EventBridge would refuse; the text is Ruler's reason (the API prefixes it
/// with `Event pattern is not valid. Reason: `).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

/// The longest pattern text accepted (PutRule's limit on `EventPattern`).
pub const MAX_PATTERN_BYTES: usize = 4096;

/// How much searching one match may do before it gives up (as no match): it only runs out
/// for events that put many array elements under several fields of one pattern.
const SEARCH_BUDGET: usize = 200_000;

/// A checked pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    alternatives: Vec<Alternative>,
}

impl Pattern {
    /// Checks `text` as an event pattern.
    ///
    /// # Errors
    /// [`Invalid`] with Ruler's reason.
    pub fn parse(text: &str) -> Result<Pattern, Invalid> {
        if text.len() > MAX_PATTERN_BYTES {
            return Err(Invalid(format!(
                "Event pattern is longer than {MAX_PATTERN_BYTES} characters"
            )));
        }
        let value: Value = serde_json::from_str(text).map_err(|e| Invalid(e.to_string()))?;
        Pattern::of_value(&value)
    }

    /// Checks an already parsed pattern.
    ///
    /// # Errors
    /// [`Invalid`] with Ruler's reason.
    pub fn of_value(value: &Value) -> Result<Pattern, Invalid> {
        Ok(Pattern {
            alternatives: compile::compile(value)?,
        })
    }

    /// Whether `event` matches.
    pub fn matches(&self, event: &Value) -> bool {
        let leaves = leaves::Leaves::of(event);
        let mut budget = SEARCH_BUDGET;
        self.alternatives
            .iter()
            .any(|alternative| leaves.satisfies(alternative, &mut budget))
    }
}

#[cfg(test)]
mod tests;
