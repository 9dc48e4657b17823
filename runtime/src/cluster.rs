//! Several servers on one PostgreSQL database share the work by tenant: each tenant belongs
//! to one of the store's partitions (`store/postgres/lease.rs`), each partition is leased
//! to one server, and that server runs the tenant's executions, timers, tasks, deliveries
//! and schedules and answers its calls. A call that reaches another server is passed to it
//! (`forward.rs`), so any server answers any call.
//!
//! Why by tenant: everything one execution touches (its callbacks, activities, nested
//! executions, jobs, queues, topics, buses) belongs to its tenant, and no tenant reaches
//! another's. A tenant's work therefore never spans two servers, and nothing of it needs
//! a protocol between servers beyond passing calls on: the fenced commits of one server
//! are the whole of its consistency, as with one server.
//!
//! A server joins by saying it is alive, waits a moment for servers started with it, and
//! claims free partitions up to an even share. It renews them on a thread of its own; a
//! server that loses any of them stops (its writes are refused anyway). When a server dies
//! its partitions lapse, and the others claim them up to their new share, recover their
//! tenants' executions from the store and serve them. A partition is served only once it
//! is recovered: until then its calls wait, as during a restart.

pub mod forward;

use crate::store::postgres::lease::{fair_share, partition_of, Partition, PARTITIONS};
use crate::store::postgres::Postgres;
use crate::store::TenantId;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which tenants' work this process runs: all of them with one server, those of its
/// partitions (once recovered) in a cluster. The scheduler's recovery and loops, and the
/// delivery and schedule loops, consult it.
#[derive(Clone)]
pub struct Owns(Arc<dyn Fn(&TenantId) -> bool + Send + Sync>);

impl Owns {
    /// Every tenant: one server on its own store.
    pub fn everything() -> Owns {
        Owns(Arc::new(|_| true))
    }

    /// Whether this process runs `tenant`'s work.
    pub fn runs(&self, tenant: &TenantId) -> bool {
        (self.0)(tenant)
    }
}

impl std::fmt::Debug for Owns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Owns")
    }
}

impl Default for Owns {
    fn default() -> Owns {
        Owns::everything()
    }
}

/// Where a tenant's calls are answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Here: this process runs the tenant's partition, recovered.
    Here,
    /// By the server at this address.
    There(String),
}

/// Why a call cannot be placed.
#[derive(Debug, thiserror::Error)]
#[error("no server took partition {0} of the store in time")]
pub struct Unplaced(pub u32);

