//! The store's partitions on PostgreSQL: which of the processes sharing the database runs
//! which tenants' work, and the fences that keep every other one from writing it.
//!
//! Each tenant belongs to one of [`PARTITIONS`] partitions, and each partition is leased to
//! one process at a time. A process claims a partition when it is free or has lapsed (the
//! database's clock decides, so the processes' clocks do not matter), which moves the
//! partition's epoch on; it renews all of its partitions every quarter of their length,
//! and may give one up to a process that has fewer ([`should_give`]).
//!
//! Every write transaction of the backend first reads, `FOR SHARE`, the fences of the
//! partitions of the tenants it touches (the tenant is in every key: `keys::tenant_of`),
//! and is refused unless each is still at the epoch this process held it at: a process
//! frozen past its lease, or cut off from the database, or that gave a partition up, finds
//! that the epoch moved on and can no longer commit anything of those tenants. Claiming a
//! partition updates its fence, which waits for the writes in flight under the old epoch:
//! after a takeover commits, nothing of the old holder can land.

use super::listen::notify;
use super::{db_error as db, Postgres};
use crate::store::{Error, Result};
use std::collections::BTreeMap;
use std::future::Future;
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
    /// Runs `work` with a pooled connection and waits for its answer.
    fn with_client<T, F>(
        &self,
        work: impl FnOnce(deadpool_postgres::Object) -> F + Send + 'static,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        let pool = self.pool.clone();
        self.wait(async move {
            let client = pool.get().await.map_err(super::unavailable)?;
            work(client).await
        })
    }

    /// Says that `owner`, who answers calls at `address`, is alive for another `length`
    /// (it counts among the processes that share the partitions).
    ///
    /// # Errors
    /// When the database fails.
    pub fn join(&self, owner: &str, address: &str, length: Duration) -> Result<()> {
        let (owner, address) = (owner.to_string(), address.to_string());
        self.with_client(move |client| async move {
            client
                .execute(
                    "INSERT INTO sandstep_members VALUES ($1, $2, now() + make_interval(secs => $3)) \
                     ON CONFLICT (owner) DO UPDATE SET address = $2, expires_at = EXCLUDED.expires_at",
                    &[&owner, &address, &length.as_secs_f64()],
                )
                .await
                .map_err(db)?;
            // Members long gone are forgotten (any process may sweep them).
            client
                .execute(
                    "DELETE FROM sandstep_members WHERE expires_at < now() - interval '1 hour'",
                    &[],
                )
                .await
                .map_err(db)?;
            Ok(())
        })
    }

    /// Tells the other processes that the shares changed (a process joined): they look at
    /// them now, and the one with most to spare gives a partition to the newcomer.
    ///
    /// # Errors
    /// When the database fails.
    pub fn announce(&self) -> Result<()> {
        let channel = self.channels.partitions.clone();
        self.with_client(move |client| async move {
            client
                .execute("SELECT pg_notify($1, 'joined')", &[&channel])
                .await
                .map_err(db)?;
            Ok(())
        })
    }

    /// The addresses of the servers alive now other than `owner`, in the order of their
    /// names: where `owner` may offer its module tasks (`scheduler/sharing.rs`).
    ///
    /// # Errors
    /// When the database fails.
    pub fn peers(&self, owner: &str) -> Result<Vec<String>> {
        let owner = owner.to_string();
        self.with_client(move |client| async move {
            let rows = client
                .query(
                    "SELECT address FROM sandstep_members \
                     WHERE expires_at > now() AND owner <> $1 ORDER BY owner",
                    &[&owner],
                )
                .await
                .map_err(db)?;
            Ok(rows.iter().map(|row| row.get(0)).collect())
        })
    }

    /// The processes alive (their membership has not lapsed), by name.
    ///
    /// # Errors
    /// When the database fails.
    pub fn members(&self) -> Result<Vec<String>> {
        self.with_client(|client| async move {
            let rows = client
                .query(
                    "SELECT owner FROM sandstep_members WHERE expires_at > now() ORDER BY owner",
                    &[],
                )
                .await
                .map_err(db)?;
            Ok(rows.iter().map(|row| row.get(0)).collect())
        })
    }

    /// Every partition and who holds it.
    ///
    /// # Errors
    /// When the database fails.
    pub fn partitions(&self) -> Result<Vec<Partition>> {
        self.with_client(|client| async move {
            let rows = client
                .query(
                    "SELECT id, owner, address, CASE WHEN isfinite(expires_at) \
                     THEN EXTRACT(EPOCH FROM expires_at - now())::float8 ELSE -1 END \
                     FROM sandstep_partitions ORDER BY id",
                    &[],
                )
                .await
                .map_err(db)?;
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
    /// free or has lapsed; answers its new epoch, which this process's writes of its
    /// tenants check from now on, or `None` when someone holds it.
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
        let (owner, address) = (owner.to_string(), address.to_string());
        let number = i32::try_from(id).map_err(|_| Error::Invalid("partition".into()))?;
        let channel = self.channels.partitions.clone();
        let got = self.with_client(move |mut client| async move {
            let tx = client.transaction().await.map_err(db)?;
            // Never wait long behind the old holder's writes: try again later instead.
            tx.batch_execute("SET LOCAL lock_timeout = '500ms'")
                .await
                .map_err(db)?;
            let epoch: Option<i64> = tx
                .query_opt(
                    "UPDATE sandstep_partitions SET owner = $2, address = $3, epoch = epoch + 1, \
                     expires_at = now() + make_interval(secs => $4) \
                     WHERE id = $1 AND expires_at < now() RETURNING epoch",
                    &[&number, &owner, &address, &length.as_secs_f64()],
                )
                .await
                .map_err(db)?
                .map(|row| row.get(0));
            let Some(epoch) = epoch else {
                tx.rollback().await.map_err(db)?;
                return Ok(None);
            };
            // Waits for the writes in flight under the old epoch (they hold the fence FOR SHARE).
            tx.execute(
                "UPDATE sandstep_partition_fence SET epoch = $2 WHERE id = $1",
                &[&number, &epoch],
            )
            .await
            .map_err(db)?;
            notify(&tx, &channel, "claimed").await?;
            tx.commit().await.map_err(db)?;
            Ok(Some(epoch))
        })?;
        if let Some(epoch) = got {
            let mut fences = super::lock_held(&self.held);
            fences.given.remove(&number);
            fences.held.insert(number, epoch);
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
        // No partition is given while its renewal is under way (it would be renewed
        // after being given, or reported lost when its taker claimed it meanwhile).
        let _renewing = super::lock_held(&self.leasing);
        let held = self.fences_held();
        if held.is_empty() {
            return Ok(Vec::new());
        }
        let owner = owner.to_string();
        let (ids, epochs): (Vec<i32>, Vec<i64>) = held.iter().copied().unzip();
        let renewed: Vec<i32> = self.with_client(move |client| async move {
            let rows = client
                .query(
                    "UPDATE sandstep_partitions p SET expires_at = now() + make_interval(secs => $4) \
                     FROM unnest($2::int[], $3::bigint[]) AS h(id, epoch) \
                     WHERE p.id = h.id AND p.epoch = h.epoch AND p.owner = $1 RETURNING p.id",
                    &[&owner, &ids, &epochs, &length.as_secs_f64()],
                )
                .await
                .map_err(db)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })?;
        Ok(held
            .iter()
            .filter(|(id, _)| !renewed.contains(id))
            .filter_map(|(id, _)| u32::try_from(*id).ok())
            .collect())
    }

    /// Gives partition `id` of `owner` up to whoever claims it next (another process
    /// that has fewer). This process's writes of its tenants stay fenced at the epoch it
    /// held it at: those of its work still finishing land until the next holder claims
    /// it, and never after.
    ///
    /// # Errors
    /// When the database fails (the partition then lapses unless renewed).
    pub fn give(&self, id: u32, owner: &str) -> Result<()> {
        let number = i32::try_from(id).map_err(|_| Error::Invalid("partition".into()))?;
        let _giving = super::lock_held(&self.leasing);
        let epoch = {
            let mut fences = super::lock_held(&self.held);
            // Out of the renewals first, so that none renews it after it is given.
            let Some(epoch) = fences.held.remove(&number) else {
                return Ok(());
            };
            fences.given.insert(number, epoch);
            epoch
        };
        let owner = owner.to_string();
        let channel = self.channels.partitions.clone();
        self.with_client(move |client| async move {
            client
                .execute(
                    "WITH given AS (UPDATE sandstep_partitions SET expires_at = '-infinity' \
                     WHERE id = $1 AND epoch = $2 AND owner = $3 RETURNING id) \
                     SELECT pg_notify($4, 'freed') FROM given",
                    &[&number, &epoch, &owner, &channel],
                )
                .await
                .map_err(db)?;
            Ok(())
        })
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
        let (ids, epochs): (Vec<i32>, Vec<i64>) = self.fences_held().into_iter().unzip();
        let owner = owner.to_string();
        let channel = self.channels.partitions.clone();
        self.with_client(move |client| async move {
            client
                .execute(
                    "WITH freed AS (UPDATE sandstep_partitions p SET expires_at = '-infinity' \
                     FROM unnest($2::int[], $3::bigint[]) AS h(id, epoch) \
                     WHERE p.id = h.id AND p.epoch = h.epoch AND p.owner = $1 RETURNING p.id) \
                     SELECT pg_notify($4, 'freed') WHERE EXISTS (SELECT 1 FROM freed)",
                    &[&owner, &ids, &epochs, &channel],
                )
                .await
                .map_err(db)?;
            client
                .execute("DELETE FROM sandstep_members WHERE owner = $1", &[&owner])
                .await
                .map_err(db)?;
            Ok(())
        })
    }

    /// The key the processes sharing this database vouch to each other with (created with
    /// the schema, random).
    ///
    /// # Errors
    /// When the database fails.
    pub fn shared_secret(&self) -> Result<String> {
        self.with_client(|client| async move {
            let row = client
                .query_one("SELECT secret FROM sandstep_cluster WHERE id = 1", &[])
                .await
                .map_err(db)?;
            Ok(row.get(0))
        })
    }

    /// The partitions this process holds, by number.
    pub fn held(&self) -> Vec<u32> {
        self.fences_held()
            .into_iter()
            .filter_map(|(id, _)| u32::try_from(id).ok())
            .collect()
    }

    /// The partitions this process holds, with their epochs.
    fn fences_held(&self) -> Vec<(i32, i64)> {
        super::lock_held(&self.held)
            .held
            .iter()
            .map(|(id, epoch)| (*id, *epoch))
            .collect()
    }
}

/// How many partitions each of `members` processes should hold: the even share rounded
/// down and rounded up (together they hold them all).
pub fn shares(members: usize) -> (usize, usize) {
    let members = members.max(1);
    let all = PARTITIONS as usize;
    (all / members, all.div_ceil(members))
}

/// How many partitions each live member holds, from who holds each (members holding
/// none count, with 0; holders that are no longer members do not).
pub fn holdings(members: &[String], view: &[Partition]) -> BTreeMap<String, usize> {
    let mut counts: BTreeMap<String, usize> = members.iter().map(|m| (m.clone(), 0)).collect();
    for p in view.iter().filter(|p| p.held()) {
        if let Some(n) = counts.get_mut(&p.owner) {
            *n += 1;
        }
    }
    counts
}

/// Whether `me`, holding `mine` partitions, claims one more that is free: while it has
/// fewer than the share rounded down, or fewer than the share rounded up once every other
/// member has the share rounded down (the partitions left over go to members that have
/// their share, never ahead of a member that lacks it).
pub fn should_claim(me: &str, mine: usize, holdings: &BTreeMap<String, usize>) -> bool {
    let (floor, ceil) = shares(holdings.len());
    mine < floor
        || (mine < ceil
            && holdings
                .iter()
                .filter(|(name, _)| name.as_str() != me)
                .all(|(_, n)| *n >= floor))
}

/// Whether `me` gives one of its partitions up: no partition is free (a member short of
/// its share claims those first), `me` holds the most of all (ties: the first name), so
/// that one member gives at a time and the one with most to spare gives first, and either
/// some member holds fewer than the share rounded down while `me` holds more, or some
/// holds fewer than the share rounded up while `me` holds more than that (the first
/// brings every member to its share, the second ends the surplus of one that holds more
/// than any should when several joined at once).
pub fn should_give(me: &str, holdings: &BTreeMap<String, usize>, free: usize) -> bool {
    let (floor, ceil) = shares(holdings.len());
    let Some(mine) = holdings.get(me).copied() else {
        return false;
    };
    let below = |share: usize| holdings.values().any(|n| *n < share);
    let most = holdings
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(name, _)| name.as_str());
    free == 0
        && most == Some(me)
        && ((mine > floor && below(floor)) || (mine > ceil && below(ceil)))
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
