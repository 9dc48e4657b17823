//! The `sandstep` command line.
use anyhow::Context as _;
use clap::{Parser, Subcommand};
use sandstep_engine::validate::{validate, MachineType};
use std::process::ExitCode;

use sandstep::local;

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
        } => run_local(&definition, &input, history),
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

fn run_local(path: &std::path::Path, input: &str, print_history: bool) -> anyhow::Result<ExitCode> {
    let text = match read_definition(path, MachineType::Standard)? {
        Ok(text) => text,
        Err(code) => return Ok(code),
    };
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
    let finished = local::run(&definition, input, &machine_name)?;
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
