//! HTTP Tasks (`arn:aws:states:::http:invoke`), as AWS runs them: `ApiEndpoint`, `Method`,
//! `Headers`, `QueryParameters`, `RequestBody`, `Transform` (`RequestBodyEncoding`
//! `URL_ENCODED`, `RequestEncodingOptions.ArrayFormat`), and `Authentication.ConnectionArn`,
//! which names a connection of the tenant: the base URLs the request may go to (a redirect
//! too) and its credentials (an API key header, basic, or an OAuth client-credentials token,
//! cached until it expires). The result is `{"Headers", "ResponseBody", "StatusCode",
//! "StatusText"}`; a status outside 2xx fails the task with `States.Http.StatusCode.<code>`
//! and that result as the cause; a network failure or time-out with `States.Http.Socket`.
//!
//! The request goes through [`crate::outbound`], whose guards no connection lifts. The
//! secret is opened only here, to be sent: it is in no parameter, result, event or log.

use crate::outbound::{self, Outbound, Request};
use crate::secrets::SecretKey;
use crate::service::connections::{covers, name_in_arn, sealed_for};
use crate::store::connections::{Auth, Connection};
use crate::store::{Connections as _, Store, TenantId};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

/// The HTTP Task's resource.
pub const HTTP_INVOKE: &str = "arn:aws:states:::http:invoke";

/// Headers a definition may not set (AWS's list): the transport's own, and the credentials
/// the connection adds.
const FORBIDDEN_HEADERS: &[&str] = &[
    "a-im",
    "accept-charset",
    "accept-datetime",
    "accept-encoding",
    "authorization",
    "cache-control",
    "connection",
    "content-encoding",
    "content-md5",
    "date",
    "expect",
    "forwarded",
    "from",
    "host",
    "http2-settings",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "max-forwards",
    "origin",
    "pragma",
    "proxy-authorization",
    "referer",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
    "warning",
];

/// Whether `resource` is an HTTP Task.
pub fn is_invoke(resource: &str) -> bool {
    resource == HTTP_INVOKE
        || resource
            .strip_prefix("arn:aws-")
            .is_some_and(|rest| rest.ends_with(":states:::http:invoke"))
}

/// How an array is written in a URL-encoded body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArrayFormat {
    /// `a[0]=x&a[1]=y` (the default).
    Indices,
    /// `a=x&a=y`.
    Repeat,
    /// `a=x,y`.
    Commas,
    /// `a[]=x&a[]=y`.
    Brackets,
}

/// What the parameters ask for.
#[derive(Debug, Clone, PartialEq)]
struct Call {
    url: Url,
    method: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    connection: String,
}

/// A task failure: AWS's error name and a cause.
type Failure = (String, String);

fn runtime(cause: impl Into<String>) -> Failure {
    ("States.Runtime".to_string(), cause.into())
}

/// A scalar as text in a header, a query or a form.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

/// Reads the task's parameters.
fn call_of(parameters: &Value) -> Result<Call, Failure> {
    let field = |name: &str| parameters.get(name);
    let endpoint = field("ApiEndpoint")
        .and_then(Value::as_str)
        .ok_or_else(|| runtime("an HTTP Task needs Parameters.ApiEndpoint, a URL"))?;
    let mut url = Url::parse(endpoint)
        .map_err(|e| runtime(format!("ApiEndpoint '{endpoint}' is not a URL: {e}")))?;
    let method = field("Method")
        .and_then(Value::as_str)
        .filter(|m| ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"].contains(m))
        .ok_or_else(|| {
            runtime("Method must be one of GET, POST, PUT, DELETE, PATCH, OPTIONS, HEAD")
        })?
        .to_string();
    let connection = field("Authentication")
        .and_then(|a| a.get("ConnectionArn"))
        .and_then(Value::as_str)
        .ok_or_else(|| runtime("an HTTP Task needs Parameters.Authentication.ConnectionArn: the connection whose base URLs and credentials the request uses"))?
        .to_string();
    let mut headers = Vec::new();
    match field("Headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(given)) => {
            for (name, value) in given {
                let lower = name.to_ascii_lowercase();
                if FORBIDDEN_HEADERS.contains(&lower.as_str())
                    || ["x-forwarded-", "x-amz-", "x-amzn-"]
                        .iter()
                        .any(|p| lower.starts_with(p))
                {
                    return Err(runtime(format!(
                        "the header '{name}' cannot be set in an HTTP Task (the connection gives credentials)"
                    )));
                }
                let text = match value {
                    Value::Array(items) => items
                        .iter()
                        .map(scalar)
                        .collect::<Option<Vec<_>>>()
                        .map(|v| v.join(",")),
                    other => scalar(other),
                }
                .ok_or_else(|| runtime(format!("the header '{name}' must be a string")))?;
                headers.push((name.clone(), text));
            }
        }
        Some(_) => return Err(runtime("Headers must be an object")),
    }
    match field("QueryParameters") {
        None | Some(Value::Null) => {}
        Some(Value::Object(given)) => {
            let mut pairs = url.query_pairs_mut();
            for (name, value) in given {
                let values = match value {
                    Value::Array(items) => items.iter().map(scalar).collect::<Option<Vec<_>>>(),
                    other => scalar(other).map(|s| vec![s]),
                }
                .ok_or_else(|| runtime(format!("the query parameter '{name}' must be a string")))?;
                for v in values {
                    pairs.append_pair(name, &v);
                }
            }
        }
        Some(_) => return Err(runtime("QueryParameters must be an object")),
    }
    let (encoded, format) = transform(field("Transform"))?;
    let body = match field("RequestBody") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s.clone().into_bytes(),
        Some(value) if encoded => {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in flatten("", value, format) {
                form.append_pair(&k, &v);
            }
            set_default(
                &mut headers,
                "content-type",
                "application/x-www-form-urlencoded",
            );
            form.finish().into_bytes()
        }
        Some(value) => {
            set_default(
                &mut headers,
                "content-type",
                "application/json; charset=UTF-8",
            );
            value.to_string().into_bytes()
        }
    };
    Ok(Call {
        url,
        method,
        headers,
        body,
        connection,
    })
}

