//! DynamoDB's data model, pure: attribute values and exact numbers ([`value`],
//! [`number`]), key schemas and the bytes items are stored under ([`key`]), the expression
//! languages ([`expr`]: conditions, updates, projections) and their evaluation ([`eval`]).
//! No I/O: Sandstep's store keeps the items and its `dynamo::ops` runs DynamoDB's actions
//! with this crate, for the DynamoDB API and the `dynamodb:` Task integrations alike. Its
//! own crate so that it is fuzzed without building the server.
//!
//! ```
//! use sandstep_dynamo::expr::{Kind, Placeholders};
//! use sandstep_dynamo::value::{item_from_json, Value};
//! use sandstep_dynamo::eval::holds;
//!
//! let item = item_from_json(&serde_json::json!({"stock": {"N": "3"}})).unwrap();
//! let values = [(":one".to_string(), Value::N("1".parse().unwrap()))].into();
//! let mut placeholders = Placeholders::new(None, Some(values));
//! let condition = placeholders.condition(Kind::Condition, "stock >= :one").unwrap();
//! assert!(holds(&item, &condition).unwrap());
//! ```
#![deny(missing_docs)]

pub mod eval;
pub mod expr;
#[cfg(test)]
mod fuzz_regressions;
pub mod key;
pub mod number;
pub mod value;
