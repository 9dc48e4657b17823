//! Durability, throughput, memory and recovery of the runtime, in one run:
//! `cargo bench -p sandstep --bench durable` (about two minutes).
//!
//! (a) the sled floor: records/s with one `flush()` + `fdatasync` per write, and with
//!     group commit (many writer threads sharing syncs), on the project's `Sled` backend;
//! (b) Standard: state transitions/s for 3-Pass executions started concurrently through
//!     the `Scheduler` on sled with group commit, against the group-commit floor;
//! (c) Express sync: executions/s for 3 Pass states, one thread, against the bare engine
//!     `step` of the same definition;
//! (d) memory: RSS per Standard execution waiting in a one-hour Wait;
//! (e) recovery: a fresh `Scheduler::recover()` on that store until every timer is armed.
//!
//! `SANDSTEP_BENCH_WAITING` sets the number of waiting executions for (d)/(e) (100,000);
//! `SANDSTEP_BENCH_DIR` the directory for the stores (the system temp dir).

// Benchmark code: a failed expect is a broken benchmark.
#![allow(clippy::expect_used, clippy::indexing_slicing, clippy::unwrap_used)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;

use common::{
    env_or, machine, park, request, runtime, scheduler, scratch, standard_rate, threads, INPUT,
    PASS3, STARTERS, WAIT,
};
use sandstep::model::MachineType;
use sandstep::scheduler::runner::NoTasks;
use sandstep::scheduler::{Options, Scheduler};
use sandstep::store::backend::{Backend, Write};
use sandstep::store::durability::Durability;
use sandstep::store::sled::Sled;
use sandstep::store::Store;
use sandstep_engine::{step, Definition, Event, EventKind, ExecutionState, Start};
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Writer threads (a).
const WRITERS: usize = 64;
/// Bytes per record in (a): about one 3-Pass Standard commit (record + step + indexes).
const RECORD: usize = 1500;

