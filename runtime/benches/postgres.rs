//! The PostgreSQL store (issue 18), in one run: `cargo bench -p sandstep --bench postgres`.
//!
//! (n) Standard pass3 executions/s from 256 concurrent `Scheduler::start` callers on the
//!     server's runtime: sled with group commit (the default) against PostgreSQL, in the
//!     same run; with the database's commits per execution (`pg_stat_database`).
//! (o) the database's cost per execution: rows and bytes of `sandstep_map` per finished
//!     Standard pass3 execution and per execution waiting in `Wait 3600 s`.
//! (q) Standard pass3 executions/s over HTTP from 32 clients of 12 tenants, with 1, 2 and 3
//!     servers sharing the database (started together, they divide the partitions, so each
//!     runs some of the tenants; the clients call every server, which pass calls on), against
//!     one sled server with the same tenants and clients, in the same run.
//! (p) failover: two `sandstep serve` on one database (default lease, 8 s); an execution
//!     loops on a 1 s Wait; `kill -9` of the server running it, and the time until the
//!     first history event the other one writes for that execution. p50 and max over
//!     `SANDSTEP_BENCH_FAILOVERS` (20) runs; each run starts a new second server, which
//!     (r) gets its share from the one holding all 16 partitions: the time from its
//!     start until each holds 8, p50 and max over the same runs.
//! (t) one tenant's CPU-bound module tasks: executions of one `crunch` task (200 rounds,
//!     about 0.2 s of a core) started by 8 clients through every server, counted once all
//!     have finished; the default tenant with 1 and 2 servers on the database, each
//!     pinned to a core of its own (`taskset`: two machines of one core each, as far as
//!     the servers' CPU goes; the database and the clients are not pinned) and running one
//!     module task before it offers the next, against one sled server on one core, in the
//!     same run; with the part the second server ran.
//!
//! The database: `SANDSTEP_BENCH_POSTGRES`, or else a cluster of the bench's own started by
//! `.ci/postgres start --durable` (fsync on, as a production database; the tests' cluster
//! has it off).

// Benchmark code: a failed expect is a broken benchmark.
#![allow(clippy::expect_used, clippy::indexing_slicing, clippy::unwrap_used)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;

use common::{
    env_or, machine, runtime, scheduler, standard_rate, start_many, Server, PASS3, STARTERS, WAIT,
};
use sandstep::model::MachineType;
use sandstep::scheduler::runner::NoTasks;
use sandstep::store::postgres::Postgres;
use sandstep::store::Store;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A database to measure on: the one named, or a durable throwaway cluster.
struct Database {
    url: String,
    /// The cluster's directory when the bench started it (stopped on drop).
    own: Option<String>,
}

