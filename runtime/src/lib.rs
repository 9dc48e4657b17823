//! Sandstep: a self-hosted AWS Step Functions where every Task runs as a WebAssembly module.
//!
//! The engine (`sandstep-engine`) interprets ASL without side effects; this crate runs its
//! commands: the store, the sandbox, the scheduler and the HTTP API.
#![deny(missing_docs)]

pub mod alloc_meter;
pub mod api;
pub mod arn;
pub mod bindings;
pub mod clock;
pub mod cluster;
pub mod config;
pub mod console;
pub mod dynamo;
pub mod eventbridge;
pub mod grants;
pub mod hooks;
pub mod host;
pub mod local;
pub mod map_run;
pub mod model;
pub mod outbound;
pub mod pins;
pub mod quotas;
pub mod s3;
pub mod samples;
pub mod sandbox;
pub mod scheduler;
pub mod secrets;
pub mod server;
pub mod service;
pub mod sns;
pub mod sqs;
pub mod store;
pub mod tasks;
pub mod tenants;
pub mod worker;

/// The task runner and module host `sandstep serve` uses: the Wasm sandbox.
///
/// # Errors
/// When the sandbox cannot be created (the pooling allocator cannot reserve memory).
pub fn plugins(store: &store::Store, config: &config::Config) -> anyhow::Result<server::Plugins> {
    use anyhow::Context as _;
    // Uploads compile in a child of this very executable, so a module cannot take the
    // server's memory or time (see `sandbox::compile_child`). `/proc/self/exe` is the
    // running executable even after an upgrade replaced the file.
    let exe = match std::path::Path::new("/proc/self/exe") {
        linux if linux.exists() => linux.to_path_buf(),
        _ => std::env::current_exe().context("cannot find the sandstep executable")?,
    };
    let compiler = sandbox::ChildCompiler {
        exe,
        memory_bytes: config.compile_memory_mib << 20,
        timeout: std::time::Duration::from_secs(config.compile_timeout_seconds),
    };
    let answers = host::callback::AnswerSlot::default();
    let outbound = config.outbound()?;
    let options = sandbox::Options {
        max_module_bytes: config.max_module_bytes(),
        compiler: Some(compiler),
        answers: answers.clone(),
        outbound: Some(outbound.clone()),
        ..sandbox::Options::default()
    };
    let sandbox = sandbox::Sandbox::new(options, store.clone())?;
    let worker = std::sync::Arc::new(worker::Worker::new(sandbox, store.clone()));
    Ok(server::Plugins {
        runner: worker.clone(),
        jobs: worker.clone(),
        modules: worker,
        answers,
        outbound,
    })
}
