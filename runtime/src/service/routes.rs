//! HTTP routes (the API Gateway role): the tenant's routes, checked when they are written,
//! and the call of one: which route a request reaches, whether its caller may call it, the
//! execution's input built from the request, and the answer (the output of a synchronous
//! Express execution, or `202` with the execution's ARN).
//!
//! SigV4 on a route is checked by the HTTP layer, which holds the credentials; API keys,
//! HMAC signatures, rate and body limits are checked here.

use super::executions::{Executions, NewExecution};
use super::{Error, Result};
use crate::hooks::path::Template;
use crate::hooks::rate::{Buckets, RateLimit};
use crate::hooks::request::HookRequest;
use crate::hooks::response::{ErrorMapping, HookResponse};
use crate::hooks::signature;
use crate::model::{MachineType, Status};
use crate::store::routes::{Auth, Mode, Route, Routes as _};
use crate::store::Store;
use crate::tenants::{api_key_hash, Tenant};
use sandstep_engine::jsonata::{Env, Query};
use sandstep_engine::jsonpath::Path;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The body limit of a route that sets none.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 1 << 20;
/// The largest body limit a route may set.
pub const MAX_BODY_BYTES: u64 = 10 << 20;
/// The work one input template may do (JSONata steps).
const TEMPLATE_STEPS: u64 = 2_000_000;
/// The methods a route may answer.
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY",
];

/// Who may call a route, as written (`{"type": "apiKey", "keys": [...]}`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase", deny_unknown_fields)]
pub enum AuthSpec {
    /// Anyone.
    None,
    /// One of `keys` in `header` (`x-api-key` by default).
    #[serde(rename_all = "camelCase")]
    ApiKey {
        /// The header.
        #[serde(default)]
        header: Option<String>,
        /// The accepted keys (kept only as hashes).
        keys: Vec<String>,
    },
    /// SigV4 with the tenant's credentials.
    Sigv4,
    /// An HMAC signature of the body.
    #[serde(rename_all = "camelCase")]
    Hmac {
        /// The sender's style.
        style: signature::Style,
        /// The shared secret.
        secret: String,
        /// `sha256` style: the signature's header.
        #[serde(default)]
        header: Option<String>,
        /// `sha256` style: the signed timestamp's header.
        #[serde(default)]
        timestamp_header: Option<String>,
        /// Tolerance on the signed timestamp, in seconds (300).
        #[serde(default)]
        tolerance_seconds: Option<u64>,
    },
}

/// A route as written to `PUT /v1/routes/{name}`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteSpec {
    /// The method (`ANY` for every one).
    pub method: String,
    /// The path template.
    pub path: String,
    /// The state machine to start.
    pub state_machine_arn: String,
    /// `sync` (Express machines: answers the output) or `async` (answers `202`).
    pub mode: Mode,
    /// Who may call it.
    pub auth: AuthSpec,
    /// A template for the input.
    #[serde(default)]
    pub input: Option<String>,
    /// A rate limit.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    /// The largest body accepted (1 MiB by default, 10 MiB at most).
    #[serde(default)]
    pub max_body_bytes: Option<u64>,
    /// Execution errors answered with another status.
    #[serde(default)]
    pub errors: Vec<ErrorMapping>,
}

/// Why a request to a route is refused or failed, each with its HTTP status.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HookError {
    /// No route of the tenant matches the method and path (404).
    #[error("No route matches {0}")]
    NoRoute(String),
    /// Missing or wrong credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Valid credentials of someone who may not call the route (403).
    #[error("{0}")]
    Forbidden(String),
    /// A body over the route's limit (413).
    #[error("The request body is larger than this route accepts ({0} bytes)")]
    TooLarge(u64),
    /// Over the route's rate limit (429).
    #[error("Too many requests: this route accepts {0} per second")]
    RateLimited(f64),
    /// A body or template that cannot make an input (400).
    #[error("{0}")]
    BadRequest(String),
    /// This server does not run the route's tenant (503, retryable): on a shared store a
    /// call reaches that tenant's server, and one that did not is not run beside it.
    #[error("The service is unavailable for now. Please try again.")]
    Unavailable,
    /// The execution could not start (its own error).
    #[error(transparent)]
    Start(#[from] Error),
}

