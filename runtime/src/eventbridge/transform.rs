//! What a rule's target receives: the whole event, a fixed `Input`, the part an
//! `InputPath` selects, or an `InputTransformer`'s template filled from the event.
//!
//! A template is text with `<name>` placeholders, each a JSONPath of `InputPathsMap` or one
//! of EventBridge's own (`<aws.events.rule-arn>`, `<aws.events.rule-name>`,
//! `<aws.events.event>`, `<aws.events.event.json>`, `<aws.events.event.ingestion-time>`).
//! A placeholder where a JSON value goes takes the value as JSON (a string with its quotes;
//! a path that selects nothing, `""`); one inside a quoted string takes the value's text (a
//! string without quotes, an object or array without its quotes), as EventBridge fills
//! them. Unlike EventBridge, text put inside a string is escaped, so a value holding a quote
//! still makes valid JSON instead of an event silently not delivered.

use crate::store::events::{InputTransformer, Target};
use sandstep_engine::jsonpath::Path;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The most entries an `InputPathsMap` may have (EventBridge).
const MAX_PATHS: usize = 100;
/// The longest `InputTemplate` (EventBridge).
const MAX_TEMPLATE: usize = 8192;

/// The rule an event is delivered for, which EventBridge's own placeholders name.
#[derive(Debug, Clone, Copy)]
pub struct RuleRef<'a> {
    /// The rule's name.
    pub name: &'a str,
    /// The rule's ARN.
    pub arn: &'a str,
    /// When the event was accepted (epoch ms).
    pub ingested: i64,
}

/// Checks a target's input settings as `PutTargets` does.
///
/// # Errors
/// EventBridge's `ValidationException` message.
pub fn check(target: &Target) -> Result<(), String> {
    let given = [
        target.input.is_some(),
        target.input_path.is_some(),
        target.input_transformer.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(format!(
            "Only one of Input, InputPath, or InputTransformer must be provided for target {}.",
            target.id
        ));
    }
    if let Some(input) = &target.input {
        serde_json::from_str::<Value>(input)
            .map_err(|_| format!("Input for target {} is not valid JSON text.", target.id))?;
    }
    if let Some(path) = &target.input_path {
        Path::parse(path).map_err(|e| {
            format!(
                "InputPath for target {} is not a valid JSONPath: {e}",
                target.id
            )
        })?;
    }
    if let Some(t) = &target.input_transformer {
        if t.input_template.is_empty() || t.input_template.len() > MAX_TEMPLATE {
            return Err(format!(
                "InputTemplate for target {} must be 1 to {MAX_TEMPLATE} characters.",
                target.id
            ));
        }
        if t.input_paths_map.len() > MAX_PATHS {
            return Err(format!(
                "InputPathsMap for target {} has more than {MAX_PATHS} entries.",
                target.id
            ));
        }
        for (name, path) in &t.input_paths_map {
            if name.is_empty() || name.len() > 256 || name.to_ascii_lowercase().starts_with("aws.")
            {
                return Err(format!(
                    "InputPathsMap for target {} has an invalid key {name}.",
                    target.id
                ));
            }
            Path::parse(path).map_err(|e| {
                format!(
                    "InputPathsMap for target {} has an invalid path {path}: {e}",
                    target.id
                )
            })?;
        }
        for name in placeholders(&t.input_template) {
            if !t.input_paths_map.contains_key(name) && !PREDEFINED.contains(&name) {
                return Err(format!(
                    "InputTemplate for target {} contains invalid placeholder {name}.",
                    target.id
                ));
            }
        }
    }
    Ok(())
}

const PREDEFINED: [&str; 5] = [
    "aws.events.rule-arn",
    "aws.events.rule-name",
    "aws.events.event",
    "aws.events.event.json",
    "aws.events.event.ingestion-time",
];