/// (a) Writes for `budget` from `threads` threads, each write made durable before the
/// next; returns records/s.
fn floor(durability: Durability, threads: usize, budget: Duration) -> f64 {
    let dir = scratch("floor");
    let db = Arc::new(Sled::open(&dir, durability).expect("sled"));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (db, stop, done) = (Arc::clone(&db), Arc::clone(&stop), Arc::clone(&done));
            std::thread::spawn(move || {
                let value = vec![b'x'; RECORD];
                let mut i = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("floor/{t:04}/{i:012}").into_bytes();
                    db.apply(vec![Write::Put(key, value.clone())]).expect("put");
                    db.durable().expect("sync");
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(budget);
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("writer");
    }
    let rate = done.load(Ordering::Relaxed) as f64 / began.elapsed().as_secs_f64();
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    rate
}

/// (c) Express sync, one thread: (executions/s through the scheduler, bare engine
/// executions/s).
fn express(budget: Duration) -> (f64, f64) {
    let pass3 = machine("pass3x", PASS3, MachineType::Express);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let through = rt.block_on(async {
        let s = scheduler(&Store::memory(), &[&pass3], Arc::new(NoTasks));
        let req = request(&pass3, "x".into());
        for _ in 0..10_000 {
            s.start(req.clone(), true).await.expect("start");
        }
        let began = Instant::now();
        let mut n = 0u64;
        while began.elapsed() < budget {
            for _ in 0..1000 {
                let e = s.start(req.clone(), true).await.expect("start");
                std::hint::black_box(e);
            }
            n += 1000;
        }
        n as f64 / began.elapsed().as_secs_f64()
    });
    // Baseline: the engine alone, same definition and input, same thread.
    let def = Definition::parse(PASS3).expect("definition");
    let input: Value = serde_json::from_str(INPUT).expect("json");
    let start = Start {
        input,
        execution_arn: "arn:aws:states:us-east-1:000000000000:express:pass3x:x".into(),
        name: "x".into(),
        role_arn: "arn:aws:iam::000000000000:role/bench".into(),
        state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:pass3x".into(),
        state_machine_name: "pass3x".into(),
        redrive_count: 0,
        timeout_seconds: Some(300),
        limits: sandstep_engine::Limits::default(),
        token_key: None,
        state_machine_version_arn: None,
        state_machine_alias_arn: None,
    };
    let began = Instant::now();
    let mut n = 0u64;
    while began.elapsed() < budget {
        for _ in 0..1000 {
            let mut state = ExecutionState::new();
            let event = Event {
                at: 0,
                entropy: n,
                kind: EventKind::Started(start.clone()),
            };
            std::hint::black_box(step(&def, &mut state, &event).expect("runs"));
        }
        n += 1000;
    }
    let bare = n as f64 / began.elapsed().as_secs_f64();
    (through, bare)
}

/// (d) and (e): `count` Standard executions waiting an hour; RSS per execution, then a
/// fresh scheduler's recovery on the same store.
fn waiting(dir: &Path, count: u64) {
    let wait = machine("wait", WAIT, MachineType::Standard);
    {
        let store = Store::on(Sled::open(dir, Durability::default()).expect("sled"));
        let rt = runtime();
        rt.block_on(async {
            let s = scheduler(&store, &[&wait], Arc::new(NoTasks));
            // Two timers per waiting Standard execution: its Wait's and its one-year limit.
            let armed = |s: &Scheduler, all| s.timers_armed() >= 2 * all as usize;
            let p = park(&s, &wait, count, armed, Duration::ZERO).await;
            println!(
                "(d) memory: {} Standard executions in Wait 3600 s (started at {:.0}/s): RSS {} KiB -> {} KiB, {:.0} B/execution ({:.2} KiB; goal <= 2 KiB), {} live in the scheduler cache, {} threads",
                p.n,
                p.start_rate(),
                p.base,
                p.after,
                p.per_execution(),
                p.per_execution() / 1024.0,
                s.live_count(),
                threads()
            );
        });
        // Drop the runtime (its tasks hold the scheduler) before the store.
        drop(rt);
    }
    let began = Instant::now();
    let store = Store::on(Sled::open(dir, Durability::default()).expect("reopen"));
    let opened = began.elapsed();
    let rt = runtime();
    rt.block_on(async {
        let s = Scheduler::new(Options::default(), store.clone(), Arc::new(NoTasks)).expect("scheduler");
        let began = Instant::now();
        let resumed = s.recover().await.expect("recover");
        let returned = began.elapsed();
        while s.timers_armed() < 2 * resumed {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let armed = began.elapsed();
        println!(
            "(e) recovery: sled reopen {:.0} ms; recover() {resumed} executions in {:.0} ms, all timers armed after {:.0} ms ({:.1} µs/execution); total from reopen {:.0} ms",
            opened.as_secs_f64() * 1e3,
            returned.as_secs_f64() * 1e3,
            armed.as_secs_f64() * 1e3,
            armed.as_secs_f64() * 1e6 / resumed.max(1) as f64,
            (opened + armed).as_secs_f64() * 1e3
        );
    });
    drop(rt);
}

fn main() {
    let count = env_or("SANDSTEP_BENCH_WAITING", 100_000) as u64;
    if std::env::args().any(|a| a == "--waiting") {
        let dir = scratch("waiting");
        waiting(&dir, count);
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let budget = Duration::from_secs(5);
    println!(
        "# sandstep durable bench ({} CPUs)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let fsync = floor(Durability::Fsync, 1, budget);
    let group = floor(Durability::default(), WRITERS, budget);
    println!(
        "(a) sled floor, {RECORD}-byte records: fsync per write {fsync:.0} records/s (1 writer); group commit {group:.0} records/s ({WRITERS} writers), {:.1}x",
        group / fsync
    );
    let (executions, transitions) = standard_rate(budget);
    println!(
        "(b) Standard pass3 via Scheduler, sled group commit, {STARTERS} concurrent starts: {executions:.0} executions/s = {transitions:.0} transitions/s; commits/s vs group floor {:.0}% (goal >= 50%); transitions/s vs group floor {:.0}%",
        100.0 * executions / group,
        100.0 * transitions / group
    );
    let (through, bare) = express(budget);
    println!(
        "(c) Express sync pass3, one thread: {through:.0} executions/s ({:.2} µs each; goal >= 100,000/s); bare engine step {bare:.0}/s; scheduler costs {:.2}x the engine",
        1e6 / through,
        bare / through
    );
    // (d) and (e) in a fresh process, so that the RSS baseline holds nothing of the
    // phases above (allocator caches, runtime threads).
    let status = std::process::Command::new(std::env::current_exe().expect("exe"))
        .arg("--waiting")
        .status()
        .expect("waiting phase");
    assert!(status.success(), "waiting phase failed: {status}");
}
