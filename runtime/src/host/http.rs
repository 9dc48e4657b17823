//! `sandstep:host/http`: outbound HTTP for modules, to the hosts their version was granted
//! (`http:<host>[:<port>]`), through the server's guarded client ([`crate::outbound`]):
//! every hop of a redirect is checked against the grant and the guards again, within the
//! task's deadline and a cap on the response.

use super::sandstep::host::http::{Host, Request, Response};
use super::{HostError, HostState};
use crate::outbound;
use std::time::Instant;

/// The largest response body a module reads, in bytes (its memory cap bounds it too).
pub const MAX_RESPONSE_BYTES: usize = 5 << 20;
/// The largest request body, in bytes.
pub const MAX_REQUEST_BYTES: usize = 5 << 20;

const METHODS: [&str; 7] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

impl Host for HostState {
    #[tracing::instrument(name = "host.http.send", level = "debug", skip_all,
        fields(tenant = %self.caller.tenant, execution = %self.caller.execution_arn))]
    fn send(&mut self, request: Request) -> wasmtime::Result<Result<Response, HostError>> {
        Ok(self.http_send(request))
    }
}

impl HostState {
    fn http_send(&mut self, request: Request) -> Result<Response, HostError> {
        let method = request.method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(HostError::InvalidInput(format!(
                "the method must be one of {}, not '{}'",
                METHODS.join(", "),
                request.method
            )));
        }
        if request.body.len() > MAX_REQUEST_BYTES {
            return Err(HostError::InvalidInput(format!(
                "the body is {} bytes; the limit is {MAX_REQUEST_BYTES}",
                request.body.len()
            )));
        }
        // Headers the transport sets itself are the host's, and credentials go only to
        // the first request's origin (not to a host a redirect names).
        let mut headers = Vec::new();
        let mut private = Vec::new();
        for (name, value) in request.headers {
            let lower = name.to_ascii_lowercase();
            if [
                "host",
                "content-length",
                "transfer-encoding",
                "connection",
                "te",
                "upgrade",
            ]
            .contains(&lower.as_str())
            {
                return Err(HostError::InvalidInput(format!(
                    "the header '{name}' is set by the host"
                )));
            }
            match ["authorization", "cookie", "proxy-authorization"].contains(&lower.as_str()) {
                true => private.push((name, value)),
                false => headers.push((name, value)),
            }
        }
        let url = url::Url::parse(&request.url)
            .map_err(|e| HostError::InvalidInput(format!("'{}' is not a URL: {e}", request.url)))?;
        let grants = self.module.grants.clone();
        let allowed = move |u: &url::Url| {
            let host = u.host_str().unwrap_or("");
            let port = u.port_or_known_default().unwrap_or(0);
            match grants.allows_http(host, port) {
                true => Ok(()),
                false => Err(format!("http:{host}:{port} (not granted to this module)")),
            }
        };
        // Refused before anything is resolved when the first URL is not granted.
        if let Err(denied) = allowed(&url) {
            return Err(HostError::AccessDenied(denied));
        }
        let Some(client) = &self.outbound else {
            return Err(HostError::Unavailable(
                "outbound HTTP is not available here (only on a server)".into(),
            ));
        };
        let budget = self.watch.remaining(Instant::now());
        let sent = client.send_capped(
            &self.caller.tenant.0,
            outbound::Request {
                method,
                url,
                headers,
                private_headers: private,
                body: request.body,
            },
            &allowed,
            Some(budget),
            MAX_RESPONSE_BYTES,
        );
        match sent {
            Ok(r) => Ok(Response {
                status: r.status,
                headers: r.headers,
                body: r.body,
            }),
            Err(e) => Err(host_error(e)),
        }
    }
}

/// What the guest sees of an outbound failure.
fn host_error(e: outbound::Error) -> HostError {
    use outbound::Error as E;
    let text = e.to_string();
    match e {
        E::Refused { .. } | E::NotAllowed(_) => HostError::AccessDenied(text),
        E::BadUrl(_) | E::BadHeader(_) => HostError::InvalidInput(text),
        E::TooLarge(_) | E::Busy(_) => HostError::LimitExceeded(text),
        E::Timeout(_) | E::Transport(_) | E::TooManyRedirects(_) => HostError::Unavailable(text),
    }
}
