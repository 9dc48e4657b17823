//! A definition as a graph: states and markers as nodes, transitions as labelled edges,
//! Parallel branches and Map processors as nested scopes.
//!
//! It reads the definition's JSON directly rather than the engine's parsed form, so a
//! definition with mistakes still draws: the editor shows the graph next to the
//! diagnostics while the user is fixing them. Whatever cannot be drawn (a `Next` naming
//! no state) is left out.

use sandstep_engine::tree::{self, escape};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The states of one `States` object (the top level, a branch or a Map processor).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scope {
    /// Start marker first, end marker last, states in between in document order.
    pub nodes: Vec<Node>,
    /// Transitions between `nodes` (by index).
    pub edges: Vec<Edge>,
}

/// A state or a Start/End marker.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The state's JSON location (`/States/A/Branches/0/States/B`), unique in a definition.
    pub id: String,
    /// The state's name, or `Start`/`End`.
    pub name: String,
    /// The state's `Type`, or `start`/`end` for markers.
    pub kind: String,
    /// The state's JSON, for the detail panel.
    pub state: Option<Value>,
    /// Parallel branches or the Map processor, drawn inside the node.
    pub lanes: Vec<Lane>,
}

/// A nested scope and its caption.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    /// `Branch 1`, `Item processor`.
    pub label: String,
    /// The JSON location of the object holding its `StartAt` and `States`
    /// (`/States/P/Branches/0`): where the designer adds a state dropped into it.
    pub at: String,
    /// Its states.
    pub scope: Scope,
}

/// How one state leads to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// From the start marker to `StartAt`.
    Start,
    /// `Next`.
    Next,
    /// A Choice rule's `Next`.
    Choice,
    /// A Choice's `Default`.
    Default,
    /// A Catch's `Next`.
    Catch,
    /// From a terminal state to the end marker.
    End,
}

impl EdgeKind {
    /// The name the console uses.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeKind::Start => "start",
            EdgeKind::Next => "next",
            EdgeKind::Choice => "choice",
            EdgeKind::Default => "default",
            EdgeKind::Catch => "catch",
            EdgeKind::End => "end",
        }
    }
}

/// A transition.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// Source node index.
    pub from: usize,
    /// Target node index.
    pub to: usize,
    /// What kind of transition.
    pub kind: EdgeKind,
    /// The rule, `Default`, or the caught errors.
    pub label: Option<String>,
    /// Which Choice rule or catcher it is, in its list.
    pub index: Option<usize>,
}

impl Scope {
    /// Its states, counting those in lanes.
    pub fn states(&self) -> usize {
        self.nodes
            .iter()
            .filter(|n| n.state.is_some())
            .map(|n| 1 + n.lanes.iter().map(|l| l.scope.states()).sum::<usize>())
            .sum()
    }
}

/// The graph of a definition, or `None` when it has no `States` object to draw.
pub fn of_definition(definition: &Value) -> Option<Scope> {
    scope(definition.as_object()?, "")
}

fn scope(machine: &Map<String, Value>, at: &str) -> Option<Scope> {
    let states = machine.get("States")?.as_object()?;
    let mut nodes = vec![marker(at, "start")];
    let mut index = HashMap::new();
    for (name, state) in states {
        let id = format!("{at}/States/{}", escape(name));
        index.insert(name.as_str(), nodes.len());
        nodes.push(Node {
            lanes: lanes(state, &id),
            kind: state
                .get("Type")
                .and_then(Value::as_str)
                .unwrap_or("Unknown")
                .to_string(),
            name: name.clone(),
            state: Some(state.clone()),
            id,
        });
    }
    let end = nodes.len();
    nodes.push(marker(at, "end"));
    let mut edges = Vec::new();
    if let Some(&first) = machine
        .get("StartAt")
        .and_then(Value::as_str)
        .and_then(|s| index.get(s))
    {
        edges.push(edge(0, first, EdgeKind::Start, None, None));
    }
    for (name, state) in states {
        let Some(&from) = index.get(name.as_str()) else {
            continue;
        };
        let mut link = |target: Option<&Value>, kind, label, position| {
            if let Some(&to) = target.and_then(Value::as_str).and_then(|t| index.get(t)) {
                edges.push(edge(from, to, kind, label, position));
            }
        };
        let kind = state.get("Type").and_then(Value::as_str).unwrap_or("");
        if kind == "Choice" {
            for (i, rule) in state
                .get("Choices")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                link(
                    rule.get("Next"),
                    EdgeKind::Choice,
                    Some(rule_text(rule)),
                    Some(i),
                );
            }
            link(
                state.get("Default"),
                EdgeKind::Default,
                Some("Default".into()),
                None,
            );
        } else {
            link(state.get("Next"), EdgeKind::Next, None, None);
        }
        for (i, catcher) in state
            .get("Catch")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let errors: Vec<&str> = catcher
                .get("ErrorEquals")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            link(
                catcher.get("Next"),
                EdgeKind::Catch,
                Some(errors.join(", ")),
                Some(i),
            );
        }
        let terminal = matches!(kind, "Succeed" | "Fail")
            || state.get("End").and_then(Value::as_bool) == Some(true);
        if terminal {
            edges.push(edge(from, end, EdgeKind::End, None, None));
        }
    }
    Some(Scope { nodes, edges })
}