/// The input `target` receives for `event`, as JSON text.
///
/// # Errors
/// Why no input could be made (a template that does not fill into JSON).
pub fn input_for(target: &Target, event: &Value, rule: RuleRef<'_>) -> Result<String, String> {
    if let Some(input) = &target.input {
        return Ok(input.clone());
    }
    if let Some(path) = &target.input_path {
        let path = Path::parse(path).map_err(|e| e.to_string())?;
        return Ok(path.select(event).unwrap_or(Value::Null).to_string());
    }
    let Some(transformer) = &target.input_transformer else {
        return Ok(event.to_string());
    };
    let values = values(transformer, event, rule)?;
    let text = fill(&transformer.input_template, &values);
    serde_json::from_str::<Value>(&text)
        .map(|v| v.to_string())
        .map_err(|e| {
            format!("the InputTransformer's template did not fill into JSON ({e}): {text}")
        })
}

/// The value of every placeholder a template may use (`None`: the path selects nothing).
fn values(
    t: &InputTransformer,
    event: &Value,
    rule: RuleRef<'_>,
) -> Result<BTreeMap<String, Option<Value>>, String> {
    let mut values = BTreeMap::new();
    for (name, path) in &t.input_paths_map {
        let path = Path::parse(path).map_err(|e| e.to_string())?;
        values.insert(name.clone(), path.select(event));
    }
    let mut without_detail = Map::new();
    if let Some(fields) = event.as_object() {
        for (k, v) in fields {
            match k.as_str() {
                "detail" => {}
                "detail-type" => {
                    without_detail.insert("detailType".into(), v.clone());
                }
                _ => {
                    without_detail.insert(k.clone(), v.clone());
                }
            }
        }
    }
    values.insert("aws.events.rule-arn".into(), Some(json!(rule.arn)));
    values.insert("aws.events.rule-name".into(), Some(json!(rule.name)));
    values.insert(
        "aws.events.event".into(),
        Some(Value::Object(without_detail)),
    );
    values.insert("aws.events.event.json".into(), Some(event.clone()));
    values.insert(
        "aws.events.event.ingestion-time".into(),
        Some(json!(super::envelope::iso_seconds(rule.ingested))),
    );
    Ok(values)
}

/// The names of a template's placeholders.
fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('<') {
        let after = rest.get(start + 1..).unwrap_or("");
        match after.find('>') {
            Some(end) => {
                let name = after.get(..end).unwrap_or("");
                if is_name(name) {
                    names.push(name);
                    rest = after.get(end + 1..).unwrap_or("");
                } else {
                    rest = after;
                }
            }
            None => break,
        }
    }
    names
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// The template with its placeholders filled.
fn fill(template: &str, values: &BTreeMap<String, Option<Value>>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut in_string = false;
    let mut escaped = false;
    let mut rest = template;
    while let Some(c) = rest.chars().next() {
        if c == '<' && !escaped {
            let after = rest.get(1..).unwrap_or("");
            if let Some(end) = after.find('>') {
                let name = after.get(..end).unwrap_or("");
                if let Some(value) = values.get(name).filter(|_| is_name(name)) {
                    out.push_str(&render(value.as_ref(), in_string));
                    rest = after.get(end + 1..).unwrap_or("");
                    continue;
                }
            }
        }
        match c {
            '"' if !escaped => in_string = !in_string,
            _ => {}
        }
        escaped = in_string && c == '\\' && !escaped;
        out.push(c);
        rest = rest.get(c.len_utf8()..).unwrap_or("");
    }
    out
}

/// One placeholder's text.
fn render(value: Option<&Value>, in_string: bool) -> String {
    match (value, in_string) {
        (None, true) => String::new(),
        (None, false) => "\"\"".into(),
        (Some(v), false) => v.to_string(),
        (Some(Value::String(s)), true) => escape(s),
        (Some(v @ (Value::Object(_) | Value::Array(_))), true) => {
            escape(&v.to_string().replace('"', ""))
        }
        (Some(v), true) => v.to_string(),
    }
}

