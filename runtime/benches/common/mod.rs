//! What the runtime benchmarks share: scratch directories, the process's RSS, machines
//! and start requests, a scheduler on a store, and many concurrent starts.

// Each bench uses a part of this module.
#![allow(dead_code)]

use sandstep::model::{MachineType, Revision, StateMachine};
use sandstep::scheduler::runner::TaskRunner;
use sandstep::scheduler::{Options, Scheduler, StartRequest};
use sandstep::store::{StateMachines, Store, TenantId, Tenants as _};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub const PASS3: &str = r#"{"StartAt":"P1","States":{"P1":{"Type":"Pass","Next":"P2"},"P2":{"Type":"Pass","Next":"P3"},"P3":{"Type":"Pass","End":true}}}"#;
pub const WAIT: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":3600,"Next":"Done"},"Done":{"Type":"Succeed"}}}"#;
pub const INPUT: &str = r#"{"n":1,"s":"hello"}"#;
/// Concurrent starts, as many as an HTTP front end with many clients would make.
pub const STARTERS: usize = 256;

/// The number in the environment variable `name`, or `default`.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A fresh directory for a store, under `SANDSTEP_BENCH_DIR` or the system temp dir.
pub fn scratch(name: &str) -> PathBuf {
    let base = std::env::var_os("SANDSTEP_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let dir = base.join(format!("sandstep-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A field of `/proc/self/status` (`VmRSS:`, `Threads:`), without its unit.
fn status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .expect("procfs")
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .map(|v| v.trim().trim_end_matches("kB").trim().to_string())
        .expect("status field")
}

/// This process's resident set, KiB.
pub fn rss_kib() -> u64 {
    status("VmRSS:").parse().expect("VmRSS")
}

/// This process's threads.
pub fn threads() -> String {
    status("Threads:")
}

/// A machine of `kind` named `name` with one revision of `definition`.
pub fn machine(name: &str, definition: &str, kind: MachineType) -> (StateMachine, Revision) {
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
        revised: false,
        last_version: 0,
        generation: 0,
    };
    let revision = Revision {
        id: "r1".into(),
        definition: definition.into(),
        sha256: String::new(),
        created: 0,
    };
    (machine, revision)
}

/// A start of `m` named `name` with [`INPUT`].
pub fn request(m: &(StateMachine, Revision), name: String) -> StartRequest {
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
        version: None,
        alias: None,
        map_run: None,
    }
}

/// A scheduler on `store` running tasks with `runner`, with the revisions stored
/// (recovery reads them) and a tenant whose quota of open executions does not stop the
/// benchmarks' 100,000 waiting ones.
pub fn scheduler(
    store: &Store,
    machines: &[&(StateMachine, Revision)],
    runner: Arc<dyn TaskRunner>,
) -> Scheduler {
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
    Scheduler::new(Options::default(), store.clone(), runner).expect("scheduler")
}

