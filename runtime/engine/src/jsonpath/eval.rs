//! Evaluates parsed steps against a document, the way Jayway does.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::parser::{Expr, Function, Op, Operand, Selector, Slice, Step};

/// Jayway's `PathNotFoundException`, which only an existence test sees: a step that
/// cannot apply where everything before it named one location (a member of a non-object,
/// an index of a non-array), or any missing member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NotFound;

/// How strictly missing members count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Selecting values, as AWS runs Jayway: exceptions suppressed, so an indefinite path
    /// that reaches nothing gives `[]` (`$.items[*].v` without `items`, recorded on AWS)
    /// and a definite one gives nothing.
    Select,
    /// An existence test in a filter (`[?(@.a.*)]`): Jayway evaluates it requiring every
    /// member on the way (`REQUIRE_PROPERTIES`, exceptions not suppressed), and it holds
    /// when nothing was missing, even if nothing matched.
    Exists,
}

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
/// Definite paths give the value or `None`; other paths give an array of all matches, or
/// `None` when a step could not apply (see [`NotFound`]). `None` too once `budget` is
/// spent, which the caller checks.
pub(crate) fn evaluate(
    steps: &[Step],
    function: Option<Function>,
    start: &Value,
    root: &Value,
    budget: &mut Budget,
) -> Option<Value> {
    evaluate_in(steps, function, start, root, budget, Mode::Select)
}

fn evaluate_in(
    steps: &[Step],
    function: Option<Function>,
    start: &Value,
    root: &Value,
    budget: &mut Budget,
    mode: Mode,
) -> Option<Value> {
    let found = matches(steps, start, root, budget, mode).ok()?;
    let value = if jayway_definite(steps) {
        found.into_iter().next()?
    } else {
        Value::Array(found)
    };
    if budget.exhausted() {
        return None;
    }
    match function {
        None => Some(value),
        Some(f) => apply_function(f, &value),
    }
}

/// Jayway's path functions, applied to what the path before them gives.
fn apply_function(function: Function, value: &Value) -> Option<Value> {
    let numbers = || -> Option<Vec<f64>> {
        let items = value.as_array()?;
        let numbers: Vec<f64> = items.iter().filter_map(Value::as_f64).collect();
        // Jayway: "Aggregation function attempted to calculate value using empty array".
        (!numbers.is_empty()).then_some(numbers)
    };
    match function {
        Function::Length => match value {
            Value::Array(items) => Some(Value::from(items.len())),
            Value::Object(map) => Some(Value::from(map.len())),
            Value::String(s) => Some(Value::from(s.chars().count())),
            _ => None,
        },
        Function::Sum => Some(number(numbers()?.iter().sum())),
        Function::Min => Some(number(numbers()?.into_iter().fold(f64::INFINITY, f64::min))),
        Function::Max => Some(number(
            numbers()?.into_iter().fold(f64::NEG_INFINITY, f64::max),
        )),
        Function::Avg => {
            let n = numbers()?;
            Some(number(n.iter().sum::<f64>() / n.len() as f64))
        }
        Function::Stddev => {
            let n = numbers()?;
            let count = n.len() as f64;
            let mean = n.iter().sum::<f64>() / count;
            let squares = n.iter().map(|x| x * x).sum::<f64>() / count;
            Some(number((squares - mean * mean).max(0.0).sqrt()))
        }
        Function::First => value.as_array()?.first().cloned(),
        Function::Last => value.as_array()?.last().cloned(),
        Function::Keys => Some(Value::Array(
            value
                .as_object()?
                .keys()
                .cloned()
                .map(Value::String)
                .collect(),
        )),
    }
}

/// A double as JSON: an integer when it is one.
fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        return Value::from(n as i64);
    }
    serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
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
fn matches(
    steps: &[Step],
    start: &Value,
    root: &Value,
    budget: &mut Budget,
    mode: Mode,
) -> Result<Vec<Value>, NotFound> {
    // A trailing union of names merges the members of each match into a new object; after
    // `..` only objects holding every name match, as in Jayway.
    if let Some((last, init)) = steps.split_last() {
        if let Selector::Names(names) = &last.selector {
            let mut candidates = nodes(init, start, root, budget, mode)?;
            if last.deep {
                let mut all = Vec::new();
                for node in candidates {
                    descendants(node, budget, &mut all);
                }
                candidates = all
                    .into_iter()
                    .filter(|n| {
                        n.as_object()
                            .is_some_and(|o| names.iter().all(|k| o.contains_key(k)))
                    })
                    .collect();
            } else if mode == Mode::Exists
                && upstream_definite(init)
                && candidates.iter().any(|n| !n.is_object())
            {
                return Err(NotFound);
            }
            let mut merged = Vec::new();
            for node in candidates {
                let Some(object) = node.as_object() else {
                    continue;
                };
                let mut members = Map::new();
                for (name, value) in names.iter().filter_map(|n| Some((n, object.get(n)?))) {
                    match copy(value, budget) {
                        Some(value) => members.insert(name.clone(), value),
                        None => return Ok(Vec::new()),
                    };
                }
                merged.push(Value::Object(members));
            }
            return Ok(merged);
        }
    }
    Ok(nodes(steps, start, root, budget, mode)?
        .into_iter()
        .map_while(|node| copy(node, budget))
        .collect())
}

