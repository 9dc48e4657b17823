//! HTTP Tasks (`arn:aws:states:::http:invoke`) end to end through `sandstep serve`,
//! against an HTTP server the test runs on loopback: connections with each kind of
//! credentials, AWS's result and error shapes, the outbound guards, and secrets that never
//! show.

use crate::support::{binary, output, Server, TempDir};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The key the servers of these tests seal secrets with.
const KEY: &str = "7d1f0c2e9a4b3c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5";
const API_KEY: &str = "api-key-SECRET-1f9e";
const PASSWORD: &str = "password-SECRET-77aa";
const CLIENT_SECRET: &str = "client-SECRET-c0ffee";

/// A request the test server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub headers: HashMap<String, String>,
    pub body: String,
}

type Handler = dyn Fn(&Seen) -> (u16, Vec<(String, String)>, String) + Send + Sync;

/// An HTTP/1.1 server on loopback: one request per connection, answered by `handler`.
pub struct TestHttp {
    pub url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

impl TestHttp {
    pub fn start(
        handler: impl Fn(&Seen) -> (u16, Vec<(String, String)>, String) + Send + Sync + 'static,
    ) -> TestHttp {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = Arc::clone(&seen);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (handler, log) = (Arc::clone(&handler), Arc::clone(&log));
                std::thread::spawn(move || serve_one(stream, &*handler, &log));
            }
        });
        TestHttp { url, seen }
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve_one(stream: TcpStream, handler: &Handler, log: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_string(),
        parts.next().unwrap_or("").to_string(),
    );
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).unwrap();
    let seen = Seen {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    };
    log.lock().unwrap().push(seen.clone());
    let (status, extra, body) = handler(&seen);
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nconnection: close\r\ncontent-length: {}\r\n",
        reason(status),
        body.len()
    );
    for (k, v) in extra {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    let mut stream = stream;
    let _ = stream.write_all(out.as_bytes());
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        302 => "Found",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Other",
    }
}

fn json_answer(body: Value) -> (u16, Vec<(String, String)>, String) {
    (
        200,
        vec![("content-type".into(), "application/json".into())],
        body.to_string(),
    )
}

/// A server that may reach loopback (as tests need) and keeps secrets with [`KEY`].
fn server(dir: &Path, allow_loopback: bool) -> Server {
    std::fs::create_dir_all(dir).unwrap();
    let config = dir.join("sandstep.toml");
    let allow = match allow_loopback {
        true => r#"outbound_allow = ["127.0.0.1/32"]"#,
        false => "",
    };
    std::fs::write(&config, format!("{allow}\noutbound_timeout_seconds = 5\n")).unwrap();
    Server::start_with(
        &dir.join("data"),
        &["--config", config.to_str().unwrap()],
        &[("SANDSTEP_SECRET_KEY", KEY)],
    )
}

/// `PUT /v1/connections/{name}`; the answer.
fn connect(url: &str, name: &str, body: Value) -> Result<Value, (u16, String)> {
    match ureq::put(&format!("{url}/v1/connections/{name}")).send_json(body) {
        Ok(r) => Ok(r.into_json().unwrap()),
        Err(ureq::Error::Status(code, r)) => Err((code, r.into_string().unwrap_or_default())),
        Err(e) => panic!("{e}"),
    }
}

fn invoke(endpoint: &str, method: &str, connection: &str, extra: Value) -> Value {
    let mut p = json!({"ApiEndpoint": endpoint, "Method": method,
        "Authentication": {"ConnectionArn": format!("arn:aws:events:us-east-1:000000000000:connection/{connection}/0b1c2d")}});
    if let (Some(p), Value::Object(extra)) = (p.as_object_mut(), extra) {
        p.extend(extra);
    }
    p
}

