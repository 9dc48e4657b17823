//! Several `sandstep serve` processes on one PostgreSQL database (`--store postgres://`):
//! each runs the tenants of the partitions it holds and passes every other call on to the
//! server that runs its tenant; a dead server's partitions are taken over by the others.
//! `kill -9` of the server running the work, then of the next, with a thousand executions
//! under way and clients calling every server; tenants spread over servers, one of which
//! dies; a process frozen (`SIGSTOP`) past its lease: every execution finishes once,
//! histories have no gaps and no repeated transitions, and the frozen process, resumed,
//! writes nothing and stops.

use crate::durability::history;
use crate::support::{call_at, module, postgres_store, Server, TempDir};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ECHO: &str = "arn:aws:lambda:us-east-1:000000000000:function:echo";
const ACTIVITY: &str = "arn:aws:states:us-east-1:000000000000:activity:approve";
const MACHINE: &str = "arn:aws:states:us-east-1:000000000000:stateMachine:pg";

/// A Task, Waits, a Map of Tasks and an activity answered by workers through the API (a
/// callback): each execution is busy for a few seconds. An activity task whose worker
/// lost it with a killed server times out and is scheduled again.
fn definition() -> Value {
    json!({"StartAt": "T1", "States": {
        "T1": {"Type": "Task", "Resource": ECHO, "Parameters": {"n.$": "$.n"}, "ResultPath": "$.t1", "Next": "W"},
        "W": {"Type": "Wait", "Seconds": 1, "Next": "M"},
        "M": {"Type": "Map", "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "Each", "States": {
            "Each": {"Type": "Task", "Resource": ECHO, "End": true}}}, "ResultPath": "$.m", "Next": "A"},
        "A": {"Type": "Task", "Resource": ACTIVITY, "Parameters": {"n.$": "$.n"},
              "TimeoutSeconds": 8, "ResultPath": "$.a", "Next": "W2",
              "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 10}]},
        "W2": {"Type": "Wait", "Seconds": 1, "Next": "P"},
        "P": {"Type": "Pass", "Parameters": {"n.$": "$.n", "t.$": "$.t1.n", "m.$": "$.m", "a.$": "$.a.approved"}, "End": true}}})
}

/// A configuration file with a short lease, so the tests see a takeover quickly.
fn config(dir: &std::path::Path, lease_seconds: u64, extra: &str) -> String {
    let path = dir.join("sandstep.toml");
    std::fs::write(
        &path,
        format!("lease_seconds = {lease_seconds}\nactivity_poll_seconds = 2\n{extra}"),
    )
    .unwrap();
    path.display().to_string()
}

/// The process id of the server that answers at `url` for the default tenant (the one
/// running it, to which the call is passed on).
fn answering_pid(url: &str) -> Option<u32> {
    answering_pid_as(url, None)
}

/// The process id of the server that runs the tenant of the API key `bearer` (or the
/// default tenant), asked at `url`.
fn answering_pid_as(url: &str, bearer: Option<&str>) -> Option<u32> {
    let mut request = ureq::get(&format!("{url}/v1/server")).timeout(Duration::from_secs(10));
    if let Some(key) = bearer {
        request = request.set("authorization", &format!("Bearer {key}"));
    }
    let answer: Value = request.call().ok()?.into_json().ok()?;
    answer["pid"].as_u64().map(|p| p as u32)
}

