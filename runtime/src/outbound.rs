//! Outbound HTTP: the one client through which workflows reach the network (HTTP Tasks,
//! `arn:aws:states:::http:invoke`). Every request goes through the same guards, which no
//! connection can lift: only `http` and `https`; each hop's address resolved once and
//! checked by [`guard::Guard`] (no loopback, private, link-local or metadata address unless
//! the operator allows it), and the connection made to exactly that address, so a DNS
//! answer that changes cannot slip past; redirects followed here, each one checked again
//! (the caller's allow-list and the guard); a deadline over the whole exchange; a cap on
//! the response's size; and a cap on each tenant's requests in flight.

pub mod guard;

use std::collections::HashMap;
use std::io::Read as _;
use std::net::{SocketAddr, ToSocketAddrs as _};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// Where the guard's refusal is told apart from other resolver errors.
const REFUSED_MARK: &str = "refused by the outbound guard: ";

/// Settings of the outbound client.
#[derive(Debug, Clone)]
pub struct Options {
    /// What may be reached beyond public addresses.
    pub guard: guard::Guard,
    /// The longest one exchange (every hop of it) may take.
    pub timeout: Duration,
    /// The largest response body read.
    pub max_response_bytes: usize,
    /// Redirects followed at most.
    pub max_redirects: u32,
    /// Requests one tenant may have in flight at once.
    pub per_tenant: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            guard: guard::Guard::default(),
            timeout: Duration::from_secs(60),
            max_response_bytes: 256 * 1024,
            max_redirects: 5,
            per_tenant: 16,
        }
    }
}

/// A request.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// Where.
    pub url: Url,
    /// Its headers, in order.
    pub headers: Vec<(String, String)>,
    /// Headers sent only to the first request's origin (credentials): a redirect to
    /// another scheme, host or port drops them.
    pub private_headers: Vec<(String, String)>,
    /// Its body (none when empty).
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the credentials.
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url.as_str())
            .field("headers", &self.headers)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// Whether `name` is an HTTP header name (RFC 9110's token).
pub fn valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `value` may be a header's value: visible ASCII, spaces and tabs.
pub fn valid_header_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
}

/// A response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub status_text: String,
    /// Its headers, in order (a name may repeat).
    pub headers: Vec<(String, String)>,
    /// Its body.
    pub body: Vec<u8>,
}

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The host resolves only to addresses the guard refuses.
    #[error("{host} resolves to {why}, which Sandstep does not call (the operator may allow it with outbound_allow)")]
    Refused {
        /// The host.
        host: String,
        /// Why.
        why: &'static str,
    },
    /// The caller does not allow the URL (a connection's base URLs, a module's grant).
    #[error("{0}")]
    NotAllowed(String),
    /// Not `http` or `https`, or no host.
    #[error("{0} is not an http or https URL")]
    BadUrl(String),
    /// A header that is not valid HTTP (the text names it, never its value).
    #[error("{0}")]
    BadHeader(String),
    /// The deadline passed.
    #[error("the request timed out after {0:?}")]
    Timeout(Duration),
    /// The response is larger than the cap.
    #[error("the response is larger than {0} bytes")]
    TooLarge(usize),
    /// Too many requests of the tenant are in flight until the deadline.
    #[error("too many outbound requests of the tenant at once ({0})")]
    Busy(usize),
    /// More redirects than allowed.
    #[error("more than {0} redirects")]
    TooManyRedirects(u32),
    /// The network said no.
    #[error("{0}")]
    Transport(String),
}

/// The outbound client: one per server, shared by every tenant.
#[derive(Clone)]
pub struct Outbound {
    agent: ureq::Agent,
    opts: Arc<Options>,
    slots: Arc<Slots>,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("opts", &self.opts)
            .finish()
    }
}

impl Outbound {
    /// A client with `opts`.
    pub fn new(opts: Options) -> Outbound {
        let guard = opts.guard.clone();
        let agent = ureq::AgentBuilder::new()
            // A proxy from the environment would be connected to instead of the checked
            // addresses: never, whatever features another crate turns on.
            .try_proxy_from_env(false)
            .redirects(0)
            .resolver(move |netloc: &str| resolve(&guard, netloc))
            .user_agent("Sandstep")
            .build();
        Outbound {
            agent,
            opts: Arc::new(opts),
            slots: Arc::new(Slots::default()),
        }
    }

