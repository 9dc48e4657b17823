//! Delivering what topics published: the loop that takes each stored delivery to its
//! subscriber and removes it once there, so every message reaches every subscription
//! whose filter it passed at least once, across crashes.
//!
//! - **sqs**: a send to the tenant's queue (the SNS JSON notification as the body, or the
//!   message itself with its attributes when the subscription is raw); FIFO topics pass
//!   their message group and deduplication id on, so a FIFO queue drops a repeat.
//! - **lambda**: the module runs with SNS's Lambda event, in the tenant's task slots.
//! - **states**: an execution of the state machine, named after the message and the
//!   subscription, so a delivery repeated after a crash finds the execution it started
//!   (exactly once for Standard machines; Express ones keep no names).
//!
//! A failed delivery is tried again after 1 s, doubling to at most a minute between
//! attempts, for SNS's 23 days; then it is dropped with a warning.

use super::delivery_loop::{self, backoff_ms, Deliver};
use super::executions::{Executions, NewExecution};
use crate::scheduler::runner::{Progress, TaskContext};
use crate::sns::envelope;
use crate::store::topics::{Delivery, Pending, Protocol, Topics as _};
use crate::store::{Millis, Store};
use crate::tasks::LAMBDA_INVOKE;
use sandstep_engine::{EventKind, TaskId, TaskRequest};
use serde_json::json;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use tokio::sync::Notify;

/// How long a delivery is tried (SNS: 23 days for queues and functions).
const GIVE_UP_AFTER_MS: Millis = 23 * 24 * 3600 * 1000;

/// The delivery loop's parts.
#[derive(Debug, Clone)]
pub struct Deliveries {
    store: Store,
    executions: Executions,
    region: String,
    woken: Arc<Notify>,
}

impl Deliveries {
    /// Deliveries from `store`, starting executions through `executions`; `woken` is
    /// notified by publishes that want their deliveries made at once.
    pub fn new(store: Store, executions: Executions, region: &str, woken: Arc<Notify>) -> Self {
        Deliveries {
            store,
            executions,
            region: region.to_string(),
            woken,
        }
    }

    /// Delivers until `stop` resolves.
    pub async fn run(self, stop: impl std::future::Future<Output = ()>) {
        let woken = Arc::clone(&self.woken);
        delivery_loop::run(self, woken, stop).await;
    }

