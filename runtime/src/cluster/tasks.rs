//! Module tasks run by another server (`scheduler/sharing.rs`), over HTTP between the
//! servers: the offer and its signature, the stream of reports that answers it, the
//! client that offers a task to the other servers in turn, and module callbacks that a
//! task running on one server sends to the server running the token's execution.
//!
//! An offer is a `POST` of the task ([`Offer`]) signed with the servers' shared key over
//! its body (a call from anyone else is refused). The server that takes it answers `200`
//! and streams lines of JSON ([`Line`]): the task's reports as they come, then its result.
//! It writes an empty line every second meanwhile, so that it notices within moments when
//! the offering server is gone or no longer wants the task (it dropped the answer) and
//! stops the module. A server without room answers `503` at once, and the next is asked.
//! The offering server takes a stream silent for [`SILENCE`] for a lost one (the other
//! server's host died or the network between them failed) and runs the task again itself;
//! what still runs there ends at the task's own deadline (its `TimeoutSeconds`, or the
//! sandbox's 60 s), as every module run does.
//!
//! A signature serves once: a server refuses one it has seen (until it expires), so an
//! offer or an answer read off the network between the servers cannot be sent again.

use super::forward::{self, SendError};
use super::{Cluster, Place};
use crate::host::callback::{Refused, TokenAnswers};
use crate::model::Answer;
use crate::pins::Pins;
use crate::scheduler::runner::TaskContext;
use crate::scheduler::sharing::{Busy, Load, Offered, TaskPeers};
use crate::store::TenantId;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use futures_util::future::BoxFuture;
use http_body_util::BodyExt as _;
use sandstep_engine::{EventKind, TaskRequest};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where a server takes other servers' tasks.
pub const OFFER_PATH: &str = "/v1/cluster/tasks";
/// Where a server takes module callbacks for its executions' tokens from other servers.
pub const ANSWER_PATH: &str = "/v1/cluster/answers";
/// The header that signs a message between servers: `<expiry, unix seconds>;<nonce>;
/// <HMAC-SHA256 of path, receiving server, expiry, nonce and body>`.
pub const SIGNATURE: &str = "x-sandstep-signature";

/// How long a signature is good for (the servers' clocks must agree within it).
const SIGNATURE_SECONDS: u64 = 30;
/// How long a server that answered it has no room is not asked again.
const BUSY_FOR: Duration = Duration::from_millis(50);
/// How long a server that could not be reached is not asked again.
const UNREACHED_FOR: Duration = Duration::from_secs(1);
/// How often the server running a task writes an empty line, and the offering one looks
/// whether the task is still wanted.
pub const KEEPALIVE: Duration = Duration::from_secs(1);
/// The longest line of a task's stream: a result within the payload limit, escaped.
const MAX_LINE: usize = 4 << 20;
/// How long a module callback waits for its execution's server.
const ANSWER_PATIENCE: Duration = Duration::from_secs(15);
/// How long a taken task's stream may be silent (it carries a line every [`KEEPALIVE`])
/// before the offering server takes the task for lost.
pub const SILENCE: Duration = Duration::from_secs(4);
/// How long a server asked to take a task may take to say whether it does.
const ANSWER_WAIT: Duration = Duration::from_secs(10);

/// A task offered to another server: what its runner needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    /// Whose task it is.
    pub tenant: String,
    /// The execution's ARN.
    pub execution_arn: String,
    /// The module versions and bindings the execution pinned.
    pub pins: Pins,
    /// The task.
    pub request: TaskRequest,
    /// How loaded the offering server is: only a server less loaded takes the task.
    pub load: Load,
}

/// One line of a task's stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Line {
    /// The task started, or is alive.
    Report(EventKind),
    /// The task's result: the last line.
    Result(EventKind),
}

impl Line {
    /// The line as written, newline included.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

/// A module callback passed to the server running the token's execution.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PassedAnswer {
    /// The tenant the module runs for.
    pub tenant: String,
    /// The token it answers.
    pub token: String,
    /// Its answer.
    pub answer: Answer,
}

/// Where a message between servers goes: the path, and the receiving server's address
/// (as the servers' table names it), so that one sent to a server serves at no other.
#[derive(Debug, Clone, Copy)]
pub struct Sent<'a> {
    /// The path.
    pub path: &'a str,
    /// The receiving server's address.
    pub to: &'a str,
}

