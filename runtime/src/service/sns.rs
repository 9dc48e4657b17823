//! The tenant's SNS topics from outside a workflow: the SNS API's actions (`aws sns ...`,
//! the AWS SDKs), answered by the same code as the `sns:` Task integrations
//! (`crate::sns`). A change is answered once it survives a crash; a publish wakes the
//! delivery loop ([`super::sns_delivery`]) at once.

use crate::clock::Clock;
use crate::sns::{Error, Tenant};
use crate::store::Store;
use crate::tenants::Tenant as Caller;
use serde_json::Value;
use std::sync::Arc;
use tokio::sync::Notify;

/// SNS's actions on the tenants' topics.
#[derive(Debug, Clone)]
pub struct Sns {
    store: Store,
    region: String,
    clock: Arc<dyn Clock>,
    published: Arc<Notify>,
}

impl Sns {
    /// The topics in `store`, with ARNs in `region`.
    pub fn new(store: Store, region: &str, clock: Arc<dyn Clock>) -> Sns {
        Sns {
            store,
            region: region.to_string(),
            clock,
            published: Arc::new(Notify::new()),
        }
    }

    /// The store the topics are in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// What a publish through this service notifies (the delivery loop waits on it).
    pub fn published(&self) -> Arc<Notify> {
        Arc::clone(&self.published)
    }

    /// Runs `action` on `request` in the tenant's topics.
    ///
    /// # Errors
    /// SNS's error for the action.
    #[tracing::instrument(level = "debug", name = "service.sns", skip_all,
        fields(tenant = %caller.id, action = %action))]
    pub async fn call(
        &self,
        caller: &Caller,
        action: &str,
        request: Value,
    ) -> Result<Value, Error> {
        let (store, region, now) = (self.store.clone(), self.region.clone(), self.clock.now());
        let (id, account) = (caller.id.clone(), caller.account.clone());
        let a = action.to_string();
        let answer = tokio::task::spawn_blocking(move || {
            Tenant {
                store: &store,
                tenant: &id,
                region: &region,
                account: &account,
                now,
                effect: None,
            }
            .call(&a, &request)
        })
        .await
        .map_err(|e| Error {
            code: "InternalError",
            message: format!("the call was lost: {e}"),
            internal: true,
        })??;
        let lower = action.to_ascii_lowercase();
        if !(lower.starts_with("get") || lower.starts_with("list")) {
            self.store.durable_later()?.wait().await?;
        }
        if lower.starts_with("publish") {
            self.published.notify_one();
        }
        Ok(answer)
    }
}
