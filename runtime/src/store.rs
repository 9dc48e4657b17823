//! Storage, as one trait per table. Every key starts with the tenant, so no read path can
//! cross from one tenant's data into another's.
//!
//! Nothing above these traits may assume a single process: the embedded sled store is the
//! default, and a networked backend can implement the same contracts.

pub mod activities;
pub mod artifacts;
pub mod backend;
pub mod bindings;
pub mod blobs;
pub mod children;
pub mod codec;
#[cfg(test)]
mod conformance;
pub mod connections;
pub mod data;
pub mod durability;
pub mod events;
pub mod executions;
pub mod jobs;
pub mod keys;
pub mod kv;
pub mod map_runs;
pub mod memory;
pub mod modules;
pub mod objects;
pub mod postgres;
pub mod queues;
pub mod roles;
pub mod routes;
pub mod schedules;
pub mod sled;
pub mod tables;
pub mod tags;
pub mod tenants;
pub mod tokens;
pub mod topics;
pub mod versions;

pub use activities::Activities;
use backend::Backend;
pub use bindings::Bindings;
pub use blobs::{Blobs, ObjectMeta};
pub use children::Children;
pub use connections::Connections;
pub use events::EventBuses;
pub use executions::{Executions, StateMachines};
pub use jobs::Jobs;
pub use map_runs::MapRuns;
pub use modules::Modules;
pub use queues::Queues;
pub use roles::Roles;
pub use routes::Routes;
pub use schedules::Schedules;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
pub use tables::Tables;
pub use tags::Tags;
pub use tenants::Tenants;
pub use tokens::Tokens;
pub use topics::Topics;
pub use versions::MachineVersions;

/// The store: every table, on one backend, and object bytes in files beside it.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
    objects: Arc<objects::Objects>,
    /// Compiled artifacts in this process's files instead of the backend (a shared one).
    artifacts: Option<Arc<artifacts::LocalArtifacts>>,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl Store {
    /// A store that keeps everything in memory.
    pub fn memory() -> Store {
        Store::on(memory::Memory::new())
    }

    /// A store on any backend, with object files in a temporary directory (see
    /// [`with_objects`](Self::with_objects)).
    pub fn on(backend: impl Backend) -> Store {
        Store {
            backend: Arc::new(backend),
            objects: Arc::new(objects::Objects::temporary()),
            artifacts: None,
        }
    }

    /// A store on a backend that something else holds too (the server keeps the
    /// PostgreSQL backend to renew its lease).
    pub fn on_shared(backend: Arc<dyn Backend>) -> Store {
        Store {
            backend,
            objects: Arc::new(objects::Objects::temporary()),
            artifacts: None,
        }
    }

    /// This store with its object files under `dir` (a data dir's `objects/`).
    pub fn with_objects(self, dir: std::path::PathBuf) -> Store {
        Store {
            objects: Arc::new(objects::Objects::at(dir)),
            ..self
        }
    }

    /// Object bytes kept in the store itself, in chunks: for a store several servers share
    /// (PostgreSQL), so that whichever of them is active reads every object.
    #[must_use]
    pub fn with_objects_in_store(self) -> Store {
        Store {
            objects: Arc::new(objects::Objects::in_store(Arc::clone(&self.backend))),
            ..self
        }
    }

    /// Compiled artifacts kept in this process's files under `dir`, not in the backend:
    /// for a store several servers share, whose rows a server must not load as native
    /// code (`store/artifacts.rs`).
    #[must_use]
    pub fn with_local_artifacts(self, dir: std::path::PathBuf) -> Store {
        Store {
            artifacts: Some(Arc::new(artifacts::LocalArtifacts::at(dir))),
            ..self
        }
    }

    /// The backend, shared (tests that write below the tables).
    #[cfg(test)]
    pub(crate) fn backend_arc(&self) -> Arc<dyn Backend> {
        Arc::clone(&self.backend)
    }

    /// Where object bytes are.
    pub(crate) fn objects(&self) -> &objects::Objects {
        &self.objects
    }

    /// Everything written so far made durable, to await: what an API answers only once
    /// its write survives a crash (many such waits share one sync).
    ///
    /// # Errors
    /// When the backend fails to start the sync.
    pub fn durable_later(&self) -> Result<durability::Pending> {
        self.backend.durable_later()
    }

    /// The backend, for the tables of `store/`: nothing outside the store composes keys.
    pub(crate) fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    /// The records under `prefix`, decoded, in key order from `after` (exclusive) on, at
    /// most `limit`.
    fn records<T: for<'de> Deserialize<'de>>(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<T>> {
        self.backend
            .scan(prefix, after, limit)?
            .iter()
            .map(|(_, v)| codec::decode(v))
            .collect()
    }
}

/// The stores the tables' tests run on: one suite, every backend. The in-memory map, sled
/// on a fresh directory, and PostgreSQL on a fresh schema when the test server is
/// configured (`SANDSTEP_TEST_POSTGRES`; required under CI).
#[cfg(test)]
pub(crate) mod testing {
    use super::Store;
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub fn stores() -> Vec<Store> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sandstep-store-test-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let sled = super::sled::Sled::open(&dir, super::durability::Durability::None)
            .expect("a sled store for the test");
        let mut stores = vec![Store::memory(), Store::on(sled)];
        if let Some(pg) = super::postgres::testing::fresh() {
            // As the server opens it: object bytes in the database too.
            stores.push(Store::on(pg).with_objects_in_store());
        }
        stores
    }
}

