//! Object bytes as files: `<root>/<tenant, hex>/<id>`, where the id is random hex the
//! store makes (never a name a caller chose), reached only through `cap-std` directory
//! handles, so no key, bucket or tenant name can resolve outside its tenant's directory.
//! A write streams into a temporary file while hashing it, is synced, renamed into place
//! and the directory synced: a file either exists whole or not at all. Which file holds
//! which object is metadata, kept in the store (`blobs.rs`).
//!
//! A store several servers share (PostgreSQL) keeps the files in itself instead, in
//! chunks (`rows.rs`): a server that takes over reads every object its predecessor wrote.

mod rows;

use super::backend::Backend;
use super::blobs::Body;
use super::{Error, Result, TenantId};
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use md5::{Digest as _, Md5};
use sha2::Sha256;
use std::collections::{HashMap, HashSet};
use std::io::{Read, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// Bytes copied per read while streaming.
const CHUNK: usize = 256 * 1024;

/// Where object files live.
pub struct Objects {
    root: PathBuf,
    dir: OnceLock<std::result::Result<Dir, String>>,
    /// Removed with this value (a memory store's objects).
    temporary: bool,
    /// The store the files are kept in, instead of `root` (a shared database).
    rows: Option<Arc<dyn Backend>>,
}

impl std::fmt::Debug for Objects {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objects")
            .field("root", &self.root)
            .field("in_store", &self.rows.is_some())
            .finish_non_exhaustive()
    }
}

/// A file written: its id and what was measured on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The file's id.
    pub id: String,
    /// Its size in bytes.
    pub size: u64,
    /// Hex SHA-256 of its bytes.
    pub sha256: String,
    /// Hex MD5 of its bytes (S3's ETag of a single-part object).
    pub md5: String,
}

impl Objects {
    /// Objects under `root` (created when first needed).
    pub fn at(root: PathBuf) -> Objects {
        Objects {
            root,
            dir: OnceLock::new(),
            temporary: false,
            rows: None,
        }
    }

    /// Objects kept in `backend` itself, in chunks: for a store several servers share.
    pub fn in_store(backend: Arc<dyn Backend>) -> Objects {
        Objects {
            root: PathBuf::new(),
            dir: OnceLock::new(),
            temporary: false,
            rows: Some(backend),
        }
    }

    /// Objects in a fresh directory under the system's temporary directory, removed when
    /// this is dropped: the objects of a memory store.
    pub fn temporary() -> Objects {
        let unique = random_hex();
        let root = std::env::temp_dir().join(format!("sandstep-objects-{unique}"));
        Objects {
            root,
            dir: OnceLock::new(),
            temporary: true,
            rows: None,
        }
    }

    fn root(&self) -> Result<&Dir> {
        let opened = self.dir.get_or_init(|| {
            std::fs::create_dir_all(&self.root).map_err(|e| e.to_string())?;
            Dir::open_ambient_dir(&self.root, ambient_authority()).map_err(|e| e.to_string())
        });
        opened
            .as_ref()
            .map_err(|e| Error::Backend(format!("object directory {}: {e}", self.root.display())))
    }

