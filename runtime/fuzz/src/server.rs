//! The bodies of the server crate's fuzz targets: sigv4, aws_request and module_inspect.
//!
//! The integration test binary includes this file (through `server_regressions.rs`) to replay
//! the regression inputs, so it uses only what `sandstep`'s tests can reach: `sandstep` itself
//! and its dependencies `axum` and `tokio`.
//!
//! `sigv4` and `aws_request` read their input as a small HTTP request, so that seeds are
//! readable and a captured request can be pasted in:
//!
//! ```text
//! POST /?optional=query
//! X-Amz-Target: AWSStepFunctions.ListStateMachines
//! Content-Type: application/x-amz-json-1.0
//!
//! {"maxResults": 10}
//! ```
//!
//! `aws_request` accepts several such requests in one input, separated by a line `----`, so that
//! one input can create a state machine and then start it.

use sandstep::api::sigv4::{self, Request, Scope};
use std::sync::Arc;
use std::time::Duration;

/// The access key, secret and time the sigv4 seeds are signed with.
pub const ACCESS_KEY: &str = "AKIDFUZZ";
/// See [`ACCESS_KEY`].
pub const SECRET: &str = "fuzz-secret";
/// 2024-01-15T10:30:00Z.
pub const NOW: i64 = 1_705_314_600;
/// The server's region and Step Functions' signing name.
pub const SCOPE: Scope<'static> = Scope {
    region: "us-east-1",
    service: "states",
};

/// A request as the input describes it.
#[derive(Debug, Clone)]
struct Raw {
    method: String,
    /// Path and query, as in an HTTP request line.
    target: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    /// The request line, `Name: value` header lines (others are skipped) up to an empty line,
    /// then the body. `None` when the head is not UTF-8.
    fn parse(data: &[u8]) -> Option<Raw> {
        let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
            Some(at) => (data.get(..at)?, data.get(at + 2..)?),
            None => (data, &[][..]),
        };
        let head = std::str::from_utf8(head).ok()?;
        let mut lines = head.lines();
        let first = lines.next().unwrap_or_default();
        let (method, target) = first.split_once(' ').unwrap_or((first, "/"));
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
            .collect();
        Some(Raw {
            method: method.to_owned(),
            target: target.trim().to_owned(),
            headers,
            body: body.to_vec(),
        })
    }

    fn path_and_query(&self) -> (&str, &str) {
        self.target.split_once('?').unwrap_or((&self.target, ""))
    }
}

/// SigV4 header authentication: any request goes through [`sigv4::verify`] and
/// [`sigv4::access_key_id`] without panicking; and any request a client could send, once signed
/// with [`sigv4::sign`], verifies, and stops verifying when its body or method changes.
pub fn sigv4(data: &[u8]) {
    let Some(raw) = Raw::parse(data) else {
        return;
    };
    let (path, query) = raw.path_and_query();
    let request = Request {
        method: &raw.method,
        path,
        query,
        headers: &raw.headers,
        body: &raw.body,
    };
    let _ = sigv4::access_key_id(&raw.headers);
    if let Err(e) = sigv4::verify(&request, NOW, SCOPE, secret_for) {
        let _ = e.aws_error();
    }
    round_trip(&raw);
}

fn secret_for(key: &str) -> Option<String> {
    (key == ACCESS_KEY).then(|| SECRET.to_owned())
}

/// Signs what an HTTP client could send of `raw` and checks that it verifies.
fn round_trip(raw: &Raw) {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    // What an HTTP server hands over: token names, visible ASCII values (axum's `to_str`).
    let sendable = token(&raw.method)
        && raw.headers.iter().all(|(name, value)| {
            token(name)
                && value
                    .bytes()
                    .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
        });
    if !sendable {
        return;
    }
    // The signer adds these; a second copy would be read instead of its own.
    let mut headers: Vec<(String, String)> = raw
        .headers
        .iter()
        .filter(|(name, _)| {
            !["authorization", "x-amz-date", "x-amz-content-sha256"]
                .iter()
                .any(|added| name.eq_ignore_ascii_case(added))
        })
        .cloned()
        .collect();
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        headers.push(("Host".to_owned(), "127.0.0.1:8080".to_owned()));
    }
    let (path, query) = raw.path_and_query();
    let unsigned = Request {
        method: &raw.method,
        path,
        query,
        headers: &headers,
        body: &raw.body,
    };
    let added = sigv4::sign(
        &unsigned,
        ACCESS_KEY,
        SECRET,
        SCOPE.region,
        SCOPE.service,
        NOW,
    );
    headers.extend(added);
    let signed = Request {
        method: &raw.method,
        path,
        query,
        headers: &headers,
        body: &raw.body,
    };
    match sigv4::verify(&signed, NOW, SCOPE, secret_for) {
        Ok(verified) => assert_eq!(
            (verified.access_key_id.as_str(), verified.service.as_str()),
            (ACCESS_KEY, "states")
        ),
        Err(e) => panic!("a request signed by sigv4::sign does not verify: {e:?}\n{signed:?}"),
    }
    let mut body = raw.body.clone();
    if let Some(last) = body.last_mut() {
        *last ^= 1;
        let tampered = Request {
            body: &body,
            ..signed
        };
        assert!(
            sigv4::verify(&tampered, NOW, SCOPE, secret_for).is_err(),
            "a signed request verifies with another body"
        );
    }
    let method = format!("{}X", raw.method);
    let tampered = Request {
        method: &method,
        ..signed
    };
    assert!(
        sigv4::verify(&tampered, NOW, SCOPE, secret_for).is_err(),
        "a signed request verifies with another method"
    );
}

