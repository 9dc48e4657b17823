//! The PostgreSQL backend (`--store postgres://...`): the store's ordered map as one table,
//! shared by every `sandstep serve` process pointed at the same database.
//!
//! The map is `sandstep_map (key bytea primary key, value bytea)`: bytea compares byte by
//! byte, which is the order the store's scans rely on. The schema is created and moved on by
//! versioned migrations (`runtime/migrations/`, applied with refinery at start); a database
//! whose schema is newer than this binary's is refused with a clear error.
//!
//! Writes are transactions at `SERIALIZABLE` isolation: a guarded batch reads its guard
//! keys and writes in the same transaction, so its check and its writes are one atomic step
//! against every other process too (that is what fences two processes applying the same
//! execution step). PostgreSQL aborts one of two conflicting transactions with a
//! serialization failure; the batch is then run again from the start, and a guard that no
//! longer holds answers `false`, as on sled. A commit is durable when it returns
//! (`synchronous_commit`), so `durable` has nothing left to do.
//!
//! The store's traits are synchronous (sled answers in microseconds), so the driver runs on
//! a small runtime of its own and each call waits for its answer: a call may come from the
//! server's async tasks or from blocking threads alike. Connections come from a pool
//! (deadpool); a connection that fails or a database that does not answer in time is
//! [`Error::Unavailable`], which the API answers as `ServiceUnavailable` (retryable), never
//! as a lost write: a transaction either committed or did not.

use super::backend::{Backend, Guard, Write};
use super::{Error, Result};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio_postgres::error::SqlState;
use tokio_postgres::{IsolationLevel, NoTls};

pub mod lease;
pub mod listen;

/// The schema's migrations, `runtime/migrations/V<n>__<name>.sql`, built into the binary.
mod embedded {
    #![allow(missing_docs)]
    refinery::embed_migrations!("migrations");
}

/// The partitions whose fences this process's writes check, and the epoch of each.
#[derive(Debug, Default)]
struct Fences {
    /// Those it holds.
    held: BTreeMap<i32, i64>,
    /// Those it gave up to another server, at the epoch it held them: its work of their
    /// tenants that is still finishing writes until the next holder claims them, and
    /// never after.
    given: BTreeMap<i32, i64>,
}

impl Fences {
    /// The fences a write of `keys` must find unmoved: those of the partitions of the
    /// tenants it touches that this process holds or gave up. The writes of other
    /// tenants (and of no tenant) are not fenced: a server writes for no tenant it does
    /// not run but to create it.
    fn of<'k>(&self, keys: impl Iterator<Item = &'k [u8]>) -> Vec<(i32, i64)> {
        if self.held.is_empty() && self.given.is_empty() {
            return Vec::new();
        }
        let tenants: std::collections::BTreeSet<String> =
            keys.filter_map(super::keys::tenant_of).collect();
        let mut fence = BTreeMap::new();
        for tenant in tenants {
            let Ok(id) = i32::try_from(lease::partition_of(&tenant)) else {
                continue;
            };
            if let Some(epoch) = self.held.get(&id).or_else(|| self.given.get(&id)) {
                fence.insert(id, *epoch);
            }
        }
        fence.into_iter().collect()
    }
}

/// The fences (or the leasing lock), even after a panic elsewhere while they were locked
/// (each change of the fences is one insert or removal).
fn lock_held<T>(fences: &Mutex<T>) -> MutexGuard<'_, T> {
    fences
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// How many times a write transaction aborted by a conflict is run again before the
/// conflict is reported (as [`Error::Unavailable`]: the caller may retry later).
const CONFLICT_ATTEMPTS: u32 = 50;

/// How long a session may sit in an open transaction without a statement before the
/// database ends it (see `with_config`).
const IDLE_IN_TRANSACTION_MS: u64 = 2_000;

/// The advisory lock migrations hold (any number no one else uses: "sandstep" in ASCII).
const MIGRATION_LOCK: i64 = 0x73_616e_6473_7465;

/// How long a call waits for a connection, or for a new one to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The store's map in PostgreSQL.
pub struct Postgres {
    pool: Pool,
    /// The partitions this process holds or gave up, and the epoch of each: a write
    /// checks those of the tenants it touches against the database's fences (see
    /// [`Fences::of`]).
    held: Arc<Mutex<Fences>>,
    /// Held while partitions are renewed or one is given up: the two never interleave.
    leasing: Mutex<()>,
    /// The driver's own runtime: the store's callers block on its answers. (An `Option`
    /// only so that `drop` can shut it down without blocking: the store may be dropped
    /// on an async task.)
    runtime: Option<tokio::runtime::Runtime>,
    /// How to connect (for a connection of its own: migrations', notices').
    config: tokio_postgres::Config,
    /// The notices of the processes sharing the database, once someone listens
    /// (`listen.rs`).
    notices: std::sync::OnceLock<tokio::sync::broadcast::Sender<listen::Notice>>,
    /// The channels of this schema's notices.
    channels: listen::Channels,
}

