//! The tenant's DynamoDB tables from outside a workflow: the DynamoDB API's actions
//! (`aws dynamodb ...`, the AWS SDKs), answered by the same operations the `dynamodb:`
//! Task integrations run (`dynamo::ops`), so what a workflow wrote reads back alike.
//! Requests and answers are DynamoDB's JSON documents: they are this domain's data.

use crate::clock::Clock;
use crate::dynamo::ops::{self, Error};
use crate::store::Store;
use crate::tenants::Tenant;
use serde_json::Value;
use std::sync::Arc;

/// DynamoDB's actions on the tenants' tables.
#[derive(Debug, Clone)]
pub struct DynamoDb {
    store: Store,
    region: String,
    clock: Arc<dyn Clock>,
}

impl DynamoDb {
    /// The tables in `store`, with ARNs in `region`.
    pub fn new(store: Store, region: &str, clock: Arc<dyn Clock>) -> DynamoDb {
        DynamoDb {
            store,
            region: region.to_string(),
            clock,
        }
    }

    /// Runs `action` on `request` in the tenant's tables, off the async runtime (a Scan
    /// reads a whole table); a write answers once it is durable.
    ///
    /// # Errors
    /// DynamoDB's error for the action ([`ops::Error`]).
    #[tracing::instrument(level = "debug", name = "service.dynamodb", skip_all,
        fields(tenant = %tenant.id, action = %action))]
    pub async fn call(
        &self,
        tenant: &Tenant,
        action: &str,
        request: Value,
    ) -> Result<Value, Error> {
        let (store, region, now) = (self.store.clone(), self.region.clone(), self.clock.now());
        let (id, account, action) = (
            tenant.id.clone(),
            tenant.account.clone(),
            action.to_string(),
        );
        let writes = !matches!(
            action.to_ascii_lowercase().as_str(),
            "getitem" | "batchgetitem" | "query" | "scan" | "describetable" | "listtables"
        );
        let answer = tokio::task::spawn_blocking(move || {
            let tables = ops::Tenant {
                store: &store,
                tenant: &id,
                region: &region,
                account: &account,
                now,
                effect: None,
            };
            tables.call(&action, &request)
        })
        .await
        .map_err(|e| Error::Internal(format!("the call was lost: {e}")))??;
        if writes {
            // As DynamoDB: a write is answered once it survives a crash.
            self.store.durable_later()?.wait().await?;
        }
        Ok(answer)
    }
}
