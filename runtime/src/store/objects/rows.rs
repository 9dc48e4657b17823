//! Object files kept in the store itself, for a store several servers share: a file is a
//! row naming it (`ObjectFile`: its size, or empty while it is written) and its bytes in
//! chunks of [`CHUNK`] (`ObjectChunk`), so a read seeks to any offset by reading one chunk
//! and no file is ever held whole in memory. The naming row is written first and gets its
//! size last: a write cut off midway leaves a file without a size, which no metadata
//! names, and which the sweep removes.

use super::{check_id, random_hex, stream, Written, CHUNK};
use crate::store::backend::{Backend, Write};
use crate::store::blobs::Body;
use crate::store::keys::{Key, Reader, Table};
use crate::store::{Error, Result, TenantId};
use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

/// Chunks deleted per batch: a removal never reads more than this many at once.
const PAGE: usize = 16;

fn file_key(tenant: &TenantId, id: &str) -> Vec<u8> {
    Key::of(Table::ObjectFile, tenant).text(id).into_bytes()
}

fn chunks(tenant: &TenantId, id: &str) -> Key {
    Key::of(Table::ObjectChunk, tenant).text(id)
}

/// Streams `body` into a new file of `tenant`, in chunks; durable when this returns.
pub(super) fn write(
    backend: &dyn Backend,
    tenant: &TenantId,
    body: &mut dyn Read,
    limit: u64,
) -> Result<Written> {
    let id = random_hex();
    backend.apply(vec![Write::Put(file_key(tenant, &id), Vec::new())])?;
    let mut pending: Vec<u8> = Vec::with_capacity(CHUNK);
    let mut next = 0u64;
    let mut flush = |bytes: Vec<u8>| -> Result<()> {
        let key = chunks(tenant, &id).number(next).into_bytes();
        next += 1;
        backend.apply(vec![Write::Put(key, bytes)])
    };
    let streamed = stream(body, limit, &mut |piece| {
        let mut piece = piece;
        while !piece.is_empty() {
            let room = CHUNK - pending.len();
            let (now, later) = piece.split_at(room.min(piece.len()));
            pending.extend_from_slice(now);
            piece = later;
            if pending.len() == CHUNK {
                flush(std::mem::replace(&mut pending, Vec::with_capacity(CHUNK)))?;
            }
        }
        Ok(())
    })
    .and_then(|measured| {
        if !pending.is_empty() {
            flush(std::mem::take(&mut pending))?;
        }
        backend.apply(vec![Write::Put(
            file_key(tenant, &id),
            measured.size.to_be_bytes().to_vec(),
        )])?;
        backend.durable()?;
        Ok(measured.named(id.clone()))
    });
    if streamed.is_err() {
        let _ = remove(backend, tenant, &id);
    }
    streamed
}

/// Opens a file to read (and seek).
pub(super) fn open(
    backend: Arc<dyn Backend>,
    tenant: &TenantId,
    id: &str,
) -> Result<Box<dyn Body>> {
    let size = backend
        .get(&file_key(tenant, id))?
        .and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map(u64::from_be_bytes)
        .ok_or_else(|| Error::Corrupt(format!("the file {id} of an object is missing")))?;
    Ok(Box::new(File {
        backend,
        chunks: chunks(tenant, id),
        size,
        at: 0,
        chunk: None,
    }))
}

/// Removes a file and its chunks (gone already is fine).
pub(super) fn remove(backend: &dyn Backend, tenant: &TenantId, id: &str) -> Result<()> {
    check_id(id)?;
    let prefix = chunks(tenant, id).into_bytes();
    loop {
        let page = backend.scan(&prefix, None, PAGE)?;
        if page.is_empty() {
            break;
        }
        backend.apply(page.into_iter().map(|(k, _)| Write::Delete(k)).collect())?;
    }
    backend.apply(vec![Write::Delete(file_key(tenant, id))])
}

/// Removes every file of the tenants `only` picks that `keep` does not name (tenant →
/// ids). The number removed.
pub(super) fn sweep(
    backend: &dyn Backend,
    keep: &HashMap<TenantId, HashSet<String>>,
    only: &dyn Fn(&TenantId) -> bool,
) -> Result<usize> {
    let prefix = Key::table(Table::ObjectFile).into_bytes();
    let mut after: Option<Vec<u8>> = None;
    let mut doomed = Vec::new();
    loop {
        let page = backend.scan(&prefix, after.as_deref(), 1000)?;
        let Some((last, _)) = page.last() else {
            break;
        };
        after = Some(last.clone());
        for (key, _) in page {
            let mut fields = Reader::new(&key);
            let (Some(tenant), Some(id)) = (fields.text(), fields.text()) else {
                continue;
            };
            let tenant = TenantId(tenant);
            if !only(&tenant) {
                continue;
            }
            if !keep.get(&tenant).is_some_and(|ids| ids.contains(&id)) {
                doomed.push((tenant, id));
            }
        }
    }
    for (tenant, id) in &doomed {
        remove(backend, tenant, id)?;
    }
    Ok(doomed.len())
}