/// The [`SIGNATURE`] of `body` sent as `sent`, good until `now` (unix seconds) +
/// [`SIGNATURE_SECONDS`], with a new nonce (two identical messages, such as two
/// heartbeats of one token, are signed apart).
pub fn sign(secret: &[u8], sent: Sent<'_>, body: &[u8], now: u64) -> String {
    let expiry = now + SIGNATURE_SECONDS;
    let nonce = crate::clock::secret();
    let mac = forward::mac(secret, &signed(sent, expiry, &nonce, body));
    format!("{expiry};{nonce};{mac}")
}

/// The expiry of `value`, if it signs `body` sent as `sent` with the shared key and has
/// not expired at `now`.
pub fn verify(secret: &[u8], sent: Sent<'_>, value: &str, body: &[u8], now: u64) -> Option<u64> {
    let mut fields = value.splitn(3, ';');
    let expiry: u64 = fields.next()?.parse().ok()?;
    let nonce = fields.next()?;
    let given = fields.next()?;
    if expiry < now || expiry > now + 2 * SIGNATURE_SECONDS {
        return None;
    }
    let expected = forward::mac(secret, &signed(sent, expiry, nonce, body));
    forward::same_signature(given, &expected).then_some(expiry)
}

fn signed(sent: Sent<'_>, expiry: u64, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut message = format!("{};{};{expiry};{nonce};", sent.path, sent.to).into_bytes();
    message.extend_from_slice(body);
    message
}

/// The signatures a server took, until they expire: each serves once.
#[derive(Debug, Default)]
pub struct Seen {
    /// Signature → its expiry; and when expired ones were last dropped.
    taken: Mutex<(HashMap<String, u64>, u64)>,
}

impl Seen {
    /// Whether `signature`, good until `expiry`, is taken for the first time at `now`;
    /// it is remembered until it expires.
    pub fn first(&self, signature: &str, expiry: u64, now: u64) -> bool {
        let mut taken = self
            .taken
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (seen, swept) = &mut *taken;
        if *swept < now {
            seen.retain(|_, until| *until >= now);
            *swept = now;
        }
        seen.insert(signature.to_string(), expiry).is_none()
    }
}

/// Seconds since the epoch, by the system's clock (signatures expire in real time).
pub fn unix_now() -> u64 {
    u64::try_from(crate::clock::now() / 1000).unwrap_or(0)
}

/// A signed `POST` of `body` to `path` at `address`.
fn signed_post(secret: &[u8], address: &str, path: &str, body: Vec<u8>) -> Request<Body> {
    let signature = sign(secret, Sent { path, to: address }, &body, unix_now());
    let mut request = Request::new(Body::from(body));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = path.parse().unwrap_or_default();
    let headers = request.headers_mut();
    for (name, value) in [
        (header::HOST.as_str(), address),
        (header::CONTENT_TYPE.as_str(), "application/json"),
        (SIGNATURE, signature.as_str()),
    ] {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::try_from(name),
            header::HeaderValue::try_from(value),
        ) {
            headers.insert(name, value);
        }
    }
    request
}

/// The other servers of the cluster, as a scheduler's [`TaskPeers`]: a task is offered to
/// each in turn (starting one further each time, so the offers spread), skipping for a
/// moment those that just had no room or could not be reached.
#[derive(Debug, Clone)]
pub struct Peers {
    inner: Arc<PeersInner>,
}

#[derive(Debug)]
struct PeersInner {
    cluster: Arc<Cluster>,
    next: AtomicUsize,
    /// Servers not to ask again before the time given.
    resting: Mutex<HashMap<String, Instant>>,
}

impl Peers {
    /// The servers sharing `cluster`'s database, this one aside.
    pub fn new(cluster: Arc<Cluster>) -> Peers {
        Peers {
            inner: Arc::new(PeersInner {
                cluster,
                next: AtomicUsize::new(0),
                resting: Mutex::new(HashMap::new()),
            }),
        }
    }
}

impl TaskPeers for Peers {
    fn offer(&self, task: TaskContext, load: Load, offered: Busy) -> BoxFuture<'static, Offered> {
        let inner = Arc::clone(&self.inner);
        Box::pin(async move { inner.offer(task, load, offered).await })
    }
}

impl PeersInner {
    fn rest(&self, address: &str, for_: Duration) {
        self.resting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(address.to_string(), Instant::now() + for_);
    }

