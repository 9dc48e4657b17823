//! Accepting events on a bus, shared by the EventBridge API and the `events:putEvents`
//! Task integration: a `PutEvents` entry checked and made an event ([`event_of`]), and the
//! deliveries it is owed by the bus's rules ([`deliveries`]).

use super::envelope::{self, Header};
use crate::store::events::{Delivery, Rule, DEFAULT_BUS};
use crate::store::TenantId;
use sandstep_events::pattern::Pattern;
use serde_json::Value;

/// A bus's rules with their patterns compiled (`None`: a rule without a pattern, or one
/// stored before a check it no longer passes).
pub type Compiled = Vec<(Rule, Option<Pattern>)>;

/// Compiles a bus's rules.
pub fn compile(rules: Vec<Rule>) -> Compiled {
    rules
        .into_iter()
        .map(|rule| {
            let pattern = rule
                .event_pattern
                .as_deref()
                .and_then(|p| Pattern::parse(p).ok());
            (rule, pattern)
        })
        .collect()
}

/// Why an entry was not accepted: EventBridge's per-entry `ErrorCode` and `ErrorMessage`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// `InvalidArgument`, `MalformedDetail`, ...
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
}

fn refused(code: &'static str, message: impl Into<String>) -> Refused {
    Refused {
        code,
        message: message.into(),
    }
}

/// The bus an entry or request names (a name or an ARN; the default bus when none).
pub fn bus_name(given: Option<&str>) -> String {
    match given {
        None | Some("") => DEFAULT_BUS.to_string(),
        Some(text) => text
            .rsplit_once("event-bus/")
            .map_or(text, |(_, name)| name)
            .to_string(),
    }
}

/// A `PutEvents` entry as an event with id `id`: its bus and the event.
///
/// `Detail` is JSON text as in the API; the Task integration may give it as an object.
///
/// # Errors
/// [`Refused`] in EventBridge's words.
pub fn event_of(
    entry: &Value,
    account: &str,
    region: &str,
    now: i64,
    id: &str,
) -> Result<(String, Value), Refused> {
    let text = |field: &str| {
        entry
            .get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let source = text("Source").ok_or_else(|| {
        refused(
            "InvalidArgument",
            "Parameter Source is not valid. Reason: Source is a required argument.",
        )
    })?;
    let detail_type = text("DetailType").ok_or_else(|| {
        refused(
            "InvalidArgument",
            "Parameter DetailType is not valid. Reason: DetailType is a required argument.",
        )
    })?;
    let detail = match entry.get("Detail") {
        Some(Value::Object(o)) => Value::Object(o.clone()),
        Some(Value::String(s)) if !s.is_empty() => serde_json::from_str(s)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| refused("MalformedDetail", "Detail is malformed."))?,
        None | Some(Value::Null) => {
            return Err(refused(
                "InvalidArgument",
                "Parameter Detail is not valid. Reason: Detail is a required argument.",
            ))
        }
        Some(_) => return Err(refused("MalformedDetail", "Detail is malformed.")),
    };
    if source.starts_with("aws.") {
        return Err(refused(
            "NotAuthorizedForSourceException",
            "Not authorized for the source.",
        ));
    }
    let resources: Vec<String> = entry
        .get("Resources")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let time = entry
        .get("Time")
        .and_then(Value::as_f64)
        .map_or(now, |s| (s * 1000.0) as i64);
    let event = envelope::event(
        &Header {
            id,
            detail_type,
            source,
            account,
            time,
            region,
            resources: &resources,
        },
        detail,
    );
    Ok((bus_name(text("EventBusName")), event))
}

/// The deliveries `event` is owed on `bus`: one per target of each enabled rule whose
/// pattern it matches.
pub fn deliveries(
    tenant: &TenantId,
    bus: &str,
    event: &Value,
    rules: &Compiled,
    now: i64,
) -> Vec<Delivery> {
    let id = event.get("id").and_then(Value::as_str).unwrap_or_default();
    let text = event.to_string();
    let mut out = Vec::new();
    for (rule, pattern) in rules {
        let Some(pattern) = pattern.as_ref().filter(|_| rule.enabled) else {
            continue;
        };
        if !pattern.matches(event) {
            continue;
        }
        out.extend(owed(tenant, bus, rule, id, &text, now));
    }
    out
}

/// The deliveries one rule owes an event (its id and JSON text): one per target, due now.
pub fn owed(
    tenant: &TenantId,
    bus: &str,
    rule: &Rule,
    event_id: &str,
    event: &str,
    now: i64,
) -> Vec<Delivery> {
    rule.targets
        .iter()
        .map(|target| Delivery {
            id: format!("{event_id}/{}/{}", rule.name, target.id),
            tenant: tenant.clone(),
            bus: bus.to_string(),
            rule: rule.name.clone(),
            target: target.clone(),
            event: event.to_string(),
            accepted: now,
            attempts: 0,
            due: now,
            last_error: None,
        })
        .collect()
}
