//! The console's data-flow trace of an execution, and its recorded history.

use super::*;

impl Scheduler {
    /// Replays a stored execution with data-flow tracing, for the console's inspector:
    /// every state visit's data at each stage, recomputed rather than stored (see
    /// [`sandstep_engine::trace`]). `None` when there is no such execution.
    ///
    /// # Errors
    /// Store failures; a definition or history that no longer replays.
    pub async fn trace(&self, key: &ExecutionKey) -> Result<Option<(Execution, Trace)>, Error> {
        let me = self.clone();
        let traced = key.clone();
        let (found, _) = self
            .inner
            .pool
            .run(&key.tenant, Some(key.clone()), move || {
                me.replay_traced(&traced)
            })
            .await?;
        found
    }

    pub(super) fn replay_traced(
        &self,
        key: &ExecutionKey,
    ) -> Result<Option<(Execution, Trace)>, Error> {
        let Some(record) = self.inner.store.execution_get(key)? else {
            return Ok(None);
        };
        let def = self.definition_of(key, &record)?;
        let mut state = ExecutionState::traced();
        for stored in self.inner.store.execution_steps(key)? {
            step(&def, &mut state, &stored.event)?;
        }
        let trace = state.trace().cloned().unwrap_or_default();
        Ok(Some((record, trace)))
    }
}

/// The history events of an execution as recorded, for tests and tools.
pub fn history_of(
    store: &Store,
    key: &ExecutionKey,
) -> Result<Vec<serde_json::Value>, store::Error> {
    Ok(store
        .execution_steps(key)?
        .into_iter()
        .flat_map(|s| s.history)
        .collect())
}
