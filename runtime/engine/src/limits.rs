//! The bounds that keep one execution's data and work finite: payload size, nesting
//! depth, history length and the work one step may do before it yields.
//!
//! Every limit here is checked without recursion into the data it bounds, so a value
//! that breaks a limit is measured safely; values that pass are shallow enough for
//! every recursive consumer (serde, drop, the trace) on any thread.

use serde_json::Value;

/// AWS's payload limit: inputs, outputs and results above it fail with
/// `States.DataLimitExceeded`.
pub const PAYLOAD_LIMIT_BYTES: usize = 256 * 1024;

/// The most arrays and objects a state's data may nest inside each other. It is what
/// every JSON reader in the chain accepts (serde_json's own limit, which reads execution
/// input and task output), so what a state emits can always be read back. A state whose
/// result or output nests deeper fails with `States.DataLimitExceeded`, as one above the
/// size limit does.
pub const MAX_DATA_NESTING: usize = 127;

/// AWS's limit on history events per Standard execution; beyond it the execution fails
/// rather than looping forever. Express executions have no such limit (only their
/// duration is bounded).
pub const HISTORY_LIMIT: u64 = 25_000;

/// The work one step may do before it yields, in units: one per state entered, plus one
/// per [`BYTES_PER_UNIT`] of data a state outputs. A step that uses it up parks its
/// runnable states behind a timer due at once, so the driver can serve other executions
/// (and a timeout or a StopExecution) before it goes on. Counted, not timed: replay
/// yields at exactly the same points.
pub const STEP_WORK: u32 = 1_000;

/// Bytes of state output that cost one unit of [`STEP_WORK`].
pub const BYTES_PER_UNIT: usize = 4 * 1024;

/// JSONPath nodes visited, tested or copied that cost one unit of [`STEP_WORK`]: about
/// what entering a state costs.
pub const PATH_NODES_PER_UNIT: usize = 1024;

/// The path evaluation work of one step, in nodes ([`crate::scope::PathWork`]): four
/// single evaluations at [`crate::jsonpath::MAX_WORK`], about a second of CPU. A step
/// yields once its work (paths included) reaches [`STEP_WORK`], so a state always starts
/// with at least `PATH_WORK - STEP_WORK * PATH_NODES_PER_UNIT` (7 million) nodes left.
pub const PATH_WORK: usize = 4 * crate::jsonpath::MAX_WORK;

/// The limits an execution runs under, fixed at its start and recorded with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    /// History events before the execution fails with `States.Runtime`; `None` for no
    /// limit (Express).
    #[serde(default = "default_history")]
    pub history_events: Option<u64>,
    /// Work units per step before it yields; `None` never yields (executions recorded
    /// before steps had a budget replay as they ran).
    #[serde(default)]
    pub step_work: Option<u32>,
    /// JSONPath nodes one step may evaluate ([`PATH_WORK`]), counted into its work;
    /// `None` for executions recorded before paths were metered: each path alone is still
    /// bounded by [`crate::jsonpath::MAX_WORK`], as then.
    #[serde(default)]
    pub path_work: Option<u64>,
}

fn default_history() -> Option<u64> {
    Some(HISTORY_LIMIT)
}

impl Limits {
    /// A Standard execution's limits.
    pub fn standard() -> Limits {
        Limits {
            history_events: Some(HISTORY_LIMIT),
            step_work: Some(STEP_WORK),
            path_work: Some(PATH_WORK as u64),
        }
    }

    /// An Express execution's limits: no history limit.
    pub fn express() -> Limits {
        Limits {
            history_events: None,
            step_work: Some(STEP_WORK),
            path_work: Some(PATH_WORK as u64),
        }
    }

    /// The limits of an execution recorded without any: as it ran then.
    pub fn recorded() -> Limits {
        Limits {
            history_events: Some(HISTORY_LIMIT),
            step_work: None,
            path_work: None,
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::standard()
    }
}

/// Why a value breaks a data limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breach {
    /// Its JSON is over [`PAYLOAD_LIMIT_BYTES`].
    Size,
    /// It nests deeper than [`MAX_DATA_NESTING`].
    Depth,
}

