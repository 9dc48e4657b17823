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
//! Module tasks are the one exception, being where a tenant's CPU goes: a server whose
//! cores are taken offers the next to the other servers (`tasks.rs`), and one running
//! fewer module tasks runs it and streams its result back. Only the module runs there; what decides (the task's slot,
//! timers, events and commits) stays with the execution's server.
//!
//! A server joins by saying it is alive, waits a moment for servers started with it, and
//! claims free partitions up to an even share. It renews them on a thread of its own; a
//! server that loses any of them stops (its writes are refused anyway). When a server dies
//! its partitions lapse, and the others claim them up to their new share, recover their
//! tenants' executions from the store and serve them. A partition is served only once it
//! is recovered: until then its calls wait, as during a restart.
//!
//! A server that joins when the others hold every partition (after a restart, or to add
//! capacity) gets its share from them: the member holding the most gives one partition up
//! at a time (`lease::should_give`). It stops serving the partition (its calls wait), lets
//! the work in flight settle for a moment, gives the partition up, and forgets its tenants'
//! work (`Scheduler::forget_tenants`); the newcomer claims and recovers it as it would a
//! dead server's. The giver's writes of those tenants stay fenced at its old epoch, so
//! whatever of their work was still running here lands before the newcomer's claim or not
//! at all, and the giver goes on with its other tenants.

pub mod forward;
pub mod tasks;

use crate::store::postgres::lease::{
    holdings, partition_of, should_claim, should_give, Partition, PARTITIONS,
};
use crate::store::postgres::listen::Notice;
use crate::store::postgres::Postgres;
use crate::store::TenantId;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How far this process has a tenant's work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Not at all: another server runs it.
    Not,
    /// Its partition is held here but not served: being recovered, or being given up.
    /// The work already here goes on; no new work is taken.
    Settling,
    /// Its partition is held and served here.
    Runs,
}

/// Which tenants' work this process runs: all of them with one server, those of its
/// partitions (once recovered) in a cluster. The scheduler's recovery and loops, and the
/// delivery and schedule loops, consult it.
#[derive(Clone)]
pub struct Owns(Arc<dyn Fn(&TenantId) -> Hold + Send + Sync>);

impl Owns {
    /// Every tenant: one server on its own store.
    pub fn everything() -> Owns {
        Owns(Arc::new(|_| Hold::Runs))
    }

    /// Whether this process runs `tenant`'s work.
    pub fn runs(&self, tenant: &TenantId) -> bool {
        (self.0)(tenant) == Hold::Runs
    }

