//! Replays the `event_pattern` fuzz target's regression inputs and seeds
//! (`runtime/fuzz/regressions/event_pattern/`, `runtime/fuzz/seeds/event_pattern/`)
//! through the function the target calls: none may panic or overflow the stack. Adding a
//! file there adds a case.

use std::path::{Path, PathBuf};

/// The fuzz target's body, compiled against this crate.
mod harness {
    use crate as sandstep_events;
    include!("../../fuzz/src/events.rs");
}

/// The stack the fuzz targets and the server's threads run on.
const STACK_BYTES: usize = 2 << 20;

fn inputs() -> Vec<PathBuf> {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files: Vec<PathBuf> = ["regressions", "seeds"]
        .iter()
        .filter_map(|dir| std::fs::read_dir(fuzz.join(dir).join("event_pattern")).ok())
        .flatten()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no regression inputs for event_pattern");
    files
}

#[test]
fn event_pattern() {
    let files = inputs();
    let failed: Vec<String> = std::thread::Builder::new()
        .name("fuzz regressions of event_pattern".into())
        .stack_size(STACK_BYTES)
        .spawn(move || {
            files
                .iter()
                .filter(|file| {
                    let bytes = std::fs::read(file).unwrap();
                    std::panic::catch_unwind(|| harness::event_pattern(&bytes)).is_err()
                })
                .map(|file| file.display().to_string())
                .collect()
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(failed.is_empty(), "event_pattern panicked on {failed:#?}");
}
