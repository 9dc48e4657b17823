//! The HTTP layer: the AWS Step Functions JSON 1.0 protocol on `POST /`, the module API
//! under `/v1/modules`, tenants under `/v1/tenants` (admin), `/healthz` and `/metrics`.
//! Every handler authenticates the caller's tenant, decodes the request into a typed
//! input, calls the use case in [`crate::service`] and renders its result, or its error as
//! AWS does (see [`error::Error`]). `server::router` joins these routes to the console's.

pub mod auth;
pub mod aws;
pub mod bindings;
pub mod browse;
pub mod connections;
pub mod data;
pub mod error;
pub mod events;
pub mod hooks;
pub mod jobs;
pub mod metrics;
pub mod modules;
pub mod params;
pub mod peers;
pub mod placement;
pub mod roles;
pub mod routes;
pub mod s3;
pub mod samples;
pub mod schedules;
pub mod sigv4;

use crate::scheduler::Scheduler;
use crate::service::{ModuleHost, Services};
use crate::store::Store;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use std::sync::{Arc, RwLock};

/// Server settings the API needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The region in ARNs.
    pub region: String,
    /// The token for `/v1/tenants` (admin), if any.
    pub admin_token: Option<String>,
    /// The largest AWS API request body.
    pub max_request_bytes: usize,
    /// The largest module upload (a tenant's quota may be lower).
    pub max_module_bytes: usize,
    /// How long GetActivityTask waits for a task (60 s, as AWS).
    pub activity_poll: std::time::Duration,
    /// The largest S3 object.
    pub max_object_bytes: u64,
    /// The clock tests move (`SANDSTEP_TEST_CLOCK`): `POST /v1/test/clock` exists only
    /// with it.
    pub test_clock: Option<Arc<crate::clock::ManualClock>>,
    /// The servers sharing a PostgreSQL store, when this is one of them: calls go to the
    /// server that runs their tenant (`placement.rs`).
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// How long a call waits for its tenant's server (through a takeover) before it is
    /// answered `503 ServiceUnavailable`.
    pub patience: std::time::Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            region: "us-east-1".into(),
            admin_token: None,
            max_request_bytes: 4 * 1024 * 1024,
            max_module_bytes: 64 * 1024 * 1024,
            activity_poll: crate::service::activities::POLL,
            max_object_bytes: crate::s3::DEFAULT_MAX_OBJECT_BYTES,
            test_clock: None,
            cluster: None,
            patience: std::time::Duration::from_secs(15),
        }
    }
}

/// What every handler can reach: the use cases, the settings, and the credential index.
pub struct App {
    /// The use cases.
    pub services: Services,
    /// Settings.
    pub config: Config,
    tenants: RwLock<auth::Tenants>,
    /// When the tenants were last read again on a server that knows none.
    reloaded: std::sync::Mutex<Option<std::time::Instant>>,
    /// When the last reading for a credential not known here began: one at a time.
    looked_up: tokio::sync::Mutex<Option<std::time::Instant>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Builds the application state, loading the tenants from the store.
    ///
    /// # Errors
    /// When the store fails.
    pub fn new(
        store: Store,
        scheduler: Scheduler,
        config: Config,
        modules: Arc<dyn ModuleHost>,
    ) -> Result<App, crate::service::Error> {
        let mut services = Services::new(
            store,
            scheduler,
            &config.region,
            modules,
            config.max_object_bytes,
        );
        services.activities = services.activities.with_poll(config.activity_poll);
        let tenants = auth::Tenants::load(&services.tenants)?;
        Ok(App {
            services,
            config,
            tenants: RwLock::new(tenants),
            reloaded: std::sync::Mutex::new(None),
            looked_up: tokio::sync::Mutex::new(None),
        })
    }

