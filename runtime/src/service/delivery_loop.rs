//! The loop that stored deliveries share (what SNS topics published, what EventBridge rules
//! matched): each round reads what is due, starts every delivery not already under way, at
//! most [`PARALLEL`] at once, then sleeps until woken by a new acceptance or for
//! [`POLL_EVERY`]. What a delivery is, and how one attempt ends (done, re-timed, given up),
//! belongs to its [`Deliver`] implementation.

use crate::store::{Millis, Store, TenantId, Tenants as _};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

/// How often the loop looks for due deliveries without being woken.
const POLL_EVERY: Duration = Duration::from_millis(100);
/// Deliveries made at once.
const PARALLEL: usize = 32;
/// Due deliveries read per round.
const ROUND: usize = 1024;
/// The longest wait between attempts.
const MAX_BACKOFF_MS: Millis = 60_000;

/// One kind of stored delivery.
pub trait Deliver: Clone + Send + Sync + 'static {
    /// A delivery as the store hands it out.
    type Pending: Send + 'static;
    /// What the loop's warnings call these deliveries.
    const KIND: &'static str;
    /// The time now, from the server's clock.
    fn now(&self) -> Millis;
    /// Up to `limit` deliveries due at `now` (a blocking store read).
    ///
    /// # Errors
    /// When the store fails.
    fn due(&self, now: Millis, limit: usize) -> crate::store::Result<Vec<Self::Pending>>;
    /// What tells a delivery under way apart from the others.
    fn busy_key(pending: &Self::Pending) -> Vec<u8>;
    /// One attempt, and the record of how it ended.
    fn attempt(&self, pending: Self::Pending) -> impl Future<Output = ()> + Send;
}

/// The deliveries under way, and those that ended during the current round: a round's
/// list of what is due is read once, so a delivery that ended after the read is still in
/// it, and must not start again (its row was already removed or re-timed).
#[derive(Debug, Default)]
struct Busy {
    running: HashSet<Vec<u8>>,
    ended: HashMap<Vec<u8>, u64>,
    round: u64,
}

/// Delivers until `stop` resolves; `woken` is notified when deliveries are accepted.
pub async fn run<D: Deliver>(deliverer: D, woken: Arc<Notify>, stop: impl Future<Output = ()>) {
    let busy: Arc<Mutex<Busy>> = Arc::default();
    let slots = Arc::new(Semaphore::new(PARALLEL));
    tokio::pin!(stop);
    loop {
        let notified = woken.notified();
        round(&deliverer, &busy, &slots).await;
        tokio::select! {
            () = &mut stop => return,
            () = notified => {}
            () = tokio::time::sleep(POLL_EVERY) => {}
        }
    }
}

/// Starts every due delivery not already under way.
async fn round<D: Deliver>(deliverer: &D, busy: &Arc<Mutex<Busy>>, slots: &Arc<Semaphore>) {
    // What ended before this round's read is no longer in it; what ends from now on may be.
    let this_round = {
        let mut b = lock(busy);
        b.round += 1;
        let round = b.round;
        b.ended.retain(|_, at| *at == round);
        round
    };
    let reader = deliverer.clone();
    let now = deliverer.now();
    let due = match tokio::task::spawn_blocking(move || reader.due(now, ROUND)).await {
        Ok(Ok(due)) => due,
        Ok(Err(e)) => {
            return tracing::warn!(error = %e, kind = D::KIND, "reading deliveries failed")
        }
        Err(_) => return,
    };
    for pending in due {
        let key = D::busy_key(&pending);
        {
            let mut b = lock(busy);
            if b.ended.get(&key) == Some(&this_round) || !b.running.insert(key.clone()) {
                continue;
            }
        }
        let Ok(permit) = Arc::clone(slots).acquire_owned().await else {
            return;
        };
        let (me, busy) = (deliverer.clone(), Arc::clone(busy));
        tokio::spawn(async move {
            me.attempt(pending).await;
            let mut b = lock(&busy);
            b.running.remove(&key);
            let round = b.round;
            b.ended.insert(key, round);
            drop(b);
            drop(permit);
        });
    }
}

/// The wait before the attempt after `attempts` failed ones: 1 s, doubling to a minute.
pub fn backoff_ms(attempts: u32) -> Millis {
    (1000_i64 << attempts.min(16)).min(MAX_BACKOFF_MS)
}

/// The account of `tenant` (for the ARNs a delivery names).
///
/// # Errors
/// When the store fails or the tenant no longer exists.
pub async fn account_of(store: &Store, tenant: &TenantId) -> Result<String, String> {
    let store = store.clone();
    let id = tenant.clone();
    let found = tokio::task::spawn_blocking(move || store.tenant_get(&id))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    match found {
        Some(t) => Ok(t.account),
        None if *tenant == crate::tenants::default_tenant().id => {
            Ok(crate::tenants::default_tenant().account)
        }
        None => Err(format!("the tenant {tenant} no longer exists")),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_a_second_to_a_minute() {
        let waits: Vec<Millis> = (0..8).map(backoff_ms).collect();
        assert_eq!(
            waits,
            [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]
        );
        assert_eq!(backoff_ms(u32::MAX), 60_000);
    }
}
