//! EventBridge's pure rules, without I/O: event [`pattern`]s, checked when a rule is put
//! and matched against every event on its bus, and [`schedule`] expressions with the
//! times they fire. Its own crate so that it is fuzzed without
//! building the server.
//!
//! ```
//! use sandstep_events::pattern::Pattern;
//!
//! let pattern = Pattern::parse(r#"{"source": ["aws.states"], "detail": {"status": ["FAILED", "TIMED_OUT"]}}"#).unwrap();
//! let event = serde_json::json!({"source": "aws.states", "detail": {"status": "FAILED"}});
//! assert!(pattern.matches(&event));
//! ```
#![deny(missing_docs)]

#[cfg(test)]
mod fuzz_regressions;
pub mod pattern;
pub mod schedule;
