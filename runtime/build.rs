//! Embeds the web console (`console/`, every file under it) and the sample projects
//! (`../modules/samples/`, with the modules they upload from `../modules/dist/`) into the
//! binary, so `sandstep serve` serves and installs them offline with no files beside it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let root =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("console");
    // A directory here makes cargo re-run this script when any file under it changes.
    println!("cargo:rerun-if-changed={}", root.display());
    // The PostgreSQL schema's migrations are embedded by refinery's macro, which does not
    // tell cargo about a new file: a new migration rebuilds the crate through this line.
    println!(
        "cargo:rerun-if-changed={}",
        root.with_file_name("migrations").display()
    );
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut out = String::from("/// The console's files: path under `/console/`, bytes.\n");
    out.push_str("pub static ASSETS: &[(&str, &[u8])] = &[\n");
    for file in &files {
        let Ok(relative) = file.strip_prefix(&root) else {
            continue;
        };
        let name = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let _ = writeln!(
            out,
            "    ({name:?}, include_bytes!({:?})),",
            file.display().to_string()
        );
    }
    out.push_str("];\n");
    let dest =
        PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("console_assets.rs");
    write(&dest, &out);
    samples();
}

fn write(dest: &Path, text: &str) {
    if let Err(e) = std::fs::write(dest, text) {
        println!("cargo:warning=cannot write {}: {e}", dest.display());
        std::process::exit(1);
    }
}

/// The samples' files (everything in a sample's folder but its module sources) and the
/// compiled modules their manifests upload. A module `modules/build.sh` has not built yet
/// is embedded as missing: installing its sample says so, and the build still works.
fn samples() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.join("../modules/samples");
    let dist = manifest.join("../modules/dist");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut out = String::from(
        "/// The samples' files: sample, path in its folder, bytes.\n\
         pub static SAMPLE_FILES: &[(&str, &str, &[u8])] = &[\n",
    );
    let mut modules = std::collections::BTreeSet::new();
    let mut samples: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    samples.sort();
    for dir in &samples {
        let sample = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let mut files = Vec::new();
        collect(dir, &mut files);
        files.sort();
        for file in files {
            let Ok(relative) = file.strip_prefix(dir) else {
                continue;
            };
            if relative.starts_with("modules") {
                continue; // sources: what the binary needs is their build in dist/
            }
            let name = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            if name == "sample.json" {
                modules.extend(module_names(&file));
            }
            let _ = writeln!(
                out,
                "    ({sample:?}, {name:?}, include_bytes!({:?})),",
                file.display().to_string()
            );
        }
    }
    out.push_str("];\n/// The modules samples upload: name, compiled bytes if built.\n");
    out.push_str("pub static SAMPLE_MODULES: &[(&str, Option<&[u8]>)] = &[\n");
    for module in &modules {
        let wasm = dist.join(format!("{module}.wasm"));
        // A missing file makes cargo run this script again on every build, which is
        // what picks the module up once it is built.
        println!("cargo:rerun-if-changed={}", wasm.display());
        if wasm.is_file() {
            let _ = writeln!(
                out,
                "    ({module:?}, Some(include_bytes!({:?}))),",
                wasm.display().to_string()
            );
        } else {
            let _ = writeln!(out, "    ({module:?}, None),");
        }
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("samples.rs");
    write(&dest, &out);
}

/// The built modules a sample's manifest uploads (`{"module": {"name", "wasm"}}` steps).
fn module_names(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).unwrap_or_default();
    let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
        // The catalogue's own parse reports the mistake, with its place.
        return Vec::new();
    };
    let steps = value.get("steps").and_then(serde_json::Value::as_array);
    steps
        .into_iter()
        .flatten()
        .filter_map(|step| {
            let module = step.get("module")?;
            let built = module.get("wasm").or_else(|| module.get("name"))?;
            built.as_str()
        })
        .map(str::to_string)
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect(&path, files);
        } else {
            files.push(path);
        }
    }
}