    fn resting(&self, address: &str) -> bool {
        self.resting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(address)
            .is_some_and(|until| *until > Instant::now())
    }

    async fn offer(&self, task: TaskContext, load: Load, offered: Busy) -> Offered {
        let peers = self.cluster.peers().await;
        if peers.is_empty() {
            return Offered::Declined;
        }
        let offer = Offer {
            tenant: task.tenant.0.clone(),
            execution_arn: task.execution_arn.clone(),
            pins: (*task.pins).clone(),
            request: task.request.clone(),
            load,
        };
        let Ok(body) = serde_json::to_vec(&offer) else {
            return Offered::Declined;
        };
        let first = self.next.fetch_add(1, Ordering::Relaxed) % peers.len();
        for address in peers.iter().cycle().skip(first).take(peers.len()) {
            if self.resting(address) {
                continue;
            }
            let request = signed_post(self.cluster.secret(), address, OFFER_PATH, body.clone());
            let sent = tokio::time::timeout(ANSWER_WAIT, forward::send_as_is(address, request));
            let response = match sent.await {
                Ok(Ok(response)) => response,
                Ok(Err((e @ SendError::Unreached(..), _))) => {
                    // Nothing was sent: another server may take it.
                    tracing::debug!(%address, error = %e, "offering a task failed");
                    self.rest(address, UNREACHED_FOR);
                    continue;
                }
                // Sent, but no answer: it may run there, and runs again here (not on a
                // third server as well).
                Ok(Err((e, _))) => {
                    self.rest(address, UNREACHED_FOR);
                    return Offered::Lost(e.to_string());
                }
                Err(_) => {
                    self.rest(address, UNREACHED_FOR);
                    return Offered::Lost(format!("{address} did not answer the offer"));
                }
            };
            match response.status() {
                StatusCode::OK => {
                    // It runs there now, no longer here.
                    drop(offered);
                    return follow(response.into_body(), &task).await;
                }
                StatusCode::SERVICE_UNAVAILABLE => self.rest(address, BUSY_FOR),
                other => {
                    tracing::warn!(%address, status = %other, "a server refused a task offer");
                    self.rest(address, UNREACHED_FOR);
                }
            }
        }
        Offered::Declined
    }
}

/// Follows a taken task's stream: its reports go to the task's progress, its result is
/// the answer. Dropped (which stops it there) once the task is no longer wanted.
async fn follow(mut body: Body, task: &TaskContext) -> Offered {
    let mut pending: Vec<u8> = Vec::new();
    let mut tick = tokio::time::interval(KEEPALIVE / 4);
    let mut heard = Instant::now();
    loop {
        let frame = tokio::select! {
            // A frame already here goes first, however late a tick.
            biased;
            frame = body.frame() => frame,
            _ = tick.tick() => {
                if task.cancelled.load(Ordering::SeqCst) {
                    return Offered::Dropped;
                }
                if heard.elapsed() > SILENCE {
                    return Offered::Lost(format!("nothing heard for {SILENCE:?}"));
                }
                continue;
            }
        };
        heard = Instant::now();
        let data = match frame {
            None => return Offered::Lost("the stream ended before the result".into()),
            Some(Err(e)) => return Offered::Lost(e.to_string()),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => data,
                Err(_) => continue,
            },
        };
        pending.extend_from_slice(&data);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let mut line: Vec<u8> = pending.drain(..=end).collect();
            line.pop();
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<Line>(&line) {
                Ok(Line::Result(kind)) => return Offered::Ran(Box::new(kind)),
                Ok(Line::Report(EventKind::TaskStarted { .. })) => task.progress.started(),
                Ok(Line::Report(EventKind::TaskHeartbeat { .. })) => task.progress.beat(),
                Ok(Line::Report(_)) => {}
                Err(e) => return Offered::Lost(format!("an unreadable line: {e}")),
            }
        }
        if pending.len() > MAX_LINE {
            return Offered::Lost("a line longer than any result".into());
        }
    }
}

/// Module callbacks ([`TokenAnswers`]) on a cluster member: an answer for a tenant this
/// server runs is delivered here; any other (a module running here for another server)
/// is passed to the server that runs the tenant.
#[derive(Debug)]
pub struct RoutedAnswers {
    here: Arc<dyn TokenAnswers>,
    cluster: Arc<Cluster>,
    runtime: tokio::runtime::Handle,
}