/// How long one request may take before the harness moves on: a synchronous Express execution
/// with a `Wait` really waits, as on AWS, and that is not a bug.
const REQUEST_TIME: Duration = Duration::from_millis(200);

/// The AWS JSON protocol (`POST /`, `X-Amz-Target: AWSStepFunctions.<Action>`): requests go
/// through `api::aws::handle` against a fresh in-memory server (single tenant, no modules), one
/// after the other, on a current-thread runtime that is dropped afterwards with everything the
/// requests started. Nothing may panic, overflow the stack or run away.
pub fn aws_request(data: &[u8]) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    else {
        return;
    };
    runtime.block_on(async {
        let app = app();
        for part in split_requests(data) {
            let Some(request) = Raw::parse(part).and_then(|raw| http_request(&raw)) else {
                continue;
            };
            let call = sandstep::api::aws::handle(axum::extract::State(Arc::clone(&app)), request);
            if let Ok(response) = tokio::time::timeout(REQUEST_TIME, call).await {
                let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
            }
        }
    });
    runtime.shutdown_background();
}

fn split_requests(data: &[u8]) -> Vec<&[u8]> {
    const SEPARATOR: &[u8] = b"\n----\n";
    let mut parts = Vec::new();
    let mut rest = data;
    while let Some(at) = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        let (part, tail) = rest.split_at(at);
        parts.push(part);
        rest = tail.get(SEPARATOR.len()..).unwrap_or_default();
    }
    parts.push(rest);
    parts
}

/// The request an HTTP client could send: `None` when the method, URI or a header could not
/// be sent over HTTP at all.
fn http_request(raw: &Raw) -> Option<axum::extract::Request> {
    let mut builder = axum::http::Request::builder()
        .method(axum::http::Method::from_bytes(raw.method.as_bytes()).ok()?)
        .uri(axum::http::Uri::try_from(raw.target.as_str()).ok()?);
    for (name, value) in &raw.headers {
        builder = builder.header(
            axum::http::HeaderName::from_bytes(name.as_bytes()).ok()?,
            axum::http::HeaderValue::from_str(value).ok()?,
        );
    }
    builder.body(axum::body::Body::from(raw.body.clone())).ok()
}

/// A server as `sandstep serve` builds it, on an in-memory store, with no tenants (every caller
/// is the default tenant, as on loopback) and no module host (uploads are `module_inspect`'s).
/// Must be called within a tokio runtime: the scheduler starts its timer service.
fn app() -> Arc<sandstep::api::App> {
    use sandstep::scheduler::{runner::NoTasks, Options, Scheduler};
    let store = sandstep::store::Store::memory();
    let scheduler = match Scheduler::new(Options::default(), store.clone(), Arc::new(NoTasks)) {
        Ok(s) => s,
        Err(e) => panic!("the scheduler cannot start: {e}"),
    };
    let config = sandstep::api::Config::default();
    match sandstep::api::App::new(store, scheduler, config, Arc::new(NoModules)) {
        Ok(app) => Arc::new(app),
        Err(e) => panic!("an in-memory server cannot start: {e}"),
    }
}

#[derive(Debug)]
struct NoModules;

impl sandstep::service::ModuleHost for NoModules {
    fn register(
        &self,
        _: &sandstep::tenants::Tenant,
        _: &str,
        _: &[u8],
        _: sandstep::grants::Grants,
    ) -> Result<sandstep::store::modules::ModuleVersion, sandstep::service::modules::RegisterError>
    {
        Err(sandstep::service::modules::RegisterError::Invalid(
            "the fuzz harness accepts no modules".into(),
        ))
    }
}

/// Module upload inspection (`PUT /v1/modules/{name}`): kind, validation, compilation under
/// the sandbox's configuration, imports and exports. Any bytes are refused or accepted without
/// a panic; their cost is bounded by libFuzzer's `-rss_limit_mb` and `-timeout`.
pub fn module_inspect(data: &[u8]) {
    match sandbox().inspect(data) {
        Ok(inspection) => {
            let _ = (inspection.kind, inspection.imports, inspection.exports);
        }
        Err(reason) => {
            let _ = reason.to_string();
        }
    }
}

/// One sandbox for the whole run (starting one reserves its pool): inspection keeps no state.
fn sandbox() -> &'static sandstep::sandbox::Sandbox {
    static SANDBOX: std::sync::OnceLock<sandstep::sandbox::Sandbox> = std::sync::OnceLock::new();
    SANDBOX.get_or_init(|| {
        let options = sandstep::sandbox::Options {
            // Compile on the calling thread, whose stack size the harness chose; few slots,
            // since nothing is instantiated.
            parallel_compilation: false,
            pool_slots: 4,
            ..sandstep::sandbox::Options::default()
        };
        match sandstep::sandbox::Sandbox::new(options, sandstep::store::Store::memory()) {
            Ok(sandbox) => sandbox,
            Err(e) => panic!("the sandbox cannot start: {e}"),
        }
    })
}
