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

use super::delivery_loop::{self, backoff_ms, Deliver};
use super::executions::{Executions, NewExecution};
use crate::eventbridge::transform::{self, RuleRef};
use crate::service::events::Events;
use crate::store::events::{DeadLetter, Delivery, EventBuses as _, Pending};
use crate::store::{Millis, Store};
use sha2::{Digest as _, Sha256};
use std::sync::Arc;
use tokio::sync::Notify;

/// The delivery loop's parts.
#[derive(Debug, Clone)]
pub struct EventDeliveries {
    store: Store,
    executions: Executions,
    region: String,
    woken: Arc<Notify>,
}

impl EventDeliveries {
    /// Deliveries of `events`, starting executions through `executions`.
    pub fn new(events: &Events, executions: Executions) -> Self {
        EventDeliveries {
            store: events.store().clone(),
            executions,
            region: events.region().to_string(),
            woken: events.accepted(),
        }
    }

    /// Delivers until `stop` resolves.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        let woken = Arc::clone(&self.woken);
        delivery_loop::run(self, woken, stop).await;
    }

    /// Starts the target's execution; why not, when it did not start.
    async fn deliver(&self, d: &Delivery) -> Result<(), String> {
        let account = delivery_loop::account_of(&self.store, &d.tenant).await?;
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
}

impl Deliver for EventDeliveries {
    type Pending = Pending;
    const KIND: &'static str = "event";

    fn now(&self) -> Millis {
        self.executions.scheduler().now()
    }

    /// Those of the tenants this server runs (another server delivers the others').
    fn due(&self, now: Millis, limit: usize) -> crate::store::Result<Vec<Pending>> {
        let scheduler = self.executions.scheduler();
        self.store
            .deliveries_due_of(now, limit, &|tenant| scheduler.runs(tenant))
    }

    /// The delivery's id: it stays while its key (which holds its due time) is re-timed.
    fn busy_key(pending: &Pending) -> Vec<u8> {
        pending.delivery.id.clone().into_bytes()
    }

    /// One attempt: removed when it arrived, re-timed or given up when not.
    async fn attempt(&self, Pending { key, delivery }: Pending) {
        let outcome = self.deliver(&delivery).await;
        let now = self.executions.scheduler().now();
        let store = self.store.clone();
        let written = tokio::task::spawn_blocking(move || match outcome {
            Ok(()) => store.delivery_done(&key, &delivery.tenant),
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
                    let due = now + backoff_ms(failed.attempts - 1);
                    store.delivery_retry(&key, &Delivery { due, ..failed })
                }
            }
        })
        .await;
        if let Ok(Err(e)) = written {
            tracing::warn!(error = %e, "recording an event delivery failed");
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
