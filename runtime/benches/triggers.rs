//! Triggers, in one run: `cargo bench -p sandstep --bench triggers` (about a minute).
//!
//! (j) over HTTP against the real `sandstep serve`, a default bus with 100 rules (each
//!     takes one tenth of a range of `detail.n`, so every event matches exactly one) whose
//!     targets are one Standard Pass machine: the latency from sending `PutEvents` to the
//!     execution it causes being started (found by `DescribeExecution` under its
//!     deterministic name), 200 sequential events, p50 and p90; then events/s accepted
//!     (answered once durable) and delivered (executions started) from 8 client threads
//!     for 5 s, against `StartExecution`/s of the same machine from 8 threads on the same
//!     server.
//! (k) 100,000 armed schedules (`SANDSTEP_BENCH_SCHEDULES`) written into a data dir: the
//!     time `sandstep serve` takes from spawn to listening (it counts the armed schedules
//!     at start) and its RSS, against the same on an empty data dir.

// Benchmark code: a failed expect is a broken benchmark.
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;

use common::{env_or, scratch, Server};
use sandstep::service::event_delivery::execution_name;
use sandstep::store::durability::Durability;
use sandstep::store::events::{Delivery, RetryPolicy, Target};
use sandstep::store::schedules::{Action, Missed, ScheduleDef, Schedules as _, DEFAULT_GROUP};
use sandstep::store::sled::Sled;
use sandstep::store::{Store, TenantId};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const RULES: u64 = 100;
const THREADS: usize = 8;

fn call(agent: &ureq::Agent, url: &str, target: &str, body: &Value) -> Result<Value, String> {
    let json_version = if target.starts_with("AWSEvents") {
        "1.1"
    } else {
        "1.0"
    };
    agent
        .post(url)
        .set(
            "content-type",
            &format!("application/x-amz-json-{json_version}"),
        )
        .set("x-amz-target", target)
        .send_string(&body.to_string())
        .map_err(|e| e.to_string())?
        .into_json()
        .map_err(|e| e.to_string())
}

