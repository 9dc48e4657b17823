//! `sandstep-componentize`: the host-side step of building a Sandstep task module.
//!
//! ```text
//! sandstep-componentize IN.wasm OUT.wasm   # core module (from sandstep-sdk) -> component
//! sandstep-componentize --inspect FILE...  # validate; print kind, size, imports, exports
//! sandstep-componentize --wit FILE         # print a component's world as WIT
//! ```
//!
//! A module built with `sandstep-sdk` for `wasm32-unknown-unknown` is a core module that
//! carries its WIT world in a `component-type` custom section (put there by
//! `wit_bindgen::generate!`). This tool calls `wit-component` — the library behind
//! `wasm-tools component new` — to wrap it into a component of the `task` world. Imports
//! the module never calls are dropped, so a component imports only the host interfaces it
//! uses. It stays on the wasm-tools generation wasmtime 48 uses (0.254).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context as _, Result};
use wasmparser::{ComponentTypeRef, Parser, Payload, Validator};

const USAGE: &str = "usage:
  sandstep-componentize IN.wasm OUT.wasm   turn a core module built with sandstep-sdk into a component
  sandstep-componentize --inspect FILE...  validate each file; print kind, size, imports and exports
  sandstep-componentize --wit FILE         print a component's world as WIT";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sandstep-componentize: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    match args {
        [flag, files @ ..] if flag == "--inspect" && !files.is_empty() => {
            let mut failed = 0;
            for file in files {
                if let Err(e) = inspect(Path::new(file)) {
                    println!("{file}: INVALID: {e:#}");
                    failed += 1;
                }
            }
            if failed > 0 {
                bail!("{failed} of {} files are invalid", files.len());
            }
            Ok(())
        }
        [flag, file] if flag == "--wit" => print_wit(Path::new(file)),
        [input, output] if !input.starts_with('-') && !output.starts_with('-') => {
            componentize(Path::new(input), Path::new(output))
        }
        _ => bail!("{USAGE}"),
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("reading {}", path.display()))
}

fn componentize(input: &Path, output: &Path) -> Result<()> {
    let module = read(input)?;
    if Parser::is_component(&module) {
        bail!("{} is already a component", input.display());
    }
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .with_context(|| format!("{}: no usable component-type metadata", input.display()))?
        .validate(true)
        .encode()
        .with_context(|| format!("encoding {} as a component", input.display()))?;
    // Write next to the target and rename, so an interrupted build never leaves half a file.
    let mut tmp = output.as_os_str().to_owned();
    tmp.push(format!(".{}.tmp", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, &component).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, output).with_context(|| format!("writing {}", output.display()))?;
    Ok(())
}

/// What a file is, as the Sandstep upload endpoint will see it.
#[derive(Debug, Default)]
struct Summary {
    component: bool,
    imports: Vec<String>,
    exports: Vec<String>,
}

fn inspect(path: &Path) -> Result<()> {
    let bytes = read(path)?;
    Validator::new()
        .validate_all(&bytes)
        .context("validation")?;
    let summary = summarize(&bytes)?;
    let kind = if summary.component {
        "component"
    } else if summary.exports.iter().any(|e| e == "_start") {
        "command"
    } else {
        "core module"
    };
    println!("{}: {kind}, {} bytes", path.display(), bytes.len());
    println!("  imports: {}", list(&summary.imports));
    println!("  exports: {}", list(&summary.exports));
    Ok(())
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_string()
    } else {
        items.join(", ")
    }
}

/// Collects the outermost imports and exports: a component's own, not those of the core
/// modules and instances nested inside it.
fn summarize(bytes: &[u8]) -> Result<Summary> {
    let mut summary = Summary {
        component: Parser::is_component(bytes),
        ..Summary::default()
    };
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 0 => {
                for import in reader {
                    let import = import?;
                    // Type imports (`task-error`, ...) come with the interface that defines them.
                    if !matches!(import.ty, ComponentTypeRef::Type(_)) {
                        summary.imports.push(import.name.name.to_string());
                    }
                }
            }
            Payload::ComponentExportSection(reader) if depth == 0 => {
                for export in reader {
                    summary.exports.push(export?.name.name.to_string());
                }
            }
            Payload::ImportSection(reader) if depth == 0 => {
                for import in reader.into_imports() {
                    let import = import?;
                    summary
                        .imports
                        .push(format!("{}::{}", import.module, import.name));
                }
            }
            Payload::ExportSection(reader) if depth == 0 => {
                for export in reader {
                    summary.exports.push(export?.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(summary)
}

fn print_wit(path: &Path) -> Result<()> {
    let bytes = read(path)?;
    let decoded = wit_component::decode(&bytes).context("decoding the component's WIT")?;
    let resolve = decoded.resolve();
    let mut printer = wit_component::WitPrinter::default();
    printer.emit_docs(false);
    let nested: Vec<_> = resolve
        .packages
        .iter()
        .map(|(id, _)| id)
        .filter(|id| *id != decoded.package())
        .collect();
    printer.print(resolve, decoded.package(), &nested)?;
    println!("{}", printer.output);
    Ok(())
}
