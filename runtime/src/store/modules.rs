//! The module registry: immutable, numbered versions of each module, their bytes stored
//! by content (sha256), and compiled artifacts per engine fingerprint.

use super::backend::Write;
use super::codec::{decode, encode};
use super::keys::{Key, Table};
use super::{Millis, Result, Store, TenantId};
use crate::grants::Grants;
use serde::{Deserialize, Serialize};

/// How a module runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModuleKind {
    /// A component of the `task` world.
    Component,
    /// A WASI preview 1 command: JSON on stdin, JSON on stdout.
    Command,
}

impl ModuleKind {
    /// The name shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            ModuleKind::Component => "component",
            ModuleKind::Command => "command",
        }
    }

    /// Reads [`ModuleKind::as_str`] back.
    pub fn parse(name: &str) -> Option<ModuleKind> {
        match name {
            "component" => Some(ModuleKind::Component),
            "command" => Some(ModuleKind::Command),
            _ => None,
        }
    }
}

/// One immutable version of a module.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModuleVersion {
    /// The module's name.
    pub name: String,
    /// 1, 2, 3, ... per name.
    pub version: u32,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    /// Component or command.
    pub kind: ModuleKind,
    /// What it imports (`interface#function` or `module::name`).
    pub imports: Vec<String>,
    /// What it exports.
    pub exports: Vec<String>,
    /// What it may use.
    pub grants: Grants,
    /// Size in bytes.
    pub size: u64,
    /// When it was uploaded.
    pub created: Millis,
}

/// Task modules: versions (bytes by sha256, kind, imports, exports, grants) and the
/// compiled artifacts cached beside them.
///
/// # Contract
/// A version, once added, is immutable and addressed by its sha256; deleting a version
/// that an open execution pins is refused.
pub trait Modules: Send + Sync {
    /// Adds a version of `name` (its number is assigned here) with its bytes.
    ///
    /// # Errors
    /// When the store fails.
    fn module_add(
        &self,
        tenant: &TenantId,
        record: ModuleVersion,
        bytes: &[u8],
    ) -> Result<ModuleVersion>;

    /// Every version of `name`, oldest first.
    ///
    /// # Errors
    /// When the store fails.
    fn module_versions(&self, tenant: &TenantId, name: &str) -> Result<Vec<ModuleVersion>>;

    /// One version, or the latest when `version` is `None`.
    ///
    /// # Errors
    /// When the store fails.
    fn module_version(
        &self,
        tenant: &TenantId,
        name: &str,
        version: Option<u32>,
    ) -> Result<Option<ModuleVersion>>;

    /// [`Store::module_version`] as stored, undecoded: versions never change, so a caller
    /// holding the decoded record of the same bytes can skip decoding them again.
    ///
    /// # Errors
    /// When the store fails.
    fn module_version_encoded(
        &self,
        tenant: &TenantId,
        name: &str,
        version: Option<u32>,
    ) -> Result<Option<Vec<u8>>>;

    /// The latest version of every module, by name.
    ///
    /// # Errors
    /// When the store fails.
    fn module_list(&self, tenant: &TenantId) -> Result<Vec<ModuleVersion>>;

    /// The bytes of a module version.
    ///
    /// # Errors
    /// When the store fails.
    fn module_bytes(&self, tenant: &TenantId, sha256: &str) -> Result<Option<Vec<u8>>>;

    /// Deletes versions of `name` (all when `version` is `None`); returns how many.
    /// Bytes are kept while another version still uses them.
    ///
    /// # Errors
    /// When the store fails.
    fn module_delete(&self, tenant: &TenantId, name: &str, version: Option<u32>) -> Result<usize>;

    /// A compiled artifact of module bytes for an engine configuration.
    ///
    /// # Errors
    /// When the store fails.
    fn artifact_get(
        &self,
        tenant: &TenantId,
        sha256: &str,
        fingerprint: &str,
    ) -> Result<Option<Vec<u8>>>;

    /// Stores a compiled artifact.
    ///
    /// # Errors
    /// When the store fails.
    fn artifact_put(
        &self,
        tenant: &TenantId,
        sha256: &str,
        fingerprint: &str,
        bytes: &[u8],
    ) -> Result<()>;
}

