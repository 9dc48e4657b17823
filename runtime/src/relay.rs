//! A standby's relay: while another server holds the PostgreSQL store's lease, this one
//! still answers on its address by passing each connection, byte for byte, to the
//! holder's. A client or a load balancer may therefore send any call to any server.
//!
//! The relay works on TCP, not HTTP: requests are not read, so SigV4 signatures (over the
//! `Host` header the client sent), streamed bodies and long polls all go through unchanged.
//! What it cannot pass on is who the caller is: the holder sees the relay as the peer. A
//! relay that reaches the holder over loopback therefore refuses callers that are not on
//! loopback themselves, so no one gains a loopback caller's rights by going through it.
//!
//! When no server holds the lease (a takeover under way) or the holder cannot be reached,
//! a connection waits for the next holder, up to a patience of about a lease's length, so
//! a failover looks to callers like a slow answer; past it they get `503
//! ServiceUnavailable`, which the AWS SDKs retry. Once this server takes the lease, the
//! connections it is still relaying to itself wait until it serves.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Who holds the lease now: the holder's owner name and address, `None` when no one does.
pub type Lookup = Arc<dyn Fn() -> Result<Option<Holder>, String> + Send + Sync>;

/// The lease's holder as the relay needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Its owner name (this server's own once it takes the lease).
    pub owner: String,
    /// Where it answers (`host:port`).
    pub address: String,
}

/// The holder last looked up, and when: shared by the connections.
type Cache = Arc<Mutex<Option<(Instant, Option<Holder>)>>>;

/// How long a looked-up holder is used before asking the database again.
const FRESH: Duration = Duration::from_millis(250);
/// How long one attempt to connect to the holder may take.
const CONNECT: Duration = Duration::from_secs(2);
/// How often a waiting connection looks for a holder again.
const AGAIN: Duration = Duration::from_millis(100);

/// Relays the connections `listener` accepts until `stop` turns true, then answers the
/// listener for this server to serve on. `me` is this server's owner name and address;
/// connections found to be for it wait until the relay has stopped, then go to `local`. A
/// connection waits up to `patience` for a holder that answers.
pub async fn relay_until(
    listener: TcpListener,
    me: Holder,
    local: SocketAddr,
    lookup: Lookup,
    patience: Duration,
    mut stop: watch::Receiver<bool>,
) -> TcpListener {
    let (serving, _) = watch::channel(false);
    let serving = Arc::new(serving);
    let cache: Cache = Arc::new(Mutex::new(None));
    loop {
        let accepted = tokio::select! {
            _ = stop.wait_for(|s| *s) => break,
            accepted = listener.accept() => accepted,
        };
        let Ok((client, peer)) = accepted else {
            // A transient accept failure (out of descriptors): try again shortly.
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        };
        let route = Route {
            me: me.clone(),
            local,
            lookup: Arc::clone(&lookup),
            patience,
            cache: Arc::clone(&cache),
            serving: serving.subscribe(),
        };
        tokio::spawn(route.pass(client, peer));
    }
    serving.send_replace(true);
    listener
}

/// One accepted connection's way to the holder.
struct Route {
    me: Holder,
    local: SocketAddr,
    lookup: Lookup,
    patience: Duration,
    cache: Cache,
    serving: watch::Receiver<bool>,
}

impl Route {
    async fn pass(mut self, mut client: TcpStream, peer: SocketAddr) {
        let mut upstream = match self.connect().await {
            Ok(upstream) => upstream,
            Err(why) => return refuse(client, 503, "ServiceUnavailable", &why).await,
        };
        if through_loopback(&upstream) && !peer.ip().is_loopback() {
            return refuse(
                client,
                403,
                "AccessDeniedException",
                "This server relays calls to the active server over loopback, which it does \
                 only for callers on loopback: call the active server directly",
            )
            .await;
        }
        let _ = upstream.set_nodelay(true);
        let _ = client.set_nodelay(true);
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
    }

    /// A connection to the holder, waiting up to the patience for one that answers; or
    /// what to tell the caller.
    async fn connect(&mut self) -> Result<TcpStream, String> {
        let deadline = Instant::now() + self.patience;
        loop {
            let why = match self.holder().await {
                Ok(Some(holder)) if holder.owner == self.me.owner => {
                    // This server took the lease and is about to serve: wait for it.
                    let _ = self.serving.wait_for(|s| *s).await;
                    match TcpStream::connect(self.local).await {
                        Ok(upstream) => return Ok(upstream),
                        Err(e) => format!("This server does not answer: {e}"),
                    }
                }
                // An earlier process on this server's own address, which is gone (this one
                // listens there now): its lease has yet to lapse.
                Ok(Some(holder)) if holder.address == self.me.address => {
                    "The server holding the store's lease is gone; its lease has yet to \
                     lapse. Retry shortly."
                        .to_string()
                }
                Ok(Some(holder)) => {
                    let connecting = TcpStream::connect(&holder.address);
                    match tokio::time::timeout(CONNECT, connecting).await {
                        Ok(Ok(upstream)) => return Ok(upstream),
                        _ => "The server holding the store's lease does not answer. Retry \
                              shortly."
                            .to_string(),
                    }
                }
                Ok(None) => "No server holds the store's lease: a takeover is under way. \
                             Retry shortly."
                    .to_string(),
                Err(e) => {
                    // The detail may name the database: it goes to the log only.
                    tracing::warn!(error = %e, "relay: looking up the lease's holder failed");
                    crate::api::error::UNAVAILABLE.to_string()
                }
            };
            if Instant::now() + AGAIN > deadline {
                return Err(why);
            }
            tokio::time::sleep(AGAIN).await;
        }
    }