impl RoutedAnswers {
    /// Answers delivered by `here` for this server's tenants and passed on for others.
    pub fn new(
        here: Arc<dyn TokenAnswers>,
        cluster: Arc<Cluster>,
        runtime: tokio::runtime::Handle,
    ) -> RoutedAnswers {
        RoutedAnswers {
            here,
            cluster,
            runtime,
        }
    }

    async fn pass(&self, passed: &PassedAnswer) -> Option<Result<(), Refused>> {
        let Ok(body) = serde_json::to_vec(passed) else {
            return Some(Err(Refused::Unavailable(
                "the answer does not encode".into(),
            )));
        };
        let until = Instant::now() + ANSWER_PATIENCE;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            let address = match self.cluster.place(&passed.tenant, left).await {
                Ok(Place::Here(_)) => return None,
                Ok(Place::There(address)) => address,
                Err(e) => return Some(Err(Refused::Unavailable(e.to_string()))),
            };
            let request = signed_post(self.cluster.secret(), &address, ANSWER_PATH, body.clone());
            match forward::send_as_is(&address, request).await {
                Ok(response) => {
                    let status = response.status();
                    let bytes = response
                        .into_body()
                        .collect()
                        .await
                        .map(|b| b.to_bytes())
                        .unwrap_or_default();
                    if status == StatusCode::OK {
                        self.cluster.count_passed();
                        return Some(serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                            Err(Refused::Unavailable(format!("an unreadable answer: {e}")))
                        }));
                    }
                    if status.is_client_error() {
                        // Refused for good (a signature that does not hold: the servers'
                        // clocks disagree): asking again changes nothing.
                        return Some(Err(Refused::Unavailable(format!(
                            "{address} refused the answer: {status} {}",
                            String::from_utf8_lossy(&bytes)
                        ))));
                    }
                    // Not served there (any more): look again.
                    tracing::debug!(%address, %status, "passing a callback on was refused");
                }
                Err((SendError::Unreached(..), _)) => {}
                Err((e @ SendError::Broken(..), _)) => {
                    return Some(Err(Refused::Unavailable(e.to_string())))
                }
            }
            if left.is_zero() {
                return Some(Err(Refused::Unavailable(
                    "the execution's server did not take the answer in time".into(),
                )));
            }
            self.cluster.forget();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl TokenAnswers for RoutedAnswers {
    fn answer(&self, tenant: &TenantId, token: &str, answer: Answer) -> Result<(), Refused> {
        if self.cluster.runs(tenant) {
            return self.here.answer(tenant, token, answer);
        }
        let passed = PassedAnswer {
            tenant: tenant.0.clone(),
            token: token.to_string(),
            answer: answer.clone(),
        };
        match self.runtime.block_on(self.pass(&passed)) {
            Some(answered) => answered,
            // Its tenant came here meanwhile.
            None => self.here.answer(tenant, token, answer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sandstep_engine::TaskId;

    #[test]
    fn a_signature_holds_only_for_its_body_path_server_and_key_until_it_expires() {
        let body = br#"{"tenant":"acme"}"#;
        let to_b = Sent {
            path: OFFER_PATH,
            to: "b:1",
        };
        let value = sign(b"key", to_b, body, 1_000);
        assert_eq!(verify(b"key", to_b, &value, body, 1_000), Some(1_030));
        assert_eq!(verify(b"key", to_b, &value, body, 1_030), Some(1_030));
        let refused = |value: &str, key: &[u8], sent: Sent<'_>, body: &[u8], now: u64| {
            verify(key, sent, value, body, now).is_none()
        };
        assert!(refused(&value, b"key", to_b, body, 1_031), "expired");
        assert!(refused(&value, b"other", to_b, body, 1_000), "key");
        let answer = Sent {
            path: ANSWER_PATH,
            ..to_b
        };
        assert!(refused(&value, b"key", answer, body, 1_000), "path");
        let to_c = Sent { to: "c:1", ..to_b };
        assert!(refused(&value, b"key", to_c, body, 1_000), "another server");
        assert!(
            refused(&value, b"key", to_b, br#"{"tenant":"evil"}"#, 1_000),
            "body"
        );
        let later = value.replacen("1030;", "1031;", 1);
        assert!(refused(&later, b"key", to_b, body, 1_000), "expiry");
        let (head, mac) = value.rsplit_once(';').unwrap();
        let renonced = format!("{head}0;{mac}");
        assert!(refused(&renonced, b"key", to_b, body, 1_000), "nonce");
        assert!(refused("garbage", b"key", to_b, body, 1_000));
        assert!(refused("", b"key", to_b, body, 1_000));
        assert_ne!(
            sign(b"key", to_b, body, 1_000),
            value,
            "the same message signed twice is signed apart"
        );
    }

    #[test]
    fn a_signature_serves_once_until_it_expires() {
        let seen = Seen::default();
        assert!(seen.first("a", 1_030, 1_000));
        assert!(!seen.first("a", 1_030, 1_000), "a replay");
        assert!(seen.first("b", 1_040, 1_010));
        assert!(!seen.first("a", 1_030, 1_030), "still good, still refused");
        // Expired ones are dropped (a replay would not verify any more anyway).
        assert!(seen.first("c", 1_090, 1_035));
        assert!(!seen.first("b", 1_040, 1_035), "b is kept until it expires");
        assert_eq!(
            seen.taken.lock().unwrap().0.len(),
            2,
            "a dropped once expired"
        );
    }

    fn task() -> (TaskContext, tokio::sync::mpsc::UnboundedReceiver<EventKind>) {
        let request = TaskRequest {
            id: TaskId(3),
            resource: "f".into(),
            input: serde_json::json!({}),
            timeout_seconds: None,
            heartbeat_seconds: None,
            attempt: 0,
            state_name: "T".into(),
            task_token: None,
        };
        let (progress, reports) = crate::scheduler::runner::Progress::channel(&request);
        let task = TaskContext {
            tenant: TenantId("acme".into()),
            execution_arn: "arn".into(),
            pins: Arc::default(),
            request,
            cancelled: Arc::default(),
            progress,
        };
        (task, reports)
    }

    fn body_of(bytes: Vec<u8>, chunk: usize) -> Body {
        let chunks: Vec<Result<Vec<u8>, std::convert::Infallible>> =
            bytes.chunks(chunk).map(|c| Ok(c.to_vec())).collect();
        Body::from_stream(futures_util::stream::iter(chunks))
    }

    #[tokio::test]
    async fn a_task_s_stream_is_followed_to_its_result_whatever_its_chunks() {
        let result = EventKind::TaskSucceeded {
            task: TaskId(3),
            output: serde_json::json!({"text": "two\nlines"}),
            usage: None,
        };
        let mut bytes = Line::Report(EventKind::TaskStarted {
            task: TaskId(3),
            worker: None,
        })
        .encode();
        bytes.extend_from_slice(b"\n\n");
        bytes.extend(Line::Result(result.clone()).encode());
        for chunk in [1, 7, bytes.len()] {
            let (task, mut reports) = task();
            let answer = follow(body_of(bytes.clone(), chunk), &task).await;
            assert_eq!(
                answer,
                Offered::Ran(Box::new(result.clone())),
                "chunks of {chunk}"
            );
            assert!(matches!(
                reports.try_recv(),
                Ok(EventKind::TaskStarted { .. })
            ));
        }

        let (task, _reports) = task();
        let cut = bytes[..bytes.len() - 5].to_vec();
        assert!(matches!(
            follow(body_of(cut, 16), &task).await,
            Offered::Lost(_)
        ));
        assert!(matches!(
            follow(body_of(b"not json\n".to_vec(), 16), &task).await,
            Offered::Lost(_)
        ));

        // A task no longer wanted is let go while its stream is silent.
        task.cancelled.store(true, Ordering::SeqCst);
        let silent = Body::from_stream(futures_util::stream::pending::<
            Result<Vec<u8>, std::convert::Infallible>,
        >());
        let answer = tokio::time::timeout(Duration::from_secs(5), follow(silent, &task)).await;
        assert_eq!(answer.unwrap(), Offered::Dropped);
    }

    #[test]
    fn lines_come_back_as_written() {
        let lines = [
            Line::Report(EventKind::TaskStarted {
                task: TaskId(3),
                worker: None,
            }),
            Line::Result(EventKind::TaskFailed {
                task: TaskId(3),
                error: "E\n".into(),
                cause: "a cause\nover lines".into(),
                usage: None,
            }),
        ];
        for line in lines {
            let bytes = line.encode();
            assert_eq!(bytes.iter().filter(|b| **b == b'\n').count(), 1, "one line");
            let back: Line = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(back, line);
        }
    }
}