    /// Its settings.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Sends `request` for `tenant`, following redirects the caller's `allowed` accepts,
    /// within `budget` (and the client's own timeout). Blocking.
    ///
    /// # Errors
    /// [`Error`].
    pub fn send(
        &self,
        tenant: &str,
        request: Request,
        allowed: &dyn Fn(&Url) -> Result<(), String>,
        budget: Option<Duration>,
    ) -> Result<Response, Error> {
        self.send_capped(
            tenant,
            request,
            allowed,
            budget,
            self.opts.max_response_bytes,
        )
    }

    /// [`send`](Self::send) reading at most `max_bytes` of the response's body.
    ///
    /// # Errors
    /// [`Error`].
    pub fn send_capped(
        &self,
        tenant: &str,
        mut request: Request,
        allowed: &dyn Fn(&Url) -> Result<(), String>,
        budget: Option<Duration>,
        max_bytes: usize,
    ) -> Result<Response, Error> {
        let bad = request
            .headers
            .iter()
            .chain(&request.private_headers)
            .find(|(n, v)| !valid_header_name(n) || !valid_header_value(v));
        if let Some((name, _)) = bad {
            // The name alone: a value may be a credential.
            return Err(Error::BadHeader(format!(
                "the header '{}' is not valid HTTP (names are tokens; values visible ASCII)",
                name.chars().take(64).collect::<String>()
            )));
        }
        let limit = budget.map_or(self.opts.timeout, |b| b.min(self.opts.timeout));
        let deadline = Instant::now() + limit;
        let _slot = self
            .slots
            .take(tenant, self.opts.per_tenant, deadline)
            .ok_or(Error::Busy(self.opts.per_tenant))?;
        // Credentials go only to the first request's origin (scheme, host and port): not
        // to another host, nor over plain http after https.
        let first_origin = request.url.origin();
        let mut hops = 0;
        loop {
            check_url(&request.url)?;
            allowed(&request.url).map_err(Error::NotAllowed)?;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout(limit));
            }
            let mut call = self
                .agent
                .request_url(&request.method, &request.url)
                .timeout(left);
            for (name, value) in &request.headers {
                call = call.set(name, value);
            }
            if request.url.origin() == first_origin {
                for (name, value) in &request.private_headers {
                    call = call.set(name, value);
                }
            }
            let answer = match request.body.is_empty() {
                true => call.call(),
                false => call.send_bytes(&request.body),
            };
            let response = match answer {
                Ok(r) | Err(ureq::Error::Status(_, r)) => r,
                Err(ureq::Error::Transport(t)) => return Err(transport(&t, limit)),
            };
            let status = response.status();
            let location = response.header("location").map(str::to_string);
            if (300..400).contains(&status) && status != 304 {
                if let Some(location) = location {
                    hops += 1;
                    if hops > self.opts.max_redirects {
                        return Err(Error::TooManyRedirects(self.opts.max_redirects));
                    }
                    request.url = request
                        .url
                        .join(&location)
                        .map_err(|_| Error::BadUrl(location.clone()))?;
                    // 301, 302 and 303 turn into a GET without a body, as browsers do;
                    // 307 and 308 repeat the request.
                    if matches!(status, 301..=303) && request.method != "HEAD" {
                        request.method = "GET".into();
                        request.body.clear();
                    }
                    continue;
                }
            }
            return read(response, max_bytes, limit);
        }
    }
}

/// Only `http` and `https` with a host.
fn check_url(url: &Url) -> Result<(), Error> {
    match (url.scheme(), url.host_str()) {
        ("http" | "https", Some(host)) if !host.is_empty() => Ok(()),
        _ => Err(Error::BadUrl(url.to_string())),
    }
}

/// Resolves `netloc` (`host:port`) and keeps the addresses the guard allows; an error
/// when it allows none.
fn resolve(guard: &guard::Guard, netloc: &str) -> std::io::Result<Vec<SocketAddr>> {
    let found: Vec<SocketAddr> = match std::env::var(TEST_HOSTS) {
        Ok(file) => match test_hosts(&file, netloc)? {
            Some(found) => found,
            None => netloc.to_socket_addrs()?.collect(),
        },
        Err(_) => netloc.to_socket_addrs()?.collect(),
    };
    let mut refused = None;
    let allowed: Vec<SocketAddr> = found
        .into_iter()
        .filter(|a| match guard.check(a.ip()) {
            Ok(()) => true,
            Err(why) => {
                refused = Some(why);
                false
            }
        })
        .collect();
    match (allowed.is_empty(), refused) {
        (true, Some(why)) => Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!("{REFUSED_MARK}{}", why.as_str()),
        )),
        _ => Ok(allowed),
    }
}