/// Adds a header unless the definition set it.
fn set_default(headers: &mut Vec<(String, String)>, name: &str, value: &str) {
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
        headers.push((name.to_string(), value.to_string()));
    }
}

/// `Transform`: whether the body is URL-encoded, and how arrays are written.
fn transform(given: Option<&Value>) -> Result<(bool, ArrayFormat), Failure> {
    let Some(t) = given.filter(|t| !t.is_null()) else {
        return Ok((false, ArrayFormat::Indices));
    };
    let encoded = match t.get("RequestBodyEncoding").and_then(Value::as_str) {
        None | Some("NONE") => false,
        Some("URL_ENCODED") => true,
        Some(other) => {
            return Err(runtime(format!(
                "RequestBodyEncoding must be NONE or URL_ENCODED, not '{other}'"
            )))
        }
    };
    let format = match t
        .get("RequestEncodingOptions")
        .and_then(|o| o.get("ArrayFormat"))
        .and_then(Value::as_str)
    {
        None | Some("INDICES") => ArrayFormat::Indices,
        Some("REPEAT") => ArrayFormat::Repeat,
        Some("COMMAS") => ArrayFormat::Commas,
        Some("BRACKETS") => ArrayFormat::Brackets,
        Some(other) => {
            return Err(runtime(format!(
                "ArrayFormat must be INDICES, REPEAT, COMMAS or BRACKETS, not '{other}'"
            )))
        }
    };
    Ok((encoded, format))
}

/// A body's fields as form pairs: objects as `a[b]`, arrays as `format` says.
fn flatten(prefix: &str, value: &Value, format: ArrayFormat) -> Vec<(String, String)> {
    let key = |name: &str| match prefix {
        "" => name.to_string(),
        p => format!("{p}[{name}]"),
    };
    match value {
        Value::Object(fields) => fields
            .iter()
            .flat_map(|(k, v)| flatten(&key(k), v, format))
            .collect(),
        Value::Array(items) => match format {
            ArrayFormat::Commas if items.iter().all(|i| scalar(i).is_some()) => vec![(
                prefix.to_string(),
                items
                    .iter()
                    .filter_map(scalar)
                    .collect::<Vec<_>>()
                    .join(","),
            )],
            ArrayFormat::Indices | ArrayFormat::Commas => items
                .iter()
                .enumerate()
                .flat_map(|(i, v)| flatten(&format!("{prefix}[{i}]"), v, format))
                .collect(),
            ArrayFormat::Brackets => items
                .iter()
                .flat_map(|v| flatten(&format!("{prefix}[]"), v, format))
                .collect(),
            ArrayFormat::Repeat => items
                .iter()
                .flat_map(|v| flatten(prefix, v, format))
                .collect(),
        },
        scalar_value => vec![(prefix.to_string(), scalar(scalar_value).unwrap_or_default())],
    }
}