fn marker(at: &str, kind: &str) -> Node {
    Node {
        id: format!("{at}/{kind}"),
        name: if kind == "start" { "Start" } else { "End" }.into(),
        kind: kind.into(),
        state: None,
        lanes: Vec::new(),
    }
}

fn edge(
    from: usize,
    to: usize,
    kind: EdgeKind,
    label: Option<String>,
    index: Option<usize>,
) -> Edge {
    Edge {
        from,
        to,
        kind,
        label,
        index,
    }
}

/// A Parallel's branches or a Map's processor, each a lane of its own.
fn lanes(state: &Value, id: &str) -> Vec<Lane> {
    let Some(state) = state.as_object() else {
        return Vec::new();
    };
    tree::nested(state)
        .into_iter()
        .filter_map(|inner| {
            let at = format!("{id}/{}", inner.pointer());
            Some(Lane {
                label: match inner.index {
                    Some(i) => format!("Branch {}", i + 1),
                    None => "Item processor".into(),
                },
                scope: scope(inner.machine, &at)?,
                at,
            })
        })
        .collect()
}

/// The longest label drawn on an edge; the full rule is in the state's JSON.
const LABEL_CHARS: usize = 40;

/// A Choice rule as a short expression: `$.n > 0`, `$.a is present && $.b == "x"`.
pub fn rule_text(rule: &Value) -> String {
    let text = condition(rule);
    if text.chars().count() <= LABEL_CHARS {
        return text;
    }
    let mut short: String = text.chars().take(LABEL_CHARS - 1).collect();
    short.push('…');
    short
}