fn one_task(parameters: Value) -> Value {
    json!({"StartAt": "Call", "States": {"Call": {"Type": "Task",
        "Resource": "arn:aws:states:::http:invoke", "Parameters": parameters,
        "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}], "End": true},
        "Failed": {"Type": "Pass", "End": true}}})
}

#[test]
fn http_tasks_call_through_connections_with_each_kind_of_credentials() {
    let dir = TempDir::new("http-invoke");
    let tokens = Arc::new(Mutex::new(0));
    let issued = Arc::clone(&tokens);
    let api = TestHttp::start(move |seen| match seen.target.split('?').next().unwrap() {
        "/token" => {
            let mut n = issued.lock().unwrap();
            *n += 1;
            json_answer(json!({"access_token": format!("tok-{n}"), "expires_in": 3600}))
        }
        "/api/items" => json_answer(json!({"items": [1, 2], "query": seen.target})),
        "/api/form" => (200, vec![], seen.body.clone()),
        "/api/missing" => (
            404,
            vec![("content-type".into(), "text/plain".into())],
            "no such thing".into(),
        ),
        _ => (500, vec![], "unexpected".into()),
    });
    let s = server(&dir.0, true);
    let base = format!("{}/api", api.url);
    connect(&s.url, "keyed", json!({"baseUrls": [base], "auth": {"type": "API_KEY", "header": "x-api-key", "value": API_KEY}})).unwrap();
    connect(&s.url, "basic", json!({"baseUrls": [base], "auth": {"type": "BASIC", "username": "ops", "password": PASSWORD}})).unwrap();
    connect(&s.url, "oauth", json!({"baseUrls": [base], "auth": {"type": "OAUTH_CLIENT_CREDENTIALS",
        "tokenUrl": format!("{}/token", api.url), "clientId": "cid", "clientSecret": CLIENT_SECRET, "scope": "read"}})).unwrap();

    // An API key, with query parameters and headers from the definition.
    let m = s.create_machine(
        "keyed",
        &one_task(invoke(&format!("{base}/items"), "GET", "keyed",
            json!({"QueryParameters": {"page": 2, "tag": ["a", "b"]}, "Headers": {"X-Trace": "t-1"}}))),
        "STANDARD",
    );
    let out = output(&s.run(&m, json!({})));
    assert_eq!(out["StatusCode"], 200, "{out}");
    assert_eq!(out["StatusText"], "OK");
    assert_eq!(out["ResponseBody"]["items"], json!([1, 2]));
    assert_eq!(out["Headers"]["content-type"], json!(["application/json"]));
    let seen = api.seen();
    let last = seen.last().unwrap();
    assert_eq!(last.target, "/api/items?page=2&tag=a&tag=b");
    assert_eq!(last.headers["x-api-key"], API_KEY);
    assert_eq!(last.headers["x-trace"], "t-1");

    // Basic.
    let m = s.create_machine(
        "basic",
        &one_task(invoke(&format!("{base}/items"), "GET", "basic", json!({}))),
        "STANDARD",
    );
    output(&s.run(&m, json!({})));
    let expected = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("ops:{PASSWORD}")
        )
    );
    assert_eq!(
        api.seen().last().unwrap().headers["authorization"],
        expected
    );

    // OAuth client credentials: one token for two executions.
    let m = s.create_machine(
        "oauth",
        &one_task(invoke(&format!("{base}/items"), "GET", "oauth", json!({}))),
        "STANDARD",
    );
    output(&s.run(&m, json!({})));
    output(&s.run(&m, json!({})));
    assert_eq!(*tokens.lock().unwrap(), 1, "the token is cached");
    let seen = api.seen();
    let token_request = seen.iter().find(|r| r.target == "/token").unwrap();
    assert_eq!(token_request.method, "POST");
    assert!(
        token_request.body.contains("grant_type=client_credentials"),
        "{}",
        token_request.body
    );
    assert!(token_request.body.contains("scope=read"));
    assert_eq!(
        token_request.headers["authorization"],
        format!(
            "Basic {}",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("cid:{CLIENT_SECRET}")
            )
        )
    );
    assert_eq!(
        seen.last().unwrap().headers["authorization"],
        "Bearer tok-1"
    );

    // A URL-encoded body, arrays with brackets.
    let m = s.create_machine(
        "form",
        &one_task(invoke(&format!("{base}/form"), "POST", "keyed", json!({
            "RequestBody": {"name": "n", "tags": ["x", "y"]},
            "Transform": {"RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": "BRACKETS"}}}))),
        "STANDARD",
    );
    let out = output(&s.run(&m, json!({})));
    assert_eq!(out["ResponseBody"], "name=n&tags%5B%5D=x&tags%5B%5D=y");
    assert_eq!(
        api.seen().last().unwrap().headers["content-type"],
        "application/x-www-form-urlencoded"
    );

    // A status outside 2xx fails with AWS's name, caught by it; the cause is the result.
    let caught = json!({"StartAt": "Call", "States": {"Call": {"Type": "Task",
        "Resource": "arn:aws:states:::http:invoke", "Parameters": invoke(&format!("{base}/missing"), "GET", "keyed", json!({})),
        "Catch": [{"ErrorEquals": ["States.Http.StatusCode.404"], "ResultPath": "$.error", "Next": "NotFound"}], "End": true},
        "NotFound": {"Type": "Pass", "End": true}}});
    let m = s.create_machine("missing", &caught, "STANDARD");
    let out = output(&s.run(&m, json!({})));
    assert_eq!(out["error"]["Error"], "States.Http.StatusCode.404", "{out}");
    let cause: Value = serde_json::from_str(out["error"]["Cause"].as_str().unwrap()).unwrap();
    assert_eq!(cause["StatusCode"], 404);
    assert_eq!(cause["ResponseBody"], "no such thing");

    // Outside the connection's base URLs: refused before anything is sent.
    let before = api.seen().len();
    let m = s.create_machine(
        "outside",
        &one_task(invoke(
            &format!("{}/token", api.url),
            "GET",
            "keyed",
            json!({}),
        )),
        "STANDARD",
    );
    // States.Runtime: not caught by States.ALL, the execution fails.
    let out = s.run(&m, json!({}));
    assert_eq!(out["error"], "States.Runtime", "{out}");
    assert!(out["cause"]
        .as_str()
        .unwrap()
        .contains("not under the connection's base URLs"));
    assert_eq!(api.seen().len(), before);
}