/// The task's result of a response: AWS's shape. A JSON body (by its content type) is
/// parsed; any other is text.
fn result_of(response: &outbound::Response) -> Value {
    let mut headers: Map<String, Value> = Map::new();
    for (name, value) in &response.headers {
        if let Value::Array(values) = headers
            .entry(name.clone())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            values.push(json!(value));
        }
    }
    let text = String::from_utf8_lossy(&response.body).to_string();
    let json_type = response.headers.iter().any(|(n, v)| {
        n.eq_ignore_ascii_case("content-type") && {
            let media = v
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            media == "application/json" || media.ends_with("+json")
        }
    });
    let body = match json_type {
        true => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        false => Value::String(text),
    };
    json!({
        "Headers": headers,
        "ResponseBody": body,
        "StatusCode": response.status,
        "StatusText": response.status_text,
    })
}

/// Whose token: the tenant, the connection's name, and its version (`modified`), so that
/// a changed connection asks for a new one.
type TokenOf = (TenantId, String, i64);

/// A cached OAuth token: for a connection's version, until it expires.
#[derive(Debug, Clone)]
struct Token {
    value: String,
    expires: Instant,
}

/// What runs HTTP Tasks: the outbound client, the key that opens connections' secrets,
/// and the OAuth tokens got so far.
#[derive(Clone)]
pub struct HttpTasks {
    outbound: Outbound,
    key: Option<SecretKey>,
    tokens: Arc<Mutex<HashMap<TokenOf, Token>>>,
    /// Each tenant's HTTP Tasks in flight, awaited before a blocking thread is taken:
    /// one tenant's thousands of tasks wait here, not on the shared blocking pool.
    gates: Arc<Mutex<HashMap<TenantId, Arc<tokio::sync::Semaphore>>>>,
}