impl HookError {
    /// The HTTP status and error name it is answered with.
    pub fn status(&self) -> (u16, &'static str) {
        match self {
            HookError::NoRoute(_) => (404, "NotFoundException"),
            HookError::Unauthorized(_) => (401, "UnauthorizedException"),
            HookError::Forbidden(_) => (403, "AccessDeniedException"),
            HookError::TooLarge(_) => (413, "RequestEntityTooLargeException"),
            HookError::RateLimited(_) => (429, "TooManyRequestsException"),
            HookError::BadRequest(_) => (400, "BadRequestException"),
            HookError::Unavailable => (503, "ServiceUnavailableException"),
            HookError::Start(Error::ExecutionLimitExceeded(_)) => (429, "ExecutionLimitExceeded"),
            HookError::Start(Error::ExecutionAlreadyExists(_)) => (409, "ExecutionAlreadyExists"),
            HookError::Start(Error::InvalidName(_)) => (400, "InvalidName"),
            HookError::Start(Error::InputTooLarge { .. } | Error::InputNotJson(_)) => {
                (400, "InvalidExecutionInput")
            }
            HookError::Start(Error::StateMachineDoesNotExist(_)) => {
                (502, "StateMachineDoesNotExist")
            }
            HookError::Start(_) => (500, "InternalServerError"),
        }
    }

    /// The answer a caller of the route gets: the status and a JSON error.
    pub fn to_response(&self) -> HookResponse {
        let (status, name) = self.status();
        HookResponse::json(
            status,
            &json!({"__type": name, "message": self.to_string()}),
        )
    }
}

/// A route found for a request, with its path parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    /// The route.
    pub route: Route,
    /// Its path parameters.
    pub params: BTreeMap<String, String>,
}

/// Routes and their calls.
#[derive(Debug, Clone)]
pub struct Routes {
    store: Store,
    executions: Executions,
    region: String,
    buckets: Arc<Buckets>,
}

impl Routes {
    /// The routes in `store`, starting executions through `executions`.
    pub fn new(store: Store, executions: Executions, region: &str) -> Routes {
        Routes {
            store,
            executions,
            region: region.to_string(),
            buckets: Arc::default(),
        }
    }

    /// Creates or replaces the route `name`.
    ///
    /// # Errors
    /// [`Error::InvalidRoute`] for a route that breaks a rule (its text says which),
    /// [`Error::StateMachineDoesNotExist`], [`Error::RouteConflict`] when another route has
    /// the same method and path.
    #[tracing::instrument(level = "debug", name = "service.put_route", skip_all, fields(tenant = %tenant.id, route = %name))]
    pub async fn put(&self, tenant: &Tenant, name: &str, spec: RouteSpec) -> Result<Route> {
        let route = self.checked(tenant, name, spec)?;
        let template =
            Template::parse(&route.path).map_err(|e| Error::InvalidRoute(e.to_string()))?;
        for other in self.store.route_list(&tenant.id)? {
            let same_path = Template::parse(&other.path).is_ok_and(|t| t == template);
            if other.name != name && other.method == route.method && same_path {
                return Err(Error::RouteConflict(format!(
                    "The route '{}' already answers {} {}",
                    other.name, other.method, other.path
                )));
            }
        }
        self.store.route_put(&tenant.id, &route)?;
        self.store.durable_later()?.wait().await?;
        self.buckets.forget(&bucket_key(tenant, name));
        Ok(route)
    }

