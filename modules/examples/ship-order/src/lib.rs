//! `ship-order`: sends the order to queue `shipments` and returns `{"messageId": ...}`.
//!
//! Input: `{"orderId": "...", ...}`; the whole input is the message body.
use sandstep_sdk::{json, queue, Context, TaskError, Value};

fn ship(input: Value, _ctx: &Context) -> Result<Value, TaskError> {
    if !input["orderId"].is_string() {
        return Err(TaskError::new("InvalidInput", "orderId is required"));
    }
    let message_id = queue::send("shipments", &input.to_string())?;
    Ok(json!({ "messageId": message_id, "queue": "shipments" }))
}

sandstep_sdk::task!(ship);
