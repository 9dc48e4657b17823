//! Poison executions: one that takes the process down is failed after a few restarts,
//! instead of taking it down again on every start.
//!
//! Each engine thread names the execution it is working on in its slot of a small
//! journal file in the data dir before it works on it, and clears the slot after. A plain
//! `write` reaches the kernel before the work starts, so it survives the process dying
//! in any way (a stack overflow, an abort, out of memory, `kill -9`); no sync is needed
//! for that, which keeps it to two syscalls a step. At the next start, the executions
//! left named are the ones that were being worked on when the process died: each gets a
//! strike. Strikes count consecutive abnormal exits an execution was part of (one that
//! was not in flight at the last exit starts again from zero), and at [`STRIKES`] the
//! execution is failed with `States.Runtime` before anything replays it.
//!
//! The journal belongs to one process and its data dir, as the embedded store does.

use crate::model::ExecutionKey;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Consecutive abnormal exits during an execution's work after which it is quarantined.
pub const STRIKES: u32 = 3;

/// Bytes per slot: an execution key as JSON, then zeros.
const SLOT_BYTES: usize = 1024;

const JOURNAL_FILE: &str = "inflight.journal";
const STRIKES_FILE: &str = "quarantine.json";

/// The error and cause a quarantined execution fails with.
pub fn failure(strikes: u32) -> (String, String) {
    (
        "States.Runtime".into(),
        format!(
            "Quarantined: the server stopped abnormally {strikes} times in a row while running \
             this execution, so it was failed at the next start to keep the rest of the store \
             served. Check the server log of those stops for the cause."
        ),
    )
}

/// The in-flight journal: one slot per engine thread.
#[derive(Debug)]
pub struct Journal {
    file: File,
}

impl Journal {
    /// Marks `slot` as working on `key`. A failed write is logged, not fatal: the
    /// journal protects against poison, it is not needed to run.
    pub fn mark(&self, slot: usize, key: &ExecutionKey) {
        let Ok(mut bytes) = serde_json::to_vec(key) else {
            return;
        };
        if bytes.len() >= SLOT_BYTES {
            return; // names are bounded far below this; never write a partial key
        }
        bytes.push(b'\n');
        if let Err(e) = self.file.write_all_at(&bytes, offset(slot)) {
            tracing::warn!(error = %e, "cannot write the in-flight journal");
        }
    }

    /// Clears `slot`: its work is done.
    pub fn clear(&self, slot: usize) {
        if let Err(e) = self.file.write_all_at(&[0], offset(slot)) {
            tracing::warn!(error = %e, "cannot write the in-flight journal");
        }
    }
}

fn offset(slot: usize) -> u64 {
    (slot * SLOT_BYTES) as u64
}

/// What the last run left: the executions with strikes, after this start's count.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Strikes(pub BTreeMap<ExecutionKey, u32>);

