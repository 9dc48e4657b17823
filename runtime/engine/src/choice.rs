//! Choice state conditions: the comparison operators, `And`/`Or`/`Not`.
//!
//! A rule is parsed once, when the definition is loaded, so that a malformed operator is a
//! definition error rather than a surprise halfway through an execution. Evaluation is then a
//! walk over the parsed tree that asks a [`Resolve`] for the values behind reference paths;
//! the engine decides where those paths point (input, context object, variables).
//!
//! The semantics follow what AWS Step Functions does, as recorded in the conformance corpus:
//!
//! - A `Variable` (or `...Path` operand) that matches nothing is a `States.Runtime` failure,
//!   except under `IsPresent`, which exists to ask exactly that question.
//! - A value of the wrong type is not an error: `StringEquals` against a number, or
//!   `BooleanEquals` against `0`, is simply false.
//! - Numbers compare by value (`1 == 1.0`), strings by UTF-16 code units (Java's
//!   `String.compareTo`), timestamps by the instant they denote.
//!
//! ```
//! use sandstep_engine::choice::{Condition, Error, Resolve};
//! use serde_json::{json, Value};
//!
//! struct Input(Value);
//! impl Resolve for Input {
//!     fn resolve(&self, path: &str) -> Result<Option<Value>, Error> {
//!         let key = path.trim_start_matches("$.");
//!         Ok(self.0.get(key).cloned())
//!     }
//! }
//!
//! let rule = json!({"Variable": "$.n", "NumericGreaterThan": 1, "Next": "Big"});
//! let condition = Condition::parse(&rule)?;
//! assert!(condition.evaluate(&Input(json!({"n": 2.5})))?);
//! assert!(!condition.evaluate(&Input(json!({"n": "2.5"})))?);
//! assert!(condition.evaluate(&Input(json!({}))).is_err());
//! # Ok::<(), Error>(())
//! ```

use std::cmp::Ordering;

use serde_json::{Number, Value};

use crate::timestamp;

