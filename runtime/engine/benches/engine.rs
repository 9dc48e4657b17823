//! Engine throughput, single thread: `cargo bench -p sandstep-engine --bench engine`.
//!
//! Counts state transitions per second (one per state entered) for a 100-state Pass
//! chain and for an inline Map over 1,000 small items, history recording included; and
//! a 100-state chain of JSONata Pass states (`"Output": {"order": "{% $states.input.order
//! %}", "last": i}`) against the same chain in JSONPath (`"Parameters": {"order.$":
//! "$.order", "last": i}`), as a ratio.
//! The baseline in the same run is `serde_json` cloning the same payload once per
//! transition: the least any interpreter that copies state data must do. The `traced`
//! lines replay the same executions with the data-flow trace on (what the console's
//! inspector does), as a ratio to the plain run.

// Benchmark code: a failed expect is a broken benchmark.
#![allow(clippy::expect_used, clippy::indexing_slicing)]

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use sandstep_engine::{step, Command, Definition, Event, EventKind, ExecutionState, Start};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

fn start(input: Value) -> Start {
    Start {
        input,
        execution_arn: "arn:aws:states:us-east-1:000000000000:execution:bench:e".into(),
        name: "e".into(),
        role_arn: "arn:aws:iam::000000000000:role/bench".into(),
        state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:bench".into(),
        state_machine_name: "bench".into(),
        redrive_count: 0,
        timeout_seconds: None,
        limits: sandstep_engine::Limits::default(),
        token_key: None,
        state_machine_version_arn: None,
        state_machine_alias_arn: None,
    }
}

fn pass_chain(n: usize) -> Definition {
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let mut s = json!({"Type": "Pass", "ResultPath": "$.last", "Result": i});
        if i + 1 < n {
            s["Next"] = json!(format!("S{}", i + 1));
        } else {
            s["End"] = json!(true);
        }
        states.insert(format!("S{i}"), s);
    }
    Definition::from_value(&json!({"StartAt": "S0", "States": states})).expect("valid chain")
}

/// `n` Pass states that each copy the input's `order` and add `last`: in JSONata with an
/// `Output` expression, or the same in JSONPath with `Parameters`.
fn shaping_chain(n: usize, jsonata: bool) -> Definition {
    let mut states = serde_json::Map::new();
    for i in 0..n {
        let mut s = match jsonata {
            true => json!({"Type": "Pass", "QueryLanguage": "JSONata",
                "Output": {"order": "{% $states.input.order %}", "last": i}}),
            false => json!({"Type": "Pass", "Parameters": {"order.$": "$.order", "last": i}}),
        };
        if i + 1 < n {
            s["Next"] = json!(format!("S{}", i + 1));
        } else {
            s["End"] = json!(true);
        }
        states.insert(format!("S{i}"), s);
    }
    Definition::from_value(&json!({"StartAt": "S0", "States": states})).expect("valid chain")
}

fn map_of(n: usize) -> (Definition, Value) {
    let def = Definition::from_value(&json!({
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 0,
            "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": "$.v"}, "End": true}}},
            "End": true}}
    }))
    .expect("valid map");
    let items: Vec<Value> = (0..n).map(|i| json!({"v": i})).collect();
    (def, json!({"items": items}))
}

/// Runs executions for about `budget`; returns (executions, transitions, elapsed).
fn measure(
    def: &Definition,
    input: &Value,
    budget: Duration,
    fresh: fn() -> ExecutionState,
) -> (u64, u64, Duration) {
    let began = Instant::now();
    let (mut runs, mut transitions) = (0u64, 0u64);
    while began.elapsed() < budget {
        let mut state = fresh();
        let event = Event {
            at: 0,
            entropy: runs,
            kind: EventKind::Started(start(input.clone())),
        };
        let commands = step(def, &mut state, &event).expect("runs");
        transitions += commands
            .iter()
            .filter(|c| matches!(c, Command::Record(e) if e.kind.ends_with("StateEntered")))
            .count() as u64;
        runs += 1;
    }
    (runs, transitions, began.elapsed())
}

fn baseline(input: &Value, copies: u64, budget: Duration) -> f64 {
    let began = Instant::now();
    let mut n = 0u64;
    while began.elapsed() < budget {
        for _ in 0..copies {
            std::hint::black_box(input.clone());
            n += 1;
        }
    }
    n as f64 / began.elapsed().as_secs_f64()
}

fn main() {
    let budget = Duration::from_secs(3);
    let input = json!({"order": {"id": "o-1", "amount": 42}});
    let chain = pass_chain(100);
    let (runs, transitions, elapsed) = measure(&chain, &input, budget, ExecutionState::new);
    let rate = transitions as f64 / elapsed.as_secs_f64();
    let base = baseline(&input, 100, budget);
    println!("pass-chain-100: {runs} executions, {rate:.0} transitions/s ({:.2} µs/transition); baseline clone {base:.0}/s; ratio {:.1}x",
        1e6 / rate, base / rate);
    let (_, t, e) = measure(&chain, &input, budget, ExecutionState::traced);
    let traced = t as f64 / e.as_secs_f64();
    println!(
        "pass-chain-100 traced: {traced:.0} transitions/s = {:.2}x the plain run",
        traced / rate
    );
    let (_, t, e) = measure(
        &shaping_chain(100, false),
        &input,
        budget,
        ExecutionState::new,
    );
    let jsonpath = t as f64 / e.as_secs_f64();
    let (_, t, e) = measure(
        &shaping_chain(100, true),
        &input,
        budget,
        ExecutionState::new,
    );
    let jsonata = t as f64 / e.as_secs_f64();
    println!(
        "output-chain-100: JSONPath {jsonpath:.0} transitions/s, JSONata {jsonata:.0} transitions/s; JSONPath/JSONata {:.2}x",
        jsonpath / jsonata
    );
    let (map, items) = map_of(1000);
    let (runs, transitions, elapsed) = measure(&map, &items, budget, ExecutionState::new);
    let rate = transitions as f64 / elapsed.as_secs_f64();
    println!(
        "map-1000: {runs} executions, {rate:.0} transitions/s ({:.2} µs/transition)",
        1e6 / rate
    );
    let (_, t, e) = measure(&map, &items, budget, ExecutionState::traced);
    let traced = t as f64 / e.as_secs_f64();
    println!(
        "map-1000 traced: {traced:.0} transitions/s = {:.2}x the plain run",
        traced / rate
    );
}