    fn checked(&self, tenant: &Tenant, name: &str, spec: RouteSpec) -> Result<Route> {
        let invalid = |m: String| Err(Error::InvalidRoute(m));
        if !(1..=80).contains(&name.len())
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return invalid(format!(
                "the route name '{name}' must be 1 to 80 letters, digits, '-' or '_'"
            ));
        }
        let method = spec.method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return invalid(format!(
                "the method '{}' is not one of {}",
                spec.method,
                METHODS.join(", ")
            ));
        }
        Template::parse(&spec.path).map_err(|e| Error::InvalidRoute(e.to_string()))?;
        let machine = self
            .executions
            .machines()
            .describe(tenant, &spec.state_machine_arn)?
            .0;
        if spec.mode == Mode::Sync && machine.machine_type != MachineType::Express {
            return invalid(
                "a sync route needs an EXPRESS state machine (a STANDARD one can run for a year); use \"mode\": \"async\"".into(),
            );
        }
        if let Some(template) = &spec.input {
            InputTemplate::parse(template).map_err(Error::InvalidRoute)?;
        }
        if let Some(limit) = spec.rate_limit {
            if !(limit.per_second.is_finite() && limit.per_second > 0.0) || limit.burst == 0 {
                return invalid("rateLimit needs perSecond > 0 and burst >= 1".into());
            }
        }
        let max_body_bytes = spec.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES);
        if max_body_bytes == 0 || max_body_bytes > MAX_BODY_BYTES {
            return invalid(format!("maxBodyBytes must be 1 to {MAX_BODY_BYTES}"));
        }
        if let Some(bad) = spec
            .errors
            .iter()
            .find(|m| !(400..=599).contains(&m.status_code))
        {
            return invalid(format!(
                "the status {} for '{}' is not an error status (400 to 599)",
                bad.status_code, bad.error
            ));
        }
        let auth = match spec.auth {
            AuthSpec::None => Auth::None,
            AuthSpec::Sigv4 => Auth::Sigv4,
            AuthSpec::ApiKey { header, keys } => {
                if keys.is_empty() || keys.iter().any(|k| k.len() < 8) {
                    return invalid(
                        "an apiKey route needs at least one key of 8 or more characters".into(),
                    );
                }
                Auth::ApiKey {
                    header: header
                        .unwrap_or_else(|| "x-api-key".into())
                        .to_ascii_lowercase(),
                    key_hashes: keys.iter().map(|k| api_key_hash(k)).collect(),
                }
            }
            AuthSpec::Hmac {
                style,
                secret,
                header,
                timestamp_header,
                tolerance_seconds,
            } => {
                if secret.is_empty() {
                    return invalid("an hmac route needs a secret".into());
                }
                if style != signature::Style::Sha256
                    && (header.is_some() || timestamp_header.is_some())
                {
                    return invalid(
                        "header and timestampHeader are for the sha256 style only".into(),
                    );
                }
                Auth::Hmac(signature::Check {
                    style,
                    secret,
                    header,
                    timestamp_header,
                    tolerance_seconds: tolerance_seconds
                        .unwrap_or(signature::DEFAULT_TOLERANCE_SECONDS),
                })
            }
        };
        Ok(Route {
            name: name.to_string(),
            method,
            path: spec.path,
            state_machine_arn: machine.arn,
            mode: spec.mode,
            auth,
            input: spec.input,
            rate_limit: spec.rate_limit,
            max_body_bytes,
            errors: spec.errors,
            modified: self.executions.scheduler().now(),
        })
    }

    /// The tenant's routes, by name.
    ///
    /// # Errors
    /// When the store fails.
    pub fn list(&self, tenant: &Tenant) -> Result<Vec<Route>> {
        Ok(self.store.route_list(&tenant.id)?)
    }

    /// A route.
    ///
    /// # Errors
    /// [`Error::RouteDoesNotExist`].
    pub fn get(&self, tenant: &Tenant, name: &str) -> Result<Route> {
        self.store
            .route_get(&tenant.id, name)?
            .ok_or_else(|| Error::RouteDoesNotExist(name.to_string()))
    }

    /// Deletes a route.
    ///
    /// # Errors
    /// [`Error::RouteDoesNotExist`].
    pub async fn delete(&self, tenant: &Tenant, name: &str) -> Result<()> {
        match self.store.route_delete(&tenant.id, name)? {
            true => {
                self.store.durable_later()?.wait().await?;
                self.buckets.forget(&bucket_key(tenant, name));
                Ok(())
            }
            false => Err(Error::RouteDoesNotExist(name.to_string())),
        }
    }

    /// The route a request reaches: the most specific of the tenant's routes whose method
    /// and path match.
    ///
    /// # Errors
    /// [`HookError::NoRoute`].
    pub fn find(
        &self,
        tenant: &Tenant,
        method: &str,
        path: &str,
    ) -> std::result::Result<Matched, HookError> {
        let routes = self.store.route_list(&tenant.id).map_err(Error::from)?;
        let mut candidates: Vec<(Template, Route)> = routes
            .into_iter()
            .filter(|r| r.method == "ANY" || r.method == method)
            .filter_map(|r| Template::parse(&r.path).ok().map(|t| (t, r)))
            .collect();
        // A route for the method itself before an ANY route of the same path.
        candidates.sort_by(|(a, ra), (b, rb)| {
            a.specificity(b)
                .then_with(|| (ra.method == "ANY").cmp(&(rb.method == "ANY")))
        });
        candidates
            .into_iter()
            .find_map(|(t, route)| t.matches(path).map(|params| Matched { route, params }))
            .ok_or_else(|| HookError::NoRoute(format!("{method} {path}")))
    }

    /// Calls a route the caller reached (and, for a SigV4 route, the HTTP layer
    /// authenticated): checks its key or signature and its limits, builds the input,
    /// starts the execution and answers.
    ///
    /// # Errors
    /// [`HookError`] with its status.
    #[tracing::instrument(level = "debug", name = "service.call_route", skip_all, fields(tenant = %tenant.id, route = %matched.route.name))]
    pub async fn call(
        &self,
        tenant: &Tenant,
        matched: &Matched,
        request: &HookRequest,
    ) -> std::result::Result<HookResponse, HookError> {
        self.admit(tenant, &matched.route, request)?;
        self.invoke(tenant, matched, request).await
    }

    /// A test request to a route by its owner (the console's "send test request"): as
    /// [`Routes::call`], but the route's own authentication and rate limit are skipped, as
    /// API Gateway's TestInvokeMethod skips them, because the caller is the tenant itself
    /// (authenticated by the API) and has no webhook secret to sign with. The path must be
    /// one the route matches; a route for `ANY` method is tested with `method`.
    ///
    /// # Errors
    /// [`HookError::BadRequest`] for a method or path the route does not match, and the
    /// errors of a call.
    #[tracing::instrument(level = "debug", name = "service.test_route", skip_all, fields(tenant = %tenant.id, route = %route.name))]
    pub async fn test(
        &self,
        tenant: &Tenant,
        route: Route,
        request: &HookRequest,
    ) -> std::result::Result<HookResponse, HookError> {
        let name = &route.name;
        if route.method != "ANY" && route.method != request.method {
            return Err(HookError::BadRequest(format!(
                "Route {name} answers {} requests, not {}",
                route.method, request.method
            )));
        }
        if let Some(unfilled) = request
            .path
            .split('/')
            .find(|s| s.starts_with('{') && s.ends_with('}'))
        {
            return Err(HookError::BadRequest(format!(
                "Fill in the path parameter {unfilled} of {}",
                request.path
            )));
        }
        let params = Template::parse(&route.path)
            .ok()
            .and_then(|t| t.matches(&request.path))
            .ok_or_else(|| {
                HookError::BadRequest(format!(
                    "Route {name} does not match the path {} (its path is {})",
                    request.path, route.path
                ))
            })?;
        self.invoke(tenant, &Matched { route, params }, request)
            .await
    }

    /// Checks a request's key or signature and the route's rate limit.
    fn admit(
        &self,
        tenant: &Tenant,
        route: &Route,
        request: &HookRequest,
    ) -> std::result::Result<(), HookError> {
        match &route.auth {
            Auth::None | Auth::Sigv4 => {}
            Auth::ApiKey { header, key_hashes } => {
                let given = request.header(header).ok_or_else(|| {
                    HookError::Unauthorized(format!("The request has no {header} header"))
                })?;
                let hash = api_key_hash(given.trim());
                if !key_hashes
                    .iter()
                    .any(|k| constant_time_eq(k.as_bytes(), hash.as_bytes()))
                {
                    return Err(HookError::Forbidden(
                        "The API key is not one this route accepts".into(),
                    ));
                }
            }
            Auth::Hmac(check) => check
                .verify(
                    |name| request.header(name),
                    &request.body,
                    crate::clock::now() / 1000,
                )
                .map_err(|e| HookError::Unauthorized(e.to_string()))?,
        }
        if let Some(limit) = route.rate_limit {
            let now = self.executions.scheduler().now();
            if !self
                .buckets
                .take(&bucket_key(tenant, &route.name), limit, now)
            {
                return Err(HookError::RateLimited(limit.per_second));
            }
        }
        Ok(())
    }

    /// Builds the execution's input from an admitted request (within the route's body
    /// limit), starts it and answers.
    async fn invoke(
        &self,
        tenant: &Tenant,
        matched: &Matched,
        request: &HookRequest,
    ) -> std::result::Result<HookResponse, HookError> {
        let route = &matched.route;
        if request.body.len() as u64 > route.max_body_bytes {
            return Err(HookError::TooLarge(route.max_body_bytes));
        }
        let request_value = request
            .to_input(&matched.params)
            .map_err(|e| HookError::BadRequest(e.to_string()))?;
        let input = match &route.input {
            None => request_value,
            Some(text) => InputTemplate::parse(text)
                .map_err(HookError::BadRequest)?
                .apply(&request_value, self.executions.scheduler().now())
                .map_err(HookError::BadRequest)?,
        };
        let new = NewExecution {
            state_machine_arn: route.state_machine_arn.clone(),
            name: request.header("idempotency-key").map(str::to_string),
            input: Some(input.to_string()),
        };
        match route.mode {
            Mode::Sync => {
                let done = self.executions.start_sync(tenant, new).await?;
                let e = done.execution;
                Ok(match e.status {
                    Status::Succeeded => {
                        HookResponse::of_output(e.output.as_deref().unwrap_or("null"))
                    }
                    _ => HookResponse::of_failure(
                        e.error.as_deref().unwrap_or(match e.status {
                            Status::TimedOut => "States.Timeout",
                            _ => "States.Runtime",
                        }),
                        e.cause.as_deref().unwrap_or(""),
                        &route.errors,
                    ),
                })
            }
            Mode::Async => {
                let started = match self.executions.start(tenant, new.clone()).await {
                    Ok(e) => e,
                    // A repeated Idempotency-Key with the same input: the execution it
                    // started, whatever its status now.
                    Err(Error::ExecutionAlreadyExists(arn)) => {
                        let existing = self.executions.describe(tenant, &arn)?.execution;
                        if Some(&existing.input) != new.input.as_ref() {
                            return Err(Error::ExecutionAlreadyExists(arn).into());
                        }
                        existing
                    }
                    Err(e) => return Err(e.into()),
                };
                Ok(HookResponse::json(
                    202,
                    &json!({"executionArn": started.arn, "startDate": started.started as f64 / 1000.0}),
                ))
            }
        }
    }

    /// The URL path a route answers at, for the console and the CLI.
    pub fn url_path(tenant: &Tenant, route: &Route) -> String {
        format!("/hooks/{}{}", tenant.account, route.path)
    }

    /// The region routes' ARNs are in.
    pub fn region(&self) -> &str {
        &self.region
    }
}