impl std::fmt::Debug for HttpTasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key nor the tokens.
        f.debug_struct("HttpTasks")
            .field("outbound", &self.outbound)
            .field("key", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for HttpTasks {
    fn default() -> HttpTasks {
        HttpTasks::new(Outbound::new(outbound::Options::default()), None)
    }
}

impl HttpTasks {
    /// HTTP Tasks through `outbound`, with `key` opening connections' secrets.
    pub fn new(outbound: Outbound, key: Option<SecretKey>) -> HttpTasks {
        HttpTasks {
            outbound,
            key,
            tokens: Arc::default(),
            gates: Arc::default(),
        }
    }

    /// Waits for a place among the tenant's HTTP Tasks in flight (the outbound client's
    /// cap per tenant); held until the task's request ends.
    pub async fn admit(&self, tenant: &TenantId) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
            let size = self.outbound.options().per_tenant.max(1);
            Arc::clone(
                gates
                    .entry(tenant.clone())
                    .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(size))),
            )
        };
        gate.acquire_owned().await.ok()
    }

    /// The key secrets are sealed with, if the server has one.
    pub fn key(&self) -> Option<&SecretKey> {
        self.key.as_ref()
    }

    /// Runs an HTTP Task's request for `tenant`: its result, or the error and cause it
    /// fails with. Blocking.
    ///
    /// # Errors
    /// `(error, cause)` as AWS names them.
    pub fn run(
        &self,
        store: &Store,
        tenant: &TenantId,
        parameters: &Value,
        budget: Option<Duration>,
    ) -> Result<Value, Failure> {
        let call = call_of(parameters)?;
        let name = name_in_arn(&call.connection).ok_or_else(|| {
            runtime(format!(
                "'{}' is not a connection ARN (arn:aws:events:<region>:<account>:connection/<name>)",
                call.connection
            ))
        })?;
        let connection = store
            .connection_get(tenant, name)
            .map_err(|e| runtime(format!("Sandstep's store failed: {e}")))?
            .ok_or_else(|| {
                runtime(format!(
                    "the connection '{name}' does not exist: create it with PUT /v1/connections/{name}"
                ))
            })?;
        let secret = self.secret(tenant, &connection)?;
        // One deadline over the token, the call and its retry.
        let deadline = budget.map(|b| Instant::now() + b);
        let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let mut cached_token = false;
        for attempt in 0..2 {
            let private = match &connection.auth {
                Auth::ApiKey { header } => vec![(header.clone(), secret.clone())],
                Auth::Basic { username } => vec![(
                    "authorization".to_string(),
                    format!(
                        "Basic {}",
                        base64::Engine::encode(
                            &base64::engine::general_purpose::STANDARD,
                            format!("{username}:{secret}")
                        )
                    ),
                )],
                Auth::OauthClientCredentials { .. } => {
                    let (t, cached) = self.token(tenant, &connection, &secret, left())?;
                    cached_token = cached;
                    vec![("authorization".to_string(), format!("Bearer {t}"))]
                }
            };
            let request = Request {
                method: call.method.clone(),
                url: call.url.clone(),
                headers: call.headers.clone(),
                private_headers: private,
                body: call.body.clone(),
            };
            let bases = connection.base_urls.clone();
            let allowed = move |url: &Url| match covers(&bases, url) {
                true => Ok(()),
                false => Err(format!(
                    "{url} is not under the connection's base URLs ({})",
                    bases.join(", ")
                )),
            };
            let response = self
                .outbound
                .send(&tenant.0, request, &allowed, left())
                .map_err(failure)?;
            // A cached token the API no longer takes: ask for a new one, once.
            if response.status == 401 && attempt == 0 && cached_token {
                self.forget(tenant, &connection);
                continue;
            }
            let result = result_of(&response);
            return match response.status {
                200..=299 => Ok(result),
                code => Err((format!("States.Http.StatusCode.{code}"), result.to_string())),
            };
        }
        Err(runtime("the connection's new OAuth token was refused too"))
    }

    /// The connection's secret, opened.
    fn secret(&self, tenant: &TenantId, connection: &Connection) -> Result<String, Failure> {
        let key = self.key.as_ref().ok_or_else(|| {
            runtime(format!(
                "this server has no secret key to open the connection '{}' with: start it with {} or secret_key_file",
                connection.name,
                crate::secrets::KEY_ENV
            ))
        })?;
        let opened = key
            .open(&sealed_for(tenant, &connection.name), &connection.sealed)
            .map_err(|e| runtime(format!("the connection '{}': {e}", connection.name)))?;
        String::from_utf8(opened).map_err(|_| runtime("a connection's secret is not text"))
    }

    /// Drops the connection's cached token.
    fn forget(&self, tenant: &TenantId, connection: &Connection) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        tokens.remove(&(tenant.clone(), connection.name.clone(), connection.modified));
    }

    /// An OAuth client-credentials token for the connection, and whether it came from the
    /// cache: the cached one until it expires, else a new one from its token URL.
    fn token(
        &self,
        tenant: &TenantId,
        connection: &Connection,
        secret: &str,
        budget: Option<Duration>,
    ) -> Result<(String, bool), Failure> {
        let Auth::OauthClientCredentials {
            token_url,
            client_id,
            scope,
        } = &connection.auth
        else {
            return Err(runtime("not an OAuth connection"));
        };
        let at = (tenant.clone(), connection.name.clone(), connection.modified);
        {
            let tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(t) = tokens.get(&at).filter(|t| t.expires > Instant::now()) {
                return Ok((t.value.clone(), true));
            }
        }
        let url = Url::parse(token_url).map_err(|e| runtime(format!("token URL: {e}")))?;
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "client_credentials");
        if let Some(scope) = scope {
            form.append_pair("scope", scope);
        }
        let basic = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{client_id}:{secret}"),
        );
        let request = Request {
            method: "POST".into(),
            url,
            headers: vec![
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into(),
                ),
                ("accept".into(), "application/json".into()),
            ],
            private_headers: vec![("authorization".into(), format!("Basic {basic}"))],
            body: form.finish().into_bytes(),
        };
        let response = self
            .outbound
            .send(&tenant.0, request, &|_| Ok(()), budget)
            .map_err(failure)?;
        let answer: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        let value = match (
            response.status,
            answer.get("access_token").and_then(Value::as_str),
        ) {
            // Sent in a header: a token that cannot be is refused, never quoted.
            (200..=299, Some(token)) if crate::outbound::valid_header_value(token) => {
                token.to_string()
            }
            (status, _) => {
                return Err((
                    "States.Http.StatusCode.401".to_string(),
                    format!(
                    "the connection '{}' got no OAuth token from its token URL (status {status})",
                    connection.name
                ),
                ))
            }
        };
        // A token is used until shortly before it expires (an hour when it does not say,
        // a day at most).
        let lifetime = answer
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(3600)
            .min(86_400)
            .saturating_sub(30);
        let now = Instant::now();
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        // Expired tokens (and those of connections since changed) go as new ones come.
        tokens.retain(|_, t| t.expires > now);
        tokens.insert(
            at,
            Token {
                value: value.clone(),
                expires: now + Duration::from_secs(lifetime),
            },
        );
        Ok((value, false))
    }
}