impl std::fmt::Debug for Postgres {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postgres").finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::fmt::Display) -> Error {
    Error::Unavailable(format!("the database is unavailable: {e}"))
}

/// A driver error as the store's: the database being away (connection lost, shutting
/// down, out of connections) is retryable; anything else is a failure.
/// [`classify`], for `map_err`.
fn db_error(e: tokio_postgres::Error) -> Error {
    classify(&e)
}

fn classify(e: &tokio_postgres::Error) -> Error {
    let e = &Described(e);
    if e.is_closed() {
        return unavailable(e);
    }
    match e.code() {
        Some(code) if code.code().starts_with("08") || code.code().starts_with("57P") => {
            unavailable(e)
        }
        Some(code) if code == &SqlState::TOO_MANY_CONNECTIONS => unavailable(e),
        // An I/O error without a code: the connection went away.
        None => unavailable(e),
        Some(_) => Error::Backend(format!("the database refused a statement: {e}")),
    }
}

/// A driver error with the database's own message (the driver's `Display` says only
/// "db error").
struct Described<'a>(&'a tokio_postgres::Error);

impl std::fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.as_db_error() {
            Some(db) => write!(f, "{} ({})", db.message(), db.code().code()),
            None => write!(f, "{}", self.0),
        }
    }
}

impl Described<'_> {
    fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    fn code(&self) -> Option<&SqlState> {
        self.0.code()
    }
}

/// Whether the transaction lost a conflict with another one and may simply run again.
fn conflicted(e: &tokio_postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if c == &SqlState::T_R_SERIALIZATION_FAILURE || c == &SqlState::T_R_DEADLOCK_DETECTED
    )
}

/// The smallest key greater than every key starting with `prefix` (`None`: no bound).
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Keys to set (with their values, in the same order) and keys to remove.
type Settled = (Vec<Vec<u8>>, Vec<Vec<u8>>, Vec<Vec<u8>>);

/// A batch as its final effect per key (the last write of a key wins, as on sled): the keys
/// to set and the keys to remove, disjoint, so one statement can do each.
fn settle(writes: Vec<Write>) -> Settled {
    let mut last: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
    for w in writes {
        match w {
            Write::Put(k, v) => last.insert(k, Some(v)),
            Write::Delete(k) => last.insert(k, None),
        };
    }
    let (mut keys, mut values, mut gone) = (Vec::new(), Vec::new(), Vec::new());
    for (k, v) in last {
        match v {
            Some(v) => {
                keys.push(k);
                values.push(v);
            }
            None => gone.push(k),
        }
    }
    (keys, values, gone)
}

/// What a guard asks, owned (the transaction may run more than once).
#[derive(Clone)]
enum Wants {
    Present,
    Absent,
    Equals(Vec<u8>),
}

