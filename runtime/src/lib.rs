//! Sandstep: a self-hosted AWS Step Functions where every Task runs as a WebAssembly module.
//!
//! The engine (`sandstep-engine`) interprets ASL without side effects; this crate runs its
//! commands: the store, the sandbox, the scheduler and the HTTP API.
#![deny(missing_docs)]

pub mod grants;
pub mod host;
pub mod local;
pub mod sandbox;
pub mod store;
pub mod tasks;