/// Waits until one of `servers` answers as the one running the default tenant, asked
/// through `via`; its index.
fn active_among(servers: &[&Server], via: &Server) -> usize {
    let began = Instant::now();
    loop {
        if let Some(pid) = answering_pid(&via.url) {
            if let Some(i) = servers.iter().position(|s| s.pid() == pid) {
                return i;
            }
        }
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "no server runs the default tenant"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Calls `action` on the servers in `urls` in turn, from `first`, until one answers: a
/// killed server's calls fail, and the next server is tried. Answers the result (a call's
/// own error included) and the index of the server that gave it.
fn call_any(
    urls: &Mutex<Vec<String>>,
    first: usize,
    action: &str,
    body: &Value,
) -> Result<Value, (u16, String, String)> {
    call_any_with(urls, first, action, body, &[])
}

/// [`call_any`] with `headers` (a tenant's API key).
fn call_any_with(
    urls: &Mutex<Vec<String>>,
    first: usize,
    action: &str,
    body: &Value,
    headers: &[(&str, &str)],
) -> Result<Value, (u16, String, String)> {
    let began = Instant::now();
    let mut i = first;
    loop {
        let url = {
            let urls = urls.lock().unwrap();
            urls[i % urls.len()].clone()
        };
        match call_at(&url, action, body.clone(), headers) {
            Err((0, _, _)) | Err((503, _, _)) if began.elapsed() < Duration::from_secs(60) => {
                i += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// Ids 1..=n, and each top-level state entered exactly once.
fn check_history(events: &[Value]) {
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, (1..=ids.len() as u64).collect::<Vec<_>>(), "ids dense");
    let entered: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] != "MapIterationStarted")
        .filter(|e| e["type"].as_str().unwrap().ends_with("StateEntered"))
        .map(|e| e["stateEnteredEventDetails"]["name"].as_str().unwrap())
        .filter(|name| *name != "Each")
        .collect();
    assert_eq!(
        entered,
        ["T1", "W", "M", "A", "W2", "P"],
        "each transition once"
    );
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds.last(), Some(&"ExecutionSucceeded"));
    assert_eq!(
        kinds.iter().filter(|k| **k == "ExecutionStarted").count(),
        1
    );
}

/// Every execution finished once, with the output of one clean run and a clean history.
fn check_all_done(server: &Server, names: &[String], within: Duration) {
    let began = Instant::now();
    for (i, name) in names.iter().enumerate() {
        let arn = format!("arn:aws:states:us-east-1:000000000000:execution:pg:{name}");
        let done = server.wait_done(&arn, within.saturating_sub(began.elapsed()));
        assert_eq!(done["status"], "SUCCEEDED", "{name}: {done}");
        let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
        assert_eq!(
            output,
            json!({"n": i, "t": i, "m": [1, 2, 3], "a": i}),
            "{name}"
        );
        check_history(&history(server, &arn));
    }
}

/// Activity workers: each polls the servers in turn and answers each task on the next
/// server, until `done`. Answers how many tasks they took.
fn workers(
    urls: Arc<Mutex<Vec<String>>>,
    done: Arc<AtomicBool>,
    n: usize,
) -> Vec<std::thread::JoinHandle<usize>> {
    (0..n)
        .map(|w| {
            let urls = Arc::clone(&urls);
            let done = Arc::clone(&done);
            std::thread::spawn(move || {
                let mut taken = 0;
                let mut turn = w;
                while !done.load(Ordering::SeqCst) {
                    turn += 1;
                    let poll = json!({"activityArn": ACTIVITY, "workerName": format!("w{w}")});
                    let Ok(task) = call_any(&urls, turn, "GetActivityTask", &poll) else {
                        continue;
                    };
                    let Some(token) = task["taskToken"].as_str() else {
                        continue;
                    };
                    taken += 1;
                    let input: Value =
                        serde_json::from_str(task["input"].as_str().unwrap()).unwrap();
                    let answer = json!({"taskToken": token,
                        "output": json!({"approved": input["n"]}).to_string()});
                    // Answered through another server than the one that handed it out.
                    match call_any(&urls, turn + 1, "SendTaskSuccess", &answer) {
                        Ok(_) => {}
                        // Timed out meanwhile (lost with a killed server): the retry
                        // hands it out again.
                        Err((_, kind, _)) if kind == "TaskTimedOut" => {}
                        Err(e) => panic!("SendTaskSuccess: {e:?}"),
                    }
                }
                taken
            })
        })
        .collect()
}

/// The issue's test: three servers, a thousand executions with Task, Wait, Map and
/// activity (callback) states, clients calling all three; `kill -9` of the server running
/// while executions are being started, then of the next one.
#[test]
fn three_servers_on_postgres_run_a_thousand_executions_through_two_kill_9s() {
    let Some(url) = postgres_store("failover") else {
        return;
    };
    let dirs: Vec<TempDir> = (0..3).map(|i| TempDir::new(&format!("pg-{i}"))).collect();
    let cfg = config(&dirs[0].0, 2, "");
    let args = ["--store", url.as_str(), "--config", cfg.as_str()];
    let mut servers: Vec<Server> = dirs.iter().map(|d| Server::start(&d.0, &args)).collect();
    let urls = Arc::new(Mutex::new(
        servers.iter().map(|s| s.url.clone()).collect::<Vec<_>>(),
    ));
    // Set up through any server: the calls are passed on to the one running the tenant.
    servers[2].upload("echo", &module("echo"), "").unwrap();
    servers[1].ok("CreateActivity", json!({"name": "approve"}));
    servers[1].create_machine("pg", &definition(), "STANDARD");

    let total = 1_000;
    let names: Arc<Vec<String>> = Arc::new((0..total).map(|i| format!("run-{i:04}")).collect());
    let started = Arc::new(AtomicUsize::new(0));
    let next = Arc::new(AtomicUsize::new(0));
    let starters: Vec<_> = (0..4)
        .map(|t| {
            let (urls, names, started, next) = (
                Arc::clone(&urls),
                Arc::clone(&names),
                Arc::clone(&started),
                Arc::clone(&next),
            );
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= names.len() {
                    return;
                }
                // A start whose answer was lost with a killed server is sent again: the
                // same name and input answer the same execution.
                let body = json!({"stateMachineArn": MACHINE, "name": names[i],
                    "input": json!({"n": i, "items": [1, 2, 3]}).to_string()});
                call_any(&urls, t + i, "StartExecution", &body)
                    .unwrap_or_else(|e| panic!("start {}: {e:?}", names[i]));
                started.fetch_add(1, Ordering::SeqCst);
            })
        })
        .collect();
    let done = Arc::new(AtomicBool::new(false));
    let working = workers(Arc::clone(&urls), Arc::clone(&done), 6);

    let wait_started = |n: usize| {
        let began = Instant::now();
        while started.load(Ordering::SeqCst) < n {
            assert!(began.elapsed() < Duration::from_secs(120), "starts stalled");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let began = Instant::now();
    for round in 0..2 {
        wait_started(if round == 0 { 300 } else { 700 });
        let alive: Vec<&Server> = servers.iter().filter(|s| s.pid() != 0).collect();
        let victim = alive[active_among(&alive, alive[0])].pid();
        let index = servers.iter().position(|s| s.pid() == victim).unwrap();
        let dead_url = servers[index].url.clone();
        urls.lock().unwrap().retain(|u| *u != dead_url);
        servers[index].kill9();
        let killed = Instant::now();
        let alive: Vec<&Server> = servers.iter().filter(|s| s.pid() != 0).collect();
        active_among(&alive, alive[0]);
        eprintln!(
            "kill -9 #{round}: server {index} at {} started; a survivor runs the tenant after {:?}",
            started.load(Ordering::SeqCst),
            killed.elapsed()
        );
    }
    for s in starters {
        s.join().unwrap();
    }
    let survivor = servers.iter().position(|s| s.pid() != 0).unwrap();
    let last = &servers[survivor];
    check_all_done(last, &names, Duration::from_secs(400));
    // The survivor compiled the module itself and kept the artifact in its own files.
    let artifacts: usize = std::fs::read_dir(dirs[survivor].0.join("artifacts"))
        .unwrap()
        .flatten()
        .map(|engine| std::fs::read_dir(engine.path()).unwrap().count())
        .sum();
    assert_eq!(artifacts, 1, "one compiled artifact: echo's");
    eprintln!(
        "{total} executions done {:?} after the first start",
        began.elapsed()
    );
    done.store(true, Ordering::SeqCst);
    let taken: usize = working.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(taken >= total, "workers took {taken} activity tasks");
}

/// Every call works through a server that does not run the tenant: it is passed on to the
/// server running the tenant, SigV4 signatures included. An activity task taken and
/// answered there, a StopExecution there, an S3 object put there; then the working server
/// dies and the other carries on with what it passed on.
#[test]
fn a_server_answers_every_call_of_another_ones_tenant_by_passing_it_on() {
    let Some(url) = postgres_store("relay") else {
        return;
    };
    let dirs: Vec<TempDir> = (0..2)
        .map(|i| TempDir::new(&format!("pg-relay-{i}")))
        .collect();
    let cfg = config(&dirs[0].0, 2, "admin_token = \"root-token\"\n");
    let args = ["--store", url.as_str(), "--config", cfg.as_str()];
    let one = Server::start(&dirs[0].0, &args);
    let two = Server::start(&dirs[1].0, &args);
    wait_even(&[&one, &two], Duration::from_secs(60));
    let tenant = two.create_tenant("root-token", "acme");
    // The server running the tenant works; the other (the standby) passes its calls on.
    let runs = answering_pid_as(&one.url, tenant["apiKey"].as_str()).unwrap();
    let (mut active, standby) = if runs == one.pid() {
        (one, two)
    } else {
        (two, one)
    };
    assert_eq!(
        answering_pid_as(&standby.url, tenant["apiKey"].as_str()),
        Some(active.pid())
    );
    let key = |f: &str| tenant[f].as_str().unwrap().to_string();
    let account = key("account");
    let client =
        crate::awssdk::client_with(&standby.url, &key("accessKeyId"), &key("secretAccessKey"));
    crate::awssdk::runtime().block_on(async {
        let activity = client
            .create_activity()
            .name("approve")
            .send()
            .await
            .unwrap()
            .activity_arn()
            .to_string();
        let definition = json!({"StartAt": "A", "States": {
            "A": {"Type": "Task", "Resource": activity, "End": true}}});
        let role = format!("arn:aws:iam::{account}:role/r");
        let machine = client
            .create_state_machine()
            .name("approval")
            .definition(definition.to_string())
            .role_arn(&role)
            .send()
            .await
            .unwrap()
            .state_machine_arn()
            .to_string();
        let waits = json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}});
        let waiting = client
            .create_state_machine()
            .name("waits")
            .definition(waits.to_string())
            .role_arn(&role)
            .send()
            .await
            .unwrap()
            .state_machine_arn()
            .to_string();
        let approval = client
            .start_execution()
            .state_machine_arn(&machine)
            .input(r#"{"order": 7}"#)
            .send()
            .await
            .unwrap()
            .execution_arn()
            .to_string();
        let task = client
            .get_activity_task()
            .activity_arn(&activity)
            .worker_name("w")
            .send()
            .await
            .unwrap();
        assert_eq!(task.input(), Some(r#"{"order":7}"#));
        client
            .send_task_success()
            .task_token(task.task_token().unwrap())
            .output(r#"{"approved": true}"#)
            .send()
            .await
            .unwrap();
        let stopped = client
            .start_execution()
            .state_machine_arn(&waiting)
            .send()
            .await
            .unwrap()
            .execution_arn()
            .to_string();
        client
            .stop_execution()
            .execution_arn(&stopped)
            .cause("relayed")
            .send()
            .await
            .unwrap();
        let began = Instant::now();
        loop {
            let d = client
                .describe_execution()
                .execution_arn(&approval)
                .send()
                .await
                .unwrap();
            if d.status().as_str() != "RUNNING" {
                assert_eq!(d.status().as_str(), "SUCCEEDED");
                assert_eq!(d.output(), Some(r#"{"approved":true}"#));
                break;
            }
            assert!(began.elapsed() < Duration::from_secs(10), "still running");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let d = client
            .describe_execution()
            .execution_arn(&stopped)
            .send()
            .await
            .unwrap();
        assert_eq!(d.status().as_str(), "ABORTED");
    });
    // An object of several chunks, put through the spare (the working server stores it).
    let s3 = s3_client(&standby.url, &key("accessKeyId"), &key("secretAccessKey"));
    let object: Vec<u8> = (0..700_000u32).map(|i| (i % 253) as u8).collect();
    crate::awssdk::runtime().block_on(async {
        s3.create_bucket().bucket("kept").send().await.unwrap();
        s3.put_object()
            .bucket("kept")
            .key("big.bin")
            .body(object.clone().into())
            .send()
            .await
            .unwrap();
    });
    // The tenant runs on the working server, asked through the spare.
    assert_eq!(
        answering_pid_as(&standby.url, tenant["apiKey"].as_str()),
        Some(active.pid())
    );
    // The spare takes over once the working server is gone, with everything it passed
    // on, object bytes included (they are in the database, not in the dead server's files).
    active.kill9();
    let began = Instant::now();
    while answering_pid_as(&standby.url, tenant["apiKey"].as_str()) != Some(standby.pid()) {
        assert!(began.elapsed() < Duration::from_secs(30), "not taken over");
        std::thread::sleep(Duration::from_millis(50));
    }
    crate::awssdk::runtime().block_on(async {
        let listed = client.list_state_machines().send().await.unwrap();
        assert_eq!(listed.state_machines().len(), 2);
        let got = s3
            .get_object()
            .bucket("kept")
            .key("big.bin")
            .range("bytes=262140-262149")
            .send()
            .await
            .unwrap();
        let bytes = got.body.collect().await.unwrap().into_bytes();
        assert_eq!(bytes.as_ref(), &object[262_140..262_150]);
        let whole = s3
            .get_object()
            .bucket("kept")
            .key("big.bin")
            .send()
            .await
            .unwrap();
        let bytes = whole.body.collect().await.unwrap().into_bytes();
        assert!(
            bytes.as_ref() == object.as_slice(),
            "the object came back whole"
        );
    });
}

/// An S3 client (path-style) for `url` with a tenant's keys.
fn s3_client(url: &str, key: &str, secret: &str) -> aws_sdk_s3::Client {
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(key, secret, None, None, "test"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_sdk_s3::config::retry::RetryConfig::disabled())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

#[test]
fn a_server_frozen_past_its_lease_writes_nothing_when_it_resumes() {
    let Some(url) = postgres_store("frozen") else {
        return;
    };
    let dirs: Vec<TempDir> = (0..2)
        .map(|i| TempDir::new(&format!("pg-frozen-{i}")))
        .collect();
    let cfg = config(&dirs[0].0, 2, "");
    let args = ["--store", url.as_str(), "--config", cfg.as_str()];
    let one = Server::start(&dirs[0].0, &args);
    let two = Server::start(&dirs[1].0, &args);
    wait_even(&[&one, &two], Duration::from_secs(60));
    // The server running the default tenant is the one frozen.
    let (mut frozen, next) = if active_among(&[&one, &two], &one) == 0 {
        (one, two)
    } else {
        (two, one)
    };
    frozen.upload("echo", &module("echo"), "").unwrap();
    frozen.ok("CreateActivity", json!({"name": "approve"}));
    frozen.create_machine("pg", &definition(), "STANDARD");
    let names: Vec<String> = (0..30).map(|i| format!("run-{i:03}")).collect();
    for (i, name) in names.iter().enumerate() {
        frozen.ok(
            "StartExecution",
            json!({"stateMachineArn": MACHINE, "name": name,
                "input": json!({"n": i, "items": [1, 2, 3]}).to_string()}),
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    let pid = frozen.pid().to_string();
    let signal = |sig: &str| {
        assert!(std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success());
    };
    signal("-STOP");
    assert_eq!(active_among(&[&next], &next), 0);
    let urls = Arc::new(Mutex::new(vec![next.url.clone()]));
    let done = Arc::new(AtomicBool::new(false));
    let working = workers(urls, Arc::clone(&done), 2);
    // Everything finishes on the new server while the old one is frozen with its work.
    std::thread::sleep(Duration::from_millis(500));
    signal("-CONT");
    // Resumed, it finds its lease gone: it stops, and none of its writes landed.
    assert!(
        frozen.wait_exit(Duration::from_secs(10)),
        "the resumed server did not stop"
    );
    check_all_done(&next, &names, Duration::from_secs(120));
    done.store(true, Ordering::SeqCst);
    for w in working {
        w.join().unwrap();
    }
}

/// How many partitions `server` holds, from its own metrics (answered by that server).
fn held_by(server: &Server) -> Option<usize> {
    metric_of(server, "sandstep_partitions_held")
}

/// A counter or gauge of `server`'s own metrics, if it answers.
fn metric_of<T: std::str::FromStr>(server: &Server, name: &str) -> Option<T> {
    let text = ureq::get(&format!("{}/metrics", server.url))
        .timeout(Duration::from_secs(5))
        .call()
        .ok()?
        .into_string()
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|n| n.trim().parse().ok())
}

/// Waits until `servers` share the 16 partitions evenly (each holds 16 / n, rounded down
/// or up, and together all of them); answers how many each holds.
fn wait_even(servers: &[&Server], within: Duration) -> Vec<usize> {
    let began = Instant::now();
    let n = servers.len();
    let (floor, ceil) = (16 / n, 16_usize.div_ceil(n));
    loop {
        let held: Vec<usize> = servers.iter().map(|s| held_by(s).unwrap_or(0)).collect();
        if held.iter().sum::<usize>() == 16 && held.iter().all(|h| (floor..=ceil).contains(h)) {
            return held;
        }
        assert!(
            began.elapsed() < within,
            "partitions not shared evenly: {held:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A tenant's executions finished once each, with the six events of a Wait and a Pass.
fn check_waits_done(via: &Server, started: &[(String, String, usize)], within: Duration) {
    let began = Instant::now();
    for (key, arn, i) in started {
        let auth = [("authorization", key.as_str())];
        let done = loop {
            let d = call_at(
                &via.url,
                "DescribeExecution",
                json!({"executionArn": arn}),
                &auth,
            );
            match d {
                Ok(d) if d["status"] != "RUNNING" => break d,
                Ok(_) | Err((503, _, _)) => {}
                Err(e) => panic!("{arn}: {e:?}"),
            }
            assert!(began.elapsed() < within, "{arn} still running");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!(done["status"], "SUCCEEDED", "{arn}: {done}");
        assert_eq!(done["output"], json!({"n": i}).to_string());
        let events = crate::durability::history_at(&via.url, arn, &auth);
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "ExecutionStarted",
                "WaitStateEntered",
                "WaitStateExited",
                "PassStateEntered",
                "PassStateExited",
                "ExecutionSucceeded"
            ],
            "{arn}"
        );
    }
}

/// The work is shared: a server that joins gets its share of the tenants from the one
/// running them all, with their executions waiting mid-way; each call reaching any server
/// is answered by the one running its tenant; and a dead server's tenants are taken over
/// by the others. Every execution finishes once.
#[test]
fn servers_share_the_tenants_and_take_over_those_of_a_dead_one() {
    use sandstep::store::postgres::lease::partition_of;
    let Some(url) = postgres_store("share") else {
        return;
    };
    let dirs: Vec<TempDir> = (0..3)
        .map(|i| TempDir::new(&format!("pg-share-{i}")))
        .collect();
    let cfg = config(&dirs[0].0, 2, "admin_token = \"root-token\"\n");
    let args = ["--store", url.as_str(), "--config", cfg.as_str()];
    // The first server claims every partition: it is alone.
    let mut first = Server::start(&dirs[0].0, &args);
    // A tenant in each partition: whatever a server holds, it runs some.
    let mut partitions = std::collections::BTreeSet::new();
    let names: Vec<String> = (0..)
        .map(|i| format!("tenant-{i}"))
        .filter(|n| partitions.insert(partition_of(n)))
        .take(16)
        .collect();
    let (keys, accounts): (Vec<String>, Vec<String>) = names
        .iter()
        .map(|n| {
            let t = first.create_tenant("root-token", n);
            (
                format!("Bearer {}", t["apiKey"].as_str().unwrap()),
                t["account"].as_str().unwrap().to_string(),
            )
        })
        .unzip();
    let waits = |seconds: u64| {
        json!({"StartAt": "W", "States": {
            "W": {"Type": "Wait", "Seconds": seconds, "Next": "P"},
            "P": {"Type": "Pass", "Parameters": {"n.$": "$.n"}, "End": true}}})
    };
    let start_all = |urls: &Mutex<Vec<String>>, machine: &str, prefix: &str, per: usize| {
        let mut started = Vec::new();
        for (t, key) in keys.iter().enumerate() {
            let auth = [("authorization", key.as_str())];
            let arn = format!(
                "arn:aws:states:us-east-1:{}:stateMachine:{machine}",
                accounts[t]
            );
            for i in 0..per {
                let body = json!({"stateMachineArn": arn, "name": format!("{prefix}{i}"),
                    "input": json!({"n": i}).to_string()});
                let arn = call_any_with(urls, t + i, "StartExecution", &body, &auth).unwrap()
                    ["executionArn"]
                    .as_str()
                    .unwrap()
                    .to_string();
                started.push((key.clone(), arn, i));
            }
        }
        started
    };
    let urls = Mutex::new(vec![first.url.clone()]);
    for (t, key) in keys.iter().enumerate() {
        let auth = [("authorization", key.as_str())];
        for (name, seconds) in [("long", 6), ("short", 2)] {
            call_at(
                &first.url,
                "CreateStateMachine",
                json!({"name": name, "definition": waits(seconds).to_string(),
                    "roleArn": format!("arn:aws:iam::{}:role/r", accounts[t])}),
                &auth,
            )
            .unwrap();
        }
    }
    // Executions that wait while two servers join and get their share.
    let before = start_all(&urls, "long", "before-", 3);
    let mut others = [
        Server::start(&dirs[1].0, &args),
        Server::start(&dirs[2].0, &args),
    ];
    let joined = Instant::now();
    let held = wait_even(&[&first, &others[0], &others[1]], Duration::from_secs(60));
    eprintln!(
        "two servers joined; partitions shared {held:?} after {:?}",
        joined.elapsed()
    );
    let pid_of = |via: &Server, key: &str| {
        answering_pid_as(&via.url, Some(key.strip_prefix("Bearer ").unwrap()))
    };
    let all = [first.pid(), others[0].pid(), others[1].pid()];
    let owners: Vec<Option<u32>> = keys.iter().map(|k| pid_of(&others[0], k)).collect();
    for (i, pid) in all.iter().enumerate() {
        let runs = owners.iter().filter(|o| **o == Some(*pid)).count();
        assert_eq!(
            runs, held[i],
            "each server runs its partitions' tenants: {owners:?}"
        );
    }
    // Each server gives the same answer about who runs a tenant.
    for (key, owner) in keys.iter().zip(&owners) {
        assert_eq!(pid_of(&first, key), *owner);
        assert_eq!(pid_of(&others[1], key), *owner);
    }
    // The executions that waited through the move finish once, wherever their tenant went.
    check_waits_done(&others[1], &before, Duration::from_secs(60));

    first.kill9();
    // The two others divide its partitions.
    let held = wait_even(&[&others[0], &others[1]], Duration::from_secs(30));
    let owners: Vec<u32> = keys
        .iter()
        .map(|k| pid_of(&others[0], k).unwrap())
        .collect();
    assert_eq!(
        owners.iter().filter(|o| **o == others[0].pid()).count(),
        held[0],
        "{owners:?}"
    );
    // Tenants created through one server are known at once through the other, however
    // many come in quick succession.
    for n in 0..4 {
        let created = others[0].create_tenant("root-token", &format!("late-{n}"));
        let bearer = format!("Bearer {}", created["apiKey"].as_str().unwrap());
        let listed = call_at(
            &others[1].url,
            "ListStateMachines",
            json!({}),
            &[("authorization", bearer.as_str())],
        );
        assert!(listed.is_ok(), "late-{n}: {listed:?}");
    }

    // Executions in every tenant, started through both servers in turn; one of them dies
    // while every execution waits: the other runs all of them.
    let urls = Mutex::new(others.iter().map(|s| s.url.clone()).collect::<Vec<_>>());
    let after = start_all(&urls, "short", "after-", 6);
    let victim = owners[0];
    let index = others.iter().position(|s| s.pid() == victim).unwrap();
    others[index].kill9();
    let survivor = &others[1 - index];
    check_waits_done(survivor, &after, Duration::from_secs(60));
    for key in &keys {
        assert_eq!(pid_of(survivor, key), Some(survivor.pid()));
    }
}

/// A server passing a call on vouches for its caller, so loopback rights and rate limits
/// apply to the caller, not to the server in between; a vouch a caller forges is dropped.
#[test]
fn a_passed_on_call_keeps_its_caller_and_a_forged_vouch_is_dropped() {
    use sandstep::cluster::forward::{vouch, For, VOUCH};
    let Some(url) = postgres_store("vouch") else {
        return;
    };
    let dirs: Vec<TempDir> = (0..2)
        .map(|i| TempDir::new(&format!("pg-vouch-{i}")))
        .collect();
    let cfg = config(&dirs[0].0, 2, "");
    let args = ["--store", url.as_str(), "--config", cfg.as_str()];
    let runs = Server::start(&dirs[0].0, &args);
    let passes = Server::start(&dirs[1].0, &args);
    let secret = sandstep::store::postgres::Postgres::connect(&url, 1)
        .unwrap()
        .shared_secret()
        .unwrap();
    let list = |server: &Server, header: Option<String>| {
        let headers: Vec<(&str, &str)> = header.iter().map(|h| (VOUCH, h.as_str())).collect();
        call_at(&server.url, "ListStateMachines", json!({}), &headers)
    };
    // Through the other server, a loopback caller keeps its rights (no tenants: loopback
    // only).
    assert!(list(&passes, None).is_ok());
    // A server's genuine vouch for a remote caller: that caller has no loopback rights.
    let remote: std::net::SocketAddr = "203.0.113.9:4000".parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let call = For {
        method: "POST",
        target: "/",
    };
    let genuine = vouch(secret.as_bytes(), remote, 1, "default", call, now);
    let (status, kind, _) = list(&runs, Some(genuine.clone())).unwrap_err();
    assert_eq!((status, kind.as_str()), (400, "AccessDeniedException"));
    // Passed on again, it stays that caller's.
    let (_, kind, _) = list(&passes, Some(genuine)).unwrap_err();
    assert_eq!(kind, "AccessDeniedException");
    // Forged (another key), it is dropped: the call is its sender's own, from loopback.
    let forged = vouch(b"not the servers' key", remote, 1, "default", call, now);
    assert!(list(&runs, Some(forged.clone())).is_ok());
    // A genuine vouch for another call (replayed from the wire) is dropped too.
    let other = For {
        method: "GET",
        target: "/v1/server",
    };
    let replayed = vouch(secret.as_bytes(), remote, 1, "default", other, now);
    assert!(list(&runs, Some(replayed)).is_ok());
    assert!(list(&runs, Some(forged.clone())).is_ok());
    assert!(list(&passes, Some(forged)).is_ok());
}

/// A tenant's quota of open executions holds whichever servers its starts reach, and
/// through a takeover: the server running the tenant counts them, and the next one counts
/// them again from the database.
#[test]
fn a_tenant_s_open_executions_quota_holds_across_servers_and_a_takeover() {
    let Some(url) = postgres_store("quota") else {
        return;
    };
    let dirs: Vec<TempDir> = (0..2)
        .map(|i| TempDir::new(&format!("pg-quota-{i}")))
        .collect();
    let cfg = config(&dirs[0].0, 2, "admin_token = \"root-token\"\n");
    let args = ["--store", url.as_str(), "--config", cfg.as_str()];
    let mut servers = [
        Server::start(&dirs[0].0, &args),
        Server::start(&dirs[1].0, &args),
    ];
    wait_even(&[&servers[0], &servers[1]], Duration::from_secs(60));
    let created: Value = ureq::post(&format!("{}/v1/tenants", servers[1].url))
        .set("authorization", "Bearer root-token")
        .send_json(json!({"name": "capped", "quotas": {"maxOpenExecutions": 4}}))
        .unwrap()
        .into_json()
        .unwrap();
    let bearer = format!("Bearer {}", created["apiKey"].as_str().unwrap());
    let auth = [("authorization", bearer.as_str())];
    let account = created["account"].as_str().unwrap();
    let urls = Mutex::new(servers.iter().map(|s| s.url.clone()).collect::<Vec<_>>());
    let waits =
        json!({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": true}}});
    let machine = call_any_with(
        &urls,
        0,
        "CreateStateMachine",
        &json!({"name": "waits", "definition": waits.to_string(),
            "roleArn": format!("arn:aws:iam::{account}:role/r")}),
        &auth,
    )
    .unwrap()["stateMachineArn"]
        .as_str()
        .unwrap()
        .to_string();
    let start = |urls: &Mutex<Vec<String>>, i: usize| {
        call_any_with(
            urls,
            i,
            "StartExecution",
            &json!({"stateMachineArn": machine, "name": format!("e{i}")}),
            &auth,
        )
    };
    // Starts alternate between the servers: four open, the rest refused.
    let outcomes: Vec<Result<Value, (u16, String, String)>> =
        (0..8).map(|i| start(&urls, i)).collect();
    let opened = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(opened, 4, "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert_eq!(refused.1, "ExecutionLimitExceeded", "{refused:?}");
    }
    // The server running the tenant dies; the other counts the four again.
    let owner = answering_pid_as(&servers[0].url, created["apiKey"].as_str()).unwrap();
    let index = servers.iter().position(|s| s.pid() == owner).unwrap();
    let dead = servers[index].url.clone();
    servers[index].kill9();
    urls.lock().unwrap().retain(|u| *u != dead);
    let after = start(&urls, 100);
    assert!(
        matches!(&after, Err((_, kind, _)) if kind == "ExecutionLimitExceeded"),
        "{after:?}"
    );
    let listed = call_any_with(
        &urls,
        0,
        "ListExecutions",
        &json!({"stateMachineArn": machine, "statusFilter": "RUNNING"}),
        &auth,
    )
    .unwrap();
    assert_eq!(listed["executions"].as_array().unwrap().len(), 4);
}

/// A counter or gauge of `server`'s own metrics.
fn metric(server: &Server, name: &str) -> u64 {
    metric_of(server, name).unwrap_or_else(|| panic!("no {name} in the metrics"))
}

/// Waits until `server` runs at least one module task.
fn wait_running(server: &Server) {
    let began = Instant::now();
    while metric(server, "sandstep_module_tasks_running") == 0 {
        assert!(began.elapsed() < Duration::from_secs(20), "no task runs");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// One tenant (the default one) on two servers: its executions run on one, but once that
/// one runs as many module tasks as it gives cores to (here one), its next tasks run on the
/// other. A module running there answers a token of an execution of the first; a task the
/// other server was running when it died runs again on the first.
#[test]
fn one_tenant_s_module_tasks_run_on_the_other_server_once_its_own_is_busy() {
    let Some(url) = postgres_store("tasks") else {
        return;
    };
    let dirs: Vec<TempDir> = (0..2)
        .map(|i| TempDir::new(&format!("pg-tasks-{i}")))
        .collect();
    let cfg = config(&dirs[0].0, 2, "share_tasks_above = 1\n");
    let args = ["--store", url.as_str(), "--config", cfg.as_str()];
    let mut servers = [
        Server::start(&dirs[0].0, &args),
        Server::start(&dirs[1].0, &args),
    ];
    wait_even(&[&servers[0], &servers[1]], Duration::from_secs(60));
    let owner = active_among(&[&servers[0], &servers[1]], &servers[0]);
    let other = 1 - owner;
    let (o, p) = (&servers[owner], &servers[other]);
    // Uploaded through the other server: passed on to the owner.
    p.upload("crunch", &module("crunch"), "").unwrap();
    p.upload("approver", &module("approver"), "callback:waiting")
        .unwrap();
    let lambda = |name: &str| format!("arn:aws:lambda:us-east-1:000000000000:function:{name}");
    // 800 rounds: about a second, within the default tenant's fuel per task.
    let crunching = o.create_machine(
        "crunching",
        &json!({"StartAt": "Each", "States": {"Each": {"Type": "Map", "MaxConcurrency": 1,
            "ItemsPath": "$.items", "ItemProcessor": {"StartAt": "C", "States": {"C": {"Type": "Task",
            "Resource": lambda("crunch"), "Parameters": {"Parameters": {"rounds": 800}}, "End": true}}},
            "End": true}}}),
        "STANDARD",
    );

    // Six at once: one module runs on the owner, one on the other server; those neither
    // had room for run on the owner.
    let arns: Vec<String> = (0..6)
        .map(|i| servers[i % 2].start_execution(&crunching, json!({"items": [i]})))
        .collect();
    let mut values = std::collections::BTreeSet::new();
    for arn in &arns {
        let done = o.wait_done(arn, Duration::from_secs(120));
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
        assert_eq!(output[0]["rounds"], 800, "{output}");
        values.insert(output[0]["value"].to_string());
    }
    assert_eq!(
        values.len(),
        1,
        "every server computes the same: {values:?}"
    );
    let shared = metric(o, "sandstep_tasks_shared_total");
    assert!(shared >= 1, "none of six tasks ran on the other server");
    assert_eq!(metric(p, "sandstep_tasks_for_peers_total"), shared);
    assert_eq!(
        metric(p, "sandstep_tasks_shared_total"),
        0,
        "it runs none of its own"
    );
    assert_eq!(metric(o, "sandstep_tasks_for_peers_total"), 0);

    // A module on the other server answers the token of an activity task of the owner's.
    let activity = o.ok("CreateActivity", json!({"name": "approval"}))["activityArn"]
        .as_str()
        .unwrap()
        .to_string();
    let waiting = o.create_machine(
        "waiting",
        &json!({"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": activity,
            "TimeoutSeconds": 120, "End": true}}}),
        "STANDARD",
    );
    let deciding = o.create_machine(
        "deciding",
        &json!({"StartAt": "D", "States": {"D": {"Type": "Task", "Resource": lambda("approver"),
            "Parameters": {"token.$": "$.token", "approved": true, "comment": "from afar"},
            "End": true}}}),
        "STANDARD",
    );
    // The owner's one core is busy with a long Map of crunches, so the approver runs on
    // the other server (if it lands between two crunches, it runs on the owner, and the
    // test tries again with a new token).
    let mut answered = None;
    for _ in 0..5 {
        let waits = p.start_execution(&waiting, json!({}));
        let polled = p.ok(
            "GetActivityTask",
            json!({"activityArn": activity, "workerName": "w"}),
        );
        let token = polled["taskToken"].as_str().unwrap().to_string();
        let busy = o.start_execution(&crunching, json!({"items": [1, 2, 3, 4, 5]}));
        wait_running(o);
        let before = metric(p, "sandstep_callbacks_passed_total");
        let decided = o.start_execution(&deciding, json!({"token": token}));
        let decided = o.wait_done(&decided, Duration::from_secs(60));
        assert_eq!(decided["status"], "SUCCEEDED", "{decided}");
        let done = o.wait_done(&waits, Duration::from_secs(30));
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        o.wait_done(&busy, Duration::from_secs(120));
        if metric(p, "sandstep_callbacks_passed_total") > before {
            answered = Some(done);
            break;
        }
    }
    let done = answered.expect("the approver never ran on the other server");
    let output: Value = serde_json::from_str(done["output"].as_str().unwrap()).unwrap();
    assert_eq!(output, json!({"approved": true, "comment": "from afar"}));

    // The other server dies while it runs one of the owner's tasks: the owner runs it
    // again, and every execution ends once.
    let arns: Vec<String> = (0..2)
        .map(|i| o.start_execution(&crunching, json!({"items": [i]})))
        .collect();
    wait_running(p);
    servers[other].kill9();
    let o = &servers[owner];
    for arn in &arns {
        let done = o.wait_done(arn, Duration::from_secs(120));
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        let events = history(o, arn);
        let ends = events
            .iter()
            .filter(|e| e["type"] == "ExecutionSucceeded")
            .count();
        assert_eq!(ends, 1);
    }
    assert_eq!(metric(o, "sandstep_tasks_rerun_total"), 1);
}
