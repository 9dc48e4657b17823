//! `arn:aws:states:::events:putEvents[.waitForTaskToken]`: puts events on the tenant's
//! buses, as the EventBridge API's `PutEvents` does (the same checks, matching and durable
//! deliveries), with `Detail` given as an object or as JSON text. Its answer is
//! `{"Entries": [{"EventId"}], "FailedEntryCount"}`; an entry that fails fails the task
//! with `EventBridge.FailedEntry`, as on AWS. The deliveries and the task's answer are one
//! write, so a Standard execution's task puts its events once.

use super::stores::Place;
use crate::eventbridge::bus;
use crate::store::events::{EventBuses as _, DEFAULT_BUS};
use crate::store::Store;
use sandstep_engine::TaskRequest;
use serde_json::{json, Value};

const RESOURCE: &str = "arn:aws:states:::events:putEvents";
/// Entries one call may put (EventBridge).
const MAX_ENTRIES: usize = 10;

/// A `putEvents` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Whether the task waits for its token after the put.
    pub waits: bool,
}

/// The call `resource` names, if it is `events:putEvents`.
pub fn resolve(resource: &str) -> Option<Call> {
    match resource.strip_prefix(RESOURCE)? {
        "" => Some(Call { waits: false }),
        ".waitForTaskToken" => Some(Call { waits: true }),
        _ => None,
    }
}

/// Puts the task's `Entries`. Blocking.
///
/// # Errors
/// `(error, cause)`: `EventBridge.ValidationException` for a request without entries,
/// `EventBridge.FailedEntry` when an entry was refused, `EventBridge.InternalException`
/// when the store failed.
pub fn run(
    store: &Store,
    place: &Place<'_>,
    _call: &Call,
    request: &TaskRequest,
) -> Result<Value, (String, String)> {
    if let Some(answer) = super::stored_answer(store, place.effect, "EventBridge.InternalException")
    {
        return answer;
    }
    let internal = |e: crate::store::Error| {
        (
            "EventBridge.InternalException".to_string(),
            format!("Sandstep's store failed: {e}"),
        )
    };
    let entries = request
        .input
        .get("Entries")
        .and_then(Value::as_array)
        .filter(|e| (1..=MAX_ENTRIES).contains(&e.len()))
        .ok_or_else(|| {
            (
                "EventBridge.ValidationException".to_string(),
                format!("Entries must be an array of 1 to {MAX_ENTRIES} entries"),
            )
        })?;
    let mut results = Vec::with_capacity(entries.len());
    let mut deliveries = Vec::new();
    let mut failed = Vec::new();
    for entry in entries {
        let id = sandstep_engine::rng::Rng::new(crate::clock::entropy()).uuid();
        let accepted = bus::event_of(entry, place.account, place.region, place.now, &id).and_then(
            |(name, event)| {
                if name != DEFAULT_BUS
                    && store.bus_get(place.tenant, &name).ok().flatten().is_none()
                {
                    return Err(bus::Refused {
                        code: "ResourceNotFoundException",
                        message: format!("Event bus {name} does not exist."),
                    });
                }
                Ok((name, event))
            },
        );
        match accepted {
            Ok((name, event)) => {
                let rules = bus::compile(store.rule_list(place.tenant, &name).map_err(internal)?);
                deliveries.extend(bus::deliveries(
                    place.tenant,
                    &name,
                    &event,
                    &rules,
                    place.now,
                ));
                results.push(json!({"EventId": id}));
            }
            Err(refused) => {
                failed.push(format!("{}: {}", refused.code, refused.message));
                results.push(json!({"ErrorCode": refused.code, "ErrorMessage": refused.message}));
            }
        }
    }
    if !failed.is_empty() {
        return Err(("EventBridge.FailedEntry".to_string(), failed.join("; ")));
    }
    let answer = json!({"Entries": results, "FailedEntryCount": 0});
    let effect = place.effect.map(|of| (of, answer.to_string()));
    store
        .deliveries_accept(&deliveries, effect)
        .map_err(internal)?;
    Ok(answer)
}
