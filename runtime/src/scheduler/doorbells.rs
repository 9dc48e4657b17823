//! Doorbells: how a worker waiting in a long poll learns that its activity's queue got a
//! task, without polling the store. A bell exists only while someone waits on it.

use crate::store::TenantId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// One bell per (tenant, activity) that has waiters.
#[derive(Debug, Default)]
pub struct Doorbells {
    bells: Mutex<HashMap<(TenantId, String), Arc<Notify>>>,
}

/// A waiter's hold on a bell; the bell goes when its last waiter does.
#[derive(Debug)]
pub struct Bell<'a> {
    owner: &'a Doorbells,
    key: (TenantId, String),
    notify: Arc<Notify>,
}

impl Bell<'_> {
    /// The bell to wait on. Create the `notified()` future and `enable` it before
    /// looking at the queue, so that a ring in between is not missed.
    pub fn notify(&self) -> &Notify {
        &self.notify
    }
}

impl Drop for Bell<'_> {
    fn drop(&mut self) {
        let mut bells = self.owner.bells.lock().unwrap_or_else(|p| p.into_inner());
        // Two strong counts left: the map's and this one's.
        if Arc::strong_count(&self.notify) <= 2 {
            bells.remove(&self.key);
        }
    }
}

impl Doorbells {
    /// Wakes everyone waiting for `activity`'s tasks in `tenant`.
    pub fn ring(&self, tenant: &TenantId, activity: &str) {
        let bells = self.bells.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bell) = bells.get(&(tenant.clone(), activity.to_string())) {
            bell.notify_waiters();
        }
    }

    /// Wakes everyone waiting for any activity of the tenants `which` picks (tenants this
    /// server stops running: their waiters look again, and find they must go elsewhere).
    pub fn ring_where(&self, which: &(dyn Fn(&TenantId) -> bool + Send + Sync)) {
        let bells = self.bells.lock().unwrap_or_else(|p| p.into_inner());
        for ((tenant, _), bell) in bells.iter() {
            if which(tenant) {
                bell.notify_waiters();
            }
        }
    }

    /// The bell of `activity` in `tenant`, held until the returned value is dropped.
    pub fn bell(&self, tenant: &TenantId, activity: &str) -> Bell<'_> {
        let key = (tenant.clone(), activity.to_string());
        let mut bells = self.bells.lock().unwrap_or_else(|p| p.into_inner());
        let notify = Arc::clone(bells.entry(key.clone()).or_default());
        Bell {
            owner: self,
            key,
            notify,
        }
    }

    /// How many bells have waiters (for tests).
    pub fn len(&self) -> usize {
        self.bells.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether no bell has waiters.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_ring_wakes_the_waiters_of_that_activity_only_and_bells_go_with_them() {
        let bells = Doorbells::default();
        let t = TenantId("t".into());
        {
            let mine = bells.bell(&t, "work");
            let other = bells.bell(&t, "other");
            let woken = mine.notify().notified();
            let not_woken = other.notify().notified();
            tokio::pin!(woken, not_woken);
            woken.as_mut().enable();
            not_woken.as_mut().enable();
            bells.ring(&t, "work");
            tokio::time::timeout(std::time::Duration::from_secs(1), woken)
                .await
                .expect("rung");
            let waited =
                tokio::time::timeout(std::time::Duration::from_millis(20), not_woken).await;
            assert!(waited.is_err(), "another activity's bell stays quiet");
            assert_eq!(bells.len(), 2);
        }
        assert!(bells.is_empty(), "no waiters, no bells");
    }
}
