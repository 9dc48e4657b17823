//! `GET /metrics` in the Prometheus text format.

use super::App;
use axum::extract::State;
use std::fmt::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The scheduler's counters as Prometheus metrics.
pub async fn handle(State(app): State<Arc<App>>) -> ([(&'static str, &'static str); 1], String) {
    let c = app.scheduler.counters();
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
    let statuses = ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"];
    let finished: Vec<(String, u64)> = statuses
        .iter()
        .zip(c.finished.iter())
        .map(|(s, n)| (format!("{{status=\"{s}\"}}"), load(n)))
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
    let per_tenant: Vec<(String, [u64; 7])> = c
        .per_tenant
        .lock()
        .map(|m| {
            m.iter()
                .map(|(t, v)| (t.0.replace(['"', '\\', '\n'], "_"), *v))
                .collect()
        })
        .unwrap_or_default();
    type Pick<'a> = &'a dyn Fn(&[u64; 7]) -> Vec<(String, u64)>;
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
        &|v| vec![(String::new(), v[0])],
    );
    tenant_metric(
        "sandstep_tenant_executions_finished_total",
        "Executions finished, per tenant and status.",
        &|v| {
            statuses
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    (
                        format!(",status=\"{s}\""),
                        v.get(1 + i).copied().unwrap_or(0),
                    )
                })
                .collect()
        },
    );
    tenant_metric(
        "sandstep_tenant_tasks_total",
        "Tasks run, per tenant.",
        &|v| vec![(String::new(), v[5])],
    );
    tenant_metric(
        "sandstep_tenant_task_fuel_total",
        "Fuel consumed by tasks, per tenant.",
        &|v| vec![(String::new(), v[6])],
    );
    let _ = writeln!(out, "# HELP sandstep_live_executions Executions held in memory.\n# TYPE sandstep_live_executions gauge");
    let _ = writeln!(
        out,
        "sandstep_live_executions {}",
        app.scheduler.live_count()
    );
    ([("content-type", "text/plain; version=0.0.4")], out)
}
