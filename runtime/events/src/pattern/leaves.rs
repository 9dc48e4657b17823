//! An event as its leaves (scalar values, by dotted path) and the search for leaves that
//! meet every field of a pattern together.
//!
//! Each leaf remembers which element of which array it sits in. Leaves chosen for one
//! match must agree on the element of every array they share: the fields a pattern names
//! under the objects of one array must all be met by the same object, as Ruler requires.

use super::compile::Alternative;
use super::matcher::Matcher;
use serde_json::Value;
use std::collections::HashMap;

/// The arrays a leaf sits in: (array, element index), outermost first.
type Ancestry = Vec<(u32, u32)>;

#[derive(Debug)]
struct Leaf<'a> {
    value: &'a Value,
    ancestry: Ancestry,
}

/// An event's leaves by path.
#[derive(Debug)]
pub struct Leaves<'a> {
    by_path: HashMap<String, Vec<Leaf<'a>>>,
}

impl<'a> Leaves<'a> {
    /// The leaves of `event`.
    pub fn of(event: &'a Value) -> Leaves<'a> {
        let mut leaves = Leaves {
            by_path: HashMap::new(),
        };
        let mut arrays = 0;
        leaves.walk(event, String::new(), Vec::new(), &mut arrays);
        leaves
    }

    fn walk(&mut self, value: &'a Value, path: String, ancestry: Ancestry, arrays: &mut u32) {
        match value {
            Value::Object(fields) => {
                for (key, inner) in fields {
                    let child = match path.is_empty() {
                        true => key.clone(),
                        false => format!("{path}.{key}"),
                    };
                    self.walk(inner, child, ancestry.clone(), arrays);
                }
            }
            Value::Array(items) => {
                let id = *arrays;
                *arrays += 1;
                for (i, item) in items.iter().enumerate() {
                    let mut inner = ancestry.clone();
                    inner.push((id, u32::try_from(i).unwrap_or(u32::MAX)));
                    self.walk(item, path.clone(), inner, arrays);
                }
            }
            scalar => self.by_path.entry(path).or_default().push(Leaf {
                value: scalar,
                ancestry,
            }),
        }
    }

    /// Whether leaves meeting every field of `alternative` can be chosen together.
    /// `budget` bounds the search (an exhausted one answers `false`).
    pub fn satisfies(&self, alternative: &Alternative, budget: &mut usize) -> bool {
        let mut plans: Vec<Plan<'_, 'a>> = Vec::with_capacity(alternative.len());
        for field in alternative {
            let leaves = self
                .by_path
                .get(&field.path)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let absent_ok = field.matchers.contains(&Matcher::Exists(false));
            let mut candidates: Vec<&Leaf<'a>> = Vec::new();
            for leaf in leaves {
                let met = field
                    .matchers
                    .iter()
                    .any(|m| m != &Matcher::Exists(false) && m.accepts(leaf.value));
                if met && !candidates.iter().any(|c| c.ancestry == leaf.ancestry) {
                    candidates.push(leaf);
                }
            }
            if candidates.is_empty() && !absent_ok {
                return false;
            }
            plans.push(Plan {
                candidates,
                leaves,
                absent_ok,
            });
        }
        // Fields that may be absent are decided last, once the others chose their elements.
        plans.sort_by_key(|p| p.absent_ok);
        search(&plans, &mut Vec::new(), budget)
    }
}

/// What one field may choose.
struct Plan<'p, 'a> {
    candidates: Vec<&'p Leaf<'a>>,
    leaves: &'p [Leaf<'a>],
    absent_ok: bool,
}

fn search<'p>(plans: &[Plan<'p, '_>], chosen: &mut Vec<&'p Ancestry>, budget: &mut usize) -> bool {
    let Some((plan, rest)) = plans.split_first() else {
        return true;
    };
    for candidate in &plan.candidates {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        if chosen.iter().all(|c| compatible(c, &candidate.ancestry)) {
            chosen.push(&candidate.ancestry);
            if search(rest, chosen, budget) {
                return true;
            }
            chosen.pop();
        }
    }
    plan.absent_ok && absent(plan.leaves, chosen, budget) && search(rest, chosen, budget)
}

/// Whether none of `leaves` can join the leaves chosen so far (an exhausted budget
/// answers `false`).
fn absent(leaves: &[Leaf<'_>], chosen: &[&Ancestry], budget: &mut usize) -> bool {
    for leaf in leaves {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        if chosen.iter().all(|c| compatible(c, &leaf.ancestry)) {
            return false;
        }
    }
    true
}

/// Whether two leaves can belong to one match: the same element of every array both sit in.
fn compatible(a: &Ancestry, b: &Ancestry) -> bool {
    a.iter()
        .all(|(array, index)| b.iter().all(|(other, i)| other != array || i == index))
}