/// A test hook: a file of `name address...` lines, read again at every resolution, that
/// answers for the names it lists instead of DNS, so that a test can change a name's
/// answer between two requests (DNS rebinding).
pub const TEST_HOSTS: &str = "SANDSTEP_TEST_HOSTS";

/// The addresses `file` gives the host of `netloc`, if it lists it.
fn test_hosts(file: &str, netloc: &str) -> std::io::Result<Option<Vec<SocketAddr>>> {
    let Some((host, port)) = netloc.rsplit_once(':') else {
        return Ok(None);
    };
    let port: u16 = port.parse().unwrap_or(0);
    let text = std::fs::read_to_string(file)?;
    Ok(text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next()? == host.to_ascii_lowercase()).then(|| {
            words
                .filter_map(|ip| ip.parse::<std::net::IpAddr>().ok())
                .map(|ip| SocketAddr::new(ip, port))
                .collect()
        })
    }))
}

/// The error a transport failure makes.
fn transport(t: &ureq::Transport, limit: Duration) -> Error {
    let text = t.to_string();
    if let Some(at) = text.find(REFUSED_MARK) {
        let why = text.get(at + REFUSED_MARK.len()..).unwrap_or("");
        let why = [
            guard::Refused::Loopback,
            guard::Refused::Private,
            guard::Refused::LinkLocal,
            guard::Refused::Metadata,
            guard::Refused::Special,
        ]
        .into_iter()
        .map(guard::Refused::as_str)
        .find(|w| why.starts_with(w))
        .unwrap_or("a refused address");
        let host = t
            .url()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        return Error::Refused { host, why };
    }
    if t.kind() == ureq::ErrorKind::BadHeader {
        // Its text quotes the header, value and all: a credential, maybe.
        return Error::BadHeader("a header is not valid HTTP".into());
    }
    let timed_out = text.contains("timed out") || text.contains("Timeout");
    match timed_out {
        true => Error::Timeout(limit),
        false => Error::Transport(text),
    }
}

/// Reads a response's head and at most `cap` bytes of its body.
fn read(response: ureq::Response, cap: usize, limit: Duration) -> Result<Response, Error> {
    let status = response.status();
    let status_text = response.status_text().to_string();
    let mut headers = Vec::new();
    let mut names = response.headers_names();
    // One entry per header line: a repeated name once, its values all.
    names.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let mut seen = std::collections::HashSet::new();
    for name in names {
        if !seen.insert(name.to_ascii_lowercase()) {
            continue;
        }
        for value in response.all(&name) {
            headers.push((name.clone(), value.to_string()));
        }
    }
    let mut body = Vec::new();
    let cap64 = u64::try_from(cap).unwrap_or(u64::MAX);
    response
        .into_reader()
        .take(cap64.saturating_add(1))
        .read_to_end(&mut body)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => Error::Timeout(limit),
            _ => Error::Transport(e.to_string()),
        })?;
    if body.len() > cap {
        return Err(Error::TooLarge(cap));
    }
    Ok(Response {
        status,
        status_text,
        headers,
        body,
    })
}

/// Requests in flight per tenant.
#[derive(Debug, Default)]
struct Slots {
    taken: Mutex<HashMap<String, usize>>,
    freed: Condvar,
}

/// A request's place among its tenant's; given back when dropped.
struct Slot<'a> {
    slots: &'a Slots,
    tenant: String,
}

impl Slots {
    /// Waits until the tenant has fewer than `cap` requests in flight, until `deadline`.
    fn take(&self, tenant: &str, cap: usize, deadline: Instant) -> Option<Slot<'_>> {
        let mut taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let now = taken.get(tenant).copied().unwrap_or(0);
            if now < cap {
                taken.insert(tenant.to_string(), now + 1);
                return Some(Slot {
                    slots: self,
                    tenant: tenant.to_string(),
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            taken = self
                .freed
                .wait_timeout(taken, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut taken = self.slots.taken.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = taken.get_mut(&self.tenant) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                taken.remove(&self.tenant);
            }
        }
        self.slots.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;
    use std::net::TcpListener;

    /// A one-shot server on loopback answering each connection with the next of
    /// `answers`; the requests it saw.
    fn serve(answers: Vec<String>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for answer in answers {
                let (mut stream, _) = listener.accept().unwrap();
                let mut buf = [0u8; 8192];
                let n = stream.read(&mut buf).unwrap();
                seen.push(String::from_utf8_lossy(buf.get(..n).unwrap_or_default()).to_string());
                stream.write_all(answer.as_bytes()).unwrap();
            }
            seen
        });
        (url, handle)
    }

