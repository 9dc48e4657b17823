//! `GET /metrics` in the Prometheus text format.

use super::auth::{is_admin, Peer};
use super::error::{Error, Result};
use super::App;
use crate::scheduler::metrics::TenantCounters;
use axum::extract::State;
use axum::http::HeaderMap;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The scheduler's counters as Prometheus metrics. They name every tenant, so on a
/// multi-tenant server only loopback scrapers and holders of the admin token see them.
///
/// # Errors
/// `AccessDeniedException` for other callers on a multi-tenant server.
pub async fn handle(
    State(app): State<Arc<App>>,
    peer: Peer,
    headers: HeaderMap,
) -> Result<([(&'static str, &'static str); 1], String)> {
    let loopback = peer.0.is_none_or(|p| p.ip().is_loopback());
    if app.tenants().multi_tenant() && !loopback && !is_admin(&app, &headers) {
        return Err(Error::AccessDenied(
            "Metrics name every tenant: scrape from loopback or with the admin token".into(),
        ));
    }
    let c = app.services.executions.counters();
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, samples: &[(&str, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let load = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    counter(
        "sandstep_executions_started_total",
        "Executions started.",
        &[("", load(&c.started))],
    );
    let finished: Vec<(String, u64)> = c
        .finished
        .by_status()
        .iter()
        .map(|(s, n)| (format!("{{status=\"{}\"}}", s.as_str()), load(n)))
        .collect();
    let finished_refs: Vec<(&str, u64)> = finished.iter().map(|(l, n)| (l.as_str(), *n)).collect();
    counter(
        "sandstep_executions_finished_total",
        "Executions finished, by status.",
        &finished_refs,
    );
    counter(
        "sandstep_transitions_total",
        "States entered.",
        &[("", load(&c.transitions))],
    );
    counter(
        "sandstep_engine_steps_total",
        "Engine events applied.",
        &[("", load(&c.steps))],
    );
    counter(
        "sandstep_tasks_total",
        "Tasks run.",
        &[("", load(&c.tasks))],
    );
    counter(
        "sandstep_task_milliseconds_total",
        "Time spent running tasks.",
        &[("", load(&c.task_millis))],
    );
    counter(
        "sandstep_task_fuel_total",
        "Fuel consumed by tasks.",
        &[("", load(&c.task_fuel))],
    );
    counter(
        "sandstep_tasks_shared_total",
        "Module tasks of this server's executions that another server ran.",
        &[("", load(&c.shared))],
    );
    counter(
        "sandstep_tasks_for_peers_total",
        "Module tasks this server ran for another server's executions.",
        &[("", load(&c.for_peers))],
    );
    counter(
        "sandstep_tasks_rerun_total",
        "Module tasks run again here after the server running them failed.",
        &[("", load(&c.rerun))],
    );
    let per_tenant: Vec<(String, TenantCounters)> = c
        .per_tenant
        .lock()
        .map(|m| {
            m.iter()
                .map(|(t, v)| (t.0.replace(['"', '\\', '\n'], "_"), *v))
                .collect()
        })
        .unwrap_or_default();
    type Pick<'a> = &'a dyn Fn(&TenantCounters) -> Vec<(String, u64)>;
    let mut tenant_metric = |name: &str, help: &str, pick: Pick<'_>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (tenant, values) in &per_tenant {
            for (labels, value) in pick(values) {
                let _ = writeln!(out, "{name}{{tenant=\"{tenant}\"{labels}}} {value}");
            }
        }
    };
    tenant_metric(
        "sandstep_tenant_executions_started_total",
        "Executions started, per tenant.",
        &|v| vec![(String::new(), v.started)],
    );
    tenant_metric(
        "sandstep_tenant_executions_finished_total",
        "Executions finished, per tenant and status.",
        &|v| {
            v.finished
                .by_status()
                .iter()
                .map(|(s, n)| (format!(",status=\"{}\"", s.as_str()), **n))
                .collect()
        },
    );
    tenant_metric(
        "sandstep_tenant_tasks_total",
        "Tasks run, per tenant.",
        &|v| vec![(String::new(), v.tasks)],
    );
    tenant_metric(
        "sandstep_tenant_task_fuel_total",
        "Fuel consumed by tasks, per tenant.",
        &|v| vec![(String::new(), v.task_fuel)],
    );
    let _ = writeln!(out, "# HELP sandstep_live_executions Executions held in memory.\n# TYPE sandstep_live_executions gauge");
    let _ = writeln!(
        out,
        "sandstep_live_executions {}",
        app.services.executions.live_count()
    );
    let _ = writeln!(
        out,
        "# HELP sandstep_module_tasks_running Module tasks running in this process, its own \
         and other servers'.\n# TYPE sandstep_module_tasks_running gauge\n\
         sandstep_module_tasks_running {}",
        app.services.executions.modules_running()
    );
    if let Some(cluster) = &app.config.cluster {
        let _ = writeln!(
            out,
            "# HELP sandstep_partitions_held Partitions of the shared store this server holds.\n\
             # TYPE sandstep_partitions_held gauge\nsandstep_partitions_held {}",
            cluster.mine().len()
        );
        let _ = writeln!(
            out,
            "# HELP sandstep_callbacks_passed_total Module callbacks passed to the server \
             running their token's execution.\n# TYPE sandstep_callbacks_passed_total counter\n\
             sandstep_callbacks_passed_total {}",
            cluster.passed()
        );
    }
    Ok(([("content-type", "text/plain; version=0.0.4")], out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Config;
    use crate::scheduler::{runner::NoTasks, Options, Scheduler};
    use crate::service::modules::NoModules;
    use crate::store::Store;
    use crate::tenants::Quotas;

    fn app(tenants: usize) -> Arc<App> {
        let store = Store::memory();
        for i in 0..tenants {
            crate::service::Tenants::new(store.clone())
                .create(&format!("t{i}"), Quotas::default())
                .unwrap();
        }
        let scheduler =
            Scheduler::new(Options::default(), store.clone(), Arc::new(NoTasks)).unwrap();
        let config = Config {
            admin_token: Some("secret".into()),
            ..Config::default()
        };
        Arc::new(App::new(store, scheduler, config, Arc::new(NoModules)).unwrap())
    }

    fn remote() -> Peer {
        Peer(Some("192.0.2.7:4000".parse().unwrap()))
    }

    #[tokio::test]
    async fn a_multi_tenant_server_shows_metrics_to_loopback_and_admin_only() {
        let app = app(1);
        let denied = handle(State(Arc::clone(&app)), remote(), HeaderMap::new()).await;
        assert!(matches!(denied, Err(Error::AccessDenied(_))));
        let mut admin = HeaderMap::new();
        admin.insert("authorization", "Bearer secret".parse().unwrap());
        assert!(handle(State(Arc::clone(&app)), remote(), admin)
            .await
            .is_ok());
        let local = Peer(Some("127.0.0.1:4000".parse().unwrap()));
        assert!(handle(State(app), local, HeaderMap::new()).await.is_ok());
    }

    #[tokio::test]
    async fn a_single_tenant_server_shows_metrics_to_anyone() {
        assert!(handle(State(app(0)), remote(), HeaderMap::new())
            .await
            .is_ok());
    }
}
