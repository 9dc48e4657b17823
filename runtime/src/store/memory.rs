//! The in-memory backend: for Express executions' scratch data, tests, and `sandstep run`.

use super::backend::{Backend, Guard, Write};
use super::Result;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

/// A sorted map behind a mutex. Nothing survives the process.
#[derive(Debug, Default)]
pub struct Memory(Mutex<BTreeMap<Vec<u8>, Vec<u8>>>);

impl Memory {
    /// An empty store.
    pub fn new() -> Memory {
        Memory::default()
    }

    fn map(&self) -> MutexGuard<'_, BTreeMap<Vec<u8>, Vec<u8>>> {
        // A panic while holding the lock cannot leave the map half-written (every
        // operation below is a single map call), so a poisoned lock is still consistent.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Backend for Memory {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.map().get(key).cloned())
    }

    fn apply(&self, writes: Vec<Write>) -> Result<()> {
        let mut map = self.map();
        for w in writes {
            match w {
                Write::Put(k, v) => {
                    map.insert(k, v);
                }
                Write::Delete(k) => {
                    map.remove(&k);
                }
            }
        }
        Ok(())
    }

    fn apply_guarded(&self, guards: &[Guard<'_>], writes: Vec<Write>) -> Result<bool> {
        let mut map = self.map();
        if !guards
            .iter()
            .all(|g| g.holds(map.get(g.key()).map(Vec::as_slice)))
        {
            return Ok(false);
        }
        for w in writes {
            match w {
                Write::Put(k, v) => {
                    map.insert(k, v);
                }
                Write::Delete(k) => {
                    map.remove(&k);
                }
            }
        }
        Ok(true)
    }

    fn compare_and_swap(
        &self,
        key: &[u8],
        old: Option<&[u8]>,
        new: Option<Vec<u8>>,
    ) -> Result<bool> {
        let mut map = self.map();
        if map.get(key).map(Vec::as_slice) != old {
            return Ok(false);
        }
        match new {
            Some(v) => map.insert(key.to_vec(), v),
            None => map.remove(key),
        };
        Ok(true)
    }

    fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let map = self.map();
        let start = match after {
            Some(a) if a >= prefix => Bound::Excluded(a.to_vec()),
            _ => Bound::Included(prefix.to_vec()),
        };
        Ok(map
            .range((start, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn durable(&self) -> Result<()> {
        Ok(())
    }
}
