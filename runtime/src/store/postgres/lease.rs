//! The store's lease on PostgreSQL: which one of the processes sharing the database runs
//! its work, and the fence that keeps every other one from writing.
//!
//! A process takes the lease when it is free or has lapsed (the database's clock decides,
//! so the processes' clocks do not matter), which moves the epoch on; it renews it every
//! quarter of its length. Every write transaction of the backend first reads the fence's
//! epoch `FOR SHARE` and is refused unless it is the process's own: a process frozen past
//! its lease, or cut off from the database, finds on its return that its epoch is gone and
//! can no longer commit anything. Taking the lease updates the fence, which waits for the
//! writes in flight under the old epoch: after a takeover commits, nothing of the old
//! holder can land.

use super::{classify, Postgres};
use crate::store::{Error, Result};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Who holds the lease: for a standby's log, and where its relay sends calls.
#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    /// The holder's name (host, process id, start).
    pub owner: String,
    /// Where the holder answers calls (`host:port`).
    pub address: String,
    /// Seconds until its lease lapses unless renewed.
    pub lapses_in: f64,
}

/// What renewing found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// Still ours, for another lease length.
    Renewed,
    /// Another process took it over: this one must stop working.
    Lost,
}

impl Postgres {
    /// Takes the lease for `owner`, who answers calls at `address`, if it is free or has
    /// lapsed, for `length`; answers the new epoch, or who holds it.
    ///
    /// # Errors
    /// When the database fails.
    pub fn try_acquire(
        &self,
        owner: &str,
        address: &str,
        length: Duration,
    ) -> Result<std::result::Result<i64, Holder>> {
        let pool = self.pool.clone();
        let owner = owner.to_string();
        let address = address.to_string();
        let got = self.wait(async move {
            let mut client = pool.get().await.map_err(super::unavailable)?;
            let tx = client.transaction().await.map_err(|e| classify(&e))?;
            // Never wait long behind the old holder's writes: try again later instead.
            tx.batch_execute("SET LOCAL lock_timeout = '3s'")
                .await
                .map_err(|e| classify(&e))?;
            let row = tx
                .query_one(
                    "SELECT owner, expires_at < now(), \
                     CASE WHEN isfinite(expires_at) \
                     THEN EXTRACT(EPOCH FROM expires_at - now())::float8 ELSE 0 END, address \
                     FROM sandstep_lease WHERE id = 1 FOR UPDATE",
                    &[],
                )
                .await
                .map_err(|e| classify(&e))?;
            let free: bool = row.get(1);
            if !free {
                let holder = Holder {
                    owner: row.get(0),
                    address: row.get(3),
                    lapses_in: row.get(2),
                };
                tx.rollback().await.map_err(|e| classify(&e))?;
                return Ok(Err(holder));
            }
            let epoch: i64 = tx
                .query_one(
                    "UPDATE sandstep_lease SET owner = $1, address = $3, epoch = epoch + 1, \
                     expires_at = now() + make_interval(secs => $2) WHERE id = 1 RETURNING epoch",
                    &[&owner, &length.as_secs_f64(), &address],
                )
                .await
                .map_err(|e| classify(&e))?
                .get(0);
            // Waits for the writes in flight under the old epoch (they hold the fence FOR SHARE).
            tx.execute(
                "UPDATE sandstep_fence SET epoch = $1 WHERE id = 1",
                &[&epoch],
            )
            .await
            .map_err(|e| classify(&e))?;
            tx.commit().await.map_err(|e| classify(&e))?;
            Ok(Ok(epoch))
        })?;
        if let Ok(epoch) = got {
            self.fence.store(epoch, Ordering::SeqCst);
        }
        Ok(got)
    }

