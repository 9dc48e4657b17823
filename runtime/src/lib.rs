//! Sandstep: a self-hosted AWS Step Functions where every Task runs as a WebAssembly module.
//!
//! The engine (`sandstep-engine`) interprets ASL without side effects; this crate runs its
//! commands: the store, the sandbox, the scheduler and the HTTP API.
#![deny(missing_docs)]

pub mod api;
pub mod arn;
pub mod config;
pub mod grants;
pub mod local;
pub mod pins;
pub mod scheduler;
pub mod server;
pub mod store;
pub mod tenants;

/// The task runner and module host `sandstep serve` uses.
pub fn plugins(_store: &store::Store) -> server::Plugins {
    server::Plugins { runner: std::sync::Arc::new(scheduler::runner::NoTasks), modules: std::sync::Arc::new(api::modules::NoModules) }
}
