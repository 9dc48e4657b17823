//! Passing a call on to the server that runs its tenant, and vouching for its caller.
//!
//! The call goes on as HTTP/1.1 with its method, path, headers and body unchanged, so a
//! SigV4 signature (over the `Host` header the client sent) still verifies there, and
//! bodies and answers stream both ways (S3 objects, long polls). The one header added,
//! [`VOUCH`], tells the other server who the caller is (its address decides loopback
//! rights and rate limits) and how many servers the call went through; it is signed with
//! the key the servers share in their database, so a caller cannot forge it, and a
//! server drops one that does not verify.

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response};
use hmac::{Hmac, Mac as _};
use std::net::SocketAddr;
use std::time::Duration;

/// The header a server vouches for a caller with: `<caller address>;<hops>;<tenant, hex>;
/// <expiry, unix seconds>;<signature>`. The signature also covers the call's method and
/// target, so a vouch seen on the wire serves no other call, and none after its expiry.
pub const VOUCH: &str = "x-sandstep-vouch";

/// How many servers a call may pass through (a partition that moved while it travelled).
pub const MAX_HOPS: u32 = 3;

/// How long a vouch is good for (the servers' clocks must agree within it).
const VOUCH_SECONDS: u64 = 30;

/// How long connecting to the other server may take.
const CONNECT: Duration = Duration::from_secs(2);

/// Why a call could not be passed on.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The server could not be reached: nothing was sent, the call may go elsewhere.
    #[error("cannot reach {0}: {1}")]
    Unreached(String, String),
    /// The call was sent but its answer did not come back whole.
    #[error("the call to {0} failed: {1}")]
    Broken(String, String),
}

/// The caller a verified [`VOUCH`] names, and the servers the call went through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vouched {
    /// The caller's address, as the first server saw it.
    pub caller: SocketAddr,
    /// How many servers passed the call on.
    pub hops: u32,
    /// The tenant the sending server took the call to be for: a server that reads it
    /// otherwise has not yet seen that tenant (created through another server).
    pub tenant: String,
}

/// What a vouch is for: the call's method and target.
#[derive(Debug, Clone, Copy)]
pub struct For<'a> {
    /// The method.
    pub method: &'a str,
    /// The path and query.
    pub target: &'a str,
}

fn signature(secret: &[u8], head: &str, call: For<'_>) -> String {
    mac(
        secret,
        format!("{head};{};{}", call.method, call.target).as_bytes(),
    )
}