impl Modules for Store {
    fn module_add(
        &self,
        tenant: &TenantId,
        mut record: ModuleVersion,
        bytes: &[u8],
    ) -> Result<ModuleVersion> {
        let counter = Key::of(Table::Meta, tenant)
            .text("module-version")
            .text(&record.name)
            .into_bytes();
        loop {
            let current = self.backend.get(&counter)?;
            let last = match &current {
                Some(b) => decode::<u32>(b)?,
                None => 0,
            };
            let next = last + 1;
            let encoded = encode(&next)?;
            if self
                .backend
                .compare_and_swap(&counter, current.as_deref(), Some(encoded))?
            {
                record.version = next;
                break;
            }
        }
        let key = Key::of(Table::ModuleVersion, tenant)
            .text(&record.name)
            .number(u64::from(record.version))
            .into_bytes();
        let body = encode(&record)?;
        self.backend.apply(vec![
            Write::Put(
                Key::of(Table::ModuleBytes, tenant)
                    .text(&record.sha256)
                    .into_bytes(),
                bytes.to_vec(),
            ),
            Write::Put(key, body),
        ])?;
        self.backend.durable()?;
        Ok(record)
    }

    fn module_versions(&self, tenant: &TenantId, name: &str) -> Result<Vec<ModuleVersion>> {
        let prefix = Key::of(Table::ModuleVersion, tenant)
            .text(name)
            .into_bytes();
        self.backend
            .scan(&prefix, None, usize::MAX)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }

    fn module_version(
        &self,
        tenant: &TenantId,
        name: &str,
        version: Option<u32>,
    ) -> Result<Option<ModuleVersion>> {
        self.module_version_encoded(tenant, name, version)?
            .map(|b| decode(&b))
            .transpose()
    }

    fn module_version_encoded(
        &self,
        tenant: &TenantId,
        name: &str,
        version: Option<u32>,
    ) -> Result<Option<Vec<u8>>> {
        let at = |v: u32| {
            Key::of(Table::ModuleVersion, tenant)
                .text(name)
                .number(u64::from(v))
                .into_bytes()
        };
        match version {
            Some(v) => self.backend.get(&at(v)),
            None => {
                // The counter names the latest version; read it directly unless it was
                // deleted (or is being added right now), then fall back to the scan.
                let counter = Key::of(Table::Meta, tenant)
                    .text("module-version")
                    .text(name)
                    .into_bytes();
                if let Some(bytes) = self.backend.get(&counter)? {
                    let last: u32 = decode(&bytes)?;
                    if let Some(record) = self.backend.get(&at(last))? {
                        return Ok(Some(record));
                    }
                }
                let prefix = Key::of(Table::ModuleVersion, tenant)
                    .text(name)
                    .into_bytes();
                Ok(self
                    .backend
                    .scan(&prefix, None, usize::MAX)?
                    .pop()
                    .map(|(_, v)| v))
            }
        }
    }

    fn module_list(&self, tenant: &TenantId) -> Result<Vec<ModuleVersion>> {
        let prefix = Key::of(Table::ModuleVersion, tenant).into_bytes();
        let mut out: Vec<ModuleVersion> = Vec::new();
        for (_, v) in self.backend.scan(&prefix, None, usize::MAX)? {
            let record: ModuleVersion = decode(&v)?;
            match out.last_mut() {
                Some(last) if last.name == record.name => *last = record,
                _ => out.push(record),
            }
        }
        Ok(out)
    }

    fn module_bytes(&self, tenant: &TenantId, sha256: &str) -> Result<Option<Vec<u8>>> {
        self.backend.get(
            &Key::of(Table::ModuleBytes, tenant)
                .text(sha256)
                .into_bytes(),
        )
    }

    fn module_delete(&self, tenant: &TenantId, name: &str, version: Option<u32>) -> Result<usize> {
        let doomed: Vec<ModuleVersion> = self
            .module_versions(tenant, name)?
            .into_iter()
            .filter(|m| version.is_none_or(|v| m.version == v))
            .collect();
        let mut writes = Vec::new();
        for m in &doomed {
            writes.push(Write::Delete(
                Key::of(Table::ModuleVersion, tenant)
                    .text(name)
                    .number(u64::from(m.version))
                    .into_bytes(),
            ));
        }
        self.backend.apply(writes)?;
        let still_used: Vec<String> = self
            .module_list_all(tenant)?
            .into_iter()
            .map(|m| m.sha256)
            .collect();
        let mut writes = Vec::new();
        for m in &doomed {
            if !still_used.contains(&m.sha256) {
                writes.push(Write::Delete(
                    Key::of(Table::ModuleBytes, tenant)
                        .text(&m.sha256)
                        .into_bytes(),
                ));
                if let Some(local) = &self.artifacts {
                    local.remove(&m.sha256)?;
                }
                let artifacts = Key::of(Table::Artifact, tenant)
                    .text(&m.sha256)
                    .into_bytes();
                for (k, _) in self.backend.scan(&artifacts, None, usize::MAX)? {
                    writes.push(Write::Delete(k));
                }
            }
        }
        self.backend.apply(writes)?;
        Ok(doomed.len())
    }

