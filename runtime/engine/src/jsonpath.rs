//! JSONPath as AWS Step Functions evaluates it (Jayway semantics).
//!
//! ```
//! use sandstep_engine::jsonpath::Path;
//! use serde_json::json;
//!
//! let doc = json!({"items": [{"v": 1}, {"v": 2}]});
//! let path = Path::parse("$.items[*].v")?;
//! assert_eq!(path.select(&doc), Some(json!([1, 2])));
//! # Ok::<(), sandstep_engine::jsonpath::Error>(())
//! ```

mod eval;
mod parser;

use serde_json::{Map, Value};

use parser::{Function, Selector, Step};

pub(crate) use eval::values_equal;
pub(crate) use parser::parse_number;

/// A parsed JSONPath rooted at `$`.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    text: String,
    steps: Vec<Step>,
    function: Option<Function>,
}

/// Where a reference path starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// `$...`: the state's input (or whatever the caller evaluates against).
    Input,
    /// `$$...`: the context object.
    Context,
    /// `$name...`: the variable `name`.
    Variable(String),
}

/// A path with its root: `$.a`, `$$.Execution.Id`, `$myVar.field[0]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// What the path is evaluated against.
    pub root: Root,
    /// The path, rewritten to start at `$`.
    pub path: Path,
}

/// Why a path is not valid JSONPath.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid JSONPath '{path}': {reason}")]
pub struct Error {
    /// The text that failed.
    pub path: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Why [`Path::set`] could not write.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SetError {
    /// The path is not a plain reference path (no wildcards, filters, slices or `..`).
    #[error("'{0}' is not a reference path")]
    NotReference(String),
    /// An intermediate value is not an object (or array for an index).
    #[error("cannot set '{0}': an intermediate value is not an object")]
    Conflict(String),
}

/// True when `text` is a reference path: `$` followed only by names and single indices.
///
/// This is what AWS accepts for `ResultPath` and what [`Path::set`] can write to.
pub fn is_reference_path(text: &str) -> bool {
    Path::parse(text).is_ok_and(|path| path.is_reference())
}

impl Path {
    /// Parses `text`, which must start with `$`.
    ///
    /// # Errors
    /// [`Error`] when the text is not valid JSONPath.
    pub fn parse(text: &str) -> Result<Path, Error> {
        let (steps, function) = parser::parse(text).map_err(|reason| Error {
            path: text.to_string(),
            reason,
        })?;
        Ok(Path {
            text: text.to_string(),
            steps,
            function,
        })
    }

    /// The original text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True when the path names at most one location (no `*`, `..`, filters, slices, unions).
    pub fn is_definite(&self) -> bool {
        self.steps.iter().all(|step| {
            !step.deep && matches!(step.selector, Selector::Name(_) | Selector::Index(_))
        })
    }

    /// True when the path is definite and made only of names and indices (no function such as
    /// `length()`), so that it can be written to.
    pub fn is_reference(&self) -> bool {
        self.function.is_none() && self.is_definite()
    }

    /// Jayway: a definite path gives `Some(value)` or `None` when missing; an indefinite
    /// path gives `Some(array of matches)`, possibly empty.
    ///
    /// As in Jayway, a union of names as the last step (`$['a','b']`) gives one object with
    /// the members that exist, and a trailing `length()` gives the size of what precedes it.
    pub fn select(&self, root: &Value) -> Option<Value> {
        eval::evaluate(&self.steps, self.function, root, root)
    }

    /// Writes `value` at this reference path, creating missing object keys.
    ///
    /// # Errors
    /// [`SetError`] when the path is not a reference path or crosses a non-object.
    pub fn set(&self, root: &mut Value, value: Value) -> Result<(), SetError> {
        if !self.is_reference() {
            return Err(SetError::NotReference(self.text.clone()));
        }
        let conflict = || SetError::Conflict(self.text.clone());
        let Some((last, init)) = self.steps.split_last() else {
            *root = value;
            return Ok(());
        };
        let mut current = root;
        for step in init {
            current = match (&step.selector, current) {
                (Selector::Name(name), Value::Object(map)) => map
                    .entry(name.clone())
                    .or_insert_with(|| Value::Object(Map::new())),
                (Selector::Index(index), Value::Array(items)) => {
                    let at = array_slot(*index, items.len()).ok_or_else(conflict)?;
                    items.get_mut(at).ok_or_else(conflict)?
                }
                _ => return Err(conflict()),
            };
        }
        match (&last.selector, current) {
            (Selector::Name(name), Value::Object(map)) => {
                map.insert(name.clone(), value);
                Ok(())
            }
            (Selector::Index(index), Value::Array(items)) => {
                let at = array_slot(*index, items.len()).ok_or_else(conflict)?;
                let slot = items.get_mut(at).ok_or_else(conflict)?;
                *slot = value;
                Ok(())
            }
            _ => Err(conflict()),
        }
    }
}

/// Where a possibly negative index lands in an array of `len` items, if inside it.
fn array_slot(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let at = if index < 0 { len + index } else { index };
    if (0..len).contains(&at) {
        usize::try_from(at).ok()
    } else {
        None
    }
}

impl Reference {
    /// Parses `$...`, `$$...` or `$name...`.
    ///
    /// # Errors
    /// [`Error`] when the text is not a valid reference.
    pub fn parse(text: &str) -> Result<Reference, Error> {
        let error = |reason: &str| Error {
            path: text.to_string(),
            reason: reason.to_string(),
        };
        let rest = text
            .strip_prefix('$')
            .ok_or_else(|| error("a path must start with '$'"))?;
        if let Some(context) = rest.strip_prefix('$') {
            let path = Path::parse(&format!("${context}")).map_err(|e| Error {
                path: text.to_string(),
                ..e
            })?;
            return Ok(Reference {
                root: Root::Context,
                path,
            });
        }
        let name_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let (name, tail) = rest
            .split_at_checked(name_len)
            .ok_or_else(|| error("invalid variable name"))?;
        if name.is_empty() {
            let path = Path::parse(text)?;
            return Ok(Reference {
                root: Root::Input,
                path,
            });
        }
        if name.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(error("a variable name must not start with a digit"));
        }
        let path = Path::parse(&format!("${tail}")).map_err(|e| Error {
            path: text.to_string(),
            ..e
        })?;
        Ok(Reference {
            root: Root::Variable(name.to_string()),
            path,
        })
    }
}

#[cfg(test)]
mod tests;