#[test]
fn the_outbound_guard_refuses_loopback_private_link_local_and_redirects_to_them() {
    let dir = TempDir::new("http-ssrf");
    let api = TestHttp::start(|seen| match seen.target.as_str() {
        "/api/hop" => (
            302,
            vec![("location".into(), "http://10.1.2.3/admin".into())],
            String::new(),
        ),
        "/api/meta" => (
            302,
            vec![(
                "location".into(),
                "http://169.254.169.254/latest/meta-data/".into(),
            )],
            String::new(),
        ),
        _ => json_answer(json!({"reached": true})),
    });
    let port = api.url.rsplit(':').next().unwrap().to_string();
    // Without the operator's leave, loopback is as closed as the rest.
    let closed = server(&dir.0.join("closed"), false);
    connect(&closed.url, "any", json!({"baseUrls": [
        format!("http://127.0.0.1:{port}/"), format!("http://localhost:{port}/"),
        "http://10.0.0.1/", "http://192.168.1.1/", "http://169.254.169.254/", "http://[fe80::1]/", "http://[::1]/"],
        "auth": {"type": "API_KEY", "header": "x-api-key", "value": API_KEY}})).unwrap();
    for (i, (endpoint, why)) in [
        (format!("http://127.0.0.1:{port}/api"), "a loopback address"),
        (format!("http://localhost:{port}/api"), "a loopback address"),
        ("http://[::1]/".to_string(), "a loopback address"),
        ("http://10.0.0.1/".to_string(), "a private address"),
        ("http://192.168.1.1/".to_string(), "a private address"),
        (
            "http://169.254.169.254/latest".to_string(),
            "a cloud metadata address",
        ),
        ("http://[fe80::1]/".to_string(), "a link-local address"),
    ]
    .into_iter()
    .enumerate()
    {
        let m = closed.create_machine(
            &format!("m{i}"),
            &one_task(invoke(&endpoint, "GET", "any", json!({}))),
            "STANDARD",
        );
        let out = closed.run(&m, json!({}));
        assert_eq!(out["error"], "States.Runtime", "{endpoint}: {out}");
        let cause = out["cause"].as_str().unwrap();
        assert!(
            cause.contains(why) && cause.contains("outbound_allow"),
            "{endpoint}: {cause}"
        );
    }
    assert!(api.seen().is_empty(), "nothing reached the server");

    // Allowed loopback, a redirect to a private or metadata address is still refused.
    let open = server(&dir.0.join("open"), true);
    connect(
        &open.url,
        "api",
        json!({"baseUrls": [format!("{}/", api.url), "http://10.1.2.3/", "http://169.254.169.254/"],
        "auth": {"type": "API_KEY", "header": "x-api-key", "value": API_KEY}}),
    )
    .unwrap();
    for (path, why) in [
        ("hop", "a private address"),
        ("meta", "a cloud metadata address"),
    ] {
        let m = open.create_machine(
            path,
            &one_task(invoke(
                &format!("{}/api/{path}", api.url),
                "GET",
                "api",
                json!({}),
            )),
            "STANDARD",
        );
        let out = open.run(&m, json!({}));
        assert_eq!(out["error"], "States.Runtime", "{out}");
        assert!(out["cause"].as_str().unwrap().contains(why), "{out}");
    }
    assert_eq!(
        api.seen().len(),
        2,
        "only the two first hops reached the server"
    );
}