    fn artifact_get(
        &self,
        tenant: &TenantId,
        sha256: &str,
        fingerprint: &str,
    ) -> Result<Option<Vec<u8>>> {
        if let Some(local) = &self.artifacts {
            return local.get(sha256, fingerprint);
        }
        self.backend.get(
            &Key::of(Table::Artifact, tenant)
                .text(sha256)
                .text(fingerprint)
                .into_bytes(),
        )
    }

    fn artifact_put(
        &self,
        tenant: &TenantId,
        sha256: &str,
        fingerprint: &str,
        bytes: &[u8],
    ) -> Result<()> {
        if let Some(local) = &self.artifacts {
            return local.put(sha256, fingerprint, bytes);
        }
        let key = Key::of(Table::Artifact, tenant)
            .text(sha256)
            .text(fingerprint)
            .into_bytes();
        self.backend.apply(vec![Write::Put(key, bytes.to_vec())])
    }
}

impl Store {
    fn module_list_all(&self, tenant: &TenantId) -> Result<Vec<ModuleVersion>> {
        let prefix = Key::of(Table::ModuleVersion, tenant).into_bytes();
        self.backend
            .scan(&prefix, None, usize::MAX)?
            .iter()
            .map(|(_, v)| decode(v))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, sha: &str) -> ModuleVersion {
        ModuleVersion {
            name: name.into(),
            version: 0,
            sha256: sha.into(),
            kind: ModuleKind::Component,
            imports: vec![],
            exports: vec!["run".into()],
            grants: Grants::none(),
            size: 3,
            created: 0,
        }
    }

    #[test]
    fn versions_are_numbered_per_name_and_tenant() {
        for s in crate::store::testing::stores() {
            let (a, b) = (TenantId("a".into()), TenantId("b".into()));
            assert_eq!(
                s.module_add(&a, record("echo", "s1"), b"one")
                    .unwrap()
                    .version,
                1
            );
            assert_eq!(
                s.module_add(&a, record("echo", "s2"), b"two")
                    .unwrap()
                    .version,
                2
            );
            assert_eq!(
                s.module_add(&b, record("echo", "s1"), b"one")
                    .unwrap()
                    .version,
                1
            );
            assert_eq!(
                s.module_version(&a, "echo", None).unwrap().unwrap().sha256,
                "s2"
            );
            assert_eq!(
                s.module_version(&a, "echo", Some(1))
                    .unwrap()
                    .unwrap()
                    .sha256,
                "s1"
            );
            assert_eq!(s.module_list(&a).unwrap().len(), 1);
            assert_eq!(s.module_bytes(&a, "s2").unwrap().unwrap(), b"two");
            assert_eq!(s.module_bytes(&b, "s2").unwrap(), None);
        }
    }

    #[test]
    fn deleting_keeps_bytes_still_in_use() {
        for s in crate::store::testing::stores() {
            let a = TenantId("a".into());
            s.module_add(&a, record("x", "same"), b"b").unwrap();
            s.module_add(&a, record("y", "same"), b"b").unwrap();
            s.artifact_put(&a, "same", "fp", b"compiled").unwrap();
            assert_eq!(s.module_delete(&a, "x", None).unwrap(), 1);
            assert!(s.module_bytes(&a, "same").unwrap().is_some());
            assert_eq!(s.module_delete(&a, "y", Some(1)).unwrap(), 1);
            assert!(s.module_bytes(&a, "same").unwrap().is_none());
            assert!(s.artifact_get(&a, "same", "fp").unwrap().is_none());
        }
    }

    #[test]
    fn the_latest_version_survives_deleting_it() {
        for s in crate::store::testing::stores() {
            let a = TenantId("a".into());
            for sha in ["s1", "s2", "s3"] {
                s.module_add(&a, record("m", sha), b"x").unwrap();
            }
            assert_eq!(s.module_version(&a, "m", None).unwrap().unwrap().version, 3);
            s.module_delete(&a, "m", Some(3)).unwrap();
            assert_eq!(s.module_version(&a, "m", None).unwrap().unwrap().version, 2);
            s.module_delete(&a, "m", None).unwrap();
            assert_eq!(s.module_version(&a, "m", None).unwrap(), None);
        }
    }
}