/// Checks `value` against the size and depth limits. `Ok` carries an upper bound of its
/// JSON size (for the work meter).
///
/// # Errors
/// The [`Breach`], when it breaks a limit.
pub fn check(value: &Value) -> Result<usize, Breach> {
    match walk(value) {
        None => Err(Breach::Depth),
        Some(bound) if bound <= PAYLOAD_LIMIT_BYTES => Ok(bound),
        // Serializing to count is exact but slower; the bound settles almost every value,
        // and only payloads that might be near the limit are counted exactly.
        Some(_) => exact_size(value).ok_or(Breach::Size),
    }
}

/// One pass with an explicit stack: `None` when the value nests deeper than
/// [`MAX_DATA_NESTING`], else an upper bound of its compact JSON size (every string
/// character counted as an `\uXXXX` escape).
fn walk(value: &Value) -> Option<usize> {
    let mut total = 0usize;
    let mut stack: Vec<(&Value, usize)> = vec![(value, 1)];
    while let Some((v, depth)) = stack.pop() {
        let own = match v {
            Value::Null | Value::Bool(_) => 5,
            Value::Number(_) => 24,
            Value::String(s) => s.len() * 6 + 2,
            Value::Array(_) | Value::Object(_) if depth > MAX_DATA_NESTING => return None,
            Value::Array(items) => {
                stack.extend(items.iter().map(|item| (item, depth + 1)));
                items.len() + 2
            }
            Value::Object(fields) => {
                let mut own = 2;
                for (key, item) in fields {
                    own += key.len() * 6 + 4;
                    stack.push((item, depth + 1));
                }
                own
            }
        };
        total = total.saturating_add(own);
    }
    Some(total)
}

/// The exact compact size, when it is within the limit. Only called on values whose
/// depth is known to be within [`MAX_DATA_NESTING`] (serialization recurses).
fn exact_size(value: &Value) -> Option<usize> {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            if self.0 > PAYLOAD_LIMIT_BYTES {
                return Err(std::io::Error::other("limit"));
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    serde_json::to_writer(&mut counter, value).ok()?;
    Some(counter.0)
}

/// The nesting depth of `value` (a scalar is 1), counted without recursion.
pub fn depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        match v {
            Value::Array(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Value::Object(fields) => stack.extend(fields.values().map(|i| (i, d + 1))),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(levels: usize) -> Value {
        let mut v = json!(1);
        for _ in 0..levels {
            v = json!({ "a": v });
        }
        v
    }

    #[test]
    fn depth_is_counted_in_levels() {
        assert_eq!(depth(&json!(1)), 1);
        assert_eq!(depth(&json!([[1]])), 3);
        assert_eq!(depth(&nested(10)), 11);
    }

    #[test]
    fn the_deepest_allowed_value_passes_and_one_more_level_fails() {
        // MAX_DATA_NESTING containers, then a scalar: as deep as serde_json reads.
        let ok = nested(MAX_DATA_NESTING);
        assert!(check(&ok).is_ok());
        assert!(serde_json::from_str::<Value>(&ok.to_string()).is_ok());
        let over = nested(MAX_DATA_NESTING + 1);
        assert_eq!(check(&over), Err(Breach::Depth));
        assert!(serde_json::from_str::<Value>(&over.to_string()).is_err());
    }

    #[test]
    fn a_very_deep_value_is_measured_without_recursion() {
        // Built and dropped in steps that never recurse deeper than the test thread allows.
        let deep = nested(MAX_DATA_NESTING * 4);
        assert_eq!(check(&deep), Err(Breach::Depth));
    }

    #[test]
    fn size_is_bounded_then_exact() {
        assert!(check(&json!({"v": "x".repeat(PAYLOAD_LIMIT_BYTES - 20)})).is_ok());
        assert_eq!(
            check(&json!({"v": "x".repeat(PAYLOAD_LIMIT_BYTES)})),
            Err(Breach::Size)
        );
        assert_eq!(
            check(&json!(vec!["x".repeat(1000); 3000])),
            Err(Breach::Size)
        );
    }

    #[test]
    fn a_large_and_deep_value_reports_depth() {
        let mut v = nested(MAX_DATA_NESTING + 5);
        if let Value::Object(m) = &mut v {
            m.insert("big".into(), json!("y".repeat(PAYLOAD_LIMIT_BYTES * 20)));
        }
        assert_eq!(check(&v), Err(Breach::Depth));
    }

    #[test]
    fn recorded_executions_keep_their_old_limits() {
        let l: Limits = serde_json::from_str("{}").unwrap();
        assert_eq!(l, Limits::recorded());
    }
}
