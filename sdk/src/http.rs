//! Outbound HTTP to the hosts the module was granted (`http:<host>[:<port>]`), through the
//! server's guards (no loopback, private or metadata address unless the operator allows
//! it; redirects checked again; the task's deadline).
//!
//! ```no_run
//! # fn main() -> Result<(), sandstep_sdk::HostError> {
//! use sandstep_sdk::{http, json};
//! let weather = http::get("https://api.example.com/weather?city=Lyon")?;
//! let created = http::post_json("https://api.example.com/orders", &json!({"sku": "pen"}))?;
//! if created.status == 201 {
//!     let order = created.json()?;
//!     # let _ = (order, weather);
//! }
//! # Ok(())
//! # }
//! ```

use crate::bindings::sandstep::host::http as wit;
use crate::{HostError, Value};

/// A response: any status (a 404 is an answer, not an error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names and values, in order (a name may repeat).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    ///
    /// # Errors
    /// [`HostError::InvalidJson`] when it is not.
    pub fn json(&self) -> Result<Value, HostError> {
        serde_json::from_slice(&self.body).map_err(|e| HostError::InvalidJson(e.to_string()))
    }

    /// Whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends `method` to `url` with `headers` and `body`.
///
/// # Errors
/// [`HostError::AccessDenied`] for a host not granted or an address the guards refuse,
/// [`HostError::InvalidInput`] for a bad method or URL, [`HostError::LimitExceeded`] for a
/// response over the cap or too many requests at once, [`HostError::Unavailable`] for a
/// network failure or the deadline.
pub fn send(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Response, HostError> {
    let request = wit::Request {
        method: method.to_string(),
        url: url.to_string(),
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_string(), (*v).to_string()))
            .collect(),
        body: body.to_vec(),
    };
    let r = wit::send(&request)?;
    Ok(Response {
        status: r.status,
        headers: r.headers,
        body: r.body,
    })
}

/// `GET url`.
///
/// # Errors
/// As [`send`].
pub fn get(url: &str) -> Result<Response, HostError> {
    send("GET", url, &[("accept", "application/json")], &[])
}

/// `POST url` with `body` as JSON.
///
/// # Errors
/// As [`send`].
pub fn post_json(url: &str, body: &Value) -> Result<Response, HostError> {
    send(
        "POST",
        url,
        &[
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ],
        body.to_string().as_bytes(),
    )
}
