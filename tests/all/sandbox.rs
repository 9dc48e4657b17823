//! The sandbox against real modules: `modules/dist/*.wasm`, built by `modules/build.sh`
//! (CI runs it before `cargo test`). A missing module fails its test, never skips it.

use sandstep::grants::Grants;
use sandstep::sandbox::{
    CancelHandle, Invocation, Limits, Options, Prepared, RejectReason, Sandbox, TaskContext,
    TaskOutcome,
};
use sandstep::scheduler::runner::Progress;
use sandstep::store::modules::ModuleKind;
use sandstep::store::{Kv, Modules, Store, TenantId};
use sandstep::tasks;
use sandstep_engine::{EventKind, TaskId, TaskRequest};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../modules/dist")
}

/// The bytes of `modules/dist/<name>.wasm`.
fn wasm(name: &str) -> Vec<u8> {
    let path = dist().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}. The test modules are built by modules/build.sh: run `bash modules/build.sh` first.",
            path.display()
        )
    })
}

fn tenant(name: &str) -> TenantId {
    TenantId(name.into())
}

/// A sandbox with a small pool: tests create several at once.
fn sandbox_on(store: Store) -> Sandbox {
    let options = Options {
        pool_slots: 32,
        ..Options::default()
    };
    Sandbox::new(options, store).unwrap()
}

/// One sandbox for the tests that are not about compiling, so each fixture compiles once
/// per test run (a debug build of wasmtime compiles slowly).
fn shared() -> &'static Sandbox {
    static SANDBOX: OnceLock<Sandbox> = OnceLock::new();
    SANDBOX.get_or_init(|| sandbox_on(Store::memory()))
}

/// A fixture registered (once) in the shared sandbox's tenant `fixtures`, with no grants.
fn fixture(name: &str) -> Prepared {
    static REGISTERED: OnceLock<Mutex<HashMap<String, ()>>> = OnceLock::new();
    let registered = REGISTERED.get_or_init(Mutex::default);
    let t = tenant("fixtures");
    {
        let mut done = registered.lock().unwrap();
        if !done.contains_key(name) {
            shared()
                .register(&t, name, &wasm(name), Grants::none())
                .unwrap();
            done.insert(name.to_string(), ());
        }
    }
    shared().prepare(&t, name, None).unwrap()
}

fn context() -> TaskContext {
    TaskContext {
        execution_arn: "arn:aws:states:us-east-1:000000000000:execution:tests:run-1".into(),
        state_name: "Task".into(),
        attempt: 0,
        task_token: None,
    }
}

fn invocation(limits: Limits) -> Invocation {
    Invocation {
        context: context(),
        limits,
        cancel: CancelHandle::new(),
        heartbeats: Default::default(),
    }
}

fn run(name: &str, input: &str, limits: Limits) -> TaskOutcome {
    shared().run(&fixture(name), input, invocation(limits))
}

/// `(error, cause)` of a failed outcome.
fn failure(outcome: &TaskOutcome) -> (String, String) {
    let f = outcome
        .result
        .as_ref()
        .expect_err("the task should have failed");
    (f.error.to_string(), f.cause.clone())
}

fn short(timeout: Duration) -> Limits {
    Limits {
        timeout,
        ..Limits::default()
    }
}

