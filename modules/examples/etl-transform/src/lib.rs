//! `etl-transform`: aggregates a CSV object of `sku,qty` lines into kv table `totals`.
//!
//! Input: `{"key": "sales/2024-01-01.csv"}`, an object in bucket `raw`. Blank lines and a
//! `sku,qty` header are skipped; other lines that are not `<sku>,<integer>` are counted as
//! rejected. Each SKU's total is written to `totals` at key `<sku>` as
//! `{"sku", "qty", "source"}`. Output: `{"lines", "rows", "rejected", "skus", "written"}`.
//! A missing object fails with `NoSuchKey`.
use std::collections::BTreeMap;

use sandstep_sdk::{blob, json, kv, log, Context, TaskError, Value};

fn transform(input: Value, _ctx: &Context) -> Result<Value, TaskError> {
    let key = input["key"]
        .as_str()
        .ok_or_else(|| TaskError::new("InvalidInput", "key is required"))?;
    let bytes = blob::get("raw", key)?
        .ok_or_else(|| TaskError::new("NoSuchKey", format!("raw/{key} does not exist")))?;
    let text = String::from_utf8_lossy(&bytes);

    let (mut lines, mut rows, mut rejected) = (0u64, 0u64, 0u64);
    let mut totals: BTreeMap<&str, i64> = BTreeMap::new();
    for line in text.lines().map(str::trim) {
        lines += 1;
        if line.is_empty() || line.eq_ignore_ascii_case("sku,qty") {
            continue;
        }
        match line
            .split_once(',')
            .map(|(s, q)| (s.trim(), q.trim().parse::<i64>()))
        {
            Some((sku, Ok(qty))) if !sku.is_empty() => {
                let total = totals.entry(sku).or_insert(0);
                *total = total.saturating_add(qty);
                rows += 1;
            }
            _ => rejected += 1,
        }
    }
    for (sku, qty) in &totals {
        kv::put(
            "totals",
            sku,
            &json!({ "sku": sku, "qty": qty, "source": key }),
        )?;
    }
    log::info(&format!(
        "raw/{key}: {rows} rows, {rejected} rejected, {} skus",
        totals.len()
    ));
    Ok(
        json!({ "lines": lines, "rows": rows, "rejected": rejected, "skus": totals.len(), "written": totals.len() }),
    )
}

sandstep_sdk::task!(transform);
