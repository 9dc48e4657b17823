// The body of the `event_pattern` fuzz target: EventBridge event patterns, on
// `sandstep-events`.
//
// `runtime/events/src/fuzz_regressions.rs` pulls this file in with `include!` to replay the
// regression inputs through exactly this function, so it has no inner attributes or `//!`
// docs, and it names the crate `sandstep_events` (the crate aliases itself to that name).

use sandstep_events::pattern::Pattern;
use serde_json::{json, Value};

/// The bytes up to the first NUL as a pattern; what follows, when it is JSON, is an event
/// matched against it, besides a few fixed events (arrays of objects, nested arrays, IPs,
/// numbers, nulls).
pub fn event_pattern(data: &[u8]) {
    let (pattern, event) = match data.iter().position(|b| *b == 0) {
        Some(at) => (data.get(..at).unwrap_or_default(), data.get(at + 1..).unwrap_or_default()),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(pattern) else {
        return;
    };
    let Ok(pattern) = Pattern::parse(text) else {
        return;
    };
    if let Ok(event) = serde_json::from_slice::<Value>(event) {
        let _ = pattern.matches(&event);
    }
    let events = [
        json!({"version": "0", "id": "1", "source": "aws.states", "detail-type": "Step Functions Execution Status Change",
               "resources": ["arn:a", "arn:b"], "detail": {"status": "FAILED", "n": 301.8, "ip": "10.0.0.1",
               "items": [{"a": "1", "b": [2, null]}, {"a": "x", "c": {"d": "2001:db8::1"}}], "none": null, "e": []}}),
        json!({"a": [[["x"]], {"a": "y"}], "a.b": "1", "": {"": ""}}),
        json!({}),
    ];
    for e in &events {
        let _ = pattern.matches(e);
    }
}

/// The bytes as a schedule expression (both dialects); whatever parses is asked for its
/// next fires in three zones (one with a half-hour daylight-saving change) from a few
/// starting points, including the ends of the years AWS allows.
pub fn schedule(data: &[u8]) {
    use sandstep_events::schedule::{zone, Dialect, Expression, Schedule};
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for dialect in [Dialect::Rule, Dialect::Scheduler] {
        let Ok(expression) = Expression::parse(text, dialect) else {
            continue;
        };
        for name in ["UTC", "America/New_York", "Australia/Lord_Howe"] {
            let Ok(tz) = zone(name) else {
                continue;
            };
            for after in [-86_400_000_i64, 0, 1_805_000_000_000, 7_258_118_399_000, i64::MAX / 4] {
                let s = Schedule::new(expression.clone(), tz.clone(), 1_800_000_000_000, None);
                let fires = s.upcoming(after, 3);
                if fires.windows(2).any(|w| matches!(w, [a, b] if a >= b)) || fires.first().is_some_and(|f| *f <= after) {
                    panic!("{text} in {name}: fires not after {after} and increasing: {fires:?}");
                }
            }
        }
    }
}