    /// Re-reads the tenants (after one was created).
    ///
    /// # Errors
    /// When the store fails.
    pub fn reload_tenants(&self) -> Result<(), crate::service::Error> {
        let fresh = auth::Tenants::load(&self.services.tenants)?;
        *self.tenants.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    /// Reads the tenants again unless that was done within `every`; answers whether it
    /// did (a tenant created through another server sharing the store).
    pub fn reload_tenants_within(&self, every: std::time::Duration) -> bool {
        {
            let mut last = self.reloaded.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|at| at.elapsed() < every) {
                return false;
            }
            *last = Some(std::time::Instant::now());
        }
        match self.reload_tenants() {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "reading the tenants again failed");
                false
            }
        }
    }

    /// Reads the tenants again, unless a reading that began after `since` has already
    /// run: callers naming credentials not known here (created through another server
    /// sharing the store) wait for one reading between them, at most one every
    /// `spacing`, however many unknown credentials are named.
    pub async fn reload_tenants_since(
        &self,
        since: std::time::Instant,
        spacing: std::time::Duration,
    ) {
        let mut last = self.looked_up.lock().await;
        if last.is_some_and(|at| at >= since) {
            return;
        }
        if let Some(at) = *last {
            tokio::time::sleep(spacing.saturating_sub(at.elapsed())).await;
        }
        *last = Some(std::time::Instant::now());
        if let Err(e) = self.reload_tenants() {
            tracing::warn!(error = %e, "reading the tenants again failed");
        }
    }

    /// The tenant whose account id is `account`.
    pub fn tenant_of_account(&self, account: &str) -> Option<crate::tenants::Tenant> {
        self.tenants().of_account(account)
    }

    pub(crate) fn tenants(&self) -> std::sync::RwLockReadGuard<'_, auth::Tenants> {
        self.tenants.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// `POST /v1/test/clock` (`{"advanceMs": N}`): moves the test clock; answers `{"now"}`.
fn test_clock(clock: &crate::clock::ManualClock, body: &[u8]) -> axum::Json<serde_json::Value> {
    use crate::clock::Clock as _;
    let advance = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("advanceMs").and_then(serde_json::Value::as_i64))
        .unwrap_or(0);
    if advance > 0 {
        clock.advance(advance);
    }
    axum::Json(serde_json::json!({ "now": clock.now() }))
}

/// The process that answers: its id and version, and on a PostgreSQL store the partitions
/// it holds. There a call of a tenant (with its credentials) is answered by the server that
/// runs that tenant, so an operator (and the failover tests) can see which one works for
/// whom, and how the partitions are shared.
async fn server_process(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
) -> axum::Json<serde_json::Value> {
    let partitions = app.config.cluster.as_ref().map(|cluster| cluster.mine());
    axum::Json(serde_json::json!({
        "pid": std::process::id(),
        "version": env!("CARGO_PKG_VERSION"),
        "partitions": partitions,
    }))
}

/// The answer for a path no route serves.
pub async fn no_route(method: axum::http::Method, uri: axum::http::Uri) -> error::Error {
    error::Error::NotFound(format!("No resource at {method} {}", uri.path()))
}

/// The answer for a method a path does not take (axum adds `Allow`).
pub async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> error::Error {
    let hint = if uri.path() == "/" {
        ": the AWS API is POST / with X-Amz-Target: AWSStepFunctions.<Action>"
    } else {
        ""
    };
    error::Error::MethodNotAllowed(format!("{method} is not supported on {}{hint}", uri.path()))
}

