//! AWS service integrations on Sandstep's own stores, in one run:
//! `cargo bench -p sandstep --bench integrations` (about a minute).
//!
//! (i) Standard executions of 3 `dynamodb:putItem` Task states against 3 Pass states,
//!     started by 256 concurrent `Scheduler::start` calls on sled with group commit (as
//!     `durable` (b)): executions/s of each, same run. A putItem execution commits four
//!     steps (its start and each task's answer, written with its item) where pass3 commits
//!     one.
//! (ii) over HTTP against the real `sandstep serve`, 8 client threads with keep-alive
//!     connections, 5 s each: `PutItem` through the DynamoDB API against `PUT /v1/kv/...`
//!     (the same item store through Sandstep's own API), requests/s, same server.

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

use common::{machine, runtime, scheduler, scratch, start_many, Server, PASS3, STARTERS};
use sandstep::dynamo::key::{KeyAttribute, KeySchema, KeyType};
use sandstep::model::MachineType;
use sandstep::scheduler::runner::NoTasks;
use sandstep::store::durability::Durability;
use sandstep::store::sled::Sled;
use sandstep::store::tables::{TableDef, Tables as _};
use sandstep::store::{Store, TenantId};
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Three putItem states, each writing its own item of the execution.
fn put3() -> String {
    let put = |n: u32, next: Option<&str>| {
        let mut state = json!({
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:putItem",
            "Parameters": {
                "TableName": "bench",
                "Item": {
                    "pk": {"S.$": format!("States.Format('{{}}-{n}', $$.Execution.Name)")},
                    "n": {"N": n.to_string()},
                    "s": {"S.$": "$.s"}
                }
            },
            "ResultPath": null
        });
        match next {
            Some(next) => state["Next"] = json!(next),
            None => state["End"] = json!(true),
        }
        state
    };
    json!({"StartAt": "P1", "States": {"P1": put(1, Some("P2")), "P2": put(2, Some("P3")), "P3": put(3, None)}})
        .to_string()
}

/// (i): executions/s of `definition` through the scheduler on a fresh sled store.
fn standard(name: &str, definition: &str, budget: Duration) -> f64 {
    let dir = scratch(name);
    let store = Store::on(Sled::open(&dir, Durability::default()).expect("sled"));
    let tenant = TenantId("default".into());
    let table = TableDef {
        name: "bench".into(),
        schema: KeySchema {
            partition: KeyAttribute {
                name: "pk".into(),
                kind: KeyType::S,
            },
            sort: None,
        },
        created: 0,
    };
    store.table_create(&tenant, &table).expect("table");
    let m = machine(name, definition, MachineType::Standard);
    let rt = runtime();
    let (n, elapsed, finished) = rt.block_on(async {
        let s = scheduler(&store, &[&m], Arc::new(NoTasks));
        s.recover().await.expect("recover");
        let succeeded = || s.counters().finished.succeeded.load(Ordering::Relaxed);
        // Starts answer after the first step: wait for the executions to finish.
        let (warm, _) = start_many(&s, &m, "warm", STARTERS, 1_000, budget).await;
        while succeeded() < warm {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let began = Instant::now();
        let (n, _) = start_many(&s, &m, "run", STARTERS, u64::MAX, budget).await;
        while succeeded() < warm + n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        (n, began.elapsed(), succeeded() - warm)
    });
    drop(rt);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(finished, n, "every execution succeeded");
    n as f64 / elapsed.as_secs_f64()
}

/// (ii): requests/s of `request` from `threads` clients for `budget`.
fn hammer(threads: usize, budget: Duration, request: impl Fn(&ureq::Agent, u64) + Sync) -> f64 {
    let done = AtomicU64::new(0);
    let began = Instant::now();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (done, request) = (&done, &request);
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
    done.load(Ordering::Relaxed) as f64 / began.elapsed().as_secs_f64()
}

fn main() {
    let budget = Duration::from_secs(5);
    println!(
        "# sandstep integrations bench ({} CPUs)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    let pass3 = standard("pass3", PASS3, budget);
    let puts = standard("put3", &put3(), budget);
    println!(
        "(i) Standard, {STARTERS} concurrent starts, sled group commit: 3 dynamodb:putItem {puts:.0} executions/s ({:.0} items/s); 3 Pass {pass3:.0} executions/s; putItem = {:.2}x Pass",
        puts * 3.0,
        puts / pass3
    );
    let server = Server::start();
    let url = server.url.clone();
    let target = |agent: &ureq::Agent, action: &str, body: serde_json::Value| {
        agent
            .post(&url)
            .set("content-type", "application/x-amz-json-1.0")
            .set("x-amz-target", &format!("DynamoDB_20120810.{action}"))
            .send_string(&body.to_string())
            .unwrap_or_else(|e| panic!("{action}: {e}"));
    };
    let setup = ureq::AgentBuilder::new().build();
    target(
        &setup,
        "CreateTable",
        json!({"TableName": "items", "AttributeDefinitions": [{"AttributeName": "key", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "key", "KeyType": "HASH"}]}),
    );
    let clients = 8;
    let kv = hammer(clients, budget, |agent, i| {
        agent
            .put(&format!("{url}/v1/kv/items/k{i}"))
            .send_string("{\"n\":1,\"s\":\"hello\"}")
            .expect("kv put");
    });
    let dynamo = hammer(clients, budget, |agent, i| {
        target(
            agent,
            "PutItem",
            json!({"TableName": "items", "Item": {"key": {"S": format!("d{i}")}, "n": {"N": "1"}, "s": {"S": "hello"}}}),
        );
    });
    println!(
        "(ii) HTTP, {clients} clients: DynamoDB PutItem {dynamo:.0} requests/s; PUT /v1/kv {kv:.0} requests/s; PutItem = {:.2}x kv put",
        dynamo / kv
    );
}
