//! Distributed Map runs against the real `sandstep serve`:
//! `cargo bench -p sandstep --bench map_runs` (about a minute on a 2-core machine).
//!
//! For 10,000 and 100,000 items (`SANDSTEP_BENCH_MAP_ITEMS` changes the larger), each on a
//! fresh server: a JSON Lines object of that many items, a Distributed Map that reads it
//! with an ItemSelector, runs one Express child per item (a Pass state) and writes its
//! results with a ResultWriter. Items/s from `StartExecution` until the execution has
//! ended, and the server's resident memory sampled every 20 ms during the run against its
//! RSS before: the goal is a peak that does not grow with the item count. Baseline of the
//! same run: Express executions of the same Pass child started one by one in process
//! (`Scheduler::start` with `wait`, as bench (c)), the floor a child costs.

// Benchmark code: a failed expect is a broken benchmark.
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]

mod common;

use common::{env_or, rss_of, Sampler, Server};
use sandstep::model::MachineType;
use sandstep::scheduler::runner::NoTasks;
use sandstep::store::Store;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHILD: &str = r#"{"StartAt":"Work","States":{"Work":{"Type":"Pass","Parameters":{"double.$":"States.MathAdd($.n, $.n)"},"End":true}}}"#;

fn s3(req: ureq::Request) -> ureq::Request {
    req.set("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
}

/// One Distributed Map over `items` JSON Lines on a fresh server: (items/s, RSS before,
/// peak RSS during, MiB).
fn run(items: usize) -> (f64, f64, f64) {
    let server = Server::start();
    s3(ureq::put(&format!("{}/bench", server.url)))
        .call()
        .expect("bucket");
    let lines: String = (0..items).map(|n| format!("{{\"n\":{n}}}\n")).collect();
    s3(ureq::put(&format!("{}/bench/items.jsonl", server.url)))
        .send_bytes(lines.as_bytes())
        .expect("items");
    drop(lines);
    let child: Value = serde_json::from_str(CHILD).unwrap();
    let mut processor = child.as_object().unwrap().clone();
    processor.insert(
        "ProcessorConfig".into(),
        json!({"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"}),
    );
    let definition = json!({"StartAt": "Each", "States": {"Each": {"Type": "Map", "End": true,
        "ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSONL"},
            "Parameters": {"Bucket": "bench", "Key": "items.jsonl"}},
        "ItemSelector": {"n.$": "$$.Map.Item.Value.n"},
        "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "bench", "Prefix": "out"}},
        "ItemProcessor": processor}}});
    let machine = server.sfn(
        "CreateStateMachine",
        json!({"name": "map", "definition": definition.to_string(),
        "roleArn": "arn:aws:iam::000000000000:role/bench", "type": "STANDARD"}),
    )["stateMachineArn"]
        .as_str()
        .unwrap()
        .to_string();
    std::thread::sleep(Duration::from_millis(500));
    let before = rss_of(server.pid()) as f64 / 1024.0;
    let sampler = Sampler::start(server.pid());
    let began = Instant::now();
    let arn = server.sfn("StartExecution", json!({"stateMachineArn": machine}))["executionArn"]
        .as_str()
        .unwrap()
        .to_string();
    loop {
        let d = server.sfn("DescribeExecution", json!({"executionArn": arn}));
        if d["status"] != "RUNNING" {
            assert_eq!(d["status"], "SUCCEEDED", "{d}");
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let elapsed = began.elapsed().as_secs_f64();
    let peak = sampler.peak_mib();
    (items as f64 / elapsed, before, peak)
}

/// Express executions of the child definition started one by one in process, per second.
fn baseline(n: usize) -> f64 {
    let store = Store::memory();
    let child = common::machine("child", CHILD, MachineType::Express);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let s = common::scheduler(&store, &[&child], Arc::new(NoTasks));
        let began = Instant::now();
        for i in 0..n {
            let done = s
                .start(common::request(&child, format!("b{i}")), true)
                .await
                .expect("start");
            assert_eq!(done.status.as_str(), "SUCCEEDED");
        }
        n as f64 / began.elapsed().as_secs_f64()
    })
}

fn main() {
    let large = env_or("SANDSTEP_BENCH_MAP_ITEMS", 100_000);
    let floor = baseline(20_000);
    println!("baseline: Express child started in process, one at a time: {floor:.0}/s");
    for items in [10_000, large] {
        let (rate, before, peak) = run(items);
        println!(
            "{items} items: {rate:.0} items/s ({:.2}x the baseline); server RSS {before:.1} MiB before, peak {peak:.1} MiB (+{:.1} MiB)",
            rate / floor,
            peak - before
        );
    }
}
