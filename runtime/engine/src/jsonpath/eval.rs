//! Evaluates parsed steps against a document, the way Jayway does.

use std::borrow::Cow;
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

/// Work that path evaluations may still do, in nodes visited, tested or copied.
///
/// Nesting is bounded by the parser, but work is not: each level of `..`, or of a filter that
/// looks at `$` again, multiplies it by the size of the data. One budget can be shared by
/// all the evaluations of a step with [`Path::select_within`](super::Path::select_within).
/// Once it is spent every evaluation stops early, and stays stopped.
#[derive(Debug, Clone)]
pub struct Budget {
    left: usize,
    exhausted: bool,
}

impl Budget {
    /// A budget of `units`; [`MAX_WORK`](super::MAX_WORK) is what one evaluation gets alone.
    pub fn new(units: usize) -> Budget {
        Budget {
            left: units,
            exhausted: false,
        }
    }

    /// The units not spent yet.
    pub fn remaining(&self) -> usize {
        self.left
    }

    /// Takes `units` from the budget; false (for good) once it does not cover them.
    fn spend(&mut self, units: usize) -> bool {
        match self.left.checked_sub(units) {
            Some(left) if !self.exhausted => {
                self.left = left;
                true
            }
            _ => {
                self.exhausted = true;
                false
            }
        }
    }

    /// True once an evaluation needed more than was left.
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }
}

/// Evaluates a path from `start`; `root` is what `$` means inside filters.
///
/// Definite paths give the value or `None`; other paths give an array of all matches.
/// `None` too once `budget` is spent, which the caller checks.
pub(crate) fn evaluate(
    steps: &[Step],
    function: Option<Function>,
    start: &Value,
    root: &Value,
    budget: &mut Budget,
) -> Option<Value> {
    let value = if jayway_definite(steps) {
        matches(steps, start, root, budget).into_iter().next()?
    } else {
        Value::Array(matches(steps, start, root, budget))
    };
    if budget.exhausted() {
        return None;
    }
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

/// A copy of `value`, paid for by its number of nodes.
fn copy(value: &Value, budget: &mut Budget) -> Option<Value> {
    let size = size_within(value, budget.left.saturating_add(1));
    budget.spend(size).then(|| value.clone())
}

/// The number of nodes in `value`, counted no further than about `limit`.
fn size_within(value: &Value, limit: usize) -> usize {
    match value {
        Value::Array(items) => 1 + children_within(items.iter(), limit.saturating_sub(1)),
        Value::Object(map) => 1 + children_within(map.values(), limit.saturating_sub(1)),
        _ => 1,
    }
}

fn children_within<'a>(children: impl Iterator<Item = &'a Value>, limit: usize) -> usize {
    let mut size = 0;
    for child in children {
        if size >= limit {
            break;
        }
        size += size_within(child, limit - size);
    }
    size
}

/// All matches of the steps, in document order.
fn matches(steps: &[Step], start: &Value, root: &Value, budget: &mut Budget) -> Vec<Value> {
    // A trailing union of names merges the members of each match into a new object.
    if let Some((last, init)) = steps.split_last() {
        if let (false, Selector::Names(names)) = (last.deep, &last.selector) {
            let mut merged = Vec::new();
            for node in nodes(init, start, root, budget) {
                let Some(object) = node.as_object() else {
                    continue;
                };
                let mut members = Map::new();
                for (name, value) in names.iter().filter_map(|n| Some((n, object.get(n)?))) {
                    match copy(value, budget) {
                        Some(value) => members.insert(name.clone(), value),
                        None => return Vec::new(),
                    };
                }
                merged.push(Value::Object(members));
            }
            return merged;
        }
    }
    nodes(steps, start, root, budget)
        .into_iter()
        .map_while(|node| copy(node, budget))
        .collect()
}

/// The nodes the steps reach from `start`.
fn nodes<'a>(
    steps: &[Step],
    start: &'a Value,
    root: &Value,
    budget: &mut Budget,
) -> Vec<&'a Value> {
    let mut current = vec![start];
    for step in steps {
        let mut next = Vec::new();
        for node in current {
            if step.deep {
                scan(&step.selector, node, root, budget, &mut next);
            } else {
                apply(&step.selector, node, root, budget, &mut next);
            }
        }
        if !budget.spend(next.len()) {
            return Vec::new();
        }
        current = next;
    }
    current
}

/// `..`: applies the selector at `node` and then at every descendant, parents first.
fn scan<'a>(
    selector: &Selector,
    node: &'a Value,
    root: &Value,
    budget: &mut Budget,
    out: &mut Vec<&'a Value>,
) {
    if !budget.spend(1) {
        return;
    }
    match (selector, node) {
        // Jayway's scan tests every object in the tree against a filter, each exactly once;
        // arrays are only walked through.
        (Selector::Filter(expr), Value::Object(_)) if test(expr, node, root, budget) => {
            out.push(node)
        }
        (Selector::Filter(_), _) => {}
        _ => apply(selector, node, root, budget, out),
    }
    match node {
        Value::Object(map) => map
            .values()
            .for_each(|child| scan(selector, child, root, budget, out)),
        Value::Array(items) => items
            .iter()
            .for_each(|child| scan(selector, child, root, budget, out)),
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

fn apply<'a>(
    selector: &Selector,
    node: &'a Value,
    root: &Value,
    budget: &mut Budget,
    out: &mut Vec<&'a Value>,
) {
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
        (Selector::Filter(expr), Value::Object(_)) if test(expr, node, root, budget) => {
            out.push(node)
        }
        (Selector::Filter(expr), Value::Array(items)) => {
            out.extend(items.iter().filter(|item| test(expr, item, root, budget)));
        }
        _ => {}
    }
}

/// Whether `current` passes the filter; false once the budget is spent.
fn test(expr: &Expr, current: &Value, root: &Value, budget: &mut Budget) -> bool {
    if !budget.spend(1) {
        return false;
    }
    match expr {
        Expr::Or(terms) => terms.iter().any(|term| test(term, current, root, budget)),
        Expr::And(terms) => terms.iter().all(|term| test(term, current, root, budget)),
        Expr::Not(a) => !test(a, current, root, budget),
        Expr::Exists(operand) => match operand_value(operand, current, root, budget) {
            Some(value) => match value.as_ref() {
                Value::Array(items) if !operand_definite(operand) => !items.is_empty(),
                _ => true,
            },
            None => false,
        },
        Expr::Compare(left, op, right) => {
            let left = operand_value(left, current, root, budget);
            let right = operand_value(right, current, root, budget);
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

/// An operand's value; a literal is borrowed, so a long one is not copied per node tested.
fn operand_value<'e>(
    operand: &'e Operand,
    current: &Value,
    root: &Value,
    budget: &mut Budget,
) -> Option<Cow<'e, Value>> {
    match operand {
        Operand::Current(steps, function) => {
            evaluate(steps, *function, current, root, budget).map(Cow::Owned)
        }
        Operand::Root(steps, function) => {
            evaluate(steps, *function, root, root, budget).map(Cow::Owned)
        }
        Operand::Literal(value) => Some(Cow::Borrowed(value)),
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