    /// The holder, looked up at most every [`FRESH`].
    async fn holder(&self) -> Result<Option<Holder>, String> {
        if let Ok(cached) = self.cache.lock() {
            if let Some((at, holder)) = cached.as_ref() {
                if at.elapsed() < FRESH {
                    return Ok(holder.clone());
                }
            }
        }
        let lookup = Arc::clone(&self.lookup);
        let holder = tokio::task::spawn_blocking(move || lookup())
            .await
            .map_err(|e| e.to_string())??;
        if let Ok(mut cached) = self.cache.lock() {
            *cached = Some((Instant::now(), holder.clone()));
        }
        Ok(holder)
    }
}

/// Whether a connection to the holder leaves from a loopback address.
fn through_loopback(upstream: &TcpStream) -> bool {
    upstream
        .local_addr()
        .map(|a| a.ip())
        .is_ok_and(|ip: IpAddr| ip.is_loopback())
}

/// Answers the caller with an AWS-shaped error and closes. The request is read first
/// (what has arrived of it), so closing does not reset the connection under the answer.
async fn refuse(mut client: TcpStream, status: u16, kind: &str, message: &str) {
    let mut request = vec![0u8; 64 << 10];
    let _ = tokio::time::timeout(Duration::from_millis(500), client.read(&mut request)).await;
    let body = serde_json::json!({"__type": kind, "message": message}).to_string();
    let reason = if status == 503 {
        "Service Unavailable"
    } else {
        "Forbidden"
    };
    let answer = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/x-amz-json-1.0\r\n\
         x-amzn-errortype: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = client.write_all(answer.as_bytes()).await;
    let _ = client.shutdown().await;
    // Drain what else the caller sends until it closes, briefly.
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while matches!(client.read(&mut request).await, Ok(n) if n > 0) {}
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-answer HTTP server: reads a request, answers `name`.
    async fn upstream(name: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    let answer = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{name}",
                        name.len()
                    );
                    let _ = s.write_all(answer.as_bytes()).await;
                });
            }
        });
        address
    }

    async fn get(address: SocketAddr) -> String {
        let mut s = TcpStream::connect(address).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    fn holder(found: Arc<Mutex<Option<Holder>>>) -> Lookup {
        Arc::new(move || Ok(found.lock().unwrap().clone()))
    }

    #[tokio::test]
    async fn calls_go_to_the_holder_and_to_this_server_once_it_serves() {
        let other = upstream("other").await;
        let found = Arc::new(Mutex::new(Some(Holder {
            owner: "other".into(),
            address: other.to_string(),
        })));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = watch::channel(false);
        let relay = tokio::spawn(relay_until(
            listener,
            Holder {
                owner: "me".into(),
                address: address.to_string(),
            },
            address,
            holder(Arc::clone(&found)),
            Duration::from_millis(300),
            stopped,
        ));
        assert!(get(address).await.ends_with("other"));

        // No holder: the caller is told to retry, in AWS's shape.
        *found.lock().unwrap() = None;
        tokio::time::sleep(FRESH).await;
        let refused = get(address).await;
        assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
        assert!(
            refused.contains(r#""__type":"ServiceUnavailable""#),
            "{refused}"
        );

        // This server takes the lease: a call that arrives before it serves waits for it.
        *found.lock().unwrap() = Some(Holder {
            owner: "me".into(),
            address: address.to_string(),
        });
        tokio::time::sleep(FRESH).await;
        let waiting = tokio::spawn(get(address));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!waiting.is_finished(), "answered before this server serves");
        stop.send_replace(true);
        let listener = relay.await.unwrap();
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 4096];
        let _ = s.read(&mut buf).await.unwrap();
        s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nme")
            .await
            .unwrap();
        drop(s);
        assert!(waiting.await.unwrap().ends_with("me"));
    }

    #[tokio::test]
    async fn a_holder_that_does_not_answer_is_a_503() {
        let gone = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = gone.local_addr().unwrap();
        drop(gone);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let here = listener.local_addr().unwrap();
        let (_stop, stopped) = watch::channel(false);
        let found = Arc::new(Mutex::new(Some(Holder {
            owner: "dead".into(),
            address: address.to_string(),
        })));
        tokio::spawn(relay_until(
            listener,
            Holder {
                owner: "me".into(),
                address: here.to_string(),
            },
            here,
            holder(Arc::clone(&found)),
            Duration::from_millis(300),
            stopped,
        ));
        let refused = get(here).await;
        assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
        assert!(refused.contains("does not answer"), "{refused}");

        // The holder is an earlier process on this server's own address (restarted on
        // its port): never a relay to itself.
        *found.lock().unwrap() = Some(Holder {
            owner: "earlier".into(),
            address: here.to_string(),
        });
        tokio::time::sleep(FRESH).await;
        let refused = get(here).await;
        assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
        assert!(refused.contains("is gone"), "{refused}");
    }
}
