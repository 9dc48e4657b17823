//! History events in AWS's shape, as `GetExecutionHistory` returns them.

use crate::event::Millis;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// One history event. `kind` is AWS's type name (`PassStateEntered`, `TaskScheduled`, ...)
/// and `details` the body of its `...EventDetails` field, if the type has one.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEvent {
    /// 1-based, dense, in order.
    pub id: u64,
    /// The event this one follows (0 for the first).
    pub previous_event_id: u64,
    /// When it happened.
    pub timestamp: Millis,
    /// AWS's event type.
    pub kind: &'static str,
    /// The details, if any.
    pub details: Details,
}

/// The body of an event's `...EventDetails` field.
///
/// State entries and exits, by far the most frequent events, keep the state's data as a
/// shared value: it is rendered to JSON text only if someone reads or stores the history,
/// which an Express execution without a listener never does.
#[derive(Debug, Clone, PartialEq)]
pub enum Details {
    /// The event type has no details.
    None,
    /// `stateEnteredEventDetails`.
    StateEntered {
        /// The state's name.
        name: Arc<str>,
        /// The state's input.
        input: Arc<Value>,
    },
    /// `stateExitedEventDetails`.
    StateExited {
        /// The state's name.
        name: Arc<str>,
        /// The state's output.
        output: Arc<Value>,
    },
    /// `executionStartedEventDetails`.
    ExecutionStarted {
        /// The execution input.
        input: Arc<Value>,
        /// The role ARN.
        role_arn: String,
        /// The version and alias ARNs it was started on, when it was.
        qualified: Box<(Option<String>, Option<String>)>,
    },
    /// `executionSucceededEventDetails`.
    ExecutionSucceeded {
        /// The execution output.
        output: Arc<Value>,
    },
    /// `mapIteration...EventDetails`.
    MapIteration {
        /// The Map state's name.
        name: Arc<str>,
        /// The item's index.
        index: usize,
    },
    /// Any other details, already in AWS's shape.
    Fields(Map<String, Value>),
}

impl Details {
    /// The details as AWS's JSON object, if any.
    pub fn to_json(&self) -> Option<Value> {
        let (name, field, data) = match self {
            Details::None => return None,
            Details::Fields(fields) => return Some(Value::Object(fields.clone())),
            Details::MapIteration { name, index } => {
                return Some(json!({"name": &**name, "index": index}))
            }
            Details::StateEntered { name, input } => (Some(name), "input", input),
            Details::StateExited { name, output } => (Some(name), "output", output),
            Details::ExecutionStarted { input, .. } => (None, "input", input),
            Details::ExecutionSucceeded { output } => (None, "output", output),
        };
        let mut out = Map::new();
        if let Some(name) = name {
            out.insert("name".into(), Value::String(name.to_string()));
        }
        out.insert(
            field.into(),
            Value::String(serde_json::to_string(&**data).unwrap_or_default()),
        );
        out.insert(format!("{field}Details"), json!({"truncated": false}));
        if let Details::ExecutionStarted {
            role_arn,
            qualified,
            ..
        } = self
        {
            out.insert("roleArn".into(), Value::String(role_arn.clone()));
            let (version, alias) = &**qualified;
            for (field, arn) in [
                ("stateMachineVersionArn", version),
                ("stateMachineAliasArn", alias),
            ] {
                if let Some(arn) = arn {
                    out.insert(field.into(), Value::String(arn.clone()));
                }
            }
        }
        Some(Value::Object(out))
    }
}

impl HistoryEvent {
    /// The name of the details field AWS uses for this event type.
    pub fn details_field(&self) -> String {
        details_field(self.kind)
    }

    /// The event as AWS's JSON (timestamps as epoch seconds, as the JSON protocol sends them).
    pub fn to_aws_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("timestamp".into(), json!(self.timestamp as f64 / 1000.0));
        out.insert("type".into(), json!(self.kind));
        out.insert("id".into(), json!(self.id));
        out.insert("previousEventId".into(), json!(self.previous_event_id));
        if let Some(details) = self.details.to_json() {
            out.insert(self.details_field(), details);
        }
        Value::Object(out)
    }
}

/// Maps an event type to its details field, e.g. `PassStateEntered` → `stateEnteredEventDetails`.
pub fn details_field(kind: &str) -> String {
    let suffix = ["StateEntered", "StateExited"]
        .into_iter()
        .find(|s| kind.ends_with(s));
    if let Some(s) = suffix {
        return format!("state{}EventDetails", s.trim_start_matches("State"));
    }
    if let Some(rest) = kind.strip_prefix("MapIteration") {
        return format!("mapIteration{rest}EventDetails");
    }
    let mut chars = kind.chars();
    match chars.next() {
        Some(first) => format!(
            "{}{}EventDetails",
            first.to_ascii_lowercase(),
            chars.as_str()
        ),
        None => "eventDetails".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_fields_follow_aws() {
        assert_eq!(
            details_field("PassStateEntered"),
            "stateEnteredEventDetails"
        );
        assert_eq!(details_field("TaskStateExited"), "stateExitedEventDetails");
        assert_eq!(
            details_field("MapIterationStarted"),
            "mapIterationStartedEventDetails"
        );
        assert_eq!(
            details_field("ExecutionSucceeded"),
            "executionSucceededEventDetails"
        );
        assert_eq!(details_field("TaskScheduled"), "taskScheduledEventDetails");
        assert_eq!(
            details_field("MapStateStarted"),
            "mapStateStartedEventDetails"
        );
    }
}
