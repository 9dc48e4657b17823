//! The ordered key-value backend every table is written on: a sorted map of byte keys,
//! with atomic batches and compare-and-swap. sled and the in-memory map implement it.

use super::durability::Pending;
use super::Result;

/// One write of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// Sets a key.
    Put(Vec<u8>, Vec<u8>),
    /// Removes a key.
    Delete(Vec<u8>),
}

/// What a guarded batch requires of a key ([`Backend::apply_guarded`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard<'a> {
    /// The key holds some value.
    Present(&'a [u8]),
    /// The key holds nothing.
    Absent(&'a [u8]),
    /// The key holds exactly this value (a compare-and-swap inside a batch).
    Equals(&'a [u8], &'a [u8]),
}

impl Guard<'_> {
    /// The key guarded.
    pub fn key(&self) -> &[u8] {
        match self {
            Guard::Present(k) | Guard::Absent(k) | Guard::Equals(k, _) => k,
        }
    }

    /// Whether `current` (the key's value) satisfies the guard.
    pub fn holds(&self, current: Option<&[u8]>) -> bool {
        match self {
            Guard::Present(_) => current.is_some(),
            Guard::Absent(_) => current.is_none(),
            Guard::Equals(_, value) => current == Some(*value),
        }
    }
}

/// An ordered byte map.
///
/// # Contract
/// `apply` is atomic: after a crash either every write of the batch is visible or none.
/// `durable` returns only once everything applied before it survives power loss.
pub trait Backend: Send + Sync + 'static {
    /// Reads a key.
    ///
    /// # Errors
    /// When the backend fails.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// Applies writes atomically.
    ///
    /// # Errors
    /// When the backend fails; then nothing was applied.
    fn apply(&self, writes: Vec<Write>) -> Result<()>;
    /// Sets `key` to `new` if it currently holds `old` (`None`: absent / remove).
    /// Returns whether it did.
    ///
    /// # Errors
    /// When the backend fails.
    fn compare_and_swap(
        &self,
        key: &[u8],
        old: Option<&[u8]>,
        new: Option<Vec<u8>>,
    ) -> Result<bool>;
    /// Applies `writes` atomically only if every guard holds; returns whether it did. The
    /// checks and the writes are one atomic step, also against other processes sharing
    /// the backend: this is what fences two writers of the same execution step.
    ///
    /// # Errors
    /// When the backend fails; then nothing was applied.
    fn apply_guarded(&self, guards: &[Guard<'_>], writes: Vec<Write>) -> Result<bool>;

    /// Applies `writes` atomically only if `guard` is absent (create-if-not-exists).
    ///
    /// # Errors
    /// When the backend fails; then nothing was applied.
    fn apply_if_absent(&self, guard: &[u8], writes: Vec<Write>) -> Result<bool> {
        self.apply_guarded(&[Guard::Absent(guard)], writes)
    }
    /// Key-value pairs whose key starts with `prefix`, in key order, from `after`
    /// (exclusive) on, at most `limit`.
    ///
    /// # Errors
    /// When the backend fails.
    fn scan(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    /// Visits the pairs whose key starts with `prefix` in key order, reading `page` at a
    /// time, until `visit` answers `false` or they end: for readings that stop on what the
    /// rows hold rather than at a count.
    ///
    /// # Errors
    /// When the backend fails, or `visit` does.
    fn scan_while(
        &self,
        prefix: &[u8],
        page: usize,
        visit: &mut dyn FnMut(Vec<u8>, Vec<u8>) -> Result<bool>,
    ) -> Result<()> {
        let mut after: Option<Vec<u8>> = None;
        loop {
            let rows = self.scan(prefix, after.as_deref(), page)?;
            let Some((last, _)) = rows.last() else {
                return Ok(());
            };
            after = Some(last.clone());
            for (key, value) in rows {
                if !visit(key, value)? {
                    return Ok(());
                }
            }
        }
    }
    /// Makes everything applied so far durable.
    ///
    /// # Errors
    /// When the backend fails to sync.
    fn durable(&self) -> Result<()>;
    /// Like [`Backend::durable`], but returns at once with something to await: for callers
    /// on the async runtime, so that many of them can share one sync.
    ///
    /// # Errors
    /// When the backend fails to start (or, inline, to finish) the sync.
    fn durable_later(&self) -> Result<Pending> {
        self.durable()?;
        Ok(Pending::done())
    }
}