#[test]
fn echo_returns_its_input_and_reports_usage() {
    let outcome = run("echo", r#"{"hello": ["world", 1]}"#, Limits::default());
    assert_eq!(outcome.result, Ok(json!({"hello": ["world", 1]})));
    assert!(outcome.fuel_consumed > 0 && outcome.fuel_consumed < 10_000_000);
}

#[test]
fn infinite_loop_times_out() {
    let outcome = run("infinite-loop", "{}", short(Duration::from_millis(300)));
    let (error, cause) = failure(&outcome);
    assert_eq!(error, "States.Timeout", "{cause}");
    assert!(cause.contains("300 ms"), "{cause}");
    assert!(
        outcome.duration < Duration::from_secs(2),
        "{:?}",
        outcome.duration
    );
    // The engine cannot count fuel across an interrupt: the budget is billed.
    assert_eq!(outcome.fuel_consumed, Limits::default().fuel);
}

#[test]
fn infinite_loop_runs_out_of_fuel() {
    let limits = Limits {
        fuel: 5_000_000,
        ..Limits::default()
    };
    let outcome = run("infinite-loop", "{}", limits);
    let (error, cause) = failure(&outcome);
    assert_eq!(error, "States.Timeout");
    assert!(cause.contains("fuel"), "{cause}");
    assert_eq!(outcome.fuel_consumed, 5_000_000);
}

#[test]
fn unbounded_allocation_hits_the_memory_cap() {
    let outcome = run("unbounded-alloc", "{}", Limits::default());
    let (error, cause) = failure(&outcome);
    assert_eq!(error, "States.TaskFailed");
    assert!(cause.contains("memory limit of 64 MiB"), "{cause}");
}

#[test]
fn a_lower_memory_limit_per_invocation() {
    let limits = Limits {
        memory_bytes: 8 << 20,
        ..Limits::default()
    };
    let (error, cause) = failure(&run("unbounded-alloc", "{}", limits));
    assert_eq!(error, "States.TaskFailed");
    assert!(cause.contains("memory limit of 8 MiB"), "{cause}");
}

#[test]
fn unbounded_recursion_overflows_the_stack() {
    let outcome = run("unbounded-recursion", "{}", Limits::default());
    let (error, cause) = failure(&outcome);
    assert_eq!(error, "States.TaskFailed");
    assert!(cause.contains("stack"), "{cause}");
}

#[test]
fn huge_output_exceeds_the_data_limit() {
    let (error, cause) = failure(&run("huge-output", "{}", Limits::default()));
    assert_eq!(error, "States.DataLimitExceeded");
    assert!(cause.contains("256 KiB"), "{cause}");
}

#[test]
fn oversized_input_exceeds_the_data_limit() {
    let input = json!({"text": "x".repeat(300 * 1024)}).to_string();
    let (error, _) = failure(&run("echo", &input, Limits::default()));
    assert_eq!(error, "States.DataLimitExceeded");
}

#[test]
fn a_panic_traps_with_its_message() {
    let outcome = run("trap", "{}", Limits::default());
    let (error, cause) = failure(&outcome);
    assert_eq!(error, "States.TaskFailed");
    assert!(cause.contains("deliberate panic"), "{cause}");
    assert!(
        outcome
            .logs
            .iter()
            .any(|l| l.message.contains("deliberate panic")),
        "{:?}",
        outcome.logs
    );
    let (error, cause) = failure(&run(
        "trap",
        r#"{"mode": "unreachable"}"#,
        Limits::default(),
    ));
    assert_eq!(error, "States.TaskFailed");
    assert!(cause.contains("unreachable"), "{cause}");
}

#[test]
fn ungranted_host_calls_are_denied_not_trapped() {
    let (error, cause) = failure(&run("ungranted", "{}", Limits::default()));
    assert_eq!(error, "AccessDenied");
    assert!(cause.contains("kv:secrets read"), "{cause}");
    assert!(cause.contains("queue:exfil write"), "{cause}");
}

#[test]
fn wasi_snoop_sees_no_file_and_no_environment() {
    // The host has a HOME and an /etc/passwd; the command must see neither.
    let outcome = run("wasi-snoop", "{}", Limits::default());
    assert_eq!(outcome.result, Ok(json!({"file": null, "home": null})));
}

#[test]
fn inspect_refuses_invalid_bytes() {
    let sandbox = shared();
    assert_eq!(
        sandbox.inspect(b"not wasm at all"),
        Err(RejectReason::NotWasm)
    );
    let mut truncated = wasm("echo");
    truncated.truncate(100);
    match sandbox.inspect(&truncated) {
        Err(RejectReason::Invalid(_)) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn inspect_refuses_a_component_importing_what_the_host_lacks() {
    match shared().inspect(&wasm("bad-import")) {
        Err(RejectReason::Import { import, why }) => {
            assert_eq!(import, "sandstep:host/secrets@0.1.0", "{why}");
        }
        other => panic!("{other:?}"),
    }
    let e = shared()
        .register(
            &tenant("fixtures"),
            "bad-import",
            &wasm("bad-import"),
            Grants::none(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("sandstep:host/secrets@0.1.0"), "{e}");
}

#[test]
fn inspect_describes_both_kinds() {
    let component = shared().inspect(&wasm("ungranted")).unwrap();
    assert_eq!(component.kind, ModuleKind::Component);
    assert_eq!(component.exports, vec!["run".to_string()]);
    assert!(
        component
            .imports
            .contains(&"sandstep:host/kv@0.1.0#get".to_string()),
        "{:?}",
        component.imports
    );
    let command = shared().inspect(&wasm("word-count")).unwrap();
    assert_eq!(command.kind, ModuleKind::Command);
    assert!(command.exports.contains(&"_start".to_string()));
    assert!(command
        .imports
        .iter()
        .all(|i| i.starts_with("wasi_snapshot_preview1::")));
}

#[test]
fn commands_read_stdin_and_fail_with_stderr() {
    let outcome = run(
        "word-count",
        r#"{"text": "one two\nthree"}"#,
        Limits::default(),
    );
    assert_eq!(outcome.result, Ok(json!({"words": 3, "lines": 2})));
    let (error, cause) = failure(&run("word-count", r#"{"nope": 1}"#, Limits::default()));
    assert_eq!(error, "States.TaskFailed");
    assert!(cause.contains("status 2"), "{cause}");
    assert!(cause.contains("missing \"text\""), "{cause}");
    let tiny = Limits {
        max_output_bytes: 5,
        ..Limits::default()
    };
    let (error, _) = failure(&run("word-count", r#"{"text": "a"}"#, tiny));
    assert_eq!(error, "States.DataLimitExceeded");
}

#[test]
fn other_tasks_are_unaffected_by_a_spinning_one() {
    let spinner = std::thread::spawn(|| run("infinite-loop", "{}", short(Duration::from_secs(3))));
    std::thread::sleep(Duration::from_millis(100));
    let echo = fixture("echo");
    let started = Instant::now();
    for i in 0..20 {
        let outcome = shared().run(
            &echo,
            &format!("{{\"i\": {i}}}"),
            invocation(Limits::default()),
        );
        assert_eq!(outcome.result, Ok(json!({"i": i})));
    }
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "20 echo tasks beside a spinning one took {:?}",
        started.elapsed()
    );
    assert!(
        !spinner.is_finished(),
        "the spinner should still be running"
    );
    assert_eq!(failure(&spinner.join().unwrap()).0, "States.Timeout");
}

#[test]
fn a_cancel_handle_stops_a_running_task() {
    let cancel = CancelHandle::new();
    let handle = cancel.clone();
    let looping = fixture("infinite-loop");
    let task = std::thread::spawn(move || {
        shared().run(
            &looping,
            "{}",
            Invocation {
                context: context(),
                limits: short(Duration::from_secs(60)),
                cancel: handle,
                heartbeats: Default::default(),
            },
        )
    });
    std::thread::sleep(Duration::from_millis(200));
    let cancelled = Instant::now();
    cancel.cancel();
    let outcome = task.join().unwrap();
    assert!(cancelled.elapsed() < Duration::from_millis(500));
    let (error, cause) = failure(&outcome);
    assert_eq!(error, "States.Runtime");
    assert!(cause.contains("cancelled"), "{cause}");
}

#[test]
fn a_missed_heartbeat_times_out() {
    let limits = Limits {
        timeout: Duration::from_secs(30),
        heartbeat: Some(Duration::from_millis(200)),
        ..Limits::default()
    };
    let outcome = run("infinite-loop", "{}", limits);
    let (error, cause) = failure(&outcome);
    assert_eq!(error, "States.HeartbeatTimeout", "{cause}");
    assert!(outcome.duration < Duration::from_secs(2));
}

#[test]
fn grants_and_data_stay_inside_the_tenant() {
    let sandbox = sandbox_on(Store::memory());
    let (a, b) = (tenant("a"), tenant("b"));
    let csv = b"sku,qty\nx-1,2\nx-1,3\n";
    let store = sandbox.store();
    store.blob_put(&a, "raw", "in.csv", csv, None, 0).unwrap();
    let grants = Grants::parse(["blob:raw:read,kv:totals"]).unwrap();
    let etl = wasm("etl-transform");
    sandbox.register(&a, "etl", &etl, grants.clone()).unwrap();
    sandbox.register(&b, "etl", &etl, grants).unwrap();
    let input = r#"{"key": "in.csv"}"#;
    let in_a = sandbox.run(
        &sandbox.prepare(&a, "etl", None).unwrap(),
        input,
        invocation(Limits::default()),
    );
    assert_eq!(in_a.result.as_ref().unwrap()["written"], json!(1));
    assert!(store.kv_get(&a, "totals", "x-1").unwrap().is_some());
    assert_eq!(store.kv_get(&b, "totals", "x-1").unwrap(), None);
    // Tenant b's copy of the module sees neither a's object nor a's items.
    let in_b = sandbox.run(
        &sandbox.prepare(&b, "etl", None).unwrap(),
        input,
        invocation(Limits::default()),
    );
    assert_eq!(failure(&in_b).0, "NoSuchKey");
    // And tenant b cannot even name tenant a's module.
    let request = TaskRequest {
        id: TaskId(1),
        resource: "arn:aws:lambda:us-east-1:000000000000:function:etl".into(),
        input: json!({"key": "in.csv"}),
        timeout_seconds: None,
        heartbeat_seconds: None,
        attempt: 0,
        state_name: "Transform".into(),
        task_token: None,
    };
    let caller = |t: &TenantId| tasks::Caller {
        tenant: t.clone(),
        execution_arn: "arn:aws:states:us-east-1:000000000000:execution:m:e".into(),
        cancel: CancelHandle::new(),
        pins: Default::default(),
        quotas: None,
        progress: Progress::ignored(request.id),
    };
    match tasks::run(&sandbox, &request, caller(&tenant("c"))).event {
        EventKind::TaskFailed { error, usage, .. } => {
            assert_eq!(error, "Lambda.ResourceNotFoundException");
            assert_eq!(usage, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn read_only_grants_refuse_writes() {
    let sandbox = sandbox_on(Store::memory());
    let a = tenant("a");
    sandbox
        .store()
        .blob_put(&a, "raw", "in.csv", b"y,1\n", None, 0)
        .unwrap();
    let grants = Grants::parse(["blob:raw:read,kv:totals:read"]).unwrap();
    sandbox
        .register(&a, "etl", &wasm("etl-transform"), grants)
        .unwrap();
    let outcome = sandbox.run(
        &sandbox.prepare(&a, "etl", None).unwrap(),
        r#"{"key": "in.csv"}"#,
        invocation(Limits::default()),
    );
    let (error, cause) = failure(&outcome);
    assert_eq!(
        (error.as_str(), cause.as_str()),
        ("AccessDenied", "kv:totals write")
    );
}

#[test]
fn lambda_invoke_results_are_shaped_like_aws() {
    let sandbox = sandbox_on(Store::memory());
    let t = tenant("default");
    sandbox
        .register(
            &t,
            "charge-payment",
            &wasm("charge-payment"),
            Grants::none(),
        )
        .unwrap();
    let request = |resource: &str, input: Value| TaskRequest {
        id: TaskId(3),
        resource: resource.into(),
        input,
        timeout_seconds: Some(10),
        heartbeat_seconds: None,
        attempt: 0,
        state_name: "Charge".into(),
        task_token: None,
    };
    let caller = || tasks::Caller {
        tenant: t.clone(),
        execution_arn: "arn:aws:states:us-east-1:000000000000:execution:m:e".into(),
        cancel: CancelHandle::new(),
        pins: Default::default(),
        quotas: None,
        progress: Progress::ignored(TaskId(3)),
    };
    let order = json!({"orderId": "o-1", "amount": 10, "card": "4111111111111111"});
    match tasks::run(
        &sandbox,
        &request(
            tasks::LAMBDA_INVOKE,
            json!({"FunctionName": "charge-payment:1", "Payload": order}),
        ),
        caller(),
    )
    .event
    {
        EventKind::TaskSucceeded { output, usage, .. } => {
            assert_eq!(output["StatusCode"], json!(200));
            assert_eq!(output["ExecutedVersion"], json!("1"));
            assert!(output["Payload"]["chargeId"].is_string(), "{output}");
            let usage = usage.unwrap();
            assert_eq!(
                (usage.module.as_str(), usage.version),
                ("charge-payment", 1)
            );
            assert_eq!(usage.sha256.len(), 64);
            assert!(usage.fuel_consumed > 0);
        }
        other => panic!("{other:?}"),
    }
    let declined = json!({"orderId": "o-2", "amount": 5000, "card": "4111111111111111"});
    match tasks::run(
        &sandbox,
        &request(
            "arn:aws:lambda:us-east-1:000000000000:function:charge-payment",
            declined,
        ),
        caller(),
    )
    .event
    {
        EventKind::TaskFailed { error, usage, .. } => {
            assert_eq!(error, "PaymentDeclined");
            assert!(usage.is_some());
        }
        other => panic!("{other:?}"),
    }
    match tasks::run(
        &sandbox,
        &request("arn:aws:states:::dynamodb:putItem", json!({})),
        caller(),
    )
    .event
    {
        EventKind::TaskFailed { error, cause, .. } => {
            assert_eq!(error, "States.Runtime");
            assert!(cause.contains("sandstep binding set"), "{cause}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn artifacts_are_reused_and_corrupt_ones_recompiled() {
    let store = Store::memory();
    let t = tenant("default");
    let first = sandbox_on(store.clone());
    let module = first
        .register(&t, "echo", &wasm("echo"), Grants::none())
        .unwrap();
    assert_eq!(first.stats().compiled, 1);
    let fingerprint = first.fingerprint().to_string();
    assert!(store
        .artifact_get(&t, &module.sha256, &fingerprint)
        .unwrap()
        .is_some());

    // A second sandbox on the same store loads the artifact without compiling.
    let second = sandbox_on(store.clone());
    let prepared = second.prepare(&t, "echo", None).unwrap();
    assert_eq!(second.stats().compiled, 0);
    assert_eq!(second.stats().artifacts_loaded, 1);
    let outcome = second.run(&prepared, "[1]", invocation(Limits::default()));
    assert_eq!(outcome.result, Ok(json!([1])));
    second.prepare(&t, "echo", None).unwrap();
    assert_eq!(second.stats().cache_hits, 1);

    // A corrupted artifact is refused and replaced by a compile.
    let mut damaged = store
        .artifact_get(&t, &module.sha256, &fingerprint)
        .unwrap()
        .unwrap();
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;
    store
        .artifact_put(&t, &module.sha256, &fingerprint, &damaged)
        .unwrap();
    let third = sandbox_on(store.clone());
    let prepared = third.prepare(&t, "echo", None).unwrap();
    assert_eq!(third.stats().artifacts_refused, 1);
    assert_eq!(third.stats().compiled, 1);
    let outcome = third.run(&prepared, "{}", invocation(Limits::default()));
    assert_eq!(outcome.result, Ok(json!({})));

    // Another module's artifact stored under this one's key is refused too.
    let other = first
        .register(&t, "word-count", &wasm("word-count"), Grants::none())
        .unwrap();
    let foreign = store
        .artifact_get(&t, &other.sha256, &fingerprint)
        .unwrap()
        .unwrap();
    store
        .artifact_put(&t, &module.sha256, &fingerprint, &foreign)
        .unwrap();
    let fourth = sandbox_on(store.clone());
    fourth.prepare(&t, "echo", None).unwrap();
    assert_eq!(fourth.stats().artifacts_refused, 1);

    // The recompiled artifact replaced the bad one.
    let fifth = sandbox_on(store);
    fifth.prepare(&t, "echo", None).unwrap();
    assert_eq!(
        (fifth.stats().artifacts_loaded, fifth.stats().compiled),
        (1, 0)
    );
}

// --- `sandstep run` end to end -------------------------------------------------------

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../modules/examples")
}

fn sandstep_run(args: &[String]) -> (i32, String, String) {
    for arg in args {
        if let Some((_, path)) = arg.split_once('=') {
            if path.ends_with(".wasm") {
                wasm(
                    Path::new(path)
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .unwrap(),
                );
            }
        }
    }
    let out = Command::new(env!("CARGO_BIN_EXE_sandstep"))
        .arg("run")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn module_arg(name: &str) -> Vec<String> {
    vec![
        "--module".into(),
        format!("{name}={}", dist().join(format!("{name}.wasm")).display()),
    ]
}

fn example(file: &str) -> String {
    examples().join(file).display().to_string()
}

fn order_processing(grant_queue: bool) -> Vec<String> {
    let mut args = vec![
        example("order-processing-modules.asl.json"),
        "--input".into(),
        format!("@{}", example("order-processing.input.json")),
    ];
    for m in [
        "validate-order",
        "charge-payment",
        "reserve-inventory",
        "ship-order",
    ] {
        args.extend(module_arg(m));
    }
    args.extend(
        [
            "--grant",
            "reserve-inventory=kv:inventory",
            "--kv",
            r#"inventory/WIDGET-A={"stock": 10}"#,
            "--kv",
            r#"inventory/GADGET-B={"stock": 1}"#,
        ]
        .map(String::from),
    );
    if grant_queue {
        args.extend(["--grant", "ship-order=queue:shipments"].map(String::from));
    }
    args
}

#[test]
fn sandstep_run_order_processing_with_grants() {
    let (code, stdout, stderr) = sandstep_run(&order_processing(true));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let output: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(output["order"]["amount"], json!(150.0));
    assert_eq!(output["inventory"]["statusCode"], json!(200));
    assert_eq!(output["shipment"]["queue"], json!("shipments"));

    // Without the queue grant, ship-order's send is refused.
    let (code, stdout, _) = sandstep_run(&order_processing(false));
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["error"], json!("AccessDenied"), "{report}");
    assert_eq!(report["cause"], json!("queue:shipments write"));
}

#[test]
fn sandstep_run_etl() {
    let mut args = vec![
        example("etl.asl.json"),
        "--input".into(),
        format!("@{}", example("etl.input.json")),
        "--grant".into(),
        "etl-transform=blob:raw:read,kv:totals".into(),
        "--blob".into(),
        format!("raw/sales/2024-01-01.csv=@{}", example("etl.sample.csv")),
    ];
    args.extend(module_arg("etl-transform"));
    let (code, stdout, stderr) = sandstep_run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let output: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(output["key"], json!("sales/2024-01-01.csv"));
    assert!(
        output["result"]["written"].as_u64().unwrap() > 0,
        "{output}"
    );
}

#[test]
fn sandstep_run_word_count_command() {
    let mut args = vec![
        example("word-count.asl.json"),
        "--input".into(),
        format!("@{}", example("word-count.input.json")),
    ];
    args.extend(module_arg("word-count"));
    let (code, stdout, stderr) = sandstep_run(&args);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap(),
        json!({"words": 9, "lines": 3})
    );
}

#[test]
fn sandstep_run_fails_clearly_without_the_module() {
    // The example's Catch of States.TaskFailed would take the missing module's error too
    // (AWS's wildcard for a task's errors): without it, the error itself is the answer.
    let text = std::fs::read_to_string(example("word-count.asl.json")).unwrap();
    let mut definition: Value = serde_json::from_str(&text).unwrap();
    definition["States"]["CountWords"]
        .as_object_mut()
        .unwrap()
        .remove("Catch");
    definition["States"]
        .as_object_mut()
        .unwrap()
        .remove("BadInput");
    let dir = crate::support::TempDir::new("run-without-module");
    let path = dir.0.join("word-count.asl.json");
    std::fs::write(&path, definition.to_string()).unwrap();
    let (code, stdout, _) = sandstep_run(&[
        path.display().to_string(),
        "--input".into(),
        format!("@{}", example("word-count.input.json")),
    ]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["error"], json!("Lambda.ResourceNotFoundException"));
    assert!(
        report["cause"].as_str().unwrap().contains("word-count"),
        "{report}"
    );
}

#[test]
fn sandstep_run_refuses_a_bad_module() {
    let mut args = vec![example("word-count.asl.json")];
    args.extend(module_arg("bad-import"));
    let (code, _, stderr) = sandstep_run(&args);
    assert_eq!(code, 2);
    assert!(stderr.contains("sandstep:host/secrets@0.1.0"), "{stderr}");
}
