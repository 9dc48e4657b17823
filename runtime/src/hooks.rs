//! HTTP routes' pure parts (the API Gateway role): [`path`] templates and their matching,
//! the [`request`] as an execution's input, the [`response`] a synchronous route sends,
//! webhook [`signature`]s and per-route [`rate`] limits. The use cases are
//! `service::routes`; `/hooks/{account}{path}` is `api::hooks`.

pub mod path;
pub mod rate;
pub mod request;
pub mod response;
pub mod signature;
