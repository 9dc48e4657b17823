//! The HTTP layer: the AWS Step Functions JSON 1.0 protocol on `POST /`, the module API
//! under `/v1/modules`, tenants under `/v1/tenants` (admin), `/healthz` and `/metrics`.
//! It authenticates the caller's tenant, decodes the request, calls the use case and
//! renders errors as AWS does (see [`error::Error`]).

pub mod auth;
pub mod aws;
pub mod data;
pub mod error;
pub mod metrics;
pub mod modules;
pub mod params;
pub mod sigv4;

use crate::scheduler::Scheduler;
use crate::store::Store;
use crate::tenants::Tenant;
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
}

impl Default for Config {
    fn default() -> Config {
        Config {
            region: "us-east-1".into(),
            admin_token: None,
            max_request_bytes: 4 * 1024 * 1024,
            max_module_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Inspects and registers uploaded modules (the sandbox, in the server).
pub trait ModuleHost: Send + Sync + 'static {
    /// Validates and compiles `bytes`, then stores them as a new version of `name`.
    ///
    /// # Errors
    /// A message naming what is wrong (invalid bytes, an unknown import, ...).
    fn register(
        &self,
        tenant: &Tenant,
        name: &str,
        bytes: &[u8],
        grants: crate::grants::Grants,
    ) -> Result<crate::store::modules::ModuleVersion, modules::RegisterError>;
}

/// What every handler can reach.
pub struct App {
    /// The store.
    pub store: Store,
    /// The scheduler.
    pub scheduler: Scheduler,
    /// Settings.
    pub config: Config,
    /// Module registration.
    pub modules: Arc<dyn ModuleHost>,
    tenants: RwLock<auth::Tenants>,
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
    ) -> Result<App, crate::store::Error> {
        let tenants = auth::Tenants::load(&store)?;
        Ok(App {
            store,
            scheduler,
            config,
            modules,
            tenants: RwLock::new(tenants),
        })
    }

    /// Re-reads the tenants (after one was created).
    ///
    /// # Errors
    /// When the store fails.
    pub fn reload_tenants(&self) -> Result<(), crate::store::Error> {
        let fresh = auth::Tenants::load(&self.store)?;
        *self.tenants.write().unwrap_or_else(|p| p.into_inner()) = fresh;
        Ok(())
    }

    pub(crate) fn tenants(&self) -> std::sync::RwLockReadGuard<'_, auth::Tenants> {
        self.tenants.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// The answer for a path no route serves.
async fn no_route(method: axum::http::Method, uri: axum::http::Uri) -> error::Error {
    error::Error::NotFound(format!("No resource at {method} {}", uri.path()))
}

/// The answer for a method a path does not take (axum adds `Allow`).
async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> error::Error {
    let hint = if uri.path() == "/" {
        ": the AWS API is POST / with X-Amz-Target: AWSStepFunctions.<Action>"
    } else {
        ""
    };
    error::Error::MethodNotAllowed(format!("{method} is not supported on {}{hint}", uri.path()))
}

/// The router. Tests call it with `oneshot`, no socket needed. Every error it answers is
/// AWS-shaped JSON (see [`error`]).
pub fn router(app: Arc<App>) -> Router {
    let request_limit = app.config.max_request_bytes;
    let module_limit = app.config.max_module_bytes;
    Router::new()
        .route(
            "/",
            post(aws::handle).layer(DefaultBodyLimit::max(request_limit)),
        )
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics::handle))
        .route("/v1/modules", get(modules::list))
        .route(
            "/v1/modules/{name}",
            get(modules::describe)
                .put(modules::upload)
                .delete(modules::delete)
                .layer(DefaultBodyLimit::max(module_limit)),
        )
        .route(
            "/v1/modules/{name}/versions/{version}",
            axum::routing::delete(modules::delete_version),
        )
        .route(
            "/v1/kv/{table}/{key}",
            get(data::get).put(data::put).delete(data::delete),
        )
        .route("/v1/tenants", post(auth::create_tenant))
        .merge(crate::console::routes())
        // After every route: it applies to the routes registered before it.
        .method_not_allowed_fallback(wrong_method)
        .fallback(no_route)
        .layer(axum::middleware::map_response(error::aws_shaped))
        .with_state(app)
}
