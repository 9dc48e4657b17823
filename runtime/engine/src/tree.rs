//! The nesting of an ASL document: a machine holds states, and Parallel and Map states
//! hold machines of their own. One description of that nesting serves everyone who walks
//! a definition: the compiler ([`crate::definition`]), the validator, the console's graph
//! and the module pins.
//!
//! These walks are lenient: a field of the wrong shape holds nothing. The validator says
//! what is wrong with it; the others only need what is there.

use serde_json::{Map, Value};

/// A Parallel state's machines.
pub const BRANCHES: &str = "Branches";

/// Where a Map state keeps its machine: `ItemProcessor`, or the older `Iterator`, which
/// is read only when there is no `ItemProcessor`.
pub const PROCESSOR_FIELDS: [&str; 2] = ["ItemProcessor", "Iterator"];

/// A machine nested in a state, as its JSON has it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nested<'a> {
    /// The field that holds it (`Branches`, `ItemProcessor`, `Iterator`).
    pub field: &'static str,
    /// Its index, for a Parallel's branches.
    pub index: Option<usize>,
    /// The machine: an object, unchecked otherwise.
    pub machine: &'a Map<String, Value>,
}

impl Nested<'_> {
    /// Its JSON-pointer path below the state: `Branches/0`, `ItemProcessor`.
    pub fn pointer(&self) -> String {
        match self.index {
            Some(i) => format!("{}/{i}", self.field),
            None => self.field.to_string(),
        }
    }
}

/// The machines nested in a state, in order: a Parallel's branches, or a Map's
/// processor. Other states hold none; a branch that is not an object is skipped.
pub fn nested(state: &Map<String, Value>) -> Vec<Nested<'_>> {
    match state.get("Type").and_then(Value::as_str) {
        Some("Parallel") => state
            .get(BRANCHES)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, branch)| {
                Some(Nested {
                    field: BRANCHES,
                    index: Some(i),
                    machine: branch.as_object()?,
                })
            })
            .collect(),
        Some("Map") => PROCESSOR_FIELDS
            .into_iter()
            .find_map(|field| {
                Some(Nested {
                    field,
                    index: None,
                    machine: state.get(field)?.as_object()?,
                })
            })
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// One state found by [`states`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Found<'a> {
    /// Its JSON-pointer path from the document's root: `/States/P/Branches/0/States/A`
    /// (names escaped as RFC 6901 says).
    pub path: &'a str,
    /// Its name.
    pub name: &'a str,
    /// The state's object.
    pub state: &'a Map<String, Value>,
}

/// Calls `visit` on every state of `machine` and of the machines nested in it, depth
/// first, in document order.
pub fn states(machine: &Map<String, Value>, visit: &mut dyn FnMut(Found<'_>)) {
    walk(machine, "", visit);
}

fn walk(machine: &Map<String, Value>, at: &str, visit: &mut dyn FnMut(Found<'_>)) {
    let Some(states) = machine.get("States").and_then(Value::as_object) else {
        return;
    };
    for (name, state) in states {
        let Some(state) = state.as_object() else {
            continue;
        };
        let path = format!("{at}/States/{}", escape(name));
        visit(Found {
            path: &path,
            name,
            state,
        });
        for inner in nested(state) {
            walk(inner.machine, &format!("{path}/{}", inner.pointer()), visit);
        }
    }
}

/// A JSON-pointer token (RFC 6901): `~` and `/` in state names are escaped.
pub fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn walks_branches_and_processors_depth_first_with_their_paths() {
        let doc = json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "Next": "M", "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
                "not a machine",
                {"StartAt": "B/x", "States": {"B/x": {"Type": "Pass", "End": true}}}]},
            "M": {"Type": "Map", "End": true,
                  "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": true}}},
                  "Iterator": {"StartAt": "Old", "States": {"Old": {"Type": "Pass", "End": true}}}}}});
        let mut seen = Vec::new();
        states(doc.as_object().unwrap(), &mut |f| {
            seen.push((f.path.to_string(), f.name.to_string()))
        });
        let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/States/P",
                "/States/P/Branches/0/States/A",
                "/States/P/Branches/2/States/B~1x",
                "/States/M",
                "/States/M/ItemProcessor/States/I",
            ],
            "a non-object branch is skipped, and Iterator is read only without ItemProcessor"
        );
        assert_eq!(seen[2].1, "B/x");
    }
}
