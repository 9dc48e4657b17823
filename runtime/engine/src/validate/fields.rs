//! Checks of single field values: JSON types, numeric ranges, paths, payload templates.
//!
//! Path and intrinsic syntax is decided by [`crate::jsonpath`] and [`crate::intrinsics`],
//! the same parsers the interpreter runs, so a definition accepted here evaluates there.

use super::Checker;
use crate::intrinsics::Call;
use crate::jsonpath::{Reference, Root};
use serde_json::Value;

/// AWS's ceiling on second counts (`TimeoutSeconds`, `Seconds`, ...).
const MAX_SECONDS: i64 = 99_999_999;

/// True for a JSONata expression string, `{% ... %}`, which stands in for any value in
/// JSONata states and is checked only when JSONata is evaluated.
pub(super) fn is_jsonata(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        let s = s.trim();
        s.starts_with("{%") && s.ends_with("%}")
    })
}

/// An integer value; `3.0` counts, because JSON does not tell them apart.
pub(super) fn integer(value: &Value) -> Option<i64> {
    if let Some(i) = value.as_i64() {
        return Some(i);
    }
    let f = value.as_f64()?;
    // The cast is exact: the value has no fraction and lies well inside i64.
    (f.fract() == 0.0 && f.abs() < 1e15).then_some(f as i64)
}

/// A string-typed field such as `Comment`; reports and returns false otherwise.
pub(super) fn string(c: &mut Checker, value: &Value, location: &str, field: &str) -> bool {
    if value.is_string() {
        return true;
    }
    c.schema(location, format!("The field '{field}' must be a string"));
    false
}

/// A boolean-typed field such as `End`; reports and returns false otherwise.
pub(super) fn boolean(c: &mut Checker, value: &Value, location: &str, field: &str) -> bool {
    if value.is_boolean() {
        return true;
    }
    c.schema(location, format!("The field '{field}' must be a boolean"));
    false
}

/// An integer in `min..=max`, reported with AWS's wording for ranges.
pub(super) fn int_range(
    c: &mut Checker,
    value: &Value,
    location: &str,
    field: &str,
    min: i64,
    max: i64,
) -> Option<i64> {
    match integer(value) {
        Some(i) if (min..=max).contains(&i) => Some(i),
        Some(_) => {
            c.schema(
                location,
                format!("The value of the field '{field}' must be between {min} and {max}"),
            );
            None
        }
        None => {
            c.schema(location, format!("The field '{field}' must be an integer"));
            None
        }
    }
}

/// Second counts that must be at least 1 (`TimeoutSeconds`, `IntervalSeconds`, ...).
pub(super) fn positive_int(
    c: &mut Checker,
    value: &Value,
    location: &str,
    field: &str,
) -> Option<i64> {
    int_range(c, value, location, field, 1, MAX_SECONDS)
}

/// Counts where 0 is meaningful (`Seconds`, `MaxAttempts`, `MaxConcurrency`, ...).
pub(super) fn non_negative_int(
    c: &mut Checker,
    value: &Value,
    location: &str,
    field: &str,
) -> Option<i64> {
    int_range(c, value, location, field, 0, MAX_SECONDS)
}

/// A reference to data: `$...` (input), `$$...` (context) or `$name...` (a variable).
pub(super) fn is_reference(text: &str) -> bool {
    text.starts_with('$') && Reference::parse(text).is_ok()
}

/// An intrinsic function call such as `States.Format('{}', $.a)`.
pub(super) fn is_intrinsic(text: &str) -> bool {
    text.starts_with("States.") && Call::parse(text).is_ok()
}

/// The parser's reason when `text` is refused for going past a nesting or length limit, so
/// that the diagnostic names the limit; `None` for valid text and plain syntax errors.
fn limit_reason(text: &str) -> Option<String> {
    if text.starts_with("States.") {
        Call::parse(text)
            .err()
            .filter(|e| e.limit)
            .map(|e| e.reason)
    } else {
        Reference::parse(text)
            .err()
            .filter(|e| e.limit)
            .map(|e| e.reason)
    }
}

/// AWS's message for an invalid dynamic value, with the limit it went past if that is why.
fn invalid_value(field: &str, what: &str, text: &str) -> String {
    match limit_reason(text) {
        Some(reason) => format!("The value for the field '{field}' must be {what}: {reason}"),
        None => format!("The value for the field '{field}' must be {what}"),
    }
}

/// Which values a path field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PathKind {
    /// `InputPath`, `OutputPath`: a path, or `null` for "no data".
    Nullable,
    /// `ItemsPath`, `SecondsPath`, ...: a path.
    Plain,
    /// `ErrorPath`, `CausePath`: a path or an intrinsic call.
    PathOrIntrinsic,
    /// `ResultPath`: a reference path into the state's input, or `null`.
    Result,
}

