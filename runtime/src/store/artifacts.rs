//! Compiled artifacts kept in files of this process, for a store several servers share:
//! `<root>/<engine fingerprint, hashed>/<module sha256>`. An artifact is a function of the
//! module's bytes and the engine alone, so it is keyed by them and not by tenant; and it is
//! native code wasmtime loads, so a server reads only artifacts it wrote itself, never
//! ones a database (which other parties may write) hands it.
//!
//! A file is written under a temporary name and renamed into place: it exists whole or
//! not at all. The artifact's own seal (`sandbox/artifact.rs`) still checks it on load.

use super::{Error, Result};
use sha2::{Digest as _, Sha256};
use std::path::PathBuf;

/// Where this process keeps its compiled artifacts.
#[derive(Debug)]
pub struct LocalArtifacts {
    root: PathBuf,
}

impl LocalArtifacts {
    /// Artifacts under `root` (created when first needed).
    pub fn at(root: PathBuf) -> LocalArtifacts {
        LocalArtifacts { root }
    }

    /// The file of a module's artifact for an engine; `None` for a sha256 that is not
    /// the store's hex (never a path).
    fn path(&self, sha256: &str, fingerprint: &str) -> Option<PathBuf> {
        if !is_sha256(sha256) {
            return None;
        }
        let engine = super::data::hex(&Sha256::digest(fingerprint.as_bytes()));
        Some(self.root.join(engine.get(..32)?).join(sha256))
    }

    /// The artifact, if this process compiled it before.
    ///
    /// # Errors
    /// I/O failures other than its absence.
    pub fn get(&self, sha256: &str, fingerprint: &str) -> Result<Option<Vec<u8>>> {
        let Some(path) = self.path(sha256, fingerprint) else {
            return Ok(None);
        };
        match std::fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    /// Keeps an artifact.
    ///
    /// # Errors
    /// I/O failures.
    pub fn put(&self, sha256: &str, fingerprint: &str, bytes: &[u8]) -> Result<()> {
        let Some(path) = self.path(sha256, fingerprint) else {
            return Err(Error::Invalid(format!("module sha256 {sha256:?}")));
        };
        let Some(dir) = path.parent() else {
            return Ok(());
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let temp = path.with_extension(format!("part-{}", std::process::id()));
        std::fs::write(&temp, bytes).map_err(io)?;
        std::fs::rename(&temp, &path).map_err(io)
    }

    /// Forgets a module's artifacts, for every engine (its bytes are gone).
    ///
    /// # Errors
    /// I/O failures.
    pub fn remove(&self, sha256: &str) -> Result<()> {
        let Ok(engines) = std::fs::read_dir(&self.root) else {
            return Ok(());
        };
        if !is_sha256(sha256) {
            return Ok(());
        }
        for engine in engines.flatten() {
            match std::fs::remove_file(engine.path().join(sha256)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io(e)),
            }
        }
        Ok(())
    }
}

/// A module's sha256 as the store writes it: 64 hex digits, never a path.
fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn io(e: std::io::Error) -> Error {
    Error::Backend(format!("compiled artifact file: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifacts_are_kept_per_engine_and_module_and_forgotten_with_it() {
        let root = std::env::temp_dir().join(format!("sandstep-artifacts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let local = LocalArtifacts::at(root.clone());
        let sha = "ab".repeat(32);
        assert_eq!(local.get(&sha, "engine-1").unwrap(), None);
        local.put(&sha, "engine-1", b"code").unwrap();
        assert_eq!(
            local.get(&sha, "engine-1").unwrap().as_deref(),
            Some(&b"code"[..])
        );
        assert_eq!(
            local.get(&sha, "engine-2").unwrap(),
            None,
            "another engine's"
        );
        assert!(
            local.put("../../etc/passwd", "engine-1", b"x").is_err(),
            "not a path"
        );
        assert_eq!(local.get("../x", "engine-1").unwrap(), None);
        local.put(&sha, "engine-2", b"other").unwrap();
        local.remove(&sha).unwrap();
        assert_eq!(local.get(&sha, "engine-1").unwrap(), None);
        assert_eq!(local.get(&sha, "engine-2").unwrap(), None);
        let _ = std::fs::remove_dir_all(&root);
    }
}
