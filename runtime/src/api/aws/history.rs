//! GetExecutionHistory.

use super::execution_key;
use crate::api::error::{Error, Result};
use crate::api::params::{decode_token, encode_token, Params};
use crate::api::App;
use crate::scheduler::history_of;
use crate::store::Executions;
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

pub(super) fn get(app: &App, tenant: &Tenant, p: &Params) -> Result<Value> {
    let arn = p.str("executionArn")?;
    let (key, express) = execution_key(app, tenant, arn)?;
    if express {
        return Err(Error::StateMachineTypeNotSupported(
            "This operation is not supported by EXPRESS state machines".into(),
        ));
    }
    if app.store.execution_get(&key)?.is_none() {
        return Err(Error::ExecutionDoesNotExist(format!(
            "Execution Does Not Exist: '{arn}'"
        )));
    }
    let limit = p.max_results()?;
    let reverse = p.opt_bool("reverseOrder")?.unwrap_or(false);
    let include_data = p.opt_bool("includeExecutionData")?.unwrap_or(true);
    // The token names the next event id to return, so paging stays exact while a
    // running execution appends events (an offset would shift under reverseOrder).
    let next: Option<u64> = match p.opt_str("nextToken")? {
        Some(t) => Some(
            decode_token(t)?
                .parse::<u64>()
                .map_err(|_| Error::InvalidToken(format!("Invalid Token: '{t}'")))?,
        ),
        None => None,
    };
    let mut events = history_of(&app.store, &key)?;
    if reverse {
        events.reverse();
    }
    let id_of = |e: &Value| e.get("id").and_then(Value::as_u64).unwrap_or(0);
    let mut rest = events.into_iter().filter(|e| match next {
        None => true,
        Some(n) if reverse => id_of(e) <= n,
        Some(n) => id_of(e) >= n,
    });
    let page: Vec<Value> = rest
        .by_ref()
        .take(limit)
        .map(|e| if include_data { e } else { without_data(e) })
        .collect();
    let mut out = json!({"events": page});
    if let Some(following) = rest.next() {
        if let Some(o) = out.as_object_mut() {
            o.insert(
                "nextToken".into(),
                json!(encode_token(&id_of(&following).to_string())),
            );
        }
    }
    Ok(out)
}