impl Strikes {
    /// Executions with [`STRIKES`] or more: to be failed before anything replays them.
    pub fn due(&self) -> Vec<(ExecutionKey, u32)> {
        self.0
            .iter()
            .filter(|(_, n)| **n >= STRIKES)
            .map(|(k, n)| (k.clone(), *n))
            .collect()
    }
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct StrikesFile {
    strikes: Vec<(ExecutionKey, u32)>,
}

/// Opens the journal in `dir`: reads what the last run left in flight, counts the
/// strikes (saved durably in the same dir) and starts an empty journal.
///
/// # Errors
/// When the files cannot be read or written.
pub fn open(dir: &Path) -> std::io::Result<(Journal, Strikes)> {
    let journal_path = dir.join(JOURNAL_FILE);
    let strikes_path = dir.join(STRIKES_FILE);
    let in_flight = match std::fs::read(&journal_path) {
        Ok(bytes) => keys_in(&bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let before: BTreeMap<ExecutionKey, u32> = match std::fs::read(&strikes_path) {
        Ok(bytes) => serde_json::from_slice::<StrikesFile>(&bytes)
            .map(|f| f.strikes.into_iter().collect())
            .unwrap_or_default(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
        Err(e) => return Err(e),
    };
    let mut now = BTreeMap::new();
    for key in in_flight {
        let n = before.get(&key).copied().unwrap_or(0) + 1;
        now.insert(key, n);
    }
    save(&strikes_path, &now)?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&journal_path)?;
    Ok((Journal { file }, Strikes(now)))
}

/// Writes the strikes file durably (write a temp file, sync, rename).
fn save(path: &Path, strikes: &BTreeMap<ExecutionKey, u32>) -> std::io::Result<()> {
    let body = StrikesFile {
        strikes: strikes.iter().map(|(k, n)| (k.clone(), *n)).collect(),
    };
    let bytes = serde_json::to_vec_pretty(&body).map_err(std::io::Error::other)?;
    let tmp: PathBuf = path.with_extension("json.tmp");
    let mut f = File::create(&tmp)?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The keys named in a journal's slots (a torn or cleared slot names none).
fn keys_in(bytes: &[u8]) -> Vec<ExecutionKey> {
    let mut keys: Vec<ExecutionKey> = bytes
        .chunks(SLOT_BYTES)
        .filter_map(|slot| {
            let end = slot.iter().position(|b| *b == b'\n')?;
            serde_json::from_slice(slot.get(..end)?).ok()
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::TenantId;

    fn key(name: &str) -> ExecutionKey {
        ExecutionKey {
            tenant: TenantId("t".into()),
            machine: "m".into(),
            name: name.into(),
        }
    }

    #[test]
    fn strikes_count_consecutive_abnormal_exits() {
        let dir = tempdir();
        let (journal, strikes) = open(&dir).unwrap();
        assert!(strikes.0.is_empty());
        // Run 1 dies while working on "poison" (slot 1) and after finishing "ok" (slot 0).
        journal.mark(0, &key("ok"));
        journal.clear(0);
        journal.mark(1, &key("poison"));
        drop(journal);
        let (journal, strikes) = open(&dir).unwrap();
        assert_eq!(strikes.0.get(&key("poison")), Some(&1));
        assert_eq!(strikes.0.len(), 1);
        journal.mark(0, &key("poison"));
        drop(journal);
        let (journal, strikes) = open(&dir).unwrap();
        assert_eq!(strikes.0.get(&key("poison")), Some(&2));
        assert!(strikes.due().is_empty());
        journal.mark(1, &key("poison"));
        journal.mark(0, &key("bystander"));
        drop(journal);
        let (_journal, strikes) = open(&dir).unwrap();
        assert_eq!(strikes.due(), [(key("poison"), 3)]);
        assert_eq!(strikes.0.get(&key("bystander")), Some(&1));
    }

    #[test]
    fn a_clean_run_forgives_earlier_strikes() {
        let dir = tempdir();
        let (journal, _) = open(&dir).unwrap();
        journal.mark(0, &key("x"));
        drop(journal);
        let (journal, strikes) = open(&dir).unwrap();
        assert_eq!(strikes.0.len(), 1);
        drop(journal); // nothing in flight at this exit
        let (_, strikes) = open(&dir).unwrap();
        assert!(strikes.0.is_empty());
    }

    #[test]
    fn torn_or_garbage_slots_name_nothing() {
        let mut bytes = vec![0u8; SLOT_BYTES * 3];
        bytes[..5].copy_from_slice(b"{\"te\n");
        let good = serde_json::to_vec(&key("k")).unwrap();
        bytes[SLOT_BYTES..SLOT_BYTES + good.len()].copy_from_slice(&good);
        bytes[SLOT_BYTES + good.len()] = b'\n';
        assert_eq!(keys_in(&bytes), [key("k")]);
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "sandstep-quarantine-{}-{}",
            std::process::id(),
            crate::clock::entropy()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
