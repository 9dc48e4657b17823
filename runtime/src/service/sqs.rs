//! The tenant's SQS queues from outside a workflow: the SQS API's actions (`aws sqs ...`,
//! the AWS SDKs), answered by the same code as the `sqs:` Task integrations (`crate::sqs`).
//! A `ReceiveMessage` with `WaitTimeSeconds` waits here, off the store's threads, until a
//! message comes or the time is up (long polling): a send through the API wakes it at
//! once; a send from elsewhere is seen within a tenth of a second.

use crate::clock::Clock;
use crate::scheduler::doorbells::Doorbells;
use crate::sqs::{Error, Tenant};
use crate::store::Store;
use crate::tenants::Tenant as Caller;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a long poll looks again without being woken.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// SQS's actions on the tenants' queues.
#[derive(Debug, Clone)]
pub struct Sqs {
    store: Store,
    region: String,
    clock: Arc<dyn Clock>,
    bells: Arc<Doorbells>,
}

impl Sqs {
    /// The queues in `store`, with ARNs in `region`.
    pub fn new(store: Store, region: &str, clock: Arc<dyn Clock>) -> Sqs {
        Sqs {
            store,
            region: region.to_string(),
            clock,
            bells: Arc::new(Doorbells::default()),
        }
    }

    /// Runs `action` on `request` in the tenant's queues; queue URLs start with
    /// `endpoint`.
    ///
    /// # Errors
    /// SQS's error for the action.
    #[tracing::instrument(level = "debug", name = "service.sqs", skip_all,
        fields(tenant = %caller.id, action = %action))]
    pub async fn call(
        &self,
        caller: &Caller,
        endpoint: &str,
        action: &str,
        request: Value,
    ) -> Result<Value, Error> {
        let receive = action.eq_ignore_ascii_case("ReceiveMessage");
        let wait = match receive {
            true => {
                let r = request.clone();
                self.on_store(caller, endpoint, move |t| t.wait_seconds(&r))
                    .await?
            }
            false => 0,
        };
        let until = Instant::now() + Duration::from_secs(wait);
        let queue = Tenant::queue_name(&request).unwrap_or_default();
        loop {
            let bell = self.bells.bell(&caller.id, &queue);
            let rung = bell.notify().notified();
            tokio::pin!(rung);
            rung.as_mut().enable();
            let (a, r) = (action.to_string(), request.clone());
            let answer = self
                .on_store(caller, endpoint, move |t| t.call(&a, &r))
                .await?;
            let empty = answer
                .get("Messages")
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty);
            if !receive || !empty || Instant::now() >= until {
                let lower = action.to_ascii_lowercase();
                if !(lower.starts_with("get") || lower.starts_with("list")) {
                    // As SQS: a change is answered once it survives a crash.
                    self.store.durable_later()?.wait().await?;
                }
                if lower.starts_with("sendmessage") {
                    self.bells.ring(&caller.id, &queue);
                }
                return Ok(answer);
            }
            let left = until.saturating_duration_since(Instant::now());
            tokio::select! {
                _ = rung => {}
                _ = tokio::time::sleep(left.min(POLL_EVERY)) => {}
            }
        }
    }

    /// Runs `work` on the caller's queues on a blocking thread.
    async fn on_store<T: Send + 'static>(
        &self,
        caller: &Caller,
        endpoint: &str,
        work: impl FnOnce(&Tenant<'_>) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let (store, region, now) = (self.store.clone(), self.region.clone(), self.clock.now());
        let (id, account) = (caller.id.clone(), caller.account.clone());
        let endpoint = endpoint.to_string();
        tokio::task::spawn_blocking(move || {
            work(&Tenant {
                store: &store,
                tenant: &id,
                region: &region,
                account: &account,
                endpoint: &endpoint,
                now,
                effect: None,
            })
        })
        .await
        .map_err(|e| lost(&e))?
    }
}

fn lost(e: &tokio::task::JoinError) -> Error {
    Error {
        code: "InternalError",
        query_code: "InternalError",
        message: format!("the call was lost: {e}"),
        internal: true,
    }
}