    /// Whether this process holds `tenant`'s partition at all (its work here may go on).
    pub fn holds(&self, tenant: &TenantId) -> bool {
        (self.0)(tenant) != Hold::Not
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
#[derive(Debug)]
pub enum Place {
    /// Here: this process runs the tenant's partition, recovered. The call counts as in
    /// flight on the partition until this is dropped (a partition being given waits for
    /// its calls).
    Here(InCall),
    /// By the server at this address.
    There(String),
}

/// A call answered here, counted on its partition while it runs.
#[derive(Debug)]
pub struct InCall {
    calls: Arc<[std::sync::atomic::AtomicUsize]>,
    partition: usize,
}

impl Drop for InCall {
    fn drop(&mut self) {
        if let Some(n) = self.calls.get(self.partition) {
            n.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// Where a partition this process holds stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Claimed, its tenants' work being recovered.
    Recovering,
    /// Recovered: its calls are answered here.
    Serving,
    /// Being given up to another server.
    Giving,
    /// Let go (its tenants' work is no longer done here), not yet freed in the database:
    /// still counted as held, so no second partition is given meanwhile.
    Leaving,
}

/// What the keeping thread hands the server to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Recover these partitions' tenants (just claimed), then serve them.
    Recover(Vec<u32>),
    /// Give this partition up (its calls already wait): let its work settle, give it,
    /// forget its tenants' work.
    Give(u32),
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
    /// The partitions this process holds, and where each stands.
    mine: Mutex<BTreeMap<u32, Stage>>,
    /// Calls answered here now, per partition (counted under `mine`'s lock when placed).
    calls: Arc<[std::sync::atomic::AtomicUsize]>,
    /// Moved on whenever `mine` changes: calls waiting for a partition to be served.
    changed: tokio::sync::watch::Sender<u64>,
    /// Who holds each partition, as last read, and when.
    view: Mutex<Option<(Instant, Vec<Partition>)>>,
    /// The other servers' addresses, as last read, and when.
    peers: Mutex<Option<(Instant, Vec<String>)>>,
    /// The signatures of the other servers' calls taken here (`tasks.rs`).
    seen: tasks::Seen,
    /// Module callbacks passed to the server running their token's execution.
    passed: std::sync::atomic::AtomicU64,
    /// Held by the one call reading the partitions again; the calls that need them
    /// meanwhile wait for its reading rather than each making its own.
    reading: tokio::sync::Mutex<()>,
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
/// How long a read of the other servers' addresses is used before asking again.
const PEERS_FRESH: Duration = Duration::from_secs(1);
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
            calls: (0..PARTITIONS)
                .map(|_| std::sync::atomic::AtomicUsize::new(0))
                .collect(),
            changed,
            view: Mutex::new(None),
            peers: Mutex::new(None),
            seen: tasks::Seen::default(),
            passed: std::sync::atomic::AtomicU64::new(0),
            reading: tokio::sync::Mutex::new(()),
            leaving: std::sync::atomic::AtomicBool::new(false),
            keeper: Mutex::new(None),
        });
        std::thread::sleep(cluster.every());
        cluster.claim_share()?;
        // The others may have partitions to spare for it.
        cluster.store.announce()?;
        Ok(cluster)
    }

    /// How often partitions are renewed and free ones looked for: a quarter of the lease.
    pub fn every(&self) -> Duration {
        (self.length / 4).clamp(Duration::from_millis(100), Duration::from_secs(2))
    }

