//! The embedded default backend: sled under `--data-dir`.
//!
//! sled 0.34's `flush()` ends in `sync_file_range`, which does not make data durable on
//! power loss. So a durable commit here is `flush()` followed by `fdatasync` of sled's
//! data file, and group commit shares that pair across every writer waiting at the time.

use super::backend::{Backend, Guard, Write};
use super::durability::{Durability, GroupCommit, Pending};
use super::{Error, Result};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

/// sled, made durable for real.
#[derive(Debug)]
pub struct Sled {
    db: ::sled::Db,
    /// sled's data file, kept open for `fdatasync`.
    data_file: Arc<File>,
    durability: Durability,
    group: Option<Arc<GroupCommit>>,
    syncer: Option<std::thread::JoinHandle<()>>,
    /// The first failed inline sync (`fsync` durability): sticky, as in group commit.
    failed: std::sync::OnceLock<String>,
}

fn backend(e: impl std::fmt::Display) -> Error {
    Error::Backend(e.to_string())
}

fn sync(db: &::sled::Db, file: &File) -> std::result::Result<(), String> {
    db.flush().map_err(|e| e.to_string())?;
    file.sync_data().map_err(|e| e.to_string())
}

/// sled's page cache, by default. sled keeps what was just written in this cache, so it
/// sets most of the server's resident memory: at 256 MiB, 100,000 waiting executions cost
/// ~2.4 KiB each in RSS; at 64 MiB, ~1.2 KiB (and ~0.2 KiB each beyond the cache).
/// Reads of cold executions (history of old runs, recovery) are what a smaller cache slows.
pub const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;

impl Sled {
    /// Opens (or creates) the store in `dir` with the default cache.
    ///
    /// # Errors
    /// When sled cannot open the directory (in use by another process, corrupt, ...).
    pub fn open(dir: &Path, durability: Durability) -> Result<Sled> {
        Sled::with_cache(dir, durability, DEFAULT_CACHE_BYTES)
    }

    /// Opens (or creates) the store in `dir` with a page cache of `cache_bytes`.
    ///
    /// # Errors
    /// When sled cannot open the directory (in use by another process, corrupt, ...).
    pub fn with_cache(dir: &Path, durability: Durability, cache_bytes: u64) -> Result<Sled> {
        std::fs::create_dir_all(dir).map_err(backend)?;
        let db = ::sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .open()
            .map_err(backend)?;
        let data_file = Arc::new(File::open(dir.join("db")).map_err(backend)?);
        let (group, syncer) = match durability {
            Durability::Group { window } => {
                let (db, file) = (db.clone(), Arc::clone(&data_file));
                let (group, syncer) = GroupCommit::start(window, move || sync(&db, &file));
                (Some(group), syncer)
            }
            Durability::Fsync | Durability::None => (None, None),
        };
        Ok(Sled {
            db,
            data_file,
            durability,
            group,
            syncer,
            failed: std::sync::OnceLock::new(),
        })
    }
}

impl Drop for Sled {
    fn drop(&mut self) {
        if let Some(g) = &self.group {
            g.stop();
        }
        // The syncer holds a handle on the database: wait for it so that the directory
        // is released (and can be reopened) when this value is gone.
        if let Some(t) = self.syncer.take() {
            let _ = t.join();
        }
    }
}

impl Backend for Sled {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.db.get(key).map_err(backend)?.map(|v| v.to_vec()))
    }

    fn apply(&self, writes: Vec<Write>) -> Result<()> {
        let mut batch = ::sled::Batch::default();
        for w in writes {
            match w {
                Write::Put(k, v) => batch.insert(k, v),
                Write::Delete(k) => batch.remove(k),
            }
        }
        self.db.apply_batch(batch).map_err(backend)
    }

    fn apply_guarded(&self, guards: &[Guard<'_>], writes: Vec<Write>) -> Result<bool> {
        use ::sled::transaction::{ConflictableTransactionError, TransactionError};
        let outcome = self.db.transaction(|tx| {
            for guard in guards {
                if !guard.holds(tx.get(guard.key())?.as_deref()) {
                    return Err(ConflictableTransactionError::Abort(()));
                }
            }
            for w in &writes {
                match w {
                    Write::Put(k, v) => {
                        tx.insert(k.as_slice(), v.as_slice())?;
                    }
                    Write::Delete(k) => {
                        tx.remove(k.as_slice())?;
                    }
                }
            }
            Ok(())
        });
        match outcome {
            Ok(()) => Ok(true),
            Err(TransactionError::Abort(())) => Ok(false),
            Err(TransactionError::Storage(e)) => Err(backend(e)),
        }
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        old: Option<&[u8]>,
        new: Option<Vec<u8>>,
    ) -> Result<bool> {
        Ok(self
            .db
            .compare_and_swap(key, old, new)
            .map_err(backend)?
            .is_ok())
    }

    fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        let iter: Box<dyn Iterator<Item = ::sled::Result<(::sled::IVec, ::sled::IVec)>>> =
            match after {
                Some(a) if a >= prefix => {
                    Box::new(self.db.range::<&[u8], _>((
                        std::ops::Bound::Excluded(a),
                        std::ops::Bound::Unbounded,
                    )))
                }
                _ => Box::new(self.db.range::<&[u8], _>(prefix..)),
            };
        for item in iter {
            let (k, v) = item.map_err(backend)?;
            if !k.starts_with(prefix) || out.len() >= limit {
                break;
            }
            out.push((k.to_vec(), v.to_vec()));
        }
        Ok(out)
    }

    fn durable(&self) -> Result<()> {
        match (&self.durability, &self.group) {
            (Durability::None, _) => Ok(()),
            (_, Some(group)) => group
                .wait_durable(|| sync(&self.db, &self.data_file))
                .map_err(Error::Backend),
            (_, None) => {
                if let Some(e) = self.failed.get() {
                    return Err(Error::Backend(e.clone()));
                }
                sync(&self.db, &self.data_file).map_err(|e| {
                    let _ = self.failed.set(e.clone());
                    Error::Backend(e)
                })
            }
        }
    }

    fn durable_later(&self) -> Result<Pending> {
        if let Some(pending) = self.group.as_ref().and_then(|g| g.request()) {
            return Ok(pending);
        }
        self.durable()?;
        Ok(Pending::done())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn survives_reopen() {
        let dir = std::env::temp_dir().join(format!("sandstep-sled-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let s = Sled::open(&dir, Durability::default()).unwrap();
            s.apply(vec![Write::Put(b"k".to_vec(), b"v".to_vec())])
                .unwrap();
            s.durable().unwrap();
            assert!(s
                .compare_and_swap(b"k", Some(b"v"), Some(b"w".to_vec()))
                .unwrap());
            assert!(!s.compare_and_swap(b"k", Some(b"v"), None).unwrap());
            s.durable().unwrap();
        }
        let s = Sled::open(&dir, Durability::Fsync).unwrap();
        assert_eq!(s.get(b"k").unwrap(), Some(b"w".to_vec()));
        s.apply(vec![
            Write::Put(b"k2".to_vec(), vec![]),
            Write::Put(b"j".to_vec(), vec![]),
        ])
        .unwrap();
        let keys: Vec<_> = s
            .scan(b"k", None, 10)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, [b"k".to_vec(), b"k2".to_vec()]);
        let after: Vec<_> = s
            .scan(b"k", Some(b"k"), 10)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(after, [b"k2".to_vec()]);
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
