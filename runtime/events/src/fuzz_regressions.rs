//! Replays the `event_pattern` and `schedule` fuzz targets' regression inputs and seeds
//! (`runtime/fuzz/{regressions,seeds}/<target>/`) through the functions the targets call:
//! none may panic or overflow the stack. Adding a file there adds a case.

use std::path::{Path, PathBuf};

/// The fuzz targets' bodies, compiled against this crate.
mod harness {
    use crate as sandstep_events;
    include!("../../fuzz/src/events.rs");
}

/// The stack the fuzz targets and the server's threads run on.
const STACK_BYTES: usize = 2 << 20;

fn inputs(target: &str) -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files: Vec<PathBuf> = ["regressions", "seeds"]
        .iter()
        .filter_map(|dir| std::fs::read_dir(fuzz.join(dir).join(target)).ok())
        .flatten()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no regression inputs for {target}");
    files
}

/// Runs every input of `target` through `body` on a server-sized stack; the inputs that
/// panicked.
fn replay(target: &'static str, body: fn(&[u8])) -> Vec<String> {
    let files = inputs(target);
    std::thread::Builder::new()
        .name(format!("fuzz regressions of {target}"))
        .stack_size(STACK_BYTES)
        .spawn(move || {
            files
                .iter()
                .filter(|file| {
                    let bytes = std::fs::read(file).unwrap();
                    std::panic::catch_unwind(|| body(&bytes)).is_err()
                })
                .map(|file| file.display().to_string())
                .collect()
        })
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn event_pattern() {
    let failed = replay("event_pattern", harness::event_pattern);
    assert!(failed.is_empty(), "event_pattern panicked on {failed:#?}");
}

#[test]
fn schedule() {
    let failed = replay("schedule", harness::schedule);
    assert!(failed.is_empty(), "schedule panicked on {failed:#?}");
}