impl Database {
    fn get() -> Database {
        if let Ok(url) = std::env::var("SANDSTEP_BENCH_POSTGRES") {
            return Database { url, own: None };
        }
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let out = std::process::Command::new("bash")
            .arg(format!("{root}/.ci/postgres"))
            .args(["start", "--durable"])
            .output()
            .expect(".ci/postgres");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let value = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}=")))
                .expect(name)
                .to_string()
        };
        Database {
            url: value("SANDSTEP_TEST_POSTGRES"),
            own: Some(value("SANDSTEP_TEST_PGDATA")),
        }
    }

    /// A URL for a new, empty schema named `name`.
    fn schema(&self, name: &str) -> String {
        self.sql(&format!(
            "DROP SCHEMA IF EXISTS {name} CASCADE; CREATE SCHEMA {name}"
        ));
        let join = if self.url.contains('?') { '&' } else { '?' };
        format!("{}{join}options=-c%20search_path%3D{name}", self.url)
    }

    /// Runs `sql`; the first column of its rows as text. On a thread of its own, as the
    /// callers may be inside the bench's runtime.
    fn sql(&self, sql: &str) -> Vec<String> {
        std::thread::scope(|scope| scope.spawn(|| self.sql_here(sql)).join().unwrap())
    }

    fn sql_here(&self, sql: &str) -> Vec<String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
                .await
                .expect("the database");
            tokio::spawn(connection);
            let mut out = Vec::new();
            for message in client.simple_query(sql).await.expect(sql) {
                if let tokio_postgres::SimpleQueryMessage::Row(row) = message {
                    out.push(row.get(0).unwrap_or_default().to_string());
                }
            }
            out
        })
    }

    fn number(&self, sql: &str) -> f64 {
        self.sql(sql)[0].parse().unwrap()
    }

    fn commits(&self) -> f64 {
        self.number("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    }

    /// Rows and bytes (keys and values) of the map in `schema`.
    fn map_size(&self, schema: &str) -> (f64, f64) {
        let row = self.sql(&format!(
            "SELECT count(*)::text || ' ' || COALESCE(sum(octet_length(key) + octet_length(value)), 0)::text \
             FROM {schema}.sandstep_map"
        ));
        let mut parts = row[0].split(' ').map(|p| p.parse::<f64>().unwrap());
        (parts.next().unwrap(), parts.next().unwrap())
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(dir) = &self.own {
            let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
            let _ = std::process::Command::new("bash")
                .arg(format!("{root}/.ci/postgres"))
                .args(["stop", dir])
                .status();
        }
    }
}

/// (n) pass3 executions/s on PostgreSQL, the same way `standard_rate` measures sled; and
/// the database's commits per execution.
fn postgres_rate(db: &Database, budget: Duration) -> (f64, f64) {
    let pg = Postgres::connect(&db.schema("bench_rate"), 16).expect("postgres");
    let store = Store::on(pg);
    let pass3 = machine("pass3", PASS3, MachineType::Standard);
    let rt = runtime();
    let (n, elapsed, commits) = rt.block_on(async {
        let s = scheduler(&store, &[&pass3], Arc::new(NoTasks));
        start_many(&s, &pass3, "warm", STARTERS, 2_000, budget).await;
        settle(&s).await;
        let before = db.commits();
        let (n, elapsed) = start_many(&s, &pass3, "run", STARTERS, u64::MAX, budget).await;
        settle(&s).await;
        (n, elapsed, db.commits() - before)
    });
    (n as f64 / elapsed.as_secs_f64(), commits / n as f64)
}

/// Waits until the scheduler has no execution left running.
async fn settle(s: &sandstep::scheduler::Scheduler) {
    let began = Instant::now();
    let open = || {
        let c = s.counters();
        let f = &c.finished;
        c.started.load(Ordering::Relaxed)
            > f.succeeded.load(Ordering::Relaxed)
                + f.failed.load(Ordering::Relaxed)
                + f.timed_out.load(Ordering::Relaxed)
                + f.aborted.load(Ordering::Relaxed)
    };
    while open() && began.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// (o) rows and bytes per execution: `n` finished pass3 executions, then `n` waiting ones.
fn cost_per_execution(db: &Database, n: u64) -> ((f64, f64), (f64, f64)) {
    let url = db.schema("bench_cost");
    let store = Store::on(Postgres::connect(&url, 16).expect("postgres"));
    let pass3 = machine("pass3", PASS3, MachineType::Standard);
    let wait = machine("wait", WAIT, MachineType::Standard);
    let rt = runtime();
    rt.block_on(async {
        let s = scheduler(&store, &[&pass3, &wait], Arc::new(NoTasks));
        let base = db.map_size("bench_cost");
        start_many(&s, &pass3, "done", STARTERS, n, Duration::from_secs(600)).await;
        settle(&s).await;
        let done = db.map_size("bench_cost");
        start_many(&s, &wait, "waiting", STARTERS, n, Duration::from_secs(600)).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let waiting = db.map_size("bench_cost");
        let per = |a: (f64, f64), b: (f64, f64)| ((b.0 - a.0) / n as f64, (b.1 - a.1) / n as f64);
        (per(base, done), per(done, waiting))
    })
}

/// A 1 s Wait, again and again (a Choice that never ends it: a definition needs a way out).
const LOOP: &str = r#"{"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":1,"Next":"C"},"C":{"Type":"Choice","Choices":[{"Variable":"$.stop","IsPresent":true,"Next":"Done"}],"Default":"W"},"Done":{"Type":"Succeed"}}}"#;

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Starts a server on `url` on a thread.
fn standby(url: String, n: usize) -> std::thread::JoinHandle<Server> {
    std::thread::spawn(move || {
        Server::start_with(
            common::scratch(&format!("pg-failover-{n}")),
            &["--store", &url],
            &[],
        )
    })
}

/// How many partitions `server` holds, from its own metrics.
fn held_by(server: &Server) -> usize {
    metric(server, "sandstep_partitions_held").unwrap_or(0)
}

/// A counter or gauge of `server`'s own metrics.
fn metric<T: std::str::FromStr>(server: &Server, name: &str) -> Option<T> {
    let text = ureq::get(&format!("{}/metrics", server.url))
        .call()
        .ok()?
        .into_string()
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|n| n.trim().parse().ok())
}

/// Waits until each of `servers` holds `each` partitions.
fn wait_held(servers: &[&Server], each: usize) {
    let began = Instant::now();
    while servers.iter().any(|s| held_by(s) != each) {
        assert!(
            began.elapsed() < Duration::from_secs(120),
            "partitions never settled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The process id of the server running the default tenant, asked at `via`.
fn runner_of_default(via: &Server) -> u32 {
    let answer: serde_json::Value = ureq::get(&format!("{}/v1/server", via.url))
        .call()
        .expect("/v1/server")
        .into_json()
        .expect("json");
    answer["pid"].as_u64().expect("pid") as u32
}

/// (p) seconds from `kill -9` of the server running the looping execution to the other
/// server's first event of it, and (r) seconds from a second server's start until it
/// holds its share, over `runs` runs.
fn failovers(db: &Database, runs: usize) -> (Vec<f64>, Vec<f64>) {
    let url = db.schema("bench_failover");
    let first = standby(url.clone(), 0).join().unwrap();
    first.sfn(
        "CreateStateMachine",
        serde_json::json!({"name": "loop", "definition": LOOP,
            "roleArn": "arn:aws:iam::000000000000:role/r", "type": "STANDARD"}),
    );
    let execution = first.sfn(
        "StartExecution",
        serde_json::json!({"stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:loop"}),
    )["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    let mut alive = vec![first];
    let (mut failover, mut shares) = (Vec::new(), Vec::new());
    for run in 0..runs {
        wait_held(&[&alive[0]], 16);
        let joining = Instant::now();
        alive.push(standby(url.clone(), run + 1).join().unwrap());
        wait_held(&[&alive[0], &alive[1]], 8);
        shares.push(joining.elapsed().as_secs_f64());
        let runner = runner_of_default(&alive[0]);
        let victim = alive.iter().position(|s| s.pid() == runner).unwrap();
        drop(alive.remove(victim)); // kill -9
        let killed = now_s();
        let server = &alive[0];
        let first_after = loop {
            let history = server.sfn(
                "GetExecutionHistory",
                serde_json::json!({"executionArn": execution, "reverseOrder": true, "maxResults": 50}),
            );
            let after: Vec<f64> = history["events"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|e| e["timestamp"].as_f64())
                .filter(|t| *t > killed)
                .collect();
            if let Some(first) = after.iter().copied().reduce(f64::min) {
                break first;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        failover.push(first_after - killed);
    }
    (failover, shares)
}

/// The tenants of (q): twelve, each with its API key and a pass3 machine.
const TENANTS: usize = 12;
const ADMIN: &str = "bench-admin";

/// Creates the tenants of (q) through `server`, each with a pass3 machine; their API keys
/// and machines.
fn tenants(server: &Server) -> Vec<(String, String)> {
    (0..TENANTS)
        .map(|t| {
            let created: serde_json::Value = ureq::post(&format!("{}/v1/tenants", server.url))
                .set("authorization", &format!("Bearer {ADMIN}"))
                .send_json(serde_json::json!({"name": format!("bench-{t}")}))
                .expect("a tenant")
                .into_json()
                .expect("json");
            let key = format!("Bearer {}", created["apiKey"].as_str().expect("apiKey"));
            let account = created["account"].as_str().expect("account");
            let machine = call(
                &server.url,
                &key,
                "CreateStateMachine",
                serde_json::json!({"name": "pass3", "definition": PASS3,
                    "roleArn": format!("arn:aws:iam::{account}:role/r"), "type": "STANDARD"}),
            )["stateMachineArn"]
                .as_str()
                .expect("arn")
                .to_string();
            (key, machine)
        })
        .collect()
}

/// A Step Functions call as a tenant; its answer.
fn call(url: &str, key: &str, action: &str, body: serde_json::Value) -> serde_json::Value {
    ureq::post(&format!("{url}/"))
        .set("X-Amz-Target", &format!("AWSStepFunctions.{action}"))
        .set("Content-Type", "application/x-amz-json-1.0")
        .set("authorization", key)
        .send_string(&body.to_string())
        .map_err(|e| match e {
            ureq::Error::Status(code, r) => {
                format!("{action}: {code} {}", r.into_string().unwrap_or_default())
            }
            e => format!("{action}: {e}"),
        })
        .expect("a Step Functions call")
        .into_json()
        .expect("json")
}

/// Starts executions from `clients` threads until `budget` from `began` is spent; client
/// `c` starts `pick(c)`: the server's URL, the tenant's authorization (none: the default
/// tenant) and the machine. How many were started.
fn keep_starting(
    began: Instant,
    budget: Duration,
    clients: usize,
    pick: impl Fn(usize) -> (String, Option<String>, String),
) -> u64 {
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..clients)
            .map(|c| {
                let (url, key, machine) = pick(c);
                scope.spawn(move || {
                    let agent = ureq::AgentBuilder::new().build();
                    let mut n = 0u64;
                    while began.elapsed() < budget {
                        let mut start = agent
                            .post(&format!("{url}/"))
                            .set("X-Amz-Target", "AWSStepFunctions.StartExecution")
                            .set("Content-Type", "application/x-amz-json-1.0");
                        if let Some(key) = &key {
                            start = start.set("authorization", key);
                        }
                        start
                            .send_string(
                                &serde_json::json!({"stateMachineArn": machine,
                                    "name": format!("c{c}-{n}")})
                                .to_string(),
                            )
                            .map_err(|e| match e {
                                ureq::Error::Status(code, r) => {
                                    format!("{code} {}", r.into_string().unwrap_or_default())
                                }
                                e => e.to_string(),
                            })
                            .expect("StartExecution");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    })
}

/// (q) Standard pass3 executions/s over HTTP, from `clients` threads of the tenants `keys`
/// spread over `servers`: started until `budget` is spent, counted once all have finished.
fn http_rate(
    servers: &[Server],
    keys: &[(String, String)],
    clients: usize,
    budget: Duration,
) -> f64 {
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let began = Instant::now();
    let started = keep_starting(began, budget, clients, |c| {
        let (key, machine) = keys[c % keys.len()].clone();
        (urls[c % urls.len()].clone(), Some(key), machine)
    });
    // Finished when none is left running, in any tenant (List calls are rate-limited per
    // tenant, as on AWS: a throttled one is asked again).
    for (key, machine) in keys {
        loop {
            let running = ureq::post(&format!("{}/", urls[0]))
                .set("X-Amz-Target", "AWSStepFunctions.ListExecutions")
                .set("Content-Type", "application/x-amz-json-1.0")
                .set("authorization", key)
                .send_string(
                    &serde_json::json!({"stateMachineArn": machine, "statusFilter": "RUNNING",
                        "maxResults": 1})
                    .to_string(),
                )
                .ok()
                .and_then(|r| r.into_json::<serde_json::Value>().ok());
            if running.is_some_and(|r| r["executions"].as_array().is_some_and(Vec::is_empty)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    started as f64 / began.elapsed().as_secs_f64()
}

/// How many of `keys`' tenants each of `servers` runs (asked through the first).
fn tenants_per_server(servers: &[Server], keys: &[(String, String)]) -> Vec<usize> {
    let mut counts = vec![0; servers.len()];
    for (key, _) in keys {
        let answer: serde_json::Value = ureq::get(&format!("{}/v1/server", servers[0].url))
            .set("authorization", key)
            .call()
            .expect("/v1/server")
            .into_json()
            .expect("json");
        let pid = answer["pid"].as_u64().expect("pid") as u32;
        let i = servers
            .iter()
            .position(|s| s.pid() == pid)
            .expect("a server of ours");
        counts[i] += 1;
    }
    counts
}

/// (q) for 1, 2 and 3 servers on the database (each set started together, on a schema of
/// its own), and for one sled server, in one run: the rates, and how many tenants each
/// server ran.
fn spread_rates(db: &Database, budget: Duration) -> (f64, Vec<(f64, Vec<usize>)>) {
    let clients = env_or("SANDSTEP_BENCH_CLIENTS", 32);
    let admin = ["--admin-token", ADMIN];
    let sled = Server::start_with(common::scratch("pg-spread-sled"), &admin, &[]);
    let keys = tenants(&sled);
    let sled_rate = http_rate(std::slice::from_ref(&sled), &keys, clients, budget);
    drop(sled);
    let rates = (1..=3)
        .map(|n| {
            let url = db.schema(&format!("bench_spread_{n}"));
            let starting: Vec<_> = (0..n)
                .map(|i| {
                    let url = url.clone();
                    std::thread::spawn(move || {
                        Server::start_with(
                            common::scratch(&format!("pg-spread-{n}-{i}")),
                            &["--store", &url, "--admin-token", ADMIN],
                            &[],
                        )
                    })
                })
                .collect();
            let servers: Vec<Server> = starting.into_iter().map(|s| s.join().unwrap()).collect();
            let keys = tenants(&servers[0]);
            let rate = http_rate(&servers, &keys, clients, budget);
            (rate, tenants_per_server(&servers, &keys))
        })
        .collect();
    (sled_rate, rates)
}

/// Starts `crunch` executions from `clients` threads calling `servers` in turn for
/// `budget`; executions/s once all have finished.
fn crunch_rate(servers: &[&Server], machine: &str, clients: usize, budget: Duration) -> f64 {
    let began = Instant::now();
    let started = keep_starting(began, budget, clients, |c| {
        (
            servers[c % servers.len()].url.clone(),
            None,
            machine.to_string(),
        )
    });
    loop {
        let running = servers[0].sfn(
            "ListExecutions",
            serde_json::json!({"stateMachineArn": machine, "statusFilter": "RUNNING",
                "maxResults": 1}),
        );
        if running["executions"].as_array().is_some_and(Vec::is_empty) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    started as f64 / began.elapsed().as_secs_f64()
}

/// Uploads `crunch` and a machine running it once; the machine's ARN.
fn crunching(server: &Server) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../modules/dist/crunch.wasm");
    let bytes =
        std::fs::read(&path).expect("modules/dist/crunch.wasm: run `bash modules/build.sh` first");
    ureq::put(&format!("{}/v1/modules/crunch", server.url))
        .send_bytes(&bytes)
        .expect("upload crunch");
    let definition = serde_json::json!({"StartAt": "C", "States": {"C": {"Type": "Task",
        "Resource": "arn:aws:lambda:us-east-1:000000000000:function:crunch",
        "Parameters": {"Parameters": {"rounds": 200}}, "End": true}}});
    server.sfn(
        "CreateStateMachine",
        serde_json::json!({"name": "crunching", "definition": definition.to_string(),
            "roleArn": "arn:aws:iam::000000000000:role/r"}),
    )["stateMachineArn"]
        .as_str()
        .expect("arn")
        .to_string()
}

/// (t) one sled server's rate, then 1 and 2 servers' on the database, each with the
/// part of the tasks the second server ran.
fn module_rates(db: &Database, budget: Duration) -> (f64, Vec<(f64, f64)>) {
    let clients = 8;
    let config = common::scratch("pg-tasks-config").join("sandstep.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "share_tasks_above = 1\n").unwrap();
    let config = config.display().to_string();
    let sled = Server::start_pinned(common::scratch("pg-tasks-sled"), &[], 0);
    let machine = crunching(&sled);
    let sled_rate = crunch_rate(&[&sled], &machine, clients, budget);
    drop(sled);
    let rates = (1..=2)
        .map(|n| {
            let url = db.schema(&format!("bench_tasks_{n}"));
            let starting: Vec<_> = (0..n)
                .map(|i| {
                    let (url, config) = (url.clone(), config.clone());
                    std::thread::spawn(move || {
                        Server::start_pinned(
                            common::scratch(&format!("pg-tasks-{n}-{i}")),
                            &["--store", &url, "--config", &config],
                            i,
                        )
                    })
                })
                .collect();
            let servers: Vec<Server> = starting.into_iter().map(|s| s.join().unwrap()).collect();
            let all: Vec<&Server> = servers.iter().collect();
            if n > 1 {
                wait_held(&all, 16 / n);
            }
            let machine = crunching(&servers[0]);
            let rate = crunch_rate(&all, &machine, clients, budget);
            let ran: f64 = all
                .iter()
                .map(|s| metric(s, "sandstep_tasks_total").unwrap_or(0.0))
                .sum();
            let elsewhere: f64 = all
                .iter()
                .map(|s| metric(s, "sandstep_tasks_for_peers_total").unwrap_or(0.0))
                .sum();
            (rate, elsewhere / ran.max(1.0))
        })
        .collect();
    (sled_rate, rates)
}

fn main() {
    let budget = Duration::from_secs(env_or("SANDSTEP_BENCH_SECONDS", 5) as u64);
    let db = Database::get();
    println!("PostgreSQL store, threads: {}", common::threads());

    let (sled, _) = standard_rate(budget);
    let (pg, commits) = postgres_rate(&db, budget);
    println!(
        "(n) Standard pass3, {STARTERS} concurrent starts: sled {sled:.0}/s, PostgreSQL {pg:.0}/s \
         ({:.2}x sled), {commits:.2} database commits per execution",
        pg / sled
    );

    let (sled_http, spread) = spread_rates(&db, budget);
    let each: Vec<String> = spread
        .iter()
        .enumerate()
        .map(|(i, (rate, split))| {
            format!(
                "{} server(s) {rate:.0}/s ({:.2}x sled; tenants per server {split:?})",
                i + 1,
                rate / sled_http
            )
        })
        .collect();
    println!(
        "(q) Standard pass3 over HTTP, {} clients of {TENANTS} tenants: sled (one server) \
         {sled_http:.0}/s; PostgreSQL with {}",
        env_or("SANDSTEP_BENCH_CLIENTS", 32),
        each.join(", ")
    );

    let (sled_tasks, tasks) = module_rates(&db, budget);
    let each: Vec<String> = tasks
        .iter()
        .enumerate()
        .map(|(i, (rate, elsewhere))| {
            format!(
                "{} server(s) {rate:.1}/s ({:.2}x sled; {:.0}% of the tasks run by the other \
                 server)",
                i + 1,
                rate / sled_tasks,
                elsewhere * 100.0
            )
        })
        .collect();
    println!(
        "(t) one tenant's crunch tasks (200 rounds), 8 clients, a core per server: sled (one \
         server) {sled_tasks:.1}/s; PostgreSQL with {}",
        each.join(", ")
    );

    let n = env_or("SANDSTEP_BENCH_COST", 2_000) as u64;
    let ((done_rows, done_bytes), (wait_rows, wait_bytes)) = cost_per_execution(&db, n);
    println!(
        "(o) per finished pass3 execution: {done_rows:.1} rows, {done_bytes:.0} bytes; \
         per execution waiting in a Wait: {wait_rows:.1} rows, {wait_bytes:.0} bytes ({n} of each)"
    );

    let runs = env_or("SANDSTEP_BENCH_FAILOVERS", 20);
    let (mut times, mut shares) = failovers(&db, runs);
    times.sort_by(f64::total_cmp);
    shares.sort_by(f64::total_cmp);
    println!(
        "(p) failover, kill -9 to the other server's first transition (lease 8 s, {runs} runs): \
         p50 {:.2} s, max {:.2} s",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    println!(
        "(r) a server joining one that holds all 16 partitions, from its start until each \
         holds 8 ({runs} runs): p50 {:.2} s, max {:.2} s",
        shares[shares.len() / 2],
        shares[shares.len() - 1]
    );
}
