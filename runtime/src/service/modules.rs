//! Uploaded modules: a new version per upload (checked, compiled and stored by the
//! [`ModuleHost`]), listing, and deletion, refused while a running execution pins what it
//! would remove.

use super::{Error, Result};
use crate::grants::Grants;
use crate::store::modules::ModuleVersion;
use crate::store::{Executions as _, Modules as _, Store};
use crate::tenants::Tenant;
use std::sync::Arc;

/// Inspects and registers uploaded modules (the sandbox, in the server).
pub trait ModuleHost: Send + Sync + 'static {
    /// Validates and compiles `bytes`, then stores them as a new version of `name`.
    ///
    /// # Errors
    /// A message naming what is wrong (invalid bytes, an unknown import, ...).
    fn register(
        &self,
        tenant: &Tenant,
        name: &str,
        bytes: &[u8],
        grants: Grants,
    ) -> std::result::Result<ModuleVersion, RegisterError>;
}

/// Why an upload was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegisterError {
    /// The bytes are not an acceptable module; the message names the reason.
    #[error("{0}")]
    Invalid(String),
    /// The module's code is over a compile limit or budget (a value out of range, so
    /// `ValidationException`); the message names the limit.
    #[error("{0}")]
    OverLimit(String),
    /// Storing failed.
    #[error("{0}")]
    Store(String),
}

impl From<RegisterError> for Error {
    fn from(e: RegisterError) -> Error {
        match e {
            RegisterError::Invalid(reason) => Error::InvalidModule(reason),
            RegisterError::OverLimit(reason) => Error::ModuleOverLimit(reason),
            RegisterError::Store(e) => Error::Internal(e),
        }
    }
}

/// The module host of a build without the sandbox: refuses every upload.
#[derive(Debug)]
pub struct NoModules;

impl ModuleHost for NoModules {
    fn register(
        &self,
        _: &Tenant,
        _: &str,
        _: &[u8],
        _: Grants,
    ) -> std::result::Result<ModuleVersion, RegisterError> {
        Err(RegisterError::Invalid(
            "this build has no WebAssembly sandbox".into(),
        ))
    }
}

fn check_name(name: &str) -> Result<()> {
    if crate::grants::valid_name(name) {
        Ok(())
    } else {
        Err(Error::InvalidModuleName(name.to_string()))
    }
}

/// The tenant's modules.
#[derive(Clone)]
pub struct Modules {
    store: Store,
    region: String,
    host: Arc<dyn ModuleHost>,
}

impl std::fmt::Debug for Modules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Modules")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

impl Modules {
    /// The modules in `store`, registered by `host`; ARNs in messages are in `region`.
    pub fn new(store: Store, region: &str, host: Arc<dyn ModuleHost>) -> Modules {
        Modules {
            store,
            region: region.to_string(),
            host,
        }
    }

    /// Stores `bytes` as a new version of the module `name` with the grants in `grants`
    /// (`kv:orders,queue:shipments:write`), within the tenant's module size quota.
    /// Compiling is CPU work bounded by the host's limits: it runs off the async workers.
    ///
    /// # Errors
    /// [`Error::InvalidModuleName`], [`Error::ModuleOverQuota`], [`Error::InvalidGrants`],
    /// [`Error::InvalidModule`] (nothing is stored), [`Error::ModuleOverLimit`], failures.
    #[tracing::instrument(level = "debug", name = "service.upload_module", skip_all, fields(tenant = %tenant.id, module = %name, bytes = bytes.len()))]
    pub async fn upload(
        &self,
        tenant: &Tenant,
        name: &str,
        bytes: Vec<u8>,
        grants: Option<&str>,
    ) -> Result<ModuleVersion> {
        check_name(name)?;
        if bytes.len() as u64 > tenant.quotas.max_module_bytes {
            return Err(Error::ModuleOverQuota {
                bytes: bytes.len(),
                limit: tenant.quotas.max_module_bytes,
            });
        }
        let grants = Grants::parse(grants).map_err(|e| Error::InvalidGrants(e.to_string()))?;
        let host = Arc::clone(&self.host);
        let (tenant, name) = (tenant.clone(), name.to_string());
        tokio::task::spawn_blocking(move || host.register(&tenant, &name, &bytes, grants))
            .await
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(Error::from)
    }

    /// The latest version of each of the tenant's modules.
    ///
    /// # Errors
    /// Store failures.
    #[tracing::instrument(level = "debug", name = "service.list_modules", skip_all, fields(tenant = %tenant.id))]
    pub fn list(&self, tenant: &Tenant) -> Result<Vec<ModuleVersion>> {
        Ok(self.store.module_list(&tenant.id)?)
    }

    /// Every version of a module.
    ///
    /// # Errors
    /// [`Error::ModuleDoesNotExist`], store failures.
    #[tracing::instrument(level = "debug", name = "service.describe_module", skip_all, fields(tenant = %tenant.id, module = %name))]
    pub fn versions(&self, tenant: &Tenant, name: &str) -> Result<Vec<ModuleVersion>> {
        let versions = self.store.module_versions(&tenant.id, name)?;
        if versions.is_empty() {
            return Err(Error::ModuleDoesNotExist(name.to_string()));
        }
        Ok(versions)
    }

    /// Deletes a module's `version`, or all its versions; answers how many went.
    ///
    /// # Errors
    /// [`Error::ModuleInUse`] while a running execution pins it,
    /// [`Error::ModuleDoesNotExist`], [`Error::ModuleVersionDoesNotExist`], failures.
    #[tracing::instrument(level = "debug", name = "service.delete_module", skip_all, fields(tenant = %tenant.id, module = %name, version))]
    pub fn delete(&self, tenant: &Tenant, name: &str, version: Option<u32>) -> Result<usize> {
        if let Some(v) = version {
            tracing::Span::current().record("version", v);
        }
        self.check_unpinned(tenant, name, version)?;
        let deleted = self.store.module_delete(&tenant.id, name, version)?;
        if deleted == 0 {
            return Err(match version {
                Some(version) => Error::ModuleVersionDoesNotExist {
                    name: name.to_string(),
                    version,
                },
                None => Error::ModuleDoesNotExist(name.to_string()),
            });
        }
        Ok(deleted)
    }

    /// Refuses while a running execution of the tenant pins `name` (at `version`, or any):
    /// one lookup in the store's pin index, written with each execution's first and last
    /// step, not a scan of the executions.
    fn check_unpinned(&self, tenant: &Tenant, name: &str, version: Option<u32>) -> Result<()> {
        match self.store.pinned_by(&tenant.id, name, version)? {
            Some(key) => Err(Error::ModuleInUse {
                name: name.to_string(),
                execution: crate::arn::execution(
                    &self.region,
                    &tenant.account,
                    &key.machine,
                    &key.name,
                    false,
                ),
            }),
            None => Ok(()),
        }
    }
}
