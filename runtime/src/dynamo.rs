//! DynamoDB's data model, pure: attribute values and exact numbers, the expression
//! languages (conditions, updates, projections) and their evaluation. The store keeps
//! items; the integrations and the DynamoDB API use this module to read requests and
//! compute results, so that both answer alike.

pub mod eval;
pub mod expr;
pub mod key;
pub mod number;
pub mod ops;
pub mod value;
