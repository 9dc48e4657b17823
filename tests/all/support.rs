//! Starting the real `sandstep` binary on a free loopback port with a temp data dir, and
//! talking to it as users do (HTTP, the AWS JSON protocol).

use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A temp directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "sandstep-test-{tag}-{}-{}",
            std::process::id(),
            Instant::now().elapsed().as_nanos() ^ (std::ptr::addr_of!(tag) as usize as u128)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running server.
pub struct Server {
    child: Option<Child>,
    pub url: String,
    pub data_dir: PathBuf,
    extra: Vec<String>,
    env: Vec<(String, String)>,
}

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_sandstep")
}

impl Server {
    /// Starts `sandstep serve` on a free port with `data_dir`.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        Server::start_with(data_dir, extra, &[])
    }

    /// Starts `sandstep serve` with environment variables set (a test clock, a crash point).
    pub fn start_with_env(data_dir: &Path, env: &[(&str, &str)]) -> Server {
        Server::start_with(data_dir, &[], env)
    }

    /// Starts `sandstep serve` with `extra` arguments and environment variables set.
    pub fn start_with(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        let mut s = Server {
            child: None,
            url: String::new(),
            data_dir: data_dir.to_path_buf(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        s.spawn(None);
        s
    }

    /// Stops the server if it runs (`kill -9`), then starts it again on the same port and
    /// data dir with `env` instead of its environment.
    pub fn restart_with_env(&mut self, env: &[(&str, &str)]) {
        self.kill9();
        self.env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let port = self.port();
        self.spawn(Some(port));
    }

    /// Waits for the server to exit on its own (a crash point); whether it did in time.
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        let began = Instant::now();
        while began.elapsed() < timeout {
            if let Some(child) = self.child.as_mut() {
                if child.try_wait().unwrap().is_some() {
                    self.child = None;
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn spawn(&mut self, port: Option<u16>) {
        let listen = format!("127.0.0.1:{}", port.unwrap_or(0));
        let mut child = Command::new(binary())
            .args(["serve", "--listen", &listen, "--data-dir"])
            .arg(&self.data_dir)
            .args(&self.extra)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env(
                "SANDSTEP_LOG",
                std::env::var("SANDSTEP_TEST_SHOW_LOGS").unwrap_or_else(|_| "warn".into()),
            )
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("SANDSTEP_TEST_SHOW_LOGS").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        self.url = url;
        self.child = Some(child);
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().parse().unwrap()
    }

    /// `kill -9`, then start again on the same port and data dir.
    pub fn crash_and_restart(&mut self) {
        self.kill9();
        let port = self.port();
        self.spawn(Some(port));
    }

    /// `kill -9`.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// Calls an AWS action; `Ok(body)` or `Err((status, __type, message))`.
    pub fn call(&self, action: &str, body: Value) -> Result<Value, (u16, String, String)> {
        call_at(&self.url, action, body, &[])
    }

    /// Calls and expects success.
    pub fn ok(&self, action: &str, body: Value) -> Value {
        self.call(action, body)
            .unwrap_or_else(|e| panic!("{action} failed: {e:?}"))
    }

    /// Moves a server started with `SANDSTEP_TEST_CLOCK` forward; answers its new time.
    pub fn advance_clock(&self, ms: i64) -> i64 {
        let answer: Value = ureq::post(&format!("{}/v1/test/clock", self.url))
            .send_string(&json!({"advanceMs": ms}).to_string())
            .unwrap_or_else(|e| panic!("advancing the test clock: {e}"))
            .into_json()
            .unwrap();
        answer["now"].as_i64().unwrap()
    }

    /// Creates a state machine; returns its ARN.
    pub fn create_machine(&self, name: &str, definition: &Value, kind: &str) -> String {
        let r = self.ok(
            "CreateStateMachine",
            json!({"name": name, "definition": definition.to_string(), "roleArn": "arn:aws:iam::000000000000:role/test", "type": kind}),
        );
        r["stateMachineArn"].as_str().unwrap().to_string()
    }

    /// Starts an execution of `machine` with `input`; its ARN.
    pub fn start_execution(&self, machine: &str, input: Value) -> String {
        self.ok(
            "StartExecution",
            json!({"stateMachineArn": machine, "input": input.to_string()}),
        )["executionArn"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Starts an execution of `machine` with `input` and waits for its end (30 s at most).
    pub fn run(&self, machine: &str, input: Value) -> Value {
        let arn = self.start_execution(machine, input);
        self.wait_done(&arn, Duration::from_secs(30))
    }

    /// Polls DescribeExecution until the execution is no longer RUNNING.
    pub fn wait_done(&self, arn: &str, timeout: Duration) -> Value {
        let began = Instant::now();
        loop {
            let d = self.ok("DescribeExecution", json!({"executionArn": arn}));
            if d["status"] != "RUNNING" {
                return d;
            }
            assert!(
                began.elapsed() < timeout,
                "{arn} still running after {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Creates a tenant with the admin token `admin`; returns its keys and account.
    pub fn create_tenant(&self, admin: &str, name: &str) -> Value {
        ureq::post(&format!("{}/v1/tenants", self.url))
            .set("authorization", &format!("Bearer {admin}"))
            .send_json(json!({"name": name}))
            .unwrap()
            .into_json()
            .unwrap()
    }

    /// Uploads a module.
    pub fn upload(&self, name: &str, bytes: &[u8], grants: &str) -> Result<Value, (u16, String)> {
        let mut url = format!("{}/v1/modules/{name}", self.url);
        if !grants.is_empty() {
            url.push_str(&format!("?grants={grants}"));
        }
        match ureq::put(&url).send_bytes(bytes) {
            Ok(r) => Ok(r.into_json().unwrap()),
            Err(ureq::Error::Status(code, r)) => Err((code, r.into_string().unwrap_or_default())),
            Err(e) => panic!("{e}"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Calls an AWS action at `url` with extra headers.
pub fn call_at(
    url: &str,
    action: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> Result<Value, (u16, String, String)> {
    let mut req = ureq::post(url)
        .set("content-type", "application/x-amz-json-1.0")
        .set("x-amz-target", &format!("AWSStepFunctions.{action}"))
        .timeout(Duration::from_secs(60));
    for (k, v) in headers {
        req = req.set(k, v);
    }
    match req.send_string(&body.to_string()) {
        Ok(r) => Ok(r.into_json().unwrap()),
        Err(ureq::Error::Status(code, r)) => {
            let v: Value = r.into_json().unwrap_or(Value::Null);
            Err((
                code,
                v["__type"].as_str().unwrap_or("").to_string(),
                v["message"].as_str().unwrap_or("").to_string(),
            ))
        }
        Err(e) => Err((0, "transport".into(), e.to_string())),
    }
}

/// One call of an AWS JSON protocol (`DynamoDB_20120810.PutItem`, `AmazonSQS.SendMessage`)
/// that must succeed.
pub fn aws_json(url: &str, target: &str, body: Value) -> Value {
    ureq::post(url)
        .set("content-type", "application/x-amz-json-1.0")
        .set("x-amz-target", target)
        .send_string(&body.to_string())
        .unwrap_or_else(|e| panic!("{target}: {e:?}"))
        .into_json()
        .unwrap()
}

/// The output of an execution that must have succeeded.
pub fn output(done: &Value) -> Value {
    assert_eq!(done["status"], "SUCCEEDED", "{done}");
    serde_json::from_str(done["output"].as_str().unwrap()).unwrap()
}

/// A module built by `modules/build.sh`; fails with instructions when missing.
pub fn module(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../modules/dist")
        .join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: run `bash modules/build.sh` first (the test command does)",
            path.display()
        )
    })
}

/// A store URL for `sandstep serve --store`: a new schema on the PostgreSQL server that
/// `SANDSTEP_TEST_POSTGRES` names (`.ci/postgres` starts one). `None` when it is not set,
/// which CI (`CI` set) does not allow.
pub fn postgres_store(tag: &str) -> Option<String> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let url = match std::env::var("SANDSTEP_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "SANDSTEP_TEST_POSTGRES is not set: CI runs the PostgreSQL tests (.ci/postgres)"
            );
            eprintln!("SANDSTEP_TEST_POSTGRES is not set: PostgreSQL test skipped");
            return None;
        }
    };
    let schema = format!(
        "e2e_{tag}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
    .replace('-', "_");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .expect("the test PostgreSQL server answers");
        tokio::spawn(connection);
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
            ))
            .await
            .unwrap();
    });
    let join = if url.contains('?') { '&' } else { '?' };
    Some(format!("{url}{join}options=-c%20search_path%3D{schema}"))
}