/// Starts executions of `m` from `concurrency` tasks until `count` have started or
/// `budget` has passed; returns (started, elapsed).
pub async fn start_many(
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

/// What `sandstep serve` runs on: the default multi-thread runtime.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Standard pass3 starts/s from [`STARTERS`] concurrent callers on a fresh sled store
/// with group commit, after 2,000 to warm up: the rate other figures are read against.
pub fn standard_rate(budget: Duration) -> (f64, f64) {
    use sandstep::scheduler::runner::NoTasks;
    use sandstep::store::durability::Durability;
    use sandstep::store::sled::Sled;
    let dir = scratch("standard");
    let store = Store::on(Sled::open(&dir, Durability::default()).expect("sled"));
    let pass3 = machine("pass3", PASS3, MachineType::Standard);
    let rt = runtime();
    let (executions, transitions, elapsed) = rt.block_on(async {
        let s = scheduler(&store, &[&pass3], Arc::new(NoTasks));
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

/// Executions parked in a waiting state, and what they cost in memory.
pub struct Parked {
    /// RSS before the measured starts, KiB.
    pub base: u64,
    /// RSS as soon as every execution waits, KiB.
    pub settled: u64,
    /// RSS after an idle time, once the pool of blocking threads that ran tasks has
    /// shrunk (tokio ends them after 10 s idle), KiB.
    pub after: u64,
    /// Executions started and waiting.
    pub n: u64,
    /// How long the starts took.
    pub elapsed: Duration,
}

impl Parked {
    /// Bytes of RSS per waiting execution, after the idle time.
    pub fn per_execution(&self) -> f64 {
        self.after.saturating_sub(self.base) as f64 * 1024.0 / self.n.max(1) as f64
    }

    /// Bytes of RSS per waiting execution as soon as all wait.
    pub fn per_execution_settled(&self) -> f64 {
        self.settled.saturating_sub(self.base) as f64 * 1024.0 / self.n.max(1) as f64
    }

    /// Starts per second.
    pub fn start_rate(&self) -> f64 {
        self.n as f64 / self.elapsed.as_secs_f64()
    }
}

/// Starts `count` executions of `m` that wait, and measures RSS before, once
/// `settled(s, all)` says that all of them (`all`, with the 1,000 warming up) wait, and
/// again `idle` later.
pub async fn park(
    s: &Scheduler,
    m: &(StateMachine, Revision),
    count: u64,
    settled: impl Fn(&Scheduler, u64) -> bool,
    idle: Duration,
) -> Parked {
    // As `sandstep serve` does on a new data dir: nothing to recover, and the store is
    // marked as keeping the pin index from the start.
    s.recover().await.expect("recover");
    // Warm up allocator, caches and runtime, then take the baseline.
    let warm = 1_000;
    start_many(s, m, "warm", STARTERS, warm, Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let base = rss_kib();
    let (n, elapsed) = start_many(s, m, "w", STARTERS, count, Duration::from_secs(600)).await;
    while !settled(s, n + warm) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let settled_kib = rss_kib();
    tokio::time::sleep(idle).await;
    Parked {
        base,
        settled: settled_kib,
        after: rss_kib(),
        n,
        elapsed,
    }
}

/// A `sandstep serve` on a free loopback port with a fresh data dir.
pub struct Server {
    child: Child,
    /// Its URL.
    pub url: String,
    dir: std::path::PathBuf,
}

impl Server {
    /// Starts the binary cargo built with the benchmark.
    pub fn start() -> Server {
        Server::start_in(scratch("server"))
    }

    /// Starts the binary on the data dir `dir` (removed when the server is dropped).
    pub fn start_in(dir: std::path::PathBuf) -> Server {
        Server::start_with(dir, &[], &[])
    }

    /// [`start_in`](Self::start_in) with more arguments and environment.
    pub fn start_with(dir: std::path::PathBuf, args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start_command(Command::new(env!("CARGO_BIN_EXE_sandstep")), dir, args, env)
    }

    /// [`start_with`](Self::start_with) on the one core `core` (`taskset`): a server on a
    /// machine of its own, as far as its CPU goes.
    #[allow(dead_code)]
    pub fn start_pinned(dir: std::path::PathBuf, args: &[&str], core: usize) -> Server {
        let mut command = Command::new("taskset");
        command.args(["-c", &core.to_string(), env!("CARGO_BIN_EXE_sandstep")]);
        Server::start_command(command, dir, args, &[])
    }

    fn start_command(
        mut command: Command,
        dir: std::path::PathBuf,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Server {
        let mut child = command
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&dir)
            .args(args)
            .envs(env.iter().copied())
            .env("SANDSTEP_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sandstep serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .expect("listening on")
            .to_string();
        Server { child, url, dir }
    }

    /// Calls a Step Functions action; its answer.
    pub fn sfn(&self, action: &str, body: serde_json::Value) -> serde_json::Value {
        ureq::post(&format!("{}/", self.url))
            .set("X-Amz-Target", &format!("AWSStepFunctions.{action}"))
            .set("Content-Type", "application/x-amz-json-1.0")
            .send_string(&body.to_string())
            .map_err(|e| format!("{action}: {e}"))
            .expect("a Step Functions call")
            .into_json()
            .expect("json")
    }

    /// The server's process id.
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's data dir.
    #[allow(dead_code)]
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server's resident set, KiB.
pub fn rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Samples `pid`'s RSS until dropped; the highest seen.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    /// Starts sampling `pid` every 20 ms.
    pub fn start(pid: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(rss_of(pid)));
        let (s, p) = (Arc::clone(&stop), Arc::clone(&peak));
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_of(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Sampler {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    /// Stops; the highest RSS seen, MiB.
    pub fn peak_mib(mut self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.peak.load(Ordering::Relaxed) as f64 / 1024.0
    }
}
