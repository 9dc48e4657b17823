//! `validate-order`: checks an order and returns it normalised, or fails with `InvalidOrder`.
//!
//! Input: `{"orderId": "o-1", "card": "4111...", "items": [{"sku": "widget-a", "quantity": 2,
//! "price": 25.0}], ...}`. Every item needs a non-empty `sku` and a positive integer
//! `quantity`; `price` is optional (default 0) and must not be negative. The output keeps
//! the order's other fields, with SKUs trimmed and upper-cased, lines of the same SKU
//! merged, items sorted by SKU, and `amount` set to the order's total in cents-exact units.
use std::collections::BTreeMap;

use sandstep_sdk::{json, Context, TaskError, Value};

fn invalid(cause: impl Into<String>) -> TaskError {
    TaskError::new("InvalidOrder", cause)
}

fn validate(input: Value, _ctx: &Context) -> Result<Value, TaskError> {
    let Value::Object(mut order) = input else {
        return Err(invalid("the order must be a JSON object"));
    };
    match order.get("orderId") {
        Some(Value::String(id)) if !id.trim().is_empty() => {}
        _ => return Err(invalid("orderId must be a non-empty string")),
    }
    let items = match order.get("items") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) => return Err(invalid("the order has no items")),
        _ => return Err(invalid("items must be an array")),
    };

    // sku -> (quantity, price in cents)
    let mut lines: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let sku = item
            .get("sku")
            .and_then(Value::as_str)
            .map(str::trim)
            .unwrap_or_default();
        if sku.is_empty() {
            return Err(invalid(format!(
                "items[{i}]: sku must be a non-empty string"
            )));
        }
        let quantity = match item.get("quantity").and_then(Value::as_u64) {
            Some(q) if q > 0 => q,
            _ => {
                return Err(invalid(format!(
                    "items[{i}] ({sku}): quantity must be a positive integer"
                )))
            }
        };
        let price = match item.get("price") {
            None => 0.0,
            Some(p) => match p.as_f64() {
                Some(p) if p >= 0.0 && p.is_finite() => p,
                _ => {
                    return Err(invalid(format!(
                        "items[{i}] ({sku}): price must be a non-negative number"
                    )))
                }
            },
        };
        let cents = (price * 100.0).round() as u64;
        let line = lines.entry(sku.to_uppercase()).or_insert((0, cents));
        if line.1 != cents {
            return Err(invalid(format!("{sku} appears with two different prices")));
        }
        line.0 = line.0.saturating_add(quantity);
    }

    let mut total_cents = 0u64;
    let items: Vec<Value> = lines
        .into_iter()
        .map(|(sku, (quantity, cents))| {
            total_cents = total_cents.saturating_add(quantity.saturating_mul(cents));
            json!({ "sku": sku, "quantity": quantity, "price": cents as f64 / 100.0 })
        })
        .collect();
    order.insert("items".into(), Value::Array(items));
    order.insert("amount".into(), json!(total_cents as f64 / 100.0));
    Ok(Value::Object(order))
}

sandstep_sdk::task!(validate);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_skus_merges_lines_and_totals_the_order() {
        let order = json!({"orderId": "o-1", "card": "4111", "items": [
            {"sku": " widget-a ", "quantity": 2, "price": 25.0},
            {"sku": "GADGET-B", "quantity": 1, "price": 100.0},
            {"sku": "Widget-A", "quantity": 1, "price": 25.0},
        ]});
        let out = validate(order, &Context::default()).unwrap();
        assert_eq!(
            out,
            json!({"orderId": "o-1", "card": "4111", "amount": 175.0, "items": [
                {"sku": "GADGET-B", "quantity": 1, "price": 100.0},
                {"sku": "WIDGET-A", "quantity": 3, "price": 25.0},
            ]})
        );
    }

    #[test]
    fn refuses_bad_orders_with_invalid_order() {
        for bad in [
            json!([]),
            json!({"orderId": "o-1", "items": []}),
            json!({"orderId": "o-1", "items": [{"sku": "a", "quantity": 0}]}),
            json!({"orderId": "o-1", "items": [{"sku": "a", "quantity": -1}]}),
            json!({"orderId": "o-1", "items": [{"sku": "", "quantity": 1}]}),
            json!({"items": [{"sku": "a", "quantity": 1}]}),
        ] {
            assert_eq!(
                validate(bad.clone(), &Context::default()).unwrap_err().name,
                "InvalidOrder",
                "{bad}"
            );
        }
    }
}