/// Every file under `dir`, read whole.
fn files(dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push((path.display().to_string(), bytes));
        }
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn connection_secrets_never_show_in_answers_history_logs_or_the_data_dir() {
    let dir = TempDir::new("http-secrets");
    let api = TestHttp::start(|seen| match seen.target.as_str() {
        "/token" => json_answer(json!({"access_token": "tok", "expires_in": 60})),
        "/api/fail" => (401, vec![], "who are you".into()),
        _ => json_answer(json!({"ok": true})),
    });
    let config = dir.0.join("sandstep.toml");
    std::fs::write(&config, "outbound_allow = [\"127.0.0.1/32\"]\n").unwrap();
    let data = dir.0.join("data");
    let log_path = dir.0.join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    // The most verbose logs the server writes.
    let mut child = std::process::Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .args(["--config", config.to_str().unwrap()])
        .env("SANDSTEP_SECRET_KEY", KEY)
        .env("SANDSTEP_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(log.try_clone().unwrap())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let rest = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let mut answers = Vec::new();
    for (name, auth) in [
        (
            "keyed",
            json!({"type": "API_KEY", "header": "x-api-key", "value": API_KEY}),
        ),
        (
            "basic",
            json!({"type": "BASIC", "username": "ops", "password": PASSWORD}),
        ),
        (
            "oauth",
            json!({"type": "OAUTH_CLIENT_CREDENTIALS", "tokenUrl": format!("{}/token", api.url),
            "clientId": "cid", "clientSecret": CLIENT_SECRET}),
        ),
    ] {
        answers.push(
            connect(
                &url,
                name,
                json!({"baseUrls": [format!("{}/api", api.url)], "auth": auth}),
            )
            .unwrap()
            .to_string(),
        );
    }
    // A secret of the wrong type is not echoed in the error either.
    let (_, refused) = connect(&url, "bad", json!({"baseUrls": ["https://x/"], "auth": {"type": "API_KEY", "header": "h", "value": 918273645}})).unwrap_err();
    assert!(!refused.contains("918273645"), "{refused}");
    answers.push(refused);
    answers.push(
        ureq::get(&format!("{url}/v1/connections"))
            .call()
            .unwrap()
            .into_string()
            .unwrap(),
    );
    answers.push(
        ureq::get(&format!("{url}/v1/connections/oauth"))
            .call()
            .unwrap()
            .into_string()
            .unwrap(),
    );
    for (connection, path) in [
        ("keyed", "ok"),
        ("basic", "ok"),
        ("oauth", "ok"),
        ("keyed", "fail"),
    ] {
        let definition = one_task(invoke(
            &format!("{}/api/{path}", api.url),
            "POST",
            connection,
            json!({"RequestBody": {"hello": "world"}}),
        ));
        let created = crate::support::call_at(
            &url,
            "CreateStateMachine",
            json!({"name": format!("{connection}-{path}"),
            "definition": definition.to_string(), "roleArn": "arn:aws:iam::000000000000:role/r"}),
            &[],
        )
        .unwrap();
        let started = crate::support::call_at(
            &url,
            "StartExecution",
            json!({"stateMachineArn": created["stateMachineArn"]}),
            &[],
        )
        .unwrap();
        let arn = started["executionArn"].as_str().unwrap();
        let done = loop {
            let d = crate::support::call_at(
                &url,
                "DescribeExecution",
                json!({"executionArn": arn}),
                &[],
            )
            .unwrap();
            if d["status"] != "RUNNING" {
                break d;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(done["status"], "SUCCEEDED", "{done}");
        answers.push(done.to_string());
        let history = crate::support::call_at(
            &url,
            "GetExecutionHistory",
            json!({"executionArn": arn}),
            &[],
        )
        .unwrap();
        answers.push(history.to_string());
    }
    // The requests did carry them.
    let seen = api.seen();
    assert!(seen
        .iter()
        .any(|r| r.headers.get("x-api-key").map(String::as_str) == Some(API_KEY)));
    // Stopped, so that every byte it wrote is in the files.
    child.kill().unwrap();
    child.wait().unwrap();
    let logs = std::fs::read_to_string(&log_path).unwrap() + &rest.join().unwrap();
    assert!(
        logs.len() > 1000,
        "trace logs were written: {} bytes",
        logs.len()
    );
    let mut stored = Vec::new();
    files(&data, &mut stored);
    assert!(!stored.is_empty());
    for secret in [API_KEY, PASSWORD, CLIENT_SECRET] {
        for answer in &answers {
            assert!(
                !answer.contains(secret),
                "an answer shows {secret}: {answer}"
            );
        }
        assert!(!logs.contains(secret), "the logs show {secret}");
        for (path, bytes) in &stored {
            assert!(
                !contains(bytes, secret),
                "{path} holds {secret} in clear text"
            );
        }
    }
    // What the secret looks like encoded in a request is not stored either.
    let basic = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("ops:{PASSWORD}"),
    );
    assert!(!logs.contains(&basic));
    assert!(stored.iter().all(|(_, b)| !contains(b, &basic)));
}

#[test]
fn connections_are_checked_and_need_the_servers_key() {
    let dir = TempDir::new("http-connections");
    let keyless = Server::start(&dir.0.join("keyless"), &[]);
    let (code, body) = connect(
        &keyless.url,
        "c",
        json!({"baseUrls": ["https://api.example.com/"],
        "auth": {"type": "API_KEY", "header": "x-api-key", "value": "v"}}),
    )
    .unwrap_err();
    assert_eq!(code, 400);
    assert!(body.contains("SANDSTEP_SECRET_KEY"), "{body}");
    let s = server(&dir.0.join("keyed"), false);
    for (body, says) in [
        (
            json!({"baseUrls": [], "auth": {"type": "API_KEY", "header": "h", "value": "v"}}),
            "1-20 base URLs",
        ),
        (
            json!({"baseUrls": ["ftp://x/"], "auth": {"type": "API_KEY", "header": "h", "value": "v"}}),
            "http or https",
        ),
        (
            json!({"baseUrls": ["https://x/"], "auth": {"type": "DIGEST"}}),
            "unknown variant",
        ),
        (
            json!({"baseUrls": ["https://x/"], "auth": {"type": "BASIC", "username": "a:b", "password": "p"}}),
            "cannot contain ':'",
        ),
        (
            json!({"baseUrls": ["https://x/"], "auth": {"type": "API_KEY", "header": "x-key", "value": "line\nbreak"}}),
            "visible ASCII",
        ),
        (
            json!({"baseUrls": ["https://x/"], "auth": {"type": "API_KEY", "header": "bad header", "value": "v"}}),
            "not a header name",
        ),
        (
            json!({"baseUrls": ["https://user:pw@x/"], "auth": {"type": "API_KEY", "header": "h", "value": "v"}}),
            "user info",
        ),
    ] {
        let (code, text) = connect(&s.url, "c", body).unwrap_err();
        assert_eq!(code, 400, "{text}");
        assert!(text.contains(says), "{says}: {text}");
    }
    let saved = connect(&s.url, "c", json!({"baseUrls": ["https://api.example.com"],
        "auth": {"type": "OAUTH_CLIENT_CREDENTIALS", "tokenUrl": "https://auth.example.com/token", "clientId": "id", "clientSecret": "s"}})).unwrap();
    assert_eq!(
        saved["connectionArn"],
        "arn:aws:events:us-east-1:000000000000:connection/c"
    );
    assert_eq!(saved["baseUrls"], json!(["https://api.example.com/"]));
    assert_eq!(
        saved["auth"],
        json!({"type": "OAUTH_CLIENT_CREDENTIALS", "tokenUrl": "https://auth.example.com/token", "clientId": "id"})
    );
    // A task naming a connection that does not exist fails clearly.
    let m = s.create_machine(
        "ghost",
        &one_task(invoke(
            "https://api.example.com/x",
            "GET",
            "ghost",
            json!({}),
        )),
        "STANDARD",
    );
    let out = s.run(&m, json!({}));
    assert_eq!(out["error"], "States.Runtime");
    assert!(
        out["cause"]
            .as_str()
            .unwrap()
            .contains("'ghost' does not exist"),
        "{out}"
    );
    let gone = ureq::delete(&format!("{}/v1/connections/c", s.url))
        .call()
        .unwrap();
    assert_eq!(gone.status(), 200);
    assert!(matches!(
        ureq::get(&format!("{}/v1/connections/c", s.url)).call(),
        Err(ureq::Error::Status(404, _))
    ));
}

/// A server, the `http-forward` module granted `grants`, its route to `vision`, and
/// Rekognition bound to it.
fn forwarding(dir: &Path, allow_loopback: bool, grants: &str, vision: &str) -> Server {
    let s = server(dir, allow_loopback);
    s.upload(
        "http-forward",
        &crate::support::module("http-forward"),
        grants,
    )
    .unwrap();
    ureq::put(&format!("{}/v1/kv/forward/rekognition", s.url))
        .send_json(json!({"url": vision}))
        .unwrap();
    ureq::put(&format!("{}/v1/bindings", s.url))
        .send_json(
            json!({"resource": "arn:aws:states:::aws-sdk:rekognition:*", "module": "http-forward"}),
        )
        .unwrap();
    s
}

fn labels_machine(s: &Server) -> String {
    s.create_machine(
        "labels",
        &json!({"StartAt": "Labels", "States": {
            "Labels": {"Type": "Task", "Resource": "arn:aws:states:::aws-sdk:rekognition:detectLabels",
                "Parameters": {"Image": {"S3Object": {"Bucket": "photos", "Name.$": "$.photo"}}, "MaxLabels": 3},
                "Catch": [{"ErrorEquals": ["Rekognition.InvalidS3ObjectException"], "ResultPath": "$.error", "Next": "NoPhoto"}],
                "End": true},
            "NoPhoto": {"Type": "Pass", "End": true}}}),
        "STANDARD",
    )
}

#[test]
fn a_module_plays_a_bound_service_over_granted_outbound_http() {
    let dir = TempDir::new("module-http");
    let vision = TestHttp::start(|seen| {
        if seen.body.contains("missing.jpg") {
            (400, vec![("content-type".into(), "application/json".into())],
                json!({"__type": "InvalidS3ObjectException", "message": "Unable to get object metadata from S3"}).to_string())
        } else {
            json_answer(json!({"Labels": [{"Name": "Cat", "Confidence": 99.1}]}))
        }
    });
    let port = vision.url.rsplit(':').next().unwrap().to_string();
    let s = forwarding(
        &dir.0.join("granted"),
        true,
        &format!("kv:forward:read,http:127.0.0.1:{port}"),
        &format!("{}/vision", vision.url),
    );
    let m = labels_machine(&s);
    let done = s.run(&m, json!({"photo": "cat.jpg"}));
    assert_eq!(output(&done)["Labels"][0]["Name"], "Cat", "{done}");
    let seen = vision.seen();
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].target, "/vision/detectLabels");
    let body: Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(body["Image"]["S3Object"]["Name"], "cat.jpg");
    assert_eq!(
        seen[0].headers["x-sandstep-execution"],
        done["executionArn"].as_str().unwrap()
    );
    // The service's error, named as AWS names it, caught by that name.
    let out = output(&s.run(&m, json!({"photo": "missing.jpg"})));
    assert_eq!(
        out["error"]["Error"], "Rekognition.InvalidS3ObjectException",
        "{out}"
    );
    assert_eq!(
        out["error"]["Cause"],
        "Unable to get object metadata from S3"
    );

    // A module without the grant is refused inside the guest, before any request.
    let before = vision.seen().len();
    let ungranted = forwarding(
        &dir.0.join("ungranted"),
        true,
        "kv:forward:read",
        &format!("{}/vision", vision.url),
    );
    let m = labels_machine(&ungranted);
    let done = ungranted.run(&m, json!({"photo": "cat.jpg"}));
    assert_eq!(done["status"], "FAILED", "{done}");
    assert_eq!(done["error"], "AccessDenied");
    assert!(
        done["cause"].as_str().unwrap().contains("not granted"),
        "{done}"
    );
    // Granted, but the guards refuse loopback on a server that does not allow it.
    let guarded = forwarding(
        &dir.0.join("guarded"),
        false,
        &format!("kv:forward:read,http:127.0.0.1:{port}"),
        &format!("{}/vision", vision.url),
    );
    let m = labels_machine(&guarded);
    let done = guarded.run(&m, json!({"photo": "cat.jpg"}));
    assert_eq!(done["error"], "AccessDenied", "{done}");
    assert!(
        done["cause"]
            .as_str()
            .unwrap()
            .contains("a loopback address"),
        "{done}"
    );
    assert_eq!(
        vision.seen().len(),
        before,
        "nothing more reached the service"
    );
}

