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
pub use eval::Budget;
pub(crate) use parser::parse_number;

/// How deeply filters, parentheses and `!` may nest in one path, counted together: a filter
/// `[?(...)]` is two levels (the filter and its parentheses), so `$[?(!@.a)]` is three and
/// filters can nest 32 deep.
///
/// Real definitions use two to four levels. The parser, the evaluator and the drop of a parsed
/// path all recurse once per level, so this bound keeps them far inside a thread's stack.
pub const MAX_NESTING: usize = 64;

/// How many steps (`.name`, `[0]`, `..x`, `[?(...)]`, ...) one path may have; a path inside
/// a filter counts on its own.
///
/// Real paths have a handful. Without a bound, a `ResultPath` of 100,000 names would build
/// data 100,000 levels deep at run time.
pub const MAX_STEPS: usize = 256;

/// How much work one evaluation of a path may do alone, in nodes visited, tested or copied
/// (see [`Budget`]).
///
/// A pass over the largest payload (256 KiB, at most about 130,000 nodes) costs that many
/// units; a filter with a few conditions over 30,000 items, a few hundred thousand. Nested
/// filters that look at `$` again, or repeated `..`, multiply the work by the size of the data
/// per level, which no nesting limit bounds; this does, at about 0.2 s of CPU.
pub const MAX_WORK: usize = 2_000_000;

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
    /// True when the text is refused for going past [`MAX_NESTING`] or [`MAX_STEPS`] rather
    /// than for its syntax.
    pub limit: bool,
}

/// Why [`Path::try_select`] gave up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("evaluating the JSONPath '{path}' needs more work (nodes visited, tested or copied) than its budget allows")]
pub struct SelectError {
    /// The path that was evaluated.
    pub path: String,
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
        let (steps, function) = parser::parse(text).map_err(|refusal| Error {
            path: text.to_string(),
            reason: refusal.reason,
            limit: refusal.limit,
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
    ///
    /// Also `None` when the evaluation needs more than [`MAX_WORK`];
    /// [`Path::try_select`] tells that case apart.
    pub fn select(&self, root: &Value) -> Option<Value> {
        self.try_select(root).ok().flatten()
    }

    /// As [`Path::select`], within a budget of [`MAX_WORK`].
    ///
    /// # Errors
    /// [`SelectError`] when the evaluation needs more work than that, as nested filters over
    /// `$` or repeated `..` can: the work grows by a factor of the data's size per level.
    pub fn try_select(&self, root: &Value) -> Result<Option<Value>, SelectError> {
        self.select_within(root, &mut Budget::new(MAX_WORK))
    }

    /// As [`Path::select`], spending from `budget`, which the caller may share between all
    /// the paths of a step so that many paths cannot add up to unbounded work.
    ///
    /// # Errors
    /// [`SelectError`] when `budget` runs out (or already had).
    pub fn select_within(
        &self,
        root: &Value,
        budget: &mut Budget,
    ) -> Result<Option<Value>, SelectError> {
        let value = eval::evaluate(&self.steps, self.function, root, root, budget);
        if budget.exhausted() {
            return Err(SelectError {
                path: self.text.clone(),
            });
        }
        Ok(value)
    }

    /// Why this path selects nothing from `root`, in Jayway's words as AWS reports them:
    /// `No results for path: $['a']['b']` when only the last step is missing, `Missing
    /// property in path $['a']` when an earlier one is.
    pub fn not_found_detail(&self, root: &Value) -> String {
        let mut at = String::from("$");
        let mut node = Some(root);
        let last = self.steps.len().saturating_sub(1);
        for (i, step) in self.steps.iter().enumerate() {
            let next = match (&step.selector, node) {
                (Selector::Name(name), Some(Value::Object(map))) => {
                    at.push_str(&format!("['{name}']"));
                    map.get(name)
                }
                (Selector::Index(index), Some(Value::Array(items))) => {
                    at.push_str(&format!("[{index}]"));
                    array_slot(*index, items.len()).and_then(|i| items.get(i))
                }
                (Selector::Name(name), _) => {
                    at.push_str(&format!("['{name}']"));
                    None
                }
                (Selector::Index(index), _) => {
                    at.push_str(&format!("[{index}]"));
                    None
                }
                _ => break,
            };
            if next.is_none() {
                return match i == last {
                    true => format!("No results for path: {at}"),
                    false => format!("Missing property in path {at}"),
                };
            }
            node = next;
        }
        format!("No results for path: {at}")
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
    /// The reference as written.
    pub fn text(&self) -> String {
        match &self.root {
            Root::Input => self.path.text().to_string(),
            Root::Context => format!("${}", self.path.text()),
            Root::Variable(name) => {
                format!("${name}{}", self.path.text().trim_start_matches('$'))
            }
        }
    }

    /// Parses `$...`, `$$...` or `$name...`.
    ///
    /// # Errors
    /// [`Error`] when the text is not a valid reference.
    pub fn parse(text: &str) -> Result<Reference, Error> {
        let error = |reason: &str| Error {
            path: text.to_string(),
            reason: reason.to_string(),
            limit: false,
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
