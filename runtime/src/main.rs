//! The `sandstep` command line.
use anyhow::Context as _;
use clap::{Parser, Subcommand};
use sandstep_engine::validate::{validate, MachineType};
use std::process::ExitCode;

use sandstep::grants::Grants;
use sandstep::local;
use sandstep::sandbox::{Options, Sandbox};
use sandstep::store::{Blobs as _, Expect, Kv as _, Store, TenantId};
use std::collections::BTreeMap;

#[derive(Parser, Debug)]
#[command(
    name = "sandstep",
    version,
    about = "Self-hosted AWS Step Functions on WebAssembly"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Checks a definition: prints OK (exit 0) or one diagnostic per line (exit 2).
    Validate {
        /// STANDARD or EXPRESS.
        #[arg(long = "type", default_value = "STANDARD")]
        machine_type: String,
        /// The definition file.
        definition: std::path::PathBuf,
    },
    /// Runs one execution locally and prints its output (exit 0) or failure (exit 1).
    Run {
        /// The definition file.
        definition: std::path::PathBuf,
        /// The execution input: JSON text, or @FILE.
        #[arg(long, default_value = "{}")]
        input: String,
        /// Print the AWS-shaped history events instead of the output.
        #[arg(long)]
        history: bool,
        /// A task module, NAME=PATH.wasm: Task states calling function NAME run it.
        #[arg(long = "module", value_name = "NAME=PATH")]
        modules: Vec<String>,
        /// Grants of a module, NAME=kind:name[:read|write],...: e.g. NAME=kv:orders,queue:shipments.
        #[arg(long = "grant", value_name = "NAME=GRANTS")]
        grants: Vec<String>,
        /// A kv item to start with, TABLE/KEY=JSON.
        #[arg(long = "kv", value_name = "TABLE/KEY=JSON")]
        kv: Vec<String>,
        /// A blob to start with, BUCKET/KEY=@FILE (or BUCKET/KEY=TEXT).
        #[arg(long = "blob", value_name = "BUCKET/KEY=@FILE")]
        blobs: Vec<String>,
    },
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(3)
        }
    }
}

fn run() -> anyhow::Result<ExitCode> {
    match Cli::parse().command {
        Command::Run {
            definition,
            input,
            history,
            modules,
            grants,
            kv,
            blobs,
        } => {
            let setup = Setup {
                modules,
                grants,
                kv,
                blobs,
            };
            run_local(&definition, &input, history, &setup)
        }
        Command::Validate {
            machine_type,
            definition,
        } => {
            let machine_type = match machine_type.as_str() {
                "STANDARD" => MachineType::Standard,
                "EXPRESS" => MachineType::Express,
                other => anyhow::bail!("--type must be STANDARD or EXPRESS, not {other}"),
            };
            let text = std::fs::read_to_string(&definition)
                .with_context(|| format!("reading {}", definition.display()))?;
            let diagnostics = validate(&text, machine_type);
            if diagnostics.is_empty() {
                println!("OK");
                return Ok(ExitCode::SUCCESS);
            }
            for d in diagnostics {
                println!("{}: {} at {}", d.code, d.message, d.location);
            }
            Ok(ExitCode::from(2))
        }
    }
}

fn read_definition(
    path: &std::path::Path,
    machine_type: MachineType,
) -> anyhow::Result<Result<String, ExitCode>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let diagnostics = validate(&text, machine_type);
    if diagnostics.is_empty() {
        return Ok(Ok(text));
    }
    for d in diagnostics {
        eprintln!("{}: {} at {}", d.code, d.message, d.location);
    }
    Ok(Err(ExitCode::from(2)))
}

/// What `sandstep run` loads into its in-memory store before the execution starts.
struct Setup {
    modules: Vec<String>,
    grants: Vec<String>,
    kv: Vec<String>,
    blobs: Vec<String>,
}

/// Splits `NAME=VALUE`.
fn pair<'a>(flag: &str, text: &'a str) -> anyhow::Result<(&'a str, &'a str)> {
    text.split_once('=')
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| anyhow::anyhow!("{flag} expects NAME=VALUE, not '{text}'"))
}

