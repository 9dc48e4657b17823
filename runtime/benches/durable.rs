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

use sandstep::model::{MachineType, Revision, StateMachine};
use sandstep::scheduler::runner::NoTasks;
use sandstep::scheduler::{Options, Scheduler, StartRequest};
use sandstep::store::backend::{Backend, Write};
use sandstep::store::durability::Durability;
use sandstep::store::sled::Sled;
use sandstep::store::{StateMachines, Store, TenantId, Tenants as _};
use sandstep_engine::{step, Definition, Event, EventKind, ExecutionState, Start};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASS3: &str = r#"{"StartAt":"P1","States":{"P1":{"Type":"Pass","Next":"P2"},"P2":{"Type":"Pass","Next":"P3"},"P3":{"Type":"Pass","End":true}}}"#;
const WAIT: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"Next":"Done"},"Done":{"Type":"Succeed"}}}"#;
const INPUT: &str = r#"{"n":1,"s":"hello"}"#;
/// Writer threads (a) and concurrent starts (b, d).
const WRITERS: usize = 64;
const STARTERS: usize = 256;
/// Bytes per record in (a): about one 3-Pass Standard commit (record + step + indexes).
const RECORD: usize = 1500;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn scratch(name: &str) -> PathBuf {
    let base = std::env::var_os("SANDSTEP_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("sandstep-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .expect("procfs")
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

fn machine(name: &str, definition: &str, kind: MachineType) -> (StateMachine, Revision) {
    let machine = StateMachine {
        name: name.into(),
        arn: format!("arn:aws:states:us-east-1:000000000000:stateMachine:{name}"),
        machine_type: kind,
        role_arn: "arn:aws:iam::000000000000:role/bench".into(),
        revision_id: "r1".into(),
        created: 0,
        updated: 0,
        description: None,
        logging: None,
        tracing: None,
    };
    let revision = Revision {
        id: "r1".into(),
        definition: definition.into(),
        sha256: String::new(),
        created: 0,
    };
    (machine, revision)
}

fn request(m: &(StateMachine, Revision), name: String) -> StartRequest {
    StartRequest {
        tenant: TenantId("default".into()),
        account: "000000000000".into(),
        machine: m.0.clone(),
        revision: m.1.clone(),
        name,
        input: serde_json::from_str(INPUT).expect("json"),
        input_text: INPUT.into(),
        pins: Default::default(),
        parent: None,
    }
}

/// A scheduler on `store`, with the revisions stored (recovery reads them) and a tenant
/// whose quota of open executions does not stop the benchmark's 100,000 waiting ones.
fn scheduler(store: &Store, machines: &[&(StateMachine, Revision)]) -> Scheduler {
    let tenant = TenantId("default".into());
    for (m, r) in machines {
        store.machine_put(&tenant, m, Some(r)).expect("machine");
    }
    let unbounded = sandstep::tenants::Tenant {
        quotas: sandstep::tenants::Quotas {
            max_open_executions: u64::MAX,
            ..sandstep::tenants::Quotas::default()
        },
        ..sandstep::tenants::default_tenant()
    };
    // Already there when the store is reopened for recovery.
    let _ = store.tenant_insert(&unbounded).expect("tenant");
    Scheduler::new(Options::default(), store.clone(), Arc::new(NoTasks)).expect("scheduler")
}

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

/// Starts executions of `m` from `concurrency` tasks until `count` have started or
/// `budget` has passed; returns (started, elapsed).
async fn start_many(
    s: &Scheduler,
    m: &(StateMachine, Revision),
    prefix: &str,
    concurrency: usize,
    count: u64,
    budget: Duration,
) -> (u64, Duration) {
    let next = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (s, m, next, prefix) =
                (s.clone(), m.clone(), Arc::clone(&next), prefix.to_string());
            tokio::spawn(async move {
                let mut n = 0u64;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count || began.elapsed() >= budget {
                        return n;
                    }
                    s.start(request(&m, format!("{prefix}-{i}")), false)
                        .await
                        .expect("start");
                    n += 1;
                }
            })
        })
        .collect();
    let mut started = 0;
    for t in tasks {
        started += t.await.expect("starter");
    }
    (started, began.elapsed())
}

fn runtime() -> tokio::runtime::Runtime {
    // What `sandstep serve` runs on: the default multi-thread runtime.
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// (b) Standard 3-Pass executions through the scheduler on sled with group commit.
/// Returns transitions/s.
fn standard(budget: Duration) -> (f64, f64) {
    let dir = scratch("standard");
    let store = Store::on(Sled::open(&dir, Durability::default()).expect("sled"));
    let pass3 = machine("pass3", PASS3, MachineType::Standard);
    let rt = runtime();
    let (executions, transitions, elapsed) = rt.block_on(async {
        let s = scheduler(&store, &[&pass3]);
        start_many(&s, &pass3, "warm", STARTERS, 2_000, budget).await;
        let before = s.counters().transitions.load(Ordering::Relaxed);
        let (n, elapsed) = start_many(&s, &pass3, "run", STARTERS, u64::MAX, budget).await;
        let transitions = s.counters().transitions.load(Ordering::Relaxed) - before;
        (n, transitions, elapsed)
    });
    drop(rt);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    let secs = elapsed.as_secs_f64();
    (executions as f64 / secs, transitions as f64 / secs)
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
        let s = scheduler(&Store::memory(), &[&pass3]);
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
            let s = scheduler(&store, &[&wait]);
            // As `sandstep serve` does on a new data dir: nothing to recover, and the
            // store is marked as keeping the pin index from the start.
            s.recover().await.expect("recover");
            // Warm up allocator, caches and runtime, then take the baseline.
            start_many(&s, &wait, "warm", STARTERS, 1_000, Duration::from_secs(60)).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
            let base = rss_kib();
            let (n, elapsed) = start_many(
                &s,
                &wait,
                "w",
                STARTERS,
                count,
                Duration::from_secs(600),
            )
            .await;
            while s.timers_armed() < (n + 1_000) as usize {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let after = rss_kib();
            let threads = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|t| t.lines().find_map(|l| l.strip_prefix("Threads:")).map(|v| v.trim().to_string()))
                .unwrap_or_default();
            let per = (after.saturating_sub(base)) as f64 * 1024.0 / n as f64;
            println!(
                "(d) memory: {n} Standard executions in Wait 3600 s (started at {:.0}/s): RSS {base} KiB -> {after} KiB, {per:.0} B/execution ({:.2} KiB; goal <= 2 KiB), {} live in the scheduler cache, {threads} threads",
                n as f64 / elapsed.as_secs_f64(),
                per / 1024.0,
                s.live_count()
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
        while s.timers_armed() < resumed {
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
    let (executions, transitions) = standard(budget);
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
