//! RedriveExecution: a failed, timed-out or aborted Standard execution runs again from
//! the states that did not succeed (the engine keeps what did). AWS's rules: which
//! executions can be redriven (`Execution::redrivable`, shared with DescribeExecution),
//! and a client token that answers its redrive again for fifteen minutes.

use super::{arns, Error, Executions, Result};
use crate::model::{Execution, Status};
use crate::scheduler;
use crate::store::Executions as _;
use crate::tenants::Tenant;
use sandstep_engine::Millis;

impl Executions {
    /// Redrives an execution and answers its redrive date; a request repeating a recent
    /// redrive's `client_token` answers that redrive's date and changes nothing.
    ///
    /// # Errors
    /// [`Error::InvalidArn`] (also for an Express execution's ARN),
    /// [`Error::ExecutionDoesNotExist`], [`Error::ExecutionNotRedrivable`],
    /// [`Error::ExecutionLimitExceeded`], failures.
    #[tracing::instrument(level = "debug", name = "service.redrive_execution", skip_all,
        fields(tenant = %tenant.id, execution = %arn))]
    pub async fn redrive(
        &self,
        tenant: &Tenant,
        arn: &str,
        client_token: Option<String>,
    ) -> Result<Millis> {
        let (key, express) = arns::execution_key(self.region(), tenant, arn)?;
        if express {
            return Err(Error::WrongResource {
                kind: "express",
                arn: arn.to_string(),
            });
        }
        let record = self.record(&key, arn)?;
        let now = self.scheduler().now();
        if let Some(date) = replayed(&record, client_token.as_deref(), now) {
            return Ok(date);
        }
        record
            .redrivable(now)
            .map_err(Error::ExecutionNotRedrivable)?;
        match self.scheduler().redrive(&key, client_token.clone()).await {
            Ok(redriven) => Ok(redriven.redrive_date.unwrap_or(now)),
            // Another redrive came first: the same request again answers it, any other
            // finds the execution running.
            Err(scheduler::Error::Engine(_)) => {
                let record = self.record(&key, arn)?;
                match replayed(&record, client_token.as_deref(), now) {
                    Some(date) => Ok(date),
                    None => Err(Error::ExecutionNotRedrivable(
                        record
                            .redrivable(now)
                            .err()
                            .unwrap_or_else(|| not_redrivable(record.status)),
                    )),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    fn record(&self, key: &crate::model::ExecutionKey, arn: &str) -> Result<Execution> {
        self.store
            .execution_get(key)?
            .ok_or_else(|| Error::ExecutionDoesNotExist(arn.to_string()))
    }
}

/// The date of the redrive a repeated client token started.
fn replayed(record: &Execution, token: Option<&str>, now: Millis) -> Option<Millis> {
    token.and_then(|t| record.redriven_with(t, now))
}

fn not_redrivable(status: Status) -> String {
    format!("Execution is {} and cannot be redriven", status.as_str())
}