/// Splits `CONTAINER/KEY`.
fn place<'a>(flag: &str, text: &'a str) -> anyhow::Result<(&'a str, &'a str)> {
    text.split_once('/')
        .filter(|(c, k)| !c.is_empty() && !k.is_empty())
        .ok_or_else(|| anyhow::anyhow!("{flag} expects CONTAINER/KEY=..., not '{text}'"))
}

/// Registers the modules with their grants and seeds kv and blob data. `Err(code)` after
/// printing why a module was refused.
fn load(
    sandbox: &Sandbox,
    tenant: &TenantId,
    setup: &Setup,
) -> anyhow::Result<Result<(), ExitCode>> {
    let mut grants: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for g in &setup.grants {
        let (name, list) = pair("--grant", g)?;
        grants.entry(name).or_default().push(list);
    }
    let mut names = Vec::new();
    for m in &setup.modules {
        let (name, path) = pair("--module", m)?;
        let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
        let granted = Grants::parse(grants.get(name).into_iter().flatten().copied())?;
        if let Err(e) = sandbox.register(tenant, name, &bytes, granted) {
            eprintln!("{name} ({path}): {e}");
            return Ok(Err(ExitCode::from(2)));
        }
        names.push(name);
    }
    if let Some(stray) = grants.keys().find(|g| !names.contains(g)) {
        anyhow::bail!("--grant {stray}=...: there is no --module {stray}=...");
    }
    let store = sandbox.store();
    for item in &setup.kv {
        let (at, json) = pair("--kv", item)?;
        let (table, key) = place("--kv", at)?;
        serde_json::from_str::<serde_json::Value>(json)
            .with_context(|| format!("--kv {at}: the value is not JSON"))?;
        store.kv_put(tenant, table, key, json, Expect::Any)?;
    }
    for blob in &setup.blobs {
        let (at, value) = pair("--blob", blob)?;
        let (bucket, key) = place("--blob", at)?;
        let data = match value.strip_prefix('@') {
            Some(file) => std::fs::read(file).with_context(|| format!("reading {file}"))?,
            None => value.as_bytes().to_vec(),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        store.blob_put(tenant, bucket, key, &data, None, now)?;
    }
    Ok(Ok(()))
}

fn run_local(
    path: &std::path::Path,
    input: &str,
    print_history: bool,
    setup: &Setup,
) -> anyhow::Result<ExitCode> {
    let text = match read_definition(path, MachineType::Standard)? {
        Ok(text) => text,
        Err(code) => return Ok(code),
    };
    let tenant = TenantId("default".into());
    let sandbox = Sandbox::new(Options::default(), Store::memory())?;
    if let Err(code) = load(&sandbox, &tenant, setup)? {
        return Ok(code);
    }
    let definition = match sandstep_engine::Definition::parse(&text) {
        Ok(d) => d,
        Err(e) => {
            eprintln!(
                "{}: {e}",
                match e {
                    sandstep_engine::Error::Unsupported(_) => "UNSUPPORTED_FEATURE",
                    _ => "SCHEMA_VALIDATION_FAILED",
                }
            );
            return Ok(ExitCode::from(2));
        }
    };
    let input_text = match input.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?,
        None => input.to_string(),
    };
    let input: serde_json::Value =
        serde_json::from_str(&input_text).context("--input is not valid JSON")?;
    let machine_name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .map(|s| {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect()
        })
        .unwrap_or_else(|| "local".to_string());
    let finished = local::run(&definition, input, &machine_name, &sandbox, &tenant)?;
    if print_history {
        let events: Vec<serde_json::Value> =
            finished.history.iter().map(|e| e.to_aws_json()).collect();
        println!("{}", serde_json::Value::Array(events));
    }
    let outcome = finished.outcome;
    match outcome {
        sandstep_engine::Outcome::Succeeded(output) => {
            if !print_history {
                println!("{output}");
            }
            Ok(ExitCode::SUCCESS)
        }
        other => {
            let (error, cause) = match &other {
                sandstep_engine::Outcome::Failed { error, cause }
                | sandstep_engine::Outcome::TimedOut { error, cause }
                | sandstep_engine::Outcome::Aborted { error, cause } => {
                    (error.clone(), cause.clone())
                }
                sandstep_engine::Outcome::Succeeded(_) => (None, None),
            };
            if !print_history {
                let report =
                    serde_json::json!({"status": other.status(), "error": error, "cause": cause});
                println!("{report}");
            }
            Ok(ExitCode::from(1))
        }
    }
}
