//! Delivering events: the loop that takes each stored delivery to its target (a state
//! machine: an execution whose input the target's settings make from the event) and
//! removes it once there, so every event reaches every target its rules matched at least
//! once, across crashes.
//!
//! The execution is named after the event and the target, so a delivery repeated after a
//! crash finds the execution it started (exactly once for Standard machines; Express ones
//! keep no names). A failed attempt is tried again after 1 s, doubling to at most a minute,
//! within the target's retry policy (185 retries or 24 hours by default, as EventBridge);
//! then the delivery goes to its bus's dead letters.

use super::executions::{Executions, NewExecution};
use crate::eventbridge::transform::{self, RuleRef};
use crate::service::events::Events;
use crate::store::events::{DeadLetter, Delivery, EventBuses as _, Pending};
use crate::store::{Store, TenantId, Tenants as _};
use sha2::{Digest as _, Sha256};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

/// How often the loop looks for due deliveries without being woken.
const POLL_EVERY: Duration = Duration::from_millis(100);
/// Deliveries made at once.
const PARALLEL: usize = 32;
/// The longest wait between attempts.
const MAX_BACKOFF_MS: i64 = 60_000;

/// The delivery loop's parts.
#[derive(Debug, Clone)]
pub struct EventDeliveries {
    store: Store,
    executions: Executions,
    region: String,
    woken: Arc<Notify>,
    busy: Arc<Mutex<HashSet<String>>>,
    slots: Arc<Semaphore>,
}

impl EventDeliveries {
    /// Deliveries of `events`, starting executions through `executions`.
    pub fn new(events: &Events, executions: Executions) -> Self {
        EventDeliveries {
            store: events.store().clone(),
            executions,
            region: events.region().to_string(),
            woken: events.accepted(),
            busy: Arc::default(),
            slots: Arc::new(Semaphore::new(PARALLEL)),
        }
    }

    /// Delivers until `stop` resolves.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            let woken = self.woken.notified();
            self.round().await;
            tokio::select! {
                () = &mut stop => return,
                () = woken => {}
                () = tokio::time::sleep(POLL_EVERY) => {}
            }
        }
    }

    /// Starts every due delivery not already under way.
    async fn round(&self) {
        let store = self.store.clone();
        let now = self.executions.scheduler().now();
        let due = tokio::task::spawn_blocking(move || store.deliveries_due(now, 1024)).await;
        let due = match due {
            Ok(Ok(due)) => due,
            Ok(Err(e)) => return tracing::warn!(error = %e, "reading event deliveries failed"),
            Err(_) => return,
        };
        for pending in due {
            if !lock(&self.busy).insert(pending.delivery.id.clone()) {
                continue;
            }
            let Ok(permit) = Arc::clone(&self.slots).acquire_owned().await else {
                return;
            };
            let me = self.clone();
            tokio::spawn(async move {
                let id = pending.delivery.id.clone();
                me.attempt(pending).await;
                lock(&me.busy).remove(&id);
                drop(permit);
            });
        }
    }

    /// One attempt: removed when it arrived, re-timed or given up when not.
    async fn attempt(&self, Pending { key, delivery }: Pending) {
        let outcome = self.deliver(&delivery).await;
        let now = self.executions.scheduler().now();
        let store = self.store.clone();
        let written = tokio::task::spawn_blocking(move || match outcome {
            Ok(()) => store.delivery_done(&key),
            Err(why) => {
                let policy = delivery.target.retry_policy;
                let age_ms = now - delivery.accepted;
                let spent = delivery.attempts >= policy.maximum_retry_attempts
                    || age_ms >= i64::from(policy.maximum_event_age_in_seconds) * 1000;
                let failed = Delivery {
                    attempts: delivery.attempts + 1,
                    last_error: Some(why.clone()),
                    ..delivery
                };
                if spent {
                    tracing::warn!(tenant = %failed.tenant, rule = %failed.rule, target = %failed.target.id,
                        %why, "event delivery given up: kept as a dead letter");
                    store.delivery_dead(&key, &DeadLetter { delivery: failed, failed: now })
                } else {
                    let backoff = (1000_i64 << failed.attempts.min(16)).min(MAX_BACKOFF_MS);
                    store.delivery_retry(&key, &Delivery { due: now + backoff, ..failed })
                }
            }
        })
        .await;
        if let Ok(Err(e)) = written {
            tracing::warn!(error = %e, "recording an event delivery failed");
        }
    }

    /// Starts the target's execution; why not, when it did not start.
    async fn deliver(&self, d: &Delivery) -> Result<(), String> {
        let account = self.account_of(&d.tenant).await?;
        let event: serde_json::Value = serde_json::from_str(&d.event).map_err(|e| e.to_string())?;
        let rule_arn = Events::rule_arn(&self.region, &account, &d.bus, &d.rule);
        let input = transform::input_for(
            &d.target,
            &event,
            RuleRef {
                name: &d.rule,
                arn: &rule_arn,
                ingested: d.accepted,
            },
        )?;
        let new = NewExecution {
            state_machine_arn: d.target.arn.clone(),
            name: Some(execution_name(d)),
            input: Some(input),
        };
        self.executions
            .start_once(&d.tenant, &account, new)
            .await
            .map_err(|e| e.to_string())
    }

    async fn account_of(&self, tenant: &TenantId) -> Result<String, String> {
        let store = self.store.clone();
        let id = tenant.clone();
        let found = tokio::task::spawn_blocking(move || store.tenant_get(&id))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        match found {
            Some(t) => Ok(t.account),
            None if *tenant == crate::tenants::default_tenant().id => {
                Ok(crate::tenants::default_tenant().account)
            }
            None => Err(format!("the tenant {tenant} no longer exists")),
        }
    }
}

/// The execution a delivery starts: the event's id and a digest of the rule and target,
/// so a repeated delivery names the same execution (80 characters at most).
pub fn execution_name(d: &Delivery) -> String {
    let event_id = d.id.split('/').next().unwrap_or_default();
    let digest = Sha256::digest(format!("{}/{}/{}", d.bus, d.rule, d.target.id).as_bytes());
    let short = crate::store::data::hex(digest.get(..4).unwrap_or_default());
    format!("{event_id}-{short}")
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
