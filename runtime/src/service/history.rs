//! GetExecutionHistory: a Standard execution's recorded events, a page at a time, in
//! either direction, with or without their data.

use super::executions::HistoryQuery;
use super::{arns, paging, Error, Executions, Page, Result};
use crate::scheduler::history_of;
use crate::store::Executions as _;
use crate::tenants::Tenant;
use serde_json::{json, Value};

/// Removes inputs and outputs from an event's details (`includeExecutionData: false`).
fn without_data(mut event: Value) -> Value {
    if let Some(fields) = event.as_object_mut() {
        for (key, details) in fields.iter_mut() {
            if !key.ends_with("EventDetails") {
                continue;
            }
            if let Some(d) = details.as_object_mut() {
                for field in ["input", "output", "parameters"] {
                    d.remove(field);
                }
                for field in ["inputDetails", "outputDetails"] {
                    if d.contains_key(field) {
                        d.insert(field.into(), json!({"truncated": false}));
                    }
                }
            }
        }
    }
    event
}

impl Executions {
    /// A page of a Standard execution's history events, as AWS shapes them.
    ///
    /// The token names the next event id to return, so paging stays exact while a
    /// running execution appends events (an offset would shift under `reverse`).
    ///
    /// # Errors
    /// [`Error::ExecutionDoesNotExist`], [`Error::NotForExpress`], [`Error::InvalidToken`],
    /// failures.
    #[tracing::instrument(level = "debug", name = "service.get_execution_history", skip_all, fields(tenant = %tenant.id, execution = %arn))]
    pub fn history(&self, tenant: &Tenant, arn: &str, query: HistoryQuery) -> Result<Page<Value>> {
        let (key, express) = arns::execution_key(&self.region, tenant, arn)?;
        if express {
            return Err(Error::NotForExpress);
        }
        if self.store.execution_get(&key)?.is_none() {
            return Err(Error::ExecutionDoesNotExist(arn.to_string()));
        }
        let next: Option<u64> = match &query.next_token {
            Some(t) => Some(
                paging::decode_token(t)?
                    .parse::<u64>()
                    .map_err(|_| Error::InvalidToken(t.clone()))?,
            ),
            None => None,
        };
        let mut events = history_of(&self.store, &key)?;
        if query.reverse {
            events.reverse();
        }
        let id_of = |e: &Value| e.get("id").and_then(Value::as_u64).unwrap_or(0);
        let mut rest = events.into_iter().filter(|e| match next {
            None => true,
            Some(n) if query.reverse => id_of(e) <= n,
            Some(n) => id_of(e) >= n,
        });
        let items: Vec<Value> = rest
            .by_ref()
            .take(query.limit)
            .map(|e| {
                if query.include_data {
                    e
                } else {
                    without_data(e)
                }
            })
            .collect();
        let next_token = rest
            .next()
            .map(|following| paging::encode_token(&id_of(&following).to_string()));
        Ok(Page { items, next_token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_data_keeps_the_shape_and_drops_the_payloads() {
        let event = json!({
            "id": 2,
            "type": "TaskStateEntered",
            "stateEnteredEventDetails": {"name": "A", "input": "{}", "inputDetails": {"truncated": false, "x": 1}},
        });
        assert_eq!(
            without_data(event),
            json!({
                "id": 2,
                "type": "TaskStateEntered",
                "stateEnteredEventDetails": {"name": "A", "inputDetails": {"truncated": false}},
            })
        );
    }
}
