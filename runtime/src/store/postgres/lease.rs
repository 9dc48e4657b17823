//! The store's partitions on PostgreSQL: which of the processes sharing the database runs
//! which tenants' work, and the fences that keep every other one from writing.
//!
//! Each tenant belongs to one of [`PARTITIONS`] partitions, and each partition is leased to
//! one process at a time. A process claims a partition when it is free or has lapsed (the
//! database's clock decides, so the processes' clocks do not matter), which moves the
//! partition's epoch on; it renews all of its partitions every quarter of their length.
//! Every write transaction of the backend first reads the fences of the partitions its
//! process holds, `FOR SHARE`, and is refused unless each is still at the process's epoch:
//! a process frozen past its lease, or cut off from the database, finds on its return that
//! an epoch is gone and can no longer commit anything. Claiming a partition updates its
//! fence, which waits for the writes in flight under the old epoch: after a takeover
//! commits, nothing of the old holder can land.
//!
//! The fences are checked all together, not per tenant, because the backend below the
//! tables does not know whose rows a write touches: a process that lost one partition
//! stops writing at all (and its server stops, to come back with what is committed).

use super::{classify, Postgres};
use crate::store::{Error, Result};
use std::time::Duration;

/// How many partitions the tenants are divided into (rows of migration V4).
pub const PARTITIONS: u32 = 16;

/// Who holds a partition, as a caller that needs it sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// Its number, `0..PARTITIONS`.
    pub id: u32,
    /// Its holder's name (host, process id, start), empty when it never had one.
    pub owner: String,
    /// Where the holder answers calls (`host:port`).
    pub address: String,
    /// Seconds until its lease lapses unless renewed (negative: it has lapsed, and the
    /// partition is free).
    pub lapses_in: f64,
}

impl Partition {
    /// Whether someone holds it now.
    pub fn held(&self) -> bool {
        self.lapses_in > 0.0 && !self.owner.is_empty()
    }
}

impl Postgres {
    /// Says that `owner`, who answers calls at `address`, is alive for another `length`
    /// (it counts among the processes that share the partitions).
    ///
    /// # Errors
    /// When the database fails.
    pub fn join(&self, owner: &str, address: &str, length: Duration) -> Result<()> {
        let pool = self.pool.clone();
        let (owner, address) = (owner.to_string(), address.to_string());
        self.wait(async move {
            let client = pool.get().await.map_err(super::unavailable)?;
            client
                .execute(
                    "INSERT INTO sandstep_members VALUES ($1, $2, now() + make_interval(secs => $3)) \
                     ON CONFLICT (owner) DO UPDATE SET address = $2, expires_at = EXCLUDED.expires_at",
                    &[&owner, &address, &length.as_secs_f64()],
                )
                .await
                .map_err(|e| classify(&e))?;
            // Members long gone are forgotten (any process may sweep them).
            client
                .execute(
                    "DELETE FROM sandstep_members WHERE expires_at < now() - interval '1 hour'",
                    &[],
                )
                .await
                .map_err(|e| classify(&e))?;
            Ok(())
        })
    }

    /// How many processes are alive (their membership has not lapsed).
    ///
    /// # Errors
    /// When the database fails.
    pub fn members(&self) -> Result<usize> {
        let pool = self.pool.clone();
        self.wait(async move {
            let client = pool.get().await.map_err(super::unavailable)?;
            let n: i64 = client
                .query_one(
                    "SELECT count(*) FROM sandstep_members WHERE expires_at > now()",
                    &[],
                )
                .await
                .map_err(|e| classify(&e))?
                .get(0);
            Ok(usize::try_from(n).unwrap_or(0))
        })
    }

    /// Every partition and who holds it.
    ///
    /// # Errors
    /// When the database fails.
    pub fn partitions(&self) -> Result<Vec<Partition>> {
        let pool = self.pool.clone();
        self.wait(async move {
            let client = pool.get().await.map_err(super::unavailable)?;
            let rows = client
                .query(
                    "SELECT id, owner, address, CASE WHEN isfinite(expires_at) \
                     THEN EXTRACT(EPOCH FROM expires_at - now())::float8 ELSE -1 END \
                     FROM sandstep_partitions ORDER BY id",
                    &[],
                )
                .await
                .map_err(|e| classify(&e))?;
            Ok(rows
                .iter()
                .map(|row| Partition {
                    id: u32::try_from(row.get::<_, i32>(0)).unwrap_or(0),
                    owner: row.get(1),
                    address: row.get(2),
                    lapses_in: row.get(3),
                })
                .collect())
        })
    }

