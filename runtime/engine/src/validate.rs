//! Validation of ASL documents with AWS's rules and diagnostic codes.
//!
//! The same check gates `CreateStateMachine`, `ValidateStateMachineDefinition` and
//! `sandstep run`, so the rules lean towards accepting: refusing a definition AWS accepts
//! breaks users' existing workflows, while accepting one AWS refuses only delays an error
//! to run time. Codes, locations and messages follow what AWS prints
//! (`SCHEMA_VALIDATION_FAILED: Field 'X' is not supported at /States/S`).
//!
//! ```
//! use sandstep_engine::validate::{validate, MachineType};
//! let ok = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#;
//! assert!(validate(ok, MachineType::Standard).is_empty());
//! let bad = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}"#;
//! assert_eq!(validate(bad, MachineType::Standard)[0].code, "MISSING_TRANSITION_TARGET");
//! ```

mod expressions;
mod fields;
mod states;

use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

/// STANDARD or EXPRESS: some rules apply to only one. The one type for it, from the
/// validator to the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MachineType {
    /// Durable, exactly-once transitions.
    Standard,
    /// In memory, at most five minutes, at-least-once.
    Express,
}

impl MachineType {
    /// AWS's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MachineType::Standard => "STANDARD",
            MachineType::Express => "EXPRESS",
        }
    }

    /// Reads AWS's spelling back.
    pub fn parse(text: &str) -> Option<MachineType> {
        match text {
            "STANDARD" => Some(MachineType::Standard),
            "EXPRESS" => Some(MachineType::Express),
            _ => None,
        }
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The definition is refused.
    Error,
    /// Reported, not refused.
    Warning,
}

/// One problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// How serious.
    pub severity: Severity,
    /// AWS's code, e.g. `SCHEMA_VALIDATION_FAILED`.
    pub code: &'static str,
    /// JSON-pointer-like location, e.g. `/States/Pass`.
    pub location: String,
    /// Human-readable message.
    pub message: String,
}

/// The JSON text does not parse.
pub const INVALID_JSON_DESCRIPTION: &str = "INVALID_JSON_DESCRIPTION";
/// A field is missing, unknown, of the wrong type or out of range.
pub const SCHEMA_VALIDATION_FAILED: &str = "SCHEMA_VALIDATION_FAILED";
/// A `StartAt`/`Next`/`Default` names no state in scope, or a state cannot be reached.
pub const MISSING_TRANSITION_TARGET: &str = "MISSING_TRANSITION_TARGET";
/// A scope (machine, branch, item processor) has no terminal state.
pub const MISSING_END_STATE: &str = "MISSING_END_STATE";
/// Two states share a name anywhere in the machine.
pub const DUPLICATE_STATE_NAME: &str = "DUPLICATE_STATE_NAME";
/// A state name breaks AWS's naming rules (length).
pub const INVALID_STATE_NAME: &str = "INVALID_STATE_NAME";
/// A Distributed Map `Label` breaks AWS's naming rules.
pub const INVALID_LABEL_NAME: &str = "INVALID_LABEL_NAME";
/// Valid ASL that Sandstep cannot run yet.
pub const UNSUPPORTED_FEATURE: &str = "UNSUPPORTED_FEATURE";
/// A `{% %}` expression that does not parse.
pub const INVALID_JSONATA_EXPRESSION: &str = "INVALID_JSONATA_EXPRESSION";
/// A `{% %}` expression that parses but that Step Functions cannot evaluate (it reads the
/// context at its top level).
pub const UNSUPPORTED_JSONATA_EXPRESSION: &str = "UNSUPPORTED_JSONATA_EXPRESSION";

