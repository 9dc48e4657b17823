//! Deleting finished executions after the retention period.

use super::*;

impl Scheduler {
    /// Deletes finished Standard executions that stopped before `now - retention`.
    /// Returns how many.
    ///
    /// # Errors
    /// When the store fails.
    pub fn sweep_retention(&self, now: Millis) -> Result<usize, Error> {
        let cutoff = now - self.inner.opts.retention.as_millis() as i64;
        let doomed = self.inner.store.finished_before(cutoff)?;
        for key in &doomed {
            self.inner.store.execution_delete(key)?;
        }
        Ok(doomed.len())
    }

    /// Sweeps every `every` until `shutdown` resolves: the retention loop of
    /// `sandstep serve`. A failed sweep is logged and tried again next time.
    pub async fn run_retention(
        &self,
        every: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            match self.sweep_retention(now()) {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "retention: deleted finished executions"),
                Err(e) => tracing::warn!(error = %e, "retention sweep failed"),
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}