fn condition(rule: &Value) -> String {
    let Some(fields) = rule.as_object() else {
        return "?".into();
    };
    if let Some(c) = fields.get("Condition") {
        return c.as_str().map_or_else(|| c.to_string(), str::to_string);
    }
    let joined = |key: &str, op: &str| {
        fields.get(key).and_then(Value::as_array).map(|all| {
            all.iter()
                .map(|r| format!("({})", condition(r)))
                .collect::<Vec<_>>()
                .join(op)
        })
    };
    if let Some(t) = joined("And", " && ") {
        return t;
    }
    if let Some(t) = joined("Or", " || ") {
        return t;
    }
    if let Some(inner) = fields.get("Not") {
        return format!("!({})", condition(inner));
    }
    let variable = fields
        .get("Variable")
        .and_then(Value::as_str)
        .unwrap_or("?");
    for (key, value) in fields {
        if matches!(key.as_str(), "Variable" | "Next" | "Assign" | "Comment") {
            continue;
        }
        let (base, is_path) = match key.strip_suffix("Path") {
            Some(b) => (b, true),
            None => (key.as_str(), false),
        };
        let operand = match (is_path, value) {
            (true, Value::String(p)) => p.clone(),
            _ => value.to_string(),
        };
        let test = |t: &str| match value.as_bool() {
            Some(false) => format!("{variable} is not {t}"),
            _ => format!("{variable} is {t}"),
        };
        return match base {
            "IsPresent" => test("present"),
            "IsNull" => test("null"),
            "IsString" => test("a string"),
            "IsNumeric" => test("a number"),
            "IsBoolean" => test("a boolean"),
            "IsTimestamp" => test("a timestamp"),
            "StringMatches" => format!("{variable} matches {operand}"),
            _ => {
                let op = [
                    ("GreaterThanEquals", ">="),
                    ("LessThanEquals", "<="),
                    ("GreaterThan", ">"),
                    ("LessThan", "<"),
                    ("Equals", "=="),
                ]
                .into_iter()
                .find(|(suffix, _)| base.ends_with(suffix))
                .map_or(base, |(_, op)| op);
                format!("{variable} {op} {operand}")
            }
        };
    }
    variable.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kinds(scope: &Scope) -> Vec<(String, String, &'static str, Option<String>)> {
        scope
            .edges
            .iter()
            .map(|e| {
                (
                    scope.nodes[e.from].name.clone(),
                    scope.nodes[e.to].name.clone(),
                    e.kind.as_str(),
                    e.label.clone(),
                )
            })
            .collect()
    }

    #[test]
    fn choices_defaults_catches_and_ends_become_labelled_edges() {
        let g = of_definition(&json!({"StartAt": "C", "States": {
            "C": {"Type": "Choice", "Choices": [
                {"Variable": "$.n", "NumericGreaterThan": 0, "Next": "T"},
                {"And": [{"Variable": "$.s", "IsPresent": true},
                         {"Variable": "$.s", "StringEqualsPath": "$.t"}], "Next": "T"}],
                "Default": "F"},
            "T": {"Type": "Task", "Resource": "x", "End": true,
                  "Catch": [{"ErrorEquals": ["A", "B"], "Next": "F"}]},
            "F": {"Type": "Fail"}}}))
        .unwrap();
        let names: Vec<&str> = g.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["Start", "C", "T", "F", "End"]);
        assert_eq!(g.nodes[1].id, "/States/C");
        let edges = kinds(&g);
        let s = |x: &str| x.to_string();
        assert_eq!(
            edges,
            vec![
                (s("Start"), s("C"), "start", None),
                (s("C"), s("T"), "choice", Some(s("$.n > 0"))),
                (
                    s("C"),
                    s("T"),
                    "choice",
                    Some(s("($.s is present) && ($.s == $.t)"))
                ),
                (s("C"), s("F"), "default", Some(s("Default"))),
                (s("T"), s("F"), "catch", Some(s("A, B"))),
                (s("T"), s("End"), "end", None),
                (s("F"), s("End"), "end", None),
            ]
        );
    }

    #[test]
    fn branches_and_processors_nest_with_their_own_locations() {
        let g = of_definition(&json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "Next": "M", "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}},
                {"StartAt": "B", "States": {"B/x": {"Type": "Pass", "End": true}}}]},
            "M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "I",
                "States": {"I": {"Type": "Pass", "End": true}}}}}}))
        .unwrap();
        let p = &g.nodes[1];
        assert_eq!(p.lanes.len(), 2);
        assert_eq!(p.lanes[1].label, "Branch 2");
        assert_eq!(
            p.lanes[0].scope.nodes[1].id,
            "/States/P/Branches/0/States/A"
        );
        assert_eq!(
            p.lanes[1].scope.nodes[1].id,
            "/States/P/Branches/1/States/B~1x"
        );
        assert_eq!(p.lanes[1].scope.nodes[0].id, "/States/P/Branches/1/start");
        // StartAt "B" names no state of that branch: no start edge, the state still drawn.
        assert_eq!(kinds(&p.lanes[1].scope).len(), 1);
        let m = &g.nodes[2];
        assert_eq!(m.lanes[0].label, "Item processor");
        assert_eq!(
            m.lanes[0].scope.nodes[1].id,
            "/States/M/ItemProcessor/States/I"
        );
    }

    #[test]
    fn only_parallel_and_map_states_have_lanes() {
        let g = of_definition(&json!({"StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "x", "End": true,
                  "Branches": [{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}]},
            "M": {"Type": "Map", "End": true, "Iterator": {"StartAt": "I",
                  "States": {"I": {"Type": "Pass", "End": true}}}}}}))
        .unwrap();
        assert!(g.nodes[1].lanes.is_empty());
        assert_eq!(
            g.nodes[2].lanes[0].scope.nodes[1].id,
            "/States/M/Iterator/States/I"
        );
        assert_eq!(g.states(), 3);
    }

    #[test]
    fn what_cannot_be_drawn_is_left_out() {
        assert!(of_definition(&json!({"StartAt": "A"})).is_none());
        assert!(of_definition(&json!([1])).is_none());
        let g = of_definition(&json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "Nowhere"}, "B": "not an object"}}))
        .unwrap();
        assert_eq!(g.nodes.len(), 4);
        assert_eq!(g.nodes[2].kind, "Unknown");
        assert_eq!(kinds(&g).len(), 1);
    }

    #[test]
    fn long_rules_are_shortened() {
        let rule = json!({"Variable": "$.a_very_long_variable_name.with.many.parts", "StringEquals": "and a long value"});
        let text = rule_text(&rule);
        assert_eq!(text.chars().count(), LABEL_CHARS);
        assert!(text.ends_with('…'));
        assert_eq!(
            rule_text(&json!({"Not": {"Variable": "$.x", "IsNull": false}})),
            "!($.x is not null)"
        );
    }
}