/// Validates a definition's text; an empty list means valid.
pub fn validate(text: &str, machine_type: MachineType) -> Vec<Diagnostic> {
    if text.trim().is_empty() {
        return vec![error(
            SCHEMA_VALIDATION_FAILED,
            "/",
            "Definition must be a valid JSON object",
        )];
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            let location = format!("line: {}, column: {}", e.line(), e.column());
            // serde_json ends its message with the position, which is the location here.
            let text = e.to_string();
            let message = text
                .rsplit_once(" at line ")
                .map_or(text.as_str(), |(m, _)| m);
            return vec![error(INVALID_JSON_DESCRIPTION, location, message)];
        }
    };
    let Value::Object(root) = &value else {
        return vec![error(
            SCHEMA_VALIDATION_FAILED,
            "/",
            "Definition must be a valid JSON object",
        )];
    };
    let mut checker = Checker {
        machine_type,
        diagnostics: Vec::new(),
        names: HashSet::new(),
        machine_language: QueryLanguage::JsonPath,
    };
    checker.machine(root, "", Scope::Top, QueryLanguage::JsonPath);
    checker.diagnostics
}

fn error(
    code: &'static str,
    location: impl Into<String>,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        code,
        location: location.into(),
        message: message.into(),
    }
}

/// The query language in force for a state: it decides which fields exist and how their
/// values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QueryLanguage {
    JsonPath,
    Jsonata,
}

/// Which kind of `StartAt`/`States` object is checked: each allows different fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Top,
    Branch,
    Processor,
}

/// A transition out of a state, kept until the whole scope's names are known.
#[derive(Debug)]
struct Edge {
    target: String,
    location: String,
}

/// What a state contributes to its scope's graph checks.
#[derive(Debug, Default)]
struct StateSummary {
    edges: Vec<Edge>,
    terminal: bool,
}

/// Collects diagnostics over one definition.
#[derive(Debug)]
struct Checker {
    machine_type: MachineType,
    diagnostics: Vec<Diagnostic>,
    /// State names seen anywhere: AWS wants them unique across branches and processors too.
    names: HashSet<String>,
    /// The language the top level chose; states may not go back to JSONPath from JSONata.
    machine_language: QueryLanguage,
}

/// Joins a location prefix and a key the way AWS prints locations (`/States/A/Next`).
fn at(prefix: &str, key: &str) -> String {
    format!("{prefix}/{key}")
}

/// The location of an object itself: the root is `/`, not the empty string.
fn here(prefix: &str) -> String {
    if prefix.is_empty() {
        "/".to_string()
    } else {
        prefix.to_string()
    }
}

impl Checker {
    fn report(
        &mut self,
        code: &'static str,
        location: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.diagnostics.push(error(code, location, message));
    }

    fn schema(&mut self, location: impl Into<String>, message: impl Into<String>) {
        self.report(SCHEMA_VALIDATION_FAILED, location, message);
    }

    /// Reports every key of `obj` not in `allowed` as AWS does.
    fn allowed_fields(&mut self, obj: &Map<String, Value>, location: &str, allowed: &[&str]) {
        for key in obj.keys() {
            if !allowed.contains(&key.as_str()) {
                self.schema(location, format!("Field '{key}' is not supported"));
            }
        }
    }

