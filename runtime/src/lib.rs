//! Sandstep: a self-hosted AWS Step Functions where every Task runs as a WebAssembly module.
//!
//! The engine (`sandstep-engine`) interprets ASL without side effects; this crate runs its
//! commands: the store, the sandbox, the scheduler and the HTTP API.
#![deny(missing_docs)]

pub mod api;
pub mod arn;
pub mod config;
pub mod console;
pub mod grants;
pub mod host;
pub mod local;
pub mod pins;
pub mod sandbox;
pub mod scheduler;
pub mod server;
pub mod store;
pub mod tasks;
pub mod tenants;
pub mod worker;

/// The task runner and module host `sandstep serve` uses: the Wasm sandbox.
///
/// # Errors
/// When the sandbox cannot be created (the pooling allocator cannot reserve memory).
pub fn plugins(store: &store::Store, config: &config::Config) -> anyhow::Result<server::Plugins> {
    let options = sandbox::Options {
        max_module_bytes: config.max_module_bytes(),
        ..sandbox::Options::default()
    };
    let sandbox = sandbox::Sandbox::new(options, store.clone())?;
    let worker = std::sync::Arc::new(worker::Worker::new(sandbox, store.clone()));
    Ok(server::Plugins {
        runner: worker.clone(),
        modules: worker,
    })
}
