// The body of the `sns_filter_policy` fuzz target: SNS subscription filter policies, on
// `sandstep-sns`.
//
// `runtime/sns/src/fuzz_regressions.rs` pulls this file in with `include!` to replay the
// regression inputs through exactly this function, so it has no inner attributes or `//!`
// docs, and it names the crate `sandstep_sns` (the crate aliases itself to that name).

use sandstep_sns::filter::Policy;
use serde_json::json;

/// The bytes as a policy; whatever parses is matched against a few fixed messages (scalar
/// and array attributes, a nested body, nothing at all).
pub fn filter_policy(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = Policy::parse(text) else {
        return;
    };
    let messages = [
        json!({"store": "example_corp", "price": "210.75", "tags": ["a", "b", 3], "n": 1}),
        json!({"order": {"status": "shipped", "lines": [{"sku": "x"}]}, "flag": true, "none": null}),
        json!({}),
    ];
    for m in &messages {
        if let Some(fields) = m.as_object() {
            let _ = policy.matches(fields);
        }
    }
}