/// The HMAC-SHA256 of `message` under the servers' shared key, in hex: what every
/// message between servers is signed with.
pub fn mac(secret: &[u8], message: &[u8]) -> String {
    // HMAC takes a key of any length: this cannot fail.
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(message);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `given` is `expected` (a signature), compared in constant time; an empty
/// `expected` (no key) never matches.
pub fn same_signature(given: &str, expected: &str) -> bool {
    !expected.is_empty()
        && given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// The [`VOUCH`] value for `caller`, passed on for the `hops`th time as `tenant`'s `call`,
/// good until `now` (unix seconds) + [`VOUCH_SECONDS`].
pub fn vouch(
    secret: &[u8],
    caller: SocketAddr,
    hops: u32,
    tenant: &str,
    call: For<'_>,
    now: u64,
) -> String {
    let tenant = crate::store::data::hex(tenant.as_bytes());
    let head = format!("{caller};{hops};{tenant};{}", now + VOUCH_SECONDS);
    format!("{head};{}", signature(secret, &head, call))
}

/// What a [`VOUCH`] value says about `call` at `now` (unix seconds), if its signature holds
/// for that call and it has not expired.
pub fn verify(secret: &[u8], value: &str, call: For<'_>, now: u64) -> Option<Vouched> {
    let (head, given) = value.rsplit_once(';')?;
    let mut fields = head.split(';');
    let caller: SocketAddr = fields.next()?.parse().ok()?;
    let hops: u32 = fields.next()?.parse().ok()?;
    let tenant_hex = fields.next()?;
    let expires: u64 = fields.next()?.parse().ok()?;
    if fields.next().is_some() || expires < now || expires > now + 2 * VOUCH_SECONDS {
        return None;
    }
    if !same_signature(given, &signature(secret, head, call)) {
        return None;
    }
    let tenant = crate::store::data::unhex_text(tenant_hex)?;
    Some(Vouched {
        caller,
        hops,
        tenant,
    })
}

/// Sends `request` to the server at `address` with the vouch `vouched`, and answers its
/// response, streaming.
///
/// # Errors
/// [`SendError::Unreached`] when nothing was sent (the request is handed back to try
/// elsewhere), [`SendError::Broken`] after.
pub async fn send(
    address: &str,
    mut request: Request<Body>,
    vouched: &str,
) -> Result<Response<Body>, (SendError, Option<Request<Body>>)> {
    match HeaderValue::from_str(vouched) {
        Ok(value) => {
            request.headers_mut().insert(VOUCH, value);
        }
        Err(e) => return Err((SendError::Broken(address.into(), e.to_string()), None)),
    }
    send_as_is(address, request).await
}

/// Sends `request` to the server at `address` as it is, and answers its response,
/// streaming: the one HTTP client between servers.
///
/// # Errors
/// As [`send`].
pub async fn send_as_is(
    address: &str,
    request: Request<Body>,
) -> Result<Response<Body>, (SendError, Option<Request<Body>>)> {
    let connected = tokio::time::timeout(CONNECT, tokio::net::TcpStream::connect(address)).await;
    let stream = match connected {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            return Err((
                SendError::Unreached(address.into(), e.to_string()),
                Some(request),
            ))
        }
        Err(_) => {
            return Err((
                SendError::Unreached(address.into(), "timed out".into()),
                Some(request),
            ))
        }
    };
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) =
        match hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await {
            Ok(pair) => pair,
            Err(e) => {
                return Err((
                    SendError::Unreached(address.into(), e.to_string()),
                    Some(request),
                ))
            }
        };
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "a passed-on call's connection ended");
        }
    });
    match sender.send_request(request).await {
        Ok(response) => Ok(response.map(Body::new)),
        Err(e) => Err((SendError::Broken(address.into(), e.to_string()), None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vouch_holds_only_with_the_shared_key_for_its_call_until_it_expires() {
        let caller: SocketAddr = "10.1.2.3:4567".parse().unwrap();
        let call = For {
            method: "POST",
            target: "/",
        };
        let value = vouch(b"key", caller, 1, "acme", call, 1_000);
        let vouched = Vouched {
            caller,
            hops: 1,
            tenant: "acme".into(),
        };
        assert_eq!(verify(b"key", &value, call, 1_000), Some(vouched.clone()));
        assert_eq!(verify(b"key", &value, call, 1_030), Some(vouched));
        assert_eq!(verify(b"key", &value, call, 1_031), None, "expired");
        assert_eq!(verify(b"other key", &value, call, 1_000), None);
        let elsewhere = For {
            method: "GET",
            target: "/metrics",
        };
        assert_eq!(
            verify(b"key", &value, elsewhere, 1_000),
            None,
            "another call"
        );
        let forged = value.replacen("10.1.2.3", "127.0.0.1", 1);
        assert_eq!(verify(b"key", &forged, call, 1_000), None, "another caller");
        let more = value.replacen(";1;", ";0;", 1);
        assert_eq!(verify(b"key", &more, call, 1_000), None, "fewer hops");
        let other = value.replacen(
            &crate::store::data::hex(b"acme"),
            &crate::store::data::hex(b"evil"),
            1,
        );
        assert_eq!(verify(b"key", &other, call, 1_000), None, "another tenant");
        let later = value.replacen(";1030;", ";9999;", 1);
        assert_eq!(verify(b"key", &later, call, 1_000), None, "a later expiry");
        assert_eq!(verify(b"key", "127.0.0.1:1;0", call, 1_000), None);
        assert_eq!(verify(b"key", "garbage", call, 1_000), None);
    }
}
