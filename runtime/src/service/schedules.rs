//! Schedules (the EventBridge Scheduler role, and rules with a `ScheduleExpression`): the
//! tenant's schedules, checked when written, and the loop that fires them on the
//! scheduler's clock (so tests move a `ManualClock` instead of waiting).
//!
//! Every fire is named after its schedule and its fire time: the execution it starts is
//! `<schedule>-<digest>-<yyyymmddThhmmssZ>`, started with `start_once`, and the schedule's
//! next fire is written only after. A crash between the two fires the same time again on
//! recovery, which finds the execution it started: no fire starts twice.
//!
//! A fire more than a minute late (the server was down) is missed: a schedule that says
//! `fireOnce` (the default) runs it once, named by the earliest missed time, then goes on
//! from now; `skip` goes on from now without running it.

use super::events::Events;
use super::executions::{Executions, NewExecution};
use super::{Error, Result};
use crate::store::schedules::{
    Action, Due, Missed, ScheduleDef, Schedules as _, DEFAULT_GROUP, RULES_GROUP,
};
use crate::store::{Millis, Store, TenantId, Tenants as _};
use crate::tenants::Tenant;
use sandstep_events::schedule::{zone, Dialect, Expression, Schedule};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// How late a fire may be and still count as on time.
const GRACE_MS: Millis = 60_000;
/// How often the loop looks for due schedules without being woken.
const POLL_EVERY: Duration = Duration::from_millis(250);
/// The test hook that crashes the process right after a fire started its execution
/// (before the schedule moved on): `SANDSTEP_TEST_CRASH=after-schedule-fire`.
const CRASH_AFTER_FIRE: &str = "after-schedule-fire";

/// A schedule as written to `PUT /v1/schedules/{name}` (or Scheduler's API).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScheduleSpec {
    /// Its group (`default`).
    pub group: Option<String>,
    /// `rate(...)`, `cron(...)` or `at(...)`.
    pub expression: String,
    /// Its IANA zone (`UTC`).
    pub timezone: Option<String>,
    /// Nothing fires before it (epoch ms); a rate counts from it (now when absent).
    pub start: Option<Millis>,
    /// Nothing fires after it (epoch ms).
    pub end: Option<Millis>,
    /// Whether it fires (yes).
    pub enabled: Option<bool>,
    /// The state machine it starts.
    pub target_arn: String,
    /// The input (JSON text, `{}`).
    pub input: Option<String>,
    /// The role given.
    pub role_arn: Option<String>,
    /// Missed fires' policy.
    pub missed: Option<Missed>,
    /// Delete a one-time schedule after it fired.
    pub delete_after: bool,
    /// Its description.
    pub description: Option<String>,
}

/// The tenants' schedules.
#[derive(Debug, Clone)]
pub struct Schedules {
    store: Store,
    executions: Executions,
    events: Events,
    region: String,
    woken: Arc<Notify>,
}

impl Schedules {
    /// The schedules in `store`, firing through `executions` and `events`.
    pub fn new(store: Store, executions: Executions, events: Events, region: &str) -> Schedules {
        Schedules {
            store,
            executions,
            events,
            region: region.to_string(),
            woken: Arc::new(Notify::new()),
        }
    }

    fn now(&self) -> Millis {
        self.executions.scheduler().now()
    }

