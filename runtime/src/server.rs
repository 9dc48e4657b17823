//! `sandstep serve`: the store, the scheduler and the HTTP API, with graceful shutdown;
//! and [`router`], where the API's routes and the console's are joined.

use crate::api::{self, App};
use crate::config::Config;
use crate::scheduler::runner::TaskRunner;
use crate::scheduler::{quarantine, Options, Scheduler};
use crate::service::ModuleHost;
use crate::store::sled::Sled;
use crate::store::Store;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// The whole HTTP surface: the API's routes and the console's, with one answer for an
/// unknown path or method and every error AWS-shaped. Tests call it with `oneshot`, no
/// socket needed.
pub fn router(app: Arc<App>) -> axum::Router {
    api::routes(&app.config)
        .merge(crate::console::routes())
        // After every route: they apply to the routes registered before them.
        .method_not_allowed_fallback(api::s3::wrong_method)
        .fallback(api::s3::fallback)
        .layer(axum::middleware::map_response(api::error::aws_shaped))
        .with_state(app)
}

/// What the server runs tasks and registers modules with.
#[allow(missing_debug_implementations)]
pub struct Plugins {
    /// Runs tasks.
    pub runner: Arc<dyn TaskRunner>,
    /// Runs Batch jobs.
    pub jobs: Arc<dyn crate::scheduler::jobs::JobRunner>,
    /// Registers uploaded modules.
    pub modules: Arc<dyn ModuleHost>,
    /// Where modules' answers to task tokens go: bound to the service layer once it
    /// exists.
    pub answers: crate::host::callback::AnswerSlot,
    /// The outbound HTTP client modules use: HTTP Tasks share it (and its caps).
    pub outbound: crate::outbound::Outbound,
}

/// The store the configuration names: sled under the data dir, or PostgreSQL. With
/// PostgreSQL this server answers on `listener` at once, relaying calls to the lease's
/// holder (`relay.rs`), and waits here until it holds the lease itself.
///
/// # Errors
/// When it cannot be opened (or, for PostgreSQL, reached and migrated).
async fn open_store(
    config: &Config,
    listener: tokio::net::TcpListener,
) -> anyhow::Result<(Store, Front)> {
    if config.store == "sled" {
        let store = Store::on(Sled::with_cache(
            &config.data_dir,
            config.durability(),
            config.cache_mib << 20,
        )?);
        let store = store.with_objects(config.data_dir.join("objects"));
        return Ok((store, Front::Ready(listener)));
    }
    let pg = Arc::new(crate::store::postgres::Postgres::connect(
        &config.store,
        config.store_pool,
    )?);
    let local = listener.local_addr()?;
    let address = match &config.advertise {
        Some(address) => address.clone(),
        None if local.ip().is_unspecified() => format!("{}:{}", host_name(), local.port()),
        None => local.to_string(),
    };
    let owner = format!(
        "{}:{}:{}",
        host_name(),
        std::process::id(),
        crate::clock::Clock::now(&crate::clock::SystemClock)
    );
    let lookup: crate::relay::Lookup = {
        let pg = Arc::clone(&pg);
        Arc::new(move || {
            pg.holder()
                .map(|h| {
                    h.map(|h| crate::relay::Holder {
                        owner: h.owner,
                        address: h.address,
                    })
                })
                .map_err(|e| e.to_string())
        })
    };
    let length = Duration::from_secs(config.lease_seconds);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // A call waits through a takeover: the lease lapses within its length, and the next
    // holder recovers and serves.
    let patience = length + Duration::from_secs(5);
    let me = crate::relay::Holder {
        owner: owner.clone(),
        address: address.clone(),
    };
    let relaying = tokio::spawn(crate::relay::relay_until(
        listener, me, local, lookup, patience, stopped,
    ));
    // Calls are answered from here on: relayed while another server is active.
    println!("listening on http://{local}");
    let lease = {
        let pg = Arc::clone(&pg);
        tokio::task::spawn_blocking(move || Lease::take(pg, length, owner, address)).await??
    };
    // Objects in the database too: whichever server is active reads them all.
    // Compiled modules in this server's files: native code is loaded only from where
    // this process wrote it.
    let store = Store::on_shared(pg)
        .with_objects_in_store()
        .with_local_artifacts(config.data_dir.join("artifacts"));
    Ok((
        store,
        Front::Relaying {
            lease,
            stop,
            relaying,
        },
    ))
}