/// True when every step names one location (Jayway's "upstream definite").
fn upstream_definite(steps: &[Step]) -> bool {
    steps
        .iter()
        .all(|s| !s.deep && matches!(s.selector, Selector::Name(_) | Selector::Index(_)))
}

/// `node` and everything below it, parents first.
fn descendants<'a>(node: &'a Value, budget: &mut Budget, out: &mut Vec<&'a Value>) {
    if !budget.spend(1) {
        return;
    }
    out.push(node);
    match node {
        Value::Object(map) => map.values().for_each(|c| descendants(c, budget, out)),
        Value::Array(items) => items.iter().for_each(|c| descendants(c, budget, out)),
        _ => {}
    }
}

/// The nodes the steps reach from `start`.
fn nodes<'a>(
    steps: &[Step],
    start: &'a Value,
    root: &Value,
    budget: &mut Budget,
    mode: Mode,
) -> Result<Vec<&'a Value>, NotFound> {
    let mut current = vec![start];
    for (i, step) in steps.iter().enumerate() {
        let definite_so_far = upstream_definite(steps.get(..i).unwrap_or_default());
        let mut next = Vec::new();
        for node in current {
            if step.deep {
                scan(&step.selector, node, root, budget, &mut next);
                continue;
            }
            let applies = apply(&step.selector, node, root, budget, &mut next);
            let missing_member = matches!((&step.selector, node), (Selector::Name(name), Value::Object(map)) if !map.contains_key(name));
            let fails = mode == Mode::Exists
                && match applies {
                    // A step that cannot apply to this kind of node.
                    false => definite_so_far,
                    true => missing_member,
                };
            if fails {
                return Err(NotFound);
            }
        }
        if !budget.spend(next.len()) {
            return Ok(Vec::new());
        }
        current = next;
    }
    Ok(current)
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
        _ => {
            apply(selector, node, root, budget, out);
        }
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

/// The indices a slice takes from `len` items, as Jayway's `ArraySliceToken` computes
/// them (each one then resolved like an index, so a negative one counts from the end).
fn slice_indices(slice: Slice, len: usize) -> std::ops::Range<i64> {
    let len = i64::try_from(len).unwrap_or(i64::MAX);
    match slice {
        Slice::From(from) => {
            let from = if from < 0 { len + from } else { from }.max(0);
            from..len
        }
        Slice::To(to) => {
            let to = if to < 0 { len + to } else { to }.min(len);
            0..to.max(0)
        }
        Slice::Between(from, to) => {
            let to = to.min(len);
            if from >= to {
                0..0
            } else {
                from..to
            }
        }
    }
}

/// Applies one step's selector at `node`; false when the selector does not apply to a
/// node of that kind (a member of a non-object, an index of a non-array).
fn apply<'a>(
    selector: &Selector,
    node: &'a Value,
    root: &Value,
    budget: &mut Budget,
    out: &mut Vec<&'a Value>,
) -> bool {
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
        (Selector::Wildcard, _) => {}
        (Selector::Slice(slice), Value::Array(items)) => {
            for i in slice_indices(*slice, items.len()) {
                if !budget.spend(1) {
                    break;
                }
                out.extend(resolve_index(i, items.len()).and_then(|i| items.get(i)));
            }
        }
        // Jayway tests an object against a filter as a whole, and an array element by element.
        (Selector::Filter(expr), Value::Object(_)) => {
            if test(expr, node, root, budget) {
                out.push(node)
            }
        }
        (Selector::Filter(expr), Value::Array(items)) => {
            out.extend(items.iter().filter(|item| test(expr, item, root, budget)));
        }
        _ => return false,
    }
    true
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
        Expr::Exists(operand) => match operand {
            Operand::Current(steps, function) => {
                evaluate_in(steps, *function, current, root, budget, Mode::Exists).is_some()
            }
            Operand::Root(steps, function) => {
                evaluate_in(steps, *function, root, root, budget, Mode::Exists).is_some()
            }
            Operand::Literal(_) | Operand::Pattern(_) => true,
        },
        Expr::Compare(left, op, right) => {
            let l = operand_value(left, current, root, budget);
            let r = operand_value(right, current, root, budget);
            relate(*op, l.as_deref(), r.as_deref(), left, right)
        }
    }
}