    /// Takes the message to its subscriber; why not, when it did not get there.
    async fn deliver(&self, d: &Delivery) -> Result<(), String> {
        let account = delivery_loop::account_of(&self.store, &d.tenant).await?;
        let topic_arn = format!(
            "arn:aws:sns:{}:{account}:{}",
            self.region, d.subscription.topic
        );
        let subscription_arn = format!("{topic_arn}:{}", d.subscription.id);
        let n = &d.notification;
        match d.subscription.protocol {
            Protocol::Sqs => {
                let queue = d
                    .subscription
                    .endpoint
                    .rsplit(':')
                    .next()
                    .unwrap_or_default();
                let mut request = json!({
                    "QueueUrl": format!("http://sandstep/{account}/{queue}"),
                    "MessageGroupId": n.group,
                    "MessageDeduplicationId": n.dedup,
                });
                if let Some(o) = request.as_object_mut() {
                    o.retain(|_, v| !v.is_null());
                    if d.subscription.raw {
                        o.insert("MessageBody".into(), json!(n.message));
                        if !n.attributes.is_empty() {
                            o.insert(
                                "MessageAttributes".into(),
                                crate::sqs::attributes_json(&n.attributes),
                            );
                        }
                    } else {
                        let body = envelope::notification(n, &topic_arn, &subscription_arn);
                        o.insert("MessageBody".into(), json!(body.to_string()));
                    }
                }
                let (store, tenant, region) =
                    (self.store.clone(), d.tenant.clone(), self.region.clone());
                let now = self.executions.scheduler().now();
                tokio::task::spawn_blocking(move || {
                    crate::sqs::Tenant {
                        store: &store,
                        tenant: &tenant,
                        region: &region,
                        account: &account,
                        endpoint: "http://sandstep",
                        now,
                        effect: None,
                    }
                    .call("SendMessage", &request)
                    .map(|_| ())
                    .map_err(|e| format!("{}: {}", e.code, e.message))
                })
                .await
                .map_err(|e| e.to_string())?
            }
            Protocol::Lambda => {
                let event = envelope::lambda_event(n, &topic_arn, &subscription_arn);
                let request = TaskRequest {
                    id: TaskId(0),
                    resource: LAMBDA_INVOKE.to_string(),
                    input: json!({"FunctionName": d.subscription.endpoint, "Payload": event}),
                    timeout_seconds: None,
                    heartbeat_seconds: None,
                    attempt: d.attempts,
                    state_name: format!("sns:{}", d.subscription.topic),
                    task_token: None,
                };
                let task = TaskContext {
                    tenant: d.tenant.clone(),
                    execution_arn: subscription_arn,
                    pins: Arc::default(),
                    progress: Progress::ignored(request.id),
                    request,
                    cancelled: Arc::new(AtomicBool::new(false)),
                };
                match self.executions.scheduler().run_detached(task).await {
                    EventKind::TaskFailed { error, cause, .. } => Err(format!("{error}: {cause}")),
                    _ => Ok(()),
                }
            }
            Protocol::States => {
                let input = match d.subscription.raw {
                    true => envelope::raw_input(n),
                    false => envelope::notification(n, &topic_arn, &subscription_arn),
                };
                let short: String = d.subscription.id.chars().take(8).collect();
                let new = NewExecution {
                    state_machine_arn: d.subscription.endpoint.clone(),
                    name: Some(format!("{}-{short}", n.id)),
                    input: Some(input.to_string()),
                };
                self.executions
                    .start_once(&d.tenant, &account, new)
                    .await
                    .map_err(|e| e.to_string())
            }
        }
    }
}

impl Deliver for Deliveries {
    type Pending = Pending;
    const KIND: &'static str = "SNS";

    fn now(&self) -> Millis {
        self.executions.scheduler().now()
    }

    /// Those of the tenants this server runs (another server delivers the others').
    fn due(&self, now: Millis, limit: usize) -> crate::store::Result<Vec<Pending>> {
        let scheduler = self.executions.scheduler();
        self.store
            .deliveries_due_of(now, limit, &|tenant| scheduler.runs(tenant))
    }

    fn busy_key(pending: &Pending) -> Vec<u8> {
        pending.key.clone()
    }

    /// One attempt at a delivery: removed when it arrived, re-timed when not.
    async fn attempt(&self, Pending { key, delivery }: Pending) {
        let outcome = self.deliver(&delivery).await;
        let now = self.executions.scheduler().now();
        let store = self.store.clone();
        let written = tokio::task::spawn_blocking(move || match outcome {
            Ok(()) => store.delivery_done(&key),
            Err(why) if now - delivery.notification.published > GIVE_UP_AFTER_MS => {
                tracing::warn!(tenant = %delivery.tenant, subscription = %delivery.subscription.id,
                    message = %delivery.notification.id, %why, "SNS delivery given up");
                store.delivery_done(&key)
            }
            Err(why) => {
                tracing::debug!(tenant = %delivery.tenant, subscription = %delivery.subscription.id,
                    %why, attempts = delivery.attempts + 1, "SNS delivery failed; retrying");
                let next = Delivery {
                    attempts: delivery.attempts + 1,
                    due: now + backoff_ms(delivery.attempts),
                    ..delivery
                };
                store.delivery_retry(&key, &next)
            }
        })
        .await;
        if let Ok(Err(e)) = written {
            tracing::warn!(error = %e, "recording an SNS delivery failed");
        }
    }
}