/// How this server meets its callers until it serves them itself.
enum Front {
    /// Not yet answering (sled): it announces and serves once recovered.
    Ready(tokio::net::TcpListener),
    /// Already answering by relaying (PostgreSQL), and holding the store's lease.
    Relaying {
        lease: Lease,
        stop: tokio::sync::watch::Sender<bool>,
        relaying: tokio::task::JoinHandle<tokio::net::TcpListener>,
    },
}

impl Front {
    /// The listener to serve on, and the lease to give up after; the relay stops here.
    async fn serve_now(self) -> anyhow::Result<(tokio::net::TcpListener, Option<Lease>)> {
        match self {
            Front::Ready(listener) => {
                // Tests and scripts read this line to learn the port when listening on
                // port 0.
                println!("listening on http://{}", listener.local_addr()?);
                Ok((listener, None))
            }
            Front::Relaying {
                lease,
                stop,
                relaying,
            } => {
                stop.send_replace(true);
                Ok((relaying.await?, Some(lease)))
            }
        }
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// The PostgreSQL store's lease, held while this server runs the store's work: taken before
/// recovery (a standby waits here, relaying calls), renewed on a thread, given up on a
/// clean shutdown. A server that loses it exits at once: its writes are refused anyway,
/// and its standby (or its restart) carries on from what is committed.
struct Lease {
    store: Arc<crate::store::postgres::Postgres>,
    owner: String,
    epoch: i64,
}

impl Lease {
    fn take(
        store: Arc<crate::store::postgres::Postgres>,
        length: Duration,
        owner: String,
        address: String,
    ) -> anyhow::Result<Lease> {
        let every = (length / 8).clamp(Duration::from_millis(100), Duration::from_secs(1));
        let epoch = store.acquire(&owner, &address, length, every, |holder| {
            tracing::warn!(
                holder = %holder.owner,
                address = %holder.address,
                lapses_in_s = holder.lapses_in,
                "standby: another server holds the store's lease; relaying calls to it and \
                 waiting to take over"
            );
        })?;
        tracing::info!(epoch, %address, "store: PostgreSQL, this server holds its lease");
        crate::store::postgres::lease::keep(
            Arc::clone(&store),
            owner.clone(),
            epoch,
            length,
            |why| {
                tracing::error!("stopping: {why}");
                eprintln!("sandstep: stopping: {why}");
                std::process::exit(75);
            },
        )?;
        Ok(Lease {
            store,
            owner,
            epoch,
        })
    }

    fn release(&self) {
        if let Err(e) = self.store.release(&self.owner, self.epoch) {
            tracing::warn!("could not give the store's lease up: {e}");
        }
    }
}

/// Opens the store, recovers running executions, and serves until SIGTERM or Ctrl-C.
/// In-flight Standard work is left in the store, resumable by the next start.
///
/// # Errors
/// When the store cannot be opened or the address cannot be bound.
pub async fn serve(
    config: Config,
    plugins: impl FnOnce(&Store, &Config) -> anyhow::Result<Plugins>,
) -> anyhow::Result<()> {
    config.check()?;
    // The quarantine journal and compiled modules live here whatever the store.
    std::fs::create_dir_all(&config.data_dir)?;
    // Bound first: queue URLs the integrations answer start with the address it really
    // listens on (a port of 0 is chosen here), and a PostgreSQL standby relays on it.
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let local = listener.local_addr()?;
    let (store, front) = open_store(&config, listener).await?;
    let Plugins {
        runner,
        jobs,
        modules,
        answers,
        outbound,
    } = plugins(&store, &config)?;
    let options = Options {
        max_tasks: config.max_tasks,
        max_tasks_per_tenant: config.max_tasks_per_tenant,
        retention: Duration::from_secs(config.retention_days * 24 * 3600),
        region: config.region.clone(),
        engine_budget: Duration::from_secs(config.engine_budget_seconds),
        standard_limit_seconds: config.max_standard_execution_seconds,
        http: crate::tasks::http::HttpTasks::new(outbound, config.secret_key()?),
        ..Options::default()
    };
    let options = match config.engine_threads {
        0 => options,
        n => Options {
            engine_threads: n,
            ..options
        },
    };
    let options = Options {
        endpoint: format!("http://{local}"),
        ..options
    };
    // A test hook: time that stands still until `POST /v1/test/clock` moves it, so tests
    // of schedules and timers never wait (`SANDSTEP_TEST_CLOCK=<epoch ms>`).
    let test_clock = std::env::var("SANDSTEP_TEST_CLOCK")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .map(|ms| Arc::new(crate::clock::ManualClock::at(ms)));
    let options = match &test_clock {
        Some(clock) => {
            tracing::warn!("SANDSTEP_TEST_CLOCK is set: time moves only with POST /v1/test/clock");
            Options {
                clock: Arc::clone(clock) as Arc<dyn crate::clock::Clock>,
                ..options
            }
        }
        None => options,
    };
    let journal = quarantine::open(&config.data_dir)?;
    let (scheduler, service) = Scheduler::build(options, store.clone(), runner, Some(journal))?;
    scheduler.bind_jobs(jobs);
    let began = std::time::Instant::now();
    let resumed = scheduler.recover().await?;
    tracing::info!(
        resumed,
        elapsed_ms = began.elapsed().as_millis() as u64,
        "recovered running executions"
    );
    let api_config = api::Config {
        region: config.region.clone(),
        admin_token: config.admin_token.clone(),
        max_module_bytes: config.max_module_bytes(),
        activity_poll: Duration::from_secs(config.activity_poll_seconds),
        max_object_bytes: config.max_object_mib << 20,
        test_clock,
        ..api::Config::default()
    };
    let app = Arc::new(App::new(store, scheduler.clone(), api_config, modules)?);
    // One shutdown signal for the HTTP server and the scheduler's loops.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let callbacks = app
        .services
        .callbacks
        .blocking(tokio::runtime::Handle::current());
    let _ = answers.set(Arc::new(callbacks));
    let activities = app.services.activities.clone();
    let signalled = async move {
        shutdown().await;
        // Workers waiting in a long poll get their empty answer now, not in 60 s.
        activities.close();
        let _ = stop.send(true);
    };
    let until_stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    tokio::spawn(signalled);
    // Timers and retention run until shutdown; timers armed by recovery fire from here.
    let loops = tokio::spawn(service.run(until_stopped(stopped.clone())));
    // Messages topics published reach their subscribers from here, those a crash left
    // under way included.
    let deliveries = crate::service::sns_delivery::Deliveries::new(
        app.services.sns.store().clone(),
        app.services.executions.clone(),
        &config.region,
        app.services.sns.published(),
    );
    let delivering = tokio::spawn(deliveries.run(until_stopped(stopped.clone())));
    // Events accepted on buses reach their rules' targets from here, those a crash left
    // under way included.
    let events = crate::service::event_delivery::EventDeliveries::new(
        &app.services.events,
        app.services.executions.clone(),
    );
    let routing = tokio::spawn(events.run(until_stopped(stopped.clone())));
    // Schedules fire from here; fires that were due while the server was down go by their
    // schedule's missed-fire policy. The firing loop reads only what is due; counting every
    // armed schedule for the log reads the whole index, so it runs beside the start.
    let schedules = app.services.schedules.clone();
    tokio::task::spawn_blocking(move || {
        let began = std::time::Instant::now();
        match schedules.armed() {
            Ok(armed) => tracing::info!(
                armed,
                elapsed_ms = began.elapsed().as_millis() as u64,
                "schedules armed"
            ),
            Err(e) => tracing::warn!(error = %e, "counting schedules failed"),
        }
    });
    let firing = tokio::spawn(
        app.services
            .schedules
            .clone()
            .run(until_stopped(stopped.clone())),
    );
    let (listener, lease) = front.serve_now().await?;
    tracing::info!(%local, data_dir = %config.data_dir.display(), "sandstep serving");
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(until_stopped(stopped))
    .await?;
    let _ = loops.await;
    let _ = delivering.await;
    let _ = routing.await;
    let _ = firing.await;
    if let Some(lease) = lease {
        lease.release();
    }
    tracing::info!("stopped; running executions resume on the next start");
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::runner::NoTasks;
    use crate::service::modules::NoModules;
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use serde_json::{json, Value};
    use tower::ServiceExt as _;

    const PASS: &str = r#"{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}}"#;

    fn app() -> Arc<App> {
        let store = Store::memory();
        let scheduler = Scheduler::new(Options::default(), store.clone(), Arc::new(NoTasks))
            .expect("scheduler");
        let app = App::new(
            store,
            scheduler,
            api::Config::default(),
            Arc::new(NoModules),
        )
        .expect("app");
        Arc::new(app)
    }

    async fn send(app: &Arc<App>, request: Request<Body>) -> (StatusCode, Value) {
        let response = router(Arc::clone(app))
            .oneshot(request)
            .await
            .expect("answer");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    async fn call(app: &Arc<App>, action: &str, body: Value) -> (StatusCode, Value) {
        let request = Request::post("/")
            .header("x-amz-target", format!("AWSStepFunctions.{action}"))
            .body(Body::from(body.to_string()))
            .expect("request");
        send(app, request).await
    }

    #[tokio::test]
    async fn the_api_and_the_console_answer_on_one_router() {
        let app = app();
        let role = "arn:aws:iam::000000000000:role/r";
        let (status, created) = call(
            &app,
            "CreateStateMachine",
            json!({"name": "m", "definition": PASS, "roleArn": role, "unknownField": 1}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let arn = created["stateMachineArn"]
            .as_str()
            .expect("arn")
            .to_string();
        let (status, started) = call(
            &app,
            "StartExecution",
            json!({"stateMachineArn": arn, "name": "r1"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{started}");

        // Decoding keeps AWS's words; a service error gets its AWS name.
        let (status, e) = call(&app, "StartExecution", json!({"stateMachineArn": 7})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(e["__type"], "ValidationException");
        assert_eq!(e["message"], "1 validation error detected: Value at 'stateMachineArn' failed to satisfy constraint: Member must be a string");
        let (_, e) = call(
            &app,
            "DescribeExecution",
            json!({"executionArn": format!("{}x", started["executionArn"].as_str().expect("arn"))}),
        )
        .await;
        assert_eq!(e["__type"], "ExecutionDoesNotExist");

        // The console's endpoint is on the same router, with the same errors.
        let trace = Request::get("/v1/console/trace?executionArn=nope")
            .body(Body::empty())
            .expect("request");
        let (status, e) = send(&app, trace).await;
        assert_eq!(
            (status, &e["__type"]),
            (StatusCode::BAD_REQUEST, &json!("InvalidArn"))
        );

        // Unknown paths and methods are answered in the same shape.
        let missing = Request::get("/nowhere")
            .body(Body::empty())
            .expect("request");
        let (status, e) = send(&app, missing).await;
        assert_eq!(
            (status, &e["__type"]),
            (StatusCode::NOT_FOUND, &json!("ResourceNotFound"))
        );
        let wrong = Request::get("/").body(Body::empty()).expect("request");
        let (status, e) = send(&app, wrong).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{e}");
    }
}
