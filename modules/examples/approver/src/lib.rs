//! `approver`: a manager's decision as a task. It answers the token of an order waiting
//! for approval (`{"token", "approved", "comment"}`): `approved: true` completes the
//! waiting task with the decision, anything else fails it with `Rejected`, which the
//! waiting workflow catches. Needs the grant `callback:<the waiting state machine>`.
use sandstep_sdk::{callback, json, Context, TaskError, Value};

fn approve(input: Value, _ctx: &Context) -> Result<Value, TaskError> {
    let token = input["token"]
        .as_str()
        .ok_or_else(|| TaskError::new("InvalidInput", "token is required"))?;
    let comment = input["comment"].as_str().unwrap_or_default();
    let approved = input["approved"].as_bool() == Some(true);
    match approved {
        true => callback::succeed(token, &json!({"approved": true, "comment": comment}))?,
        false => callback::fail(token, "Rejected", comment)?,
    }
    Ok(json!({"approved": approved}))
}

sandstep_sdk::task!(approve);
