//! Tasks that wait for the world, in one run: `cargo bench -p sandstep --bench waiting`
//! (about two minutes).
//!
//! (f) activities over HTTP, against the real `sandstep serve` on loopback: a worker's
//!     `GetActivityTask` (a task is waiting) + `SendTaskSuccess` round trip, p50/p90/p99;
//!     and the hand-off to a worker parked in a long poll (from sending `StartExecution`
//!     to the worker holding the task). Baselines on the same connection and server:
//!     `StartExecution` of a Standard pass3 (one durable commit) and `DescribeActivity`
//!     (a read).
//! (g) memory: RSS per Standard execution waiting on a `.waitForTaskToken` callback, and
//!     per execution waiting in a one-hour Wait, 100,000 of each, each in a fresh process;
//!     read once all wait, and again 15 s later, when the blocking threads that ran the
//!     tasks have ended (the figure per waiting execution).
//! (h) completing 10,000 waiting callbacks with `SendTaskSuccess` (the service call the
//!     API makes: token lookup, answer, durable commit) from 256 concurrent callers on sled
//!     with group commit, against Standard pass3 starts/s from as many callers on a fresh
//!     store of the same run.
//!
//! The callback's task runner stands in for a `lambda:invoke.waitForTaskToken` module: it
//! answers `TaskSubmitted` at once, so (g) and (h) measure the waiting and the answer, not
//! a sandbox run. `SANDSTEP_BENCH_WAITING` sets the 100,000, `SANDSTEP_BENCH_DIR` the
//! directory for the stores.

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

use common::{
    env_or, machine, park, runtime, scheduler, scratch, standard_rate, start_many, threads, Server,
    STARTERS, WAIT,
};
use sandstep::model::{Answer, MachineType};
use sandstep::scheduler::runner::{NoTasks, TaskContext, TaskRunner};
use sandstep::scheduler::Scheduler;
use sandstep::service::callbacks::Callbacks;
use sandstep::store::durability::Durability;
use sandstep::store::sled::Sled;
use sandstep::store::{Store, TenantId};
use sandstep_engine::EventKind;
use serde_json::{json, Value};
use std::process::Command;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// One `.waitForTaskToken` Task that hands its token to a module.
const CALLBACK: &str = r#"{"StartAt":"Ask","States":{"Ask":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke.waitForTaskToken","Parameters":{"FunctionName":"approver","Payload":{"token.$":"$$.Task.Token"}},"End":true}}}"#;
/// Requests per latency figure in (f).
const ROUNDS: usize = 2_000;
/// How long (g) waits before its second reading: the blocking threads that ran the tasks
/// end after 10 s idle, and what they held is not memory per waiting execution.
const IDLE: Duration = Duration::from_secs(15);
/// Callbacks completed in (h).
const COMPLETIONS: u64 = 10_000;

/// Stands in for a module that hands its task token on and returns: the task is
/// submitted and waits for its token. Keeps the tokens when asked to.
struct HandsOn {
    tokens: Option<Mutex<Vec<String>>>,
}

impl TaskRunner for HandsOn {
    fn run(&self, task: TaskContext) -> EventKind {
        if let (Some(tokens), Some(token)) = (&self.tokens, &task.request.task_token) {
            tokens.lock().expect("tokens").push(token.clone());
        }
        EventKind::TaskSubmitted {
            task: task.request.id,
            output: json!({"StatusCode": 200}),
            usage: None,
        }
    }
}

/// A callback execution waits once its start and its `TaskSubmitted` are applied and it
/// has left memory.
fn callbacks_settled(s: &Scheduler, all: u64) -> bool {
    s.counters().steps.load(Ordering::Relaxed) >= 2 * all && s.live_count() == 0
}