    /// Creates (or, with `replace`, replaces) a schedule.
    ///
    /// # Errors
    /// [`Error::InvalidSchedule`] (Scheduler's messages), [`Error::StateMachineDoesNotExist`],
    /// [`Error::ScheduleExists`] when it exists and `replace` is false,
    /// [`Error::ScheduleDoesNotExist`] when it does not and `replace` is true.
    #[tracing::instrument(level = "debug", name = "service.put_schedule", skip_all, fields(tenant = %tenant.id, schedule = %name))]
    pub async fn put(
        &self,
        tenant: &Tenant,
        name: &str,
        spec: ScheduleSpec,
        replace: bool,
    ) -> Result<ScheduleDef> {
        let group = spec
            .group
            .clone()
            .unwrap_or_else(|| DEFAULT_GROUP.to_string());
        check_name(name, "name")?;
        check_name(&group, "group")?;
        if group == RULES_GROUP {
            return Err(Error::InvalidSchedule(format!(
                "The group {RULES_GROUP} holds rules' schedules."
            )));
        }
        let existing = self.store.schedule_get(&tenant.id, &group, name)?;
        match (&existing, replace) {
            (Some(_), false) => return Err(Error::ScheduleExists(name.to_string())),
            (None, true) => return Err(Error::ScheduleDoesNotExist(name.to_string())),
            _ => {}
        }
        let machine = self
            .executions
            .machines()
            .describe(tenant, &spec.target_arn)?
            .0;
        let input = spec.input.unwrap_or_else(|| "{}".to_string());
        serde_json::from_str::<serde_json::Value>(&input).map_err(|e| {
            Error::InvalidSchedule(format!("The target's Input is not valid JSON: {e}"))
        })?;
        let now = self.now();
        let def = ScheduleDef {
            name: name.to_string(),
            group,
            expression: spec.expression,
            timezone: spec.timezone.unwrap_or_else(|| "UTC".to_string()),
            start: spec.start.unwrap_or(now),
            end: spec.end,
            enabled: spec.enabled.unwrap_or(true),
            action: Action::StartExecution {
                arn: machine.arn,
                input,
                role_arn: spec.role_arn,
            },
            missed: spec.missed.unwrap_or_default(),
            delete_after: spec.delete_after,
            description: spec.description,
            next: None,
            last: existing.as_ref().and_then(|e| e.last),
            created: existing.as_ref().map_or(now, |e| e.created),
            modified: now,
        };
        let def = armed(def, Dialect::Scheduler, now)?;
        self.store.schedule_put(&tenant.id, &def)?;
        self.store.durable_later()?.wait().await?;
        self.woken.notify_one();
        Ok(def)
    }

    /// A schedule.
    ///
    /// # Errors
    /// [`Error::ScheduleDoesNotExist`].
    pub fn get(&self, tenant: &Tenant, group: Option<&str>, name: &str) -> Result<ScheduleDef> {
        self.store
            .schedule_get(&tenant.id, group.unwrap_or(DEFAULT_GROUP), name)?
            .ok_or_else(|| Error::ScheduleDoesNotExist(name.to_string()))
    }

    /// The tenant's schedules (of a group), rules' own left out.
    ///
    /// # Errors
    /// When the store fails.
    pub fn list(&self, tenant: &Tenant, group: Option<&str>) -> Result<Vec<ScheduleDef>> {
        Ok(self
            .store
            .schedule_list(&tenant.id, group)?
            .into_iter()
            .filter(|s| s.group != RULES_GROUP)
            .collect())
    }

    /// Deletes a schedule.
    ///
    /// # Errors
    /// [`Error::ScheduleDoesNotExist`].
    pub async fn delete(&self, tenant: &Tenant, group: Option<&str>, name: &str) -> Result<()> {
        match self
            .store
            .schedule_delete(&tenant.id, group.unwrap_or(DEFAULT_GROUP), name)?
        {
            true => Ok(self.store.durable_later()?.wait().await?),
            false => Err(Error::ScheduleDoesNotExist(name.to_string())),
        }
    }

    /// The next `n` fires of a schedule, from now.
    pub fn upcoming(&self, def: &ScheduleDef, n: usize) -> Vec<Millis> {
        match compiled(def, Dialect::Scheduler) {
            Ok(schedule) => schedule.upcoming(self.now().max(def.start - 1), n),
            Err(_) => Vec::new(),
        }
    }

    /// How many schedules are armed (the count the server logs after it starts; it reads
    /// the whole due index).
    ///
    /// # Errors
    /// When the store fails.
    pub fn armed(&self) -> Result<usize> {
        Ok(self.store.schedules_armed()?)
    }