    fn loopback_allowed() -> Outbound {
        Outbound::new(Options {
            guard: guard::Guard::new(["127.0.0.1/32"]).unwrap(),
            ..Options::default()
        })
    }

    fn get(url: &str) -> Request {
        Request {
            method: "GET".into(),
            url: Url::parse(url).unwrap(),
            headers: vec![("accept".into(), "application/json".into())],
            private_headers: vec![("x-api-key".into(), "k".into())],
            body: Vec::new(),
        }
    }

    fn anything(_: &Url) -> Result<(), String> {
        Ok(())
    }

    #[test]
    fn loopback_is_refused_unless_the_operator_allows_it() {
        let refused = Outbound::new(Options::default())
            .send("t", get("http://127.0.0.1:9/x"), &anything, None)
            .unwrap_err();
        assert_eq!(
            refused,
            Error::Refused {
                host: "127.0.0.1".into(),
                why: "a loopback address"
            }
        );
        let (url, server) = serve(vec![
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
                .into(),
        ]);
        let ok = loopback_allowed()
            .send("t", get(&format!("{url}/x")), &anything, None)
            .unwrap();
        assert_eq!((ok.status, ok.body.as_slice()), (200, b"{}".as_slice()));
        let seen = server.join().unwrap();
        assert!(seen[0].starts_with("GET /x HTTP/1.1"), "{seen:?}");
        assert!(seen[0].to_lowercase().contains("x-api-key: k"));
    }

    #[test]
    fn redirects_are_checked_again_and_credentials_stay_with_their_host() {
        // To an address the guard refuses.
        let (url, server) = serve(vec![
            "HTTP/1.1 302 Found\r\nlocation: http://169.254.169.254/latest/meta-data\r\ncontent-length: 0\r\n\r\n".into(),
        ]);
        let e = loopback_allowed()
            .send("t", get(&url), &anything, None)
            .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Refused {
                    why: "a cloud metadata address",
                    ..
                }
            ),
            "{e:?}"
        );
        server.join().unwrap();
        // To a URL the caller does not allow.
        let (url, server) = serve(vec![
            "HTTP/1.1 301 Moved\r\nlocation: /elsewhere\r\ncontent-length: 0\r\n\r\n".into(),
        ]);
        let only_root = |u: &Url| match u.path() {
            "/" => Ok(()),
            other => Err(format!("{other} is not allowed")),
        };
        let e = loopback_allowed()
            .send("t", get(&url), &only_root, None)
            .unwrap_err();
        assert_eq!(e, Error::NotAllowed("/elsewhere is not allowed".into()));
        server.join().unwrap();
    }

    #[test]
    fn credentials_stay_with_their_origin_across_redirects() {
        let (other, second) = serve(vec!["HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".into()]);
        let (url, first) = serve(vec![format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {other}/next\r\ncontent-length: 0\r\n\r\n"
        )]);
        let ok = loopback_allowed()
            .send("t", get(&url), &anything, None)
            .unwrap();
        assert_eq!(ok.body, b"ok");
        assert!(first.join().unwrap()[0]
            .to_lowercase()
            .contains("x-api-key: k"));
        let seen = second.join().unwrap();
        assert!(seen[0].starts_with("GET /next"), "{seen:?}");
        assert!(
            !seen[0].to_lowercase().contains("x-api-key"),
            "another port is another origin"
        );
    }

    #[test]
    fn large_responses_and_slow_servers_end_the_exchange() {
        let body = "x".repeat(100);
        let (url, server) = serve(vec![format!(
            "HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{body}"
        )]);
        let small = Outbound::new(Options {
            guard: guard::Guard::new(["127.0.0.1"]).unwrap(),
            max_response_bytes: 10,
            ..Options::default()
        });
        assert_eq!(
            small.send("t", get(&url), &anything, None).unwrap_err(),
            Error::TooLarge(10)
        );
        server.join().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let e = loopback_allowed()
            .send("t", get(&url), &anything, Some(Duration::from_millis(200)))
            .unwrap_err();
        assert!(matches!(e, Error::Timeout(_)), "{e:?}");
        drop(listener);
    }

    #[test]
    fn a_tenant_has_a_cap_on_requests_in_flight() {
        let slots = Slots::default();
        let soon = Instant::now() + Duration::from_millis(50);
        let a = slots.take("t", 1, soon).unwrap();
        assert!(
            slots.take("t", 1, soon).is_none(),
            "full until the deadline"
        );
        assert!(slots.take("u", 1, soon).is_some(), "per tenant");
        drop(a);
        assert!(slots.take("t", 1, Instant::now()).is_some());
    }
}
