//! Server configuration: defaults, overridden by a TOML file (`--config`), overridden by
//! command-line flags.
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! data_dir = "./sandstep-data"
//! store = "sled"                   # or "postgres://user:password@host:port/db"
//! store_pool = 16                  # connections to PostgreSQL per process
//! lease_seconds = 8                # PostgreSQL: how long a server's partitions stay leased unrenewed
//! advertise = "10.0.0.5:8080"      # PostgreSQL: where the other servers reach this one
//! share_tasks_above = 0            # PostgreSQL: module tasks run here before others get them; 0: one per core
//! region = "us-east-1"
//! admin_token = "change-me"        # enables POST /v1/tenants
//! durability = "group"             # group | fsync | none
//! group_commit_window_ms = 0
//! cache_mib = 64                   # sled's page cache: most of the server's RSS
//! max_module_mib = 64              # largest module upload (a tenant's quota may be lower)
//! max_object_mib = 5120            # largest S3 object (a single PUT or a completed multipart upload)
//! retention_days = 90
//! max_tasks = 256
//! max_tasks_per_tenant = 64
//! engine_threads = 0               # threads for engine steps; 0: one per core
//! engine_budget_seconds = 60       # engine time one execution may use
//! compile_memory_mib = 2048        # address space of the child process compiling an upload
//! compile_timeout_seconds = 60     # time one upload may take to compile
//! activity_poll_seconds = 60       # how long GetActivityTask waits for a task (1-60)
//! secret_key_file = "/etc/sandstep/secret.key"  # 64 hex characters; or SANDSTEP_SECRET_KEY
//! outbound_allow = []              # networks outbound HTTP may reach beyond public ones
//! outbound_timeout_seconds = 60    # the longest one outbound exchange may take
//! outbound_per_tenant = 16         # outbound requests one tenant may have in flight
//! ```

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything `sandstep serve` can be told.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Where the store lives (sled), and this process's local files with any store
    /// (quarantine journal, compiled modules).
    pub data_dir: PathBuf,
    /// `sled` (the default: embedded, under `data_dir`) or a `postgres://` URL (shared
    /// by every process pointed at it).
    pub store: String,
    /// The most connections one process opens to PostgreSQL.
    pub store_pool: usize,
    /// With PostgreSQL: how long a server's lease on its partitions lasts without being
    /// renewed (it is renewed every quarter of it); the other servers take them over once
    /// it lapses.
    pub lease_seconds: u64,
    /// With PostgreSQL: the `host:port` the other servers reach this one at, to pass on
    /// the calls they receive for the tenants this one runs. Unset: the address it listens on (with
    /// the host's name for an unspecified address such as `0.0.0.0`).
    pub advertise: Option<String>,
    /// With PostgreSQL: how many module tasks this server runs at once before it offers
    /// the next to the other servers, and above which it declines theirs
    /// (`scheduler/sharing.rs`). 0: one per core.
    pub share_tasks_above: usize,
    /// The region in ARNs.
    pub region: String,
    /// The admin token for `POST /v1/tenants`.
    pub admin_token: Option<String>,
    /// `group`, `fsync` or `none`.
    pub durability: String,
    /// How long group commit gathers commits before syncing.
    pub group_commit_window_ms: u64,
    /// sled's page cache in MiB.
    pub cache_mib: u64,
    /// The largest module upload in MiB, for every tenant (a tenant's quota may be lower).
    pub max_module_mib: u64,
    /// The largest S3 object, in MiB.
    pub max_object_mib: u64,
    /// How long finished executions are kept.
    pub retention_days: u64,
    /// Tasks running at once, in total.
    pub max_tasks: usize,
    /// Tasks running at once, per tenant.
    pub max_tasks_per_tenant: usize,
    /// Threads that run engine steps; 0 for one per core.
    pub engine_threads: usize,
    /// Engine time one execution may use before it fails with `States.Runtime`.
    pub engine_budget_seconds: u64,
    /// The address-space limit of the child process that compiles an upload, in MiB.
    pub compile_memory_mib: u64,
    /// How long one upload may take to compile before its compiler is killed.
    pub compile_timeout_seconds: u64,
    /// How long GetActivityTask waits for a task before an empty answer (AWS: 60 s).
    pub activity_poll_seconds: u64,
    /// The longest a Standard execution may run before it times out (`States.Timeout`);
    /// AWS's limit, one year, is the default and the most.
    pub max_standard_execution_seconds: u64,
    /// The file holding the key connections' secrets are sealed with (64 hex
    /// characters); `SANDSTEP_SECRET_KEY` wins over it. Keep it apart from the data dir.
    pub secret_key_file: Option<PathBuf>,
    /// Networks (CIDR, or one address) outbound HTTP may reach although they are
    /// loopback, private or link-local: what no grant or connection can allow.
    pub outbound_allow: Vec<String>,
    /// The longest one outbound exchange (every redirect of it) may take.
    pub outbound_timeout_seconds: u64,
    /// Outbound requests one tenant may have in flight at once.
    pub outbound_per_tenant: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./sandstep-data"),
            store: "sled".into(),
            store_pool: 16,
            lease_seconds: 8,
            advertise: None,
            share_tasks_above: 0,
            region: "us-east-1".into(),
            admin_token: None,
            durability: "group".into(),
            group_commit_window_ms: 0,
            cache_mib: crate::store::sled::DEFAULT_CACHE_BYTES >> 20,
            max_module_mib: 64,
            max_object_mib: 5120,
            retention_days: 90,
            max_tasks: 256,
            max_tasks_per_tenant: 64,
            engine_threads: 0,
            engine_budget_seconds: 60,
            compile_memory_mib: 2048,
            compile_timeout_seconds: 60,
            activity_poll_seconds: 60,
            max_standard_execution_seconds: crate::scheduler::STANDARD_LIMIT_SECONDS,
            secret_key_file: None,
            outbound_allow: Vec::new(),
            outbound_timeout_seconds: 60,
            outbound_per_tenant: 16,
        }
    }
}

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read.
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    /// The file is not valid TOML for this schema.
    #[error("invalid configuration in {0}: {1}")]
    Parse(PathBuf, String),
    /// A value is out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads a TOML file over the defaults.
    ///
    /// # Errors
    /// [`Error`] when the file is unreadable or invalid.
    pub fn from_file(path: &std::path::Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Read(path.to_path_buf(), e))?;
        let config: Config =
            toml::from_str(&text).map_err(|e| Error::Parse(path.to_path_buf(), e.to_string()))?;
        config.check()?;
        Ok(config)
    }

    /// Checks values that the types alone do not.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the value.
    pub fn check(&self) -> Result<(), Error> {
        if self.store != "sled"
            && !self.store.starts_with("postgres://")
            && !self.store.starts_with("postgresql://")
        {
            return Err(Error::Invalid(format!(
                "store must be sled or a postgres:// URL, not '{}'",
                self.store
            )));
        }
        if let Some(address) = &self.advertise {
            let port = address.rsplit_once(':').map(|(_, p)| p.parse::<u16>());
            if !matches!(port, Some(Ok(p)) if p > 0) {
                return Err(Error::Invalid(format!(
                    "advertise must be host:port, not '{address}'"
                )));
            }
        }
        if !(1..=3600).contains(&self.lease_seconds) {
            return Err(Error::Invalid(
                "lease_seconds must be between 1 and 3600".into(),
            ));
        }
        if self.store_pool == 0 || self.store_pool > 1024 {
            return Err(Error::Invalid(
                "store_pool must be between 1 and 1024".into(),
            ));
        }
        if !matches!(self.durability.as_str(), "group" | "fsync" | "none") {
            return Err(Error::Invalid(format!(
                "durability must be group, fsync or none, not '{}'",
                self.durability
            )));
        }
        if self.cache_mib == 0 || self.max_module_mib == 0 || self.max_object_mib == 0 {
            return Err(Error::Invalid(
                "cache_mib, max_module_mib and max_object_mib must be at least 1".into(),
            ));
        }
        if self.cache_mib > 1 << 20 {
            return Err(Error::Invalid(
                "cache_mib is at most 1048576 (1 TiB)".into(),
            ));
        }
        if self.max_module_mib > 1024 {
            return Err(Error::Invalid(
                "max_module_mib is at most 1024 (a module is held in memory while it compiles)"
                    .into(),
            ));
        }
        if self.compile_memory_mib < 256 || self.compile_timeout_seconds == 0 {
            return Err(Error::Invalid(
                "compile_memory_mib must be at least 256 and compile_timeout_seconds at least 1"
                    .into(),
            ));
        }
        if !(1..=60).contains(&self.activity_poll_seconds) {
            return Err(Error::Invalid(
                "activity_poll_seconds must be 1 to 60 (SDKs time a poll out after about 65 s)"
                    .into(),
            ));
        }
        if !(1..=crate::scheduler::STANDARD_LIMIT_SECONDS)
            .contains(&self.max_standard_execution_seconds)
        {
            return Err(Error::Invalid(format!(
                "max_standard_execution_seconds must be 1 to {} (one year, AWS's limit)",
                crate::scheduler::STANDARD_LIMIT_SECONDS
            )));
        }
        crate::outbound::guard::Guard::new(self.outbound_allow.iter().map(String::as_str))
            .map_err(Error::Invalid)?;
        if !(1..=3600).contains(&self.outbound_timeout_seconds) || self.outbound_per_tenant == 0 {
            return Err(Error::Invalid(
                "outbound_timeout_seconds must be 1 to 3600 and outbound_per_tenant at least 1"
                    .into(),
            ));
        }
        if self.max_tasks == 0 || self.max_tasks_per_tenant == 0 {
            return Err(Error::Invalid(
                "max_tasks and max_tasks_per_tenant must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// The guarded outbound HTTP client with these settings, shared by HTTP Tasks and
    /// modules.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a network that does not parse.
    pub fn outbound(&self) -> Result<crate::outbound::Outbound, Error> {
        let guard =
            crate::outbound::guard::Guard::new(self.outbound_allow.iter().map(String::as_str))
                .map_err(Error::Invalid)?;
        Ok(crate::outbound::Outbound::new(crate::outbound::Options {
            guard,
            timeout: std::time::Duration::from_secs(self.outbound_timeout_seconds),
            per_tenant: self.outbound_per_tenant,
            ..crate::outbound::Options::default()
        }))
    }

    /// The key connections' secrets are sealed with, if the server has one.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a key that cannot be read or parsed.
    pub fn secret_key(&self) -> Result<Option<crate::secrets::SecretKey>, Error> {
        crate::secrets::SecretKey::configured(self.secret_key_file.as_deref())
            .map_err(Error::Invalid)
    }

    /// The largest module upload in bytes.
    pub fn max_module_bytes(&self) -> usize {
        usize::try_from(self.max_module_mib << 20).unwrap_or(usize::MAX)
    }

    /// The store's durability.
    pub fn durability(&self) -> crate::store::durability::Durability {
        use crate::store::durability::Durability;
        match self.durability.as_str() {
            "fsync" => Durability::Fsync,
            "none" => Durability::None,
            _ => Durability::Group {
                window: std::time::Duration::from_millis(self.group_commit_window_ms),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_toml_over_defaults() {
        let c: Config = toml::from_str("region = \"eu-west-1\"\ndurability = \"fsync\"").unwrap();
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.listen, Config::default().listen);
        assert!(c.check().is_ok());
        assert!(toml::from_str::<Config>("bogus = 1").is_err());
        let bad = Config {
            durability: "maybe".into(),
            ..Config::default()
        };
        assert!(bad.check().is_err());
        let no_cache = Config {
            cache_mib: 0,
            ..Config::default()
        };
        assert!(no_cache.check().is_err());
        let c: Config = toml::from_str("cache_mib = 16").unwrap();
        assert_eq!(c.cache_mib, 16);
    }
}
