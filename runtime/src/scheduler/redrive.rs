//! Redriving an ended Standard execution: it opens again, within its tenant's quota of
//! open executions, and runs the states that did not succeed (the engine's `Redriven`).

use super::*;

impl Scheduler {
    /// Redrives an ended Standard execution and returns its record after the redrive's
    /// step (committed durably). The caller has checked that it may be redriven; the
    /// engine refuses a running or succeeded one all the same (a redrive that raced
    /// another).
    ///
    /// # Errors
    /// [`Error::OpenLimit`] over the quota, [`Error::Engine`] when the execution does
    /// not fit a redrive, [`Error::NotRunning`] when it does not exist, store failures.
    #[tracing::instrument(name = "scheduler.redrive", level = "debug", skip_all,
        fields(tenant = %key.tenant, execution = %key.name))]
    pub async fn redrive(
        &self,
        key: &ExecutionKey,
        client_token: Option<String>,
    ) -> Result<Execution, Error> {
        let redriven = key.clone();
        self.detached(move |this| async move {
            let limit = this.inner.quotas.of(&redriven.tenant).max_open_executions;
            let mut reservation =
                OpenReservation::take(&this.inner.open, &redriven.tenant, limit, true)?;
            let kind = EventKind::Redriven { client_token };
            let record = this.deliver_event(&redriven, kind, true, None).await?;
            // Open now; its finish gives the slot back.
            reservation.keep();
            record.ok_or_else(|| Error::NotRunning(redriven.name.clone()))
        })
        .await
    }
}