    /// Waits until `owner` holds the lease, trying every `every`; `waiting` hears who holds
    /// it meanwhile (once per holder). Answers the epoch.
    ///
    /// # Errors
    /// When the database fails.
    pub fn acquire(
        &self,
        owner: &str,
        address: &str,
        length: Duration,
        every: Duration,
        mut waiting: impl FnMut(&Holder),
    ) -> Result<i64> {
        let mut told: Option<String> = None;
        loop {
            match self.try_acquire(owner, address, length) {
                Ok(Ok(epoch)) => return Ok(epoch),
                Ok(Err(holder)) => {
                    if told.as_deref() != Some(holder.owner.as_str()) {
                        waiting(&holder);
                        told = Some(holder.owner.clone());
                    }
                }
                Err(e @ Error::Invalid(_)) => return Err(e),
                // The database is away for now, or the old holder's writes are still
                // finishing: a standby keeps waiting.
                Err(e) => tracing::warn!("waiting for the store: {e}"),
            }
            std::thread::sleep(every);
        }
    }

    /// Who holds the lease now, if anyone does (it has not lapsed).
    ///
    /// # Errors
    /// When the database fails.
    pub fn holder(&self) -> Result<Option<Holder>> {
        let pool = self.pool.clone();
        self.wait(async move {
            let client = pool.get().await.map_err(super::unavailable)?;
            let row = client
                .query_opt(
                    "SELECT owner, address, EXTRACT(EPOCH FROM expires_at - now())::float8 \
                     FROM sandstep_lease WHERE id = 1 AND expires_at > now()",
                    &[],
                )
                .await
                .map_err(|e| classify(&e))?;
            Ok(row.map(|row| Holder {
                owner: row.get(0),
                address: row.get(1),
                lapses_in: row.get(2),
            }))
        })
    }

    /// Renews the lease held at `epoch` by `owner` for another `length`.
    ///
    /// # Errors
    /// When the database fails (the lease may still be ours: try again).
    pub fn renew(&self, owner: &str, epoch: i64, length: Duration) -> Result<Renewal> {
        let pool = self.pool.clone();
        let owner = owner.to_string();
        self.wait(async move {
            let client = pool.get().await.map_err(super::unavailable)?;
            let n = client
                .execute(
                    "UPDATE sandstep_lease SET expires_at = now() + make_interval(secs => $3) \
                     WHERE id = 1 AND owner = $1 AND epoch = $2",
                    &[&owner, &epoch, &length.as_secs_f64()],
                )
                .await
                .map_err(|e| classify(&e))?;
            Ok(if n == 1 {
                Renewal::Renewed
            } else {
                Renewal::Lost
            })
        })
    }

    /// Gives the lease up at once (a clean shutdown): a standby takes over without waiting
    /// for it to lapse.
    ///
    /// # Errors
    /// When the database fails.
    pub fn release(&self, owner: &str, epoch: i64) -> Result<()> {
        let pool = self.pool.clone();
        let owner = owner.to_string();
        self.wait(async move {
            let client = pool.get().await.map_err(super::unavailable)?;
            client
                .execute(
                    "UPDATE sandstep_lease SET expires_at = '-infinity' \
                     WHERE id = 1 AND owner = $1 AND epoch = $2",
                    &[&owner, &epoch],
                )
                .await
                .map_err(|e| classify(&e))?;
            Ok(())
        })
    }
}

/// Keeps a held lease: renews it every quarter of `length` on a thread of its own, and calls
/// `lost` when it is gone (taken over, or not renewed within its length because the
/// database could not be reached): the process must then stop, as its writes are refused.
///
/// # Errors
/// When the thread cannot be started.
pub fn keep(
    store: std::sync::Arc<Postgres>,
    owner: String,
    epoch: i64,
    length: Duration,
    lost: impl FnOnce(&str) + Send + 'static,
) -> Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("sandstep-lease".into())
        .spawn(move || {
            let mut renewed = std::time::Instant::now();
            loop {
                std::thread::sleep(length / 4);
                match store.renew(&owner, epoch, length) {
                    Ok(Renewal::Renewed) => renewed = std::time::Instant::now(),
                    Ok(Renewal::Lost) => {
                        return lost("another process took the store's lease over");
                    }
                    Err(e) if renewed.elapsed() < length => {
                        tracing::warn!("could not renew the store's lease (will retry): {e}");
                    }
                    Err(e) => {
                        return lost(&format!(
                            "the store's lease lapsed: not renewed for {length:?} ({e})"
                        ))
                    }
                }
            }
        })
        .map_err(|e| Error::Backend(format!("cannot start the lease's thread: {e}")))
}
