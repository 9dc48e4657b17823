//! Resource bindings' pure rules: which Task resources a binding's pattern covers, which
//! binding wins, and what the bound module receives. A binding lets a module play a
//! service Sandstep does not host (`arn:aws:states:::aws-sdk:rekognition:*` → a module),
//! so that a definition written for AWS runs unchanged.
//!
//! A pattern is an exact resource, or a prefix ending in `*`. The exact one wins, then the
//! longest prefix: the most specific binding.

use serde_json::{json, Value};

/// The longest pattern a binding may have (AWS's ARNs are at most 256 characters; a
/// `.waitForTaskToken` suffix and a prefix's `*` fit).
pub const MAX_PATTERN_LEN: usize = 300;

/// Why a pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// Empty, too long, or with spaces or control characters.
    #[error("a resource pattern is 1-{MAX_PATTERN_LEN} characters without spaces: {0:?}")]
    Malformed(String),
    /// A `*` anywhere but at the end.
    #[error("'*' may only end a resource pattern (a prefix), as in arn:aws:states:::aws-sdk:rekognition:*: {0:?}")]
    InnerStar(String),
}

/// Checks a binding's pattern.
///
/// # Errors
/// [`PatternError`] naming what is wrong.
pub fn check_pattern(pattern: &str) -> Result<(), PatternError> {
    if pattern.is_empty()
        || pattern.len() > MAX_PATTERN_LEN
        || pattern.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(PatternError::Malformed(pattern.to_string()));
    }
    if pattern.trim_end_matches('*').contains('*') || pattern.ends_with("**") {
        return Err(PatternError::InnerStar(pattern.to_string()));
    }
    Ok(())
}

/// How specific `pattern` is for `resource`: `None` when it does not cover it; an exact
/// match ranks above every prefix, and a longer prefix above a shorter one.
pub fn specificity(pattern: &str, resource: &str) -> Option<usize> {
    match pattern.strip_suffix('*') {
        Some(prefix) => resource.starts_with(prefix).then_some(prefix.len()),
        None => (pattern == resource).then_some(usize::MAX),
    }
}

/// The most specific of `patterns` covering `resource`, if any.
pub fn best<'a, I>(patterns: I, resource: &str) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    patterns
        .into_iter()
        .filter_map(|p| specificity(p, resource).map(|rank| (rank, p)))
        .max_by_key(|(rank, _)| *rank)
        .map(|(_, p)| p)
}

/// How a bound task waits, read off its resource's suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The module's answer is the task's result.
    Answer,
    /// `.sync` (or `.sync:2`): the module runs the job to its end; its answer is the job's
    /// result, so it too is the task's result.
    Sync,
    /// `.waitForTaskToken`: the module's answer is only the call's; the task waits for its
    /// token (`$$.Task.Token`, also in the call's `context`).
    Token,
}

/// The service and action a resource names, and how its task waits:
/// `arn:aws:states:::aws-sdk:rekognition:detectLabels` is `rekognition`/`detectLabels`,
/// `arn:aws:states:::glue:startJobRun.sync` is `glue`/`startJobRun` waiting with `.sync`;
/// any other ARN is its service field with no action.
pub fn service_action(resource: &str) -> (String, Option<String>, Wait) {
    let (base, wait) = if let Some(b) = resource.strip_suffix(".waitForTaskToken") {
        (b, Wait::Token)
    } else if let Some(b) = resource
        .strip_suffix(".sync:2")
        .or_else(|| resource.strip_suffix(".sync"))
    {
        (b, Wait::Sync)
    } else {
        (resource, Wait::Answer)
    };
    let parts: Vec<&str> = base.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "states", "", "", "aws-sdk", service, action] => {
            ((*service).to_string(), Some((*action).to_string()), wait)
        }
        ["arn", _, "states", "", "", service, action] => {
            ((*service).to_string(), Some((*action).to_string()), wait)
        }
        ["arn", _, service, ..] => ((*service).to_string(), None, wait),
        _ => (String::new(), None, wait),
    }
}

/// What a task's identity is, for the call's `context`.
#[derive(Debug, Clone, Copy)]
pub struct CallContext<'a> {
    /// The execution's ARN.
    pub execution_arn: &'a str,
    /// The Task state's name.
    pub state_name: &'a str,
    /// Which attempt this is (0 for the first; Retry counts up).
    pub attempt: u32,
    /// The task's token, for `.waitForTaskToken`.
    pub task_token: Option<&'a str>,
}

/// The input a bound module receives: `{"resource", "service", "action", "parameters",
/// "context"}`, where `parameters` is the Task's effective parameters (after
/// `Parameters`/`Arguments`) and `context` the parts of the Context object a service
/// call sees.
pub fn call(resource: &str, parameters: &Value, context: CallContext<'_>) -> Value {
    let (service, action, _) = service_action(resource);
    let mut task = serde_json::Map::new();
    if let Some(token) = context.task_token {
        task.insert("Token".into(), json!(token));
    }
    json!({
        "resource": resource,
        "service": service,
        "action": action,
        "parameters": parameters,
        "context": {
            "Execution": {"Id": context.execution_arn},
            "State": {"Name": context.state_name, "RetryCount": context.attempt},
            "Task": task,
        },
    })
}

