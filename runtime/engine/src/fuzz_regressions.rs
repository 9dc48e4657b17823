//! Replays the fuzz targets' regression inputs and seeds (`runtime/fuzz/regressions/<target>/`
//! and `runtime/fuzz/seeds/<target>/`) through the functions the fuzz targets call: none may
//! panic or overflow the stack. Adding a file there adds a case.

use std::path::{Path, PathBuf};

/// The fuzz targets' bodies, compiled against this crate.
mod harness {
    use crate as sandstep_engine;
    include!("../../fuzz/src/engine.rs");
}

/// The stack the fuzz targets and the server's threads run on (`sandstep_fuzz::STACK_BYTES`).
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

/// Runs every input of `target` on a thread with the server's stack, naming those that panic
/// (a stack overflow aborts the test binary, naming the target).
fn replay(target: &str, run: fn(&[u8])) {
    let files = inputs(target);
    let failed: Vec<String> = std::thread::Builder::new()
        .name(format!("fuzz regressions of {target}"))
        .stack_size(STACK_BYTES)
        .spawn(move || {
            files
                .iter()
                .filter(|file| {
                    let bytes = std::fs::read(file).unwrap();
                    std::panic::catch_unwind(|| run(&bytes)).is_err()
                })
                .map(|file| file.display().to_string())
                .collect()
        })
        .unwrap()
        .join()
        .unwrap();
    assert!(failed.is_empty(), "{target} panicked on {failed:#?}");
}

#[test]
fn definition() {
    replay("definition", harness::definition);
}

#[test]
fn jsonpath() {
    replay("jsonpath", harness::jsonpath);
}

#[test]
fn intrinsics() {
    replay("intrinsics", harness::intrinsics);
}

#[test]
fn jsonata() {
    replay("jsonata", harness::jsonata);
}
