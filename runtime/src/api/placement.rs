//! Every call to the server that runs its tenant's work (`cluster.rs`): a layer in front of
//! every route. With one server it does nothing. In a cluster it reads whose the call
//! claims to be, and answers it here when this server runs that tenant's partition, or
//! passes it on unchanged to the server that does, waiting through a takeover (the call
//! looks like a slow one); past the patience it is `503 ServiceUnavailable`, which the AWS
//! SDKs retry.
//!
//! A call another server passed on carries that server's vouch for the caller
//! (`cluster/forward.rs`): the caller's address is taken from it, so loopback rights and
//! rate limits apply to the caller, not to the server in between. A vouch that does not
//! verify is dropped, and the call counts as the sender's own.

use super::auth::Claim;
use super::error::{Error, Verbatim, UNAVAILABLE};
use super::App;
use crate::cluster::forward::{self, SendError, MAX_HOPS, VOUCH};
use crate::cluster::Place;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Paths about this process itself, answered by whichever server is asked, and those the
/// servers call each other on (`api/peers.rs`).
const LOCAL: [&str; 4] = [
    "/healthz",
    "/metrics",
    crate::cluster::tasks::OFFER_PATH,
    crate::cluster::tasks::ANSWER_PATH,
];

/// How often a server that knows no tenant reads them again (one created through another
/// server turns it into a server with tenants).
const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// The least time between two readings of the tenants for credentials not known here.
const LOOKUP_SPACING: Duration = Duration::from_millis(50);

/// The layer: answers here, or passes the call on.
pub async fn place(State(app): State<Arc<App>>, mut request: Request, next: Next) -> Response {
    let Some(cluster) = app.config.cluster.clone() else {
        return next.run(request).await;
    };
    let vouch = request.headers_mut().remove(VOUCH);
    // Calls about this process are never passed on: no vouch applies to them.
    if LOCAL.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let method = request.method().as_str().to_string();
    let call = forward::For {
        method: &method,
        target: &target,
    };
    let vouched =
        vouch.and_then(|v| forward::verify(cluster.secret(), v.to_str().ok()?, call, unix_now()));
    let hops = match &vouched {
        Some(v) => {
            request.extensions_mut().insert(ConnectInfo(v.caller));
            v.hops
        }
        None => 0,
    };
    let sent_as = vouched.map(|v| crate::store::TenantId(v.tenant));
    let Some(tenant) = claimed(&app, request.headers(), request.uri(), sent_as.as_ref()).await
    else {
        return next.run(request).await;
    };
    let caller = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)), |c| c.0);
    let until = Instant::now() + app.config.patience;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match cluster.place(&tenant.0, left).await {
            Ok(Place::Here(_answering)) => return next.run(request).await,
            Ok(Place::There(_)) if hops >= MAX_HOPS => {
                tracing::warn!(tenant = %tenant, hops, "a call kept moving between servers");
                return unavailable();
            }
            Ok(Place::There(address)) => {
                let vouch = forward::vouch(
                    cluster.secret(),
                    caller,
                    hops + 1,
                    &tenant.0,
                    call,
                    unix_now(),
                );
                match forward::send(&address, request, &vouch).await {
                    Ok(mut response) => {
                        // Shaped by the server that answered.
                        response.extensions_mut().insert(Verbatim);
                        return response;
                    }
                    Err((SendError::Unreached(_, why), Some(back))) if !left.is_zero() => {
                        tracing::debug!(%address, %why, "the partition's server did not answer; looking again");
                        cluster.forget();
                        request = back;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err((e, _)) => {
                        tracing::warn!(tenant = %tenant, error = %e, "passing a call on failed");
                        return unavailable();
                    }
                }
            }
            Err(e) => {
                tracing::warn!(tenant = %tenant, error = %e, "a call found no server");
                return unavailable();
            }
        }
    }
}

/// Whose the call claims to be. This server reads the tenants again when it may not know
/// one created through another server: when another server passed the call on as a
/// tenant's that this one reads otherwise, or when the call names a credential unknown
/// here (one reading at a time, at most one every [`LOOKUP_SPACING`], shared by the calls
/// that wait for it, so a caller naming unknown keys at will costs one reading per
/// interval); and at most every [`RELOAD_EVERY`] while this server knows no tenant at all
/// (it would take a call without credentials from loopback as the default tenant's).
async fn claimed(
    app: &App,
    headers: &axum::http::HeaderMap,
    uri: &axum::http::Uri,
    sent_as: Option<&crate::store::TenantId>,
) -> Option<crate::store::TenantId> {
    let arrived = Instant::now();
    if !app.tenants().multi_tenant() {
        app.reload_tenants_within(RELOAD_EVERY);
    }
    let claim = app.tenants().claimed_by(headers, uri);
    let stale = match (&claim, sent_as) {
        (Claim::Tenant(t), Some(sent)) => t != sent,
        (_, Some(_)) => true,
        (Claim::Unknown, None) => true,
        _ => false,
    };
    if stale {
        app.reload_tenants_since(arrived, LOOKUP_SPACING).await;
    }
    let claim = match stale {
        true => app.tenants().claimed_by(headers, uri),
        false => claim,
    };
    match claim {
        Claim::Tenant(tenant) => Some(tenant),
        _ => None,
    }
}

/// Seconds since the epoch, by the system's clock (vouches expire in real time).
fn unix_now() -> u64 {
    u64::try_from(crate::clock::now() / 1000).unwrap_or(0)
}

fn unavailable() -> Response {
    Error::ServiceUnavailable(UNAVAILABLE.into()).into_response()
}
