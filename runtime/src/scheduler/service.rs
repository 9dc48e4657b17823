//! The scheduler's loops, run as one service until shutdown: the timer heap, the delivery
//! of due timers as `TimerFired` events, and the retention sweep.

use super::*;
use std::sync::Weak;
use tokio::sync::mpsc::UnboundedReceiver;
use tracing::Instrument;

/// The scheduler's loops, not yet running; made by [`Scheduler::build`].
#[derive(Debug)]
pub struct Service {
    /// Weak: the loops must not keep a scheduler alive that nobody uses any more.
    scheduler: Weak<Inner>,
    timers: timers::Service,
    fired: UnboundedReceiver<timers::Fired>,
    retention_every: Duration,
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inner").finish_non_exhaustive()
    }
}

impl Service {
    pub(super) fn new(
        scheduler: &Scheduler,
        timers: timers::Service,
        fired: UnboundedReceiver<timers::Fired>,
    ) -> Service {
        Service {
            scheduler: Arc::downgrade(&scheduler.inner),
            timers,
            fired,
            retention_every: scheduler.inner.opts.retention_every,
        }
    }

    /// Runs the loops until `shutdown` resolves or the scheduler is dropped. Timers
    /// that come due after shutdown are not delivered: the store keeps them, and the
    /// next start's recovery arms them again.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        let Service {
            scheduler,
            timers,
            fired,
            retention_every,
        } = self;
        tokio::select! {
            () = shutdown => {}
            () = timers.run() => {}
            () = deliver_timers(scheduler.clone(), fired) => {}
            () = sweep_retention(scheduler, retention_every) => {}
        }
    }
}

/// Due timers become `TimerFired` events, each delivered on a task of its own.
async fn deliver_timers(inner: Weak<Inner>, mut fired: UnboundedReceiver<timers::Fired>) {
    while let Some(t) = fired.recv().await {
        let Some(inner) = inner.upgrade() else { return };
        let s = Scheduler { inner };
        let span = tracing::debug_span!(
            "scheduler.timer",
            tenant = %t.execution.tenant,
            execution = %t.execution.name
        );
        tokio::spawn(
            async move {
                let fired = EventKind::TimerFired { timer: t.timer };
                if let Err(e) = s.deliver_event(&t.execution, fired, false, t.run).await {
                    tracing::debug!(error = %e, "timer dropped");
                }
            }
            .instrument(span),
        );
    }
}

/// How long after the start the first retention sweep waits (at most one interval): a
/// sweep scans every execution, and the start belongs to recovery and the timers it arms.
const FIRST_SWEEP_AFTER: Duration = Duration::from_secs(1);

/// Deletes finished executions past their retention: soon after the start (so a restart
/// applies a shortened retention at once), then every `every`. A sweep is blocking store
/// work and runs off the async workers; a failed one is logged and tried again next time.
async fn sweep_retention(inner: Weak<Inner>, every: Duration) {
    let mut wait = every.min(FIRST_SWEEP_AFTER);
    loop {
        tokio::time::sleep(wait).await;
        wait = every;
        let Some(inner) = inner.upgrade() else { return };
        let s = Scheduler { inner };
        let swept = tokio::task::spawn_blocking(move || s.sweep_retention(s.now())).await;
        match swept {
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => tracing::info!(deleted = n, "retention: deleted finished executions"),
            Ok(Err(e)) => tracing::warn!(error = %e, "retention sweep failed"),
            Err(e) => tracing::warn!(error = %e, "retention sweep was lost"),
        }
    }
}