/// Applies a relational operator; an operand that matched nothing is Jayway's
/// `UndefinedNode`, equal to nothing.
fn relate(op: Op, l: Option<&Value>, r: Option<&Value>, left: &Operand, right: &Operand) -> bool {
    match op {
        Op::Eq => matches!((l, r), (Some(l), Some(r)) if jayway_equal(l, r)),
        Op::Ne => !relate(Op::Eq, l, r, left, right),
        Op::StrictEq => {
            matches!((l, r), (Some(l), Some(r)) if same_kind(l, r) && jayway_equal(l, r))
        }
        Op::StrictNe => !relate(Op::StrictEq, l, r, left, right),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let Some(ordering) = l.zip(r).and_then(|(l, r)| compare(l, r)) else {
                return false;
            };
            match op {
                Op::Lt => ordering == Ordering::Less,
                Op::Le => ordering != Ordering::Greater,
                Op::Gt => ordering == Ordering::Greater,
                _ => ordering != Ordering::Less,
            }
        }
        Op::Matches => {
            let (pattern, value) = match (left, right) {
                (Operand::Pattern(p), _) => (p, r),
                (_, Operand::Pattern(p)) => (p, l),
                _ => return false,
            };
            match value {
                Some(Value::Array(items)) => items
                    .iter()
                    .any(|item| pattern.regex.is_match(&regex_input(item))),
                Some(v) => pattern.regex.is_match(&regex_input(v)),
                None => false,
            }
        }
        Op::In => {
            matches!((l, r), (Some(l), Some(Value::Array(list))) if list.iter().any(|x| jayway_equal(x, l)))
        }
        Op::Nin => !relate(Op::In, l, r, left, right),
        Op::SubsetOf => matches!((l, r), (Some(Value::Array(a)), Some(Value::Array(b)))
            if a.iter().all(|x| b.iter().any(|y| jayway_equal(y, x)))),
        Op::AnyOf => matches!((l, r), (Some(Value::Array(a)), Some(Value::Array(b)))
            if a.iter().any(|x| b.iter().any(|y| jayway_equal(y, x)))),
        Op::NoneOf => matches!((l, r), (Some(Value::Array(a)), Some(Value::Array(b)))
            if !a.iter().any(|x| b.iter().any(|y| jayway_equal(y, x)))),
        Op::All => match (l, r) {
            (Some(Value::Array(a)), Some(Value::Array(b))) => {
                b.iter().all(|x| a.iter().any(|y| jayway_equal(y, x)))
            }
            _ => false,
        },
        Op::Size => {
            let Some(expected) = r.and_then(Value::as_f64) else {
                return false;
            };
            let size = match l {
                Some(Value::String(s)) => s.chars().count(),
                Some(Value::Array(items)) => items.len(),
                _ => return false,
            };
            size as f64 == expected.trunc()
        }
        Op::Empty => {
            let Some(expected) = r.and_then(Value::as_bool) else {
                return false;
            };
            let empty = match l {
                Some(Value::String(s)) => s.is_empty(),
                Some(Value::Array(items)) => items.is_empty(),
                Some(Value::Object(map)) => map.is_empty(),
                Some(_) => true,
                None => return false,
            };
            empty == expected
        }
        Op::Contains => match (l, r) {
            (Some(Value::String(a)), Some(Value::String(b))) => a.contains(b.as_str()),
            (Some(Value::Array(items)), Some(v)) => items.iter().any(|x| jayway_equal(x, v)),
            _ => false,
        },
    }
}

/// What `=~` matches a value as: strings and numbers as text, booleans as `true`/`false`.
fn regex_input(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

fn same_kind(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Jayway's `==`: numbers by value; a string equals a number that it spells (`"42" ==
/// 42`, and `42 == "042"` reading the string as a decimal); JSON values structurally.
pub(crate) fn jayway_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(s), Value::Number(n)) => *s == java_number_text(n),
        (Value::Number(n), Value::String(s)) => {
            s.parse::<f64>()
                .ok()
                .zip(n.as_f64())
                .is_some_and(|(x, y)| x == y)
                && !s.is_empty()
                && !s.starts_with('+')
                && !s.contains(char::is_whitespace)
        }
        _ => values_equal(a, b),
    }
}

/// How Java's `BigDecimal` prints a number read from JSON.
fn java_number_text(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    match n.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.1}"),
        Some(f) => f.to_string(),
        None => n.to_string(),
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
        Operand::Pattern(_) => None,
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
