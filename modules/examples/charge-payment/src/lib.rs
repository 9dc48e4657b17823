//! `charge-payment`: pretends to charge a card.
//!
//! Input: a validated order (`orderId`, `amount`, `card`). Fails with `PaymentDeclined`
//! when `amount` is over 1000 or the card number ends with `0000`; otherwise returns
//! `{"chargeId": "ch_<16 hex digits>", "orderId", "amount"}`, the id derived from the order
//! id alone, so a retried charge gets the same id (an idempotency key, as a real payment
//! API would take).
use sandstep_sdk::{json, log, Context, TaskError, Value};

const LIMIT: f64 = 1000.0;

/// FNV-1a, 64 bits: stable across builds and platforms, unlike `std`'s hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn charge(order: Value, ctx: &Context) -> Result<Value, TaskError> {
    let field = |name: &str| TaskError::new("InvalidInput", format!("{name} is required"));
    let order_id = order["orderId"].as_str().ok_or_else(|| field("orderId"))?;
    let amount = order["amount"].as_f64().ok_or_else(|| field("amount"))?;
    let card = order["card"].as_str().ok_or_else(|| field("card"))?;

    if amount > LIMIT {
        return Err(TaskError::new(
            "PaymentDeclined",
            format!("amount {amount} is over the limit of {LIMIT}"),
        ));
    }
    if card.ends_with("0000") {
        return Err(TaskError::new("PaymentDeclined", "the card was declined"));
    }
    let charge_id = format!("ch_{:016x}", fnv1a(order_id.as_bytes()));
    log::info(&format!(
        "charged {amount} for {order_id} as {charge_id} (attempt {})",
        ctx.attempt
    ));
    Ok(json!({ "chargeId": charge_id, "orderId": order_id, "amount": amount }))
}

sandstep_sdk::task!(charge);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declines_large_amounts_and_cards_ending_in_0000() {
        let ctx = Context::default();
        let big = json!({"orderId": "o-1", "amount": 1000.01, "card": "4111111111111111"});
        assert_eq!(charge(big, &ctx).unwrap_err().name, "PaymentDeclined");
        let card = json!({"orderId": "o-1", "amount": 10, "card": "4111111111110000"});
        assert_eq!(charge(card, &ctx).unwrap_err().name, "PaymentDeclined");
    }

    #[test]
    fn the_charge_id_depends_on_the_order_id_only() {
        let ctx = Context::default();
        let a = charge(
            json!({"orderId": "o-1", "amount": 1000, "card": "4111"}),
            &ctx,
        )
        .unwrap();
        let b = charge(json!({"orderId": "o-1", "amount": 5, "card": "5555"}), &ctx).unwrap();
        let c = charge(json!({"orderId": "o-2", "amount": 5, "card": "5555"}), &ctx).unwrap();
        assert_eq!(a["chargeId"], b["chargeId"]);
        assert_ne!(a["chargeId"], c["chargeId"]);
        assert_eq!(a["chargeId"], "ch_1939e619211b2668");
    }
}
