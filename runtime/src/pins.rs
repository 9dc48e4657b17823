//! Which modules a definition calls by name, and which resources it names, so that an
//! execution can pin the versions and the bindings it starts with: uploading a new
//! version or changing a binding never changes a running execution.

use crate::model::Bound;
use sandstep_engine::tree::Found;
use serde_json::Value;
use std::collections::BTreeMap;

/// What an execution pinned at its start.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Pins {
    /// Modules named in the definition: name → (version, sha256). A reference without
    /// an explicit version runs the pinned one.
    pub modules: BTreeMap<String, (u32, String)>,
    /// Task resources a binding covered: resource → the module that plays it.
    pub bindings: BTreeMap<String, Bound>,
}

/// A module reference found in a Task state.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ModuleRef {
    /// The module's name.
    pub name: String,
    /// An explicit version, if the reference carries one.
    pub version: Option<u32>,
}

/// Parses a function name as Task resources give it: `name`, `name:version`,
/// `name:$LATEST`, `account:function:name[:version]` or a Lambda function ARN. The grammar
/// is the task runner's ([`crate::tasks::function_name`]), so that every reference that
/// runs is also pinned.
pub fn parse_function(text: &str) -> Option<ModuleRef> {
    let (name, version) = crate::tasks::function_name(text).ok()?;
    Some(ModuleRef { name, version })
}

/// The module a Task resource names statically, if any.
pub fn task_module(resource: &str, parameters: Option<&Value>) -> Option<ModuleRef> {
    crate::tasks::module_named(resource, parameters)
        .map(|(name, version)| ModuleRef { name, version })
}

/// Every module a definition names statically, including inside Parallel and Map.
pub fn modules_in(definition: &Value) -> Vec<ModuleRef> {
    let mut out = Vec::new();
    tasks_in(definition, &mut |task, resource| {
        let state = task.state;
        // JSONata states name the function in `Arguments`; a `{% %}` name is not
        // static, as a `FunctionName.$` path is not.
        let arguments = state.get("Parameters").or_else(|| state.get("Arguments"));
        out.extend(task_module(resource, arguments));
    });
    out.sort();
    out.dedup();
    out
}

/// Every Task resource a definition names, including inside Parallel and Map, once each.
pub fn resources_in(definition: &Value) -> Vec<String> {
    let mut out = Vec::new();
    tasks_in(definition, &mut |_, resource| {
        out.push(resource.to_string())
    });
    out.sort();
    out.dedup();
    out
}

/// Calls `each` with every Task state (its path, `/States/P/Branches/0/States/A`, and its
/// body) and its `Resource`, wherever it nests.
pub fn tasks_in(definition: &Value, each: &mut dyn FnMut(&Found<'_>, &str)) {
    let Some(root) = definition.as_object() else {
        return;
    };
    sandstep_engine::tree::states(root, &mut |found| {
        if found.state.get("Type").and_then(Value::as_str) != Some("Task") {
            return;
        }
        if let Some(resource) = found.state.get("Resource").and_then(Value::as_str) {
            each(&found, resource);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn finds_modules_in_tasks_everywhere() {
        let def = json!({"StartAt": "A", "States": {
            "A": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:validate-order", "Next": "P"},
            "P": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "charge:3", "Payload.$": "$"}, "End": true}}}], "Next": "M"},
            "M": {"Type": "Map", "ItemProcessor": {"StartAt": "C", "States": {"C": {"Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName.$": "$.fn"}, "End": true}}}, "Next": "J"},
            "J": {"Type": "Task", "QueryLanguage": "JSONata", "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "ship-order:2"}, "Next": "K"},
            "K": {"Type": "Task", "QueryLanguage": "JSONata", "Resource": "arn:aws:states:::lambda:invoke",
                "Arguments": {"FunctionName": "{% $states.input.fn %}"}, "End": true}}});
        assert_eq!(
            modules_in(&def),
            [
                ModuleRef {
                    name: "charge".into(),
                    version: Some(3)
                },
                ModuleRef {
                    name: "ship-order".into(),
                    version: Some(2)
                },
                ModuleRef {
                    name: "validate-order".into(),
                    version: None
                }
            ]
        );
    }

    #[test]
    fn parses_function_references() {
        assert_eq!(
            parse_function("echo"),
            Some(ModuleRef {
                name: "echo".into(),
                version: None
            })
        );
        assert_eq!(
            parse_function("echo:$LATEST"),
            Some(ModuleRef {
                name: "echo".into(),
                version: None
            })
        );
        assert_eq!(
            parse_function("arn:aws:lambda:us-east-1:1:function:echo:2").map(|m| m.version),
            Some(Some(2))
        );
        assert_eq!(parse_function("echo:x"), None);
        assert_eq!(parse_function("arn:aws:s3:::bucket"), None);
    }

    /// The task runner accepts `account:function:name[:version]`; a reference it runs
    /// must be pinned too (it used to run unpinned: two grammars disagreed).
    #[test]
    fn every_reference_the_runner_accepts_is_pinned() {
        for text in [
            "echo",
            "echo:3",
            "echo:$LATEST",
            "123456789012:function:echo",
            "123456789012:function:echo:3",
            "arn:aws:lambda:us-east-1:123456789012:function:echo",
            "arn:aws:lambda:us-east-1:123456789012:function:echo:3",
        ] {
            let runs = crate::tasks::function_name(text).ok();
            let pinned = parse_function(text).map(|m| (m.name, m.version));
            assert!(runs.is_some(), "{text}");
            assert_eq!(pinned, runs, "{text}");
        }
        assert_eq!(
            parse_function("123456789012:function:echo:3"),
            Some(ModuleRef {
                name: "echo".into(),
                version: Some(3)
            })
        );
    }
}