    /// The tenant's directory, created when missing.
    fn tenant(&self, tenant: &TenantId) -> Result<Dir> {
        let name = hex(tenant.0.as_bytes());
        let root = self.root()?;
        match root.create_dir(&name) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(e)),
        }
        root.open_dir(&name).map_err(io)
    }

    /// Streams `body` into a new file, refusing more than `limit` bytes (the error names
    /// the limit); the file is durable when this returns.
    ///
    /// # Errors
    /// [`Error::TooLarge`] past the limit, [`Error::Backend`] for I/O failures.
    pub fn write(&self, tenant: &TenantId, body: &mut dyn Read, limit: u64) -> Result<Written> {
        if let Some(rows) = &self.rows {
            return rows::write(rows.as_ref(), tenant, body, limit);
        }
        let dir = self.tenant(tenant)?;
        let id = random_hex();
        let temp = format!("{id}.part");
        let mut file = dir.create(&temp).map_err(io)?;
        let copied = stream(body, limit, &mut |chunk| file.write_all(chunk).map_err(io)).and_then(
            |measured| {
                file.sync_all().map_err(io)?;
                Ok(measured.named(id.clone()))
            },
        );
        match copied {
            Ok(written) => {
                dir.rename(&temp, &dir, &id).map_err(io)?;
                // The directory handle may not be open for I/O; the rename is made durable
                // through the directory's own path (the store's hex, no caller's text).
                let path = self.root.join(hex(tenant.0.as_bytes()));
                std::fs::File::open(path)
                    .and_then(|d| d.sync_all())
                    .map_err(io)?;
                Ok(written)
            }
            Err(e) => {
                let _ = dir.remove_file(&temp);
                Err(e)
            }
        }
    }

    /// Opens a file to read.
    ///
    /// # Errors
    /// [`Error::Corrupt`] when the metadata names a file that is not there.
    pub fn open(&self, tenant: &TenantId, id: &str) -> Result<Box<dyn Body>> {
        check_id(id)?;
        if let Some(rows) = &self.rows {
            return rows::open(Arc::clone(rows), tenant, id);
        }
        match self.tenant(tenant)?.open(id) {
            Ok(f) => Ok(Box::new(f.into_std())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::Corrupt(format!(
                "the file {id} of an object is missing"
            ))),
            Err(e) => Err(io(e)),
        }
    }

    /// Removes a file (gone already is fine).
    ///
    /// # Errors
    /// [`Error::Backend`] for I/O failures.
    pub fn remove(&self, tenant: &TenantId, id: &str) -> Result<()> {
        check_id(id)?;
        if let Some(rows) = &self.rows {
            return rows::remove(rows.as_ref(), tenant, id);
        }
        match self.tenant(tenant)?.remove_file(id) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io(e)),
        }
    }

    /// Writes the files `ids`, in order, into one new file (a multipart upload's
    /// completion), refusing more than `limit` bytes.
    ///
    /// # Errors
    /// As [`write`](Self::write) and [`open`](Self::open).
    pub fn concat(&self, tenant: &TenantId, ids: &[String], limit: u64) -> Result<Written> {
        let mut files = Vec::with_capacity(ids.len());
        for id in ids {
            files.push(self.open(tenant, id)?);
        }
        let mut chained: Box<dyn Read> = Box::new(std::io::empty());
        for f in files {
            chained = Box::new(chained.chain(f));
        }
        self.write(tenant, &mut chained, limit)
    }
}