    /// Reports the fields of `required` missing from `obj` in one diagnostic, as AWS does.
    fn required_fields(
        &mut self,
        obj: &Map<String, Value>,
        location: &str,
        required: &[&str],
    ) -> bool {
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|k| !obj.contains_key(*k))
            .collect();
        if missing.is_empty() {
            return true;
        }
        self.schema(
            location,
            format!("These fields are required: [{}]", missing.join(", ")),
        );
        false
    }

    /// Checks a `QueryLanguage` value and returns the language it selects, if valid.
    fn query_language(&mut self, value: &Value, location: String) -> Option<QueryLanguage> {
        match value.as_str() {
            Some("JSONPath") => Some(QueryLanguage::JsonPath),
            Some("JSONata") => Some(QueryLanguage::Jsonata),
            _ => {
                self.schema(location, "The field 'QueryLanguage' should have one of these values: [JSONPath, JSONata]");
                None
            }
        }
    }

    /// Checks one `StartAt`/`States` object: the top level, a Parallel branch or a Map
    /// processor. Each is its own scope for transitions.
    fn machine(
        &mut self,
        obj: &Map<String, Value>,
        prefix: &str,
        scope: Scope,
        inherited: QueryLanguage,
    ) {
        let location = here(prefix);
        let allowed: &[&str] = match scope {
            Scope::Top => &[
                "Comment",
                "StartAt",
                "States",
                "TimeoutSeconds",
                "Version",
                "QueryLanguage",
            ],
            Scope::Branch => &["Comment", "StartAt", "States", "QueryLanguage"],
            Scope::Processor => &[
                "Comment",
                "StartAt",
                "States",
                "ProcessorConfig",
                "QueryLanguage",
            ],
        };
        self.allowed_fields(obj, &location, allowed);
        self.required_fields(obj, &location, &["States", "StartAt"]);

        let mut language = inherited;
        if let Some(value) = obj.get("QueryLanguage") {
            if let Some(chosen) = self.query_language(value, at(prefix, "QueryLanguage")) {
                language = chosen;
            }
        }
        if scope == Scope::Top {
            self.machine_language = language;
        }
        if let Some(comment) = obj.get("Comment") {
            fields::string(self, comment, &at(prefix, "Comment"), "Comment");
        }
        if let Some(version) = obj.get("Version") {
            fields::string(self, version, &at(prefix, "Version"), "Version");
        }
        if let Some(timeout) = obj.get("TimeoutSeconds") {
            fields::positive_int(
                self,
                timeout,
                &at(prefix, "TimeoutSeconds"),
                "TimeoutSeconds",
            );
        }
        if let Some(config) = obj.get("ProcessorConfig") {
            states::processor_config(self, config, &at(prefix, "ProcessorConfig"));
        }

        let start_at = match obj.get("StartAt") {
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => {
                self.schema(
                    at(prefix, "StartAt"),
                    "The field 'StartAt' must be a string",
                );
                None
            }
            None => None,
        };
        let states_prefix = at(prefix, "States");
        let states = match obj.get("States") {
            Some(Value::Object(states)) => states,
            Some(_) => {
                self.schema(&states_prefix, "The field 'States' must be an object");
                return;
            }
            None => return,
        };

        // Ordered by name, so that diagnostics come out in the same order every time.
        let mut summaries: BTreeMap<&str, StateSummary> = BTreeMap::new();
        for (name, state) in states {
            let state_location = at(&states_prefix, name);
            if name.chars().count() > 80 {
                self.report(
                    INVALID_STATE_NAME,
                    &state_location,
                    format!("State name '{name}' is longer than 80 characters"),
                );
            }
            if !self.names.insert(name.clone()) {
                self.report(
                    DUPLICATE_STATE_NAME,
                    &state_location,
                    format!("Duplicate State name: {name}"),
                );
            }
            let summary = states::state(self, state, &state_location, language);
            summaries.insert(name.as_str(), summary);
        }
        self.graph(prefix, start_at, &summaries);
    }

    /// Transition targets, reachability and the presence of a terminal state in one scope.
    fn graph(
        &mut self,
        prefix: &str,
        start_at: Option<&str>,
        summaries: &BTreeMap<&str, StateSummary>,
    ) {
        for summary in summaries.values() {
            for edge in &summary.edges {
                if !summaries.contains_key(edge.target.as_str()) {
                    self.report(
                        MISSING_TRANSITION_TARGET,
                        &edge.location,
                        format!("Missing 'Next' target: {}", edge.target),
                    );
                }
            }
        }
        let Some(start) = start_at else { return };
        if !summaries.contains_key(start) {
            self.report(
                MISSING_TRANSITION_TARGET,
                at(prefix, "StartAt"),
                format!("Missing 'Next' target: {start}"),
            );
            return;
        }
        let mut reached: HashSet<&str> = HashSet::new();
        let mut pending = vec![start];
        while let Some(name) = pending.pop() {
            if !reached.insert(name) {
                continue;
            }
            if let Some(summary) = summaries.get(name) {
                for edge in &summary.edges {
                    if summaries.contains_key(edge.target.as_str()) {
                        pending.push(edge.target.as_str());
                    }
                }
            }
        }
        let unreachable = summaries.keys().filter(|n| !reached.contains(*n));
        for &name in unreachable {
            self.report(
                MISSING_TRANSITION_TARGET,
                at(&at(prefix, "States"), name),
                format!("State \"{name}\" is not reachable."),
            );
        }
        if !summaries.values().any(|s| s.terminal) {
            self.report(
                MISSING_END_STATE,
                here(prefix),
                "Workflow has no terminal state",
            );
        }
    }
}

#[cfg(test)]
mod tests;