/// What a Task on `resource` that nothing runs says: the warning at validation and the
/// failure at run time.
pub fn unbound_message(resource: &str) -> String {
    format!(
        "Sandstep runs nothing for the resource '{resource}': bind it to a module that plays the service (PUT /v1/bindings {{\"resource\": \"{resource}\", \"module\": \"NAME\"}}, or `sandstep binding set '{resource}' NAME`); an execution that reaches this state fails"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_specific_binding_wins() {
        let patterns = [
            "arn:aws:states:::aws-sdk:*",
            "arn:aws:states:::aws-sdk:rekognition:*",
            "arn:aws:states:::aws-sdk:rekognition:detectLabels",
        ];
        let pick = |r| best(patterns.iter().copied(), r);
        assert_eq!(
            pick("arn:aws:states:::aws-sdk:rekognition:detectLabels"),
            Some("arn:aws:states:::aws-sdk:rekognition:detectLabels")
        );
        assert_eq!(
            pick("arn:aws:states:::aws-sdk:rekognition:detectText"),
            Some("arn:aws:states:::aws-sdk:rekognition:*")
        );
        assert_eq!(
            pick("arn:aws:states:::aws-sdk:translate:translateText"),
            Some("arn:aws:states:::aws-sdk:*")
        );
        assert_eq!(pick("arn:aws:states:::glue:startJobRun.sync"), None);
        // An exact pattern covers only itself: not the resource with a suffix.
        assert_eq!(
            pick("arn:aws:states:::aws-sdk:rekognition:detectLabels.waitForTaskToken"),
            Some("arn:aws:states:::aws-sdk:rekognition:*")
        );
        assert_eq!(best(["*"], "anything"), Some("*"));
    }

    #[test]
    fn patterns_are_checked() {
        assert!(check_pattern("arn:aws:states:::glue:startJobRun.sync").is_ok());
        assert!(check_pattern("arn:aws:states:::aws-sdk:rekognition:*").is_ok());
        assert!(check_pattern("*").is_ok());
        assert!(matches!(
            check_pattern("arn:aws:*:x"),
            Err(PatternError::InnerStar(_))
        ));
        assert!(matches!(
            check_pattern("a**"),
            Err(PatternError::InnerStar(_))
        ));
        assert!(matches!(check_pattern(""), Err(PatternError::Malformed(_))));
        assert!(matches!(
            check_pattern("arn:aws x"),
            Err(PatternError::Malformed(_))
        ));
        assert!(matches!(
            check_pattern(&"a".repeat(MAX_PATTERN_LEN + 1)),
            Err(PatternError::Malformed(_))
        ));
    }

    #[test]
    fn resources_name_their_service_and_action() {
        assert_eq!(
            service_action("arn:aws:states:::aws-sdk:rekognition:detectLabels"),
            (
                "rekognition".into(),
                Some("detectLabels".into()),
                Wait::Answer
            )
        );
        assert_eq!(
            service_action("arn:aws:states:::glue:startJobRun.sync"),
            ("glue".into(), Some("startJobRun".into()), Wait::Sync)
        );
        assert_eq!(
            service_action("arn:aws:states:::ecs:runTask.sync:2").2,
            Wait::Sync
        );
        assert_eq!(
            service_action("arn:aws:states:::aws-sdk:bedrock:invokeModel.waitForTaskToken"),
            ("bedrock".into(), Some("invokeModel".into()), Wait::Token)
        );
        assert_eq!(
            service_action("arn:aws:ecs:us-east-1:1:task-definition/x"),
            ("ecs".into(), None, Wait::Answer)
        );
        assert_eq!(service_action("not-an-arn").0, "");
    }

    #[test]
    fn a_call_carries_the_parameters_and_the_tasks_context() {
        let c = call(
            "arn:aws:states:::aws-sdk:translate:translateText.waitForTaskToken",
            &json!({"Text": "hola"}),
            CallContext {
                execution_arn: "arn:aws:states:us-east-1:1:execution:m:e",
                state_name: "Translate",
                attempt: 2,
                task_token: Some("tok"),
            },
        );
        assert_eq!(c["service"], "translate");
        assert_eq!(c["action"], "translateText");
        assert_eq!(c["parameters"], json!({"Text": "hola"}));
        assert_eq!(c["context"]["State"]["RetryCount"], 2);
        assert_eq!(c["context"]["Task"]["Token"], "tok");
        assert_eq!(
            c["context"]["Execution"]["Id"],
            "arn:aws:states:us-east-1:1:execution:m:e"
        );
    }
}
