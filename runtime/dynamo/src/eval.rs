//! Expressions applied to items: a condition's truth, an update's new item, a
//! projection's attributes. Pure functions of the parsed expression and the item.

use super::expr::{Action, Comparator, Condition, Operand, Path, SetOperand, SetValue, Step};
use super::number::Number;
use super::value::{set_of, Item, SetMembers, Value};
use std::cmp::Ordering;

/// The value at `path` in `item`.
pub fn get<'i>(item: &'i Item, path: &Path) -> Option<&'i Value> {
    let mut steps = path.iter();
    let mut current = match steps.next()? {
        Step::Key(k) => item.get(k)?,
        Step::Index(_) => return None,
    };
    for step in steps {
        current = match (step, current) {
            (Step::Key(k), Value::M(m)) => m.get(k)?,
            (Step::Index(i), Value::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(current)
}

fn operand(item: &Item, o: &Operand) -> Option<Value> {
    match o {
        Operand::Path(p) => get(item, p).cloned(),
        Operand::Value(v) => Some(v.clone()),
        Operand::Size(p) => get(item, p).and_then(size).map(Value::N),
    }
}

/// `size()`: characters of a string, bytes of a binary, members of a collection.
fn size(v: &Value) -> Option<Number> {
    let n = match v {
        Value::S(s) => s.chars().count(),
        Value::B(b) => b.len(),
        Value::M(m) => m.len(),
        Value::L(l) => l.len(),
        Value::Ss(s) => s.len(),
        Value::Ns(s) => s.len(),
        Value::Bs(s) => s.len(),
        Value::N(_) | Value::Bool(_) | Value::Null => return None,
    };
    Number::parse(&n.to_string()).ok()
}

/// How two values order, when DynamoDB orders them at all (same scalar type).
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::S(x), Value::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::N(x), Value::N(y)) => Some(x.cmp(y)),
        (Value::B(x), Value::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Whether `condition` holds for `item` (empty for an item that does not exist).
///
/// # Errors
/// A ValidationException message for operands of the wrong type where DynamoDB refuses
/// them (an `attribute_type` name that is not a type).
pub fn holds(item: &Item, condition: &Condition) -> Result<bool, String> {
    Ok(match condition {
        Condition::Compare(a, c, b) => {
            let (a, b) = (operand(item, a), operand(item, b));
            match (a, b, c) {
                (Some(a), Some(b), Comparator::Eq) => a == b,
                (Some(a), Some(b), Comparator::Ne) => a != b,
                (_, _, Comparator::Ne) => true,
                (Some(a), Some(b), c) => order(&a, &b).is_some_and(|o| match c {
                    Comparator::Lt => o == Ordering::Less,
                    Comparator::Le => o != Ordering::Greater,
                    Comparator::Gt => o == Ordering::Greater,
                    Comparator::Ge => o != Ordering::Less,
                    Comparator::Eq | Comparator::Ne => false,
                }),
                _ => false,
            }
        }
        Condition::Between(x, low, high) => {
            match (operand(item, x), operand(item, low), operand(item, high)) {
                (Some(x), Some(low), Some(high)) => {
                    if order(&low, &high) == Some(Ordering::Greater) {
                        return Err("Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound".into());
                    }
                    order(&low, &x).is_some_and(|o| o != Ordering::Greater)
                        && order(&x, &high).is_some_and(|o| o != Ordering::Greater)
                }
                _ => false,
            }
        }
        Condition::In(x, options) => match operand(item, x) {
            Some(x) => options
                .iter()
                .any(|o| operand(item, o).as_ref() == Some(&x)),
            None => false,
        },
        Condition::Exists(p) => get(item, p).is_some(),
        Condition::NotExists(p) => get(item, p).is_none(),
        Condition::Type(p, t) => {
            let Some(Value::S(t)) = operand(item, t) else {
                return Err("Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: not a string".into());
            };
            const TYPES: [&str; 10] = ["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"];
            if !TYPES.contains(&t.as_str()) {
                return Err(format!("Invalid ConditionExpression: Invalid attribute type name found; type: {t}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"));
            }
            get(item, p).is_some_and(|v| v.type_name() == t)
        }
        Condition::BeginsWith(a, prefix) => match (operand(item, a), operand(item, prefix)) {
            (Some(Value::S(s)), Some(Value::S(p))) => s.starts_with(&p),
            (Some(Value::B(s)), Some(Value::B(p))) => s.starts_with(&p),
            _ => false,
        },
        Condition::Contains(a, b) => match (operand(item, a), operand(item, b)) {
            (Some(Value::S(s)), Some(Value::S(p))) => s.contains(&p),
            (Some(Value::B(s)), Some(Value::B(p))) => {
                p.is_empty() || s.windows(p.len()).any(|w| w == p.as_slice())
            }
            (Some(Value::Ss(s)), Some(Value::S(p))) => s.contains(&p),
            (Some(Value::Ns(s)), Some(Value::N(p))) => s.contains(&p),
            (Some(Value::Bs(s)), Some(Value::B(p))) => s.contains(&p),
            (Some(Value::L(l)), Some(v)) => l.contains(&v),
            _ => false,
        },
        Condition::And(a, b) => holds(item, a)? && holds(item, b)?,
        Condition::Or(a, b) => holds(item, a)? || holds(item, b)?,
        Condition::Not(a) => !holds(item, a)?,
    })
}

/// The item after `actions`, all evaluated against the item as it was (DynamoDB
/// evaluates every right-hand side before it writes).
///
/// # Errors
/// A ValidationException message (a type that does not fit the action, a path whose
/// parent does not exist).
pub fn apply(item: &Item, actions: &[Action]) -> Result<Item, String> {
    let mut computed = Vec::with_capacity(actions.len());
    for action in actions {
        computed.push(match action {
            Action::Set(path, value) => (path, Some(set_value(item, value)?)),
            Action::Remove(path) => (path, None),
            Action::Add(path, value) => (path, Some(add(get(item, path), value)?)),
            Action::Delete(path, value) => (path, delete(get(item, path), value)?),
        });
    }
    let mut out = item.clone();
    // List removals shift later elements: remove from the highest index down.
    let mut removals: Vec<&Path> = Vec::new();
    for (path, value) in computed {
        match value {
            Some(v) => put(&mut out, path, v)?,
            None => removals.push(path),
        }
    }
    removals.sort_by(|a, b| b.cmp(a));
    for path in removals {
        remove(&mut out, path);
    }
    Ok(out)
}

const WRONG_TYPE: &str = "An operand in the update expression has an incorrect data type";

fn set_value(item: &Item, value: &SetValue) -> Result<Value, String> {
    let number = |o: &SetOperand| match set_operand(item, o)? {
        Value::N(n) => Ok(n),
        _ => Err(WRONG_TYPE.to_string()),
    };
    match value {
        SetValue::Operand(o) => set_operand(item, o),
        SetValue::Plus(a, b) => Ok(Value::N(
            number(a)?.add(&number(b)?).map_err(|e| e.to_string())?,
        )),
        SetValue::Minus(a, b) => Ok(Value::N(
            number(a)?.sub(&number(b)?).map_err(|e| e.to_string())?,
        )),
    }
}

fn set_operand(item: &Item, o: &SetOperand) -> Result<Value, String> {
    match o {
        SetOperand::Value(v) => Ok(v.clone()),
        SetOperand::Path(p) => get(item, p).cloned().ok_or_else(|| {
            "The provided expression refers to an attribute that does not exist in the item"
                .to_string()
        }),
        SetOperand::IfNotExists(p, fallback) => match get(item, p) {
            Some(v) => Ok(v.clone()),
            None => set_operand(item, fallback),
        },
        SetOperand::ListAppend(a, b) => match (set_operand(item, a)?, set_operand(item, b)?) {
            (Value::L(mut a), Value::L(b)) => {
                a.extend(b);
                Ok(Value::L(a))
            }
            _ => Err(WRONG_TYPE.to_string()),
        },
    }
}

/// `ADD`: a number added to (missing: zero), or members added to a set (missing: none).
fn add(current: Option<&Value>, value: &Value) -> Result<Value, String> {
    let wrong = || {
        format!(
            "{WRONG_TYPE}; operator: ADD, operand type: {}",
            value.type_name()
        )
    };
    Ok(match (current, value) {
        (None, Value::N(_) | Value::Ss(_) | Value::Ns(_) | Value::Bs(_)) => value.clone(),
        (Some(Value::N(a)), Value::N(b)) => Value::N(a.add(b).map_err(|e| e.to_string())?),
        (Some(Value::Ss(a)), Value::Ss(b)) => {
            set_of(SetMembers::S(a.iter().chain(b).cloned().collect())).ok_or_else(wrong)?
        }
        (Some(Value::Ns(a)), Value::Ns(b)) => {
            set_of(SetMembers::N(a.iter().chain(b).cloned().collect())).ok_or_else(wrong)?
        }
        (Some(Value::Bs(a)), Value::Bs(b)) => {
            set_of(SetMembers::B(a.iter().chain(b).cloned().collect())).ok_or_else(wrong)?
        }
        _ => return Err(wrong()),
    })
}

/// `DELETE`: members taken out of a set; `None` (remove the attribute) when it empties.
fn delete(current: Option<&Value>, value: &Value) -> Result<Option<Value>, String> {
    let wrong = || {
        format!(
            "{WRONG_TYPE}; operator: DELETE, operand type: {}",
            value.type_name()
        )
    };
    Ok(match (current, value) {
        (None, Value::Ss(_) | Value::Ns(_) | Value::Bs(_)) => None,
        (Some(Value::Ss(a)), Value::Ss(b)) => set_of(SetMembers::S(
            a.iter().filter(|m| !b.contains(m)).cloned().collect(),
        )),
        (Some(Value::Ns(a)), Value::Ns(b)) => set_of(SetMembers::N(
            a.iter().filter(|m| !b.contains(m)).cloned().collect(),
        )),
        (Some(Value::Bs(a)), Value::Bs(b)) => set_of(SetMembers::B(
            a.iter().filter(|m| !b.contains(m)).cloned().collect(),
        )),
        _ => return Err(wrong()),
    })
}

const BAD_PATH: &str = "The document path provided in the update expression is invalid for update";

/// Writes `value` at `path`; the parent must exist (a list index past the end appends).
fn put(item: &mut Item, path: &Path, value: Value) -> Result<(), String> {
    let Some((Step::Key(first), rest)) = path.split_first() else {
        return Err(BAD_PATH.into());
    };
    let Some((last, middle)) = rest.split_last() else {
        item.insert(first.clone(), value);
        return Ok(());
    };
    let mut current = item.get_mut(first).ok_or(BAD_PATH)?;
    for step in middle {
        current = match (step, current) {
            (Step::Key(k), Value::M(m)) => m.get_mut(k).ok_or(BAD_PATH)?,
            (Step::Index(i), Value::L(l)) => l.get_mut(*i).ok_or(BAD_PATH)?,
            _ => return Err(BAD_PATH.into()),
        };
    }
    match (last, current) {
        (Step::Key(k), Value::M(m)) => {
            m.insert(k.clone(), value);
        }
        (Step::Index(i), Value::L(l)) => match l.get_mut(*i) {
            Some(slot) => *slot = value,
            None => l.push(value),
        },
        _ => return Err(BAD_PATH.into()),
    }
    Ok(())
}

/// Removes what `path` names, if it is there.
fn remove(item: &mut Item, path: &Path) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    if parents.is_empty() {
        if let Step::Key(k) = last {
            item.remove(k);
        }
        return;
    }
    let Some((Step::Key(first), rest)) = parents.split_first() else {
        return;
    };
    let Some(mut current) = item.get_mut(first) else {
        return;
    };
    for step in rest {
        let next = match (step, current) {
            (Step::Key(k), Value::M(m)) => m.get_mut(k),
            (Step::Index(i), Value::L(l)) => l.get_mut(*i),
            _ => None,
        };
        let Some(next) = next else { return };
        current = next;
    }
    match (last, current) {
        (Step::Key(k), Value::M(m)) => {
            m.remove(k);
        }
        (Step::Index(i), Value::L(l)) if *i < l.len() => {
            l.remove(*i);
        }
        _ => {}
    }
}

/// The attributes `paths` name, nested as in the item (list elements keep their order).
pub fn project(item: &Item, paths: &[Path]) -> Item {
    let mut out = Item::new();
    for path in paths {
        if let Some(value) = get(item, path) {
            graft(&mut out, path, value.clone());
        }
    }
    out
}

/// Places `value` at `path` in `out`, creating maps and lists on the way.
fn graft(out: &mut Item, path: &Path, value: Value) {
    let Some((Step::Key(first), rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        out.insert(first.clone(), value);
        return;
    }
    let empty = match rest.first() {
        Some(Step::Index(_)) => Value::L(Vec::new()),
        _ => Value::M(Item::new()),
    };
    let slot = out.entry(first.clone()).or_insert(empty);
    graft_value(slot, rest, value);
}

fn graft_value(slot: &mut Value, path: &[Step], value: Value) {
    let Some((step, rest)) = path.split_first() else {
        *slot = value;
        return;
    };
    let empty = match rest.first() {
        Some(Step::Index(_)) => Value::L(Vec::new()),
        _ => Value::M(Item::new()),
    };
    match (step, slot) {
        (Step::Key(k), Value::M(m)) => {
            let next = m.entry(k.clone()).or_insert(empty);
            match rest.is_empty() {
                true => *next = value,
                false => graft_value(next, rest, value),
            }
        }
        // Projected list elements are compacted in index order, as DynamoDB answers.
        (Step::Index(_), Value::L(l)) => match rest.is_empty() {
            true => l.push(value),
            false => {
                l.push(empty);
                if let Some(next) = l.last_mut() {
                    graft_value(next, rest, value);
                }
            }
        },
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{Kind, Placeholders};
    use crate::value::{item_from_json, item_to_json};
    use serde_json::json;
    use std::collections::BTreeMap;

    fn values(v: serde_json::Value) -> BTreeMap<String, Value> {
        item_from_json(&v).unwrap().into_iter().collect()
    }

    fn check(item: &Item, text: &str, v: &BTreeMap<String, Value>) -> bool {
        let mut h = Placeholders::new(None, Some(v.clone()));
        holds(item, &h.condition(Kind::Condition, text).unwrap()).unwrap()
    }

    #[test]
    fn conditions_hold_as_dynamodb_says() {
        let item = item_from_json(&json!({
            "id": {"S": "o-1"}, "n": {"N": "5"}, "tags": {"SS": ["a", "b"]},
            "lines": {"L": [{"S": "x"}]}, "m": {"M": {"deep": {"N": "2"}}}
        }))
        .unwrap();
        let v = values(
            json!({":five": {"N": "5.0"}, ":ten": {"N": "10"}, ":a": {"S": "a"},
            ":o": {"S": "o-"}, ":x": {"S": "x"}, ":N": {"S": "N"}, ":s": {"S": "five"}}),
        );
        for (text, expected) in [
            ("n = :five", true),
            ("n <> :five", false),
            ("missing <> :five", true),
            ("missing = :five", false),
            ("n < :ten AND n >= :five", true),
            ("n > :s", false),
            ("n BETWEEN :five AND :ten", true),
            ("n IN (:ten, :five)", true),
            ("begins_with(id, :o)", true),
            ("contains(tags, :a)", true),
            ("contains(lines, :x)", true),
            ("contains(id, :x)", false),
            (
                "attribute_exists(m.deep) AND attribute_not_exists(m.other)",
                true,
            ),
            ("attribute_type(n, :N)", true),
            ("size(tags) = :five OR size(id) < :five", true),
            ("NOT (n = :five)", false),
        ] {
            assert_eq!(check(&item, text, &v), expected, "{text}");
        }
        let mut h = Placeholders::new(None, Some(v.clone()));
        let bad = h
            .condition(Kind::Condition, "attribute_type(n, :a)")
            .unwrap();
        assert!(holds(&item, &bad)
            .unwrap_err()
            .contains("Invalid attribute type name"));
    }

    #[test]
    fn updates_compute_from_the_old_item() {
        let item = item_from_json(&json!({
            "stock": {"N": "5"}, "tags": {"SS": ["a"]}, "l": {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]},
            "m": {"M": {}}
        }))
        .unwrap();
        let v = values(json!({":one": {"N": "1"}, ":more": {"L": [{"N": "4"}]},
            ":b": {"SS": ["b"]}, ":a": {"SS": ["a"]}, ":zero": {"N": "0"}}));
        let mut h = Placeholders::new(None, Some(v.clone()));
        let actions = h
            .update("SET stock = stock - :one, l = list_append(l, :more), m.new = if_not_exists(m.new, :zero), count = :one ADD tags :b, hits :one REMOVE l[0]")
            .unwrap_err();
        assert!(actions.contains("overlap"), "{actions}");
        let actions = h
            .update("SET stock = stock - :one, m.new = if_not_exists(m.new, :zero) ADD tags :b, hits :one REMOVE l[0], l[2]")
            .unwrap();
        let out = apply(&item, &actions).unwrap();
        assert_eq!(
            item_to_json(&out),
            json!({"stock": {"N": "4"}, "tags": {"SS": ["a", "b"]}, "hits": {"N": "1"},
                   "l": {"L": [{"N": "2"}]}, "m": {"M": {"new": {"N": "0"}}}})
        );
        let actions = h.update("DELETE tags :a").unwrap();
        assert!(
            !apply(&item, &actions).unwrap().contains_key("tags"),
            "an emptied set goes"
        );
        for (text, says) in [
            ("SET stock = tags + :one", "incorrect data type"),
            (
                "SET nope.x = :one",
                "document path provided in the update expression is invalid",
            ),
            ("SET stock = missing", "does not exist in the item"),
            ("ADD tags :one", "incorrect data type"),
        ] {
            let actions = h.update(text).unwrap();
            let e = apply(&item, &actions).unwrap_err();
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn projections_keep_the_shape() {
        let item = item_from_json(&json!({
            "id": {"S": "1"}, "secret": {"S": "x"},
            "lines": {"L": [{"M": {"sku": {"S": "a"}, "n": {"N": "1"}}}, {"M": {"sku": {"S": "b"}}}]}
        }))
        .unwrap();
        let mut h = Placeholders::new(None, None);
        let paths = h.projection("id, lines[1].sku, nothing").unwrap();
        assert_eq!(
            item_to_json(&project(&item, &paths)),
            json!({"id": {"S": "1"}, "lines": {"L": [{"M": {"sku": {"S": "b"}}}]}})
        );
    }
}
