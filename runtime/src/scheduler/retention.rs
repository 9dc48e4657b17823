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
        let mut doomed = self.inner.store.finished_before(cutoff)?;
        // Another server's tenants are its own to sweep.
        doomed.retain(|key| self.runs(&key.tenant));
        for key in &doomed {
            self.inner.store.execution_delete(key)?;
        }
        Ok(doomed.len())
    }
}