    /// Fires due schedules until `stop` resolves.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let crash = std::env::var("SANDSTEP_TEST_CRASH").is_ok_and(|v| v == CRASH_AFTER_FIRE);
        loop {
            let woken = self.woken.notified();
            self.round(crash).await;
            tokio::select! {
                () = &mut stop => return,
                () = woken => {}
                () = tokio::time::sleep(POLL_EVERY) => {}
            }
        }
    }

    /// Fires every due schedule once.
    async fn round(&self, crash: bool) {
        let now = self.now();
        let store = self.store.clone();
        let scheduler = self.executions.scheduler().clone();
        // Another server fires its own tenants' schedules.
        let ours = move |tenant: &crate::store::TenantId| scheduler.runs(tenant);
        let due = match tokio::task::spawn_blocking(move || store.schedules_due_of(now, 512, &ours))
            .await
        {
            Ok(Ok(due)) => due,
            Ok(Err(e)) => return tracing::warn!(error = %e, "reading due schedules failed"),
            Err(_) => return,
        };
        for d in due {
            if let Err(e) = self.fire(&d, now, crash).await {
                tracing::warn!(tenant = %d.tenant, group = %d.group, schedule = %d.name, error = %e, "a schedule's fire failed");
            }
        }
    }

    /// One due schedule: fires it (unless a missed fire is skipped), then moves it on.
    async fn fire(&self, due: &Due, now: Millis, crash: bool) -> Result<()> {
        let Some(mut def) = self
            .store
            .schedule_get(&due.tenant, &due.group, &due.name)?
        else {
            return Ok(());
        };
        if !def.enabled || def.next != Some(due.at) {
            return Ok(());
        }
        let late = now - due.at > GRACE_MS;
        let runs = !late || def.missed == Missed::FireOnce;
        if runs {
            if let Err(e) = self.act(&due.tenant, &def, due.at).await {
                tracing::warn!(tenant = %due.tenant, schedule = %def.name, error = %e, "a schedule's fire could not start its target; the fire is skipped");
            }
            if crash {
                tracing::error!("SANDSTEP_TEST_CRASH={CRASH_AFTER_FIRE}: aborting after a fire");
                std::process::abort();
            }
            def.last = Some(due.at);
        }
        let dialect = match def.group.as_str() {
            RULES_GROUP => Dialect::Rule,
            _ => Dialect::Scheduler,
        };
        let from = if late { now } else { due.at };
        def.next = compiled(&def, dialect)
            .ok()
            .and_then(|s| s.next_after(from));
        if def.next.is_none() && def.delete_after {
            self.store
                .schedule_delete(&due.tenant, &def.group, &def.name)?;
        } else {
            self.store.schedule_put(&due.tenant, &def)?;
        }
        Ok(())
    }

    /// What a fire does: an execution, or a rule's scheduled event.
    async fn act(&self, tenant: &TenantId, def: &ScheduleDef, at: Millis) -> Result<()> {
        let account = match self.store.tenant_get(tenant)? {
            Some(t) => t.account,
            None => crate::tenants::default_tenant().account,
        };
        match &def.action {
            Action::StartExecution { arn, input, .. } => {
                let new = NewExecution {
                    state_machine_arn: arn.clone(),
                    name: Some(fire_name(tenant, def, at)),
                    input: Some(input.clone()),
                };
                self.executions.start_once(tenant, &account, new).await
            }
            Action::Rule { bus, rule } => self
                .events
                .fire_rule(tenant, &account, bus, rule, at)
                .await
                .map_err(|e| Error::Internal(e.message)),
        }
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }
}

/// A schedule's expression and zone, compiled.
fn compiled(def: &ScheduleDef, dialect: Dialect) -> std::result::Result<Schedule, String> {
    let expression = Expression::parse(&def.expression, dialect).map_err(|e| e.0)?;
    let tz = zone(&def.timezone).map_err(|e| e.0)?;
    Ok(Schedule::new(expression, tz, def.start, def.end))
}

/// `def` checked and armed with its first fire after `now`.
///
/// # Errors
/// [`Error::InvalidSchedule`] with the dialect's message.
pub fn armed(def: ScheduleDef, dialect: Dialect, now: Millis) -> Result<ScheduleDef> {
    if let Some(end) = def.end.filter(|end| *end <= def.start) {
        return Err(Error::InvalidSchedule(format!(
            "The EndDate ({end}) must be after the StartDate ({}).",
            def.start
        )));
    }
    let schedule = compiled(&def, dialect).map_err(Error::InvalidSchedule)?;
    let next = schedule.first(now);
    Ok(ScheduleDef { next, ..def })
}

/// The execution a fire starts: the schedule's name, a digest of where it lives, and the
/// fire time (at most 80 characters, AWS's name characters only).
pub fn fire_name(tenant: &TenantId, def: &ScheduleDef, at: Millis) -> String {
    let readable: String = def
        .name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(40)
        .collect();
    let digest = Sha256::digest(format!("{tenant}/{}/{}", def.group, def.name).as_bytes());
    let short = crate::store::data::hex(digest.get(..3).unwrap_or_default());
    let time = sandstep_engine::timestamp::format_millis(at);
    let compact: String = time
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(15)
        .collect();
    format!("{readable}-{short}-{compact}Z")
}

fn check_name(name: &str, what: &str) -> Result<()> {
    match (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)) {
        true => Ok(()),
        false => Err(Error::InvalidSchedule(format!(
            "1 validation error detected: Value '{name}' at '{what}' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+"
        ))),
    }
}
