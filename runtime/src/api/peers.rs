//! What the servers of a cluster ask of each other (`cluster/tasks.rs`): run a module task
//! for another server's execution, and take a module's callback for one of this server's
//! executions. Both are signed with the servers' shared key over their body; a call
//! without a good signature is refused, and without a cluster these routes are not found.

use super::error::{Error, Result};
use super::App;
use crate::cluster::tasks::{self, Line, Offer, PassedAnswer, KEEPALIVE};
use crate::cluster::Cluster;
use crate::host::callback::Refused;
use crate::scheduler::runner::{Progress, TaskContext};
use crate::store::TenantId;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The cluster, once the call's signature over `body` to `path` holds and has not been
/// taken before (a call read off the network cannot be sent again).
fn signed<'a>(app: &'a App, headers: &HeaderMap, path: &str, body: &[u8]) -> Result<&'a Cluster> {
    let Some(cluster) = app.config.cluster.as_deref() else {
        return Err(Error::NotFound(format!("No route for {path}")));
    };
    let given = headers
        .get(tasks::SIGNATURE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let now = tasks::unix_now();
    let to = tasks::Sent {
        path,
        to: cluster.address(),
    };
    let Some(expiry) = tasks::verify(cluster.secret(), to, given, body, now) else {
        return Err(Error::AccessDenied(
            "Only the servers sharing this store may call this".into(),
        ));
    };
    if !cluster.first_sight(given, expiry, now) {
        return Err(Error::AccessDenied("This call was sent before".into()));
    }
    Ok(cluster)
}

/// `POST /v1/cluster/tasks`: runs another server's module task here when this one is less
/// loaded than it (`503 ServiceUnavailable` at once otherwise), streaming its reports and its result.
/// The module stops when the caller goes away.
///
/// # Errors
/// `AccessDeniedException` without a good signature, `ValidationException` for an offer
/// that does not decode, `ServiceUnavailable` without room.
pub async fn take_task(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    signed(&app, &headers, tasks::OFFER_PATH, &body)?;
    let offer: Offer = serde_json::from_slice(&body)
        .map_err(|e| Error::Validation(format!("The task offer does not decode: {e}")))?;
    let cancelled = Arc::new(AtomicBool::new(false));
    let (progress, mut reports) = Progress::channel(&offer.request);
    let task = TaskContext {
        tenant: TenantId(offer.tenant),
        execution_arn: offer.execution_arn,
        pins: Arc::new(offer.pins),
        request: offer.request,
        cancelled: Arc::clone(&cancelled),
        progress,
    };
    let Some(running) = app.services.executions.run_for_peer(task, offer.load) else {
        return Err(Error::ServiceUnavailable(
            "This server is as loaded as the one offering".into(),
        ));
    };
    let (lines, stream) = tokio::sync::mpsc::channel::<Vec<u8>>(8);
    tokio::spawn(async move {
        // A line that cannot be written: the caller is gone, or no longer wants the task.
        let send = |line: Vec<u8>| {
            let (lines, cancelled) = (lines.clone(), Arc::clone(&cancelled));
            async move {
                if lines.send(line).await.is_err() {
                    cancelled.store(true, Ordering::SeqCst);
                }
            }
        };
        tokio::pin!(running);
        let mut keepalive = tokio::time::interval(KEEPALIVE);
        keepalive.tick().await;
        let result = loop {
            tokio::select! {
                biased;
                Some(report) = reports.recv() => send(Line::Report(report).encode()).await,
                done = &mut running => break done,
                _ = keepalive.tick() => send(b"\n".to_vec()).await,
            }
        };
        while let Ok(report) = reports.try_recv() {
            send(Line::Report(report).encode()).await;
        }
        send(Line::Result(result).encode()).await;
    });
    let body = futures_util::stream::unfold(stream, |mut stream| async move {
        let line = stream.recv().await?;
        Some((Ok::<_, std::convert::Infallible>(Bytes::from(line)), stream))
    });
    Ok(Response::builder()
        .header("content-type", "application/x-ndjson")
        .body(Body::from_stream(body))
        .unwrap_or_default())
}

/// `POST /v1/cluster/answers`: a module's callback, sent from the server it ran on, for
/// a token of an execution of a tenant this server runs.
///
/// # Errors
/// `AccessDeniedException` without a good signature, `ValidationException` for an answer
/// that does not decode, `ServiceUnavailable` when this server does not run the tenant
/// (the sender looks again).
pub async fn take_answer(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<std::result::Result<(), Refused>>> {
    let cluster = signed(&app, &headers, tasks::ANSWER_PATH, &body)?;
    let passed: PassedAnswer = serde_json::from_slice(&body)
        .map_err(|e| Error::Validation(format!("The answer does not decode: {e}")))?;
    let tenant = TenantId(passed.tenant);
    if !cluster.runs(&tenant) {
        return Err(Error::ServiceUnavailable(super::error::UNAVAILABLE.into()));
    }
    let answered = app
        .services
        .callbacks
        .send_in(&tenant, &passed.token, passed.answer)
        .await;
    Ok(Json(answered.map_err(crate::service::callbacks::refused)))
}