    /// Claims partition `id` for `owner` (answering at `address`) for `length`, if it is
    /// free or has lapsed; answers its new epoch, which this process's writes check from
    /// now on, or `None` when someone holds it.
    ///
    /// # Errors
    /// When the database fails, or the old holder's writes did not finish in time.
    pub fn claim(
        &self,
        id: u32,
        owner: &str,
        address: &str,
        length: Duration,
    ) -> Result<Option<i64>> {
        let pool = self.pool.clone();
        let (owner, address) = (owner.to_string(), address.to_string());
        let number = i32::try_from(id).map_err(|_| Error::Invalid("partition".into()))?;
        let got = self.wait(async move {
            let mut client = pool.get().await.map_err(super::unavailable)?;
            let tx = client.transaction().await.map_err(|e| classify(&e))?;
            // Never wait long behind the old holder's writes: try again later instead.
            tx.batch_execute("SET LOCAL lock_timeout = '500ms'")
                .await
                .map_err(|e| classify(&e))?;
            let epoch: Option<i64> = tx
                .query_opt(
                    "UPDATE sandstep_partitions SET owner = $2, address = $3, epoch = epoch + 1, \
                     expires_at = now() + make_interval(secs => $4) \
                     WHERE id = $1 AND expires_at < now() RETURNING epoch",
                    &[&number, &owner, &address, &length.as_secs_f64()],
                )
                .await
                .map_err(|e| classify(&e))?
                .map(|row| row.get(0));
            let Some(epoch) = epoch else {
                tx.rollback().await.map_err(|e| classify(&e))?;
                return Ok(None);
            };
            // Waits for the writes in flight under the old epoch (they hold the fence FOR SHARE).
            tx.execute(
                "UPDATE sandstep_partition_fence SET epoch = $2 WHERE id = $1",
                &[&number, &epoch],
            )
            .await
            .map_err(|e| classify(&e))?;
            tx.commit().await.map_err(|e| classify(&e))?;
            Ok(Some(epoch))
        })?;
        if let Some(epoch) = got {
            super::lock_held(&self.held).insert(number, epoch);
        }
        Ok(got)
    }

    /// Renews every partition this process holds for `owner`, and its membership, for
    /// another `length`. Answers the partitions it lost (taken over by another process:
    /// this one must stop working, as its writes are refused from now on).
    ///
    /// # Errors
    /// When the database fails (the partitions may still be ours: try again).
    pub fn renew(&self, owner: &str, address: &str, length: Duration) -> Result<Vec<u32>> {
        self.join(owner, address, length)?;
        let held: Vec<(i32, i64)> = super::lock_held(&self.held)
            .iter()
            .map(|(id, epoch)| (*id, *epoch))
            .collect();
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let pool = self.pool.clone();
        let owner = owner.to_string();
        let (ids, epochs): (Vec<i32>, Vec<i64>) = held.iter().copied().unzip();
        let renewed: Vec<i32> = self.wait(async move {
            let client = pool.get().await.map_err(super::unavailable)?;
            let rows = client
                .query(
                    "UPDATE sandstep_partitions p SET expires_at = now() + make_interval(secs => $4) \
                     FROM unnest($2::int[], $3::bigint[]) AS h(id, epoch) \
                     WHERE p.id = h.id AND p.epoch = h.epoch AND p.owner = $1 RETURNING p.id",
                    &[&owner, &ids, &epochs, &length.as_secs_f64()],
                )
                .await
                .map_err(|e| classify(&e))?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })?;
        Ok(held
            .iter()
            .filter(|(id, _)| !renewed.contains(id))
            .filter_map(|(id, _)| u32::try_from(*id).ok())
            .collect())
    }

    /// Gives every partition of `owner` up at once, and its membership (a clean shutdown):
    /// the others take them over without waiting for them to lapse. This process's writes
    /// stay fenced by them, so none lands once another server has claimed one.
    ///
    /// # Errors
    /// When the database fails.
    pub fn release(&self, owner: &str) -> Result<()> {
        // Still checked by this process's writes: one that lands after the release (a task
        // of a stopping server) commits only until another server claims the partition.
        let held: Vec<(i32, i64)> = super::lock_held(&self.held)
            .iter()
            .map(|(id, epoch)| (*id, *epoch))
            .collect();
        let (ids, epochs): (Vec<i32>, Vec<i64>) = held.into_iter().unzip();
        let pool = self.pool.clone();
        let owner = owner.to_string();
        self.wait(async move {
            let client = pool.get().await.map_err(super::unavailable)?;
            client
                .execute(
                    "UPDATE sandstep_partitions p SET expires_at = '-infinity' \
                     FROM unnest($2::int[], $3::bigint[]) AS h(id, epoch) \
                     WHERE p.id = h.id AND p.epoch = h.epoch AND p.owner = $1",
                    &[&owner, &ids, &epochs],
                )
                .await
                .map_err(|e| classify(&e))?;
            client
                .execute("DELETE FROM sandstep_members WHERE owner = $1", &[&owner])
                .await
                .map_err(|e| classify(&e))?;
            Ok(())
        })
    }

    /// The key the processes sharing this database vouch to each other with (created with
    /// the schema, random).
    ///
    /// # Errors
    /// When the database fails.
    pub fn shared_secret(&self) -> Result<String> {
        let pool = self.pool.clone();
        self.wait(async move {
            let client = pool.get().await.map_err(super::unavailable)?;
            let row = client
                .query_one("SELECT secret FROM sandstep_cluster WHERE id = 1", &[])
                .await
                .map_err(|e| classify(&e))?;
            Ok(row.get(0))
        })
    }

    /// The partitions this process holds, by number.
    pub fn held(&self) -> Vec<u32> {
        super::lock_held(&self.held)
            .keys()
            .filter_map(|id| u32::try_from(*id).ok())
            .collect()
    }
}

/// The partition of a tenant: the first four bytes of its id's SHA-256, modulo
/// [`PARTITIONS`]. Every version must compute the same, so it is written out here rather
/// than taken from a hasher whose output may change.
pub fn partition_of(tenant: &str) -> u32 {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(tenant.as_bytes());
    let mut first = [0u8; 4];
    first.copy_from_slice(digest.get(..4).unwrap_or(&[0; 4]));
    u32::from_be_bytes(first) % PARTITIONS
}

/// How many partitions a process should hold when `members` share them: an even share,
/// rounded up, so that together they hold them all.
pub fn fair_share(members: usize) -> usize {
    let members = members.max(1);
    (PARTITIONS as usize).div_ceil(members)
}