/// This process's part of the cluster.
pub struct Cluster {
    store: Arc<Postgres>,
    owner: String,
    address: String,
    length: Duration,
    secret: Vec<u8>,
    /// The partitions this process holds, and whether each is recovered (served).
    mine: Mutex<BTreeMap<u32, bool>>,
    /// Moved on whenever `mine` changes: calls waiting for a partition to be served.
    changed: tokio::sync::watch::Sender<u64>,
    /// Who holds each partition, as last read, and when.
    view: Mutex<Option<(Instant, Vec<Partition>)>>,
    /// Set by [`leave`](Self::leave): the keeping thread claims nothing more.
    leaving: std::sync::atomic::AtomicBool,
    /// The keeping thread, joined by [`leave`](Self::leave) before it gives the
    /// partitions up (so no renewal or claim of it lands after).
    keeper: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("owner", &self.owner)
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// How long a read of who holds the partitions is used before asking again.
const FRESH: Duration = Duration::from_millis(250);
/// How often a call waiting for a partition's server looks again.
const AGAIN: Duration = Duration::from_millis(100);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Cluster {
    /// Joins the servers on `store` as `owner`, answering at `address`, with partitions
    /// leased for `length`: says it is alive, waits a renewal's interval for servers
    /// started with it to say so too, and claims free partitions up to an even share
    /// (they are not yet served: see [`recovered`](Self::recovered)). Blocks.
    ///
    /// # Errors
    /// When the database fails.
    pub fn join(
        store: Arc<Postgres>,
        owner: String,
        address: String,
        length: Duration,
    ) -> crate::store::Result<Arc<Cluster>> {
        store.join(&owner, &address, length)?;
        let secret = store.shared_secret()?.into_bytes();
        let (changed, _) = tokio::sync::watch::channel(0);
        let cluster = Arc::new(Cluster {
            store,
            owner,
            address,
            length,
            secret,
            mine: Mutex::new(BTreeMap::new()),
            changed,
            view: Mutex::new(None),
            leaving: std::sync::atomic::AtomicBool::new(false),
            keeper: Mutex::new(None),
        });
        std::thread::sleep(cluster.every());
        cluster.claim_share()?;
        Ok(cluster)
    }

    /// How often partitions are renewed and free ones looked for: a quarter of the lease.
    pub fn every(&self) -> Duration {
        (self.length / 4).clamp(Duration::from_millis(100), Duration::from_secs(2))
    }

    /// Claims free (or lapsed) partitions while this process holds fewer than its share;
    /// answers those it claimed, not yet served.
    ///
    /// # Errors
    /// When the database fails.
    pub fn claim_share(&self) -> crate::store::Result<Vec<u32>> {
        let share = fair_share(self.store.members()?);
        let mut claimed = Vec::new();
        let held = lock(&self.mine).len();
        if held >= share {
            return Ok(claimed);
        }
        // Start the search at a place of this process's own, so that servers claiming at
        // once do not all race for the same rows.
        let start = partition_of(&self.owner);
        let mut free: Vec<u32> = self
            .store
            .partitions()?
            .into_iter()
            .filter(|p| !p.held())
            .map(|p| p.id)
            .collect();
        free.sort_by_key(|id| (id + PARTITIONS - start) % PARTITIONS);
        for id in free {
            if held + claimed.len() >= share {
                break;
            }
            match self
                .store
                .claim(id, &self.owner, &self.address, self.length)
            {
                Ok(Some(epoch)) => {
                    tracing::info!(partition = id, epoch, "cluster: claimed a partition");
                    lock(&self.mine).insert(id, false);
                    claimed.push(id);
                }
                Ok(None) => {}
                // The old holder's writes are still finishing: the next round tries again
                // (this round ends here, so that renewing this server's own partitions
                // never waits behind claims).
                Err(e) => {
                    tracing::warn!(partition = id, error = %e, "cluster: claim failed");
                    break;
                }
            }
        }
        if !claimed.is_empty() {
            *lock(&self.view) = None;
            self.changed.send_modify(|n| *n += 1);
        }
        Ok(claimed)
    }

    /// Marks `partitions` recovered: their calls are answered and their work runs here.
    pub fn recovered(&self, partitions: &[u32]) {
        let mut mine = lock(&self.mine);
        for id in partitions {
            if let Some(ready) = mine.get_mut(id) {
                *ready = true;
            }
        }
        drop(mine);
        self.changed.send_modify(|n| *n += 1);
    }

    /// Whether this process holds `tenant`'s partition (recovered or not).
    pub fn holds(&self, tenant: &TenantId) -> bool {
        lock(&self.mine).contains_key(&partition_of(&tenant.0))
    }

    /// Whether this process runs `tenant`'s work now (its partition is recovered).
    pub fn runs(&self, tenant: &TenantId) -> bool {
        lock(&self.mine).get(&partition_of(&tenant.0)) == Some(&true)
    }

    /// The predicate the scheduler and the loops consult.
    pub fn owns(self: &Arc<Self>) -> Owns {
        let me = Arc::clone(self);
        Owns(Arc::new(move |tenant| me.runs(tenant)))
    }

    /// The partitions this process holds.
    pub fn mine(&self) -> Vec<u32> {
        lock(&self.mine).keys().copied().collect()
    }

    /// The key servers vouch for callers with (see `forward.rs`).
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// Where `tenant`'s calls go, waiting up to `patience` while its partition has no
    /// server or is being recovered here.
    ///
    /// # Errors
    /// When no server serves it within `patience`.
    pub async fn place(&self, tenant: &str, patience: Duration) -> Result<Place, Unplaced> {
        let partition = partition_of(tenant);
        let until = Instant::now() + patience;
        let mut changed = self.changed.subscribe();
        loop {
            let here = lock(&self.mine).get(&partition).copied();
            match here {
                Some(true) => return Ok(Place::Here),
                Some(false) => {}
                None => {
                    if let Some(address) = self.holder(partition).await {
                        return Ok(Place::There(address));
                    }
                }
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Unplaced(partition));
            }
            let _ = tokio::time::timeout(left.min(AGAIN), changed.changed()).await;
        }
    }