/// (g), in a fresh process: `count` executions of `what` ("callback" or "wait").
fn parked(what: &str, count: u64) {
    let dir = scratch(&format!("parked-{what}"));
    let store = Store::on(Sled::open(&dir, Durability::default()).expect("sled"));
    let rt = runtime();
    let (label, p) = rt.block_on(async {
        match what {
            "callback" => {
                let m = machine("callback", CALLBACK, MachineType::Standard);
                let s = scheduler(&store, &[&m], Arc::new(HandsOn { tokens: None }));
                let p = park(&s, &m, count, callbacks_settled, IDLE).await;
                ("waiting on a .waitForTaskToken callback", p)
            }
            _ => {
                let m = machine("wait", WAIT, MachineType::Standard);
                let s = scheduler(&store, &[&m], Arc::new(NoTasks));
                // Two timers per waiting Standard execution: its Wait's and its one-year limit.
                let armed = |s: &Scheduler, all| s.timers_armed() >= 2 * all as usize;
                let p = park(&s, &m, count, armed, IDLE).await;
                ("in Wait 3600 s", p)
            }
        }
    });
    // The figures on one line the parent reads: bytes per execution, then the text.
    println!(
        "{:.0}\t{} Standard executions {label} (started at {:.0}/s): RSS {} KiB -> {} KiB once all wait ({:.0} B/execution), {} KiB {} s later ({:.0} B/execution, {} threads)",
        p.per_execution(),
        p.n,
        p.start_rate(),
        p.base,
        p.settled,
        p.per_execution_settled(),
        p.after,
        IDLE.as_secs(),
        p.per_execution(),
        threads()
    );
    drop(rt);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs (g)'s `what` in a fresh process; returns (bytes per execution, its line).
fn parked_in_child(what: &str) -> (f64, String) {
    let out = Command::new(std::env::current_exe().expect("exe"))
        .args(["--parked", what])
        .output()
        .expect("parked phase");
    assert!(out.status.success(), "parked phase {what} failed: {out:?}");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let line = text.lines().last().expect("a line");
    let (per, rest) = line.split_once('\t').expect("figure");
    (per.parse().expect("bytes"), rest.to_string())
}

/// (h): completions/s of `COMPLETIONS` waiting callbacks, and the start rate of the
/// callback executions themselves.
fn complete(budget: Duration) -> (f64, f64) {
    let dir = scratch("complete");
    let store = Store::on(Sled::open(&dir, Durability::default()).expect("sled"));
    let m = machine("callback", CALLBACK, MachineType::Standard);
    let runner = Arc::new(HandsOn {
        tokens: Some(Mutex::new(Vec::new())),
    });
    let rt = runtime();
    let rates = rt.block_on(async {
        let s = scheduler(&store, &[&m], runner.clone());
        s.recover().await.expect("recover");
        let (n, elapsed) = start_many(&s, &m, "cb", STARTERS, COMPLETIONS, budget * 12).await;
        assert_eq!(n, COMPLETIONS, "every callback execution started");
        while !callbacks_settled(&s, n) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let tokens = std::mem::take(&mut *runner.tokens.as_ref().expect("kept").lock().unwrap());
        assert_eq!(tokens.len() as u64, n, "one token per execution");
        let callbacks = Callbacks::new(store.clone(), s.clone());
        let queue = Arc::new(Mutex::new(tokens));
        let tenant = TenantId("default".into());
        let began = Instant::now();
        let callers: Vec<_> = (0..STARTERS)
            .map(|_| {
                let (callbacks, queue, tenant) = (callbacks.clone(), queue.clone(), tenant.clone());
                tokio::spawn(async move {
                    loop {
                        let Some(token) = queue.lock().unwrap().pop() else {
                            return;
                        };
                        let answer = Answer::Success(r#"{"approved":true}"#.into());
                        callbacks
                            .send_in(&tenant, &token, answer)
                            .await
                            .expect("answer");
                    }
                })
            })
            .collect();
        for c in callers {
            c.await.expect("caller");
        }
        let took = began.elapsed();
        let succeeded = s.counters().finished.succeeded.load(Ordering::Relaxed);
        assert_eq!(succeeded, n, "every answered execution succeeded");
        (
            n as f64 / took.as_secs_f64(),
            n as f64 / elapsed.as_secs_f64(),
        )
    });
    drop(rt);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
    rates
}

/// An AWS JSON client on one keep-alive connection.
#[derive(Clone)]
struct Client {
    agent: ureq::Agent,
    url: String,
}

impl Client {
    fn new(url: &str) -> Client {
        Client {
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(90))
                .build(),
            url: url.to_string(),
        }
    }

    fn call(&self, action: &str, body: Value) -> Value {
        self.agent
            .post(&self.url)
            .set("content-type", "application/x-amz-json-1.0")
            .set("x-amz-target", &format!("AWSStepFunctions.{action}"))
            .send_string(&body.to_string())
            .unwrap_or_else(|e| panic!("{action}: {e}"))
            .into_json()
            .expect("json")
    }

    fn create_machine(&self, name: &str, definition: &str) -> String {
        let created = self.call(
            "CreateStateMachine",
            json!({"name": name, "definition": definition, "type": "STANDARD",
                   "roleArn": "arn:aws:iam::000000000000:role/bench"}),
        );
        created["stateMachineArn"]
            .as_str()
            .expect("arn")
            .to_string()
    }

    fn start(&self, machine: &str) -> Value {
        self.call(
            "StartExecution",
            json!({"stateMachineArn": machine, "input": "{\"n\":1}"}),
        )
    }

    /// Waits for a task of `activity`; the answer's token.
    fn next_task(&self, activity: &str) -> String {
        loop {
            let task = self.call(
                "GetActivityTask",
                json!({"activityArn": activity, "workerName": "bench"}),
            );
            if let Some(token) = task["taskToken"].as_str() {
                return token.to_string();
            }
        }
    }

    fn succeed(&self, token: &str) {
        self.call(
            "SendTaskSuccess",
            json!({"taskToken": token, "output": "{\"done\":true}"}),
        );
    }
}

/// Microseconds of each of `rounds` calls of `f`.
fn timed(rounds: usize, mut f: impl FnMut()) -> Vec<f64> {
    (0..rounds)
        .map(|_| {
            let began = Instant::now();
            f();
            began.elapsed().as_secs_f64() * 1e6
        })
        .collect()
}

/// p50, p90, p99 of `samples`, in µs.
fn quantiles(mut samples: Vec<f64>) -> [f64; 3] {
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    [at(0.5), at(0.9), at(0.99)]
}

fn show(name: &str, samples: Vec<f64>) -> f64 {
    let [p50, p90, p99] = quantiles(samples);
    println!("    {name}: p50 {p50:.0} µs, p90 {p90:.0} µs, p99 {p99:.0} µs");
    p50
}

/// (f): activity latencies over HTTP.
fn activities() {
    let server = Server::start();
    let c = Client::new(&server.url);
    let activity = c.call("CreateActivity", json!({"name": "bench"}))["activityArn"]
        .as_str()
        .expect("arn")
        .to_string();
    let work = format!(
        r#"{{"StartAt":"Work","States":{{"Work":{{"Type":"Task","Resource":"{activity}","End":true}}}}}}"#
    );
    let act = c.create_machine("act", &work);
    let pass3 = c.create_machine("pass3", common::PASS3);
    // Warm up connection, caches and allocator.
    for _ in 0..200 {
        c.start(&pass3);
        c.start(&act);
        c.succeed(&c.next_task(&activity));
    }
    println!("(f) activities over HTTP, one keep-alive connection, {ROUNDS} rounds each:");
    let read = show(
        "DescribeActivity (baseline: a read)",
        timed(ROUNDS, || {
            c.call("DescribeActivity", json!({"activityArn": activity}));
        }),
    );
    let start = show(
        "StartExecution, Standard pass3 (baseline: a durable commit)",
        timed(ROUNDS, || {
            c.start(&pass3);
        }),
    );
    let (mut gets, mut sends, mut trips) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        c.start(&act);
        let began = Instant::now();
        let token = c.next_task(&activity);
        let got = began.elapsed();
        c.succeed(&token);
        let done = began.elapsed();
        gets.push(got.as_secs_f64() * 1e6);
        sends.push((done - got).as_secs_f64() * 1e6);
        trips.push(done.as_secs_f64() * 1e6);
    }
    show("GetActivityTask, a task waiting", gets);
    show("SendTaskSuccess", sends);
    let trip = show("GetActivityTask -> SendTaskSuccess round trip", trips);
    // A worker parked in its long poll; the driver starts an execution and notes when.
    let (sent_tx, sent_rx) = mpsc::channel::<Instant>();
    let (held_tx, held_rx) = mpsc::channel::<Duration>();
    let worker = {
        let (c, activity) = (Client::new(&server.url), activity.clone());
        std::thread::spawn(move || {
            for _ in 0..ROUNDS / 2 {
                let token = c.next_task(&activity);
                let held = Instant::now();
                let sent = sent_rx.recv().expect("sent");
                held_tx.send(held - sent).expect("held");
                c.succeed(&token);
            }
        })
    };
    let mut handoffs = Vec::new();
    for _ in 0..ROUNDS / 2 {
        // Let the worker get back into its poll first.
        std::thread::sleep(Duration::from_millis(2));
        let sent = Instant::now();
        sent_tx.send(sent).expect("send");
        c.start(&act);
        handoffs.push(held_rx.recv().expect("held").as_secs_f64() * 1e6);
    }
    worker.join().expect("worker");
    let handoff = show(
        "StartExecution sent -> a parked worker holds the task",
        handoffs,
    );
    println!(
        "    ratios: round trip = {:.2}x a Standard start, {:.2}x a read; hand-off = {:.2}x a Standard start",
        trip / start,
        trip / read,
        handoff / start
    );
}

fn main() {
    let count = env_or("SANDSTEP_BENCH_WAITING", 100_000) as u64;
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--parked") {
        parked(&args[at + 1], count);
        return;
    }
    println!(
        "# sandstep waiting bench ({} CPUs)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    activities();
    let (callback, callback_line) = parked_in_child("callback");
    let (wait, wait_line) = parked_in_child("wait");
    println!("(g) memory, fresh process each:\n    {callback_line}\n    {wait_line}");
    println!(
        "    callback {callback:.0} B = {:.2} KiB per waiting execution (goal <= 2 KiB), {:.2}x a Wait",
        callback / 1024.0,
        callback / wait
    );
    let budget = Duration::from_secs(5);
    let (standard, _) = standard_rate(budget);
    let (completions, started) = complete(budget);
    println!(
        "(h) {COMPLETIONS} waiting callbacks completed by SendTaskSuccess from {STARTERS} callers, sled group commit: {completions:.0} completions/s; their executions started at {started:.0}/s; Standard pass3 starts {standard:.0}/s; completions = {:.2}x Standard starts",
        completions / standard
    );
}
