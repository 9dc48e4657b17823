//! DynamoDB in Sandstep: the pure data model is the `sandstep-dynamo` crate (values,
//! numbers, keys, expressions and their evaluation), re-exported here; [`ops`] runs
//! DynamoDB's actions with it over the store's `Tables`, one implementation for the
//! integrations and the DynamoDB API, so that both answer alike.

pub use sandstep_dynamo::{eval, expr, key, number, value};

pub mod ops;