/// Text escaped to sit inside a JSON string.
fn escape(text: &str) -> String {
    let quoted = json!(text).to_string();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::events::RetryPolicy;

    fn target(transformer: Option<(&[(&str, &str)], &str)>) -> Target {
        Target {
            id: "t1".into(),
            arn: "arn:aws:states:us-east-1:000000000000:stateMachine:m".into(),
            input: None,
            input_path: None,
            input_transformer: transformer.map(|(paths, template)| InputTransformer {
                input_paths_map: paths
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                input_template: template.into(),
            }),
            role_arn: None,
            retry_policy: RetryPolicy::default(),
        }
    }

    fn ec2() -> Value {
        json!({"version": "0", "id": "e1", "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
               "account": "123456789012", "time": "2019-02-26T19:42:21Z", "region": "us-east-2", "resources": [],
               "detail": {"instance-id": "i-0123456789", "state": "RUNNING", "n": 3, "tags": ["a", "b"], "q": "say \"hi\""}})
    }

    const RULE: RuleRef<'static> = RuleRef {
        name: "example",
        arn: "arn:aws:events:us-east-2:123456789012:rule/example",
        ingested: 1_551_210_141_000,
    };

    fn filled(template: &str) -> Result<Value, String> {
        let paths = [
            ("instance", "$.detail.instance-id"),
            ("state", "$.detail.state"),
            ("n", "$.detail.n"),
            ("tags", "$.detail.tags"),
            ("q", "$.detail.q"),
            ("missing", "$.detail.nope"),
        ];
        let t = target(Some((&paths, template)));
        check(&t)?;
        input_for(&t, &ec2(), RULE).map(|s| serde_json::from_str(&s).unwrap())
    }

    #[test]
    fn templates_fill_as_eventbridge_documents() {
        assert_eq!(
            filled(r#""instance <instance> is in <state>""#).unwrap(),
            json!("instance i-0123456789 is in RUNNING")
        );
        assert_eq!(
            filled(r#"{"instance" : <instance>, "state": <state>}"#).unwrap(),
            json!({"instance": "i-0123456789", "state": "RUNNING"})
        );
        assert_eq!(
            filled(
                r#"{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}"#
            )
            .unwrap(),
            json!({"instance": "i-0123456789", "state": [9, "RUNNING", true], "Transformed": "Yes"})
        );
        assert_eq!(
            filled(r#"{"s": "instance \"<instance>\" is in <state>", "n": "<n> of <tags>", "t": <tags>}"#).unwrap(),
            json!({"s": "instance \"i-0123456789\" is in RUNNING", "n": "3 of [a,b]", "t": ["a", "b"]})
        );
        assert_eq!(
            filled(r#"{"m": <missing>, "in": "x<missing>y"}"#).unwrap(),
            json!({"m": "", "in": "xy"})
        );
        assert_eq!(
            filled(r#"{"q": "<q>"}"#).unwrap(),
            json!({"q": "say \"hi\""}),
            "escaped, unlike AWS"
        );
        let own = filled(r#"{"ruleArn": <aws.events.rule-arn>, "ruleName": "<aws.events.rule-name> triggered", "at": <aws.events.event.ingestion-time>, "original": <aws.events.event>}"#).unwrap();
        assert_eq!(own["ruleArn"], json!(RULE.arn));
        assert_eq!(own["ruleName"], json!("example triggered"));
        assert_eq!(own["at"], json!("2019-02-26T19:42:21Z"));
        assert_eq!(
            own["original"]["detailType"],
            json!("EC2 Instance State-change Notification")
        );
        assert!(own["original"].get("detail").is_none());
    }

    #[test]
    fn targets_are_checked_as_put_targets_does() {
        assert_eq!(
            filled("{\"a\": <nope>}").unwrap_err(),
            "InputTemplate for target t1 contains invalid placeholder nope."
        );
        let mut both = target(None);
        both.input = Some("{}".into());
        both.input_path = Some("$.detail".into());
        assert_eq!(
            check(&both).unwrap_err(),
            "Only one of Input, InputPath, or InputTransformer must be provided for target t1."
        );
        let mut path = target(None);
        path.input_path = Some("$.detail.state".into());
        assert_eq!(input_for(&path, &ec2(), RULE).unwrap(), "\"RUNNING\"");
        assert_eq!(
            input_for(&target(None), &ec2(), RULE).unwrap(),
            ec2().to_string()
        );
        assert!(
            filled("not json <state>").is_err(),
            "a template that does not fill into JSON fails the delivery"
        );
    }
}
