//! `sandstep serve`: the store, the scheduler and the HTTP API, with graceful shutdown;
//! and [`router`], where the API's routes and the console's are joined.

use crate::api::{self, App};
use crate::cluster::{Cluster, Work};
use crate::config::Config;
use crate::scheduler::runner::TaskRunner;
use crate::scheduler::{quarantine, Options, Scheduler};
use crate::service::ModuleHost;
use crate::store::postgres::listen::Notice;
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
        // In front of every route: a call goes to the server that runs its tenant.
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            api::placement::place,
        ))
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
/// PostgreSQL this server joins the others on the database and claims its share of the
/// partitions (`cluster.rs`) before it answers.
///
/// # Errors
/// When it cannot be opened (or, for PostgreSQL, reached and migrated).
async fn open_store(
    config: &Config,
    local: SocketAddr,
) -> anyhow::Result<(Store, Option<(Arc<Cluster>, Claimed)>)> {
    if config.store == "sled" {
        let store = Store::on(Sled::with_cache(
            &config.data_dir,
            config.durability(),
            config.cache_mib << 20,
        )?);
        let store = store.with_objects(config.data_dir.join("objects"));
        return Ok((store, None));
    }
    let pg = Arc::new(crate::store::postgres::Postgres::connect(
        &config.store,
        config.store_pool,
    )?);
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
    let length = Duration::from_secs(config.lease_seconds);
    let cluster = {
        let pg = Arc::clone(&pg);
        tokio::task::spawn_blocking(move || Cluster::join(pg, owner, address, length)).await??
    };
    tracing::info!(partitions = ?cluster.mine(), "store: PostgreSQL, shared with the servers on it");
    // Renewed from now on, though not served until recovered (`keep_partitions`); those
    // claimed later come through the channel.
    let first = cluster.mine();
    let claimed = (first, keep(&cluster)?);
    // Objects in the database too: whichever server runs a tenant reads them all.
    // Compiled modules in this server's files: native code is loaded only from where
    // this process wrote it.
    let store = Store::on_shared(pg)
        .with_objects_in_store()
        .with_local_artifacts(config.data_dir.join("artifacts"));
    Ok((store, Some((cluster, claimed))))
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into())
}

/// The partitions a cluster member claimed at its start, and what it claims and gives up
/// after.
type Claimed = (Vec<u32>, tokio::sync::mpsc::UnboundedReceiver<Work>);

/// Keeps a cluster member's partitions from the moment they are claimed
/// (`Cluster::keep`): losing one ends the process at once, as its writes are refused
/// anyway, and the others (or its restart) carry on from what is committed.
fn keep(cluster: &Arc<Cluster>) -> anyhow::Result<tokio::sync::mpsc::UnboundedReceiver<Work>> {
    let (work, to_do) = tokio::sync::mpsc::unbounded_channel::<Work>();
    cluster.keep(work, |why| {
        tracing::error!("stopping: {why}");
        eprintln!("sandstep: stopping: {why}");
        std::process::exit(75);
    })?;
    Ok(to_do)
}

/// Serves a cluster member's partitions: those it claimed at the start, then each batch it
/// claims from a server that stopped (or that gave it up), once recovered; and gives up
/// those another member needs.
fn keep_partitions(cluster: &Arc<Cluster>, scheduler: &Scheduler, claimed: Claimed) {
    let (first, mut to_do) = claimed;
    let (cluster, scheduler) = (Arc::clone(cluster), scheduler.clone());
    // One change at a time: the first batch (claimed at the start) with the start's upkeep.
    tokio::spawn(async move {
        recover_partitions(&cluster, &scheduler, &first, true).await;
        while let Some(work) = to_do.recv().await {
            match work {
                Work::Recover(partitions) => {
                    recover_partitions(&cluster, &scheduler, &partitions, false).await;
                }
                Work::Give(partition) => give_partition(&cluster, &scheduler, partition).await,
            }
        }
    });
}

