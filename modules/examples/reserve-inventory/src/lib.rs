//! `reserve-inventory`: takes each item's quantity out of the stock in kv table `inventory`.
//!
//! Input: `{"orderId": "...", "items": [{"sku": "WIDGET-A", "quantity": 2}]}`. Table
//! `inventory` holds `{"stock": N}` at key `<sku>`. Each decrement is a conditional write on
//! the version read, retried a few times when another task wrote in between. A missing SKU
//! or too little stock fails with `OutOfStock`, after putting back what this call already
//! took. Output: `{"reserved": [{"sku", "quantity", "remaining"}]}`.
use sandstep_sdk::{json, kv, log, Context, HostError, TaskError, Value};

const TABLE: &str = "inventory";
const ATTEMPTS: u32 = 5;

/// Adds `delta` to the stock of `sku`; returns what remains. `Ok(None)`: not enough stock.
fn adjust(sku: &str, delta: i64) -> Result<Option<i64>, TaskError> {
    for _ in 0..ATTEMPTS {
        let Some(item) = kv::get(TABLE, sku)? else {
            return Ok(None);
        };
        let stock = item.value["stock"].as_i64().unwrap_or(0);
        let remaining = stock + delta;
        if remaining < 0 {
            return Ok(None);
        }
        let mut value = item.value;
        let Some(fields) = value.as_object_mut() else {
            return Err(TaskError::new(
                "InvalidItem",
                format!("{TABLE}/{sku} is not an object"),
            ));
        };
        fields.insert("stock".into(), json!(remaining));
        match kv::put_if(TABLE, sku, &value, Some(item.version)) {
            Ok(_) => return Ok(Some(remaining)),
            Err(HostError::ConditionFailed(_)) => {
                log::debug(&format!("{sku}: stock changed meanwhile, reading again"))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(TaskError::new(
        "ConditionFailed",
        format!("{sku}: the stock kept changing; gave up after {ATTEMPTS} attempts"),
    ))
}

fn reserve(input: Value, _ctx: &Context) -> Result<Value, TaskError> {
    let items = input["items"]
        .as_array()
        .ok_or_else(|| TaskError::new("InvalidInput", "items must be an array"))?;
    let mut reserved: Vec<(String, i64, i64)> = Vec::new();
    for item in items {
        let (Some(sku), Some(quantity)) = (item["sku"].as_str(), item["quantity"].as_i64()) else {
            return Err(TaskError::new("InvalidInput", format!("bad item {item}")));
        };
        match adjust(sku, -quantity) {
            Ok(Some(remaining)) => reserved.push((sku.to_string(), quantity, remaining)),
            failed => {
                // Put back what this call took, so a failed reservation leaves stock as it was.
                for (sku, quantity, _) in &reserved {
                    if let Err(e) = adjust(sku, *quantity) {
                        log::error(&format!("{sku}: could not put back {quantity}: {e}"));
                    }
                }
                return match failed {
                    Err(e) => Err(e),
                    _ => Err(TaskError::new(
                        "OutOfStock",
                        format!("not enough {sku} for {quantity}"),
                    )),
                };
            }
        }
    }
    let reserved: Vec<Value> = reserved
        .into_iter()
        .map(|(sku, quantity, remaining)| json!({ "sku": sku, "quantity": quantity, "remaining": remaining }))
        .collect();
    Ok(json!({ "orderId": input["orderId"], "reserved": reserved }))
}

sandstep_sdk::task!(reserve);