impl Postgres {
    /// Connects to `url` (`postgres://user:password@host:port/db`) with at most `pool`
    /// connections, and brings the schema up to this binary's version.
    ///
    /// # Errors
    /// When the URL does not parse, the database cannot be reached, a migration fails,
    /// or the database's schema is newer than this binary.
    pub fn connect(url: &str, pool: usize) -> Result<Postgres> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| Error::Invalid(format!("the store URL is not a PostgreSQL URL: {e}")))?;
        Postgres::with_config(config, pool)
    }

    fn with_config(mut config: tokio_postgres::Config, pool: usize) -> Result<Postgres> {
        // A transaction left open by a process that froze (or lost its network) would hold
        // its locks, the fence's among them, and keep a standby from taking over: the
        // database ends such a session. Ours never wait between statements that long.
        let options = format!(
            "{} -c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_MS}",
            config.get_options().unwrap_or_default()
        );
        config.options(options.trim());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("sandstep-postgres")
            .enable_all()
            .build()
            .map_err(|e| Error::Backend(format!("cannot start the database driver: {e}")))?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = {
            let _entered = runtime.enter();
            Pool::builder(manager)
                .max_size(pool.max(1))
                .runtime(deadpool_postgres::Runtime::Tokio1)
                .wait_timeout(Some(CONNECT_TIMEOUT))
                .create_timeout(Some(CONNECT_TIMEOUT))
                .recycle_timeout(Some(CONNECT_TIMEOUT))
                .build()
                .map_err(|e| Error::Backend(format!("cannot build the connection pool: {e}")))?
        };
        let mut store = Postgres {
            pool,
            held: Arc::new(Mutex::new(Fences::default())),
            leasing: Mutex::new(()),
            runtime: Some(runtime),
            config: config.clone(),
            notices: std::sync::OnceLock::new(),
            channels: listen::Channels::default(),
        };
        store.wait(migrate(config))?;
        let pool = store.pool.clone();
        let schema: String = store.wait(async move {
            let client = pool.get().await.map_err(unavailable)?;
            let row = client
                .query_one("SELECT current_schema()::text", &[])
                .await
                .map_err(db_error)?;
            Ok(row.get(0))
        })?;
        store.channels = listen::Channels::of(&schema);
        Ok(store)
    }

    /// Runs `work` on the driver's runtime and waits for its answer.
    fn wait<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T>> + Send + 'static,
    ) -> Result<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let Some(runtime) = &self.runtime else {
            return Err(Error::Backend("the database driver stopped".into()));
        };
        runtime.spawn(async move {
            let _ = tx.send(work.await);
        });
        rx.recv()
            .map_err(|_| Error::Backend("the database driver stopped".into()))?
    }

    /// Applies `writes` if every guard holds, in one serializable transaction run again
    /// while it loses conflicts.
    fn transact(&self, guards: Vec<(Vec<u8>, Wants)>, writes: Vec<Write>) -> Result<bool> {
        let pool = self.pool.clone();
        let (keys, values, gone) = settle(writes);
        let touched = guards.iter().map(|(k, _)| k).chain(&keys).chain(&gone);
        let fence = lock_held(&self.held).of(touched.map(Vec::as_slice));
        let tenants = self.channels.tenants.clone();
        self.wait(async move {
            let mut last = None;
            for attempt in 0..CONFLICT_ATTEMPTS {
                match attempt_once(&pool, &fence, &guards, &keys, &values, &gone, &tenants).await {
                    Ok(applied) => return Ok(applied),
                    Err(Attempt::Conflict(why)) => {
                        last = Some(why);
                        tokio::time::sleep(Duration::from_millis(u64::from(attempt.min(20)))).await;
                    }
                    Err(Attempt::Failed(e)) => return Err(e),
                }
            }
            Err(Error::Unavailable(format!(
                "the write kept conflicting with others ({CONFLICT_ATTEMPTS} attempts): {}",
                last.unwrap_or_default()
            )))
        })
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Why one run of a transaction did not end.
enum Attempt {
    /// Another transaction won a conflict: run it again.
    Conflict(String),
    Failed(Error),
}

impl From<tokio_postgres::Error> for Attempt {
    fn from(e: tokio_postgres::Error) -> Attempt {
        if conflicted(&e) {
            Attempt::Conflict(e.to_string())
        } else {
            Attempt::Failed(classify(&e))
        }
    }
}

async fn attempt_once(
    pool: &Pool,
    fence: &[(i32, i64)],
    guards: &[(Vec<u8>, Wants)],
    keys: &[Vec<u8>],
    values: &[Vec<u8>],
    gone: &[Vec<u8>],
    tenants_channel: &str,
) -> std::result::Result<bool, Attempt> {
    let mut client = pool
        .get()
        .await
        .map_err(|e| Attempt::Failed(unavailable(e)))?;
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::Serializable)
        .start()
        .await?;
    if !fence.is_empty() {
        let fenced = tx
            .prepare_cached(
                "SELECT id, epoch FROM sandstep_partition_fence WHERE id = ANY($1) \
                 ORDER BY id FOR SHARE",
            )
            .await?;
        let ids: Vec<i32> = fence.iter().map(|(id, _)| *id).collect();
        let now: BTreeMap<i32, i64> = tx
            .query(&fenced, &[&ids])
            .await?
            .iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
        if let Some((id, epoch)) = fence.iter().find(|(id, epoch)| now.get(id) != Some(epoch)) {
            return Err(Attempt::Failed(Error::Unavailable(format!(
                "this server no longer holds partition {id} of the store (epoch {epoch}, now {}): \
                 its write was refused",
                now.get(id).copied().unwrap_or_default()
            ))));
        }
    }
    if !guards.is_empty() {
        let wanted: Vec<&[u8]> = guards.iter().map(|(k, _)| k.as_slice()).collect();
        let read = tx
            .prepare_cached("SELECT key, value FROM sandstep_map WHERE key = ANY($1)")
            .await?;
        let rows = tx.query(&read, &[&wanted]).await?;
        let found: BTreeMap<Vec<u8>, Vec<u8>> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        let holds = guards.iter().all(|(k, wants)| {
            let current = found.get(k);
            match wants {
                Wants::Present => current.is_some(),
                Wants::Absent => current.is_none(),
                Wants::Equals(v) => current == Some(v),
            }
        });
        if !holds {
            tx.rollback().await?;
            return Ok(false);
        }
    }
    if !keys.is_empty() {
        let put = tx
            .prepare_cached(
                "INSERT INTO sandstep_map (key, value) \
                 SELECT * FROM unnest($1::bytea[], $2::bytea[]) \
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            )
            .await?;
        tx.execute(&put, &[&keys, &values]).await?;
    }
    if !gone.is_empty() {
        let delete = tx
            .prepare_cached("DELETE FROM sandstep_map WHERE key = ANY($1)")
            .await?;
        tx.execute(&delete, &[&gone]).await?;
    }
    // The other processes read the tenants again (delivered if this commits).
    let tenants = super::keys::Table::Tenant as u8;
    if keys.iter().chain(gone).any(|k| k.first() == Some(&tenants)) {
        tx.execute("SELECT pg_notify($1, '')", &[&tenants_channel])
            .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Brings the schema to this binary's version on a connection of its own; refuses a
/// database that a newer binary has migrated further.
async fn migrate(config: tokio_postgres::Config) -> Result<()> {
    let (mut client, connection) = config.connect(NoTls).await.map_err(|e| classify(&e))?;
    let driver = tokio::spawn(connection);
    // Servers starting together migrate one after the other.
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(|e| classify(&e))?;
    let runner = embedded::migrations::runner();
    let known = runner
        .get_migrations()
        .iter()
        .map(|m| m.version())
        .max()
        .unwrap_or(0);
    let migrated: bool = client
        .query_one(
            "SELECT to_regclass('refinery_schema_history') IS NOT NULL",
            &[],
        )
        .await
        .map_err(|e| classify(&e))?
        .get(0);
    let applied = if migrated {
        runner
            .get_last_applied_migration_async(&mut client)
            .await
            .map_err(|e| Error::Backend(format!("cannot read the schema's version: {e}")))?
    } else {
        None
    };
    if let Some(applied) = applied.filter(|m| m.version() > known) {
        driver.abort();
        return Err(Error::Invalid(format!(
            "the database's schema is at version {} ({}), newer than this sandstep's {known}: \
             run the newer sandstep, or point this one at another database",
            applied.version(),
            applied.name()
        )));
    }
    runner
        .run_async(&mut client)
        .await
        .map_err(|e| Error::Backend(format!("a schema migration failed: {e}")))?;
    drop(client);
    let _ = driver.await;
    Ok(())
}

impl Backend for Postgres {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let pool = self.pool.clone();
        let key = key.to_vec();
        self.wait(async move {
            let client = pool.get().await.map_err(unavailable)?;
            let read = client
                .prepare_cached("SELECT value FROM sandstep_map WHERE key = $1")
                .await
                .map_err(|e| classify(&e))?;
            let row = client
                .query_opt(&read, &[&key])
                .await
                .map_err(|e| classify(&e))?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    fn apply(&self, writes: Vec<Write>) -> Result<()> {
        if writes.is_empty() {
            return Ok(());
        }
        self.transact(Vec::new(), writes).map(|_| ())
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        old: Option<&[u8]>,
        new: Option<Vec<u8>>,
    ) -> Result<bool> {
        let wants = match old {
            Some(v) => Wants::Equals(v.to_vec()),
            None => Wants::Absent,
        };
        let write = match new {
            Some(v) => Write::Put(key.to_vec(), v),
            None => Write::Delete(key.to_vec()),
        };
        self.transact(vec![(key.to_vec(), wants)], vec![write])
    }

    fn apply_guarded(&self, guards: &[Guard<'_>], writes: Vec<Write>) -> Result<bool> {
        let guards = guards
            .iter()
            .map(|g| {
                let wants = match g {
                    Guard::Present(_) => Wants::Present,
                    Guard::Absent(_) => Wants::Absent,
                    Guard::Equals(_, v) => Wants::Equals(v.to_vec()),
                };
                (g.key().to_vec(), wants)
            })
            .collect();
        self.transact(guards, writes)
    }

    fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let pool = self.pool.clone();
        // From the later of the prefix and `after`; up to the prefix's end.
        let from = match after {
            Some(a) if a >= prefix => a.to_vec(),
            _ => prefix.to_vec(),
        };
        let inclusive = !matches!(after, Some(a) if a >= prefix);
        let end = successor(prefix);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.wait(async move {
            let client = pool.get().await.map_err(unavailable)?;
            let lower = if inclusive { ">=" } else { ">" };
            let sql = match end {
                Some(_) => format!(
                    "SELECT key, value FROM sandstep_map WHERE key {lower} $1 AND key < $2 \
                     ORDER BY key LIMIT $3"
                ),
                None => format!(
                    "SELECT key, value FROM sandstep_map WHERE key {lower} $1 \
                     ORDER BY key LIMIT $2"
                ),
            };
            let statement = client
                .prepare_cached(&sql)
                .await
                .map_err(|e| classify(&e))?;
            let rows = match &end {
                Some(end) => client.query(&statement, &[&from, end, &limit]).await,
                None => client.query(&statement, &[&from, &limit]).await,
            }
            .map_err(|e| classify(&e))?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn durable(&self) -> Result<()> {
        // Each transaction was durable when its commit returned.
        Ok(())
    }
}

/// PostgreSQL for tests: `SANDSTEP_TEST_POSTGRES` names the server (`.ci/postgres` starts
/// a throwaway one), and each store gets a schema of its own there.
#[cfg(test)]
pub(crate) mod testing {
    use super::Postgres;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The test server's URL. Unset, the PostgreSQL tests are skipped with a note, except
    /// under CI (`CI` set), where they must run.
    pub fn url() -> Option<String> {
        match std::env::var("SANDSTEP_TEST_POSTGRES") {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                assert!(
                    std::env::var_os("CI").is_none(),
                    "SANDSTEP_TEST_POSTGRES is not set: CI runs the PostgreSQL tests (.ci/postgres)"
                );
                eprintln!("SANDSTEP_TEST_POSTGRES is not set: PostgreSQL tests skipped");
                None
            }
        }
    }

    /// A store on a new, empty schema of the test server (`None`: no server).
    pub fn fresh() -> Option<Postgres> {
        fresh_pair(1).map(|mut stores| stores.remove(0))
    }

    /// `n` stores on one new, empty schema: as `n` processes sharing a database see it.
    pub fn fresh_pair(n: usize) -> Option<Vec<Postgres>> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let url = url()?;
        let schema = format!(
            "sandstep_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut config: tokio_postgres::Config = url.parse().expect("SANDSTEP_TEST_POSTGRES");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let (client, connection) = config
                .connect(tokio_postgres::NoTls)
                .await
                .expect("the test PostgreSQL server answers");
            tokio::spawn(connection);
            client
                .batch_execute(&format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
                ))
                .await
                .expect("a schema for the test");
        });
        config.options(format!("-c search_path={schema}"));
        Some(
            (0..n)
                .map(|_| Postgres::with_config(config.clone(), 4).expect("the test store opens"))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tenant of partition `id`, and a key of its.
    fn tenant_in(id: u32) -> (String, Vec<u8>) {
        let tenant = (0..)
            .map(|i| format!("t{i}"))
            .find(|t| lease::partition_of(t) == id)
            .unwrap_or_default();
        let key = crate::store::keys::Key::of(
            crate::store::keys::Table::Kv,
            &crate::store::TenantId(tenant.clone()),
        )
        .text("k")
        .into_bytes();
        (tenant, key)
    }

    /// The lease test of the issue, at the store: a process frozen past its lease finds
    /// its writes of a partition's tenants refused once another has taken that partition
    /// over, and learns it lost it.
    #[test]
    fn a_server_that_lost_a_partition_can_no_longer_write() {
        let Some(mut both) = testing::fresh_pair(2) else {
            return;
        };
        let (late, first) = (both.pop().unwrap(), both.pop().unwrap());
        let (_, k) = tenant_in(3);
        let (_, j) = tenant_in(4);
        let length = Duration::from_millis(800);
        first.join("first", "h1:1", length).unwrap();
        late.join("late", "h2:2", length).unwrap();
        assert_eq!(first.members().unwrap(), ["first", "late"]);
        let epoch = first.claim(3, "first", "h1:1", length).unwrap().unwrap();
        assert_eq!(first.claim(4, "first", "h1:1", length).unwrap(), Some(1));
        assert_eq!(first.held(), [3, 4]);
        first
            .apply(vec![Write::Put(k.clone(), b"first".to_vec())])
            .unwrap();
        assert_eq!(late.claim(3, "late", "h2:2", length).unwrap(), None);
        let three = late.partitions().unwrap()[3].clone();
        assert_eq!(
            (three.owner.as_str(), three.address.as_str(), three.held()),
            ("first", "h1:1", true)
        );
        assert!(!late.partitions().unwrap()[5].held(), "never claimed");
        assert_eq!(
            first.renew("first", "h1:1", length).unwrap(),
            Vec::<u32>::new()
        );
        // A process holding nothing writes unfenced (tenant-less calls).
        late.apply(vec![Write::Put(b"free".to_vec(), Vec::new())])
            .unwrap();

        // `first` freezes: its partitions lapse, and `late` takes one over.
        std::thread::sleep(length + Duration::from_millis(300));
        assert!(
            !late.partitions().unwrap()[3].held(),
            "a lapsed partition is free"
        );
        assert!(
            late.members().unwrap().is_empty(),
            "both memberships lapsed"
        );
        let taken = late.claim(3, "late", "h2:2", length).unwrap().unwrap();
        assert_eq!(taken, epoch + 1);
        assert_eq!(first.partitions().unwrap()[3].address, "h2:2");
        late.apply(vec![Write::Put(k.clone(), b"late".to_vec())])
            .unwrap();

        // `first` comes back: every kind of write of partition 3's tenants is refused, and
        // nothing of it lands; those of partition 4, which no one took, still land.
        let refused = first
            .apply(vec![Write::Put(k.clone(), b"stale".to_vec())])
            .unwrap_err();
        assert!(
            matches!(&refused, Error::Unavailable(why) if why.contains("partition 3")),
            "{refused:?}"
        );
        assert!(first
            .apply_guarded(
                &[],
                vec![
                    Write::Put(j.clone(), Vec::new()),
                    Write::Put(k.clone(), Vec::new())
                ]
            )
            .is_err());
        assert!(first.compare_and_swap(&k, Some(b"late"), None).is_err());
        assert_eq!(first.get(&k).unwrap(), Some(b"late".to_vec()));
        assert_eq!(first.get(&j).unwrap(), None, "nothing of a refused write");
        first
            .apply(vec![Write::Put(j.clone(), b"4".to_vec())])
            .unwrap();
        assert_eq!(first.renew("first", "h1:1", length).unwrap(), [3]);

        // A clean release hands everything over at once; the releasing process stays
        // fenced, and is refused once another claims the partition.
        late.release("late").unwrap();
        assert!(!first.partitions().unwrap()[3].held(), "released");
        late.apply(vec![Write::Put(k.clone(), b"last".to_vec())])
            .unwrap();
        first.join("first", "h1:1", length).unwrap();
        let again = first.claim(3, "first", "h1:1", length).unwrap().unwrap();
        assert_eq!(again, taken + 1);
        assert!(late
            .apply(vec![Write::Put(k.clone(), b"late again".to_vec())])
            .is_err());
        assert_eq!(first.get(&k).unwrap(), Some(b"last".to_vec()));
    }

    /// Moving one partition between live processes: the giver's writes of its tenants
    /// land until the taker claims it and never after, while the giver's other tenants
    /// are not disturbed.
    #[test]
    fn a_given_partition_fences_only_its_tenants() {
        let Some(mut both) = testing::fresh_pair(2) else {
            return;
        };
        let (taker, giver) = (both.pop().unwrap(), both.pop().unwrap());
        let (_, moved) = tenant_in(2);
        let (_, kept) = tenant_in(7);
        let length = Duration::from_secs(30);
        giver.join("giver", "h1:1", length).unwrap();
        taker.join("taker", "h2:2", length).unwrap();
        let epoch = giver.claim(2, "giver", "h1:1", length).unwrap().unwrap();
        giver.claim(7, "giver", "h1:1", length).unwrap().unwrap();
        assert_eq!(taker.claim(2, "taker", "h2:2", length).unwrap(), None);

        giver.give(2, "giver").unwrap();
        assert_eq!(giver.held(), [7]);
        assert!(!taker.partitions().unwrap()[2].held(), "free at once");
        assert_eq!(
            giver.renew("giver", "h1:1", length).unwrap(),
            Vec::<u32>::new(),
            "a given partition is not renewed, nor missed"
        );
        assert!(!taker.partitions().unwrap()[2].held(), "still free");
        // Work still finishing lands until the taker claims.
        giver
            .apply(vec![Write::Put(moved.clone(), b"before".to_vec())])
            .unwrap();
        assert_eq!(
            taker.claim(2, "taker", "h2:2", length).unwrap(),
            Some(epoch + 1)
        );
        let refused = giver
            .apply(vec![Write::Put(moved.clone(), b"after".to_vec())])
            .unwrap_err();
        assert!(
            matches!(&refused, Error::Unavailable(why) if why.contains("partition 2")),
            "{refused:?}"
        );
        giver
            .apply(vec![Write::Put(kept.clone(), b"kept".to_vec())])
            .unwrap();
        taker
            .apply(vec![Write::Put(moved.clone(), b"taker".to_vec())])
            .unwrap();
        assert_eq!(taker.get(&moved).unwrap(), Some(b"taker".to_vec()));
        assert_eq!(giver.get(&kept).unwrap(), Some(b"kept".to_vec()));

        // Given back, it is the giver's again, at a newer epoch.
        taker.give(2, "taker").unwrap();
        assert_eq!(
            giver.claim(2, "giver", "h1:1", length).unwrap(),
            Some(epoch + 2)
        );
        giver
            .apply(vec![Write::Put(moved.clone(), b"again".to_vec())])
            .unwrap();
        assert!(taker
            .apply(vec![Write::Put(moved.clone(), b"stale".to_vec())])
            .is_err());
    }

    /// Claims, gives and tenants' writes reach every listening process as notices, once
    /// committed; other writes send none.
    #[test]
    fn changes_of_partitions_and_tenants_reach_the_listeners() {
        use super::listen::Notice;
        let Some(mut both) = testing::fresh_pair(2) else {
            return;
        };
        let (other, listening) = (both.pop().unwrap(), both.pop().unwrap());
        let mut notices = listening.notices();
        let wait = tokio::runtime::Runtime::new().unwrap();
        let mut next = || {
            wait.block_on(async {
                tokio::time::timeout(Duration::from_secs(5), notices.recv()).await
            })
            .expect("a notice in time")
            .expect("the notices go on")
        };
        // Once listening, what may have been missed is told first.
        assert_eq!(
            [next(), next(), next()],
            [Notice::Freed, Notice::Claimed, Notice::Tenants]
        );
        let length = Duration::from_secs(30);
        other.join("other", "h2:2", length).unwrap();
        other.claim(5, "other", "h2:2", length).unwrap().unwrap();
        assert_eq!(next(), Notice::Claimed);
        let (_, kv) = tenant_in(5);
        other.apply(vec![Write::Put(kv, Vec::new())]).unwrap();
        let tenant = crate::store::keys::Key::table(crate::store::keys::Table::Tenant)
            .text("acme")
            .into_bytes();
        other.apply(vec![Write::Put(tenant, Vec::new())]).unwrap();
        assert_eq!(next(), Notice::Tenants, "a kv write told nothing");
        other.give(5, "other").unwrap();
        assert_eq!(next(), Notice::Freed);
        other.give(5, "other").unwrap();
        other.release("other").unwrap();
        let quiet = wait.block_on(async {
            tokio::time::timeout(Duration::from_millis(300), notices.recv()).await
        });
        assert!(quiet.is_err(), "nothing freed, nothing told: {quiet:?}");
    }

    #[test]
    fn tenants_fall_into_stable_partitions_shared_evenly() {
        use super::lease::{partition_of, shares, PARTITIONS};
        // Fixed forever: a server of another version must find each tenant where it is.
        assert_eq!(partition_of("default"), partition_of("default"));
        let spread: std::collections::BTreeSet<u32> =
            (0..200).map(|i| partition_of(&format!("t{i}"))).collect();
        assert_eq!(
            spread.len(),
            PARTITIONS as usize,
            "200 tenants reach every partition"
        );
        assert_eq!(shares(0), (16, 16));
        assert_eq!(shares(1), (16, 16));
        assert_eq!(shares(3), (5, 6));
        assert_eq!(shares(16), (1, 1));
        assert_eq!(shares(40), (0, 1));
    }

    /// Plays the claiming and giving rules out, each member in turn, until nothing
    /// changes; answers how many partitions were given up.
    fn even_out(holdings: &mut BTreeMap<String, usize>, free: &mut usize) -> usize {
        use super::lease::{should_claim, should_give};
        let mut moves = 0;
        for _round in 0..500 {
            let names: Vec<String> = holdings.keys().cloned().collect();
            let mut changed = false;
            for me in &names {
                let mine = holdings[me];
                if *free > 0 && should_claim(me, mine, holdings) {
                    *free -= 1;
                    *holdings.get_mut(me).unwrap() += 1;
                    changed = true;
                } else if should_give(me, holdings, *free) {
                    *free += 1;
                    moves += 1;
                    *holdings.get_mut(me).unwrap() -= 1;
                    changed = true;
                }
            }
            if !changed {
                return moves;
            }
        }
        panic!("the shares never settle: {holdings:?}");
    }

    /// The rules by which members even out their partitions, played out: members joining
    /// one at a time or several at once end up with even shares, and only what the
    /// newcomers need moves (no member claims what another short one needs, no partition
    /// goes back and forth); a member that dies leaves its share to the others.
    #[test]
    fn partitions_even_out_as_members_join_and_leave() {
        use super::lease::{shares, PARTITIONS};
        let even = |holdings: &BTreeMap<String, usize>| {
            let (floor, ceil) = shares(holdings.len());
            holdings.values().all(|n| (floor..=ceil).contains(n))
                && holdings.values().sum::<usize>() == PARTITIONS as usize
        };
        let waves: [&[&[&str]]; 4] = [
            &[&["a"], &["b"], &["c"], &["d"], &["e"], &["f"]],
            &[&["a"], &["b", "c", "d", "e", "f"]],
            &[&["a", "b"], &["c", "d", "e", "f"]],
            &[&["a"], &["b", "c"], &["d", "e", "f", "g", "h", "i", "j"]],
        ];
        for joins in waves {
            let mut holdings: BTreeMap<String, usize> = BTreeMap::new();
            let mut free = PARTITIONS as usize;
            for wave in joins {
                let free_at_join = free;
                for name in *wave {
                    holdings.insert(name.to_string(), 0);
                }
                let moves = even_out(&mut holdings, &mut free);
                assert!(even(&holdings), "{joins:?}: even, {holdings:?}");
                let got: usize = wave.iter().map(|n| holdings[*n]).sum();
                assert_eq!(
                    moves + free_at_join,
                    got,
                    "{joins:?}: only what the newcomers needed moved, {holdings:?}"
                );
            }
            // The first member dies: its partitions lapse, and the others take them.
            let dead = holdings.remove("a").unwrap();
            free += dead;
            let moves = even_out(&mut holdings, &mut free);
            assert!(
                even(&holdings),
                "{joins:?}: even after a death, {holdings:?}"
            );
            assert_eq!(moves, 0, "the survivors only claim what lapsed");
        }
    }

    #[test]
    fn a_database_newer_than_the_binary_is_refused() {
        let Some(pg) = testing::fresh() else {
            return;
        };
        let pool = pg.pool.clone();
        pg.wait(async move {
            let client = pool.get().await.map_err(unavailable)?;
            client
                .execute(
                    "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) \
                     VALUES (999, 'from_the_future', '2030-01-01T00:00:00Z', '0')",
                    &[],
                )
                .await
                .map_err(|e| classify(&e))?;
            Ok(())
        })
        .unwrap();
        let config = pg_config_of(&pg);
        let refused = Postgres::with_config(config, 1).unwrap_err();
        assert!(
            matches!(&refused, Error::Invalid(why) if why.contains("version 999") && why.contains("newer")),
            "{refused:?}"
        );
    }

    fn pg_config_of(pg: &Postgres) -> tokio_postgres::Config {
        pg.config.clone()
    }

    #[test]
    fn a_prefix_ends_before_its_successor() {
        assert_eq!(successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(successor(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(successor(&[0xFF, 0xFF]), None);
        assert_eq!(successor(b""), None);
    }

    #[test]
    fn the_last_write_of_a_key_wins() {
        let (keys, values, gone) = settle(vec![
            Write::Put(b"a".to_vec(), b"1".to_vec()),
            Write::Delete(b"a".to_vec()),
            Write::Put(b"b".to_vec(), b"1".to_vec()),
            Write::Put(b"b".to_vec(), b"2".to_vec()),
            Write::Delete(b"c".to_vec()),
        ]);
        assert_eq!(keys, [b"b".to_vec()]);
        assert_eq!(values, [b"2".to_vec()]);
        assert_eq!(gone, [b"a".to_vec(), b"c".to_vec()]);
    }
}
