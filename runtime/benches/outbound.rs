//! HTTP Tasks' overhead: `cargo bench -p sandstep --bench outbound` (about 30 s).
//!
//! A small HTTP server on loopback answers `{"ok": true}`, one request per connection. In
//! the same run, sequentially, `SANDSTEP_BENCH_OUTBOUND` times each (default 2,000):
//! (m1) the request made directly with `ureq`; (m2) StartSyncExecution of an Express
//! machine with one Pass state (what an execution costs without the call); (m3)
//! StartSyncExecution of an Express machine with one `http:invoke` Task making the same
//! request through a connection with an API key (the server started with
//! `outbound_allow = ["127.0.0.1/32"]`); (m4) StartSyncExecution of an Express machine
//! whose one Task is a bound resource played by the `http-forward` module, which makes the
//! same request through the module's outbound HTTP (`bash modules/build.sh` first). p50
//! and p99 of each; the HTTP Task's own overhead is m3 − m2 against m1, the module's
//! m4 − m2.

// Benchmark code: a failed expect is a broken benchmark.
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]

mod common;

use common::{env_or, scratch, Server};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// Serves `{"ok": true}` to every request, one per connection.
fn answer_ok() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                let body = r#"{"ok": true}"#;
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    url
}

/// p50 and p99 of `n` sequential runs of `once`, in ms.
fn percentiles(n: usize, mut once: impl FnMut()) -> (f64, f64) {
    for _ in 0..n / 10 {
        once(); // warm-up
    }
    let mut took: Vec<Duration> = (0..n)
        .map(|_| {
            let began = Instant::now();
            once();
            began.elapsed()
        })
        .collect();
    took.sort();
    let at = |q: f64| {
        took[((took.len() as f64 * q) as usize).min(took.len() - 1)].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.99))
}

fn main() {
    let n = env_or("SANDSTEP_BENCH_OUTBOUND", 2000);
    let api = answer_ok();
    let dir = scratch("outbound");
    std::fs::create_dir_all(&dir).expect("dir");
    let config = dir.join("sandstep.toml");
    std::fs::write(&config, "outbound_allow = [\"127.0.0.1/32\"]\n").expect("config");
    let key = "11".repeat(32);
    let server = Server::start_with(
        dir.join("data"),
        &["--config", config.to_str().expect("path")],
        &[("SANDSTEP_SECRET_KEY", key.as_str())],
    );
    ureq::put(&format!("{}/v1/connections/api", server.url))
        .send_json(json!({"baseUrls": [format!("{api}/")], "auth": {"type": "API_KEY", "header": "x-api-key", "value": "k"}}))
        .expect("connection");
    let machine = |name: &str, definition: Value| {
        server.sfn(
            "CreateStateMachine",
            json!({"name": name, "definition": definition.to_string(),
            "roleArn": "arn:aws:iam::000000000000:role/bench", "type": "EXPRESS"}),
        )["stateMachineArn"]
            .as_str()
            .expect("arn")
            .to_string()
    };
    let pass = machine(
        "pass",
        json!({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}),
    );
    let call = machine(
        "call",
        json!({"StartAt": "Call", "States": {"Call": {"Type": "Task",
        "Resource": "arn:aws:states:::http:invoke", "Parameters": {"ApiEndpoint": format!("{api}/items"), "Method": "GET",
        "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:000000000000:connection/api"}}, "End": true}}}),
    );
    let forward =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../modules/dist/http-forward.wasm");
    let forward = std::fs::read(&forward)
        .expect("modules/dist/http-forward.wasm: run `bash modules/build.sh` first");
    let port = api.rsplit(':').next().expect("port");
    ureq::put(&format!(
        "{}/v1/modules/http-forward?grants=kv:forward:read,http:127.0.0.1:{port}",
        server.url
    ))
    .send_bytes(&forward)
    .expect("module");
    ureq::put(&format!("{}/v1/kv/forward/bench", server.url))
        .send_json(json!({"url": api}))
        .expect("route");
    ureq::put(&format!("{}/v1/bindings", server.url))
        .send_json(
            json!({"resource": "arn:aws:states:::aws-sdk:bench:*", "module": "http-forward"}),
        )
        .expect("binding");
    let module = machine(
        "module",
        json!({"StartAt": "Call", "States": {"Call": {"Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:bench:items", "Parameters": {}, "End": true}}}),
    );
    let sync = |arn: &str| {
        let out = server.sfn("StartSyncExecution", json!({"stateMachineArn": arn}));
        assert_eq!(out["status"], "SUCCEEDED", "{out}");
    };
    let agent = ureq::AgentBuilder::new().build();
    let (direct50, direct99) = percentiles(n, || {
        let r = agent.get(&format!("{api}/items")).call().expect("direct");
        assert_eq!(r.status(), 200);
    });
    let (pass50, pass99) = percentiles(n, || sync(&pass));
    let (call50, call99) = percentiles(n, || sync(&call));
    let (module50, module99) = percentiles(n, || sync(&module));
    println!("{n} sequential requests each, p50 / p99 in ms");
    println!("(m1) direct GET:                       {direct50:.3} / {direct99:.3}");
    println!("(m2) StartSyncExecution, Pass:         {pass50:.3} / {pass99:.3}");
    println!("(m3) StartSyncExecution, http:invoke:  {call50:.3} / {call99:.3}");
    println!("(m4) StartSyncExecution, module call:  {module50:.3} / {module99:.3}");
    let own = call50 - pass50;
    println!(
        "http:invoke's own cost (m3 - m2, p50): {own:.3} ms = {:.2}x the direct request",
        own / direct50
    );
    let module_own = module50 - pass50;
    println!(
        "the module's outbound call, its own cost (m4 - m2, p50): {module_own:.3} ms = {:.2}x the direct request",
        module_own / direct50
    );
}