/// A parsed Choice condition (a Choice rule without its `Next`/`Assign`/`Comment`).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    kind: Kind,
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

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    /// A test of the value at `variable`.
    Test {
        variable: String,
        test: Test,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// `String*`, `Numeric*`, `Boolean*` and `Timestamp*` comparisons, with or without `Path`.
    Compare {
        family: Family,
        relation: Relation,
        operand: Operand,
    },
    StringMatches(Vec<Glob>),
    /// `IsNull`, `IsPresent`, ... with the boolean they are compared against.
    Is {
        kind: IsKind,
        expected: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Family {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Relation {
    Equals,
    LessThan,
    GreaterThan,
    LessThanEquals,
    GreaterThanEquals,
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Literal(Value),
    Path(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum IsKind {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

/// One element of a `StringMatches` pattern, with its escapes already resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Glob {
    Any,
    Char(char),
}

/// Fields that may sit next to the operator of a top-level rule and carry no condition.
const NON_CONDITION_FIELDS: [&str; 3] = ["Next", "Assign", "Comment"];

impl Condition {
    /// Parses a choice rule object; ignores `Next`, `Assign` and `Comment` at its top.
    ///
    /// The same function parses the rules nested in `And`/`Or`/`Not`; those never carry
    /// `Next` in a valid definition, but checking that is the validator's job.
    ///
    /// # Errors
    /// [`Error`] when the rule is malformed: not an object, no operator or more than one, an
    /// unknown field, a missing or non-path `Variable`, or an operand of the wrong type
    /// (`StringEquals` needs a string, `Numeric*` a number, `BooleanEquals` and `Is*` a
    /// boolean, `Timestamp*` a valid timestamp, `...Path` a reference path, `And`/`Or` a
    /// non-empty array of rules, `Not` one rule).
    pub fn parse(rule: &Value) -> Result<Condition, Error> {
        let Value::Object(fields) = rule else {
            return Err(error(format!(
                "a choice rule must be an object, got {rule}"
            )));
        };
        let mut operator = None;
        let mut variable = None;
        for (name, value) in fields {
            if NON_CONDITION_FIELDS.contains(&name.as_str()) {
                continue;
            }
            if name == "Variable" {
                variable = Some(value);
                continue;
            }
            if let Some((first, _)) = operator {
                return Err(error(format!(
                    "a choice rule must have exactly one operator, found '{first}' and '{name}'"
                )));
            }
            operator = Some((name.as_str(), value));
        }
        let Some((name, value)) = operator else {
            return Err(error(format!(
                "a choice rule must have a comparison operator or And/Or/Not: {rule}"
            )));
        };
        let kind = match name {
            "And" | "Or" | "Not" => {
                if variable.is_some() {
                    return Err(error(format!(
                        "a choice rule using '{name}' cannot have a 'Variable'"
                    )));
                }
                parse_combinator(name, value)?
            }
            _ => {
                let test = parse_test(name, value)?;
                let variable = match variable {
                    Some(Value::String(path)) if is_reference_path(path) => path.clone(),
                    Some(other) => {
                        return Err(error(format!(
                            "the choice rule's 'Variable' must be a reference path, got {other}"
                        )))
                    }
                    None => {
                        return Err(error(format!(
                            "a choice rule using '{name}' must have a 'Variable'"
                        )))
                    }
                };
                Kind::Test { variable, test }
            }
        };
        Ok(Condition { kind })
    }

    /// Evaluates the condition.
    ///
    /// `And` and `Or` stop at the first rule that settles the answer, so a later rule whose
    /// path is missing does not fail the state.
    ///
    /// # Errors
    /// [`Error`] (a `States.Runtime` cause) when a path the rule needs is missing.
    pub fn evaluate(&self, resolve: &dyn Resolve) -> Result<bool, Error> {
        match &self.kind {
            Kind::And(rules) => {
                for rule in rules {
                    if !rule.evaluate(resolve)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Kind::Or(rules) => {
                for rule in rules {
                    if rule.evaluate(resolve)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Kind::Not(rule) => Ok(!rule.evaluate(resolve)?),
            Kind::Test { variable, test } => {
                let value = resolve.resolve(variable)?;
                if let Test::Is {
                    kind: IsKind::Present,
                    expected,
                } = test
                {
                    return Ok(value.is_some() == *expected);
                }
                let value = value.ok_or_else(|| invalid_path(variable))?;
                test.apply(&value, resolve)
            }
        }
    }
}

impl Test {
    fn apply(&self, value: &Value, resolve: &dyn Resolve) -> Result<bool, Error> {
        match self {
            Test::Compare {
                family,
                relation,
                operand,
            } => {
                let operand = match operand {
                    Operand::Literal(literal) => literal.clone(),
                    Operand::Path(path) => {
                        resolve.resolve(path)?.ok_or_else(|| invalid_path(path))?
                    }
                };
                Ok(compare(*family, value, &operand)
                    .is_some_and(|ordering| relation.holds(ordering)))
            }
            Test::StringMatches(pattern) => {
                Ok(matches!(value, Value::String(text) if glob_matches(pattern, text)))
            }
            Test::Is { kind, expected } => {
                let actual = match kind {
                    IsKind::Null => value.is_null(),
                    IsKind::Present => true,
                    IsKind::Numeric => value.is_number(),
                    IsKind::String => value.is_string(),
                    IsKind::Boolean => value.is_boolean(),
                    IsKind::Timestamp => value
                        .as_str()
                        .is_some_and(|text| timestamp::parse_nanos(text).is_some()),
                };
                Ok(actual == *expected)
            }
        }
    }
}

impl Relation {
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Relation::Equals => ordering == Ordering::Equal,
            Relation::LessThan => ordering == Ordering::Less,
            Relation::GreaterThan => ordering == Ordering::Greater,
            Relation::LessThanEquals => ordering != Ordering::Greater,
            Relation::GreaterThanEquals => ordering != Ordering::Less,
        }
    }
}

/// The AWS cause for a reference path that matches nothing.
fn invalid_path(path: &str) -> Error {
    error(format!(
        "Invalid path '{path}': The choice state's condition path references an invalid value."
    ))
}

fn error(message: String) -> Error {
    Error(message)
}

/// Reference paths start at `$` (input), `$$` (context object) or `$name` (a variable);
/// anything else cannot be one, so it is refused when the definition is loaded.
fn is_reference_path(text: &str) -> bool {
    text.starts_with('$')
}

fn parse_combinator(name: &str, value: &Value) -> Result<Kind, Error> {
    if name == "Not" {
        return match value {
            Value::Object(_) => Ok(Kind::Not(Box::new(Condition::parse(value)?))),
            other => Err(error(format!(
                "'Not' must hold one choice rule, got {other}"
            ))),
        };
    }
    let rules = match value {
        Value::Array(rules) if !rules.is_empty() => rules
            .iter()
            .map(Condition::parse)
            .collect::<Result<Vec<_>, _>>()?,
        other => {
            return Err(error(format!(
                "'{name}' must hold a non-empty array of choice rules, got {other}"
            )))
        }
    };
    Ok(if name == "And" {
        Kind::And(rules)
    } else {
        Kind::Or(rules)
    })
}

fn parse_test(name: &str, value: &Value) -> Result<Test, Error> {
    if let Some(kind) = is_kind(name) {
        let Value::Bool(expected) = value else {
            return Err(error(format!("'{name}' must be a boolean, got {value}")));
        };
        return Ok(Test::Is {
            kind,
            expected: *expected,
        });
    }
    if name == "StringMatches" {
        let Value::String(pattern) = value else {
            return Err(error(format!("'{name}' must be a string, got {value}")));
        };
        return Ok(Test::StringMatches(parse_glob(pattern)));
    }
    let (base, is_path) = match name.strip_suffix("Path") {
        Some(base) => (base, true),
        None => (name, false),
    };
    let Some((family, relation)) = comparison(base) else {
        return Err(error(format!("unknown choice rule field '{name}'")));
    };
    let operand = if is_path {
        match value {
            Value::String(path) if is_reference_path(path) => Operand::Path(path.clone()),
            other => {
                return Err(error(format!(
                    "'{name}' must be a reference path, got {other}"
                )))
            }
        }
    } else {
        let valid = match family {
            Family::String => value.is_string(),
            Family::Numeric => value.is_number(),
            Family::Boolean => value.is_boolean(),
            Family::Timestamp => value
                .as_str()
                .is_some_and(|text| timestamp::parse_nanos(text).is_some()),
        };
        if !valid {
            let wanted = match family {
                Family::String => "a string",
                Family::Numeric => "a number",
                Family::Boolean => "a boolean",
                Family::Timestamp => "an ISO-8601 timestamp string",
            };
            return Err(error(format!("'{name}' must be {wanted}, got {value}")));
        }
        Operand::Literal(value.clone())
    };
    Ok(Test::Compare {
        family,
        relation,
        operand,
    })
}

fn is_kind(name: &str) -> Option<IsKind> {
    Some(match name {
        "IsNull" => IsKind::Null,
        "IsPresent" => IsKind::Present,
        "IsNumeric" => IsKind::Numeric,
        "IsString" => IsKind::String,
        "IsBoolean" => IsKind::Boolean,
        "IsTimestamp" => IsKind::Timestamp,
        _ => return None,
    })
}

/// Maps an operator name without its `Path` suffix to what it compares and how.
fn comparison(name: &str) -> Option<(Family, Relation)> {
    if name == "BooleanEquals" {
        return Some((Family::Boolean, Relation::Equals));
    }
    let (family, relation) = if let Some(relation) = name.strip_prefix("String") {
        (Family::String, relation)
    } else if let Some(relation) = name.strip_prefix("Numeric") {
        (Family::Numeric, relation)
    } else if let Some(relation) = name.strip_prefix("Timestamp") {
        (Family::Timestamp, relation)
    } else {
        return None;
    };
    let relation = match relation {
        "Equals" => Relation::Equals,
        "LessThan" => Relation::LessThan,
        "GreaterThan" => Relation::GreaterThan,
        "LessThanEquals" => Relation::LessThanEquals,
        "GreaterThanEquals" => Relation::GreaterThanEquals,
        _ => return None,
    };
    Some((family, relation))
}

/// Orders `value` against `operand` within `family`; `None` when either side is not of the
/// family's type, which makes every relation false, as AWS does.
fn compare(family: Family, value: &Value, operand: &Value) -> Option<Ordering> {
    match (family, value, operand) {
        (Family::String, Value::String(left), Value::String(right)) => {
            Some(left.encode_utf16().cmp(right.encode_utf16()))
        }
        (Family::Numeric, Value::Number(left), Value::Number(right)) => {
            compare_numbers(left, right)
        }
        (Family::Boolean, Value::Bool(left), Value::Bool(right)) => {
            // Booleans only support equality, so any inequality will do for "different".
            Some(if left == right {
                Ordering::Equal
            } else {
                Ordering::Less
            })
        }
        (Family::Timestamp, Value::String(left), Value::String(right)) => {
            let left = timestamp::parse_nanos(left)?;
            let right = timestamp::parse_nanos(right)?;
            Some(left.cmp(&right))
        }
        _ => None,
    }
}

/// Compares JSON numbers by their mathematical value: integers exactly (so that large ids
/// beyond 2^53 do not collapse), and mixed integer/float pairs without rounding the integer.
fn compare_numbers(left: &Number, right: &Number) -> Option<Ordering> {
    match (integer(left), integer(right)) {
        (Some(left), Some(right)) => Some(left.cmp(&right)),
        (Some(left), None) => Some(compare_integer_float(left, right.as_f64()?)),
        (None, Some(right)) => Some(compare_integer_float(right, left.as_f64()?).reverse()),
        (None, None) => left.as_f64()?.partial_cmp(&right.as_f64()?),
    }
}

fn integer(number: &Number) -> Option<i128> {
    number
        .as_i64()
        .map(i128::from)
        .or_else(|| number.as_u64().map(i128::from))
}

fn compare_integer_float(integer: i128, float: f64) -> Ordering {
    // A float with a fractional part is below 2^52 in magnitude, so converting the integer
    // to f64 cannot flip the order then; a whole float is compared exactly as an integer.
    const LIMIT: f64 = 1.7e38; // comfortably inside i128
    if float.fract() == 0.0 && float.abs() < LIMIT {
        let whole = float as i128;
        integer.cmp(&whole)
    } else {
        let approx = integer as f64;
        approx.partial_cmp(&float).unwrap_or(Ordering::Less)
    }
}

/// Resolves a `StringMatches` pattern's escapes: `\*` is a literal star and `\\` a literal
/// backslash. A backslash before any other character (or at the end) stands for itself, so
/// that patterns written without thinking of escapes still match what they say.
fn parse_glob(pattern: &str) -> Vec<Glob> {
    let mut globs = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(char) = chars.next() {
        match char {
            '*' => globs.push(Glob::Any),
            '\\' => match chars.peek() {
                Some(&escaped @ ('*' | '\\')) => {
                    chars.next();
                    globs.push(Glob::Char(escaped));
                }
                _ => globs.push(Glob::Char('\\')),
            },
            other => globs.push(Glob::Char(other)),
        }
    }
    globs
}

/// Whole-string wildcard match, linear in practice: on a mismatch it backtracks only to the
/// last `*`, letting it swallow one more character.
fn glob_matches(pattern: &[Glob], text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match (pattern.get(p), text.get(t)) {
            (Some(Glob::Any), _) => {
                star = Some((p, t));
                p += 1;
            }
            (Some(Glob::Char(expected)), Some(actual)) if expected == actual => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(|glob| *glob == Glob::Any))
}

#[cfg(test)]
mod tests;
