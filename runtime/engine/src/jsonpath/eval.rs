//! Evaluates parsed steps against a document, the way Jayway does.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::parser::{Expr, Function, Op, Operand, Selector, Step};

/// True when Jayway treats the steps as naming one location.
///
/// A union of names as the last step is "definite" in Jayway: it yields one object holding
/// the named members rather than a list.
pub(crate) fn jayway_definite(steps: &[Step]) -> bool {
    let count = steps.len();
    steps.iter().enumerate().all(|(i, step)| {
        !step.deep
            && match &step.selector {
                Selector::Name(_) | Selector::Index(_) => true,
                Selector::Names(_) => i + 1 == count,
                _ => false,
            }
    })
}

/// Evaluates a path from `start`; `root` is what `$` means inside filters.
///
/// Definite paths give the value or `None`; other paths give an array of all matches.
pub(crate) fn evaluate(
    steps: &[Step],
    function: Option<Function>,
    start: &Value,
    root: &Value,
) -> Option<Value> {
    let value = if jayway_definite(steps) {
        matches(steps, start, root).into_iter().next()?
    } else {
        Value::Array(matches(steps, start, root))
    };
    match function {
        None => Some(value),
        Some(Function::Length) => length(&value),
    }
}

fn length(value: &Value) -> Option<Value> {
    let len = match value {
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        Value::String(s) => s.chars().count(),
        _ => return None,
    };
    Some(Value::from(len))
}

/// All matches of the steps, in document order.
fn matches(steps: &[Step], start: &Value, root: &Value) -> Vec<Value> {
    // A trailing union of names merges the members of each match into a new object.
    if let Some((last, init)) = steps.split_last() {
        if let (false, Selector::Names(names)) = (last.deep, &last.selector) {
            return nodes(init, start, root)
                .into_iter()
                .filter_map(|node| {
                    let object = node.as_object()?;
                    let merged: Map<String, Value> = names
                        .iter()
                        .filter_map(|name| object.get(name).map(|v| (name.clone(), v.clone())))
                        .collect();
                    Some(Value::Object(merged))
                })
                .collect();
        }
    }
    nodes(steps, start, root).into_iter().cloned().collect()
}

/// The nodes the steps reach from `start`.
pub(crate) fn nodes<'a>(steps: &[Step], start: &'a Value, root: &Value) -> Vec<&'a Value> {
    let mut current = vec![start];
    for step in steps {
        let mut next = Vec::new();
        for node in current {
            if step.deep {
                scan(&step.selector, node, root, &mut next);
            } else {
                apply(&step.selector, node, root, &mut next);
            }
        }
        current = next;
    }
    current
}

/// `..`: applies the selector at `node` and then at every descendant, parents first.
fn scan<'a>(selector: &Selector, node: &'a Value, root: &Value, out: &mut Vec<&'a Value>) {
    match (selector, node) {
        // Jayway's scan tests every object in the tree against a filter, each exactly once;
        // arrays are only walked through.
        (Selector::Filter(expr), Value::Object(_)) if test(expr, node, root) => out.push(node),
        (Selector::Filter(_), _) => {}
        _ => apply(selector, node, root, out),
    }
    match node {
        Value::Object(map) => map
            .values()
            .for_each(|child| scan(selector, child, root, out)),
        Value::Array(items) => items
            .iter()
            .for_each(|child| scan(selector, child, root, out)),
        _ => {}
    }
}

/// Resolves a possibly negative index against a length.
fn resolve_index(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let resolved = if index < 0 { len + index } else { index };
    if (0..len).contains(&resolved) {
        usize::try_from(resolved).ok()
    } else {
        None
    }
}

fn apply<'a>(selector: &Selector, node: &'a Value, root: &Value, out: &mut Vec<&'a Value>) {
    match (selector, node) {
        (Selector::Name(name), Value::Object(map)) => out.extend(map.get(name)),
        (Selector::Names(names), Value::Object(map)) => {
            out.extend(names.iter().filter_map(|n| map.get(n)))
        }
        (Selector::Index(i), Value::Array(items)) => {
            out.extend(resolve_index(*i, items.len()).and_then(|i| items.get(i)))
        }
        (Selector::Indices(indices), Value::Array(items)) => {
            out.extend(
                indices
                    .iter()
                    .filter_map(|i| resolve_index(*i, items.len()).and_then(|i| items.get(i))),
            );
        }
        (Selector::Wildcard, Value::Object(map)) => out.extend(map.values()),
        (Selector::Wildcard, Value::Array(items)) => out.extend(items.iter()),
        (Selector::Slice { start, end }, Value::Array(items)) => {
            let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
            let clamp = |bound: i64| {
                if bound < 0 {
                    (len + bound).max(0)
                } else {
                    bound.min(len)
                }
            };
            let from = start.map_or(0, clamp);
            let to = end.map_or(len, clamp);
            let from = usize::try_from(from).unwrap_or(0);
            let to = usize::try_from(to).unwrap_or(0);
            if from < to {
                out.extend(items.iter().skip(from).take(to - from));
            }
        }
        // Jayway tests an object against a filter as a whole, and an array element by element.
        (Selector::Filter(expr), Value::Object(_)) if test(expr, node, root) => out.push(node),
        (Selector::Filter(expr), Value::Array(items)) => {
            out.extend(items.iter().filter(|item| test(expr, item, root)));
        }
        _ => {}
    }
}

fn test(expr: &Expr, current: &Value, root: &Value) -> bool {
    match expr {
        Expr::Or(a, b) => test(a, current, root) || test(b, current, root),
        Expr::And(a, b) => test(a, current, root) && test(b, current, root),
        Expr::Not(a) => !test(a, current, root),
        Expr::Exists(operand) => match operand_value(operand, current, root) {
            Some(Value::Array(items)) if !operand_definite(operand) => !items.is_empty(),
            Some(_) => true,
            None => false,
        },
        Expr::Compare(left, op, right) => {
            let left = operand_value(left, current, root);
            let right = operand_value(right, current, root);
            match (op, left, right) {
                (Op::Eq, Some(l), Some(r)) => values_equal(&l, &r),
                (Op::Eq, _, _) => false,
                (Op::Ne, Some(l), Some(r)) => !values_equal(&l, &r),
                (Op::Ne, _, _) => true,
                (op, Some(l), Some(r)) => match compare(&l, &r) {
                    Some(ordering) => match op {
                        Op::Lt => ordering == Ordering::Less,
                        Op::Le => ordering != Ordering::Greater,
                        Op::Gt => ordering == Ordering::Greater,
                        Op::Ge => ordering != Ordering::Less,
                        Op::Eq | Op::Ne => false,
                    },
                    None => false,
                },
                _ => false,
            }
        }
    }
}

fn operand_definite(operand: &Operand) -> bool {
    match operand {
        Operand::Current(steps, _) | Operand::Root(steps, _) => jayway_definite(steps),
        Operand::Literal(_) => true,
    }
}

fn operand_value(operand: &Operand, current: &Value, root: &Value) -> Option<Value> {
    match operand {
        Operand::Current(steps, function) => evaluate(steps, *function, current, root),
        Operand::Root(steps, function) => evaluate(steps, *function, root, root),
        Operand::Literal(value) => Some(value.clone()),
    }
}

/// JSON equality where numbers compare by value (`1 == 1.0`).
pub(crate) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => x.as_f64() == y.as_f64(),
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

/// Orders numbers by value and strings lexically; other pairs do not compare.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
        },
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}
