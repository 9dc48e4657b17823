//! History events in AWS's shape, as `GetExecutionHistory` returns them.

use crate::event::Millis;
use serde_json::{json, Map, Value};

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
    pub kind: String,
    /// The details object, if any.
    pub details: Option<Map<String, Value>>,
}

impl HistoryEvent {
    /// The name of the details field AWS uses for this event type.
    pub fn details_field(&self) -> String {
        details_field(&self.kind)
    }

    /// The event as AWS's JSON (timestamps as epoch seconds, as the JSON protocol sends them).
    pub fn to_aws_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("timestamp".into(), json!(self.timestamp as f64 / 1000.0));
        out.insert("type".into(), json!(self.kind));
        out.insert("id".into(), json!(self.id));
        out.insert("previousEventId".into(), json!(self.previous_event_id));
        if let Some(details) = &self.details {
            out.insert(self.details_field(), Value::Object(details.clone()));
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