/// The task failure an outbound error makes.
fn failure(e: outbound::Error) -> Failure {
    use outbound::Error as E;
    let name = match &e {
        E::Timeout(_) | E::Transport(_) | E::TooManyRedirects(_) => "States.Http.Socket",
        E::TooLarge(_) => "States.DataLimitExceeded",
        E::Busy(_) => "States.TaskFailed",
        E::Refused { .. } | E::NotAllowed(_) | E::BadUrl(_) | E::BadHeader(_) => "States.Runtime",
    };
    (name.to_string(), e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(extra: Value) -> Value {
        let mut p = json!({"ApiEndpoint": "https://api.example.com/v1/items?x=1", "Method": "POST",
            "Authentication": {"ConnectionArn": "arn:aws:events:us-east-1:1:connection/c/abc"}});
        if let (Some(p), Value::Object(extra)) = (p.as_object_mut(), extra) {
            p.extend(extra);
        }
        p
    }

    #[test]
    fn parameters_make_the_request() {
        let c = call_of(&params(json!({
            "Headers": {"X-Trace": 7, "Accept": ["a", "b"]},
            "QueryParameters": {"q": "a b", "tags": ["x", "y"]},
            "RequestBody": {"name": "n"}})))
        .unwrap();
        assert_eq!(
            c.url.as_str(),
            "https://api.example.com/v1/items?x=1&q=a+b&tags=x&tags=y"
        );
        assert!(c.headers.contains(&("X-Trace".into(), "7".into())));
        assert!(c.headers.contains(&("Accept".into(), "a,b".into())));
        assert!(c.headers.contains(&(
            "content-type".into(),
            "application/json; charset=UTF-8".into()
        )));
        assert_eq!(c.body, br#"{"name":"n"}"#);
        assert_eq!(c.connection, "arn:aws:events:us-east-1:1:connection/c/abc");
    }

    #[test]
    fn url_encoded_bodies_write_arrays_as_asked() {
        let body = json!({"a": ["x", "y"], "o": {"k": "v"}, "n": 1});
        let encoded = |format: &str| {
            let c = call_of(&params(json!({"RequestBody": body, "Transform": {
                "RequestBodyEncoding": "URL_ENCODED", "RequestEncodingOptions": {"ArrayFormat": format}}})))
            .unwrap();
            String::from_utf8(c.body).unwrap()
        };
        assert_eq!(encoded("INDICES"), "a%5B0%5D=x&a%5B1%5D=y&o%5Bk%5D=v&n=1");
        assert_eq!(encoded("REPEAT"), "a=x&a=y&o%5Bk%5D=v&n=1");
        assert_eq!(encoded("COMMAS"), "a=x%2Cy&o%5Bk%5D=v&n=1");
        assert_eq!(encoded("BRACKETS"), "a%5B%5D=x&a%5B%5D=y&o%5Bk%5D=v&n=1");
    }

    #[test]
    fn bad_parameters_fail_with_runtime_errors() {
        for bad in [
            json!({"Method": "FETCH"}),
            json!({"Headers": {"Authorization": "Bearer x"}}),
            json!({"Headers": {"X-Amz-Date": "x"}}),
            json!({"Headers": "x"}),
            json!({"QueryParameters": {"q": {"nested": 1}}}),
            json!({"Transform": {"RequestBodyEncoding": "XML"}}),
            json!({"Authentication": {}}),
            json!({"ApiEndpoint": "not a url"}),
        ] {
            let e = call_of(&params(bad.clone())).unwrap_err();
            assert_eq!(e.0, "States.Runtime", "{bad}: {e:?}");
        }
    }

    #[test]
    fn results_are_shaped_like_aws() {
        let r = result_of(&outbound::Response {
            status: 201,
            status_text: "Created".into(),
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Set-Cookie".into(), "a".into()),
                ("Set-Cookie".into(), "b".into()),
            ],
            body: br#"{"id": 3}"#.to_vec(),
        });
        assert_eq!(
            r,
            json!({"Headers": {"Content-Type": ["application/json"], "Set-Cookie": ["a", "b"]},
                "ResponseBody": {"id": 3}, "StatusCode": 201, "StatusText": "Created"})
        );
        let text = result_of(&outbound::Response {
            status: 200,
            status_text: "OK".into(),
            headers: vec![],
            body: b"plain".to_vec(),
        });
        assert_eq!(text["ResponseBody"], "plain");
    }

    #[test]
    fn http_invoke_resources_are_recognised() {
        assert!(is_invoke("arn:aws:states:::http:invoke"));
        assert!(is_invoke("arn:aws-cn:states:::http:invoke"));
        assert!(!is_invoke("arn:aws:states:::http:invoke.sync"));
    }
}