/// The API's routes, each under its body limit. `server::router` adds the console's, the
/// fallbacks for unknown paths and methods, and the layer that keeps every error
/// AWS-shaped.
pub fn routes(config: &Config) -> Router<Arc<App>> {
    let router = match &config.test_clock {
        Some(clock) => {
            let clock = Arc::clone(clock);
            Router::new().route(
                "/v1/test/clock",
                post(move |body: axum::body::Bytes| async move { test_clock(&clock, &body) }),
            )
        }
        None => Router::new(),
    };
    router
        .route(
            "/",
            post(aws::handle)
                .layer(DefaultBodyLimit::max(config.max_request_bytes))
                .get(s3::root),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/v1/server", get(server_process))
        .route("/metrics", get(metrics::handle))
        .route(crate::cluster::tasks::OFFER_PATH, post(peers::take_task))
        .route(crate::cluster::tasks::ANSWER_PATH, post(peers::take_answer))
        .route("/v1/modules", get(modules::list))
        .route(
            "/v1/modules/{name}",
            get(modules::describe)
                .put(modules::upload)
                .delete(modules::delete)
                .layer(DefaultBodyLimit::max(config.max_module_bytes)),
        )
        .route(
            "/v1/modules/{name}/versions/{version}",
            axum::routing::delete(modules::delete_version),
        )
        .route(
            "/v1/kv/{table}/{key}",
            get(data::get).put(data::put).delete(data::delete),
        )
        .route("/v1/job-queues", get(jobs::list_queues))
        .route(
            "/v1/job-queues/{name}",
            get(jobs::get_queue)
                .put(jobs::put_queue)
                .delete(jobs::delete_queue),
        )
        .route("/v1/jobs", get(jobs::list))
        .route("/v1/jobs/{id}", get(jobs::describe))
        .route("/v1/jobs/{id}/cancel", post(jobs::cancel))
        .route("/v1/jobs/{id}/logs", get(jobs::logs))
        .route("/v1/tenants", post(auth::create_tenant))
        .route("/v1/tables", get(browse::tables))
        .route(
            "/v1/tables/{table}/items",
            get(browse::items)
                .put(browse::put_item)
                .delete(browse::delete_item),
        )
        .route("/v1/buckets", get(browse::buckets))
        .route("/v1/buckets/{bucket}/objects", get(browse::objects))
        .route(
            "/v1/buckets/{bucket}/objects/{*key}",
            get(browse::get_object)
                .put(browse::put_object)
                .delete(browse::delete_object),
        )
        .route("/v1/queues", get(browse::queues))
        .route(
            "/v1/queues/{queue}/messages",
            get(browse::peek).post(browse::send).delete(browse::purge),
        )
        .route("/v1/topics", get(browse::topics))
        .route(
            "/v1/topics/{topic}/subscriptions",
            get(browse::subscriptions),
        )
        .route("/v1/topics/{topic}/messages", post(browse::publish))
        .route("/v1/buses/{bus}/dead-letters", get(events::dead_letters))
        .route("/v1/buses/{bus}/tail", get(events::tail))
        .route("/v1/schedules", get(schedules::list))
        .route(
            "/v1/schedules/{name}",
            get(schedules::get)
                .put(schedules::put)
                .delete(schedules::delete),
        )
        .route("/v1/routes", get(routes::list))
        .route(
            "/v1/routes/{name}",
            get(routes::get).put(routes::put).delete(routes::delete),
        )
        .route("/v1/routes/{name}/test", post(routes::test))
        // A route's own body limit applies (`api::hooks` reads the body under it).
        .route(
            "/hooks/{account}",
            axum::routing::any(hooks::handle).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/hooks/{account}/{*path}",
            axum::routing::any(hooks::handle).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/v1/bindings",
            get(bindings::list)
                .put(bindings::put)
                .delete(bindings::delete),
        )
        .route("/v1/connections", get(connections::list))
        .route(
            "/v1/connections/{name}",
            get(connections::get)
                .put(connections::put)
                .delete(connections::delete),
        )
        .route("/v1/samples", get(samples::list))
        .route("/v1/samples/{name}", get(samples::get))
        .route("/v1/samples/{name}/install", post(samples::install))
        .route("/v1/roles", get(roles::list))
        .route(
            "/v1/roles/{name}",
            get(roles::get).put(roles::put).delete(roles::delete),
        )
}