/// A file being read: the chunk under the position is the only one held.
struct File {
    backend: Arc<dyn Backend>,
    chunks: Key,
    size: u64,
    at: u64,
    chunk: Option<(u64, Vec<u8>)>,
}

impl Read for File {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let index = self.at / CHUNK as u64;
        if self.chunk.as_ref().is_none_or(|(i, _)| *i != index) {
            let key = self.chunks.clone().number(index).into_bytes();
            let bytes = self
                .backend
                .get(&key)
                .map_err(std::io::Error::other)?
                .ok_or_else(|| {
                    std::io::Error::other(format!("chunk {index} of a file is missing"))
                })?;
            self.chunk = Some((index, bytes));
        }
        let Some((_, bytes)) = &self.chunk else {
            return Ok(0);
        };
        let offset = (self.at % CHUNK as u64) as usize;
        let available = bytes.get(offset..).unwrap_or_default();
        if available.is_empty() {
            return Err(std::io::Error::other(format!(
                "chunk {index} of a file is short"
            )));
        }
        let n = available.len().min(buf.len());
        for (to, from) in buf.iter_mut().zip(available) {
            *to = *from;
        }
        self.at += n as u64;
        Ok(n)
    }
}

impl Seek for File {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let at = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.at.checked_add_signed(d),
        };
        self.at = at.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before the start")
        })?;
        Ok(self.at)
    }
}

#[cfg(test)]
mod tests {
    use super::super::Objects;
    use super::*;

    /// Files of several chunks, read whole and from any offset, on every backend the
    /// store has (PostgreSQL's included when configured).
    #[test]
    fn files_in_the_store_are_whole_seekable_and_swept() {
        for store in crate::store::testing::stores() {
            let objects = Objects::in_store(store.backend_arc());
            let (a, b) = (TenantId("a".into()), TenantId("b".into()));
            let bytes: Vec<u8> = (0..(2 * CHUNK + 1000)).map(|i| (i % 251) as u8).collect();
            let w = objects.write(&a, &mut bytes.as_slice(), 10 << 20).unwrap();
            assert_eq!(w.size, bytes.len() as u64);
            let mut back = Vec::new();
            objects
                .open(&a, &w.id)
                .unwrap()
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, bytes);
            let mut file = objects.open(&a, &w.id).unwrap();
            let at = CHUNK as u64 - 3;
            assert_eq!(file.seek(SeekFrom::Start(at)).unwrap(), at);
            let mut six = [0u8; 6];
            file.read_exact(&mut six).unwrap();
            assert_eq!(six.as_slice(), &bytes[at as usize..at as usize + 6]);
            assert_eq!(
                file.seek(SeekFrom::End(-1)).unwrap(),
                bytes.len() as u64 - 1
            );
            assert!(file.seek(SeekFrom::Current(-(bytes.len() as i64))).is_err());
            assert!(objects.open(&b, &w.id).is_err(), "another tenant's file");

            // Past the limit: refused, and nothing is left of it.
            assert!(matches!(
                objects.write(&a, &mut bytes.as_slice(), 100),
                Err(Error::TooLarge(100))
            ));
            let empty = objects.write(&a, &mut &b""[..], 10).unwrap();
            let mut nothing = Vec::new();
            objects
                .open(&a, &empty.id)
                .unwrap()
                .read_to_end(&mut nothing)
                .unwrap();
            assert!(nothing.is_empty());

            // A write cut off midway (no size yet) is swept with the unnamed files.
            let cut = random_hex();
            store
                .backend_arc()
                .apply(vec![
                    Write::Put(file_key(&a, &cut), Vec::new()),
                    Write::Put(chunks(&a, &cut).number(0).into_bytes(), vec![1; 10]),
                ])
                .unwrap();
            let keep = HashMap::from([(a.clone(), HashSet::from([w.id.clone()]))]);
            assert_eq!(
                objects.sweep(&keep, &|_| true).unwrap(),
                2,
                "the empty file and the cut one"
            );
            assert!(objects.open(&a, &w.id).is_ok());
            assert!(objects.open(&a, &empty.id).is_err());
            let left = store
                .backend_arc()
                .scan(&chunks(&a, &cut).into_bytes(), None, 10)
                .unwrap();
            assert!(left.is_empty(), "the cut file's chunks are gone");
            objects.remove(&a, &w.id).unwrap();
            assert!(objects.open(&a, &w.id).is_err());
            objects.remove(&a, &w.id).unwrap();
        }
    }
}