fn rss_of(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// (j).
fn events() {
    let server = Server::start();
    let url = server.url.clone();
    let agent = ureq::AgentBuilder::new().build();
    let machine = call(
        &agent,
        &url,
        "AWSStepFunctions.CreateStateMachine",
        &json!({"name": "sink", "definition": common::PASS3, "roleArn": "arn:aws:iam::000000000000:role/r"}),
    )
    .unwrap()["stateMachineArn"]
        .as_str()
        .unwrap()
        .to_string();
    for i in 0..RULES {
        let pattern = json!({"source": ["bench"], "detail": {"n": [{"numeric": [">=", i * 10, "<", (i + 1) * 10]}]}});
        call(
            &agent,
            &url,
            "AWSEvents.PutRule",
            &json!({"Name": format!("r{i}"), "EventPattern": pattern.to_string()}),
        )
        .unwrap();
        call(
            &agent,
            &url,
            "AWSEvents.PutTargets",
            &json!({"Rule": format!("r{i}"), "Targets": [{"Id": "t", "Arn": machine}]}),
        )
        .unwrap();
    }
    let put = |agent: &ureq::Agent, n: u64| -> String {
        let answer = call(
            agent,
            &url,
            "AWSEvents.PutEvents",
            &json!({"Entries": [{"Source": "bench", "DetailType": "x", "Detail": json!({"n": n % (RULES * 10)}).to_string()}]}),
        )
        .unwrap();
        answer["Entries"][0]["EventId"]
            .as_str()
            .expect("accepted")
            .to_string()
    };
    // Latency: PutEvents sent -> its execution exists.
    let target = Target {
        id: "t".into(),
        arn: machine.clone(),
        input: None,
        input_path: None,
        input_transformer: None,
        role_arn: None,
        retry_policy: RetryPolicy::default(),
    };
    let mut latencies = Vec::new();
    for n in 0..200u64 {
        let began = Instant::now();
        let id = put(&agent, n);
        let rule = format!("r{}", (n % (RULES * 10)) / 10);
        let name = execution_name(&Delivery {
            id: format!("{id}/{rule}/t"),
            tenant: TenantId("default".into()),
            bus: "default".into(),
            rule,
            target: target.clone(),
            event: String::new(),
            accepted: 0,
            attempts: 0,
            due: 0,
            last_error: None,
        });
        let arn = format!(
            "{}:{name}",
            machine.replace(":stateMachine:", ":execution:")
        );
        while call(
            &agent,
            &url,
            "AWSStepFunctions.DescribeExecution",
            &json!({"executionArn": arn}),
        )
        .is_err()
        {
            assert!(
                began.elapsed() < Duration::from_secs(10),
                "{arn} never started"
            );
        }
        latencies.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "(j) PutEvents -> execution started, {RULES} rules on the bus: p50 {:.2} ms, p90 {:.2} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9)
    );
    let count = |agent: &ureq::Agent| {
        let mut total = 0;
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({"stateMachineArn": machine, "maxResults": 1000});
            if let Some(t) = &token {
                body["nextToken"] = json!(t);
            }
            let page = call(agent, &url, "AWSStepFunctions.ListExecutions", &body).unwrap();
            total += page["executions"].as_array().unwrap().len();
            match page["nextToken"].as_str() {
                Some(t) => token = Some(t.to_string()),
                None => return total,
            }
        }
    };
    let before = count(&agent);
    let budget = Duration::from_secs(5);
    let hammer = |request: &(dyn Fn(&ureq::Agent, u64) + Sync)| {
        let done = AtomicU64::new(0);
        let began = Instant::now();
        std::thread::scope(|scope| {
            for t in 0..THREADS {
                let done = &done;
                scope.spawn(move || {
                    let agent = ureq::AgentBuilder::new().build();
                    let mut i = (t as u64) << 32;
                    while began.elapsed() < budget {
                        request(&agent, i);
                        done.fetch_add(1, Ordering::Relaxed);
                        i += 1;
                    }
                });
            }
        });
        (done.load(Ordering::Relaxed), began)
    };
    let (accepted, began) = hammer(&|agent, i| {
        put(agent, i);
    });
    let accept_rate = accepted as f64 / began.elapsed().as_secs_f64();
    while count(&agent) < before + accepted as usize {
        assert!(
            began.elapsed() < Duration::from_secs(120),
            "deliveries did not drain"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let delivered_rate = accepted as f64 / began.elapsed().as_secs_f64();
    let (started, began) = hammer(&|agent, i| {
        call(
            agent,
            &url,
            "AWSStepFunctions.StartExecution",
            &json!({"stateMachineArn": machine, "name": format!("s{i}")}),
        )
        .unwrap();
    });
    let start_rate = started as f64 / began.elapsed().as_secs_f64();
    println!(
        "(j) {THREADS} threads: PutEvents accepted {accept_rate:.0}/s, delivered (executions started) {delivered_rate:.0}/s; bare StartExecution {start_rate:.0}/s; delivered = {:.2}x StartExecution",
        delivered_rate / start_rate
    );
}

/// (k).
fn schedules() {
    let n = env_or("SANDSTEP_BENCH_SCHEDULES", 100_000);
    let measure = |dir: std::path::PathBuf| {
        let began = Instant::now();
        let server = Server::start_in(dir);
        let up = began.elapsed();
        std::thread::sleep(Duration::from_secs(2));
        (up, rss_of(server.pid()))
    };
    let (empty_up, empty_rss) = measure(scratch("schedules-empty"));
    let dir = scratch("schedules-armed");
    {
        let store = Store::on(Sled::open(&dir, Durability::default()).expect("sled"));
        let tenant = TenantId("default".into());
        let far = 4_102_444_800_000; // 2100: none fires during the measurement.
        for i in 0..n {
            let def = ScheduleDef {
                name: format!("s{i}"),
                group: DEFAULT_GROUP.into(),
                expression: "rate(1 day)".into(),
                timezone: "UTC".into(),
                start: far,
                end: None,
                enabled: true,
                action: Action::StartExecution {
                    arn: "arn:aws:states:us-east-1:000000000000:stateMachine:m".into(),
                    input: "{}".into(),
                    role_arn: None,
                },
                missed: Missed::FireOnce,
                delete_after: false,
                description: None,
                next: Some(far + i as i64 * 1000),
                last: None,
                created: 0,
                modified: 0,
            };
            store.schedule_put(&tenant, &def).expect("schedule");
        }
        assert_eq!(store.schedules_armed().expect("armed"), n);
    }
    let (armed_up, armed_rss) = measure(dir);
    println!(
        "(k) {n} armed schedules: serve up in {:.0} ms (empty data dir: {:.0} ms), RSS {} MiB (empty: {} MiB)",
        armed_up.as_secs_f64() * 1000.0,
        empty_up.as_secs_f64() * 1000.0,
        armed_rss / 1024,
        empty_rss / 1024
    );
}

fn main() {
    println!(
        "# sandstep triggers bench ({} CPUs)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    events();
    schedules();
}