/// Acts on the notices of the servers sharing the database: partitions that moved
/// (`Cluster::heed`), tenants that changed (read again, so a tenant created through
/// another server is known here before its first call).
fn heed_notices(cluster: &Arc<Cluster>, app: &Arc<App>) {
    let mut notices = cluster.notices();
    let (cluster, app) = (Arc::clone(cluster), Arc::clone(app));
    tokio::spawn(async move {
        loop {
            let notice = match notices.recv().await {
                Ok(notice) => notice,
                // Some were missed: look at everything again.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    cluster.heed(Notice::Freed);
                    Notice::Tenants
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            cluster.heed(notice);
            // Notices queued meanwhile: one reading of the tenants serves them all.
            let mut tenants = notice == Notice::Tenants;
            while let Ok(queued) = notices.try_recv() {
                cluster.heed(queued);
                tenants |= queued == Notice::Tenants;
            }
            if tenants {
                let app = Arc::clone(&app);
                let read = tokio::task::spawn_blocking(move || app.reload_tenants()).await;
                if let Ok(Err(e)) = read {
                    tracing::warn!(error = %e, "reading the tenants again failed");
                }
            }
        }
    });
}

/// Gives `partition` (its calls already wait) to whichever server claims it next: lets
/// its tenants' work in flight here end for a moment, lets the partition go, forgets
/// what of its work is left in memory (run again by the next server, from the store),
/// then gives it up. Until the next server claims it, whatever of that work still ends
/// here lands; after, nothing of it does.
async fn give_partition(cluster: &Arc<Cluster>, scheduler: &Scheduler, partition: u32) {
    let began = std::time::Instant::now();
    let theirs = move |tenant: &crate::store::TenantId| {
        crate::store::postgres::lease::partition_of(&tenant.0) == partition
    };
    let until = tokio::time::Instant::now() + cluster.settle_time();
    let busy = || scheduler.busy_with(&theirs) + cluster.calls_in(partition);
    while busy() > 0 && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let busy = busy();
    cluster.let_go(partition);
    scheduler.forget_tenants(&theirs).await;
    let giving = Arc::clone(cluster);
    if let Err(e) = tokio::task::spawn_blocking(move || giving.give(partition)).await {
        tracing::error!(partition, error = %e, "cluster: giving a partition up failed");
    }
    tracing::info!(
        partition,
        left_running = busy,
        elapsed_ms = began.elapsed().as_millis() as u64,
        "cluster: gave a partition up"
    );
}

/// Recovers the tenants of `partitions` (held, not yet served), then serves them.
async fn recover_partitions(
    cluster: &Arc<Cluster>,
    scheduler: &Scheduler,
    partitions: &[u32],
    first: bool,
) {
    let began = std::time::Instant::now();
    let wanted: Vec<u32> = partitions.to_vec();
    let only = move |tenant: &crate::store::TenantId| {
        wanted.contains(&crate::store::postgres::lease::partition_of(&tenant.0))
    };
    match scheduler.recover_tenants(&only, first).await {
        Ok(resumed) => tracing::info!(
            ?partitions,
            resumed,
            elapsed_ms = began.elapsed().as_millis() as u64,
            "cluster: recovered partitions; serving them"
        ),
        Err(e) => {
            // Their work cannot be rebuilt here: another server may do better.
            tracing::error!(?partitions, error = %e, "stopping: cannot recover partitions");
            eprintln!("sandstep: stopping: cannot recover partitions {partitions:?}: {e}");
            std::process::exit(75);
        }
    }
    cluster.recovered(partitions);
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
    // listens on (a port of 0 is chosen here), and the other servers on a PostgreSQL
    // store pass calls to it there.
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let local = listener.local_addr()?;
    let (store, member) = open_store(&config, local).await?;
    let (cluster, claimed) = match member {
        Some((cluster, claimed)) => (Some(cluster), Some(claimed)),
        None => (None, None),
    };
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
        owns: cluster
            .as_ref()
            .map_or_else(crate::cluster::Owns::everything, Cluster::owns),
        // Module tasks spill over to the other servers once this one's cores are taken.
        peers: cluster.as_ref().map(|c| {
            Arc::new(crate::cluster::tasks::Peers::new(Arc::clone(c)))
                as Arc<dyn crate::scheduler::sharing::TaskPeers>
        }),
        share_above: match config.share_tasks_above {
            0 => options.share_above,
            n => n,
        },
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
    // One server recovers everything before it answers; a cluster member answers at once
    // and recovers its partitions meanwhile (their calls wait, the others' are passed on).
    if cluster.is_none() {
        let began = std::time::Instant::now();
        let resumed = scheduler.recover().await?;
        tracing::info!(
            resumed,
            elapsed_ms = began.elapsed().as_millis() as u64,
            "recovered running executions"
        );
    }
    let api_config = api::Config {
        region: config.region.clone(),
        admin_token: config.admin_token.clone(),
        max_module_bytes: config.max_module_bytes(),
        activity_poll: Duration::from_secs(config.activity_poll_seconds),
        max_object_bytes: config.max_object_mib << 20,
        test_clock,
        cluster: cluster.clone(),
        // A call waits through a takeover: a partition lapses within its lease, and its
        // next server recovers and serves it.
        patience: Duration::from_secs(config.lease_seconds) + Duration::from_secs(5),
        ..api::Config::default()
    };
    let app = Arc::new(App::new(store, scheduler.clone(), api_config, modules)?);
    // One shutdown signal for the HTTP server and the scheduler's loops.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let callbacks: Arc<dyn crate::host::callback::TokenAnswers> = Arc::new(
        app.services
            .callbacks
            .blocking(tokio::runtime::Handle::current()),
    );
    // A module running here for another server answers tokens of that server's tenants.
    let callbacks = match &cluster {
        Some(cluster) => Arc::new(crate::cluster::tasks::RoutedAnswers::new(
            callbacks,
            Arc::clone(cluster),
            tokio::runtime::Handle::current(),
        )),
        None => callbacks,
    };
    let _ = answers.set(callbacks);
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
    // Tests and scripts read this line to learn the port when listening on port 0.
    println!("listening on http://{local}");
    if let (Some(cluster), Some(claimed)) = (&cluster, claimed) {
        keep_partitions(cluster, &scheduler, claimed);
        heed_notices(cluster, &app);
    }
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
    if let Some(cluster) = &cluster {
        cluster.leave();
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
