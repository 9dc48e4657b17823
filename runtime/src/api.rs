//! The HTTP API: AWS Step Functions JSON 1.0 and its authentication.

pub mod sigv4;