/// A tenant's id (`default` when the server runs without configuration).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TenantId(pub String);

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Why a store operation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The backend failed (I/O, corruption); the operation may be retried.
    #[error("storage backend failed: {0}")]
    Backend(String),
    /// The backend cannot be reached for now (a database connection lost, a failover in
    /// progress, every connection busy): nothing was written, and the caller may retry.
    #[error("{0}")]
    Unavailable(String),
    /// A conditional write found another version.
    #[error("condition failed: {0}")]
    ConditionFailed(String),
    /// A stored value could not be decoded.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The request does not fit what is stored (a kv call on a table keyed otherwise).
    #[error("{0}")]
    Invalid(String),
    /// An object larger than the limit (bytes) it was written under.
    #[error("the object is larger than the limit of {0} bytes")]
    TooLarge(u64),
    /// A write that would take the tenant's stored bytes past its quota (bytes).
    #[error("the tenant's storage quota of {0} bytes is used up")]
    QuotaExceeded(u64),
}

/// The result of store operations.
pub type Result<T> = std::result::Result<T, Error>;

/// A key-value item with its version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The item as JSON text.
    pub value: String,
    /// Incremented on every write.
    pub version: u64,
}

/// The condition of a key-value write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Write whatever is there.
    Any,
    /// Write only if the key is absent.
    Absent,
    /// Write only if the current version is this one.
    Version(u64),
}

/// Key-value items: the items of the tenant's DynamoDB tables as the `kv` host interface
/// sees them (`store/kv.rs`).
///
/// # Contract
/// A conditional put is atomic with its check; versions increase by one per write.
pub trait Kv: Send + Sync {
    /// Reads an item.
    ///
    /// # Errors
    /// [`Error::Backend`] when the store fails.
    fn kv_get(&self, tenant: &TenantId, table: &str, key: &str) -> Result<Option<Item>>;
    /// Writes an item if `expect` holds; returns the new version.
    ///
    /// # Errors
    /// [`Error::ConditionFailed`] when `expect` does not hold.
    fn kv_put(
        &self,
        tenant: &TenantId,
        table: &str,
        key: &str,
        value: &str,
        expect: Expect,
    ) -> Result<u64>;
    /// Deletes an item; `true` when it existed.
    ///
    /// # Errors
    /// [`Error::Backend`] when the store fails.
    fn kv_delete(&self, tenant: &TenantId, table: &str, key: &str) -> Result<bool>;
    /// Items whose key starts with `prefix`, in key order.
    ///
    /// # Errors
    /// [`Error::Backend`] when the store fails.
    fn kv_query(
        &self,
        tenant: &TenantId,
        table: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<(String, Item)>>;
}