    /// Forgets who holds the partitions (a server named there did not answer).
    pub fn forget(&self) {
        *lock(&self.view) = None;
    }

    /// The address of another server holding `partition` now, as last read.
    async fn holder(&self, partition: u32) -> Option<String> {
        let fresh = lock(&self.view)
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FRESH)
            .map(|(_, view)| view.clone());
        let view = match fresh {
            Some(view) => view,
            None => {
                let store = Arc::clone(&self.store);
                let read = tokio::task::spawn_blocking(move || store.partitions()).await;
                match read {
                    Ok(Ok(view)) => {
                        *lock(&self.view) = Some((Instant::now(), view.clone()));
                        view
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(error = %e, "cluster: cannot read the partitions");
                        return None;
                    }
                    Err(_) => return None,
                }
            }
        };
        // An earlier process at this same address (this server before a restart) is
        // not another server: its partitions lapse, and this one takes them.
        view.into_iter()
            .find(|p| p.id == partition)
            .filter(|p| p.held() && p.owner != self.owner && p.address != self.address)
            .map(|p| p.address)
    }

    /// Keeps this process's partitions: renews them every [`every`](Self::every) on a
    /// thread of its own, and claims free ones up to its share, sending each batch it
    /// claims to `claimed` (to be recovered, then marked served). Calls `lost` when a
    /// partition is gone (taken over, or not renewed within its length because the
    /// database could not be reached): the process must then stop, as its writes are
    /// refused.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn keep(
        self: &Arc<Self>,
        claimed: tokio::sync::mpsc::UnboundedSender<Vec<u32>>,
        lost: impl FnOnce(&str) + Send + 'static,
    ) -> std::io::Result<()> {
        let me = Arc::clone(self);
        // The partitions were claimed (and their leases began) before this call.
        let mut renewed = Instant::now();
        let thread = std::thread::Builder::new()
            .name("sandstep-partitions".into())
            .spawn(move || {
                loop {
                    std::thread::park_timeout(me.every());
                    if me.leaving.load(std::sync::atomic::Ordering::SeqCst) {
                        return;
                    }
                    // A lease runs from when its renewal was sent, not from its answer.
                    let sent = Instant::now();
                    match me.store.renew(&me.owner, &me.address, me.length) {
                        Ok(gone) if gone.is_empty() => renewed = sent,
                        Ok(gone) => {
                            return lost(&format!(
                                "another server took partition(s) {gone:?} of the store over"
                            ));
                        }
                        Err(e) if renewed.elapsed() < me.length => {
                            tracing::warn!("could not renew this server's partitions (will retry): {e}");
                            continue;
                        }
                        Err(e) => {
                            return lost(&format!(
                                "this server's partitions lapsed: not renewed for {:?} ({e})",
                                me.length
                            ))
                        }
                    }
                    match me.claim_share() {
                        Ok(new) if !new.is_empty() => {
                            if claimed.send(new).is_err() {
                                return;
                            }
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "cluster: looking for free partitions failed"),
                    }
                }
            })?;
        *lock(&self.keeper) = Some(thread);
        Ok(())
    }

    /// Gives every partition up at once (a clean shutdown): the others take them over
    /// without waiting for them to lapse.
    pub fn leave(&self) {
        self.leaving
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let keeper = lock(&self.keeper).take();
        if let Some(keeper) = keeper {
            keeper.thread().unpark();
            let _ = keeper.join();
        }
        lock(&self.mine).clear();
        if let Err(e) = self.store.release(&self.owner) {
            tracing::warn!("could not give this server's partitions up: {e}");
        }
    }
}
