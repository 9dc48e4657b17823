//! SNS's pure rules, without I/O: subscription filter policies ([`filter`]), checked when
//! a subscription sets one and matched against each published message. Its own crate so
//! that it is fuzzed without building the server.
//!
//! ```
//! use sandstep_sns::filter::Policy;
//!
//! let policy = Policy::parse(r#"{"kind": ["order"], "total": [{"numeric": [">", 100]}]}"#).unwrap();
//! let attributes = serde_json::json!({"kind": "order", "total": "250"});
//! assert!(policy.matches(attributes.as_object().unwrap()));
//! ```
#![deny(missing_docs)]

pub mod filter;
#[cfg(test)]
mod fuzz_regressions;
