//! Per-task overhead of the sandbox: `cargo bench -p sandstep --bench sandbox`
//! (needs `modules/build.sh` first).
//!
//! For the `echo` component and the `word-count` WASI command, the median time of one task
//! through the sandbox (prepare: registry lookup and cache hit; run: store, limits, fuel,
//! epoch callback, instantiate, call, output parsed; teardown) next to bare wasmtime on the
//! same engine (`Store::new`, instantiate from an `InstancePre`, call, drop), measured in
//! the same run, interleaved. Then the time from an infinite loop's start to its
//! `States.Timeout` with a 1 s timeout.

// Benchmark code: a failed expect is a broken benchmark.
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic
)]

use sandstep::grants::Grants;
use sandstep::sandbox::{CancelHandle, Invocation, Limits, Options, Sandbox, TaskContext};
use sandstep::store::{Store, TenantId};
use std::path::Path;
use std::time::{Duration, Instant};
use wasmtime::component::{Component, Linker as ComponentLinker};
use wasmtime::{Engine, Linker, Module};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::WasiCtxBuilder;

mod bare {
    wasmtime::component::bindgen!({ path: "../host-api/wit", world: "task" });
}

const SAMPLES: usize = 20_000;
const BATCH: usize = 500;

fn wasm(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../modules/dist/{name}.wasm"));
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; run `bash modules/build.sh` first", path.display()))
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Times `a` and `b` in alternating batches; returns both sample sets.
fn interleaved(mut a: impl FnMut(), mut b: impl FnMut()) -> (Vec<Duration>, Vec<Duration>) {
    for _ in 0..BATCH {
        a();
        b();
    }
    let (mut ta, mut tb) = (Vec::with_capacity(SAMPLES), Vec::with_capacity(SAMPLES));
    while ta.len() < SAMPLES {
        for _ in 0..BATCH {
            let t = Instant::now();
            a();
            ta.push(t.elapsed());
        }
        for _ in 0..BATCH {
            let t = Instant::now();
            b();
            tb.push(t.elapsed());
        }
    }
    (ta, tb)
}

fn report(what: &str, sandbox: &mut [Duration], bare: &mut [Duration]) {
    let (s, b) = (median(sandbox), median(bare));
    println!(
        "{what:<30} sandbox {:>7.2} µs   bare wasmtime {:>7.2} µs   ratio {:.2}x",
        s.as_secs_f64() * 1e6,
        b.as_secs_f64() * 1e6,
        s.as_secs_f64() / b.as_secs_f64()
    );
}

fn invocation() -> Invocation {
    Invocation {
        context: TaskContext {
            execution_arn: "arn:aws:states:us-east-1:000000000000:execution:bench:e".into(),
            state_name: "Echo".into(),
            attempt: 0,
            task_token: None,
        },
        limits: Limits::default(),
        cancel: CancelHandle::new(),
        heartbeats: Default::default(),
    }
}

fn bare_component(engine: &Engine, bytes: &[u8]) -> impl FnMut() {
    let component = Component::new(engine, bytes).expect("compiles");
    let mut linker: ComponentLinker<()> = ComponentLinker::new(engine);
    linker
        .define_unknown_imports_as_traps(&component)
        .expect("stubs");
    let pre = bare::TaskPre::new(linker.instantiate_pre(&component).expect("links")).expect("task");
    let engine = engine.clone();
    let context = bare::sandstep::host::types::Context {
        execution_arn: "arn:aws:states:us-east-1:000000000000:execution:bench:e".into(),
        state_name: "Echo".into(),
        attempt: 0,
        task_token: None,
        deadline_ms: 0,
    };
    move || {
        let mut store = wasmtime::Store::new(&engine, ());
        store.set_fuel(u64::MAX / 2).expect("fuel");
        store.set_epoch_deadline(1 << 62);
        let task = pre.instantiate(&mut store).expect("instantiates");
        let out = task
            .call_run(&mut store, r#"{"hello":"world"}"#, &context)
            .expect("runs")
            .expect("succeeds");
        assert_eq!(out.len(), 17);
    }
}

fn bare_command(engine: &Engine, bytes: &[u8]) -> impl FnMut() {
    let module = Module::new(engine, bytes).expect("compiles");
    let mut linker: Linker<WasiP1Ctx> = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |s| s).expect("wasi");
    let pre = linker.instantiate_pre(&module).expect("links");
    let engine = engine.clone();
    move || {
        let stdout = MemoryOutputPipe::new(1 << 20);
        let wasi = WasiCtxBuilder::new()
            .stdin(MemoryInputPipe::new(r#"{"text": "one two"}"#))
            .stdout(stdout.clone())
            .stderr(MemoryOutputPipe::new(1 << 16))
            .build_p1();
        let mut store = wasmtime::Store::new(&engine, wasi);
        store.set_fuel(u64::MAX / 2).expect("fuel");
        store.set_epoch_deadline(1 << 62);
        let instance = pre.instantiate(&mut store).expect("instantiates");
        let start = instance
            .get_typed_func::<(), ()>(&mut store, "_start")
            .expect("_start");
        start.call(&mut store, ()).expect("exits 0");
        drop(store);
        assert!(!stdout.contents().is_empty());
    }
}

fn main() {
    let sandbox = Sandbox::new(Options::default(), Store::memory()).expect("sandbox");
    let tenant = TenantId("bench".into());
    for name in ["echo", "word-count", "infinite-loop"] {
        sandbox
            .register(&tenant, name, &wasm(name), Grants::none())
            .expect("registers");
    }
    println!("per-task overhead, median of {SAMPLES} (prepare + run + teardown):");

    let through_sandbox = |name: &'static str, input: &'static str| {
        let (sandbox, tenant) = (sandbox.clone(), tenant.clone());
        move || {
            let prepared = sandbox.prepare(&tenant, name, None).expect("prepared");
            let outcome = sandbox.run(&prepared, input, invocation());
            assert!(outcome.result.is_ok(), "{:?}", outcome.result);
        }
    };
    let (mut s, mut b) = interleaved(
        through_sandbox("echo", r#"{"hello":"world"}"#),
        bare_component(sandbox.engine(), &wasm("echo")),
    );
    report("component (echo)", &mut s, &mut b);

    let mut lookups: Vec<Duration> = (0..SAMPLES)
        .map(|_| {
            let t = Instant::now();
            let prepared = sandbox.prepare(&tenant, "echo", None).expect("prepared");
            let elapsed = t.elapsed();
            drop(prepared);
            elapsed
        })
        .collect();
    println!(
        "{:<30} {:>7.2} µs (registry lookup, cached linked code)",
        "of which prepare",
        median(&mut lookups).as_secs_f64() * 1e6
    );

    let prepared = sandbox.prepare(&tenant, "echo", None).expect("prepared");
    let run_only = || {
        let outcome = sandbox.run(&prepared, r#"{"hello":"world"}"#, invocation());
        assert!(outcome.result.is_ok());
    };
    let (mut s, mut b) = interleaved(run_only, bare_component(sandbox.engine(), &wasm("echo")));
    report("component (echo), run only", &mut s, &mut b);

    let (mut s, mut b) = interleaved(
        through_sandbox("word-count", r#"{"text": "one two"}"#),
        bare_command(sandbox.engine(), &wasm("word-count")),
    );
    report("command (word-count)", &mut s, &mut b);

    let counted = sandbox
        .prepare(&tenant, "word-count", None)
        .expect("prepared");
    let run_only = || {
        let outcome = sandbox.run(&counted, r#"{"text": "one two"}"#, invocation());
        assert!(outcome.result.is_ok());
    };
    let (mut s, mut b) = interleaved(
        run_only,
        bare_command(sandbox.engine(), &wasm("word-count")),
    );
    report("command (word-count), run only", &mut s, &mut b);

    let looping = sandbox
        .prepare(&tenant, "infinite-loop", None)
        .expect("prepared");
    let mut latencies: Vec<Duration> = (0..5)
        .map(|_| {
            let mut inv = invocation();
            inv.limits.timeout = Duration::from_secs(1);
            let t = Instant::now();
            let outcome = sandbox.run(&looping, "{}", inv);
            let elapsed = t.elapsed();
            let error = outcome.result.expect_err("times out").error;
            assert_eq!(error.as_str(), "States.Timeout");
            elapsed
        })
        .collect();
    let max = latencies.iter().max().copied().unwrap_or_default();
    println!(
        "infinite loop to States.Timeout (1 s timeout): median {:.1} ms, max {:.1} ms over {} runs",
        median(&mut latencies).as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        latencies.len()
    );
}