    /// Claims free (or lapsed) partitions while this process holds fewer than its share
    /// (`lease::should_claim`); answers those it claimed, not yet served.
    ///
    /// # Errors
    /// When the database fails.
    pub fn claim_share(&self) -> crate::store::Result<Vec<u32>> {
        let members = self.store.members()?;
        let view = self.store.partitions()?;
        let mut holdings = holdings(&members, &view);
        let mut claimed = Vec::new();
        let mut held = lock(&self.mine).len();
        holdings.insert(self.owner.clone(), held);
        if !should_claim(&self.owner, held, &holdings) {
            return Ok(claimed);
        }
        // Start the search at a place of this process's own, so that servers claiming at
        // once do not all race for the same rows.
        let start = partition_of(&self.owner);
        let mut free: Vec<u32> = view
            .into_iter()
            .filter(|p| !p.held())
            .map(|p| p.id)
            .collect();
        free.sort_by_key(|id| (id + PARTITIONS - start) % PARTITIONS);
        for id in free {
            if !should_claim(&self.owner, held, &holdings) {
                break;
            }
            match self
                .store
                .claim(id, &self.owner, &self.address, self.length)
            {
                Ok(Some(epoch)) => {
                    tracing::info!(partition = id, epoch, "cluster: claimed a partition");
                    lock(&self.mine).insert(id, Stage::Recovering);
                    claimed.push(id);
                    held += 1;
                    holdings.insert(self.owner.clone(), held);
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
            if let Some(stage) = mine.get_mut(id) {
                *stage = Stage::Serving;
            }
        }
        drop(mine);
        self.changed.send_modify(|n| *n += 1);
    }

    /// The partition this process should give up now, if any (`lease::should_give`),
    /// marked as being given: its calls wait from now on. One at a time: none while
    /// another is being given.
    ///
    /// # Errors
    /// When the database fails.
    pub fn surplus(&self) -> crate::store::Result<Option<u32>> {
        if lock(&self.mine)
            .values()
            .any(|s| matches!(s, Stage::Giving | Stage::Leaving))
        {
            return Ok(None);
        }
        let members = self.store.members()?;
        let view = self.store.partitions()?;
        let free = view.iter().filter(|p| !p.held()).count();
        if !should_give(&self.owner, &holdings(&members, &view), free) {
            return Ok(None);
        }
        // The one this process would claim last: each keeps those it reaches first.
        let start = partition_of(&self.owner);
        let mut mine = lock(&self.mine);
        let pick = mine
            .iter()
            .filter(|(_, stage)| **stage == Stage::Serving)
            .map(|(id, _)| *id)
            .max_by_key(|id| (id + PARTITIONS - start) % PARTITIONS);
        if let Some(id) = pick {
            mine.insert(id, Stage::Giving);
            drop(mine);
            tracing::info!(
                partition = id,
                "cluster: giving a partition to a server that has fewer"
            );
            self.changed.send_modify(|n| *n += 1);
        }
        Ok(pick)
    }

    /// Lets `partition` (marked by [`surplus`](Self::surplus)) go: its tenants' work is
    /// no longer this process's (no event of theirs is applied here from now on), though
    /// the partition stays held until [`give`](Self::give).
    pub fn let_go(&self, partition: u32) {
        if let Some(stage) = lock(&self.mine).get_mut(&partition) {
            *stage = Stage::Leaving;
        }
        self.changed.send_modify(|n| *n += 1);
    }

    /// Gives `partition` (let go) up: from now on another server claims it. Blocks.
    pub fn give(&self, partition: u32) {
        if let Err(e) = self.store.give(partition, &self.owner) {
            // It is no longer renewed: it lapses, and is claimed then.
            tracing::warn!(partition, error = %e, "cluster: could not give a partition up; it lapses");
        }
        let mut mine = lock(&self.mine);
        if mine.get(&partition) == Some(&Stage::Leaving) {
            mine.remove(&partition);
        }
        drop(mine);
        *lock(&self.view) = None;
        self.changed.send_modify(|n| *n += 1);
    }

    /// How far this process has `tenant`'s work.
    pub fn hold(&self, tenant: &TenantId) -> Hold {
        match lock(&self.mine).get(&partition_of(&tenant.0)) {
            None | Some(Stage::Leaving) => Hold::Not,
            Some(Stage::Serving) => Hold::Runs,
            Some(Stage::Recovering | Stage::Giving) => Hold::Settling,
        }
    }

    /// Whether this process runs `tenant`'s work now (its partition is recovered).
    pub fn runs(&self, tenant: &TenantId) -> bool {
        self.hold(tenant) == Hold::Runs
    }

    /// The predicate the scheduler and the loops consult.
    pub fn owns(self: &Arc<Self>) -> Owns {
        let me = Arc::clone(self);
        Owns(Arc::new(move |tenant| me.hold(tenant)))
    }

    /// How long a partition being given up waits for its work in flight (executions in
    /// memory, calls being answered) to end before it goes: what still runs then is run
    /// again by its next server, and a call still being answered may get a retryable
    /// `503` if it writes after the next server's claim.
    pub fn settle_time(&self) -> Duration {
        self.length.min(Duration::from_secs(5))
    }

    /// The partitions this process holds.
    pub fn mine(&self) -> Vec<u32> {
        lock(&self.mine).keys().copied().collect()
    }

    /// Where the other servers reach this one.
    pub fn address(&self) -> &str {
        &self.address
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
            let here = {
                let mine = lock(&self.mine);
                let here = mine.get(&partition).copied();
                if here == Some(Stage::Serving) {
                    // Counted before the partition can be marked for giving.
                    return Ok(Place::Here(self.enter(partition)));
                }
                here
            };
            match here {
                // Being recovered here, or given up: wait.
                Some(_) => {}
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

    /// Counts a call on `partition` until the answer is dropped.
    fn enter(&self, partition: u32) -> InCall {
        let index = partition as usize;
        if let Some(n) = self.calls.get(index) {
            n.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        InCall {
            calls: Arc::clone(&self.calls),
            partition: index,
        }
    }

    /// How many calls of `partition`'s tenants are being answered here.
    pub fn calls_in(&self, partition: u32) -> usize {
        self.calls
            .get(partition as usize)
            .map_or(0, |n| n.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// Forgets who holds the partitions (a server named there did not answer).
    pub fn forget(&self) {
        *lock(&self.view) = None;
    }

    /// Whether another server's call signed `signature` (good until `expiry`) is taken
    /// here for the first time at `now`: a signature serves once.
    pub fn first_sight(&self, signature: &str, expiry: u64, now: u64) -> bool {
        self.seen.first(signature, expiry, now)
    }

    /// Counts a module callback passed to another server.
    pub fn count_passed(&self) {
        self.passed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many module callbacks this server passed to another (for `/metrics`).
    pub fn passed(&self) -> u64 {
        self.passed.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The addresses of the other servers alive, as read within the last second: where
    /// module tasks may be offered (`tasks.rs`). Empty when they cannot be read.
    pub async fn peers(&self) -> Vec<String> {
        if let Some((at, peers)) = lock(&self.peers).as_ref() {
            if at.elapsed() < PEERS_FRESH {
                return peers.clone();
            }
        }
        let (store, owner) = (Arc::clone(&self.store), self.owner.clone());
        let read = tokio::task::spawn_blocking(move || store.peers(&owner)).await;
        let peers: Vec<String> = match read {
            Ok(Ok(peers)) => peers
                .into_iter()
                .filter(|address| *address != self.address)
                .collect(),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "cluster: cannot read the other servers");
                Vec::new()
            }
            Err(_) => Vec::new(),
        };
        *lock(&self.peers) = Some((Instant::now(), peers.clone()));
        peers
    }

    /// The notices of the servers sharing the database (`store/postgres/listen.rs`).
    pub fn notices(&self) -> tokio::sync::broadcast::Receiver<Notice> {
        self.store.notices()
    }

    /// Acts on a partition's notice: who holds it changed, so calls waiting for it read
    /// that again now, and the keeping thread does its round now rather than at its next
    /// one: a freed partition is claimed at once, and once a given one is claimed, the
    /// next is given (a server that joins gets its share in moments, not in rounds).
    pub fn heed(&self, notice: Notice) {
        if notice == Notice::Tenants {
            return;
        }
        self.forget();
        self.changed.send_modify(|n| *n += 1);
        if let Some(keeper) = lock(&self.keeper).as_ref() {
            keeper.thread().unpark();
        }
    }

    /// The address of another server holding `partition` now, as last read.
    async fn holder(&self, partition: u32) -> Option<String> {
        let fresh = || {
            lock(&self.view)
                .as_ref()
                .filter(|(at, _)| at.elapsed() < FRESH)
                .map(|(_, view)| view.clone())
        };
        let mut one = None;
        if fresh().is_none() {
            one = Some(self.reading.lock().await);
        }
        let view = match fresh() {
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
        drop(one);
        // An earlier process at this same address (this server before a restart) is
        // not another server: its partitions lapse, and this one takes them.
        view.into_iter()
            .find(|p| p.id == partition)
            .filter(|p| p.held() && p.owner != self.owner && p.address != self.address)
            .map(|p| p.address)
    }

    /// Keeps this process's partitions: renews them every [`every`](Self::every) on a
    /// thread of its own, claims free ones up to its share, sending each batch it claims
    /// to `work` (to be recovered, then marked served), and gives one up when another
    /// member has fewer than its share (sent to `work` too). Calls `lost` when a
    /// partition is gone (taken over, or not renewed within its length because the
    /// database could not be reached): the process must then stop, as its writes of
    /// those tenants are refused.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn keep(
        self: &Arc<Self>,
        work: tokio::sync::mpsc::UnboundedSender<Work>,
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
                    let next = match me.claim_share() {
                        Ok(new) if !new.is_empty() => Some(Work::Recover(new)),
                        Ok(_) => match me.surplus() {
                            Ok(give) => give.map(Work::Give),
                            Err(e) => {
                                tracing::warn!(error = %e, "cluster: looking at the shares failed");
                                None
                            }
                        },
                        Err(e) => {
                            tracing::warn!(error = %e, "cluster: looking for free partitions failed");
                            None
                        }
                    };
                    if next.is_some_and(|next| work.send(next).is_err()) {
                        return;
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