/// A route's input template: JSONata (`{% ... %}`) or a JSONPath (`$.body`), over the
/// request object.
enum InputTemplate {
    Jsonata(Query),
    JsonPath(Path),
}

impl InputTemplate {
    fn parse(text: &str) -> std::result::Result<InputTemplate, String> {
        if let Some(inner) = sandstep_engine::jsonata::embedded(text) {
            return Query::parse(inner)
                .map(InputTemplate::Jsonata)
                .map_err(|e| {
                    format!(
                        "the input template is not valid JSONata: {}: {}",
                        e.code, e.message
                    )
                });
        }
        if text.starts_with('$') {
            return Path::parse(text)
                .map(InputTemplate::JsonPath)
                .map_err(|e| format!("the input template is not a valid JSONPath: {e}"));
        }
        Err(format!(
            "the input template '{text}' must be a JSONata expression in {{% %}} or a JSONPath starting with '$'"
        ))
    }

    fn apply(&self, request: &Value, now: i64) -> std::result::Result<Value, String> {
        let value = match self {
            InputTemplate::Jsonata(query) => {
                let env = Env {
                    input: Some(request),
                    variables: &|_| None,
                    now_millis: now,
                    entropy: crate::clock::entropy(),
                    steps: TEMPLATE_STEPS,
                };
                query
                    .evaluate(&env)
                    .map_err(|(e, _)| {
                        format!("the input template failed: {}: {}", e.code, e.message)
                    })?
                    .value
            }
            InputTemplate::JsonPath(path) => path.select(request),
        };
        value.ok_or_else(|| "the input template gave nothing for this request".to_string())
    }
}

fn bucket_key(tenant: &Tenant, route: &str) -> String {
    format!("{}\u{0}{route}", tenant.id)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
