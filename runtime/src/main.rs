//! The `sandstep` command line.
use anyhow::Context as _;
use clap::{Parser, Subcommand};
use sandstep_engine::validate::{validate, MachineType};
use std::process::ExitCode;

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