/// Checks a path field of a JSONPath state.
pub(super) fn path(c: &mut Checker, value: &Value, location: &str, field: &str, kind: PathKind) {
    let text = match value {
        Value::Null if matches!(kind, PathKind::Nullable | PathKind::Result) => return,
        Value::String(text) => text,
        _ => {
            c.schema(location, format!("The field '{field}' must be a string"));
            return;
        }
    };
    let valid = match kind {
        PathKind::Nullable | PathKind::Plain => is_reference(text),
        PathKind::PathOrIntrinsic => is_reference(text) || is_intrinsic(text),
        // ResultPath writes into the input: no context object, no variables.
        PathKind::Result => {
            (text == "$" || text.starts_with("$.") || text.starts_with("$["))
                && Reference::parse(text).is_ok_and(|r| r.root == Root::Input)
        }
    };
    if !valid {
        let what = match kind {
            PathKind::PathOrIntrinsic => "a valid JSONPath or a valid intrinsic function call",
            PathKind::Result => "a valid reference path",
            PathKind::Nullable | PathKind::Plain => "a valid JSONPath",
        };
        c.schema(location, invalid_value(field, what, text));
    }
}

/// Checks a payload template (`Parameters`, `ResultSelector`, `ItemSelector`, ...): every
/// key ending in `.$` must hold a path or an intrinsic call. AWS reports these at the
/// template field itself, not at the nested key.
pub(super) fn template(c: &mut Checker, value: &Value, location: &str) {
    match value {
        Value::Object(obj) => {
            for (key, inner) in obj {
                if key.ends_with(".$") {
                    let text = inner.as_str();
                    let valid = text.is_some_and(|t| is_reference(t) || is_intrinsic(t));
                    if !valid {
                        c.schema(
                            location,
                            invalid_value(
                                key,
                                "a valid JSONPath or a valid intrinsic function call",
                                text.unwrap_or_default(),
                            ),
                        );
                    }
                } else {
                    template(c, inner, location);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                template(c, item, location);
            }
        }
        _ => {}
    }
}

/// A variable name as `Assign` accepts it: no characters that would make `$name` ambiguous
/// as a path.
fn variable_name(name: &str) -> bool {
    !name.is_empty()
        && !name.chars().next().is_some_and(|ch| ch.is_ascii_digit())
        && name.chars().all(|ch| ch.is_alphanumeric() || ch == '_')
}

/// Checks `Assign` in a JSONPath state: valid names, and `.$` values as in templates.
pub(super) fn assign(c: &mut Checker, value: &Value, location: &str) {
    let Value::Object(obj) = value else {
        c.schema(location, "The field 'Assign' must be an object");
        return;
    };
    for key in obj.keys() {
        let name = key.strip_suffix(".$").unwrap_or(key);
        if !variable_name(name) {
            c.schema(location, format!("The variable name '{name}' is not valid"));
        }
    }
    template(c, value, location);
}

/// Exactly `len` ASCII digits, as the fixed-width parts of a timestamp need.
fn digits(text: &str, len: usize) -> Option<u32> {
    if text.len() != len || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// An RFC 3339 date-time as the Wait state's `Timestamp` takes it: `2016-03-14T01:59:00Z`,
/// with optional fraction and a `Z` or `±hh:mm` offset.
pub(super) fn is_rfc3339(text: &str) -> bool {
    let Some((date, time)) = text.split_once(['T', 't']) else {
        return false;
    };
    let mut parts = date.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Some(year), Some(month), Some(day)) = (digits(y, 4), digits(m, 2), digits(d, 2)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days {
        return false;
    }
    let (clock, offset) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, None)
    } else if let Some(pos) = time.rfind(['+', '-']) {
        (time.get(..pos).unwrap_or(""), time.get(pos + 1..))
    } else {
        return false;
    };
    if let Some(offset) = offset {
        let Some((h, m)) = offset.split_once(':') else {
            return false;
        };
        match (digits(h, 2), digits(m, 2)) {
            (Some(h), Some(m)) if h < 24 && m < 60 => {}
            _ => return false,
        }
    }
    let (hms, fraction) = match clock.split_once('.') {
        Some((hms, fraction)) => (hms, Some(fraction)),
        None => (clock, None),
    };
    if fraction.is_some_and(|f| f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    let mut parts = hms.split(':');
    let (Some(h), Some(mi), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    matches!((digits(h, 2), digits(mi, 2), digits(s, 2)), (Some(h), Some(mi), Some(s)) if h < 24 && mi < 60 && s <= 60)
}