impl Objects {
    /// Removes the files no object or upload part names (`keep`: tenant → file ids), and
    /// every temporary file: what a crash in the middle of a write left behind. Run before
    /// the server takes requests, when no write is under way. The number removed.
    ///
    /// # Errors
    /// I/O failures.
    pub fn sweep(
        &self,
        keep: &HashMap<TenantId, HashSet<String>>,
        only: &dyn Fn(&TenantId) -> bool,
    ) -> Result<usize> {
        if let Some(rows) = &self.rows {
            return rows::sweep(rows.as_ref(), keep, only);
        }
        if !self.root.exists() {
            return Ok(0);
        }
        let root = self.root()?;
        let wanted: HashMap<String, &HashSet<String>> = keep
            .iter()
            .map(|(t, ids)| (hex(t.0.as_bytes()), ids))
            .collect();
        let none = HashSet::new();
        let mut removed = 0;
        for tenant in root.entries().map_err(io)? {
            let tenant = tenant.map_err(io)?;
            let name = tenant.file_name().to_string_lossy().into_owned();
            if !tenant.file_type().map_err(io)?.is_dir() {
                continue;
            }
            let owner = super::data::unhex_text(&name).map(TenantId);
            if !owner.as_ref().is_some_and(only) {
                continue;
            }
            let ids = wanted.get(&name).copied().unwrap_or(&none);
            let dir = root.open_dir(&name).map_err(io)?;
            for file in dir.entries().map_err(io)? {
                let file = file.map_err(io)?;
                let id = file.file_name().to_string_lossy().into_owned();
                if !ids.contains(&id) {
                    dir.remove_file(&id).map_err(io)?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

impl Drop for Objects {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// What streaming a body measured.
struct Measured {
    size: u64,
    sha256: String,
    md5: String,
}

impl Measured {
    fn named(self, id: String) -> Written {
        Written {
            id,
            size: self.size,
            sha256: self.sha256,
            md5: self.md5,
        }
    }
}

/// Reads `body` to its end in pieces of at most [`CHUNK`] bytes, giving each to `sink`
/// and hashing it, refusing more than `limit` bytes. MD5 (S3's ETag) runs on a thread of
/// its own, beside SHA-256 and the sink: neither hash waits for the other.
fn stream(
    body: &mut dyn Read,
    limit: u64,
    sink: &mut dyn FnMut(&[u8]) -> Result<()>,
) -> Result<Measured> {
    std::thread::scope(|scope| {
        let (to_md5, chunks) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let md5 = scope.spawn(move || {
            let mut md5 = Md5::new();
            for chunk in chunks {
                md5.update(&chunk);
            }
            hex(&md5.finalize())
        });
        let mut sha = Sha256::new();
        let mut size = 0u64;
        let streamed = (|| loop {
            let mut buf = vec![0u8; CHUNK];
            let n = match body.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::Invalid(format!("reading the body failed: {e}"))),
            };
            size += n as u64;
            if size > limit {
                return Err(Error::TooLarge(limit));
            }
            buf.truncate(n);
            sha.update(&buf);
            sink(&buf)?;
            if to_md5.send(buf).is_err() {
                return Err(Error::Backend("the MD5 thread ended".into()));
            }
        })();
        drop(to_md5);
        let md5 = md5
            .join()
            .map_err(|_| Error::Backend("the MD5 thread failed".into()))?;
        streamed.map(|()| Measured {
            size,
            sha256: hex(&sha.finalize()),
            md5,
        })
    })
}

/// Ids are the store's own hex; anything else in metadata is corruption, not a path.
fn check_id(id: &str) -> Result<()> {
    match !id.is_empty() && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        true => Ok(()),
        false => Err(Error::Corrupt(format!("object file id {id:?}"))),
    }
}

fn io(e: std::io::Error) -> Error {
    Error::Backend(format!("object file: {e}"))
}

fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes = (now ^ u128::from(std::process::id())).to_be_bytes();
    }
    hex(&bytes)
}

/// The text [`hex`] wrote, if it is that.
fn hex(bytes: &[u8]) -> String {
    super::data::hex(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_written_whole_hashed_and_kept_per_tenant() {
        let objects = Objects::temporary();
        let (a, b) = (TenantId("a".into()), TenantId("../b".into()));
        let w = objects.write(&a, &mut &b"hello"[..], 10).unwrap();
        assert_eq!(w.size, 5);
        assert_eq!(w.md5, "5d41402abc4b2a76b9719d911017c592");
        let mut back = String::new();
        objects
            .open(&a, &w.id)
            .unwrap()
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, "hello");
        assert!(
            objects.open(&b, &w.id).is_err(),
            "another tenant's directory"
        );
        assert!(matches!(
            objects.write(&b, &mut &b"too long"[..], 3),
            Err(Error::TooLarge(3))
        ));
        assert!(objects.open(&a, "../x").is_err(), "not an id");
        let both = objects
            .concat(&a, &[w.id.clone(), w.id.clone()], 100)
            .unwrap();
        assert_eq!(both.size, 10);
        objects.remove(&a, &w.id).unwrap();
        assert!(objects.open(&a, &w.id).is_err());
        let kept = objects.write(&a, &mut &b"kept"[..], 10).unwrap();
        let orphan = objects.write(&a, &mut &b"orphan"[..], 10).unwrap();
        let keep = HashMap::from([(a.clone(), HashSet::from([kept.id.clone()]))]);
        assert_eq!(
            objects.sweep(&keep, &|_| true).unwrap(),
            2,
            "the orphan and the concatenation"
        );
        assert!(objects.open(&a, &kept.id).is_ok());
        assert!(objects.open(&a, &orphan.id).is_err());
        let root = objects.root.clone();
        drop(objects);
        assert!(!root.exists(), "a temporary directory goes with its store");
    }
}
