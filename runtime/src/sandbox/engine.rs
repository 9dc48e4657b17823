//! The one wasmtime configuration Sandstep runs with, its fingerprint, and the epoch ticker.

use super::Options;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// The wasmtime release the artifacts are compiled by (part of the fingerprint).
pub(crate) const WASMTIME_VERSION: &str = "48.0.8";

/// Builds the engine. Everything a hostile module could abuse is fixed here.
pub(crate) fn build(options: &Options) -> wasmtime::Result<Engine> {
    let mut config = compiling(options);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool(options)));
    Engine::new(&config)
}

/// Builds an engine that only compiles: the settings of [`build`] that shape code, so
/// that what it compiles loads into the run engine, without the pool (which changes no
/// code, and would reserve gigabytes of address space per compile).
pub(crate) fn build_compiler(options: &Options) -> wasmtime::Result<Engine> {
    Engine::new(&compiling(options))
}

fn compiling(options: &Options) -> Config {
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .wasm_threads(false)
        .consume_fuel(true)
        .epoch_interruption(true)
        .max_wasm_stack(options.max_wasm_stack_bytes)
        .parallel_compilation(options.parallel_compilation);
    config
}

fn pool(options: &Options) -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::new();
    let slots = options.pool_slots;
    pool.total_component_instances(slots)
        .total_core_instances(slots.saturating_mul(16))
        .total_memories(slots.saturating_mul(2))
        .total_tables(slots.saturating_mul(2))
        .max_memory_size(options.max_memory_bytes)
        .table_elements(options.max_table_elements)
        .max_memories_per_module(1)
        .max_tables_per_module(1)
        // Reusing a slot resets the pages a task dirtied (found with Linux's PAGEMAP_SCAN
        // where the kernel has it, else the lowest ones) with memset instead of madvise, so
        // the next task does not page-fault them in again: half the cost of a small task.
        .linear_memory_keep_resident(512 << 10)
        .table_keep_resident(64 << 10)
        .pagemap_scan(Enabled::Auto);
    pool
}

/// What an artifact must match to be loaded: the wasmtime version, the artifact layout
/// and every setting that changes compiled code (wasmtime's own compatibility hash).
pub(crate) fn fingerprint(engine: &Engine) -> String {
    let mut hasher = ShaHasher(Sha256::new());
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
    let mut digest = hasher.0;
    digest.update(WASMTIME_VERSION.as_bytes());
    digest.update(super::artifact::FORMAT.as_bytes());
    let hex = crate::store::data::hex(&digest.finalize());
    format!(
        "wasmtime-{WASMTIME_VERSION}-{}",
        hex.get(..16).unwrap_or(&hex)
    )
}

/// Feeds `Hash` into SHA-256: stable across processes, unlike `DefaultHasher`'s seed.
struct ShaHasher(Sha256);

impl std::hash::Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// Increments the engine's epoch about every `tick` until dropped. The watch measures
/// real time on each tick, so drift in the sleeps delays a check, never a deadline.
#[derive(Debug)]
pub(crate) struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    pub(crate) fn start(engine: &Engine, tick: Duration) -> std::io::Result<Ticker> {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, flag) = (engine.clone(), stop.clone());
        std::thread::Builder::new()
            .name("sandstep-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    engine.increment_epoch();
                }
            })?;
        Ok(Ticker { stop })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