#[test]
fn a_dns_answer_that_changes_is_checked_again() {
    let dir = TempDir::new("http-rebind");
    std::fs::create_dir_all(&dir.0).unwrap();
    let hosts = dir.0.join("hosts");
    // The name first answers an address the operator allows.
    std::fs::write(&hosts, "rebind.test 127.0.0.1\n").unwrap();
    let file = hosts.clone();
    let api = TestHttp::start(move |seen| match seen.target.as_str() {
        "/first" => {
            // Rebinding: from now on the same name answers another loopback address.
            std::fs::write(&file, "rebind.test 127.0.0.2\n").unwrap();
            let port = seen.headers["host"].rsplit(':').next().unwrap().to_string();
            (
                302,
                vec![(
                    "location".into(),
                    format!("http://rebind.test:{port}/second"),
                )],
                String::new(),
            )
        }
        _ => json_answer(json!({"reached": seen.target})),
    });
    let port = api.url.rsplit(':').next().unwrap().to_string();
    let config = dir.0.join("sandstep.toml");
    std::fs::write(&config, "outbound_allow = [\"127.0.0.1/32\"]\n").unwrap();
    let s = Server::start_with(
        &dir.0.join("data"),
        &["--config", config.to_str().unwrap()],
        &[
            ("SANDSTEP_SECRET_KEY", KEY),
            ("SANDSTEP_TEST_HOSTS", hosts.to_str().unwrap()),
        ],
    );
    connect(
        &s.url,
        "rebind",
        json!({"baseUrls": [format!("http://rebind.test:{port}/")],
        "auth": {"type": "API_KEY", "header": "x-api-key", "value": API_KEY}}),
    )
    .unwrap();
    let m = s.create_machine(
        "rebind",
        &one_task(invoke(
            &format!("http://rebind.test:{port}/first"),
            "GET",
            "rebind",
            json!({}),
        )),
        "STANDARD",
    );
    let done = s.run(&m, json!({}));
    assert_eq!(done["error"], "States.Runtime", "{done}");
    assert!(
        done["cause"]
            .as_str()
            .unwrap()
            .contains("rebind.test resolves to a loopback address"),
        "{done}"
    );
    let seen: Vec<String> = api.seen().iter().map(|r| r.target.clone()).collect();
    assert_eq!(seen, ["/first"], "the second hop never left");
    // A name that answers a private address from the start never connects.
    std::fs::write(&hosts, "rebind.test 10.9.9.9\n").unwrap();
    let done = s.run(&m, json!({}));
    assert!(
        done["cause"]
            .as_str()
            .unwrap()
            .contains("a private address"),
        "{done}"
    );
    assert_eq!(api.seen().len(), 1);
}
